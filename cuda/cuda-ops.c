/* gst-affect — cuda/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The table entries that run own kernels (cuda-kernels.h), and the
 * convolutions. With cuDNN on the backend (cuda-dnn.c, AFFECT_CUDA_CUDNN),
 * regular and depthwise convolutions and the depthwise half of separable
 * ones go through cuDNN; the own kernels below serve without it, and for
 * a shape cuDNN cannot plan (the layer keeps its HWIO filter for that):
 *  - regular, 1×1 stride 1: one cuBLAS product of the NHWC input (a
 *    [pixels, cin] matrix) and the HWIO filter ([cin, cout]), then bias and
 *    activation;
 *  - regular with cin ≤ 4 (the RGB first layers): the direct kernel;
 *  - other regular ones: im2col (K ordered ky, kx, ci like the filter) in
 *    blocks of pixels into the scratch, one product per block;
 *  - depthwise: the depthwise kernel with bias and activation;
 *  - separable: depthwise into the scratch, then the pointwise product.
 * The generic code has checked every shape (affect-backend.h).
 *
 * UNVERIFIED on a GPU (docs/cuda.md).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "cuda-private.h"

/* im2col blocks: at most this many floats of scratch. */
#define IM2COL_MAX_FLOATS ((gsize)16 * 1024 * 1024)

typedef struct {
  float *filter;    /* [kh, kw, cin, cout] or pointwise [cin, cout] */
  float *dw_filter; /* [kh, kw, cin] */
  float *bias;      /* [cout] */
  /* cuDNN: the whole layer (regular, depthwise) or its depthwise half
   * (separable); NULL without cuDNN */
  CudaDnnConv *dnn;
} CudaConv;

static int
act_code (AffectActivation act)
{
  switch (act) {
    case AFFECT_ACT_RELU:
      return CK_ACT_RELU;
    case AFFECT_ACT_RELU6:
      return CK_ACT_RELU6;
    case AFFECT_ACT_LEAKY:
      return CK_ACT_LEAKY;
    default:
      return CK_ACT_NONE;
  }
}

static cudaStream_t
stream_of (AffectBackend *be)
{
  return ((CudaBackend *)be->priv)->stream;
}

gboolean
cuda_conv_prepare (AffectBackend *be, AffectConv *conv)
{
  CudaConv *c = g_new0 (CudaConv, 1);
  gboolean ok = TRUE;

  cuda_begin (be);
  if (conv->kind == AFFECT_CONV_REGULAR)
    ok = (c->filter = cuda_weights_upload (be, conv->filter,
              (gsize)conv->kh * conv->kw * conv->cin * conv->cout))
         != NULL;
  else {
    ok = (c->dw_filter = cuda_weights_upload (
              be, conv->dw_filter, (gsize)conv->kh * conv->kw * conv->cin))
         != NULL;
    if (ok && conv->kind == AFFECT_CONV_SEPARABLE)
      ok = (c->filter = cuda_weights_upload (
                be, conv->filter, (gsize)conv->cin * conv->cout))
           != NULL;
  }
  if (ok)
    ok = (c->bias = cuda_weights_upload (be, conv->bias, conv->cout)) != NULL;
  if (ok && cuda_dnn_enabled (be)) {
    if (conv->kind == AFFECT_CONV_REGULAR)
      c->dnn
          = cuda_dnn_conv_new (be, conv->filter, conv->kh, conv->kw, conv->cin,
              conv->cout, 1, conv->stride, c->bias, act_code (conv->act));
    else if (conv->kind == AFFECT_CONV_DEPTHWISE)
      c->dnn = cuda_dnn_conv_new (be, conv->dw_filter, conv->kh, conv->kw,
          conv->cin, conv->cin, conv->cin, conv->stride, c->bias,
          act_code (conv->act));
    else
      c->dnn = cuda_dnn_conv_new (be, conv->dw_filter, conv->kh, conv->kw,
          conv->cin, conv->cin, conv->cin, conv->stride, NULL, CK_ACT_NONE);
    ok = c->dnn != NULL || !((CudaBackend *)be->priv)->dnn_required;
  }
  cuda_end (be);
  if (!ok) {
    cuda_dnn_conv_free (c->dnn);
    cuda_weights_free (c->filter);
    cuda_weights_free (c->dw_filter);
    cuda_weights_free (c->bias);
    g_free (c);
    return FALSE;
  }
  conv->priv = c;
  return TRUE;
}

void
cuda_conv_free (AffectBackend *be, AffectConv *conv)
{
  CudaConv *c = conv->priv;

  if (c == NULL)
    return;
  cuda_begin (be);
  cuda_dnn_conv_free (c->dnn);
  cuda_weights_free (c->filter);
  cuda_weights_free (c->dw_filter);
  cuda_weights_free (c->bias);
  cuda_end (be);
  g_free (c);
  conv->priv = NULL;
}

static void
conv_regular (AffectBackend *be, AffectConv *conv, CudaConv *c,
    const AffectTensor *x, AffectTensor *y, int pt, int pl)
{
  cudaStream_t s = stream_of (be);
  const gsize pixels = (gsize)y->n * y->h * y->w;
  const int K = conv->kh * conv->kw * conv->cin;
  const int act = act_code (conv->act);
  gsize p0, block;
  float *col;

  if (conv->kh == 1 && conv->kw == 1 && conv->stride == 1 && pt == 0
      && pl == 0) {
    if (cuda_gemm (be, FALSE, FALSE, (int)pixels, conv->cout, conv->cin, 1.0f,
            x->data, conv->cin, 0, c->filter, conv->cout, 0, 0.0f, y->data,
            conv->cout, 0, 1))
      cuda_check (be,
          ck_bias_act (s, y->data, c->bias, pixels, conv->cout, act),
          "conv 1x1 (bias, activation)");
    return;
  }
  if (conv->cin <= 4) {
    cuda_check (be,
        ck_conv_direct (s, x->data, c->filter, c->bias, y->data, x->n, x->h,
            x->w, conv->cin, y->h, y->w, conv->cout, conv->kh, conv->kw,
            conv->stride, pt, pl, act),
        "conv (direct)");
    return;
  }
  block = MAX ((gsize)1, IM2COL_MAX_FLOATS / (gsize)K);
  block = MIN (block, pixels);
  col = cuda_scratch (be, block * K * sizeof (float));
  if (col == NULL)
    return;
  for (p0 = 0; p0 < pixels; p0 += block) {
    const gsize np = MIN (block, pixels - p0);

    if (!cuda_check (be,
            ck_im2col (s, x->data, col, p0, np, x->h, x->w, conv->cin, y->h,
                y->w, conv->kh, conv->kw, conv->stride, pt, pl),
            "conv (im2col)")
        || !cuda_gemm (be, FALSE, FALSE, (int)np, conv->cout, K, 1.0f, col, K,
            0, c->filter, conv->cout, 0, 0.0f, y->data + p0 * conv->cout,
            conv->cout, 0, 1))
      return;
  }
  cuda_check (be, ck_bias_act (s, y->data, c->bias, pixels, conv->cout, act),
      "conv (bias, activation)");
}

/* The depthwise part of a depthwise or separable layer into @y (bias and
 * activation as @dnn or the arguments say); FALSE on an error. */
static gboolean
conv_depthwise (AffectBackend *be, AffectConv *conv, CudaConv *c,
    const AffectTensor *x, float *y, int oh, int ow, int pt, int pl,
    const float *bias, int act, const gchar *what)
{
  switch (cuda_dnn_conv_forward (
      be, c->dnn, x->data, x->n, x->h, x->w, y, oh, ow, pt, pl)) {
    case CUDA_DNN_DONE:
      return TRUE;
    case CUDA_DNN_FAILED:
      return FALSE;
    case CUDA_DNN_FALLBACK:
      break;
  }
  return cuda_check (be,
      ck_conv_depthwise (stream_of (be), x->data, c->dw_filter, bias, y, x->n,
          x->h, x->w, conv->cin, oh, ow, conv->kh, conv->kw, conv->stride, pt,
          pl, act),
      what);
}

void
cuda_conv_forward (AffectBackend *be, AffectConv *conv, const AffectTensor *x,
    AffectTensor *y, int pad_top, int pad_left)
{
  CudaConv *c = conv->priv;
  cudaStream_t s = stream_of (be);
  const gsize pixels = (gsize)y->n * y->h * y->w;
  float *dw;

  cuda_begin (be);
  switch (conv->kind) {
    case AFFECT_CONV_REGULAR:
      if (cuda_dnn_conv_forward (be, c->dnn, x->data, x->n, x->h, x->w, y->data,
              y->h, y->w, pad_top, pad_left)
          == CUDA_DNN_FALLBACK)
        conv_regular (be, conv, c, x, y, pad_top, pad_left);
      break;
    case AFFECT_CONV_DEPTHWISE:
      conv_depthwise (be, conv, c, x, y->data, y->h, y->w, pad_top, pad_left,
          c->bias, act_code (conv->act), "depthwise conv");
      break;
    case AFFECT_CONV_SEPARABLE:
      dw = cuda_scratch (be, pixels * conv->cin * sizeof (float));
      if (dw == NULL)
        break;
      if (conv_depthwise (be, conv, c, x, dw, y->h, y->w, pad_top, pad_left,
              NULL, CK_ACT_NONE, "separable conv (depthwise)")
          && cuda_gemm (be, FALSE, FALSE, (int)pixels, conv->cout, conv->cin,
              1.0f, dw, conv->cin, 0, c->filter, conv->cout, 0, 0.0f, y->data,
              conv->cout, 0, 1))
        cuda_check (be,
            ck_bias_act (
                s, y->data, c->bias, pixels, conv->cout, act_code (conv->act)),
            "separable conv (bias, activation)");
      break;
  }
  cuda_end (be);
}

void
cuda_pad (AffectBackend *be, const AffectTensor *x, AffectTensor *y, int top,
    int left)
{
  cuda_begin (be);
  cuda_check (be,
      ck_pad (stream_of (be), x->data, y->data, x->n, x->h, x->w, x->c, y->h,
          y->w, top, left),
      "pad");
  cuda_end (be);
}

void
cuda_pool (AffectBackend *be, AffectPoolKind kind, const AffectTensor *x,
    AffectTensor *y, int k, int stride, int pad_top, int pad_left)
{
  cuda_begin (be);
  cuda_check (be,
      ck_pool (stream_of (be), kind == AFFECT_POOL_MAX ? 0 : 1, x->data,
          y->data, x->n, x->h, x->w, x->c, y->h, y->w, k, stride, pad_top,
          pad_left),
      kind == AFFECT_POOL_MAX ? "max pool" : "avg pool");
  cuda_end (be);
}

void
cuda_global_mean (AffectBackend *be, const AffectTensor *x, AffectTensor *y)
{
  cuda_begin (be);
  cuda_check (be,
      ck_global_mean (
          stream_of (be), x->data, y->data, x->n, x->h * x->w, x->c),
      "global mean");
  cuda_end (be);
}

void
cuda_add (AffectBackend *be, const AffectTensor *a, const AffectTensor *b,
    AffectTensor *y)
{
  cuda_begin (be);
  cuda_check (be,
      ck_add (stream_of (be), a->data, b->data, y->data,
          affect_tensor_n_elements (y)),
      "add");
  cuda_end (be);
}

void
cuda_unary (AffectBackend *be, AffectTensor *x, AffectUnaryOp op)
{
  cuda_begin (be);
  cuda_check (be,
      ck_unary (stream_of (be), x->data, affect_tensor_n_elements (x), op),
      "activation");
  cuda_end (be);
}

void
cuda_softmax (AffectBackend *be, AffectTensor *x)
{
  cuda_begin (be);
  cuda_check (be,
      ck_softmax (
          stream_of (be), x->data, affect_tensor_n_elements (x) / x->c, x->c),
      "softmax");
  cuda_end (be);
}

void
cuda_concat_channels (AffectBackend *be, const AffectTensor *a,
    const AffectTensor *b, AffectTensor *y)
{
  cuda_begin (be);
  cuda_check (be,
      ck_concat_channels (stream_of (be), a->data, b->data, y->data,
          (gsize)y->n * y->h * y->w, a->c, b->c),
      "concat channels");
  cuda_end (be);
}

void
cuda_pad_channels (AffectBackend *be, const AffectTensor *x, AffectTensor *y)
{
  cuda_begin (be);
  cuda_check (be,
      ck_pad_channels (stream_of (be), x->data, y->data,
          (gsize)y->n * y->h * y->w, x->c, y->c),
      "pad channels");
  cuda_end (be);
}

void
cuda_resize_bilinear (AffectBackend *be, const AffectTensor *x, AffectTensor *y)
{
  cuda_begin (be);
  cuda_check (be,
      ck_resize_bilinear (
          stream_of (be), x->data, y->data, x->n, x->h, x->w, x->c, y->h, y->w),
      "bilinear resize");
  cuda_end (be);
}

void
cuda_layer_norm (AffectBackend *be, AffectTensor *x, const AffectTensor *gamma,
    const AffectTensor *beta, double eps)
{
  cuda_begin (be);
  cuda_check (be,
      ck_layer_norm (stream_of (be), x->data,
          affect_tensor_n_elements (x) / x->c, x->c, gamma ? gamma->data : NULL,
          beta ? beta->data : NULL, eps),
      "layer norm");
  cuda_end (be);
}

void
cuda_softmax_masked (AffectBackend *be, AffectTensor *x, float scale,
    const AffectTensor *mask, int causal_offset)
{
  cuda_begin (be);
  cuda_check (be,
      ck_softmax_masked (stream_of (be), x->data, (gsize)x->n * x->h * x->w,
          (gsize)x->h * x->w, x->w, x->c, scale, mask ? mask->data : NULL,
          mask ? mask->n : 0, causal_offset),
      "masked softmax");
  cuda_end (be);
}

void
cuda_gather_rows (AffectBackend *be, const AffectTensor *table,
    const gint32 *ids, gsize n_ids, AffectTensor *y)
{
  CudaBackend *cb = be->priv;
  int *dev_ids;

  G_STATIC_ASSERT (sizeof (gint32) == sizeof (int));
  cuda_begin (be);
  dev_ids = cuda_scratch (be, n_ids * sizeof (int));
  /* The ids are host memory that the caller may free on return: a
   * synchronous copy. */
  if (dev_ids != NULL
      && cuda_check (be,
          cudaMemcpyAsync (dev_ids, ids, n_ids * sizeof (int),
              cudaMemcpyHostToDevice, cb->stream),
          "gather rows (ids)")
      && cuda_check (be, cudaStreamSynchronize (cb->stream),
          "gather rows (ids, synchronise)"))
    cuda_check (be,
        ck_gather_rows (
            cb->stream, table->data, dev_ids, n_ids, table->c, y->data),
        "gather rows");
  cuda_end (be);
}

void
cuda_binary (AffectBackend *be, AffectTensor *a, const AffectTensor *b,
    AffectBinaryOp op)
{
  cuda_begin (be);
  cuda_check (be,
      ck_binary (stream_of (be), a->data, b->data, affect_tensor_n_elements (a),
          affect_tensor_n_elements (b), op),
      "binary");
  cuda_end (be);
}

void
cuda_scale (AffectBackend *be, AffectTensor *x, float alpha, float beta)
{
  cuda_begin (be);
  cuda_check (be,
      ck_scale (
          stream_of (be), x->data, affect_tensor_n_elements (x), alpha, beta),
      "scale");
  cuda_end (be);
}

void
cuda_copy_rows (AffectBackend *be, const AffectTensor *src, gsize src_offset,
    int src_ld, gsize src_stride, AffectTensor *dst, gsize dst_offset,
    int dst_ld, gsize dst_stride, int rows, int cols, int batch)
{
  cuda_begin (be);
  cuda_check (be,
      ck_copy_rows (stream_of (be), src->data + src_offset, src_ld, src_stride,
          dst->data + dst_offset, dst_ld, dst_stride, rows, cols, batch),
      "copy rows");
  cuda_end (be);
}
