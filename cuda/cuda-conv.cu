/* gst-affect — cuda/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Convolutions (direct, depthwise, im2col for the cuBLAS path), pooling,
 * global mean and bilinear resize over NHWC tensors (cuda-kernels.h). One
 * thread per output element, channels innermost so that neighbouring
 * threads read neighbouring filter and input values. Sums in float32 in
 * (ky, kx, ci) order, then the bias, then the activation, as on the CPU.
 * UNVERIFIED on a GPU (docs/cuda.md).
 */

#include "cuda-common.cuh"

__global__ void
conv_direct_kernel (const float *x, const float *filter, const float *bias,
    float *y, int h, int w, int cin, int oh, int ow, int cout, int kh, int kw,
    int stride, int pt, int pl, int act, size_t total)
{
  CK_FOR (i, total)
  {
    const CkNhwc p = ck_nhwc (i, cout, oh, ow);
    const float *img = x + p.b * h * w * cin;
    float acc = 0.0f;

    ck_window (
        p, h, w, kh, kw, stride, pt, pl, [&] (int ky, int kx, int iy, int ix) {
          const float *px = img + ((size_t)iy * w + ix) * cin;
          const float *f
              = filter + ((size_t)(ky * kw + kx) * cin) * cout + p.ch;
          for (int ci = 0; ci < cin; ci++)
            acc = __fmaf_rn (px[ci], f[(size_t)ci * cout], acc);
        });
    y[i] = ck_act (__fadd_rn (acc, bias[p.ch]), act);
  }
}

extern "C" cudaError_t
ck_conv_direct (cudaStream_t s, const float *x, const float *filter,
    const float *bias, float *y, int n, int h, int w, int cin, int oh, int ow,
    int cout, int kh, int kw, int stride, int pad_top, int pad_left, int act)
{
  const size_t total = (size_t)n * oh * ow * cout;

  return CK_RUN (conv_direct_kernel, total, s, x, filter, bias, y, h, w, cin,
      oh, ow, cout, kh, kw, stride, pad_top, pad_left, act, total);
}

__global__ void
conv_depthwise_kernel (const float *x, const float *filter, const float *bias,
    float *y, int h, int w, int c, int oh, int ow, int kh, int kw, int stride,
    int pt, int pl, int act, size_t total)
{
  CK_FOR (i, total)
  {
    const CkNhwc p = ck_nhwc (i, c, oh, ow);
    const float *img = x + p.b * h * w * c;
    float acc = 0.0f;

    ck_window (
        p, h, w, kh, kw, stride, pt, pl, [&] (int ky, int kx, int iy, int ix) {
          acc = __fmaf_rn (img[((size_t)iy * w + ix) * c + p.ch],
              filter[(size_t)(ky * kw + kx) * c + p.ch], acc);
        });
    if (bias != NULL)
      acc = __fadd_rn (acc, bias[p.ch]);
    y[i] = ck_act (acc, act);
  }
}

extern "C" cudaError_t
ck_conv_depthwise (cudaStream_t s, const float *x, const float *filter,
    const float *bias, float *y, int n, int h, int w, int c, int oh, int ow,
    int kh, int kw, int stride, int pad_top, int pad_left, int act)
{
  const size_t total = (size_t)n * oh * ow * c;

  return CK_RUN (conv_depthwise_kernel, total, s, x, filter, bias, y, h, w, c,
      oh, ow, kh, kw, stride, pad_top, pad_left, act, total);
}

__global__ void
im2col_kernel (const float *x, float *col, size_t p0, int h, int w, int cin,
    int oh, int ow, int kh, int kw, int stride, int pt, int pl, size_t total)
{
  const size_t K = (size_t)kh * kw * cin;

  CK_FOR (i, total)
  {
    const size_t k = i % K;
    const size_t pix = p0 + i / K;
    const int ci = (int)(k % (size_t)cin);
    const int kx = (int)((k / cin) % (size_t)kw);
    const int ky = (int)(k / ((size_t)cin * kw));
    const int ox = (int)(pix % (size_t)ow);
    const int oy = (int)((pix / (size_t)ow) % (size_t)oh);
    const size_t b = pix / ((size_t)ow * oh);
    const int iy = oy * stride + ky - pt, ix = ox * stride + kx - pl;

    col[i] = (iy >= 0 && iy < h && ix >= 0 && ix < w)
                 ? x[((b * h + iy) * w + ix) * cin + ci]
                 : 0.0f;
  }
}

extern "C" cudaError_t
ck_im2col (cudaStream_t s, const float *x, float *col, size_t p0, size_t np,
    int h, int w, int cin, int oh, int ow, int kh, int kw, int stride,
    int pad_top, int pad_left)
{
  const size_t total = np * (size_t)kh * kw * cin;

  return CK_RUN (im2col_kernel, total, s, x, col, p0, h, w, cin, oh, ow, kh, kw,
      stride, pad_top, pad_left, total);
}

__global__ void
pool_kernel (int kind, const float *x, float *y, int h, int w, int c, int oh,
    int ow, int k, int stride, int pt, int pl, size_t total)
{
  CK_FOR (i, total)
  {
    const CkNhwc p = ck_nhwc (i, c, oh, ow);
    const float *img = x + p.b * h * w * c;
    float mx = -INFINITY, sum = 0.0f;
    int count = 0;

    ck_window (
        p, h, w, k, k, stride, pt, pl, [&] (int ky, int kx, int iy, int ix) {
          const float v = img[((size_t)iy * w + ix) * c + p.ch];

          (void)ky;
          (void)kx;
          mx = v > mx ? v : mx;
          sum = __fadd_rn (sum, v);
          count++;
        });
    y[i] = kind == 0 ? mx : __fdiv_rn (sum, (float)(count > 0 ? count : 1));
  }
}

extern "C" cudaError_t
ck_pool (cudaStream_t s, int kind, const float *x, float *y, int n, int h,
    int w, int c, int oh, int ow, int k, int stride, int pad_top, int pad_left)
{
  const size_t total = (size_t)n * oh * ow * c;

  return CK_RUN (pool_kernel, total, s, kind, x, y, h, w, c, oh, ow, k, stride,
      pad_top, pad_left, total);
}

__global__ void
global_mean_kernel (const float *x, float *y, int hw, int c, size_t total)
{
  CK_FOR (i, total)
  {
    const int ch = (int)(i % (size_t)c);
    const size_t b = i / (size_t)c;
    const float *img = x + b * hw * c;
    double sum = 0.0;

    for (int p = 0; p < hw; p++)
      sum += img[(size_t)p * c + ch];
    y[i] = (float)(sum / (double)hw);
  }
}

extern "C" cudaError_t
ck_global_mean (cudaStream_t s, const float *x, float *y, int n, int hw, int c)
{
  const size_t total = (size_t)n * c;

  return CK_RUN (global_mean_kernel, total, s, x, y, hw, c, total);
}

__global__ void
resize_kernel (
    const float *x, float *y, int h, int w, int c, int oh, int ow, size_t total)
{
  const double ry = (double)h / (double)oh, rx = (double)w / (double)ow;

  CK_FOR (i, total)
  {
    const CkNhwc p = ck_nhwc (i, c, oh, ow);
    const double sy = ry * p.oy, sx = rx * p.ox;
    const int y0 = (int)floor (sy), x0 = (int)floor (sx);
    const int y1 = min ((int)ceil (sy), h - 1),
              x1 = min ((int)ceil (sx), w - 1);
    const double fy = sy - y0, fx = sx - x0;
    const float *img = x + p.b * h * w * c;
    const double tl = img[((size_t)y0 * w + x0) * c + p.ch];
    const double tr = img[((size_t)y0 * w + x1) * c + p.ch];
    const double bl = img[((size_t)y1 * w + x0) * c + p.ch];
    const double br = img[((size_t)y1 * w + x1) * c + p.ch];
    const double top = tl + (tr - tl) * fx;
    const double bottom = bl + (br - bl) * fx;

    y[i] = (float)(top + (bottom - top) * fy);
  }
}

extern "C" cudaError_t
ck_resize_bilinear (cudaStream_t s, const float *x, float *y, int n, int h,
    int w, int c, int oh, int ow)
{
  const size_t total = (size_t)n * oh * ow * c;

  return CK_RUN (resize_kernel, total, s, x, y, h, w, c, oh, ow, total);
}
