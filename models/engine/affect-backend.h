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
 * and register it with a descriptor (the registry block at the end of this
 * file), built in or from a loadable module. See docs/inference-core.md,
 * "Backends and the registry".
 */

#ifndef __AFFECT_BACKEND_H__
#define __AFFECT_BACKEND_H__

#include <gmodule.h>

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
  /* sequence and transformer ops (BERT, fusion, Whisper) */
  AFFECT_OP_MATMUL,         /* matmul (strided, batched, transposes) */
  AFFECT_OP_LAYER_NORM,     /* layer_norm */
  AFFECT_OP_GELU,           /* unary with AFFECT_UNARY_GELU */
  AFFECT_OP_SOFTMAX_MASKED, /* softmax_masked */
  AFFECT_OP_GATHER_ROWS,    /* gather_rows */
  AFFECT_OP_BINARY,         /* binary (add/sub/mul with repetition) */
  AFFECT_OP_SCALE,          /* scale */
  AFFECT_OP_COPY_ROWS,      /* copy_rows (append_rows, tensor copy) */
  AFFECT_OP_GRU,            /* gru_prepare / gru_forward / gru_free */
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
  AFFECT_UNARY_TANH,
  AFFECT_UNARY_GELU /* erf form; supports_op (AFFECT_OP_GELU) */
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

/* A GRU layer (affect_gru_new()): host copies in PyTorch's layout, gate
 * order r, z, n: w_ih [3H, D], w_hh [3H, H], b_ih and b_hh [3H] (zeros when
 * the model has none). */
struct _AffectGru {
  AffectBackend *backend; /* a reference */
  int input_size, hidden_size;
  float *w_ih, *w_hh, *b_ih, *b_hh;
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

  /* ---- sequence and transformer ops (semantics: affect-tensor.h) ---- */

  /* For i < batch0, j < batch1: y(i,j) = alpha op(a(i,j)) op(b(i,j)) +
   * beta y(i,j), op(a) m × k, op(b) k × n, y(i,j) m × n; matrix (i, j) of a
   * view starts at offset + i stride[0] + j stride[1] and has rows ld
   * apart. Bounds are checked; y does not overlap a or b; beta 0 must
   * ignore y's contents. */
  void (*matmul) (AffectBackend *be, const AffectMatView *a, gboolean trans_a,
      const AffectMatView *b, gboolean trans_b, const AffectMatView *y, int m,
      int n, int k, int batch0, int batch1, float alpha, float beta);

  /* In place over rows of x->c floats; gamma/beta [c] or NULL (1, 0). */
  void (*layer_norm) (AffectBackend *be, AffectTensor *x,
      const AffectTensor *gamma, const AffectTensor *beta, double eps);

  /* In place; see affect_softmax_masked_inplace(). @mask NULL or
   * [x->n or 1, 1, 1, x->c]. */
  void (*softmax_masked) (AffectBackend *be, AffectTensor *x, float scale,
      const AffectTensor *mask, int causal_offset);

  /* y [n_ids, C] = rows @ids of table [V, C]; ids (host memory) checked to
   * be in [0, V). */
  void (*gather_rows) (AffectBackend *be, const AffectTensor *table,
      const gint32 *ids, gsize n_ids, AffectTensor *y);

  /* a[i] = a[i] op b[i mod |b|]; |b| divides |a|. */
  void (*binary) (AffectBackend *be, AffectTensor *a, const AffectTensor *b,
      AffectBinaryOp op);

  /* x = alpha x + beta. */
  void (*scale) (AffectBackend *be, AffectTensor *x, float alpha, float beta);

  /* For i < batch: rows × cols floats from src (offset src_offset +
   * i src_stride, rows src_ld apart) to dst likewise. Regions checked to
   * be inside the tensors; they do not overlap. */
  void (*copy_rows) (AffectBackend *be, const AffectTensor *src,
      gsize src_offset, int src_ld, gsize src_stride, AffectTensor *dst,
      gsize dst_offset, int dst_ld, gsize dst_stride, int rows, int cols,
      int batch);

  /* GRU layers (AffectGru above): prepare may repack gru->w_* into priv;
   * forward runs x [B, 1, T, D] from h0 [B, 1, 1, H] (NULL: zeros) into
   * y [B, 1, T, H]. */
  gboolean (*gru_prepare) (AffectBackend *be, AffectGru *gru);
  void (*gru_forward) (AffectBackend *be, AffectGru *gru, const AffectTensor *x,
      const AffectTensor *h0, AffectTensor *y);
  void (*gru_free) (AffectBackend *be, AffectGru *gru);
} AffectBackendOps;

struct _AffectBackend {
  const AffectBackendOps *ops;
  gint ref_count;
  int n_threads; /* resolved: >= 1 */
  gpointer priv; /* backend private state */
  int device_id; /* the registry's device index (0 when built directly) */
  /* The first failure since the last affect_backend_take_error()
   * (affect_backend_set_error()), under error_lock; NULL: none. */
  GMutex error_lock;
  gchar *error;
};

/* For backend constructors: a backend with ref count 1. @n_threads 0 means
 * all cores. */
AffectBackend *affect_backend_new_internal (
    const AffectBackendOps *ops, int n_threads, gpointer priv);
int affect_backend_resolve_n_threads (int n_threads);
gboolean affect_backend_supports_op (AffectBackend *be, AffectOp op);

/* Records a failure of the backend at run time (a device allocation, a
 * kernel launch, a copy): the table's entries return nothing, so a backend
 * that cannot do an op says so here and returns. The message should name
 * the device and the op, e.g. "cuda device 0 (NVIDIA H100): conv (im2col)
 * failed: out of memory". Only the first failure is kept until the caller
 * takes it with affect_backend_take_error() (later ones are logged at
 * debug level: they usually follow from the first). Thread-safe. */
void affect_backend_set_error (AffectBackend *be, const gchar *format, ...)
    G_GNUC_PRINTF (2, 3);

/* TRUE when @be holds a failure not yet taken. */
gboolean affect_backend_has_error (AffectBackend *be);

/* ---- the backend registry ---------------------------------------------- */

/* Backends are found by name in a process-wide registry (affect-registry.c)
 * that affect_backend_new() and affect_backend_new_for_device() use. The
 * CPU backend is registered built in; other backends (cuda/ next) live in
 * loadable modules.
 *
 * Modules: at the first use of the registry, every folder of
 * $AFFECT_BACKEND_PATH (colon-separated, in order; read then, once), then
 * the installed folder <libdir>/gst-affect/backends (AFFECT_BACKEND_DIR),
 * is scanned for files named libaffect-backend-<name>.so, in name order
 * (<name> should be the backend's name: when a module fails to load, asking
 * for that name reports why). Each is opened
 * with GModule (local symbols, immediate binding: an unresolved library or
 * symbol fails here, not later), its ABI version checked and its entry point
 * called. A module that cannot be loaded (a missing libcudart, not an ELF
 * file, the wrong ABI version, an init that fails) is skipped with one
 * g_debug line naming the file and the reason, and is listed with that
 * reason by affect_backend_list_modules(). The first registration of a name
 * wins: the built-in cpu, then the modules in search order.
 *
 * Writing a module (see tests/models/backend-test-module.c for a complete
 * one): a shared module named libaffect-backend-<name>.so that
 *  - includes this header and defines
 *      AFFECT_BACKEND_MODULE_EXPORT const guint
 *          affect_backend_module_abi_version = AFFECT_BACKEND_ABI_VERSION;
 *      AFFECT_BACKEND_MODULE_EXPORT gboolean
 *          affect_backend_module_init (GError **error);
 *    where init calls affect_backend_register() with a static descriptor
 *    (returns FALSE with @error when the module cannot work here);
 *  - does NOT link the engine (libaffectmodels is a static library): the
 *    module is loaded into a process that already contains it (the plugin
 *    or a tool) and its references to the engine — the functions of this
 *    header and of affect-tensor.h — are resolved against that copy when it
 *    is loaded. The engine makes this work: executables that use it are
 *    linked with export_dynamic (-Wl,--export-dynamic), the plugin exports
 *    the engine's symbols (default visibility) and, because GStreamer opens
 *    plugins with local symbols, the registry promotes the object holding
 *    it to the global scope (dlopen RTLD_NOLOAD | RTLD_GLOBAL) before
 *    opening modules. A process should hold one copy of the engine in its
 *    global scope; an executable that links the engine without exporting it
 *    simply skips modules (an "undefined symbol" line).
 *  - In meson: shared_module('affect-backend-<name>', ...,
 *    dependencies : affect_backend_module_dep, install_dir :
 *    affect_backends_dir).
 * Modules are never unloaded once their init has run. */

/* Any change to the layout of AffectTensor, AffectBackend, AffectConv,
 * AffectLinear, AffectBackendOps (a new entry, even at the end: a module's
 * table would be too short), the values of AffectOp / AffectUnaryOp /
 * AffectPoolKind / AffectConvKind / the public enums of affect-tensor.h, or
 * AffectBackendDesc, or to the meaning of an entry, must increment this
 * number: modules built against another value are refused. */
#define AFFECT_BACKEND_ABI_VERSION 2

/* Exported names a module must define. */
#define AFFECT_BACKEND_MODULE_ABI_SYMBOL "affect_backend_module_abi_version"
#define AFFECT_BACKEND_MODULE_INIT_SYMBOL "affect_backend_module_init"
#define AFFECT_BACKEND_MODULE_EXPORT G_MODULE_EXPORT

typedef gboolean (*AffectBackendModuleInitFunc) (GError **error);

/* A backend's registration. The strings and functions must stay valid for
 * the life of the process (static data; modules stay loaded). */
typedef struct {
  /* Lower case letters, digits, '-' and '_'; "auto" is reserved. Compared
   * without case. */
  const gchar *name;
  /* One line for listings (affect-info), e.g. "CUDA (cuDNN)"; may be NULL. */
  const gchar *description;
  /* "auto" picks the available backend with the highest priority: cpu is
   * 0, GPU backends use 100, backends nobody should get by default (tests)
   * a negative value. */
  int priority;
  /* Whether the backend is usable in this process (libraries, driver, a
   * device present). Appends one line per device to @devices (g_strdup'ed,
   * freed by the registry; the index is the device id), e.g.
   * "2 cores, oneDNN sgemm". Returns FALSE with @error saying why it cannot
   * be used. Called at most once per process (the result is kept), never
   * from two threads at once, and must not call the registry. A backend
   * that is usable has >= 1 device. */
  gboolean (*probe) (GPtrArray *devices, GError **error);
  /* A new backend on device @device_id (0 .. n_devices - 1, checked by the
   * registry) with @n_threads host threads (0 = all cores); the probe has
   * succeeded. NULL with @error on failure. */
  AffectBackend *(*create) (int device_id, int n_threads, GError **error);
} AffectBackendDesc;

/* Adds @desc to the registry (may be called before or after the first use,
 * from any thread). Returns FALSE, with a debug line, when the descriptor
 * is invalid or its name is already registered. */
gboolean affect_backend_register (const AffectBackendDesc *desc);

/* The built-in CPU backend's registration (models/cpu/cpu-backend.c),
 * called by the registry at its first use. */
void affect_backend_cpu_register (void);

G_END_DECLS

#endif /* __AFFECT_BACKEND_H__ */
