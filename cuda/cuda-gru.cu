/* gst-affect — cuda/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The GRU gate update of one step (cuda-kernels.h); the projections are
 * cuBLAS products (cuda-blas.c). PyTorch's equations, gate order r, z, n:
 *   r = σ(gx_r + gh_r), z = σ(gx_z + gh_z), n = tanh(gx_n + r · gh_n),
 *   h' = (1 − z) · n + z · h
 * (b_hn stays inside gh, multiplied by r, as PyTorch does). Gates in
 * double, the state stored as float. UNVERIFIED on a GPU (docs/cuda.md).
 */

#include "cuda-common.cuh"

__global__ void
gru_step_kernel (const float *gx, const float *gh, float *h, float *y, int T,
    int t, int H, size_t total)
{
  CK_FOR (i, total)
  {
    const int j = (int)(i % (size_t)H);
    const size_t b = i / (size_t)H;
    const float *x3 = gx + (b * T + t) * 3 * (size_t)H;
    const float *h3 = gh + b * 3 * (size_t)H;
    const double r = 1.0 / (1.0 + exp (-((double)x3[j] + h3[j])));
    const double z = 1.0 / (1.0 + exp (-((double)x3[H + j] + h3[H + j])));
    const double nn = tanh ((double)x3[2 * H + j] + r * h3[2 * H + j]);
    const float v = (float)((1.0 - z) * nn + z * (double)h[i]);

    h[i] = v;
    y[(b * T + t) * (size_t)H + j] = v;
  }
}

extern "C" cudaError_t
ck_gru_step (cudaStream_t s, const float *gx, const float *gh, float *h,
    float *y, int B, int T, int t, int H)
{
  const size_t total = (size_t)B * H;

  CK_LAUNCH (gru_step_kernel, ck_blocks (total), CK_THREADS, s, gx, gh, h, y, T,
      t, H, total);
  return cudaGetLastError ();
}
