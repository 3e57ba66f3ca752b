/* gst-affect — cuda/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Device helpers shared by the .cu files: launch geometry and the
 * activations with the CPU backend's numerics. UNVERIFIED on a GPU.
 */

#ifndef __AFFECT_CUDA_COMMON_CUH__
#define __AFFECT_CUDA_COMMON_CUH__

#include <math.h>

#include "cuda-kernels.h"

#ifdef CK_EMULATE
/* The host emulation used by the tests (cuda/emu/ck-emu.h). */
#include "emu/ck-emu.h"
#endif

#define CK_THREADS 256

/* Kernel launches on stream s. CK_LAUNCH_WARPS is for kernels whose
 * threads cooperate within a warp (shuffles): the host emulation runs their
 * threads concurrently, the others one after the other. */
#ifdef CK_EMULATE
#define CK_LAUNCH(k, blocks, threads, s, ...) \
  ((void)(blocks), (void)(s), ck_emu_launch (threads, [=] { k (__VA_ARGS__); }))
#define CK_LAUNCH_WARPS(k, blocks, threads, s, ...) \
  ((void)(blocks), (void)(s),                       \
      ck_emu_launch_warps (threads, [=] { k (__VA_ARGS__); }))
#else
#define CK_LAUNCH(k, blocks, threads, s, ...) \
  k<<<blocks, threads, 0, s>>> (__VA_ARGS__)
#define CK_LAUNCH_WARPS CK_LAUNCH
#endif

/* Blocks for a grid-stride loop over @n items (at most 65535·16 blocks:
 * every kernel loops). */
static inline unsigned int
ck_blocks (size_t n)
{
  size_t b = (n + CK_THREADS - 1) / CK_THREADS;

  if (b < 1)
    b = 1;
  if (b > 1048560)
    b = 1048560;
  return (unsigned int)b;
}

#define CK_FOR(i, n)                                                      \
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
       i += (size_t)gridDim.x * blockDim.x)

/* Launches kernel k over @total items (a grid-stride loop) on stream s and
 * gives the launch's status: the launchers' common prelude. */
#define CK_RUN(k, total, s, ...)                                 \
  (CK_LAUNCH (k, ck_blocks (total), CK_THREADS, s, __VA_ARGS__), \
      cudaGetLastError ())

/* Element i of an NHWC tensor [n, oh, ow, c]: its channel, column, row
 * and image. */
struct CkNhwc {
  int ch, ox, oy;
  size_t b;
};

static __device__ __forceinline__ CkNhwc
ck_nhwc (size_t i, int c, int oh, int ow)
{
  const size_t pix = i / (size_t)c;
  CkNhwc p;

  p.ch = (int)(i % (size_t)c);
  p.ox = (int)(pix % (size_t)ow);
  p.oy = (int)((pix / (size_t)ow) % (size_t)oh);
  p.b = pix / ((size_t)ow * oh);
  return p;
}

/* Calls f (ky, kx, iy, ix) for the taps of a kh × kw window at output
 * (p.oy, p.ox) (stride, padding pt/pl) that fall inside an h × w input, in
 * (ky, kx) order. */
template <typename F>
static __device__ __forceinline__ void
ck_window (const CkNhwc &p, int h, int w, int kh, int kw, int stride, int pt,
    int pl, F f)
{
  for (int ky = 0; ky < kh; ky++) {
    const int iy = p.oy * stride + ky - pt;
    if (iy < 0 || iy >= h)
      continue;
    for (int kx = 0; kx < kw; kx++) {
      const int ix = p.ox * stride + kx - pl;
      if (ix < 0 || ix >= w)
        continue;
      f (ky, kx, iy, ix);
    }
  }
}

/* The activations as the CPU backend computes them: relu/relu6 exact, leaky
 * as tfjs (m = 0.1x; relu(x - m) + m, each step rounded to float: no
 * contraction), sigmoid/tanh/GELU in double, rounded once. */
static __device__ __forceinline__ float
ck_act (float v, int act)
{
  float m;

  switch (act) {
    case CK_ACT_RELU:
      return v > 0.0f ? v : 0.0f;
    case CK_ACT_RELU6:
      return v > 0.0f ? (v < 6.0f ? v : 6.0f) : 0.0f;
    case CK_ACT_LEAKY:
      m = __fmul_rn (0.1f, v);
      v = __fsub_rn (v, m);
      return __fadd_rn (v > 0.0f ? v : 0.0f, m);
    case CK_ACT_SIGMOID:
      return (float)(1.0 / (1.0 + exp (-(double)v)));
    case CK_ACT_TANH:
      return (float)tanh ((double)v);
    case CK_ACT_GELU:
      return (float)(0.5 * (double)v * (1.0 + erf ((double)v * M_SQRT1_2)));
    default:
      return v;
  }
}

#endif /* __AFFECT_CUDA_COMMON_CUH__ */
