/* gst-affect — tests/models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CPU backend's SIMD builds give the same bits (models/cpu/cpu-simd.h).
 *
 * The backend picks its kernel build (generic, AVX2, AVX-512) once per
 * process, capped by AFFECT_CPU_SIMD; so this program runs itself once per
 * level (`test-models-simd --dump FILE`, AFFECT_CPU_SIMD set), each run
 * computing the same ops on the same inputs and writing every output to a
 * file, and then compares the files bit for bit:
 *  - the kernels without fused multiply-adds (depthwise, separable, direct
 *    and GEMM convolutions with their epilogue, pooling, activations, add,
 *    GELU, layer norm, masked softmax, broadcast arithmetic, scale) give
 *    the same bits on all three levels;
 *  - the kernels with fused multiply-adds (fully connected layers on packed
 *    panels, GRU, small products; cpu-gru-kernels.h) give the same bits on
 *    AVX2 and AVX-512 (the generic build rounds twice: not compared).
 * Shapes are chosen so that every register block and tail of the kernels
 * runs (channels 32 + 16 + 8 + rest, two-pixel depthwise interiors, odd
 * lengths). A level the CPU lacks runs the best one it has; the comparison
 * is then reported as not made.
 */

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include <affect-tensor.h>

/* ---- the child: compute and dump --------------------------------------- */

typedef struct {
  FILE *f;
  GRand *rng;
  AffectBackend *be;
} Dump;

static float *
rnd (Dump *d, gsize n, double lo, double hi)
{
  float *v = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    v[i] = (float)g_rand_double_range (d->rng, lo, hi);
  return v;
}

static AffectTensor *
rnd_tensor (Dump *d, int n, int h, int w, int c, double lo, double hi)
{
  float *v = rnd (d, (gsize)n * h * w * c, lo, hi);
  AffectTensor *t = affect_tensor_new_from_data (d->be, n, h, w, c, v);
  g_free (v);
  return t;
}

/* Record: name (32 bytes), fma flag (int32), count (uint64), floats. */
static void
put (Dump *d, const char *name, gboolean fma, AffectTensor *t)
{
  char label[32] = { 0 };
  const gint32 flag = fma;
  const guint64 n = affect_tensor_n_elements (t);
  float *v = g_new (float, n);

  g_strlcpy (label, name, sizeof (label));
  affect_tensor_download (t, v);
  fwrite (label, 1, sizeof (label), d->f);
  fwrite (&flag, sizeof (flag), 1, d->f);
  fwrite (&n, sizeof (n), 1, d->f);
  fwrite (v, sizeof (float), n, d->f);
  g_free (v);
}

static void
put_free (Dump *d, const char *name, gboolean fma, AffectTensor *t)
{
  put (d, name, fma, t);
  affect_tensor_free (t);
}

static void
dump_conv (Dump *d, const char *name, AffectConv *conv, AffectTensor *x)
{
  put_free (d, name, FALSE, affect_conv_forward (conv, x));
  affect_conv_free (conv);
}

static void
dump_convs (Dump *d)
{
  /* kh, kw, c(in), cout, stride, padding, act */
  static const struct {
    int k, cin, cout, stride;
    AffectPadding pad;
    AffectActivation act;
  } dw[] = {
    { 3, 64, 0, 1, AFFECT_PAD_SAME, AFFECT_ACT_RELU6 },  /* two pixels */
    { 5, 59, 0, 2, AFFECT_PAD_VALID, AFFECT_ACT_LEAKY }, /* 32+16+8+3 */
    { 3, 13, 0, 1, AFFECT_PAD_SAME, AFFECT_ACT_NONE },
    { 3, 40, 24, 1, AFFECT_PAD_SAME, AFFECT_ACT_RELU }, /* separable */
    { 3, 3, 59, 2, AFFECT_PAD_SAME, AFFECT_ACT_RELU },  /* direct */
    { 3, 4, 24, 1, AFFECT_PAD_SAME, AFFECT_ACT_LEAKY }, /* direct 16+8 */
    { 3, 5, 37, 1, AFFECT_PAD_SAME, AFFECT_ACT_RELU6 }, /* im2col */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (dw); i++) {
    const int k = dw[i].k, cin = dw[i].cin, cout = dw[i].cout;
    AffectTensor *x = rnd_tensor (d, 2, 9, 11, cin, -1.0, 1.0);
    float *f = rnd (d, (gsize)k * k * cin * MAX (cout, 1), -0.5, 0.5);
    float *pw = rnd (d, (gsize)cin * MAX (cout, 1), -0.5, 0.5);
    float *b = rnd (d, MAX (cin, cout), -0.2, 0.2);
    gchar *name = g_strdup_printf ("conv %" G_GSIZE_FORMAT, i);
    AffectConv *conv;

    if (cout == 0)
      conv = affect_conv_new_depthwise (
          d->be, k, k, cin, dw[i].stride, dw[i].pad, f, b, dw[i].act);
    else if (i == 3)
      conv = affect_conv_new_separable (
          d->be, k, k, cin, cout, dw[i].stride, dw[i].pad, f, pw, b, dw[i].act);
    else
      conv = affect_conv_new (
          d->be, k, k, cin, cout, dw[i].stride, dw[i].pad, f, b, dw[i].act);
    dump_conv (d, name, conv, x);
    affect_tensor_free (x);
    g_free (f);
    g_free (pw);
    g_free (b);
    g_free (name);
  }
}

static void
dump_elementwise (Dump *d)
{
  static const AffectActivation acts[]
      = { AFFECT_ACT_RELU, AFFECT_ACT_RELU6, AFFECT_ACT_LEAKY };
  AffectTensor *x = rnd_tensor (d, 2, 7, 9, 40, -2.0, 2.0), *y;
  AffectTensor *a, *b;

  put_free (d, "max pool", FALSE, affect_max_pool (x, 3, 2, AFFECT_PAD_SAME));
  put_free (d, "avg pool", FALSE, affect_avg_pool (x, 2, 2, AFFECT_PAD_VALID));
  affect_tensor_free (x);
  x = rnd_tensor (d, 1, 3, 5, 21, -2.0, 2.0);
  put_free (
      d, "avg pool tail", FALSE, affect_avg_pool (x, 3, 1, AFFECT_PAD_SAME));
  affect_tensor_free (x);

  for (gsize i = 0; i < G_N_ELEMENTS (acts); i++) {
    x = rnd_tensor (d, 1, 1, 1, 1003, -8.0, 8.0);
    affect_activate_inplace (x, acts[i]);
    put_free (d, "activate", FALSE, x);
  }
  a = rnd_tensor (d, 1, 1, 20, 59, -1.0, 1.0);
  b = rnd_tensor (d, 1, 1, 20, 59, -1.0, 1.0);
  put_free (d, "add", FALSE, affect_add (a, b));

  /* Broadcast arithmetic: b of 5, 10 (expanded to runs of 16 or more) and
   * 59 elements. */
  for (int n = 0; n < 3; n++) {
    static const int nb[] = { 5, 10, 59 };
    y = rnd_tensor (d, 1, 1, 1, nb[n], -1.0, 1.0);
    affect_binary_inplace (a, y, (AffectBinaryOp)n);
    put (d, "binary", FALSE, a);
    affect_tensor_free (y);
  }
  affect_scale_inplace (a, 0.37f, -0.11f);
  put (d, "scale", FALSE, a);
  affect_tensor_free (a);
  affect_tensor_free (b);

  x = rnd_tensor (d, 1, 1, 1, 1001, -6.0, 6.0);
  affect_gelu_inplace (x);
  put_free (d, "gelu", FALSE, x);
}

static void
dump_transformer (Dump *d)
{
  static const int widths[] = { 37, 768 };
  AffectTensor *x, *mask;
  float *m;

  for (gsize i = 0; i < G_N_ELEMENTS (widths); i++) {
    const int c = widths[i];
    AffectTensor *g = rnd_tensor (d, 1, 1, 1, c, 0.5, 1.5);
    AffectTensor *b = rnd_tensor (d, 1, 1, 1, c, -0.5, 0.5);
    x = rnd_tensor (d, 1, 1, 3, c, -3.0, 5.0);
    affect_layer_norm_inplace (x, g, b, 1e-12);
    put_free (d, "layer norm", FALSE, x);
    affect_tensor_free (g);
    affect_tensor_free (b);
  }

  m = rnd (d, 2 * 37, -1.0, 0.0);
  m[3] = m[40] = -INFINITY;
  mask = affect_tensor_new_from_data (d->be, 2, 1, 1, 37, m);
  x = rnd_tensor (d, 2, 1, 5, 37, -4.0, 4.0);
  affect_softmax_masked_inplace (x, 0.125f, mask, -1);
  put_free (d, "softmax masked", FALSE, x);
  x = rnd_tensor (d, 2, 1, 5, 37, -4.0, 4.0);
  affect_softmax_masked_inplace (x, 0.3f, NULL, 1);
  put_free (d, "softmax causal", FALSE, x);
  affect_tensor_free (mask);
  g_free (m);
}

/* Kernels with fused multiply-adds: AVX2 and AVX-512 only. */
static void
dump_fma (Dump *d)
{
  const int in = 57, out = 70, hidden = 37;
  float *w = rnd (d, (gsize)in * out, -0.3, 0.3);
  float *b = rnd (d, out, -0.1, 0.1);
  float *wih = rnd (d, (gsize)3 * hidden * in, -0.3, 0.3);
  float *whh = rnd (d, (gsize)3 * hidden * hidden, -0.3, 0.3);
  float *bih = rnd (d, 3 * hidden, -0.1, 0.1);
  float *bhh = rnd (d, 3 * hidden, -0.1, 0.1);
  AffectLinear *lin = affect_linear_new (d->be, in, out, w, TRUE, b);
  AffectGru *gru = affect_gru_new (d->be, in, hidden, wih, whh, bih, bhh);
  AffectTensor *x;

  for (int rows = 1; rows <= 9; rows += 4) {
    x = rnd_tensor (d, rows, 1, 1, in, -1.0, 1.0);
    put_free (d, "linear", TRUE, affect_linear_forward (lin, x));
    affect_tensor_free (x);
  }
  x = rnd_tensor (d, 3, 1, 6, in, -1.0, 1.0);
  put_free (d, "gru", TRUE, affect_gru_forward (gru, x, NULL));
  affect_tensor_free (x);
  affect_linear_free (lin);
  affect_gru_free (gru);
  g_free (w);
  g_free (b);
  g_free (wih);
  g_free (whh);
  g_free (bih);
  g_free (bhh);
}

/* The kernel level the CPU backend reports ("kernels: X" in its device
 * line), or "?". */
static gchar *
cpu_kernels (void)
{
  GPtrArray *list = affect_backend_list ();
  gchar *level = NULL;

  for (guint i = 0; i < list->len && level == NULL; i++) {
    AffectBackendInfo *info = g_ptr_array_index (list, i);
    const gchar *k;
    if (g_strcmp0 (info->name, "cpu") != 0 || info->devices == NULL
        || info->devices[0] == NULL)
      continue;
    k = strstr (info->devices[0], "kernels: ");
    if (k != NULL)
      level = g_strndup (k + 9, strcspn (k + 9, ",;)"));
  }
  g_ptr_array_unref (list);
  return level ? level : g_strdup ("?");
}

static int
dump_main (const char *path)
{
  Dump d = { fopen (path, "wb"), g_rand_new_with_seed (20261207), NULL };
  gchar *level;

  if (d.f == NULL)
    return 2;
  /* A refused shape must fail the run, not leave a short dump. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  /* The direct convolution for few input channels, whatever the sgemm. */
  g_setenv ("AFFECT_CPU_DIRECT_CONV", "1", TRUE);
  d.be = affect_backend_new ("cpu", 1, NULL);
  if (d.be == NULL)
    return 3;
  dump_convs (&d);
  dump_elementwise (&d);
  dump_transformer (&d);
  dump_fma (&d);
  affect_backend_unref (d.be);
  g_rand_free (d.rng);
  level = cpu_kernels ();
  printf ("%s\n", level);
  g_free (level);
  return fclose (d.f) == 0 ? 0 : 4;
}

/* ---- the test: run each level and compare ------------------------------ */

static gchar *self_path;

typedef struct {
  const char *knob; /* AFFECT_CPU_SIMD */
  gchar *level;     /* what the backend ran */
  GBytes *dump;
} Run;

static void
run_level (Run *r)
{
  gchar *dir = g_dir_make_tmp ("test-simd-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "dump", NULL);
  gchar **env
      = g_environ_setenv (g_get_environ (), "AFFECT_CPU_SIMD", r->knob, TRUE);
  gchar *argv[] = { self_path, (gchar *)"--dump", path, NULL };
  gchar *out = NULL, *err = NULL, *data = NULL;
  gsize len = 0;
  int status = -1;
  GError *error = NULL;

  ck_assert (dir != NULL);
  ck_assert_msg (g_spawn_sync (NULL, argv, env, G_SPAWN_DEFAULT, NULL, NULL,
                     &out, &err, &status, &error),
      "spawn: %s", error ? error->message : "?");
  ck_assert_msg (g_spawn_check_wait_status (status, NULL),
      "AFFECT_CPU_SIMD=%s: the dump failed (%d): %s", r->knob, status, err);
  ck_assert (g_file_get_contents (path, &data, &len, NULL));
  r->dump = g_bytes_new_take (data, len);
  r->level = g_strstrip (g_strdup (out));
  g_print ("AFFECT_CPU_SIMD=%s: %s kernels, %" G_GSIZE_FORMAT " bytes\n",
      r->knob, r->level, len);
  g_unlink (path);
  g_rmdir (dir);
  g_free (out);
  g_free (err);
  g_strfreev (env);
  g_free (path);
  g_free (dir);
}

/* Compares two dumps record by record (@with_fma: the records of the FMA
 * kernels too); returns the number of records compared. */
static int
compare (const Run *a, const Run *b, gboolean with_fma)
{
  gsize la, lb, oa = 0;
  const guint8 *da = g_bytes_get_data (a->dump, &la);
  const guint8 *db = g_bytes_get_data (b->dump, &lb);
  int n_records = 0;

  ck_assert_uint_eq (la, lb);
  while (oa < la) {
    const char *name = (const char *)da + oa;
    gint32 fma;
    guint64 n;
    const float *fa, *fb;

    ck_assert (oa + 44 <= la);
    memcpy (&fma, da + oa + 32, 4);
    memcpy (&n, da + oa + 36, 8);
    ck_assert (oa + 44 + n * 4 <= la);
    ck_assert (memcmp (da + oa, db + oa, 44) == 0);
    fa = (const float *)(da + oa + 44);
    fb = (const float *)(db + oa + 44);
    if (!fma || with_fma) {
      for (guint64 i = 0; i < n; i++) {
        guint32 ba, bb;
        memcpy (&ba, fa + i, 4);
        memcpy (&bb, fb + i, 4);
        ck_assert_msg (ba == bb,
            "%s: element %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
            " is %.9g with %s kernels, %.9g with %s kernels",
            name, i, n, fa[i], a->level, fb[i], b->level);
      }
      n_records++;
    }
    oa += 44 + n * 4;
  }
  return n_records;
}

static void
run_clear (Run *r)
{
  g_free (r->level);
  g_bytes_unref (r->dump);
}

START_TEST (test_levels_same_bits)
{
  Run runs[] = { { "generic" }, { "avx2" }, { "avx512" } };
  int n;

  for (gsize i = 0; i < G_N_ELEMENTS (runs); i++)
    run_level (&runs[i]);
  /* The knob is obeyed: generic is always possible. */
  ck_assert_str_eq (runs[0].level, "generic");

  n = compare (&runs[0], &runs[1], FALSE);
  ck_assert_int_gt (n, 20);
  if (strcmp (runs[1].level, "AVX2") != 0)
    g_print ("no AVX2 on this CPU: generic against AVX2 not compared\n");
  else
    g_print ("generic = AVX2: %d records without FMA, bit for bit\n", n);

  n = compare (&runs[1], &runs[2], TRUE);
  ck_assert_int_gt (n, 20);
  if (strcmp (runs[2].level, "AVX-512") != 0)
    g_print ("no AVX-512 on this CPU: AVX2 against AVX-512 not compared\n");
  else
    g_print ("AVX2 = AVX-512: %d records, bit for bit\n", n);

  for (gsize i = 0; i < G_N_ELEMENTS (runs); i++)
    run_clear (&runs[i]);
}
END_TEST

static Suite *
simd_suite (void)
{
  Suite *s = suite_create ("simd");
  TCase *tc = tcase_create ("levels");

  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_levels_same_bits);
  suite_add_tcase (s, tc);
  return s;
}

int
main (int argc, char **argv)
{
  SRunner *sr;
  int failed;

  if (argc == 3 && strcmp (argv[1], "--dump") == 0)
    return dump_main (argv[2]);
  self_path = g_canonicalize_filename (argv[0], NULL);
  sr = srunner_create (simd_suite ());
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  g_free (self_path);
  return failed == 0 ? 0 : 1;
}
