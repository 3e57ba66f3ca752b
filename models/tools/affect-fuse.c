/* gst-affect — models/tools
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * affect-fuse MODEL FEATURES -o OUT
 *
 * Runs the fusion network (models/fusion/affect-fusion.h) on a safetensors file of
 * clips: img [N, D_img], exp [N, T, D_exp], spe [N, T, D_spe],
 * wrd [N, T, D_wrd] (F32) and present [N, 3] (0/1 for exp, spe, wrd; F32,
 * U8, BOOL, I32 or I64). A branch tensor may be left out when no clip has
 * that branch present. Writes a safetensors file with au [N, 12],
 * expr [N, K] and va [N, 2] (F32) for the heads the model has, and the
 * model's labels in its metadata. NaN or infinite inputs that the network
 * would read are an error naming the clip and the tensor.
 *
 * --backend and --threads choose the backend the network runs on, as the
 * elements' `backend` and `n-threads` properties do.
 */

#include <glib.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "affect-fusion.h"
#include "affect-safetensors.h"

static gchar *opt_output = NULL;
static gchar *opt_features = NULL;
static gboolean opt_any_length = FALSE;
static gboolean opt_version = FALSE;
static gchar *opt_backend = NULL;
static gint opt_threads = 1;

static GOptionEntry entries[] = {
  { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output,
      "Output safetensors file (required)", "OUT" },
  { "features", 0, 0, G_OPTION_ARG_STRING, &opt_features,
      "Fail unless the model's 'features' metadata equals STR (default: the "
      "input file's 'features' metadata when it has one)",
      "STR" },
  { "any-clip-length", 0, 0, G_OPTION_ARG_NONE, &opt_any_length,
      "Accept clips whose length differs from the model's clip_len", NULL },
  { "backend", 0, 0, G_OPTION_ARG_STRING, &opt_backend,
      "Inference backend: auto (the default: the best one available), cpu, "
      "or another registered name (affect-info lists them)",
      "NAME" },
  { "threads", 0, 0, G_OPTION_ARG_INT, &opt_threads,
      "Worker threads of the backend, 0 = all cores (default 1); the "
      "results do not depend on it",
      "N" },
  { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version, "Print the version",
      NULL },
  { NULL }
};

/* present [N, 3] in any of the integer/float dtypes, as 0/1 bytes. */
static guint8 *
read_present (AffectStFile *in, int n, GError **error)
{
  const AffectStTensor *t = affect_st_find (in, "present");
  guint8 *out;

  if (!t) {
    g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_NOT_FOUND,
        "%s: no tensor named 'present' ([N, 3], 0/1 for exp, spe, wrd)",
        affect_st_get_path (in));
    return NULL;
  }
  if (t->n_dims != 2 || t->shape[0] != n || t->shape[1] != 3) {
    g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH,
        "%s: tensor 'present' must have shape [%d, 3]", affect_st_get_path (in),
        n);
    return NULL;
  }
  out = g_new (guint8, (gsize)n * 3 + 1);
  for (gsize i = 0; i < (gsize)n * 3; i++) {
    double v;
    const guint8 *p
        = (const guint8 *)t->data + i * affect_dtype_size (t->dtype);
    switch (t->dtype) {
      case AFFECT_DTYPE_F32: {
        float f;
        memcpy (&f, p, 4);
        v = f;
        break;
      }
      case AFFECT_DTYPE_U8:
      case AFFECT_DTYPE_BOOL:
        v = p[0];
        break;
      case AFFECT_DTYPE_I32: {
        gint32 x;
        memcpy (&x, p, 4);
        v = x;
        break;
      }
      case AFFECT_DTYPE_I64: {
        gint64 x;
        memcpy (&x, p, 8);
        v = (double)x;
        break;
      }
      default:
        g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH,
            "%s: tensor 'present' is %s, expected F32, U8, BOOL, I32 or I64",
            affect_st_get_path (in), affect_dtype_name (t->dtype));
        g_free (out);
        return NULL;
    }
    if (v != 0.0 && v != 1.0) {
      g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH,
          "%s: tensor 'present' holds %g at clip %" G_GSIZE_FORMAT
          ", expected 0 or 1",
          affect_st_get_path (in), v, i / 3);
      g_free (out);
      return NULL;
    }
    out[i] = v != 0.0;
  }
  return out;
}

/* Fails, naming the first clip and tensor, when an input that the network
 * would read is NaN or infinite (affect_fusion_run () would turn it into
 * finite-looking predictions). */
static gboolean
check_finite (const AffectFusion *fusion, const gchar *input_path, int n, int t,
    const float *img, float *const *x, const guint8 *present, GError **error)
{
  const AffectFusionInfo *info = affect_fusion_get_info (fusion);
  guint8 *img_ok, *br_ok;
  gboolean ok;

  img_ok = g_new (guint8, MAX (n, 1));
  br_ok = g_new (guint8, (gsize)MAX (n, 1) * AFFECT_FUSION_N_BRANCHES);
  ok = affect_fusion_inputs_finite (
      fusion, n, t, img, x[0], x[1], x[2], present, img_ok, br_ok);
  if (!ok) {
    guint bad = 0;
    int first_clip = -1, first_m = -1; /* -1: img */

    for (int i = 0; i < n; i++) {
      if (!img_ok[i] && bad++ == 0)
        first_clip = i;
      for (int m = 0; m < AFFECT_FUSION_N_BRANCHES; m++)
        if (!br_ok[i * AFFECT_FUSION_N_BRANCHES + m] && bad++ == 0) {
          first_clip = i;
          first_m = m;
        }
    }
    g_assert (first_clip >= 0);
    {
      const int d = first_m < 0 ? info->d_img : info->d_branch[first_m];
      const gsize len = first_m < 0 ? (gsize)d : (gsize)t * d;
      const float *p
          = (first_m < 0 ? img : x[first_m]) + (gsize)first_clip * len;
      gsize j = 0;
      while (j < len && isfinite (p[j]))
        j++;
      g_assert (j < len);
      if (first_m < 0)
        g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_INPUT,
            "%s: clip %d: tensor 'img' holds %g at feature %" G_GSIZE_FORMAT
            " (NaN and infinite features are not accepted; found in %u "
            "(clip, tensor) pairs)",
            input_path, first_clip, p[j], j, bad);
      else
        g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_INPUT,
            "%s: clip %d: branch '%s' holds %g at frame %" G_GSIZE_FORMAT
            ", feature %" G_GSIZE_FORMAT
            " (NaN and infinite features are not accepted; found in %u "
            "(clip, tensor) pairs)",
            input_path, first_clip, affect_fusion_branch_name (first_m), p[j],
            j / d, j % d, bad);
    }
  }
  g_free (img_ok);
  g_free (br_ok);
  return ok;
}

static gboolean
run (const gchar *model_path, const gchar *input_path, GError **error)
{
  AffectBackend *backend;
  AffectFusion *fusion = NULL;
  const AffectFusionInfo *info;
  AffectStFile *in = NULL;
  AffectStWriter *w = NULL;
  const AffectStTensor *t_img;
  float *img = NULL, *x[AFFECT_FUSION_N_BRANCHES] = { NULL, NULL, NULL };
  float *out[AFFECT_FUSION_N_TASKS] = { NULL, NULL, NULL };
  guint8 *present = NULL;
  gboolean ok = FALSE;
  int n, t = -1;
  gchar *tasks = NULL;

  backend = affect_backend_new (opt_backend, opt_threads, error);
  if (!backend)
    return FALSE;
  fusion = affect_fusion_new (backend, model_path, error);
  affect_backend_unref (backend);
  if (!fusion)
    goto done;
  info = affect_fusion_get_info (fusion);
  in = affect_st_open (input_path, error);
  if (!in)
    goto done;

  {
    const gchar *want
        = opt_features ? opt_features : affect_st_get_metadata (in, "features");
    if (want && !affect_fusion_check_features (fusion, want, error))
      goto done;
  }

  t_img = affect_st_find (in, "img");
  if (!t_img || t_img->n_dims != 2) {
    g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_NOT_FOUND,
        "%s: needs a tensor 'img' of shape [N, %d]", input_path, info->d_img);
    goto done;
  }
  if (t_img->shape[0] > G_MAXINT / 4) {
    g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH,
        "%s: too many clips", input_path);
    goto done;
  }
  n = (int)t_img->shape[0];
  {
    int64_t shape[2] = { n, info->d_img };
    img = affect_st_get_f32 (in, "img", 2, shape, error);
    if (!img)
      goto done;
  }
  present = read_present (in, n, error);
  if (!present)
    goto done;

  for (int m = 0; m < AFFECT_FUSION_N_BRANCHES; m++) {
    const gchar *name = affect_fusion_branch_name (m);
    const AffectStTensor *tm = affect_st_find (in, name);
    gboolean needed = FALSE;
    int64_t shape[3];

    for (int i = 0; i < n; i++)
      needed |= present[i * 3 + m] != 0;
    if (!tm) {
      if (needed) {
        g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_NOT_FOUND,
            "%s: no tensor '%s' but clips have that branch present", input_path,
            name);
        goto done;
      }
      continue;
    }
    if (tm->n_dims != 3 || tm->shape[1] < 1 || tm->shape[1] > 1 << 20) {
      g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH,
          "%s: tensor '%s' must have shape [%d, T, %d]", input_path, name, n,
          info->d_branch[m]);
      goto done;
    }
    if (t < 0)
      t = (int)tm->shape[1];
    shape[0] = n;
    shape[1] = t;
    shape[2] = info->d_branch[m];
    x[m] = affect_st_get_f32 (in, name, 3, shape, error);
    if (!x[m])
      goto done;
  }
  if (t < 0)
    t = info->clip_len;
  if (t != info->clip_len && !opt_any_length) {
    g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_INPUT,
        "%s: clips have %d frames but the model was trained with clip_len "
        "%d (use --any-clip-length to run anyway)",
        input_path, t, info->clip_len);
    goto done;
  }

  if (!check_finite (fusion, input_path, n, t, img, x, present, error))
    goto done;

  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++)
    if (info->has_task[k])
      out[k] = g_new0 (float, (gsize)MAX (n, 1) * info->n_out[k]);
  if (!affect_fusion_run (fusion, n, t, img, x[0], x[1], x[2], present, out[0],
          out[1], out[2], error))
    goto done;

  w = affect_st_writer_new ();
  tasks = g_strdup ("");
  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
    int64_t shape[2] = { n, info->n_out[k] };
    gchar *tmp;
    if (!info->has_task[k])
      continue;
    if (!affect_st_writer_add (w, affect_fusion_task_name (k), AFFECT_DTYPE_F32,
            2, shape, out[k], sizeof (float) * n * info->n_out[k], error))
      goto done;
    tmp = g_strconcat (
        tasks, *tasks ? "," : "", affect_fusion_task_name (k), NULL);
    g_free (tasks);
    tasks = tmp;
  }
  affect_st_writer_add_metadata (w, "format", "gst-affect-fusion-output");
  affect_st_writer_add_metadata (w, "tasks", tasks);
  {
    gchar *s = g_strjoinv (",", info->au_labels);
    affect_st_writer_add_metadata (w, "au_labels", s);
    g_free (s);
    s = g_strjoinv (",", info->expr_labels);
    affect_st_writer_add_metadata (w, "expr_labels", s);
    g_free (s);
  }
  affect_st_writer_add_metadata (w, "model", model_path);
  if (!affect_st_writer_write (w, opt_output, error))
    goto done;
  ok = TRUE;

done:
  g_free (tasks);
  affect_st_writer_free (w);
  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++)
    g_free (out[k]);
  for (int m = 0; m < AFFECT_FUSION_N_BRANCHES; m++)
    g_free (x[m]);
  g_free (img);
  g_free (present);
  if (in)
    affect_st_close (in);
  affect_fusion_free (fusion);
  return ok;
}

int
main (int argc, char **argv)
{
  GOptionContext *ctx;
  GError *error = NULL;
  int ret = 0;

  setlocale (LC_ALL, "");
  ctx = g_option_context_new ("MODEL FEATURES -o OUT");
  g_option_context_set_summary (ctx,
      "Run the gst-affect fusion network on a safetensors file of clips "
      "(img [N,D_img], exp/spe/wrd [N,T,D], present [N,3])\nand write its "
      "predictions (au [N,12], expr [N,K], va [N,2]) as safetensors.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("affect-fuse: %s\n", error->message);
    g_clear_error (&error);
    ret = 2;
    goto out;
  }
  if (opt_version) {
    g_print ("affect-fuse %s\n", AFFECT_VERSION);
    goto out;
  }
  if (argc != 3 || !opt_output || opt_threads < 0) {
    gchar *help = g_option_context_get_help (ctx, TRUE, NULL);
    g_printerr ("%s", help);
    g_free (help);
    ret = 2;
    goto out;
  }
  if (!run (argv[1], argv[2], &error)) {
    g_printerr ("affect-fuse: %s\n", error ? error->message : "failed");
    g_clear_error (&error);
    ret = 1;
  }

out:
  g_option_context_free (ctx);
  g_free (opt_output);
  g_free (opt_features);
  g_free (opt_backend);
  return ret;
}
