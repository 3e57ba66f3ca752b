/* gst-affect — cuda/emu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CUDA runtime functions the module calls, on the host, for the
 * emulated module of the tests (ck-emu.h): one "device", "device memory"
 * from malloc (so that valgrind and AddressSanitizer see every access),
 * copies with memcpy, every call synchronous. The emulated device's memory
 * is filled with a pattern (0x7f bytes: NaN-like large values) when it is
 * allocated, so that reading memory nobody wrote shows in results.
 *
 * Fault injection, for the tests of error paths (nothing is injected
 * unless one of these is set):
 *   CK_EMU_FAIL_LAUNCH=N  the N-th kernel launch fails (every launcher asks
 *                         cudaGetLastError() right after its launch, which
 *                         then answers cudaErrorLaunchFailure);
 *   CK_EMU_FAIL_ALLOC=N   the N-th device or pinned allocation fails
 *                         (cudaErrorMemoryAllocation);
 *   CK_EMU_FAIL_COPY=N    the N-th copy fails (cudaErrorIllegalAddress).
 * Counting starts at the first call that sees the variable with its current
 * value: a test may set or change it at any time (the module's probe
 * launches one kernel too, at the registry's first use). Only the N-th
 * call fails, like a transient device error.
 */

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include <cuda_runtime_api.h>

#include "ck-emu.h"

thread_local CkEmuDim threadIdx, blockIdx, blockDim, gridDim;
thread_local CkEmuWarp *ck_emu_warp;

static void *
emu_alloc (size_t n)
{
  void *p = malloc (n ? n : 1);

  if (p != NULL)
    memset (p, 0x7f, n);
  return p;
}

typedef struct {
  const char *var;
  std::string value; /* the value the count belongs to */
  long count;
} EmuFault;

static std::mutex fault_lock;
static EmuFault fault_launch = { "CK_EMU_FAIL_LAUNCH", "", 0 };
static EmuFault fault_alloc = { "CK_EMU_FAIL_ALLOC", "", 0 };
static EmuFault fault_copy = { "CK_EMU_FAIL_COPY", "", 0 };

/* Counts one call of @f's kind; TRUE when it is the one to fail. */
static bool
emu_fault (EmuFault *f)
{
  std::lock_guard<std::mutex> guard (fault_lock);
  const char *v = getenv (f->var);
  long n;

  if (v == NULL || *v == '\0') {
    f->value.clear ();
    return false;
  }
  if (f->value != v) {
    f->value = v;
    f->count = 0;
  }
  n = strtol (v, NULL, 10);
  return ++f->count == n;
}

extern "C" {

cudaError_t CUDARTAPI
cudaGetDeviceCount (int *count)
{
  *count = 1;
  return cudaSuccess;
}

cudaError_t CUDARTAPI
cudaGetDeviceProperties (struct cudaDeviceProp *prop, int device)
{
  if (device != 0)
    return cudaErrorInvalidDevice;
  memset (prop, 0, sizeof (*prop));
  strcpy (prop->name, "host emulation (tests)");
  prop->major = 9;
  prop->minor = 0;
  prop->totalGlobalMem = (size_t)1 << 30;
  return cudaSuccess;
}

cudaError_t CUDARTAPI
cudaSetDevice (int device)
{
  return device == 0 ? cudaSuccess : cudaErrorInvalidDevice;
}

cudaError_t CUDARTAPI
cudaRuntimeGetVersion (int *v)
{
  *v = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t CUDARTAPI
cudaDriverGetVersion (int *v)
{
  *v = CUDART_VERSION;
  return cudaSuccess;
}

const char *CUDARTAPI
cudaGetErrorString (cudaError_t err)
{
  switch (err) {
    case cudaSuccess:
      return "no error";
    case cudaErrorMemoryAllocation:
      return "out of memory (emulated)";
    case cudaErrorLaunchFailure:
      return "unspecified launch failure (emulated)";
    case cudaErrorIllegalAddress:
      return "an illegal memory access was encountered (emulated)";
    default:
      return "emulated error";
  }
}

const char *CUDARTAPI
cudaGetErrorName (cudaError_t err)
{
  switch (err) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorLaunchFailure:
      return "cudaErrorLaunchFailure";
    case cudaErrorIllegalAddress:
      return "cudaErrorIllegalAddress";
    default:
      return "cudaErrorEmulated";
  }
}

cudaError_t CUDARTAPI
cudaGetLastError (void)
{
  return emu_fault (&fault_launch) ? cudaErrorLaunchFailure : cudaSuccess;
}

cudaError_t CUDARTAPI
cudaMalloc (void **p, size_t n)
{
  if (emu_fault (&fault_alloc)) {
    *p = NULL;
    return cudaErrorMemoryAllocation;
  }
  *p = emu_alloc (n);
  return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}

cudaError_t CUDARTAPI
cudaMallocAsync (void **p, size_t n, cudaStream_t s)
{
  (void)s;
  return cudaMalloc (p, n);
}

cudaError_t CUDARTAPI
cudaMallocHost (void **p, size_t n)
{
  return cudaMalloc (p, n);
}

cudaError_t CUDARTAPI
cudaFree (void *p)
{
  free (p);
  return cudaSuccess;
}

cudaError_t CUDARTAPI
cudaFreeAsync (void *p, cudaStream_t s)
{
  (void)s;
  free (p);
  return cudaSuccess;
}

cudaError_t CUDARTAPI
cudaFreeHost (void *p)
{
  free (p);
  return cudaSuccess;
}

cudaError_t CUDARTAPI
cudaMemcpy (void *dst, const void *src, size_t n, enum cudaMemcpyKind kind)
{
  (void)kind;
  if (emu_fault (&fault_copy))
    return cudaErrorIllegalAddress;
  memmove (dst, src, n);
  return cudaSuccess;
}

cudaError_t CUDARTAPI
cudaMemcpyAsync (void *dst, const void *src, size_t n, enum cudaMemcpyKind kind,
    cudaStream_t s)
{
  (void)s;
  return cudaMemcpy (dst, src, n, kind);
}

cudaError_t CUDARTAPI
cudaMemsetAsync (void *p, int v, size_t n, cudaStream_t s)
{
  (void)s;
  memset (p, v, n);
  return cudaSuccess;
}

cudaError_t CUDARTAPI
cudaStreamCreateWithFlags (cudaStream_t *s, unsigned int flags)
{
  (void)flags;
  *s = (cudaStream_t)emu_alloc (1);
  return cudaSuccess;
}

cudaError_t CUDARTAPI
cudaStreamDestroy (cudaStream_t s)
{
  free ((void *)s);
  return cudaSuccess;
}

cudaError_t CUDARTAPI
cudaStreamSynchronize (cudaStream_t s)
{
  (void)s;
  return cudaSuccess;
}

cudaError_t CUDARTAPI
cudaDeviceSynchronize (void)
{
  return cudaSuccess;
}

cudaError_t CUDARTAPI
cudaDeviceGetDefaultMemPool (cudaMemPool_t *pool, int device)
{
  (void)device;
  *pool = NULL;
  return cudaSuccess;
}

cudaError_t CUDARTAPI
cudaMemPoolSetAttribute (
    cudaMemPool_t pool, enum cudaMemPoolAttr attr, void *value)
{
  (void)pool;
  (void)attr;
  (void)value;
  return cudaSuccess;
}

} /* extern "C" */
