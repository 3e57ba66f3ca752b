/* gst-affect — models/cpu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The kernels of cpu-elementwise.c (activations, the GEMM epilogue, add),
 * written once with the names of cpu-simd.h and compiled there once per
 * target (no include guard: included once per build).
 *
 * The vector lanes and the scalar tails do the same float operations, so
 * results depend neither on alignment, length or chunking nor on the target:
 * the generic, AVX2 and AVX-512 builds give the same bits.
 */

/* act(v) per lane, as act_scalar(): relu max (v, +0); relu6 then min (v, 6);
 * leaky as tfjs, m = 0.1 v; relu (v - m) + m. */
SIMD_INLINE VF
SIMD_NAME (act_vec) (VF v, AffectActivation act)
{
  const VF zero = SIMD_SET1 (0.0f);
  VF m;

  switch (act) {
    case AFFECT_ACT_RELU:
      return SIMD_MAX (v, zero);
    case AFFECT_ACT_RELU6:
      return SIMD_MIN (SIMD_MAX (v, zero), SIMD_SET1 (6.0f));
    case AFFECT_ACT_LEAKY:
      m = SIMD_SET1 (0.1f) * v;
      return SIMD_MAX (v - m, zero) + m;
    default:
      return v;
  }
}

SIMD_INLINE float
SIMD_NAME (act_scalar) (float v, AffectActivation act)
{
  switch (act) {
    case AFFECT_ACT_RELU:
      return v > 0.0f ? v : 0.0f;
    case AFFECT_ACT_RELU6:
      v = v > 0.0f ? v : 0.0f;
      return v < 6.0f ? v : 6.0f;
    case AFFECT_ACT_LEAKY:
      return leaky (v);
    default:
      return v;
  }
}

/* p[0:n] = act(p[0:n]) in place, for a constant @act (inlined once per
 * activation: no switch inside the loop). */
SIMD_INLINE void
SIMD_NAME (activate_as) (float *restrict p, gsize n, const AffectActivation act)
{
  gsize i = 0;

  for (; i + SIMD_W <= n; i += SIMD_W)
    SIMD_STORE (p + i, SIMD_NAME (act_vec) (SIMD_LOAD (p + i), act));
  for (; i < n; i++)
    p[i] = SIMD_NAME (act_scalar) (p[i], act);
}

/* y[r, 0:nc] = act(y[r, 0:nc] + bias[0:nc]) for @rows rows of stride @ld,
 * for a constant @act. */
SIMD_INLINE void
SIMD_NAME (bias_act_rows_as) (float *y, gsize rows, int nc, int ld,
    const float *bias, const AffectActivation act)
{
  for (gsize r = 0; r < rows; r++, y += ld) {
    int ch = 0;
    for (; ch + SIMD_W <= nc; ch += SIMD_W)
      SIMD_STORE (y + ch, SIMD_NAME (act_vec) (
                              SIMD_LOAD (y + ch) + SIMD_LOAD (bias + ch), act));
    for (; ch < nc; ch++)
      y[ch] = SIMD_NAME (act_scalar) (y[ch] + bias[ch], act);
  }
}

SIMD_FN void
SIMD_NAME (activate) (float *restrict p, gsize n, AffectActivation act)
{
  switch (act) {
    case AFFECT_ACT_RELU:
      SIMD_NAME (activate_as) (p, n, AFFECT_ACT_RELU);
      break;
    case AFFECT_ACT_RELU6:
      SIMD_NAME (activate_as) (p, n, AFFECT_ACT_RELU6);
      break;
    case AFFECT_ACT_LEAKY:
      SIMD_NAME (activate_as) (p, n, AFFECT_ACT_LEAKY);
      break;
    default:
      break;
  }
}

SIMD_FN void
SIMD_NAME (bias_act_rows) (float *y, gsize rows, int nc, int ld,
    const float *bias, AffectActivation act)
{
  switch (act) {
    case AFFECT_ACT_RELU:
      SIMD_NAME (bias_act_rows_as) (y, rows, nc, ld, bias, AFFECT_ACT_RELU);
      break;
    case AFFECT_ACT_RELU6:
      SIMD_NAME (bias_act_rows_as) (y, rows, nc, ld, bias, AFFECT_ACT_RELU6);
      break;
    case AFFECT_ACT_LEAKY:
      SIMD_NAME (bias_act_rows_as) (y, rows, nc, ld, bias, AFFECT_ACT_LEAKY);
      break;
    default:
      SIMD_NAME (bias_act_rows_as) (y, rows, nc, ld, bias, AFFECT_ACT_NONE);
      break;
  }
}

/* y[0:n] = a[0:n] + b[0:n]; y may be a (each block is read before it is
 * written). */
SIMD_FN void
SIMD_NAME (add_floats) (const float *a, const float *b, float *y, gsize n)
{
  gsize i = 0;

  for (; i + SIMD_W <= n; i += SIMD_W)
    SIMD_STORE (y + i, SIMD_LOAD (a + i) + SIMD_LOAD (b + i));
  for (; i < n; i++)
    y[i] = a[i] + b[i];
}
