/* gst-affect — cuda/emu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libcudnn.so.9 for the emulated CUDA module of the tests: the functions
 * of cuDNN's legacy convolution API that cuda/cuda-dnn.c opens, written
 * from cuDNN's API reference as plain loops, not from the module's
 * kernels:
 *
 *  - 4-D tensors in CUDNN_TENSOR_NCHW or CUDNN_TENSOR_NHWC (element
 *    (n, c, h, w) at the format's strides); 4-D filters [K, C, R, S] laid
 *    out KCRS (NCHW) or KRSC (NHWC); float data only;
 *  - a convolution descriptor: pad, stride, dilation, mode (cross-
 *    correlation, or convolution: the filter flipped), group count (input
 *    channels = C × groups, output group g = k / (K / groups) reads input
 *    channels g·C … g·C + C − 1), math type (accepted; sums in float);
 *  - output size 1 + (in + 2 pad − ((k − 1) dilation + 1)) / stride;
 *  - cudnnConvolutionForward: y = alpha · conv (x, w) + beta · y, y not
 *    read when beta is 0;
 *  - cudnnConvolutionBiasActivationForward: y = act (alpha1 · conv (x, w)
 *    + alpha2 · z + bias), act ReLU (NaN not propagated: max (0, v)) or the
 *    identity, the identity only with
 *    CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, other activations
 *    CUDNN_STATUS_NOT_SUPPORTED; bias [1, K, 1, 1]; z not read when alpha2
 *    is 0 (as for beta);
 *  - cudnnGetConvolutionForwardAlgorithm_v7: a ranked list whose first
 *    entries vary with the shape (a Winograd entry that is not supported
 *    unless 3×3 stride 1 without groups, implicit GEMM first for grouped
 *    convolutions), so that the module's choice, its workspace handling
 *    and both bias paths are exercised; the workspace an algorithm needs
 *    is filled with a pattern at each call (a too small allocation shows
 *    under valgrind and AddressSanitizer), and a workspace smaller than
 *    the algorithm needs is CUDNN_STATUS_BAD_PARAM.
 *
 * Every descriptor mismatch the reference lists as CUDNN_STATUS_BAD_PARAM
 * for these calls that the module could get wrong (dimensions, channel
 * counts, formats, data types) is checked, so that a wrong mapping fails
 * the op test instead of computing something else.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cudnn.h>

struct cudnnContext {
  cudaStream_t stream;
};

struct cudnnTensorStruct {
  int set;
  cudnnDataType_t type;
  int n, c, h, w;
  int sn, sc, sh, sw;
};

struct cudnnFilterStruct {
  int set;
  cudnnDataType_t type;
  int k, c, r, s;
  int sk, sc, sr, ss;
};

struct cudnnConvolutionStruct {
  int set;
  int pad_h, pad_w, u, v, dil_h, dil_w;
  cudnnConvolutionMode_t mode;
  int groups;
  cudnnMathType_t math;
};

struct cudnnActivationStruct {
  int set;
  cudnnActivationMode_t mode;
  cudnnNanPropagation_t nan;
  double coef;
};

size_t
cudnnGetVersion (void)
{
  return CUDNN_VERSION;
}

const char *
cudnnGetErrorString (cudnnStatus_t st)
{
  switch (st) {
    case CUDNN_STATUS_SUCCESS:
      return "CUDNN_STATUS_SUCCESS";
    case CUDNN_STATUS_BAD_PARAM:
      return "CUDNN_STATUS_BAD_PARAM (emulated)";
    case CUDNN_STATUS_NOT_SUPPORTED:
      return "CUDNN_STATUS_NOT_SUPPORTED (emulated)";
    case CUDNN_STATUS_ALLOC_FAILED:
      return "CUDNN_STATUS_ALLOC_FAILED (emulated)";
    default:
      return "emulated cuDNN error";
  }
}

cudnnStatus_t
cudnnCreate (cudnnHandle_t *h)
{
  if (h == NULL)
    return CUDNN_STATUS_BAD_PARAM;
  *h = calloc (1, sizeof (struct cudnnContext));
  return *h != NULL ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_ALLOC_FAILED;
}

cudnnStatus_t
cudnnDestroy (cudnnHandle_t h)
{
  free (h);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnSetStream (cudnnHandle_t h, cudaStream_t s)
{
  if (h == NULL)
    return CUDNN_STATUS_BAD_PARAM;
  h->stream = s;
  return CUDNN_STATUS_SUCCESS;
}

/* ---- descriptors ------------------------------------------------------- */

#define CREATE_DESTROY(create, destroy, type, st)                         \
  cudnnStatus_t create (type *d)                                          \
  {                                                                       \
    if (d == NULL)                                                        \
      return CUDNN_STATUS_BAD_PARAM;                                      \
    *d = calloc (1, sizeof (struct st));                                  \
    return *d != NULL ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_ALLOC_FAILED; \
  }                                                                       \
  cudnnStatus_t destroy (type d)                                          \
  {                                                                       \
    free (d);                                                             \
    return CUDNN_STATUS_SUCCESS;                                          \
  }

CREATE_DESTROY (cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor,
    cudnnTensorDescriptor_t, cudnnTensorStruct)
CREATE_DESTROY (cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor,
    cudnnFilterDescriptor_t, cudnnFilterStruct)
CREATE_DESTROY (cudnnCreateConvolutionDescriptor,
    cudnnDestroyConvolutionDescriptor, cudnnConvolutionDescriptor_t,
    cudnnConvolutionStruct)
CREATE_DESTROY (cudnnCreateActivationDescriptor,
    cudnnDestroyActivationDescriptor, cudnnActivationDescriptor_t,
    cudnnActivationStruct)

/* The strides of the dimensions (outer, c, h, w) of a 4-D array in
 * @format: NCHW (KCRS for filters) or NHWC (KRSC); FALSE for others. */
static int
strides_4d (cudnnTensorFormat_t format, int c, int h, int w, int *so, int *sc,
    int *sh, int *sw)
{
  if (format == CUDNN_TENSOR_NCHW) {
    *sw = 1;
    *sh = w;
    *sc = h * w;
  } else if (format == CUDNN_TENSOR_NHWC) {
    *sc = 1;
    *sw = c;
    *sh = w * c;
  } else
    return 0;
  *so = c * h * w;
  return 1;
}

cudnnStatus_t
cudnnSetTensor4dDescriptor (cudnnTensorDescriptor_t d,
    cudnnTensorFormat_t format, cudnnDataType_t type, int n, int c, int h,
    int w)
{
  if (d == NULL || n <= 0 || c <= 0 || h <= 0 || w <= 0
      || !strides_4d (format, c, h, w, &d->sn, &d->sc, &d->sh, &d->sw))
    return CUDNN_STATUS_BAD_PARAM;
  d->type = type;
  d->n = n;
  d->c = c;
  d->h = h;
  d->w = w;
  d->set = 1;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnSetFilter4dDescriptor (cudnnFilterDescriptor_t d, cudnnDataType_t type,
    cudnnTensorFormat_t format, int k, int c, int r, int s)
{
  if (d == NULL || k <= 0 || c <= 0 || r <= 0 || s <= 0
      || !strides_4d (format, c, r, s, &d->sk, &d->sc, &d->sr, &d->ss))
    return CUDNN_STATUS_BAD_PARAM;
  d->type = type;
  d->k = k;
  d->c = c;
  d->r = r;
  d->s = s;
  d->set = 1;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnSetConvolution2dDescriptor (cudnnConvolutionDescriptor_t d, int pad_h,
    int pad_w, int u, int v, int dil_h, int dil_w, cudnnConvolutionMode_t mode,
    cudnnDataType_t compute)
{
  if (d == NULL || pad_h < 0 || pad_w < 0 || u <= 0 || v <= 0 || dil_h <= 0
      || dil_w <= 0
      || (mode != CUDNN_CONVOLUTION && mode != CUDNN_CROSS_CORRELATION))
    return CUDNN_STATUS_BAD_PARAM;
  /* float data: float computation only (the emulation) */
  if (compute != CUDNN_DATA_FLOAT)
    return CUDNN_STATUS_NOT_SUPPORTED;
  d->pad_h = pad_h;
  d->pad_w = pad_w;
  d->u = u;
  d->v = v;
  d->dil_h = dil_h;
  d->dil_w = dil_w;
  d->mode = mode;
  if (d->groups == 0)
    d->groups = 1;
  d->set = 1;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnSetConvolutionGroupCount (cudnnConvolutionDescriptor_t d, int groups)
{
  if (d == NULL || groups < 1)
    return CUDNN_STATUS_BAD_PARAM;
  d->groups = groups;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnSetConvolutionMathType (cudnnConvolutionDescriptor_t d, cudnnMathType_t m)
{
  if (d == NULL
      || (m != CUDNN_DEFAULT_MATH && m != CUDNN_TENSOR_OP_MATH
          && m != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION && m != CUDNN_FMA_MATH))
    return CUDNN_STATUS_BAD_PARAM;
  d->math = m;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnSetActivationDescriptor (cudnnActivationDescriptor_t d,
    cudnnActivationMode_t mode, cudnnNanPropagation_t nan, double coef)
{
  if (d == NULL)
    return CUDNN_STATUS_BAD_PARAM;
  d->mode = mode;
  d->nan = nan;
  d->coef = coef;
  d->set = 1;
  return CUDNN_STATUS_SUCCESS;
}

/* ---- shapes ------------------------------------------------------------ */

static int
out_dim (int in, int pad, int k, int dil, int stride)
{
  const int span = (k - 1) * dil + 1;

  return in + 2 * pad < span ? 0 : 1 + (in + 2 * pad - span) / stride;
}

static cudnnStatus_t
check_xwc (const cudnnTensorDescriptor_t x, const cudnnFilterDescriptor_t w,
    const cudnnConvolutionDescriptor_t conv)
{
  if (x == NULL || w == NULL || conv == NULL || !x->set || !w->set
      || !conv->set)
    return CUDNN_STATUS_BAD_PARAM;
  if (x->type != CUDNN_DATA_FLOAT || w->type != CUDNN_DATA_FLOAT)
    return CUDNN_STATUS_NOT_SUPPORTED;
  if (x->c != w->c * conv->groups || w->k % conv->groups != 0)
    return CUDNN_STATUS_BAD_PARAM;
  if (out_dim (x->h, conv->pad_h, w->r, conv->dil_h, conv->u) <= 0
      || out_dim (x->w, conv->pad_w, w->s, conv->dil_w, conv->v) <= 0)
    return CUDNN_STATUS_BAD_PARAM;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnGetConvolution2dForwardOutputDim (const cudnnConvolutionDescriptor_t conv,
    const cudnnTensorDescriptor_t x, const cudnnFilterDescriptor_t w, int *n,
    int *c, int *h, int *wo)
{
  const cudnnStatus_t st = check_xwc (x, w, conv);

  if (st != CUDNN_STATUS_SUCCESS)
    return st;
  *n = x->n;
  *c = w->k;
  *h = out_dim (x->h, conv->pad_h, w->r, conv->dil_h, conv->u);
  *wo = out_dim (x->w, conv->pad_w, w->s, conv->dil_w, conv->v);
  return CUDNN_STATUS_SUCCESS;
}

static cudnnStatus_t
check_all (const cudnnTensorDescriptor_t x, const cudnnFilterDescriptor_t w,
    const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t y)
{
  cudnnStatus_t st = check_xwc (x, w, conv);
  int n, c, h, wo;

  if (st != CUDNN_STATUS_SUCCESS)
    return st;
  if (y == NULL || !y->set)
    return CUDNN_STATUS_BAD_PARAM;
  if (y->type != CUDNN_DATA_FLOAT)
    return CUDNN_STATUS_NOT_SUPPORTED;
  cudnnGetConvolution2dForwardOutputDim (conv, x, w, &n, &c, &h, &wo);
  if (y->n != n || y->c != c || y->h != h || y->w != wo)
    return CUDNN_STATUS_BAD_PARAM;
  return CUDNN_STATUS_SUCCESS;
}

/* The emulation's workspace needs (bytes): implicit precomputed GEMM keeps
 * one index per output pixel, explicit GEMM the whole unfolded input,
 * Winograd the transformed tiles (here: the input's size). */
static size_t
algo_memory (cudnnConvolutionFwdAlgo_t algo, const cudnnTensorDescriptor_t x,
    const cudnnFilterDescriptor_t w, const cudnnTensorDescriptor_t y)
{
  switch (algo) {
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM:
      return (size_t)y->n * y->h * y->w * sizeof (int32_t);
    case CUDNN_CONVOLUTION_FWD_ALGO_GEMM:
      return (size_t)y->n * y->h * y->w * w->r * w->s * x->c * sizeof (float);
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED:
      return (size_t)x->n * x->h * x->w * x->c * sizeof (float);
    default:
      return 0;
  }
}

static int
winograd_ok (
    const cudnnFilterDescriptor_t w, const cudnnConvolutionDescriptor_t conv)
{
  return w->r == 3 && w->s == 3 && conv->u == 1 && conv->v == 1
         && conv->groups == 1 && conv->dil_h == 1 && conv->dil_w == 1;
}

static int
algo_ok (cudnnConvolutionFwdAlgo_t algo, const cudnnFilterDescriptor_t w,
    const cudnnConvolutionDescriptor_t conv)
{
  switch (algo) {
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM:
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM:
    case CUDNN_CONVOLUTION_FWD_ALGO_GEMM:
      return 1;
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED:
      return winograd_ok (w, conv);
    default:
      return 0;
  }
}

cudnnStatus_t
cudnnGetConvolutionForwardAlgorithm_v7 (cudnnHandle_t h,
    const cudnnTensorDescriptor_t x, const cudnnFilterDescriptor_t w,
    const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t y,
    const int requested, int *returned, cudnnConvolutionFwdAlgoPerf_t *perf)
{
  const cudnnStatus_t st = check_all (x, w, conv, y);
  cudnnConvolutionFwdAlgo_t order[4];
  int i;

  if (h == NULL || returned == NULL || perf == NULL || requested < 1)
    return CUDNN_STATUS_BAD_PARAM;
  if (st != CUDNN_STATUS_SUCCESS)
    return st;
  order[0] = CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED;
  if (conv->groups > 1) {
    order[1] = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
    order[2] = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
  } else {
    order[1] = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
    order[2] = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  }
  order[3] = CUDNN_CONVOLUTION_FWD_ALGO_GEMM;
  *returned = requested < 4 ? requested : 4;
  for (i = 0; i < *returned; i++) {
    memset (&perf[i], 0, sizeof (perf[i]));
    perf[i].algo = order[i];
    perf[i].status = algo_ok (order[i], w, conv) ? CUDNN_STATUS_SUCCESS
                                                 : CUDNN_STATUS_NOT_SUPPORTED;
    perf[i].time = -1.0f; /* heuristics: nothing was run */
    perf[i].memory = algo_memory (order[i], x, w, y);
    perf[i].determinism = CUDNN_DETERMINISTIC;
    perf[i].mathType = conv->math;
  }
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnGetConvolutionForwardWorkspaceSize (cudnnHandle_t h,
    const cudnnTensorDescriptor_t x, const cudnnFilterDescriptor_t w,
    const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t y,
    cudnnConvolutionFwdAlgo_t algo, size_t *size)
{
  const cudnnStatus_t st = check_all (x, w, conv, y);

  if (h == NULL || size == NULL)
    return CUDNN_STATUS_BAD_PARAM;
  if (st != CUDNN_STATUS_SUCCESS)
    return st;
  if (!algo_ok (algo, w, conv))
    return CUDNN_STATUS_NOT_SUPPORTED;
  *size = algo_memory (algo, x, w, y);
  return CUDNN_STATUS_SUCCESS;
}

/* ---- computation ------------------------------------------------------- */

/* conv (x, w) at output (n, k, oy, ox), float sums in (r, s, c) order */
static float
conv_at (const cudnnTensorDescriptor_t xd, const float *x,
    const cudnnFilterDescriptor_t wd, const float *w,
    const cudnnConvolutionDescriptor_t cd, int n, int k, int oy, int ox)
{
  const int g = k / (wd->k / cd->groups);
  float acc = 0.0f;
  int r, s, c;

  for (r = 0; r < wd->r; r++) {
    const int iy = oy * cd->u - cd->pad_h + r * cd->dil_h;
    const int fr = cd->mode == CUDNN_CONVOLUTION ? wd->r - 1 - r : r;

    if (iy < 0 || iy >= xd->h)
      continue;
    for (s = 0; s < wd->s; s++) {
      const int ix = ox * cd->v - cd->pad_w + s * cd->dil_w;
      const int fs = cd->mode == CUDNN_CONVOLUTION ? wd->s - 1 - s : s;

      if (ix < 0 || ix >= xd->w)
        continue;
      for (c = 0; c < wd->c; c++) {
        const float xv = x[(size_t)n * xd->sn + (size_t)(g * wd->c + c) * xd->sc
                           + (size_t)iy * xd->sh + (size_t)ix * xd->sw];
        const float wv = w[(size_t)k * wd->sk + (size_t)c * wd->sc
                           + (size_t)fr * wd->sr + (size_t)fs * wd->ss];

        acc += xv * wv;
      }
    }
  }
  return acc;
}

static size_t
offset (const cudnnTensorDescriptor_t d, int n, int c, int h, int w)
{
  return (size_t)n * d->sn + (size_t)c * d->sc + (size_t)h * d->sh
         + (size_t)w * d->sw;
}

static cudnnStatus_t
check_run (cudnnHandle_t h, const cudnnTensorDescriptor_t x, const void *xp,
    const cudnnFilterDescriptor_t w, const void *wp,
    const cudnnConvolutionDescriptor_t conv, cudnnConvolutionFwdAlgo_t algo,
    void *ws, size_t ws_size, const cudnnTensorDescriptor_t y, void *yp)
{
  cudnnStatus_t st = check_all (x, w, conv, y);
  size_t need;

  if (h == NULL || xp == NULL || wp == NULL || yp == NULL)
    return CUDNN_STATUS_BAD_PARAM;
  if (st != CUDNN_STATUS_SUCCESS)
    return st;
  if (!algo_ok (algo, w, conv))
    return CUDNN_STATUS_NOT_SUPPORTED;
  need = algo_memory (algo, x, w, y);
  if (ws_size < need || (need > 0 && ws == NULL))
    return CUDNN_STATUS_BAD_PARAM;
  /* the algorithm's scratch use: a workspace that is too small shows */
  if (need > 0)
    memset (ws, 0xa5, need);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnConvolutionForward (cudnnHandle_t h, const void *alpha,
    const cudnnTensorDescriptor_t xd, const void *x,
    const cudnnFilterDescriptor_t wd, const void *w,
    const cudnnConvolutionDescriptor_t cd, cudnnConvolutionFwdAlgo_t algo,
    void *ws, size_t ws_size, const void *beta,
    const cudnnTensorDescriptor_t yd, void *y)
{
  const cudnnStatus_t st
      = check_run (h, xd, x, wd, w, cd, algo, ws, ws_size, yd, y);
  const float a = alpha != NULL ? *(const float *)alpha : 0.0f;
  const float b = beta != NULL ? *(const float *)beta : 0.0f;
  float *out = y;
  int n, k, oy, ox;

  if (st != CUDNN_STATUS_SUCCESS)
    return st;
  if (alpha == NULL || beta == NULL)
    return CUDNN_STATUS_BAD_PARAM;
  for (n = 0; n < yd->n; n++)
    for (k = 0; k < yd->c; k++)
      for (oy = 0; oy < yd->h; oy++)
        for (ox = 0; ox < yd->w; ox++) {
          const size_t o = offset (yd, n, k, oy, ox);
          float v = a * conv_at (xd, x, wd, w, cd, n, k, oy, ox);

          if (b != 0.0f)
            v += b * out[o];
          out[o] = v;
        }
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t
cudnnConvolutionBiasActivationForward (cudnnHandle_t h, const void *alpha1,
    const cudnnTensorDescriptor_t xd, const void *x,
    const cudnnFilterDescriptor_t wd, const void *w,
    const cudnnConvolutionDescriptor_t cd, cudnnConvolutionFwdAlgo_t algo,
    void *ws, size_t ws_size, const void *alpha2,
    const cudnnTensorDescriptor_t zd, const void *z,
    const cudnnTensorDescriptor_t bd, const void *bias,
    const cudnnActivationDescriptor_t ad, const cudnnTensorDescriptor_t yd,
    void *y)
{
  const cudnnStatus_t st
      = check_run (h, xd, x, wd, w, cd, algo, ws, ws_size, yd, y);
  const float *zp = z, *bp = bias;
  float *out = y;
  float a1, a2;
  int n, k, oy, ox;

  if (st != CUDNN_STATUS_SUCCESS)
    return st;
  if (alpha1 == NULL || alpha2 == NULL || zd == NULL || bd == NULL
      || bias == NULL || ad == NULL || !zd->set || !bd->set || !ad->set)
    return CUDNN_STATUS_BAD_PARAM;
  if (zd->n != yd->n || zd->c != yd->c || zd->h != yd->h || zd->w != yd->w
      || bd->n != 1 || bd->c != yd->c || bd->h != 1 || bd->w != 1)
    return CUDNN_STATUS_BAD_PARAM;
  if (ad->mode != CUDNN_ACTIVATION_RELU
      && ad->mode != CUDNN_ACTIVATION_IDENTITY)
    return CUDNN_STATUS_NOT_SUPPORTED;
  if (ad->mode == CUDNN_ACTIVATION_IDENTITY
      && algo != CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM)
    return CUDNN_STATUS_NOT_SUPPORTED;
  a1 = *(const float *)alpha1;
  a2 = *(const float *)alpha2;
  for (n = 0; n < yd->n; n++)
    for (k = 0; k < yd->c; k++)
      for (oy = 0; oy < yd->h; oy++)
        for (ox = 0; ox < yd->w; ox++) {
          float v = a1 * conv_at (xd, x, wd, w, cd, n, k, oy, ox);

          if (a2 != 0.0f)
            v += a2 * zp[offset (zd, n, k, oy, ox)];
          v += bp[offset (bd, 0, k, 0, 0)];
          if (ad->mode == CUDNN_ACTIVATION_RELU)
            v = v > 0.0f ? v : 0.0f;
          out[offset (yd, n, k, oy, ox)] = v;
        }
  return CUDNN_STATUS_SUCCESS;
}
