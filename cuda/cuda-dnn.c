/* gst-affect — cuda/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Convolutions through cuDNN's legacy convolution API (cudnn_cnn.h):
 * regular convolutions (groups 1), depthwise ones (groups = channels) and
 * the depthwise half of separable ones, on NHWC tensors.
 *
 * cuDNN ("libcudnn.so.9") is opened with dlopen, like cuBLAS, so that the
 * module loads and declines cleanly on machines without any CUDA library;
 * without cuDNN the module's own kernels serve (one debug line).
 * AFFECT_CUDA_CUDNN selects, when a backend is created: "0" never uses
 * cuDNN, "1" requires it (the backend is not created without it, and a
 * shape cuDNN cannot plan is an error instead of a fallback), anything
 * else uses it when it is there.
 *
 * Filters: ours are HWIO ([kh, kw, cin/groups, cout]); cuDNN's NHWC filter
 * format is KRSC ([cout, kh, kw, cin/groups]). They are converted once, on
 * the host, when the layer's weights are uploaded. A depthwise filter
 * [kh, kw, c] is HWIO with one input channel per group.
 *
 * Per input shape (batch, height, width, padding) a layer keeps a plan:
 * the descriptors, the algorithm cudnnGetConvolutionForwardAlgorithm_v7
 * ranks first among the deterministic ones that succeed and the size of
 * its workspace (taken from the device's memory pool with cudaMallocAsync
 * on the backend's stream at each call). cuDNN pads symmetrically: when
 * the padding the caller asks for gives a different output size (TF's
 * "SAME" with an even input and stride 2 pads one more row at the bottom
 * than at the top), the input is zero-padded into pool memory first
 * (ck_pad) and cuDNN runs without padding.
 *
 * Bias and activation: cudnnConvolutionBiasActivationForward fuses them
 * for ReLU (any algorithm) and the identity (only with
 * CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM); ReLU6, leaky ReLU and
 * the identity under other algorithms take cudnnConvolutionForward and the
 * module's bias + activation pass (ck_bias_act).
 *
 * Precision: the convolution descriptors ask for CUDNN_FMA_MATH (float32
 * products, no TF32: cuDNN's default math allows TF32 on Ampere and
 * later, outside the op test's thresholds); AFFECT_CUDA_TF32=1 allows it,
 * as for cuBLAS.
 *
 * UNVERIFIED on a GPU: checked only against the fake cuDNN of the host
 * emulation (cuda/emu/fake-cudnn.c, docs/cuda.md).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <dlfcn.h>
#include <string.h>

#include <cudnn.h>

#include "cuda-private.h"

#define CUDNN_SONAME "libcudnn.so.9"

/* Workspaces larger than this are not used (the next algorithm is). */
#define WORKSPACE_MAX_BYTES ((size_t)256 * 1024 * 1024)

typedef cudnnStatus_t (*CreateFunc) (cudnnHandle_t *);
typedef cudnnStatus_t (*DestroyFunc) (cudnnHandle_t);
typedef size_t (*GetVersionFunc) (void);
typedef const char *(*ErrorStringFunc) (cudnnStatus_t);
typedef cudnnStatus_t (*SetStreamFunc) (cudnnHandle_t, cudaStream_t);
typedef cudnnStatus_t (*CreateTensorFunc) (cudnnTensorDescriptor_t *);
typedef cudnnStatus_t (*SetTensor4dFunc) (cudnnTensorDescriptor_t,
    cudnnTensorFormat_t, cudnnDataType_t, int, int, int, int);
typedef cudnnStatus_t (*DestroyTensorFunc) (cudnnTensorDescriptor_t);
typedef cudnnStatus_t (*CreateFilterFunc) (cudnnFilterDescriptor_t *);
typedef cudnnStatus_t (*SetFilter4dFunc) (cudnnFilterDescriptor_t,
    cudnnDataType_t, cudnnTensorFormat_t, int, int, int, int);
typedef cudnnStatus_t (*DestroyFilterFunc) (cudnnFilterDescriptor_t);
typedef cudnnStatus_t (*CreateConvFunc) (cudnnConvolutionDescriptor_t *);
typedef cudnnStatus_t (*SetConv2dFunc) (cudnnConvolutionDescriptor_t, int, int,
    int, int, int, int, cudnnConvolutionMode_t, cudnnDataType_t);
typedef cudnnStatus_t (*SetConvGroupsFunc) (cudnnConvolutionDescriptor_t, int);
typedef cudnnStatus_t (*SetConvMathFunc) (
    cudnnConvolutionDescriptor_t, cudnnMathType_t);
typedef cudnnStatus_t (*DestroyConvFunc) (cudnnConvolutionDescriptor_t);
typedef cudnnStatus_t (*OutputDimFunc) (const cudnnConvolutionDescriptor_t,
    const cudnnTensorDescriptor_t, const cudnnFilterDescriptor_t, int *, int *,
    int *, int *);
typedef cudnnStatus_t (*GetAlgoFunc) (cudnnHandle_t,
    const cudnnTensorDescriptor_t, const cudnnFilterDescriptor_t,
    const cudnnConvolutionDescriptor_t, const cudnnTensorDescriptor_t,
    const int, int *, cudnnConvolutionFwdAlgoPerf_t *);
typedef cudnnStatus_t (*WorkspaceSizeFunc) (cudnnHandle_t,
    const cudnnTensorDescriptor_t, const cudnnFilterDescriptor_t,
    const cudnnConvolutionDescriptor_t, const cudnnTensorDescriptor_t,
    cudnnConvolutionFwdAlgo_t, size_t *);
typedef cudnnStatus_t (*ConvForwardFunc) (cudnnHandle_t, const void *,
    const cudnnTensorDescriptor_t, const void *, const cudnnFilterDescriptor_t,
    const void *, const cudnnConvolutionDescriptor_t, cudnnConvolutionFwdAlgo_t,
    void *, size_t, const void *, const cudnnTensorDescriptor_t, void *);
typedef cudnnStatus_t (*ConvBiasActFunc) (cudnnHandle_t, const void *,
    const cudnnTensorDescriptor_t, const void *, const cudnnFilterDescriptor_t,
    const void *, const cudnnConvolutionDescriptor_t, cudnnConvolutionFwdAlgo_t,
    void *, size_t, const void *, const cudnnTensorDescriptor_t, const void *,
    const cudnnTensorDescriptor_t, const void *,
    const cudnnActivationDescriptor_t, const cudnnTensorDescriptor_t, void *);
typedef cudnnStatus_t (*CreateActFunc) (cudnnActivationDescriptor_t *);
typedef cudnnStatus_t (*SetActFunc) (cudnnActivationDescriptor_t,
    cudnnActivationMode_t, cudnnNanPropagation_t, double);
typedef cudnnStatus_t (*DestroyActFunc) (cudnnActivationDescriptor_t);

static struct {
  GMutex lock;
  gboolean tried;
  void *lib;
  gchar *error; /* why it could not be opened */
  gchar *version;
  CreateFunc create;
  DestroyFunc destroy;
  GetVersionFunc get_version;
  ErrorStringFunc error_string;
  SetStreamFunc set_stream;
  CreateTensorFunc create_tensor;
  SetTensor4dFunc set_tensor_4d;
  DestroyTensorFunc destroy_tensor;
  CreateFilterFunc create_filter;
  SetFilter4dFunc set_filter_4d;
  DestroyFilterFunc destroy_filter;
  CreateConvFunc create_conv;
  SetConv2dFunc set_conv_2d;
  SetConvGroupsFunc set_conv_groups;
  SetConvMathFunc set_conv_math;
  DestroyConvFunc destroy_conv;
  OutputDimFunc output_dim;
  GetAlgoFunc get_algo;
  WorkspaceSizeFunc workspace_size;
  ConvForwardFunc conv_forward;
  ConvBiasActFunc conv_bias_act;
  CreateActFunc create_act;
  SetActFunc set_act;
  DestroyActFunc destroy_act;
} dnn;

static gboolean
dnn_open_locked (void)
{
  const struct {
    const char *name;
    gpointer *slot;
  } syms[] = {
    { "cudnnCreate", (gpointer *)&dnn.create },
    { "cudnnDestroy", (gpointer *)&dnn.destroy },
    { "cudnnGetVersion", (gpointer *)&dnn.get_version },
    { "cudnnGetErrorString", (gpointer *)&dnn.error_string },
    { "cudnnSetStream", (gpointer *)&dnn.set_stream },
    { "cudnnCreateTensorDescriptor", (gpointer *)&dnn.create_tensor },
    { "cudnnSetTensor4dDescriptor", (gpointer *)&dnn.set_tensor_4d },
    { "cudnnDestroyTensorDescriptor", (gpointer *)&dnn.destroy_tensor },
    { "cudnnCreateFilterDescriptor", (gpointer *)&dnn.create_filter },
    { "cudnnSetFilter4dDescriptor", (gpointer *)&dnn.set_filter_4d },
    { "cudnnDestroyFilterDescriptor", (gpointer *)&dnn.destroy_filter },
    { "cudnnCreateConvolutionDescriptor", (gpointer *)&dnn.create_conv },
    { "cudnnSetConvolution2dDescriptor", (gpointer *)&dnn.set_conv_2d },
    { "cudnnSetConvolutionGroupCount", (gpointer *)&dnn.set_conv_groups },
    { "cudnnSetConvolutionMathType", (gpointer *)&dnn.set_conv_math },
    { "cudnnDestroyConvolutionDescriptor", (gpointer *)&dnn.destroy_conv },
    { "cudnnGetConvolution2dForwardOutputDim", (gpointer *)&dnn.output_dim },
    { "cudnnGetConvolutionForwardAlgorithm_v7", (gpointer *)&dnn.get_algo },
    { "cudnnGetConvolutionForwardWorkspaceSize",
        (gpointer *)&dnn.workspace_size },
    { "cudnnConvolutionForward", (gpointer *)&dnn.conv_forward },
    { "cudnnConvolutionBiasActivationForward", (gpointer *)&dnn.conv_bias_act },
    { "cudnnCreateActivationDescriptor", (gpointer *)&dnn.create_act },
    { "cudnnSetActivationDescriptor", (gpointer *)&dnn.set_act },
    { "cudnnDestroyActivationDescriptor", (gpointer *)&dnn.destroy_act },
  };
  size_t v;
  guint i;

  dnn.lib = dlopen (CUDNN_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (dnn.lib == NULL) {
    dnn.error = g_strdup_printf (
        "%s could not be opened (%s)", CUDNN_SONAME, dlerror ());
    return FALSE;
  }
  for (i = 0; i < G_N_ELEMENTS (syms); i++) {
    *syms[i].slot = dlsym (dnn.lib, syms[i].name);
    if (*syms[i].slot == NULL) {
      dnn.error = g_strdup_printf ("%s has no %s", CUDNN_SONAME, syms[i].name);
      dlclose (dnn.lib);
      dnn.lib = NULL;
      return FALSE;
    }
  }
  v = dnn.get_version ();
  dnn.version = g_strdup_printf ("cuDNN %u.%u.%u", (guint)(v / 10000),
      (guint)(v % 10000 / 100), (guint)(v % 100));
  return TRUE;
}

gboolean
cuda_dnn_open (GError **error)
{
  gboolean ok;

  g_mutex_lock (&dnn.lock);
  if (!dnn.tried) {
    dnn.tried = TRUE;
    if (!dnn_open_locked ())
      /* The one line saying that the own kernels serve. */
      g_debug ("cuDNN not available (%s; put its folder in LD_LIBRARY_PATH): "
               "convolutions use the module's own kernels",
          dnn.error);
  }
  ok = dnn.lib != NULL;
  if (!ok)
    g_set_error (error, AFFECT_BACKEND_ERROR,
        AFFECT_BACKEND_ERROR_NOT_AVAILABLE, "%s", dnn.error);
  g_mutex_unlock (&dnn.lock);
  return ok;
}

const gchar *
cuda_dnn_version (void)
{
  return dnn.version != NULL ? dnn.version : "no cuDNN";
}

/* AFFECT_CUDA_CUDNN: 0 off, 1 required, else when available. */
static int
dnn_mode (void)
{
  const gchar *v = g_getenv ("AFFECT_CUDA_CUDNN");

  if (v != NULL && g_str_equal (v, "0"))
    return 0;
  if (v != NULL && g_str_equal (v, "1"))
    return 2;
  return 1;
}

gboolean
cuda_dnn_create (CudaBackend *cb, GError **error)
{
  cudnnHandle_t h = NULL;
  cudnnStatus_t st;
  const int mode = dnn_mode ();
  GError *local = NULL;

  cb->dnn = NULL;
  cb->dnn_required = mode == 2;
  if (mode == 0) {
    g_debug ("cuda device %d: cuDNN turned off (AFFECT_CUDA_CUDNN=0): "
             "convolutions use the module's own kernels",
        cb->device);
    return TRUE;
  }
  if (!cuda_dnn_open (&local)) {
    if (mode == 2) {
      g_set_error (error, AFFECT_BACKEND_ERROR,
          AFFECT_BACKEND_ERROR_NOT_AVAILABLE,
          "AFFECT_CUDA_CUDNN=1 but cuDNN cannot be used: %s", local->message);
      g_error_free (local);
      return FALSE;
    }
    g_error_free (local);
    return TRUE;
  }
  st = dnn.create (&h);
  if (st == CUDNN_STATUS_SUCCESS)
    st = dnn.set_stream (h, cb->stream);
  if (st != CUDNN_STATUS_SUCCESS) {
    if (h != NULL)
      dnn.destroy (h);
    if (mode == 2) {
      g_set_error (error, AFFECT_BACKEND_ERROR,
          AFFECT_BACKEND_ERROR_NOT_AVAILABLE, "cuDNN on CUDA device %d: %s",
          cb->device, dnn.error_string (st));
      return FALSE;
    }
    g_debug ("cuda device %d: no cuDNN handle (%s): convolutions use the "
             "module's own kernels",
        cb->device, dnn.error_string (st));
    return TRUE;
  }
  cb->dnn = h;
  return TRUE;
}

void
cuda_dnn_destroy (CudaBackend *cb)
{
  if (cb->dnn != NULL)
    dnn.destroy (cb->dnn);
  cb->dnn = NULL;
}

/* ---- convolution layers ------------------------------------------------ */

typedef struct {
  /* the key */
  int n, h, w, oh, ow, pad_top, pad_left;
  /* FALSE: cuDNN cannot run this shape, the own kernels do */
  gboolean ok;
  /* the input is zero-padded to hp × wp first, cuDNN pads nothing */
  gboolean padded;
  int hp, wp;
  cudnnTensorDescriptor_t x_desc, y_desc;
  cudnnConvolutionDescriptor_t conv_desc;
  cudnnConvolutionFwdAlgo_t algo;
  size_t workspace;
  gboolean fused; /* cudnnConvolutionBiasActivationForward */
} DnnPlan;

struct _CudaDnnConv {
  int kh, kw, cin, cout, groups, stride;
  float *filter;     /* KRSC, device */
  const float *bias; /* [cout], device (the layer's), or NULL */
  int act;           /* CK_ACT_* after the bias */
  cudnnFilterDescriptor_t filter_desc;
  cudnnTensorDescriptor_t bias_desc;
  cudnnActivationDescriptor_t act_desc; /* ReLU or identity, else NULL */
  GArray *plans;                        /* DnnPlan */
};

/* Records a cuDNN error on the backend, like cuda_check(). */
static gboolean
dnn_check (AffectBackend *be, cudnnStatus_t st, const gchar *what)
{
  CudaBackend *cb = be->priv;

  if (st == CUDNN_STATUS_SUCCESS)
    return TRUE;
  /* recorded on the backend (the first failure is kept), taken and posted
   * by the element as cuda_check()'s are: never a warning */
  affect_backend_set_error (be, "cuda device %d: %s failed: %s (cuDNN)",
      cb->device, what, dnn.error_string (st));
  cb->failed = TRUE;
  return FALSE;
}

gboolean
cuda_dnn_enabled (AffectBackend *be)
{
  return ((CudaBackend *)be->priv)->dnn != NULL;
}

CudaDnnConv *
cuda_dnn_conv_new (AffectBackend *be, const float *filter, int kh, int kw,
    int cin, int cout, int groups, int stride, const float *bias, int act)
{
  const int cpg = cin / groups;
  const gsize n = (gsize)kh * kw * cpg * cout;
  CudaDnnConv *dc;
  float *krsc;
  cudnnStatus_t st;
  gsize co, k, ci;

  if (!cuda_dnn_enabled (be))
    return NULL;
  /* HWIO [kh·kw][cpg][cout] → KRSC [cout][kh·kw][cpg] */
  krsc = g_new (float, n);
  for (k = 0; k < (gsize)kh * kw; k++)
    for (ci = 0; ci < (gsize)cpg; ci++)
      for (co = 0; co < (gsize)cout; co++)
        krsc[(co * kh * kw + k) * cpg + ci]
            = filter[(k * cpg + ci) * cout + co];
  dc = g_new0 (CudaDnnConv, 1);
  dc->kh = kh;
  dc->kw = kw;
  dc->cin = cin;
  dc->cout = cout;
  dc->groups = groups;
  dc->stride = stride;
  dc->bias = bias;
  dc->act = act;
  dc->plans = g_array_new (FALSE, TRUE, sizeof (DnnPlan));
  dc->filter = cuda_weights_upload (be, krsc, n);
  g_free (krsc);
  if (dc->filter == NULL) {
    cuda_dnn_conv_free (dc);
    return NULL;
  }
  st = dnn.create_filter (&dc->filter_desc);
  if (st == CUDNN_STATUS_SUCCESS)
    st = dnn.set_filter_4d (dc->filter_desc, CUDNN_DATA_FLOAT,
        CUDNN_TENSOR_NHWC, cout, cpg, kh, kw);
  if (st == CUDNN_STATUS_SUCCESS && bias != NULL) {
    st = dnn.create_tensor (&dc->bias_desc);
    if (st == CUDNN_STATUS_SUCCESS)
      st = dnn.set_tensor_4d (
          dc->bias_desc, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, 1, cout, 1, 1);
    if (st == CUDNN_STATUS_SUCCESS
        && (act == CK_ACT_RELU || act == CK_ACT_NONE)) {
      st = dnn.create_act (&dc->act_desc);
      if (st == CUDNN_STATUS_SUCCESS)
        st = dnn.set_act (dc->act_desc,
            act == CK_ACT_RELU ? CUDNN_ACTIVATION_RELU
                               : CUDNN_ACTIVATION_IDENTITY,
            CUDNN_NOT_PROPAGATE_NAN, 0.0);
    }
  }
  if (!dnn_check (be, st, "cuDNN convolution descriptors")) {
    cuda_dnn_conv_free (dc);
    return NULL;
  }
  return dc;
}

static void
plan_clear (DnnPlan *p)
{
  if (p->x_desc != NULL)
    dnn.destroy_tensor (p->x_desc);
  if (p->y_desc != NULL)
    dnn.destroy_tensor (p->y_desc);
  if (p->conv_desc != NULL)
    dnn.destroy_conv (p->conv_desc);
}

void
cuda_dnn_conv_free (CudaDnnConv *dc)
{
  guint i;

  if (dc == NULL)
    return;
  for (i = 0; i < dc->plans->len; i++)
    plan_clear (&g_array_index (dc->plans, DnnPlan, i));
  g_array_unref (dc->plans);
  if (dc->filter_desc != NULL)
    dnn.destroy_filter (dc->filter_desc);
  if (dc->bias_desc != NULL)
    dnn.destroy_tensor (dc->bias_desc);
  if (dc->act_desc != NULL)
    dnn.destroy_act (dc->act_desc);
  cuda_weights_free (dc->filter);
  g_free (dc);
}

/* Output size of cuDNN's symmetric padding, as its documentation gives
 * it: 1 + (in + 2 pad - k) / stride (no dilation). */
static int
sym_out (int in, int pad, int k, int stride)
{
  return in + 2 * pad < k ? 0 : 1 + (in + 2 * pad - k) / stride;
}

/* Fills @p (its key set): descriptors, algorithm, workspace. */
static cudnnStatus_t
plan_make (AffectBackend *be, CudaDnnConv *dc, DnnPlan *p)
{
  CudaBackend *cb = be->priv;
  const gchar *tf32 = g_getenv ("AFFECT_CUDA_TF32");
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int n_perf = 0, on, oc, oh, ow, i, pad_h, pad_w, xh, xw;
  cudnnStatus_t st;

  p->padded = sym_out (p->h, p->pad_top, dc->kh, dc->stride) != p->oh
              || sym_out (p->w, p->pad_left, dc->kw, dc->stride) != p->ow;
  p->hp = (p->oh - 1) * dc->stride + dc->kh;
  p->wp = (p->ow - 1) * dc->stride + dc->kw;
  xh = p->padded ? p->hp : p->h;
  xw = p->padded ? p->wp : p->w;
  pad_h = p->padded ? 0 : p->pad_top;
  pad_w = p->padded ? 0 : p->pad_left;

  st = dnn.create_tensor (&p->x_desc);
  if (st == CUDNN_STATUS_SUCCESS)
    st = dnn.set_tensor_4d (
        p->x_desc, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, p->n, dc->cin, xh, xw);
  if (st == CUDNN_STATUS_SUCCESS)
    st = dnn.create_tensor (&p->y_desc);
  if (st == CUDNN_STATUS_SUCCESS)
    st = dnn.set_tensor_4d (p->y_desc, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT,
        p->n, dc->cout, p->oh, p->ow);
  if (st == CUDNN_STATUS_SUCCESS)
    st = dnn.create_conv (&p->conv_desc);
  if (st == CUDNN_STATUS_SUCCESS)
    st = dnn.set_conv_2d (p->conv_desc, pad_h, pad_w, dc->stride, dc->stride, 1,
        1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT);
  if (st == CUDNN_STATUS_SUCCESS)
    st = dnn.set_conv_groups (p->conv_desc, dc->groups);
  if (st == CUDNN_STATUS_SUCCESS)
    st = dnn.set_conv_math (p->conv_desc,
        tf32 != NULL && g_str_equal (tf32, "1") ? CUDNN_DEFAULT_MATH
                                                : CUDNN_FMA_MATH);
  if (st == CUDNN_STATUS_SUCCESS)
    st = dnn.output_dim (
        p->conv_desc, p->x_desc, dc->filter_desc, &on, &oc, &oh, &ow);
  if (st == CUDNN_STATUS_SUCCESS
      && (on != p->n || oc != dc->cout || oh != p->oh || ow != p->ow))
    st = CUDNN_STATUS_BAD_PARAM;
  if (st == CUDNN_STATUS_SUCCESS)
    st = dnn.get_algo (cb->dnn, p->x_desc, dc->filter_desc, p->conv_desc,
        p->y_desc, G_N_ELEMENTS (perf), &n_perf, perf);
  if (st != CUDNN_STATUS_SUCCESS)
    return st;
  /* The heuristics' order, deterministic algorithms only (results must not
   * depend on the run), workspaces within reason. */
  for (i = 0; i < n_perf; i++)
    if (perf[i].status == CUDNN_STATUS_SUCCESS
        && perf[i].determinism == CUDNN_DETERMINISTIC
        && perf[i].memory <= WORKSPACE_MAX_BYTES)
      break;
  if (i == n_perf)
    return CUDNN_STATUS_NOT_SUPPORTED;
  p->algo = perf[i].algo;
  st = dnn.workspace_size (cb->dnn, p->x_desc, dc->filter_desc, p->conv_desc,
      p->y_desc, p->algo, &p->workspace);
  p->fused
      = dc->act_desc != NULL
        && (dc->act == CK_ACT_RELU
            || p->algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM);
  return st;
}

static DnnPlan *
plan_get (AffectBackend *be, CudaDnnConv *dc, int n, int h, int w, int oh,
    int ow, int pad_top, int pad_left)
{
  CudaBackend *cb = be->priv;
  DnnPlan key, *p;
  cudnnStatus_t st;
  guint i;

  for (i = 0; i < dc->plans->len; i++) {
    p = &g_array_index (dc->plans, DnnPlan, i);
    if (p->n == n && p->h == h && p->w == w && p->oh == oh && p->ow == ow
        && p->pad_top == pad_top && p->pad_left == pad_left)
      return p;
  }
  key = (DnnPlan){ .n = n,
    .h = h,
    .w = w,
    .oh = oh,
    .ow = ow,
    .pad_top = pad_top,
    .pad_left = pad_left };
  st = plan_make (be, dc, &key);
  key.ok = st == CUDNN_STATUS_SUCCESS;
  if (!key.ok) {
    if (cb->dnn_required)
      dnn_check (be, st, "planning a cuDNN convolution (AFFECT_CUDA_CUDNN=1)");
    else
      g_debug ("cuda device %d: cuDNN cannot run a %d×%d convolution "
               "(groups %d, stride %d) on %d×%d×%d×%d: %s; the own kernels "
               "do",
          cb->device, dc->kh, dc->kw, dc->groups, dc->stride, n, h, w, dc->cin,
          dnn.error_string (st));
    plan_clear (&key);
    key.x_desc = NULL;
    key.y_desc = NULL;
    key.conv_desc = NULL;
  }
  g_array_append_val (dc->plans, key);
  return &g_array_index (dc->plans, DnnPlan, dc->plans->len - 1);
}

CudaDnnResult
cuda_dnn_conv_forward (AffectBackend *be, CudaDnnConv *dc, const float *x,
    int n, int h, int w, float *y, int oh, int ow, int pad_top, int pad_left)
{
  CudaBackend *cb = be->priv;
  const float one = 1.0f, zero = 0.0f;
  DnnPlan *p;
  void *ws = NULL, *xp = NULL;
  const float *src = x;
  cudnnStatus_t st;
  gboolean ok;

  if (dc == NULL)
    return CUDA_DNN_FALLBACK;
  p = plan_get (be, dc, n, h, w, oh, ow, pad_top, pad_left);
  if (!p->ok)
    return cb->dnn_required ? CUDA_DNN_FAILED : CUDA_DNN_FALLBACK;
  if (p->padded) {
    if (!cuda_check (be,
            cudaMallocAsync (&xp,
                (size_t)n * p->hp * p->wp * dc->cin * sizeof (float),
                cb->stream),
            "allocating a padded convolution input"))
      return CUDA_DNN_FAILED;
    if (!cuda_check (be,
            ck_pad (cb->stream, x, xp, n, h, w, dc->cin, p->hp, p->wp, pad_top,
                pad_left),
            "conv (cuDNN input padding)")) {
      cudaFreeAsync (xp, cb->stream);
      return CUDA_DNN_FAILED;
    }
    src = xp;
  }
  ok = p->workspace == 0
       || cuda_check (be, cudaMallocAsync (&ws, p->workspace, cb->stream),
           "allocating a cuDNN workspace");
  if (ok && p->fused) {
    /* y = act (conv (x) + 0 · z + bias), z = y (not read: alpha2 is 0) */
    st = dnn.conv_bias_act (cb->dnn, &one, p->x_desc, src, dc->filter_desc,
        dc->filter, p->conv_desc, p->algo, ws, p->workspace, &zero, p->y_desc,
        y, dc->bias_desc, dc->bias, dc->act_desc, p->y_desc, y);
    ok = dnn_check (be, st, "cudnnConvolutionBiasActivationForward");
  } else if (ok) {
    st = dnn.conv_forward (cb->dnn, &one, p->x_desc, src, dc->filter_desc,
        dc->filter, p->conv_desc, p->algo, ws, p->workspace, &zero, p->y_desc,
        y);
    ok = dnn_check (be, st, "cudnnConvolutionForward");
    if (ok && (dc->bias != NULL || dc->act != CK_ACT_NONE))
      ok = cuda_check (be,
          ck_bias_act (
              cb->stream, y, dc->bias, (size_t)n * oh * ow, dc->cout, dc->act),
          "conv (cuDNN; bias, activation)");
  }
  if (ws != NULL)
    cudaFreeAsync (ws, cb->stream);
  if (xp != NULL)
    cudaFreeAsync (xp, cb->stream);
  return ok ? CUDA_DNN_DONE : CUDA_DNN_FAILED;
}
