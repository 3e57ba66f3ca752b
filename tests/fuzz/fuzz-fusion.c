/* gst-affect — tests/fuzz
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target for the fusion-model loader (affect_fusion_load_file,
 * models/fusion/affect-fusion.c): its metadata keys and values, and the
 * tensors they call for. Two kinds of input, by the first byte:
 *
 *  'S' + bytes: a whole safetensors file, opened with affect_st_open_bytes
 *      and, when that accepts it, loaded as a fusion model;
 *  anything else: a script of lines applied to a small valid model whose
 *      tensors are then made to fit the metadata (so that fuzzed sizes,
 *      tasks and labels reach the end of the loader):
 *        key=value  set a metadata entry (any bytes; an empty value too)
 *        -key       drop a metadata entry
 *        !tensor    leave a tensor out      +tensor  add an extra tensor
 *        *tensor    one more column         ~tensor  store it as F16
 *
 * A model that loads must keep every limit of affect-fusion.h and agree
 * with its metadata; it is then run on one or two short clips (finite
 * inputs, random presence), whose outputs must be finite probabilities
 * (au in [0, 1], expr summing to 1) and va in [-1, 1], and
 * affect_fusion_inputs_finite must see a NaN put into a present branch.
 * A model that fails must give an AFFECT_FUSION_ERROR or AFFECT_ST_ERROR
 * whose message starts with the file name.
 */

#include <glib.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affect-fusion.h"
#include "affect-safetensors.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
  G_STMT_START                                                                 \
  {                                                                            \
    if (!(cond)) {                                                             \
      fprintf (stderr, "fuzz-fusion: invariant failed: %s (line %d)\n", #cond, \
          __LINE__);                                                           \
      abort ();                                                                \
    }                                                                          \
  }                                                                            \
  G_STMT_END

#define NAME "fuzz-fusion.safetensors"
/* Largest size used to make tensors for a script model (keeps runs fast;
 * a larger size in the metadata then meets tensors that do not fit). */
#define GEN_MAX 48

static const gchar *const default_meta[][2] = {
  { "format", AFFECT_FUSION_FORMAT },
  { "version", AFFECT_FUSION_VERSION },
  { "clip_len", "3" },
  { "hidden", "4" },
  { "heads", "2" },
  { "mlp_hidden", "3" },
  { "d_img", "2" },
  { "d_exp", "2" },
  { "d_spe", "1" },
  { "d_wrd", "2" },
  { "tasks", "au,expr,va" },
  { "au_labels", "AU1,AU2,AU4,AU6,AU7,AU10,AU12,AU15,AU23,AU24,AU25,AU26" },
  { "expr_labels", "a,b,c" },
  { "features", "fuzz" },
};

static const gchar *const branches[3] = { "exp", "spe", "wrd" };
static const gchar *const tasks[3] = { "au", "expr", "va" };

/* A size from the (fuzzed) metadata for making tensors: the value when it
 * is a small positive integer, else 1. */
static int
gen_size (GHashTable *meta, const gchar *key)
{
  const gchar *v = g_hash_table_lookup (meta, key);
  gint64 x;

  if (!v)
    return 1;
  x = g_ascii_strtoll (v, NULL, 10);
  return x >= 1 && x <= GEN_MAX ? (int)x : 1;
}

static int
count_items (const gchar *v)
{
  int n = 1;

  if (!v || !*v)
    return 0;
  for (; *v; v++)
    n += *v == ',';
  return MIN (n, GEN_MAX);
}

typedef struct {
  GHashTable *drop, *grow, *f16;
  GPtrArray *extra;
} Edits;

static void
add_tensor (AffectStWriter *w, const Edits *e, const gchar *name, int d0,
    int d1, guint n_dims)
{
  int64_t shape[2] = { d0, d1 };
  gsize n;
  float *v;
  guint16 *h;

  if (g_hash_table_contains (e->drop, name))
    return;
  if (g_hash_table_contains (e->grow, name))
    shape[n_dims - 1]++;
  n = (gsize)shape[0] * (n_dims == 2 ? (gsize)shape[1] : 1);
  if (g_hash_table_contains (e->f16, name)) {
    h = g_new0 (guint16, MAX (n, 1));
    affect_st_writer_add (
        w, name, AFFECT_DTYPE_F16, n_dims, shape, h, n * 2, NULL);
    g_free (h);
    return;
  }
  v = g_new (float, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    v[i] = 0.5f * sinf (0.37f * (float)i + (float)strlen (name));
  affect_st_writer_add (
      w, name, AFFECT_DTYPE_F32, n_dims, shape, v, n * sizeof (float), NULL);
  g_free (v);
}

/* The model of a script: metadata as edited, tensors made to fit it. */
static AffectStFile *
script_model (const gchar *text, gsize len)
{
  GHashTable *meta
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  Edits e;
  gchar *copy = g_strndup (text, len);
  gchar **lines = g_strsplit (copy, "\n", -1);
  AffectStWriter *w = affect_st_writer_new ();
  GHashTableIter it;
  gpointer k, v;
  GBytes *bytes;
  AffectStFile *f;
  int H, Dimg, Hm, D[3];

  e.drop = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  e.grow = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  e.f16 = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  e.extra = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < G_N_ELEMENTS (default_meta); i++)
    g_hash_table_insert (
        meta, g_strdup (default_meta[i][0]), g_strdup (default_meta[i][1]));
  for (guint i = 0; lines[i]; i++) {
    const gchar *l = lines[i];
    const gchar *eq = strchr (l, '=');
    switch (l[0]) {
      case '\0':
        break;
      case '-':
        g_hash_table_remove (meta, l + 1);
        break;
      case '!':
        g_hash_table_add (e.drop, g_strdup (l + 1));
        break;
      case '*':
        g_hash_table_add (e.grow, g_strdup (l + 1));
        break;
      case '~':
        g_hash_table_add (e.f16, g_strdup (l + 1));
        break;
      case '+':
        g_ptr_array_add (e.extra, g_strdup (l + 1));
        break;
      default:
        if (eq)
          g_hash_table_insert (meta, g_strndup (l, eq - l), g_strdup (eq + 1));
        break;
    }
  }

  H = gen_size (meta, "hidden");
  Hm = gen_size (meta, "mlp_hidden");
  Dimg = gen_size (meta, "d_img");
  D[0] = gen_size (meta, "d_exp");
  D[1] = gen_size (meta, "d_spe");
  D[2] = gen_size (meta, "d_wrd");
  for (int m = 0; m < 3; m++) {
    static const struct {
      const gchar *fmt;
      int a, b; /* 1 = H, 3 = 3H, 4 = 4H, -1 = D_m, -2 = D_img, 0 = none */
    } spec[] = {
      { "gru_%s.weight_ih_l0", 3, -1 },
      { "gru_%s.weight_hh_l0", 3, 1 },
      { "gru_%s.bias_ih_l0", 3, 0 },
      { "gru_%s.bias_hh_l0", 3, 0 },
      { "query_%s.weight", 1, -2 },
      { "query_%s.bias", 1, 0 },
      { "attn_%s.in_proj_weight", 3, 1 },
      { "attn_%s.in_proj_bias", 3, 0 },
      { "attn_%s.out_proj.weight", 1, 1 },
      { "attn_%s.out_proj.bias", 1, 0 },
      { "norm1_%s.weight", 1, 0 },
      { "norm1_%s.bias", 1, 0 },
      { "ffn_%s.0.weight", 4, 1 },
      { "ffn_%s.0.bias", 4, 0 },
      { "ffn_%s.2.weight", 1, 4 },
      { "ffn_%s.2.bias", 1, 0 },
      { "norm2_%s.weight", 1, 0 },
      { "norm2_%s.bias", 1, 0 },
      { "missing_%s", 1, 0 },
    };
    for (guint s = 0; s < G_N_ELEMENTS (spec); s++) {
      gchar *name = g_strdup_printf (spec[s].fmt, branches[m]);
      int a = spec[s].a * H;
      int b = spec[s].b == -1 ? D[m] : spec[s].b == -2 ? Dimg : spec[s].b * H;
      add_tensor (w, &e, name, a, b, spec[s].b == 0 ? 1 : 2);
      g_free (name);
    }
  }
  {
    const gchar *tv = g_hash_table_lookup (meta, "tasks");
    int n_out[3]
        = { 12, count_items (g_hash_table_lookup (meta, "expr_labels")), 2 };
    for (int t = 0; t < 3; t++) {
      gchar *name;
      if (!tv || !strstr (tv, tasks[t]))
        continue;
      if (n_out[t] < 1)
        n_out[t] = 1;
      name = g_strdup_printf ("head_%s.0.weight", tasks[t]);
      add_tensor (w, &e, name, Hm, Dimg + 3 * H, 2);
      g_free (name);
      name = g_strdup_printf ("head_%s.0.bias", tasks[t]);
      add_tensor (w, &e, name, Hm, 0, 1);
      g_free (name);
      name = g_strdup_printf ("head_%s.2.weight", tasks[t]);
      add_tensor (w, &e, name, n_out[t], Hm, 2);
      g_free (name);
      name = g_strdup_printf ("head_%s.2.bias", tasks[t]);
      add_tensor (w, &e, name, n_out[t], 0, 1);
      g_free (name);
    }
  }
  for (guint i = 0; i < e.extra->len; i++)
    add_tensor (w, &e, g_ptr_array_index (e.extra, i), 1, 0, 1);

  g_hash_table_iter_init (&it, meta);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (g_utf8_validate (k, -1, NULL) && g_utf8_validate (v, -1, NULL))
      affect_st_writer_add_metadata (w, k, v);
  bytes = affect_st_writer_serialize (w);
  f = bytes ? affect_st_open_bytes (
          g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NAME, NULL)
            : NULL;
  if (bytes)
    g_bytes_unref (bytes);
  affect_st_writer_free (w);
  g_hash_table_unref (meta);
  g_hash_table_unref (e.drop);
  g_hash_table_unref (e.grow);
  g_hash_table_unref (e.f16);
  g_ptr_array_unref (e.extra);
  g_strfreev (lines);
  g_free (copy);
  return f;
}

static guint32
next_rand (guint32 *s)
{
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

/* A model that loaded: its info against the limits and metadata, then one
 * short run. */
static void
check_model (AffectFusion *fusion, AffectStFile *file, guint32 seed)
{
  const AffectFusionInfo *info = affect_fusion_get_info (fusion);
  int n_tasks = 0, n, t;
  float *img, *x[3], *out[3];
  guint8 present[6];
  guint32 s = seed;

  CHECK (info->clip_len >= 1 && info->clip_len <= AFFECT_FUSION_MAX_CLIP_LEN);
  CHECK (info->hidden >= 1 && info->hidden <= AFFECT_FUSION_MAX_HIDDEN);
  CHECK (info->heads >= 1 && info->heads <= AFFECT_FUSION_MAX_HEADS);
  CHECK (info->hidden % info->heads == 0);
  CHECK (info->mlp_hidden >= 1
         && info->mlp_hidden <= AFFECT_FUSION_MAX_MLP_HIDDEN);
  CHECK (info->d_img >= 1 && info->d_img <= AFFECT_FUSION_MAX_FEATURE_DIM);
  for (int m = 0; m < 3; m++)
    CHECK (info->d_branch[m] >= 1
           && info->d_branch[m] <= AFFECT_FUSION_MAX_FEATURE_DIM);
  CHECK ((guint64)info->clip_len
             * ((guint64)info->d_img + info->d_branch[0] + info->d_branch[1]
                 + info->d_branch[2])
         <= AFFECT_FUSION_MAX_WINDOW);
  for (int k = 0; k < 3; k++)
    if (info->has_task[k])
      n_tasks++;
  CHECK (n_tasks >= 1);
  CHECK (!info->has_task[0]
         || (info->n_out[0] == AFFECT_FUSION_N_AU
             && g_strv_length (info->au_labels) == AFFECT_FUSION_N_AU));
  CHECK (!info->has_task[1]
         || (info->n_out[1] >= 2
             && (guint)info->n_out[1] == g_strv_length (info->expr_labels)));
  CHECK (!info->has_task[2] || info->n_out[2] == AFFECT_FUSION_N_VA);
  CHECK (
      info->features != NULL
      && g_strcmp0 (info->features, affect_st_get_metadata (file, "features"))
             == 0);
  CHECK (affect_fusion_check_features (fusion, info->features, NULL));

  /* One or two clips of up to 8 frames. */
  n = 1 + (seed & 1);
  t = 1 + (int)((seed >> 1) % (guint)MIN (info->clip_len, 8));
  img = g_new (float, (gsize)n * info->d_img);
  for (gsize i = 0; i < (gsize)n * info->d_img; i++)
    img[i] = (float)next_rand (&s) / 16777216.0f * 2.0f - 1.0f;
  for (int m = 0; m < 3; m++) {
    gsize len = (gsize)n * t * info->d_branch[m];
    x[m] = g_new (float, len);
    for (gsize i = 0; i < len; i++)
      x[m][i] = (float)next_rand (&s) / 16777216.0f * 2.0f - 1.0f;
  }
  for (int i = 0; i < n * 3; i++)
    present[i] = next_rand (&s) & 1;
  for (int k = 0; k < 3; k++)
    out[k]
        = info->has_task[k] ? g_new (float, (gsize)n * info->n_out[k]) : NULL;
  CHECK (affect_fusion_inputs_finite (
      fusion, n, t, img, x[0], x[1], x[2], present, NULL, NULL));
  CHECK (affect_fusion_run (fusion, n, t, img, x[0], x[1], x[2], present,
      out[0], out[1], out[2], NULL));
  for (int i = 0; i < n; i++) {
    if (out[0])
      for (int j = 0; j < info->n_out[0]; j++) {
        float p = out[0][i * info->n_out[0] + j];
        CHECK (isfinite (p) && p >= 0.0f && p <= 1.0f);
      }
    if (out[1]) {
      double sum = 0.0;
      for (int j = 0; j < info->n_out[1]; j++) {
        float p = out[1][i * info->n_out[1] + j];
        CHECK (isfinite (p) && p >= 0.0f && p <= 1.0f);
        sum += p;
      }
      CHECK (fabs (sum - 1.0) < 1e-3);
    }
    if (out[2])
      for (int j = 0; j < 2; j++) {
        float p = out[2][i * 2 + j];
        CHECK (isfinite (p) && p >= -1.0f && p <= 1.0f);
      }
  }
  /* A NaN in a present branch is seen. */
  for (int m = 0; m < 3; m++) {
    guint8 br[6];
    if (!present[m])
      continue;
    x[m][0] = NAN;
    CHECK (!affect_fusion_inputs_finite (
        fusion, n, t, img, x[0], x[1], x[2], present, NULL, br));
    CHECK (br[m] == 0);
    x[m][0] = 0.0f;
    break;
  }
  g_free (img);
  for (int m = 0; m < 3; m++)
    g_free (x[m]);
  for (int k = 0; k < 3; k++)
    g_free (out[k]);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  AffectStFile *file;
  AffectFusion *fusion;
  guint32 seed = 2166136261u;

  /* A g_return_if_fail () in the code under test is a bug. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
  if (size == 0)
    return 0;
  for (size_t i = 0; i < size; i++)
    seed = (seed ^ data[i]) * 16777619u;
  if (data[0] == 'S') {
    file = affect_st_open_bytes (data + 1, size - 1, NAME, &error);
    if (!file) {
      CHECK (error != NULL && error->domain == AFFECT_ST_ERROR);
      CHECK (g_str_has_prefix (error->message, NAME ": "));
      g_error_free (error);
      return 0;
    }
  } else {
    file = script_model ((const gchar *)data + 1, size - 1);
    if (!file) /* the writer refused an edit (e.g. invalid UTF-8) */
      return 0;
  }
  fusion = affect_fusion_load_file (file, &error);
  if (g_getenv ("FUZZ_VERBOSE")) /* replaying a corpus: say what happened */
    fprintf (stderr, "%s\n", fusion ? "loaded" : error->message);
  if (!fusion) {
    CHECK (error != NULL);
    CHECK (error->domain == AFFECT_FUSION_ERROR
           || error->domain == AFFECT_ST_ERROR);
    if (!g_str_has_prefix (error->message, NAME ": ")) {
      fprintf (stderr, "message: %s\n", error->message);
      CHECK (!"the error names the file");
    }
    g_error_free (error);
  } else {
    CHECK (error == NULL);
    check_model (fusion, file, seed);
    affect_fusion_free (fusion);
  }
  affect_st_close (file);
  return 0;
}
