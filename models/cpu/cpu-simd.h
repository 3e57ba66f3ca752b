/* gst-affect — models/cpu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Writing a SIMD kernel once for AVX-512, AVX2 and a generic path, chosen at
 * run time.
 *
 * A kernel is written once, in a file of its own (no include guard), with
 * GCC/clang vector extensions through the names below. cpu-simd.h compiles
 * that file once per target, each time with the vector width and the
 * instruction set of that target, and every function gets the target's
 * suffix. The caller then picks the set of functions of the best level the
 * CPU has (cpu_simd_level ()) at run time:
 *
 *   // cpu-foo.c
 *   #define CPU_SIMD_KERNELS "cpu-foo-kernels.h"
 *   #include "cpu-simd.h"          // defines foo_generic, foo_avx2, foo_avx512
 *   #undef CPU_SIMD_KERNELS
 *   ...
 *   CPU_SIMD_PICK (foo) (args);    // the best of the three for this CPU
 *                                  // (once per chunk of work, not per
 *                                  // element)
 *
 *   // cpu-foo-kernels.h: one source for every target
 *   SIMD_FN void
 *   SIMD_NAME (foo) (float *p, int n)        // foo_generic, foo_avx2, ...
 *   {
 *     const VF two = SIMD_SET1 (2.0f);
 *     for (int i = 0; i + SIMD_W <= n; i += SIMD_W)
 *       SIMD_STORE (p + i, SIMD_FMA (SIMD_LOAD (p + i), two, two));
 *   }
 *
 * In a kernel source:
 *  - SIMD_W        floats per vector: 4 (generic), 8 (AVX2), 16 (AVX-512);
 *  - VF, VI        the vector of SIMD_W floats, of SIMD_W int32;
 *  - SIMD_FN       qualifiers of a kernel function (static, target);
 *  - SIMD_INLINE   the same for helpers, always inlined into a kernel;
 *  - SIMD_NAME (f) f with the target's suffix (f_generic, f_avx2,
 *                  f_avx512);
 *  - SIMD_LOAD (p), SIMD_STORE (p, v): unaligned loads and stores;
 *  - SIMD_LOADH (p): SIMD_W IEEE half floats (guint16) from p as floats
 *                  (exact: F16C / AVX-512 conversions, cpu_half_to_float ()
 *                  on the generic target);
 *  - SIMD_SET1 (x): every lane x; arithmetic (+ - * /), comparisons (lanes
 *                  of -1 / 0 as VI), bit operations on VI, casts between VF
 *                  and VI of the same width (bit copies) and
 *                  __builtin_convertvector are the plain vector extensions;
 *  - SIMD_FMA (a, b, c): a * b + c, fused (one rounding) on AVX2 and
 *                  AVX-512, a multiply then an add on the generic target
 *                  (the build uses -ffp-contract=off: nothing else is
 *                  fused); SIMD_FMAS (a, b, c) the same on floats, so that
 *                  a scalar tail computes a lane's value bit for bit;
 *  - SIMD_MIN (a, b), SIMD_MAX (a, b): a < b ? a : b, a > b ? a : b per lane
 *                  (the second operand when one is NaN);
 *  - SIMD_SELECT (m, a, b): m ? a : b per lane, m a VI mask;
 *  - SIMD_PREFETCH (p): read prefetch into L1;
 *  - SIMD_HSUM (v): the sum of the lanes of v as a tree that halves the
 *                  lanes (l + l+W/2, then ...), so that a 16-lane sum kept as
 *                  16 / SIMD_W vectors and first added pairwise the same way
 *                  gives the same bits on every target.
 * Written this way, the AVX2 and AVX-512 builds of a kernel do the same
 * operations in the same order on every lane, so they give the same bits;
 * the generic build differs where SIMD_FMA is involved (two roundings).
 * Sizes that are not a multiple of SIMD_W need a scalar or padded tail in
 * the kernel.
 *
 * The level is chosen once per process: the best one __builtin_cpu_supports
 * reports (AVX-512F; AVX2 with FMA and F16C; else generic), capped by the
 * environment variable AFFECT_CPU_SIMD = generic (or none) | avx2 |
 * avx512, for tests and comparisons (AFFECT_FUSION_SIMD, its older name, is
 * read when AFFECT_CPU_SIMD is not set). On other architectures only the
 * generic build exists (vector extensions map to NEON etc.).
 *
 * Every SIMD kernel of the CPU backend is written this way (and no SIMD
 * code exists elsewhere in the tree): cpu-conv-kernels.h (depthwise,
 * direct convolution, pooling), cpu-elementwise-kernels.h (activations,
 * the GEMM epilogue, add), cpu-transformer-kernels.h (GELU, layer norm,
 * masked softmax, broadcast arithmetic, scale) and cpu-gru-kernels.h (the
 * packed-panel product of the GRU and fully connected layers, the GRU
 * gates, small matrix products). The kernels without SIMD_FMA give the same
 * bits on all three targets; tests/models/test-simd.c checks both claims.
 * docs/inference-core.md, "Writing a SIMD kernel", has the recipe.
 */

#ifndef __AFFECT_CPU_SIMD_H__
#define __AFFECT_CPU_SIMD_H__

#include <glib.h>
#include <string.h>

G_BEGIN_DECLS

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define CPU_SIMD_X86 1
#include <immintrin.h>
#else
#define CPU_SIMD_X86 0
#endif

/* Numeric, usable in #if: the value of CPU_SIMD_TARGET per build. */
#define CPU_SIMD_GENERIC 0
#define CPU_SIMD_AVX2 1
#define CPU_SIMD_AVX512 2

/* The level this process runs (CPU_SIMD_GENERIC .. CPU_SIMD_AVX512), chosen
 * once (see above). */
int cpu_simd_level (void);
/* "generic", "AVX2" or "AVX-512". */
const char *cpu_simd_level_name (int level);

/* The function of the best level for this CPU: f_avx512, f_avx2 or
 * f_generic. */
#if CPU_SIMD_X86
#define CPU_SIMD_PICK(f)                                \
  (cpu_simd_level () == CPU_SIMD_AVX512    ? f##_avx512 \
      : cpu_simd_level () == CPU_SIMD_AVX2 ? f##_avx2   \
                                           : f##_generic)
#else
#define CPU_SIMD_PICK(f) f##_generic
#endif

typedef float cpu_vf4 __attribute__ ((vector_size (16)));
typedef float cpu_vf8 __attribute__ ((vector_size (32)));
typedef float cpu_vf16 __attribute__ ((vector_size (64)));
typedef gint32 cpu_vi4 __attribute__ ((vector_size (16)));
typedef gint32 cpu_vi8 __attribute__ ((vector_size (32)));
typedef gint32 cpu_vi16 __attribute__ ((vector_size (64)));
/* 4 doubles and 4 int64 whatever the target, for sums and exponentials in
 * double precision whose order must not depend on the target. */
typedef double cpu_vd4 __attribute__ ((vector_size (32)));
typedef gint64 cpu_vl4 __attribute__ ((vector_size (32)));

/* The float of IEEE half @h (exact). */
static inline float
cpu_half_to_float (guint16 h)
{
  const guint32 sign = (guint32)(h & 0x8000) << 16;
  const guint32 e = (h >> 10) & 0x1f, m = h & 0x3ff;
  guint32 b;
  float f;

  if (e == 0) {
    /* ±0 and subnormals: m 2^-24, exact in float */
    f = (float)m * 0x1p-24f;
    memcpy (&b, &f, sizeof (b));
    b |= sign;
  } else if (e == 31) {
    b = sign | 0x7f800000u | m << 13;
  } else {
    b = sign | (e + 112) << 23 | m << 13;
  }
  memcpy (&f, &b, sizeof (f));
  return f;
}

#define CPU_SIMD_CAT_(a, b) a##_##b
#define CPU_SIMD_CAT(a, b) CPU_SIMD_CAT_ (a, b)

G_END_DECLS

#endif /* __AFFECT_CPU_SIMD_H__ */

/* ---- the per-target builds (no include guard below) -------------------- */

#if defined(CPU_SIMD_KERNELS) && !defined(CPU_SIMD_TARGET)

/* Compile the kernel source once per target (this file includes itself). */
#define CPU_SIMD_TARGET CPU_SIMD_GENERIC
#include "cpu-simd.h"
#undef CPU_SIMD_TARGET
#if CPU_SIMD_X86
#define CPU_SIMD_TARGET CPU_SIMD_AVX2
#include "cpu-simd.h"
#undef CPU_SIMD_TARGET
#define CPU_SIMD_TARGET CPU_SIMD_AVX512
#include "cpu-simd.h"
#undef CPU_SIMD_TARGET
#endif

#elif defined(CPU_SIMD_KERNELS) && defined(CPU_SIMD_TARGET)

#if CPU_SIMD_TARGET == CPU_SIMD_GENERIC
#define SIMD_W 4
#define VF cpu_vf4
#define VI cpu_vi4
#define SIMD_SUFFIX generic
#define SIMD_TARGET_ATTR
#define SIMD_FMA(a, b, c) ((a) * (b) + (c))
#define SIMD_FMAS(a, b, c) ((a) * (b) + (c))
#elif CPU_SIMD_TARGET == CPU_SIMD_AVX2
#define SIMD_W 8
#define VF cpu_vf8
#define VI cpu_vi8
#define SIMD_SUFFIX avx2
#define SIMD_TARGET_ATTR __attribute__ ((target ("avx2,fma,f16c")))
#define SIMD_FMA(a, b, c) ((VF)_mm256_fmadd_ps ((a), (b), (c)))
#define SIMD_FMAS(a, b, c) __builtin_fmaf ((a), (b), (c))
#define SIMD_MIN(a, b) ((VF)_mm256_min_ps ((a), (b)))
#define SIMD_MAX(a, b) ((VF)_mm256_max_ps ((a), (b)))
#elif CPU_SIMD_TARGET == CPU_SIMD_AVX512
#define SIMD_W 16
#define VF cpu_vf16
#define VI cpu_vi16
#define SIMD_SUFFIX avx512
#define SIMD_TARGET_ATTR __attribute__ ((target ("avx512f,avx2,fma,f16c")))
#define SIMD_FMA(a, b, c) ((VF)_mm512_fmadd_ps ((a), (b), (c)))
#define SIMD_FMAS(a, b, c) __builtin_fmaf ((a), (b), (c))
#define SIMD_MIN(a, b) ((VF)_mm512_min_ps ((a), (b)))
#define SIMD_MAX(a, b) ((VF)_mm512_max_ps ((a), (b)))
#else
#error "unknown CPU_SIMD_TARGET"
#endif

#define SIMD_FN static SIMD_TARGET_ATTR
#define SIMD_INLINE \
  static inline __attribute__ ((always_inline)) SIMD_TARGET_ATTR
#define SIMD_NAME(f) CPU_SIMD_CAT (f, SIMD_SUFFIX)
#define SIMD_SELECT(m, a, b) ((VF)(((VI)(a) & (m)) | ((VI)(b) & ~(m))))
#ifndef SIMD_MIN
#define SIMD_MIN(a, b) SIMD_SELECT ((a) < (b), (a), (b))
#define SIMD_MAX(a, b) SIMD_SELECT ((a) > (b), (a), (b))
#endif
/* x - 0 is x for every x (-0 and NaN included): a broadcast. */
#define SIMD_SET1(x) ((float)(x) - (VF){ 0 })
#define SIMD_PREFETCH(p) __builtin_prefetch ((p), 0, 3)

SIMD_INLINE VF
SIMD_NAME (simd_load) (const float *p)
{
  VF v;
  memcpy (&v, p, sizeof (v));
  return v;
}

SIMD_INLINE void
SIMD_NAME (simd_store) (float *p, VF v)
{
  memcpy (p, &v, sizeof (v));
}

#if CPU_SIMD_TARGET == CPU_SIMD_AVX512
SIMD_INLINE VF
SIMD_NAME (simd_loadh) (const guint16 *p)
{
  return (VF)_mm512_cvtph_ps (_mm256_loadu_si256 ((const __m256i *)p));
}
#elif CPU_SIMD_TARGET == CPU_SIMD_AVX2
SIMD_INLINE VF
SIMD_NAME (simd_loadh) (const guint16 *p)
{
  return (VF)_mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *)p));
}
#else
SIMD_INLINE VF
SIMD_NAME (simd_loadh) (const guint16 *p)
{
  VF v;
  for (int l = 0; l < SIMD_W; l++)
    v[l] = cpu_half_to_float (p[l]);
  return v;
}
#endif

#if CPU_SIMD_TARGET == CPU_SIMD_AVX512
SIMD_INLINE float
SIMD_NAME (simd_hsum) (VF v)
{
  const __m512 x = v;
  const __m256 lo = _mm512_castps512_ps256 (x);
  const __m256 hi
      = _mm256_castpd_ps (_mm512_extractf64x4_pd (_mm512_castps_pd (x), 1));
  const __m256 s8 = _mm256_add_ps (lo, hi);
  const __m128 s4
      = _mm_add_ps (_mm256_castps256_ps128 (s8), _mm256_extractf128_ps (s8, 1));
  const __m128 s2 = _mm_add_ps (s4, _mm_movehl_ps (s4, s4));
  return _mm_cvtss_f32 (_mm_add_ss (s2, _mm_movehdup_ps (s2)));
}
#elif CPU_SIMD_TARGET == CPU_SIMD_AVX2
SIMD_INLINE float
SIMD_NAME (simd_hsum) (VF v)
{
  const __m256 s8 = v;
  const __m128 s4
      = _mm_add_ps (_mm256_castps256_ps128 (s8), _mm256_extractf128_ps (s8, 1));
  const __m128 s2 = _mm_add_ps (s4, _mm_movehl_ps (s4, s4));
  return _mm_cvtss_f32 (_mm_add_ss (s2, _mm_movehdup_ps (s2)));
}
#else
SIMD_INLINE float
SIMD_NAME (simd_hsum) (VF v)
{
  return (v[0] + v[2]) + (v[1] + v[3]);
}
#endif

#define SIMD_HSUM(v) SIMD_NAME (simd_hsum) (v)
#define SIMD_LOAD(p) SIMD_NAME (simd_load) (p)
#define SIMD_LOADH(p) SIMD_NAME (simd_loadh) (p)
#define SIMD_STORE(p, v) SIMD_NAME (simd_store) ((p), (v))

#include CPU_SIMD_KERNELS

#undef SIMD_W
#undef VF
#undef VI
#undef SIMD_SUFFIX
#undef SIMD_TARGET_ATTR
#undef SIMD_FMA
#undef SIMD_FMAS
#undef SIMD_MIN
#undef SIMD_MAX
#undef SIMD_FN
#undef SIMD_INLINE
#undef SIMD_NAME
#undef SIMD_SELECT
#undef SIMD_SET1
#undef SIMD_PREFETCH
#undef SIMD_LOAD
#undef SIMD_LOADH
#undef SIMD_HSUM
#undef SIMD_STORE

#endif
