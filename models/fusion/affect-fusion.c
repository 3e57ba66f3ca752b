/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The fusion network: see affect-fusion.h.
 *
 * Inference is written with the engine's tensors and ops only
 * (affect-tensor.h): per branch a GRU layer (AffectGru), fully connected
 * layers (AffectLinear), strided batched products (affect_matmul_strided)
 * for the attention, a masked softmax, layer norms and elementwise ops; the
 * heads on the concatenated features; the missing-branch vectors gathered
 * in with affect_gather_rows. The model runs on the backend it was loaded
 * onto (affect_fusion_new (): the caller's, or a CPU backend of its own):
 * the backend's kernels (models/cpu/: packed weight panels, vector GRU
 * gates) and its thread pool do the work; nothing here is SIMD or threads.
 *
 * The single-query attention never projects keys or values (see
 * run_attention ()). The backend computes every row of a product, every
 * GRU sequence and every normalised row from that row alone, so results do
 * not depend on the batch or on the threads.
 */

#include "affect-fusion.h"

#include "affect-backend.h"

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
  /* Host copies read from the file, released once the layers are built. */
  float *w_ih, *w_hh, *b_ih, *b_hh; /* [3H, D], [3H, H], [3H], [3H] */
  float *q_w, *q_b;                 /* [H, D_img], [H] */
  float *in_w, *in_b;               /* [3H, H], [3H] */
  float *out_w, *out_b;             /* [H, H], [H] */
  float *n1_w, *n1_b, *n2_w, *n2_b; /* [H] */
  float *f1_w, *f1_b, *f2_w, *f2_b; /* [4H, H], [4H], [H, 4H], [H] */
  float *missing;                   /* [H] */
  /* The layers on the backend. */
  AffectGru *gru;
  AffectLinear *query, *qproj, *out, *ffn1, *ffn2;
  AffectTensor *w_k;  /* [1, 1, H, H]: W_k (key rows of in_proj) */
  AffectTensor *w_vt; /* [1, heads, H, dh]: W_v,kᵀ per head k */
  AffectTensor *ln1_w, *ln1_b, *ln2_w, *ln2_b; /* [1, 1, 1, H] */
  AffectTensor *miss;                          /* [1, 1, 1, H] */
} Branch;

typedef struct {
  float *w1, *b1, *w2, *b2; /* [Hm, Z], [Hm], [n, Hm], [n] */
  AffectLinear *l1, *l2;
} Head;

struct _AffectFusion {
  AffectFusionInfo info;
  AffectBackend *backend; /* a reference: the caller's or our own */
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

/* A size from the metadata: a decimal integer in 1 .. @max (one of the
 * AFFECT_FUSION_MAX_* limits, named @limit in the error). */
static gboolean
get_meta_int (AffectStFile *file, const gchar *key, gint64 max,
    const gchar *limit, int *out, GError **error)
{
  const gchar *v = get_meta (file, key, error);
  gchar *end = NULL;
  gint64 x;

  if (!v)
    return FALSE;
  errno = 0;
  x = g_ascii_strtoll (v, &end, 10);
  if (errno != 0 || end == v || *end != '\0' || x < 1
      || !g_ascii_isdigit (v[0])) {
    g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_METADATA,
        "%s: metadata '%s' is '%s', expected an integer in "
        "1..%" G_GINT64_FORMAT,
        affect_st_get_path (file), key, v, max);
    return FALSE;
  }
  if (x > max) {
    g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_METADATA,
        "%s: metadata '%s' is %" G_GINT64_FORMAT
        ", above the limit of %" G_GINT64_FORMAT " (%s)",
        affect_st_get_path (file), key, x, max, limit);
    return FALSE;
  }
  *out = (int)x;
  return TRUE;
}

/* The sizes, each within its limit, and one track's clip window within
 * AFFECT_FUSION_MAX_WINDOW. */
static gboolean
parse_sizes (AffectStFile *file, AffectFusionInfo *info, GError **error)
{
#define SIZE(key, field, max) \
  get_meta_int (file, key, max, #max, &info->field, error)
  guint64 window;

  if (!SIZE ("clip_len", clip_len, AFFECT_FUSION_MAX_CLIP_LEN)
      || !SIZE ("hidden", hidden, AFFECT_FUSION_MAX_HIDDEN)
      || !SIZE ("heads", heads, AFFECT_FUSION_MAX_HEADS)
      || !SIZE ("mlp_hidden", mlp_hidden, AFFECT_FUSION_MAX_MLP_HIDDEN)
      || !SIZE ("d_img", d_img, AFFECT_FUSION_MAX_FEATURE_DIM)
      || !SIZE ("d_exp", d_branch[0], AFFECT_FUSION_MAX_FEATURE_DIM)
      || !SIZE ("d_spe", d_branch[1], AFFECT_FUSION_MAX_FEATURE_DIM)
      || !SIZE ("d_wrd", d_branch[2], AFFECT_FUSION_MAX_FEATURE_DIM))
    return FALSE;
#undef SIZE
  if (info->hidden % info->heads != 0) {
    g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_METADATA,
        "%s: metadata 'hidden' (%d) is not a multiple of 'heads' (%d)",
        affect_st_get_path (file), info->hidden, info->heads);
    return FALSE;
  }
  window = (guint64)info->clip_len
           * ((guint64)info->d_img + info->d_branch[0] + info->d_branch[1]
               + info->d_branch[2]);
  if (window > AFFECT_FUSION_MAX_WINDOW) {
    g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_METADATA,
        "%s: metadata 'clip_len' (%d) x ('d_img' + 'd_exp' + 'd_spe' + "
        "'d_wrd') (%d + %d + %d + %d) is %" G_GUINT64_FORMAT
        " values per track window, above the limit of %d "
        "(AFFECT_FUSION_MAX_WINDOW)",
        affect_st_get_path (file), info->clip_len, info->d_img,
        info->d_branch[0], info->d_branch[1], info->d_branch[2], window,
        AFFECT_FUSION_MAX_WINDOW);
    return FALSE;
  }
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

static void
free_host_copies (AffectFusion *f)
{
  for (int m = 0; m < AFFECT_FUSION_N_BRANCHES; m++) {
    Branch *b = &f->branch[m];
    float **fields[] = { &b->w_ih, &b->w_hh, &b->b_ih, &b->b_hh, &b->q_w,
      &b->q_b, &b->in_w, &b->in_b, &b->out_w, &b->out_b, &b->n1_w, &b->n1_b,
      &b->n2_w, &b->n2_b, &b->f1_w, &b->f1_b, &b->f2_w, &b->f2_b, &b->missing };
    for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
      g_clear_pointer (fields[i], g_free);
  }
  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
    Head *h = &f->head[k];
    g_clear_pointer (&h->w1, g_free);
    g_clear_pointer (&h->b1, g_free);
    g_clear_pointer (&h->w2, g_free);
    g_clear_pointer (&h->b2, g_free);
  }
}

static AffectTensor *
vector_tensor (AffectBackend *be, const float *v, int n)
{
  return affect_tensor_new_from_data (be, 1, 1, 1, n, v);
}

/* The backend's layers and tensors from the host copies, which are then
 * released. FALSE when one could not be made (out of memory). */
static gboolean
build_layers (AffectFusion *f)
{
  const AffectFusionInfo *info = &f->info;
  AffectBackend *be = f->backend;
  const int H = info->hidden, Z = info->d_img + 3 * H;
  const int nh = info->heads, dh = H / nh;
  gboolean ok = TRUE;

  for (int m = 0; m < AFFECT_FUSION_N_BRANCHES; m++) {
    Branch *b = &f->branch[m];
    float *w_vt = g_new (float, (gsize)H *H);
    float *b_out = g_new (float, H);
    const float *w_v = b->in_w + (gsize)2 * H * H, *b_v = b->in_b + 2 * H;

    b->gru = affect_gru_new (
        be, info->d_branch[m], H, b->w_ih, b->w_hh, b->b_ih, b->b_hh);
    b->query = affect_linear_new (be, info->d_img, H, b->q_w, TRUE, b->q_b);
    b->qproj = affect_linear_new (be, H, H, b->in_w, TRUE, b->in_b);
    b->w_k = affect_tensor_new_from_data (be, 1, 1, H, H, b->in_w + H * H);
    /* att = g W_vᵀ + b_v (per head) then out_proj: the value bias goes
     * into out_proj's, b_out + W_out b_v, since every row of the softmax
     * sums to 1 (see run_attention ()). */
    for (int i = 0; i < H; i++) {
      double acc = b->out_b[i];
      for (int j = 0; j < H; j++) {
        w_vt[((gsize)(i / dh) * H + j) * dh + i % dh] = w_v[(gsize)i * H + j];
        acc += (double)b->out_w[(gsize)i * H + j] * b_v[j];
      }
      b_out[i] = (float)acc;
    }
    b->w_vt = affect_tensor_new_from_data (be, 1, nh, H, dh, w_vt);
    b->out = affect_linear_new (be, H, H, b->out_w, TRUE, b_out);
    b->ffn1 = affect_linear_new (be, H, 4 * H, b->f1_w, TRUE, b->f1_b);
    b->ffn2 = affect_linear_new (be, 4 * H, H, b->f2_w, TRUE, b->f2_b);
    b->ln1_w = vector_tensor (be, b->n1_w, H);
    b->ln1_b = vector_tensor (be, b->n1_b, H);
    b->ln2_w = vector_tensor (be, b->n2_w, H);
    b->ln2_b = vector_tensor (be, b->n2_b, H);
    b->miss = vector_tensor (be, b->missing, H);
    g_free (w_vt);
    g_free (b_out);
    ok = ok && b->gru && b->query && b->qproj && b->w_k && b->w_vt && b->out
         && b->ffn1 && b->ffn2 && b->ln1_w && b->ln1_b && b->ln2_w && b->ln2_b
         && b->miss;
  }
  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
    Head *h = &f->head[k];

    if (!info->has_task[k])
      continue;
    h->l1 = affect_linear_new (be, Z, info->mlp_hidden, h->w1, TRUE, h->b1);
    h->l2 = affect_linear_new (
        be, info->mlp_hidden, info->n_out[k], h->w2, TRUE, h->b2);
    ok = ok && h->l1 && h->l2;
  }
  free_host_copies (f);
  return ok;
}

/* Every op family run () and the layers use. */
static const struct {
  AffectOp op;
  const gchar *what;
} needed_ops[] = {
  { AFFECT_OP_GRU, "GRU" },
  { AFFECT_OP_LINEAR, "fully connected layers" },
  { AFFECT_OP_MATMUL, "matrix products" },
  { AFFECT_OP_SOFTMAX_MASKED, "masked softmax" },
  { AFFECT_OP_LAYER_NORM, "layer norm" },
  { AFFECT_OP_BINARY, "elementwise add/mul" },
  { AFFECT_OP_SCALE, "scale" },
  { AFFECT_OP_GATHER_ROWS, "row gather" },
  { AFFECT_OP_COPY_ROWS, "row copies" },
  { AFFECT_OP_CONCAT_CHANNELS, "concatenation" },
  { AFFECT_OP_ACTIVATE, "ReLU" },
  { AFFECT_OP_SIGMOID, "sigmoid" },
  { AFFECT_OP_SOFTMAX, "softmax" },
  { AFFECT_OP_TANH, "tanh" },
};

static gboolean
check_backend (AffectBackend *be, const gchar *path, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (needed_ops); i++) {
    if (!affect_backend_supports_op (be, needed_ops[i].op)) {
      g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_BACKEND,
          "%s: backend '%s' cannot run a fusion network (no %s)", path,
          affect_backend_get_name (be), needed_ops[i].what);
      return FALSE;
    }
  }
  return TRUE;
}

AffectFusion *
affect_fusion_load_file (AffectStFile *file, GError **error)
{
  return affect_fusion_new_from_file (NULL, file, error);
}

AffectFusion *
affect_fusion_new_from_file (
    AffectBackend *backend, AffectStFile *file, GError **error)
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
  if (!parse_sizes (file, info, error))
    goto fail;
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
  f->backend
      = backend ? affect_backend_ref (backend) : affect_backend_cpu_new (1);
  if (!check_backend (f->backend, path, error))
    goto fail;
  if (!build_layers (f)) {
    g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_TENSOR,
        "%s: out of memory for the layers of a fusion model", path);
    goto fail;
  }
  return f;

fail:
  affect_fusion_free (f);
  return NULL;
}

static gpointer
shared_load (AffectBackend *backend, const gchar *path, GError **error)
{
  return affect_fusion_new (backend, path, error);
}

static void
shared_free (gpointer net)
{
  affect_fusion_free (net);
}

/* Shared, never batched: no forward (affect-shared.h). */
static const AffectSharedNetClass shared_class = {
  .kind = "fusion",
  .load = shared_load,
  .free = shared_free,
};

const AffectSharedNetClass *
affect_fusion_class (void)
{
  return &shared_class;
}

AffectFusion *
affect_fusion_load (const gchar *path, GError **error)
{
  return affect_fusion_new (NULL, path, error);
}

AffectFusion *
affect_fusion_new (AffectBackend *backend, const gchar *path, GError **error)
{
  AffectStFile *file;
  AffectFusion *f;

  g_return_val_if_fail (path != NULL, NULL);
  file = affect_st_open (path, error);
  if (!file)
    return NULL;
  f = affect_fusion_new_from_file (backend, file, error);
  affect_st_close (file);
  return f;
}

void
affect_fusion_free (AffectFusion *f)
{
  if (!f)
    return;
  free_host_copies (f);
  for (int m = 0; m < AFFECT_FUSION_N_BRANCHES; m++) {
    Branch *b = &f->branch[m];
    AffectTensor *tensors[]
        = { b->w_k, b->w_vt, b->ln1_w, b->ln1_b, b->ln2_w, b->ln2_b, b->miss };
    AffectLinear *lins[] = { b->query, b->qproj, b->out, b->ffn1, b->ffn2 };

    affect_gru_free (b->gru);
    for (guint i = 0; i < G_N_ELEMENTS (lins); i++)
      affect_linear_free (lins[i]);
    for (guint i = 0; i < G_N_ELEMENTS (tensors); i++)
      affect_tensor_free (tensors[i]);
  }
  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
    affect_linear_free (f->head[k].l1);
    affect_linear_free (f->head[k].l2);
  }
  if (f->backend)
    affect_backend_unref (f->backend);
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

void
affect_fusion_set_n_threads (AffectFusion *fusion, int n_threads)
{
  g_return_if_fail (fusion != NULL);
  affect_backend_set_n_threads (
      fusion->backend, CLAMP (n_threads, 1, AFFECT_FUSION_MAX_THREADS));
}

int
affect_fusion_get_n_threads (const AffectFusion *fusion)
{
  g_return_val_if_fail (fusion != NULL, 1);
  return affect_backend_get_n_threads (fusion->backend);
}

AffectBackend *
affect_fusion_get_backend (const AffectFusion *fusion)
{
  g_return_val_if_fail (fusion != NULL, NULL);
  return fusion->backend;
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

/* ---- input checks ------------------------------------------------------ */

static gboolean
all_finite (const float *x, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (!isfinite (x[i]))
      return FALSE;
  return TRUE;
}

gboolean
affect_fusion_inputs_finite (const AffectFusion *fusion, int n, int t,
    const float *img, const float *x_exp, const float *x_spe,
    const float *x_wrd, const guint8 *present, guint8 *img_finite,
    guint8 *branch_finite)
{
  const float *xs[AFFECT_FUSION_N_BRANCHES] = { x_exp, x_spe, x_wrd };
  const AffectFusionInfo *info;
  gboolean ok = TRUE;

  g_return_val_if_fail (fusion != NULL, FALSE);
  g_return_val_if_fail (n >= 0 && t >= 1, FALSE);
  info = &fusion->info;
  for (int i = 0; i < n; i++) {
    gboolean fi = TRUE;
    if (img)
      fi = all_finite (img + (gsize)i * info->d_img, info->d_img);
    if (img_finite)
      img_finite[i] = fi;
    ok &= fi;
    for (int m = 0; m < AFFECT_FUSION_N_BRANCHES; m++) {
      const gsize len = (gsize)t * info->d_branch[m];
      gboolean fb = TRUE;
      if (xs[m] && (present == NULL || present[i * 3 + m]))
        fb = all_finite (xs[m] + (gsize)i * len, len);
      if (branch_finite)
        branch_finite[i * AFFECT_FUSION_N_BRANCHES + m] = fb;
      ok &= fb;
    }
  }
  return ok;
}

/* ---- inference --------------------------------------------------------- */

/* A batch of matrices inside @t for affect_matmul_strided (). */
static AffectMatView
mat_view (
    AffectTensor *t, gsize offset, int rows, int cols, int ld, gsize stride)
{
  AffectMatView v = { t, offset, rows, cols, ld, { stride, 0 } };
  return v;
}

/* Clips per slice and thread of a branch (see run_branch ()): the GRU
 * outputs of a slice (8 clips: 256 KB at hidden 256, clip 32) are still in
 * the core's cache when the attention reads them, where the GRU of the
 * whole batch (2 MB at 64 clips) has gone out to memory. The same number as
 * the CPU backend's chunks of sequences, so that the GRU op splits a slice
 * among the threads as it would split the whole batch. */
#define SLICE_CLIPS 8

/* Single-query multi-head attention of the query @q [R, 1, 1, H] over the
 * outputs of the branch's GRU on the clips @x [R, 1, T, D]; returns
 * out_proj of the heads' outputs. With q' = W_q q + b_q and, per head k,
 * the query slice q'_k and the key rows W_k,k:
 *   score_t,k = q'_k · (W_k,k h_t + b_k,k) / sqrt(dh)
 *             = u_k · h_t / sqrt(dh) + const,  u_k = W_k,kᵀ q'_k,
 * and the constant cancels in the softmax; since Σ_t p_t,k = 1,
 *   out_k = Σ_t p_t,k (W_v,k h_t + b_v,k) = W_v,k (Σ_t p_t,k h_t) + b_v,k
 * (b_v is folded into out_proj's bias at load time). No key or value is
 * projected: per row 2 H² + 2 T nh H multiply-adds instead of 2 T H².
 * The GRU, the scores and the pooling run on slices of @slice clips (every
 * clip's result depends on its own inputs alone, so the slices give the
 * same bits as one batch); the products with weights on the whole batch. */
static AffectTensor *
run_attention (const AffectFusionInfo *info, const Branch *b, AffectTensor *q,
    AffectTensor *x, int slice)
{
  const int H = info->hidden, nh = info->heads, dh = H / nh;
  const int R = x->n, T = x->w, D = x->c;
  AffectTensor *qp, *u, *sc, *g, *att, *out = NULL;
  AffectMatView va, vb, vy;

  qp = affect_linear_forward (b->qproj, q);
  u = affect_tensor_new (q->backend, R, 1, nh, H);
  sc = affect_tensor_new (q->backend, R, 1, nh, T);
  g = affect_tensor_new (q->backend, R, 1, nh, H);
  att = affect_tensor_new (q->backend, R, 1, 1, H);
  if (!qp || !u || !sc || !g || !att)
    goto out;

  /* u[:, k, :] = q'[:, k-slice] W_k,k, a product per head */
  va = mat_view (qp, 0, R, dh, H, dh);
  vb = mat_view (b->w_k, 0, dh, H, H, (gsize)dh * H);
  vy = mat_view (u, 0, R, H, nh * H, H);
  if (!affect_matmul_strided (&va, FALSE, &vb, FALSE, &vy, nh, 1, 1.0f, 0.0f))
    goto out;
  for (int r0 = 0; r0 < R; r0 += slice) {
    const int rs = MIN (slice, R - r0);
    AffectTensor *xs, *hs, *scs;
    gboolean ok;

    /* GRU (gate order r, z, n as in PyTorch), zero initial state. */
    xs = rs == R ? x : affect_tensor_view (x, (gsize)r0 * T * D, rs, 1, T, D);
    hs = xs ? affect_gru_forward (b->gru, xs, NULL) : NULL;
    if (xs != x)
      affect_tensor_free (xs);
    if (!hs)
      goto out;
    /* scores [nh, T] = u_i h_iᵀ per clip, softmax over T */
    va = mat_view (u, (gsize)r0 * nh * H, nh, H, H, (gsize)nh * H);
    vb = mat_view (hs, 0, T, H, H, (gsize)T * H);
    vy = mat_view (sc, (gsize)r0 * nh * T, nh, T, T, (gsize)nh * T);
    ok = affect_matmul_strided (&va, FALSE, &vb, TRUE, &vy, rs, 1, 1.0f, 0.0f);
    scs = ok ? affect_tensor_view (sc, (gsize)r0 * nh * T, rs, 1, nh, T) : NULL;
    if (scs) {
      affect_softmax_masked_inplace (
          scs, (float)(1.0 / sqrt ((double)dh)), NULL, -1);
      affect_tensor_free (scs);
      /* g[i] [nh, H] = p h_i per clip (the rows of a clip side by side:
       * head-major rows, R H apart, would fall in the same cache set) */
      va = mat_view (sc, (gsize)r0 * nh * T, nh, T, T, (gsize)nh * T);
      vy = mat_view (g, (gsize)r0 * nh * H, nh, H, H, (gsize)nh * H);
      ok = affect_matmul_strided (
          &va, FALSE, &vb, FALSE, &vy, rs, 1, 1.0f, 0.0f);
    }
    affect_tensor_free (hs);
    if (!ok || !scs)
      goto out;
  }
  /* att[:, k-slice] = g[:, k] W_v,kᵀ, a product per head */
  va = mat_view (g, 0, R, H, nh * H, H);
  vb = mat_view (b->w_vt, 0, H, dh, dh, (gsize)H * dh);
  vy = mat_view (att, 0, R, dh, H, dh);
  if (!affect_matmul_strided (&va, FALSE, &vb, FALSE, &vy, nh, 1, 1.0f, 0.0f))
    goto out;
  out = affect_linear_forward (b->out, att);

out:
  affect_tensor_free (qp);
  affect_tensor_free (u);
  affect_tensor_free (sc);
  affect_tensor_free (g);
  affect_tensor_free (att);
  return out;
}

/* c [R, 1, 1, H] of one branch for R clips: image features @img
 * [R, 1, 1, D_img], clips @x [R, 1, T, D]; GRU and attention in slices of
 * @slice clips. */
static AffectTensor *
run_branch (const AffectFusionInfo *info, const Branch *b, AffectTensor *img,
    AffectTensor *x, int slice)
{
  AffectTensor *q, *a = NULL, *f = NULL, *c = NULL;

  /* Query token, GRU and attention; u = LN1(q + a); c = LN2(u + FFN(u)). */
  q = affect_linear_forward (b->query, img);
  if (q)
    a = run_attention (info, b, q, x, slice);
  if (a) {
    affect_binary_inplace (a, q, AFFECT_BINARY_ADD);
    affect_layer_norm_inplace (a, b->ln1_w, b->ln1_b, LN_EPS);
    f = affect_linear_forward (b->ffn1, a);
  }
  if (f) {
    affect_activate_inplace (f, AFFECT_ACT_RELU);
    c = affect_linear_forward (b->ffn2, f);
  }
  if (c) {
    affect_binary_inplace (c, a, AFFECT_BINARY_ADD);
    affect_layer_norm_inplace (c, b->ln2_w, b->ln2_b, LN_EPS);
  }
  affect_tensor_free (q);
  affect_tensor_free (a);
  affect_tensor_free (f);
  return c;
}

/* The caller's array @data as an [n, h, w, c] input tensor: on a backend
 * whose tensors are host memory (the CPU backend), a tensor over the array
 * itself (owning nothing, like a view; the ops only read it), else a copy
 * on the backend. */
static AffectTensor *
input_tensor (AffectBackend *be, int n, int h, int w, int c, const float *data)
{
  AffectTensor *t;

  if (!be->ops->host_memory)
    return affect_tensor_new_from_data (be, n, h, w, c, data);
  t = g_new0 (AffectTensor, 1);
  t->n = n;
  t->h = h;
  t->w = w;
  t->c = c;
  t->data = (float *)data;
  t->backend = affect_backend_ref (be);
  t->owns_data = FALSE;
  return t;
}

/* Rows @idx[0 .. rows) of @src [*, size] as a new [rows, 1, w, c] tensor
 * (size = w c), written in place on a host-memory backend. */
static AffectTensor *
gather_input (
    AffectBackend *be, const float *src, const int *idx, int rows, int w, int c)
{
  const gsize size = (gsize)w * c;
  AffectTensor *t = affect_tensor_new (be, rows, 1, w, c);
  float *dst = t ? affect_tensor_host_data (t) : NULL;
  float *tmp = NULL;

  if (!t)
    return NULL;
  if (!dst)
    dst = tmp = g_new (float, (gsize)rows *size);
  for (int r = 0; r < rows; r++)
    memcpy (dst + r * size, src + idx[r] * size, sizeof (float) * size);
  if (tmp) {
    affect_tensor_upload (t, tmp);
    g_free (tmp);
  }
  return t;
}

/* The branch features of every clip, [n, 1, 1, H]: c of the clips that
 * have the branch, the missing vector for the others. */
static AffectTensor *
branch_features (const AffectFusion *fusion, int m, int n, int t,
    const float *img, const float *x, const guint8 *present,
    AffectTensor *img_all)
{
  const AffectFusionInfo *info = &fusion->info;
  const Branch *b = &fusion->branch[m];
  const int H = info->hidden, d = info->d_branch[m];
  AffectTensor *ti = NULL, *tx = NULL, *c = NULL, *table = NULL, *out = NULL;
  AffectTensor *cv = NULL, *gathered = NULL;
  gint32 *ids = g_new (gint32, n);
  int *idx = g_new (int, n);
  int rows = 0;
  /* Slices only where tensors are host memory (the CPU backend's caches);
   * a device backend gets the whole batch. */
  const int slice = fusion->backend->ops->host_memory
                        ? SLICE_CLIPS * affect_fusion_get_n_threads (fusion)
                        : n;

  for (int i = 0; i < n; i++) {
    ids[i] = present[i * 3 + m] ? 1 + rows : 0;
    if (present[i * 3 + m])
      idx[rows++] = i;
  }
  if (rows == n) {
    /* Every clip has it. */
    tx = input_tensor (fusion->backend, n, 1, t, d, x);
    if (tx)
      out = run_branch (info, b, img_all, tx, slice);
    goto done;
  }
  if (rows > 0) {
    /* The clips that have it as one batch. */
    ti = gather_input (fusion->backend, img, idx, rows, 1, info->d_img);
    tx = gather_input (fusion->backend, x, idx, rows, t, d);
    if (!ti || !tx)
      goto done;
    c = run_branch (info, b, ti, tx, slice);
    if (!c)
      goto done;
  }
  /* table = [missing; c], then row ids[i] for clip i. */
  table = affect_tensor_new (fusion->backend, 1, 1, 1 + rows, H);
  if (!table || !affect_append_rows (table, b->miss, 0))
    goto done;
  if (c) {
    cv = affect_tensor_reshape (c, 1, 1, rows, H);
    if (!cv || !affect_append_rows (table, cv, 1))
      goto done;
  }
  gathered = affect_gather_rows (table, ids, n);
  if (gathered) {
    /* [1, 1, n, H] -> [n, 1, 1, H] */
    out = affect_tensor_new (fusion->backend, n, 1, 1, H);
    if (out)
      affect_tensor_copy (out, gathered);
  }

done:
  affect_tensor_free (gathered);
  affect_tensor_free (cv);
  affect_tensor_free (ti);
  affect_tensor_free (tx);
  affect_tensor_free (c);
  affect_tensor_free (table);
  g_free (ids);
  g_free (idx);
  return out;
}

gboolean
affect_fusion_run (const AffectFusion *fusion, int n, int t, const float *img,
    const float *x_exp, const float *x_spe, const float *x_wrd,
    const guint8 *present, float *au, float *expr, float *va, GError **error)
{
  const AffectFusionInfo *info;
  const float *xs[AFFECT_FUSION_N_BRANCHES] = { x_exp, x_spe, x_wrd };
  float *outs[AFFECT_FUSION_N_TASKS] = { au, expr, va };
  AffectTensor *img_all = NULL, *z = NULL;
  AffectTensor *c[AFFECT_FUSION_N_BRANCHES] = { NULL };
  gboolean ok = FALSE;

  g_return_val_if_fail (fusion != NULL, FALSE);
  info = &fusion->info;

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

  /* z = [x_img, c_exp, c_spe, c_wrd] */
  img_all = input_tensor (fusion->backend, n, 1, 1, info->d_img, img);
  if (!img_all)
    goto out;
  z = img_all;
  for (int m = 0; m < AFFECT_FUSION_N_BRANCHES; m++) {
    AffectTensor *zz;

    c[m] = branch_features (fusion, m, n, t, img, xs[m], present, img_all);
    if (!c[m])
      goto out;
    zz = affect_concat_channels (z, c[m]);
    if (z != img_all)
      affect_tensor_free (z);
    z = zz;
    if (!z)
      goto out;
  }

  /* The heads: Linear, ReLU, Linear, then sigmoid / softmax / tanh. */
  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
    const Head *hd = &fusion->head[k];
    AffectTensor *hid, *o;

    if (!info->has_task[k])
      continue;
    hid = affect_linear_forward (hd->l1, z);
    if (!hid)
      goto out;
    affect_activate_inplace (hid, AFFECT_ACT_RELU);
    o = affect_linear_forward (hd->l2, hid);
    affect_tensor_free (hid);
    if (!o)
      goto out;
    if (k == AFFECT_FUSION_TASK_AU)
      affect_sigmoid_inplace (o);
    else if (k == AFFECT_FUSION_TASK_EXPR)
      affect_softmax_inplace (o);
    else
      affect_tanh_inplace (o);
    affect_tensor_download (o, outs[k]);
    affect_tensor_free (o);
  }
  ok = TRUE;

out:
  if (z != img_all)
    affect_tensor_free (z);
  affect_tensor_free (img_all);
  for (int m = 0; m < AFFECT_FUSION_N_BRANCHES; m++)
    affect_tensor_free (c[m]);
  if (!ok)
    g_set_error (error, AFFECT_FUSION_ERROR, AFFECT_FUSION_ERROR_INPUT,
        "the backend could not run %d clips of %d frames (out of memory?)", n,
        t);
  return ok;
}
