/* gst-affect — tests/models
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The fusion network (models/fusion/affect-fusion.c) against the PyTorch module
 * (tests/golden/fusion, made by make-golden.py: random weights and inputs,
 * absent branches included), load-time validation of model files, the
 * affect-fuse command end to end, and the ABAW metrics
 * (models/fusion/affect-metrics.c) against scikit-learn.
 *
 * Usage: test-models-fusion [PATH-TO-affect-fuse]
 * (the affect-fuse tests are skipped when no path is given).
 */

#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "affect-backend.h"
#include "affect-fusion.h"
#include "affect-metrics.h"
#include "affect-safetensors.h"
#include "test-tools.h"

#define PARITY_TOL 1e-4

static const gchar *affect_fuse_path = NULL;
static const gchar *const configs[] = { "all", "subset", "h32", "clip8" };

/* ---- helpers ---------------------------------------------------------- */

static gchar *
golden_file (const gchar *kind, const gchar *config)
{
  gchar *name = g_strdup_printf ("%s-%s.safetensors", kind, config);
  gchar *path = affect_test_golden_path ("fusion", name);
  g_free (name);
  return path;
}

/* Whole F32 tensor (any shape) or NULL when absent. */
static float *
read_any (AffectStFile *f, const gchar *name, const AffectStTensor **out)
{
  const AffectStTensor *t = affect_st_find (f, name);
  float *p;

  if (out)
    *out = t;
  if (!t)
    return NULL;
  ck_assert_int_eq (t->dtype, AFFECT_DTYPE_F32);
  p = g_new (float, MAX (t->n_elements, 1));
  memcpy (p, t->data, t->n_bytes);
  return p;
}

typedef struct {
  int n, t;
  float *img, *x[3];
  guint8 *present;
} Inputs;

static void
inputs_load (Inputs *in, const gchar *config)
{
  gchar *path = golden_file ("inputs", config);
  GError *err = NULL;
  AffectStFile *f = affect_st_open (path, &err);
  const AffectStTensor *t;
  float *pf;
  const gchar *names[3] = { "exp", "spe", "wrd" };

  ck_assert_msg (f != NULL, "%s", err ? err->message : "");
  in->img = read_any (f, "img", &t);
  ck_assert (in->img != NULL);
  in->n = (int)t->shape[0];
  in->t = -1;
  for (int m = 0; m < 3; m++) {
    in->x[m] = read_any (f, names[m], &t);
    if (t)
      in->t = (int)t->shape[1];
  }
  pf = read_any (f, "present", &t);
  ck_assert (pf != NULL);
  ck_assert_int_eq (t->shape[0], in->n);
  in->present = g_new (guint8, in->n * 3);
  for (int i = 0; i < in->n * 3; i++)
    in->present[i] = pf[i] != 0.0f;
  g_free (pf);
  affect_st_close (f);
  g_free (path);
}

static void
inputs_clear (Inputs *in)
{
  g_free (in->img);
  for (int m = 0; m < 3; m++)
    g_free (in->x[m]);
  g_free (in->present);
}

static double
max_abs_diff (const float *a, const float *b, gsize n)
{
  double d = 0.0;
  for (gsize i = 0; i < n; i++) {
    double e = fabs ((double)a[i] - (double)b[i]);
    if (isnan (e))
      return INFINITY;
    d = MAX (d, e);
  }
  return d;
}

/* Compares @out[k] with the golden outputs of @config; returns the largest
 * difference over all heads. */
static double
compare_outputs (
    const gchar *config, const AffectFusionInfo *info, float **out, int n)
{
  gchar *path = golden_file ("outputs", config);
  GError *err = NULL;
  AffectStFile *f = affect_st_open (path, &err);
  double worst = 0.0;

  ck_assert_msg (f != NULL, "%s", err ? err->message : "");
  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
    const AffectStTensor *t;
    float *ref = read_any (f, affect_fusion_task_name (k), &t);
    ck_assert_msg ((ref != NULL) == info->has_task[k],
        "%s: head '%s' presence differs", config, affect_fusion_task_name (k));
    if (!ref)
      continue;
    ck_assert_int_eq (t->shape[0], n);
    ck_assert_int_eq (t->shape[1], info->n_out[k]);
    worst = MAX (worst, max_abs_diff (out[k], ref, (gsize)n * info->n_out[k]));
    g_free (ref);
  }
  affect_st_close (f);
  g_free (path);
  return worst;
}

/* ---- parity ----------------------------------------------------------- */

START_TEST (test_parity)
{
  const gchar *config = configs[_i];
  gchar *path = golden_file ("model", config);
  GError *err = NULL;
  AffectFusion *fusion = affect_fusion_load (path, &err);
  const AffectFusionInfo *info;
  float *out[AFFECT_FUSION_N_TASKS] = { NULL, NULL, NULL };
  Inputs in;
  double d;

  ck_assert_msg (fusion != NULL, "%s", err ? err->message : "");
  info = affect_fusion_get_info (fusion);
  ck_assert_str_eq (info->features, "golden-test-features");
  inputs_load (&in, config);
  ck_assert_int_eq (in.t, info->clip_len);

  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++)
    if (info->has_task[k])
      out[k] = g_new (float, in.n * info->n_out[k]);
  ck_assert_msg (
      affect_fusion_run (fusion, in.n, in.t, in.img, in.x[0], in.x[1], in.x[2],
          in.present, out[0], out[1], out[2], &err),
      "%s", err ? err->message : "");
  d = compare_outputs (config, info, out, in.n);
  g_print ("parity %s: max |C - PyTorch| = %.3g\n", config, d);
  ck_assert_msg (d <= PARITY_TOL, "%s: C vs PyTorch max |d| = %g > %g", config,
      d, PARITY_TOL);

  /* Batching: each clip on its own gives the same result. */
  for (int i = 0; i < in.n; i++) {
    float one[AFFECT_FUSION_N_TASKS][64];
    const float *xi[3];
    for (int m = 0; m < 3; m++)
      xi[m] = in.x[m] ? in.x[m] + (gsize)i * in.t * info->d_branch[m] : NULL;
    ck_assert (affect_fusion_run (fusion, 1, in.t,
        in.img + (gsize)i * info->d_img, xi[0], xi[1], xi[2],
        in.present + i * 3, one[0], one[1], one[2], NULL));
    for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
      if (!info->has_task[k])
        continue;
      ck_assert_msg (
          max_abs_diff (one[k], out[k] + i * info->n_out[k], info->n_out[k])
              <= 1e-6,
          "%s: clip %d alone differs from the batch", config, i);
    }
  }

  /* Threads: 2 and 3 workers give the same results as one. */
  for (int nt = 2; nt <= 3; nt++) {
    float *mt[AFFECT_FUSION_N_TASKS] = { NULL, NULL, NULL };

    affect_fusion_set_n_threads (fusion, nt);
    ck_assert_int_eq (affect_fusion_get_n_threads (fusion), nt);
    for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++)
      if (info->has_task[k])
        mt[k] = g_new (float, in.n * info->n_out[k]);
    ck_assert (affect_fusion_run (fusion, in.n, in.t, in.img, in.x[0], in.x[1],
        in.x[2], in.present, mt[0], mt[1], mt[2], NULL));
    for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
      if (!info->has_task[k])
        continue;
      ck_assert_msg (
          max_abs_diff (mt[k], out[k], in.n * info->n_out[k]) <= 1e-6,
          "%s: %d threads differ from one", config, nt);
      g_free (mt[k]);
    }
  }
  affect_fusion_set_n_threads (fusion, 1);

  /* Probabilities and ranges. */
  for (int i = 0; info->has_task[AFFECT_FUSION_TASK_EXPR] && i < in.n; i++) {
    double s = 0.0;
    for (int j = 0; j < info->n_out[AFFECT_FUSION_TASK_EXPR]; j++)
      s += out[1][i * info->n_out[1] + j];
    ck_assert (fabs (s - 1.0) < 1e-5);
  }

  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++)
    g_free (out[k]);
  inputs_clear (&in);
  affect_fusion_free (fusion);
  g_free (path);
}

END_TEST

START_TEST (test_info)
{
  gchar *path = golden_file ("model", "all");
  AffectFusion *fusion = affect_fusion_load (path, NULL);
  const AffectFusionInfo *info;

  ck_assert (fusion != NULL);
  info = affect_fusion_get_info (fusion);
  ck_assert_int_eq (info->clip_len, 6);
  ck_assert_int_eq (info->hidden, 16);
  ck_assert_int_eq (info->heads, 2);
  ck_assert_int_eq (info->mlp_hidden, 12);
  ck_assert_int_eq (info->d_img, 10);
  ck_assert_int_eq (info->d_branch[0], 7);
  ck_assert_int_eq (info->d_branch[1], 5);
  ck_assert_int_eq (info->d_branch[2], 9);
  ck_assert (info->has_task[0] && info->has_task[1] && info->has_task[2]);
  ck_assert_int_eq (info->n_out[0], 12);
  ck_assert_int_eq (info->n_out[1], 8);
  ck_assert_int_eq (info->n_out[2], 2);
  ck_assert_int_eq (g_strv_length (info->au_labels), 12);
  ck_assert_str_eq (info->au_labels[0], "AU1");
  ck_assert_str_eq (info->au_labels[11], "AU26");
  ck_assert_str_eq (info->expr_labels[7], "Other");
  affect_fusion_free (fusion);
  g_free (path);

  path = golden_file ("model", "subset");
  fusion = affect_fusion_load (path, NULL);
  ck_assert (fusion != NULL);
  info = affect_fusion_get_info (fusion);
  ck_assert (!info->has_task[0] && info->has_task[1] && info->has_task[2]);
  ck_assert_int_eq (info->n_out[1], 7);
  ck_assert_int_eq (g_strv_length (info->au_labels), 0);
  ck_assert_int_eq (g_strv_length (info->expr_labels), 7);
  affect_fusion_free (fusion);
  g_free (path);
}

END_TEST

START_TEST (test_run_errors)
{
  gchar *path = golden_file ("model", "all");
  AffectFusion *fusion = affect_fusion_load (path, NULL);
  const AffectFusionInfo *info = affect_fusion_get_info (fusion);
  float img[10] = { 0 }, au[12], expr[8], va[2];
  float *x = g_new0 (float, 6 * 9);
  guint8 present[3] = { 1, 0, 0 };
  GError *err = NULL;

  ck_assert_int_eq (info->d_img, 10);
  /* exp present but no exp features */
  ck_assert (!affect_fusion_run (
      fusion, 1, 6, img, NULL, NULL, NULL, present, au, expr, va, &err));
  ck_assert (
      g_error_matches (err, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_INPUT));
  ck_assert_msg (strstr (err->message, "exp") != NULL, "%s", err->message);
  g_clear_error (&err);
  /* no output buffer for a head */
  ck_assert (!affect_fusion_run (
      fusion, 1, 6, img, x, NULL, NULL, present, au, NULL, va, &err));
  ck_assert_msg (strstr (err->message, "expr") != NULL, "%s", err->message);
  g_clear_error (&err);
  ck_assert (!affect_fusion_run (
      fusion, 1, 0, img, x, NULL, NULL, present, au, expr, va, &err));
  g_clear_error (&err);
  /* nothing to do */
  ck_assert (affect_fusion_run (
      fusion, 0, 6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, &err));
  /* all absent: the outputs come from img and the missing vectors only,
   * whatever the branch arrays hold */
  present[0] = 0;
  ck_assert (affect_fusion_run (
      fusion, 1, 6, img, NULL, NULL, NULL, present, au, expr, va, &err));
  {
    float au2[12], expr2[8], va2[2];
    for (int i = 0; i < 6 * 9; i++)
      x[i] = 1e3f;
    ck_assert (affect_fusion_run (
        fusion, 1, 6, img, x, x, x, present, au2, expr2, va2, NULL));
    ck_assert (memcmp (au, au2, sizeof au) == 0);
    ck_assert (memcmp (expr, expr2, sizeof expr) == 0);
    ck_assert (memcmp (va, va2, sizeof va) == 0);
  }
  ck_assert (!affect_fusion_check_features (fusion, "something-else", &err));
  ck_assert (
      g_error_matches (err, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_FEATURES));
  ck_assert (strstr (err->message, "golden-test-features") != NULL);
  ck_assert (strstr (err->message, "something-else") != NULL);
  g_clear_error (&err);
  ck_assert (
      affect_fusion_check_features (fusion, "golden-test-features", NULL));
  g_free (x);
  affect_fusion_free (fusion);
  g_free (path);
}

END_TEST

/* ---- bad model files --------------------------------------------------- */

typedef struct {
  const gchar *drop_tensor;
  const gchar *grow_tensor; /* last dimension + 1 */
  const gchar *f16_tensor;  /* stored as F16 */
  const gchar *extra_tensor;
  const gchar *meta_key;
  const gchar *meta_value; /* NULL: drop the key */
  int code;
  const gchar *expect[3]; /* substrings of the message */
  const gchar *meta_key2; /* a second metadata change (not dropped) */
  const gchar *meta_value2;
} Variant;

static const Variant variants[] = {
  { "attn_spe.in_proj_bias", NULL, NULL, NULL, NULL, NULL,
      AFFECT_FUSION_ERROR_TENSOR, { "attn_spe.in_proj_bias", "no tensor" } },
  { "head_va.2.bias", NULL, NULL, NULL, NULL, NULL, AFFECT_FUSION_ERROR_TENSOR,
      { "head_va.2.bias", NULL } },
  { "missing_wrd", NULL, NULL, NULL, NULL, NULL, AFFECT_FUSION_ERROR_TENSOR,
      { "missing_wrd", NULL } },
  { NULL, "gru_exp.weight_hh_l0", NULL, NULL, NULL, NULL,
      AFFECT_FUSION_ERROR_TENSOR, { "gru_exp.weight_hh_l0", "[48, 17]" } },
  { NULL, "gru_wrd.weight_ih_l0", NULL, NULL, NULL, NULL,
      AFFECT_FUSION_ERROR_TENSOR, { "gru_wrd.weight_ih_l0", "[48, 9]" } },
  { NULL, "head_expr.0.weight", NULL, NULL, NULL, NULL,
      AFFECT_FUSION_ERROR_TENSOR, { "head_expr.0.weight", NULL } },
  { NULL, NULL, "norm2_spe.bias", NULL, NULL, NULL, AFFECT_FUSION_ERROR_TENSOR,
      { "norm2_spe.bias", "F32" } },
  { NULL, NULL, NULL, "head_extra.0.weight", NULL, NULL,
      AFFECT_FUSION_ERROR_TENSOR, { "unexpected", "head_extra.0.weight" } },
  { NULL, NULL, NULL, NULL, "hidden", NULL, AFFECT_FUSION_ERROR_METADATA,
      { "'hidden'", "missing" } },
  { NULL, NULL, NULL, NULL, "features", NULL, AFFECT_FUSION_ERROR_METADATA,
      { "'features'", "missing" } },
  { NULL, NULL, NULL, NULL, "format", "something", AFFECT_FUSION_ERROR_METADATA,
      { "'format'", "gst-affect-fusion" } },
  { NULL, NULL, NULL, NULL, "version", "2", AFFECT_FUSION_ERROR_METADATA,
      { "'version'", NULL } },
  { NULL, NULL, NULL, NULL, "heads", "two", AFFECT_FUSION_ERROR_METADATA,
      { "'heads'", "two" } },
  { NULL, NULL, NULL, NULL, "heads", "3", AFFECT_FUSION_ERROR_METADATA,
      { "multiple", "'heads'" } },
  { NULL, NULL, NULL, NULL, "d_spe", "0", AFFECT_FUSION_ERROR_METADATA,
      { "'d_spe'", NULL } },
  { NULL, NULL, NULL, NULL, "d_spe", "6", AFFECT_FUSION_ERROR_TENSOR,
      { "gru_spe.weight_ih_l0", NULL } },
  { NULL, NULL, NULL, NULL, "tasks", "au,expr,foo",
      AFFECT_FUSION_ERROR_METADATA, { "'foo'", NULL } },
  { NULL, NULL, NULL, NULL, "tasks", "au,au", AFFECT_FUSION_ERROR_METADATA,
      { "twice", NULL } },
  { NULL, NULL, NULL, NULL, "tasks", "", AFFECT_FUSION_ERROR_METADATA,
      { "'tasks'", NULL } },
  { NULL, NULL, NULL, NULL, "tasks", "au,expr", AFFECT_FUSION_ERROR_TENSOR,
      { "unexpected", "head_va" } },
  { NULL, NULL, NULL, NULL, "expr_labels", "a,b,c,d,e,f,g",
      AFFECT_FUSION_ERROR_TENSOR, { "head_expr.2.weight", "expected 7" } },
  { NULL, NULL, NULL, NULL, "expr_labels", "a,,c,d,e,f,g,h",
      AFFECT_FUSION_ERROR_METADATA, { "'expr_labels'", "empty" } },
  { NULL, NULL, NULL, NULL, "au_labels", "AU1,AU2",
      AFFECT_FUSION_ERROR_METADATA, { "'au_labels'", "12" } },
  { NULL, NULL, NULL, NULL, "au_labels", NULL, AFFECT_FUSION_ERROR_METADATA,
      { "'au_labels'", NULL } },
  /* Sizes above their limits (issue 14: clip_len 1048576 was accepted and
   * a short clip did not finish in 120 s): the key, the value, the limit. */
  { NULL, NULL, NULL, NULL, "clip_len", "1048576", AFFECT_FUSION_ERROR_METADATA,
      { "'clip_len' is 1048576", "limit of 1024", "MAX_CLIP_LEN" } },
  { NULL, NULL, NULL, NULL, "clip_len", "1025", AFFECT_FUSION_ERROR_METADATA,
      { "'clip_len' is 1025", "limit of 1024", NULL } },
  { NULL, NULL, NULL, NULL, "hidden", "4097", AFFECT_FUSION_ERROR_METADATA,
      { "'hidden' is 4097", "limit of 4096", "MAX_HIDDEN" } },
  { NULL, NULL, NULL, NULL, "heads", "257", AFFECT_FUSION_ERROR_METADATA,
      { "'heads' is 257", "limit of 256", "MAX_HEADS" } },
  { NULL, NULL, NULL, NULL, "mlp_hidden", "16385", AFFECT_FUSION_ERROR_METADATA,
      { "'mlp_hidden' is 16385", "limit of 16384", "MAX_MLP_HIDDEN" } },
  { NULL, NULL, NULL, NULL, "d_img", "16385", AFFECT_FUSION_ERROR_METADATA,
      { "'d_img' is 16385", "limit of 16384", "MAX_FEATURE_DIM" } },
  { NULL, NULL, NULL, NULL, "d_exp", "1000000", AFFECT_FUSION_ERROR_METADATA,
      { "'d_exp' is 1000000", "limit of 16384", NULL } },
  { NULL, NULL, NULL, NULL, "d_spe", "99999999999999999999",
      AFFECT_FUSION_ERROR_METADATA,
      { "'d_spe' is '99999999999999999999'", "integer in 1..16384", NULL } },
  { NULL, NULL, NULL, NULL, "d_wrd", "2147483648", AFFECT_FUSION_ERROR_METADATA,
      { "'d_wrd' is 2147483648", "limit of 16384", NULL } },
  /* Within the per-key limits, but one track's window would hold
   * 1024 x (10 + 7 + 5 + 4096) = 4216832 values, above 2^22. */
  { NULL, NULL, NULL, NULL, "d_wrd", "4096", AFFECT_FUSION_ERROR_METADATA,
      { "'clip_len' (1024)", "4216832", "MAX_WINDOW" }, "clip_len", "1024" },
  { NULL, NULL, NULL, NULL, "clip_len", "-3", AFFECT_FUSION_ERROR_METADATA,
      { "'clip_len' is '-3'", "integer in 1..1024", NULL } },
  { NULL, NULL, NULL, NULL, "clip_len", " 6", AFFECT_FUSION_ERROR_METADATA,
      { "'clip_len' is ' 6'", NULL } },
  { NULL, NULL, NULL, NULL, "clip_len", "6x", AFFECT_FUSION_ERROR_METADATA,
      { "'clip_len' is '6x'", NULL } },
};

/* The "all" model with one change, as an in-memory file. */
static AffectStFile *
make_variant (const Variant *v)
{
  gchar *path = golden_file ("model", "all");
  AffectStFile *src = affect_st_open (path, NULL);
  AffectStWriter *w = affect_st_writer_new ();
  const gchar **keys;
  gboolean key_seen = FALSE;
  GBytes *bytes;
  AffectStFile *out;
  gsize size;
  const guint8 *data;

  ck_assert (src != NULL);
  for (guint i = 0; i < affect_st_get_n_tensors (src); i++) {
    const AffectStTensor *t = affect_st_get_tensor_by_index (src, i);
    int64_t shape[AFFECT_ST_MAX_DIMS];
    memcpy (shape, t->shape, sizeof shape);
    if (v->drop_tensor && strcmp (t->name, v->drop_tensor) == 0)
      continue;
    if (v->grow_tensor && strcmp (t->name, v->grow_tensor) == 0) {
      gsize n = t->n_elements / shape[t->n_dims - 1];
      float *p = g_new0 (float, n *(shape[t->n_dims - 1] + 1));
      shape[t->n_dims - 1]++;
      ck_assert (affect_st_writer_add (w, t->name, AFFECT_DTYPE_F32, t->n_dims,
          shape, p, n * shape[t->n_dims - 1] * 4, NULL));
      g_free (p);
    } else if (v->f16_tensor && strcmp (t->name, v->f16_tensor) == 0) {
      guint16 *p = g_new0 (guint16, t->n_elements);
      ck_assert (affect_st_writer_add (w, t->name, AFFECT_DTYPE_F16, t->n_dims,
          shape, p, t->n_elements * 2, NULL));
      g_free (p);
    } else {
      ck_assert (affect_st_writer_add (
          w, t->name, t->dtype, t->n_dims, shape, t->data, t->n_bytes, NULL));
    }
  }
  if (v->extra_tensor) {
    int64_t shape[1] = { 4 };
    float p[4] = { 0 };
    ck_assert (affect_st_writer_add (
        w, v->extra_tensor, AFFECT_DTYPE_F32, 1, shape, p, sizeof p, NULL));
  }
  keys = affect_st_get_metadata_keys (src);
  for (guint i = 0; keys[i]; i++) {
    if (v->meta_key2 && strcmp (keys[i], v->meta_key2) == 0) {
      affect_st_writer_add_metadata (w, keys[i], v->meta_value2);
      continue;
    }
    if (v->meta_key && strcmp (keys[i], v->meta_key) == 0) {
      key_seen = TRUE;
      if (v->meta_value)
        affect_st_writer_add_metadata (w, keys[i], v->meta_value);
      continue;
    }
    affect_st_writer_add_metadata (
        w, keys[i], affect_st_get_metadata (src, keys[i]));
  }
  g_free (keys);
  ck_assert (v->meta_key == NULL || key_seen);
  bytes = affect_st_writer_serialize (w);
  data = g_bytes_get_data (bytes, &size);
  out = affect_st_open_bytes (data, size, "variant.safetensors", NULL);
  ck_assert (out != NULL);
  g_bytes_unref (bytes);
  affect_st_writer_free (w);
  affect_st_close (src);
  g_free (path);
  return out;
}

START_TEST (test_bad_models)
{
  const Variant *v = &variants[_i];
  AffectStFile *f = make_variant (v);
  GError *err = NULL;
  AffectFusion *fusion = affect_fusion_load_file (f, &err);

  ck_assert_msg (fusion == NULL, "variant %d loaded", _i);
  ck_assert (err != NULL);
  g_print ("bad model %d: %s\n", _i, err->message);
  ck_assert_msg (err->domain == AFFECT_FUSION_ERROR && err->code == v->code,
      "variant %d: error %d (%s)", _i, err->code, err->message);
  ck_assert_msg (strstr (err->message, "variant.safetensors") != NULL,
      "variant %d: the message does not name the file: %s", _i, err->message);
  for (int j = 0; j < 3; j++)
    if (v->expect[j])
      ck_assert_msg (strstr (err->message, v->expect[j]) != NULL,
          "variant %d: '%s' not in: %s", _i, v->expect[j], err->message);
  g_error_free (err);
  affect_st_close (f);
}

END_TEST

START_TEST (test_unchanged_variant_loads)
{
  Variant none = { NULL };
  AffectStFile *f = make_variant (&none);
  GError *err = NULL;
  AffectFusion *fusion = affect_fusion_load_file (f, &err);

  ck_assert_msg (fusion != NULL, "%s", err ? err->message : "");
  affect_fusion_free (fusion);
  affect_st_close (f);
  /* The limits are inclusive: a 1024-frame clip loads (clip_len is not
   * tied to a tensor shape), and so does a window of exactly 2^22 values
   * (1024 x (10 + 7 + 5 + 4074)). */
  {
    static const Variant at_limit[] = {
      { .meta_key = "clip_len", .meta_value = "1024" },
      { .meta_key = "clip_len",
          .meta_value = "1024",
          .meta_key2 = "d_wrd",
          .meta_value2 = "4074" },
    };
    for (guint i = 0; i < G_N_ELEMENTS (at_limit); i++) {
      f = make_variant (&at_limit[i]);
      fusion = affect_fusion_load_file (f, &err);
      if (i == 0) {
        ck_assert_msg (fusion != NULL, "%s", err ? err->message : "");
        ck_assert_int_eq (affect_fusion_get_info (fusion)->clip_len,
            AFFECT_FUSION_MAX_CLIP_LEN);
      } else {
        /* The sizes pass; the GRU weights of the file are [48, 9]. */
        ck_assert (fusion == NULL);
        ck_assert_int_eq (err->code, AFFECT_FUSION_ERROR_TENSOR);
        ck_assert_msg (
            strstr (err->message, "gru_wrd.weight_ih_l0"), "%s", err->message);
        g_clear_error (&err);
      }
      affect_fusion_free (fusion);
      affect_st_close (f);
    }
  }
  ck_assert (
      affect_fusion_load ("/nonexistent/model.safetensors", &err) == NULL);
  ck_assert (strstr (err->message, "/nonexistent/model.safetensors") != NULL);
  g_clear_error (&err);
}

END_TEST

/* ---- affect-fuse ------------------------------------------------------ */

START_TEST (test_tool)
{
  const gchar *config = configs[_i];
  gchar *dir, *out, *model, *inputs, *stderr_text = NULL;
  AffectStFile *f;
  AffectFusion *fusion;
  float *res[AFFECT_FUSION_N_TASKS] = { NULL, NULL, NULL };
  double d;
  int n;

  if (!affect_fuse_path) {
    g_print ("affect-fuse path not given: skipping the command test\n");
    return;
  }
  dir = g_dir_make_tmp ("affect-fuse-XXXXXX", NULL);
  ck_assert (dir != NULL);
  out = g_build_filename (dir, "out.safetensors", NULL);
  model = golden_file ("model", config);
  inputs = golden_file ("inputs", config);
  {
    const gchar *args[] = { model, inputs, "-o", out, NULL };
    int rc = affect_test_run_tool (affect_fuse_path, args, NULL, &stderr_text);
    ck_assert_msg (rc == 0, "affect-fuse failed: %s", stderr_text);
    g_free (stderr_text);
  }
  fusion = affect_fusion_load (model, NULL);
  f = affect_st_open (out, NULL);
  ck_assert (f != NULL);
  n = -1;
  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
    const AffectStTensor *t;
    res[k] = read_any (f, affect_fusion_task_name (k), &t);
    if (t)
      n = (int)t->shape[0];
  }
  d = compare_outputs (config, affect_fusion_get_info (fusion), res, n);
  ck_assert_msg (
      d <= PARITY_TOL, "%s: affect-fuse vs PyTorch max |d| = %g", config, d);
  if (affect_fusion_get_info (fusion)->has_task[AFFECT_FUSION_TASK_AU])
    ck_assert_str_eq (affect_st_get_metadata (f, "au_labels"),
        "AU1,AU2,AU4,AU6,AU7,AU10,AU12,AU15,AU23,AU24,AU25,AU26");
  affect_st_close (f);
  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++)
    g_free (res[k]);

  /* Features that do not match the model. */
  {
    const gchar *args[]
        = { "--features", "other-extractors", model, inputs, "-o", out, NULL };
    ck_assert_int_eq (
        affect_test_run_tool (affect_fuse_path, args, NULL, &stderr_text), 1);
    ck_assert_msg (
        strstr (stderr_text, "other-extractors") != NULL, "%s", stderr_text);
    g_free (stderr_text);
  }
  /* Inputs of another config do not fit the model. */
  {
    gchar *other = golden_file ("inputs", _i == 0 ? "h32" : "all");
    const gchar *args[] = { "--features", "golden-test-features", model, other,
      "-o", out, NULL };
    ck_assert_int_eq (
        affect_test_run_tool (affect_fuse_path, args, NULL, &stderr_text), 1);
    ck_assert_msg (strstr (stderr_text, "expected") != NULL, "%s", stderr_text);
    g_free (stderr_text);
    g_free (other);
  }
  /* A model file that is not a fusion model. */
  {
    const gchar *args[] = { inputs, inputs, "-o", out, NULL };
    ck_assert_int_eq (
        affect_test_run_tool (affect_fuse_path, args, NULL, &stderr_text), 1);
    ck_assert_msg (strstr (stderr_text, "'format'") != NULL, "%s", stderr_text);
    g_free (stderr_text);
  }

  affect_fusion_free (fusion);
  g_unlink (out);
  g_rmdir (dir);
  g_free (dir);
  g_free (out);
  g_free (model);
  g_free (inputs);
}

END_TEST

/* ---- the caller's backend --------------------------------------------- */

/* Runs the golden inputs of @config through @fusion; the outputs per task
 * (g_free each). */
static void
run_golden (AffectFusion *fusion, const Inputs *in, float **out)
{
  const AffectFusionInfo *info = affect_fusion_get_info (fusion);
  GError *err = NULL;

  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++)
    out[k] = info->has_task[k] ? g_new (float, in->n * info->n_out[k]) : NULL;
  ck_assert_msg (
      affect_fusion_run (fusion, in->n, in->t, in->img, in->x[0], in->x[1],
          in->x[2], in->present, out[0], out[1], out[2], &err),
      "%s", err ? err->message : "");
}

/* A model loaded onto a backend the caller made runs on that backend (the
 * model keeps a reference; its thread count is the backend's) and gives
 * the same bits as a model on a backend of its own, within the golden
 * bounds; two models can share one backend. */
START_TEST (test_caller_backend)
{
  const gchar *config = configs[_i];
  gchar *path = golden_file ("model", config);
  gchar *other_path = golden_file ("model", _i == 0 ? "h32" : "all");
  AffectBackend *be = affect_backend_new ("cpu", 3, NULL);
  AffectFusion *own = affect_fusion_load (path, NULL);
  GError *err = NULL;
  AffectFusion *shared = affect_fusion_new (be, path, &err);
  AffectFusion *other;
  const AffectFusionInfo *info;
  float *ref[AFFECT_FUSION_N_TASKS], *out[AFFECT_FUSION_N_TASKS];
  Inputs in;

  ck_assert (be != NULL);
  ck_assert (own != NULL);
  ck_assert_msg (shared != NULL, "%s", err ? err->message : "");
  ck_assert_str_eq (
      affect_backend_get_name (affect_fusion_get_backend (own)), "cpu");
  ck_assert (affect_fusion_get_backend (own) != be);
  ck_assert_int_eq (affect_fusion_get_n_threads (own), 1);
  ck_assert (affect_fusion_get_backend (shared) == be);
  ck_assert_int_eq (affect_fusion_get_n_threads (shared), 3);
  other = affect_fusion_new (be, other_path, NULL);
  ck_assert (other != NULL);
  ck_assert (affect_fusion_get_backend (other) == be);
  /* the models hold their references */
  affect_backend_unref (be);

  info = affect_fusion_get_info (shared);
  inputs_load (&in, config);
  run_golden (own, &in, ref);
  run_golden (shared, &in, out);
  ck_assert_msg (compare_outputs (config, info, out, in.n) <= PARITY_TOL,
      "%s: on the caller's backend vs PyTorch beyond %g", config, PARITY_TOL);
  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
    if (info->has_task[k])
      ck_assert_msg (
          memcmp (ref[k], out[k], sizeof (float) * in.n * info->n_out[k]) == 0,
          "%s: head %s differs from the model's own backend", config,
          affect_fusion_task_name (k));
    g_free (out[k]);
  }
  /* The thread count set through one model is the shared backend's. */
  affect_fusion_set_n_threads (other, 2);
  ck_assert_int_eq (affect_fusion_get_n_threads (shared), 2);
  run_golden (shared, &in, out);
  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
    if (info->has_task[k])
      ck_assert (
          memcmp (ref[k], out[k], sizeof (float) * in.n * info->n_out[k]) == 0);
    g_free (out[k]);
    g_free (ref[k]);
  }

  inputs_clear (&in);
  affect_fusion_free (other);
  affect_fusion_free (shared);
  affect_fusion_free (own);
  g_free (other_path);
  g_free (path);
}

END_TEST

static gboolean
no_gru_supports_op (AffectBackend *be, AffectOp op)
{
  return op != AFFECT_OP_GRU;
}

/* A backend without an op the network needs is refused at load, naming the
 * backend and the op, before any layer is made on it. */
START_TEST (test_backend_lacks_op)
{
  static const AffectBackendOps ops = {
    .name = "no-gru", .host_memory = TRUE, .supports_op = no_gru_supports_op
  };
  AffectBackend *be = affect_backend_new_internal (&ops, 1, NULL);
  gchar *path = golden_file ("model", "all");
  GError *err = NULL;

  ck_assert (affect_fusion_new (be, path, &err) == NULL);
  ck_assert (err != NULL);
  ck_assert (
      g_error_matches (err, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_BACKEND));
  ck_assert_msg (strstr (err->message, "'no-gru'") != NULL
                     && strstr (err->message, "GRU") != NULL,
      "%s", err->message);
  ck_assert_int_eq (be->ref_count, 1);
  g_clear_error (&err);
  affect_backend_unref (be);
  g_free (path);
}

END_TEST

/* affect-fuse --backend / --threads: the same outputs on any thread count;
 * an unknown backend is an error naming it. */
START_TEST (test_tool_backend)
{
  gchar *dir, *out1, *out3, *model, *inputs, *stderr_text = NULL;
  gchar *a = NULL, *b = NULL;
  gsize na, nb;

  if (!affect_fuse_path) {
    g_print ("affect-fuse path not given: skipping the command test\n");
    return;
  }
  dir = g_dir_make_tmp ("affect-fuse-XXXXXX", NULL);
  ck_assert (dir != NULL);
  out1 = g_build_filename (dir, "out1.safetensors", NULL);
  out3 = g_build_filename (dir, "out3.safetensors", NULL);
  model = golden_file ("model", "all");
  inputs = golden_file ("inputs", "all");
  {
    const gchar *args1[] = { model, inputs, "-o", out1, NULL };
    const gchar *args3[] = { "--backend", "cpu", "--threads", "3", model,
      inputs, "-o", out3, NULL };
    int rc = affect_test_run_tool (affect_fuse_path, args1, NULL, &stderr_text);
    ck_assert_msg (rc == 0, "affect-fuse failed: %s", stderr_text);
    g_free (stderr_text);
    rc = affect_test_run_tool (affect_fuse_path, args3, NULL, &stderr_text);
    ck_assert_msg (rc == 0, "affect-fuse --threads 3 failed: %s", stderr_text);
    g_free (stderr_text);
  }
  ck_assert (g_file_get_contents (out1, &a, &na, NULL));
  ck_assert (g_file_get_contents (out3, &b, &nb, NULL));
  ck_assert_uint_eq (na, nb);
  ck_assert_msg (memcmp (a, b, na) == 0, "--threads 3 changed the outputs");
  {
    const gchar *args[]
        = { "--backend", "nosuchbackend", model, inputs, "-o", out1, NULL };
    ck_assert_int_eq (
        affect_test_run_tool (affect_fuse_path, args, NULL, &stderr_text), 1);
    ck_assert_msg (
        strstr (stderr_text, "nosuchbackend") != NULL, "%s", stderr_text);
    g_free (stderr_text);
  }
  {
    const gchar *args[]
        = { "--threads", "-1", model, inputs, "-o", out1, NULL };
    ck_assert_int_eq (
        affect_test_run_tool (affect_fuse_path, args, NULL, &stderr_text), 2);
    g_free (stderr_text);
  }

  g_free (a);
  g_free (b);
  g_unlink (out1);
  g_unlink (out3);
  g_rmdir (dir);
  g_free (dir);
  g_free (out1);
  g_free (out3);
  g_free (model);
  g_free (inputs);
}

END_TEST

/* ---- non-finite inputs (issue 14) ------------------------------------- */

START_TEST (test_inputs_finite)
{
  gchar *path = golden_file ("model", "all");
  AffectFusion *fusion = affect_fusion_load (path, NULL);
  const AffectFusionInfo *info = affect_fusion_get_info (fusion);
  Inputs in;
  guint8 img_ok[7], br_ok[7 * 3];
  const int d_spe = info->d_branch[AFFECT_FUSION_BRANCH_SPE];

  inputs_load (&in, "all");
  ck_assert_int_eq (in.n, 7);
  /* Clip 0 has every branch, clip 2 has no spe (make-golden.py). */
  ck_assert (in.present[0 * 3 + 1] && !in.present[2 * 3 + 1]);

  memset (img_ok, 9, sizeof img_ok);
  memset (br_ok, 9, sizeof br_ok);
  ck_assert (affect_fusion_inputs_finite (fusion, in.n, in.t, in.img, in.x[0],
      in.x[1], in.x[2], in.present, img_ok, br_ok));
  for (int i = 0; i < 7; i++)
    ck_assert_int_eq (img_ok[i], 1);
  for (int i = 0; i < 21; i++)
    ck_assert_int_eq (br_ok[i], 1);

  /* A NaN where run () does not read (spe of clip 2, absent) is fine. */
  in.x[1][(2 * in.t + 3) * d_spe + 1] = NAN;
  ck_assert (affect_fusion_inputs_finite (fusion, in.n, in.t, in.img, in.x[0],
      in.x[1], in.x[2], in.present, img_ok, br_ok));
  ck_assert_int_eq (br_ok[2 * 3 + 1], 1);
  /* ... unless the caller says every given branch counts. */
  ck_assert (!affect_fusion_inputs_finite (fusion, in.n, in.t, in.img, in.x[0],
      in.x[1], in.x[2], NULL, img_ok, br_ok));
  ck_assert_int_eq (br_ok[2 * 3 + 1], 0);
  ck_assert_int_eq (br_ok[2 * 3 + 0], 1);
  in.x[1][(2 * in.t + 3) * d_spe + 1] = 0.5f;

  /* NaN in spe of clip 0 (present), -Inf in the last frame of wrd of
   * clip 6, +Inf in img of clip 4: exactly those flags drop. */
  in.x[1][(0 * in.t + 2) * d_spe + 3] = NAN;
  in.x[2][(6 * in.t + in.t - 1) * info->d_branch[2] + info->d_branch[2] - 1]
      = -INFINITY;
  in.img[4 * info->d_img] = INFINITY;
  ck_assert (!affect_fusion_inputs_finite (fusion, in.n, in.t, in.img, in.x[0],
      in.x[1], in.x[2], in.present, img_ok, br_ok));
  for (int i = 0; i < 7; i++) {
    ck_assert_int_eq (img_ok[i], i != 4);
    for (int m = 0; m < 3; m++)
      ck_assert_int_eq (
          br_ok[i * 3 + m], !((i == 0 && m == 1) || (i == 6 && m == 2)));
  }
  /* NULL outputs and a NULL branch array are accepted. */
  ck_assert (!affect_fusion_inputs_finite (fusion, in.n, in.t, in.img, in.x[0],
      in.x[1], in.x[2], in.present, NULL, NULL));
  ck_assert (!affect_fusion_inputs_finite (fusion, in.n, in.t, NULL, in.x[0],
      NULL, in.x[2], in.present, img_ok, br_ok));
  ck_assert_int_eq (img_ok[4], 1);
  ck_assert_int_eq (br_ok[0 * 3 + 1], 1);
  ck_assert_int_eq (br_ok[6 * 3 + 2], 0);
  /* One clip of one frame, as a stream checks a frame. */
  ck_assert (affect_fusion_inputs_finite (fusion, 1, 1, in.img, in.x[0],
      in.x[1], in.x[2], in.present, img_ok, br_ok));
  ck_assert (!affect_fusion_inputs_finite (fusion, 1, 1, in.img, in.x[0],
      in.x[1] + 2 * d_spe, in.x[2], in.present, img_ok, br_ok));
  ck_assert_int_eq (br_ok[1], 0);
  /* n = 0: nothing to check. */
  ck_assert (affect_fusion_inputs_finite (
      fusion, 0, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL));

  inputs_clear (&in);
  affect_fusion_free (fusion);
  g_free (path);
}

END_TEST

/* The golden inputs of "all" with element @index of tensor @name set to
 * @value, written to @dir/@file. */
static gchar *
write_inputs_with (const gchar *dir, const gchar *file, const gchar *name,
    gsize index, float value)
{
  gchar *src_path = golden_file ("inputs", "all");
  gchar *out = g_build_filename (dir, file, NULL);
  AffectStFile *src = affect_st_open (src_path, NULL);
  AffectStWriter *w = affect_st_writer_new ();
  const gchar **keys;

  ck_assert (src != NULL);
  for (guint i = 0; i < affect_st_get_n_tensors (src); i++) {
    const AffectStTensor *t = affect_st_get_tensor_by_index (src, i);
    guint8 *copy = g_memdup2 (t->data, t->n_bytes);
    if (strcmp (t->name, name) == 0) {
      ck_assert_int_eq (t->dtype, AFFECT_DTYPE_F32);
      ck_assert_uint_lt (index, t->n_elements);
      memcpy (copy + index * 4, &value, 4);
    }
    ck_assert (affect_st_writer_add (
        w, t->name, t->dtype, t->n_dims, t->shape, copy, t->n_bytes, NULL));
    g_free (copy);
  }
  keys = affect_st_get_metadata_keys (src);
  for (guint i = 0; keys[i]; i++)
    affect_st_writer_add_metadata (
        w, keys[i], affect_st_get_metadata (src, keys[i]));
  g_free (keys);
  ck_assert (affect_st_writer_write (w, out, NULL));
  affect_st_writer_free (w);
  affect_st_close (src);
  g_free (src_path);
  return out;
}

START_TEST (test_tool_nonfinite)
{
  /* affect-fuse fails on NaN / Inf inputs it would read, naming the clip,
   * the tensor, the frame and the feature; a NaN in an absent branch is
   * not read and does not matter. "all": T = 6, d_img 10, d_spe 5, d_wrd 9;
   * clip 0 has every branch, clip 2 has no spe. */
  static const struct {
    const gchar *tensor;
    gsize index;
    float value;
    int rc;
    const gchar *expect[4];
  } cases[] = {
    { "spe", (0 * 6 + 2) * 5 + 3, NAN, 1,
        { "clip 0: branch 'spe'", "nan", "frame 2, feature 3",
            "in.safetensors" } },
    { "img", 4 * 10 + 7, INFINITY, 1,
        { "clip 4: tensor 'img'", "inf", "feature 7", NULL } },
    { "wrd", (6 * 6 + 5) * 9 + 8, -INFINITY, 1,
        { "clip 6: branch 'wrd'", "-inf", "frame 5, feature 8", NULL } },
    { "spe", (2 * 6 + 3) * 5 + 1, NAN, 0, { NULL } },
  };
  gchar *dir, *model, *out;

  if (!affect_fuse_path) {
    g_print ("affect-fuse path not given: skipping the command test\n");
    return;
  }
  dir = g_dir_make_tmp ("affect-fuse-nan-XXXXXX", NULL);
  ck_assert (dir != NULL);
  model = golden_file ("model", "all");
  out = g_build_filename (dir, "out.safetensors", NULL);
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++) {
    gchar *in = write_inputs_with (
        dir, "in.safetensors", cases[c].tensor, cases[c].index, cases[c].value);
    const gchar *args[] = { model, in, "-o", out, NULL };
    gchar *err_text = NULL;
    int rc = affect_test_run_tool (affect_fuse_path, args, NULL, &err_text);

    ck_assert_msg (rc == cases[c].rc, "case %u: rc %d: %s", c, rc, err_text);
    for (int j = 0; j < 4; j++)
      if (cases[c].expect[j])
        ck_assert_msg (strstr (err_text, cases[c].expect[j]) != NULL,
            "case %u: '%s' not in: %s", c, cases[c].expect[j], err_text);
    /* No output file on failure. */
    ck_assert (g_file_test (out, G_FILE_TEST_EXISTS) == (cases[c].rc == 0));
    g_unlink (out);
    g_unlink (in);
    g_free (in);
    g_free (err_text);
  }
  g_rmdir (dir);
  g_free (dir);
  g_free (model);
  g_free (out);
}

END_TEST

/* ---- metrics ---------------------------------------------------------- */

static void
json_ints (JsonObject *o, const gchar *name, int *out, gsize n)
{
  JsonArray *a = json_object_get_array_member (o, name);
  ck_assert_int_eq (json_array_get_length (a), n);
  for (gsize i = 0; i < n; i++)
    out[i] = (int)json_array_get_int_element (a, i);
}

static void
json_floats (JsonObject *o, const gchar *name, float *out, gsize n)
{
  JsonArray *a = json_object_get_array_member (o, name);
  ck_assert_int_eq (json_array_get_length (a), n);
  for (gsize i = 0; i < n; i++)
    out[i] = (float)json_array_get_double_element (a, i);
}

START_TEST (test_metrics_sklearn)
{
  gchar *path = affect_test_golden_path ("fusion", "metrics.json");
  JsonParser *parser = affect_test_load_json (path);
  JsonObject *o, *e;
  JsonArray *per;
  int n, n_au, k, *au_l, *ex_l, *ex_p;
  float *au_p, *va_l, *va_p;
  double per_au[12], per_cls[16], au_f1, ex_f1, v, a, mean;

  o = json_node_get_object (json_parser_get_root (parser));
  e = json_object_get_object_member (o, "expected");
  n = json_object_get_int_member (o, "n");
  n_au = json_object_get_int_member (o, "n_au");
  k = json_object_get_int_member (o, "n_expr");
  ck_assert_int_eq (n_au, 12);
  ck_assert (k <= 16);
  au_l = g_new (int, n *n_au);
  au_p = g_new (float, n *n_au);
  ex_l = g_new (int, n);
  ex_p = g_new (int, n);
  va_l = g_new (float, n * 2);
  va_p = g_new (float, n * 2);
  json_ints (o, "au_labels", au_l, n * n_au);
  json_floats (o, "au_probs", au_p, n * n_au);
  json_ints (o, "expr_labels", ex_l, n);
  json_ints (o, "expr_pred", ex_p, n);
  json_floats (o, "va_labels", va_l, n * 2);
  json_floats (o, "va_pred", va_p, n * 2);

  au_f1 = affect_metrics_au_f1 (
      au_l, au_p, n, n_au, AFFECT_METRICS_AU_THRESHOLD, per_au);
  ck_assert_double_eq_tol (
      au_f1, json_object_get_double_member (e, "au_f1"), 1e-9);
  per = json_object_get_array_member (e, "au_f1_per");
  for (int j = 0; j < n_au; j++)
    ck_assert_double_eq_tol (
        per_au[j], json_array_get_double_element (per, j), 1e-9);
  ex_f1 = affect_metrics_expr_f1 (ex_l, ex_p, n, k, per_cls);
  ck_assert_double_eq_tol (
      ex_f1, json_object_get_double_member (e, "expr_f1"), 1e-9);
  per = json_object_get_array_member (e, "expr_f1_per");
  for (int j = 0; j < k; j++)
    ck_assert_double_eq_tol (
        per_cls[j], json_array_get_double_element (per, j), 1e-9);
  affect_metrics_va_ccc (va_l, va_p, n, &v, &a, &mean);
  ck_assert_double_eq_tol (v, json_object_get_double_member (e, "ccc_v"), 1e-9);
  ck_assert_double_eq_tol (a, json_object_get_double_member (e, "ccc_a"), 1e-9);
  ck_assert_double_eq_tol (
      mean, json_object_get_double_member (e, "ccc_mean"), 1e-9);
  ck_assert_double_eq_tol (affect_metrics_total (au_f1, ex_f1, mean),
      json_object_get_double_member (e, "total"), 1e-9);

  g_free (au_l);
  g_free (au_p);
  g_free (ex_l);
  g_free (ex_p);
  g_free (va_l);
  g_free (va_p);
  g_object_unref (parser);
  g_free (path);
}

END_TEST

START_TEST (test_metrics_small)
{
  /* tp = 2, fp = 1, fn = 1 -> F1 = 4 / 6 */
  int l[6] = { 1, 1, 1, 0, 0, -1 };
  float p[6] = { 0.9f, 0.5f, 0.1f, 0.7f, 0.2f, 0.9f };
  int el[5] = { 0, 1, 2, 2, -1 }, ep[5] = { 0, 2, 2, 2, 1 };
  float x[4] = { 0.1f, 0.4f, -0.3f, -0.2f }, nx[4], sx[4];
  float s[3] = { 0.2f, 0.7f, 0.7f };

  ck_assert_double_eq_tol (
      affect_metrics_au_f1 (l, p, 6, 1, 0.5f, NULL), 4.0 / 6.0, 1e-12);
  /* class 0: 1; class 1: 0 (fn); class 2: tp 2 fp 1 -> 0.8 */
  ck_assert_double_eq_tol (affect_metrics_expr_f1 (el, ep, 5, 3, NULL),
      (1.0 + 0.0 + 0.8) / 3.0, 1e-12);
  ck_assert (affect_metrics_f1_counts (0, 0, 0) == 0.0);
  for (int i = 0; i < 4; i++) {
    nx[i] = -x[i];
    sx[i] = x[i] + 1.0f;
  }
  ck_assert_double_eq_tol (affect_metrics_ccc (x, x, 4), 1.0, 1e-12);
  ck_assert_double_eq_tol (affect_metrics_ccc (x, nx, 4), -1.0, 1e-12);
  /* zero-mean x: -x gives -1; a shift keeps the correlation but lowers
   * the concordance */
  ck_assert (affect_metrics_ccc (x, sx, 4) < 0.5);
  ck_assert (affect_metrics_ccc (x, x, 0) == 0.0);
  ck_assert_int_eq (affect_metrics_argmax (s, 3), 1);
}

END_TEST

static Suite *
fusion_suite (void)
{
  Suite *s = suite_create ("fusion");
  TCase *tc = tcase_create ("network");

  tcase_add_loop_test (tc, test_parity, 0, G_N_ELEMENTS (configs));
  tcase_add_test (tc, test_info);
  tcase_add_test (tc, test_run_errors);
  tcase_add_loop_test (tc, test_bad_models, 0, G_N_ELEMENTS (variants));
  tcase_add_test (tc, test_unchanged_variant_loads);
  tcase_add_test (tc, test_inputs_finite);
  tcase_add_loop_test (tc, test_caller_backend, 0, G_N_ELEMENTS (configs));
  tcase_add_test (tc, test_backend_lacks_op);
  suite_add_tcase (s, tc);

  tc = tcase_create ("tool");
  tcase_add_loop_test (tc, test_tool, 0, G_N_ELEMENTS (configs));
  tcase_add_test (tc, test_tool_nonfinite);
  tcase_add_test (tc, test_tool_backend);
  suite_add_tcase (s, tc);

  tc = tcase_create ("metrics");
  tcase_add_test (tc, test_metrics_sklearn);
  tcase_add_test (tc, test_metrics_small);
  suite_add_tcase (s, tc);
  return s;
}

int
main (int argc, char **argv)
{
  SRunner *sr;
  int failed;

  if (argc > 1)
    affect_fuse_path = argv[1];
  sr = srunner_create (fusion_suite ());
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
