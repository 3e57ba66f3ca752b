/* gst-affect — tests/models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CPU backend's thread pool (models/cpu/cpu-threads.c): chunks are
 * claimed dynamically, so which thread runs which range changes from call
 * to call. Checked here:
 *  - cpu_parallel_for() runs every item exactly once, in ranges of the
 *    requested grain, with thread indices below the pool size, and returns
 *    only when all are done, over many jobs of many sizes with many chunks
 *    per thread (AFFECT_CPU_CHUNKS_PER_THREAD);
 *  - back-to-back jobs after the workers went to sleep (no spin) still
 *    complete, and workers take the chunks the caller cannot (the caller
 *    held in its first chunk until a worker has run one);
 *  - the face networks give bit-identical outputs on 1 thread and on 3
 *    threads cut into many small chunks (AFFECT_CPU_MIN_CHUNK_WORK=1),
 *    whatever the scheduling, over repeated runs.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <glib.h>
#include <string.h>

#include "cpu-private.h"

#include "affect-expression.h"
#include "affect-landmarks.h"
#include "affect-modelpath.h"
#include "affect-recognition.h"
#include "affect-tinyface.h"
#include "test-tools.h"

/* ---- the pool itself --------------------------------------------------- */

typedef struct {
  gint *count;     /* per item: how many times it ran */
  gint bad_tid;    /* a range with a thread index out of bounds */
  gint bad_range;  /* an empty or reversed range */
  gint ran_by[16]; /* ranges run per thread index */
  int threads;
} CountJob;

static void
count_range (gpointer data, gsize start, gsize end, int tid)
{
  CountJob *j = data;

  if (tid < 0 || tid >= j->threads)
    g_atomic_int_inc (&j->bad_tid);
  else
    g_atomic_int_inc (&j->ran_by[tid]);
  if (start >= end)
    g_atomic_int_inc (&j->bad_range);
  for (gsize i = start; i < end; i++)
    g_atomic_int_inc (&j->count[i]);
}

/* @n_jobs jobs of varying sizes and grains on a @n_threads backend; each
 * must have run every item once when cpu_parallel_for() returns. */
static void
run_count_jobs (int n_threads, int n_jobs)
{
  AffectBackend *be = affect_backend_cpu_new (n_threads);
  const gsize max_items = 5000;
  CountJob j = { 0 };
  GRand *rand = g_rand_new_with_seed (7);
  int threads;

  j.count = g_new0 (gint, max_items);
  threads = cpu_begin (be);
  ck_assert_int_eq (threads, n_threads);
  j.threads = threads;
  for (int k = 0; k < n_jobs; k++) {
    const gsize n = (gsize)g_rand_int_range (rand, 1, (gint32)max_items);
    const gsize grain = (gsize)g_rand_int_range (rand, 1, 64);

    memset (j.count, 0, n * sizeof (gint));
    cpu_parallel_for (be, n, grain, count_range, &j);
    for (gsize i = 0; i < n; i++)
      ck_assert_msg (g_atomic_int_get (&j.count[i]) == 1,
          "job %d (%" G_GSIZE_FORMAT " items, grain %" G_GSIZE_FORMAT
          "): item %" G_GSIZE_FORMAT " ran %d times",
          k, n, grain, i, g_atomic_int_get (&j.count[i]));
  }
  cpu_end (be);
  {
    const int bad_tid = g_atomic_int_get (&j.bad_tid);
    const int bad_range = g_atomic_int_get (&j.bad_range);

    ck_assert_msg (bad_tid == 0,
        "%d ranges ran with a thread index outside [0, %d)", bad_tid, threads);
    ck_assert_msg (bad_range == 0, "%d empty or reversed ranges", bad_range);
    ck_assert_msg (g_atomic_int_get (&j.ran_by[0]) > 0,
        "the calling thread never ran a range");
  }
  g_free (j.count);
  g_rand_free (rand);
  affect_backend_unref (be);
}

START_TEST (test_pool_every_item_once)
{
  g_setenv ("AFFECT_CPU_CHUNKS_PER_THREAD", "64", TRUE);
  run_count_jobs (3, 2000);
  run_count_jobs (2, 2000);
  g_unsetenv ("AFFECT_CPU_CHUNKS_PER_THREAD");
  /* The default chunking too. */
  run_count_jobs (2, 500);
}

END_TEST;

START_TEST (test_pool_no_spin)
{
  /* Workers sleep after every job: each job wakes them (or finishes
   * without them). */
  g_setenv ("AFFECT_CPU_SPIN_US", "0", TRUE);
  g_setenv ("AFFECT_CPU_CHUNKS_PER_THREAD", "16", TRUE);
  run_count_jobs (2, 1000);
  run_count_jobs (4, 300);
  g_unsetenv ("AFFECT_CPU_SPIN_US");
  g_unsetenv ("AFFECT_CPU_CHUNKS_PER_THREAD");
}

END_TEST;

/* The caller holds its first chunk until another thread has run one: the
 * workers must claim the other chunks (woken from sleep when they do not
 * spin), and the job still completes. No timing: it only has to end. */
typedef struct {
  gint others;    /* ranges run by workers in this job */
  gint caller_in; /* the caller is in its first range */
  gint *count;
} HoldJob;

static void
hold_range (gpointer data, gsize start, gsize end, int tid)
{
  HoldJob *j = data;

  if (tid == 0 && g_atomic_int_compare_and_exchange (&j->caller_in, 0, 1)) {
    while (g_atomic_int_get (&j->others) == 0)
      g_thread_yield ();
  } else if (tid != 0) {
    g_atomic_int_inc (&j->others);
  }
  for (gsize i = start; i < end; i++)
    g_atomic_int_inc (&j->count[i]);
}

static void
run_hold_jobs (int n_threads)
{
  AffectBackend *be = affect_backend_cpu_new (n_threads);
  gint count[64];

  cpu_begin (be);
  for (int k = 0; k < 50; k++) {
    HoldJob j = { 0, 0, count };

    memset (count, 0, sizeof (count));
    cpu_parallel_for (be, G_N_ELEMENTS (count), 1, hold_range, &j);
    ck_assert_int_gt (g_atomic_int_get (&j.others), 0);
    for (guint i = 0; i < G_N_ELEMENTS (count); i++)
      ck_assert_int_eq (g_atomic_int_get (&count[i]), 1);
  }
  cpu_end (be);
  affect_backend_unref (be);
}

START_TEST (test_pool_workers_take_chunks)
{
  run_hold_jobs (2);
  g_setenv ("AFFECT_CPU_SPIN_US", "0", TRUE);
  run_hold_jobs (2);
  run_hold_jobs (3);
  g_unsetenv ("AFFECT_CPU_SPIN_US");
}

END_TEST;

/* Ranges below the grain stay whole: one chunk on the calling thread. */
START_TEST (test_pool_small_stays_on_caller)
{
  AffectBackend *be = affect_backend_cpu_new (2);
  CountJob j = { 0 };

  j.count = g_new0 (gint, 100);
  j.threads = cpu_begin (be);
  cpu_parallel_for (be, 100, 100, count_range, &j);
  cpu_parallel_for (be, 100, 1000, count_range, &j);
  cpu_end (be);
  ck_assert_int_eq (g_atomic_int_get (&j.ran_by[0]), 2);
  ck_assert_int_eq (g_atomic_int_get (&j.ran_by[1]), 0);
  for (int i = 0; i < 100; i++)
    ck_assert_int_eq (j.count[i], 2);
  g_free (j.count);
  affect_backend_unref (be);
}

END_TEST;

/* ---- networks: bit-identical on 1 thread and many chunks -------------- */

typedef enum {
  NET_LANDMARKS,
  NET_EXPRESSION,
  NET_RECOGNITION,
  NET_TINY
} NetKind;

static const struct {
  const char *model;
  int size;
} nets[] = {
  { "face_landmark_68_model", 112 },
  { "face_expression_model", 112 },
  { "face_recognition_model", 150 },
  { "tiny_face_detector_model", 160 },
};

typedef struct {
  NetKind kind;
  gpointer net;
} Net;

static gboolean
net_load (Net *n, NetKind kind, AffectBackend *be)
{
  GError *err = NULL;
  gchar *path = affect_model_find (nets[kind].model, NULL, &err);

  n->kind = kind;
  n->net = NULL;
  if (path == NULL) {
    ck_assert_msg (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") != 0,
        "%s is missing and AFFECT_REQUIRE_MODELS=1", nets[kind].model);
    g_printerr ("SKIP: %s\n", err->message);
    g_error_free (err);
    return FALSE;
  }
  switch (kind) {
    case NET_LANDMARKS:
      n->net = affect_landmark_net_new (be, path, &err);
      break;
    case NET_EXPRESSION:
      n->net = affect_expression_net_new (be, path, &err);
      break;
    case NET_RECOGNITION:
      n->net = affect_recognition_net_new (be, path, &err);
      break;
    case NET_TINY:
      n->net = affect_tiny_face_new (be, path, &err);
      break;
  }
  ck_assert_msg (n->net != NULL, "%s: %s", path, err ? err->message : "?");
  g_free (path);
  return TRUE;
}

static void
net_free (Net *n)
{
  switch (n->kind) {
    case NET_LANDMARKS:
      affect_landmark_net_free (n->net);
      break;
    case NET_EXPRESSION:
      affect_expression_net_free (n->net);
      break;
    case NET_RECOGNITION:
      affect_recognition_net_free (n->net);
      break;
    case NET_TINY:
      affect_tiny_face_free (n->net);
      break;
  }
}

/* The output of @n on @batch random images (seeded), as new floats. */
static float *
net_run (Net *n, AffectBackend *be, int batch, gsize *n_out)
{
  const int s = nets[n->kind].size;
  const gsize n_in = (gsize)batch * s * s * 3;
  float *in = g_new (float, n_in), *out;
  GRand *rand = g_rand_new_with_seed (11);
  AffectTensor *x, *y = NULL;

  for (gsize i = 0; i < n_in; i++)
    in[i] = (float)g_rand_double_range (rand, -0.5, 0.5);
  x = affect_tensor_new_from_data (be, batch, s, s, 3, in);
  switch (n->kind) {
    case NET_LANDMARKS:
      y = affect_landmark_net_forward (n->net, x);
      break;
    case NET_EXPRESSION:
      y = affect_expression_net_forward (n->net, x);
      break;
    case NET_RECOGNITION:
      y = affect_recognition_net_forward (n->net, x);
      break;
    case NET_TINY:
      y = affect_tiny_face_forward (n->net, x);
      break;
  }
  ck_assert (y != NULL);
  *n_out = affect_tensor_n_elements (y);
  out = g_new (float, *n_out);
  affect_tensor_download (y, out);
  affect_tensor_free (y);
  affect_tensor_free (x);
  g_rand_free (rand);
  g_free (in);
  return out;
}

START_TEST (test_nets_many_chunks)
{
  const NetKind kind = (NetKind)_i;
  AffectBackend *one = affect_backend_cpu_new (1), *three;
  Net n1, n3;

  /* Every layer split, in up to 64 chunks per thread. */
  g_setenv ("AFFECT_CPU_MIN_CHUNK_WORK", "1", TRUE);
  g_setenv ("AFFECT_CPU_CHUNKS_PER_THREAD", "64", TRUE);
  three = affect_backend_cpu_new (3);
  g_unsetenv ("AFFECT_CPU_MIN_CHUNK_WORK");
  g_unsetenv ("AFFECT_CPU_CHUNKS_PER_THREAD");
  ck_assert_int_eq (affect_backend_get_n_threads (three), 3);
  if (net_load (&n1, kind, one)) {
    ck_assert (net_load (&n3, kind, three));
    for (int batch = 1; batch <= 3; batch += 2) {
      gsize len1, len3;
      float *ref = net_run (&n1, one, batch, &len1);

      for (int round = 0; round < 3; round++) {
        float *got = net_run (&n3, three, batch, &len3);

        ck_assert_uint_eq (len1, len3);
        for (gsize i = 0; i < len1; i++)
          ck_assert_msg (memcmp (&ref[i], &got[i], sizeof (float)) == 0,
              "%s, batch %d, run %d: output %" G_GSIZE_FORMAT
              " is %.9g on 3 threads, %.9g on 1",
              nets[kind].model, batch, round, i, got[i], ref[i]);
        g_free (got);
      }
      g_free (ref);
    }
    net_free (&n3);
    net_free (&n1);
  }
  affect_backend_unref (three);
  affect_backend_unref (one);
}

END_TEST;

static Suite *
threads_suite (void)
{
  Suite *s = suite_create ("threads");
  TCase *tp = tcase_create ("pool");
  TCase *tn = tcase_create ("nets");

  tcase_set_timeout (tp, 300);
  tcase_add_test (tp, test_pool_every_item_once);
  tcase_add_test (tp, test_pool_no_spin);
  tcase_add_test (tp, test_pool_workers_take_chunks);
  tcase_add_test (tp, test_pool_small_stays_on_caller);
  suite_add_tcase (s, tp);
  tcase_set_timeout (tn, 600);
  tcase_add_loop_test (tn, test_nets_many_chunks, NET_LANDMARKS, NET_TINY + 1);
  suite_add_tcase (s, tn);
  return s;
}

int
main (void)
{
  return affect_test_run_suite (threads_suite ());
}
