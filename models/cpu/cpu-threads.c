/* gst-affect — models/cpu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CPU backend's thread pool: n_threads - 1 persistent workers plus
 * the calling thread, one op at a time per backend; and its workspace.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu-private.h"

/* ---- profile (AFFECT_CPU_PROFILE=1) ------------------------------------ */

/* A debug knob to see where the threads' time goes: every
 * cpu_parallel_for() call is timed and kept, and at exit one line per call
 * goes to stderr, in call order:
 *
 *   CPUPROF <function offset> <items> <grain> <threads> <chunks>
 *           <ns in the call> <ns the caller waited for the others>
 *
 * The function is the range function's offset in its object file (for
 * addr2line -f -e EXECUTABLE); tests/bench/threads-profile.sh folds the
 * calls of repeated forward passes into one line per layer. */

typedef struct {
  CpuRangeFunc func;
  gsize n_items, grain;
  int threads, chunks;
  gint64 total_ns, wait_ns;
} ProfCall;

static GMutex prof_lock;
static GArray *prof_calls; /* of ProfCall */
static int prof_on = -1;

static void
prof_dump (void)
{
  g_mutex_lock (&prof_lock);
  for (guint i = 0; i < prof_calls->len; i++) {
    const ProfCall *c = &g_array_index (prof_calls, ProfCall, i);
    Dl_info info;
    guintptr off = (guintptr)c->func;

    if (dladdr ((void *)off, &info) && info.dli_fbase)
      off -= (guintptr)info.dli_fbase;
    fprintf (stderr,
        "CPUPROF 0x%" G_GINT64_MODIFIER "x %" G_GSIZE_FORMAT " %" G_GSIZE_FORMAT
        " %d %d %" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n",
        (guint64)off, c->n_items, c->grain, c->threads, c->chunks, c->total_ns,
        c->wait_ns);
  }
  g_mutex_unlock (&prof_lock);
}

static gboolean
prof_enabled (void)
{
  if (G_UNLIKELY (g_atomic_int_get (&prof_on) < 0)) {
    g_mutex_lock (&prof_lock);
    if (prof_on < 0) {
      const char *env = g_getenv ("AFFECT_CPU_PROFILE");

      if (env != NULL && atoi (env) > 0) {
        prof_calls = g_array_new (FALSE, FALSE, sizeof (ProfCall));
        atexit (prof_dump);
        g_atomic_int_set (&prof_on, 1);
      } else {
        g_atomic_int_set (&prof_on, 0);
      }
    }
    g_mutex_unlock (&prof_lock);
  }
  return g_atomic_int_get (&prof_on) > 0;
}

/* Nanosecond clock (g_get_monotonic_time() only has microseconds). */
static inline gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
prof_add (CpuRangeFunc func, gsize n_items, gsize grain, int threads,
    int chunks, gint64 total_ns, gint64 wait_ns)
{
  ProfCall c = { func, n_items, grain, threads, chunks, total_ns, wait_ns };

  g_mutex_lock (&prof_lock);
  g_array_append_val (prof_calls, c);
  g_mutex_unlock (&prof_lock);
}

static void
chunk_bounds (gsize n_items, int n_chunks, int i, gsize *start, gsize *end)
{
  *start = n_items * (gsize)i / (gsize)n_chunks;
  *end = n_items * (gsize)(i + 1) / (gsize)n_chunks;
}

static gpointer
worker_main (gpointer data)
{
  CpuWorker *w = data;
  CpuBackend *cpu = w->cpu;
  guint seen;

  g_mutex_lock (&cpu->pool_lock);
  /* Jobs published after the worker was created must not be missed. */
  seen = w->seen;
  for (;;) {
    gsize start, end;
    while (!cpu->quit && cpu->generation == seen)
      g_cond_wait (&cpu->start_cond, &cpu->pool_lock);
    if (cpu->quit)
      break;
    seen = cpu->generation;
    if (w->index < cpu->n_chunks) {
      CpuRangeFunc func = cpu->func;
      gpointer func_data = cpu->func_data;
      chunk_bounds (cpu->n_items, cpu->n_chunks, w->index, &start, &end);
      g_mutex_unlock (&cpu->pool_lock);
      func (func_data, start, end, w->index);
      g_mutex_lock (&cpu->pool_lock);
      if (--cpu->pending == 0)
        g_cond_signal (&cpu->done_cond);
    }
  }
  g_mutex_unlock (&cpu->pool_lock);
  g_free (w);
  return NULL;
}

void
cpu_pool_stop (CpuBackend *cpu)
{
  int i;

  if (cpu->n_workers == 0)
    return;
  g_mutex_lock (&cpu->pool_lock);
  cpu->quit = TRUE;
  g_cond_broadcast (&cpu->start_cond);
  g_mutex_unlock (&cpu->pool_lock);
  for (i = 0; i < cpu->n_workers; i++)
    g_thread_join (cpu->workers[i]);
  g_free (cpu->workers);
  cpu->workers = NULL;
  cpu->n_workers = 0;
  cpu->quit = FALSE;
}

/* Starts n_threads - 1 workers (a failure to start one only means fewer). */
static void
pool_start (CpuBackend *cpu, int n_threads)
{
  int i;

  cpu->workers = g_new0 (GThread *, MAX (n_threads - 1, 1));
  for (i = 0; i < n_threads - 1; i++) {
    CpuWorker *w = g_new0 (CpuWorker, 1);
    GError *err = NULL;
    w->cpu = cpu;
    w->index = i + 1;
    w->seen = cpu->generation;
    cpu->workers[i] = g_thread_try_new ("affect-cpu", worker_main, w, &err);
    if (cpu->workers[i] == NULL) {
      g_warning ("affect cpu backend: could not start a worker thread: %s",
          err->message);
      g_clear_error (&err);
      g_free (w);
      break;
    }
    cpu->n_workers++;
  }
}

/* Locks the backend for one op and brings the pool to the configured size;
 * returns the number of threads parallel_for() will use (the calling thread
 * included) until cpu_end(). */
int
cpu_begin (AffectBackend *be)
{
  CpuBackend *cpu = be->priv;
  int want;

  g_rec_mutex_lock (&cpu->lock);
  want = g_atomic_int_get (&be->n_threads);
  if (cpu->pool_threads != want) {
    cpu_pool_stop (cpu);
    if (want > 1)
      pool_start (cpu, want);
    cpu->pool_threads = want;
  }
  return cpu->n_workers + 1;
}

void
cpu_end (AffectBackend *be)
{
  CpuBackend *cpu = be->priv;

  g_rec_mutex_unlock (&cpu->lock);
}

/* Runs func over [0, n_items) split in contiguous chunks of at least @grain
 * items, at most one per thread (chunk index = @tid). Call between
 * cpu_begin() and cpu_end(). */
void
cpu_parallel_for (AffectBackend *be, gsize n_items, gsize grain,
    CpuRangeFunc func, gpointer data)
{
  CpuBackend *cpu = be->priv;
  gsize n_chunks, start, end;
  const gboolean prof = prof_enabled ();
  gint64 t0 = 0, t1 = 0;

  if (n_items == 0)
    return;
  if (prof)
    t0 = now_ns ();
  grain = MAX (grain, 1);
  n_chunks = MIN ((gsize)cpu->n_workers + 1, (n_items + grain - 1) / grain);
  if (n_chunks <= 1) {
    func (data, 0, n_items, 0);
    if (prof)
      prof_add (func, n_items, grain, cpu->n_workers + 1, 1, now_ns () - t0, 0);
    return;
  }

  g_mutex_lock (&cpu->pool_lock);
  cpu->func = func;
  cpu->func_data = data;
  cpu->n_items = n_items;
  cpu->n_chunks = (int)n_chunks;
  cpu->pending = (int)n_chunks - 1;
  cpu->generation++;
  g_cond_broadcast (&cpu->start_cond);
  g_mutex_unlock (&cpu->pool_lock);

  chunk_bounds (n_items, (int)n_chunks, 0, &start, &end);
  func (data, start, end, 0);

  if (prof)
    t1 = now_ns ();
  g_mutex_lock (&cpu->pool_lock);
  while (cpu->pending > 0)
    g_cond_wait (&cpu->done_cond, &cpu->pool_lock);
  g_mutex_unlock (&cpu->pool_lock);
  if (prof) {
    gint64 t2 = now_ns ();
    prof_add (func, n_items, grain, cpu->n_workers + 1, (int)n_chunks, t2 - t0,
        t2 - t1);
  }
}

gsize
cpu_grain (AffectBackend *be, double work_per_item)
{
  CpuBackend *cpu = be->priv;
  double g;

  if (!(work_per_item > 0.0))
    return G_MAXSIZE / 2;
  g = ceil (cpu->min_chunk_work / work_per_item);
  return g < 1.0 ? 1 : (g > (double)(G_MAXSIZE / 2) ? G_MAXSIZE / 2 : (gsize)g);
}

/* The workspace, grown to at least @n floats; NULL on allocation failure.
 * Call with cpu->lock held. */
float *
cpu_workspace (CpuBackend *cpu, gsize n)
{
  if (n > cpu->ws_floats) {
    g_free (cpu->ws);
    cpu->ws = g_try_new (float, n);
    cpu->ws_floats = cpu->ws ? n : 0;
  }
  return cpu->ws;
}
