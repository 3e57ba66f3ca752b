/* gst-affect — models/cpu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CPU backend: the transformer family (GELU, matmul, layer norm,
 * masked softmax, gather, broadcast arithmetic, row copies). The row
 * kernels are vectorised with GCC/clang vector types and built for AVX2
 * and a generic target (MULTIVERSION, cpu-private.h); their vector and
 * scalar paths do the same operations, so a row's result does not depend
 * on its length or alignment, nor on the thread count.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "cpu-private.h"

/* Work per chunk below which an op is not split over the pool (a chunk
 * must pay for waking a worker and for waiting on the slowest one, which
 * on a loaded machine costs tens of microseconds): about 40-60 µs of work
 * each on one AVX2/AVX-512 core, measured for BERT's shapes. */
#define MATMUL_GRAIN_MACS ((double)(1 << 21)) /* ~20 ps per multiply-add */
#define ROWS_GRAIN_FLOATS ((gsize)1 << 17)    /* layer norm, ~0.5 ns/float */
#define SOFTMAX_GRAIN_FLOATS ((gsize)1 << 15) /* ~1.7 ns per element */
#define ARITH_GRAIN_FLOATS ((gsize)1 << 20)   /* memory bound, ~0.06 ns */

/* 4-float and 4-double vectors (GCC/clang vector extensions), for sums
 * and exponentials in double precision.
 *
 * Selections (clamps, maxima) are written as loops over the lanes of a
 * vector with the C conditional operator, which GCC turns into vector
 * compare-and-blend or min/max instructions on every target: a direct
 * comparison of 32-byte vectors (v8f, v4d) is lowered to scalar compares
 * and branches where the target has no 32-byte vectors (the generic
 * SSE2 clone, NEON), which made the generic softmax 6x slower than the
 * AVX2 one. */
typedef float v4f __attribute__ ((vector_size (16)));
typedef double v4d __attribute__ ((vector_size (32)));
typedef gint64 v4l __attribute__ ((vector_size (32)));

/* erf(x) as a rational function of x (odd degree-13 numerator, even
 * degree-8 denominator, x clamped to [-4, 4] where erf is 1 within 2e-8):
 * max |error| 4.2e-7 against erf() in double over [-8, 8] (GELU: 7e-7).
 * Coefficients as in Eigen's fast erf. Written once for scalars and once
 * for 8-float vectors (GCC/Clang vector extensions; erff() alone took 15 %
 * of BERT's time). */
#define ERF_P13 -2.72614225801306e-10f
#define ERF_P11 2.77068142495902e-08f
#define ERF_P9 -2.10102402082508e-06f
#define ERF_P7 -5.69250639462346e-05f
#define ERF_P5 -7.34990630326855e-04f
#define ERF_P3 -2.95459980854025e-03f
#define ERF_P1 -1.60960333262415e-02f
#define ERF_Q8 -1.45660718464996e-05f
#define ERF_Q6 -2.13374055278905e-04f
#define ERF_Q4 -1.68282697438203e-03f
#define ERF_Q2 -7.37332916720468e-03f
#define ERF_Q0 -1.42647390514189e-02f

static inline float
erf_rational (float x)
{
  const float c = x < -4.0f ? -4.0f : (x > 4.0f ? 4.0f : x);
  const float x2 = c * c;
  float p = ERF_P13, q = ERF_Q8;

  p = p * x2 + ERF_P11;
  p = p * x2 + ERF_P9;
  p = p * x2 + ERF_P7;
  p = p * x2 + ERF_P5;
  p = p * x2 + ERF_P3;
  p = p * x2 + ERF_P1;
  q = q * x2 + ERF_Q6;
  q = q * x2 + ERF_Q4;
  q = q * x2 + ERF_Q2;
  q = q * x2 + ERF_Q0;
  return c * p / q;
}

/* Same operations in the same order as erf_rational(), eight at a time
 * (a macro: vectors are not passed to functions, whose ABI would differ
 * between the AVX2 and default clones). */
#define ERF_RATIONAL8(y, x)                                              \
  do {                                                                   \
    v8f c_ = (x), x2_, p_, q_;                                           \
    int l_;                                                              \
    for (l_ = 0; l_ < 8; l_++)                                           \
      c_[l_] = c_[l_] < -4.0f ? -4.0f : (c_[l_] > 4.0f ? 4.0f : c_[l_]); \
    x2_ = c_ * c_;                                                       \
    p_ = ERF_P13 * x2_ + ERF_P11;                                        \
    p_ = p_ * x2_ + ERF_P9;                                              \
    p_ = p_ * x2_ + ERF_P7;                                              \
    p_ = p_ * x2_ + ERF_P5;                                              \
    p_ = p_ * x2_ + ERF_P3;                                              \
    p_ = p_ * x2_ + ERF_P1;                                              \
    q_ = ERF_Q8 * x2_ + ERF_Q6;                                          \
    q_ = q_ * x2_ + ERF_Q4;                                              \
    q_ = q_ * x2_ + ERF_Q2;                                              \
    q_ = q_ * x2_ + ERF_Q0;                                              \
    (y) = c_ * p_ / q_;                                                  \
  } while (0)

/* GELU, erf form: 0.5 x (1 + erf(x / sqrt 2)); the vector and scalar paths
 * give the same value for each element. */
MULTIVERSION void
cpu_gelu (float *x, gsize n)
{
  gsize i = 0;

  for (; i + 8 <= n; i += 8) {
    v8f v, e;
    LOAD8 (v, x + i);
    e = v * (float)M_SQRT1_2;
    ERF_RATIONAL8 (e, e);
    v = 0.5f * v * (1.0f + e);
    STORE8 (x + i, v);
  }
  for (; i < n; i++)
    x[i] = 0.5f * x[i] * (1.0f + erf_rational (x[i] * (float)M_SQRT1_2));
}

/* ---- matmul ------------------------------------------------------------ */

typedef struct {
  const AffectMatView *a, *b, *y;
  gboolean ta, tb;
  int m, n, k, batch1;
  float alpha, beta;
  int nt; /* threads for each GEMM when the batch is one matrix */
} MatmulJob;

static void
matmul_range (gpointer data, gsize start, gsize end, int tid)
{
  const MatmulJob *j = data;
  gsize idx;

  for (idx = start; idx < end; idx++) {
    const gsize i = idx / (gsize)j->batch1, l = idx % (gsize)j->batch1;
    const float *a = j->a->t->data + j->a->offset + i * j->a->stride[0]
                     + l * j->a->stride[1];
    const float *b = j->b->t->data + j->b->offset + i * j->b->stride[0]
                     + l * j->b->stride[1];
    float *y = j->y->t->data + j->y->offset + i * j->y->stride[0]
               + l * j->y->stride[1];

    affect_sgemm (j->nt, j->ta, j->tb, j->m, j->n, j->k, j->alpha, a, j->a->ld,
        b, j->b->ld, j->beta, y, j->y->ld);
  }
}

void
cpu_matmul (AffectBackend *be, const AffectMatView *a, gboolean trans_a,
    const AffectMatView *b, gboolean trans_b, const AffectMatView *y, int m,
    int n, int k, int batch0, int batch1, float alpha, float beta)
{
  const gsize count = (gsize)batch0 * batch1;
  MatmulJob j = { a, b, y, trans_a, trans_b, m, n, k, batch1, alpha, beta, 1 };
  int threads = cpu_begin (be);

  if (count == 1) {
    /* One product: the provider's own threads (it keeps small products on
     * the calling thread). */
    j.nt = threads;
    matmul_range (&j, 0, 1, 0);
  } else {
    /* A batch: one matrix per item on the pool, at least
     * MATMUL_GRAIN_MACS per chunk (small batches stay on the calling
     * thread). */
    const double work = (double)m * n * k;
    const gsize grain = work >= MATMUL_GRAIN_MACS
                            ? 1
                            : (gsize)ceil (MATMUL_GRAIN_MACS / MAX (work, 1.0));
    cpu_parallel_for (be, count, grain, matmul_range, &j);
  }
  cpu_end (be);
}

/* ---- layer norm -------------------------------------------------------- */

typedef struct {
  float *x;
  const float *g, *b;
  int c;
  double eps;
} NormJob;

/* One row of @n floats, in place. The sums run over 4-double vectors (two
 * of them, then the tail in order); the output of each element is
 * (float)((x - mean) · inv) · g + b in both paths. */
MULTIVERSION static void
layer_norm_row (float *restrict x, int n, const float *restrict g,
    const float *restrict b, double eps)
{
  v4d s0 = { 0 }, s1 = { 0 }, vm, vinv;
  double mean, var, inv;
  int i;

  for (i = 0; i + 8 <= n; i += 8) {
    v4f lo, hi;
    memcpy (&lo, x + i, sizeof (lo));
    memcpy (&hi, x + i + 4, sizeof (hi));
    s0 += __builtin_convertvector(lo, v4d);
    s1 += __builtin_convertvector(hi, v4d);
  }
  s0 += s1;
  mean = (s0[0] + s0[1]) + (s0[2] + s0[3]);
  for (; i < n; i++)
    mean += x[i];
  mean /= n;

  vm = (v4d){ mean, mean, mean, mean };
  s0 = s1 = (v4d){ 0 };
  for (i = 0; i + 8 <= n; i += 8) {
    v4f lo, hi;
    v4d d0, d1;
    memcpy (&lo, x + i, sizeof (lo));
    memcpy (&hi, x + i + 4, sizeof (hi));
    d0 = __builtin_convertvector(lo, v4d) - vm;
    d1 = __builtin_convertvector(hi, v4d) - vm;
    s0 += d0 * d0;
    s1 += d1 * d1;
  }
  s0 += s1;
  var = (s0[0] + s0[1]) + (s0[2] + s0[3]);
  for (; i < n; i++) {
    double d = x[i] - mean;
    var += d * d;
  }
  var /= n;
  inv = 1.0 / sqrt (var + eps);

  vinv = (v4d){ inv, inv, inv, inv };
  for (i = 0; i + 4 <= n; i += 4) {
    v4f v, t;
    memcpy (&v, x + i, sizeof (v));
    v = __builtin_convertvector(
        (__builtin_convertvector(v, v4d) - vm) * vinv, v4f);
    if (g) {
      memcpy (&t, g + i, sizeof (t));
      v *= t;
    }
    if (b) {
      memcpy (&t, b + i, sizeof (t));
      v += t;
    }
    memcpy (x + i, &v, sizeof (v));
  }
  for (; i < n; i++) {
    float v = (float)((x[i] - mean) * inv);
    if (g)
      v *= g[i];
    if (b)
      v += b[i];
    x[i] = v;
  }
}

static void
layer_norm_range (gpointer data, gsize start, gsize end, int tid)
{
  const NormJob *j = data;
  gsize r;

  for (r = start; r < end; r++)
    layer_norm_row (j->x + r * j->c, j->c, j->g, j->b, j->eps);
}

void
cpu_layer_norm (AffectBackend *be, AffectTensor *x, const AffectTensor *gamma,
    const AffectTensor *beta, double eps)
{
  NormJob j = { x->data, gamma ? gamma->data : NULL, beta ? beta->data : NULL,
    x->c, eps };
  const gsize rows = (gsize)x->n * x->h * x->w;

  cpu_begin (be);
  cpu_parallel_for (be, rows, MAX (1, ROWS_GRAIN_FLOATS / MAX (x->c, 1)),
      layer_norm_range, &j);
  cpu_end (be);
}

/* ---- masked softmax ---------------------------------------------------- */

typedef struct {
  float *x;
  const float *mask; /* [mask_n, c] or NULL */
  int mask_n, rows_per_image, w, c, causal_offset;
  float scale;
} SoftmaxJob;

/* exp(t) for t <= 0 in double precision, vectorised: t = n ln 2 + r with
 * n = round (t / ln 2) and |r| <= ln 2 / 2, e^r by a degree-6 polynomial
 * (interpolation at the Chebyshev nodes: relative error < 3e-9, far below
 * float's 6e-8), 2^n put into the exponent bits. Below EXP_LOW (e^-110:
 * under float's smallest subnormal, and the softmax divides by a sum >= 1)
 * the result is 0; -inf gives 0. Written once for 4 doubles and once for
 * one, with the same arithmetic in the same order (no FMA contraction in
 * models/). */
#define EXP_LOW -110.0
/* 1.5 · 2^52: adding it rounds to an integer held in the low mantissa
 * bits. */
#define EXP_SHIFTER 6755399441055744.0
#define EXP_C6 0.0013941108317623424
#define EXP_C5 0.0083751263981338142
#define EXP_C4 0.041666352898623471
#define EXP_C3 0.16666415514650876
#define EXP_C2 0.50000000471170325
#define EXP_C1 1.0000000377162146
#define EXP_C0 1.0000000000000002

static inline __attribute__ ((always_inline)) void
exp_neg_v4d (v4d *x)
{
  const v4d shifter = { EXP_SHIFTER, EXP_SHIFTER, EXP_SHIFTER, EXP_SHIFTER };
  v4d t = *x, k, n, r, p;
  v4l bits;
  int l;

  for (l = 0; l < 4; l++)
    t[l] = t[l] < EXP_LOW ? EXP_LOW : t[l];
  k = t * M_LOG2E + shifter;
  n = k - shifter;
  r = t - n * M_LN2;
  p = EXP_C6 * r + EXP_C5;
  p = p * r + EXP_C4;
  p = p * r + EXP_C3;
  p = p * r + EXP_C2;
  p = p * r + EXP_C1;
  p = p * r + EXP_C0;
  bits = ((v4l)k - (v4l)shifter + 1023) << 52; /* 2^n, n >= -159 */
  p *= (v4d)bits;
  for (l = 0; l < 4; l++)
    p[l] = (*x)[l] < EXP_LOW ? 0.0 : p[l];
  *x = p;
}

static inline double
exp_neg_1d (double t)
{
  const double shifter = EXP_SHIFTER;
  double k, n, r, p, scale;
  gint64 kb, sb;

  if (!(t >= EXP_LOW))
    return t != t ? t : 0.0; /* NaN stays NaN */
  k = t * M_LOG2E + shifter;
  n = k - shifter;
  r = t - n * M_LN2;
  p = EXP_C6 * r + EXP_C5;
  p = p * r + EXP_C4;
  p = p * r + EXP_C3;
  p = p * r + EXP_C2;
  p = p * r + EXP_C1;
  p = p * r + EXP_C0;
  memcpy (&kb, &k, sizeof (kb));
  memcpy (&sb, &shifter, sizeof (sb));
  kb = (kb - sb + 1023) << 52;
  memcpy (&scale, &kb, sizeof (scale));
  return p * scale;
}

/* Scores of 4 elements in double: scale · x (+ m). */
#define SCORES4(s, p, m, i)                          \
  do {                                               \
    v4f x_;                                          \
    memcpy (&x_, (p) + (i), sizeof (x_));            \
    (s) = vscale * __builtin_convertvector(x_, v4d); \
    if (has_mask) {                                  \
      memcpy (&x_, (m) + (i), sizeof (x_));          \
      (s) += __builtin_convertvector(x_, v4d);       \
    }                                                \
  } while (0)

/* One row: p[0:lim] = softmax (scale · p + m) (m NULL: 0), p[lim:c] = 0.
 * Scores, maximum, exponentials and their sum in double; each output is
 * the float exponential times the float reciprocal of the sum (relative
 * error within 2e-7 of the float64 softmax). Inlined twice, with and
 * without a mask. */
static inline __attribute__ ((always_inline)) void
softmax_row_impl (float *restrict p, int c, int lim, float scale,
    const float *restrict m, const gboolean has_mask)
{
  const v4d vscale = { scale, scale, scale, scale };
  v4d vmx = { -INFINITY, -INFINITY, -INFINITY, -INFINITY }, vsum = { 0 }, s;
  double mx, sum;
  float inv;
  int i;

  /* the maximum score */
  for (i = 0; i + 4 <= lim; i += 4) {
    int l;
    SCORES4 (s, p, m, i);
    for (l = 0; l < 4; l++)
      vmx[l] = s[l] > vmx[l] ? s[l] : vmx[l];
  }
  mx = MAX (MAX (vmx[0], vmx[1]), MAX (vmx[2], vmx[3]));
  for (; i < lim; i++) {
    double si = (double)scale * p[i] + (has_mask ? (double)m[i] : 0.0);
    mx = si > mx ? si : mx;
  }
  if (mx == -INFINITY) {
    memset (p, 0, sizeof (float) * c);
    return;
  }

  /* exponentials (stored as floats) and their sum */
  {
    const v4d vmax = { mx, mx, mx, mx };

    for (i = 0; i + 4 <= lim; i += 4) {
      v4f e;
      SCORES4 (s, p, m, i);
      s -= vmax;
      exp_neg_v4d (&s);
      vsum += s;
      e = __builtin_convertvector(s, v4f);
      memcpy (p + i, &e, sizeof (e));
    }
  }
  sum = (vsum[0] + vsum[1]) + (vsum[2] + vsum[3]);
  for (; i < lim; i++) {
    double e = exp_neg_1d (
        (double)scale * p[i] + (has_mask ? (double)m[i] : 0.0) - mx);
    sum += e;
    p[i] = (float)e;
  }

  /* normalise */
  inv = (float)(1.0 / sum);
  for (i = 0; i + 8 <= lim; i += 8) {
    v8f v;
    LOAD8 (v, p + i);
    v *= inv;
    STORE8 (p + i, v);
  }
  for (; i < lim; i++)
    p[i] *= inv;
  for (; i < c; i++)
    p[i] = 0.0f;
}

MULTIVERSION static void
softmax_row (
    float *restrict p, int c, int lim, float scale, const float *restrict m)
{
  if (m)
    softmax_row_impl (p, c, lim, scale, m, TRUE);
  else
    softmax_row_impl (p, c, lim, scale, NULL, FALSE);
}

static void
softmax_masked_range (gpointer data, gsize start, gsize end, int tid)
{
  const SoftmaxJob *j = data;
  const int c = j->c;
  gsize r;

  for (r = start; r < end; r++) {
    const gsize image = r / (gsize)j->rows_per_image;
    const int row = (int)(r % (gsize)j->w);
    const float *m
        = j->mask ? j->mask + (j->mask_n == 1 ? 0 : image) * c : NULL;
    int lim = c;

    if (j->causal_offset >= 0 && (gint64)row + j->causal_offset + 1 < c)
      lim = row + j->causal_offset + 1;
    softmax_row (j->x + r * c, c, lim, j->scale, m);
  }
}

void
cpu_softmax_masked (AffectBackend *be, AffectTensor *x, float scale,
    const AffectTensor *mask, int causal_offset)
{
  SoftmaxJob j = { x->data, mask ? mask->data : NULL, mask ? mask->n : 0,
    x->h * x->w, x->w, x->c, causal_offset, scale };
  const gsize rows = (gsize)x->n * x->h * x->w;

  cpu_begin (be);
  cpu_parallel_for (be, rows, MAX (1, SOFTMAX_GRAIN_FLOATS / MAX (x->c, 1)),
      softmax_masked_range, &j);
  cpu_end (be);
}

/* ---- gather, arithmetic, copies ---------------------------------------- */

void
cpu_gather_rows (AffectBackend *be, const AffectTensor *table,
    const gint32 *ids, gsize n_ids, AffectTensor *y)
{
  const gsize c = (gsize)table->c;
  gsize i;

  for (i = 0; i < n_ids; i++)
    memcpy (
        y->data + i * c, table->data + (gsize)ids[i] * c, c * sizeof (float));
}

typedef struct {
  float *a;
  const float *b;
  gsize nb;
  AffectBinaryOp op;
  float alpha, beta; /* scale */
} ArithJob;

/* a[i] = a[i] OP b[i] for i < n: 8 at a time, then one by one (the same
 * float operation either way). */
#define BINARY_LOOP(OP)          \
  do {                           \
    for (; i + 8 <= n; i += 8) { \
      LOAD8 (va, a + i);         \
      LOAD8 (vb, b + i);         \
      va = va OP vb;             \
      STORE8 (a + i, va);        \
    }                            \
    for (; i < n; i++)           \
      a[i] = a[i] OP b[i];       \
  } while (0)

/* a[i] = a[i] op b[i] for i < n. b may be a itself (each block is read
 * before it is written). */
MULTIVERSION static void
binary_span (float *a, const float *b, gsize n, AffectBinaryOp op)
{
  gsize i = 0;
  v8f va, vb;

  switch (op) {
    case AFFECT_BINARY_ADD:
      BINARY_LOOP (+);
      break;
    case AFFECT_BINARY_SUB:
      BINARY_LOOP (-);
      break;
    case AFFECT_BINARY_MUL:
      BINARY_LOOP (*);
      break;
  }
}

#undef BINARY_LOOP

/* Elements [start, end) of a: the runs of b that fall there. */
static void
binary_range (gpointer data, gsize start, gsize end, int tid)
{
  const ArithJob *j = data;
  gsize i = start;

  while (i < end) {
    const gsize off = i % j->nb, len = MIN (j->nb - off, end - i);
    binary_span (j->a + i, j->b + off, len, j->op);
    i += len;
  }
}

void
cpu_binary (AffectBackend *be, AffectTensor *a, const AffectTensor *b,
    AffectBinaryOp op)
{
  const gsize na = affect_tensor_n_elements (a);
  ArithJob j = { a->data, b->data, affect_tensor_n_elements (b), op };
  float run[64];

  if (j.nb < 8 && j.nb < na) {
    /* A short b (a few values repeated): expand it to a run of 8 or more
     * so that the vector path applies (same values, same operations). */
    const gsize reps = G_N_ELEMENTS (run) / j.nb;
    gsize i;

    for (i = 0; i < reps * j.nb; i++)
      run[i] = j.b[i % j.nb];
    j.b = run;
    j.nb = reps * j.nb;
  }
  cpu_begin (be);
  cpu_parallel_for (be, na, ARITH_GRAIN_FLOATS, binary_range, &j);
  cpu_end (be);
}

MULTIVERSION static void
scale_range (gpointer data, gsize start, gsize end, int tid)
{
  const ArithJob *j = data;
  const v8f va = { j->alpha, j->alpha, j->alpha, j->alpha, j->alpha, j->alpha,
    j->alpha, j->alpha };
  const v8f vb = { j->beta, j->beta, j->beta, j->beta, j->beta, j->beta,
    j->beta, j->beta };
  float *p = j->a;
  gsize i = start;

  for (; i + 8 <= end; i += 8) {
    v8f v;
    LOAD8 (v, p + i);
    v = va * v + vb;
    STORE8 (p + i, v);
  }
  for (; i < end; i++)
    p[i] = j->alpha * p[i] + j->beta;
}

void
cpu_scale (AffectBackend *be, AffectTensor *x, float alpha, float beta)
{
  ArithJob j = { x->data, NULL, 0, 0, alpha, beta };

  cpu_begin (be);
  cpu_parallel_for (
      be, affect_tensor_n_elements (x), ARITH_GRAIN_FLOATS, scale_range, &j);
  cpu_end (be);
}

void
cpu_copy_rows (AffectBackend *be, const AffectTensor *src, gsize src_offset,
    int src_ld, gsize src_stride, AffectTensor *dst, gsize dst_offset,
    int dst_ld, gsize dst_stride, int rows, int cols, int batch)
{
  int b, r;

  for (b = 0; b < batch; b++) {
    const float *s = src->data + src_offset + (gsize)b * src_stride;
    float *d = dst->data + dst_offset + (gsize)b * dst_stride;
    if (src_ld == cols && dst_ld == cols) {
      memmove (d, s, (gsize)rows * cols * sizeof (float));
      continue;
    }
    for (r = 0; r < rows; r++)
      memmove (d + (gsize)r * dst_ld, s + (gsize)r * src_ld,
          (gsize)cols * sizeof (float));
  }
}
