/* gst-affect — tests/models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * affect_sgemm() (models/cpu/affect-gemm.h) against a naive double-precision
 * reference written here: the four transpose combinations, odd sizes,
 * padded leading dimensions, alpha/beta, m == 1, n == 1, k == 0, one and two
 * threads; rows bit-identical whatever m and wherever A lies in memory
 * (what the CPU backend's batch invariance relies on); concurrent callers.
 *
 * The provider is whatever this process gets (oneDNN when built with it);
 * meson runs the test a second time with AFFECT_GEMM=openblas for the CBLAS
 * path (models_gemm_openblas).
 */

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <affect-gemm.h>

static GRand *rng;

static void
setup (void)
{
  rng = g_rand_new_with_seed (20261129);
}

static void
teardown (void)
{
  g_rand_free (rng);
  rng = NULL;
}

static float *
random_floats (gsize n)
{
  float *v = g_new (float, MAX (n, 1));
  gsize i;

  for (i = 0; i < n; i++)
    v[i] = (float)g_rand_double_range (rng, -1.0, 1.0);
  return v;
}

/* Element (i, j) of op(X) for a row-major X with leading dimension ld. */
static inline double
op_at (const float *x, int ld, gboolean trans, int i, int j)
{
  return trans ? x[(gsize)j * ld + i] : x[(gsize)i * ld + j];
}

/* Checks c (m × n, ldc) against alpha op(A) op(B) + beta c0 in double.
 * Bound per element: (k + 2) u (|alpha| sum |a b| + |beta c0|), the
 * classical dot-product error bound with u = 2^-24, plus a tiny absolute
 * term. */
static void
check_against_reference (const char *what, gboolean ta, gboolean tb, int m,
    int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
    float beta, const float *c0, const float *c, int ldc)
{
  int i, j, l;

  for (i = 0; i < m; i++)
    for (j = 0; j < n; j++) {
      double sum = 0.0, sum_abs = 0.0, ref, tol, got;

      for (l = 0; l < k; l++) {
        double p = op_at (a, lda, ta, i, l) * op_at (b, ldb, tb, l, j);
        sum += p;
        sum_abs += fabs (p);
      }
      ref = alpha * sum;
      tol = fabs ((double)alpha) * sum_abs;
      if (beta != 0.0f) {
        ref += (double)beta * c0[(gsize)i * ldc + j];
        tol += fabs ((double)beta * c0[(gsize)i * ldc + j]);
      }
      tol = (k + 2) * ldexp (1.0, -24) * tol + 1e-30;
      got = c[(gsize)i * ldc + j];
      ck_assert_msg (fabs (got - ref) <= tol,
          "%s: ta %d tb %d m %d n %d k %d alpha %g beta %g: c[%d, %d] = %.9g, "
          "reference %.9g (tolerance %.3g, provider %s)",
          what, ta, tb, m, n, k, alpha, beta, i, j, got, ref, tol,
          affect_gemm_provider ());
    }
}

/* Fills A, B, C for op(A) m × k, op(B) k × n with leading dimensions padded
 * by @pad, runs affect_sgemm with @threads and checks the result. With
 * beta == 0 C starts as NaN: it must not be read. Elements of C outside the
 * m × n block (the ldc padding) must stay untouched. */
static void
run_case (int threads, gboolean ta, gboolean tb, int m, int n, int k,
    float alpha, float beta, int pad)
{
  const int a_rows = ta ? k : m, a_cols = ta ? m : k;
  const int b_rows = tb ? n : k, b_cols = tb ? k : n;
  const int lda = a_cols + pad, ldb = b_cols + pad, ldc = n + pad;
  float *a = random_floats ((gsize)a_rows * lda);
  float *b = random_floats ((gsize)b_rows * ldb);
  float *c0 = random_floats ((gsize)m * ldc);
  float *c = g_new (float, (gsize)m *ldc);
  char what[64];
  int i, j;

  if (beta == 0.0f) {
    for (i = 0; i < m; i++)
      for (j = 0; j < n; j++)
        c0[(gsize)i * ldc + j] = NAN;
  }
  memcpy (c, c0, sizeof (float) * m * ldc);
  affect_sgemm (threads, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  g_snprintf (what, sizeof (what), "%d thread(s), pad %d", threads, pad);
  check_against_reference (
      what, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c0, c, ldc);
  for (i = 0; i < m; i++)
    for (j = n; j < ldc; j++)
      ck_assert_msg (memcmp (&c[(gsize)i * ldc + j], &c0[(gsize)i * ldc + j],
                         sizeof (float))
                         == 0,
          "%s: padding c[%d, %d] was written", what, i, j);
  g_free (a);
  g_free (b);
  g_free (c0);
  g_free (c);
}

static const int sizes[][3] = {
  /* m, n, k */
  { 1, 1, 1 },
  { 1, 7, 13 },
  { 1, 300, 77 },
  { 2, 5, 3 },
  { 3, 17, 33 },
  { 5, 1, 9 },
  { 17, 31, 65 },
  { 33, 64, 1 },
  { 64, 96, 128 },
  { 129, 67, 301 },
  { 7, 129, 1030 },
};

static const float alphas_betas[][2] = {
  { 1.0f, 0.0f },
  { 0.5f, 1.0f },
  { -2.0f, 0.25f },
};

/* Loop index: transpose combination (2 bits) × thread count (1, 2). */
START_TEST (test_against_reference)
{
  const gboolean ta = _i & 1, tb = (_i >> 1) & 1;
  const int threads = (_i >> 2) + 1;
  guint s, ab;

  for (s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (ab = 0; ab < G_N_ELEMENTS (alphas_betas); ab++)
      run_case (threads, ta, tb, sizes[s][0], sizes[s][1], sizes[s][2],
          alphas_betas[ab][0], alphas_betas[ab][1], (int)(s + ab) % 3);
}
END_TEST;

/* A larger product, where oneDNN blocks K and can split the work between
 * threads. */
START_TEST (test_large)
{
  run_case (1, FALSE, FALSE, 200, 300, 700, 1.0f, 0.0f, 0);
  run_case (2, FALSE, FALSE, 200, 300, 700, 1.0f, 1.0f, 1);
  run_case (2, FALSE, TRUE, 250, 130, 530, 0.7f, 0.0f, 0);
  run_case (2, TRUE, FALSE, 97, 256, 1100, 1.0f, 0.5f, 0);
}
END_TEST;

/* k == 0: C = beta C (alpha op(A) op(B) is an empty sum). */
START_TEST (test_k_zero)
{
  float a[1] = { 1.0f }, b[1] = { 1.0f };
  float c[3 * 4];
  int i;

  for (i = 0; i < 12; i++)
    c[i] = (float)i;
  affect_sgemm (1, FALSE, FALSE, 3, 4, 0, 1.0f, a, 1, b, 4, 0.5f, c, 4);
  for (i = 0; i < 12; i++)
    ck_assert_msg (
        c[i] == 0.5f * (float)i, "k == 0, beta 0.5: c[%d] = %g", i, c[i]);
  affect_sgemm (1, FALSE, FALSE, 3, 4, 0, 1.0f, a, 1, b, 4, 0.0f, c, 4);
  for (i = 0; i < 12; i++)
    ck_assert_msg (c[i] == 0.0f, "k == 0, beta 0: c[%d] = %g", i, c[i]);
}
END_TEST;

/* m or n <= 0: nothing is read or written. */
START_TEST (test_empty)
{
  float c[4] = { 1.0f, 2.0f, 3.0f, 4.0f };

  affect_sgemm (1, FALSE, FALSE, 0, 4, 5, 1.0f, NULL, 5, NULL, 4, 0.0f, c, 4);
  affect_sgemm (2, TRUE, TRUE, 1, 0, 5, 1.0f, NULL, 1, NULL, 5, 0.0f, c, 4);
  ck_assert (c[0] == 1.0f && c[1] == 2.0f && c[2] == 3.0f && c[3] == 4.0f);
}
END_TEST;

/* With one thread and affect_gemm_rows_independent() (oneDNN, AVX-512),
 * row i of C depends only on row i of op(A) and on op(B): the same rows
 * computed in a product of any height m, and from a copy of A at another
 * address (other alignment), are bit-identical. Other kernels do not
 * promise independence of m (tail kernels): there only the same call on a
 * copy of A at another address is compared. Loop index: transposes. */
START_TEST (test_rows_independent_of_m)
{
  const gboolean ta = _i & 1, tb = (_i >> 1) & 1;
  static const int shapes[][3] = {
    /* full m, n, k */
    { 70, 48, 27 },
    { 37, 130, 300 },
    { 20, 9, 1100 },
  };
  const gboolean any_m = affect_gemm_rows_independent ();
  guint s;

  if (!any_m && _i == 0)
    g_print ("%s: rows are not compared across m (not promised by these "
             "kernels)\n",
        affect_gemm_provider ());
  for (s = 0; s < G_N_ELEMENTS (shapes); s++) {
    const int M = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
    const int lda = ta ? M : k, ldb = tb ? k : n;
    float *a = random_floats ((gsize)M * k);
    float *b = random_floats ((gsize)k * n);
    float *full = g_new (float, (gsize)M *n);
    float *part = g_new (float, (gsize)M *n);
    float *shifted = g_new (float, (gsize)M *k + 1);
    int m, start;

    affect_sgemm (1, ta, tb, M, n, k, 1.0f, a, lda, b, ldb, 0.0f, full, n);
    /* The whole product from the copy of A one float further. */
    memcpy (shifted + 1, a, sizeof (float) * M * k);
    affect_sgemm (
        1, ta, tb, M, n, k, 1.0f, shifted + 1, lda, b, ldb, 0.0f, part, n);
    ck_assert_msg (memcmp (part, full, sizeof (float) * M * n) == 0,
        "ta %d tb %d n %d k %d: A at another address gives other results "
        "(provider %s)",
        ta, tb, n, k, affect_gemm_provider ());
    /* Leading sub-blocks of every height. */
    for (m = 1; any_m && m <= M; m++) {
      memset (part, 0, sizeof (float) * m * n);
      affect_sgemm (1, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, part, n);
      ck_assert_msg (memcmp (part, full, sizeof (float) * m * n) == 0,
          "ta %d tb %d n %d k %d: rows of a %d-row product differ from "
          "the %d-row product (provider %s)",
          ta, tb, n, k, m, M, affect_gemm_provider ());
    }
    /* Row blocks starting inside A (A one float off its alignment for the
     * non-transposed case, as the backend's 1×1 convolutions use it). */
    for (start = 1; any_m && start < M; start += 7) {
      const float *a_start
          = ta ? shifted + 1 + start : shifted + 1 + (gsize)start * k;
      m = MIN (5, M - start);
      affect_sgemm (
          1, ta, tb, m, n, k, 1.0f, a_start, lda, b, ldb, 0.0f, part, n);
      ck_assert_msg (
          memcmp (part, full + (gsize)start * n, sizeof (float) * m * n) == 0,
          "ta %d tb %d n %d k %d: rows %d..%d computed alone differ "
          "(provider %s)",
          ta, tb, n, k, start, start + m - 1, affect_gemm_provider ());
    }
    g_free (a);
    g_free (b);
    g_free (full);
    g_free (part);
    g_free (shifted);
  }
}
END_TEST;

/* Several application threads calling affect_sgemm at once (each with its
 * own thread count, as the backend's pool workers and a BERT encoder do)
 * get the results of a call made alone. */
typedef struct {
  int threads;
  const float *a, *b, *expect;
  int m, n, k;
  gboolean ok;
} Job;

static gpointer
job_run (gpointer data)
{
  Job *j = data;
  float *c = g_new (float, (gsize)j->m * j->n);
  int round;

  j->ok = TRUE;
  for (round = 0; round < 20; round++) {
    affect_sgemm (j->threads, FALSE, FALSE, j->m, j->n, j->k, 1.0f, j->a, j->k,
        j->b, j->n, 0.0f, c, j->n);
    if (memcmp (c, j->expect, sizeof (float) * j->m * j->n) != 0)
      j->ok = FALSE;
  }
  g_free (c);
  return NULL;
}

START_TEST (test_concurrent_callers)
{
  const int m = 40, n = 56, k = 200;
  float *a = random_floats ((gsize)m * k);
  float *b = random_floats ((gsize)k * n);
  float *one = g_new (float, (gsize)m *n);
  float *row1 = g_new (float, n);
  Job jobs[4];
  GThread *threads[4];
  int i;

  affect_sgemm (1, FALSE, FALSE, m, n, k, 1.0f, a, k, b, n, 0.0f, one, n);
  affect_sgemm (1, FALSE, FALSE, 1, n, k, 1.0f, a, k, b, n, 0.0f, row1, n);
  if (affect_gemm_rows_independent ())
    ck_assert (memcmp (row1, one, sizeof (float) * n) == 0);
  for (i = 0; i < 4; i++) {
    /* Threads 0-2: one thread per call (thread 2: a single row), must
     * match bit for bit. Thread 3: two threads per call (the BERT case);
     * its repeated results are compared with a first 2-thread call. */
    jobs[i] = (Job){ 1, a, b, one, m, n, k, FALSE };
  }
  jobs[2].m = 1;
  jobs[2].expect = row1;
  jobs[3].threads = 2;
  jobs[3].expect = g_new (float, (gsize)m *n);
  affect_sgemm (2, FALSE, FALSE, m, n, k, 1.0f, a, k, b, n, 0.0f,
      (float *)jobs[3].expect, n);
  for (i = 0; i < 4; i++)
    threads[i] = g_thread_new ("gemm-test", job_run, &jobs[i]);
  for (i = 0; i < 4; i++) {
    g_thread_join (threads[i]);
    ck_assert_msg (jobs[i].ok, "thread %d got a different result", i);
  }
  g_free ((float *)jobs[3].expect);
  g_free (a);
  g_free (b);
  g_free (one);
  g_free (row1);
}
END_TEST;

START_TEST (test_provider)
{
  const char *name = affect_gemm_provider ();
  const char *env = g_getenv ("AFFECT_GEMM");

  ck_assert (name != NULL && name[0] != '\0');
  g_print ("affect_sgemm provider: %s%s%s\n", name,
      affect_gemm_is_generic () ? ", generic kernels" : "",
      affect_gemm_rows_independent () ? ", rows independent of m" : "");
  if (env != NULL && g_ascii_strcasecmp (env, "openblas") == 0)
    ck_assert_msg (!g_str_has_prefix (name, "oneDNN"),
        "AFFECT_GEMM=openblas but the provider is %s", name);
  if (g_str_has_prefix (name, "oneDNN"))
    ck_assert (!affect_gemm_is_generic ());
  else
    ck_assert (!affect_gemm_rows_independent ());
}
END_TEST;

static Suite *
gemm_suite (void)
{
  Suite *s = suite_create ("models-gemm");
  TCase *tc = tcase_create ("gemm");

  tcase_set_timeout (tc, 600);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_provider);
  tcase_add_loop_test (tc, test_against_reference, 0, 8);
  tcase_add_test (tc, test_large);
  tcase_add_test (tc, test_k_zero);
  tcase_add_test (tc, test_empty);
  tcase_add_loop_test (tc, test_rows_independent_of_m, 0, 4);
  tcase_add_test (tc, test_concurrent_callers);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  Suite *s = gemm_suite ();
  SRunner *sr = srunner_create (s);
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
