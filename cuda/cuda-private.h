/* gst-affect — cuda/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CUDA backend's internal interface. File map:
 *
 *   cuda-backend.c     the module: ABI symbols, probe, registration, the
 *                      function table, memory (the runtime's stream-ordered
 *                      pool), pinned staging for uploads and downloads,
 *                      error reporting
 *   cuda-blas.c        cuBLAS (opened with dlopen at probe time): fully
 *                      connected layers, matmul, GRU orchestration,
 *                      1×1 and im2col convolutions
 *   cuda-dnn.c         cuDNN (opened with dlopen, optional): regular and
 *                      depthwise convolutions, the depthwise half of
 *                      separable ones (AFFECT_CUDA_CUDNN)
 *   cuda-ops.c         the table entries that launch own kernels, the
 *                      convolutions' choice between cuDNN and own kernels
 *   cuda-kernels.h     the kernels' launchers (plain C), one .cu per family
 *
 * Locking: one recursive mutex per backend serialises its entries (one
 * stream per backend: a worker that wants its own stream creates its own
 * backend). Every entry selects the backend's device first.
 *
 * UNVERIFIED: nothing here has run on a GPU yet (docs/cuda.md).
 */

#ifndef __AFFECT_CUDA_PRIVATE_H__
#define __AFFECT_CUDA_PRIVATE_H__

#include <cuda_runtime_api.h>

#include "affect-backend.h"
#include "cuda-kernels.h"

G_BEGIN_DECLS

#define CUDA_LOG_DOMAIN "affect-cuda"

typedef struct {
  int device;
  cudaStream_t stream;
  gpointer blas;         /* cublasHandle_t */
  gpointer dnn;          /* cudnnHandle_t, NULL: no cuDNN on this backend */
  gboolean dnn_required; /* AFFECT_CUDA_CUDNN=1 */
  GRecMutex lock;
  /* pinned host staging buffer (grows) */
  float *staging;
  gsize staging_floats;
  /* device scratch (grows): im2col, GRU projections, gather ids */
  float *scratch;
  gsize scratch_bytes;
  gboolean failed; /* a failure was recorded (affect_backend_set_error) */
} CudaBackend;

/* Select the device and take the lock / release it. */
void cuda_begin (AffectBackend *be);
void cuda_end (AffectBackend *be);

/* Records @err (when not cudaSuccess) with affect_backend_set_error(), the
 * message naming the device and @what (the op); returns TRUE when @err is
 * cudaSuccess. */
gboolean cuda_check (AffectBackend *be, cudaError_t err, const gchar *what);

/* Device scratch of at least @n_bytes (valid until the next call on this
 * backend; the caller holds the lock). NULL on failure (reported). */
gpointer cuda_scratch (AffectBackend *be, gsize n_bytes);

/* Uploads @n floats to new device memory (cudaMalloc, synchronous); NULL
 * on failure. Freed with cuda_weights_free(). */
float *cuda_weights_upload (AffectBackend *be, const float *src, gsize n);
void cuda_weights_free (float *p);

/* cuda-blas.c */
/* Opens cuBLAS (libcublas.so.13); FALSE with @error saying why. Once per
 * process, from the probe. */
gboolean cuda_blas_open (GError **error);
const gchar *cuda_blas_version (void);
gboolean cuda_blas_create (CudaBackend *cb, GError **error);
void cuda_blas_destroy (CudaBackend *cb);
/* Row-major C [m × n] = alpha op(A) op(B) + beta C on the backend's
 * stream, strided-batched over @batch matrices (strides in floats, 0
 * repeats). */
gboolean cuda_gemm (AffectBackend *be, gboolean ta, gboolean tb, int m, int n,
    int k, float alpha, const float *a, int lda, gsize stride_a, const float *b,
    int ldb, gsize stride_b, float beta, float *c, int ldc, gsize stride_c,
    int batch);

gboolean cuda_linear_prepare (AffectBackend *be, AffectLinear *lin);
void cuda_linear_forward (AffectBackend *be, AffectLinear *lin,
    const AffectTensor *x, AffectTensor *y, gsize rows);
void cuda_linear_free (AffectBackend *be, AffectLinear *lin);
void cuda_matmul (AffectBackend *be, const AffectMatView *a, gboolean trans_a,
    const AffectMatView *b, gboolean trans_b, const AffectMatView *y, int m,
    int n, int k, int batch0, int batch1, float alpha, float beta);
gboolean cuda_gru_prepare (AffectBackend *be, AffectGru *gru);
void cuda_gru_forward (AffectBackend *be, AffectGru *gru, const AffectTensor *x,
    const AffectTensor *h0, AffectTensor *y);
void cuda_gru_free (AffectBackend *be, AffectGru *gru);

/* cuda-dnn.c */
/* Opens cuDNN (libcudnn.so.9) once per process; FALSE with @error saying
 * why (logged once at debug level: the own kernels serve). */
gboolean cuda_dnn_open (GError **error);
const gchar *cuda_dnn_version (void);
/* The backend's cuDNN handle as AFFECT_CUDA_CUDNN asks ("0" none, "1"
 * required: FALSE with @error without cuDNN, else when available). */
gboolean cuda_dnn_create (CudaBackend *cb, GError **error);
void cuda_dnn_destroy (CudaBackend *cb);
gboolean cuda_dnn_enabled (AffectBackend *be);

typedef struct _CudaDnnConv CudaDnnConv;
typedef enum {
  CUDA_DNN_DONE,     /* cuDNN ran it */
  CUDA_DNN_FALLBACK, /* cuDNN cannot: use the own kernels */
  CUDA_DNN_FAILED,   /* an error, reported */
} CudaDnnResult;

/* A convolution layer for cuDNN: @filter HWIO on the host
 * ([kh, kw, cin / groups, cout], converted to KRSC and uploaded), @groups 1
 * or cin (then cout = cin), @bias on the device ([cout], kept by the
 * caller) or NULL, @act a CK_ACT_* applied after the bias. NULL when the
 * backend has no cuDNN or on an error (reported). */
CudaDnnConv *cuda_dnn_conv_new (AffectBackend *be, const float *filter, int kh,
    int kw, int cin, int cout, int groups, int stride, const float *bias,
    int act);
void cuda_dnn_conv_free (CudaDnnConv *dc);
/* y [n, oh, ow, cout] = act (conv (x [n, h, w, cin]) + bias), x padded by
 * (pad_top, pad_left) and zeros as far as the output needs. The caller
 * holds the lock. */
CudaDnnResult cuda_dnn_conv_forward (AffectBackend *be, CudaDnnConv *dc,
    const float *x, int n, int h, int w, float *y, int oh, int ow, int pad_top,
    int pad_left);

/* cuda-ops.c */
gboolean cuda_conv_prepare (AffectBackend *be, AffectConv *conv);
void cuda_conv_forward (AffectBackend *be, AffectConv *conv,
    const AffectTensor *x, AffectTensor *y, int pad_top, int pad_left);
void cuda_conv_free (AffectBackend *be, AffectConv *conv);
void cuda_pad (AffectBackend *be, const AffectTensor *x, AffectTensor *y,
    int top, int left);
void cuda_pool (AffectBackend *be, AffectPoolKind kind, const AffectTensor *x,
    AffectTensor *y, int k, int stride, int pad_top, int pad_left);
void cuda_global_mean (
    AffectBackend *be, const AffectTensor *x, AffectTensor *y);
void cuda_add (AffectBackend *be, const AffectTensor *a, const AffectTensor *b,
    AffectTensor *y);
void cuda_unary (AffectBackend *be, AffectTensor *x, AffectUnaryOp op);
void cuda_softmax (AffectBackend *be, AffectTensor *x);
void cuda_concat_channels (AffectBackend *be, const AffectTensor *a,
    const AffectTensor *b, AffectTensor *y);
void cuda_pad_channels (
    AffectBackend *be, const AffectTensor *x, AffectTensor *y);
void cuda_resize_bilinear (
    AffectBackend *be, const AffectTensor *x, AffectTensor *y);
void cuda_layer_norm (AffectBackend *be, AffectTensor *x,
    const AffectTensor *gamma, const AffectTensor *beta, double eps);
void cuda_softmax_masked (AffectBackend *be, AffectTensor *x, float scale,
    const AffectTensor *mask, int causal_offset);
void cuda_gather_rows (AffectBackend *be, const AffectTensor *table,
    const gint32 *ids, gsize n_ids, AffectTensor *y);
void cuda_binary (AffectBackend *be, AffectTensor *a, const AffectTensor *b,
    AffectBinaryOp op);
void cuda_scale (AffectBackend *be, AffectTensor *x, float alpha, float beta);
void cuda_copy_rows (AffectBackend *be, const AffectTensor *src,
    gsize src_offset, int src_ld, gsize src_stride, AffectTensor *dst,
    gsize dst_offset, int dst_ld, gsize dst_stride, int rows, int cols,
    int batch);

G_END_DECLS

#endif /* __AFFECT_CUDA_PRIVATE_H__ */
