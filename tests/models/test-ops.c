/* gst-affect — tests/models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of the inference core (affect-tensor.h) on the CPU backend:
 * small hand-computed cases (padding placement, pooling, resize), then every
 * op against a naive double-precision reference written here, on random
 * shapes with odd sizes and batches, with 1 and 2 threads.
 */

#include <check.h>
#include <math.h>
#include <string.h>
#include <stdlib.h>

#include <affect-tensor.h>

/* ---- helpers ----------------------------------------------------------- */

static int n_criticals;

static void
count_log (const gchar *domain, GLogLevelFlags level, const gchar *message,
    gpointer data)
{
  if (level & G_LOG_LEVEL_CRITICAL)
    n_criticals++;
}

/* Expect criticals between begin/end (bad arguments are reported, not
 * fatal). */
static GLogFunc saved_handler;
static gpointer saved_data;

static void
expect_criticals_begin (void)
{
  n_criticals = 0;
  saved_handler = g_log_set_default_handler (count_log, NULL);
  (void)saved_data;
}

static int
expect_criticals_end (void)
{
  g_log_set_default_handler (saved_handler, NULL);
  return n_criticals;
}

static GRand *rng;

static float *
random_floats (gsize n, double lo, double hi)
{
  float *v = g_new (float, n);
  gsize i;
  for (i = 0; i < n; i++)
    v[i] = (float)g_rand_double_range (rng, lo, hi);
  return v;
}

static AffectTensor *
tensor_from (AffectBackend *be, int n, int h, int w, int c, const float *v)
{
  AffectTensor *t = affect_tensor_new (be, n, h, w, c);
  ck_assert_ptr_nonnull (t);
  affect_tensor_upload (t, v);
  return t;
}

static float *
tensor_to_host (const AffectTensor *t)
{
  float *v = g_new (float, affect_tensor_n_elements (t));
  affect_tensor_download (t, v);
  return v;
}

static void
assert_shape (const AffectTensor *t, int n, int h, int w, int c)
{
  ck_assert_ptr_nonnull (t);
  ck_assert_msg (t->n == n && t->h == h && t->w == w && t->c == c,
      "shape [%d, %d, %d, %d], expected [%d, %d, %d, %d]", t->n, t->h, t->w,
      t->c, n, h, w, c);
}

/* |got - ref| <= tol * scale (+ a tiny absolute floor) element-wise, where
 * scale is the sum of the magnitudes of the terms that made ref. */
static void
assert_close (const float *got, const double *ref, const double *scale, gsize n,
    double tol, const gchar *what)
{
  gsize i;
  for (i = 0; i < n; i++) {
    double s = scale ? scale[i] : fabs (ref[i]);
    double err = fabs ((double)got[i] - ref[i]);
    ck_assert_msg (err <= tol * s + 1e-30 && !isnan (got[i]),
        "%s: element %" G_GSIZE_FORMAT ": got %.9g, expected %.9g "
        "(error %.3g, allowed %.3g)",
        what, i, got[i], ref[i], err, tol * s);
  }
}

static void
assert_floats_equal (
    const float *got, const float *want, gsize n, const gchar *what)
{
  gsize i;
  for (i = 0; i < n; i++)
    ck_assert_msg (got[i] == want[i],
        "%s: element %" G_GSIZE_FORMAT ": got %.9g, expected %.9g", what, i,
        got[i], want[i]);
}

/* TF padding, written independently of the library. */
static void
ref_window (int in, int k, int s, AffectPadding p, int *out, int *before)
{
  if (p == AFFECT_PAD_VALID) {
    *out = (in - k) / s + 1;
    *before = 0;
  } else {
    int total;
    *out = (in + s - 1) / s;
    total = (*out - 1) * s + k - in;
    *before = total > 0 ? total / 2 : 0;
  }
}

static double
ref_act (double v, AffectActivation act)
{
  switch (act) {
    case AFFECT_ACT_RELU:
      return v > 0 ? v : 0;
    case AFFECT_ACT_RELU6:
      return v < 0 ? 0 : (v > 6 ? 6 : v);
    case AFFECT_ACT_LEAKY:
      return v > 0 ? v : 0.1 * v;
    default:
      return v;
  }
}

/* Naive convolution in double. depthwise: output channel o reads input
 * channel o with filter [kh, kw, c]. Optional per-channel post affine
 * (scale, shift) before the activation. Returns output and |terms| sums. */
static void
ref_conv (const float *x, int n, int h, int w, int cin, const float *f, int kh,
    int kw, int cout, int stride, AffectPadding pad, gboolean depthwise,
    const float *bias, const double *post_scale, const double *post_shift,
    AffectActivation act, int *poh, int *pow, double **out, double **scale)
{
  int oh, ow, pt, pl, b, oy, ox, o, ky, kx, i;
  double *y, *s;

  ref_window (h, kh, stride, pad, &oh, &pt);
  ref_window (w, kw, stride, pad, &ow, &pl);
  y = g_new0 (double, (gsize)n *oh *ow *cout);
  s = g_new0 (double, (gsize)n *oh *ow *cout);
  for (b = 0; b < n; b++)
    for (oy = 0; oy < oh; oy++)
      for (ox = 0; ox < ow; ox++)
        for (o = 0; o < cout; o++) {
          double acc = bias ? bias[o] : 0.0;
          double mag = fabs (acc);
          gsize idx = (((gsize)b * oh + oy) * ow + ox) * cout + o;
          for (ky = 0; ky < kh; ky++)
            for (kx = 0; kx < kw; kx++) {
              int iy = oy * stride - pt + ky, ix = ox * stride - pl + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                continue;
              if (depthwise) {
                double t = (double)x[(((gsize)b * h + iy) * w + ix) * cin + o]
                           * f[((gsize)ky * kw + kx) * cin + o];
                acc += t;
                mag += fabs (t);
              } else {
                for (i = 0; i < cin; i++) {
                  double t = (double)x[(((gsize)b * h + iy) * w + ix) * cin + i]
                             * f[(((gsize)ky * kw + kx) * cin + i) * cout + o];
                  acc += t;
                  mag += fabs (t);
                }
              }
            }
          if (post_scale) {
            acc *= post_scale[o];
            mag *= fabs (post_scale[o]);
          }
          if (post_shift) {
            acc += post_shift[o];
            mag += fabs (post_shift[o]);
          }
          y[idx] = ref_act (acc, act);
          s[idx] = mag + 1e-12;
        }
  *poh = oh;
  *pow = ow;
  *out = y;
  *scale = s;
}

static AffectBackend *
cpu (int threads)
{
  AffectBackend *be = affect_backend_cpu_new (threads);
  ck_assert_ptr_nonnull (be);
  return be;
}

/* ---- backends and tensors ---------------------------------------------- */

START_TEST (test_backend_new)
{
  GError *err = NULL;
  AffectBackend *be;

  be = affect_backend_new (NULL, 1, &err);
  ck_assert_ptr_nonnull (be);
  ck_assert_str_eq (affect_backend_get_name (be), "cpu");
  ck_assert_int_eq (affect_backend_get_n_threads (be), 1);
  affect_backend_set_n_threads (be, 2);
  ck_assert_int_eq (affect_backend_get_n_threads (be), 2);
  affect_backend_set_n_threads (be, 0);
  ck_assert_int_eq (
      affect_backend_get_n_threads (be), (int)g_get_num_processors ());
  ck_assert_ptr_eq (affect_backend_ref (be), be);
  affect_backend_unref (be);
  affect_backend_unref (be);

  be = affect_backend_new ("cpu", 0, &err);
  ck_assert_ptr_nonnull (be);
  ck_assert_int_ge (affect_backend_get_n_threads (be), 1);
  affect_backend_unref (be);

#ifndef AFFECT_HAVE_CUDA
  be = affect_backend_new ("cuda", 1, &err);
  ck_assert_ptr_null (be);
  ck_assert (g_error_matches (
      err, AFFECT_BACKEND_ERROR, AFFECT_BACKEND_ERROR_NOT_AVAILABLE));
  ck_assert_ptr_nonnull (strstr (err->message, "built without CUDA"));
  g_clear_error (&err);
#endif

  be = affect_backend_new ("tpu", 1, &err);
  ck_assert_ptr_null (be);
  ck_assert (g_error_matches (
      err, AFFECT_BACKEND_ERROR, AFFECT_BACKEND_ERROR_UNKNOWN));
  ck_assert_ptr_nonnull (strstr (err->message, "tpu"));
  g_clear_error (&err);
}

END_TEST;

START_TEST (test_tensor_basics)
{
  AffectBackend *be = cpu (1);
  AffectTensor *t, *z;
  float *v = random_floats (2 * 3 * 5 * 7, -1, 1), *back;

  t = tensor_from (be, 2, 3, 5, 7, v);
  assert_shape (t, 2, 3, 5, 7);
  ck_assert_uint_eq (affect_tensor_n_elements (t), 210);
  ck_assert_ptr_eq (t->backend, be);
  ck_assert_ptr_nonnull (affect_tensor_host_data (t));
  back = tensor_to_host (t);
  assert_floats_equal (back, v, 210, "round trip");
  g_free (back);

  z = affect_tensor_new_zeros (be, 1, 4, 4, 3);
  back = tensor_to_host (z);
  for (int i = 0; i < 48; i++)
    ck_assert (back[i] == 0.0f);
  g_free (back);

  /* Bad shapes are refused, never allocated. */
  expect_criticals_begin ();
  ck_assert_ptr_null (affect_tensor_new (be, 0, 4, 4, 3));
  ck_assert_ptr_null (affect_tensor_new (be, 1, -4, 4, 3));
  ck_assert_ptr_null (affect_tensor_new (be, 65536, 65536, 65536, 65536));
  ck_assert_int_eq (expect_criticals_end (), 3);

  affect_tensor_free (t);
  affect_tensor_free (z);
  affect_tensor_free (NULL);
  affect_backend_unref (be);
  g_free (v);
}

END_TEST;

/* ---- hand-computed cases ----------------------------------------------- */

/* 4×4 input 1..16, 3×3 ones filter, SAME, stride 2: out 2×2, the one padded
 * row/column must be at the bottom/right (TF: pad_before = floor(1/2) = 0). */
START_TEST (test_conv_same_pad_placement)
{
  AffectBackend *be = cpu (1);
  float x[16], f[9], *y;
  const float want[4] = { 54, 45, 72, 54 };
  AffectConv *conv;
  AffectTensor *tx, *ty;
  int oh, ow, i;

  for (i = 0; i < 16; i++)
    x[i] = (float)(i + 1);
  for (i = 0; i < 9; i++)
    f[i] = 1.0f;
  conv = affect_conv_new (
      be, 3, 3, 1, 1, 2, AFFECT_PAD_SAME, f, NULL, AFFECT_ACT_NONE);
  affect_conv_get_output_size (conv, 4, 4, &oh, &ow);
  ck_assert_int_eq (oh, 2);
  ck_assert_int_eq (ow, 2);
  tx = tensor_from (be, 1, 4, 4, 1, x);
  ty = affect_conv_forward (conv, tx);
  assert_shape (ty, 1, 2, 2, 1);
  y = tensor_to_host (ty);
  assert_floats_equal (y, want, 4, "conv SAME/2 pad bottom-right");
  g_free (y);
  affect_tensor_free (ty);

  /* The same with a depthwise layer over 2 channels (second = 2×first). */
  {
    float x2[32], f2[18], want2[8];
    AffectConv *dw;
    for (i = 0; i < 16; i++) {
      x2[2 * i] = (float)(i + 1);
      x2[2 * i + 1] = 2.0f * (i + 1);
    }
    for (i = 0; i < 18; i++)
      f2[i] = 1.0f;
    for (i = 0; i < 4; i++) {
      want2[2 * i] = want[i];
      want2[2 * i + 1] = 2 * want[i];
    }
    dw = affect_conv_new_depthwise (
        be, 3, 3, 2, 2, AFFECT_PAD_SAME, f2, NULL, AFFECT_ACT_NONE);
    affect_tensor_free (tx);
    tx = tensor_from (be, 1, 4, 4, 2, x2);
    ty = affect_conv_forward (dw, tx);
    assert_shape (ty, 1, 2, 2, 2);
    y = tensor_to_host (ty);
    assert_floats_equal (y, want2, 8, "depthwise SAME/2 pad bottom-right");
    g_free (y);
    affect_tensor_free (ty);
    affect_conv_free (dw);
  }

  affect_tensor_free (tx);
  affect_conv_free (conv);
  affect_backend_unref (be);
}

END_TEST;

START_TEST (test_pool_hand)
{
  AffectBackend *be = cpu (1);
  float x[16], neg[9], *y;
  AffectTensor *tx, *ty;
  int i;

  /* Max-pool ignores padding: all-negative 3×3, 2×2/2 SAME -> 2×2. */
  for (i = 0; i < 9; i++)
    neg[i] = -(float)(i + 1);
  tx = tensor_from (be, 1, 3, 3, 1, neg);
  ty = affect_max_pool (tx, 2, 2, AFFECT_PAD_SAME);
  assert_shape (ty, 1, 2, 2, 1);
  y = tensor_to_host (ty);
  {
    const float want[4] = { -1, -3, -7, -9 };
    assert_floats_equal (y, want, 4, "max-pool SAME ignores padding");
  }
  g_free (y);
  affect_tensor_free (ty);

  /* 2×2 stride 1 SAME (tiny face detector's last pool): pad bottom/right. */
  ty = affect_max_pool (tx, 2, 1, AFFECT_PAD_SAME);
  assert_shape (ty, 1, 3, 3, 1);
  y = tensor_to_host (ty);
  {
    const float want[9] = { -1, -2, -3, -4, -5, -6, -7, -8, -9 };
    assert_floats_equal (y, want, 9, "max-pool 2x2/1 SAME");
  }
  g_free (y);
  affect_tensor_free (ty);
  affect_tensor_free (tx);

  /* Avg-pool divides by the in-bounds count: 4×4 1..16, 3×3/2 SAME. */
  for (i = 0; i < 16; i++)
    x[i] = (float)(i + 1);
  tx = tensor_from (be, 1, 4, 4, 1, x);
  ty = affect_avg_pool (tx, 3, 2, AFFECT_PAD_SAME);
  assert_shape (ty, 1, 2, 2, 1);
  y = tensor_to_host (ty);
  {
    const float want[4] = { 6.0f, 7.5f, 12.0f, 13.5f };
    assert_floats_equal (y, want, 4, "avg-pool SAME in-bounds counts");
  }
  g_free (y);
  affect_tensor_free (ty);

  /* VALID 2×2/2 -> 2×2 averages. */
  ty = affect_avg_pool (tx, 2, 2, AFFECT_PAD_VALID);
  assert_shape (ty, 1, 2, 2, 1);
  y = tensor_to_host (ty);
  {
    const float want[4] = { 3.5f, 5.5f, 11.5f, 13.5f };
    assert_floats_equal (y, want, 4, "avg-pool VALID");
  }
  g_free (y);
  affect_tensor_free (ty);
  affect_tensor_free (tx);
  affect_backend_unref (be);
}

END_TEST;

/* 2×2 [[0, 3], [6, 9]] -> 3×3 with TF's legacy rule: src = r * 2/3, the
 * last row/column clamps to the edge. */
START_TEST (test_resize_hand)
{
  AffectBackend *be = cpu (1);
  const float x[4] = { 0, 3, 6, 9 };
  const float want[9] = { 0, 2, 3, 4, 6, 7, 6, 8, 9 };
  AffectTensor *tx, *ty;
  float *y;
  int i;

  tx = tensor_from (be, 1, 2, 2, 1, x);
  ty = affect_resize_bilinear (tx, 3, 3);
  assert_shape (ty, 1, 3, 3, 1);
  y = tensor_to_host (ty);
  for (i = 0; i < 9; i++)
    ck_assert_msg (fabsf (y[i] - want[i]) <= 1e-6f, "resize [%d]: %.9g vs %g",
        i, y[i], want[i]);
  g_free (y);
  affect_tensor_free (ty);

  /* Same size is a copy. */
  ty = affect_resize_bilinear (tx, 2, 2);
  y = tensor_to_host (ty);
  assert_floats_equal (y, x, 4, "resize identity");
  g_free (y);
  affect_tensor_free (ty);
  affect_tensor_free (tx);
  affect_backend_unref (be);
}

END_TEST;

START_TEST (test_activations)
{
  AffectBackend *be = cpu (2);
  const gsize n = 40000; /* more than one parallel block */
  float *v = random_floats (n, -8, 8), *y;
  AffectTensor *t;
  gsize i;

  v[0] = 0.0f;
  v[1] = -0.0f;
  v[2] = 6.0f;
  v[3] = 1e-30f;
  v[4] = -3.3333333f;

  t = tensor_from (be, 1, 1, n / 8, 8, v);
  affect_activate_inplace (t, AFFECT_ACT_LEAKY);
  y = tensor_to_host (t);
  for (i = 0; i < n; i++) {
    /* The exact tfjs formula in float32. */
    volatile float m = 0.1f * v[i];
    volatile float d = v[i] - m;
    volatile float want = (d > 0.0f ? d : 0.0f) + m;
    ck_assert_msg (
        y[i] == want, "leaky(%.9g) = %.9g, expected %.9g", v[i], y[i], want);
  }
  g_free (y);
  affect_tensor_free (t);

  t = tensor_from (be, 1, 1, n / 8, 8, v);
  affect_activate_inplace (t, AFFECT_ACT_RELU6);
  y = tensor_to_host (t);
  for (i = 0; i < n; i++)
    ck_assert (y[i] == (float)ref_act (v[i], AFFECT_ACT_RELU6));
  g_free (y);
  affect_activate_inplace (t, AFFECT_ACT_NONE);
  affect_tensor_free (t);

  t = tensor_from (be, 1, 1, n / 8, 8, v);
  affect_activate_inplace (t, AFFECT_ACT_RELU);
  y = tensor_to_host (t);
  for (i = 0; i < n; i++)
    ck_assert (y[i] == (v[i] > 0 ? v[i] : 0.0f));
  g_free (y);
  affect_tensor_free (t);

  t = tensor_from (be, 2, 5, 4, 1000, v);
  affect_sigmoid_inplace (t);
  y = tensor_to_host (t);
  for (i = 0; i < n; i++)
    ck_assert_msg (fabs (y[i] - 1.0 / (1.0 + exp (-(double)v[i]))) <= 1e-7,
        "sigmoid(%g) = %g", v[i], y[i]);
  g_free (y);
  affect_tensor_free (t);

  t = tensor_from (be, 2, 5, 4, 1000, v);
  affect_tanh_inplace (t);
  y = tensor_to_host (t);
  for (i = 0; i < n; i++)
    ck_assert_msg (
        fabs (y[i] - tanh ((double)v[i])) <= 1e-7, "tanh(%g) = %g", v[i], y[i]);
  g_free (y);
  affect_tensor_free (t);

  g_free (v);
  affect_backend_unref (be);
}

END_TEST;

START_TEST (test_softmax)
{
  AffectBackend *be = cpu (1);
  const float x[9] = { 1, 2, 3, 1000, 1001, 1002, -5, -5, -5 };
  float *y;
  AffectTensor *t = tensor_from (be, 3, 1, 1, 3, x);
  double e1 = exp (-2.0), e2 = exp (-1.0), s = e1 + e2 + 1.0;
  const double want[9] = { e1 / s, e2 / s, 1 / s, e1 / s, e2 / s, 1 / s,
    1.0 / 3, 1.0 / 3, 1.0 / 3 };
  int i;

  affect_softmax_inplace (t);
  y = tensor_to_host (t);
  for (i = 0; i < 9; i++)
    ck_assert_msg (fabs (y[i] - want[i]) <= 1e-7, "softmax[%d] = %.9g vs %.9g",
        i, y[i], want[i]);
  g_free (y);
  affect_tensor_free (t);

  /* A random [2, 3, 2, 7] tensor: each row of 7 sums to 1. */
  {
    float *v = random_floats (84, -20, 20);
    t = tensor_from (be, 2, 3, 2, 7, v);
    affect_softmax_inplace (t);
    y = tensor_to_host (t);
    for (i = 0; i < 12; i++) {
      double mx = -INFINITY, sum = 0, ref_sum = 0;
      int j;
      for (j = 0; j < 7; j++)
        mx = MAX (mx, v[i * 7 + j]);
      for (j = 0; j < 7; j++)
        ref_sum += exp (v[i * 7 + j] - mx);
      for (j = 0; j < 7; j++) {
        double r = exp (v[i * 7 + j] - mx) / ref_sum;
        ck_assert (fabs (y[i * 7 + j] - r) <= 1e-7);
        sum += y[i * 7 + j];
      }
      ck_assert (fabs (sum - 1.0) <= 1e-6);
    }
    g_free (y);
    g_free (v);
    affect_tensor_free (t);
  }
  affect_backend_unref (be);
}

END_TEST;

/* ---- random cases against the double reference ------------------------- */

typedef struct {
  int n, h, w, cin, cout, kh, kw, stride;
  AffectPadding pad;
  AffectActivation act;
} ConvCase;

static const ConvCase conv_cases[] = {
  { 1, 4, 4, 1, 1, 3, 3, 2, AFFECT_PAD_SAME, AFFECT_ACT_NONE },
  { 1, 9, 7, 3, 5, 3, 3, 1, AFFECT_PAD_SAME, AFFECT_ACT_RELU },
  { 2, 10, 11, 3, 16, 3, 3, 2, AFFECT_PAD_SAME, AFFECT_ACT_LEAKY },
  { 3, 13, 13, 5, 7, 1, 1, 1, AFFECT_PAD_SAME, AFFECT_ACT_RELU6 },
  { 2, 12, 9, 6, 4, 1, 1, 2, AFFECT_PAD_SAME, AFFECT_ACT_NONE },
  { 1, 21, 19, 3, 8, 7, 7, 2, AFFECT_PAD_VALID, AFFECT_ACT_RELU },
  { 2, 8, 8, 17, 9, 3, 3, 2, AFFECT_PAD_VALID, AFFECT_ACT_NONE },
  { 1, 5, 6, 4, 3, 5, 3, 3, AFFECT_PAD_SAME, AFFECT_ACT_LEAKY },
  { 1, 2, 2, 9, 33, 3, 3, 1, AFFECT_PAD_SAME, AFFECT_ACT_NONE },
  { 1, 1, 1, 7, 5, 3, 3, 2, AFFECT_PAD_SAME, AFFECT_ACT_RELU },
  { 2, 16, 15, 35, 19, 3, 3, 1, AFFECT_PAD_SAME, AFFECT_ACT_RELU6 },
  /* multiples of 32 channels (two-pixel depthwise path) */
  { 2, 9, 10, 32, 16, 3, 3, 1, AFFECT_PAD_SAME, AFFECT_ACT_RELU6 },
  { 1, 12, 11, 64, 8, 3, 3, 2, AFFECT_PAD_SAME, AFFECT_ACT_NONE },
};

/* Runs a regular, depthwise or separable layer on 1 and 2 threads and
 * compares with the reference. kind: 0 regular, 1 depthwise, 2 separable. */
static void
check_conv_case (const ConvCase *cc, int kind, gboolean with_bias)
{
  AffectBackend *be1 = cpu (1), *be2 = cpu (2);
  int cout = kind == 1 ? cc->cin : cc->cout;
  gsize nx = (gsize)cc->n * cc->h * cc->w * cc->cin;
  float *x = random_floats (nx, -1, 1);
  float *f = random_floats (
      (gsize)cc->kh * cc->kw * cc->cin * (kind == 0 ? cout : 1), -1, 1);
  float *pw = kind == 2 ? random_floats ((gsize)cc->cin * cout, -1, 1) : NULL;
  float *bias = with_bias ? random_floats (cout, -1, 1) : NULL;
  double *ref, *scale;
  int oh, ow;
  AffectConv *c1, *c2;
  AffectTensor *tx1, *tx2, *ty1, *ty2;
  float *y1, *y2;
  gsize ny, i;
  gchar *what = g_strdup_printf ("kind %d: [%d,%d,%d,%d] k%dx%d/%d %s -> %d",
      kind, cc->n, cc->h, cc->w, cc->cin, cc->kh, cc->kw, cc->stride,
      cc->pad == AFFECT_PAD_SAME ? "SAME" : "VALID", cout);

  if (kind == 2) {
    /* Reference: depthwise (no bias, no act), then 1×1 (bias, act). */
    double *mid, *mid_scale;
    float *midf;
    int oh2, ow2;
    ref_conv (x, cc->n, cc->h, cc->w, cc->cin, f, cc->kh, cc->kw, cc->cin,
        cc->stride, cc->pad, TRUE, NULL, NULL, NULL, AFFECT_ACT_NONE, &oh, &ow,
        &mid, &mid_scale);
    ny = (gsize)cc->n * oh * ow * cc->cin;
    midf = g_new (float, ny);
    for (i = 0; i < ny; i++)
      midf[i] = (float)mid[i];
    ref_conv (midf, cc->n, oh, ow, cc->cin, pw, 1, 1, cout, 1, AFFECT_PAD_VALID,
        FALSE, bias, NULL, NULL, cc->act, &oh2, &ow2, &ref, &scale);
    /* Propagate the first stage's magnitudes into the error scale. */
    for (i = 0; i < (gsize)cc->n * oh * ow * cout; i++) {
      gsize p = i / cout;
      int o = (int)(i % cout), ci;
      double m = with_bias ? fabs (bias[o]) : 0;
      for (ci = 0; ci < cc->cin; ci++)
        m += mid_scale[p * cc->cin + ci] * fabs (pw[(gsize)ci * cout + o]);
      scale[i] = m + 1e-12;
    }
    g_free (mid);
    g_free (mid_scale);
    g_free (midf);
    c1 = affect_conv_new_separable (be1, cc->kh, cc->kw, cc->cin, cout,
        cc->stride, cc->pad, f, pw, bias, cc->act);
    c2 = affect_conv_new_separable (be2, cc->kh, cc->kw, cc->cin, cout,
        cc->stride, cc->pad, f, pw, bias, cc->act);
  } else {
    ref_conv (x, cc->n, cc->h, cc->w, cc->cin, f, cc->kh, cc->kw, cout,
        cc->stride, cc->pad, kind == 1, bias, NULL, NULL, cc->act, &oh, &ow,
        &ref, &scale);
    if (kind == 0) {
      c1 = affect_conv_new (be1, cc->kh, cc->kw, cc->cin, cout, cc->stride,
          cc->pad, f, bias, cc->act);
      c2 = affect_conv_new (be2, cc->kh, cc->kw, cc->cin, cout, cc->stride,
          cc->pad, f, bias, cc->act);
    } else {
      c1 = affect_conv_new_depthwise (
          be1, cc->kh, cc->kw, cc->cin, cc->stride, cc->pad, f, bias, cc->act);
      c2 = affect_conv_new_depthwise (
          be2, cc->kh, cc->kw, cc->cin, cc->stride, cc->pad, f, bias, cc->act);
    }
  }
  ck_assert_ptr_nonnull (c1);
  ck_assert_ptr_nonnull (c2);

  tx1 = tensor_from (be1, cc->n, cc->h, cc->w, cc->cin, x);
  tx2 = tensor_from (be2, cc->n, cc->h, cc->w, cc->cin, x);
  ty1 = affect_conv_forward (c1, tx1);
  ty2 = affect_conv_forward (c2, tx2);
  assert_shape (ty1, cc->n, oh, ow, cout);
  assert_shape (ty2, cc->n, oh, ow, cout);
  ny = affect_tensor_n_elements (ty1);
  y1 = tensor_to_host (ty1);
  y2 = tensor_to_host (ty2);
  assert_close (y1, ref, scale, ny, 1e-6, what);
  /* 1 vs 2 threads. */
  for (i = 0; i < ny; i++)
    ck_assert_msg (fabsf (y1[i] - y2[i])
                       <= 1e-6f * MAX (fabsf (y1[i]), (float)scale[i] * 1e-1f),
        "%s: threads differ at %" G_GSIZE_FORMAT ": %.9g vs %.9g", what, i,
        y1[i], y2[i]);

  /* A second forward on the prepared layer gives the same result. */
  affect_tensor_free (ty1);
  ty1 = affect_conv_forward (c1, tx1);
  g_free (y2);
  y2 = tensor_to_host (ty1);
  assert_floats_equal (y2, y1, ny, what);

  g_free (y1);
  g_free (y2);
  affect_tensor_free (tx1);
  affect_tensor_free (tx2);
  affect_tensor_free (ty1);
  affect_tensor_free (ty2);
  affect_conv_free (c1);
  affect_conv_free (c2);
  affect_backend_unref (be1);
  affect_backend_unref (be2);
  g_free (x);
  g_free (f);
  g_free (pw);
  g_free (bias);
  g_free (ref);
  g_free (scale);
  g_free (what);
}

/* Regular convolutions with few input channels run a direct loop or
 * im2col + sgemm depending on the BLAS kernels: test both. */
START_TEST (test_conv_random)
{
  g_setenv ("AFFECT_CPU_DIRECT_CONV", "0", TRUE);
  check_conv_case (&conv_cases[_i], 0, _i % 3 != 1);
  g_setenv ("AFFECT_CPU_DIRECT_CONV", "1", TRUE);
  check_conv_case (&conv_cases[_i], 0, _i % 3 != 1);
  g_unsetenv ("AFFECT_CPU_DIRECT_CONV");
}

END_TEST;

START_TEST (test_depthwise_random)
{
  check_conv_case (&conv_cases[_i], 1, _i % 3 != 2);
}

END_TEST;

START_TEST (test_separable_random)
{
  check_conv_case (&conv_cases[_i], 2, _i % 3 != 0);
}

END_TEST;

/* Convolutions bigger than the workspace threshold run in row chunks. */
START_TEST (test_conv_chunked)
{
  const ConvCase cc
      = { 2, 11, 10, 4, 6, 3, 3, 1, AFFECT_PAD_SAME, AFFECT_ACT_RELU };
  g_setenv ("AFFECT_CPU_WORKSPACE_FLOATS", "100", TRUE);
  check_conv_case (&cc, 0, TRUE);
  check_conv_case (&cc, 2, TRUE);
  g_unsetenv ("AFFECT_CPU_WORKSPACE_FLOATS");
}

END_TEST;

/* Batch-norm and affine folded into the filters vs the unfolded reference
 * (conv, then y * s + t). */
START_TEST (test_conv_fold)
{
  static const int kinds[] = { 0, 1, 2 };
  AffectBackend *be = cpu (2);
  int k;

  for (k = 0; k < 3; k++) {
    int kind = kinds[k], n = 2, h = 9, w = 8, cin = 6,
        cout = kind == 1 ? 6 : 10;
    float *x = random_floats ((gsize)n * h * w * cin, -1, 1);
    float *f = random_floats ((gsize)9 * cin * (kind == 0 ? cout : 1), -1, 1);
    float *pw = random_floats ((gsize)cin * cout, -1, 1);
    float *bias = random_floats (cout, -1, 1);
    float *mean = random_floats (cout, -1, 1);
    float *var = random_floats (cout, 0.01, 2);
    float *gamma = random_floats (cout, 0.5, 1.5);
    float *beta = random_floats (cout, -1, 1);
    float *ascale = random_floats (cout, -2, 2);
    float *ashift = random_floats (cout, -1, 1);
    double *s = g_new (double, cout), *t = g_new (double, cout);
    double *ref, *scale;
    int oh, ow, o;
    AffectConv *conv;
    AffectTensor *tx, *ty;
    float *y;
    const float eps = 0.001f;

    /* Combined post transform: BN then affine. */
    for (o = 0; o < cout; o++) {
      double bs = gamma[o] / sqrt ((double)var[o] + eps);
      double bt = beta[o] - mean[o] * bs;
      s[o] = bs * ascale[o];
      t[o] = bt * ascale[o] + ashift[o];
    }
    if (kind == 2) {
      /* Reference: depthwise in double, then pointwise. */
      double *mid, *ms;
      float *midf;
      gsize i, nm;
      ref_conv (x, n, h, w, cin, f, 3, 3, cin, 1, AFFECT_PAD_SAME, TRUE, NULL,
          NULL, NULL, AFFECT_ACT_NONE, &oh, &ow, &mid, &ms);
      nm = (gsize)n * oh * ow * cin;
      midf = g_new (float, nm);
      for (i = 0; i < nm; i++)
        midf[i] = (float)mid[i];
      ref_conv (midf, n, oh, ow, cin, pw, 1, 1, cout, 1, AFFECT_PAD_VALID,
          FALSE, bias, s, t, AFFECT_ACT_RELU6, &oh, &ow, &ref, &scale);
      g_free (mid);
      g_free (ms);
      g_free (midf);
      conv = affect_conv_new_separable (be, 3, 3, cin, cout, 1, AFFECT_PAD_SAME,
          f, pw, bias, AFFECT_ACT_RELU6);
    } else {
      ref_conv (x, n, h, w, cin, f, 3, 3, cout, 1, AFFECT_PAD_SAME, kind == 1,
          bias, s, t, AFFECT_ACT_RELU6, &oh, &ow, &ref, &scale);
      conv = kind == 0 ? affect_conv_new (be, 3, 3, cin, cout, 1,
                 AFFECT_PAD_SAME, f, bias, AFFECT_ACT_RELU6)
                       : affect_conv_new_depthwise (be, 3, 3, cin, 1,
                           AFFECT_PAD_SAME, f, bias, AFFECT_ACT_RELU6);
    }
    tx = tensor_from (be, n, h, w, cin, x);
    /* Run once unfolded first: folding afterwards must re-prepare. */
    ty = affect_conv_forward (conv, tx);
    affect_tensor_free (ty);
    affect_conv_set_batch_norm (conv, mean, var, gamma, beta, eps);
    affect_conv_set_affine (conv, ascale, ashift);
    ty = affect_conv_forward (conv, tx);
    assert_shape (ty, n, oh, ow, cout);
    y = tensor_to_host (ty);
    /* Folding changes the rounding: allow 1e-5 of the magnitudes. */
    {
      gsize i;
      for (i = 0; i < affect_tensor_n_elements (ty); i++)
        ck_assert_msg (fabs (y[i] - ref[i]) <= 1e-5 * scale[i] + 1e-7,
            "fold kind %d at %" G_GSIZE_FORMAT ": %.9g vs %.9g", kind, i, y[i],
            ref[i]);
    }
    g_free (y);
    affect_tensor_free (ty);
    affect_tensor_free (tx);
    affect_conv_free (conv);
    g_free (x);
    g_free (f);
    g_free (pw);
    g_free (bias);
    g_free (mean);
    g_free (var);
    g_free (gamma);
    g_free (beta);
    g_free (ascale);
    g_free (ashift);
    g_free (s);
    g_free (t);
    g_free (ref);
    g_free (scale);
  }
  affect_backend_unref (be);
}

END_TEST;

START_TEST (test_linear)
{
  static const int shapes[][4] = {
    /* n, h, w, in ; out = 5 + in % 7 */
    { 1, 1, 1, 256 },
    { 3, 1, 1, 17 },
    { 2, 3, 2, 9 },
    { 1, 1, 1, 1 },
  };
  AffectBackend *be1 = cpu (1), *be2 = cpu (2);
  int s;

  for (s = 0; s < (int)G_N_ELEMENTS (shapes); s++) {
    int n = shapes[s][0], h = shapes[s][1], w = shapes[s][2];
    int in = shapes[s][3], out = 5 + in % 7, r, o, i, tr;
    gsize rows = (gsize)n * h * w;
    float *x = random_floats (rows * in, -1, 1);
    float *wt = random_floats ((gsize)in * out, -1, 1);
    float *wt_t = g_new (float, (gsize)in *out);
    float *b = random_floats (out, -1, 1);
    double *ref = g_new (double, rows *out), *scale = g_new (double, rows *out);

    for (i = 0; i < in; i++)
      for (o = 0; o < out; o++)
        wt_t[(gsize)o * in + i] = wt[(gsize)i * out + o];
    for (r = 0; r < (int)rows; r++)
      for (o = 0; o < out; o++) {
        double acc = b[o], mag = fabs (b[o]);
        for (i = 0; i < in; i++) {
          double t = (double)x[(gsize)r * in + i] * wt[(gsize)i * out + o];
          acc += t;
          mag += fabs (t);
        }
        ref[(gsize)r * out + o] = acc;
        scale[(gsize)r * out + o] = mag + 1e-12;
      }
    for (tr = 0; tr < 2; tr++) {
      AffectBackend *be = tr ? be2 : be1;
      AffectLinear *lin
          = affect_linear_new (be, in, out, tr ? wt_t : wt, tr, b);
      AffectTensor *tx = tensor_from (be, n, h, w, in, x);
      AffectTensor *ty = affect_linear_forward (lin, tx);
      float *y;
      assert_shape (ty, n, h, w, out);
      y = tensor_to_host (ty);
      assert_close (y, ref, scale, rows * out, 1e-6, "linear");
      g_free (y);
      affect_tensor_free (tx);
      affect_tensor_free (ty);
      affect_linear_free (lin);
    }
    /* Without bias. */
    {
      AffectLinear *lin = affect_linear_new (be1, in, out, wt, FALSE, NULL);
      AffectTensor *tx = tensor_from (be1, n, h, w, in, x);
      AffectTensor *ty = affect_linear_forward (lin, tx);
      float *y = tensor_to_host (ty);
      for (i = 0; i < (int)(rows * out); i++) {
        ref[i] -= b[i % out];
      }
      assert_close (y, ref, scale, rows * out, 1e-6, "linear no bias");
      g_free (y);
      affect_tensor_free (tx);
      affect_tensor_free (ty);
      affect_linear_free (lin);
    }
    g_free (x);
    g_free (wt);
    g_free (wt_t);
    g_free (b);
    g_free (ref);
    g_free (scale);
  }
  affect_backend_unref (be1);
  affect_backend_unref (be2);
}

END_TEST;

static void
ref_pool (const float *x, int n, int h, int w, int c, int k, int stride,
    AffectPadding pad, gboolean is_max, int *poh, int *pow, double **out)
{
  int oh, ow, pt, pl, b, oy, ox, ch, ky, kx;
  double *y;

  ref_window (h, k, stride, pad, &oh, &pt);
  ref_window (w, k, stride, pad, &ow, &pl);
  y = g_new (double, (gsize)n *oh *ow *c);
  for (b = 0; b < n; b++)
    for (oy = 0; oy < oh; oy++)
      for (ox = 0; ox < ow; ox++)
        for (ch = 0; ch < c; ch++) {
          double acc = is_max ? -INFINITY : 0;
          int count = 0;
          for (ky = 0; ky < k; ky++)
            for (kx = 0; kx < k; kx++) {
              int iy = oy * stride - pt + ky, ix = ox * stride - pl + kx;
              double v;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                continue;
              v = x[(((gsize)b * h + iy) * w + ix) * c + ch];
              acc = is_max ? MAX (acc, v) : acc + v;
              count++;
            }
          y[(((gsize)b * oh + oy) * ow + ox) * c + ch]
              = is_max ? acc : acc / count;
        }
  *poh = oh;
  *pow = ow;
  *out = y;
}

START_TEST (test_pool_random)
{
  static const int cases[][6] = {
    /* n, h, w, c, k, stride */
    { 1, 207, 9, 3, 2, 2 },
    { 2, 13, 13, 5, 2, 1 },
    { 3, 14, 15, 17, 3, 2 },
    { 1, 7, 7, 33, 7, 2 },
    { 2, 35, 35, 4, 2, 2 },
    { 1, 5, 4, 9, 3, 3 },
  };
  AffectBackend *be1 = cpu (1), *be2 = cpu (2);
  int i, p, m;

  for (i = 0; i < (int)G_N_ELEMENTS (cases); i++)
    for (p = 0; p < 2; p++)
      for (m = 0; m < 2; m++) {
        int n = cases[i][0], h = cases[i][1], w = cases[i][2], c = cases[i][3];
        int k = cases[i][4], s = cases[i][5], oh, ow;
        AffectPadding pad = p ? AFFECT_PAD_SAME : AFFECT_PAD_VALID;
        float *x = random_floats ((gsize)n * h * w * c, -3, 3), *y1, *y2;
        double *ref;
        AffectTensor *tx1 = tensor_from (be1, n, h, w, c, x);
        AffectTensor *tx2 = tensor_from (be2, n, h, w, c, x);
        AffectTensor *ty1, *ty2;
        gsize ny;

        ref_pool (x, n, h, w, c, k, s, pad, m, &oh, &ow, &ref);
        ty1 = m ? affect_max_pool (tx1, k, s, pad)
                : affect_avg_pool (tx1, k, s, pad);
        ty2 = m ? affect_max_pool (tx2, k, s, pad)
                : affect_avg_pool (tx2, k, s, pad);
        assert_shape (ty1, n, oh, ow, c);
        ny = affect_tensor_n_elements (ty1);
        y1 = tensor_to_host (ty1);
        y2 = tensor_to_host (ty2);
        if (m) {
          gsize j;
          for (j = 0; j < ny; j++)
            ck_assert ((double)y1[j] == ref[j]);
        } else {
          double *sc = g_new (double, ny);
          gsize j;
          for (j = 0; j < ny; j++)
            sc[j] = 3.0;
          assert_close (y1, ref, sc, ny, 1e-6, "avg-pool");
          g_free (sc);
        }
        assert_floats_equal (y2, y1, ny, "pool 1 vs 2 threads");
        g_free (x);
        g_free (y1);
        g_free (y2);
        g_free (ref);
        affect_tensor_free (tx1);
        affect_tensor_free (tx2);
        affect_tensor_free (ty1);
        affect_tensor_free (ty2);
      }
  affect_backend_unref (be1);
  affect_backend_unref (be2);
}

END_TEST;

START_TEST (test_resize_random)
{
  static const int cases[][6] = {
    /* n, h, w, c, oh, ow */
    { 1, 37, 23, 3, 112, 112 },
    { 2, 150, 97, 3, 41, 40 },
    { 1, 5, 5, 7, 5, 13 },
    { 3, 1, 1, 2, 3, 4 },
    { 1, 64, 48, 1, 63, 49 },
  };
  AffectBackend *be1 = cpu (1), *be2 = cpu (2);
  int i;

  for (i = 0; i < (int)G_N_ELEMENTS (cases); i++) {
    int n = cases[i][0], h = cases[i][1], w = cases[i][2], c = cases[i][3];
    int oh = cases[i][4], ow = cases[i][5], b, r, col, ch;
    float *x = random_floats ((gsize)n * h * w * c, 0, 255), *y1, *y2;
    double *ref = g_new (double, (gsize)n *oh *ow *c), *sc;
    AffectTensor *tx1 = tensor_from (be1, n, h, w, c, x);
    AffectTensor *tx2 = tensor_from (be2, n, h, w, c, x);
    AffectTensor *ty1 = affect_resize_bilinear (tx1, oh, ow);
    AffectTensor *ty2 = affect_resize_bilinear (tx2, oh, ow);
    gsize ny = (gsize)n * oh * ow * c, j;

    for (b = 0; b < n; b++)
      for (r = 0; r < oh; r++)
        for (col = 0; col < ow; col++) {
          double sy = r * ((double)h / oh), sx = col * ((double)w / ow);
          int y0 = (int)floor (sy), x0 = (int)floor (sx);
          int yy1 = MIN ((int)ceil (sy), h - 1),
              xx1 = MIN ((int)ceil (sx), w - 1);
          for (ch = 0; ch < c; ch++) {
#define P(yy, xx) ((double)x[(((gsize)b * h + (yy)) * w + (xx)) * c + ch])
            double top = P (y0, x0) + (P (y0, xx1) - P (y0, x0)) * (sx - x0);
            double bot = P (yy1, x0) + (P (yy1, xx1) - P (yy1, x0)) * (sx - x0);
#undef P
            ref[(((gsize)b * oh + r) * ow + col) * c + ch]
                = top + (bot - top) * (sy - y0);
          }
        }
    assert_shape (ty1, n, oh, ow, c);
    y1 = tensor_to_host (ty1);
    y2 = tensor_to_host (ty2);
    sc = g_new (double, ny);
    for (j = 0; j < ny; j++)
      sc[j] = fabs (ref[j]) + 1e-3;
    /* Computed in double, so only the final float rounding differs. */
    assert_close (y1, ref, sc, ny, 1e-7, "resize");
    assert_floats_equal (y2, y1, ny, "resize 1 vs 2 threads");
    g_free (sc);
    g_free (x);
    g_free (y1);
    g_free (y2);
    g_free (ref);
    affect_tensor_free (tx1);
    affect_tensor_free (tx2);
    affect_tensor_free (ty1);
    affect_tensor_free (ty2);
  }
  affect_backend_unref (be1);
  affect_backend_unref (be2);
}

END_TEST;

START_TEST (test_data_movement)
{
  AffectBackend *be = cpu (2);
  const int n = 2, h = 3, w = 5, ca = 4, cb = 3;
  float *a = random_floats ((gsize)n * h * w * ca, -1, 1);
  float *b = random_floats ((gsize)n * h * w * cb, -1, 1);
  float *a2 = random_floats ((gsize)n * h * w * ca, -1, 1);
  AffectTensor *ta = tensor_from (be, n, h, w, ca, a);
  AffectTensor *tb = tensor_from (be, n, h, w, cb, b);
  AffectTensor *ta2 = tensor_from (be, n, h, w, ca, a2);
  AffectTensor *t;
  float *y;
  int bb, r, col, ch;

  /* pad */
  t = affect_pad (ta, 1, 2, 0, 3);
  assert_shape (t, n, h + 3, w + 3, ca);
  y = tensor_to_host (t);
  for (bb = 0; bb < n; bb++)
    for (r = 0; r < h + 3; r++)
      for (col = 0; col < w + 3; col++)
        for (ch = 0; ch < ca; ch++) {
          float want = 0;
          if (r >= 1 && r < h + 1 && col < w)
            want = a[(((gsize)bb * h + r - 1) * w + col) * ca + ch];
          ck_assert (
              y[(((gsize)bb * (h + 3) + r) * (w + 3) + col) * ca + ch] == want);
        }
  g_free (y);
  affect_tensor_free (t);

  /* concat */
  t = affect_concat_channels (ta, tb);
  assert_shape (t, n, h, w, ca + cb);
  y = tensor_to_host (t);
  for (r = 0; r < n * h * w; r++)
    for (ch = 0; ch < ca + cb; ch++)
      ck_assert (
          y[(gsize)r * (ca + cb) + ch]
          == (ch < ca ? a[(gsize)r * ca + ch] : b[(gsize)r * cb + ch - ca]));
  g_free (y);
  affect_tensor_free (t);

  /* pad_channels */
  t = affect_pad_channels (tb, 8);
  assert_shape (t, n, h, w, 8);
  y = tensor_to_host (t);
  for (r = 0; r < n * h * w; r++)
    for (ch = 0; ch < 8; ch++)
      ck_assert (
          y[(gsize)r * 8 + ch] == (ch < cb ? b[(gsize)r * cb + ch] : 0.0f));
  g_free (y);
  affect_tensor_free (t);

  /* add / add_inplace */
  t = affect_add (ta, ta2);
  assert_shape (t, n, h, w, ca);
  y = tensor_to_host (t);
  for (r = 0; r < n * h * w * ca; r++)
    ck_assert (y[r] == a[r] + a2[r]);
  g_free (y);
  affect_tensor_free (t);
  affect_add_inplace (ta, ta2);
  y = tensor_to_host (ta);
  for (r = 0; r < n * h * w * ca; r++)
    ck_assert (y[r] == a[r] + a2[r]);
  g_free (y);

  /* global mean */
  t = affect_global_mean (tb);
  assert_shape (t, n, 1, 1, cb);
  y = tensor_to_host (t);
  for (bb = 0; bb < n; bb++)
    for (ch = 0; ch < cb; ch++) {
      double s = 0;
      for (r = 0; r < h * w; r++)
        s += b[((gsize)bb * h * w + r) * cb + ch];
      ck_assert (fabs (y[bb * cb + ch] - s / (h * w)) <= 1e-7);
    }
  g_free (y);
  affect_tensor_free (t);

  affect_tensor_free (ta);
  affect_tensor_free (tb);
  affect_tensor_free (ta2);
  g_free (a);
  g_free (b);
  g_free (a2);
  affect_backend_unref (be);
}

END_TEST;

/* Bad arguments: a critical naming the problem and NULL, never a crash. */
START_TEST (test_bad_arguments)
{
  AffectBackend *be = cpu (1), *other = cpu (1);
  float f[3 * 3 * 4 * 2] = { 0 };
  AffectConv *conv = affect_conv_new (
      be, 3, 3, 4, 2, 1, AFFECT_PAD_VALID, f, NULL, AFFECT_ACT_NONE);
  AffectLinear *lin = affect_linear_new (be, 4, 2, f, FALSE, NULL);
  AffectTensor *x3 = affect_tensor_new_zeros (be, 1, 5, 5, 3);
  AffectTensor *small = affect_tensor_new_zeros (be, 1, 2, 2, 4);
  AffectTensor *x4 = affect_tensor_new_zeros (be, 1, 5, 5, 4);
  AffectTensor *x4o = affect_tensor_new_zeros (other, 1, 5, 5, 4);
  int oh = -1, ow = -1;

  expect_criticals_begin ();
  ck_assert_ptr_null (affect_conv_forward (conv, x3));    /* channels */
  ck_assert_ptr_null (affect_conv_forward (conv, small)); /* VALID */
  ck_assert_ptr_null (affect_conv_forward (conv, x4o));   /* backend */
  ck_assert_ptr_null (affect_linear_forward (lin, x3));
  ck_assert_ptr_null (affect_add (x3, x4));
  affect_add_inplace (x3, x4);
  ck_assert_ptr_null (affect_add (x4, x4o));
  ck_assert_ptr_null (affect_concat_channels (x3, small));
  ck_assert_ptr_null (affect_pad (x3, -1, 0, 0, 0));
  ck_assert_ptr_null (affect_pad_channels (x4, 3));
  ck_assert_ptr_null (affect_max_pool (small, 3, 1, AFFECT_PAD_VALID));
  ck_assert_ptr_null (affect_avg_pool (small, 0, 1, AFFECT_PAD_SAME));
  ck_assert_ptr_null (affect_resize_bilinear (small, 0, 3));
  ck_assert_ptr_null (affect_conv_new (
      be, 0, 3, 4, 2, 1, AFFECT_PAD_SAME, f, NULL, AFFECT_ACT_NONE));
  ck_assert_ptr_null (affect_conv_new (
      be, 3, 3, 4, 2, 0, AFFECT_PAD_SAME, f, NULL, AFFECT_ACT_NONE));
  ck_assert_ptr_null (affect_linear_new (be, 0, 2, f, FALSE, NULL));
  ck_assert_ptr_null (affect_conv_forward (conv, NULL));
  ck_assert_int_eq (expect_criticals_end (), 17);

  affect_conv_get_output_size (conv, 2, 2, &oh, &ow);
  ck_assert_int_eq (oh, 0);
  ck_assert_int_eq (ow, 0);
  affect_conv_get_output_size (conv, 5, 6, &oh, &ow);
  ck_assert_int_eq (oh, 3);
  ck_assert_int_eq (ow, 4);

  affect_tensor_free (x3);
  affect_tensor_free (small);
  affect_tensor_free (x4);
  affect_tensor_free (x4o);
  affect_conv_free (conv);
  affect_linear_free (lin);
  affect_backend_unref (be);
  affect_backend_unref (other);
}

END_TEST;

/* The same network-sized layer with 1 and 2 threads (pool restarts when the
 * count changes on a live backend). */
START_TEST (test_threads_change)
{
  AffectBackend *be = cpu (1);
  gsize nx = (gsize)1 * 56 * 56 * 32;
  float *x = random_floats (nx, -1, 1);
  float *dw = random_floats (9 * 32, -1, 1),
        *pw = random_floats (32 * 64, -1, 1);
  AffectConv *conv = affect_conv_new_separable (
      be, 3, 3, 32, 64, 2, AFFECT_PAD_SAME, dw, pw, NULL, AFFECT_ACT_RELU);
  AffectTensor *tx = tensor_from (be, 1, 56, 56, 32, x), *ty;
  float *y1, *y2;
  gsize ny, i;

  ty = affect_conv_forward (conv, tx);
  ny = affect_tensor_n_elements (ty);
  y1 = tensor_to_host (ty);
  affect_tensor_free (ty);
  affect_backend_set_n_threads (be, 2);
  ty = affect_conv_forward (conv, tx);
  y2 = tensor_to_host (ty);
  /* Relative to the magnitude of the summed terms: the same layer on |x|
   * with |weights|. */
  {
    AffectConv *abs_conv;
    AffectTensor *tabs, *tscale;
    float *mag;
    for (i = 0; i < nx; i++)
      x[i] = fabsf (x[i]);
    for (i = 0; i < 9 * 32; i++)
      dw[i] = fabsf (dw[i]);
    for (i = 0; i < 32 * 64; i++)
      pw[i] = fabsf (pw[i]);
    abs_conv = affect_conv_new_separable (
        be, 3, 3, 32, 64, 2, AFFECT_PAD_SAME, dw, pw, NULL, AFFECT_ACT_NONE);
    tabs = tensor_from (be, 1, 56, 56, 32, x);
    tscale = affect_conv_forward (abs_conv, tabs);
    mag = tensor_to_host (tscale);
    for (i = 0; i < ny; i++)
      ck_assert_msg (fabsf (y1[i] - y2[i]) <= 1e-6f * mag[i],
          "1 vs 2 threads at %" G_GSIZE_FORMAT ": %.9g vs %.9g (scale %g)", i,
          y1[i], y2[i], mag[i]);
    g_free (mag);
    affect_tensor_free (tabs);
    affect_tensor_free (tscale);
    affect_conv_free (abs_conv);
  }
  affect_tensor_free (ty);
  affect_backend_set_n_threads (be, 1);
  ty = affect_conv_forward (conv, tx);
  g_free (y2);
  y2 = tensor_to_host (ty);
  assert_floats_equal (y2, y1, ny, "back to 1 thread");

  g_free (y1);
  g_free (y2);
  g_free (x);
  g_free (dw);
  g_free (pw);
  affect_tensor_free (tx);
  affect_tensor_free (ty);
  affect_conv_free (conv);
  affect_backend_unref (be);
}

END_TEST;

/* Each batch item gives bit-identical results whether it runs alone or in a
 * batch, on 1 or 2 threads (the networks' tests rely on it). */
START_TEST (test_batch_and_thread_invariance)
{
  static const ConvCase cases[] = {
    { 3, 17, 15, 3, 32, 3, 3, 2, AFFECT_PAD_SAME,
        AFFECT_ACT_RELU }, /* direct */
    { 3, 9, 9, 3, 16, 7, 7, 2, AFFECT_PAD_VALID,
        AFFECT_ACT_LEAKY }, /* direct */
    { 3, 14, 13, 24, 40, 3, 3, 1, AFFECT_PAD_SAME,
        AFFECT_ACT_RELU6 },                                          /* gemm */
    { 3, 7, 7, 64, 256, 1, 1, 1, AFFECT_PAD_SAME, AFFECT_ACT_NONE }, /* 1x1 */
    { 3, 7, 7, 128, 256, 3, 3, 1, AFFECT_PAD_SAME,
        AFFECT_ACT_NONE }, /* split */
    { 3, 40, 40, 40, 8, 3, 3, 1, AFFECT_PAD_SAME,
        AFFECT_ACT_RELU }, /* blocks */
  };
  AffectBackend *be1, *be2;
  int ci, kind;

  g_setenv ("AFFECT_CPU_DIRECT_CONV", _i ? "1" : "0", TRUE);
  be1 = cpu (1);
  be2 = cpu (2);
  g_unsetenv ("AFFECT_CPU_DIRECT_CONV");
  for (ci = 0; ci < (int)G_N_ELEMENTS (cases); ci++)
    for (kind = 0; kind < 3; kind++) {
      const ConvCase *cc = &cases[ci];
      int cout = kind == 1 ? cc->cin : cc->cout, b, t;
      gsize per_in = (gsize)cc->h * cc->w * cc->cin, per_out;
      float *x = random_floats (per_in * cc->n, -1, 1);
      float *f = random_floats (
          (gsize)cc->kh * cc->kw * cc->cin * (kind == 0 ? cout : 1), -1, 1);
      float *pw = random_floats ((gsize)cc->cin * cout, -1, 1);
      float *bias = random_floats (cout, -1, 1);
      float *batch_y = NULL;

      for (t = 1; t <= 2; t++) {
        AffectBackend *be = t == 1 ? be1 : be2;
        AffectConv *conv
            = kind == 0 ? affect_conv_new (be, cc->kh, cc->kw, cc->cin, cout,
                  cc->stride, cc->pad, f, bias, cc->act)
              : kind == 1
                  ? affect_conv_new_depthwise (be, cc->kh, cc->kw, cc->cin,
                      cc->stride, cc->pad, f, bias, cc->act)
                  : affect_conv_new_separable (be, cc->kh, cc->kw, cc->cin,
                      cout, cc->stride, cc->pad, f, pw, bias, cc->act);
        AffectTensor *tx = tensor_from (be, cc->n, cc->h, cc->w, cc->cin, x);
        AffectTensor *ty = affect_conv_forward (conv, tx);
        float *y = tensor_to_host (ty);

        per_out = (gsize)ty->h * ty->w * cout;
        if (batch_y == NULL)
          batch_y = g_memdup2 (y, per_out * cc->n * sizeof (float));
        else
          ck_assert_msg (
              memcmp (y, batch_y, per_out * cc->n * sizeof (float)) == 0,
              "case %d kind %d: 1 vs 2 threads differ", ci, kind);
        for (b = 0; b < cc->n; b++) {
          AffectTensor *one = tensor_from (
              be, 1, cc->h, cc->w, cc->cin, x + (gsize)b * per_in);
          AffectTensor *yo = affect_conv_forward (conv, one);
          float *v = tensor_to_host (yo);
          ck_assert_msg (
              memcmp (v, batch_y + (gsize)b * per_out, per_out * sizeof (float))
                  == 0,
              "case %d kind %d: item %d alone differs from the batch "
              "(%d threads)",
              ci, kind, b, t);
          g_free (v);
          affect_tensor_free (one);
          affect_tensor_free (yo);
        }
        g_free (y);
        affect_tensor_free (tx);
        affect_tensor_free (ty);
        affect_conv_free (conv);
      }
      g_free (batch_y);
      g_free (x);
      g_free (f);
      g_free (pw);
      g_free (bias);
    }

  /* Fully connected: batch of 5 rows vs one row at a time. */
  {
    float *x = random_floats (5 * 256, -1, 1),
          *w = random_floats (256 * 136, -1, 1),
          *b = random_floats (136, -1, 1), *all, *one;
    AffectLinear *lin = affect_linear_new (be2, 256, 136, w, FALSE, b);
    AffectTensor *tx = tensor_from (be2, 5, 1, 1, 256, x);
    AffectTensor *ty = affect_linear_forward (lin, tx);
    int r;
    all = tensor_to_host (ty);
    affect_tensor_free (tx);
    affect_tensor_free (ty);
    for (r = 0; r < 5; r++) {
      tx = tensor_from (be2, 1, 1, 1, 256, x + r * 256);
      ty = affect_linear_forward (lin, tx);
      one = tensor_to_host (ty);
      ck_assert (memcmp (one, all + r * 136, 136 * sizeof (float)) == 0);
      g_free (one);
      affect_tensor_free (tx);
      affect_tensor_free (ty);
    }
    g_free (all);
    g_free (x);
    g_free (w);
    g_free (b);
    affect_linear_free (lin);
  }
  affect_backend_unref (be1);
  affect_backend_unref (be2);
}

END_TEST;

/* Two application threads sharing one 2-thread backend (ops are
 * serialised; tensors are allocated and freed concurrently). */
typedef struct {
  AffectConv *conv;
  AffectTensor *x;
  const float *want;
  gsize n;
  gboolean ok;
} SharedJob;

static gpointer
shared_worker (gpointer data)
{
  SharedJob *j = data;
  int i;

  j->ok = TRUE;
  for (i = 0; i < 8; i++) {
    AffectTensor *y = affect_conv_forward (j->conv, j->x);
    float *v = tensor_to_host (y);
    if (memcmp (v, j->want, j->n * sizeof (float)) != 0)
      j->ok = FALSE;
    g_free (v);
    affect_tensor_free (y);
  }
  return NULL;
}

START_TEST (test_shared_backend)
{
  AffectBackend *be = cpu (2);
  float *x = random_floats (2 * 20 * 20 * 32, -1, 1);
  float *dw = random_floats (9 * 32, -1, 1),
        *pw = random_floats (32 * 48, -1, 1);
  AffectConv *conv = affect_conv_new_separable (
      be, 3, 3, 32, 48, 1, AFFECT_PAD_SAME, dw, pw, NULL, AFFECT_ACT_RELU6);
  AffectTensor *tx = tensor_from (be, 2, 20, 20, 32, x);
  AffectTensor *ty = affect_conv_forward (conv, tx);
  float *want = tensor_to_host (ty);
  SharedJob jobs[2];
  GThread *threads[2];
  int i;

  for (i = 0; i < 2; i++) {
    jobs[i].conv = conv;
    jobs[i].x = tx;
    jobs[i].want = want;
    jobs[i].n = affect_tensor_n_elements (ty);
    threads[i] = g_thread_new ("shared", shared_worker, &jobs[i]);
  }
  for (i = 0; i < 2; i++) {
    g_thread_join (threads[i]);
    ck_assert_msg (jobs[i].ok, "thread %d got a different result", i);
  }
  g_free (want);
  g_free (x);
  g_free (dw);
  g_free (pw);
  affect_tensor_free (tx);
  affect_tensor_free (ty);
  affect_conv_free (conv);
  affect_backend_unref (be);
}

END_TEST;

static void
setup (void)
{
  rng = g_rand_new_with_seed (20261128);
}

static void
teardown (void)
{
  g_rand_free (rng);
  rng = NULL;
}

static Suite *
ops_suite (void)
{
  Suite *s = suite_create ("models-ops");
  TCase *tc = tcase_create ("ops");
  int n_cases = (int)G_N_ELEMENTS (conv_cases);

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_backend_new);
  tcase_add_test (tc, test_tensor_basics);
  tcase_add_test (tc, test_conv_same_pad_placement);
  tcase_add_test (tc, test_pool_hand);
  tcase_add_test (tc, test_resize_hand);
  tcase_add_test (tc, test_activations);
  tcase_add_test (tc, test_softmax);
  tcase_add_loop_test (tc, test_conv_random, 0, n_cases);
  tcase_add_loop_test (tc, test_depthwise_random, 0, n_cases);
  tcase_add_loop_test (tc, test_separable_random, 0, n_cases);
  tcase_add_test (tc, test_conv_chunked);
  tcase_add_test (tc, test_conv_fold);
  tcase_add_test (tc, test_linear);
  tcase_add_test (tc, test_pool_random);
  tcase_add_test (tc, test_resize_random);
  tcase_add_test (tc, test_data_movement);
  tcase_add_test (tc, test_bad_arguments);
  tcase_add_test (tc, test_threads_change);
  tcase_add_loop_test (tc, test_batch_and_thread_invariance, 0, 2);
  tcase_add_test (tc, test_shared_backend);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  Suite *s = ops_suite ();
  SRunner *sr = srunner_create (s);
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
