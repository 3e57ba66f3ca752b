/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BERT WordPiece tokenizer. See affect-tokenizer.h and docs/words.md.
 */

#include "affect-tokenizer.h"

#include <string.h>

#include <json-glib/json-glib.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

/* Largest vocab.txt accepted (bytes) and largest vocabulary. */
#define MAX_VOCAB_BYTES (64u * 1024u * 1024u)
#define MAX_VOCAB_SIZE (4u * 1024u * 1024u)

/* Characters one input character can normalise to (NFD + lower case). */
#define MAX_NORM 32

static const gchar *const special_names[]
    = { "[CLS]", "[SEP]", "[UNK]", "[PAD]", "[MASK]" };
#define N_SPECIAL G_N_ELEMENTS (special_names)

struct _AffectTokenizer {
  GPtrArray *tokens;  /* id -> token (gchar *) */
  GHashTable *lookup; /* token -> id + 1 */
  gboolean lower_case;
  gboolean strip_accents;
  gint32 cls_id, sep_id, unk_id;
  gint32 special_ids[N_SPECIAL]; /* -1 when not in the vocabulary */
  const UNormalizer2 *nfd;
};

GQuark
affect_tokenizer_error_quark (void)
{
  return g_quark_from_static_string ("affect-tokenizer-error-quark");
}

/* ---- loading ----------------------------------------------------------- */

static AffectTokenizer *
tokenizer_new_internal (const gchar *vocab_path, gboolean lower_case,
    gboolean strip_accents, GError **error)
{
  AffectTokenizer *tok;
  gchar *contents = NULL;
  gsize length = 0, i;
  GError *err = NULL;
  UErrorCode uerr = U_ZERO_ERROR;
  const UNormalizer2 *nfd;
  gchar *line, *next, *end;
  guint lineno = 0;

  g_return_val_if_fail (vocab_path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  nfd = unorm2_getNFDInstance (&uerr);
  if (U_FAILURE (uerr) || !nfd) {
    g_set_error (error, AFFECT_TOKENIZER_ERROR, AFFECT_TOKENIZER_ERROR_IO,
        "ICU NFD normaliser unavailable: %s", u_errorName (uerr));
    return NULL;
  }

  if (!g_file_get_contents (vocab_path, &contents, &length, &err)) {
    g_set_error (error, AFFECT_TOKENIZER_ERROR, AFFECT_TOKENIZER_ERROR_IO,
        "cannot read vocabulary '%s': %s", vocab_path, err->message);
    g_clear_error (&err);
    return NULL;
  }
  if (length > MAX_VOCAB_BYTES) {
    g_set_error (error, AFFECT_TOKENIZER_ERROR, AFFECT_TOKENIZER_ERROR_VOCAB,
        "vocabulary '%s' is too large (%" G_GSIZE_FORMAT " bytes)", vocab_path,
        length);
    g_free (contents);
    return NULL;
  }
  if (!g_utf8_validate (contents, length, NULL)
      || memchr (contents, '\0', length) != NULL) {
    g_set_error (error, AFFECT_TOKENIZER_ERROR, AFFECT_TOKENIZER_ERROR_VOCAB,
        "vocabulary '%s' is not UTF-8 text", vocab_path);
    g_free (contents);
    return NULL;
  }

  tok = g_new0 (AffectTokenizer, 1);
  tok->tokens = g_ptr_array_new_with_free_func (g_free);
  tok->lookup = g_hash_table_new (g_str_hash, g_str_equal);
  tok->lower_case = lower_case;
  tok->strip_accents = strip_accents;
  tok->nfd = nfd;

  /* One token per line, like transformers' load_vocab (line.rstrip("\n"));
   * a final line without newline counts, a trailing newline does not start
   * another token. "\r\n" endings lose the '\r' too. */
  end = contents + length;
  for (line = contents; line < end; line = next) {
    gchar *nl = memchr (line, '\n', end - line);
    gchar *tk;
    gsize n;

    next = nl ? nl + 1 : end;
    n = (nl ? nl : end) - line;
    if (n > 0 && line[n - 1] == '\r')
      n--;
    tk = g_strndup (line, n);
    g_ptr_array_add (tok->tokens, tk);
    /* A repeated token keeps its last id, like a Python dict. */
    g_hash_table_insert (tok->lookup, tk, GINT_TO_POINTER (lineno + 1));
    lineno++;
    if (lineno > MAX_VOCAB_SIZE)
      break;
  }
  g_free (contents);

  if (tok->tokens->len == 0 || tok->tokens->len > MAX_VOCAB_SIZE) {
    g_set_error (error, AFFECT_TOKENIZER_ERROR, AFFECT_TOKENIZER_ERROR_VOCAB,
        "vocabulary '%s' has %s tokens", vocab_path,
        tok->tokens->len == 0 ? "no" : "too many");
    affect_tokenizer_free (tok);
    return NULL;
  }

  for (i = 0; i < N_SPECIAL; i++)
    tok->special_ids[i] = affect_tokenizer_token_to_id (tok, special_names[i]);
  tok->cls_id = tok->special_ids[0];
  tok->sep_id = tok->special_ids[1];
  tok->unk_id = tok->special_ids[2];
  if (tok->cls_id < 0 || tok->sep_id < 0 || tok->unk_id < 0) {
    g_set_error (error, AFFECT_TOKENIZER_ERROR, AFFECT_TOKENIZER_ERROR_VOCAB,
        "vocabulary '%s' lacks %s (not a BERT WordPiece vocabulary?)",
        vocab_path,
        tok->cls_id < 0   ? "[CLS]"
        : tok->sep_id < 0 ? "[SEP]"
                          : "[UNK]");
    affect_tokenizer_free (tok);
    return NULL;
  }
  return tok;
}

AffectTokenizer *
affect_tokenizer_new (
    const gchar *vocab_path, gboolean do_lower_case, GError **error)
{
  return tokenizer_new_internal (
      vocab_path, do_lower_case, do_lower_case, error);
}

AffectTokenizer *
affect_tokenizer_new_from_dir (const gchar *dir, GError **error)
{
  gchar *vocab, *config;
  gboolean lower = TRUE, strip;
  AffectTokenizer *tok;

  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  config = g_build_filename (dir, "tokenizer_config.json", NULL);
  strip = lower;
  if (g_file_test (config, G_FILE_TEST_EXISTS)) {
    JsonParser *parser = json_parser_new ();
    GError *err = NULL;
    JsonNode *root;
    JsonObject *obj;

    if (!json_parser_load_from_file (parser, config, &err)) {
      g_set_error (error, AFFECT_TOKENIZER_ERROR, AFFECT_TOKENIZER_ERROR_IO,
          "cannot parse '%s': %s", config, err->message);
      g_clear_error (&err);
      g_object_unref (parser);
      g_free (config);
      return NULL;
    }
    root = json_parser_get_root (parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
      g_set_error (error, AFFECT_TOKENIZER_ERROR, AFFECT_TOKENIZER_ERROR_IO,
          "'%s' is not a JSON object", config);
      g_object_unref (parser);
      g_free (config);
      return NULL;
    }
    obj = json_node_get_object (root);
    if (json_object_has_member (obj, "do_lower_case")) {
      JsonNode *n = json_object_get_member (obj, "do_lower_case");
      if (json_node_get_value_type (n) != G_TYPE_BOOLEAN) {
        g_set_error (error, AFFECT_TOKENIZER_ERROR, AFFECT_TOKENIZER_ERROR_IO,
            "'%s': do_lower_case is not a boolean", config);
        g_object_unref (parser);
        g_free (config);
        return NULL;
      }
      lower = json_node_get_boolean (n);
    }
    /* strip_accents: null (or absent) follows do_lower_case. */
    strip = lower;
    if (json_object_has_member (obj, "strip_accents")) {
      JsonNode *n = json_object_get_member (obj, "strip_accents");
      if (!JSON_NODE_HOLDS_NULL (n)) {
        if (json_node_get_value_type (n) != G_TYPE_BOOLEAN) {
          g_set_error (error, AFFECT_TOKENIZER_ERROR, AFFECT_TOKENIZER_ERROR_IO,
              "'%s': strip_accents is neither null nor a boolean", config);
          g_object_unref (parser);
          g_free (config);
          return NULL;
        }
        strip = json_node_get_boolean (n);
      }
    }
    g_object_unref (parser);
  }
  g_free (config);

  vocab = g_build_filename (dir, "vocab.txt", NULL);
  tok = tokenizer_new_internal (vocab, lower, strip, error);
  g_free (vocab);
  return tok;
}

void
affect_tokenizer_free (AffectTokenizer *tok)
{
  if (!tok)
    return;
  g_hash_table_unref (tok->lookup);
  g_ptr_array_unref (tok->tokens);
  g_free (tok);
}

guint
affect_tokenizer_get_vocab_size (AffectTokenizer *tok)
{
  g_return_val_if_fail (tok != NULL, 0);
  return tok->tokens->len;
}

gboolean
affect_tokenizer_get_do_lower_case (AffectTokenizer *tok)
{
  g_return_val_if_fail (tok != NULL, FALSE);
  return tok->lower_case;
}

gint32
affect_tokenizer_token_to_id (AffectTokenizer *tok, const gchar *token)
{
  gpointer v;

  g_return_val_if_fail (tok != NULL && token != NULL, -1);
  v = g_hash_table_lookup (tok->lookup, token);
  return v ? GPOINTER_TO_INT (v) - 1 : -1;
}

const gchar *
affect_tokenizer_id_to_token (AffectTokenizer *tok, gint32 id)
{
  g_return_val_if_fail (tok != NULL, NULL);
  if (id < 0 || (guint)id >= tok->tokens->len)
    return NULL;
  return g_ptr_array_index (tok->tokens, id);
}

/* ---- character classes (BERT's, as in the tokenizers crate) ------------- */

static gboolean
is_control (gunichar c)
{
  int8_t t;

  if (c == '\t' || c == '\n' || c == '\r')
    return FALSE;
  t = u_charType ((UChar32)c);
  return t == U_CONTROL_CHAR || t == U_FORMAT_CHAR || t == U_PRIVATE_USE_CHAR
         || t == U_SURROGATE;
}

static gboolean
is_whitespace (gunichar c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r'
         || u_isUWhiteSpace ((UChar32)c);
}

static gboolean
is_punctuation (gunichar c)
{
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96)
      || (c >= 123 && c <= 126))
    return TRUE;
  return u_ispunct ((UChar32)c);
}

static gboolean
is_cjk (gunichar c)
{
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF)
         || (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F)
         || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF)
         || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* Strip accents (NFD, drop Mn) and/or lower-case one character; writes at
 * most MAX_NORM code points to @out and returns how many. */
static guint
normalize_char (AffectTokenizer *tok, gunichar c, gunichar *out)
{
  UChar src[MAX_NORM], dec[MAX_NORM], low[MAX_NORM];
  int32_t n_src = 0, n_dec, i;
  UErrorCode err = U_ZERO_ERROR;
  guint n_out = 0;
  UBool bad = FALSE;

  if (c < 0x80) {
    out[0] = tok->lower_case ? (gunichar)g_ascii_tolower ((gchar)c) : c;
    return 1;
  }
  if (!tok->lower_case && !tok->strip_accents) {
    out[0] = c;
    return 1;
  }

  U16_APPEND (src, n_src, MAX_NORM, (UChar32)c, bad);
  if (bad) {
    out[0] = c;
    return 1;
  }
  if (tok->strip_accents) {
    n_dec = unorm2_normalize (tok->nfd, src, n_src, dec, MAX_NORM, &err);
    if (U_FAILURE (err)) {
      memcpy (dec, src, n_src * sizeof (UChar));
      n_dec = n_src;
      err = U_ZERO_ERROR;
    }
  } else {
    memcpy (dec, src, n_src * sizeof (UChar));
    n_dec = n_src;
  }

  for (i = 0; i < n_dec;) {
    UChar32 d, l;
    int32_t n_low, j, start = i;

    U16_NEXT (dec, i, n_dec, d);
    if (tok->strip_accents && u_charType (d) == U_NON_SPACING_MARK)
      continue;
    if (!tok->lower_case) {
      if (n_out < MAX_NORM)
        out[n_out++] = (gunichar)d;
      continue;
    }
    /* One character at a time: no context-dependent mappings (final
     * sigma), like Rust's char::to_lowercase in `tokenizers`. */
    err = U_ZERO_ERROR;
    n_low = u_strToLower (low, MAX_NORM, dec + start, i - start, "", &err);
    if (U_FAILURE (err) || n_low > MAX_NORM) {
      if (n_out < MAX_NORM)
        out[n_out++] = (gunichar)d;
      continue;
    }
    for (j = 0; j < n_low;) {
      U16_NEXT (low, j, n_low, l);
      if (n_out < MAX_NORM)
        out[n_out++] = (gunichar)l;
    }
  }
  return n_out;
}

/* ---- encoding ---------------------------------------------------------- */

typedef struct {
  gunichar c;
  gint32 start, end; /* bytes of the source character */
} Char;

typedef struct {
  AffectTokenizer *tok;
  GArray *word;   /* Char: the word being collected */
  GArray *ids;    /* gint32: pieces (no [CLS]/[SEP]) */
  GArray *starts; /* gint32 */
  GArray *ends;   /* gint32 */
  GString *utf8;  /* scratch: the word in UTF-8 */
  GString *key;   /* scratch: candidate piece */
  GArray *pos;    /* gsize: byte offset in utf8 of each char */
} Encoder;

static void
emit (Encoder *e, gint32 id, gint32 start, gint32 end)
{
  g_array_append_val (e->ids, id);
  g_array_append_val (e->starts, start);
  g_array_append_val (e->ends, end);
}

/* WordPiece on the collected word, then clears it. */
static void
flush_word (Encoder *e)
{
  AffectTokenizer *tok = e->tok;
  guint n = e->word->len, i, first_piece;
  gint32 ws = G_MAXINT32, we = -1;
  guint start;

  if (n == 0)
    return;
  for (i = 0; i < n; i++) {
    const Char *ch = &g_array_index (e->word, Char, i);
    ws = MIN (ws, ch->start);
    we = MAX (we, ch->end);
  }

  if (n > AFFECT_TOKENIZER_MAX_WORD_CHARS) {
    emit (e, tok->unk_id, ws, we);
    g_array_set_size (e->word, 0);
    return;
  }

  g_string_truncate (e->utf8, 0);
  g_array_set_size (e->pos, 0);
  for (i = 0; i < n; i++) {
    gsize p = e->utf8->len;
    g_array_append_val (e->pos, p);
    g_string_append_unichar (e->utf8, g_array_index (e->word, Char, i).c);
  }
  {
    gsize p = e->utf8->len;
    g_array_append_val (e->pos, p);
  }

  first_piece = e->ids->len;
  start = 0;
  while (start < n) {
    guint end = n;
    gint32 found = -1;

    while (start < end) {
      gsize b0 = g_array_index (e->pos, gsize, start);
      gsize b1 = g_array_index (e->pos, gsize, end);

      g_string_truncate (e->key, 0);
      if (start > 0)
        g_string_append (e->key, "##");
      g_string_append_len (e->key, e->utf8->str + b0, b1 - b0);
      found = affect_tokenizer_token_to_id (tok, e->key->str);
      if (found >= 0)
        break;
      end--;
    }
    if (found < 0) {
      /* Unmatchable: the whole word is one [UNK]. */
      g_array_set_size (e->ids, first_piece);
      g_array_set_size (e->starts, first_piece);
      g_array_set_size (e->ends, first_piece);
      emit (e, tok->unk_id, ws, we);
      break;
    }
    emit (e, found, ws, we);
    start = end;
  }
  g_array_set_size (e->word, 0);
}

static void
push_char (Encoder *e, gunichar c, gint32 start, gint32 end)
{
  Char ch = { c, start, end };
  g_array_append_val (e->word, ch);
}

/* Steps 2-5 on text[from, to). */
static void
encode_segment (Encoder *e, const gchar *text, gsize from, gsize to)
{
  gsize p = from;
  gunichar norm[MAX_NORM];

  while (p < to) {
    gunichar c = g_utf8_get_char_validated (text + p, to - p);
    gsize step;
    guint n, i;

    if (c == (gunichar)-1 || c == (gunichar)-2) {
      /* Invalid or truncated UTF-8: the byte is dropped like U+FFFD. */
      p++;
      continue;
    }
    step = g_utf8_next_char (text + p) - (text + p);
    if (c == 0) /* g_utf8_get_char_validated reads "\0" as U+0000 */
      step = 1;
    if (c == 0 || c == 0xFFFD || is_control (c)) {
      p += step;
      continue;
    }
    if (is_whitespace (c)) {
      flush_word (e);
      p += step;
      continue;
    }
    if (is_cjk (c)) {
      flush_word (e);
      n = normalize_char (e->tok, c, norm);
      for (i = 0; i < n; i++)
        push_char (e, norm[i], p, p + step);
      flush_word (e);
      p += step;
      continue;
    }
    n = normalize_char (e->tok, c, norm);
    for (i = 0; i < n; i++) {
      if (is_punctuation (norm[i])) {
        flush_word (e);
        push_char (e, norm[i], p, p + step);
        flush_word (e);
      } else {
        push_char (e, norm[i], p, p + step);
      }
    }
    p += step;
  }
  flush_word (e);
}

/* Longest special token written at text[p], or -1. */
static gint
match_special (AffectTokenizer *tok, const gchar *text, gsize p, gsize len)
{
  gint best = -1;
  gsize best_len = 0, i;

  if (text[p] != '[')
    return -1;
  for (i = 0; i < N_SPECIAL; i++) {
    gsize l = strlen (special_names[i]);
    if (tok->special_ids[i] >= 0 && l <= len - p && l > best_len
        && memcmp (text + p, special_names[i], l) == 0) {
      best = (gint)i;
      best_len = l;
    }
  }
  return best;
}

AffectTokens *
affect_tokenizer_encode (AffectTokenizer *tok, const gchar *text, gssize len,
    guint max_length, GError **error)
{
  Encoder e;
  AffectTokens *out;
  gsize n_text, p, seg;
  guint n_pieces, i;

  g_return_val_if_fail (tok != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (max_length < 2) {
    g_set_error (error, AFFECT_TOKENIZER_ERROR, AFFECT_TOKENIZER_ERROR_ARG,
        "max_length %u is too small: [CLS] and [SEP] need 2 tokens",
        max_length);
    return NULL;
  }
  if (!text)
    text = "";
  n_text = len < 0 ? strlen (text) : (gsize)len;
  if (n_text > G_MAXINT32) {
    g_set_error (error, AFFECT_TOKENIZER_ERROR, AFFECT_TOKENIZER_ERROR_ARG,
        "text of %" G_GSIZE_FORMAT " bytes is too long", n_text);
    return NULL;
  }

  e.tok = tok;
  e.word = g_array_new (FALSE, FALSE, sizeof (Char));
  e.ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  e.starts = g_array_new (FALSE, FALSE, sizeof (gint32));
  e.ends = g_array_new (FALSE, FALSE, sizeof (gint32));
  e.utf8 = g_string_new (NULL);
  e.key = g_string_new (NULL);
  e.pos = g_array_new (FALSE, FALSE, sizeof (gsize));

  /* Step 1: special tokens written in the text. */
  seg = 0;
  for (p = 0; p < n_text;) {
    gint s = match_special (tok, text, p, n_text);
    if (s >= 0) {
      gsize l = strlen (special_names[s]);
      encode_segment (&e, text, seg, p);
      emit (&e, tok->special_ids[s], (gint32)p, (gint32)(p + l));
      p += l;
      seg = p;
    } else {
      p++;
    }
  }
  encode_segment (&e, text, seg, n_text);

  n_pieces = e.ids->len;
  out = g_new0 (AffectTokens, 1);
  out->truncated = n_pieces > max_length - 2;
  if (out->truncated)
    n_pieces = max_length - 2;
  out->n_tokens = n_pieces + 2;
  out->ids = g_new (gint32, out->n_tokens);
  out->mask = g_new (gint32, out->n_tokens);
  out->word_start = g_new (gint32, out->n_tokens);
  out->word_end = g_new (gint32, out->n_tokens);
  for (i = 0; i < out->n_tokens; i++) {
    out->mask[i] = 1;
    if (i == 0 || i == out->n_tokens - 1) {
      out->ids[i] = i == 0 ? tok->cls_id : tok->sep_id;
      out->word_start[i] = out->word_end[i] = -1;
    } else {
      out->ids[i] = g_array_index (e.ids, gint32, i - 1);
      out->word_start[i] = g_array_index (e.starts, gint32, i - 1);
      out->word_end[i] = g_array_index (e.ends, gint32, i - 1);
    }
  }

  g_array_unref (e.word);
  g_array_unref (e.ids);
  g_array_unref (e.starts);
  g_array_unref (e.ends);
  g_string_free (e.utf8, TRUE);
  g_string_free (e.key, TRUE);
  g_array_unref (e.pos);
  return out;
}

void
affect_tokens_free (AffectTokens *tokens)
{
  if (!tokens)
    return;
  g_free (tokens->ids);
  g_free (tokens->mask);
  g_free (tokens->word_start);
  g_free (tokens->word_end);
  g_free (tokens);
}
