/* gst-affect — models/asr
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Whisper's log-mel front end, as the reference feature extractor
 * (faster-whisper's FeatureExtractor, the same numbers as OpenAI's
 * log_mel_spectrogram) computes it:
 *
 *   1. append @padding zero samples (the reference: 160) to the 16-kHz mono
 *      input, then pad n_fft/2 = 200 samples on both sides by reflection
 *      (numpy 'reflect': the edge sample is not repeated);
 *   2. frames of 400 samples every 160 (25 ms / 10 ms) times a periodic Hann
 *      window, power spectrum of the 201 bins (FFTW3, double precision);
 *      the last frame is dropped, so n_frames = (n_samples + padding) / 160;
 *   3. Whisper's mel filter bank: Slaney's mel scale (linear below 1 kHz,
 *      logarithmic above), triangles over 0..8 kHz with Slaney's area
 *      normalisation (librosa.filters.mel with htk=False, norm='slaney');
 *   4. log10 (mel clamped to at least 1e-10), then every value clamped to at
 *      least (the maximum over the WHOLE input) - 8, then (x + 4) / 4.
 *
 * The encoder takes windows of 3000 frames (30 s); a window is cut from the
 * log-mel of the whole input and padded with zeros in the log-mel domain
 * (affect_whisper_mel_window), as the reference's pad_or_trim does. Because
 * of the clamp in step 4, the values depend on the maximum over the input:
 * compute over the same span the reference does (the whole recording) to
 * compare.
 */

#ifndef __AFFECT_WHISPER_MEL_H__
#define __AFFECT_WHISPER_MEL_H__

#include <glib.h>

G_BEGIN_DECLS

#define AFFECT_WHISPER_SAMPLE_RATE 16000
#define AFFECT_WHISPER_N_FFT 400
#define AFFECT_WHISPER_HOP 160
#define AFFECT_WHISPER_N_BINS (AFFECT_WHISPER_N_FFT / 2 + 1)
#define AFFECT_WHISPER_N_MELS 80
/* One encoder window: 30 s, 3000 frames. */
#define AFFECT_WHISPER_CHUNK_SAMPLES (30 * AFFECT_WHISPER_SAMPLE_RATE)
#define AFFECT_WHISPER_CHUNK_FRAMES \
  (AFFECT_WHISPER_CHUNK_SAMPLES / AFFECT_WHISPER_HOP)
/* The reference's default end padding (samples). */
#define AFFECT_WHISPER_DEFAULT_PADDING 160

typedef struct _AffectWhisperMel AffectWhisperMel;

/* @n_mels: 80 (every Whisper model but large-v3) or 128. NULL for another
 * value. */
AffectWhisperMel *affect_whisper_mel_new (guint n_mels);
void affect_whisper_mel_free (AffectWhisperMel *mel);

guint affect_whisper_mel_get_n_mels (AffectWhisperMel *mel);
/* The filter bank, n_mels × AFFECT_WHISPER_N_BINS, row-major (float32, as
 * the reference keeps it). */
const gfloat *affect_whisper_mel_get_filters (AffectWhisperMel *mel);

/* Log-mel of @n_samples samples (16 kHz mono, nominally in [-1, 1]) with
 * @padding zero samples appended. Returns n_mels × *n_frames floats,
 * row-major (mel bin outer, time inner, as the reference), g_free; with
 * *n_frames = (n_samples + padding) / 160, which may be 0 (an allocation
 * of one float is returned then). */
gfloat *affect_whisper_mel_compute (AffectWhisperMel *mel,
    const gfloat *samples, gsize n_samples, gsize padding, gsize *n_frames);

/* Copies frames [@seek, @seek + @n_take) of @logmel (n_mels × @n_frames)
 * into @out (n_mels × AFFECT_WHISPER_CHUNK_FRAMES) and fills the rest with
 * zeros; @n_take is limited to the frames present and to the window. */
void affect_whisper_mel_window (const gfloat *logmel, guint n_mels,
    gsize n_frames, gsize seek, gsize n_take, gfloat *out);

G_END_DECLS

#endif /* __AFFECT_WHISPER_MEL_H__ */
