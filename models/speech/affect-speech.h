/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Streaming speech features, one frame per 10 ms: Kaldi MFCC
 * (affect-mfcc.h), Kaldi raw log energy, F0 and voicing (affect-pitch.h).
 *
 * Push mono samples at options.sample_rate in chunks of any size, pull
 * frames as they become ready, call affect_speech_finish() at the end of
 * the stream to get the last frames. The frames are exactly those of the
 * whole-signal computation (torchaudio.compliance.kaldi.mfcc with
 * snip_edges: 1 + (n - 400) / 160 frames for n >= 400 samples, none
 * below), whatever the chunking.
 *
 * Frame i covers samples [i * 160, i * 160 + 400) for MFCC / energy (25 ms)
 * and its pitch frame starts at sample i * 160; its time stamp is the
 * frame start, i * 10 ms. Latency: a frame is ready once the MFCC window
 * and the pitch lags of the median window are available, i.e. after
 * sample i * 160 + affect_speech_latency_samples().
 *
 * Sample scale: pushed floats are multiplied by input_scale (default 32768,
 * so that [-1, 1] audio is on Kaldi's 16-bit scale, as Kaldi and
 * torchaudio-on-int16-scaled-waveforms expect). Non-finite samples (NaN,
 * +-Inf) are replaced by 0 and counted.
 * No GStreamer here. Not thread-safe; one instance per stream.
 */

#ifndef __AFFECT_SPEECH_H__
#define __AFFECT_SPEECH_H__

#include <glib.h>

#include "affect-mfcc.h"
#include "affect-pitch.h"

G_BEGIN_DECLS

#define AFFECT_SPEECH_ERROR (affect_speech_error_quark ())
GQuark affect_speech_error_quark (void);

typedef enum { AFFECT_SPEECH_ERROR_INVALID_OPTION } AffectSpeechError;

typedef struct {
  double sample_rate; /* 16000 Hz; copied into mfcc and pitch options */
  double input_scale; /* 32768 */
  AffectMfccOptions mfcc;
  AffectPitchOptions pitch;
} AffectSpeechOptions;

void affect_speech_options_init (AffectSpeechOptions *opts);

typedef struct {
  guint64 index;
  double time; /* frame start in seconds: index * frame shift */
  guint n_mfcc;
  double mfcc[AFFECT_MFCC_MAX_CEPS];
  double log_energy; /* Kaldi log energy (raw_energy option) */
  double f0_hz;
  double voicing; /* [0, 1]; voiced when >= pitch.voicing_threshold */
  gboolean voiced;
} AffectSpeechFrame;

typedef struct _AffectSpeech AffectSpeech;

/* NULL options: defaults. Returns NULL with @error for bad options (also
 * when the MFCC frame shift differs from the pitch frame size). */
AffectSpeech *affect_speech_new (
    const AffectSpeechOptions *opts, GError **error);
void affect_speech_free (AffectSpeech *s);

const AffectSpeechOptions *affect_speech_get_options (const AffectSpeech *s);
guint affect_speech_num_ceps (const AffectSpeech *s);
guint affect_speech_frame_shift (const AffectSpeech *s);     /* samples */
guint affect_speech_latency_samples (const AffectSpeech *s); /* see top */

/* Frames the whole-signal computation gives for @n samples. */
guint64 affect_speech_num_frames (const AffectSpeech *s, guint64 n);

/* Appends samples. Pushing after affect_speech_finish() is ignored with a
 * g_warning (a programming error). Samples are kept until the frames that
 * need them are pulled: pull after each push to keep memory bounded (about
 * latency_samples + the chunk size).
 *
 * Cap: at most AFFECT_SPEECH_MAX_BACKLOG + latency_samples samples are
 * held, whatever @n and however long the caller waits to pull. A push that
 * would go beyond it (a huge buffer, e.g. a resampler's output for audio
 * at 1 Hz, or many pushes without a pull) first computes the frames that
 * are ready into an internal queue, which frees their samples, and then
 * appends the next AFFECT_SPEECH_MAX_BACKLOG samples at most, and so on:
 * nothing is dropped, pull returns the queued frames first, and the frames
 * are the same as with any other chunking. The queue holds the output
 * (sizeof (AffectSpeechFrame) per frame shift, about 3.6 bytes per 16 kHz
 * sample against 8 for a held sample) until it is pulled. Pushing and
 * pulling take time linear in the samples pushed. */
#define AFFECT_SPEECH_MAX_BACKLOG ((gsize)1 << 20)
void affect_speech_push (AffectSpeech *s, const float *samples, gsize n);
void affect_speech_push_double (
    AffectSpeech *s, const double *samples, gsize n);

/* End of stream: the frames that wait for later samples become ready. */
void affect_speech_finish (AffectSpeech *s);

/* Fills @frame with the next ready frame and returns TRUE, or returns
 * FALSE when no frame is ready (more samples, or finish, needed). */
gboolean affect_speech_pull (AffectSpeech *s, AffectSpeechFrame *frame);

/* Back to the state after _new (a new stream; counters cleared). */
void affect_speech_reset (AffectSpeech *s);

guint64 affect_speech_samples_pushed (const AffectSpeech *s);
guint64 affect_speech_nonfinite_samples (const AffectSpeech *s);

/* What the extractor holds and has done since _new / _reset: lets tests
 * and callers check that memory and work stay bounded. */
typedef struct {
  guint64 samples_held;      /* samples kept now */
  guint64 peak_samples_held; /* <= AFFECT_SPEECH_MAX_BACKLOG + latency */
  guint64 samples_moved;     /* moved to the front of the store; at most
                              * the samples pushed (linear work) */
  guint64 raw_pitch_frames;  /* raw pitch frames computed (each once) */
  guint64 frames_queued;     /* frames computed during a push, not pulled */
  guint64 peak_frames_queued;
} AffectSpeechStats;

void affect_speech_get_stats (const AffectSpeech *s, AffectSpeechStats *stats);

G_END_DECLS

#endif /* __AFFECT_SPEECH_H__ */
