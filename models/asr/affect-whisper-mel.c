/* gst-affect — models/asr
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Whisper's log-mel front end; the steps are described in
 * affect-whisper-mel.h.
 */

#include "affect-whisper-mel.h"

#include "affect-mfcc.h" /* affect_fftw_lock: FFTW's planner lock */

#include <fftw3.h>
#include <math.h>
#include <string.h>

struct _AffectWhisperMel {
  guint n_mels;
  gfloat *filters; /* n_mels × N_BINS */
  gfloat window[AFFECT_WHISPER_N_FFT];
  double *fft_in;
  fftw_complex *fft_out;
  fftw_plan plan;
};

/* Slaney's mel scale: linear (200/3 Hz per mel) below 1 kHz, logarithmic
 * (ln(6.4)/27 per mel) above. */
static double
mel_to_hz (double m)
{
  const double f_sp = 200.0 / 3.0, min_log_hz = 1000.0;
  const double min_log_mel = min_log_hz / f_sp;
  const double logstep = log (6.4) / 27.0;

  if (m >= min_log_mel)
    return min_log_hz * exp (logstep * (m - min_log_mel));
  return f_sp * m;
}

static double
hz_to_mel (double f)
{
  const double f_sp = 200.0 / 3.0, min_log_hz = 1000.0;
  const double min_log_mel = min_log_hz / f_sp;
  const double logstep = log (6.4) / 27.0;

  if (f >= min_log_hz)
    return min_log_mel + log (f / min_log_hz) / logstep;
  return f / f_sp;
}

static void
make_filters (AffectWhisperMel *m)
{
  const guint n = m->n_mels;
  const double top = hz_to_mel (AFFECT_WHISPER_SAMPLE_RATE / 2.0);
  double *freqs = g_new (double, n + 2);
  guint i, k;

  /* n + 2 band edges evenly spaced on the mel scale over 0..8 kHz */
  for (i = 0; i < n + 2; i++)
    freqs[i] = mel_to_hz (top * i / (n + 1));
  for (i = 0; i < n; i++) {
    const double lo = freqs[i], mid = freqs[i + 1], hi = freqs[i + 2];
    const double enorm = 2.0 / (hi - lo); /* Slaney: equal area */

    for (k = 0; k < AFFECT_WHISPER_N_BINS; k++) {
      const double f
          = (double)k * AFFECT_WHISPER_SAMPLE_RATE / AFFECT_WHISPER_N_FFT;
      const double up = (f - lo) / (mid - lo), down = (hi - f) / (hi - mid);
      const double w = MAX (0.0, MIN (up, down));

      m->filters[i * AFFECT_WHISPER_N_BINS + k] = (gfloat)(w * enorm);
    }
  }
  g_free (freqs);
}

AffectWhisperMel *
affect_whisper_mel_new (guint n_mels)
{
  AffectWhisperMel *m;
  guint i;

  if (n_mels != 80 && n_mels != 128)
    return NULL;
  m = g_new0 (AffectWhisperMel, 1);
  m->n_mels = n_mels;
  m->filters = g_new (gfloat, (gsize)n_mels * AFFECT_WHISPER_N_BINS);
  make_filters (m);
  /* periodic Hann window, rounded to float as the reference keeps it */
  for (i = 0; i < AFFECT_WHISPER_N_FFT; i++)
    m->window[i]
        = (gfloat)(0.5 - 0.5 * cos (2.0 * G_PI * i / AFFECT_WHISPER_N_FFT));
  m->fft_in = fftw_malloc (sizeof (double) * AFFECT_WHISPER_N_FFT);
  m->fft_out = fftw_malloc (sizeof (fftw_complex) * AFFECT_WHISPER_N_BINS);
  affect_fftw_lock ();
  m->plan = fftw_plan_dft_r2c_1d (
      AFFECT_WHISPER_N_FFT, m->fft_in, m->fft_out, FFTW_ESTIMATE);
  affect_fftw_unlock ();
  return m;
}

void
affect_whisper_mel_free (AffectWhisperMel *m)
{
  if (!m)
    return;
  affect_fftw_lock ();
  fftw_destroy_plan (m->plan);
  affect_fftw_unlock ();
  fftw_free (m->fft_in);
  fftw_free (m->fft_out);
  g_free (m->filters);
  g_free (m);
}

guint
affect_whisper_mel_get_n_mels (AffectWhisperMel *m)
{
  return m->n_mels;
}

const gfloat *
affect_whisper_mel_get_filters (AffectWhisperMel *m)
{
  return m->filters;
}

/* Sample @i (may be outside [0, len)) of the input padded with zeros to
 * @len = n_samples + padding, reflected at both ends (numpy's 'reflect',
 * repeated for inputs shorter than the padding). */
static double
padded_sample (const gfloat *x, gsize n_samples, gsize len, gint64 i)
{
  if (len == 1) {
    i = 0;
  } else {
    const gint64 period = 2 * ((gint64)len - 1);

    i %= period;
    if (i < 0)
      i += period;
    if (i >= (gint64)len)
      i = period - i;
  }
  return (gsize)i < n_samples ? x[i] : 0.0;
}

gfloat *
affect_whisper_mel_compute (AffectWhisperMel *m, const gfloat *samples,
    gsize n_samples, gsize padding, gsize *n_frames_out)
{
  const gsize len = n_samples + padding;
  const gsize n_frames = len / AFFECT_WHISPER_HOP;
  const gint64 half = AFFECT_WHISPER_N_FFT / 2;
  const guint n_mels = m->n_mels;
  gfloat *out = g_new (gfloat, MAX ((gsize)n_mels * n_frames, 1));
  double power[AFFECT_WHISPER_N_BINS];
  gfloat max = -INFINITY;
  gsize t, i;
  guint b, k;

  g_return_val_if_fail (samples != NULL || n_samples == 0, NULL);

  for (t = 0; t < n_frames; t++) {
    /* frame t is centred on padded sample t × hop */
    const gint64 start = (gint64)t * AFFECT_WHISPER_HOP - half;

    if (start >= 0 && start + AFFECT_WHISPER_N_FFT <= (gint64)n_samples) {
      for (i = 0; i < AFFECT_WHISPER_N_FFT; i++)
        m->fft_in[i] = (double)samples[start + i] * m->window[i];
    } else {
      for (i = 0; i < AFFECT_WHISPER_N_FFT; i++)
        m->fft_in[i]
            = padded_sample (samples, n_samples, len, start + (gint64)i)
              * m->window[i];
    }
    fftw_execute (m->plan);
    for (k = 0; k < AFFECT_WHISPER_N_BINS; k++)
      power[k] = m->fft_out[k][0] * m->fft_out[k][0]
                 + m->fft_out[k][1] * m->fft_out[k][1];
    for (b = 0; b < n_mels; b++) {
      const gfloat *w = m->filters + (gsize)b * AFFECT_WHISPER_N_BINS;
      double s = 0.0;
      gfloat v;

      for (k = 0; k < AFFECT_WHISPER_N_BINS; k++)
        s += w[k] * power[k];
      v = (gfloat)log10 (MAX (s, 1e-10));
      out[(gsize)b * n_frames + t] = v;
      if (v > max)
        max = v;
    }
  }
  for (i = 0; i < (gsize)n_mels * n_frames; i++)
    out[i] = (MAX (out[i], max - 8.0f) + 4.0f) / 4.0f;
  *n_frames_out = n_frames;
  return out;
}

void
affect_whisper_mel_window (const gfloat *logmel, guint n_mels, gsize n_frames,
    gsize seek, gsize n_take, gfloat *out)
{
  const gsize W = AFFECT_WHISPER_CHUNK_FRAMES;
  guint b;

  if (seek >= n_frames)
    n_take = 0;
  else
    n_take = MIN (n_take, n_frames - seek);
  n_take = MIN (n_take, W);
  for (b = 0; b < n_mels; b++) {
    gfloat *row = out + (gsize)b * W;

    if (n_take)
      memcpy (
          row, logmel + (gsize)b * n_frames + seek, n_take * sizeof (gfloat));
    memset (row + n_take, 0, (W - n_take) * sizeof (gfloat));
  }
}
