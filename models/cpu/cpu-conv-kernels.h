/* gst-affect — models/cpu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The kernels of cpu-conv.c (depthwise sums, the direct convolution for few
 * input channels, spatial pooling), written once with the names of
 * cpu-simd.h and compiled there once per target (no include guard: included
 * once per build). DwParams, DirectJob and PoolJob are defined in
 * cpu-conv.c.
 *
 * No kernel here uses SIMD_FMA: every output element gets the same float
 * operations in the same order in the vector lanes and in the scalar tails,
 * whatever the target, the vector width or the chunking, so the generic,
 * AVX2 and AVX-512 builds give the same bits.
 */

/* Channels per register block (32: 8, 4 or 2 vectors) and vectors per
 * 32 and 16 channels. */
#define CK_BLOCK 32
#define CK_NV32 (32 / SIMD_W)
#define CK_NV16 (16 / SIMD_W)
#define CK_NV8 (8 / SIMD_W)
#define CK_UNROLL _Pragma ("GCC unroll 16")

/* ---- depthwise --------------------------------------------------------- */

/* Channels [ch, ch + 32) of NP horizontally adjacent output pixels (the
 * second one @stride input columns to the right, same taps): bias, then the
 * taps ky0 .. ky1-1, kx0 .. kx1-1 in (ky, kx) order. Pixel q goes to
 * out + q · c. */
SIMD_INLINE void
SIMD_NAME (dw_block) (const int NP, const DwParams *d, const float *img,
    int iy0, int ix0, int ky0, int ky1, int kx0, int kx1, int ch, float *out)
{
  const int c = d->c;
  VF acc[2][CK_NV32];

  CK_UNROLL for (int q = 0; q < NP; q++)
  {
    CK_UNROLL for (int v = 0; v < CK_NV32; v++)
    {
      acc[q][v]
          = d->bias ? SIMD_LOAD (d->bias + ch + v * SIMD_W) : SIMD_SET1 (0.0f);
    }
  }
  for (int ky = ky0; ky < ky1; ky++) {
    const float *xr = img + ((gsize)(iy0 + ky) * d->w + ix0) * c + ch;
    const float *fr = d->filter + (gsize)ky * d->kw * c + ch;
    for (int kx = kx0; kx < kx1; kx++) {
      const float *fp = fr + (gsize)kx * c;
      VF f[CK_NV32];

      CK_UNROLL for (int v = 0; v < CK_NV32; v++)
      {
        f[v] = SIMD_LOAD (fp + v * SIMD_W);
      }
      CK_UNROLL for (int q = 0; q < NP; q++)
      {
        const float *xp = xr + ((gsize)q * d->stride + kx) * c;
        CK_UNROLL for (int v = 0; v < CK_NV32; v++)
        {
          acc[q][v] += SIMD_LOAD (xp + v * SIMD_W) * f[v];
        }
      }
    }
  }
  CK_UNROLL for (int q = 0; q < NP; q++)
  {
    CK_UNROLL for (int v = 0; v < CK_NV32; v++)
    {
      SIMD_STORE (out + (gsize)q * c + ch + v * SIMD_W, acc[q][v]);
    }
  }
}

/* Depthwise output of the flattened output pixels [p0, p1) into out
 * (row p0 first), without activation. Each element is bias + the taps in
 * (ky, kx) order, whatever the chunking. */
SIMD_FN void
SIMD_NAME (dw_pixels) (const DwParams *d, gsize p0, gsize p1, float *out)
{
  const int c = d->c;
  ConvPixel q;

  conv_pixel_start (&q, p0, d->oh, d->ow);
  for (gsize p = p0; p < p1;
       p++, out += c, conv_pixel_next (&q, d->oh, d->ow)) {
    const float *img = d->x + (gsize)q.n * d->h * d->w * c;
    int ch = 0;

    conv_pixel_window (&q, d->kh, d->kw, d->stride, d->pt, d->pl, d->h, d->w);
    /* Two horizontally adjacent pixels with every tap in bounds (the
     * interior): both at once, sharing the filter loads. */
    if (c % CK_BLOCK == 0 && p + 1 < p1 && q.ox + 1 < d->ow && q.kx0 == 0
        && q.kx1 == d->kw && q.ix0 + d->stride + d->kw <= d->w) {
      for (; ch < c; ch += CK_BLOCK)
        SIMD_NAME (dw_block)
      (2, d, img, q.iy0, q.ix0, q.ky0, q.ky1, 0, d->kw, ch, out);
      /* Both pixels done: on to the second one, then the next. */
      p++;
      out += c;
      conv_pixel_next (&q, d->oh, d->ow);
      continue;
    }
    for (; ch + CK_BLOCK <= c; ch += CK_BLOCK)
      SIMD_NAME (dw_block)
    (1, d, img, q.iy0, q.ix0, q.ky0, q.ky1, q.kx0, q.kx1, ch, out);
    for (; ch + SIMD_W <= c; ch += SIMD_W) {
      VF acc = d->bias ? SIMD_LOAD (d->bias + ch) : SIMD_SET1 (0.0f);
      for (int ky = q.ky0; ky < q.ky1; ky++) {
        const float *xr = img + ((gsize)(q.iy0 + ky) * d->w + q.ix0) * c + ch;
        const float *fr = d->filter + (gsize)ky * d->kw * c + ch;
        for (int kx = q.kx0; kx < q.kx1; kx++)
          acc += SIMD_LOAD (xr + (gsize)kx * c)
                 * SIMD_LOAD (fr + (gsize)kx * c);
      }
      SIMD_STORE (out + ch, acc);
    }
    for (; ch < c; ch++) {
      float acc = d->bias ? d->bias[ch] : 0.0f;
      for (int ky = q.ky0; ky < q.ky1; ky++) {
        const float *xr = img + ((gsize)(q.iy0 + ky) * d->w + q.ix0) * c + ch;
        const float *fr = d->filter + (gsize)ky * d->kw * c + ch;
        for (int kx = q.kx0; kx < q.kx1; kx++)
          acc += xr[(gsize)kx * c] * fr[(gsize)kx * c];
      }
      out[ch] = acc;
    }
  }
}

/* ---- direct convolution for few input channels ------------------------- */

/* Output channels [co, co + NV · SIMD_W) of one pixel: bias, then the
 * in-bounds taps in (ky, kx, ci) order; with ALT the taps alternate between
 * two sums (even taps, odd taps) added at the end, for blocks too narrow to
 * hide the add latency otherwise. */
SIMD_INLINE void
SIMD_NAME (direct_block) (const int NV, const gboolean ALT, const DirectJob *d,
    const float *img, const ConvPixel *q, int co, float *out)
{
  const int cin = d->cin, cout = d->cout;
  VF a[CK_NV32], b[CK_NV32];
  int tap = 0;

  CK_UNROLL for (int v = 0; v < NV; v++)
  {
    a[v] = SIMD_LOAD (d->bias + co + v * SIMD_W);
    b[v] = SIMD_SET1 (0.0f);
  }
  for (int ky = q->ky0; ky < q->ky1; ky++)
    for (int kx = q->kx0; kx < q->kx1; kx++) {
      const float *xp = img + ((gsize)(q->iy0 + ky) * d->w + q->ix0 + kx) * cin;
      const float *fp
          = d->filter + ((gsize)(ky * d->kw + kx) * cin) * cout + co;
      for (int ci = 0; ci < cin; ci++, fp += cout, tap++) {
        const VF xv = SIMD_SET1 (xp[ci]);
        if (ALT && (tap & 1)) {
          CK_UNROLL for (int v = 0; v < NV; v++)
          {
            b[v] += xv * SIMD_LOAD (fp + v * SIMD_W);
          }
        } else {
          CK_UNROLL for (int v = 0; v < NV; v++)
          {
            a[v] += xv * SIMD_LOAD (fp + v * SIMD_W);
          }
        }
      }
    }
  CK_UNROLL for (int v = 0; v < NV; v++)
  {
    if (ALT)
      a[v] += b[v];
    SIMD_STORE (out + co + v * SIMD_W, a[v]);
  }
}

/* Output pixels [p0, p1) of the direct convolution, without activation.
 * Per element: bias, then the in-bounds taps in (ky, kx, ci) order; the
 * channels of whole blocks of 32 in one sum, the next whole blocks of 16
 * and 8 in two alternating sums (see direct_block), the last cout % 8 in
 * one sum. The scalar tail follows the same rule, so the result does not
 * depend on the vector width. */
SIMD_FN void
SIMD_NAME (direct_conv_pixels) (const DirectJob *d, gsize p0, gsize p1)
{
  const int cin = d->cin, cout = d->cout;
  const int alt_end = cout - cout % 8; /* channels in blocks of 8 or more */
  float *out = d->y + p0 * cout;
  ConvPixel q;

  conv_pixel_start (&q, p0, d->oh, d->ow);
  for (gsize p = p0; p < p1;
       p++, out += cout, conv_pixel_next (&q, d->oh, d->ow)) {
    const float *img = d->x + (gsize)q.n * d->h * d->w * cin;
    int co = 0;

    conv_pixel_window (&q, d->kh, d->kw, d->stride, d->pt, d->pl, d->h, d->w);
    for (; co + 32 <= cout; co += 32)
      SIMD_NAME (direct_block) (CK_NV32, FALSE, d, img, &q, co, out);
    for (; co + 16 <= cout; co += 16)
      SIMD_NAME (direct_block) (CK_NV16, TRUE, d, img, &q, co, out);
#if SIMD_W <= 8
    for (; co + 8 <= cout; co += 8)
      SIMD_NAME (direct_block) (CK_NV8, TRUE, d, img, &q, co, out);
#endif
    for (; co < cout; co++) {
      float a = d->bias[co], b = 0.0f;
      int tap = 0;
      for (int ky = q.ky0; ky < q.ky1; ky++)
        for (int kx = q.kx0; kx < q.kx1; kx++) {
          const float *xp
              = img + ((gsize)(q.iy0 + ky) * d->w + q.ix0 + kx) * cin;
          const float *fp
              = d->filter + ((gsize)(ky * d->kw + kx) * cin) * cout + co;
          for (int ci = 0; ci < cin; ci++, tap++) {
            if (co < alt_end && (tap & 1))
              b += xp[ci] * fp[(gsize)ci * cout];
            else
              a += xp[ci] * fp[(gsize)ci * cout];
          }
        }
      if (co < alt_end)
        a += b;
      out[co] = a;
    }
  }
}

/* ---- pooling ----------------------------------------------------------- */

/* Output rows [r0, r1) (over images and output rows) of a pooling window.
 * Max: the in-bounds maximum (padding ignored; v > acc ? v : acc in
 * (ky, kx) order); avg: the in-bounds sum in (ky, kx) order divided by the
 * in-bounds count. */
SIMD_FN void
SIMD_NAME (pool_rows) (const PoolJob *j, gsize r0, gsize r1)
{
  const int c = j->c;

  for (gsize r = r0; r < r1; r++) {
    const int n = (int)(r / j->oh), oy = (int)(r % j->oh);
    const int iy0 = oy * j->stride - j->pt;
    const int ky0 = MAX (0, -iy0), ky1 = MIN (j->k, j->h - iy0);
    const float *img = j->x + (gsize)n * j->h * j->w * c;

    for (int ox = 0; ox < j->ow; ox++) {
      const int ix0 = ox * j->stride - j->pl;
      const int kx0 = MAX (0, -ix0), kx1 = MIN (j->k, j->w - ix0);
      float *out = j->y + (r * j->ow + ox) * c;
      int ch = 0;

      if (j->kind == AFFECT_POOL_MAX) {
        for (; ch + SIMD_W <= c; ch += SIMD_W) {
          VF acc = SIMD_LOAD (
              img + ((gsize)(iy0 + ky0) * j->w + ix0 + kx0) * c + ch);
          for (int ky = ky0; ky < ky1; ky++)
            for (int kx = kx0; kx < kx1; kx++)
              acc = SIMD_MAX (
                  SIMD_LOAD (
                      img + ((gsize)(iy0 + ky) * j->w + ix0 + kx) * c + ch),
                  acc);
          SIMD_STORE (out + ch, acc);
        }
        for (; ch < c; ch++) {
          float acc = img[((gsize)(iy0 + ky0) * j->w + ix0 + kx0) * c + ch];
          for (int ky = ky0; ky < ky1; ky++)
            for (int kx = kx0; kx < kx1; kx++) {
              const float v
                  = img[((gsize)(iy0 + ky) * j->w + ix0 + kx) * c + ch];
              acc = v > acc ? v : acc;
            }
          out[ch] = acc;
        }
      } else {
        const float count = (float)((ky1 - ky0) * (kx1 - kx0));
        for (; ch + SIMD_W <= c; ch += SIMD_W) {
          VF acc = SIMD_SET1 (0.0f);
          for (int ky = ky0; ky < ky1; ky++)
            for (int kx = kx0; kx < kx1; kx++)
              acc += SIMD_LOAD (
                  img + ((gsize)(iy0 + ky) * j->w + ix0 + kx) * c + ch);
          SIMD_STORE (out + ch, acc / count);
        }
        for (; ch < c; ch++) {
          float acc = 0.0f;
          for (int ky = ky0; ky < ky1; ky++)
            for (int kx = kx0; kx < kx1; kx++)
              acc += img[((gsize)(iy0 + ky) * j->w + ix0 + kx) * c + ch];
          out[ch] = acc / count;
        }
      }
    }
  }
}

#undef CK_BLOCK
#undef CK_NV32
#undef CK_NV16
#undef CK_NV8
#undef CK_UNROLL
