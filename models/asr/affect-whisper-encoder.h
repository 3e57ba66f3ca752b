/* gst-affect — models/asr
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Whisper's audio encoder on the engine's table ops (affect-tensor.h), with
 * the weights of a CTranslate2 WhisperSpec model.bin (affect-ct2.h):
 *
 *   x = GELU (conv1 (mel))                k 3, pad 1: [3000, width]
 *   x = GELU (conv2 (x))                  k 3, pad 1, stride 2: [1500, width]
 *   x = x + positions                     (the stored sinusoids)
 *   per layer (pre-norm):
 *     x = x + out (attention (LN (x)))    fused Q|K|V, heads of 64
 *     x = x + W2 GELU (W1 LN (x))
 *   x = LN (x)
 *
 * Layer norms use eps 1e-5; GELU is the erf form.
 */

#ifndef __AFFECT_WHISPER_ENCODER_H__
#define __AFFECT_WHISPER_ENCODER_H__

#include "affect-ct2.h"
#include "affect-tensor.h"

G_BEGIN_DECLS

typedef struct _AffectWhisperEncoder AffectWhisperEncoder;

/* Builds the encoder from @model (weights converted to float32 and handed
 * to @backend; @model may be closed afterwards). NULL and @error
 * (AFFECT_CT2_ERROR_*) when a variable is missing or of the wrong shape. */
AffectWhisperEncoder *affect_whisper_encoder_new (
    AffectBackend *backend, AffectCt2File *model, GError **error);
void affect_whisper_encoder_free (AffectWhisperEncoder *enc);

int affect_whisper_encoder_get_width (AffectWhisperEncoder *enc);
int affect_whisper_encoder_get_n_mels (AffectWhisperEncoder *enc);

/* One 30-s window: @mel is n_mels × 3000 (bin outer, time inner, as
 * affect_whisper_mel_window gives it). Returns [1, 1, 1500, width]. The
 * encoder keeps its attention scores between calls: one call at a time. */
AffectTensor *affect_whisper_encoder_forward (
    AffectWhisperEncoder *enc, const gfloat *mel);

G_END_DECLS

#endif /* __AFFECT_WHISPER_ENCODER_H__ */
