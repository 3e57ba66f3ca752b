/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * NCCF pitch tracker compatible with torchaudio's detect_pitch_frequency,
 * with a voicing measure. See affect-pitch.h.
 */

#include "affect-pitch.h"
#include "affect-mfcc.h" /* affect_fftw_lock */

#include <fftw3.h>
#include <math.h>
#include <string.h>

GQuark
affect_pitch_error_quark (void)
{
  return g_quark_from_static_string ("affect-pitch-error-quark");
}

#define NCCF_EPSILON 1e-9
#define COMBINE_THRESHOLD 0.99
/* Frames whose energy is below this (on the 16-bit sample scale, i.e. an
 * RMS under ~0.03 LSB) get voicing 0. */
#define VOICING_MIN_ENERGY 1e-1

struct _AffectPitch {
  AffectPitchOptions opts;
  guint frame_size;
  guint n_lags;
  guint lag_min;
  guint half_size;
  double *span;   /* frame_size + n_lags samples (zero-padded copy) */
  double *prefix; /* prefix sums of squares of span, span + 1 values */
  double *nccf;   /* n_lags */
  /* Cross-correlation by FFT: size fft_n >= span, no circular wrap. */
  guint fft_n;
  double *fa, *fb;       /* fft_n reals each */
  fftw_complex *ca, *cb; /* fft_n / 2 + 1 each */
  fftw_plan fwd, inv;
};

void
affect_pitch_options_init (AffectPitchOptions *opts)
{
  g_return_if_fail (opts != NULL);
  memset (opts, 0, sizeof (*opts));
  opts->sample_rate = 16000.0;
  opts->frame_time = 0.01;
  opts->win_length = 30;
  opts->freq_low = 85.0;
  opts->freq_high = 3400.0;
  opts->voicing_threshold = 0.5;
}

AffectPitch *
affect_pitch_new (const AffectPitchOptions *opts, GError **error)
{
  AffectPitchOptions defaults;
  AffectPitch *p;
  double fs, nl, lm;

  if (opts == NULL) {
    affect_pitch_options_init (&defaults);
    opts = &defaults;
  }
  if (!(opts->sample_rate > 0.0 && opts->sample_rate <= 1e6)
      || !(opts->frame_time > 0.0) || !(opts->freq_low > 0.0)
      || !(opts->freq_high > opts->freq_low) || opts->win_length < 1
      || opts->win_length > 10000 || !isfinite (opts->voicing_threshold)) {
    g_set_error (error, AFFECT_PITCH_ERROR, AFFECT_PITCH_ERROR_INVALID_OPTION,
        "pitch: need sample_rate in (0, 1e6], frame_time > 0, "
        "0 < freq_low < freq_high, win_length in [1, 10000] (got %g, %g, "
        "%g, %g, %u)",
        opts->sample_rate, opts->frame_time, opts->freq_low, opts->freq_high,
        opts->win_length);
    return NULL;
  }
  fs = ceil (opts->sample_rate * opts->frame_time);
  nl = ceil (opts->sample_rate / opts->freq_low);
  lm = ceil (opts->sample_rate / opts->freq_high);
  if (fs < 1.0 || fs > 1e6 || nl > 1e6 || lm >= floor (nl / 2.0)) {
    g_set_error (error, AFFECT_PITCH_ERROR, AFFECT_PITCH_ERROR_INVALID_OPTION,
        "pitch: frame of %g samples, %g lags and minimum lag %g: need a "
        "frame of 1 .. 1e6 samples and a minimum lag below half the lags "
        "(raise freq_high or lower freq_low)",
        fs, nl, lm);
    return NULL;
  }

  p = g_new0 (AffectPitch, 1);
  p->opts = *opts;
  p->frame_size = (guint)fs;
  p->n_lags = (guint)nl;
  p->lag_min = (guint)lm;
  p->half_size = p->n_lags / 2;
  p->span = g_new0 (double, p->frame_size + p->n_lags);
  p->prefix = g_new0 (double, p->frame_size + p->n_lags + 1);
  p->nccf = g_new0 (double, p->n_lags);
  p->fft_n = 1;
  while (p->fft_n < p->frame_size + p->n_lags)
    p->fft_n <<= 1;
  p->fa = fftw_malloc (sizeof (double) * p->fft_n);
  p->fb = fftw_malloc (sizeof (double) * p->fft_n);
  p->ca = fftw_malloc (sizeof (fftw_complex) * (p->fft_n / 2 + 1));
  p->cb = fftw_malloc (sizeof (fftw_complex) * (p->fft_n / 2 + 1));
  affect_fftw_lock ();
  p->fwd = fftw_plan_dft_r2c_1d ((int)p->fft_n, p->fa, p->ca, FFTW_ESTIMATE);
  p->inv = fftw_plan_dft_c2r_1d (
      (int)p->fft_n, p->ca, p->fa, FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
  affect_fftw_unlock ();
  return p;
}

void
affect_pitch_free (AffectPitch *p)
{
  if (p == NULL)
    return;
  g_free (p->span);
  g_free (p->prefix);
  g_free (p->nccf);
  affect_fftw_lock ();
  fftw_destroy_plan (p->fwd);
  fftw_destroy_plan (p->inv);
  affect_fftw_unlock ();
  fftw_free (p->fa);
  fftw_free (p->fb);
  fftw_free (p->ca);
  fftw_free (p->cb);
  g_free (p);
}

const AffectPitchOptions *
affect_pitch_get_options (const AffectPitch *p)
{
  return &p->opts;
}

guint
affect_pitch_frame_size (const AffectPitch *p)
{
  return p->frame_size;
}

guint
affect_pitch_n_lags (const AffectPitch *p)
{
  return p->n_lags;
}

guint
affect_pitch_span (const AffectPitch *p)
{
  return p->frame_size + p->n_lags;
}

static double
energy_of (const double *x, guint n)
{
  double e = 0.0;
  for (guint i = 0; i < n; i++)
    e += x[i] * x[i];
  return e;
}

guint
affect_pitch_frame_lag (
    AffectPitch *p, const double *x, gsize n_avail, double *corr)
{
  const guint span = p->frame_size + p->n_lags;
  const guint fsz = p->frame_size;
  const double *s = x;
  double e1, d1;
  guint best_k, half_k;

  if (n_avail < span) {
    memcpy (p->span, x, sizeof (double) * n_avail);
    memset (p->span + n_avail, 0, sizeof (double) * (span - n_avail));
    s = p->span;
  }
  p->prefix[0] = 0.0;
  for (guint i = 0; i < span; i++)
    p->prefix[i + 1] = p->prefix[i] + s[i] * s[i];

  /* dots[L] = sum_i x[i] x[i + L] for every lag at once: the frame and the
   * span zero-padded to fft_n, conj(FFT(frame)) * FFT(span), inverse. */
  {
    const guint nh = p->fft_n / 2 + 1;
    memcpy (p->fa, s, sizeof (double) * fsz);
    memset (p->fa + fsz, 0, sizeof (double) * (p->fft_n - fsz));
    memcpy (p->fb, s, sizeof (double) * span);
    memset (p->fb + span, 0, sizeof (double) * (p->fft_n - span));
    fftw_execute_dft_r2c (p->fwd, p->fa, p->ca);
    fftw_execute_dft_r2c (p->fwd, p->fb, p->cb);
    for (guint k = 0; k < nh; k++) {
      const double ar = p->ca[k][0], ai = p->ca[k][1];
      const double br = p->cb[k][0], bi = p->cb[k][1];
      p->ca[k][0] = ar * br + ai * bi;
      p->ca[k][1] = ar * bi - ai * br;
    }
    fftw_execute (p->inv); /* ca -> fa, unnormalised */
  }
  e1 = energy_of (s, fsz);
  d1 = NCCF_EPSILON + sqrt (e1);
  d1 *= d1;
  if (corr)
    corr[0] = e1 >= VOICING_MIN_ENERGY ? 1.0 : 0.0;
  /* nccf[k] holds lag k + 1. torchaudio's measure for the lag search, the
   * true normalised correlation for the voicing. */
  for (guint k = 0; k < p->n_lags; k++) {
    const guint lag = k + 1;
    double e2 = p->prefix[lag + fsz] - p->prefix[lag];
    double d2, dot;
    if (e2 < 0.0)
      e2 = 0.0;
    if (k < p->lag_min && corr == NULL)
      continue;
    dot = p->fa[lag] / (double)p->fft_n;
    d2 = NCCF_EPSILON + sqrt (e2);
    d2 *= d2;
    p->nccf[k] = dot / d1 / d2;
    if (corr) {
      if (e1 < VOICING_MIN_ENERGY || e2 < VOICING_MIN_ENERGY)
        corr[lag] = 0.0;
      else
        corr[lag] = CLAMP (dot / sqrt (e1 * e2), -1.0, 1.0);
    }
  }

  best_k = p->lag_min;
  for (guint k = p->lag_min + 1; k < p->n_lags; k++)
    if (p->nccf[k] > p->nccf[best_k])
      best_k = k;
  half_k = p->lag_min;
  for (guint k = p->lag_min + 1; k < p->half_size; k++)
    if (p->nccf[k] > p->nccf[half_k])
      half_k = k;
  if (p->nccf[half_k] > COMBINE_THRESHOLD * p->nccf[best_k])
    best_k = half_k;
  return best_k + 1;
}

double
affect_pitch_voicing_from_corr (const double *corr, guint lag)
{
  double dip = corr[0];

  if (lag < 1 || corr[0] <= 0.0)
    return 0.0;
  for (guint l = 1; l <= lag; l++)
    dip = MIN (dip, corr[l]);
  return CLAMP (corr[lag] - MAX (dip, 0.0), 0.0, 1.0);
}

static int
cmp_guint (const void *a, const void *b)
{
  const guint x = *(const guint *)a, y = *(const guint *)b;
  return (x > y) - (x < y);
}

guint
affect_pitch_median (const guint *lags, guint n, guint *scratch)
{
  g_return_val_if_fail (n >= 1, 0);
  memcpy (scratch, lags, sizeof (guint) * n);
  qsort (scratch, n, sizeof (guint), cmp_guint);
  return scratch[(n - 1) / 2];
}

guint64
affect_pitch_num_frames (const AffectPitch *p, guint64 n)
{
  return (n + p->frame_size - 1) / p->frame_size;
}

guint64
affect_pitch_track (
    AffectPitch *p, const double *samples, gsize n, double *f0, double *voicing)
{
  const guint64 nf = affect_pitch_num_frames (p, n);
  const guint w = p->opts.win_length;
  const gint64 before = (w - 1) / 2;
  const guint nc = p->n_lags + 1;
  guint *raw, *win, *scratch;
  double *corr;

  if (nf == 0)
    return 0;
  raw = g_new (guint, nf);
  corr = g_new (double, (gsize)nf *nc);
  win = g_new (guint, w);
  scratch = g_new (guint, w);
  for (guint64 t = 0; t < nf; t++) {
    const gsize start = (gsize)t * p->frame_size;
    raw[t] = affect_pitch_frame_lag (
        p, samples + start, n - start, corr + (gsize)t * nc);
  }
  for (guint64 t = 0; t < nf; t++) {
    guint lag;
    for (guint j = 0; j < w; j++) {
      gint64 s = (gint64)t - before + j;
      s = CLAMP (s, 0, (gint64)nf - 1);
      win[j] = raw[s];
    }
    lag = affect_pitch_median (win, w, scratch);
    if (f0)
      f0[t] = p->opts.sample_rate / (NCCF_EPSILON + (double)lag);
    if (voicing)
      voicing[t] = affect_pitch_voicing_from_corr (corr + (gsize)t * nc, lag);
  }
  g_free (raw);
  g_free (corr);
  g_free (win);
  g_free (scratch);
  return nf;
}
