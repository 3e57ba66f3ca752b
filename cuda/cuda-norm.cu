/* gst-affect — cuda/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Softmax, masked softmax and layer normalisation over rows
 * (cuda-kernels.h): one warp per row, partial sums in double combined in a
 * fixed order (lane partials, then a fixed butterfly), so results do not
 * depend on the launch geometry. Numerics as the CPU backend: scores,
 * exponentials and statistics in double, rounded to float once.
 * UNVERIFIED on a GPU (docs/cuda.md).
 */

#include "cuda-common.cuh"

#define WARP 32
#define ROWS_PER_BLOCK (CK_THREADS / WARP)

static __device__ __forceinline__ double
warp_sum (double v)
{
  for (int o = WARP / 2; o > 0; o /= 2)
    v += __shfl_xor_sync (0xffffffffu, v, o);
  return v;
}

static __device__ __forceinline__ double
warp_max (double v)
{
  for (int o = WARP / 2; o > 0; o /= 2) {
    const double t = __shfl_xor_sync (0xffffffffu, v, o);
    v = t > v ? t : v;
  }
  return v;
}

static unsigned int
row_blocks (size_t rows)
{
  return ck_blocks (rows * WARP);
}

__global__ void
softmax_kernel (float *x, size_t rows, int c)
{
  const int lane = threadIdx.x % WARP;
  const size_t warps = (size_t)gridDim.x * ROWS_PER_BLOCK;

  for (size_t r = (size_t)blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / WARP;
       r < rows; r += warps) {
    float *p = x + r * c;
    double mx = -INFINITY, sum = 0.0;

    for (int i = lane; i < c; i += WARP)
      mx = p[i] > mx ? p[i] : mx;
    mx = warp_max (mx);
    for (int i = lane; i < c; i += WARP)
      sum += exp ((double)p[i] - mx);
    sum = warp_sum (sum);
    for (int i = lane; i < c; i += WARP)
      p[i] = (float)(exp ((double)p[i] - mx) / sum);
  }
}

extern "C" cudaError_t
ck_softmax (cudaStream_t s, float *x, size_t rows, int c)
{
  CK_LAUNCH_WARPS (
      softmax_kernel, row_blocks (rows), CK_THREADS, s, x, rows, c);
  return cudaGetLastError ();
}

__global__ void
softmax_masked_kernel (float *x, size_t rows, size_t rows_per_image, int w,
    int c, float scale, const float *mask, int mask_n, int causal_offset)
{
  const int lane = threadIdx.x % WARP;
  const size_t warps = (size_t)gridDim.x * ROWS_PER_BLOCK;

  for (size_t r = (size_t)blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / WARP;
       r < rows; r += warps) {
    const size_t image = r / rows_per_image;
    const int row = (int)(r % (size_t)w);
    const float *m
        = mask != NULL ? mask + (mask_n == 1 ? 0 : image) * (size_t)c : NULL;
    float *p = x + r * c;
    int lim = c;
    double mx = -INFINITY, sum = 0.0;
    float inv;

    if (causal_offset >= 0 && (long long)row + causal_offset + 1 < c)
      lim = row + causal_offset + 1;
    for (int i = lane; i < lim; i += WARP) {
      const double si = (double)scale * p[i] + (m != NULL ? (double)m[i] : 0.0);
      mx = si > mx ? si : mx;
    }
    mx = warp_max (mx);
    __syncwarp ();
    if (mx == -INFINITY) {
      for (int i = lane; i < c; i += WARP)
        p[i] = 0.0f;
      continue;
    }
    for (int i = lane; i < lim; i += WARP) {
      const double e
          = exp ((double)scale * p[i] + (m != NULL ? (double)m[i] : 0.0) - mx);
      sum += e;
      p[i] = (float)e;
    }
    sum = warp_sum (sum);
    inv = (float)(1.0 / sum);
    for (int i = lane; i < c; i += WARP)
      p[i] = i < lim ? __fmul_rn (p[i], inv) : 0.0f;
  }
}

extern "C" cudaError_t
ck_softmax_masked (cudaStream_t s, float *x, size_t rows, size_t rows_per_image,
    int w, int c, float scale, const float *mask, int mask_n, int causal_offset)
{
  CK_LAUNCH_WARPS (softmax_masked_kernel, row_blocks (rows), CK_THREADS, s, x,
      rows, rows_per_image, w, c, scale, mask, mask_n, causal_offset);
  return cudaGetLastError ();
}

__global__ void
layer_norm_kernel (float *x, size_t rows, int c, const float *gamma,
    const float *beta, double eps)
{
  const int lane = threadIdx.x % WARP;
  const size_t warps = (size_t)gridDim.x * ROWS_PER_BLOCK;

  for (size_t r = (size_t)blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / WARP;
       r < rows; r += warps) {
    float *p = x + r * c;
    double mean = 0.0, var = 0.0, inv;

    for (int i = lane; i < c; i += WARP)
      mean += p[i];
    mean = warp_sum (mean) / c;
    for (int i = lane; i < c; i += WARP) {
      const double d = p[i] - mean;
      var += d * d;
    }
    var = warp_sum (var) / c;
    inv = 1.0 / sqrt (var + eps);
    for (int i = lane; i < c; i += WARP) {
      float v = (float)((p[i] - mean) * inv);
      if (gamma != NULL)
        v = __fmul_rn (v, gamma[i]);
      if (beta != NULL)
        v = __fadd_rn (v, beta[i]);
      p[i] = v;
    }
  }
}

extern "C" cudaError_t
ck_layer_norm (cudaStream_t s, float *x, size_t rows, int c, const float *gamma,
    const float *beta, double eps)
{
  CK_LAUNCH_WARPS (layer_norm_kernel, row_blocks (rows), CK_THREADS, s, x, rows,
      c, gamma, beta, eps);
  return cudaGetLastError ();
}
