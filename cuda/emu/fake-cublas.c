/* gst-affect — cuda/emu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libcublas.so.13 for the emulated CUDA module of the tests: the seven
 * functions cuda/cuda-blas.c opens, with cuBLAS's column-major semantics
 * written out as plain loops (float32 sums in k order; C is not read when
 * beta is 0). Handles are dummies; the math mode is accepted and ignored.
 */

#include <stdlib.h>

#include <cublas_api.h>

struct cublasContext {
  int dummy;
};

cublasStatus_t
cublasCreate_v2 (cublasHandle_t *h)
{
  *h = calloc (1, sizeof (struct cublasContext));
  return *h ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_ALLOC_FAILED;
}

cublasStatus_t
cublasDestroy_v2 (cublasHandle_t h)
{
  free (h);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasGetVersion_v2 (cublasHandle_t h, int *v)
{
  (void)h;
  *v = 1;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasSetStream_v2 (cublasHandle_t h, cudaStream_t s)
{
  (void)h;
  (void)s;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasSetMathMode (cublasHandle_t h, cublasMath_t mode)
{
  (void)h;
  (void)mode;
  return CUBLAS_STATUS_SUCCESS;
}

const char *
cublasGetStatusString (cublasStatus_t st)
{
  return st == CUBLAS_STATUS_SUCCESS ? "CUBLAS_STATUS_SUCCESS"
                                     : "emulated cuBLAS error";
}

/* Column-major: element (r, c) of X with leading dimension ld is
 * X[r + c * ld]; op(A) is m × k, op(B) k × n, C m × n. */
cublasStatus_t
cublasSgemmStridedBatched (cublasHandle_t h, cublasOperation_t ta,
    cublasOperation_t tb, int m, int n, int k, const float *alpha,
    const float *A, int lda, long long sa, const float *B, int ldb,
    long long sb, const float *beta, float *C, int ldc, long long sc, int batch)
{
  int i, r, c, l;

  (void)h;
  if (m < 0 || n < 0 || k < 0 || batch < 0)
    return CUBLAS_STATUS_INVALID_VALUE;
  if (lda < (ta == CUBLAS_OP_N ? m : k) || ldb < (tb == CUBLAS_OP_N ? k : n)
      || ldc < m || lda < 1 || ldb < 1 || ldc < 1)
    return CUBLAS_STATUS_INVALID_VALUE;
  for (i = 0; i < batch; i++) {
    const float *a = A + i * sa, *b = B + i * sb;
    float *cc = C + i * sc;

    for (c = 0; c < n; c++)
      for (r = 0; r < m; r++) {
        float acc = 0.0f;

        for (l = 0; l < k; l++) {
          const float av = ta == CUBLAS_OP_N ? a[r + (long long)l * lda]
                                             : a[l + (long long)r * lda];
          const float bv = tb == CUBLAS_OP_N ? b[l + (long long)c * ldb]
                                             : b[c + (long long)l * ldb];
          acc += av * bv;
        }
        acc *= *alpha;
        if (*beta != 0.0f)
          acc += *beta * cc[r + (long long)c * ldc];
        cc[r + (long long)c * ldc] = acc;
      }
  }
  return CUBLAS_STATUS_SUCCESS;
}
