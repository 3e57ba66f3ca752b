/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The inference core: tensors, backends and the ops our networks need.
 *
 * Everything here is GStreamer-free (GLib only). A tensor is a dense float32
 * array in NHWC order (batch, height, width, channels; a matrix of R rows and
 * C columns is [1, 1, R, C] or [R, 1, 1, C]), owned by one backend. The CPU
 * backend keeps data in host memory; other backends (cuda/) keep it on their
 * device and copy on affect_tensor_upload()/affect_tensor_download().
 *
 * Ops are plain functions that check their arguments (g_return_val_if_fail
 * with a message that says which shapes disagreed), then dispatch through the
 * tensor's backend function table (see affect-backend.h). Layers whose
 * weights need preparation (convolutions, fully connected) are objects built
 * once at load time: the backend repacks the weights into the layout it runs
 * fastest with, and folds batch-norm and per-channel affines into the
 * filters and biases.
 *
 * Conventions, following TensorFlow (the face networks come from tfjs):
 *  - filters are given as [kh, kw, in, out] (HWIO), depthwise filters as
 *    [kh, kw, channels, 1], fully connected weights as [in, out];
 *  - SAME padding: out = ceil(in / stride), total pad =
 *    max((out - 1) * stride + k - in, 0), pad_before = floor(total / 2);
 *    VALID: out = floor((in - k) / stride) + 1;
 *  - max-pool ignores padded positions, avg-pool divides by the number of
 *    in-bounds elements.
 */

#ifndef __AFFECT_TENSOR_H__
#define __AFFECT_TENSOR_H__

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct _AffectBackend AffectBackend;

typedef struct {
  int n, h, w, c;         /* NHWC shape */
  float *data;            /* host pointer (CPU backend) or device pointer */
  AffectBackend *backend; /* owning backend */
  gboolean owns_data;
} AffectTensor;

/* ---- backends ---------------------------------------------------------- */

#define AFFECT_BACKEND_ERROR (affect_backend_error_quark ())

typedef enum {
  AFFECT_BACKEND_ERROR_NOT_AVAILABLE, /* e.g. "cuda" in a CPU-only build */
  AFFECT_BACKEND_ERROR_UNKNOWN        /* no backend of that name */
} AffectBackendError;

GQuark affect_backend_error_quark (void);

/* The CPU backend with @n_threads worker threads (0 = all cores). The
 * returned backend is reference counted. */
AffectBackend *affect_backend_cpu_new (int n_threads);
/* A backend from the registry (see "the backend registry" below), on its
 * first device. @name NULL or "auto" gives the best available one: the
 * highest priority among those whose probe succeeds (a GPU module when it
 * is installed and finds a device, else "cpu"). A registered name gives
 * that backend, or AFFECT_BACKEND_ERROR_NOT_AVAILABLE saying why it cannot
 * be used here; "cuda" without its module, or a module that failed to load,
 * also gives NOT_AVAILABLE; any other name gives
 * AFFECT_BACKEND_ERROR_UNKNOWN listing the known names. Ops on one backend
 * are serialised; on the CPU backend results are bit-identical for any
 * batch size and thread count (see docs/inference-core.md). */
AffectBackend *affect_backend_new (
    const gchar *name, int n_threads, GError **error);
AffectBackend *affect_backend_ref (AffectBackend *backend);
void affect_backend_unref (AffectBackend *backend);
const gchar *affect_backend_get_name (AffectBackend *backend);
int affect_backend_get_n_threads (AffectBackend *backend);
void affect_backend_set_n_threads (AffectBackend *backend, int n_threads);

/* ---- the backend registry ---------------------------------------------- */

/* Backends register by name (affect-backend.h); "cpu" is built in, others
 * come from loadable modules found in $AFFECT_BACKEND_PATH and the
 * installed backends folder at the first use (docs/inference-core.md,
 * "Backends and the registry"). Everything here is thread-safe. */

/* Like affect_backend_new(), on device @device_id (>= 0) of the backend;
 * "auto" takes the best available backend that has such a device. A device
 * the backend does not have gives AFFECT_BACKEND_ERROR_NOT_AVAILABLE. */
AffectBackend *affect_backend_new_for_device (
    const gchar *name, int device_id, int n_threads, GError **error);

typedef struct {
  gchar *name;
  gchar *description; /* may be NULL */
  int priority;
  gboolean available; /* its probe succeeded */
  gchar *reason;      /* why it is not available; NULL when it is */
  gchar **devices;    /* one line per device (index = device id) */
  gchar *module;      /* the module file it came from; NULL when built in */
} AffectBackendInfo;

/* Every registered backend, probed, highest priority first: a GPtrArray of
 * AffectBackendInfo (g_ptr_array_unref frees it all). */
GPtrArray *affect_backend_list (void);

typedef struct {
  gchar *path;
  gboolean loaded;
  gchar *reason; /* why it was skipped; NULL when loaded */
} AffectBackendModuleInfo;

/* Every module file the registry tried, in load order: a GPtrArray of
 * AffectBackendModuleInfo (g_ptr_array_unref frees it all). */
GPtrArray *affect_backend_list_modules (void);

/* The folders searched for modules, in order ($AFFECT_BACKEND_PATH, then
 * the installed folder), as the environment says now (the registry reads
 * it once, at its first use). g_strfreev. */
gchar **affect_backend_get_module_dirs (void);

/* ---- tensors ----------------------------------------------------------- */

/* Every dimension must be >= 1: a bad shape, a size that overflows or an
 * allocation failure gives a critical and NULL. affect_tensor_new() leaves
 * the contents undefined. */

AffectTensor *affect_tensor_new (
    AffectBackend *backend, int n, int h, int w, int c);
AffectTensor *affect_tensor_new_zeros (
    AffectBackend *backend, int n, int h, int w, int c);
void affect_tensor_free (AffectTensor *t);
gsize affect_tensor_n_elements (const AffectTensor *t);
/* Host <-> tensor copies of all n*h*w*c floats. */
void affect_tensor_upload (AffectTensor *t, const float *src);
void affect_tensor_download (const AffectTensor *t, float *dst);
/* Host pointer for CPU tensors (NULL on device backends). */
float *affect_tensor_host_data (AffectTensor *t);

/* ---- layers built at load time ----------------------------------------- */

typedef enum { AFFECT_PAD_VALID, AFFECT_PAD_SAME } AffectPadding;

typedef enum {
  AFFECT_ACT_NONE,
  AFFECT_ACT_RELU,
  AFFECT_ACT_RELU6,
  AFFECT_ACT_LEAKY /* slope 0.1, computed as relu(x - 0.1x) + 0.1x */
} AffectActivation;

typedef struct _AffectConv AffectConv;

/* Regular convolution. @filter is [kh, kw, cin, cout] HWIO, @bias is [cout]
 * or NULL. The data are copied. */
AffectConv *affect_conv_new (AffectBackend *backend, int kh, int kw, int cin,
    int cout, int stride, AffectPadding padding, const float *filter,
    const float *bias, AffectActivation act);

/* Depthwise convolution (multiplier 1). @filter is [kh, kw, c, 1]. */
AffectConv *affect_conv_new_depthwise (AffectBackend *backend, int kh, int kw,
    int c, int stride, AffectPadding padding, const float *filter,
    const float *bias, AffectActivation act);

/* Separable convolution: depthwise kh×kw (no bias, no activation) then a 1×1
 * convolution cin→cout with @bias and @act. */
AffectConv *affect_conv_new_separable (AffectBackend *backend, int kh, int kw,
    int cin, int cout, int stride, AffectPadding padding,
    const float *depthwise_filter, const float *pointwise_filter,
    const float *bias, AffectActivation act);

/* Before the activation, apply y = y * scale[c] + shift[c] (either may be
 * NULL). Folded into the weights; call before the first forward. */
void affect_conv_set_affine (
    AffectConv *conv, const float *scale, const float *shift);

/* Batch-norm before the activation: y = beta + (y - mean) * gamma /
 * sqrt(var + eps). Folded into the weights; call before the first forward. */
void affect_conv_set_batch_norm (AffectConv *conv, const float *mean,
    const float *variance, const float *gamma, const float *beta, float eps);

/* Runs the layer on x [n, h, w, cin]; returns a new tensor
 * [n, oh, ow, cout]. */
AffectTensor *affect_conv_forward (AffectConv *conv, const AffectTensor *x);
void affect_conv_get_output_size (
    AffectConv *conv, int h, int w, int *oh, int *ow);
void affect_conv_free (AffectConv *conv);

typedef struct _AffectLinear AffectLinear;

/* Fully connected: @weight is [in, out] (tfjs) — or, with @transposed,
 * [out, in] (PyTorch) — @bias is [out] or NULL. */
AffectLinear *affect_linear_new (AffectBackend *backend, int in, int out,
    const float *weight, gboolean transposed, const float *bias);
/* x is [n, 1, 1, in] or any tensor whose last dimension is @in (treated as
 * n*h*w rows); returns rows × out with the same leading shape. */
AffectTensor *affect_linear_forward (AffectLinear *lin, const AffectTensor *x);
void affect_linear_free (AffectLinear *lin);

/* ---- stateless ops (return new tensors unless named _inplace) ---------- */

AffectTensor *affect_pad (
    const AffectTensor *x, int top, int bottom, int left, int right);
AffectTensor *affect_max_pool (
    const AffectTensor *x, int k, int stride, AffectPadding padding);
AffectTensor *affect_avg_pool (
    const AffectTensor *x, int k, int stride, AffectPadding padding);
/* Mean over h and w: [n, 1, 1, c]. */
AffectTensor *affect_global_mean (const AffectTensor *x);
/* a + b, same shapes. */
AffectTensor *affect_add (const AffectTensor *a, const AffectTensor *b);
void affect_add_inplace (AffectTensor *a, const AffectTensor *b);
void affect_activate_inplace (AffectTensor *x, AffectActivation act);
void affect_softmax_inplace (AffectTensor *x); /* over the last dim */
void affect_sigmoid_inplace (AffectTensor *x);
void affect_tanh_inplace (AffectTensor *x);
/* Concatenate along channels: [n,h,w,ca] ++ [n,h,w,cb]. */
AffectTensor *affect_concat_channels (
    const AffectTensor *a, const AffectTensor *b);
/* Zero-extend channels to @c (c >= x->c). */
AffectTensor *affect_pad_channels (const AffectTensor *x, int c);
/* Bilinear resize with TensorFlow's legacy rule (align_corners = false,
 * half_pixel_centers = false), computed in double, stored float. */
AffectTensor *affect_resize_bilinear (const AffectTensor *x, int oh, int ow);

G_END_DECLS

#endif /* __AFFECT_TENSOR_H__ */
