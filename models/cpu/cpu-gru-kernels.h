/* gst-affect — models/cpu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The kernels of cpu-gru.c, written once with the names of cpu-simd.h and
 * compiled there once per target (no include guard: included once per
 * build). See cpu-gru.c for the layouts.
 *
 * Every output of the panel product is the chain acc = fma (x[k], w[k], acc)
 * for k = 0 .. K-1 from acc = bias, whatever the rows of a block or the
 * panels a call covers: a row's result depends on that row alone, and the
 * AVX2 and AVX-512 builds give the same bits.
 */

/* Vectors per panel row, rows per register block, and panels computed
 * together for blocks of 1, 2 and 3 rows (so that enough independent FMA
 * chains hide the FMA latency: one row of one panel is only KN_NV
 * chains). */
#define KN_NV (CPU_PANEL / SIMD_W)
#if SIMD_W >= 16
#define KN_MR 8
#define KN_PP1 4
#define KN_PP2 2
#define KN_PP3 2
#elif SIMD_W >= 8
#define KN_MR 3
#define KN_PP1 2
#define KN_PP2 1
#define KN_PP3 1
#else
#define KN_MR 1
#define KN_PP1 1
#define KN_PP2 1
#define KN_PP3 1
#endif
#define KN_PPMAX 4
#define KN_UNROLL _Pragma ("GCC unroll 16")

/* Element @i of a packed weight: float32 (H = 0) or half (H = 1). */
SIMD_INLINE const void *
SIMD_NAME (kn_wat) (const void *wp, const int H, gsize i)
{
  return H ? (const void *)((const guint16 *)wp + i)
           : (const void *)((const float *)wp + i);
}

/* SIMD_W weights from element @i, as floats (exact for halves). */
SIMD_INLINE VF
SIMD_NAME (kn_wload) (const void *wp, const int H, gsize i)
{
  return H ? SIMD_LOADH ((const guint16 *)wp + i)
           : SIMD_LOAD ((const float *)wp + i);
}

/* y[r, 0:PP·32] (or 0:cols of one partial panel) = bias + x[r, 0:K] ·
 * panels, for R rows and PP consecutive panels (constants after inlining:
 * the accumulators stay in registers). The weight streams once for the R
 * rows, prefetched CPU_PREFETCH_ROWS panel rows ahead. */
SIMD_INLINE void
SIMD_NAME (panel_block) (const int R, const int PP, const int H, const float *x,
    gsize ldx, int K, const void *wp, const float *bp, float *y, gsize ldy,
    int cols)
{
  const gsize ps = (gsize)K * CPU_PANEL; /* panel stride */
  VF acc[KN_MR][KN_PPMAX][KN_NV];

  KN_UNROLL for (int r = 0; r < R; r++)
  {
    KN_UNROLL for (int p = 0; p < PP; p++)
    {
      KN_UNROLL for (int v = 0; v < KN_NV; v++)
      {
        acc[r][p][v] = SIMD_LOAD (bp + p * CPU_PANEL + v * SIMD_W);
      }
    }
  }
  for (int k = 0; k < K; k++) {
    const gsize w = (gsize)k * CPU_PANEL; /* index of the panel row */
    VF xb[KN_MR];

    KN_UNROLL for (int p = 0; p < PP; p++)
    {
      SIMD_PREFETCH (SIMD_NAME (kn_wat) (
          wp, H, w + p * ps + CPU_PREFETCH_ROWS * CPU_PANEL));
      if (!H)
        SIMD_PREFETCH (SIMD_NAME (kn_wat) (
            wp, H, w + p * ps + CPU_PREFETCH_ROWS * CPU_PANEL + 16));
    }
    KN_UNROLL for (int r = 0; r < R; r++)
    {
      xb[r] = SIMD_SET1 (x[r * ldx + k]);
    }
    KN_UNROLL for (int p = 0; p < PP; p++)
    {
      KN_UNROLL for (int v = 0; v < KN_NV; v++)
      {
        const VF wv = SIMD_NAME (kn_wload) (wp, H, w + p * ps + v * SIMD_W);
        KN_UNROLL for (int r = 0; r < R; r++)
        {
          acc[r][p][v] = SIMD_FMA (xb[r], wv, acc[r][p][v]);
        }
      }
    }
  }
  if (PP > 1 || cols == CPU_PANEL) {
    KN_UNROLL for (int r = 0; r < R; r++)
    {
      KN_UNROLL for (int p = 0; p < PP; p++)
      {
        KN_UNROLL for (int v = 0; v < KN_NV; v++)
        {
          SIMD_STORE (y + r * ldy + p * CPU_PANEL + v * SIMD_W, acc[r][p][v]);
        }
      }
    }
  } else {
    /* The last panel of a size that is not a multiple of CPU_PANEL. */
    KN_UNROLL for (int r = 0; r < R; r++)
    {
      float tmp[CPU_PANEL];
      KN_UNROLL for (int v = 0; v < KN_NV; v++)
      {
        SIMD_STORE (tmp + v * SIMD_W, acc[r][0][v]);
      }
      memcpy (y + r * ldy, tmp, sizeof (float) * cols);
    }
  }
}

#define KN_BLOCK(n, pp)                                                \
  SIMD_NAME (panel_block) (n, pp, H, xx, ldx, K, w, bb, o, ldy, cols); \
  break

/* Panels [p, p + g) (g <= the group size for R rows) of rows xx. */
SIMD_INLINE void
SIMD_NAME (panel_group) (const int H, int R, int g, const float *xx, gsize ldx,
    int K, const void *w, const float *bb, float *o, gsize ldy, int cols)
{
  switch (R * 8 + g) {
#if KN_MR >= 8
    case 8 * 8 + 1:
      KN_BLOCK (8, 1);
    case 7 * 8 + 1:
      KN_BLOCK (7, 1);
    case 6 * 8 + 1:
      KN_BLOCK (6, 1);
    case 5 * 8 + 1:
      KN_BLOCK (5, 1);
    case 4 * 8 + 1:
      KN_BLOCK (4, 1);
#endif
#if KN_MR >= 3
    case 3 * 8 + 1:
      KN_BLOCK (3, 1);
    case 2 * 8 + 1:
      KN_BLOCK (2, 1);
#endif
#if KN_PP3 >= 2
    case 3 * 8 + 2:
      KN_BLOCK (3, 2);
#endif
#if KN_PP2 >= 2
    case 2 * 8 + 2:
      KN_BLOCK (2, 2);
#endif
#if KN_PP1 >= 2
    case 1 * 8 + 2:
      KN_BLOCK (1, 2);
#endif
#if KN_PP1 >= 4
    case 1 * 8 + 3:
      KN_BLOCK (1, 3);
    case 1 * 8 + 4:
      KN_BLOCK (1, 4);
#endif
    default:
      KN_BLOCK (1, 1);
  }
}

#undef KN_BLOCK

/* y[rows, columns of panels p0 .. p1-1] = x[rows, K] · W + b with the
 * packed weight @wp [np][K][CPU_PANEL] and bias @bp [np * CPU_PANEL];
 * @n_out columns in all (the last panel may be partial). Few rows: the rows
 * stay in registers while the weight streams once (several panels at a
 * time for one to three rows). More rows than a register block: a panel at
 * a time for all rows. Either way every output is the same chain. */
SIMD_INLINE void
SIMD_NAME (panels_run_t) (const int H, const float *x, gsize ldx, int rows,
    int K, const void *wp, const float *bp, int p0, int p1, int n_out, float *y,
    gsize ldy)
{
  const gsize ps = (gsize)K * CPU_PANEL;

  if (rows <= KN_MR) {
    const int gmax = rows == 1   ? KN_PP1
                     : rows == 2 ? KN_PP2
                     : rows == 3 ? KN_PP3
                                 : 1;
    /* Full panels in groups; a partial last panel alone. */
    const int pfull = MIN (p1, n_out / CPU_PANEL);

    for (int p = p0; p < p1;) {
      const int g = p < pfull ? MIN (gmax, pfull - p) : 1;

      SIMD_NAME (panel_group)
      (H, rows, g, x, ldx, K, SIMD_NAME (kn_wat) (wp, H, p * ps),
          bp + (gsize)p * CPU_PANEL, y + (gsize)p * CPU_PANEL, ldy,
          MIN (CPU_PANEL, n_out - p * CPU_PANEL));
      p += g;
    }
    return;
  }
  for (int p = p0; p < p1; p++) {
    const void *w = SIMD_NAME (kn_wat) (wp, H, p * ps);
    const float *bb = bp + (gsize)p * CPU_PANEL;
    const int cols = MIN (CPU_PANEL, n_out - p * CPU_PANEL);

    for (int i = 0; i < rows; i += KN_MR)
      SIMD_NAME (panel_group)
    (H, MIN (KN_MR, rows - i), 1, x + (gsize)i * ldx, ldx, K, w, bb,
        y + (gsize)i * ldy + (gsize)p * CPU_PANEL, ldy, cols);
  }
}

SIMD_FN void
SIMD_NAME (panels_run) (const float *x, gsize ldx, int rows, int K,
    const float *wp, const float *bp, int p0, int p1, int n_out, float *y,
    gsize ldy)
{
  SIMD_NAME (panels_run_t) (0, x, ldx, rows, K, wp, bp, p0, p1, n_out, y, ldy);
}

/* The same with the weight packed as IEEE half floats (CpuPanels.wh),
 * converted to float in registers: the same chain of FMAs, so the same bits
 * as panels_run on the float32 packing of the same (half-representable)
 * values. */
SIMD_FN void
SIMD_NAME (panels_run_h) (const float *x, gsize ldx, int rows, int K,
    const guint16 *wp, const float *bp, int p0, int p1, int n_out, float *y,
    gsize ldy)
{
  SIMD_NAME (panels_run_t) (1, x, ldx, rows, K, wp, bp, p0, p1, n_out, y, ldy);
}

/* exp(x): x = n ln2 + r, |r| <= ln2 / 2 (Cody-Waite, two constants), a
 * degree-6 polynomial for e^r (minimax for the relative error, fitted for
 * this file: 7.1e-8 evaluated in float, as good as the degree-7 Taylor
 * series), times 2^n. Inputs clamped to [-87.3, 88.3], so that 2^n is a
 * normal float (n = -126 .. 127) and the product does not overflow; n
 * rounded to nearest even by adding and subtracting 1.5 · 2^23. Measured
 * against libm in double: exp within 8.8e-8 relative, σ and tanh below
 * within 8.9e-8 absolute (beyond the clamp they are 0 or 1 in float). */
SIMD_INLINE VF
SIMD_NAME (kn_exp) (VF x)
{
  const VF magic = SIMD_SET1 (12582912.0f);
  VF n, r, p;
  VI e;

  x = SIMD_MIN (SIMD_MAX (x, SIMD_SET1 (-87.3f)), SIMD_SET1 (88.3f));
  n = (x * 1.44269504088896341f + magic) - magic;
  r = SIMD_FMA (-n, SIMD_SET1 (0.693145751953125f), x);
  r = SIMD_FMA (-n, SIMD_SET1 (1.428606765330187e-06f), r);
  p = SIMD_SET1 (1.3836845755577087e-3f);
  p = SIMD_FMA (p, r, SIMD_SET1 (8.374815806746483e-3f));
  p = SIMD_FMA (p, r, SIMD_SET1 (4.166822507977486e-2f));
  p = SIMD_FMA (p, r, SIMD_SET1 (0.16666419804096222f));
  p = SIMD_FMA (p, r, SIMD_SET1 (0.49999991059303284f));
  p = SIMD_FMA (p, r, SIMD_SET1 (1.0f));
  p = SIMD_FMA (p, r, SIMD_SET1 (1.0f));
  e = __builtin_convertvector(n, VI);
  return p * (VF)((e + 127) << 23);
}

SIMD_INLINE VF
SIMD_NAME (kn_sigmoid) (VF x)
{
  const VF one = SIMD_SET1 (1.0f);
  return one / (one + SIMD_NAME (kn_exp) ((VF){ 0 } - x));
}

/* tanh(x) = sign(x) (1 - e) / (1 + e), e = exp(-2|x|). */
SIMD_INLINE VF
SIMD_NAME (kn_tanh) (VF x)
{
  const VF one = SIMD_SET1 (1.0f);
  const VI sign = (VI)SIMD_SET1 (-0.0f);
  const VF ax = (VF)((VI)x & ~sign);
  const VF e = SIMD_NAME (kn_exp) (ax * -2.0f);
  const VF t = (one - e) / (one + e);
  return (VF)((VI)t | ((VI)x & sign));
}

/* One GRU step for one row, hidden blocks [b0, b1): @gx and @gh hold
 * x W_ihᵀ + b_ih and h W_hhᵀ + b_hh as [block][r, z, n][CPU_PANEL];
 * @hprev (NULL: the zero state) and @hnext [block][CPU_PANEL]:
 *   r = σ(gx_r + gh_r), z = σ(gx_z + gh_z), n = tanh(gx_n + r gh_n),
 *   h' = (1 - z) n + z h.
 * In phases over up to KN_GATE_BLOCKS blocks (r, then z, then n and h'), so
 * that the long dependency chain of each vector (exp, divide) overlaps with
 * those of the other vectors. */
#define KN_GATE_BLOCKS 8

SIMD_FN void
SIMD_NAME (gru_gates) (int b0, int b1, const float *gx, const float *gh,
    const float *hprev, float *hnext)
{
  const VF one = SIMD_SET1 (1.0f);
  float rb[KN_GATE_BLOCKS * CPU_PANEL], zb[KN_GATE_BLOCKS * CPU_PANEL];

  for (int g0 = b0; g0 < b1; g0 += KN_GATE_BLOCKS) {
    const int g1 = MIN (b1, g0 + KN_GATE_BLOCKS);
    const int nv = (g1 - g0) * KN_NV;

    /* vector v of the group: block g0 + v / KN_NV, lanes (v % KN_NV) W */
#define KN_AT(p, gate, v)                                             \
  ((p) + (gsize)(g0 + (v) / KN_NV) * 3 * CPU_PANEL + (gate)*CPU_PANEL \
      + (v) % KN_NV * SIMD_W)
    for (int v = 0; v < nv; v++)
      SIMD_STORE (rb + v * SIMD_W,
          SIMD_NAME (kn_sigmoid) (
              SIMD_LOAD (KN_AT (gx, 0, v)) + SIMD_LOAD (KN_AT (gh, 0, v))));
    for (int v = 0; v < nv; v++)
      SIMD_STORE (zb + v * SIMD_W,
          SIMD_NAME (kn_sigmoid) (
              SIMD_LOAD (KN_AT (gx, 1, v)) + SIMD_LOAD (KN_AT (gh, 1, v))));
    for (int v = 0; v < nv; v++) {
      const gsize o = (gsize)g0 * CPU_PANEL + v * SIMD_W;
      const VF r = SIMD_LOAD (rb + v * SIMD_W);
      const VF z = SIMD_LOAD (zb + v * SIMD_W);
      const VF n = SIMD_NAME (kn_tanh) (
          SIMD_LOAD (KN_AT (gx, 2, v)) + r * SIMD_LOAD (KN_AT (gh, 2, v)));
      const VF hp = hprev ? SIMD_LOAD (hprev + o) : (VF){ 0 };
      SIMD_STORE (hnext + o, (one - z) * n + z * hp);
    }
#undef KN_AT
  }
}

#undef KN_GATE_BLOCKS

/* One GRU step for R rows and the SIMD_W hidden units at lane @l of hidden
 * block @b: the product h W_hhᵀ + b_hh of the r, z and n panels of those
 * units (R × 3 accumulators, the same chains as panel_block) and, in its
 * epilogue, the gates of gru_gates on them (the same operations, so the
 * same bits as the product followed by gru_gates), h' written to @hn.
 * @h [R rows, ld @ldh] is the previous state, @wp/@bp the packed W_hh and
 * b_hh, @gx [R rows, ld @ldgx] the input projections of the step. The
 * gates' exp and divisions overlap with the next block's multiply-adds,
 * and the recurrent projections never go through memory. */
SIMD_INLINE void
SIMD_NAME (gru_step_block) (const int R, const float *h, gsize ldh, int K,
    const float *wp, const float *bp, int b, int l, const float *gx, gsize ldgx,
    float *hn, gsize ldn)
{
  const gsize ps = (gsize)K * CPU_PANEL;
  const gsize off = (gsize)b * 3 * CPU_PANEL + l;
  const float *w = wp + (gsize)b * 3 * ps + l;
  const float *gxb = gx + off;
  const int u = b * CPU_PANEL + l;
  const VF one = SIMD_SET1 (1.0f);
  VF ar[KN_MR], az[KN_MR], an[KN_MR];

  /* This block's inputs, needed after the K loop. */
  KN_UNROLL for (int r = 0; r < R; r++)
  {
    SIMD_PREFETCH (gxb + r * ldgx);
    SIMD_PREFETCH (gxb + r * ldgx + CPU_PANEL);
    SIMD_PREFETCH (gxb + r * ldgx + 2 * CPU_PANEL);
    SIMD_PREFETCH (h + r * ldh + u);
  }
  KN_UNROLL for (int r = 0; r < R; r++)
  {
    ar[r] = SIMD_LOAD (bp + off);
    az[r] = SIMD_LOAD (bp + off + CPU_PANEL);
    an[r] = SIMD_LOAD (bp + off + 2 * CPU_PANEL);
  }
  for (int k = 0; k < K; k++) {
    const float *wk = w + (gsize)k * CPU_PANEL;
    VF wr, wz, wn;

    SIMD_PREFETCH (wk + CPU_PREFETCH_ROWS * CPU_PANEL);
    SIMD_PREFETCH (wk + ps + CPU_PREFETCH_ROWS * CPU_PANEL);
    SIMD_PREFETCH (wk + 2 * ps + CPU_PREFETCH_ROWS * CPU_PANEL);
    wr = SIMD_LOAD (wk);
    wz = SIMD_LOAD (wk + ps);
    wn = SIMD_LOAD (wk + 2 * ps);
    KN_UNROLL for (int r = 0; r < R; r++)
    {
      const VF xb = SIMD_SET1 (h[r * ldh + k]);
      ar[r] = SIMD_FMA (xb, wr, ar[r]);
      az[r] = SIMD_FMA (xb, wz, az[r]);
      an[r] = SIMD_FMA (xb, wn, an[r]);
    }
  }
  KN_UNROLL for (int r = 0; r < R; r++)
  {
    const float *g = gxb + r * ldgx;
    const VF rg = SIMD_NAME (kn_sigmoid) (SIMD_LOAD (g) + ar[r]);
    const VF zg = SIMD_NAME (kn_sigmoid) (SIMD_LOAD (g + CPU_PANEL) + az[r]);
    const VF ng
        = SIMD_NAME (kn_tanh) (SIMD_LOAD (g + 2 * CPU_PANEL) + rg * an[r]);
    const VF hp = SIMD_LOAD (h + r * ldh + u);

    SIMD_STORE (hn + r * ldn + u, (one - zg) * ng + zg * hp);
  }
}

#define KN_STEP(n)                                    \
  SIMD_NAME (gru_step_block)                          \
  (n, hh, ldh, K, wp, bp, b, l, gxx, ldgx, hnn, ldn); \
  break

/* One GRU step for @rows rows from the state @h (not NULL): hn = the new
 * state of every hidden block, through gru_step_block (blocks of KN_MR
 * rows). @wp/@bp: the packed W_hh, b_hh of @nb hidden blocks ([block][r,
 * z, n][CPU_PANEL]); @gx the step's input projections. Every row is
 * computed from its own inputs alone. */
SIMD_FN void
SIMD_NAME (gru_step) (int rows, int K, int nb, const float *h, gsize ldh,
    const float *wp, const float *bp, const float *gx, gsize ldgx, float *hn,
    gsize ldn)
{
  for (int i = 0; i < rows; i += KN_MR) {
    const int R = MIN (KN_MR, rows - i);
    const float *hh = h + (gsize)i * ldh;
    const float *gxx = gx + (gsize)i * ldgx;
    float *hnn = hn + (gsize)i * ldn;

    for (int b = 0; b < nb; b++) {
      for (int l = 0; l < CPU_PANEL; l += SIMD_W) {
        switch (R) {
#if KN_MR >= 8
          case 8:
            KN_STEP (8);
          case 7:
            KN_STEP (7);
          case 6:
            KN_STEP (6);
          case 5:
            KN_STEP (5);
          case 4:
            KN_STEP (4);
#endif
#if KN_MR >= 3
          case 3:
            KN_STEP (3);
          case 2:
            KN_STEP (2);
#endif
          default:
            KN_STEP (1);
        }
      }
    }
  }
}

#undef KN_STEP

/* ---- small matrix products --------------------------------------------- */

/* One register block of y = alpha a b + beta y for R rows and the PP × 32
 * columns of b starting at @b (b row k at b + k ldb; a(r, k) at
 * a[r lda_r + k lda_k]). Each output is the chain acc = fma (a, b, acc)
 * over k from 0. */
SIMD_INLINE void
SIMD_NAME (mm_block) (const int R, const int PP, const float *a, gsize lda_r,
    gsize lda_k, int K, const float *b, gsize ldb, float *y, gsize ldy,
    float alpha, float beta)
{
  VF acc[KN_MR][KN_PPMAX][KN_NV];

  KN_UNROLL for (int r = 0; r < R; r++)
  {
    KN_UNROLL for (int p = 0; p < PP; p++)
    {
      KN_UNROLL for (int v = 0; v < KN_NV; v++)
      {
        acc[r][p][v] = (VF){ 0 };
      }
    }
  }
  for (int k = 0; k < K; k++) {
    const float *bk = b + (gsize)k * ldb;
    VF xb[KN_MR];

    KN_UNROLL for (int r = 0; r < R; r++)
    {
      xb[r] = SIMD_SET1 (a[r * lda_r + k * lda_k]);
    }
    KN_UNROLL for (int p = 0; p < PP; p++)
    {
      KN_UNROLL for (int v = 0; v < KN_NV; v++)
      {
        const VF bv = SIMD_LOAD (bk + p * CPU_PANEL + v * SIMD_W);
        KN_UNROLL for (int r = 0; r < R; r++)
        {
          acc[r][p][v] = SIMD_FMA (xb[r], bv, acc[r][p][v]);
        }
      }
    }
  }
  KN_UNROLL for (int r = 0; r < R; r++)
  {
    KN_UNROLL for (int p = 0; p < PP; p++)
    {
      KN_UNROLL for (int v = 0; v < KN_NV; v++)
      {
        float *o = y + r * ldy + p * CPU_PANEL + v * SIMD_W;
        VF res = acc[r][p][v];
        if (alpha != 1.0f)
          res = res * alpha;
        if (beta != 0.0f)
          res = res + SIMD_LOAD (o) * beta;
        SIMD_STORE (o, res);
      }
    }
  }
}

#define KN_MM(n, pp)                                                  \
  SIMD_NAME (mm_block)                                                \
  (n, pp, ai, lda_r, lda_k, K, b + j, ldb, yi + j, ldy, alpha, beta); \
  break

/* y [M, N] = alpha op(a) b + beta y (b K × N, row-major), rows [0, M):
 * blocks of KN_MR rows × 32 columns (several column blocks at a time for
 * one to three rows), the last N % 32 columns one at a time with the same
 * chains. A row's result does not depend on M. */
SIMD_FN void
SIMD_NAME (mm_nn) (int M, int N, int K, const float *a, gsize lda,
    gboolean trans_a, const float *b, gsize ldb, float *y, gsize ldy,
    float alpha, float beta)
{
  const gsize lda_r = trans_a ? 1 : lda, lda_k = trans_a ? lda : 1;
  const int n32 = N / CPU_PANEL;

  for (int i = 0; i < M; i += KN_MR) {
    const int R = MIN (KN_MR, M - i);
    const int gmax = R == 1 ? KN_PP1 : R == 2 ? KN_PP2 : R == 3 ? KN_PP3 : 1;
    const float *ai = a + (gsize)i * lda_r;
    float *yi = y + (gsize)i * ldy;

    for (int p = 0; p < n32;) {
      const int g = MIN (gmax, n32 - p);
      const int j = p * CPU_PANEL;

      switch (R * 8 + g) {
#if KN_MR >= 8
        case 8 * 8 + 1:
          KN_MM (8, 1);
        case 7 * 8 + 1:
          KN_MM (7, 1);
        case 6 * 8 + 1:
          KN_MM (6, 1);
        case 5 * 8 + 1:
          KN_MM (5, 1);
        case 4 * 8 + 1:
          KN_MM (4, 1);
#endif
#if KN_MR >= 3
        case 3 * 8 + 1:
          KN_MM (3, 1);
        case 2 * 8 + 1:
          KN_MM (2, 1);
#endif
#if KN_PP3 >= 2
        case 3 * 8 + 2:
          KN_MM (3, 2);
#endif
#if KN_PP2 >= 2
        case 2 * 8 + 2:
          KN_MM (2, 2);
#endif
#if KN_PP1 >= 2
        case 1 * 8 + 2:
          KN_MM (1, 2);
#endif
#if KN_PP1 >= 4
        case 1 * 8 + 3:
          KN_MM (1, 3);
        case 1 * 8 + 4:
          KN_MM (1, 4);
#endif
        default:
          KN_MM (1, 1);
      }
      p += g;
    }
    for (int r = 0; r < R; r++) {
      for (int j = n32 * CPU_PANEL; j < N; j++) {
        float acc = 0.0f;
        for (int k = 0; k < K; k++)
          acc = SIMD_FMAS (
              ai[r * lda_r + k * lda_k], b[(gsize)k * ldb + j], acc);
        if (alpha != 1.0f)
          acc = acc * alpha;
        if (beta != 0.0f)
          acc = acc + yi[r * ldy + j] * beta;
        yi[r * ldy + j] = acc;
      }
    }
  }
}

#undef KN_MM

/* Lanes of the dot products of mm_nt; rows of a and of bᵀ per block. */
#define KN_DOT 16
#define KN_DV (KN_DOT / SIMD_W)
#if SIMD_W >= 16
#define KN_NT_R 8
#define KN_NT_J 2
#else
#define KN_NT_R 4
#define KN_NT_J 1
#endif

/* The dot products of R rows of a and NJ rows of the stored bᵀ over
 * k in [0, K): KN_DOT lanes per product, lane l summing k = l mod KN_DOT
 * as one chain (past the last multiple of KN_DOT, from zero-padded
 * copies), then the lanes added in a fixed tree (pairs of vectors, then
 * SIMD_HSUM): the same bits on every target. */
SIMD_INLINE void
SIMD_NAME (dot_block) (const int R, const int NJ, const float *a, gsize lda,
    const float *b, gsize ldb, int K, float *out /* [R][NJ] */)
{
  const int k16 = K / KN_DOT * KN_DOT;
  VF acc[KN_NT_R][KN_NT_J][KN_DV];

  KN_UNROLL for (int r = 0; r < R; r++)
  {
    KN_UNROLL for (int c = 0; c < NJ; c++)
    {
      KN_UNROLL for (int q = 0; q < KN_DV; q++)
      {
        acc[r][c][q] = (VF){ 0 };
      }
    }
  }
  for (int k = 0; k < k16; k += KN_DOT) {
    KN_UNROLL for (int q = 0; q < KN_DV; q++)
    {
      VF bv[KN_NT_J], av;
      KN_UNROLL for (int c = 0; c < NJ; c++)
      {
        bv[c] = SIMD_LOAD (b + c * ldb + k + q * SIMD_W);
      }
      KN_UNROLL for (int r = 0; r < R; r++)
      {
        av = SIMD_LOAD (a + r * lda + k + q * SIMD_W);
        KN_UNROLL for (int c = 0; c < NJ; c++)
        {
          acc[r][c][q] = SIMD_FMA (av, bv[c], acc[r][c][q]);
        }
      }
    }
  }
  if (k16 < K) {
    float ta[KN_NT_R][KN_DOT], tb[KN_NT_J][KN_DOT];

    memset (ta, 0, sizeof (ta));
    memset (tb, 0, sizeof (tb));
    for (int r = 0; r < R; r++)
      memcpy (ta[r], a + r * lda + k16, sizeof (float) * (K - k16));
    for (int c = 0; c < NJ; c++)
      memcpy (tb[c], b + c * ldb + k16, sizeof (float) * (K - k16));
    KN_UNROLL for (int q = 0; q < KN_DV; q++)
    {
      KN_UNROLL for (int r = 0; r < R; r++)
      {
        KN_UNROLL for (int c = 0; c < NJ; c++)
        {
          acc[r][c][q] = SIMD_FMA (SIMD_LOAD (ta[r] + q * SIMD_W),
              SIMD_LOAD (tb[c] + q * SIMD_W), acc[r][c][q]);
        }
      }
    }
  }
  KN_UNROLL for (int r = 0; r < R; r++)
  {
    KN_UNROLL for (int c = 0; c < NJ; c++)
    {
      KN_UNROLL for (int s = KN_DV / 2; s >= 1; s /= 2)
      {
        KN_UNROLL for (int q = 0; q < s; q++)
        {
          acc[r][c][q] = acc[r][c][q] + acc[r][c][q + s];
        }
      }
      out[r * NJ + c] = SIMD_HSUM (acc[r][c][0]);
    }
  }
}

/* y [M, N] = alpha a bᵀ + beta y for few rows (b N × K row-major): blocks
 * of KN_NT_R rows of a and KN_NT_J rows of b, single rows at the edges
 * (the same sums either way). */
SIMD_FN void
SIMD_NAME (mm_nt) (int M, int N, int K, const float *a, gsize lda,
    const float *b, gsize ldb, float *y, gsize ldy, float alpha, float beta)
{
  for (int j = 0; j < N; j += KN_NT_J) {
    const int NJ = MIN (KN_NT_J, N - j);
    const float *bj = b + (gsize)j * ldb;

    /* b (often out of cache: a GRU's outputs) is read once, row after
     * row: fetch the next rows while these are used. */
    for (int c = KN_NT_J; c < 2 * KN_NT_J && j + c < N; c++)
      for (int k = 0; k < K; k += 16)
        SIMD_PREFETCH (bj + c * ldb + k);

    for (int i = 0; i < M; i += KN_NT_R) {
      const int R = MIN (KN_NT_R, M - i);
      const float *ai = a + (gsize)i * lda;
      float d[KN_NT_R * KN_NT_J];

      if (R == KN_NT_R && NJ == KN_NT_J) {
        SIMD_NAME (dot_block) (KN_NT_R, KN_NT_J, ai, lda, bj, ldb, K, d);
      } else {
        for (int r = 0; r < R; r++)
          for (int c = 0; c < NJ; c++)
            SIMD_NAME (dot_block)
        (1, 1, ai + r * lda, lda, bj + c * ldb, ldb, K, d + r * NJ + c);
      }
      for (int r = 0; r < R; r++) {
        for (int c = 0; c < NJ; c++) {
          float *o = y + (gsize)(i + r) * ldy + j + c;
          float res = d[r * NJ + c];
          if (alpha != 1.0f)
            res = res * alpha;
          if (beta != 0.0f)
            res = res + *o * beta;
          *o = res;
        }
      }
    }
  }
}

#undef KN_DOT
#undef KN_DV
#undef KN_NT_R
#undef KN_NT_J

#undef KN_NV
#undef KN_MR
#undef KN_PP1
#undef KN_PP2
#undef KN_PP3
#undef KN_PPMAX
#undef KN_UNROLL
