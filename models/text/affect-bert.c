/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BERT encoder. See affect-bert.h and docs/words.md.
 */

#include "affect-bert.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "affect-gemm.h"
#include "affect-modelpath.h"
#include "affect-safetensors.h"

#define FETCH_WORD_HINT                                                  \
  "run `affect-fetch-word-model` (needs python3 -m pip) to install "     \
  "all-MiniLM-L6-v2 into the cache, or give the path of a Hugging Face " \
  "BERT folder"

/* Sanity limits on config.json values. */
#define MAX_HIDDEN 16384
#define MAX_LAYERS 256
#define MAX_POSITIONS 65536
#define MAX_VOCAB (4 * 1024 * 1024)

typedef struct {
  float *qkv_w;         /* [H, 3H]: query, key, value columns ([in, out]) */
  float *qkv_b;         /* [3H] */
  float *ao_w, *ao_b;   /* attention.output.dense [H, H] ([in, out]), [H] */
  float *ln1_g, *ln1_b; /* attention.output.LayerNorm */
  float *in_w, *in_b;   /* intermediate.dense [H, I] ([in, out]), [I] */
  float *out_w, *out_b; /* output.dense [I, H] ([in, out]), [H] */
  float *ln2_g, *ln2_b; /* output.LayerNorm */
} Layer;

struct _AffectBert {
  AffectBackend *backend;
  AffectTokenizer *tokenizer;
  int hidden, layers, heads, inter, max_pos, type_vocab, vocab;
  double eps;
  float *word_emb, *pos_emb, *type_emb, *emb_ln_g, *emb_ln_b;
  Layer *layer;
};

GQuark
affect_bert_error_quark (void)
{
  return g_quark_from_static_string ("affect-bert-error-quark");
}

/* ---- lookup ------------------------------------------------------------ */

static gboolean
is_model_dir (const gchar *dir)
{
  gchar *f = g_build_filename (dir, "model.safetensors", NULL);
  gboolean ok = g_file_test (f, G_FILE_TEST_IS_REGULAR);
  g_free (f);
  return ok;
}

gchar *
affect_bert_find (const gchar *explicit_dir, GError **error)
{
  GPtrArray *tried;
  const gchar *env;
  gchar *cache, *found = NULL;
  GString *msg;
  guint i;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (explicit_dir && *explicit_dir) {
    if (!g_file_test (explicit_dir, G_FILE_TEST_IS_DIR)) {
      g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_NOT_FOUND,
          "word model path '%s' is not a folder", explicit_dir);
      return NULL;
    }
    if (!is_model_dir (explicit_dir)) {
      g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_NOT_FOUND,
          "word model folder '%s' has no model.safetensors", explicit_dir);
      return NULL;
    }
    return g_strdup (explicit_dir);
  }

  tried = g_ptr_array_new_with_free_func (g_free);
  env = g_getenv ("AFFECT_MODEL_DIR");
  if (env && *env)
    g_ptr_array_add (
        tried, g_build_filename (env, AFFECT_BERT_DEFAULT_MODEL, NULL));
  g_ptr_array_add (tried, g_build_filename (affect_model_data_dir (), "models",
                              AFFECT_BERT_DEFAULT_MODEL, NULL));
  cache = affect_cache_dir ();
  g_ptr_array_add (tried,
      g_build_filename (cache, "models", AFFECT_BERT_DEFAULT_MODEL, NULL));
  g_free (cache);

  for (i = 0; i < tried->len && !found; i++) {
    const gchar *p = g_ptr_array_index (tried, i);
    if (is_model_dir (p))
      found = g_strdup (p);
  }
  if (!found) {
    msg = g_string_new (NULL);
    g_string_append_printf (msg,
        "word model %s not found (a folder with model.safetensors); tried:",
        AFFECT_BERT_DEFAULT_MODEL);
    for (i = 0; i < tried->len; i++)
      g_string_append_printf (msg, " %s%s",
          (const gchar *)g_ptr_array_index (tried, i),
          i + 1 < tried->len ? "," : ".");
    g_string_append (msg, " To get it, " FETCH_WORD_HINT ".");
    g_set_error_literal (
        error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_NOT_FOUND, msg->str);
    g_string_free (msg, TRUE);
  }
  g_ptr_array_unref (tried);
  return found;
}

/* ---- config.json ------------------------------------------------------- */

static gboolean
config_int (JsonObject *obj, const gchar *path, const gchar *key, int max,
    gboolean required, int def, int *out, GError **error)
{
  JsonNode *n;
  gint64 v;

  if (!json_object_has_member (obj, key)) {
    if (required) {
      g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_CONFIG,
          "'%s': missing \"%s\"", path, key);
      return FALSE;
    }
    *out = def;
    return TRUE;
  }
  n = json_object_get_member (obj, key);
  if (json_node_get_value_type (n) != G_TYPE_INT64) {
    g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_CONFIG,
        "'%s': \"%s\" is not an integer", path, key);
    return FALSE;
  }
  v = json_node_get_int (n);
  if (v < 1 || v > max) {
    g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_CONFIG,
        "'%s': \"%s\" = %" G_GINT64_FORMAT " is out of range [1, %d]", path,
        key, v, max);
    return FALSE;
  }
  *out = (int)v;
  return TRUE;
}

static const gchar *
config_string (JsonObject *obj, const gchar *key)
{
  JsonNode *n;

  if (!json_object_has_member (obj, key))
    return NULL;
  n = json_object_get_member (obj, key);
  if (json_node_get_value_type (n) != G_TYPE_STRING)
    return "";
  return json_node_get_string (n);
}

static gboolean
load_config (AffectBert *bert, const gchar *dir, GError **error)
{
  gchar *path = g_build_filename (dir, "config.json", NULL);
  JsonParser *parser = json_parser_new ();
  GError *err = NULL;
  JsonNode *root;
  JsonObject *obj;
  const gchar *s;
  gboolean ok = FALSE;

  if (!json_parser_load_from_file (parser, path, &err)) {
    g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_CONFIG,
        "cannot read '%s': %s", path, err->message);
    g_clear_error (&err);
    goto out;
  }
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_CONFIG,
        "'%s' is not a JSON object", path);
    goto out;
  }
  obj = json_node_get_object (root);

  if (!config_int (
          obj, path, "hidden_size", MAX_HIDDEN, TRUE, 0, &bert->hidden, error)
      || !config_int (obj, path, "num_hidden_layers", MAX_LAYERS, TRUE, 0,
          &bert->layers, error)
      || !config_int (obj, path, "num_attention_heads", MAX_HIDDEN, TRUE, 0,
          &bert->heads, error)
      || !config_int (obj, path, "intermediate_size", 8 * MAX_HIDDEN, TRUE, 0,
          &bert->inter, error)
      || !config_int (obj, path, "max_position_embeddings", MAX_POSITIONS, TRUE,
          0, &bert->max_pos, error)
      || !config_int (obj, path, "type_vocab_size", 1024, FALSE, 2,
          &bert->type_vocab, error)
      || !config_int (
          obj, path, "vocab_size", MAX_VOCAB, TRUE, 0, &bert->vocab, error))
    goto out;

  if (bert->hidden % bert->heads != 0) {
    g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_CONFIG,
        "'%s': hidden_size %d is not a multiple of num_attention_heads %d",
        path, bert->hidden, bert->heads);
    goto out;
  }

  bert->eps = 1e-12;
  if (json_object_has_member (obj, "layer_norm_eps")) {
    JsonNode *n = json_object_get_member (obj, "layer_norm_eps");
    GType t = json_node_get_value_type (n);
    if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64) {
      g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_CONFIG,
          "'%s': \"layer_norm_eps\" is not a number", path);
      goto out;
    }
    bert->eps = json_node_get_double (n);
    if (!(bert->eps > 0.0 && bert->eps < 1.0)) {
      g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_CONFIG,
          "'%s': \"layer_norm_eps\" = %g is out of range (0, 1)", path,
          bert->eps);
      goto out;
    }
  }

  s = config_string (obj, "hidden_act");
  if (!s || strcmp (s, "gelu") != 0) {
    g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_CONFIG,
        "'%s': hidden_act is \"%s\"; only \"gelu\" (erf) is supported", path,
        s ? s : "(missing)");
    goto out;
  }
  s = config_string (obj, "position_embedding_type");
  if (s && strcmp (s, "absolute") != 0) {
    g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_CONFIG,
        "'%s': position_embedding_type \"%s\" is not supported (only "
        "\"absolute\")",
        path, s);
    goto out;
  }
  s = config_string (obj, "model_type");
  if (s && strcmp (s, "bert") != 0) {
    g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_CONFIG,
        "'%s': model_type \"%s\" is not \"bert\"", path, s);
    goto out;
  }
  ok = TRUE;
out:
  g_object_unref (parser);
  g_free (path);
  return ok;
}

/* ---- weights ----------------------------------------------------------- */

static float *
get (AffectStFile *f, const gchar *prefix, const gchar *name, int d0, int d1,
    GError **error)
{
  gchar *full = g_strconcat (prefix, name, NULL);
  int64_t shape[2] = { d0, d1 };
  float *v = affect_st_get_f32 (f, full, d1 > 0 ? 2 : 1, shape, error);
  g_free (full);
  return v;
}

/* Returns the [cols, rows] transpose of @w [rows, cols] and frees @w. */
static float *
transpose_free (float *w, int rows, int cols)
{
  float *t = g_new (float, (gsize)rows *cols);
  int r, c;

  for (r = 0; r < rows; r++)
    for (c = 0; c < cols; c++)
      t[(gsize)c * rows + r] = w[(gsize)r * cols + c];
  g_free (w);
  return t;
}

static gboolean
load_layer (AffectBert *bert, AffectStFile *f, const gchar *prefix, int i,
    GError **error)
{
  const int H = bert->hidden, IN = bert->inter;
  Layer *l = &bert->layer[i];
  gchar *p = g_strdup_printf ("%sencoder.layer.%d.", prefix, i);
  static const gchar *const qkv[3] = { "query", "key", "value" };
  gboolean ok = FALSE;
  int k;

  l->qkv_w = g_new (float, (gsize)3 * H * H);
  l->qkv_b = g_new (float, (gsize)3 * H);
  for (k = 0; k < 3; k++) {
    gchar *wn = g_strdup_printf ("attention.self.%s.weight", qkv[k]);
    gchar *bn = g_strdup_printf ("attention.self.%s.bias", qkv[k]);
    float *w = get (f, p, wn, H, H, error);
    float *b = w ? get (f, p, bn, H, 0, error) : NULL;
    g_free (wn);
    g_free (bn);
    if (!w || !b) {
      g_free (w);
      goto out;
    }
    memcpy (l->qkv_w + (gsize)k * H * H, w, sizeof (float) * H * H);
    memcpy (l->qkv_b + (gsize)k * H, b, sizeof (float) * H);
    g_free (w);
    g_free (b);
  }
  if (!(l->ao_w = get (f, p, "attention.output.dense.weight", H, H, error))
      || !(l->ao_b = get (f, p, "attention.output.dense.bias", H, 0, error))
      || !(l->ln1_g
           = get (f, p, "attention.output.LayerNorm.weight", H, 0, error))
      || !(
          l->ln1_b = get (f, p, "attention.output.LayerNorm.bias", H, 0, error))
      || !(l->in_w = get (f, p, "intermediate.dense.weight", IN, H, error))
      || !(l->in_b = get (f, p, "intermediate.dense.bias", IN, 0, error))
      || !(l->out_w = get (f, p, "output.dense.weight", H, IN, error))
      || !(l->out_b = get (f, p, "output.dense.bias", H, 0, error))
      || !(l->ln2_g = get (f, p, "output.LayerNorm.weight", H, 0, error))
      || !(l->ln2_b = get (f, p, "output.LayerNorm.bias", H, 0, error)))
    goto out;
  /* PyTorch [out, in] -> [in, out]: OpenBLAS runs NoTrans x NoTrans a
   * little faster than NoTrans x Trans. */
  l->qkv_w = transpose_free (l->qkv_w, 3 * H, H);
  l->ao_w = transpose_free (l->ao_w, H, H);
  l->in_w = transpose_free (l->in_w, IN, H);
  l->out_w = transpose_free (l->out_w, H, IN);
  ok = TRUE;
out:
  g_free (p);
  return ok;
}

static gboolean
load_weights (AffectBert *bert, const gchar *dir, GError **error)
{
  gchar *path = g_build_filename (dir, "model.safetensors", NULL);
  AffectStFile *f;
  const gchar *prefix;
  const int H = bert->hidden;
  gboolean ok = FALSE;
  int i;

  f = affect_st_open (path, error);
  if (!f)
    goto out;
  if (affect_st_find (f, "embeddings.word_embeddings.weight"))
    prefix = "";
  else if (affect_st_find (f, "bert.embeddings.word_embeddings.weight"))
    prefix = "bert.";
  else {
    g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_WEIGHTS,
        "'%s' has no tensor embeddings.word_embeddings.weight (nor "
        "bert.embeddings.word_embeddings.weight): not a BERT model",
        path);
    goto out;
  }
  if (!(bert->word_emb = get (f, prefix, "embeddings.word_embeddings.weight",
            bert->vocab, H, error))
      || !(
          bert->pos_emb = get (f, prefix,
              "embeddings.position_embeddings.weight", bert->max_pos, H, error))
      || !(bert->type_emb
           = get (f, prefix, "embeddings.token_type_embeddings.weight",
               bert->type_vocab, H, error))
      || !(bert->emb_ln_g
           = get (f, prefix, "embeddings.LayerNorm.weight", H, 0, error))
      || !(bert->emb_ln_b
           = get (f, prefix, "embeddings.LayerNorm.bias", H, 0, error)))
    goto out;

  bert->layer = g_new0 (Layer, bert->layers);
  for (i = 0; i < bert->layers; i++)
    if (!load_layer (bert, f, prefix, i, error))
      goto out;
  ok = TRUE;
out:
  if (!ok && error && *error && (*error)->domain != AFFECT_BERT_ERROR) {
    /* Keep the message (it names the tensor), add the full path, unify the
     * domain. */
    GError *e = *error;
    if (strstr (e->message, path))
      *error = g_error_new_literal (
          AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_WEIGHTS, e->message);
    else
      *error = g_error_new (AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_WEIGHTS,
          "%s: %s", path, e->message);
    g_error_free (e);
  }
  if (f)
    affect_st_close (f);
  g_free (path);
  return ok;
}

AffectBert *
affect_bert_new (AffectBackend *backend, const gchar *dir, GError **error)
{
  AffectBert *bert;

  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_NOT_FOUND,
        "word model path '%s' is not a folder", dir);
    return NULL;
  }

  bert = g_new0 (AffectBert, 1);
  bert->backend
      = backend ? affect_backend_ref (backend) : affect_backend_cpu_new (0);
  if (!load_config (bert, dir, error))
    goto fail;
  bert->tokenizer = affect_tokenizer_new_from_dir (dir, error);
  if (!bert->tokenizer)
    goto fail;
  if (affect_tokenizer_get_vocab_size (bert->tokenizer) > (guint)bert->vocab) {
    g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_CONFIG,
        "'%s': vocab.txt has %u tokens but config.json says vocab_size %d", dir,
        affect_tokenizer_get_vocab_size (bert->tokenizer), bert->vocab);
    goto fail;
  }
  if (!load_weights (bert, dir, error))
    goto fail;
  return bert;

fail:
  affect_bert_free (bert);
  return NULL;
}

void
affect_bert_free (AffectBert *bert)
{
  int i;

  if (!bert)
    return;
  if (bert->layer) {
    for (i = 0; i < bert->layers; i++) {
      Layer *l = &bert->layer[i];
      g_free (l->qkv_w);
      g_free (l->qkv_b);
      g_free (l->ao_w);
      g_free (l->ao_b);
      g_free (l->ln1_g);
      g_free (l->ln1_b);
      g_free (l->in_w);
      g_free (l->in_b);
      g_free (l->out_w);
      g_free (l->out_b);
      g_free (l->ln2_g);
      g_free (l->ln2_b);
    }
    g_free (bert->layer);
  }
  g_free (bert->word_emb);
  g_free (bert->pos_emb);
  g_free (bert->type_emb);
  g_free (bert->emb_ln_g);
  g_free (bert->emb_ln_b);
  affect_tokenizer_free (bert->tokenizer);
  if (bert->backend)
    affect_backend_unref (bert->backend);
  g_free (bert);
}

int
affect_bert_get_hidden_size (AffectBert *bert)
{
  g_return_val_if_fail (bert != NULL, 0);
  return bert->hidden;
}

int
affect_bert_get_num_layers (AffectBert *bert)
{
  g_return_val_if_fail (bert != NULL, 0);
  return bert->layers;
}

int
affect_bert_get_max_length (AffectBert *bert)
{
  g_return_val_if_fail (bert != NULL, 0);
  return bert->max_pos;
}

AffectTokenizer *
affect_bert_get_tokenizer (AffectBert *bert)
{
  g_return_val_if_fail (bert != NULL, NULL);
  return bert->tokenizer;
}

/* ---- forward ----------------------------------------------------------- */

/* y[rows, out] = x[rows, in] W + b (W is [in, out]); when @add
 * is non-NULL it is added too (residual, [rows, out]). @nt: threads for
 * the GEMM. */
static void
linear (int nt, const float *x, int rows, int in, const float *w,
    const float *b, int out, const float *add, float *y)
{
  int r;

  for (r = 0; r < rows; r++) {
    float *yr = y + (gsize)r * out;
    if (add) {
      const float *ar = add + (gsize)r * out;
      int j;
      for (j = 0; j < out; j++)
        yr[j] = b[j] + ar[j];
    } else {
      memcpy (yr, b, sizeof (float) * out);
    }
  }
  affect_sgemm (
      nt, FALSE, FALSE, rows, out, in, 1.0f, x, in, w, out, 1.0f, y, out);
}

/* In place over each row of @n floats. Statistics in double. */
static void
layer_norm (
    float *x, int rows, int n, const float *g, const float *b, double eps)
{
  int r, j;

  for (r = 0; r < rows; r++) {
    float *xr = x + (gsize)r * n;
    double mean = 0.0, var = 0.0, inv;

    for (j = 0; j < n; j++)
      mean += xr[j];
    mean /= n;
    for (j = 0; j < n; j++) {
      double d = xr[j] - mean;
      var += d * d;
    }
    var /= n;
    inv = 1.0 / sqrt (var + eps);
    for (j = 0; j < n; j++)
      xr[j] = (float)((xr[j] - mean) * inv) * g[j] + b[j];
  }
}

/* erf(x) as a rational function of x (odd degree-13 numerator, even
 * degree-8 denominator, x clamped to [-4, 4] where erf is 1 within 2e-8):
 * max |error| 4.2e-7 against erf() in double over [-8, 8] (GELU: 7e-7).
 * Coefficients as in Eigen's fast erf. Written once for scalars and once
 * for 4-float vectors (GCC/Clang vector extensions; erff() alone took 15 %
 * of the encoder's time). */
#define ERF_P13 -2.72614225801306e-10f
#define ERF_P11 2.77068142495902e-08f
#define ERF_P9 -2.10102402082508e-06f
#define ERF_P7 -5.69250639462346e-05f
#define ERF_P5 -7.34990630326855e-04f
#define ERF_P3 -2.95459980854025e-03f
#define ERF_P1 -1.60960333262415e-02f
#define ERF_Q8 -1.45660718464996e-05f
#define ERF_Q6 -2.13374055278905e-04f
#define ERF_Q4 -1.68282697438203e-03f
#define ERF_Q2 -7.37332916720468e-03f
#define ERF_Q0 -1.42647390514189e-02f

static inline float
erf_rational (float x)
{
  const float c = x < -4.0f ? -4.0f : (x > 4.0f ? 4.0f : x);
  const float x2 = c * c;
  float p = ERF_P13, q = ERF_Q8;

  p = p * x2 + ERF_P11;
  p = p * x2 + ERF_P9;
  p = p * x2 + ERF_P7;
  p = p * x2 + ERF_P5;
  p = p * x2 + ERF_P3;
  p = p * x2 + ERF_P1;
  q = q * x2 + ERF_Q6;
  q = q * x2 + ERF_Q4;
  q = q * x2 + ERF_Q2;
  q = q * x2 + ERF_Q0;
  return c * p / q;
}

#if defined(__GNUC__) || defined(__clang__)
typedef float v4sf __attribute__ ((vector_size (16)));
typedef gint32 v4si __attribute__ ((vector_size (16)));

static inline v4sf
v4_select (v4si mask, v4sf a, v4sf b) /* mask ? a : b */
{
  return (v4sf)(((v4si)a & mask) | ((v4si)b & ~mask));
}

/* Same operations in the same order as erf_rational(), four at a time. */
static inline v4sf
erf_rational4 (v4sf x)
{
  const v4sf lo = { -4.0f, -4.0f, -4.0f, -4.0f }, hi = -lo;
  v4sf c = v4_select (x < lo, lo, x), x2, p, q;

  c = v4_select (c > hi, hi, c);
  x2 = c * c;
  p = ERF_P13 * x2 + ERF_P11;
  p = p * x2 + ERF_P9;
  p = p * x2 + ERF_P7;
  p = p * x2 + ERF_P5;
  p = p * x2 + ERF_P3;
  p = p * x2 + ERF_P1;
  q = ERF_Q8 * x2 + ERF_Q6;
  q = q * x2 + ERF_Q4;
  q = q * x2 + ERF_Q2;
  q = q * x2 + ERF_Q0;
  return c * p / q;
}
#endif

/* GELU, erf form: 0.5 x (1 + erf(x / sqrt 2)). */
static void
gelu_inplace (float *x, gsize n)
{
  gsize i = 0;

#if defined(__GNUC__) || defined(__clang__)
  for (; i + 4 <= n; i += 4) {
    v4sf v;
    memcpy (&v, x + i, sizeof (v));
    v = 0.5f * v * (1.0f + erf_rational4 (v * (float)M_SQRT1_2));
    memcpy (x + i, &v, sizeof (v));
  }
#endif
  for (; i < n; i++)
    x[i] = 0.5f * x[i] * (1.0f + erf_rational (x[i] * (float)M_SQRT1_2));
}

#if defined(__GNUC__) || defined(__clang__)
/* exp(x) for four floats x <= 0 (softmax after subtracting the maximum):
 * Cody-Waite reduction x = n ln 2 + r and Cephes' degree-5 polynomial for
 * e^r (relative error about 1e-7); below -87.3 (e^x under the smallest
 * normal float, and the -FLT_MAX of masked keys) the result is 0. */
static inline v4sf
exp_neg4 (v4sf x)
{
  const v4sf lo = { -87.33654f, -87.33654f, -87.33654f, -87.33654f };
  const v4si below = x < lo;
  v4sf t, nf, r, z, p;
  v4si n;

  x = v4_select (below, lo, x);
  t = x * 1.44269504088896341f + 0.5f; /* floor (x / ln 2 + 1/2) */
  n = __builtin_convertvector(t, v4si);
  n += (v4si)(__builtin_convertvector(n, v4sf) > t);
  nf = __builtin_convertvector(n, v4sf);
  r = x - nf * 0.693359375f - nf * -2.12194440e-4f;
  z = r * r;
  p = 1.9875691500e-4f * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * z + r + 1.0f;
  p *= (v4sf)((n + 127) << 23); /* 2^n, n >= -126 */
  return v4_select (below, (v4sf){ 0.0f, 0.0f, 0.0f, 0.0f }, p);
}
#endif

/* In place over one row of @S attention scores: softmax, with -FLT_MAX
 * added at the keys where @mask is 0 (as transformers: finfo.min). */
static void
softmax_row (float *row, int S, const gint32 *mask)
{
  float mx = -FLT_MAX, sum = 0.0f, inv;
  int j = 0;

  if (mask)
    for (j = 0; j < S; j++)
      if (!mask[j])
        row[j] += -FLT_MAX;
  j = 0;
#if defined(__GNUC__) || defined(__clang__)
  {
    v4sf vmx = { -FLT_MAX, -FLT_MAX, -FLT_MAX, -FLT_MAX }, vsum = { 0 }, v;
    int rest, l;

    for (; j + 4 <= S; j += 4) {
      memcpy (&v, row + j, sizeof (v));
      vmx = v4_select (v > vmx, v, vmx);
    }
    for (l = 0; l < 4; l++)
      mx = MAX (mx, vmx[l]);
    for (; j < S; j++)
      mx = MAX (mx, row[j]);
    for (j = 0; j + 4 <= S; j += 4) {
      memcpy (&v, row + j, sizeof (v));
      v = exp_neg4 (v - mx);
      vsum += v;
      memcpy (row + j, &v, sizeof (v));
    }
    rest = S - j;
    if (rest > 0) {
      v4sf tail = { 0 };

      memcpy (&tail, row + j, sizeof (float) * rest);
      tail = exp_neg4 (tail - mx);
      memcpy (row + j, &tail, sizeof (float) * rest);
      for (l = 0; l < rest; l++)
        sum += tail[l];
    }
    sum += (vsum[0] + vsum[1]) + (vsum[2] + vsum[3]);
  }
#else
  for (j = 0; j < S; j++)
    mx = MAX (mx, row[j]);
  for (j = 0; j < S; j++) {
    row[j] = expf (row[j] - mx);
    sum += row[j];
  }
#endif
  inv = 1.0f / sum;
  for (j = 0; j < S; j++)
    row[j] *= inv;
}

/* Multi-head self-attention context for one sequence: qkv [S, 3H] ->
 * ctx [S, H]. @scores is [S, S] scratch. @nt: threads for the GEMMs. */
static void
attention (const AffectBert *bert, int nt, const float *qkv, const gint32 *mask,
    int S, float *scores, float *ctx)
{
  const int H = bert->hidden, nh = bert->heads, d = H / nh;
  const float scale = 1.0f / sqrtf ((float)d);
  gboolean masked = FALSE;
  int h, i;

  /* Without padding the mask changes nothing: skip it. */
  for (i = 0; mask && i < S && !masked; i++)
    masked = mask[i] == 0;
  if (!masked)
    mask = NULL;
  for (h = 0; h < nh; h++) {
    const float *q = qkv + h * d, *k = qkv + H + h * d,
                *v = qkv + 2 * H + h * d;

    affect_sgemm (
        nt, FALSE, TRUE, S, S, d, scale, q, 3 * H, k, 3 * H, 0.0f, scores, S);
    for (i = 0; i < S; i++)
      softmax_row (scores + (gsize)i * S, S, mask);
    affect_sgemm (nt, FALSE, FALSE, S, d, S, 1.0f, scores, S, v, 3 * H, 0.0f,
        ctx + h * d, H);
  }
}

gboolean
affect_bert_encode (AffectBert *bert, const gint32 *ids, const gint32 *mask,
    int batch, int seq_len, float *hidden, GError **error)
{
  const int H = bert ? bert->hidden : 0, IN = bert ? bert->inter : 0;
  gsize rows, r;
  float *h, *qkv, *ctx, *tmp, *inter, *scores;
  int b, l, s, j, nt;

  g_return_val_if_fail (bert != NULL, FALSE);
  g_return_val_if_fail (ids != NULL && hidden != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (batch < 1 || seq_len < 1 || seq_len > bert->max_pos) {
    g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_INPUT,
        "bad input size: batch %d, sequence length %d (max %d)", batch, seq_len,
        bert->max_pos);
    return FALSE;
  }
  rows = (gsize)batch * seq_len;
  for (r = 0; r < rows; r++) {
    if (ids[r] < 0 || ids[r] >= bert->vocab) {
      g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_INPUT,
          "token id %d at position %" G_GSIZE_FORMAT
          " is outside the vocabulary [0, %d)",
          ids[r], r, bert->vocab);
      return FALSE;
    }
  }

  h = g_try_new (float, rows *H);
  qkv = g_try_new (float, rows * 3 * H);
  ctx = g_try_new (float, rows *H);
  tmp = g_try_new (float, rows *H);
  inter = g_try_new (float, rows *IN);
  scores = g_try_new (float, (gsize)seq_len *seq_len);
  if (!h || !qkv || !ctx || !tmp || !inter || !scores) {
    g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_INPUT,
        "out of memory for batch %d × %d tokens", batch, seq_len);
    g_free (h);
    g_free (qkv);
    g_free (ctx);
    g_free (tmp);
    g_free (inter);
    g_free (scores);
    return FALSE;
  }
  /* The backend's thread count, for each GEMM call only (affect_sgemm():
   * per calling thread, nothing process-wide). */
  nt = affect_backend_get_n_threads (bert->backend);

  /* Embeddings: word + position + token type 0, LayerNorm. */
  for (b = 0; b < batch; b++)
    for (s = 0; s < seq_len; s++) {
      gsize row = (gsize)b * seq_len + s;
      const float *we = bert->word_emb + (gsize)ids[row] * H;
      const float *pe = bert->pos_emb + (gsize)s * H;
      const float *te = bert->type_emb;
      float *o = h + row * H;
      for (j = 0; j < H; j++)
        o[j] = we[j] + te[j] + pe[j];
    }
  layer_norm (h, (int)rows, H, bert->emb_ln_g, bert->emb_ln_b, bert->eps);

  for (l = 0; l < bert->layers; l++) {
    const Layer *ly = &bert->layer[l];

    linear (nt, h, (int)rows, H, ly->qkv_w, ly->qkv_b, 3 * H, NULL, qkv);
    for (b = 0; b < batch; b++)
      attention (bert, nt, qkv + (gsize)b * seq_len * 3 * H,
          mask ? mask + (gsize)b * seq_len : NULL, seq_len, scores,
          ctx + (gsize)b * seq_len * H);
    linear (nt, ctx, (int)rows, H, ly->ao_w, ly->ao_b, H, h, tmp);
    layer_norm (tmp, (int)rows, H, ly->ln1_g, ly->ln1_b, bert->eps);
    linear (nt, tmp, (int)rows, H, ly->in_w, ly->in_b, IN, NULL, inter);
    gelu_inplace (inter, rows * IN);
    linear (nt, inter, (int)rows, IN, ly->out_w, ly->out_b, H, tmp, h);
    layer_norm (h, (int)rows, H, ly->ln2_g, ly->ln2_b, bert->eps);
  }

  memcpy (hidden, h, sizeof (float) * rows * H);
  g_free (h);
  g_free (qkv);
  g_free (ctx);
  g_free (tmp);
  g_free (inter);
  g_free (scores);
  return TRUE;
}

AffectBertText *
affect_bert_embed_text (
    AffectBert *bert, const gchar *text, gssize len, GError **error)
{
  AffectTokens *tokens;
  AffectBertText *t;

  g_return_val_if_fail (bert != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  tokens = affect_tokenizer_encode (
      bert->tokenizer, text, len, (guint)bert->max_pos, error);
  if (!tokens)
    return NULL;
  t = g_new0 (AffectBertText, 1);
  t->tokens = tokens;
  t->hidden_size = bert->hidden;
  t->hidden = g_new (float, (gsize)tokens->n_tokens * bert->hidden);
  if (!affect_bert_encode (bert, tokens->ids, tokens->mask, 1,
          (int)tokens->n_tokens, t->hidden, error)) {
    affect_bert_text_free (t);
    return NULL;
  }
  return t;
}

void
affect_bert_text_free (AffectBertText *t)
{
  if (!t)
    return;
  affect_tokens_free (t->tokens);
  g_free (t->hidden);
  g_free (t);
}
