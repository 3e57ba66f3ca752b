/* gst-affect — cuda/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Elementwise and data-movement kernels (cuda-kernels.h): one thread per
 * output element in grid-stride loops. UNVERIFIED on a GPU (docs/cuda.md).
 */

#include "cuda-common.cuh"

__global__ void
probe_kernel (void)
{
}

extern "C" cudaError_t
ck_probe (cudaStream_t s)
{
  CK_LAUNCH (probe_kernel, 1, 1, s, );
  return cudaGetLastError ();
}

__global__ void
add_kernel (const float *a, const float *b, float *y, size_t n)
{
  CK_FOR (i, n)
  y[i] = __fadd_rn (a[i], b[i]);
}

extern "C" cudaError_t
ck_add (cudaStream_t s, const float *a, const float *b, float *y, size_t n)
{
  CK_LAUNCH (add_kernel, ck_blocks (n), CK_THREADS, s, a, b, y, n);
  return cudaGetLastError ();
}

__global__ void
unary_kernel (float *x, size_t n, int act)
{
  CK_FOR (i, n)
  x[i] = ck_act (x[i], act);
}

extern "C" cudaError_t
ck_unary (cudaStream_t s, float *x, size_t n, int act)
{
  CK_LAUNCH (unary_kernel, ck_blocks (n), CK_THREADS, s, x, n, act);
  return cudaGetLastError ();
}

__global__ void
binary_kernel (float *a, const float *b, size_t n, size_t nb, int op)
{
  CK_FOR (i, n)
  {
    const float v = b[i % nb];

    switch (op) {
      case CK_BIN_ADD:
        a[i] = __fadd_rn (a[i], v);
        break;
      case CK_BIN_SUB:
        a[i] = __fsub_rn (a[i], v);
        break;
      default:
        a[i] = __fmul_rn (a[i], v);
        break;
    }
  }
}

extern "C" cudaError_t
ck_binary (
    cudaStream_t s, float *a, const float *b, size_t n, size_t nb, int op)
{
  CK_LAUNCH (binary_kernel, ck_blocks (n), CK_THREADS, s, a, b, n, nb, op);
  return cudaGetLastError ();
}

__global__ void
scale_kernel (float *x, size_t n, float alpha, float beta)
{
  /* Two roundings, as on the CPU (no fused multiply-add). */
  CK_FOR (i, n)
  x[i] = __fadd_rn (__fmul_rn (alpha, x[i]), beta);
}

extern "C" cudaError_t
ck_scale (cudaStream_t s, float *x, size_t n, float alpha, float beta)
{
  CK_LAUNCH (scale_kernel, ck_blocks (n), CK_THREADS, s, x, n, alpha, beta);
  return cudaGetLastError ();
}

__global__ void
bias_act_kernel (float *y, const float *bias, size_t n, int c, int act)
{
  CK_FOR (i, n)
  {
    float v = y[i];

    if (bias != NULL)
      v = __fadd_rn (v, bias[i % (size_t)c]);
    y[i] = ck_act (v, act);
  }
}

extern "C" cudaError_t
ck_bias_act (
    cudaStream_t s, float *y, const float *bias, size_t rows, int c, int act)
{
  const size_t n = rows * (size_t)c;

  if (bias == NULL && act == CK_ACT_NONE)
    return cudaSuccess;
  CK_LAUNCH (bias_act_kernel, ck_blocks (n), CK_THREADS, s, y, bias, n, c, act);
  return cudaGetLastError ();
}

__global__ void
pad_kernel (const float *x, float *y, int h, int w, int c, int oh, int ow,
    int top, int left, size_t total)
{
  CK_FOR (i, total)
  {
    const int ci = (int)(i % (size_t)c);
    const size_t pix = i / (size_t)c;
    const int ox = (int)(pix % (size_t)ow);
    const int oy = (int)((pix / (size_t)ow) % (size_t)oh);
    const size_t b = pix / ((size_t)ow * oh);
    const int sy = oy - top, sx = ox - left;

    y[i] = (sy >= 0 && sy < h && sx >= 0 && sx < w)
               ? x[((b * h + sy) * w + sx) * c + ci]
               : 0.0f;
  }
}

extern "C" cudaError_t
ck_pad (cudaStream_t s, const float *x, float *y, int n, int h, int w, int c,
    int oh, int ow, int top, int left)
{
  const size_t total = (size_t)n * oh * ow * c;

  CK_LAUNCH (pad_kernel, ck_blocks (total), CK_THREADS, s, x, y, h, w, c, oh,
      ow, top, left, total);
  return cudaGetLastError ();
}

__global__ void
concat_kernel (
    const float *a, const float *b, float *y, size_t total, int ca, int cb)
{
  const int c = ca + cb;

  CK_FOR (i, total)
  {
    const size_t p = i / (size_t)c;
    const int j = (int)(i % (size_t)c);

    y[i] = j < ca ? a[p * ca + j] : b[p * cb + (j - ca)];
  }
}

extern "C" cudaError_t
ck_concat_channels (cudaStream_t s, const float *a, const float *b, float *y,
    size_t pixels, int ca, int cb)
{
  const size_t total = pixels * (size_t)(ca + cb);

  CK_LAUNCH (
      concat_kernel, ck_blocks (total), CK_THREADS, s, a, b, y, total, ca, cb);
  return cudaGetLastError ();
}

__global__ void
pad_channels_kernel (const float *x, float *y, size_t total, int cx, int cy)
{
  CK_FOR (i, total)
  {
    const size_t p = i / (size_t)cy;
    const int j = (int)(i % (size_t)cy);

    y[i] = j < cx ? x[p * cx + j] : 0.0f;
  }
}

extern "C" cudaError_t
ck_pad_channels (
    cudaStream_t s, const float *x, float *y, size_t pixels, int cx, int cy)
{
  const size_t total = pixels * (size_t)cy;

  CK_LAUNCH (pad_channels_kernel, ck_blocks (total), CK_THREADS, s, x, y, total,
      cx, cy);
  return cudaGetLastError ();
}

__global__ void
copy_rows_kernel (const float *src, size_t src_ld, size_t src_stride,
    float *dst, size_t dst_ld, size_t dst_stride, int rows, int cols,
    size_t total)
{
  CK_FOR (i, total)
  {
    const int col = (int)(i % (size_t)cols);
    const size_t r = i / (size_t)cols;
    const int row = (int)(r % (size_t)rows);
    const size_t b = r / (size_t)rows;

    dst[b * dst_stride + row * dst_ld + col]
        = src[b * src_stride + row * src_ld + col];
  }
}

extern "C" cudaError_t
ck_copy_rows (cudaStream_t s, const float *src, size_t src_ld,
    size_t src_stride, float *dst, size_t dst_ld, size_t dst_stride, int rows,
    int cols, int batch)
{
  const size_t total = (size_t)batch * rows * cols;

  CK_LAUNCH (copy_rows_kernel, ck_blocks (total), CK_THREADS, s, src, src_ld,
      src_stride, dst, dst_ld, dst_stride, rows, cols, total);
  return cudaGetLastError ();
}

__global__ void
gather_kernel (
    const float *table, const int *ids, int c, float *y, size_t total)
{
  CK_FOR (i, total)
  {
    const size_t r = i / (size_t)c;
    const int j = (int)(i % (size_t)c);

    y[i] = table[(size_t)ids[r] * c + j];
  }
}

extern "C" cudaError_t
ck_gather_rows (cudaStream_t s, const float *table, const int *ids,
    size_t n_ids, int c, float *y)
{
  const size_t total = n_ids * (size_t)c;

  CK_LAUNCH (
      gather_kernel, ck_blocks (total), CK_THREADS, s, table, ids, c, y, total);
  return cudaGetLastError ();
}
