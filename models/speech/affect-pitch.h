/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pitch (F0) and voicing: the NCCF + median-smoothing tracker of
 * torchaudio.functional.detect_pitch_frequency, reproduced exactly, plus a
 * voicing measure of our own. See docs/speech.md for why this algorithm.
 *
 * For raw frame t (frame_size = ceil(rate * frame_time) samples starting at
 * t * frame_size; the signal is zero-padded at its end):
 *   c(L) = <x, x_L> / (1e-9 + |x|)^2 / (1e-9 + |x_L|)^2,  L = 1 .. n_lags
 *   (x_L = the frame shifted by L samples, n_lags = ceil(rate / freq_low));
 *   best = argmax c(L) over L > lag_min (lag_min = ceil(rate / freq_high)),
 *   half = argmax over lag_min < L <= n_lags / 2; the lag is half when
 *   c(half) > 0.99 c(best), else best (first maximum on ties).
 * The lags are median-smoothed over win_length frames (lower median; frame
 * t uses raw frames t - (win_length-1)/2 .. t + win_length/2, clamped to the
 * first / last raw frame), and F0 = rate / lag.
 *
 * Voicing (ours, torchaudio has none), from the true normalised
 * cross-correlation r(L) = <x, x_L> / sqrt(|x|^2 |x_L|^2) of frame t:
 * r(L) at its smoothed lag L minus max(0, min r(1..L)), clipped to [0, 1];
 * 0 for frames with (near) zero energy.
 * A frame is called voiced when voicing >= voicing_threshold.
 * No GStreamer here.
 */

#ifndef __AFFECT_PITCH_H__
#define __AFFECT_PITCH_H__

#include <glib.h>

G_BEGIN_DECLS

#define AFFECT_PITCH_ERROR (affect_pitch_error_quark ())
GQuark affect_pitch_error_quark (void);

typedef enum { AFFECT_PITCH_ERROR_INVALID_OPTION } AffectPitchError;

typedef struct {
  double sample_rate;       /* 16000 Hz (an integer value) */
  double frame_time;        /* 0.01 s */
  guint win_length;         /* 30 frames of median smoothing */
  double freq_low;          /* 85 Hz (an integer value in torchaudio) */
  double freq_high;         /* 3400 Hz */
  double voicing_threshold; /* 0.5 */
} AffectPitchOptions;

void affect_pitch_options_init (AffectPitchOptions *opts);

typedef struct _AffectPitch AffectPitch;

AffectPitch *affect_pitch_new (const AffectPitchOptions *opts, GError **error);
void affect_pitch_free (AffectPitch *p);

const AffectPitchOptions *affect_pitch_get_options (const AffectPitch *p);
guint affect_pitch_frame_size (const AffectPitch *p); /* 160 */
guint affect_pitch_n_lags (const AffectPitch *p);     /* 189 */
/* Samples a raw frame reads: frame_size + n_lags. */
guint affect_pitch_span (const AffectPitch *p);

/* The unsmoothed lag of the raw frame starting at @x; @n_avail samples are
 * readable at @x, the rest of the span counts as zeros. When @corr is not
 * NULL it gets n_lags + 1 values: corr[0] = 1 (0 for a silent frame) and
 * corr[L] = the true normalised cross-correlation at lag L, in [-1, 1]. */
guint affect_pitch_frame_lag (
    AffectPitch *p, const double *x, gsize n_avail, double *corr);

/* The voicing measure at @lag from a frame's @corr (see above):
 * corr[lag] minus the positive part of the lowest correlation at lags
 * 1 .. lag, clipped to [0, 1]. Subtracting that dip keeps low-pass noise,
 * whose correlation merely decays with the lag, from looking periodic. */
double affect_pitch_voicing_from_corr (const double *corr, guint lag);

/* Lower median of @n lags (n >= 1). @scratch holds n values. */
guint affect_pitch_median (const guint *lags, guint n, guint *scratch);

/* Whole-signal tracking: ceil(n / frame_size) frames (0 for n == 0);
 * @f0 and @voicing (either may be NULL) get that many values. Returns the
 * number of frames. Frames 0 .. n_frames - 1 - win_length / 2 equal
 * torchaudio's output; later ones use the clamped window. */
guint64 affect_pitch_track (AffectPitch *p, const double *samples, gsize n,
    double *f0, double *voicing);

/* Number of frames affect_pitch_track gives for @n samples. */
guint64 affect_pitch_num_frames (const AffectPitch *p, guint64 n);

G_END_DECLS

#endif /* __AFFECT_PITCH_H__ */
