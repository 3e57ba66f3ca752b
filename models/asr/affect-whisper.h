/* gst-affect — models/asr
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Whisper speech recognition: the log-mel front end, the encoder, the
 * decoder and the vocabulary of one CTranslate2 Whisper folder, and
 * transcription as faster-whisper's WhisperModel.transcribe() does it with
 * beam_size=1, temperature 0, no VAD, without_timestamps=False and
 * condition_on_previous_text False (default) or True:
 *
 *  - the log-mel of the whole recording (affect-whisper-mel.h), cut into
 *    consecutive 30-s windows; a window starts at "seek" (a frame) and holds
 *    min(3000, content frames - seek) frames, zero-padded to 3000;
 *  - per window, greedy decoding from the start sequence (<|startoftranscript|>,
 *    and for a multilingual model the language and <|transcribe|>) with
 *    CTranslate2's Whisper rules: the suppressed tokens (config.json
 *    suppress_ids and <|transcribe|>, <|translate|>, <|startoftranscript|>,
 *    <|startofprev|>, <|startoflm|>, <|nospeech|>), the blank suppression
 *    at the first step (config.json suppress_ids_begin), <|notimestamps|>
 *    never, a timestamp first (at most max_initial_timestamp, 1 s), then
 *    timestamps in pairs (after a pair only text; after one timestamp text
 *    only if no second one), never decreasing, and a timestamp whenever the
 *    summed probability of the timestamps passes that of every text token;
 *    at most 224 tokens;
 *  - the no-speech probability (softmax of the raw logits predicted at the
 *    <|startoftranscript|> position, at <|nospeech|>); a window whose
 *    no-speech probability passes no_speech_threshold (0.6) is skipped
 *    unless its average log probability passes log_prob_threshold (-1.0);
 *  - segments from the timestamp pairs; the next window starts after the
 *    last complete segment (or after the window when the output ends with a
 *    single timestamp or has none);
 *  - with word_timestamps: words from the cross-attention weights of the
 *    alignment heads (config.json) on a forced pass over the text tokens,
 *    normalised, median-filtered (width 7), averaged over the heads and
 *    aligned by dynamic time warping; punctuation merged into words and the
 *    segment / word boundaries adjusted as faster-whisper does; the next
 *    window then starts at the end of the last word.
 *
 * Not done: temperature fallback (the reference's default list of
 * temperatures: only temperature 0 here, so the prompt is never reset),
 * initial prompts, language detection (the language is given), VAD.
 */

#ifndef __AFFECT_WHISPER_H__
#define __AFFECT_WHISPER_H__

#include "affect-tensor.h"
#include "affect-whisper-profile.h"
#include "affect-whisper-tokenizer.h"

G_BEGIN_DECLS

typedef struct _AffectWhisper AffectWhisper;

typedef struct {
  gboolean word_timestamps;
  /* < 0: no no-speech skipping */
  double no_speech_threshold;
  /* a skipped window is kept when its average log probability passes
   * this; NAN: never (the reference's None) */
  double log_prob_threshold;
  double max_initial_timestamp; /* seconds */
  gboolean suppress_blank;
  /* a language code ("en") for a multilingual model; ignored otherwise */
  const gchar *language;
  /* the text of the previous windows (its last 223 tokens, timestamps
   * included) as a prompt after <|startofprev|>, as the reference's
   * condition_on_previous_text=True (its default; FALSE here) */
  gboolean condition_on_previous_text;
} AffectWhisperOptions;

/* faster-whisper's defaults (0.6, -1.0, 1.0 s, suppress_blank, "en"), no
 * word timestamps. */
void affect_whisper_options_init (AffectWhisperOptions *opt);

typedef struct {
  gchar *word; /* with its leading space, punctuation merged */
  double start, end;
  double probability;
} AffectWhisperWord;

typedef struct {
  gsize seek; /* the first frame of its window (10 ms frames) */
  double start, end;
  gchar *text;
  gint32 *tokens; /* timestamps included */
  gsize n_tokens;
  double avg_logprob, no_speech_prob;
  AffectWhisperWord *words; /* with word_timestamps */
  gsize n_words;
} AffectWhisperSegment;

void affect_whisper_segment_free (AffectWhisperSegment *seg);

/* Called after every window: seconds done out of the whole. */
typedef void (*AffectWhisperProgress) (
    double done, double total, gpointer user_data);

/* Loads model.bin, vocabulary.txt and config.json of @dir onto @backend.
 * NULL and @error on any problem. */
AffectWhisper *affect_whisper_new (
    AffectBackend *backend, const gchar *dir, GError **error);
void affect_whisper_free (AffectWhisper *w);

AffectWhisperTokenizer *affect_whisper_get_tokenizer (AffectWhisper *w);
/* The suppressed tokens (sorted, unique) as the reference passes them. */
const gint32 *affect_whisper_get_suppress_tokens (AffectWhisper *w, gsize *n);

/* Transcribes @n_samples samples of 16-kHz mono audio: a GPtrArray of
 * AffectWhisperSegment (freeing the array frees them), possibly empty.
 * NULL and @error on a bad option (an unknown language). */
GPtrArray *affect_whisper_transcribe (AffectWhisper *w, const gfloat *samples,
    gsize n_samples, const AffectWhisperOptions *opt,
    AffectWhisperProgress progress, gpointer user_data, GError **error);

/* The parts of the profile (affect_whisper_get_profile()). The decoder's
 * calls (prompt, steps, alignment pass) include their logits product, which
 * LOGITS counts again on its own. */
typedef enum {
  AFFECT_WHISPER_PART_LOAD,     /* model.bin read, weights to the backend */
  AFFECT_WHISPER_PART_MEL,      /* the log-mel of the whole recording */
  AFFECT_WHISPER_PART_ENCODER,  /* one per 30-s window */
  AFFECT_WHISPER_PART_CROSS_KV, /* the window's cross-attention K|V */
  AFFECT_WHISPER_PART_PROMPT,   /* the start sequence, one per window */
  AFFECT_WHISPER_PART_STEP,     /* one per generated token */
  AFFECT_WHISPER_PART_LOGITS,   /* final norm and the logits product */
  AFFECT_WHISPER_PART_RULES,    /* suppression, timestamp rules, argmax */
  AFFECT_WHISPER_PART_ALIGN,    /* the forced pass of the word alignment */
  AFFECT_WHISPER_PART_DTW,      /* softmax, norm, median filter, DTW, words */
  AFFECT_WHISPER_N_PARTS
} AffectWhisperPart;

/* Where the time went since affect_whisper_new() (which counts LOAD) or the
 * last affect_whisper_reset_profile(): AFFECT_WHISPER_N_PARTS entries,
 * wall-clock and process CPU seconds (every thread) and calls. Measured
 * around synchronous calls: with an asynchronous backend a part's time may
 * land in the next part that reads results back. */
const AffectWhisperTime *affect_whisper_get_profile (AffectWhisper *w);
void affect_whisper_reset_profile (AffectWhisper *w);
/* A short name of @part ("encoder", "decoder step", ...). */
const gchar *affect_whisper_part_name (AffectWhisperPart part);

/* Dynamic time warping as the reference (CTranslate2's negative_dtw): the
 * monotonic path through @x (@n rows × @m columns) that maximises the summed
 * values, from (0, 0) to (n - 1, m - 1). Returns the number of steps and sets
 * *rows and *cols (g_free). Exposed for the tests. */
gsize affect_whisper_dtw (
    const gfloat *x, gsize n, gsize m, gint **rows, gint **cols);

G_END_DECLS

#endif /* __AFFECT_WHISPER_H__ */
