/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The public ops of affect-tensor.h: argument and shape checks, TensorFlow
 * output-size and padding rules, batch-norm/affine folding, then dispatch
 * through the backend function table (affect-backend.h).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "affect-ops-private.h"

static GMutex prepare_lock;

void
affect_ops_prepare_lock (void)
{
  g_mutex_lock (&prepare_lock);
}

void
affect_ops_prepare_unlock (void)
{
  g_mutex_unlock (&prepare_lock);
}

gboolean
affect_ops_check_tensor (const AffectTensor *x, AffectOp op, const gchar *func)
{
  /* NULL after a recorded failure (an allocation on a device): passed
   * along quietly, the caller takes the failure from the backend */
  AFFECT_PASS_FAILURE (x, FALSE);
  if (x == NULL || x->backend == NULL || x->data == NULL) {
    g_critical ("%s: invalid (NULL or freed) tensor", func);
    return FALSE;
  }
  if (!affect_backend_supports_op (x->backend, op)) {
    g_critical ("%s: backend %s does not implement this op", func,
        x->backend->ops->name);
    return FALSE;
  }
  return TRUE;
}

/* Output size and "before" pad of one spatial dimension, TF rules. */
static gboolean
window_out_size (
    int in, int k, int stride, AffectPadding padding, int *out, int *pad_before)
{
  if (in <= 0 || k <= 0 || stride <= 0)
    return FALSE;
  if (padding == AFFECT_PAD_VALID) {
    if (in < k)
      return FALSE;
    *out = (in - k) / stride + 1;
    *pad_before = 0;
  } else {
    gint64 total;
    *out = (int)(((gint64)in + stride - 1) / stride);
    total = (gint64)(*out - 1) * stride + k - in;
    if (total < 0)
      total = 0;
    *pad_before = (int)(total / 2);
  }
  return TRUE;
}

/* n floats from a product of dims; 0 on overflow or non-positive dims. */
static gsize
checked_count (int a, int b, int c, int d)
{
  gsize total = 1, bytes;

  if (a <= 0 || b <= 0 || c <= 0 || d <= 0)
    return 0;
  if (!g_size_checked_mul (&total, total, (gsize)a)
      || !g_size_checked_mul (&total, total, (gsize)b)
      || !g_size_checked_mul (&total, total, (gsize)c)
      || !g_size_checked_mul (&total, total, (gsize)d)
      || !g_size_checked_mul (&bytes, total, sizeof (float))
      || bytes > G_MAXSSIZE)
    return 0;
  return total;
}

static float *
dup_floats (const float *src, gsize count)
{
  float *dst = g_try_new (float, count);
  if (dst != NULL)
    memcpy (dst, src, count * sizeof (float));
  return dst;
}

/* ---- convolutions ------------------------------------------------------ */

static AffectConv *
conv_new (AffectBackend *backend, AffectConvKind kind, AffectOp op, int kh,
    int kw, int cin, int cout, int stride, AffectPadding padding,
    const float *dw_filter, const float *filter, const float *bias,
    AffectActivation act, const gchar *func)
{
  AffectConv *conv;
  gsize dw_count = 0, count = 0, bias_count;

  g_return_val_if_fail (backend != NULL, NULL);
  if (kh <= 0 || kw <= 0 || cin <= 0 || cout <= 0 || stride <= 0) {
    g_critical ("%s: invalid geometry kernel %d×%d, %d -> %d channels, "
                "stride %d",
        func, kh, kw, cin, cout, stride);
    return NULL;
  }
  if ((gint64)kh * kw * cin > G_MAXINT || (gint64)kh * kw > G_MAXINT) {
    g_critical (
        "%s: kernel %d×%d over %d channels is too large", func, kh, kw, cin);
    return NULL;
  }
  if (padding != AFFECT_PAD_VALID && padding != AFFECT_PAD_SAME) {
    g_critical ("%s: invalid padding %d", func, padding);
    return NULL;
  }
  if (act < AFFECT_ACT_NONE || act > AFFECT_ACT_LEAKY) {
    g_critical ("%s: invalid activation %d", func, act);
    return NULL;
  }
  if (!affect_backend_supports_op (backend, op)) {
    g_critical (
        "%s: backend %s does not implement this op", func, backend->ops->name);
    return NULL;
  }

  if (kind != AFFECT_CONV_REGULAR) {
    g_return_val_if_fail (dw_filter != NULL, NULL);
    dw_count = checked_count (kh, kw, cin, 1);
  }
  if (kind == AFFECT_CONV_REGULAR) {
    g_return_val_if_fail (filter != NULL, NULL);
    count = checked_count (kh, kw, cin, cout);
  } else if (kind == AFFECT_CONV_SEPARABLE) {
    g_return_val_if_fail (filter != NULL, NULL);
    count = checked_count (1, 1, cin, cout);
  }
  if ((kind != AFFECT_CONV_REGULAR && dw_count == 0)
      || (kind != AFFECT_CONV_DEPTHWISE && count == 0)) {
    g_critical ("%s: filter of kernel %d×%d, %d -> %d channels is too large",
        func, kh, kw, cin, cout);
    return NULL;
  }
  bias_count = (gsize)cout;

  conv = g_new0 (AffectConv, 1);
  conv->backend = affect_backend_ref (backend);
  conv->kind = kind;
  conv->kh = kh;
  conv->kw = kw;
  conv->cin = cin;
  conv->cout = cout;
  conv->stride = stride;
  conv->padding = padding;
  conv->act = act;
  if (dw_count)
    conv->dw_filter = dup_floats (dw_filter, dw_count);
  if (count)
    conv->filter = dup_floats (filter, count);
  conv->bias = g_try_new0 (float, bias_count);
  if ((dw_count && !conv->dw_filter) || (count && !conv->filter)
      || !conv->bias) {
    g_critical ("%s: out of memory for a %d×%d %d -> %d filter", func, kh, kw,
        cin, cout);
    affect_conv_free (conv);
    return NULL;
  }
  if (bias)
    memcpy (conv->bias, bias, bias_count * sizeof (float));
  return conv;
}

AffectConv *
affect_conv_new (AffectBackend *backend, int kh, int kw, int cin, int cout,
    int stride, AffectPadding padding, const float *filter, const float *bias,
    AffectActivation act)
{
  return conv_new (backend, AFFECT_CONV_REGULAR, AFFECT_OP_CONV, kh, kw, cin,
      cout, stride, padding, NULL, filter, bias, act, G_STRFUNC);
}

AffectConv *
affect_conv_new_depthwise (AffectBackend *backend, int kh, int kw, int c,
    int stride, AffectPadding padding, const float *filter, const float *bias,
    AffectActivation act)
{
  return conv_new (backend, AFFECT_CONV_DEPTHWISE, AFFECT_OP_CONV_DEPTHWISE, kh,
      kw, c, c, stride, padding, filter, NULL, bias, act, G_STRFUNC);
}

AffectConv *
affect_conv_new_separable (AffectBackend *backend, int kh, int kw, int cin,
    int cout, int stride, AffectPadding padding, const float *depthwise_filter,
    const float *pointwise_filter, const float *bias, AffectActivation act)
{
  return conv_new (backend, AFFECT_CONV_SEPARABLE, AFFECT_OP_CONV_SEPARABLE, kh,
      kw, cin, cout, stride, padding, depthwise_filter, pointwise_filter, bias,
      act, G_STRFUNC);
}

/* Drops the backend's prepared copy so the next forward repacks. */
static void
conv_unprepare (AffectConv *conv)
{
  affect_ops_prepare_lock ();
  if (conv->prepared) {
    conv->backend->ops->conv_free (conv->backend, conv);
    conv->priv = NULL;
    conv->prepared = FALSE;
  }
  affect_ops_prepare_unlock ();
}

/* y' = y * scale[o] + shift[o] folded into the filter that produces output
 * channel o and into the bias. Computed in double, stored float. */
static void
conv_fold (AffectConv *conv, const double *scale, const double *shift)
{
  int o;
  gsize i, rows;

  conv_unprepare (conv);

  if (scale != NULL) {
    if (conv->kind == AFFECT_CONV_DEPTHWISE) {
      rows = (gsize)conv->kh * conv->kw;
      for (i = 0; i < rows; i++)
        for (o = 0; o < conv->cout; o++)
          conv->dw_filter[i * conv->cout + o]
              = (float)(conv->dw_filter[i * conv->cout + o] * scale[o]);
    } else {
      rows = conv->kind == AFFECT_CONV_REGULAR
                 ? (gsize)conv->kh * conv->kw * conv->cin
                 : (gsize)conv->cin;
      for (i = 0; i < rows; i++)
        for (o = 0; o < conv->cout; o++)
          conv->filter[i * conv->cout + o]
              = (float)(conv->filter[i * conv->cout + o] * scale[o]);
    }
  }
  for (o = 0; o < conv->cout; o++) {
    double b = conv->bias[o];
    if (scale != NULL)
      b *= scale[o];
    if (shift != NULL)
      b += shift[o];
    conv->bias[o] = (float)b;
  }
}

void
affect_conv_set_affine (
    AffectConv *conv, const float *scale, const float *shift)
{
  double *s = NULL, *b = NULL;
  int o;

  g_return_if_fail (conv != NULL);
  if (scale == NULL && shift == NULL)
    return;
  if (scale) {
    s = g_new (double, conv->cout);
    for (o = 0; o < conv->cout; o++)
      s[o] = scale[o];
  }
  if (shift) {
    b = g_new (double, conv->cout);
    for (o = 0; o < conv->cout; o++)
      b[o] = shift[o];
  }
  conv_fold (conv, s, b);
  g_free (s);
  g_free (b);
}

void
affect_conv_set_batch_norm (AffectConv *conv, const float *mean,
    const float *variance, const float *gamma, const float *beta, float eps)
{
  double *s, *b;
  int o;

  g_return_if_fail (conv != NULL);
  g_return_if_fail (mean != NULL && variance != NULL);

  s = g_new (double, conv->cout);
  b = g_new (double, conv->cout);
  for (o = 0; o < conv->cout; o++) {
    double v = (double)variance[o] + (double)eps;
    double g = gamma ? gamma[o] : 1.0;
    if (!(v > 0.0)) {
      g_critical ("%s: variance + eps of channel %d is %g (must be > 0)",
          G_STRFUNC, o, v);
      v = 1.0;
    }
    s[o] = g / sqrt (v);
    b[o] = (beta ? beta[o] : 0.0) - (double)mean[o] * s[o];
  }
  conv_fold (conv, s, b);
  g_free (s);
  g_free (b);
}

void
affect_conv_get_output_size (AffectConv *conv, int h, int w, int *oh, int *ow)
{
  int ph, pw, a = 0, b = 0;

  g_return_if_fail (conv != NULL);
  if (!window_out_size (h, conv->kh, conv->stride, conv->padding, &a, &ph)
      || !window_out_size (w, conv->kw, conv->stride, conv->padding, &b, &pw)) {
    a = 0;
    b = 0;
  }
  if (oh)
    *oh = a;
  if (ow)
    *ow = b;
}

static const AffectOp conv_kind_op[]
    = { AFFECT_OP_CONV, AFFECT_OP_CONV_DEPTHWISE, AFFECT_OP_CONV_SEPARABLE };

AffectTensor *
affect_conv_forward (AffectConv *conv, const AffectTensor *x)
{
  AffectTensor *y;
  int oh, ow, pt, pl;
  gboolean ok = TRUE;

  g_return_val_if_fail (conv != NULL, NULL);
  if (!affect_ops_check_tensor (x, conv_kind_op[conv->kind], G_STRFUNC))
    return NULL;
  if (x->backend != conv->backend) {
    g_critical ("%s: input on backend %s, layer on backend %s", G_STRFUNC,
        x->backend->ops->name, conv->backend->ops->name);
    return NULL;
  }
  if (x->c != conv->cin) {
    g_critical ("%s: input " SHAPE_FMT " has %d channels, the %d×%d layer "
                "expects %d",
        G_STRFUNC, SHAPE_ARGS (x), x->c, conv->kh, conv->kw, conv->cin);
    return NULL;
  }
  if (!window_out_size (x->h, conv->kh, conv->stride, conv->padding, &oh, &pt)
      || !window_out_size (
          x->w, conv->kw, conv->stride, conv->padding, &ow, &pl)) {
    g_critical ("%s: input " SHAPE_FMT " is smaller than the %d×%d VALID "
                "kernel",
        G_STRFUNC, SHAPE_ARGS (x), conv->kh, conv->kw);
    return NULL;
  }
  if ((gint64)x->n * oh * ow > G_MAXINT) {
    g_critical ("%s: input " SHAPE_FMT " too large for one call", G_STRFUNC,
        SHAPE_ARGS (x));
    return NULL;
  }

  if (!g_atomic_int_get (&conv->prepared)) {
    affect_ops_prepare_lock ();
    if (!conv->prepared) {
      ok = conv->backend->ops->conv_prepare (conv->backend, conv);
      if (ok)
        g_atomic_int_set (&conv->prepared, TRUE);
    }
    affect_ops_prepare_unlock ();
    if (!ok && conv->backend->ops->host_memory) {
      g_critical ("%s: backend %s could not prepare a %d×%d %d -> %d layer",
          G_STRFUNC, conv->backend->ops->name, conv->kh, conv->kw, conv->cin,
          conv->cout);
      return NULL;
    }
    /* a device backend recorded why (affect_backend_set_error): the
     * output is returned uncomputed, the caller checks the backend */
    if (!ok)
      affect_backend_set_error (conv->backend,
          "%s: could not prepare a layer on device %d", G_STRFUNC,
          conv->backend->device_id);
  }

  y = affect_tensor_new (x->backend, x->n, oh, ow, conv->cout);
  if (y == NULL)
    return NULL;
  if (ok)
    conv->backend->ops->conv_forward (conv->backend, conv, x, y, pt, pl);
  return y;
}

void
affect_conv_free (AffectConv *conv)
{
  if (conv == NULL)
    return;
  if (conv->prepared || conv->priv)
    conv->backend->ops->conv_free (conv->backend, conv);
  g_free (conv->filter);
  g_free (conv->dw_filter);
  g_free (conv->bias);
  affect_backend_unref (conv->backend);
  g_free (conv);
}

/* ---- fully connected --------------------------------------------------- */

AffectLinear *
affect_linear_new (AffectBackend *backend, int in, int out, const float *weight,
    gboolean transposed, const float *bias)
{
  AffectLinear *lin;
  gsize count;
  int i, o;

  g_return_val_if_fail (backend != NULL, NULL);
  g_return_val_if_fail (weight != NULL, NULL);
  count = checked_count (in, out, 1, 1);
  if (count == 0) {
    g_critical ("%s: invalid size %d -> %d", G_STRFUNC, in, out);
    return NULL;
  }
  if (!affect_backend_supports_op (backend, AFFECT_OP_LINEAR)) {
    g_critical ("%s: backend %s does not implement this op", G_STRFUNC,
        backend->ops->name);
    return NULL;
  }

  lin = g_new0 (AffectLinear, 1);
  lin->backend = affect_backend_ref (backend);
  lin->in = in;
  lin->out = out;
  lin->weight = g_try_new (float, count);
  lin->bias = g_try_new0 (float, out);
  if (lin->weight == NULL || lin->bias == NULL) {
    g_critical ("%s: out of memory for a %d -> %d layer", G_STRFUNC, in, out);
    affect_linear_free (lin);
    return NULL;
  }
  if (transposed) {
    /* in tiles, so that a large layer (Whisper's 51 864 × 384 output
     * projection) is not written one float per cache line */
    const int tile = 32;
    int i0, o0;

    for (o0 = 0; o0 < out; o0 += tile)
      for (i0 = 0; i0 < in; i0 += tile)
        for (o = o0; o < MIN (o0 + tile, out); o++)
          for (i = i0; i < MIN (i0 + tile, in); i++)
            lin->weight[(gsize)i * out + o] = weight[(gsize)o * in + i];
  } else {
    memcpy (lin->weight, weight, count * sizeof (float));
  }
  if (bias)
    memcpy (lin->bias, bias, (gsize)out * sizeof (float));
  return lin;
}

AffectTensor *
affect_linear_forward (AffectLinear *lin, const AffectTensor *x)
{
  AffectTensor *y;
  gsize rows;
  gboolean ok = TRUE;

  g_return_val_if_fail (lin != NULL, NULL);
  if (!affect_ops_check_tensor (x, AFFECT_OP_LINEAR, G_STRFUNC))
    return NULL;
  if (x->backend != lin->backend) {
    g_critical ("%s: input on backend %s, layer on backend %s", G_STRFUNC,
        x->backend->ops->name, lin->backend->ops->name);
    return NULL;
  }
  if (x->c != lin->in) {
    g_critical ("%s: input " SHAPE_FMT " has last dimension %d, the layer "
                "expects %d",
        G_STRFUNC, SHAPE_ARGS (x), x->c, lin->in);
    return NULL;
  }
  rows = (gsize)x->n * x->h * x->w;
  if (rows > G_MAXINT) {
    g_critical ("%s: input " SHAPE_FMT " too large for one call", G_STRFUNC,
        SHAPE_ARGS (x));
    return NULL;
  }
  if (!g_atomic_int_get (&lin->prepared)) {
    affect_ops_prepare_lock ();
    if (!lin->prepared) {
      ok = lin->backend->ops->linear_prepare (lin->backend, lin);
      if (ok)
        g_atomic_int_set (&lin->prepared, TRUE);
    }
    affect_ops_prepare_unlock ();
    if (!ok && lin->backend->ops->host_memory) {
      g_critical ("%s: backend %s could not prepare a %d -> %d layer",
          G_STRFUNC, lin->backend->ops->name, lin->in, lin->out);
      return NULL;
    }
    /* a device backend recorded why (affect_backend_set_error): the
     * output is returned uncomputed, the caller checks the backend */
    if (!ok)
      affect_backend_set_error (lin->backend,
          "%s: could not prepare a layer on device %d", G_STRFUNC,
          lin->backend->device_id);
  }
  y = affect_tensor_new (x->backend, x->n, x->h, x->w, lin->out);
  if (y == NULL)
    return NULL;
  if (ok)
    lin->backend->ops->linear_forward (lin->backend, lin, x, y, rows);
  return y;
}

void
affect_linear_free (AffectLinear *lin)
{
  if (lin == NULL)
    return;
  if (lin->prepared || lin->priv)
    lin->backend->ops->linear_free (lin->backend, lin);
  g_free (lin->weight);
  g_free (lin->bias);
  affect_backend_unref (lin->backend);
  g_free (lin);
}

/* ---- stateless ops ----------------------------------------------------- */

AffectTensor *
affect_pad (const AffectTensor *x, int top, int bottom, int left, int right)
{
  AffectTensor *y;
  gint64 oh, ow;

  if (!affect_ops_check_tensor (x, AFFECT_OP_PAD, G_STRFUNC))
    return NULL;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    g_critical ("%s: negative padding (%d, %d, %d, %d) of " SHAPE_FMT,
        G_STRFUNC, top, bottom, left, right, SHAPE_ARGS (x));
    return NULL;
  }
  oh = (gint64)x->h + top + bottom;
  ow = (gint64)x->w + left + right;
  if (oh > G_MAXINT || ow > G_MAXINT) {
    g_critical ("%s: padded size of " SHAPE_FMT " too large", G_STRFUNC,
        SHAPE_ARGS (x));
    return NULL;
  }
  y = affect_tensor_new (x->backend, x->n, (int)oh, (int)ow, x->c);
  if (y == NULL)
    return NULL;
  x->backend->ops->pad (x->backend, x, y, top, left);
  return y;
}

static AffectTensor *
pool (const AffectTensor *x, AffectPoolKind kind, int k, int stride,
    AffectPadding padding, const gchar *func)
{
  AffectTensor *y;
  int oh, ow, pt, pl;

  if (!affect_ops_check_tensor (x,
          kind == AFFECT_POOL_MAX ? AFFECT_OP_MAX_POOL : AFFECT_OP_AVG_POOL,
          func))
    return NULL;
  if (k <= 0 || stride <= 0
      || (padding != AFFECT_PAD_SAME && padding != AFFECT_PAD_VALID)) {
    g_critical ("%s: invalid window %d, stride %d or padding %d", func, k,
        stride, padding);
    return NULL;
  }
  if (!window_out_size (x->h, k, stride, padding, &oh, &pt)
      || !window_out_size (x->w, k, stride, padding, &ow, &pl)) {
    g_critical ("%s: input " SHAPE_FMT " is smaller than the %d×%d VALID "
                "window",
        func, SHAPE_ARGS (x), k, k);
    return NULL;
  }
  y = affect_tensor_new (x->backend, x->n, oh, ow, x->c);
  if (y == NULL)
    return NULL;
  x->backend->ops->pool (x->backend, kind, x, y, k, stride, pt, pl);
  return y;
}

AffectTensor *
affect_max_pool (
    const AffectTensor *x, int k, int stride, AffectPadding padding)
{
  return pool (x, AFFECT_POOL_MAX, k, stride, padding, G_STRFUNC);
}

AffectTensor *
affect_avg_pool (
    const AffectTensor *x, int k, int stride, AffectPadding padding)
{
  return pool (x, AFFECT_POOL_AVG, k, stride, padding, G_STRFUNC);
}

AffectTensor *
affect_global_mean (const AffectTensor *x)
{
  AffectTensor *y;

  if (!affect_ops_check_tensor (x, AFFECT_OP_GLOBAL_MEAN, G_STRFUNC))
    return NULL;
  y = affect_tensor_new (x->backend, x->n, 1, 1, x->c);
  if (y == NULL)
    return NULL;
  x->backend->ops->global_mean (x->backend, x, y);
  return y;
}

static gboolean
check_same_shape (
    const AffectTensor *a, const AffectTensor *b, const gchar *func)
{
  if (!affect_ops_check_tensor (a, AFFECT_OP_ADD, func)
      || !affect_ops_check_tensor (b, AFFECT_OP_ADD, func))
    return FALSE;
  if (a->n != b->n || a->h != b->h || a->w != b->w || a->c != b->c) {
    g_critical ("%s: shapes differ: " SHAPE_FMT " vs " SHAPE_FMT, func,
        SHAPE_ARGS (a), SHAPE_ARGS (b));
    return FALSE;
  }
  if (a->backend != b->backend) {
    g_critical ("%s: tensors on different backends (%s, %s)", func,
        a->backend->ops->name, b->backend->ops->name);
    return FALSE;
  }
  return TRUE;
}

AffectTensor *
affect_add (const AffectTensor *a, const AffectTensor *b)
{
  AffectTensor *y;

  if (!check_same_shape (a, b, G_STRFUNC))
    return NULL;
  y = affect_tensor_new (a->backend, a->n, a->h, a->w, a->c);
  if (y == NULL)
    return NULL;
  a->backend->ops->add (a->backend, a, b, y);
  return y;
}

void
affect_add_inplace (AffectTensor *a, const AffectTensor *b)
{
  if (!check_same_shape (a, b, G_STRFUNC))
    return;
  a->backend->ops->add (a->backend, a, b, a);
}

void
affect_activate_inplace (AffectTensor *x, AffectActivation act)
{
  AffectUnaryOp op;

  switch (act) {
    case AFFECT_ACT_NONE:
      g_return_if_fail (x != NULL);
      return;
    case AFFECT_ACT_RELU:
      op = AFFECT_UNARY_RELU;
      break;
    case AFFECT_ACT_RELU6:
      op = AFFECT_UNARY_RELU6;
      break;
    case AFFECT_ACT_LEAKY:
      op = AFFECT_UNARY_LEAKY;
      break;
    default:
      g_critical ("%s: invalid activation %d", G_STRFUNC, act);
      return;
  }
  if (!affect_ops_check_tensor (x, AFFECT_OP_ACTIVATE, G_STRFUNC))
    return;
  x->backend->ops->unary (x->backend, x, op);
}

void
affect_softmax_inplace (AffectTensor *x)
{
  if (!affect_ops_check_tensor (x, AFFECT_OP_SOFTMAX, G_STRFUNC))
    return;
  x->backend->ops->softmax (x->backend, x);
}

void
affect_sigmoid_inplace (AffectTensor *x)
{
  if (!affect_ops_check_tensor (x, AFFECT_OP_SIGMOID, G_STRFUNC))
    return;
  x->backend->ops->unary (x->backend, x, AFFECT_UNARY_SIGMOID);
}

void
affect_tanh_inplace (AffectTensor *x)
{
  if (!affect_ops_check_tensor (x, AFFECT_OP_TANH, G_STRFUNC))
    return;
  x->backend->ops->unary (x->backend, x, AFFECT_UNARY_TANH);
}

AffectTensor *
affect_concat_channels (const AffectTensor *a, const AffectTensor *b)
{
  AffectTensor *y;

  if (!affect_ops_check_tensor (a, AFFECT_OP_CONCAT_CHANNELS, G_STRFUNC)
      || !affect_ops_check_tensor (b, AFFECT_OP_CONCAT_CHANNELS, G_STRFUNC))
    return NULL;
  if (a->n != b->n || a->h != b->h || a->w != b->w) {
    g_critical ("%s: shapes " SHAPE_FMT " and " SHAPE_FMT " differ in "
                "n, h or w",
        G_STRFUNC, SHAPE_ARGS (a), SHAPE_ARGS (b));
    return NULL;
  }
  if (a->backend != b->backend) {
    g_critical ("%s: tensors on different backends (%s, %s)", G_STRFUNC,
        a->backend->ops->name, b->backend->ops->name);
    return NULL;
  }
  if ((gint64)a->c + b->c > G_MAXINT) {
    g_critical ("%s: too many channels", G_STRFUNC);
    return NULL;
  }
  y = affect_tensor_new (a->backend, a->n, a->h, a->w, a->c + b->c);
  if (y == NULL)
    return NULL;
  a->backend->ops->concat_channels (a->backend, a, b, y);
  return y;
}

AffectTensor *
affect_pad_channels (const AffectTensor *x, int c)
{
  AffectTensor *y;

  if (!affect_ops_check_tensor (x, AFFECT_OP_PAD_CHANNELS, G_STRFUNC))
    return NULL;
  if (c < x->c) {
    g_critical ("%s: cannot pad " SHAPE_FMT " to fewer channels (%d)",
        G_STRFUNC, SHAPE_ARGS (x), c);
    return NULL;
  }
  y = affect_tensor_new (x->backend, x->n, x->h, x->w, c);
  if (y == NULL)
    return NULL;
  x->backend->ops->pad_channels (x->backend, x, y);
  return y;
}

AffectTensor *
affect_resize_bilinear (const AffectTensor *x, int oh, int ow)
{
  AffectTensor *y;

  if (!affect_ops_check_tensor (x, AFFECT_OP_RESIZE_BILINEAR, G_STRFUNC))
    return NULL;
  if (oh <= 0 || ow <= 0) {
    g_critical ("%s: invalid output size %d×%d for " SHAPE_FMT, G_STRFUNC, oh,
        ow, SHAPE_ARGS (x));
    return NULL;
  }
  y = affect_tensor_new (x->backend, x->n, oh, ow, x->c);
  if (y == NULL)
    return NULL;
  x->backend->ops->resize_bilinear (x->backend, x, y);
  return y;
}
