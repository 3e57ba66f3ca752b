/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The fusion network: see affect-fusion.h.
 *
 * Speed (issue 6 item 7, docs/performance.md "Fusion network"): every
 * weight is packed at load time in panels of 32 outputs and multiplied by
 * our own AVX-512 or AVX2/FMA kernels (chosen at run time; the same bits
 * either way), so a frame's few rows stream each weight once and nothing is
 * re-packed per call; the GRU input projections of all frames of all clips
 * are one product per branch, the recurrent step one product for all
 * clips; the GRU gates use vector exp/sigmoid/tanh (about 1 ulp); the
 * single-query attention never projects keys or values (see
 * run_attention ()). Without AVX2 (or AFFECT_FUSION_SIMD=none) products go
 * through affect_sgemm () and the gates through libm. The reductions of
 * LayerNorm and the attention softmax are in double. Every kernel computes
 * a row from that row alone, in a fixed order, so results do not depend on
 * the batch or on the threads (affect_fusion_set_n_threads (): branches and
 * clips are spread over a GThreadPool).
 */

#include "affect-fusion.h"

#include "affect-gemm.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define FUSION_X86 1
#include <immintrin.h>
#endif

G_DEFINE_QUARK (affect - fusion - error - quark, affect_fusion_error)

#define LN_EPS 1e-5
/* Largest size accepted for any metadata dimension. */
#define MAX_DIM (1 << 20)

/* A product y = x Wᵀ + b: weight element (j, i) (output j, input i) at
 * w[j * ld_out + i * ld_in], bias b [n_out] or NULL; when this CPU has the
 * vector kernels, both are also packed in panels (see lin_init ()). */
typedef struct {
  const float *w, *b;
  gsize ld_out, ld_in;
  int n_out, k;
  float *wp, *bp; /* NULL: products go through affect_sgemm () (w) */
  int np;         /* panels */
} Lin;

static void lin_init (Lin *l, const float *w, const float *b, int n_out, int k,
    gsize ld_out, gsize ld_in);
static void lin_clear (Lin *l);

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
  /* The products: x W_ihᵀ, h W_hhᵀ, query, q-projection, per head u_k =
   * W_k,kᵀ q'_k and W_v,k g_k (see run_attention ()), out_proj, FFN. */
  Lin ih, hh, q, qp, *key, *val, out, f1, f2;
  int n_heads; /* entries of key and val */
} Branch;

typedef struct {
  float *w1, *b1, *w2, *b2; /* [Hm, Z], [Hm], [n, Hm], [n] */
  Lin l1, l2;
} Head;

struct _AffectFusion {
  AffectFusionInfo info;
  int n_threads;
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
  for (k = 0; k < AFFECT_FUSION_N_BRANCHES; k++) {
    Branch *b = &f->branch[k];
    const int H = info->hidden, nh = info->heads, dh = H / nh;
    const int D = info->d_branch[k];
    const float *w_k = b->in_w + (gsize)H * H, *w_v = w_k + (gsize)H * H;

    lin_init (&b->ih, b->w_ih, b->b_ih, 3 * H, D, D, 1);
    lin_init (&b->hh, b->w_hh, b->b_hh, 3 * H, H, H, 1);
    lin_init (&b->q, b->q_w, b->q_b, H, info->d_img, info->d_img, 1);
    lin_init (&b->qp, b->in_w, b->in_b, H, H, H, 1);
    b->key = g_new0 (Lin, nh);
    b->val = g_new0 (Lin, nh);
    for (int hd = 0; hd < nh; hd++) {
      /* u_k[c] = Σ_j q'_k[j] W_k[k dh + j][c]: W_k,k used transposed; its
       * bias is not needed (see run_attention ()). */
      lin_init (&b->key[hd], w_k + (gsize)hd * dh * H, NULL, H, dh, 1, H);
      lin_init (&b->val[hd], w_v + (gsize)hd * dh * H,
          b->in_b + 2 * H + hd * dh, dh, H, H, 1);
    }
    b->n_heads = nh;
    lin_init (&b->out, b->out_w, b->out_b, H, H, H, 1);
    lin_init (&b->f1, b->f1_w, b->f1_b, 4 * H, H, H, 1);
    lin_init (&b->f2, b->f2_w, b->f2_b, H, 4 * H, 4 * H, 1);
  }
  for (k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
    Head *h = &f->head[k];
    const int Z = info->d_img + 3 * info->hidden;

    if (!info->has_task[k])
      continue;
    lin_init (&h->l1, h->w1, h->b1, info->mlp_hidden, Z, Z, 1);
    lin_init (&h->l2, h->w2, h->b2, info->n_out[k], info->mlp_hidden,
        info->mlp_hidden, 1);
  }
  if (f->branch[0].hh.wp) {
    /* Packed (vector kernels): the packed copies are all that is used, drop
     * the originals. */
    for (k = 0; k < AFFECT_FUSION_N_BRANCHES; k++) {
      Branch *b = &f->branch[k];
      float **w[] = { &b->w_ih, &b->w_hh, &b->q_w, &b->in_w, &b->out_w,
        &b->f1_w, &b->f2_w };
      Lin *lins[] = { &b->ih, &b->hh, &b->q, &b->qp, &b->out, &b->f1, &b->f2 };

      for (guint j = 0; j < G_N_ELEMENTS (w); j++)
        g_clear_pointer (w[j], g_free);
      for (guint j = 0; j < G_N_ELEMENTS (lins); j++)
        lins[j]->w = NULL;
      for (int hd = 0; hd < b->n_heads; hd++)
        b->key[hd].w = b->val[hd].w = NULL;
    }
    for (k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
      g_clear_pointer (&f->head[k].w1, g_free);
      g_clear_pointer (&f->head[k].w2, g_free);
      f->head[k].l1.w = f->head[k].l2.w = NULL;
    }
  }
  f->n_threads = 1;
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
    Lin *lins[] = { &b->ih, &b->hh, &b->q, &b->qp, &b->out, &b->f1, &b->f2 };
    for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
      g_free (*fields[i]);
    for (guint i = 0; i < G_N_ELEMENTS (lins); i++)
      lin_clear (lins[i]);
    for (int i = 0; i < b->n_heads; i++) {
      lin_clear (&b->key[i]);
      lin_clear (&b->val[i]);
    }
    g_free (b->key);
    g_free (b->val);
  }
  for (k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
    lin_clear (&f->head[k].l1);
    lin_clear (&f->head[k].l2);
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

void
affect_fusion_set_n_threads (AffectFusion *fusion, int n_threads)
{
  g_return_if_fail (fusion != NULL);
  fusion->n_threads = CLAMP (n_threads, 1, AFFECT_FUSION_MAX_THREADS);
}

int
affect_fusion_get_n_threads (const AffectFusion *fusion)
{
  g_return_val_if_fail (fusion != NULL, 1);
  return fusion->n_threads;
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

/* Which vector kernels this CPU runs (chosen once). */
typedef enum {
  SIMD_NONE,   /* portable C, affect_sgemm for the recurrent products */
  SIMD_AVX2,   /* AVX2 + FMA */
  SIMD_AVX512, /* AVX-512F for the products and GRU gates, AVX2 elsewhere */
} Simd;

static Simd
simd_level (void)
{
  static gsize once = 0;
  static Simd level = SIMD_NONE;

  if (g_once_init_enter (&once)) {
#if defined(FUSION_X86)
    const gchar *env = g_getenv ("AFFECT_FUSION_SIMD");

    __builtin_cpu_init ();
    if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma")) {
      level = SIMD_AVX2;
      if (__builtin_cpu_supports ("avx512f"))
        level = SIMD_AVX512;
    }
    /* Debug knob: "none" or "avx2" caps the level (tests, comparisons). */
    if (env && g_ascii_strcasecmp (env, "none") == 0)
      level = SIMD_NONE;
    else if (env && g_ascii_strcasecmp (env, "avx2") == 0 && level > SIMD_AVX2)
      level = SIMD_AVX2;
#endif
    g_once_init_leave (&once, 1);
  }
  return level;
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

/* Packed weights: panels of PANEL outputs, wp[p][i][c] = W(p PANEL + c, i)
 * (zeros past n_out), so that a product streams through the weight once,
 * in order, for all the rows of a batch, and nothing is re-packed per call
 * (GEMM libraries pack their B operand at every call, which costs as much
 * as the product itself for the few rows of a frame). */
#define PANEL 32

static void
lin_init (Lin *l, const float *w, const float *b, int n_out, int k,
    gsize ld_out, gsize ld_in)
{
  const int np = (n_out + PANEL - 1) / PANEL;
  const gsize n_wp = (gsize)np * PANEL * k, n_bp = (gsize)np * PANEL;

  l->w = w;
  l->b = b;
  l->ld_out = ld_out;
  l->ld_in = ld_in;
  l->n_out = n_out;
  l->k = k;
  l->np = np;
  l->wp = l->bp = NULL;
  if (simd_level () == SIMD_NONE)
    return;
  l->wp = g_new0 (float, n_wp);
  for (int j = 0; j < n_out; j++)
    for (int i = 0; i < k; i++)
      l->wp[((gsize)(j / PANEL) * k + i) * PANEL + j % PANEL]
          = w[j * ld_out + i * ld_in];
  l->bp = g_new0 (float, n_bp);
  if (b)
    memcpy (l->bp, b, sizeof (float) * n_out);
}

static void
lin_clear (Lin *l)
{
  g_free (l->wp);
  g_free (l->bp);
  l->wp = l->bp = NULL;
}

#if defined(FUSION_X86)
#define ALWAYS_INLINE inline __attribute__ ((always_inline))
#define TARGET_AVX2 __attribute__ ((target ("avx2,fma")))
#define TARGET_AVX512 __attribute__ ((target ("avx512f")))
#define UNROLL _Pragma ("GCC unroll 8")

/* The weight is the stream that misses: fetch the two cache lines of a
 * panel row PREFETCH_ROWS rows ahead into L1 (measured here: 1.6x on the
 * recurrent step for 8 clips, 1.5x for one; prefetches past the end of the
 * array are harmless). */
#define PREFETCH_ROWS 16
#define PREFETCH_PANEL(wp, k)                                          \
  do {                                                                 \
    const char *pf_                                                    \
        = (const char *)((wp) + (gsize)((k) + PREFETCH_ROWS) * PANEL); \
    _mm_prefetch (pf_, _MM_HINT_T0);                                   \
    _mm_prefetch (pf_ + 64, _MM_HINT_T0);                              \
  } while (0)

/* Both kernels compute each output as acc = fma (x[k], w[k], acc) for
 * k = 0 .. K-1 from acc = bias, whatever the rows of a block: the AVX2 and
 * AVX-512 kernels give the same bits, and a row's result does not depend
 * on the other rows of the batch. R is a constant after inlining, so the
 * accumulators live in registers. */

static ALWAYS_INLINE TARGET_AVX512 void
block512 (const int R, const float *x, gsize ldx, int K, const float *wp,
    const float *bp, float *out, int ldo)
{
  const __m512 b0 = _mm512_loadu_ps (bp), b1 = _mm512_loadu_ps (bp + 16);
  __m512 acc[8][2];

  UNROLL for (int r = 0; r < R; r++)
  {
    acc[r][0] = b0;
    acc[r][1] = b1;
  }
  for (int k = 0; k < K; k++) {
    const __m512 w0 = _mm512_loadu_ps (wp + (gsize)k * PANEL);
    const __m512 w1 = _mm512_loadu_ps (wp + (gsize)k * PANEL + 16);
    PREFETCH_PANEL (wp, k);
    UNROLL for (int r = 0; r < R; r++)
    {
      const __m512 xb = _mm512_set1_ps (x[r * ldx + k]);
      acc[r][0] = _mm512_fmadd_ps (xb, w0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps (xb, w1, acc[r][1]);
    }
  }
  UNROLL for (int r = 0; r < R; r++)
  {
    _mm512_storeu_ps (out + (gsize)r * ldo, acc[r][0]);
    _mm512_storeu_ps (out + (gsize)r * ldo + 16, acc[r][1]);
  }
}

/* out[rows, np * PANEL] (row stride @ldo) = x[rows, K] (row stride @ldx)
 * times the packed weight, plus the packed bias. */
static TARGET_AVX512 void
packed_matmul_avx512 (const float *x, gsize ldx, int rows, int K,
    const float *wp, const float *bp, int np, float *out, int ldo)
{
  /* Few rows (a frame's clips): the rows stay in L1 while the weight
   * streams once. Many rows (all frames): a panel stays in L1 while the
   * rows stream. */
  const gboolean panel_outer = rows > 8;

  for (int outer = 0; outer < (panel_outer ? np : 1); outer++) {
    for (int i = 0; i < rows; i += 8) {
      const int R = MIN (8, rows - i);
      const float *xx = x + (gsize)i * ldx;
      const int p0 = panel_outer ? outer : 0;
      const int p1 = panel_outer ? outer + 1 : np;

      for (int p = p0; p < p1; p++) {
        const float *w = wp + (gsize)p * K * PANEL, *bb = bp + p * PANEL;
        float *o = out + (gsize)i * ldo + p * PANEL;

        switch (R) {
          case 8:
            block512 (8, xx, ldx, K, w, bb, o, ldo);
            break;
          case 7:
            block512 (7, xx, ldx, K, w, bb, o, ldo);
            break;
          case 6:
            block512 (6, xx, ldx, K, w, bb, o, ldo);
            break;
          case 5:
            block512 (5, xx, ldx, K, w, bb, o, ldo);
            break;
          case 4:
            block512 (4, xx, ldx, K, w, bb, o, ldo);
            break;
          case 3:
            block512 (3, xx, ldx, K, w, bb, o, ldo);
            break;
          case 2:
            block512 (2, xx, ldx, K, w, bb, o, ldo);
            break;
          default:
            block512 (1, xx, ldx, K, w, bb, o, ldo);
            break;
        }
      }
    }
  }
}

static ALWAYS_INLINE TARGET_AVX2 void
block256 (const int R, const float *x, gsize ldx, int K, const float *wp,
    const float *bp, float *out, int ldo)
{
  __m256 acc[3][4];

  UNROLL for (int r = 0; r < R; r++)
  {
    UNROLL for (int v = 0; v < 4; v++)
    {
      acc[r][v] = _mm256_loadu_ps (bp + 8 * v);
    }
  }
  for (int k = 0; k < K; k++) {
    __m256 xb[3];

    PREFETCH_PANEL (wp, k);
    UNROLL for (int r = 0; r < R; r++)
    {
      xb[r] = _mm256_broadcast_ss (x + r * ldx + k);
    }
    UNROLL for (int v = 0; v < 4; v++)
    {
      const __m256 w = _mm256_loadu_ps (wp + (gsize)k * PANEL + 8 * v);
      UNROLL for (int r = 0; r < R; r++)
      {
        acc[r][v] = _mm256_fmadd_ps (xb[r], w, acc[r][v]);
      }
    }
  }
  UNROLL for (int r = 0; r < R; r++)
  {
    UNROLL for (int v = 0; v < 4; v++)
    {
      _mm256_storeu_ps (out + (gsize)r * ldo + 8 * v, acc[r][v]);
    }
  }
}

static TARGET_AVX2 void
packed_matmul_avx2 (const float *x, gsize ldx, int rows, int K, const float *wp,
    const float *bp, int np, float *out, int ldo)
{
  const gboolean panel_outer = rows > 3;

  for (int outer = 0; outer < (panel_outer ? np : 1); outer++) {
    for (int i = 0; i < rows; i += 3) {
      const int R = MIN (3, rows - i);
      const float *xx = x + (gsize)i * ldx;
      const int p0 = panel_outer ? outer : 0;
      const int p1 = panel_outer ? outer + 1 : np;

      for (int p = p0; p < p1; p++) {
        const float *w = wp + (gsize)p * K * PANEL, *bb = bp + p * PANEL;
        float *o = out + (gsize)i * ldo + p * PANEL;

        switch (R) {
          case 3:
            block256 (3, xx, ldx, K, w, bb, o, ldo);
            break;
          case 2:
            block256 (2, xx, ldx, K, w, bb, o, ldo);
            break;
          default:
            block256 (1, xx, ldx, K, w, bb, o, ldo);
            break;
        }
      }
    }
  }
}

/* exp(x) for 8 floats: x = n ln2 + r, |r| <= ln2 / 2, degree-7 Taylor
 * polynomial for e^r (truncation < 6e-9 relative), times 2^n (in two
 * factors, so that n = -126 .. 128 stays in the normal range). Inputs are
 * clamped to [-87.3, 88.7]. */
static ALWAYS_INLINE TARGET_AVX2 __m256
exp8 (__m256 x)
{
  const __m256 ln2_hi = _mm256_set1_ps (0.693145751953125f);
  const __m256 ln2_lo = _mm256_set1_ps (1.428606765330187e-06f);
  const __m256i bias = _mm256_set1_epi32 (127);
  __m256 n, r, p, s1, s2;
  __m256i e, e1;

  x = _mm256_min_ps (
      _mm256_max_ps (x, _mm256_set1_ps (-87.3f)), _mm256_set1_ps (88.7f));
  n = _mm256_round_ps (_mm256_mul_ps (x, _mm256_set1_ps (1.44269504088896341f)),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  r = _mm256_fnmadd_ps (n, ln2_hi, x);
  r = _mm256_fnmadd_ps (n, ln2_lo, r);
  p = _mm256_set1_ps (1.0f / 5040.0f);
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f / 720.0f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f / 120.0f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f / 24.0f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f / 6.0f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (0.5f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f));
  e = _mm256_cvtps_epi32 (n);
  e1 = _mm256_srai_epi32 (e, 1);
  s1 = _mm256_castsi256_ps (
      _mm256_slli_epi32 (_mm256_add_epi32 (e1, bias), 23));
  s2 = _mm256_castsi256_ps (_mm256_slli_epi32 (
      _mm256_add_epi32 (_mm256_sub_epi32 (e, e1), bias), 23));
  return _mm256_mul_ps (_mm256_mul_ps (p, s1), s2);
}

static ALWAYS_INLINE TARGET_AVX2 __m256
sigmoid8 (__m256 x)
{
  const __m256 one = _mm256_set1_ps (1.0f);
  return _mm256_div_ps (
      one, _mm256_add_ps (one, exp8 (_mm256_sub_ps (_mm256_setzero_ps (), x))));
}

/* tanh(x) = sign(x) (1 - e) / (1 + e), e = exp(-2|x|). */
static ALWAYS_INLINE TARGET_AVX2 __m256
tanh8 (__m256 x)
{
  const __m256 one = _mm256_set1_ps (1.0f);
  const __m256 sign = _mm256_set1_ps (-0.0f);
  __m256 ax = _mm256_andnot_ps (sign, x);
  __m256 e = exp8 (_mm256_mul_ps (ax, _mm256_set1_ps (-2.0f)));
  __m256 y = _mm256_div_ps (_mm256_sub_ps (one, e), _mm256_add_ps (one, e));
  return _mm256_or_ps (y, _mm256_and_ps (x, sign));
}

/* One GRU step for one row (see gru_gates_c ()). */
static TARGET_AVX2 void
gru_gates_avx2 (
    int H, const float *gx, const float *gh, const float *hprev, float *hout)
{
  const __m256 one = _mm256_set1_ps (1.0f);
  const __m256i lane = _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7);

  for (int j = 0; j < H; j += 8) {
    /* The last block of a size that is not a multiple of 8 is masked. */
    const __m256i m = _mm256_cmpgt_epi32 (_mm256_set1_epi32 (H - j), lane);
#define LD(p) _mm256_maskload_ps ((p) + j, m)
    __m256 r = sigmoid8 (_mm256_add_ps (LD (gx), LD (gh)));
    __m256 z = sigmoid8 (_mm256_add_ps (LD (gx + H), LD (gh + H)));
    __m256 n = tanh8 (
        _mm256_add_ps (LD (gx + 2 * H), _mm256_mul_ps (r, LD (gh + 2 * H))));
    __m256 hp = hprev ? LD (hprev) : _mm256_setzero_ps ();
#undef LD
    __m256 h = _mm256_add_ps (
        _mm256_mul_ps (_mm256_sub_ps (one, z), n), _mm256_mul_ps (z, hp));
    _mm256_maskstore_ps (hout + j, m, h);
  }
}

/* The same functions on 16 floats, operation for operation (same bits). */
static ALWAYS_INLINE TARGET_AVX512 __m512
exp16 (__m512 x)
{
  const __m512 ln2_hi = _mm512_set1_ps (0.693145751953125f);
  const __m512 ln2_lo = _mm512_set1_ps (1.428606765330187e-06f);
  const __m512i bias = _mm512_set1_epi32 (127);
  __m512 n, r, p, s1, s2;
  __m512i e, e1;

  x = _mm512_min_ps (
      _mm512_max_ps (x, _mm512_set1_ps (-87.3f)), _mm512_set1_ps (88.7f));
  n = _mm512_roundscale_ps (
      _mm512_mul_ps (x, _mm512_set1_ps (1.44269504088896341f)),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  r = _mm512_fnmadd_ps (n, ln2_hi, x);
  r = _mm512_fnmadd_ps (n, ln2_lo, r);
  p = _mm512_set1_ps (1.0f / 5040.0f);
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (1.0f / 720.0f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (1.0f / 120.0f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (1.0f / 24.0f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (1.0f / 6.0f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (0.5f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (1.0f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (1.0f));
  e = _mm512_cvtps_epi32 (n);
  e1 = _mm512_srai_epi32 (e, 1);
  s1 = _mm512_castsi512_ps (
      _mm512_slli_epi32 (_mm512_add_epi32 (e1, bias), 23));
  s2 = _mm512_castsi512_ps (_mm512_slli_epi32 (
      _mm512_add_epi32 (_mm512_sub_epi32 (e, e1), bias), 23));
  return _mm512_mul_ps (_mm512_mul_ps (p, s1), s2);
}

static ALWAYS_INLINE TARGET_AVX512 __m512
sigmoid16 (__m512 x)
{
  const __m512 one = _mm512_set1_ps (1.0f);
  return _mm512_div_ps (one,
      _mm512_add_ps (one, exp16 (_mm512_sub_ps (_mm512_setzero_ps (), x))));
}

static ALWAYS_INLINE TARGET_AVX512 __m512
tanh16 (__m512 x)
{
  const __m512 one = _mm512_set1_ps (1.0f);
  const __m512i sign = _mm512_set1_epi32 ((int)0x80000000u);
  const __m512i xi = _mm512_castps_si512 (x);
  __m512 ax = _mm512_castsi512_ps (_mm512_andnot_si512 (sign, xi));
  __m512 e = exp16 (_mm512_mul_ps (ax, _mm512_set1_ps (-2.0f)));
  __m512 y = _mm512_div_ps (_mm512_sub_ps (one, e), _mm512_add_ps (one, e));
  return _mm512_castsi512_ps (
      _mm512_or_si512 (_mm512_castps_si512 (y), _mm512_and_si512 (xi, sign)));
}

static TARGET_AVX512 void
gru_gates_avx512 (
    int H, const float *gx, const float *gh, const float *hprev, float *hout)
{
  const __m512 one = _mm512_set1_ps (1.0f);

  for (int j = 0; j < H; j += 16) {
    const __mmask16 m
        = H - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (H - j)) - 1);
#define LD(p) _mm512_maskz_loadu_ps (m, (p) + j)
    __m512 r = sigmoid16 (_mm512_add_ps (LD (gx), LD (gh)));
    __m512 z = sigmoid16 (_mm512_add_ps (LD (gx + H), LD (gh + H)));
    __m512 n = tanh16 (
        _mm512_add_ps (LD (gx + 2 * H), _mm512_mul_ps (r, LD (gh + 2 * H))));
    __m512 hp = hprev ? LD (hprev) : _mm512_setzero_ps ();
#undef LD
    __m512 h = _mm512_add_ps (
        _mm512_mul_ps (_mm512_sub_ps (one, z), n), _mm512_mul_ps (z, hp));
    _mm512_mask_storeu_ps (hout + j, m, h);
  }
}

/* Horizontal sum of 8 floats in a fixed order. */
static ALWAYS_INLINE TARGET_AVX2 float
hsum8 (__m256 v)
{
  __m128 s
      = _mm_add_ps (_mm256_castps256_ps128 (v), _mm256_extractf128_ps (v, 1));
  s = _mm_add_ps (s, _mm_movehl_ps (s, s));
  s = _mm_add_ss (s, _mm_movehdup_ps (s));
  return _mm_cvtss_f32 (s);
}

/* sc[t, nh] = h[t, H] u[nh, H]ᵀ; four heads at a time for independent
 * FMA chains (each score is the same sum either way). */
static TARGET_AVX2 void
attn_scores_avx2 (
    const float *h, int t, int H, const float *u, int nh, float *sc)
{
  const __m256i lane = _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7);

  for (int s = 0; s < t; s++) {
    const float *hs = h + (gsize)s * H;
    int k = 0;

    for (; k + 4 <= nh; k += 4) {
      const float *u0 = u + (gsize)k * H;
      __m256 acc[4];

      UNROLL for (int v = 0; v < 4; v++)
      {
        acc[v] = _mm256_setzero_ps ();
      }
      for (int c = 0; c < H; c += 8) {
        const __m256i m = _mm256_cmpgt_epi32 (_mm256_set1_epi32 (H - c), lane);
        const __m256 hv = _mm256_maskload_ps (hs + c, m);
        UNROLL for (int v = 0; v < 4; v++)
        {
          acc[v] = _mm256_fmadd_ps (
              hv, _mm256_maskload_ps (u0 + (gsize)v * H + c, m), acc[v]);
        }
      }
      UNROLL for (int v = 0; v < 4; v++)
      {
        sc[s * nh + k + v] = hsum8 (acc[v]);
      }
    }
    for (; k < nh; k++) {
      __m256 acc = _mm256_setzero_ps ();
      for (int c = 0; c < H; c += 8) {
        const __m256i m = _mm256_cmpgt_epi32 (_mm256_set1_epi32 (H - c), lane);
        acc = _mm256_fmadd_ps (_mm256_maskload_ps (hs + c, m),
            _mm256_maskload_ps (u + (gsize)k * H + c, m), acc);
      }
      sc[s * nh + k] = hsum8 (acc);
    }
  }
}

/* g[nh, H] = p[t, nh]ᵀ h[t, H], 32 columns at a time. */
static TARGET_AVX2 void
attn_pool_avx2 (const float *p, const float *h, int t, int H, int nh, float *g)
{
  const __m256i lane = _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7);

  for (int k = 0; k < nh; k++) {
    for (int c = 0; c < H; c += 32) {
      __m256i m[4];
      __m256 acc[4];

      UNROLL for (int v = 0; v < 4; v++)
      {
        m[v] = _mm256_cmpgt_epi32 (_mm256_set1_epi32 (H - c - 8 * v), lane);
        acc[v] = _mm256_setzero_ps ();
      }
      for (int s = 0; s < t; s++) {
        const __m256 pv = _mm256_broadcast_ss (p + s * nh + k);
        UNROLL for (int v = 0; v < 4; v++)
        {
          acc[v] = _mm256_fmadd_ps (pv,
              _mm256_maskload_ps (h + (gsize)s * H + c + 8 * v, m[v]), acc[v]);
        }
      }
      UNROLL for (int v = 0; v < 4; v++)
      {
        _mm256_maskstore_ps (g + (gsize)k * H + c + 8 * v, m[v], acc[v]);
      }
    }
  }
}
#endif /* FUSION_X86 */

/* y[rows, n_out] (row stride @ldy) = x[rows, k] (row stride @ldx) Wᵀ + b. */
static void
lin_run (const Lin *l, const float *x, gsize ldx, int rows, float *y, int ldy)
{
  if (rows <= 0)
    return;
#if defined(FUSION_X86)
  if (l->wp) {
    /* The kernels write whole panels: straight into @y when n_out fills
     * them, else through a copy. */
    const int ldp = l->np * PANEL;
    const gboolean direct = l->n_out == ldp;
    const gsize n_tmp = (gsize)rows * ldp;
    float *tmp = direct ? y : g_new (float, n_tmp);
    const int ldt = direct ? ldy : ldp;

    if (simd_level () == SIMD_AVX512)
      packed_matmul_avx512 (x, ldx, rows, l->k, l->wp, l->bp, l->np, tmp, ldt);
    else
      packed_matmul_avx2 (x, ldx, rows, l->k, l->wp, l->bp, l->np, tmp, ldt);
    if (!direct) {
      for (int i = 0; i < rows; i++)
        memcpy (y + (gsize)i * ldy, tmp + (gsize)i * ldt,
            sizeof (float) * l->n_out);
      g_free (tmp);
    }
    return;
  }
#endif
  if (l->b)
    for (int i = 0; i < rows; i++)
      memcpy (y + (gsize)i * ldy, l->b, sizeof (float) * l->n_out);
  if (l->ld_in == 1)
    affect_sgemm (1, FALSE, TRUE, rows, l->n_out, l->k, 1.0f, x, (int)ldx, l->w,
        (int)l->ld_out, l->b ? 1.0f : 0.0f, y, ldy);
  else
    affect_sgemm (1, FALSE, FALSE, rows, l->n_out, l->k, 1.0f, x, (int)ldx,
        l->w, (int)l->ld_in, l->b ? 1.0f : 0.0f, y, ldy);
}

/* One GRU step for one row: gx = x W_ihᵀ + b_ih, gh = h W_hhᵀ + b_hh (gate
 * order r, z, n as in PyTorch); hprev NULL: the zero initial state. */
static void
gru_gates_c (
    int H, const float *gx, const float *gh, const float *hprev, float *hout)
{
  for (int j = 0; j < H; j++) {
    float r = sigmoidf (gx[j] + gh[j]);
    float z = sigmoidf (gx[H + j] + gh[H + j]);
    float n = tanhf (gx[2 * H + j] + r * gh[2 * H + j]);
    float hp = hprev ? hprev[j] : 0.0f;
    hout[j] = (1.0f - z) * n + z * hp;
  }
}

/* hs[rows, t, H] = GRU outputs for gx[rows, t, 3H] = x W_ihᵀ + b_ih. */
static void
run_gru (const AffectFusionInfo *info, const Branch *b, int rows, int t,
    const float *gx, float *hs)
{
  const int H = info->hidden, G = 3 * H;
  const gsize ldh = (gsize)t * H;
  const gsize n_gh = (gsize)rows * G;
  float *gh = g_new (float, n_gh);

  for (int s = 0; s < t; s++) {
    const float *hprev = s > 0 ? hs + (gsize)(s - 1) * H : NULL;

    /* gh = h_{s-1} W_hhᵀ + b_hh (b_hh alone at the first step). */
    if (hprev)
      lin_run (&b->hh, hprev, ldh, rows, gh, G);
    else
      for (int i = 0; i < rows; i++)
        memcpy (gh + (gsize)i * G, b->b_hh, sizeof (float) * G);
    for (int i = 0; i < rows; i++) {
      const float *gxi = gx + ((gsize)i * t + s) * G;
      const float *ghi = gh + (gsize)i * G;
      const float *hpi = hprev ? hprev + (gsize)i * ldh : NULL;
      float *ho = hs + (gsize)i * ldh + (gsize)s * H;
#if defined(FUSION_X86)
      const Simd simd = simd_level ();

      if (simd == SIMD_AVX512)
        gru_gates_avx512 (H, gxi, ghi, hpi, ho);
      else if (simd == SIMD_AVX2)
        gru_gates_avx2 (H, gxi, ghi, hpi, ho);
      else
#endif
        gru_gates_c (H, gxi, ghi, hpi, ho);
    }
  }
  g_free (gh);
}

/* Single-query multi-head attention over hs[rows, t, H]; att[rows, H] gets
 * the heads' outputs before out_proj. With q' = W_q q + b_q and, per head
 * k, the query slice q'_k and the key rows W_k,k:
 *   score_s,k = q'_k · (W_k,k h_s + b_k,k) / sqrt(dh)
 *             = u_k · h_s / sqrt(dh) + const,  u_k = W_k,kᵀ q'_k,
 * and the constant cancels in the softmax; since Σ_s p_s,k = 1,
 *   out_k = Σ_s p_s,k (W_v,k h_s + b_v,k) = W_v,k (Σ_s p_s,k h_s) + b_v,k.
 * No key or value is projected: per row 2 H² + 2 t nh H multiply-adds
 * instead of 2 t H². */
static void
run_attention (const AffectFusionInfo *info, const Branch *b, int rows, int t,
    const float *q, const float *hs, float *att)
{
  const int H = info->hidden, nh = info->heads, dh = H / nh;
  const double scale = 1.0 / sqrt ((double)dh);
  const gsize n_u = (gsize)rows * nh * H, n_qp = (gsize)rows * H;
  const gsize n_sc = (gsize)t * nh;
  float *qp = g_new (float, n_qp);
  float *u = g_new (float, n_u);   /* [rows, nh, H] */
  float *sc = g_new (float, n_sc); /* [t, nh] */
  float *g = g_new (float, n_u);   /* [rows, nh, H] */
  double *e = g_new (double, t);

  lin_run (&b->qp, q, H, rows, qp, H);
  /* u[:, k, :] = qp[:, k-slice] W_k,k */
  for (int k = 0; k < nh; k++)
    lin_run (&b->key[k], qp + k * dh, H, rows, u + (gsize)k * H, nh * H);
  for (int i = 0; i < rows; i++) {
    const float *hi = hs + (gsize)i * t * H;
    const float *ui = u + (gsize)i * nh * H;
    float *gi = g + (gsize)i * nh * H;

    /* scores [t, nh] = h_i u_iᵀ, softmax over t per head, then
     * g_i [nh, H] = pᵀ h_i. */
#if defined(FUSION_X86)
    if (simd_level () != SIMD_NONE)
      attn_scores_avx2 (hi, t, H, ui, nh, sc);
    else
#endif
      affect_sgemm (1, FALSE, TRUE, t, nh, H, 1.0f, hi, H, ui, H, 0.0f, sc, nh);
    for (int k = 0; k < nh; k++) {
      double mx = -INFINITY, sum = 0.0;
      for (int s = 0; s < t; s++)
        mx = MAX (mx, sc[s * nh + k] * scale);
      for (int s = 0; s < t; s++) {
        e[s] = exp (sc[s * nh + k] * scale - mx);
        sum += e[s];
      }
      for (int s = 0; s < t; s++)
        sc[s * nh + k] = (float)(e[s] / sum);
    }
#if defined(FUSION_X86)
    if (simd_level () != SIMD_NONE)
      attn_pool_avx2 (sc, hi, t, H, nh, gi);
    else
#endif
      affect_sgemm (1, TRUE, FALSE, nh, H, t, 1.0f, sc, nh, hi, H, 0.0f, gi, H);
  }
  /* att[:, k-slice] = g[:, k, :] W_v,kᵀ + b_v,k */
  for (int k = 0; k < nh; k++)
    lin_run (&b->val[k], g + (gsize)k * H, nh * H, rows, att + k * dh, H);

  g_free (qp);
  g_free (u);
  g_free (sc);
  g_free (g);
  g_free (e);
}

/* Per-thread work buffer of run_branch(), kept between calls so that the
 * large GRU buffers do not cost fresh pages at every frame (up to
 * SCRATCH_KEEP floats; larger ones are freed after use). */
#define SCRATCH_KEEP (4 << 20)

typedef struct {
  float *buf;
  gsize n;
} Scratch;

static void
scratch_free (gpointer data)
{
  Scratch *sc = data;

  g_free (sc->buf);
  g_free (sc);
}

static GPrivate scratch_key = G_PRIVATE_INIT (scratch_free);

static float *
scratch_get (gsize n)
{
  Scratch *sc = g_private_get (&scratch_key);

  if (n > SCRATCH_KEEP)
    return g_new (float, n);
  if (!sc) {
    sc = g_new0 (Scratch, 1);
    g_private_set (&scratch_key, sc);
  }
  if (sc->n < n) {
    g_free (sc->buf);
    sc->buf = g_new (float, n);
    sc->n = n;
  }
  return sc->buf;
}

static void
scratch_release (float *p, gsize n)
{
  if (n > SCRATCH_KEEP)
    g_free (p);
}

/* c [rows, H] for branch @b, for rows whose image feature is @img
 * [rows, d_img] and clip @x [rows, t, d]. */
static void
run_branch (const AffectFusionInfo *info, const Branch *b, int d, int rows,
    int t, const float *img, const float *x, float *c)
{
  const int H = info->hidden;
  const gsize RT = (gsize)rows * t;
  const gsize n_work = RT * 4 * H + (gsize)rows * 7 * H;
  float *work = scratch_get (n_work);
  float *gx = work;            /* x W_ihᵀ + b_ih, all frames [rows, t, 3H] */
  float *hs = gx + RT * 3 * H; /* GRU outputs [rows, t, H] */
  float *q = hs + RT * H;
  float *att = q + (gsize)rows * H;
  float *a = att + (gsize)rows * H;
  float *f1 = a + (gsize)rows * H; /* [rows, 4H] */

  /* GRU (gate order r, z, n as in PyTorch): the input projections of all
   * frames of all rows in one product, then the recurrence. */
  lin_run (&b->ih, x, d, (int)RT, gx, 3 * H);
  run_gru (info, b, rows, t, gx, hs);

  /* Query token and attention. */
  lin_run (&b->q, img, info->d_img, rows, q, H);
  run_attention (info, b, rows, t, q, hs, att);
  lin_run (&b->out, att, H, rows, a, H);

  /* u = LN1(q + a); c = LN2(u + FFN(u)). */
  for (gsize j = 0; j < (gsize)rows * H; j++)
    a[j] += q[j];
  layer_norm (a, rows, H, b->n1_w, b->n1_b);
  lin_run (&b->f1, a, H, rows, f1, 4 * H);
  for (gsize j = 0; j < (gsize)rows * 4 * H; j++)
    f1[j] = MAX (f1[j], 0.0f);
  lin_run (&b->f2, f1, 4 * H, rows, c, H);
  for (gsize j = 0; j < (gsize)rows * H; j++)
    c[j] += a[j];
  layer_norm (c, rows, H, b->n2_w, b->n2_b);

  scratch_release (work, n_work);
}

/* ---- threads ----------------------------------------------------------- */

/* A piece of work: rows [row0, row0 + rows) of the clips gathered for one
 * branch. Rows are independent in every kernel, so how the clips are cut
 * into jobs and spread over threads does not change any result. */
typedef struct {
  int branch, row0, rows;
  double cost;
} Job;

typedef struct {
  const AffectFusion *fusion;
  int t;
  const float *img[AFFECT_FUSION_N_BRANCHES]; /* [rows_m, d_img] */
  const float *x[AFFECT_FUSION_N_BRANCHES];   /* [rows_m, t, d_m] */
  float *c[AFFECT_FUSION_N_BRANCHES];         /* [rows_m, H] */
} RunState;

#define MAX_JOBS (AFFECT_FUSION_N_BRANCHES + AFFECT_FUSION_MAX_THREADS)

/* Jobs shared by the caller and its helpers, largest first: each thread
 * takes the next one until none is left, so a helper that the system
 * schedules late (a busy machine) just finds less to do, and the caller
 * only waits for jobs already started. Reference-counted: a helper may
 * start after the call has returned (it then finds no job). */
typedef struct {
  gint ref;  /* atomic */
  gint next; /* atomic: index of the next job to take */
  int n_jobs;
  Job jobs[MAX_JOBS];
  RunState *st; /* only used while jobs remain */
  GMutex lock;
  GCond cond;
  int done; /* jobs finished, under lock */
} Sched;

static void
run_job (RunState *st, const Job *jb)
{
  const AffectFusionInfo *info = &st->fusion->info;
  const int m = jb->branch, d = info->d_branch[m];

  run_branch (info, &st->fusion->branch[m], d, jb->rows, st->t,
      st->img[m] + (gsize)jb->row0 * info->d_img,
      st->x[m] + (gsize)jb->row0 * st->t * d,
      st->c[m] + (gsize)jb->row0 * info->hidden);
}

static void
sched_unref (Sched *s)
{
  if (g_atomic_int_dec_and_test (&s->ref)) {
    g_mutex_clear (&s->lock);
    g_cond_clear (&s->cond);
    g_free (s);
  }
}

static void
sched_work (Sched *s)
{
  for (;;) {
    const int j = g_atomic_int_add (&s->next, 1);

    if (j >= s->n_jobs)
      break;
    run_job (s->st, &s->jobs[j]);
    g_mutex_lock (&s->lock);
    if (++s->done == s->n_jobs)
      g_cond_signal (&s->cond);
    g_mutex_unlock (&s->lock);
  }
}

static void
pool_func (gpointer data, gpointer user_data)
{
  Sched *s = data;

  (void)user_data;
  sched_work (s);
  sched_unref (s);
}

static GThreadPool *
get_pool (void)
{
  static gsize once = 0;
  static GThreadPool *pool = NULL;

  if (g_once_init_enter (&once)) {
    /* Shared by every model; grows with the callers that want threads. */
    pool = g_thread_pool_new (pool_func, NULL, -1, FALSE, NULL);
    g_once_init_leave (&once, 1);
  }
  return pool;
}

static int
cmp_job_cost (const void *a, const void *b)
{
  const Job *x = a, *y = b;
  return (x->cost < y->cost) - (x->cost > y->cost);
}

/* Runs the branches' rows on up to @n_threads threads (the caller's and
 * helpers from the pool) and waits. */
static void
run_branches (RunState *st, const int *rows, int n_threads)
{
  const AffectFusionInfo *info = &st->fusion->info;
  const double H = info->hidden;
  Job jobs[MAX_JOBS];
  Sched *s;
  int n_jobs = 0, n_helpers;

  /* One job per branch (each thread then streams a branch's weights once);
   * while there are fewer jobs than threads, the largest is cut in two. */
  for (int m = 0; m < AFFECT_FUSION_N_BRANCHES; m++) {
    /* Multiply-adds per row: input projection and recurrence dominate. */
    const double per_row = st->t * 3 * H * (info->d_branch[m] + H) + 10 * H * H;

    if (rows[m] == 0)
      continue;
    jobs[n_jobs].branch = m;
    jobs[n_jobs].row0 = 0;
    jobs[n_jobs].rows = rows[m];
    jobs[n_jobs].cost = per_row * rows[m];
    n_jobs++;
  }
  while (n_jobs < n_threads) {
    int big = -1;
    for (int j = 0; j < n_jobs; j++)
      if (jobs[j].rows >= 2 && (big < 0 || jobs[j].cost > jobs[big].cost))
        big = j;
    if (big < 0)
      break;
    jobs[n_jobs] = jobs[big];
    jobs[big].rows /= 2;
    jobs[big].cost /= 2;
    jobs[n_jobs].row0 += jobs[big].rows;
    jobs[n_jobs].rows -= jobs[big].rows;
    jobs[n_jobs].cost = jobs[big].cost;
    n_jobs++;
  }
  n_helpers = MIN (n_threads, n_jobs) - 1;
  if (n_helpers < 1) {
    for (int j = 0; j < n_jobs; j++)
      run_job (st, &jobs[j]);
    return;
  }

  s = g_new0 (Sched, 1);
  qsort (jobs, n_jobs, sizeof (Job), cmp_job_cost);
  memcpy (s->jobs, jobs, sizeof (Job) * n_jobs);
  s->n_jobs = n_jobs;
  s->st = st;
  s->ref = 1 + n_helpers;
  g_mutex_init (&s->lock);
  g_cond_init (&s->cond);
  for (int i = 0; i < n_helpers; i++)
    g_thread_pool_push (get_pool (), s, NULL);
  sched_work (s);
  g_mutex_lock (&s->lock);
  while (s->done < s->n_jobs)
    g_cond_wait (&s->cond, &s->lock);
  g_mutex_unlock (&s->lock);
  sched_unref (s);
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
  gsize n_z;
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

  n_z = (gsize)n * Z;
  z = g_new (float, n_z);
  for (int i = 0; i < n; i++)
    memcpy (z + (gsize)i * Z, img + (gsize)i * info->d_img,
        sizeof (float) * info->d_img);

  /* Per branch, the clips with it present are run as one batch (gathered
   * when some clips lack it); absent ones take the missing vector. */
  {
    RunState st = { 0 };
    int rows[AFFECT_FUSION_N_BRANCHES] = { 0 };
    int *idx[AFFECT_FUSION_N_BRANCHES] = { NULL };
    float *gathered[AFFECT_FUSION_N_BRANCHES][2] = { { NULL } };

    st.fusion = fusion;
    st.t = t;
    for (int m = 0; m < AFFECT_FUSION_N_BRANCHES; m++) {
      const Branch *b = &fusion->branch[m];
      const gsize clip = (gsize)t * info->d_branch[m];

      idx[m] = g_new (int, n);
      for (int i = 0; i < n; i++) {
        if (present[i * 3 + m])
          idx[m][rows[m]++] = i;
        else
          memcpy (z + (gsize)i * Z + info->d_img + m * H, b->missing,
              sizeof (float) * H);
      }
      if (rows[m] == 0)
        continue;
      if (rows[m] == n) {
        st.img[m] = img;
        st.x[m] = xs[m];
      } else {
        float *gi = g_new (float, (gsize)rows[m] * info->d_img);
        float *gxm = g_new (float, (gsize)rows[m] * clip);
        for (int r = 0; r < rows[m]; r++) {
          memcpy (gi + (gsize)r * info->d_img,
              img + (gsize)idx[m][r] * info->d_img,
              sizeof (float) * info->d_img);
          memcpy (gxm + (gsize)r * clip, xs[m] + (gsize)idx[m][r] * clip,
              sizeof (float) * clip);
        }
        gathered[m][0] = gi;
        gathered[m][1] = gxm;
        st.img[m] = gi;
        st.x[m] = gxm;
      }
      st.c[m] = g_new (float, (gsize)rows[m] * H);
    }

    run_branches (&st, rows, fusion->n_threads);

    for (int m = 0; m < AFFECT_FUSION_N_BRANCHES; m++) {
      for (int r = 0; r < rows[m]; r++)
        memcpy (z + (gsize)idx[m][r] * Z + info->d_img + m * H,
            st.c[m] + (gsize)r * H, sizeof (float) * H);
      g_free (st.c[m]);
      g_free (gathered[m][0]);
      g_free (gathered[m][1]);
      g_free (idx[m]);
    }
  }

  for (int k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
    const Head *hd = &fusion->head[k];
    const int no = info->n_out[k];
    float *hid, *o;

    if (!info->has_task[k])
      continue;
    hid = g_new (float, (gsize)n * info->mlp_hidden);
    o = outs[k];
    lin_run (&hd->l1, z, Z, n, hid, info->mlp_hidden);
    for (gsize j = 0; j < (gsize)n * info->mlp_hidden; j++)
      hid[j] = MAX (hid[j], 0.0f);
    lin_run (&hd->l2, hid, info->mlp_hidden, n, o, no);
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
