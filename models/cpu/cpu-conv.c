/* gst-affect — models/cpu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CPU backend: regular, depthwise and separable convolutions (im2col
 * tiles through sgemm, a direct loop for few input channels), spatial
 * pooling and the bilinear resize.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "cpu-private.h"

/* ---- the kernels (cpu-conv-kernels.h) ---------------------------------- */

/* A flattened output pixel of a window op (image n, output row oy,
 * column ox) and its window: input origin (iy0, ix0), in-bounds taps
 * [ky0, ky1) × [kx0, kx1). */
typedef struct {
  int n, oy, ox;
  int iy0, ix0, ky0, ky1, kx0, kx1;
} ConvPixel;

/* @q at flattened output pixel @p of images of oh × ow pixels. */
static inline void
conv_pixel_start (ConvPixel *q, gsize p, int oh, int ow)
{
  const gsize per_image = (gsize)oh * ow;

  q->n = (int)(p / per_image);
  q->oy = (int)(p % per_image) / ow;
  q->ox = (int)(p % per_image) % ow;
}

/* The window of @q for a kh × kw kernel over an h × w input. */
static inline void
conv_pixel_window (
    ConvPixel *q, int kh, int kw, int stride, int pt, int pl, int h, int w)
{
  q->iy0 = q->oy * stride - pt;
  q->ix0 = q->ox * stride - pl;
  q->ky0 = MAX (0, -q->iy0);
  q->ky1 = MIN (kh, h - q->iy0);
  q->kx0 = MAX (0, -q->ix0);
  q->kx1 = MIN (kw, w - q->ix0);
}

/* @q at the next output pixel. */
static inline void
conv_pixel_next (ConvPixel *q, int oh, int ow)
{
  if (++q->ox == ow) {
    q->ox = 0;
    if (++q->oy == oh) {
      q->oy = 0;
      q->n++;
    }
  }
}

/* Depthwise sums of output pixels (also the first half of a separable
 * convolution). */
typedef struct {
  const float *x;
  const float *filter; /* [kh, kw, c] */
  const float *bias;   /* [c] or NULL (zeros) */
  int h, w, c, oh, ow, kh, kw, stride, pt, pl;
} DwParams;

/* The direct convolution of few input channels (see below). */
typedef struct {
  const float *x;
  const float *filter; /* [kh, kw, cin, cout] */
  const float *bias;   /* [cout] */
  float *y;
  int h, w, cin, cout, oh, ow, kh, kw, stride, pt, pl;
  AffectActivation act;
} DirectJob;

/* Spatial pooling. */
typedef struct {
  const float *x;
  float *y;
  int h, w, c, oh, ow, k, stride, pt, pl;
  AffectPoolKind kind;
} PoolJob;

#define CPU_SIMD_KERNELS "cpu-conv-kernels.h"
#include "cpu-simd.h"
#undef CPU_SIMD_KERNELS

/* ---- depthwise --------------------------------------------------------- */

typedef struct {
  DwParams d;
  float *y;
  AffectActivation act;
} DepthwiseJob;

static void
depthwise_range (gpointer data, gsize start, gsize end, int tid)
{
  DepthwiseJob *j = data;
  float *out = j->y + start * j->d.c;

  CPU_SIMD_PICK (dw_pixels) (&j->d, start, end, out);
  cpu_activate (out, (end - start) * j->d.c, j->act);
}

/* ---- im2col ------------------------------------------------------------ */

/* Rows of the im2col matrix for output pixels [p0, p1): K = kh * kw * cin
 * ordered (ky, kx, ci) like the HWIO filter; padded taps are zeros. */
static void
im2col_pixels (const AffectTensor *x, int oh, int ow, int kh, int kw,
    int stride, int pt, int pl, gsize p0, gsize p1, float *col)
{
  const int cin = x->c, h = x->h, w = x->w;
  const gsize seg = (gsize)kw * cin;
  const gsize per_image = (gsize)oh * ow;
  gsize p;

  for (p = p0; p < p1; p++) {
    int n = (int)(p / per_image);
    int rem = (int)(p % per_image);
    int oy = rem / ow, ox = rem % ow;
    int iy0 = oy * stride - pt, ix0 = ox * stride - pl;
    gboolean full_x = ix0 >= 0 && ix0 + kw <= w;
    const float *img = x->data + (gsize)n * h * w * cin;
    int ky, kx;

    for (ky = 0; ky < kh; ky++, col += seg) {
      int iy = iy0 + ky;
      const float *src;
      if (iy < 0 || iy >= h) {
        memset (col, 0, seg * sizeof (float));
        continue;
      }
      src = img + (gsize)iy * w * cin;
      if (full_x) {
        memcpy (col, src + (gsize)ix0 * cin, seg * sizeof (float));
        continue;
      }
      for (kx = 0; kx < kw; kx++) {
        int ix = ix0 + kx;
        if (ix < 0 || ix >= w)
          memset (col + (gsize)kx * cin, 0, (gsize)cin * sizeof (float));
        else
          memcpy (col + (gsize)kx * cin, src + (gsize)ix * cin,
              (gsize)cin * sizeof (float));
      }
    }
  }
}

/* ---- direct convolution for few input channels ------------------------ */

/* With cin <= 4 (the RGB first layers) K is tiny and OpenBLAS's generic
 * kernels (affect_gemm_is_generic()) run far below their peak; a direct
 * loop that keeps 32 output channels in registers and broadcasts each
 * input value is several times faster. Sum order per
 * element: bias, then the in-bounds taps in (ky, kx, ci) order (for the
 * 8/16-channel remainders: even taps and odd taps in two partial sums, then
 * added), the same for every tiling. */
#ifndef DIRECT_MAX_CIN
#define DIRECT_MAX_CIN 4
#endif

static void
direct_conv_range (gpointer data, gsize start, gsize end, int tid)
{
  DirectJob *d = data;

  CPU_SIMD_PICK (direct_conv_pixels) (d, start, end);
  cpu_activate (d->y + start * d->cout, (end - start) * d->cout, d->act);
}

/* ---- convolution ------------------------------------------------------- */

/* GEMM convolutions are cut in tiles of (block of output pixels) x (block
 * of output channels). Each tile builds its own A block (im2col, depthwise
 * output, or a view of the input for 1×1), then fills its part of y with
 * the bias, runs a single-threaded sgemm with beta = 1 and applies the
 * activation while the tile is still in cache. Tiles are spread over the
 * pool threads. */
typedef struct {
  AffectConv *conv;
  const AffectTensor *x;
  AffectTensor *y;
  int pt, pl;
  gsize K;         /* columns of A */
  gsize block;     /* output pixels per tile */
  gsize n_pblocks; /* pixel blocks per image */
  int n_cblocks;   /* output-channel blocks per pixel block */
  int cblock;      /* output channels per block (last: rest) */
  gboolean direct; /* 1×1 stride 1: A is x itself */
  float *scratch;  /* per thread: block * K floats */
  gsize scratch_stride;
  gsize *built; /* per thread: the pixel block in its scratch (a thread
                 * may run several chunks of tiles) */
  DwParams dw;
} GemmConvJob;

static void
gemm_conv_range (gpointer data, gsize start, gsize end, int tid)
{
  GemmConvJob *j = data;
  AffectConv *conv = j->conv;
  const gsize per_image = (gsize)j->y->h * j->y->w;
  const int cout = conv->cout;
  float *a_buf = j->scratch + (gsize)tid * j->scratch_stride;
  gsize *built = &j->built[tid]; /* pixel block currently in a_buf */
  gsize t;

  for (t = start; t < end; t++) {
    /* Tiles never straddle two images and their geometry depends only on
     * the layer and the image size, never on the batch size or the number
     * of threads: every image goes through the very same sgemm calls, so
     * results are bit-identical across batch sizes and thread counts. */
    gsize pb = t / j->n_cblocks; /* global pixel-block index */
    int cb = (int)(t % j->n_cblocks);
    gsize img = pb / j->n_pblocks, pbi = pb % j->n_pblocks;
    gsize p0 = img * per_image + pbi * j->block;
    gsize p1 = MIN ((img + 1) * per_image, p0 + j->block);
    int c0 = cb * j->cblock, nc = MIN (cout - c0, j->cblock);
    const float *a;
    float *yb = j->y->data + p0 * cout + c0;

    if (j->direct) {
      a = j->x->data + p0 * j->K;
    } else {
      if (*built != pb) {
        if (conv->kind == AFFECT_CONV_SEPARABLE)
          CPU_SIMD_PICK (dw_pixels) (&j->dw, p0, p1, a_buf);
        else
          im2col_pixels (j->x, j->y->h, j->y->w, conv->kh, conv->kw,
              conv->stride, j->pt, j->pl, p0, p1, a_buf);
        *built = pb;
      }
      a = a_buf;
    }
    cpu_sgemm_rm ((int)(p1 - p0), nc, (int)j->K, a, (int)j->K,
        conv->filter + c0, cout, 0.0f, yb, cout);
    cpu_bias_act_rows (yb, p1 - p0, nc, cout, conv->bias + c0, conv->act);
  }
}

gboolean
cpu_conv_prepare (AffectBackend *be, AffectConv *conv)
{
  /* The folded HWIO filter is already the [K, cout] row-major matrix sgemm
   * wants and the [kh, kw, c] depthwise filter has channels innermost:
   * nothing to repack. */
  conv->priv = NULL;
  return TRUE;
}

void
cpu_conv_free (AffectBackend *be, AffectConv *conv)
{
  conv->priv = NULL;
}

/* Target size of one tile's A block plus output, in floats (fits L2). */
#define TILE_FLOATS (64 * 1024)
#define MIN_BLOCK 32
#define MAX_BLOCK 4096
/* Small images split their output channels in blocks of at least
 * MIN_CBLOCK until they have MIN_TILES tiles. */
#define MIN_TILES 4
#define MIN_CBLOCK 64

void
cpu_conv_forward (AffectBackend *be, AffectConv *conv, const AffectTensor *x,
    AffectTensor *y, int pad_top, int pad_left)
{
  CpuBackend *cpu = be->priv;
  const gsize M = (gsize)y->n * y->h * y->w; /* output pixels */
  int threads;
  DwParams dw = { x->data, conv->dw_filter, NULL, x->h, x->w, x->c, y->h, y->w,
    conv->kh, conv->kw, conv->stride, pad_top, pad_left };
  GemmConvJob j;
  gsize per_image, n_tiles;

  threads = cpu_begin (be);

  if (conv->kind == AFFECT_CONV_DEPTHWISE) {
    DepthwiseJob dj = { dw, y->data, conv->act };
    dj.d.bias = conv->bias;
    cpu_parallel_for (be, M,
        MAX (64, cpu_grain (be, (double)conv->kh * conv->kw * conv->cin)),
        depthwise_range, &dj);
    goto done;
  }

  /* With oneDNN or tuned OpenBLAS kernels (AVX2/AVX-512) im2col + sgemm
   * is faster than the direct loop even for 3 input channels. */
  if (conv->kind == AFFECT_CONV_REGULAR && conv->cin <= DIRECT_MAX_CIN
      && cpu->direct_small_cin) {
    DirectJob dj = { x->data, conv->filter, conv->bias, y->data, x->h, x->w,
      x->c, conv->cout, y->h, y->w, conv->kh, conv->kw, conv->stride, pad_top,
      pad_left, conv->act };
    cpu_parallel_for (be, M,
        MAX (64, cpu_grain (
                     be, (double)conv->kh * conv->kw * conv->cin * conv->cout)),
        direct_conv_range, &dj);
    goto done;
  }

  memset (&j, 0, sizeof (j));
  j.conv = conv;
  j.x = x;
  j.y = y;
  j.pt = pad_top;
  j.pl = pad_left;
  j.dw = dw;
  j.K = conv->kind == AFFECT_CONV_REGULAR
            ? (gsize)conv->kh * conv->kw * conv->cin
            : (gsize)conv->cin;
  j.direct = conv->kind == AFFECT_CONV_REGULAR && conv->kh == 1 && conv->kw == 1
             && conv->stride == 1;

  /* Pixel blocks sized for the cache; small images also split their
   * output channels so late layers still give every thread work. The
   * tiling depends on the layer and the image size only (see
   * gemm_conv_range). */
  per_image = (gsize)y->h * y->w;
  j.block = CLAMP (TILE_FLOATS / (j.K + conv->cout), MIN_BLOCK, MAX_BLOCK);
  j.block = MIN (j.block, MAX ((gsize)1, cpu->ws_max / j.K));
  j.block = MIN (j.block, per_image);
  j.n_pblocks = (per_image + j.block - 1) / j.block;
  j.n_cblocks = 1;
  j.cblock = conv->cout;
  if (j.n_pblocks < MIN_TILES && conv->cout >= 2 * MIN_CBLOCK) {
    int want = (int)((MIN_TILES + j.n_pblocks - 1) / j.n_pblocks);
    int width = (conv->cout + want - 1) / want;
    width = MAX (MIN_CBLOCK, (width + 15) / 16 * 16);
    j.cblock = MIN (width, conv->cout);
    j.n_cblocks = (conv->cout + j.cblock - 1) / j.cblock;
  }
  n_tiles = (gsize)y->n * j.n_pblocks * j.n_cblocks;

  if (!j.direct) {
    j.built = g_newa (gsize, threads);
    for (int i = 0; i < threads; i++)
      j.built[i] = G_MAXSIZE;
    j.scratch_stride = j.block * j.K;
    j.scratch = cpu_workspace (cpu, j.scratch_stride * threads);
    if (j.scratch == NULL) {
      g_critical ("affect cpu backend: out of memory for a %" G_GSIZE_FORMAT
                  "-float convolution workspace",
          j.scratch_stride * threads);
      memset (y->data, 0, M * conv->cout * sizeof (float));
      goto done;
    }
  }

  cpu_parallel_for (be, n_tiles,
      cpu_grain (be, (double)j.block * j.K * j.cblock), gemm_conv_range, &j);

done:
  cpu_end (be);
}

/* ---- pooling ----------------------------------------------------------- */

static void
pool_range (gpointer data, gsize start, gsize end, int tid)
{
  CPU_SIMD_PICK (pool_rows) (data, start, end);
}

void
cpu_pool (AffectBackend *be, AffectPoolKind kind, const AffectTensor *x,
    AffectTensor *y, int k, int stride, int pad_top, int pad_left)
{
  PoolJob j = { x->data, y->data, x->h, x->w, x->c, y->h, y->w, k, stride,
    pad_top, pad_left, kind };

  cpu_begin (be);
  cpu_parallel_for (be, (gsize)y->n * y->h,
      cpu_grain (be, (double)y->w * y->c * k * k), pool_range, &j);
  cpu_end (be);
}

void
cpu_global_mean (AffectBackend *be, const AffectTensor *x, AffectTensor *y)
{
  const gsize hw = (gsize)x->h * x->w;
  double *sum = g_new (double, x->c);
  int n, ch;
  gsize p;

  for (n = 0; n < x->n; n++) {
    const float *img = x->data + (gsize)n * hw * x->c;
    memset (sum, 0, (gsize)x->c * sizeof (double));
    for (p = 0; p < hw; p++)
      for (ch = 0; ch < x->c; ch++)
        sum[ch] += img[p * x->c + ch];
    for (ch = 0; ch < x->c; ch++)
      y->data[(gsize)n * x->c + ch] = (float)(sum[ch] / (double)hw);
  }
  g_free (sum);
}

/* ---- resize ------------------------------------------------------------ */

typedef struct {
  const float *x;
  float *y;
  int h, w, c, oh, ow;
  int *x0, *x1;
  double *fx;
} ResizeJob;

static void
resize_range (gpointer data, gsize start, gsize end, int tid)
{
  ResizeJob *j = data;
  const double ry = (double)j->h / (double)j->oh;
  const int c = j->c;
  gsize r;

  for (r = start; r < end; r++) {
    int n = (int)(r / j->oh), oy = (int)(r % j->oh), ox, ch;
    double src = ry * oy;
    int y0 = (int)floor (src);
    int y1 = MIN ((int)ceil (src), j->h - 1);
    double fy = src - y0;
    const float *img = j->x + (gsize)n * j->h * j->w * c;
    const float *row0 = img + (gsize)y0 * j->w * c;
    const float *row1 = img + (gsize)y1 * j->w * c;
    float *out = j->y + r * (gsize)j->ow * c;

    for (ox = 0; ox < j->ow; ox++) {
      const float *tl = row0 + (gsize)j->x0[ox] * c;
      const float *tr = row0 + (gsize)j->x1[ox] * c;
      const float *bl = row1 + (gsize)j->x0[ox] * c;
      const float *br = row1 + (gsize)j->x1[ox] * c;
      double fx = j->fx[ox];
      for (ch = 0; ch < c; ch++) {
        double top = tl[ch] + (tr[ch] - (double)tl[ch]) * fx;
        double bottom = bl[ch] + (br[ch] - (double)bl[ch]) * fx;
        out[(gsize)ox * c + ch] = (float)(top + (bottom - top) * fy);
      }
    }
  }
}

void
cpu_resize_bilinear (AffectBackend *be, const AffectTensor *x, AffectTensor *y)
{
  const double rx = (double)x->w / (double)y->w;
  ResizeJob j = { x->data, y->data, x->h, x->w, x->c, y->h, y->w,
    g_new (int, y->w), g_new (int, y->w), g_new (double, y->w) };
  int ox;

  for (ox = 0; ox < y->w; ox++) {
    double src = rx * ox;
    j.x0[ox] = (int)floor (src);
    j.x1[ox] = MIN ((int)ceil (src), x->w - 1);
    j.fx[ox] = src - j.x0[ox];
  }
  cpu_begin (be);
  cpu_parallel_for (be, (gsize)y->n * y->h, cpu_grain (be, 8.0 * y->w * y->c),
      resize_range, &j);
  cpu_end (be);
  g_free (j.x0);
  g_free (j.x1);
  g_free (j.fx);
}
