/* gst-affect — models/cpu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CPU backend: the transformer family (GELU, matmul, layer norm,
 * masked softmax, gather, broadcast arithmetic, row copies). The row
 * kernels are in cpu-transformer-kernels.h, built for every target by
 * cpu-simd.h; their vector and scalar paths do the same operations, so a
 * row's result does not depend on its length or alignment, nor on the
 * thread count or the target.
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

/* erf(x) as a rational function of x (odd degree-13 numerator, even
 * degree-8 denominator, x clamped to [-4, 4] where erf is 1 within 2e-8):
 * max |error| 4.2e-7 against erf() in double over [-8, 8] (GELU: 7e-7).
 * Coefficients as in Eigen's fast erf. Written once for scalars (here) and once
 * for vectors (cpu-transformer-kernels.h; erff() alone took 15 % of BERT's
 * time). */
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

/* The numerator p and denominator q at x2 = c², for floats and for vectors
 * of floats alike (the same operations in the same order). */
#define ERF_POLY(x2, p, q)          \
  do {                              \
    (p) = ERF_P13 * (x2) + ERF_P11; \
    (p) = (p) * (x2) + ERF_P9;      \
    (p) = (p) * (x2) + ERF_P7;      \
    (p) = (p) * (x2) + ERF_P5;      \
    (p) = (p) * (x2) + ERF_P3;      \
    (p) = (p) * (x2) + ERF_P1;      \
    (q) = ERF_Q8 * (x2) + ERF_Q6;   \
    (q) = (q) * (x2) + ERF_Q4;      \
    (q) = (q) * (x2) + ERF_Q2;      \
    (q) = (q) * (x2) + ERF_Q0;      \
  } while (0)

static inline float
erf_rational (float x)
{
  const float c = x < -4.0f ? -4.0f : (x > 4.0f ? 4.0f : x);
  const float x2 = c * c;
  float p, q;

  ERF_POLY (x2, p, q);
  return c * p / q;
}

/* exp(t) for t <= 0 in double precision, vectorised: t = n ln 2 + r with
 * n = round (t / ln 2) and |r| <= ln 2 / 2, e^r by a degree-6 polynomial
 * (interpolation at the Chebyshev nodes: relative error < 3e-9, far below
 * float's 6e-8), 2^n put into the exponent bits. Below EXP_LOW (e^-110:
 * under float's smallest subnormal, and the softmax divides by a sum >= 1)
 * the result is 0; -inf gives 0. Written once for one double (here) and
 * once for 4 (cpu-transformer-kernels.h), with the same arithmetic in the
 * same order (EXP_REDUCE_POLY; no FMA contraction in models/). */
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

/* k = t / ln 2 + shifter (n = round (t / ln 2) in its low bits), n, and
 * p = e^r for r = t - n ln 2: for doubles and for vectors of doubles alike
 * (the same operations in the same order). */
#define EXP_REDUCE_POLY(t, shifter, k, n, p) \
  do {                                       \
    __typeof__ (t) r_;                       \
    (k) = (t)*M_LOG2E + (shifter);           \
    (n) = (k) - (shifter);                   \
    r_ = (t) - (n)*M_LN2;                    \
    (p) = EXP_C6 * r_ + EXP_C5;              \
    (p) = (p)*r_ + EXP_C4;                   \
    (p) = (p)*r_ + EXP_C3;                   \
    (p) = (p)*r_ + EXP_C2;                   \
    (p) = (p)*r_ + EXP_C1;                   \
    (p) = (p)*r_ + EXP_C0;                   \
  } while (0)

static inline double
exp_neg_1d (double t)
{
  const double shifter = EXP_SHIFTER;
  double k, n, p, scale;
  gint64 kb, sb;

  if (!(t >= EXP_LOW))
    return t != t ? t : 0.0; /* NaN stays NaN */
  EXP_REDUCE_POLY (t, shifter, k, n, p);
  memcpy (&kb, &k, sizeof (kb));
  memcpy (&sb, &shifter, sizeof (sb));
  kb = (kb - sb + 1023) << 52;
  memcpy (&scale, &kb, sizeof (scale));
  return p * scale;
}

#define CPU_SIMD_KERNELS "cpu-transformer-kernels.h"
#include "cpu-simd.h"
#undef CPU_SIMD_KERNELS

/* GELU, erf form: 0.5 x (1 + erf(x / sqrt 2)) (cpu-transformer-kernels.h,
 * the same value for each element in the vector and scalar paths). */
void
cpu_gelu (float *x, gsize n)
{
  CPU_SIMD_PICK (gelu) (x, n);
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

static void
layer_norm_range (gpointer data, gsize start, gsize end, int tid)
{
  const NormJob *j = data;
  __typeof__ (layer_norm_row_generic) *row = CPU_SIMD_PICK (layer_norm_row);
  gsize r;

  for (r = start; r < end; r++)
    row (j->x + r * j->c, j->c, j->g, j->b, j->eps);
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

static void
softmax_masked_range (gpointer data, gsize start, gsize end, int tid)
{
  const SoftmaxJob *j = data;
  const int c = j->c;
  __typeof__ (softmax_row_generic) *row_fn = CPU_SIMD_PICK (softmax_row);
  gsize r;

  for (r = start; r < end; r++) {
    const gsize image = r / (gsize)j->rows_per_image;
    const int row = (int)(r % (gsize)j->w);
    const float *m
        = j->mask ? j->mask + (j->mask_n == 1 ? 0 : image) * c : NULL;
    int lim = c;

    if (j->causal_offset >= 0 && (gint64)row + j->causal_offset + 1 < c)
      lim = row + j->causal_offset + 1;
    row_fn (j->x + r * c, c, lim, j->scale, m);
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

/* Elements [start, end) of a: the runs of b that fall there. */
static void
binary_range (gpointer data, gsize start, gsize end, int tid)
{
  const ArithJob *j = data;
  __typeof__ (binary_span_generic) *span = CPU_SIMD_PICK (binary_span);
  gsize i = start;

  while (i < end) {
    const gsize off = i % j->nb, len = MIN (j->nb - off, end - i);
    span (j->a + i, j->b + off, len, j->op);
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

  if (j.nb < 16 && j.nb < na) {
    /* A short b (a few values repeated): expand it to a run of 16 or more
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

static void
scale_range (gpointer data, gsize start, gsize end, int tid)
{
  const ArithJob *j = data;

  CPU_SIMD_PICK (scale_span) (j->a + start, end - start, j->alpha, j->beta);
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
