/* gst-affect — models
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * affect-gemm.h: the one matrix-multiply entry point of the inference core.
 *
 * Every GEMM of models/ (CPU backend convolutions and matmuls, BERT, the
 * fusion network) goes through affect_sgemm(). The provider is chosen at
 * build time: oneDNN (dnnl_sgemm, JIT kernels picked from the CPU's
 * instruction sets) when libdnnl was found, else the CBLAS library
 * (OpenBLAS). The environment variable AFFECT_GEMM=openblas forces the CBLAS
 * path at run time (for comparisons); AFFECT_GEMM=dnnl is the default when
 * available.
 */
#ifndef __AFFECT_GEMM_H__
#define __AFFECT_GEMM_H__

#include <glib.h>

G_BEGIN_DECLS

/**
 * affect_sgemm:
 * @n_threads: threads for this one call: <= 1 runs in the calling thread
 *   only (what the CPU backend's own thread pool uses); > 1 lets the
 *   provider use up to that many threads for this call, at most one per
 *   2^20 multiply-adds (small products run in the calling thread). The
 *   setting is per call (per calling thread for oneDNN/OpenMP), never
 *   process-wide for the oneDNN provider.
 * @trans_a, @trans_b: use A (resp. B) transposed.
 * @m, @n, @k: C is m × n, op(A) is m × k, op(B) is k × n.
 *
 * Row-major C = alpha op(A) op(B) + beta C, single precision. When
 * @beta is 0, C is not read (it may hold NaN); @k == 0 gives beta C.
 *
 * Determinism: the same call (same sizes, transposes and thread count)
 * gives bit-identical results whichever thread makes it and wherever A
 * lies in memory. When affect_gemm_rows_independent() is TRUE and
 * @n_threads <= 1, the result of each row of C moreover depends only on
 * that row of op(A) and on op(B), not on @m. For that, oneDNN calls with
 * @m == 1, or @m < 16 with @trans_b, run on zero-padded copies of 2 (resp.
 * 16) rows: callers that do not need it and have few rows should prefer
 * B not transposed. Otherwise kernels may sum the rows of an m-tail in
 * another order: callers that need batch invariance must keep the same @m
 * per item, as the CPU backend does.
 */
void affect_sgemm (int n_threads, gboolean trans_a, gboolean trans_b, int m,
    int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
    float beta, float *c, int ldc);

/**
 * affect_gemm_provider:
 *
 * Returns: a static description of the provider in use, e.g.
 * "oneDNN 2.6.3 (AVX-512 kernels)" or "OpenBLAS 0.3.21 (Prescott kernels)".
 */
const char *affect_gemm_provider (void);

/* TRUE when the provider is a CBLAS library running generic (slow) kernels
 * on this CPU, so callers can warn once. */
gboolean affect_gemm_is_generic (void);

/* TRUE when single-threaded results are row-wise independent of m (see
 * affect_sgemm()): oneDNN with its AVX-512 kernels. FALSE for CBLAS and
 * for oneDNN's AVX2 kernels (also what it picks under valgrind). */
gboolean affect_gemm_rows_independent (void);

G_END_DECLS

#endif /* __AFFECT_GEMM_H__ */
