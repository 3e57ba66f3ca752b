/* gst-affect — models/cpu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CPU backend's SIMD level: which build of the kernels (cpu-simd.h)
 * this process runs, chosen once from what the CPU supports and the
 * AFFECT_CPU_SIMD knob.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "cpu-private.h"
#include "cpu-simd.h"

int
cpu_simd_level (void)
{
  static gsize once = 0;
  static int level = CPU_SIMD_GENERIC;

  if (g_once_init_enter (&once)) {
    const gchar *env = g_getenv ("AFFECT_CPU_SIMD");
    int best = CPU_SIMD_GENERIC;

#if CPU_SIMD_X86
    __builtin_cpu_init ();
    /* F16C: the half-float panels (cpu_panels_to_half ()). */
    if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma")
        && __builtin_cpu_supports ("f16c")) {
      best = CPU_SIMD_AVX2;
      if (__builtin_cpu_supports ("avx512f"))
        best = CPU_SIMD_AVX512;
    }
#endif
    if (env == NULL)
      env = g_getenv ("AFFECT_FUSION_SIMD");
    level = best;
    if (env != NULL) {
      if (g_ascii_strcasecmp (env, "none") == 0
          || g_ascii_strcasecmp (env, "generic") == 0)
        level = CPU_SIMD_GENERIC;
      else if (g_ascii_strcasecmp (env, "avx2") == 0)
        level = MIN (best, CPU_SIMD_AVX2);
      else if (g_ascii_strcasecmp (env, "avx512") != 0)
        g_warning ("AFFECT_CPU_SIMD=%s: expected generic, avx2 or avx512", env);
    }
    g_debug ("cpu backend: %s kernels", cpu_simd_level_name (level));
    g_once_init_leave (&once, 1);
  }
  return level;
}

const char *
cpu_simd_level_name (int level)
{
  switch (level) {
    case CPU_SIMD_AVX512:
      return "AVX-512";
    case CPU_SIMD_AVX2:
      return "AVX2";
    default:
      return "generic";
  }
}
