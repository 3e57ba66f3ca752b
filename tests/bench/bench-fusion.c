/* gst-affect — tests/bench/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bench-fusion: latency of the fusion network's C inference
 * (affect_fusion_run) on the CPU. Not a test: it asserts nothing about time.
 *
 *   bench-fusion MODEL INPUTS [--n N] [--threads T] [--iters I]
 *                [--warmup W] [--check-only]
 *
 * INPUTS is the file written by bench_fusion_torch.py make: img [M, D_img],
 * exp/spe/wrd [M, T, D], present [M, 3] (F32 0/1) with PyTorch's outputs
 * au, expr, va, and present_mixed with au_mixed, expr_mixed, va_mixed.
 * First the C outputs for all M tracks are compared with PyTorch's, for
 * both presence patterns, and a line
 *
 *   CHECK <max |delta| all present> <max |delta| mixed presence>
 *
 * is printed; the program exits with status 1 when one is above 1e-4 (or
 * not a number). Then the outputs for the mixed pattern with 2 and 3
 * threads and for each track alone are compared with the batch on one
 * thread (CHECK-BATCH <max |delta|>, exit status 1 above 1e-6). Then,
 * unless --check-only, it gives affect_fusion_run() T threads
 * (affect_fusion_set_n_threads()), runs W untimed calls and I timed calls
 * on the first N tracks (one call = one frame of N tracks, each with its
 * clip), and prints
 *
 *   RESULT c <n> <threads> <median ms/call> <mean ms/call> <min ms/call>
 *          <median us per face> <median CPU ms/call>
 *
 * (CPU time: the process's, all threads, from CLOCK_PROCESS_CPUTIME_ID; on
 * a shared machine it shows how much of the wall time was spent waiting.)
 * A first line "# kernels: ..." names the CPU backend's vector kernels for
 * this CPU (AFFECT_CPU_SIMD included) and the affect_sgemm() provider
 * (which the fusion network's ops do not reach).
 */

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "affect-fusion.h"
#include "affect-gemm.h"
#include "affect-safetensors.h"

#define TOLERANCE 1e-4

typedef struct {
  int m, t;
  float *img, *x[AFFECT_FUSION_N_BRANCHES];
  guint8 *present, *present_mixed;
  float *ref[AFFECT_FUSION_N_TASKS], *ref_mixed[AFFECT_FUSION_N_TASKS];
} Inputs;

static void
inputs_clear (Inputs *in)
{
  g_free (in->img);
  g_free (in->present);
  g_free (in->present_mixed);
  for (int m = 0; m < AFFECT_FUSION_N_BRANCHES; m++)
    g_free (in->x[m]);
  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
    g_free (in->ref[k]);
    g_free (in->ref_mixed[k]);
  }
}

static guint8 *
read_present (AffectStFile *f, const gchar *name, int m, GError **error)
{
  const int64_t shape[2] = { m, 3 };
  gfloat *p = affect_st_get_f32 (f, name, 2, shape, error);
  guint8 *out;

  if (!p)
    return NULL;
  out = g_new (guint8, (gsize)m * 3);
  for (int i = 0; i < m * 3; i++)
    out[i] = p[i] != 0.0f;
  g_free (p);
  return out;
}

static gboolean
read_inputs (
    const gchar *path, const AffectFusionInfo *info, Inputs *in, GError **error)
{
  AffectStFile *f = affect_st_open (path, error);
  const AffectStTensor *img;
  gboolean ok = FALSE;

  if (!f)
    return FALSE;
  img = affect_st_find (f, "img");
  if (!img || img->n_dims != 2 || img->shape[0] < 1) {
    g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH,
        "%s: no 'img' tensor [M, %d]", path, info->d_img);
    goto out;
  }
  in->m = (int)img->shape[0];
  in->t = info->clip_len;
  {
    const int64_t s_img[2] = { in->m, info->d_img };
    in->img = affect_st_get_f32 (f, "img", 2, s_img, error);
    if (!in->img)
      goto out;
  }
  for (int m = 0; m < AFFECT_FUSION_N_BRANCHES; m++) {
    const int64_t s[3] = { in->m, in->t, info->d_branch[m] };
    in->x[m]
        = affect_st_get_f32 (f, affect_fusion_branch_name (m), 3, s, error);
    if (!in->x[m])
      goto out;
  }
  in->present = read_present (f, "present", in->m, error);
  if (!in->present)
    goto out;
  in->present_mixed = read_present (f, "present_mixed", in->m, error);
  if (!in->present_mixed)
    goto out;
  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
    const int64_t s[2] = { in->m, info->n_out[k] };
    gchar *name;

    if (!info->has_task[k])
      continue;
    in->ref[k]
        = affect_st_get_f32 (f, affect_fusion_task_name (k), 2, s, error);
    if (!in->ref[k])
      goto out;
    name = g_strdup_printf ("%s_mixed", affect_fusion_task_name (k));
    in->ref_mixed[k] = affect_st_get_f32 (f, name, 2, s, error);
    g_free (name);
    if (!in->ref_mixed[k])
      goto out;
  }
  ok = TRUE;
out:
  affect_st_close (f);
  return ok;
}

static gboolean
run (const AffectFusion *fusion, const Inputs *in, int n, const guint8 *present,
    float **outs, GError **error)
{
  return affect_fusion_run (fusion, n, in->t, in->img, in->x[0], in->x[1],
      in->x[2], present, outs[0], outs[1], outs[2], error);
}

/* Largest |C - PyTorch| over every output of the model; NAN when a value is
 * not a number. */
static double
max_delta (const AffectFusionInfo *info, int m, float **outs, float **ref)
{
  double worst = 0.0;

  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
    if (!info->has_task[k])
      continue;
    for (gsize i = 0; i < (gsize)m * info->n_out[k]; i++) {
      double d = fabs ((double)outs[k][i] - ref[k][i]);
      if (isnan (d))
        return NAN;
      worst = MAX (worst, d);
    }
  }
  return worst;
}

static double
cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The kernels the CPU backend runs, from its device line in the registry
 * ("..., SIMD kernels: AVX-512"; models/cpu/cpu-simd.c chooses them). */
static gchar *
kernels (void)
{
  GPtrArray *list = affect_backend_list ();
  gchar *level = NULL;

  for (guint i = 0; i < list->len && !level; i++) {
    AffectBackendInfo *b = g_ptr_array_index (list, i);
    const gchar *p = b->devices && b->devices[0]
                         ? strstr (b->devices[0], "SIMD kernels: ")
                         : NULL;

    if (g_str_equal (b->name, "cpu") && p)
      level = g_strdup (p + strlen ("SIMD kernels: "));
  }
  g_ptr_array_unref (list);
  return level ? level : g_strdup ("unknown");
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int
main (int argc, char **argv)
{
  int n = 1, threads = 1, iters = 50, warmup = 5;
  gboolean check_only = FALSE;
  GOptionEntry entries[] = { { "n", 0, 0, G_OPTION_ARG_INT, &n,
                                 "tracks per call (default 1)", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
        "threads of affect_fusion_run (default 1)", "T" },
    { "iters", 0, 0, G_OPTION_ARG_INT, &iters, "timed calls (default 50)",
        "I" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup,
        "untimed calls first (default 5)", "W" },
    { "check-only", 0, 0, G_OPTION_ARG_NONE, &check_only,
        "compare with PyTorch, do not time", NULL },
    { NULL } };
  GOptionContext *ctx
      = g_option_context_new ("MODEL INPUTS - fusion network latency");
  GError *error = NULL;
  AffectFusion *fusion = NULL;
  const AffectFusionInfo *info;
  Inputs in = { 0 };
  gchar *level;
  float *outs[AFFECT_FUSION_N_TASKS] = { NULL };
  double *times = NULL, *cpu = NULL, d_all, d_mixed, sum = 0.0;
  int status = 1;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("bench-fusion: %s\n", error->message);
    goto out;
  }
  if (argc != 3 || threads < 1 || iters < 1 || warmup < 0 || n < 1) {
    g_printerr ("usage: bench-fusion MODEL INPUTS [--n N] [--threads T] "
                "[--iters I] [--warmup W] [--check-only]\n");
    goto out;
  }

  fusion = affect_fusion_load (argv[1], &error);
  if (!fusion) {
    g_printerr ("bench-fusion: %s\n", error->message);
    goto out;
  }
  info = affect_fusion_get_info (fusion);
  if (!read_inputs (argv[2], info, &in, &error)) {
    g_printerr ("bench-fusion: %s\n", error->message);
    goto out;
  }
  if (n > in.m) {
    g_printerr ("bench-fusion: --n %d is more than the %d tracks of %s\n", n,
        in.m, argv[2]);
    goto out;
  }
  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++)
    if (info->has_task[k])
      outs[k] = g_new (float, (gsize)in.m * info->n_out[k]);

  level = kernels ();
  printf ("# kernels: %s; affect_sgemm: %s\n", level, affect_gemm_provider ());
  g_free (level);

  /* Parity with PyTorch on all tracks, both presence patterns. */
  if (!run (fusion, &in, in.m, in.present, outs, &error)) {
    g_printerr ("bench-fusion: %s\n", error->message);
    goto out;
  }
  d_all = max_delta (info, in.m, outs, in.ref);
  if (!run (fusion, &in, in.m, in.present_mixed, outs, &error)) {
    g_printerr ("bench-fusion: %s\n", error->message);
    goto out;
  }
  d_mixed = max_delta (info, in.m, outs, in.ref_mixed);
  printf ("CHECK\t%.3g\t%.3g\n", d_all, d_mixed);
  if (!(d_all <= TOLERANCE && d_mixed <= TOLERANCE)) {
    g_printerr ("bench-fusion: C and PyTorch outputs differ by more than "
                "%g\n",
        TOLERANCE);
    goto out;
  }
  /* Threads and batch composition must not change a single bit: the mixed
   * pattern with 1, 2 and 3 threads, and each track alone. */
  {
    double d_var = 0.0;
    float *alt[AFFECT_FUSION_N_TASKS] = { NULL };

    for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++)
      if (info->has_task[k])
        alt[k] = g_new (float, (gsize)in.m * info->n_out[k]);
    for (int th = 2; th <= 3; th++) {
      affect_fusion_set_n_threads (fusion, th);
      if (!run (fusion, &in, in.m, in.present_mixed, alt, &error)) {
        g_printerr ("bench-fusion: %s\n", error->message);
        goto out;
      }
      d_var = MAX (d_var, max_delta (info, in.m, alt, outs));
    }
    affect_fusion_set_n_threads (fusion, 1);
    for (int i = 0; i < in.m; i++) {
      float *one[AFFECT_FUSION_N_TASKS] = { NULL };
      float *ref[AFFECT_FUSION_N_TASKS] = { NULL };
      const float *x[AFFECT_FUSION_N_BRANCHES];
      for (int m = 0; m < AFFECT_FUSION_N_BRANCHES; m++)
        x[m] = in.x[m] + (gsize)i * in.t * info->d_branch[m];
      for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
        if (!info->has_task[k])
          continue;
        one[k] = alt[k];
        ref[k] = outs[k] + (gsize)i * info->n_out[k];
      }
      if (!affect_fusion_run (fusion, 1, in.t, in.img + (gsize)i * info->d_img,
              x[0], x[1], x[2], in.present_mixed + i * 3, one[0], one[1],
              one[2], &error)) {
        g_printerr ("bench-fusion: %s\n", error->message);
        goto out;
      }
      d_var = MAX (d_var, max_delta (info, 1, one, ref));
    }
    for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++)
      g_free (alt[k]);
    printf ("CHECK-BATCH\t%.3g\n", d_var);
    if (!(d_var <= 1e-6)) {
      g_printerr ("bench-fusion: results depend on the threads or the batch "
                  "(max |delta| %g)\n",
          d_var);
      goto out;
    }
  }
  if (check_only) {
    status = 0;
    goto out;
  }

  affect_fusion_set_n_threads (fusion, threads);
  times = g_new (double, iters);
  cpu = g_new (double, iters);
  for (int i = 0; i < warmup + iters; i++) {
    gint64 t0 = g_get_monotonic_time ();
    double c0 = cpu_ms ();
    if (!run (fusion, &in, n, in.present, outs, &error)) {
      g_printerr ("bench-fusion: %s\n", error->message);
      goto out;
    }
    if (i >= warmup) {
      times[i - warmup] = (g_get_monotonic_time () - t0) / 1e3;
      cpu[i - warmup] = cpu_ms () - c0;
    }
  }
  for (int i = 0; i < iters; i++)
    sum += times[i];
  qsort (times, iters, sizeof (double), cmp_double);
  qsort (cpu, iters, sizeof (double), cmp_double);
  {
    double med = iters % 2 ? times[iters / 2]
                           : 0.5 * (times[iters / 2 - 1] + times[iters / 2]);
    double cmed = iters % 2 ? cpu[iters / 2]
                            : 0.5 * (cpu[iters / 2 - 1] + cpu[iters / 2]);
    printf ("RESULT\tc\t%d\t%d\t%.4f\t%.4f\t%.4f\t%.2f\t%.4f\n", n, threads,
        med, sum / iters, times[0], med * 1e3 / n, cmed);
  }
  status = 0;

out:
  g_clear_error (&error);
  g_option_context_free (ctx);
  inputs_clear (&in);
  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++)
    g_free (outs[k]);
  g_free (times);
  g_free (cpu);
  if (fusion)
    affect_fusion_free (fusion);
  return status;
}
