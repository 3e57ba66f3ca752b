/* gst-affect — tests/fuzz
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target for the BERT WordPiece tokenizer
 * (models/text/affect-tokenizer.c) on arbitrary bytes: what a subtitle cue
 * (SRT, WebVTT through subparse) brings to the word branch. The cue
 * handling itself (pango markup stripping, UTF-8 check, timing) is element
 * code in elements/gstaffectfeatures.c, so the GStreamer-free part that
 * sees the cue text, affect_tokenizer_encode, is fuzzed here.
 *
 * The first byte picks the tokenizer (bit 0: uncased or cased) and the
 * maximum length (2 + the other bits, or 512 when they are all set); the
 * rest is the text. The vocabulary is a small one made here (specials,
 * ASCII letters and pieces, accented, Greek and CJK characters,
 * punctuation), or the file named by $AFFECT_FUZZ_VOCAB (e.g. the word
 * model's vocab.txt). Invariants: [CLS] first and [SEP] last, at most
 * max_length tokens, ids in the vocabulary, word spans inside the text, in
 * order, shared by the pieces of a word and free of blanks; the tokens are
 * a prefix of the untruncated encoding and `truncated` says whether
 * anything was cut; encoding is deterministic.
 */

#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affect-tokenizer.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond)                                                        \
  G_STMT_START                                                             \
  {                                                                        \
    if (!(cond)) {                                                         \
      fprintf (stderr, "fuzz-tokenizer: invariant failed: %s (line %d)\n", \
          #cond, __LINE__);                                                \
      abort ();                                                            \
    }                                                                      \
  }                                                                        \
  G_STMT_END

static AffectTokenizer *toks[2];

static void
free_tokenizers (void)
{
  affect_tokenizer_free (toks[0]);
  affect_tokenizer_free (toks[1]);
}

static void
init (void)
{
  static const gchar *const words[] = { "[PAD]", "[UNK]", "[CLS]", "[SEP]",
    "[MASK]", "the", "a", "an", "and", "is", "it", "don", "t", "s", "hello",
    "world", "un", "##aff", "##able", "##ing", "##ed", "##s", "Hello", "The",
    "café", "cafe", "naïve", "σ", "ς", "Σ", "istanbul", "straße", "日", "本",
    "語", "中", "한", "##국", "ß", "ﬁ", "'", ",", ".", "!", "?", "-", "(", ")",
    "\"", ":", ";", "…", "—", "¿", NULL };
  const gchar *env = g_getenv ("AFFECT_FUZZ_VOCAB");
  gchar *path = NULL, *dir = NULL;
  GString *v;

  if (toks[0])
    return;
  if (env && *env) {
    path = g_strdup (env);
  } else {
    v = g_string_new (NULL);
    for (int i = 0; words[i]; i++)
      g_string_append_printf (v, "%s\n", words[i]);
    for (char c = 'a'; c <= 'z'; c++)
      g_string_append_printf (v, "%c\n##%c\n", c, c);
    for (char c = 'A'; c <= 'Z'; c++)
      g_string_append_printf (v, "%c\n", c);
    for (char c = '0'; c <= '9'; c++)
      g_string_append_printf (v, "%c\n##%c\n", c, c);
    dir = g_dir_make_tmp ("fuzz-tokenizer-XXXXXX", NULL);
    CHECK (dir != NULL);
    path = g_build_filename (dir, "vocab.txt", NULL);
    CHECK (g_file_set_contents (path, v->str, v->len, NULL));
    g_string_free (v, TRUE);
  }
  toks[0] = affect_tokenizer_new (path, TRUE, NULL);
  toks[1] = affect_tokenizer_new (path, FALSE, NULL);
  CHECK (toks[0] != NULL && toks[1] != NULL);
  if (dir) {
    g_unlink (path);
    g_rmdir (dir);
  }
  g_free (path);
  g_free (dir);
  atexit (free_tokenizers);
}

static void
check_tokens (AffectTokenizer *tok, const AffectTokens *t, const gchar *text,
    gsize len, guint max_length)
{
  const guint vocab = affect_tokenizer_get_vocab_size (tok);

  CHECK (t->n_tokens >= 2 && t->n_tokens <= max_length);
  CHECK (t->ids[0] == affect_tokenizer_token_to_id (tok, "[CLS]"));
  CHECK (
      t->ids[t->n_tokens - 1] == affect_tokenizer_token_to_id (tok, "[SEP]"));
  CHECK (t->word_start[0] == -1 && t->word_end[0] == -1);
  CHECK (t->word_start[t->n_tokens - 1] == -1);
  CHECK (t->word_end[t->n_tokens - 1] == -1);
  for (guint i = 0; i < t->n_tokens; i++)
    CHECK (t->mask[i] == 1);
  for (guint i = 1; i + 1 < t->n_tokens; i++) {
    gint32 ws = t->word_start[i], we = t->word_end[i];
    CHECK (t->ids[i] >= 0 && (guint)t->ids[i] < vocab);
    CHECK (ws >= 0 && ws < we && (gsize)we <= len);
    if (i > 1) {
      CHECK (ws >= t->word_start[i - 1]);
      CHECK (ws != t->word_start[i - 1] || we == t->word_end[i - 1]);
      CHECK (ws == t->word_start[i - 1] || ws >= t->word_end[i - 1]);
    }
    for (gint32 b = ws; b < we; b++)
      CHECK (text[b] != ' ' && text[b] != '\t' && text[b] != '\n'
             && text[b] != '\r');
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  AffectTokenizer *tok;
  AffectTokens *t, *full, *again;
  const gchar *text;
  gsize len;
  guint max_length;

  /* A g_return_if_fail () in the code under test is a bug. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
  if (size == 0)
    return 0;
  init ();
  tok = toks[data[0] & 1];
  max_length = (data[0] >> 1) == 127 ? 512 : 2 + (data[0] >> 1);
  text = (const gchar *)data + 1;
  len = size - 1;

  t = affect_tokenizer_encode (tok, text, (gssize)len, max_length, NULL);
  CHECK (t != NULL);
  check_tokens (tok, t, text, len, max_length);

  full = affect_tokenizer_encode (tok, text, (gssize)len, G_MAXUINT, NULL);
  CHECK (full != NULL);
  check_tokens (tok, full, text, len, G_MAXUINT);
  CHECK (!full->truncated);
  CHECK (t->truncated == (full->n_tokens > max_length));
  for (guint i = 1; i + 1 < t->n_tokens; i++) {
    CHECK (t->ids[i] == full->ids[i]);
    CHECK (t->word_start[i] == full->word_start[i]);
    CHECK (t->word_end[i] == full->word_end[i]);
  }
  if (!t->truncated)
    CHECK (t->n_tokens == full->n_tokens);

  again = affect_tokenizer_encode (tok, text, (gssize)len, max_length, NULL);
  CHECK (again->n_tokens == t->n_tokens);
  CHECK (memcmp (again->ids, t->ids, sizeof (gint32) * t->n_tokens) == 0);
  CHECK (
      memcmp (again->word_start, t->word_start, sizeof (gint32) * t->n_tokens)
      == 0);

  affect_tokens_free (t);
  affect_tokens_free (full);
  affect_tokens_free (again);
  return 0;
}
