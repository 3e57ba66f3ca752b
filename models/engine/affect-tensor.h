/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The inference core: tensors, backends and the ops our networks need.
 *
 * Everything here is GStreamer-free (GLib only). A tensor is a dense float32
 * array of four dimensions [n, h, w, c], row-major (c varies fastest), owned
 * by one backend. The CPU backend keeps data in host memory; other backends
 * (cuda/) keep it on their device and copy on affect_tensor_upload() /
 * affect_tensor_download().
 *
 * Shapes of lower rank put their dimensions at the right and fill the left
 * with 1, except that a batch stays in n:
 *  - images:            [n, h, w, c] (NHWC, the face networks);
 *  - a matrix R × C:    [1, 1, R, C] (or [R, 1, 1, C]: R rows of C);
 *  - a batch of
 *    sequences B×S×H:   [B, 1, S, H] (tokens, frames, GRU steps);
 *  - attention heads:   [B, heads, S, d] (a batch of B·heads matrices S×d);
 *  - a vector of C:     [1, 1, 1, C].
 * Ops that work on "rows" treat every tensor as n·h·w rows of c floats; ops
 * on "matrices" (matmul, softmax with masks, append_rows) as n·h matrices of
 * w rows and c columns.
 *
 * Views: affect_tensor_view() makes a tensor that points into another one's
 * data (a contiguous block of it, with its own shape) and owns nothing; it
 * must be freed before its parent and is valid only while the parent is.
 * Strided access (a column block of a matrix, every head of a Q|K|V row) is
 * described to affect_matmul_strided() with AffectMatView instead.
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
  AFFECT_BACKEND_ERROR_UNKNOWN,       /* no backend of that name */
  AFFECT_BACKEND_ERROR_FAILED /* an op failed at run time (device memory, a
                                 kernel, a copy): affect_backend_take_error */
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
/* The device the backend runs on: the index given to
 * affect_backend_new_for_device() (0 for the cpu backend). */
int affect_backend_get_device_id (AffectBackend *backend);
/* Ops return nothing; a backend that fails at run time (out of device
 * memory, a kernel or copy error: GPU backends; the CPU backend does not
 * fail once its tensors exist) records the first failure, and its results
 * from then on are undefined. Returns TRUE when nothing failed since the
 * last call, else FALSE with AFFECT_BACKEND_ERROR_FAILED whose message names
 * the device and the op, and clears the record. A caller checks it after a
 * network's forward, before using the outputs. */
gboolean affect_backend_take_error (AffectBackend *backend, GError **error);

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

/* Every dimension must be >= 1: a bad shape or a size that overflows gives
 * a critical and NULL. An allocation failure gives NULL without a critical:
 * it is recorded on the backend (affect_backend_set_error(), naming the
 * device and the size), every op given that NULL returns NULL (or nothing)
 * quietly, and the caller takes the failure with
 * affect_backend_take_error() after the forward (docs/inference-core.md,
 * "Run-time failures"). affect_tensor_new() leaves the contents undefined. */

/* TRUE when some backend of the process holds a failure not yet taken.
 * The ops use it to tell a tensor that is NULL because its allocation
 * failed on a backend (the failure is recorded; the op passes it along
 * quietly by returning NULL) from a NULL passed by mistake (a critical).
 * See docs/inference-core.md, "Run-time failures". */
gboolean affect_backend_failure_pending (void);

/* In a public op or tensor function: when @x is NULL and a backend holds a
 * failure, return @val without a critical (the failure is passed along). */
#define AFFECT_PASS_FAILURE(x, val)                       \
  G_STMT_START                                            \
  {                                                       \
    if ((x) == NULL && affect_backend_failure_pending ()) \
      return val;                                         \
  }                                                       \
  G_STMT_END

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

/* A new tensor of that shape filled with @n_elements floats from @src (a
 * convenience for weights: new + upload). */
AffectTensor *affect_tensor_new_from_data (
    AffectBackend *backend, int n, int h, int w, int c, const float *src);
/* A view of @n·@h·@w·@c elements of @parent starting at element @offset
 * (row-major, contiguous). Owns nothing: free it before @parent. NULL (and
 * a critical) when the block does not lie inside @parent. */
AffectTensor *affect_tensor_view (
    AffectTensor *parent, gsize offset, int n, int h, int w, int c);
/* The same data with another shape of the same element count (a view). */
AffectTensor *affect_tensor_reshape (
    AffectTensor *parent, int n, int h, int w, int c);
/* Copies @src into @dst (same element count, same backend, not
 * overlapping unless they are the same memory). */
void affect_tensor_copy (AffectTensor *dst, const AffectTensor *src);

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

/* ---- sequence and transformer ops -------------------------------------- *
 *
 * These serve BERT, the fusion network and Whisper's encoder/decoder. Every
 * one dispatches to exactly one entry of the backend table, so a backend
 * that implements the table runs every network. Unless stated otherwise
 * results are float32 with float64 accumulation allowed; the op test
 * (tests/models/test-backend-ops.c) holds each backend to a normalised
 * error threshold per op against a float64 reference. */

/* A strided batch of matrices inside a tensor: matrix (i, j) of the batch
 * (i < batch[0], j < batch[1]) has element (r, c) at
 *   t->data[offset + i * stride[0] + j * stride[1] + r * ld + c].
 * rows × cols is the stored shape (before any transpose). Every addressed
 * element must lie inside t (checked). */
typedef struct {
  AffectTensor *t;
  gsize offset;
  int rows, cols, ld;
  gsize stride[2];
} AffectMatView;

/* The view of a tensor's n·h matrices of w × c (batch[0] = n with stride
 * h·w·c, batch[1] = h with stride w·c). */
AffectMatView affect_mat_view (const AffectTensor *t);

/* y = alpha · op(a) · op(b) for each of the n·h matrices of a, where op()
 * transposes when asked. a is [n, h, M, K] (or [n, h, K, M] with
 * @trans_a); b is [n, h, K, N] (or [n, h, N, K] with @trans_b), or
 * [1, 1, K, N] shared by every matrix. Returns y [n, h, M, N]. */
AffectTensor *affect_matmul (const AffectTensor *a, const AffectTensor *b,
    gboolean trans_a, gboolean trans_b, float alpha);

/* The general form: for i < batch0, j < batch1:
 *   y(i,j) = alpha · op(a(i,j)) · op(b(i,j)) + beta · y(i,j)
 * with op(a) M × K, op(b) K × N and y(i,j) M × N (y->rows = M, y->cols = N).
 * A stride of 0 repeats a matrix (broadcast) of a or b. beta 0 ignores y's
 * previous contents (NaN included). y must not overlap a or b (compared
 * conservatively, as the address span from a view's first to its last
 * element), and y's matrices must be disjoint: stacked, or side by side
 * within its rows (the heads of a [B, S, heads·d] tensor). All three
 * tensors on one backend. FALSE (and a critical) when the shapes, bounds or
 * overlaps disagree. */
gboolean affect_matmul_strided (const AffectMatView *a, gboolean trans_a,
    const AffectMatView *b, gboolean trans_b, AffectMatView *y, int batch0,
    int batch1, float alpha, float beta);

/* Layer normalisation over the last dimension, in place: each row of c
 * floats becomes (x - mean) / sqrt(var + eps) · gamma + beta with the
 * biased variance (as PyTorch); statistics accumulated in double. @gamma
 * and @beta are [1, 1, 1, c] tensors on the same backend (either may be
 * NULL: 1 and 0). */
void affect_layer_norm_inplace (AffectTensor *x, const AffectTensor *gamma,
    const AffectTensor *beta, double eps);

/* GELU, the erf form (BERT, Whisper): 0.5 x (1 + erf(x / sqrt 2)), in
 * place. Backends may use an approximation of erf with absolute error at
 * most 1e-6. */
void affect_gelu_inplace (AffectTensor *x);

/* Scaled, masked softmax over the last dimension, in place, for each of the
 * n·h matrices of w rows × c columns:
 *   s[r, j] = scale · x[r, j] + mask[n][j]        (mask: additive)
 *   s[r, j] = -inf  where causal_offset >= 0 and j > r + causal_offset
 *   x[r, :] = softmax (s[r, :])
 * @mask is NULL or [n or 1, 1, 1, c] (one row per image n, or shared);
 * values may be -INFINITY or -FLT_MAX. A row whose every entry is -inf
 * becomes all zeros. @causal_offset < 0: no causal mask (a decoder step with
 * a KV cache of L rows and q new rows uses L - q). */
void affect_softmax_masked_inplace (
    AffectTensor *x, float scale, const AffectTensor *mask, int causal_offset);

/* Gathers rows of @table [1, 1, V, C] (an embedding): returns
 * [1, 1, n_ids, C] with row i = table[ids[i]]. @ids are host memory; every
 * id must be in [0, V) (checked: critical and NULL). */
AffectTensor *affect_gather_rows (
    const AffectTensor *table, const gint32 *ids, gsize n_ids);

typedef enum {
  AFFECT_BINARY_ADD,
  AFFECT_BINARY_SUB,
  AFFECT_BINARY_MUL
} AffectBinaryOp;

/* a = a op b in place, b broadcast by repetition: b's element count must
 * divide a's, and element i of a is combined with element i mod |b| of b.
 * So b [1, 1, 1, c] is added to every row, b [1, 1, S, H] to every
 * sequence of a [B, 1, S, H], and b of a's shape is elementwise. */
void affect_binary_inplace (
    AffectTensor *a, const AffectTensor *b, AffectBinaryOp op);

/* x = alpha · x + beta, in place. */
void affect_scale_inplace (AffectTensor *x, float alpha, float beta);

/* Appends @x [n, h, r, c] to the cache @cache [n, h, capacity, c] at rows
 * [row, row + r) of each of its n·h matrices (a KV cache: keys or values of
 * new tokens). FALSE (and a critical) when row + r > capacity or the other
 * dimensions differ. The rows before @row are left as they are; a view of
 * the first L rows for attention is an AffectMatView with rows = L. */
gboolean affect_append_rows (
    AffectTensor *cache, const AffectTensor *x, int row);

/* ---- GRU --------------------------------------------------------------- */

typedef struct _AffectGru AffectGru;

/* One GRU layer in PyTorch's layout and gate order (r, z, n):
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr)
 *   z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
 *   h' = (1 - z) ⊙ n + z ⊙ h
 * @w_ih [3H, D], @w_hh [3H, H], @b_ih and @b_hh [3H] (either bias may be
 * NULL: zeros). The data are copied. */
AffectGru *affect_gru_new (AffectBackend *backend, int input_size,
    int hidden_size, const float *w_ih, const float *w_hh, const float *b_ih,
    const float *b_hh);
/* Runs the GRU over x [B, 1, T, D] from the initial state @h0 [B, 1, 1, H]
 * (NULL: zeros); returns every step's output [B, 1, T, H] (the last row of
 * each sequence is the final state). */
AffectTensor *affect_gru_forward (
    AffectGru *gru, const AffectTensor *x, const AffectTensor *h0);
int affect_gru_get_hidden_size (AffectGru *gru);
void affect_gru_free (AffectGru *gru);

/* ---- 1-D convolution ------------------------------------------------------ */

typedef struct _AffectConv1d AffectConv1d;

/* A 1-D convolution over time as PyTorch's Conv1d (Whisper's front end):
 * @weight [cout, cin, k] (PyTorch layout), @bias [cout] or NULL, zero
 * padding of @pad frames on both sides, @stride 1 or more. Built from the
 * table's convolution and pad entries (a 1 × k convolution). */
AffectConv1d *affect_conv1d_new (AffectBackend *backend, int k, int cin,
    int cout, int stride, int pad, const float *weight, const float *bias);
/* x [B, 1, T, cin] -> [B, 1, floor((T + 2 pad - k) / stride) + 1, cout]. */
AffectTensor *affect_conv1d_forward (AffectConv1d *conv, const AffectTensor *x);
void affect_conv1d_free (AffectConv1d *conv);

G_END_DECLS

#endif /* __AFFECT_TENSOR_H__ */
