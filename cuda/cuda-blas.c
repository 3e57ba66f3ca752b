/* gst-affect — cuda/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * cuBLAS: matrix products for fully connected layers, matmul (attention,
 * projections on views), the GRU's projections and the GEMM-shaped
 * convolutions (cuda-ops.c). cuBLAS is opened with dlopen
 * ("libcublas.so.13": the module's RUNPATH, LD_LIBRARY_PATH, the system)
 * when the probe runs, so that the module loads on machines without it and
 * says why it cannot be used.
 *
 * Precision: the handle's math mode is CUBLAS_DEFAULT_MATH (float32
 * products, no TF32), which the op test's thresholds need.
 * AFFECT_CUDA_TF32=1 selects CUBLAS_TF32_TENSOR_OP_MATH (faster on Ampere
 * and later, about 1e-3 relative error: outside the op test's thresholds).
 *
 * Row-major products are computed as their column-major transposes:
 * C = op(A) op(B) (row-major) is C^T = op(B)^T op(A)^T (column-major), so
 * cublasSgemm gets B first, A second, n and m swapped, the same transpose
 * flags and the row-major leading dimensions.
 *
 * UNVERIFIED on a GPU (docs/cuda.md).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <dlfcn.h>
#include <string.h>

#include <cublas_v2.h>

#include "cuda-private.h"

#define CUBLAS_SONAME "libcublas.so.13"

typedef cublasStatus_t (*CreateFunc) (cublasHandle_t *);
typedef cublasStatus_t (*DestroyFunc) (cublasHandle_t);
typedef cublasStatus_t (*GetVersionFunc) (cublasHandle_t, int *);
typedef cublasStatus_t (*SetStreamFunc) (cublasHandle_t, cudaStream_t);
typedef cublasStatus_t (*SetMathModeFunc) (cublasHandle_t, cublasMath_t);
typedef const char *(*StatusStringFunc) (cublasStatus_t);
typedef cublasStatus_t (*SgemmStridedBatchedFunc) (cublasHandle_t,
    cublasOperation_t, cublasOperation_t, int, int, int, const float *,
    const float *, int, long long, const float *, int, long long, const float *,
    float *, int, long long, int);

static struct {
  void *lib;
  CreateFunc create;
  DestroyFunc destroy;
  GetVersionFunc get_version;
  SetStreamFunc set_stream;
  SetMathModeFunc set_math_mode;
  StatusStringFunc status_string;
  SgemmStridedBatchedFunc sgemm_strided_batched;
  gchar *version;
} blas;

gboolean
cuda_blas_open (GError **error)
{
  const struct {
    const char *name;
    gpointer *slot;
  } syms[] = {
    { "cublasCreate_v2", (gpointer *)&blas.create },
    { "cublasDestroy_v2", (gpointer *)&blas.destroy },
    { "cublasGetVersion_v2", (gpointer *)&blas.get_version },
    { "cublasSetStream_v2", (gpointer *)&blas.set_stream },
    { "cublasSetMathMode", (gpointer *)&blas.set_math_mode },
    { "cublasGetStatusString", (gpointer *)&blas.status_string },
    { "cublasSgemmStridedBatched", (gpointer *)&blas.sgemm_strided_batched },
  };
  cublasHandle_t h;
  int v = 0;
  guint i;

  if (blas.lib != NULL)
    return TRUE;
  blas.lib = dlopen (CUBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (blas.lib == NULL) {
    g_set_error (error, AFFECT_BACKEND_ERROR,
        AFFECT_BACKEND_ERROR_NOT_AVAILABLE,
        "cuBLAS could not be opened (%s); put its folder in "
        "LD_LIBRARY_PATH",
        dlerror ());
    return FALSE;
  }
  for (i = 0; i < G_N_ELEMENTS (syms); i++) {
    *syms[i].slot = dlsym (blas.lib, syms[i].name);
    if (*syms[i].slot == NULL) {
      g_set_error (error, AFFECT_BACKEND_ERROR,
          AFFECT_BACKEND_ERROR_NOT_AVAILABLE, "%s has no %s", CUBLAS_SONAME,
          syms[i].name);
      dlclose (blas.lib);
      blas.lib = NULL;
      return FALSE;
    }
  }
  /* The version needs a handle (and so a device: the probe has one). */
  if (blas.create (&h) == CUBLAS_STATUS_SUCCESS) {
    blas.get_version (h, &v);
    blas.destroy (h);
  }
  blas.version = g_strdup_printf (
      "cuBLAS %d.%d.%d", v / 10000, (v % 10000) / 100, v % 100);
  return TRUE;
}

const gchar *
cuda_blas_version (void)
{
  return blas.version != NULL ? blas.version : "cuBLAS (not opened)";
}

gboolean
cuda_blas_create (CudaBackend *cb, GError **error)
{
  cublasHandle_t h = NULL;
  cublasStatus_t st;
  const gchar *tf32 = g_getenv ("AFFECT_CUDA_TF32");

  if (blas.lib == NULL) {
    g_set_error (error, AFFECT_BACKEND_ERROR,
        AFFECT_BACKEND_ERROR_NOT_AVAILABLE, "cuBLAS is not open");
    return FALSE;
  }
  st = blas.create (&h);
  if (st == CUBLAS_STATUS_SUCCESS)
    st = blas.set_stream (h, cb->stream);
  if (st == CUBLAS_STATUS_SUCCESS)
    st = blas.set_math_mode (h, tf32 != NULL && g_str_equal (tf32, "1")
                                    ? CUBLAS_TF32_TENSOR_OP_MATH
                                    : CUBLAS_DEFAULT_MATH);
  if (st != CUBLAS_STATUS_SUCCESS) {
    g_set_error (error, AFFECT_BACKEND_ERROR,
        AFFECT_BACKEND_ERROR_NOT_AVAILABLE, "cuBLAS on CUDA device %d: %s",
        cb->device, blas.status_string (st));
    if (h != NULL)
      blas.destroy (h);
    return FALSE;
  }
  cb->blas = h;
  return TRUE;
}

void
cuda_blas_destroy (CudaBackend *cb)
{
  if (cb->blas != NULL)
    blas.destroy (cb->blas);
  cb->blas = NULL;
}

gboolean
cuda_gemm (AffectBackend *be, gboolean ta, gboolean tb, int m, int n, int k,
    float alpha, const float *a, int lda, gsize stride_a, const float *b,
    int ldb, gsize stride_b, float beta, float *c, int ldc, gsize stride_c,
    int batch)
{
  CudaBackend *cb = be->priv;
  cublasStatus_t st;

  st = blas.sgemm_strided_batched (cb->blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N,
      ta ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, b, ldb,
      (long long)stride_b, a, lda, (long long)stride_a, &beta, c, ldc,
      (long long)stride_c, batch);
  if (st != CUBLAS_STATUS_SUCCESS) {
    affect_backend_set_error (be,
        "cuda device %d: cublasSgemmStridedBatched (m %d, n %d, k %d, "
        "batch %d) failed: %s",
        cb->device, m, n, k, batch, blas.status_string (st));
    cb->failed = TRUE;
    return FALSE;
  }
  return TRUE;
}

/* ---- fully connected --------------------------------------------------- */

typedef struct {
  float *weight; /* [in, out] */
  float *bias;   /* [out] */
} CudaLinear;

gboolean
cuda_linear_prepare (AffectBackend *be, AffectLinear *lin)
{
  CudaLinear *l = g_new0 (CudaLinear, 1);

  cuda_begin (be);
  l->weight = cuda_weights_upload (be, lin->weight, (gsize)lin->in * lin->out);
  l->bias = cuda_weights_upload (be, lin->bias, lin->out);
  cuda_end (be);
  if (l->weight == NULL || l->bias == NULL) {
    cuda_weights_free (l->weight);
    cuda_weights_free (l->bias);
    g_free (l);
    return FALSE;
  }
  lin->priv = l;
  return TRUE;
}

void
cuda_linear_forward (AffectBackend *be, AffectLinear *lin,
    const AffectTensor *x, AffectTensor *y, gsize rows)
{
  CudaLinear *l = lin->priv;
  CudaBackend *cb = be->priv;

  cuda_begin (be);
  if (cuda_gemm (be, FALSE, FALSE, (int)rows, lin->out, lin->in, 1.0f, x->data,
          lin->in, 0, l->weight, lin->out, 0, 0.0f, y->data, lin->out, 0, 1))
    cuda_check (be,
        ck_bias_act (cb->stream, y->data, l->bias, rows, lin->out, CK_ACT_NONE),
        "linear (bias)");
  cuda_end (be);
}

void
cuda_linear_free (AffectBackend *be, AffectLinear *lin)
{
  CudaLinear *l = lin->priv;

  if (l == NULL)
    return;
  cuda_begin (be);
  cuda_weights_free (l->weight);
  cuda_weights_free (l->bias);
  cuda_end (be);
  g_free (l);
  lin->priv = NULL;
}

/* ---- matmul ------------------------------------------------------------ */

void
cuda_matmul (AffectBackend *be, const AffectMatView *a, gboolean trans_a,
    const AffectMatView *b, gboolean trans_b, const AffectMatView *y, int m,
    int n, int k, int batch0, int batch1, float alpha, float beta)
{
  const float *pa = a->t->data + a->offset, *pb = b->t->data + b->offset;
  float *py = y->t->data + y->offset;
  int i;

  cuda_begin (be);
  if (batch1 == 1) {
    /* One strided batch over the first level. */
    cuda_gemm (be, trans_a, trans_b, m, n, k, alpha, pa, a->ld, a->stride[0],
        pb, b->ld, b->stride[0], beta, py, y->ld, y->stride[0], batch0);
  } else if (batch0 == 1
             || (a->stride[0] == batch1 * a->stride[1]
                 && b->stride[0] == batch1 * b->stride[1]
                 && y->stride[0] == batch1 * y->stride[1])) {
    /* The two levels are one regular sequence. */
    cuda_gemm (be, trans_a, trans_b, m, n, k, alpha, pa, a->ld, a->stride[1],
        pb, b->ld, b->stride[1], beta, py, y->ld, y->stride[1],
        batch0 * batch1);
  } else {
    for (i = 0; i < batch0; i++)
      if (!cuda_gemm (be, trans_a, trans_b, m, n, k, alpha,
              pa + i * a->stride[0], a->ld, a->stride[1], pb + i * b->stride[0],
              b->ld, b->stride[1], beta, py + i * y->stride[0], y->ld,
              y->stride[1], batch1))
        break;
  }
  cuda_end (be);
}

/* ---- GRU --------------------------------------------------------------- */

typedef struct {
  float *w_ih, *w_hh, *b_ih, *b_hh;
} CudaGru;

gboolean
cuda_gru_prepare (AffectBackend *be, AffectGru *gru)
{
  const gsize h3 = 3 * (gsize)gru->hidden_size;
  CudaGru *g = g_new0 (CudaGru, 1);

  cuda_begin (be);
  g->w_ih = cuda_weights_upload (be, gru->w_ih, h3 * gru->input_size);
  g->w_hh = cuda_weights_upload (be, gru->w_hh, h3 * gru->hidden_size);
  g->b_ih = cuda_weights_upload (be, gru->b_ih, h3);
  g->b_hh = cuda_weights_upload (be, gru->b_hh, h3);
  cuda_end (be);
  if (!g->w_ih || !g->w_hh || !g->b_ih || !g->b_hh) {
    cuda_weights_free (g->w_ih);
    cuda_weights_free (g->w_hh);
    cuda_weights_free (g->b_ih);
    cuda_weights_free (g->b_hh);
    g_free (g);
    return FALSE;
  }
  gru->priv = g;
  return TRUE;
}

void
cuda_gru_forward (AffectBackend *be, AffectGru *gru, const AffectTensor *x,
    const AffectTensor *h0, AffectTensor *y)
{
  CudaBackend *cb = be->priv;
  CudaGru *g = gru->priv;
  const int B = x->n, T = x->w, D = gru->input_size, H = gru->hidden_size;
  const gsize rows = (gsize)B * T;
  float *gx, *gh, *h;
  int t;

  cuda_begin (be);
  gx = cuda_scratch (
      be, (rows * 3 * H + (gsize)B * 3 * H + (gsize)B * H) * sizeof (float));
  if (gx == NULL)
    goto done;
  gh = gx + rows * 3 * H;
  h = gh + (gsize)B * 3 * H;

  /* The input projections of every step at once: gx = x W_ih^T + b_ih. */
  if (!cuda_gemm (be, FALSE, TRUE, (int)rows, 3 * H, D, 1.0f, x->data, D, 0,
          g->w_ih, D, 0, 0.0f, gx, 3 * H, 0, 1)
      || !cuda_check (be,
          ck_bias_act (cb->stream, gx, g->b_ih, rows, 3 * H, CK_ACT_NONE),
          "gru (input bias)"))
    goto done;
  if (h0 != NULL)
    cudaMemcpyAsync (h, h0->data, (gsize)B * H * sizeof (float),
        cudaMemcpyDeviceToDevice, cb->stream);
  else
    cudaMemsetAsync (h, 0, (gsize)B * H * sizeof (float), cb->stream);

  for (t = 0; t < T; t++) {
    /* gh = h W_hh^T + b_hh, then the gates. */
    if (!cuda_gemm (be, FALSE, TRUE, B, 3 * H, H, 1.0f, h, H, 0, g->w_hh, H, 0,
            0.0f, gh, 3 * H, 0, 1)
        || !cuda_check (be,
            ck_bias_act (cb->stream, gh, g->b_hh, B, 3 * H, CK_ACT_NONE),
            "gru (recurrent bias)")
        || !cuda_check (be,
            ck_gru_step (cb->stream, gx, gh, h, y->data, B, T, t, H),
            "gru (gates)"))
      break;
  }
done:
  cuda_end (be);
}

void
cuda_gru_free (AffectBackend *be, AffectGru *gru)
{
  CudaGru *g = gru->priv;

  if (g == NULL)
    return;
  cuda_begin (be);
  cuda_weights_free (g->w_ih);
  cuda_weights_free (g->w_hh);
  cuda_weights_free (g->b_ih);
  cuda_weights_free (g->b_hh);
  cuda_end (be);
  g_free (g);
  gru->priv = NULL;
}
