/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BERT WordPiece tokenizer (ICU), token ids identical to Hugging Face's
 * `BertTokenizer` (the `tokenizers` BertNormalizer + BertPreTokenizer +
 * WordPiece + [CLS]/[SEP] template). See docs/words.md for the rules.
 *
 * 1. Special tokens written in the text ("[CLS]", "[SEP]", "[UNK]", "[PAD]",
 *    "[MASK]", exact and case-sensitive) are taken as they are.
 * 2. Clean: U+0000, U+FFFD, invalid UTF-8 bytes and characters of category
 *    Cc, Cf, Co (except tab, CR, LF) are dropped; White_Space characters
 *    separate words.
 * 3. CJK ideographs (the BERT ranges) are words of their own.
 * 4. Uncased vocabularies: accents stripped (NFD, marks Mn dropped), then
 *    each character lower-cased (full case mapping, no context).
 * 5. Punctuation (category P* and the ASCII symbols !"#$%&'()*+,-./:;<=>?@
 *    [\]^_`{|}~) is a word of its own.
 * 6. WordPiece: greedy longest match first, "##" continuation pieces; a word
 *    longer than 100 characters or that cannot be matched is one [UNK].
 * 7. [CLS] pieces [SEP], truncated to max_length (pieces beyond
 *    max_length - 2 are dropped).
 *
 * Empty text (or text with no word) gives the two tokens [CLS] [SEP] and no
 * word token. No GStreamer here: GLib and ICU only.
 */

#ifndef __AFFECT_TOKENIZER_H__
#define __AFFECT_TOKENIZER_H__

#include <glib.h>

G_BEGIN_DECLS

#define AFFECT_TOKENIZER_ERROR (affect_tokenizer_error_quark ())
GQuark affect_tokenizer_error_quark (void);

typedef enum {
  AFFECT_TOKENIZER_ERROR_IO,    /* cannot read vocab.txt / config */
  AFFECT_TOKENIZER_ERROR_VOCAB, /* bad vocabulary (empty, no [UNK], ...) */
  AFFECT_TOKENIZER_ERROR_ARG    /* bad argument (max_length < 2, ...) */
} AffectTokenizerError;

/* Word pieces longer than this (in characters) become [UNK], as in BERT. */
#define AFFECT_TOKENIZER_MAX_WORD_CHARS 100

typedef struct _AffectTokenizer AffectTokenizer;

/* One encoded sequence. Arrays have n_tokens entries. word_start/word_end
 * are the UTF-8 byte offsets, in the text given to encode, of the word a
 * token came from (all pieces of a word share them; a word is what step 5
 * above produces, so "don't" is three words); -1 for the [CLS] and [SEP]
 * added around the text. */
typedef struct {
  guint n_tokens;
  gint32 *ids;
  gint32 *mask;       /* attention mask: all 1 (padding is up to the caller) */
  gint32 *word_start; /* bytes */
  gint32 *word_end;   /* bytes, exclusive */
  gboolean truncated; /* pieces were dropped to fit max_length */
} AffectTokens;

/* Loads vocab.txt (one token per line; the id is the line number).
 * @do_lower_case: TRUE for uncased vocabularies (lower-case + strip
 * accents). */
AffectTokenizer *affect_tokenizer_new (
    const gchar *vocab_path, gboolean do_lower_case, GError **error);

/* Loads DIR/vocab.txt; do_lower_case is read from DIR/tokenizer_config.json
 * when present ("do_lower_case", default TRUE as in BertTokenizer). */
AffectTokenizer *affect_tokenizer_new_from_dir (
    const gchar *dir, GError **error);

void affect_tokenizer_free (AffectTokenizer *tok);

guint affect_tokenizer_get_vocab_size (AffectTokenizer *tok);
gboolean affect_tokenizer_get_do_lower_case (AffectTokenizer *tok);
/* -1 if absent. */
gint32 affect_tokenizer_token_to_id (AffectTokenizer *tok, const gchar *token);
/* NULL if out of range; owned by the tokenizer. */
const gchar *affect_tokenizer_id_to_token (AffectTokenizer *tok, gint32 id);

/* Encodes @text (@len bytes, or -1 for NUL-terminated; may contain NUL
 * bytes and invalid UTF-8, which are dropped) as [CLS] pieces [SEP] with at
 * most @max_length tokens (>= 2). Returns NULL only for a bad argument. */
AffectTokens *affect_tokenizer_encode (AffectTokenizer *tok, const gchar *text,
    gssize len, guint max_length, GError **error);

void affect_tokens_free (AffectTokens *tokens);

G_END_DECLS

#endif /* __AFFECT_TOKENIZER_H__ */
