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
 *           <chunks the caller ran> <ns in the range function, all
 *           threads together> <ns to publish the job (waking workers)>
 *
 * The function is the range function's offset in its object file (for
 * addr2line -f -e EXECUTABLE); tests/bench/threads-profile.sh folds the
 * calls of repeated forward passes into one line per layer. */

typedef struct {
  CpuRangeFunc func;
  gsize n_items, grain;
  int threads, chunks, mine;
  gint64 total_ns, wait_ns, busy_ns, pub_ns;
} ProfCall;

static GMutex prof_lock;
static GArray *prof_calls; /* of ProfCall */
static int prof_on = -1;
static gint64 prof_busy_ns; /* of the current call (atomic) */

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
        " %d %d %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %d %" G_GINT64_FORMAT
        " %" G_GINT64_FORMAT "\n",
        (guint64)off, c->n_items, c->grain, c->threads, c->chunks, c->total_ns,
        c->wait_ns, c->mine, c->busy_ns, c->pub_ns);
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
    int chunks, int mine, gint64 total_ns, gint64 wait_ns, gint64 pub_ns)
{
  ProfCall c = { func, n_items, grain, threads, chunks, mine, total_ns, wait_ns,
    __atomic_exchange_n (&prof_busy_ns, 0, __ATOMIC_SEQ_CST), pub_ns };

  g_mutex_lock (&prof_lock);
  g_array_append_val (prof_calls, c);
  g_mutex_unlock (&prof_lock);
}

/* ---- the pool ---------------------------------------------------------- */

/* A job is published in one 64-bit word, cpu->job: the generation (32
 * bits), the next unclaimed chunk and the chunk count (16 bits each).
 * Every thread, the caller included, claims chunks with a compare-and-swap
 * on that word, so a chunk is claimed once, and only while its job is the
 * current one: a worker that wakes late finds every chunk claimed (or a new
 * generation) and never runs a chunk of a finished job. The caller waits
 * only for chunks that were claimed and are being computed, never for a
 * worker that has not woken yet. */
#define JOB_GEN(s) ((guint32)((s) >> 32))
#define JOB_NEXT(s) ((guint)(((s) >> 16) & 0xffff))
#define JOB_COUNT(s) ((guint)((s)&0xffff))
#define JOB_MAKE(gen, next, count) \
  (((guint64)(gen) << 32) | ((guint64)(next) << 16) | (guint64)(count))

/* Chunks per thread when an op has enough items: a late or descheduled
 * thread's share is then taken by the others a chunk at a time. */
#define CHUNKS_PER_THREAD 4
/* How long (µs) a worker spins for the next job before it sleeps, and the
 * caller for the others' last chunks (AFFECT_CPU_SPIN_US overrides it). */
#define CPU_SPIN_US 50.0
#define MAX_CHUNKS 4096

static inline void
cpu_pause (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#endif
}

static void
chunk_bounds (gsize n_items, guint n_chunks, guint i, gsize *start, gsize *end)
{
  *start = n_items * (gsize)i / (gsize)n_chunks;
  *end = n_items * (gsize)(i + 1) / (gsize)n_chunks;
}

/* Claims and runs chunks of the job of generation @gen as thread @tid
 * until none is left; returns how many it ran. */
static guint
run_chunks (CpuBackend *cpu, guint32 gen, int tid)
{
  guint64 s = __atomic_load_n (&cpu->job, __ATOMIC_ACQUIRE);
  CpuRangeFunc func = NULL;
  gpointer data = NULL;
  gsize n_items = 0;
  guint ran = 0;

  while (JOB_GEN (s) == gen && JOB_NEXT (s) < JOB_COUNT (s)) {
    const guint i = JOB_NEXT (s);
    gsize start, end;

    if (!__atomic_compare_exchange_n (&cpu->job, &s,
            JOB_MAKE (gen, i + 1, JOB_COUNT (s)), TRUE, __ATOMIC_ACQ_REL,
            __ATOMIC_ACQUIRE))
      continue; /* s now holds the current word */
    if (func == NULL) {
      /* Written before the job was published and not changed until all of
       * its chunks are done (one of which is ours). */
      func = __atomic_load_n (&cpu->func, __ATOMIC_RELAXED);
      data = __atomic_load_n (&cpu->func_data, __ATOMIC_RELAXED);
      n_items = __atomic_load_n (&cpu->n_items, __ATOMIC_RELAXED);
    }
    chunk_bounds (n_items, JOB_COUNT (s), i, &start, &end);
    if (G_UNLIKELY (g_atomic_int_get (&prof_on) > 0)) {
      const gint64 t0 = now_ns ();
      func (data, start, end, tid);
      __atomic_add_fetch (&prof_busy_ns, now_ns () - t0, __ATOMIC_SEQ_CST);
    } else {
      func (data, start, end, tid);
    }
    ran++;
    s = __atomic_load_n (&cpu->job, __ATOMIC_ACQUIRE);
  }
  return ran;
}

/* Marks @ran chunks done; the thread that completes the job wakes the
 * caller if it went to sleep. */
static void
chunks_done (CpuBackend *cpu, guint ran)
{
  const guint count = JOB_COUNT (__atomic_load_n (&cpu->job, __ATOMIC_RELAXED));

  if (ran == 0)
    return;
  if (__atomic_add_fetch (&cpu->done, ran, __ATOMIC_SEQ_CST) == count
      && __atomic_load_n (&cpu->caller_sleeps, __ATOMIC_SEQ_CST)) {
    g_mutex_lock (&cpu->pool_lock);
    g_cond_signal (&cpu->done_cond);
    g_mutex_unlock (&cpu->pool_lock);
  }
}

static gpointer
worker_main (gpointer data)
{
  CpuWorker *w = data;
  CpuBackend *cpu = w->cpu;
  guint32 seen = w->seen;

  for (;;) {
    guint64 s = __atomic_load_n (&cpu->job, __ATOMIC_ACQUIRE);

    if (JOB_GEN (s) == seen && !__atomic_load_n (&cpu->quit, __ATOMIC_ACQUIRE)
        && cpu->spin_ns > 0) {
      /* Spin a little first: the next layer usually follows at once, and
       * a sleeping worker costs the caller a futex wake and the worker a
       * wake-up latency of tens of microseconds. */
      const gint64 until = now_ns () + cpu->spin_ns;
      guint spins = 0;

      while (JOB_GEN (s = __atomic_load_n (&cpu->job, __ATOMIC_ACQUIRE)) == seen
             && !__atomic_load_n (&cpu->quit, __ATOMIC_ACQUIRE)) {
        cpu_pause ();
        if (++spins % 64 == 0 && now_ns () > until)
          break;
      }
    }
    if (JOB_GEN (s) == seen
        && !__atomic_load_n (&cpu->quit, __ATOMIC_ACQUIRE)) {
      /* Sleep. The caller reads sleepers after publishing a job, and this
       * thread reads the job after counting itself in, so one of the two
       * sees the other (sequentially consistent accesses). */
      g_mutex_lock (&cpu->pool_lock);
      __atomic_add_fetch (&cpu->sleepers, 1, __ATOMIC_SEQ_CST);
      while (JOB_GEN (s = __atomic_load_n (&cpu->job, __ATOMIC_SEQ_CST)) == seen
             && !__atomic_load_n (&cpu->quit, __ATOMIC_SEQ_CST))
        g_cond_wait (&cpu->start_cond, &cpu->pool_lock);
      __atomic_sub_fetch (&cpu->sleepers, 1, __ATOMIC_SEQ_CST);
      g_mutex_unlock (&cpu->pool_lock);
    }
    if (__atomic_load_n (&cpu->quit, __ATOMIC_ACQUIRE))
      break;
    seen = JOB_GEN (s);
    chunks_done (cpu, run_chunks (cpu, seen, w->index));
  }
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
  __atomic_store_n (&cpu->quit, TRUE, __ATOMIC_SEQ_CST);
  g_cond_broadcast (&cpu->start_cond);
  g_mutex_unlock (&cpu->pool_lock);
  for (i = 0; i < cpu->n_workers; i++)
    g_thread_join (cpu->workers[i]);
  g_free (cpu->workers);
  cpu->workers = NULL;
  cpu->n_workers = 0;
  __atomic_store_n (&cpu->quit, FALSE, __ATOMIC_SEQ_CST);
}

/* Starts n_threads - 1 workers (a failure to start one only means fewer). */
static void
pool_start (CpuBackend *cpu, int n_threads)
{
  const char *env = g_getenv ("AFFECT_CPU_SPIN_US");
  int i;

  /* Debug knob: how long an idle thread spins before it sleeps. */
  cpu->spin_ns = (gint64)(CPU_SPIN_US * 1000);
  if (env != NULL)
    cpu->spin_ns = (gint64)(g_ascii_strtod (env, NULL) * 1000);
  /* Debug knob (tests): more chunks per thread, to mix the threads' ranges
   * finely. */
  cpu->chunks_per_thread = CHUNKS_PER_THREAD;
  env = g_getenv ("AFFECT_CPU_CHUNKS_PER_THREAD");
  if (env != NULL && atoi (env) > 0)
    cpu->chunks_per_thread = MIN (atoi (env), MAX_CHUNKS);
  cpu->workers = g_new0 (GThread *, MAX (n_threads - 1, 1));
  for (i = 0; i < n_threads - 1; i++) {
    CpuWorker *w = g_new0 (CpuWorker, 1);
    GError *err = NULL;
    w->cpu = cpu;
    w->index = i + 1;
    w->seen = JOB_GEN (cpu->job);
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

/* Runs func over [0, n_items) in contiguous chunks of at least @grain
 * items; see cpu-private.h. */
void
cpu_parallel_for (AffectBackend *be, gsize n_items, gsize grain,
    CpuRangeFunc func, gpointer data)
{
  CpuBackend *cpu = be->priv;
  const gboolean prof = prof_enabled ();
  gint64 t0 = 0, t1 = 0, tp = 0;
  gsize n_chunks;
  guint32 gen;
  guint ran;

  if (n_items == 0)
    return;
  if (prof)
    t0 = now_ns ();
  grain = MAX (grain, 1);
  n_chunks = (n_items + grain - 1) / grain;
  if (n_chunks <= 1 || cpu->n_workers == 0) {
    func (data, 0, n_items, 0);
    if (prof)
      __atomic_add_fetch (&prof_busy_ns, now_ns () - t0, __ATOMIC_SEQ_CST);
    if (prof)
      prof_add (
          func, n_items, grain, cpu->n_workers + 1, 1, 1, now_ns () - t0, 0, 0);
    return;
  }
  n_chunks
      = MIN (n_chunks, (gsize)(cpu->n_workers + 1) * cpu->chunks_per_thread);
  n_chunks = MIN (n_chunks, MAX_CHUNKS);

  /* Publish: the job's fields, then the word that makes it current. */
  __atomic_store_n (&cpu->func, func, __ATOMIC_RELAXED);
  __atomic_store_n (&cpu->func_data, data, __ATOMIC_RELAXED);
  __atomic_store_n (&cpu->n_items, n_items, __ATOMIC_RELAXED);
  __atomic_store_n (&cpu->done, 0, __ATOMIC_RELAXED);
  gen = JOB_GEN (__atomic_load_n (&cpu->job, __ATOMIC_RELAXED)) + 1;
  __atomic_store_n (&cpu->job, JOB_MAKE (gen, 0, n_chunks), __ATOMIC_SEQ_CST);
  if (__atomic_load_n (&cpu->sleepers, __ATOMIC_SEQ_CST) > 0) {
    g_mutex_lock (&cpu->pool_lock);
    g_cond_broadcast (&cpu->start_cond);
    g_mutex_unlock (&cpu->pool_lock);
  }
  if (prof)
    tp = now_ns ();

  /* Work, then wait for the chunks the others claimed (a short spin: they
   * are being computed). */
  ran = run_chunks (cpu, gen, 0);
  if (prof)
    t1 = now_ns ();
  if (__atomic_add_fetch (&cpu->done, ran, __ATOMIC_SEQ_CST) != n_chunks) {
    const gint64 until = now_ns () + cpu->spin_ns;
    guint spins = 0;

    while (__atomic_load_n (&cpu->done, __ATOMIC_ACQUIRE) != n_chunks) {
      cpu_pause ();
      if (++spins % 64 == 0 && now_ns () > until)
        break;
    }
    if (__atomic_load_n (&cpu->done, __ATOMIC_ACQUIRE) != n_chunks) {
      g_mutex_lock (&cpu->pool_lock);
      __atomic_store_n (&cpu->caller_sleeps, TRUE, __ATOMIC_SEQ_CST);
      while (__atomic_load_n (&cpu->done, __ATOMIC_SEQ_CST) != n_chunks)
        g_cond_wait (&cpu->done_cond, &cpu->pool_lock);
      __atomic_store_n (&cpu->caller_sleeps, FALSE, __ATOMIC_SEQ_CST);
      g_mutex_unlock (&cpu->pool_lock);
    }
  }
  if (prof) {
    const gint64 t2 = now_ns ();
    prof_add (func, n_items, grain, cpu->n_workers + 1, (int)n_chunks, (int)ran,
        t2 - t0, t2 - t1, tp - t0);
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
