/* gst-affect — cuda/emu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A host emulation of the few CUDA device features the kernels use, so
 * that the tests can run the kernels' code (indexing, loops, numerics of
 * the op table) on a machine without a GPU: the .cu files compiled by the
 * host C++ compiler with CK_EMULATE (cuda/emu/ck-emu-kernels.cc).
 *
 * A launch runs ONE block of the requested size: every kernel loops with a
 * grid stride, so one block covers all the work. Plain kernels run their
 * threads one after the other; CK_LAUNCH_WARPS kernels run every thread
 * as a host thread, and a warp's shuffles and __syncwarp() meet at a
 * barrier of its 32 threads. Float intrinsics are plain float operations
 * (compiled with -ffp-contract=off), __fmaf_rn is fmaf.
 *
 * What this cannot show: anything about real devices (launch limits,
 * memory, speed, the device's own math library). It checks the code's
 * logic, not the GPU (docs/cuda.md).
 */

#ifndef __AFFECT_CK_EMU_H__
#define __AFFECT_CK_EMU_H__

#include <algorithm>
#include <barrier>
#include <cmath>
#include <thread>
#include <vector>

#undef __global__
#undef __device__
#undef __host__
#define __global__ static
#define __device__
#define __host__

using std::max;
using std::min;

struct CkEmuDim {
  unsigned int x, y, z;
};

extern thread_local CkEmuDim threadIdx, blockIdx, blockDim, gridDim;

struct CkEmuWarp {
  std::barrier<> bar{ 32 };
  double buf[32];
};

extern thread_local CkEmuWarp *ck_emu_warp;

static inline float
__fadd_rn (float a, float b)
{
  return a + b;
}

static inline float
__fsub_rn (float a, float b)
{
  return a - b;
}

static inline float
__fmul_rn (float a, float b)
{
  return a * b;
}

static inline float
__fdiv_rn (float a, float b)
{
  return a / b;
}

static inline float
__fmaf_rn (float a, float b, float c)
{
  return fmaf (a, b, c);
}

static inline void
__syncwarp (unsigned int mask = 0xffffffffu)
{
  (void)mask;
  ck_emu_warp->bar.arrive_and_wait ();
}

static inline double
__shfl_xor_sync (unsigned int mask, double v, int lane_mask)
{
  const unsigned int lane = threadIdx.x % 32;
  double r;

  (void)mask;
  ck_emu_warp->buf[lane] = v;
  ck_emu_warp->bar.arrive_and_wait ();
  r = ck_emu_warp->buf[lane ^ (unsigned int)lane_mask];
  ck_emu_warp->bar.arrive_and_wait ();
  return r;
}

template <typename F>
static cudaError_t
ck_emu_launch (unsigned int threads, F f)
{
  blockIdx = CkEmuDim{ 0, 0, 0 };
  gridDim = CkEmuDim{ 1, 1, 1 };
  blockDim = CkEmuDim{ threads, 1, 1 };
  for (unsigned int t = 0; t < threads; t++) {
    threadIdx = CkEmuDim{ t, 0, 0 };
    f ();
  }
  return cudaSuccess;
}

template <typename F>
static cudaError_t
ck_emu_launch_warps (unsigned int threads, F f)
{
  std::vector<CkEmuWarp> warps ((threads + 31) / 32);
  std::vector<std::thread> pool;

  for (unsigned int t = 0; t < threads; t++)
    pool.emplace_back ([&, t] {
      blockIdx = CkEmuDim{ 0, 0, 0 };
      gridDim = CkEmuDim{ 1, 1, 1 };
      blockDim = CkEmuDim{ threads, 1, 1 };
      threadIdx = CkEmuDim{ t, 0, 0 };
      ck_emu_warp = &warps[t / 32];
      f ();
    });
  for (auto &th : pool)
    th.join ();
  return cudaSuccess;
}

#endif /* __AFFECT_CK_EMU_H__ */
