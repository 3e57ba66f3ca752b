/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The backend interface (internal to models/ and cuda/).
 *
 * A backend is a reference-counted AffectBackend holding a pointer to a
 * constant AffectBackendOps function table and its private state. The
 * public functions of affect-tensor.h validate their arguments, compute the
 * output shape and padding, allocate the output tensor on the input's
 * backend and then call exactly one entry of this table. A backend therefore
 * never has to check shapes: every pointer it receives is valid, every
 * tensor belongs to it and every size has been checked to be consistent.
 *
 * Layers with weights (AffectConv, AffectLinear) keep host copies of their
 * parameters in the canonical TensorFlow layout (see the structs below).
 * Batch-norm and per-channel affines are folded into those host copies by
 * the generic code; the backend's *_prepare hook is called once, lazily,
 * before the first forward and may repack the folded weights into whatever
 * layout it runs fastest with (storing the result in the layer's `priv`).
 *
 * To add a backend: write a constant AffectBackendOps with every entry set
 * (entries for ops it does not support may be NULL if supports_op() says
 * FALSE for them), a constructor that calls affect_backend_new_internal(),
 * and hook the constructor into affect_backend_new() (affect-backend.c).
 * See docs/inference-core.md.
 */

#ifndef __AFFECT_BACKEND_H__
#define __AFFECT_BACKEND_H__

#include "affect-tensor.h"

G_BEGIN_DECLS

/* One value per op family, for supports_op(). */
typedef enum {
  AFFECT_OP_CONV, /* regular k×k convolution */
  AFFECT_OP_CONV_DEPTHWISE,
  AFFECT_OP_CONV_SEPARABLE,
  AFFECT_OP_LINEAR,
  AFFECT_OP_PAD,
  AFFECT_OP_MAX_POOL,
  AFFECT_OP_AVG_POOL,
  AFFECT_OP_GLOBAL_MEAN,
  AFFECT_OP_ADD,
  AFFECT_OP_ACTIVATE, /* relu, relu6, leaky */
  AFFECT_OP_SIGMOID,
  AFFECT_OP_TANH,
  AFFECT_OP_SOFTMAX,
  AFFECT_OP_CONCAT_CHANNELS,
  AFFECT_OP_PAD_CHANNELS,
  AFFECT_OP_RESIZE_BILINEAR,
  AFFECT_OP_LAST
} AffectOp;

typedef enum {
  AFFECT_CONV_REGULAR,
  AFFECT_CONV_DEPTHWISE,
  AFFECT_CONV_SEPARABLE
} AffectConvKind;

typedef enum {
  AFFECT_UNARY_RELU,
  AFFECT_UNARY_RELU6,
  AFFECT_UNARY_LEAKY,
  AFFECT_UNARY_SIGMOID,
  AFFECT_UNARY_TANH
} AffectUnaryOp;

typedef enum { AFFECT_POOL_MAX, AFFECT_POOL_AVG } AffectPoolKind;

/* Host copies of a convolution's parameters (all float32, row-major):
 *  REGULAR:   filter [kh, kw, cin, cout], dw_filter NULL;
 *  DEPTHWISE: dw_filter [kh, kw, cin] (cout == cin), filter NULL;
 *  SEPARABLE: dw_filter [kh, kw, cin] and filter [cin, cout] (the 1×1
 *             pointwise filter);
 * bias [cout] is always present (zeros when the model has none). The
 * activation is applied after bias. */
struct _AffectConv {
  AffectBackend *backend; /* a reference */
  AffectConvKind kind;
  int kh, kw, cin, cout, stride;
  AffectPadding padding;
  AffectActivation act;
  float *filter;
  float *dw_filter;
  float *bias;
  gboolean prepared; /* set by the generic code after prepare */
  gpointer priv;     /* backend data, released by conv_free */
};

/* weight is [in, out] (transposed on creation if needed), bias [out]
 * (zeros when absent). */
struct _AffectLinear {
  AffectBackend *backend; /* a reference */
  int in, out;
  float *weight;
  float *bias;
  gboolean prepared;
  gpointer priv;
};

/* The function table. Output tensors passed in are already allocated with
 * the right shape on this backend. "Row" below means one (n, y) line of an
 * NHWC tensor. Unless stated otherwise the entries must be safe to call from
 * several threads on the same backend (a backend may serialise them). */
typedef struct {
  /* Short name, e.g. "cpu". */
  const gchar *name;

  /* TRUE when tensor data are plain host memory (affect_tensor_host_data()
   * returns them), FALSE for device memory. */
  gboolean host_memory;

  /* Whether the backend implements @op. The generic code refuses ops a
   * backend does not support (critical + NULL). */
  gboolean (*supports_op) (AffectBackend *be, AffectOp op);

  /* Release the backend's private state (called once, from the last unref). */
  void (*destroy) (AffectBackend *be);

  /* The thread count changed (be->n_threads already holds the new value,
   * 0 resolved to the number of cores). May be NULL. */
  void (*set_n_threads) (AffectBackend *be, int n_threads);

  /* Memory: @n_bytes > 0, returns NULL on failure (no abort). The returned
   * pointer is stored in AffectTensor.data. */
  gpointer (*alloc) (AffectBackend *be, gsize n_bytes);
  void (*free) (AffectBackend *be, gpointer data);
  /* Copy @n floats host -> tensor and tensor -> host. */
  void (*upload) (
      AffectBackend *be, AffectTensor *dst, const float *src, gsize n);
  void (*download) (
      AffectBackend *be, const AffectTensor *src, float *dst, gsize n);

  /* Convolutions (all three kinds). prepare: repack conv->filter,
   * conv->dw_filter and conv->bias (already folded) into conv->priv;
   * returns FALSE on allocation failure. forward: y = act(conv(x) + bias)
   * with TF padding (@pad_top, @pad_left are the "before" pads already
   * computed; the "after" pads follow from x and y's sizes). conv_free
   * releases conv->priv (may be called when prepare never ran). */
  gboolean (*conv_prepare) (AffectBackend *be, AffectConv *conv);
  void (*conv_forward) (AffectBackend *be, AffectConv *conv,
      const AffectTensor *x, AffectTensor *y, int pad_top, int pad_left);
  void (*conv_free) (AffectBackend *be, AffectConv *conv);

  /* Fully connected on @rows rows of lin->in floats: y = x W + b. */
  gboolean (*linear_prepare) (AffectBackend *be, AffectLinear *lin);
  void (*linear_forward) (AffectBackend *be, AffectLinear *lin,
      const AffectTensor *x, AffectTensor *y, gsize rows);
  void (*linear_free) (AffectBackend *be, AffectLinear *lin);

  /* Zero padding: y[n, y + top, x + left, c] = x[n, y, x, c], zeros
   * elsewhere. */
  void (*pad) (AffectBackend *be, const AffectTensor *x, AffectTensor *y,
      int top, int left);

  /* k×k pooling with stride; pad_top/pad_left are the before pads. Max
   * ignores padded positions, avg divides by the in-bounds count. */
  void (*pool) (AffectBackend *be, AffectPoolKind kind, const AffectTensor *x,
      AffectTensor *y, int k, int stride, int pad_top, int pad_left);

  /* y [n,1,1,c] = mean of x over h and w. */
  void (*global_mean) (
      AffectBackend *be, const AffectTensor *x, AffectTensor *y);

  /* y = a + b elementwise; @y may be @a (in place). */
  void (*add) (AffectBackend *be, const AffectTensor *a, const AffectTensor *b,
      AffectTensor *y);

  /* In-place unary op on every element. */
  void (*unary) (AffectBackend *be, AffectTensor *x, AffectUnaryOp op);

  /* In-place softmax over the last dimension (c). */
  void (*softmax) (AffectBackend *be, AffectTensor *x);

  /* y = [a | b] along channels. */
  void (*concat_channels) (AffectBackend *be, const AffectTensor *a,
      const AffectTensor *b, AffectTensor *y);

  /* y = x zero-extended to y->c channels. */
  void (*pad_channels) (
      AffectBackend *be, const AffectTensor *x, AffectTensor *y);

  /* TF legacy bilinear resize (align_corners = half_pixel_centers = false)
   * to y's size, in double, stored float. */
  void (*resize_bilinear) (
      AffectBackend *be, const AffectTensor *x, AffectTensor *y);
} AffectBackendOps;

struct _AffectBackend {
  const AffectBackendOps *ops;
  gint ref_count;
  int n_threads; /* resolved: >= 1 */
  gpointer priv; /* backend private state */
};

/* For backend constructors: a backend with ref count 1. @n_threads 0 means
 * all cores. */
AffectBackend *affect_backend_new_internal (
    const AffectBackendOps *ops, int n_threads, gpointer priv);
int affect_backend_resolve_n_threads (int n_threads);
gboolean affect_backend_supports_op (AffectBackend *be, AffectOp op);

#ifdef AFFECT_HAVE_CUDA
/* Implemented in cuda/. */
AffectBackend *affect_backend_cuda_new (int n_threads, GError **error);
#endif

G_END_DECLS

#endif /* __AFFECT_BACKEND_H__ */
