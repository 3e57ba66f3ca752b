/* gst-affect — tests for the word branch: BERT tokenizer and encoder
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *  - tokenizer unit cases on a small vocabulary written by the test;
 *  - bad vocabularies and bad model folders (a tiny random BERT written with
 *    our safetensors writer, then broken one way at a time) give errors that
 *    name the file and the problem;
 *  - the encoder on the tiny model against a plain double-precision
 *    reference written here (loops, no BLAS), with padding in a batch;
 *  - parity with Hugging Face on the real all-MiniLM-L6-v2
 *    (tests/golden/words/, made by make-golden.py): token ids and word
 *    offsets identical on the corpus, last_hidden_state max |Δ| <= 1e-4.
 *    Skipped when the model is not installed (affect-fetch-word-model),
 *    unless AFFECT_REQUIRE_MODELS=1.
 */

#include <check.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "affect-bert.h"
#include "affect-safetensors.h"
#include "affect-tokenizer.h"
#include "test-tools.h"

#define HIDDEN_TOL 1e-4

#define ck_assert_error(err, dom, cod)                                     \
  ck_assert_msg ((err) != NULL && g_error_matches ((err), (dom), (cod)),   \
      "expected error %s/%d, got %s", g_quark_to_string (dom), (int)(cod), \
      (err) ? (err)->message : "no error")

/* ---- helpers ----------------------------------------------------------- */

/* The installed MiniLM folder, or NULL (skip) / failure when
 * AFFECT_REQUIRE_MODELS=1. */
static gchar *
require_model (void)
{
  GError *err = NULL;
  gchar *dir = affect_bert_find (NULL, &err);

  if (dir)
    return dir;
  ck_assert_msg (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") != 0,
      "word model missing and AFFECT_REQUIRE_MODELS=1: %s", err->message);
  g_printerr ("SKIP: %s (models/text/fetch-word-model.sh)\n", err->message);
  g_error_free (err);
  return NULL;
}

static gchar *
make_tmpdir (void)
{
  GError *err = NULL;
  gchar *d = g_dir_make_tmp ("affect-words-XXXXXX", &err);
  ck_assert_msg (d != NULL, "g_dir_make_tmp: %s", err ? err->message : "?");
  return d;
}

static void
rm_rf (const gchar *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  if (!d)
    return;
  while ((name = g_dir_read_name (d))) {
    gchar *p = g_build_filename (dir, name, NULL);
    g_unlink (p);
    g_free (p);
  }
  g_dir_close (d);
  g_rmdir (dir);
}

static void
write_file (const gchar *dir, const gchar *name, const gchar *data, gssize n)
{
  gchar *p = g_build_filename (dir, name, NULL);
  GError *err = NULL;
  ck_assert_msg (g_file_set_contents (p, data, n, &err), "write %s: %s", p,
      err ? err->message : "?");
  g_free (p);
}

/* ---- tokenizer unit cases --------------------------------------------- */

static const gchar *const small_vocab[]
    = { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", ",",
        "!", "un", "##aff", "##able", "the", "a", "##a", "日", "本", "cafe",
        "'", "s", "don", "t", "Hello", "café", "σ", "istanbul", NULL };

static AffectTokenizer *
small_tokenizer (gboolean lower, gchar **dir_out)
{
  gchar *dir = make_tmpdir ();
  gchar *joined = g_strjoinv ("\n", (gchar **)small_vocab);
  gchar *vocab = g_strconcat (joined, "\n", NULL);
  gchar *path = g_build_filename (dir, "vocab.txt", NULL);
  GError *err = NULL;
  AffectTokenizer *tok;

  write_file (dir, "vocab.txt", vocab, -1);
  tok = affect_tokenizer_new (path, lower, &err);
  ck_assert_msg (tok != NULL, "%s", err ? err->message : "?");
  g_free (joined);
  g_free (vocab);
  g_free (path);
  *dir_out = dir;
  return tok;
}

static gint32
id_of (AffectTokenizer *tok, const gchar *t)
{
  gint32 id = affect_tokenizer_token_to_id (tok, t);
  ck_assert_msg (id >= 0, "'%s' not in the test vocabulary", t);
  return id;
}

/* @expect: space-separated tokens between [CLS] and [SEP]; @spans: pairs of
 * word byte offsets per token (NULL: not checked). */
static void
check_encode (AffectTokenizer *tok, const gchar *text, gssize len,
    guint max_len, const gchar *expect, const gint32 *spans)
{
  GError *err = NULL;
  AffectTokens *t = affect_tokenizer_encode (tok, text, len, max_len, &err);
  gchar **want = g_strsplit (expect, " ", -1);
  guint n = *expect ? g_strv_length (want) : 0, i;

  ck_assert_msg (t != NULL, "%s", err ? err->message : "?");
  ck_assert_msg (t->n_tokens == n + 2, "'%s': %u tokens, expected %u + 2", text,
      t->n_tokens, n);
  ck_assert_int_eq (t->ids[0], id_of (tok, "[CLS]"));
  ck_assert_int_eq (t->ids[n + 1], id_of (tok, "[SEP]"));
  ck_assert_int_eq (t->word_start[0], -1);
  ck_assert_int_eq (t->word_end[n + 1], -1);
  for (i = 0; i < n; i++) {
    ck_assert_msg (t->ids[i + 1] == id_of (tok, want[i]),
        "'%s': token %u is '%s', expected '%s'", text, i,
        affect_tokenizer_id_to_token (tok, t->ids[i + 1]), want[i]);
    ck_assert_int_eq (t->mask[i + 1], 1);
    if (spans) {
      ck_assert_msg (t->word_start[i + 1] == spans[2 * i]
                         && t->word_end[i + 1] == spans[2 * i + 1],
          "'%s': token %u word bytes [%d, %d), expected [%d, %d)", text, i,
          t->word_start[i + 1], t->word_end[i + 1], spans[2 * i],
          spans[2 * i + 1]);
    }
  }
  g_strfreev (want);
  affect_tokens_free (t);
}

START_TEST (test_tokenizer_basic)
{
  gchar *dir;
  AffectTokenizer *tok = small_tokenizer (TRUE, &dir);
  static const gint32 hw[] = { 0, 5, 5, 6, 7, 12, 12, 13 };
  static const gint32 un[] = { 1, 10, 1, 10, 1, 10 };
  static const gint32 cjk[] = { 0, 3, 3, 6, 7, 12 };
  static const gint32 cafe[] = { 0, 5 };
  static const gint32 ctl[] = { 0, 6 };
  gchar *a100 = g_strnfill (100, 'a'), *a101 = g_strnfill (101, 'a');
  GString *exp100 = g_string_new ("a");
  int i;

  ck_assert_uint_eq (affect_tokenizer_get_vocab_size (tok),
      g_strv_length ((gchar **)small_vocab));
  check_encode (tok, "Hello, world!", -1, 512, "hello , world !", hw);
  check_encode (tok, " unaffable ", -1, 512, "un ##aff ##able", un);
  /* unmatched rest: the whole word is one [UNK] */
  check_encode (tok, "unaffablex world", -1, 512, "[UNK] world", NULL);
  /* CJK split, each ideograph a word */
  check_encode (tok, "日本 hello", -1, 512, "日 本 hello", cjk);
  check_encode (tok, "日本hello", -1, 512, "日 本 hello", NULL);
  /* accents stripped, lower-cased; decomposed input too */
  check_encode (tok, "CAFÉ", -1, 512, "cafe", cafe);
  check_encode (tok, "Cafe\xcc\x81", -1, 512, "cafe", NULL);
  /* control characters dropped (joining the word), NUL with explicit len */
  check_encode (tok, "hel\x01lo", -1, 512, "hello", ctl);
  check_encode (tok, "hel\0lo world", 12, 512, "hello world", NULL);
  check_encode (tok, "hello\xe2\x80\x8bworld", -1, 512, "[UNK]", NULL);
  /* invalid UTF-8 bytes are dropped */
  check_encode (
      tok, "hello \xff\xfe world \xe6\x97", -1, 512, "hello world", NULL);
  /* whitespace: tab, newline, no-break space, ideographic space */
  check_encode (tok, "\thello\n\xc2\xa0world\xe3\x80\x80!", -1, 512,
      "hello world !", NULL);
  /* contractions split at the apostrophe */
  check_encode (tok, "don't", -1, 512, "don ' t", NULL);
  /* special tokens written in the text */
  check_encode (
      tok, "hello[MASK]world [SEP]", -1, 512, "hello [MASK] world [SEP]", NULL);
  /* no context-dependent lower-casing: final capital sigma is σ */
  check_encode (tok, "Σ", -1, 512, "σ", NULL);
  check_encode (tok, "İstanbul", -1, 512, "istanbul", NULL);
  /* 100 characters: matched; 101: [UNK] */
  for (i = 1; i < 100; i++)
    g_string_append (exp100, " ##a");
  check_encode (tok, a100, -1, 512, exp100->str, NULL);
  check_encode (tok, a101, -1, 512, "[UNK]", NULL);
  /* empty text and text without words: [CLS] [SEP] */
  check_encode (tok, "", -1, 512, "", NULL);
  check_encode (tok, NULL, 0, 512, "", NULL);
  check_encode (tok, " \t\r\n\x01\xef\xbf\xbd", -1, 512, "", NULL);
  check_encode (tok, "\xcc\x81", -1, 512, "", NULL);

  g_string_free (exp100, TRUE);
  g_free (a100);
  g_free (a101);
  affect_tokenizer_free (tok);
  rm_rf (dir);
  g_free (dir);
}
END_TEST

START_TEST (test_tokenizer_truncation)
{
  gchar *dir;
  AffectTokenizer *tok = small_tokenizer (TRUE, &dir);
  GError *err = NULL;
  AffectTokens *t;

  t = affect_tokenizer_encode (tok, "hello world unaffable", -1, 4, &err);
  ck_assert (t != NULL);
  ck_assert_uint_eq (t->n_tokens, 4);
  ck_assert (t->truncated);
  ck_assert_int_eq (t->ids[1], id_of (tok, "hello"));
  ck_assert_int_eq (t->ids[2], id_of (tok, "world"));
  ck_assert_int_eq (t->ids[3], id_of (tok, "[SEP]"));
  affect_tokens_free (t);

  /* truncation may cut a word's pieces */
  t = affect_tokenizer_encode (tok, "unaffable", -1, 4, &err);
  ck_assert_uint_eq (t->n_tokens, 4);
  ck_assert_int_eq (t->ids[2], id_of (tok, "##aff"));
  affect_tokenizer_get_do_lower_case (tok);
  affect_tokens_free (t);

  t = affect_tokenizer_encode (tok, "hello", -1, 2, &err);
  ck_assert_uint_eq (t->n_tokens, 2);
  ck_assert (t->truncated);
  affect_tokens_free (t);

  t = affect_tokenizer_encode (tok, "hello", -1, 3, &err);
  ck_assert_uint_eq (t->n_tokens, 3);
  ck_assert (!t->truncated);
  affect_tokens_free (t);

  t = affect_tokenizer_encode (tok, "hello", -1, 1, &err);
  ck_assert (t == NULL);
  ck_assert_error (err, AFFECT_TOKENIZER_ERROR, AFFECT_TOKENIZER_ERROR_ARG);
  g_clear_error (&err);

  affect_tokenizer_free (tok);
  rm_rf (dir);
  g_free (dir);
}
END_TEST

START_TEST (test_tokenizer_cased)
{
  gchar *dir;
  AffectTokenizer *tok = small_tokenizer (FALSE, &dir);

  ck_assert (!affect_tokenizer_get_do_lower_case (tok));
  check_encode (tok, "Hello hello", -1, 512, "Hello hello", NULL);
  check_encode (tok, "café", -1, 512, "café", NULL);
  check_encode (tok, "Café", -1, 512, "[UNK]", NULL);
  affect_tokenizer_free (tok);
  rm_rf (dir);
  g_free (dir);
}
END_TEST

static void
expect_vocab_error (const gchar *content, gssize n, const gchar *needle)
{
  gchar *dir = make_tmpdir ();
  gchar *path = g_build_filename (dir, "vocab.txt", NULL);
  GError *err = NULL;
  AffectTokenizer *tok;

  if (content)
    write_file (dir, "vocab.txt", content, n);
  tok = affect_tokenizer_new (path, TRUE, &err);
  ck_assert_msg (tok == NULL, "bad vocabulary accepted (%s)", needle);
  ck_assert (err != NULL);
  ck_assert_msg (strstr (err->message, path) != NULL,
      "error does not name the file: %s", err->message);
  ck_assert_msg (strstr (err->message, needle) != NULL,
      "error '%s' does not say '%s'", err->message, needle);
  g_error_free (err);
  g_free (path);
  rm_rf (dir);
  g_free (dir);
}

START_TEST (test_tokenizer_bad_vocab)
{
  expect_vocab_error (NULL, 0, "cannot read");
  expect_vocab_error ("", 0, "no tokens");
  expect_vocab_error ("[CLS]\n[SEP]\nhello\n", -1, "[UNK]");
  expect_vocab_error ("[UNK]\n[SEP]\n", -1, "[CLS]");
  expect_vocab_error ("[UNK]\n[CLS]\n[SEP]\n\xff\xfe\n", -1, "not UTF-8");
  expect_vocab_error ("[UNK]\n[CLS]\0\n[SEP]\n", 16, "not UTF-8");
}
END_TEST

/* ---- a tiny random BERT ------------------------------------------------ */

#define T_H 8
#define T_HEADS 2
#define T_LAYERS 2
#define T_INTER 12
#define T_POS 16
#define T_TYPES 2

typedef enum {
  BREAK_NONE,
  BREAK_NO_VOCAB,
  BREAK_NO_CONFIG,
  BREAK_CONFIG_ACT,
  BREAK_CONFIG_MISSING,
  BREAK_CONFIG_TYPE,
  BREAK_CONFIG_HEADS,
  BREAK_SHAPE,
  BREAK_MISSING_TENSOR,
  BREAK_NO_WEIGHTS,
  BREAK_GARBAGE_WEIGHTS,
  BREAK_PREFIX
} Break;

typedef struct {
  gchar *name;
  int d0, d1;
  float *v;
} TinyTensor;

/* Deterministic pseudo-random numbers in [-a, a). */
static float
rnd (guint32 *s, float a)
{
  *s = *s * 1664525u + 1013904223u;
  return ((float)(*s >> 8) / (float)(1u << 24) * 2.0f - 1.0f) * a;
}

static GPtrArray *
tiny_tensors (int vocab)
{
  GPtrArray *arr = g_ptr_array_new ();
  guint32 seed = 12345;
  int l, k;
  const struct {
    const gchar *fmt;
    int d0, d1;
    float a;
  } per_layer[] = {
    { "encoder.layer.%d.attention.self.query.weight", T_H, T_H, 0.5f },
    { "encoder.layer.%d.attention.self.query.bias", T_H, 0, 0.2f },
    { "encoder.layer.%d.attention.self.key.weight", T_H, T_H, 0.5f },
    { "encoder.layer.%d.attention.self.key.bias", T_H, 0, 0.2f },
    { "encoder.layer.%d.attention.self.value.weight", T_H, T_H, 0.5f },
    { "encoder.layer.%d.attention.self.value.bias", T_H, 0, 0.2f },
    { "encoder.layer.%d.attention.output.dense.weight", T_H, T_H, 0.5f },
    { "encoder.layer.%d.attention.output.dense.bias", T_H, 0, 0.2f },
    { "encoder.layer.%d.attention.output.LayerNorm.weight", T_H, 0, -1.0f },
    { "encoder.layer.%d.attention.output.LayerNorm.bias", T_H, 0, 0.2f },
    { "encoder.layer.%d.intermediate.dense.weight", T_INTER, T_H, 0.5f },
    { "encoder.layer.%d.intermediate.dense.bias", T_INTER, 0, 0.2f },
    { "encoder.layer.%d.output.dense.weight", T_H, T_INTER, 0.5f },
    { "encoder.layer.%d.output.dense.bias", T_H, 0, 0.2f },
    { "encoder.layer.%d.output.LayerNorm.weight", T_H, 0, -1.0f },
    { "encoder.layer.%d.output.LayerNorm.bias", T_H, 0, 0.2f },
  };
  const struct {
    const gchar *name;
    int d0, d1;
    float a;
  } emb[] = {
    { "embeddings.word_embeddings.weight", -1, T_H, 1.0f },
    { "embeddings.position_embeddings.weight", T_POS, T_H, 0.5f },
    { "embeddings.token_type_embeddings.weight", T_TYPES, T_H, 0.5f },
    { "embeddings.LayerNorm.weight", T_H, 0, -1.0f },
    { "embeddings.LayerNorm.bias", T_H, 0, 0.2f },
  };

  for (k = 0; k < (int)G_N_ELEMENTS (emb); k++) {
    TinyTensor *t = g_new0 (TinyTensor, 1);
    int n, i;
    t->name = g_strdup (emb[k].name);
    t->d0 = emb[k].d0 < 0 ? vocab : emb[k].d0;
    t->d1 = emb[k].d1;
    n = t->d0 * MAX (t->d1, 1);
    t->v = g_new (float, n);
    for (i = 0; i < n; i++)
      t->v[i] = emb[k].a < 0 ? 1.0f + rnd (&seed, 0.3f) : rnd (&seed, emb[k].a);
    g_ptr_array_add (arr, t);
  }
  for (l = 0; l < T_LAYERS; l++)
    for (k = 0; k < (int)G_N_ELEMENTS (per_layer); k++) {
      TinyTensor *t = g_new0 (TinyTensor, 1);
      int n, i;
      t->name = g_strdup_printf (per_layer[k].fmt, l);
      t->d0 = per_layer[k].d0;
      t->d1 = per_layer[k].d1;
      n = t->d0 * MAX (t->d1, 1);
      t->v = g_new (float, n);
      for (i = 0; i < n; i++)
        t->v[i] = per_layer[k].a < 0 ? 1.0f + rnd (&seed, 0.3f)
                                     : rnd (&seed, per_layer[k].a);
      g_ptr_array_add (arr, t);
    }
  return arr;
}

static void
tiny_tensors_free (GPtrArray *arr)
{
  guint i;
  for (i = 0; i < arr->len; i++) {
    TinyTensor *t = g_ptr_array_index (arr, i);
    g_free (t->name);
    g_free (t->v);
    g_free (t);
  }
  g_ptr_array_unref (arr);
}

static const float *
tiny_get (GPtrArray *arr, const gchar *name)
{
  guint i;
  for (i = 0; i < arr->len; i++) {
    TinyTensor *t = g_ptr_array_index (arr, i);
    if (strcmp (t->name, name) == 0)
      return t->v;
  }
  ck_abort_msg ("no tensor %s", name);
  return NULL;
}

/* Writes the tiny model into a new folder, broken as asked. */
static gchar *
write_tiny_model (Break brk)
{
  gchar *dir = make_tmpdir ();
  int vocab = (int)g_strv_length ((gchar **)small_vocab);
  GPtrArray *arr = tiny_tensors (vocab);
  AffectStWriter *w = affect_st_writer_new ();
  gchar *config, *path;
  GError *err = NULL;
  guint i;

  if (brk != BREAK_NO_VOCAB) {
    gchar *joined = g_strjoinv ("\n", (gchar **)small_vocab);
    write_file (dir, "vocab.txt", joined, -1);
    g_free (joined);
  }
  config = g_strdup_printf ("{\"model_type\": \"bert\", \"hidden_size\": %d, "
                            "\"num_hidden_layers\": %d, "
                            "\"num_attention_heads\": %d, "
                            "\"intermediate_size\": %s, "
                            "\"max_position_embeddings\": %d, "
                            "\"type_vocab_size\": %d, \"vocab_size\": %d, "
                            "\"layer_norm_eps\": 1e-12, "
                            "\"hidden_act\": \"%s\"}",
      T_H, T_LAYERS, brk == BREAK_CONFIG_HEADS ? 3 : T_HEADS,
      brk == BREAK_CONFIG_TYPE ? "\"12\"" : "12", T_POS, T_TYPES, vocab,
      brk == BREAK_CONFIG_ACT ? "relu" : "gelu");
  if (brk == BREAK_CONFIG_MISSING) {
    gchar *c = g_strdup_printf ("{\"hidden_size\": %d, \"hidden_act\": "
                                "\"gelu\"}",
        T_H);
    g_free (config);
    config = c;
  }
  if (brk != BREAK_NO_CONFIG)
    write_file (dir, "config.json", config, -1);
  g_free (config);

  for (i = 0; i < arr->len; i++) {
    TinyTensor *t = g_ptr_array_index (arr, i);
    int64_t shape[2] = { t->d0, t->d1 };
    gchar *name;
    if (brk == BREAK_MISSING_TENSOR
        && strcmp (t->name, "encoder.layer.1.output.dense.bias") == 0)
      continue;
    if (brk == BREAK_SHAPE
        && strcmp (t->name, "encoder.layer.0.intermediate.dense.weight") == 0) {
      shape[0] = t->d1;
      shape[1] = t->d0;
    }
    name = g_strconcat (brk == BREAK_PREFIX ? "bert." : "", t->name, NULL);
    ck_assert (
        affect_st_writer_add (w, name, AFFECT_DTYPE_F32, t->d1 > 0 ? 2 : 1,
            shape, t->v, sizeof (float) * t->d0 * MAX (t->d1, 1), &err));
    g_free (name);
  }
  path = g_build_filename (dir, "model.safetensors", NULL);
  if (brk == BREAK_GARBAGE_WEIGHTS)
    write_file (dir, "model.safetensors", "\x10\0\0\0\0\0\0\0{not json", 17);
  else if (brk != BREAK_NO_WEIGHTS)
    ck_assert_msg (
        affect_st_writer_write (w, path, &err), "%s", err ? err->message : "?");
  g_free (path);
  affect_st_writer_free (w);
  tiny_tensors_free (arr);
  return dir;
}

static void
expect_model_error (Break brk, const gchar *needle, gint code)
{
  gchar *dir = write_tiny_model (brk);
  GError *err = NULL;
  AffectBert *bert = affect_bert_new (NULL, dir, &err);

  ck_assert_msg (bert == NULL, "broken model (%d) accepted", brk);
  ck_assert (err != NULL);
  ck_assert_msg (strstr (err->message, needle) != NULL,
      "error '%s' does not say '%s'", err->message, needle);
  ck_assert_msg (strstr (err->message, dir) != NULL,
      "error '%s' does not name the folder %s", err->message, dir);
  if (code >= 0)
    ck_assert_msg (g_error_matches (err, AFFECT_BERT_ERROR, code),
        "error code %d, expected %d (%s)", err->code, code, err->message);
  g_error_free (err);
  rm_rf (dir);
  g_free (dir);
}

START_TEST (test_bad_model_dirs)
{
  GError *err = NULL;
  gchar *found;

  expect_model_error (BREAK_NO_VOCAB, "vocab.txt", -1);
  expect_model_error (BREAK_NO_CONFIG, "config.json", AFFECT_BERT_ERROR_CONFIG);
  expect_model_error (BREAK_CONFIG_ACT, "hidden_act", AFFECT_BERT_ERROR_CONFIG);
  expect_model_error (
      BREAK_CONFIG_MISSING, "num_hidden_layers", AFFECT_BERT_ERROR_CONFIG);
  expect_model_error (BREAK_CONFIG_TYPE,
      "intermediate_size\" is not an "
      "integer",
      AFFECT_BERT_ERROR_CONFIG);
  expect_model_error (
      BREAK_CONFIG_HEADS, "num_attention_heads", AFFECT_BERT_ERROR_CONFIG);
  expect_model_error (BREAK_SHAPE, "encoder.layer.0.intermediate.dense.weight",
      AFFECT_BERT_ERROR_WEIGHTS);
  expect_model_error (BREAK_MISSING_TENSOR, "encoder.layer.1.output.dense.bias",
      AFFECT_BERT_ERROR_WEIGHTS);
  expect_model_error (
      BREAK_NO_WEIGHTS, "model.safetensors", AFFECT_BERT_ERROR_WEIGHTS);
  expect_model_error (
      BREAK_GARBAGE_WEIGHTS, "model.safetensors", AFFECT_BERT_ERROR_WEIGHTS);

  ck_assert (affect_bert_new (NULL, "/nonexistent/bert", &err) == NULL);
  ck_assert (strstr (err->message, "/nonexistent/bert") != NULL);
  g_clear_error (&err);
  found = affect_bert_find ("/nonexistent/bert", &err);
  ck_assert (found == NULL);
  ck_assert_error (err, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_NOT_FOUND);
  g_clear_error (&err);
}
END_TEST

/* Plain double-precision reference of BertModel for the tiny model. */
static void
reference_encode (
    GPtrArray *w, const gint32 *ids, const gint32 *mask, int S, double *out)
{
  const float *we = tiny_get (w, "embeddings.word_embeddings.weight");
  const float *pe = tiny_get (w, "embeddings.position_embeddings.weight");
  const float *te = tiny_get (w, "embeddings.token_type_embeddings.weight");
  double *h = g_new (double, S *T_H), *x = g_new (double, S *T_H);
  double *q = g_new (double, S *T_H), *k = g_new (double, S *T_H);
  double *v = g_new (double, S *T_H), *ctx = g_new (double, S *T_H);
  double *mid = g_new (double, S *T_INTER);
  const int d = T_H / T_HEADS;
  int s, j, l, i, hd, t;

#define LN(buf, gname, bname)                                              \
  do {                                                                     \
    const float *g_ = tiny_get (w, gname), *b_ = tiny_get (w, bname);      \
    for (s = 0; s < S; s++) {                                              \
      double m = 0, var = 0;                                               \
      for (j = 0; j < T_H; j++)                                            \
        m += buf[s * T_H + j];                                             \
      m /= T_H;                                                            \
      for (j = 0; j < T_H; j++)                                            \
        var += (buf[s * T_H + j] - m) * (buf[s * T_H + j] - m);            \
      var /= T_H;                                                          \
      for (j = 0; j < T_H; j++)                                            \
        buf[s * T_H + j]                                                   \
            = (buf[s * T_H + j] - m) / sqrt (var + 1e-12) * g_[j] + b_[j]; \
    }                                                                      \
  } while (0)

  for (s = 0; s < S; s++)
    for (j = 0; j < T_H; j++)
      h[s * T_H + j] = (double)we[ids[s] * T_H + j] + pe[s * T_H + j] + te[j];
  LN (h, "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias");

  for (l = 0; l < T_LAYERS; l++) {
    gchar *p = g_strdup_printf ("encoder.layer.%d.", l);
#define W(n) \
  tiny_get (w, (g_free (tmpname), tmpname = g_strconcat (p, n, NULL)))
    gchar *tmpname = NULL;
    const float *qw = W ("attention.self.query.weight");
    const float *qb = W ("attention.self.query.bias");
    const float *kw = W ("attention.self.key.weight");
    const float *kb = W ("attention.self.key.bias");
    const float *vw = W ("attention.self.value.weight");
    const float *vb = W ("attention.self.value.bias");
    const float *aw = W ("attention.output.dense.weight");
    const float *ab = W ("attention.output.dense.bias");
    const float *iw = W ("intermediate.dense.weight");
    const float *ib = W ("intermediate.dense.bias");
    const float *ow = W ("output.dense.weight");
    const float *ob = W ("output.dense.bias");
    gchar *ln1g = g_strconcat (p, "attention.output.LayerNorm.weight", NULL);
    gchar *ln1b = g_strconcat (p, "attention.output.LayerNorm.bias", NULL);
    gchar *ln2g = g_strconcat (p, "output.LayerNorm.weight", NULL);
    gchar *ln2b = g_strconcat (p, "output.LayerNorm.bias", NULL);
#undef W
    for (s = 0; s < S; s++)
      for (j = 0; j < T_H; j++) {
        double aq = qb[j], ak = kb[j], av = vb[j];
        for (i = 0; i < T_H; i++) {
          aq += h[s * T_H + i] * qw[j * T_H + i];
          ak += h[s * T_H + i] * kw[j * T_H + i];
          av += h[s * T_H + i] * vw[j * T_H + i];
        }
        q[s * T_H + j] = aq;
        k[s * T_H + j] = ak;
        v[s * T_H + j] = av;
      }
    for (hd = 0; hd < T_HEADS; hd++)
      for (s = 0; s < S; s++) {
        double sc[T_POS], mx = -1e300, sum = 0;
        for (t = 0; t < S; t++) {
          double a = 0;
          for (i = 0; i < d; i++)
            a += q[s * T_H + hd * d + i] * k[t * T_H + hd * d + i];
          sc[t] = mask[t] ? a / sqrt ((double)d) : -1e300;
          mx = MAX (mx, sc[t]);
        }
        for (t = 0; t < S; t++) {
          sc[t] = mask[t] ? exp (sc[t] - mx) : 0.0;
          sum += sc[t];
        }
        for (i = 0; i < d; i++) {
          double a = 0;
          for (t = 0; t < S; t++)
            a += sc[t] / sum * v[t * T_H + hd * d + i];
          ctx[s * T_H + hd * d + i] = a;
        }
      }
    for (s = 0; s < S; s++)
      for (j = 0; j < T_H; j++) {
        double a = ab[j];
        for (i = 0; i < T_H; i++)
          a += ctx[s * T_H + i] * aw[j * T_H + i];
        x[s * T_H + j] = a + h[s * T_H + j];
      }
    LN (x, ln1g, ln1b);
    for (s = 0; s < S; s++)
      for (j = 0; j < T_INTER; j++) {
        double a = ib[j];
        for (i = 0; i < T_H; i++)
          a += x[s * T_H + i] * iw[j * T_H + i];
        mid[s * T_INTER + j] = 0.5 * a * (1.0 + erf (a / sqrt (2.0)));
      }
    for (s = 0; s < S; s++)
      for (j = 0; j < T_H; j++) {
        double a = ob[j];
        for (i = 0; i < T_INTER; i++)
          a += mid[s * T_INTER + i] * ow[j * T_INTER + i];
        h[s * T_H + j] = a + x[s * T_H + j];
      }
    LN (h, ln2g, ln2b);
    g_free (ln1g);
    g_free (ln1b);
    g_free (ln2g);
    g_free (ln2b);
    g_free (tmpname);
    g_free (p);
  }
#undef LN
  memcpy (out, h, sizeof (double) * S * T_H);
  g_free (h);
  g_free (x);
  g_free (q);
  g_free (k);
  g_free (v);
  g_free (ctx);
  g_free (mid);
}

START_TEST (test_tiny_model_reference)
{
  const Break variants[] = { BREAK_NONE, BREAK_PREFIX };
  guint vi;

  for (vi = 0; vi < G_N_ELEMENTS (variants); vi++) {
    gchar *dir = write_tiny_model (variants[vi]);
    int vocab = (int)g_strv_length ((gchar **)small_vocab);
    GPtrArray *w = tiny_tensors (vocab);
    GError *err = NULL;
    AffectBackend *be = affect_backend_cpu_new (1);
    AffectBert *bert = affect_bert_new (be, dir, &err);
    /* two sequences, the second padded */
    const int S = 7;
    gint32 ids[2 * 7] = { 2, 5, 6, 9, 10, 11, 3, 2, 12, 13, 3, 0, 0, 0 };
    gint32 mask[2 * 7] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0 };
    float out[2 * 7 * T_H], alone[4 * T_H];
    double ref[7 * T_H];
    double maxd = 0;
    int b, s, j;

    ck_assert_msg (bert != NULL, "%s", err ? err->message : "?");
    ck_assert_int_eq (affect_bert_get_hidden_size (bert), T_H);
    ck_assert_int_eq (affect_bert_get_num_layers (bert), T_LAYERS);
    ck_assert_int_eq (affect_bert_get_max_length (bert), T_POS);
    ck_assert (affect_bert_encode (bert, ids, mask, 2, S, out, &err));
    for (b = 0; b < 2; b++) {
      int n = b == 0 ? 7 : 4;
      reference_encode (w, ids + b * S, mask + b * S, S, ref);
      for (s = 0; s < n; s++)
        for (j = 0; j < T_H; j++)
          maxd = MAX (
              maxd, fabs (out[(b * S + s) * T_H + j] - ref[s * T_H + j]));
    }
    ck_assert_msg (
        maxd < 2e-5, "tiny BERT differs from the reference by %g", maxd);

    /* the padded sequence alone, unpadded: same values */
    ck_assert (affect_bert_encode (bert, ids + S, NULL, 1, 4, alone, &err));
    maxd = 0;
    for (j = 0; j < 4 * T_H; j++)
      maxd = MAX (maxd, fabs (alone[j] - out[S * T_H + j]));
    ck_assert_msg (maxd < 1e-5, "padding changes the result by %g", maxd);

    /* bad inputs */
    ids[3] = vocab;
    ck_assert (!affect_bert_encode (bert, ids, mask, 2, S, out, &err));
    ck_assert_error (err, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_INPUT);
    g_clear_error (&err);
    ids[3] = 9;
    ck_assert (!affect_bert_encode (bert, ids, mask, 1, T_POS + 1, out, &err));
    ck_assert_error (err, AFFECT_BERT_ERROR, AFFECT_BERT_ERROR_INPUT);
    g_clear_error (&err);

    affect_bert_free (bert);
    affect_backend_unref (be);
    tiny_tensors_free (w);
    rm_rf (dir);
    g_free (dir);
  }
}
END_TEST

START_TEST (test_tiny_embed_text)
{
  gchar *dir = write_tiny_model (BREAK_NONE);
  GError *err = NULL;
  AffectBert *bert = affect_bert_new (NULL, dir, &err);
  AffectBertText *t;
  gchar *found;
  guint i;

  ck_assert_msg (bert != NULL, "%s", err ? err->message : "?");
  found = affect_bert_find (dir, &err);
  ck_assert_str_eq (found, dir);
  g_free (found);

  t = affect_bert_embed_text (bert, "", -1, &err);
  ck_assert (t != NULL);
  ck_assert_uint_eq (t->tokens->n_tokens, 2);
  ck_assert_int_eq (t->hidden_size, T_H);
  affect_bert_text_free (t);

  /* longer than max_position_embeddings (16): truncated */
  t = affect_bert_embed_text (bert,
      "hello world hello world hello world hello world hello world hello "
      "world hello world hello world",
      -1, &err);
  ck_assert (t != NULL);
  ck_assert_uint_eq (t->tokens->n_tokens, T_POS);
  ck_assert (t->tokens->truncated);
  for (i = 0; i < T_POS * T_H; i++)
    ck_assert (isfinite (t->hidden[i]));
  affect_bert_text_free (t);

  affect_bert_free (bert);
  rm_rf (dir);
  g_free (dir);
}
END_TEST

/* ---- golden parity on all-MiniLM-L6-v2 -------------------------------- */

static JsonParser *
load_golden (const gchar *file)
{
  gchar *path = affect_test_golden_path ("words", file);
  JsonParser *p = affect_test_load_json (path);

  g_free (path);
  return p;
}

static guint8 *
unhex (const gchar *hex, gsize *n)
{
  gsize len = strlen (hex), i;
  guint8 *out = g_malloc (len / 2 + 1);

  ck_assert (len % 2 == 0);
  for (i = 0; i < len / 2; i++)
    out[i] = (g_ascii_xdigit_value (hex[2 * i]) << 4)
             | g_ascii_xdigit_value (hex[2 * i + 1]);
  out[len / 2] = 0;
  *n = len / 2;
  return out;
}

START_TEST (test_golden_tokens)
{
  gchar *dir = require_model ();
  JsonParser *p;
  JsonObject *root;
  JsonArray *sentences, *cases;
  AffectTokenizer *tok;
  GError *err = NULL;
  guint c, n_checked = 0;

  if (!dir)
    return;
  tok = affect_tokenizer_new_from_dir (dir, &err);
  ck_assert_msg (tok != NULL, "%s", err ? err->message : "?");
  ck_assert (affect_tokenizer_get_do_lower_case (tok));

  p = load_golden ("tokens.json");
  root = json_node_get_object (json_parser_get_root (p));
  {
    /* The golden belongs to this vocabulary: say so clearly if another
     * BERT is installed under the default name. */
    gchar *vpath = g_build_filename (dir, "vocab.txt", NULL), *vdata = NULL;
    gsize vlen = 0;
    gchar *sum;

    ck_assert (g_file_get_contents (vpath, &vdata, &vlen, NULL));
    sum = g_compute_checksum_for_data (
        G_CHECKSUM_SHA256, (const guchar *)vdata, vlen);
    ck_assert_msg (
        strcmp (sum, json_object_get_string_member (root, "vocab_sha256")) == 0,
        "%s is not the all-MiniLM-L6-v2 vocabulary the golden was made with "
        "(SHA-256 %s)",
        vpath, sum);
    g_free (sum);
    g_free (vdata);
    g_free (vpath);
  }
  sentences = json_object_get_array_member (root, "sentences_utf8_hex");
  cases = json_object_get_array_member (root, "cases");
  ck_assert (json_array_get_length (cases) > 30);

  for (c = 0; c < json_array_get_length (cases); c++) {
    JsonObject *cs = json_array_get_object_element (cases, c);
    guint si = json_object_get_int_member (cs, "sentence");
    guint max_len = json_object_get_int_member (cs, "max_length");
    JsonArray *ids = json_object_get_array_member (cs, "ids");
    gsize n_text;
    guint8 *text
        = unhex (json_array_get_string_element (sentences, si), &n_text);
    AffectTokens *t = affect_tokenizer_encode (
        tok, (const gchar *)text, n_text, max_len, &err);
    guint i, n = json_array_get_length (ids);

    ck_assert (t != NULL);
    for (i = 0; i < MIN (n, t->n_tokens); i++)
      ck_assert_msg (t->ids[i] == json_array_get_int_element (ids, i),
          "sentence %u (max_length %u) '%s': token %u is %d '%s', Hugging "
          "Face has %d '%s'",
          si, max_len, text, i, t->ids[i],
          affect_tokenizer_id_to_token (tok, t->ids[i]),
          (int)json_array_get_int_element (ids, i),
          affect_tokenizer_id_to_token (
              tok, json_array_get_int_element (ids, i)));
    ck_assert_msg (t->n_tokens == n,
        "sentence %u (max_length %u) '%s': %u tokens, Hugging Face has %u", si,
        max_len, text, t->n_tokens, n);
    if (json_object_has_member (cs, "word_bytes")) {
      JsonArray *wb = json_object_get_array_member (cs, "word_bytes");
      for (i = 0; i < n; i++) {
        JsonArray *pair = json_array_get_array_element (wb, i);
        ck_assert_msg (
            t->word_start[i] == json_array_get_int_element (pair, 0)
                && t->word_end[i] == json_array_get_int_element (pair, 1),
            "sentence %u '%s': token %u word bytes [%d, %d), expected [%d, "
            "%d)",
            si, text, i, t->word_start[i], t->word_end[i],
            (int)json_array_get_int_element (pair, 0),
            (int)json_array_get_int_element (pair, 1));
      }
    }
    n_checked++;
    affect_tokens_free (t);
    g_free (text);
  }
  ck_assert_uint_eq (n_checked, json_array_get_length (cases));
  g_object_unref (p);
  affect_tokenizer_free (tok);
  g_free (dir);
}
END_TEST

START_TEST (test_golden_hidden)
{
  gchar *dir = require_model ();
  JsonParser *p, *pt;
  JsonArray *rows, *sentences;
  AffectBert *bert;
  GError *err = NULL;
  guint n_rows, r, i;
  int H, S = 0;
  gint32 *ids, *mask;
  float *out;
  double maxd = 0.0, maxd1 = 0.0;

  if (!dir)
    return;
  bert = affect_bert_new (NULL, dir, &err);
  ck_assert_msg (bert != NULL, "%s", err ? err->message : "?");
  H = affect_bert_get_hidden_size (bert);
  ck_assert_int_eq (H, 384);
  ck_assert_int_eq (affect_bert_get_num_layers (bert), 6);

  p = load_golden ("hidden.json");
  pt = load_golden ("tokens.json");
  rows = json_object_get_array_member (
      json_node_get_object (json_parser_get_root (p)), "rows");
  sentences = json_object_get_array_member (
      json_node_get_object (json_parser_get_root (pt)), "sentences_utf8_hex");
  n_rows = json_array_get_length (rows);
  ck_assert (n_rows >= 2);
  for (r = 0; r < n_rows; r++) {
    JsonObject *row = json_array_get_object_element (rows, r);
    S = MAX (S,
        (int)json_array_get_length (json_object_get_array_member (row, "ids")));
  }

  /* One padded batch, like the generator. */
  ids = g_new0 (gint32, n_rows * S);
  mask = g_new0 (gint32, n_rows * S);
  out = g_new (float, (gsize)n_rows *S *H);
  for (r = 0; r < n_rows; r++) {
    JsonObject *row = json_array_get_object_element (rows, r);
    JsonArray *rid = json_object_get_array_member (row, "ids");
    guint si = json_object_get_int_member (row, "sentence");
    gsize n_text;
    guint8 *text
        = unhex (json_array_get_string_element (sentences, si), &n_text);
    AffectBertText *bt;
    JsonArray *hid = json_object_get_array_member (row, "hidden");

    /* our tokenizer gives the same ids */
    bt = affect_bert_embed_text (bert, (const gchar *)text, n_text, &err);
    ck_assert_msg (bt != NULL, "%s", err ? err->message : "?");
    ck_assert_uint_eq (bt->tokens->n_tokens, json_array_get_length (rid));
    ck_assert_uint_eq (json_array_get_length (hid), bt->tokens->n_tokens * H);
    for (i = 0; i < bt->tokens->n_tokens; i++) {
      ck_assert_int_eq (
          bt->tokens->ids[i], json_array_get_int_element (rid, i));
      ids[r * S + i] = bt->tokens->ids[i];
      mask[r * S + i] = 1;
    }
    /* unbatched */
    for (i = 0; i < bt->tokens->n_tokens * H; i++)
      maxd1 = MAX (
          maxd1, fabs (bt->hidden[i] - json_array_get_double_element (hid, i)));
    affect_bert_text_free (bt);
    g_free (text);
  }
  ck_assert (affect_bert_encode (bert, ids, mask, n_rows, S, out, &err));
  for (r = 0; r < n_rows; r++) {
    JsonArray *hid = json_object_get_array_member (
        json_array_get_object_element (rows, r), "hidden");
    guint n = json_array_get_length (hid);
    for (i = 0; i < n; i++)
      maxd = MAX (maxd, fabs (out[(gsize)r * S * H + i]
                              - json_array_get_double_element (hid, i)));
  }
  g_printerr ("MiniLM last_hidden_state vs transformers: max |diff| %.3g "
              "(padded batch), %.3g (one by one)\n",
      maxd, maxd1);
  ck_assert_msg (
      maxd <= HIDDEN_TOL, "padded batch: max |diff| %g > %g", maxd, HIDDEN_TOL);
  ck_assert_msg (
      maxd1 <= HIDDEN_TOL, "one by one: max |diff| %g > %g", maxd1, HIDDEN_TOL);

  g_free (ids);
  g_free (mask);
  g_free (out);
  g_object_unref (p);
  g_object_unref (pt);
  affect_bert_free (bert);
  g_free (dir);
}
END_TEST

static Suite *
words_suite (void)
{
  Suite *s = suite_create ("words");
  TCase *tt = tcase_create ("tokenizer");
  TCase *tm = tcase_create ("model");
  TCase *tg = tcase_create ("golden");

  tcase_add_test (tt, test_tokenizer_basic);
  tcase_add_test (tt, test_tokenizer_truncation);
  tcase_add_test (tt, test_tokenizer_cased);
  tcase_add_test (tt, test_tokenizer_bad_vocab);
  tcase_add_test (tm, test_bad_model_dirs);
  tcase_add_test (tm, test_tiny_model_reference);
  tcase_add_test (tm, test_tiny_embed_text);
  tcase_set_timeout (tg, 600);
  tcase_add_test (tg, test_golden_tokens);
  tcase_add_test (tg, test_golden_hidden);
  suite_add_tcase (s, tt);
  suite_add_tcase (s, tm);
  suite_add_tcase (s, tg);
  return s;
}

int
main (void)
{
  Suite *s = words_suite ();
  SRunner *sr = srunner_create (s);
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
