/* gst-affect — models/cpu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The row kernels of cpu-transformer.c (GELU, layer norm, masked softmax,
 * broadcast arithmetic, scale), written once with the names of cpu-simd.h
 * and compiled there once per target (no include guard: included once per
 * build). The scalar helpers, polynomials and constants (erf_rational (),
 * exp_neg_1d (), ERF_POLY, EXP_REDUCE_POLY) are in cpu-transformer.c.
 *
 * The vector and scalar paths do the same operations in the same order
 * (no SIMD_FMA), so a row's result depends neither on its length,
 * alignment or thread count nor on the target: the generic, AVX2 and
 * AVX-512 builds give the same bits. Sums and exponentials in double
 * precision run on 4-double vectors (cpu_vd4) whatever the target, so that
 * their order, too, is the same everywhere (these kernels are bound by the
 * float loads and the double arithmetic, which wider vectors do not
 * change much).
 *
 * Selections on the 4-double vectors (clamps, maxima) are written as loops
 * over the lanes with the C conditional operator, which GCC turns into
 * vector compare-and-blend or min/max instructions on every target: a
 * direct comparison of 32-byte vectors is lowered to scalar compares and
 * branches where the target has no 32-byte vectors (the generic SSE2
 * build, NEON), which made the generic softmax 6x slower than the AVX2
 * one.
 */

/* ---- GELU -------------------------------------------------------------- */

/* erf_rational () of every lane: the same operations in the same order. */
SIMD_INLINE VF
SIMD_NAME (erf_rational_vec) (VF x)
{
  /* x < -4 ? -4 : (x > 4 ? 4 : x), NaN kept. */
  const VF c = SIMD_MIN (SIMD_SET1 (4.0f), SIMD_MAX (SIMD_SET1 (-4.0f), x));
  const VF x2 = c * c;
  VF p, q;

  ERF_POLY (x2, p, q);
  return c * p / q;
}

/* x[0:n] = GELU (x[0:n]) in place, erf form: 0.5 x (1 + erf(x / sqrt 2)). */
SIMD_FN void
SIMD_NAME (gelu) (float *x, gsize n)
{
  gsize i = 0;

  for (; i + SIMD_W <= n; i += SIMD_W) {
    const VF v = SIMD_LOAD (x + i);
    const VF e = SIMD_NAME (erf_rational_vec) (v * (float)M_SQRT1_2);
    SIMD_STORE (x + i, 0.5f * v * (1.0f + e));
  }
  for (; i < n; i++)
    x[i] = 0.5f * x[i] * (1.0f + erf_rational (x[i] * (float)M_SQRT1_2));
}

/* ---- layer norm -------------------------------------------------------- */

/* One row of @n floats, in place. The sums run over 4-double vectors (two
 * of them, then the tail in order); the output of each element is
 * (float)((x - mean) · inv) · g + b in both paths. */
SIMD_FN void
SIMD_NAME (layer_norm_row) (float *restrict x, int n, const float *restrict g,
    const float *restrict b, double eps)
{
  cpu_vd4 s0 = { 0 }, s1 = { 0 }, vm, vinv;
  double mean, var, inv;
  int i;

  for (i = 0; i + 8 <= n; i += 8) {
    cpu_vf4 lo, hi;
    memcpy (&lo, x + i, sizeof (lo));
    memcpy (&hi, x + i + 4, sizeof (hi));
    s0 += __builtin_convertvector(lo, cpu_vd4);
    s1 += __builtin_convertvector(hi, cpu_vd4);
  }
  s0 += s1;
  mean = (s0[0] + s0[1]) + (s0[2] + s0[3]);
  for (; i < n; i++)
    mean += x[i];
  mean /= n;

  vm = (cpu_vd4){ mean, mean, mean, mean };
  s0 = s1 = (cpu_vd4){ 0 };
  for (i = 0; i + 8 <= n; i += 8) {
    cpu_vf4 lo, hi;
    cpu_vd4 d0, d1;
    memcpy (&lo, x + i, sizeof (lo));
    memcpy (&hi, x + i + 4, sizeof (hi));
    d0 = __builtin_convertvector(lo, cpu_vd4) - vm;
    d1 = __builtin_convertvector(hi, cpu_vd4) - vm;
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

  vinv = (cpu_vd4){ inv, inv, inv, inv };
  for (i = 0; i + 4 <= n; i += 4) {
    cpu_vf4 v, t;
    memcpy (&v, x + i, sizeof (v));
    v = __builtin_convertvector(
        (__builtin_convertvector(v, cpu_vd4) - vm) * vinv, cpu_vf4);
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

/* ---- masked softmax ---------------------------------------------------- */

SIMD_INLINE void
SIMD_NAME (exp_neg_cpu_vd4) (cpu_vd4 *x)
{
  const cpu_vd4 shifter
      = { EXP_SHIFTER, EXP_SHIFTER, EXP_SHIFTER, EXP_SHIFTER };
  cpu_vd4 t = *x, k, n, p;
  cpu_vl4 bits;
  int l;

  for (l = 0; l < 4; l++)
    t[l] = t[l] < EXP_LOW ? EXP_LOW : t[l];
  EXP_REDUCE_POLY (t, shifter, k, n, p);
  bits = ((cpu_vl4)k - (cpu_vl4)shifter + 1023) << 52; /* 2^n, n >= -159 */
  p *= (cpu_vd4)bits;
  for (l = 0; l < 4; l++)
    p[l] = (*x)[l] < EXP_LOW ? 0.0 : p[l];
  *x = p;
}

/* Scores of 4 elements in double: scale · x (+ m). */
#define SCORES4(s, p, m, i)                              \
  do {                                                   \
    cpu_vf4 x_;                                          \
    memcpy (&x_, (p) + (i), sizeof (x_));                \
    (s) = vscale * __builtin_convertvector(x_, cpu_vd4); \
    if (has_mask) {                                      \
      memcpy (&x_, (m) + (i), sizeof (x_));              \
      (s) += __builtin_convertvector(x_, cpu_vd4);       \
    }                                                    \
  } while (0)

/* One row: p[0:lim] = softmax (scale · p + m) (m NULL: 0), p[lim:c] = 0.
 * Scores, maximum, exponentials and their sum in double; each output is
 * the float exponential times the float reciprocal of the sum (relative
 * error within 2e-7 of the float64 softmax). Inlined twice, with and
 * without a mask. */
SIMD_INLINE void
SIMD_NAME (softmax_row_impl) (float *restrict p, int c, int lim, float scale,
    const float *restrict m, const gboolean has_mask)
{
  const cpu_vd4 vscale = { scale, scale, scale, scale };
  cpu_vd4 vmx = { -INFINITY, -INFINITY, -INFINITY, -INFINITY }, vsum = { 0 }, s;
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
    const cpu_vd4 vmax = { mx, mx, mx, mx };

    for (i = 0; i + 4 <= lim; i += 4) {
      cpu_vf4 e;
      SCORES4 (s, p, m, i);
      s -= vmax;
      SIMD_NAME (exp_neg_cpu_vd4) (&s);
      vsum += s;
      e = __builtin_convertvector(s, cpu_vf4);
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
  for (i = 0; i + SIMD_W <= lim; i += SIMD_W)
    SIMD_STORE (p + i, SIMD_LOAD (p + i) * inv);
  for (; i < lim; i++)
    p[i] *= inv;
  for (; i < c; i++)
    p[i] = 0.0f;
}

SIMD_FN void
SIMD_NAME (softmax_row) (
    float *restrict p, int c, int lim, float scale, const float *restrict m)
{
  if (m)
    SIMD_NAME (softmax_row_impl) (p, c, lim, scale, m, TRUE);
  else
    SIMD_NAME (softmax_row_impl) (p, c, lim, scale, NULL, FALSE);
}

#undef SCORES4

/* ---- arithmetic -------------------------------------------------------- */

/* a[i] = a[i] OP b[i] for i < n: SIMD_W at a time, then one by one (the same
 * float operation either way). */
#define BINARY_LOOP(OP)                                           \
  do {                                                            \
    for (; i + SIMD_W <= n; i += SIMD_W)                          \
      SIMD_STORE (a + i, SIMD_LOAD (a + i) OP SIMD_LOAD (b + i)); \
    for (; i < n; i++)                                            \
      a[i] = a[i] OP b[i];                                        \
  } while (0)

/* a[i] = a[i] op b[i] for i < n. b may be a itself (each block is read
 * before it is written). */
SIMD_FN void
SIMD_NAME (binary_span) (float *a, const float *b, gsize n, AffectBinaryOp op)
{
  gsize i = 0;

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

/* p[0:n] = alpha · p[0:n] + beta (a multiply, then an add). */
SIMD_FN void
SIMD_NAME (scale_span) (float *p, gsize n, float alpha, float beta)
{
  const VF va = SIMD_SET1 (alpha), vb = SIMD_SET1 (beta);
  gsize i = 0;

  for (; i + SIMD_W <= n; i += SIMD_W)
    SIMD_STORE (p + i, va * SIMD_LOAD (p + i) + vb);
  for (; i < n; i++)
    p[i] = alpha * p[i] + beta;
}
