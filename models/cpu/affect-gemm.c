/* gst-affect — models
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * affect-gemm.c: affect_sgemm() on oneDNN or on CBLAS (see affect-gemm.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "affect-gemm.h"

#include <string.h>

#include <cblas.h>
#ifdef AFFECT_HAVE_DNNL
#include <dnnl.h>
#include <omp.h>
#endif

/* See affect_sgemm(). */
#define MIN_MACS_PER_THREAD (1024.0 * 1024.0)

typedef enum {
  PROVIDER_CBLAS,
  PROVIDER_DNNL,
} Provider;

static Provider provider = PROVIDER_CBLAS;
static gboolean blas_generic = FALSE;
static gboolean rows_independent = FALSE;
static char provider_name[96];

#ifdef AFFECT_HAVE_DNNL
/* The instruction sets of the kernels oneDNN JIT-generates here. */
static const char *
dnnl_isa_name (dnnl_cpu_isa_t isa)
{
  if ((isa & dnnl_cpu_isa_avx512_core_amx) == dnnl_cpu_isa_avx512_core_amx)
    return "AVX-512/AMX";
  if ((isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core)
    return "AVX-512";
  if ((isa & dnnl_cpu_isa_avx2) == dnnl_cpu_isa_avx2)
    return "AVX2";
  if ((isa & dnnl_cpu_isa_avx) == dnnl_cpu_isa_avx)
    return "AVX";
  return "SSE4.1";
}
#endif

static void
gemm_init (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once)) {
    const char *env = g_getenv ("AFFECT_GEMM");
    const char *core = NULL;

#ifdef OPENBLAS_VERSION
    core = openblas_get_corename ();
    blas_generic = core != NULL
                   && (g_ascii_strcasecmp (core, "prescott") == 0
                       || g_ascii_strcasecmp (core, "core2") == 0
                       || g_ascii_strcasecmp (core, "nehalem") == 0
                       || g_ascii_strcasecmp (core, "katmai") == 0
                       || g_ascii_strcasecmp (core, "generic") == 0);
#endif
#ifdef AFFECT_HAVE_DNNL
    if (env == NULL || g_ascii_strcasecmp (env, "openblas") != 0) {
      const dnnl_version_t *v = dnnl_version ();
      const dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa ();

      provider = PROVIDER_DNNL;
      g_snprintf (provider_name, sizeof (provider_name),
          "oneDNN %d.%d.%d (%s kernels)", v->major, v->minor, v->patch,
          dnnl_isa_name (isa));
      /* Checked by tests/models/test-gemm.c: with the AVX-512 kernels and
       * the padding of affect_sgemm(), rows do not depend on m. The AVX2
       * kernels (also what oneDNN picks under valgrind) sum the rows of an
       * m-tail of 1-3 (mod 6) in another order. */
      rows_independent
          = (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core;
    }
#else
    (void)env;
#endif
    if (provider == PROVIDER_CBLAS) {
#ifdef OPENBLAS_VERSION
      char version[] = OPENBLAS_VERSION;

      g_snprintf (provider_name, sizeof (provider_name), "%s (%s kernels)",
          g_strstrip (version), core ? core : "unknown");
#else
      g_strlcpy (provider_name, "CBLAS", sizeof (provider_name));
#endif
    }
    g_once_init_leave (&once, 1);
  }
}

const char *
affect_gemm_provider (void)
{
  gemm_init ();
  return provider_name;
}

gboolean
affect_gemm_is_generic (void)
{
  gemm_init ();
  return provider == PROVIDER_CBLAS && blas_generic;
}

gboolean
affect_gemm_rows_independent (void)
{
  gemm_init ();
  return rows_independent;
}

#ifdef OPENBLAS_VERSION
static void
blas_set_threads (int n_threads)
{
  /* OpenBLAS's thread count is process-wide: compare with the live value
   * and change it under a lock. */
  static GMutex lock;

  g_mutex_lock (&lock);
  if (openblas_get_num_threads () != n_threads)
    openblas_set_num_threads (n_threads);
  g_mutex_unlock (&lock);
}
#endif

#ifdef AFFECT_HAVE_DNNL
typedef struct {
  float *buf;
  gsize floats;
} Scratch;

static void
scratch_free (gpointer data)
{
  Scratch *s = data;

  g_free (s->buf);
  g_free (s);
}

static GPrivate scratch_key = G_PRIVATE_INIT (scratch_free);

static float *
scratch_get (gsize floats)
{
  Scratch *s = g_private_get (&scratch_key);

  if (s == NULL) {
    s = g_new0 (Scratch, 1);
    g_private_set (&scratch_key, s);
  }
  if (s->floats < floats) {
    g_free (s->buf);
    s->buf = g_try_new (float, floats);
    s->floats = s->buf ? floats : 0;
  }
  return s->buf;
}

/* Fewer rows than this go through scratch matrices padded with zero rows
 * (see affect_sgemm()). */
#define DNNL_MIN_ROWS 2
#define DNNL_MIN_ROWS_TRANS_B 16

/* C = alpha op(A) op(B) + beta C for m < min_rows: op(A) is copied into a
 * min_rows × k row-major scratch (rows m and up are zero), C into a
 * min_rows × n one, and the m rows of the result are copied back. */
static gboolean
sgemm_padded (int min_rows, gboolean trans_a, gboolean trans_b, int m, int n,
    int k, float alpha, const float *a, int lda, const float *b, int ldb,
    float beta, float *c, int ldc)
{
  const gsize rk = (gsize)min_rows * k;
  float *a2 = scratch_get (rk + (gsize)min_rows * n);
  float *c2;
  int i, l;

  if (a2 == NULL)
    return FALSE; /* out of memory: the CBLAS path computes it */
  c2 = a2 + rk;
  memset (a2, 0, sizeof (float) * rk);
  for (i = 0; i < m; i++) {
    float *row = a2 + (gsize)i * k;

    if (trans_a) {
      for (l = 0; l < k; l++)
        row[l] = a[(gsize)l * lda + i];
    } else {
      memcpy (row, a + (gsize)i * lda, sizeof (float) * k);
    }
  }
  if (beta != 0.0f) {
    memset (c2, 0, sizeof (float) * min_rows * n);
    for (i = 0; i < m; i++)
      memcpy (c2 + (gsize)i * n, c + (gsize)i * ldc, sizeof (float) * n);
  }
  if (dnnl_sgemm ('N', trans_b ? 'T' : 'N', min_rows, n, k, alpha, a2, k, b,
          ldb, beta, c2, n)
      != dnnl_success)
    return FALSE;
  for (i = 0; i < m; i++)
    memcpy (c + (gsize)i * ldc, c2 + (gsize)i * n, sizeof (float) * n);
  return TRUE;
}
#endif

void
affect_sgemm (int n_threads, gboolean trans_a, gboolean trans_b, int m, int n,
    int k, float alpha, const float *a, int lda, const float *b, int ldb,
    float beta, float *c, int ldc)
{
  if (m <= 0 || n <= 0)
    return;
  /* Each thread gets at least MIN_MACS_PER_THREAD multiply-adds: smaller
   * products (BERT's per-head attention) cost more in thread wake-ups and
   * barriers than they gain, and far more on a loaded machine. */
  if (n_threads > 1) {
    const double macs = (double)m * n * MAX (k, 1);

    n_threads = (int)MIN ((double)n_threads, macs / MIN_MACS_PER_THREAD);
  }
  if (n_threads < 1)
    n_threads = 1;
  gemm_init ();

  if (k <= 0) {
    /* An empty sum: C = beta C (oneDNN 2.6 leaves C as it is). */
    int i, j;

    for (i = 0; i < m; i++) {
      float *row = c + (gsize)i * ldc;
      for (j = 0; j < n; j++)
        row[j] = beta == 0.0f ? 0.0f : beta * row[j];
    }
    return;
  }

#ifdef AFFECT_HAVE_DNNL
  if (provider == PROVIDER_DNNL) {
    /* oneDNN runs a single row through a gemv kernel, and (on AVX-512)
     * fewer than 16 rows times a transposed B through dot-product kernels,
     * that sum in another order than its gemm kernels: such calls run on
     * zero-padded copies, so that with the AVX-512 kernels a row's result
     * does not depend on m (affect_gemm_rows_independent()). */
    const int min_rows = trans_b ? DNNL_MIN_ROWS_TRANS_B : DNNL_MIN_ROWS;

    /* The OpenMP thread count is a per-thread setting: each calling thread
     * (a pool worker, a streaming thread) keeps its own. */
    if (omp_get_max_threads () != n_threads)
      omp_set_num_threads (n_threads);
    if (m < min_rows) {
      if (sgemm_padded (min_rows, trans_a, trans_b, m, n, k, alpha, a, lda, b,
              ldb, beta, c, ldc))
        return;
    } else if (dnnl_sgemm (trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k,
                   alpha, a, lda, b, ldb, beta, c, ldc)
               == dnnl_success)
      return;
    /* dnnl_sgemm only fails on invalid arguments (let CBLAS report those)
     * and sgemm_padded() on a failed allocation. */
  }
#endif

#ifdef OPENBLAS_VERSION
  blas_set_threads (n_threads);
#endif
  cblas_sgemm (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
      trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta,
      c, ldc);
}
