/* gst-affect — models/text/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BERT encoder, built from the engine's tensor ops (affect-tensor.h): the
 * weights are tensors on the model's backend, uploaded once at load time,
 * and the forward pass is a sequence of table ops (gather, broadcast add,
 * layer norm, matmul over strided views of the fused Q|K|V matrix, masked
 * softmax, GELU). No kernels of its own. See affect-bert.h and
 * docs/words.md.
 */

#include "affect-bert.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

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

/* One encoder layer's weights, tensors on the model's backend. Matrices are
 * [1, 1, in, out] (PyTorch's [out, in] transposed at load: y = x W), vectors
 * [1, 1, 1, n]. */
typedef struct {
  AffectTensor *qkv_w;         /* [H, 3H]: query, key, value columns */
  AffectTensor *qkv_b;         /* [3H] */
  AffectTensor *ao_w, *ao_b;   /* attention.output.dense [H, H], [H] */
  AffectTensor *ln1_g, *ln1_b; /* attention.output.LayerNorm */
  AffectTensor *in_w, *in_b;   /* intermediate.dense [H, I], [I] */
  AffectTensor *out_w, *out_b; /* output.dense [I, H], [H] */
  AffectTensor *ln2_g, *ln2_b; /* output.LayerNorm */
} Layer;

struct _AffectBert {
  AffectBackend *backend;
  AffectTokenizer *tokenizer;
  int hidden, layers, heads, inter, max_pos, type_vocab, vocab;
  double eps;
  /* [1, 1, vocab, H], [1, 1, max_pos, H], [1, 1, type_vocab, H], [1, 1, 1,
   * H] × 2 */
  AffectTensor *word_emb, *pos_emb, *type_emb, *emb_ln_g, *emb_ln_b;
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

/* Uploads @v (@rows × @cols floats, freed) as a [1, 1, rows, cols] tensor on
 * the model's backend; NULL (with @v freed) when @v is NULL. */
static AffectTensor *
upload_free (AffectBert *bert, float *v, int rows, int cols, GError **error)
{
  AffectTensor *t;

  if (v == NULL)
    return NULL;
  t = affect_tensor_new_from_data (bert->backend, 1, 1, rows, cols, v);
  g_free (v);
  if (t == NULL)
    g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_WEIGHTS,
        "out of memory for a %d × %d weight tensor", rows, cols);
  return t;
}

/* A vector [n] as a [1, 1, 1, n] tensor. */
static AffectTensor *
get_vector (AffectBert *bert, AffectStFile *f, const gchar *prefix,
    const gchar *name, int n, GError **error)
{
  return upload_free (bert, get (f, prefix, name, n, 0, error), 1, n, error);
}

/* A PyTorch Linear weight [out, in] as a [1, 1, in, out] tensor. */
static AffectTensor *
get_linear_weight (AffectBert *bert, AffectStFile *f, const gchar *prefix,
    const gchar *name, int out, int in, GError **error)
{
  float *w = get (f, prefix, name, out, in, error);

  return upload_free (
      bert, w ? transpose_free (w, out, in) : NULL, in, out, error);
}

static gboolean
load_layer (AffectBert *bert, AffectStFile *f, const gchar *prefix, int i,
    GError **error)
{
  const int H = bert->hidden, IN = bert->inter;
  Layer *l = &bert->layer[i];
  gchar *p = g_strdup_printf ("%sencoder.layer.%d.", prefix, i);
  static const gchar *const qkv[3] = { "query", "key", "value" };
  float *qkv_w = g_new (float, (gsize)3 * H * H);
  float *qkv_b = g_new (float, (gsize)3 * H);
  gboolean ok = FALSE;
  int k;

  /* Query, key and value stacked into one [3H, H] matrix (one product for
   * the three), transposed to [H, 3H]. */
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
    memcpy (qkv_w + (gsize)k * H * H, w, sizeof (float) * H * H);
    memcpy (qkv_b + (gsize)k * H, b, sizeof (float) * H);
    g_free (w);
    g_free (b);
  }
  l->qkv_w
      = upload_free (bert, transpose_free (qkv_w, 3 * H, H), H, 3 * H, error);
  qkv_w = NULL;
  l->qkv_b = upload_free (bert, qkv_b, 1, 3 * H, error);
  qkv_b = NULL;
  if (!l->qkv_w || !l->qkv_b
      || !(l->ao_w = get_linear_weight (
               bert, f, p, "attention.output.dense.weight", H, H, error))
      || !(l->ao_b
           = get_vector (bert, f, p, "attention.output.dense.bias", H, error))
      || !(l->ln1_g = get_vector (
               bert, f, p, "attention.output.LayerNorm.weight", H, error))
      || !(l->ln1_b = get_vector (
               bert, f, p, "attention.output.LayerNorm.bias", H, error))
      || !(l->in_w = get_linear_weight (
               bert, f, p, "intermediate.dense.weight", IN, H, error))
      || !(l->in_b
           = get_vector (bert, f, p, "intermediate.dense.bias", IN, error))
      || !(l->out_w = get_linear_weight (
               bert, f, p, "output.dense.weight", H, IN, error))
      || !(l->out_b = get_vector (bert, f, p, "output.dense.bias", H, error))
      || !(l->ln2_g
           = get_vector (bert, f, p, "output.LayerNorm.weight", H, error))
      || !(l->ln2_b
           = get_vector (bert, f, p, "output.LayerNorm.bias", H, error)))
    goto out;
  ok = TRUE;
out:
  g_free (qkv_w);
  g_free (qkv_b);
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
  if (!(bert->word_emb = upload_free (bert,
            get (f, prefix, "embeddings.word_embeddings.weight", bert->vocab, H,
                error),
            bert->vocab, H, error))
      || !(bert->pos_emb = upload_free (bert,
               get (f, prefix, "embeddings.position_embeddings.weight",
                   bert->max_pos, H, error),
               bert->max_pos, H, error))
      || !(bert->type_emb = upload_free (bert,
               get (f, prefix, "embeddings.token_type_embeddings.weight",
                   bert->type_vocab, H, error),
               bert->type_vocab, H, error))
      || !(bert->emb_ln_g = get_vector (
               bert, f, prefix, "embeddings.LayerNorm.weight", H, error))
      || !(bert->emb_ln_b = get_vector (
               bert, f, prefix, "embeddings.LayerNorm.bias", H, error)))
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
      affect_tensor_free (l->qkv_w);
      affect_tensor_free (l->qkv_b);
      affect_tensor_free (l->ao_w);
      affect_tensor_free (l->ao_b);
      affect_tensor_free (l->ln1_g);
      affect_tensor_free (l->ln1_b);
      affect_tensor_free (l->in_w);
      affect_tensor_free (l->in_b);
      affect_tensor_free (l->out_w);
      affect_tensor_free (l->out_b);
      affect_tensor_free (l->ln2_g);
      affect_tensor_free (l->ln2_b);
    }
    g_free (bert->layer);
  }
  affect_tensor_free (bert->word_emb);
  affect_tensor_free (bert->pos_emb);
  affect_tensor_free (bert->type_emb);
  affect_tensor_free (bert->emb_ln_g);
  affect_tensor_free (bert->emb_ln_b);
  affect_tokenizer_free (bert->tokenizer);
  if (bert->backend)
    affect_backend_unref (bert->backend);
  g_free (bert);
}

static gpointer
shared_load (AffectBackend *backend, const gchar *dir, GError **error)
{
  return affect_bert_new (backend, dir, error);
}

static void
shared_free (gpointer net)
{
  affect_bert_free (net);
}

/* Shared, never batched: no forward (affect-shared.h); keyed on the
 * weights file of the folder. */
static const AffectSharedNetClass shared_class = {
  .kind = "bert",
  .load = shared_load,
  .free = shared_free,
  .key_file = "model.safetensors",
};

const AffectSharedNetClass *
affect_bert_class (void)
{
  return &shared_class;
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

/* Attention scores are computed for this many floats' worth of sequences
 * at a time (at least one sequence): 32 MiB. */
#define MAX_SCORES_FLOATS ((gsize)8 * 1024 * 1024)

/* The tensors of one affect_bert_encode() call, rows = batch × seq_len. */
typedef struct {
  AffectTensor *h;      /* [1, 1, rows, H] hidden states */
  AffectTensor *qkv;    /* [1, 1, rows, 3H] */
  AffectTensor *scores; /* [group, heads, seq_len, seq_len] */
  AffectTensor *ctx;    /* [1, 1, rows, H] attention context */
  AffectTensor *inter;  /* [1, 1, rows, I] */
  AffectTensor *mask;   /* [batch, 1, 1, seq_len] additive, or NULL */
} Activations;

static void
activations_clear (Activations *a)
{
  affect_tensor_free (a->h);
  affect_tensor_free (a->qkv);
  affect_tensor_free (a->scores);
  affect_tensor_free (a->ctx);
  affect_tensor_free (a->inter);
  affect_tensor_free (a->mask);
}

/* y = x W (+ beta y): one product over every row (W [1, 1, in, out]). */
static gboolean
dense (AffectTensor *x, AffectTensor *w, AffectTensor *y, float beta)
{
  AffectMatView vx = affect_mat_view (x), vw = affect_mat_view (w);
  AffectMatView vy = affect_mat_view (y);

  return affect_matmul_strided (&vx, FALSE, &vw, FALSE, &vy, 1, 1, 1.0f, beta);
}

/* Multi-head self-attention: ctx = softmax (Q Kᵀ / √d + mask) V for every
 * sequence and head, Q, K and V read in place from the fused qkv rows
 * (head j of sequence i: columns j·d, H + j·d and 2H + j·d of rows
 * i·S .. i·S + S - 1), the context written to its columns j·d of ctx.
 * Sequences go through in groups of as many as a->scores holds. */
static gboolean
attention (const AffectBert *bert, Activations *a, int batch, int S)
{
  const int H = bert->hidden, nh = bert->heads, d = H / nh;
  const int group = a->scores->n;
  int first;

  for (first = 0; first < batch; first += group) {
    const int g = MIN (group, batch - first);
    AffectTensor *scores = g == group
                               ? a->scores
                               : affect_tensor_view (a->scores, 0, g, nh, S, S);
    AffectTensor *mask
        = a->mask ? affect_tensor_view (a->mask, (gsize)first * S, g, 1, 1, S)
                  : NULL;
    AffectMatView q = { a->qkv, (gsize)first * S * 3 * H, S, d, 3 * H,
      { (gsize)S * 3 * H, d } };
    AffectMatView k = q, v = q, s = affect_mat_view (scores);
    AffectMatView c
        = { a->ctx, (gsize)first * S * H, S, d, H, { (gsize)S * H, d } };
    gboolean ok;

    k.offset += H;
    v.offset += 2 * (gsize)H;
    ok = scores && (!a->mask || mask)
         && affect_matmul_strided (
             &q, FALSE, &k, TRUE, &s, g, nh, 1.0f / sqrtf ((float)d), 0.0f);
    if (ok) {
      affect_softmax_masked_inplace (scores, 1.0f, mask, -1);
      ok = affect_matmul_strided (&s, FALSE, &v, FALSE, &c, g, nh, 1.0f, 0.0f);
    }
    affect_tensor_free (mask);
    if (scores != a->scores)
      affect_tensor_free (scores);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

/* One post-LayerNorm encoder layer, h in place. */
static gboolean
encoder_layer (
    const AffectBert *bert, const Layer *l, Activations *a, int batch, int S)
{
  /* qkv = h Wqkv + b */
  if (!dense (a->h, l->qkv_w, a->qkv, 0.0f))
    return FALSE;
  affect_binary_inplace (a->qkv, l->qkv_b, AFFECT_BINARY_ADD);
  if (!attention (bert, a, batch, S))
    return FALSE;
  /* h = LayerNorm (h + b + ctx Wo) */
  affect_binary_inplace (a->h, l->ao_b, AFFECT_BINARY_ADD);
  if (!dense (a->ctx, l->ao_w, a->h, 1.0f))
    return FALSE;
  affect_layer_norm_inplace (a->h, l->ln1_g, l->ln1_b, bert->eps);
  /* inter = GELU (h Wi + bi) */
  if (!dense (a->h, l->in_w, a->inter, 0.0f))
    return FALSE;
  affect_binary_inplace (a->inter, l->in_b, AFFECT_BINARY_ADD);
  affect_gelu_inplace (a->inter);
  /* h = LayerNorm (h + bo + inter Wo) */
  affect_binary_inplace (a->h, l->out_b, AFFECT_BINARY_ADD);
  if (!dense (a->inter, l->out_w, a->h, 1.0f))
    return FALSE;
  affect_layer_norm_inplace (a->h, l->ln2_g, l->ln2_b, bert->eps);
  return TRUE;
}

/* The additive attention mask [batch, 1, 1, S]: 0 for tokens, -FLT_MAX
 * (as transformers: the dtype's minimum) for padding. NULL in *@out when
 * nothing is padded (the mask would change nothing). */
static gboolean
make_mask (
    AffectBert *bert, const gint32 *mask, int batch, int S, AffectTensor **out)
{
  const gsize n = (gsize)batch * S;
  gboolean padded = FALSE;
  float *m;
  gsize i;

  *out = NULL;
  for (i = 0; mask && i < n && !padded; i++)
    padded = mask[i] == 0;
  if (!padded)
    return TRUE;
  m = g_new (float, n);
  for (i = 0; i < n; i++)
    m[i] = mask[i] ? 0.0f : -FLT_MAX;
  *out = affect_tensor_new_from_data (bert->backend, batch, 1, 1, S, m);
  g_free (m);
  return *out != NULL;
}

gboolean
affect_bert_encode (AffectBert *bert, const gint32 *ids, const gint32 *mask,
    int batch, int seq_len, float *hidden, GError **error)
{
  Activations a = { NULL };
  AffectTensor *pos = NULL, *type = NULL;
  gboolean ok = FALSE;
  gsize rows, r;
  int H, l, group;

  g_return_val_if_fail (bert != NULL, FALSE);
  g_return_val_if_fail (ids != NULL && hidden != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  H = bert->hidden;
  if (batch < 1 || seq_len < 1 || seq_len > bert->max_pos
      || (gint64)batch * seq_len > G_MAXINT / MAX (bert->inter, 3 * H)) {
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

  /* Embeddings: word + token type 0 + position (repeated for each
   * sequence), LayerNorm. */
  a.h = affect_gather_rows (bert->word_emb, ids, rows);
  a.qkv = affect_tensor_new (bert->backend, 1, 1, (int)rows, 3 * H);
  group = (int)CLAMP (
      MAX_SCORES_FLOATS / ((gsize)bert->heads * seq_len * seq_len), 1,
      (gsize)batch);
  a.scores
      = affect_tensor_new (bert->backend, group, bert->heads, seq_len, seq_len);
  a.ctx = affect_tensor_new (bert->backend, 1, 1, (int)rows, H);
  a.inter = affect_tensor_new (bert->backend, 1, 1, (int)rows, bert->inter);
  type = affect_tensor_view (bert->type_emb, 0, 1, 1, 1, H);
  pos = affect_tensor_view (bert->pos_emb, 0, 1, 1, seq_len, H);
  if (!a.h || !a.qkv || !a.scores || !a.ctx || !a.inter || !type || !pos
      || !make_mask (bert, mask, batch, seq_len, &a.mask)) {
    g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_INPUT,
        "out of memory for batch %d × %d tokens", batch, seq_len);
    goto out;
  }
  affect_binary_inplace (a.h, type, AFFECT_BINARY_ADD);
  affect_binary_inplace (a.h, pos, AFFECT_BINARY_ADD);
  affect_layer_norm_inplace (a.h, bert->emb_ln_g, bert->emb_ln_b, bert->eps);

  for (l = 0; l < bert->layers; l++) {
    if (!encoder_layer (bert, &bert->layer[l], &a, batch, seq_len)) {
      g_set_error (error, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_INPUT,
          "backend %s refused a product of layer %d",
          affect_backend_get_name (bert->backend), l);
      goto out;
    }
  }
  affect_tensor_download (a.h, hidden);
  ok = TRUE;
out:
  affect_tensor_free (type);
  affect_tensor_free (pos);
  activations_clear (&a);
  return ok;
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
