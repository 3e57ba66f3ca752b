/* gst-affect — models/asr
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Whisper's vocabulary and configuration; see affect-whisper-tokenizer.h.
 */

#include "affect-whisper-tokenizer.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

struct _AffectWhisperTokenizer {
  gchar **tokens; /* vocabulary.txt lines */
  gint32 n_tokens;
  GHashTable *ids; /* token string -> id + 1 */
  /* byte-level decoded text tokens: offsets into bytes */
  GByteArray *bytes;
  guint32 *offsets; /* n_tokens + 1; an empty span for specials */
  gboolean *is_text;
  AffectWhisperSpecials sp;
  GArray *suppress, *suppress_begin, *heads;
};

/* GPT-2's byte <-> character map: the printable Latin-1 bytes stand for
 * themselves, the other 68 bytes for U+0100 + their rank. */
static gboolean
byte_is_printable (guint b)
{
  return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
}

static void
build_char_map (gint *char_to_byte, gsize size)
{
  guint b, rank = 0;

  for (b = 0; b < size; b++)
    char_to_byte[b] = -1;
  for (b = 0; b < 256; b++) {
    if (byte_is_printable (b))
      char_to_byte[b] = (gint)b;
    else
      char_to_byte[256 + rank++] = (gint)b;
  }
}

static void
invalid (GError **error, const gchar *dir, const gchar *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
      "%s: not a Whisper model folder (%s)", dir, what);
}

static GArray *
int_list (JsonObject *o, const gchar *name)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (gint32));
  JsonArray *arr;
  guint i;

  if (!json_object_has_member (o, name))
    return a;
  arr = json_object_get_array_member (o, name);
  for (i = 0; arr && i < json_array_get_length (arr); i++) {
    gint32 v = (gint32)json_array_get_int_element (arr, i);

    g_array_append_val (a, v);
  }
  return a;
}

static gboolean
read_config (AffectWhisperTokenizer *tok, const gchar *dir, GError **error)
{
  gchar *path = g_build_filename (dir, "config.json", NULL);
  JsonParser *p = json_parser_new ();
  JsonNode *root;
  JsonObject *o;
  JsonArray *heads;
  guint i;
  gboolean ok = FALSE;

  if (!json_parser_load_from_file (p, path, error))
    goto out;
  root = json_parser_get_root (p);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    invalid (error, dir, "config.json is not an object");
    goto out;
  }
  o = json_node_get_object (root);
  tok->suppress = int_list (o, "suppress_ids");
  tok->suppress_begin = int_list (o, "suppress_ids_begin");
  tok->heads = g_array_new (FALSE, FALSE, sizeof (int));
  heads = json_object_has_member (o, "alignment_heads")
              ? json_object_get_array_member (o, "alignment_heads")
              : NULL;
  for (i = 0; heads && i < json_array_get_length (heads); i++) {
    JsonArray *pair = json_array_get_array_element (heads, i);
    int v[2];

    if (!pair || json_array_get_length (pair) != 2) {
      invalid (error, dir, "config.json alignment_heads");
      goto out;
    }
    v[0] = (int)json_array_get_int_element (pair, 0);
    v[1] = (int)json_array_get_int_element (pair, 1);
    g_array_append_vals (tok->heads, v, 2);
  }
  ok = TRUE;
out:
  g_object_unref (p);
  g_free (path);
  return ok;
}

AffectWhisperTokenizer *
affect_whisper_tokenizer_new (const gchar *dir, GError **error)
{
  AffectWhisperTokenizer *tok;
  gchar *path, *text = NULL;
  gsize len;
  gint char_to_byte[512];
  gint32 i;

  g_return_val_if_fail (dir != NULL, NULL);
  path = g_build_filename (dir, "vocabulary.txt", NULL);
  if (!g_file_get_contents (path, &text, &len, error)) {
    g_free (path);
    return NULL;
  }
  g_free (path);
  if (!g_utf8_validate (text, len, NULL)) {
    g_free (text);
    invalid (error, dir, "vocabulary.txt is not UTF-8");
    return NULL;
  }
  tok = g_new0 (AffectWhisperTokenizer, 1);
  if (len > 0 && text[len - 1] == '\n')
    text[len - 1] = '\0';
  tok->tokens = g_strsplit (text, "\n", -1);
  g_free (text);
  tok->n_tokens = (gint32)g_strv_length (tok->tokens);
  tok->ids = g_hash_table_new (g_str_hash, g_str_equal);
  for (i = 0; i < tok->n_tokens; i++)
    if (!g_hash_table_contains (tok->ids, tok->tokens[i]))
      g_hash_table_insert (
          tok->ids, tok->tokens[i], GINT_TO_POINTER ((gint)i + 1));

  tok->sp.eot = affect_whisper_tokenizer_lookup (tok, "<|endoftext|>");
  tok->sp.sot = affect_whisper_tokenizer_lookup (tok, "<|startoftranscript|>");
  tok->sp.translate = affect_whisper_tokenizer_lookup (tok, "<|translate|>");
  tok->sp.transcribe = affect_whisper_tokenizer_lookup (tok, "<|transcribe|>");
  tok->sp.sot_lm = affect_whisper_tokenizer_lookup (tok, "<|startoflm|>");
  tok->sp.sot_prev = affect_whisper_tokenizer_lookup (tok, "<|startofprev|>");
  tok->sp.no_speech = affect_whisper_tokenizer_lookup (tok, "<|nospeech|>");
  if (tok->sp.no_speech < 0)
    tok->sp.no_speech = affect_whisper_tokenizer_lookup (tok, "<|nocaptions|>");
  tok->sp.no_timestamps
      = affect_whisper_tokenizer_lookup (tok, "<|notimestamps|>");
  if (tok->sp.eot < 0 || tok->sp.sot < 0 || tok->sp.no_timestamps < 0
      || tok->sp.no_timestamps + 1 >= tok->n_tokens) {
    invalid (error, dir,
        "vocabulary.txt lacks <|endoftext|>, "
        "<|startoftranscript|> or <|notimestamps|>");
    affect_whisper_tokenizer_free (tok);
    return NULL;
  }
  tok->sp.timestamp_begin = tok->sp.no_timestamps + 1;
  tok->sp.timestamp_end = tok->n_tokens - 1;

  /* the bytes of every text token */
  build_char_map (char_to_byte, G_N_ELEMENTS (char_to_byte));
  tok->bytes = g_byte_array_new ();
  tok->offsets = g_new0 (guint32, tok->n_tokens + 1);
  tok->is_text = g_new0 (gboolean, tok->n_tokens);
  for (i = 0; i < tok->n_tokens; i++) {
    const gchar *s = tok->tokens[i];
    gboolean ok = i < tok->sp.eot;

    tok->offsets[i] = tok->bytes->len;
    for (; ok && *s; s = g_utf8_next_char (s)) {
      gunichar c = g_utf8_get_char (s);
      guint8 b;

      if (c >= G_N_ELEMENTS (char_to_byte) || char_to_byte[c] < 0) {
        ok = FALSE;
        break;
      }
      b = (guint8)char_to_byte[c];
      g_byte_array_append (tok->bytes, &b, 1);
    }
    if (!ok)
      g_byte_array_set_size (tok->bytes, tok->offsets[i]);
    tok->is_text[i] = ok;
  }
  tok->offsets[tok->n_tokens] = tok->bytes->len;

  if (!read_config (tok, dir, error)) {
    affect_whisper_tokenizer_free (tok);
    return NULL;
  }
  return tok;
}

void
affect_whisper_tokenizer_free (AffectWhisperTokenizer *tok)
{
  if (!tok)
    return;
  g_clear_pointer (&tok->ids, g_hash_table_unref);
  g_strfreev (tok->tokens);
  if (tok->bytes)
    g_byte_array_unref (tok->bytes);
  g_free (tok->offsets);
  g_free (tok->is_text);
  if (tok->suppress)
    g_array_unref (tok->suppress);
  if (tok->suppress_begin)
    g_array_unref (tok->suppress_begin);
  if (tok->heads)
    g_array_unref (tok->heads);
  g_free (tok);
}

gint32
affect_whisper_tokenizer_get_vocab_size (AffectWhisperTokenizer *tok)
{
  return tok->n_tokens;
}

const AffectWhisperSpecials *
affect_whisper_tokenizer_get_specials (AffectWhisperTokenizer *tok)
{
  return &tok->sp;
}

gboolean
affect_whisper_tokenizer_is_multilingual (AffectWhisperTokenizer *tok)
{
  return tok->n_tokens == 51865;
}

const gchar *
affect_whisper_tokenizer_get_token (AffectWhisperTokenizer *tok, gint32 id)
{
  if (id < 0 || id >= tok->n_tokens)
    return NULL;
  return tok->tokens[id];
}

gint32
affect_whisper_tokenizer_lookup (
    AffectWhisperTokenizer *tok, const gchar *token)
{
  return (gint32)GPOINTER_TO_INT (g_hash_table_lookup (tok->ids, token)) - 1;
}

const guint8 *
affect_whisper_tokenizer_get_bytes (
    AffectWhisperTokenizer *tok, gint32 id, gsize *n_bytes)
{
  if (id < 0 || id >= tok->n_tokens || !tok->is_text[id]) {
    *n_bytes = 0;
    return NULL;
  }
  *n_bytes = tok->offsets[id + 1] - tok->offsets[id];
  return tok->bytes->data + tok->offsets[id];
}

gchar *
affect_whisper_tokenizer_decode (
    AffectWhisperTokenizer *tok, const gint32 *ids, gsize n_ids)
{
  GByteArray *b = g_byte_array_new ();
  gchar *s;
  gsize i;

  for (i = 0; i < n_ids; i++) {
    gsize n;
    const guint8 *p;

    if (ids[i] >= tok->sp.eot)
      continue;
    p = affect_whisper_tokenizer_get_bytes (tok, ids[i], &n);
    if (p && n)
      g_byte_array_append (b, p, (guint)n);
  }
  s = g_utf8_make_valid ((const gchar *)b->data, b->len);
  g_byte_array_unref (b);
  return s;
}

double
affect_whisper_tokenizer_timestamp (AffectWhisperTokenizer *tok, gint32 id)
{
  if (id < tok->sp.timestamp_begin || id > tok->sp.timestamp_end)
    return -1.0;
  return (id - tok->sp.timestamp_begin) * 0.02;
}

const gint32 *
affect_whisper_tokenizer_get_suppress_ids (
    AffectWhisperTokenizer *tok, gsize *n)
{
  *n = tok->suppress->len;
  return (const gint32 *)tok->suppress->data;
}

const gint32 *
affect_whisper_tokenizer_get_suppress_ids_begin (
    AffectWhisperTokenizer *tok, gsize *n)
{
  *n = tok->suppress_begin->len;
  return (const gint32 *)tok->suppress_begin->data;
}

const int *
affect_whisper_tokenizer_get_alignment_heads (
    AffectWhisperTokenizer *tok, gsize *n_pairs)
{
  *n_pairs = tok->heads->len / 2;
  return (const int *)tok->heads->data;
}
