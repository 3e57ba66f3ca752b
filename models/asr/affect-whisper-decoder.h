/* gst-affect — models/asr
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Whisper's text decoder on the engine's table ops (affect-tensor.h), with
 * the weights of a CTranslate2 WhisperSpec model.bin (affect-ct2.h):
 *
 *   x = embedding[token] + positions[position]     (learned, 448 positions)
 *   per layer (pre-norm):
 *     x = x + out (self-attention (LN (x)))        fused Q|K|V, causal, KV cache
 *     x = x + out (cross-attention (LN (x), enc))  K|V of the encoder output,
 *                                                  computed once per window
 *     x = x + W2 GELU (W1 LN (x))
 *   logits = LN (x) · embeddingᵀ                   (tied output projection)
 *
 * Layer norms use eps 1e-5; attention heads of width / num_heads.
 *
 * Use: affect_whisper_decoder_set_audio() with the encoder output of a 30-s
 * window (resets the cache), then affect_whisper_decoder_forward() with the
 * prompt (several tokens at once) and then one token per step; every call
 * appends its tokens' keys and values to the self-attention cache.
 * affect_whisper_decoder_reset() empties the cache and keeps the window.
 */

#ifndef __AFFECT_WHISPER_DECODER_H__
#define __AFFECT_WHISPER_DECODER_H__

#include "affect-ct2.h"
#include "affect-tensor.h"
#include "affect-whisper-profile.h"

G_BEGIN_DECLS

typedef struct _AffectWhisperDecoder AffectWhisperDecoder;

/* Builds the decoder from @model (weights converted to float32 and handed
 * to @backend). NULL and @error (AFFECT_CT2_ERROR_*) when a variable is
 * missing or of the wrong shape. */
AffectWhisperDecoder *affect_whisper_decoder_new (
    AffectBackend *backend, AffectCt2File *model, GError **error);
void affect_whisper_decoder_free (AffectWhisperDecoder *dec);

int affect_whisper_decoder_get_width (AffectWhisperDecoder *dec);
int affect_whisper_decoder_get_n_heads (AffectWhisperDecoder *dec);
int affect_whisper_decoder_get_n_layers (AffectWhisperDecoder *dec);
int affect_whisper_decoder_get_vocab_size (AffectWhisperDecoder *dec);
/* The number of learned positions (448): the most tokens one window's
 * cache holds. */
int affect_whisper_decoder_get_max_length (AffectWhisperDecoder *dec);
/* Tokens in the cache now. */
int affect_whisper_decoder_get_length (AffectWhisperDecoder *dec);

/* Computes every layer's cross-attention keys and values from @encoder_out
 * [1, 1, T, width] (T = 1500 for a 30-s window) and empties the cache. */
void affect_whisper_decoder_set_audio (
    AffectWhisperDecoder *dec, const AffectTensor *encoder_out);
/* Empties the self-attention cache (the audio stays). */
void affect_whisper_decoder_reset (AffectWhisperDecoder *dec);

/* The cross-attention heads whose weights affect_whisper_decoder_forward()
 * copies out (Whisper's alignment heads): @n pairs (layer, head). */
void affect_whisper_decoder_set_capture_heads (
    AffectWhisperDecoder *dec, const int *layer_head_pairs, int n);

/* Runs @n_tokens tokens at the next positions (after the cached ones) and
 * appends them to the cache. @logits (may be NULL) receives the logits of
 * the last token (vocab_size floats) or, with @all_rows, of every token
 * (n_tokens × vocab_size). @captured (may be NULL) receives, for each
 * capture head in order, the scaled cross-attention scores q·kᵀ/√d before
 * the softmax: n_heads_captured × n_tokens × T floats. FALSE and @error
 * when no audio is set or the tokens would pass the maximum length or are
 * out of the vocabulary. */
gboolean affect_whisper_decoder_forward (AffectWhisperDecoder *dec,
    const gint32 *tokens, int n_tokens, gboolean all_rows, gfloat *logits,
    gfloat *captured, GError **error);

/* The time spent in the logits (final layer norm, the product with the
 * embedding, the copy out) since the decoder was made; the caller may
 * clear it. */
AffectWhisperTime *affect_whisper_decoder_get_logits_time (
    AffectWhisperDecoder *dec);

G_END_DECLS

#endif /* __AFFECT_WHISPER_DECODER_H__ */
