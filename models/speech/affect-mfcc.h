/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Kaldi-compatible MFCC and filter-bank (fbank) features, with the
 * semantics of torchaudio.compliance.kaldi.mfcc / .fbank (which follow
 * Kaldi's compute-mfcc-feats / compute-fbank-feats).
 *
 * Per frame of window_size samples (25 ms at 16 kHz = 400 samples, hop
 * 10 ms = 160 samples, snip_edges):
 *   1. optional dither (off by default; deterministic GRand seed);
 *   2. remove the DC offset (frame mean);
 *   3. raw log energy log(max(sum x^2, FLT_EPSILON)) if raw_energy;
 *   4. pre-emphasis x[i] -= k x[i-1], x[-1] := x[0];
 *   5. window (Povey = Hann^0.85 by default);
 *   6. zero-pad to the next power of two (512), real FFT (FFTW3, double),
 *      power spectrum;
 *   7. triangular mel filters (23 bins, 20 Hz .. Nyquist, mel =
 *      1127 ln(1 + f/700)), log(max(e, FLT_EPSILON));
 *   8. MFCC: orthonormal DCT-II (Kaldi's scaling: C0 weighted by
 *      sqrt(1/num_mel_bins)), first num_ceps, cepstral lifter
 *      1 + Q/2 sin(pi k / Q); C0 replaced by the log energy if use_energy.
 * The log energy uses floor log(energy_floor) when energy_floor > 0.
 *
 * Samples are expected on Kaldi's scale (16-bit integer range); see
 * AffectSpeechOptions.input_scale for floating-point input.
 * No GStreamer here.
 */

#ifndef __AFFECT_MFCC_H__
#define __AFFECT_MFCC_H__

#include <glib.h>

G_BEGIN_DECLS

#define AFFECT_MFCC_ERROR (affect_mfcc_error_quark ())
GQuark affect_mfcc_error_quark (void);

typedef enum {
  AFFECT_MFCC_ERROR_INVALID_OPTION /* an option is out of range */
} AffectMfccError;

typedef enum {
  AFFECT_MFCC_WINDOW_POVEY = 0, /* Hann(periodic=FALSE)^0.85 (default) */
  AFFECT_MFCC_WINDOW_HAMMING,   /* 0.54 - 0.46 cos(2 pi n / (N-1)) */
  AFFECT_MFCC_WINDOW_HANNING,   /* 0.5 - 0.5 cos(2 pi n / (N-1)) */
  AFFECT_MFCC_WINDOW_RECTANGULAR,
  AFFECT_MFCC_WINDOW_BLACKMAN /* uses blackman_coeff */
} AffectMfccWindow;

/* Every option with its default (affect_mfcc_options_init), which are the
 * defaults of torchaudio.compliance.kaldi.mfcc. */
typedef struct {
  double sample_frequency;        /* 16000 Hz */
  double frame_length_ms;         /* 25.0 */
  double frame_shift_ms;          /* 10.0 */
  double dither;                  /* 0.0 (off) */
  double preemphasis_coefficient; /* 0.97 */
  gboolean remove_dc_offset;      /* TRUE */
  AffectMfccWindow window_type;   /* POVEY */
  double blackman_coeff;          /* 0.42 */
  gboolean round_to_power_of_two; /* TRUE */
  gboolean snip_edges;            /* TRUE (only TRUE is supported) */
  guint num_mel_bins;             /* 23 */
  double low_freq;                /* 20.0 Hz */
  double high_freq;       /* 0.0: Nyquist; negative: offset from Nyquist */
  guint num_ceps;         /* 13 */
  double cepstral_lifter; /* 22.0 (0 = no lifter) */
  gboolean use_energy;    /* FALSE: C0 is the 0th cepstrum; TRUE: C0 =
                             log energy (Kaldi binary's default) */
  gboolean raw_energy;    /* TRUE: energy before pre-emphasis and window */
  double energy_floor;    /* 1.0 (torchaudio's default; Kaldi's is 0) */
  gboolean htk_compat;    /* FALSE; TRUE: energy/C0 last, C0 scaled sqrt 2 */
  guint32 dither_seed;    /* 0; seed of the dither noise when dither != 0 */
} AffectMfccOptions;

#define AFFECT_MFCC_MAX_CEPS 64
#define AFFECT_MFCC_MAX_MEL_BINS 256

void affect_mfcc_options_init (AffectMfccOptions *opts);

typedef struct _AffectMfcc AffectMfcc;

/* Checks the options and precomputes window, mel banks, DCT and lifter.
 * Returns NULL with @error (AFFECT_MFCC_ERROR_INVALID_OPTION) when an
 * option is out of range. */
AffectMfcc *affect_mfcc_new (const AffectMfccOptions *opts, GError **error);
void affect_mfcc_free (AffectMfcc *m);

guint affect_mfcc_window_size (const AffectMfcc *m);  /* 400 */
guint affect_mfcc_window_shift (const AffectMfcc *m); /* 160 */
guint affect_mfcc_padded_size (const AffectMfcc *m);  /* 512 */
const AffectMfccOptions *affect_mfcc_get_options (const AffectMfcc *m);

/* Number of frames for @n_samples samples (snip_edges: 0 when
 * n_samples < window size, else 1 + (n - window) / shift). */
guint64 affect_mfcc_num_frames (const AffectMfcc *m, guint64 n_samples);

/* Computes one frame from window_size samples at @frame.
 * Any output may be NULL. @ceps gets num_ceps values (with use_energy /
 * htk_compat placement as in torchaudio), @fbank gets num_mel_bins log mel
 * energies, @log_energy the (raw or windowed) log energy with the floor.
 * Not thread-safe for one AffectMfcc (uses its scratch buffers). */
void affect_mfcc_compute_frame (AffectMfcc *m, const double *frame,
    double *ceps, double *fbank, double *log_energy);

/* Helpers, exposed for tests. */

/* Kaldi mel scale 1127 ln(1 + f / 700) and its inverse. */
double affect_mfcc_mel (double hz);
double affect_mfcc_mel_inverse (double mel);

/* The mel filter bank: num_mel_bins rows of padded_size / 2 + 1 weights
 * (the Nyquist column is zero, as in Kaldi), row-major. */
const double *affect_mfcc_mel_banks (const AffectMfcc *m);

/* The analysis window (window_size values). */
const double *affect_mfcc_window (const AffectMfcc *m);

/* In place, Kaldi style: x[i] -= coeff * x[i-1] for i = n-1 .. 1, then
 * x[0] -= coeff * x[0]. */
void affect_mfcc_preemphasize (double *x, guint n, double coeff);

/* Serialises FFTW planning across models/ (the planner is not
 * thread-safe). */
void affect_fftw_lock (void);
void affect_fftw_unlock (void);

G_END_DECLS

#endif /* __AFFECT_MFCC_H__ */
