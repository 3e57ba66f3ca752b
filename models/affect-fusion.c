/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The fusion network: see affect-fusion.h. Matrix products go through
 * cblas_sgemm with PyTorch's [out, in] weights used transposed; the
 * element-wise parts (GRU gates, softmax, LayerNorm) are plain loops, with
 * the reductions of LayerNorm and the attention softmax in double.
 */

#include "affect-fusion.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <string.h>

G_DEFINE_QUARK (affect - fusion - error - quark, affect_fusion_error)

#define LN_EPS 1e-5
/* Largest size accepted for any metadata dimension. */
#define MAX_DIM (1 << 20)

static const gchar *const branch_names[AFFECT_FUSION_N_BRANCHES]
    = { "exp", "spe", "wrd" };
static const gchar *const task_names[AFFECT_FUSION_N_TASKS]
    = { "au", "expr", "va" };

typedef struct {
  float *w_ih, *w_hh, *b_ih, *b_hh; /* [3H, D], [3H, H], [3H], [3H] */
  float *q_w, *q_b;                 /* [H, D_img], [H] */
  float *in_w, *in_b;               /* [3H, H], [3H] */
  float *out_w, *out_b;             /* [H, H], [H] */
  float *n1_w, *n1_b, *n2_w, *n2_b; /* [H] */
  float *f1_w, *f1_b, *f2_w, *f2_b; /* [4H, H], [4H], [H, 4H], [H] */
  float *missing;                   /* [H] */
} Branch;

typedef struct {
  float *w1, *b1, *w2, *b2; /* [Hm, Z], [Hm], [n, Hm], [n] */
} Head;

struct _AffectFusion {
  AffectFusionInfo info;
  Branch branch[AFFECT_FUSION_N_BRANCHES];
  Head head[AFFECT_FUSION_N_TASKS];
};

const gchar *
affect_fusion_branch_name (AffectFusionBranch branch)
{
  g_return_val_if_fail (branch < AFFECT_FUSION_N_BRANCHES, NULL);
  return branch_names[branch];
}

const gchar *
affect_fusion_task_name (AffectFusionTask task)
{
  g_return_val_if_fail (task < AFFECT_FUSION_N_TASKS, NULL);
  return task_names[task];
}

/* ---- loading ----------------------------------------------------------- */

static const gchar *
get_meta (AffectStFile *file, const gchar *key, GError **error)
{
  const gchar *v = affect_st_get_metadata (file, key);
  if (!v)
    g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_METADATA,
        "%s: metadata key '%s' is missing (not a gst-affect fusion model?)",
        affect_st_get_path (file), key);
  return v;
}

static gboolean
get_meta_int (AffectStFile *file, const gchar *key, int *out, GError **error)
{
  const gchar *v = get_meta (file, key, error);
  gchar *end = NULL;
  gint64 x;

  if (!v)
    return FALSE;
  errno = 0;
  x = g_ascii_strtoll (v, &end, 10);
  if (errno != 0 || end == v || *end != '\0' || x < 1 || x > MAX_DIM) {
    g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_METADATA,
        "%s: metadata '%s' is '%s', expected an integer in 1..%d",
        affect_st_get_path (file), key, v, MAX_DIM);
    return FALSE;
  }
  *out = (int)x;
  return TRUE;
}

/* Comma-separated labels: non-empty items, no duplicates. */
static gchar **
parse_labels (AffectStFile *file, const gchar *key, GError **error)
{
  const gchar *v = get_meta (file, key, error);
  gchar **items;
  guint i, j;

  if (!v)
    return NULL;
  if (*v == '\0')
    return g_new0 (gchar *, 1);
  items = g_strsplit (v, ",", -1);
  for (i = 0; items[i]; i++) {
    g_strstrip (items[i]);
    if (items[i][0] == '\0') {
      g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_METADATA,
          "%s: metadata '%s' has an empty label (item %u of '%s')",
          affect_st_get_path (file), key, i + 1, v);
      g_strfreev (items);
      return NULL;
    }
    for (j = 0; j < i; j++) {
      if (strcmp (items[i], items[j]) == 0) {
        g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_METADATA,
            "%s: metadata '%s' repeats the label '%s'",
            affect_st_get_path (file), key, items[i]);
        g_strfreev (items);
        return NULL;
      }
    }
  }
  return items;
}

static gboolean
parse_tasks (AffectStFile *file, AffectFusionInfo *info, GError **error)
{
  const gchar *v = get_meta (file, "tasks", error);
  gchar **items;
  gboolean ok = TRUE;
  guint i;
  int k, n = 0;

  if (!v)
    return FALSE;
  items = g_strsplit (v, ",", -1);
  for (i = 0; ok && items[i]; i++) {
    gchar *s = g_strstrip (items[i]);
    for (k = 0; k < AFFECT_FUSION_N_TASKS; k++)
      if (strcmp (s, task_names[k]) == 0)
        break;
    if (k == AFFECT_FUSION_N_TASKS) {
      g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_METADATA,
          "%s: metadata 'tasks' = '%s': unknown task '%s' (expected a "
          "comma-separated subset of au,expr,va)",
          affect_st_get_path (file), v, s);
      ok = FALSE;
    } else if (info->has_task[k]) {
      g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_METADATA,
          "%s: metadata 'tasks' = '%s' names '%s' twice",
          affect_st_get_path (file), v, s);
      ok = FALSE;
    } else {
      info->has_task[k] = TRUE;
      n++;
    }
  }
  g_strfreev (items);
  if (ok && n == 0) {
    g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_METADATA,
        "%s: metadata 'tasks' is empty (a model needs at least one head)",
        affect_st_get_path (file));
    ok = FALSE;
  }
  return ok;
}

typedef struct {
  AffectStFile *file;
  GHashTable *seen; /* names read */
  GError **error;
  gboolean ok;
} Reader;

static float *
read_tensor (Reader *r, const gchar *name, guint n_dims, int64_t d0, int64_t d1)
{
  int64_t shape[2] = { d0, d1 };
  GError *err = NULL;
  float *p;

  if (!r->ok)
    return NULL;
  p = affect_st_get_f32 (r->file, name, n_dims, shape, &err);
  if (!p) {
    g_set_error (r->error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_TENSOR,
        "%s", err->message);
    g_error_free (err);
    r->ok = FALSE;
    return NULL;
  }
  g_hash_table_add (r->seen, g_strdup (name));
  return p;
}

static void
read_branch (Reader *r, const AffectFusionInfo *info, int m, Branch *b)
{
  const gchar *s = branch_names[m];
  int64_t H = info->hidden;
  gchar *n;

#define RD(field, fmt, nd, a, c)             \
  do {                                       \
    n = g_strdup_printf (fmt, s);            \
    b->field = read_tensor (r, n, nd, a, c); \
    g_free (n);                              \
  } while (0)

  RD (w_ih, "gru_%s.weight_ih_l0", 2, 3 * H, info->d_branch[m]);
  RD (w_hh, "gru_%s.weight_hh_l0", 2, 3 * H, H);
  RD (b_ih, "gru_%s.bias_ih_l0", 1, 3 * H, 0);
  RD (b_hh, "gru_%s.bias_hh_l0", 1, 3 * H, 0);
  RD (q_w, "query_%s.weight", 2, H, info->d_img);
  RD (q_b, "query_%s.bias", 1, H, 0);
  RD (in_w, "attn_%s.in_proj_weight", 2, 3 * H, H);
  RD (in_b, "attn_%s.in_proj_bias", 1, 3 * H, 0);
  RD (out_w, "attn_%s.out_proj.weight", 2, H, H);
  RD (out_b, "attn_%s.out_proj.bias", 1, H, 0);
  RD (n1_w, "norm1_%s.weight", 1, H, 0);
  RD (n1_b, "norm1_%s.bias", 1, H, 0);
  RD (f1_w, "ffn_%s.0.weight", 2, 4 * H, H);
  RD (f1_b, "ffn_%s.0.bias", 1, 4 * H, 0);
  RD (f2_w, "ffn_%s.2.weight", 2, H, 4 * H);
  RD (f2_b, "ffn_%s.2.bias", 1, H, 0);
  RD (n2_w, "norm2_%s.weight", 1, H, 0);
  RD (n2_b, "norm2_%s.bias", 1, H, 0);
  RD (missing, "missing_%s", 1, H, 0);
#undef RD
}

static void
read_head (Reader *r, const AffectFusionInfo *info, int k, Head *h)
{
  const gchar *s = task_names[k];
  int64_t Z = info->d_img + 3 * (int64_t)info->hidden;
  int64_t Hm = info->mlp_hidden;
  int64_t n_out = info->n_out[k];
  gchar *n;

  n = g_strdup_printf ("head_%s.0.weight", s);
  h->w1 = read_tensor (r, n, 2, Hm, Z);
  g_free (n);
  n = g_strdup_printf ("head_%s.0.bias", s);
  h->b1 = read_tensor (r, n, 1, Hm, 0);
  g_free (n);
  n = g_strdup_printf ("head_%s.2.weight", s);
  h->w2 = read_tensor (r, n, 2, n_out, Hm);
  g_free (n);
  n = g_strdup_printf ("head_%s.2.bias", s);
  h->b2 = read_tensor (r, n, 1, n_out, 0);
  g_free (n);
}

static gboolean
check_output_size (AffectStFile *file, AffectFusionInfo *info, int k,
    int expected, const gchar *why, GError **error)
{
  gchar *name = g_strdup_printf ("head_%s.2.weight", task_names[k]);
  const AffectStTensor *t = affect_st_find (file, name);
  gboolean ok = TRUE;

  /* Missing tensors are reported by read_head(); here only the size. */
  if (t && t->n_dims >= 1 && t->shape[0] != expected) {
    g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_TENSOR,
        "%s: tensor '%s' has %" G_GINT64_FORMAT " outputs, expected %d (%s)",
        affect_st_get_path (file), name, t->shape[0], expected, why);
    ok = FALSE;
  }
  g_free (name);
  info->n_out[k] = expected;
  return ok;
}

AffectFusion *
affect_fusion_load_file (AffectStFile *file, GError **error)
{
  AffectFusion *f;
  AffectFusionInfo *info;
  const gchar *path, *v;
  Reader r;
  guint i;
  int k;

  g_return_val_if_fail (file != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  path = affect_st_get_path (file);
  f = g_new0 (AffectFusion, 1);
  info = &f->info;

  v = get_meta (file, "format", error);
  if (!v)
    goto fail;
  if (strcmp (v, AFFECT_FUSION_FORMAT) != 0) {
    g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_METADATA,
        "%s: metadata 'format' is '%s', expected '%s'", path, v,
        AFFECT_FUSION_FORMAT);
    goto fail;
  }
  v = get_meta (file, "version", error);
  if (!v)
    goto fail;
  if (strcmp (v, AFFECT_FUSION_VERSION) != 0) {
    g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_METADATA,
        "%s: metadata 'version' is '%s'; this build reads version %s", path, v,
        AFFECT_FUSION_VERSION);
    goto fail;
  }
  if (!get_meta_int (file, "clip_len", &info->clip_len, error)
      || !get_meta_int (file, "hidden", &info->hidden, error)
      || !get_meta_int (file, "heads", &info->heads, error)
      || !get_meta_int (file, "mlp_hidden", &info->mlp_hidden, error)
      || !get_meta_int (file, "d_img", &info->d_img, error)
      || !get_meta_int (file, "d_exp", &info->d_branch[0], error)
      || !get_meta_int (file, "d_spe", &info->d_branch[1], error)
      || !get_meta_int (file, "d_wrd", &info->d_branch[2], error))
    goto fail;
  if (info->hidden % info->heads != 0) {
    g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_METADATA,
        "%s: metadata 'hidden' (%d) is not a multiple of 'heads' (%d)", path,
        info->hidden, info->heads);
    goto fail;
  }
  if (!parse_tasks (file, info, error))
    goto fail;
  info->au_labels = parse_labels (file, "au_labels", error);
  if (!info->au_labels)
    goto fail;
  info->expr_labels = parse_labels (file, "expr_labels", error);
  if (!info->expr_labels)
    goto fail;
  v = get_meta (file, "features", error);
  if (!v)
    goto fail;
  info->features = g_strdup (v);

  if (info->has_task[AFFECT_FUSION_TASK_AU]) {
    if (g_strv_length (info->au_labels) != AFFECT_FUSION_N_AU) {
      g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_METADATA,
          "%s: metadata 'au_labels' has %u labels, expected %d", path,
          g_strv_length (info->au_labels), AFFECT_FUSION_N_AU);
      goto fail;
    }
    if (!check_output_size (file, info, AFFECT_FUSION_TASK_AU,
            AFFECT_FUSION_N_AU, "one per AU", error))
      goto fail;
  }
  if (info->has_task[AFFECT_FUSION_TASK_EXPR]) {
    guint K = g_strv_length (info->expr_labels);
    if (K < 2) {
      g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_METADATA,
          "%s: metadata 'expr_labels' has %u labels, expected at least 2", path,
          K);
      goto fail;
    }
    if (!check_output_size (file, info, AFFECT_FUSION_TASK_EXPR, (int)K,
            "one per label of 'expr_labels'", error))
      goto fail;
  }
  if (info->has_task[AFFECT_FUSION_TASK_VA]) {
    if (!check_output_size (file, info, AFFECT_FUSION_TASK_VA,
            AFFECT_FUSION_N_VA, "valence and arousal", error))
      goto fail;
  }

  r.file = file;
  r.seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  r.error = error;
  r.ok = TRUE;
  for (k = 0; k < AFFECT_FUSION_N_BRANCHES; k++)
    read_branch (&r, info, k, &f->branch[k]);
  for (k = 0; k < AFFECT_FUSION_N_TASKS; k++)
    if (info->has_task[k])
      read_head (&r, info, k, &f->head[k]);
  /* Anything else in the file is a sign of a different model. */
  for (i = 0; r.ok && i < affect_st_get_n_tensors (file); i++) {
    const AffectStTensor *t = affect_st_get_tensor_by_index (file, i);
    if (!g_hash_table_contains (r.seen, t->name)) {
      g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_TENSOR,
          "%s: unexpected tensor '%s' (not part of a fusion model with tasks "
          "'%s')",
          path, t->name, affect_st_get_metadata (file, "tasks"));
      r.ok = FALSE;
    }
  }
  g_hash_table_unref (r.seen);
  if (!r.ok)
    goto fail;
  return f;

fail:
  affect_fusion_free (f);
  return NULL;
}

AffectFusion *
affect_fusion_load (const gchar *path, GError **error)
{
  AffectStFile *file;
  AffectFusion *f;

  g_return_val_if_fail (path != NULL, NULL);
  file = affect_st_open (path, error);
  if (!file)
    return NULL;
  f = affect_fusion_load_file (file, error);
  affect_st_close (file);
  return f;
}

void
affect_fusion_free (AffectFusion *f)
{
  int k;

  if (!f)
    return;
  for (k = 0; k < AFFECT_FUSION_N_BRANCHES; k++) {
    Branch *b = &f->branch[k];
    float **fields[] = { &b->w_ih, &b->w_hh, &b->b_ih, &b->b_hh, &b->q_w,
      &b->q_b, &b->in_w, &b->in_b, &b->out_w, &b->out_b, &b->n1_w, &b->n1_b,
      &b->n2_w, &b->n2_b, &b->f1_w, &b->f1_b, &b->f2_w, &b->f2_b, &b->missing };
    for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
      g_free (*fields[i]);
  }
  for (k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
    g_free (f->head[k].w1);
    g_free (f->head[k].b1);
    g_free (f->head[k].w2);
    g_free (f->head[k].b2);
  }
  g_strfreev (f->info.au_labels);
  g_strfreev (f->info.expr_labels);
  g_free (f->info.features);
  g_free (f);
}

const AffectFusionInfo *
affect_fusion_get_info (const AffectFusion *fusion)
{
  g_return_val_if_fail (fusion != NULL, NULL);
  return &fusion->info;
}

gboolean
affect_fusion_check_features (
    const AffectFusion *fusion, const gchar *features, GError **error)
{
  g_return_val_if_fail (fusion != NULL, FALSE);
  g_return_val_if_fail (features != NULL, FALSE);
  if (strcmp (fusion->info.features, features) != 0) {
    g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_FEATURES,
        "the model was trained on features '%s' but the inputs are '%s'",
        fusion->info.features, features);
    return FALSE;
  }
  return TRUE;
}

/* ---- inference --------------------------------------------------------- */

/* y[rows, out] = x[rows, in] · Wᵀ + b with PyTorch's W [out, in]. */
static void
linear (const float *x, int rows, int in, const float *w, const float *b,
    int out, float *y)
{
  for (int i = 0; i < rows; i++)
    memcpy (y + (gsize)i * out, b, sizeof (float) * out);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.0f, x,
      in, w, in, 1.0f, y, out);
}

static inline float
sigmoidf (float x)
{
  return 1.0f / (1.0f + expf (-x));
}

/* In place over rows of @n: y = (x - mean) / sqrt(var + eps) * w + b. */
static void
layer_norm (float *x, int rows, int n, const float *w, const float *b)
{
  for (int i = 0; i < rows; i++) {
    float *r = x + (gsize)i * n;
    double mean = 0.0, var = 0.0, inv;
    for (int j = 0; j < n; j++)
      mean += r[j];
    mean /= n;
    for (int j = 0; j < n; j++)
      var += (r[j] - mean) * (r[j] - mean);
    var /= n;
    inv = 1.0 / sqrt (var + LN_EPS);
    for (int j = 0; j < n; j++)
      r[j] = (float)((r[j] - mean) * inv) * w[j] + b[j];
  }
}

/* c [rows, H] for branch @b, for rows whose image feature is @img
 * [rows, d_img] and clip @x [rows, t, d]. */
static void
run_branch (const AffectFusionInfo *info, const Branch *b, int d, int rows,
    int t, const float *img, const float *x, float *c)
{
  const int H = info->hidden, nh = info->heads, dh = H / nh;
  const gsize RT = (gsize)rows * t;
  float *gx = g_new (float, RT * 3 * H); /* x W_ihᵀ + b_ih, all frames */
  float *gh = g_new (float, (gsize)rows * 3 * H);
  float *hs = g_new (float, RT *H); /* GRU outputs [rows, t, H] */
  float *h = g_new0 (float, (gsize)rows *H);
  float *q = g_new (float, (gsize)rows *H);
  float *qp = g_new (float, (gsize)rows *H);
  float *kv = g_new (float, RT * 2 * H); /* keys and values */
  float *att = g_new (float, (gsize)rows *H);
  float *a = g_new (float, (gsize)rows *H);
  float *f1 = g_new (float, (gsize)rows * 4 * H);
  double *p = g_new (double, t);
  const double scale = 1.0 / sqrt ((double)dh);

  /* GRU (gate order r, z, n as in PyTorch). */
  linear (x, (int)RT, d, b->w_ih, b->b_ih, 3 * H, gx);
  for (int s = 0; s < t; s++) {
    linear (h, rows, H, b->w_hh, b->b_hh, 3 * H, gh);
    for (int i = 0; i < rows; i++) {
      const float *xi = gx + ((gsize)i * t + s) * 3 * H;
      const float *hi = gh + (gsize)i * 3 * H;
      float *hh = h + (gsize)i * H;
      for (int j = 0; j < H; j++) {
        float r = sigmoidf (xi[j] + hi[j]);
        float z = sigmoidf (xi[H + j] + hi[H + j]);
        float n = tanhf (xi[2 * H + j] + r * hi[2 * H + j]);
        hh[j] = (1.0f - z) * n + z * hh[j];
      }
      memcpy (hs + ((gsize)i * t + s) * H, hh, sizeof (float) * H);
    }
  }

  /* Query token and attention (q, k, v packed in in_proj). */
  linear (img, rows, info->d_img, b->q_w, b->q_b, H, q);
  linear (q, rows, H, b->in_w, b->in_b, H, qp);
  linear (hs, (int)RT, H, b->in_w + (gsize)H * H, b->in_b + H, 2 * H, kv);
  for (int i = 0; i < rows; i++) {
    for (int k = 0; k < nh; k++) {
      const float *qi = qp + (gsize)i * H + k * dh;
      double mx = -INFINITY, sum = 0.0;
      for (int s = 0; s < t; s++) {
        const float *ks = kv + ((gsize)i * t + s) * 2 * H + k * dh;
        double dot = 0.0;
        for (int j = 0; j < dh; j++)
          dot += (double)qi[j] * ks[j];
        p[s] = dot * scale;
        mx = MAX (mx, p[s]);
      }
      for (int s = 0; s < t; s++) {
        p[s] = exp (p[s] - mx);
        sum += p[s];
      }
      for (int j = 0; j < dh; j++) {
        double acc = 0.0;
        for (int s = 0; s < t; s++)
          acc += p[s] * kv[((gsize)i * t + s) * 2 * H + H + k * dh + j];
        att[(gsize)i * H + k * dh + j] = (float)(acc / sum);
      }
    }
  }
  linear (att, rows, H, b->out_w, b->out_b, H, a);

  /* u = LN1(q + a); c = LN2(u + FFN(u)). */
  for (gsize j = 0; j < (gsize)rows * H; j++)
    a[j] += q[j];
  layer_norm (a, rows, H, b->n1_w, b->n1_b);
  linear (a, rows, H, b->f1_w, b->f1_b, 4 * H, f1);
  for (gsize j = 0; j < (gsize)rows * 4 * H; j++)
    f1[j] = MAX (f1[j], 0.0f);
  linear (f1, rows, 4 * H, b->f2_w, b->f2_b, H, c);
  for (gsize j = 0; j < (gsize)rows * H; j++)
    c[j] += a[j];
  layer_norm (c, rows, H, b->n2_w, b->n2_b);

  g_free (gx);
  g_free (gh);
  g_free (hs);
  g_free (h);
  g_free (q);
  g_free (qp);
  g_free (kv);
  g_free (att);
  g_free (a);
  g_free (f1);
  g_free (p);
}

gboolean
affect_fusion_run (const AffectFusion *fusion, int n, int t, const float *img,
    const float *x_exp, const float *x_spe, const float *x_wrd,
    const guint8 *present, float *au, float *expr, float *va, GError **error)
{
  const AffectFusionInfo *info;
  const float *xs[AFFECT_FUSION_N_BRANCHES] = { x_exp, x_spe, x_wrd };
  float *outs[AFFECT_FUSION_N_TASKS] = { au, expr, va };
  int H, Z;
  float *z;

  g_return_val_if_fail (fusion != NULL, FALSE);
  info = &fusion->info;
  H = info->hidden;
  Z = info->d_img + 3 * H;

  if (n < 0 || t < 1 || t > MAX_DIM) {
    g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_INPUT,
        "bad batch (%d clips of %d frames)", n, t);
    return FALSE;
  }
  if (n == 0)
    return TRUE;
  if (!img || !present) {
    g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_INPUT,
        "the image features and presence flags are required");
    return FALSE;
  }
  for (int m = 0; m < AFFECT_FUSION_N_BRANCHES; m++) {
    if (xs[m])
      continue;
    for (int i = 0; i < n; i++) {
      if (present[i * 3 + m]) {
        g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_INPUT,
            "clip %d has branch '%s' present but no '%s' features were "
            "given",
            i, branch_names[m], branch_names[m]);
        return FALSE;
      }
    }
  }
  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
    if (info->has_task[k] && !outs[k]) {
      g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_INPUT,
          "no output buffer for the model's '%s' head", task_names[k]);
      return FALSE;
    }
  }

  z = g_new (float, (gsize)n *Z);
  for (int i = 0; i < n; i++)
    memcpy (z + (gsize)i * Z, img + (gsize)i * info->d_img,
        sizeof (float) * info->d_img);

  for (int m = 0; m < AFFECT_FUSION_N_BRANCHES; m++) {
    const Branch *b = &fusion->branch[m];
    const int d = info->d_branch[m];
    const gsize clip = (gsize)t * d;
    int rows = 0;
    int *idx = g_new (int, n);
    float *bimg, *bx, *c;

    for (int i = 0; i < n; i++) {
      if (present[i * 3 + m])
        idx[rows++] = i;
      else
        memcpy (z + (gsize)i * Z + info->d_img + m * H, b->missing,
            sizeof (float) * H);
    }
    if (rows > 0) {
      /* Gather the clips with the branch present, run them as one batch. */
      bimg = g_new (float, (gsize)rows * info->d_img);
      bx = g_new (float, (gsize)rows *clip);
      c = g_new (float, (gsize)rows *H);
      for (int r = 0; r < rows; r++) {
        memcpy (bimg + (gsize)r * info->d_img,
            img + (gsize)idx[r] * info->d_img, sizeof (float) * info->d_img);
        memcpy (bx + (gsize)r * clip, xs[m] + (gsize)idx[r] * clip,
            sizeof (float) * clip);
      }
      run_branch (info, b, d, rows, t, bimg, bx, c);
      for (int r = 0; r < rows; r++)
        memcpy (z + (gsize)idx[r] * Z + info->d_img + m * H, c + (gsize)r * H,
            sizeof (float) * H);
      g_free (bimg);
      g_free (bx);
      g_free (c);
    }
    g_free (idx);
  }

  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
    const Head *hd = &fusion->head[k];
    const int no = info->n_out[k];
    float *hid, *o;

    if (!info->has_task[k])
      continue;
    hid = g_new (float, (gsize)n * info->mlp_hidden);
    o = outs[k];
    linear (z, n, Z, hd->w1, hd->b1, info->mlp_hidden, hid);
    for (gsize j = 0; j < (gsize)n * info->mlp_hidden; j++)
      hid[j] = MAX (hid[j], 0.0f);
    linear (hid, n, info->mlp_hidden, hd->w2, hd->b2, no, o);
    for (int i = 0; i < n; i++) {
      float *r = o + (gsize)i * no;
      if (k == AFFECT_FUSION_TASK_AU) {
        for (int j = 0; j < no; j++)
          r[j] = sigmoidf (r[j]);
      } else if (k == AFFECT_FUSION_TASK_EXPR) {
        double mx = -INFINITY, sum = 0.0;
        for (int j = 0; j < no; j++)
          mx = MAX (mx, r[j]);
        for (int j = 0; j < no; j++)
          sum += exp (r[j] - mx);
        for (int j = 0; j < no; j++)
          r[j] = (float)(exp (r[j] - mx) / sum);
      } else {
        for (int j = 0; j < no; j++)
          r[j] = tanhf (r[j]);
      }
    }
    g_free (hid);
  }
  g_free (z);
  return TRUE;
}
