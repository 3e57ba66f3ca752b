/* gst-affect — models/asr
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Whisper's vocabulary (ids to text) and model configuration, read from a
 * CTranslate2 Whisper folder:
 *
 *  - vocabulary.txt: one token per line, the line number (from 0) is its
 *    id. Text tokens are GPT-2 byte-level BPE strings: every byte is
 *    written as one character (printable Latin-1 bytes as themselves, the
 *    others — controls, space, 0x7f..0xa0, 0xad — as U+0100 + their rank);
 *    the special tokens follow the text tokens: <|endoftext|> (eot),
 *    <|startoftranscript|> (sot), the languages, <|translate|>,
 *    <|transcribe|>, <|startoflm|>, <|startofprev|>, <|nospeech|> (or
 *    <|nocaptions|> in older vocabularies), <|notimestamps|>, then the
 *    timestamps <|0.00|> ... <|30.00|> (one every 20 ms) up to the last id.
 *  - config.json: suppress_ids, suppress_ids_begin, alignment_heads,
 *    lang_ids.
 *
 * Decoding joins the bytes of the text tokens (ids below eot; specials and
 * timestamps are left out, as the reference's decode) and makes the result
 * valid UTF-8 (an invalid byte becomes U+FFFD).
 */

#ifndef __AFFECT_WHISPER_TOKENIZER_H__
#define __AFFECT_WHISPER_TOKENIZER_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct _AffectWhisperTokenizer AffectWhisperTokenizer;

/* The special ids (-1 when the vocabulary lacks the token). */
typedef struct {
  gint32 eot, sot, translate, transcribe, sot_lm, sot_prev, no_speech,
      no_timestamps, timestamp_begin, timestamp_end;
} AffectWhisperSpecials;

/* Reads @dir/vocabulary.txt and @dir/config.json. NULL and @error
 * (G_FILE_ERROR / G_IO_ERROR / JSON_PARSER_ERROR, or G_IO_ERROR_INVALID_DATA
 * when a required token or field is missing). */
AffectWhisperTokenizer *affect_whisper_tokenizer_new (
    const gchar *dir, GError **error);
void affect_whisper_tokenizer_free (AffectWhisperTokenizer *tok);

gint32 affect_whisper_tokenizer_get_vocab_size (AffectWhisperTokenizer *tok);
const AffectWhisperSpecials *affect_whisper_tokenizer_get_specials (
    AffectWhisperTokenizer *tok);
/* 51865 tokens (as CTranslate2 decides it). */
gboolean affect_whisper_tokenizer_is_multilingual (AffectWhisperTokenizer *tok);
/* The token as written in vocabulary.txt, or NULL for an id out of range. */
const gchar *affect_whisper_tokenizer_get_token (
    AffectWhisperTokenizer *tok, gint32 id);
/* The id of a token string (exact), or -1. */
gint32 affect_whisper_tokenizer_lookup (
    AffectWhisperTokenizer *tok, const gchar *token);
/* The bytes of a text token (byte-level decoded; not NUL-terminated,
 * *n_bytes of them); NULL for specials, timestamps and bad ids. */
const guint8 *affect_whisper_tokenizer_get_bytes (
    AffectWhisperTokenizer *tok, gint32 id, gsize *n_bytes);

/* The text of @ids: the bytes of the ids below eot, joined, made valid
 * UTF-8. g_free. */
gchar *affect_whisper_tokenizer_decode (
    AffectWhisperTokenizer *tok, const gint32 *ids, gsize n_ids);

/* The time of a timestamp token in seconds (0.02 s per step), or -1 when
 * @id is not one. */
double affect_whisper_tokenizer_timestamp (
    AffectWhisperTokenizer *tok, gint32 id);

/* config.json: the lists (sorted as in the file; *n set), and the
 * alignment heads as (layer, head) pairs. */
const gint32 *affect_whisper_tokenizer_get_suppress_ids (
    AffectWhisperTokenizer *tok, gsize *n);
const gint32 *affect_whisper_tokenizer_get_suppress_ids_begin (
    AffectWhisperTokenizer *tok, gsize *n);
const int *affect_whisper_tokenizer_get_alignment_heads (
    AffectWhisperTokenizer *tok, gsize *n_pairs);

G_END_DECLS

#endif /* __AFFECT_WHISPER_TOKENIZER_H__ */
