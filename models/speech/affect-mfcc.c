/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Kaldi-compatible MFCC / fbank. See affect-mfcc.h for the pipeline.
 * The FFT is FFTW3's double-precision real-to-complex transform (see
 * docs/speech.md for why double and why FFTW).
 */

#include "affect-mfcc.h"

#include <fftw3.h>
#include <float.h>
#include <math.h>
#include <string.h>

GQuark
affect_mfcc_error_quark (void)
{
  return g_quark_from_static_string ("affect-mfcc-error-quark");
}

/* FFTW's planner is not thread-safe; plans are made and destroyed under
 * this lock (affect-mfcc.c and affect-pitch.c). */
static GMutex fftw_plan_lock;

void
affect_fftw_lock (void)
{
  g_mutex_lock (&fftw_plan_lock);
}

void
affect_fftw_unlock (void)
{
  g_mutex_unlock (&fftw_plan_lock);
}

struct _AffectMfcc {
  AffectMfccOptions opts;
  guint window_size;
  guint window_shift;
  guint padded;
  guint n_fft_bins; /* padded / 2 + 1 */
  double high_freq;
  double *window;
  double *mel_banks; /* num_mel_bins x n_fft_bins */
  guint *bank_first; /* first non-zero column of each bank */
  guint *bank_last;  /* one past the last non-zero column */
  double *dct;       /* num_ceps x num_mel_bins */
  double *lifter;    /* num_ceps */
  double *fft_in;    /* padded, fftw_malloc */
  fftw_complex *fft_out;
  double *mel_scratch;
  fftw_plan plan;
  GRand *rand;
};

void
affect_mfcc_options_init (AffectMfccOptions *opts)
{
  g_return_if_fail (opts != NULL);
  memset (opts, 0, sizeof (*opts));
  opts->sample_frequency = 16000.0;
  opts->frame_length_ms = 25.0;
  opts->frame_shift_ms = 10.0;
  opts->dither = 0.0;
  opts->preemphasis_coefficient = 0.97;
  opts->remove_dc_offset = TRUE;
  opts->window_type = AFFECT_MFCC_WINDOW_POVEY;
  opts->blackman_coeff = 0.42;
  opts->round_to_power_of_two = TRUE;
  opts->snip_edges = TRUE;
  opts->num_mel_bins = 23;
  opts->low_freq = 20.0;
  opts->high_freq = 0.0;
  opts->num_ceps = 13;
  opts->cepstral_lifter = 22.0;
  opts->use_energy = FALSE;
  opts->raw_energy = TRUE;
  opts->energy_floor = 1.0;
  opts->htk_compat = FALSE;
  opts->dither_seed = 0;
}

double
affect_mfcc_mel (double hz)
{
  return 1127.0 * log (1.0 + hz / 700.0);
}

double
affect_mfcc_mel_inverse (double mel)
{
  return 700.0 * (exp (mel / 1127.0) - 1.0);
}

void
affect_mfcc_preemphasize (double *x, guint n, double coeff)
{
  if (n == 0 || coeff == 0.0)
    return;
  for (guint i = n - 1; i > 0; i--)
    x[i] -= coeff * x[i - 1];
  x[0] -= coeff * x[0];
}

static guint
next_power_of_two (guint x)
{
  guint p = 1;
  while (p < x)
    p <<= 1;
  return p;
}

static void
make_window (AffectMfcc *m)
{
  const guint n = m->window_size;
  const double a = 2.0 * G_PI / (double)(n - 1);

  for (guint i = 0; i < n; i++) {
    double w;
    switch (m->opts.window_type) {
      case AFFECT_MFCC_WINDOW_HANNING:
        w = 0.5 - 0.5 * cos (a * i);
        break;
      case AFFECT_MFCC_WINDOW_HAMMING:
        w = 0.54 - 0.46 * cos (a * i);
        break;
      case AFFECT_MFCC_WINDOW_RECTANGULAR:
        w = 1.0;
        break;
      case AFFECT_MFCC_WINDOW_BLACKMAN:
        w = m->opts.blackman_coeff - 0.5 * cos (a * i)
            + (0.5 - m->opts.blackman_coeff) * cos (2.0 * a * i);
        break;
      case AFFECT_MFCC_WINDOW_POVEY:
      default:
        w = pow (0.5 - 0.5 * cos (a * i), 0.85);
        break;
    }
    m->window[i] = w;
  }
}

static void
make_mel_banks (AffectMfcc *m)
{
  const guint nb = m->opts.num_mel_bins;
  const guint nfft = m->padded / 2; /* columns with weights; Nyquist = 0 */
  const double bin_width = m->opts.sample_frequency / (double)m->padded;
  const double mel_lo = affect_mfcc_mel (m->opts.low_freq);
  const double mel_hi = affect_mfcc_mel (m->high_freq);
  const double delta = (mel_hi - mel_lo) / (double)(nb + 1);

  for (guint b = 0; b < nb; b++) {
    const double left = mel_lo + b * delta;
    const double center = mel_lo + (b + 1.0) * delta;
    const double right = mel_lo + (b + 2.0) * delta;
    double *row = m->mel_banks + (gsize)b * m->n_fft_bins;
    guint first = m->n_fft_bins, last = 0;

    for (guint k = 0; k < nfft; k++) {
      const double mel = affect_mfcc_mel (bin_width * k);
      const double up = (mel - left) / (center - left);
      const double down = (right - mel) / (right - center);
      double w = MIN (up, down);
      if (w < 0.0)
        w = 0.0;
      row[k] = w;
      if (w > 0.0) {
        if (first == m->n_fft_bins)
          first = k;
        last = k + 1;
      }
    }
    row[nfft] = 0.0;
    if (first == m->n_fft_bins)
      first = last = 0;
    m->bank_first[b] = first;
    m->bank_last[b] = last;
  }
}

static void
make_dct_and_lifter (AffectMfcc *m)
{
  const guint nb = m->opts.num_mel_bins;
  const guint nc = m->opts.num_ceps;

  for (guint k = 0; k < nc; k++) {
    for (guint n = 0; n < nb; n++) {
      double v;
      if (k == 0)
        v = sqrt (1.0 / (double)nb);
      else
        v = sqrt (2.0 / (double)nb) * cos (G_PI / nb * (n + 0.5) * k);
      m->dct[(gsize)k * nb + n] = v;
    }
    if (m->opts.cepstral_lifter != 0.0)
      m->lifter[k] = 1.0
                     + 0.5 * m->opts.cepstral_lifter
                           * sin (G_PI * k / m->opts.cepstral_lifter);
    else
      m->lifter[k] = 1.0;
  }
}

static gboolean
check_options (const AffectMfccOptions *o, guint *window_size,
    guint *window_shift, guint *padded, double *high_freq, GError **error)
{
  const double nyquist = 0.5 * o->sample_frequency;
  double hf;

#define BAD(...)                                                             \
  G_STMT_START                                                               \
  {                                                                          \
    g_set_error (error, AFFECT_MFCC_ERROR, AFFECT_MFCC_ERROR_INVALID_OPTION, \
        __VA_ARGS__);                                                        \
    return FALSE;                                                            \
  }                                                                          \
  G_STMT_END

  if (!(o->sample_frequency > 0.0) || !isfinite (o->sample_frequency))
    BAD ("MFCC: sample_frequency must be > 0 (got %g)", o->sample_frequency);
  if (!(o->frame_length_ms > 0.0) || !(o->frame_shift_ms > 0.0))
    BAD ("MFCC: frame_length_ms and frame_shift_ms must be > 0");
  /* Same evaluation order as torchaudio: freq * ms * 0.001, truncated. */
  *window_size = (guint)(o->sample_frequency * o->frame_length_ms * 0.001);
  *window_shift = (guint)(o->sample_frequency * o->frame_shift_ms * 0.001);
  if (*window_size < 2 || *window_size > (1u << 20))
    BAD ("MFCC: window of %u samples is out of range [2, 1048576]",
        *window_size);
  if (*window_shift < 1)
    BAD ("MFCC: the frame shift is shorter than one sample");
  *padded = o->round_to_power_of_two ? next_power_of_two (*window_size)
                                     : *window_size;
  if (*padded % 2 != 0)
    BAD ("MFCC: the padded window size (%u) must be even; use "
         "round_to_power_of_two or change frame_length_ms",
        *padded);
  if (!(o->preemphasis_coefficient >= 0.0 && o->preemphasis_coefficient <= 1.0))
    BAD ("MFCC: preemphasis_coefficient must be in [0, 1] (got %g)",
        o->preemphasis_coefficient);
  if (!(o->dither >= 0.0) || !isfinite (o->dither))
    BAD ("MFCC: dither must be >= 0 (got %g)", o->dither);
  if (!o->snip_edges)
    BAD ("MFCC: only snip_edges = TRUE is supported");
  if ((guint)o->window_type > AFFECT_MFCC_WINDOW_BLACKMAN)
    BAD ("MFCC: unknown window type %d", (int)o->window_type);
  if (o->num_mel_bins <= 3 || o->num_mel_bins > AFFECT_MFCC_MAX_MEL_BINS)
    BAD ("MFCC: num_mel_bins must be in [4, %d] (got %u)",
        AFFECT_MFCC_MAX_MEL_BINS, o->num_mel_bins);
  if (o->num_ceps < 1 || o->num_ceps > o->num_mel_bins
      || o->num_ceps > AFFECT_MFCC_MAX_CEPS)
    BAD ("MFCC: num_ceps must be in [1, min(num_mel_bins, %d)] (got %u)",
        AFFECT_MFCC_MAX_CEPS, o->num_ceps);
  hf = o->high_freq;
  if (hf <= 0.0)
    hf += nyquist;
  if (!(o->low_freq >= 0.0 && o->low_freq < nyquist)
      || !(hf > 0.0 && hf <= nyquist) || !(o->low_freq < hf))
    BAD ("MFCC: need 0 <= low_freq (%g) < high_freq (%g) <= Nyquist (%g)",
        o->low_freq, hf, nyquist);
  if (!(o->energy_floor >= 0.0))
    BAD ("MFCC: energy_floor must be >= 0 (got %g)", o->energy_floor);
  if (!isfinite (o->cepstral_lifter))
    BAD ("MFCC: cepstral_lifter must be finite");
#undef BAD
  *high_freq = hf;
  return TRUE;
}

AffectMfcc *
affect_mfcc_new (const AffectMfccOptions *opts, GError **error)
{
  AffectMfccOptions defaults;
  AffectMfcc *m;
  guint ws, wsh, padded;
  double hf;

  if (opts == NULL) {
    affect_mfcc_options_init (&defaults);
    opts = &defaults;
  }
  if (!check_options (opts, &ws, &wsh, &padded, &hf, error))
    return NULL;

  m = g_new0 (AffectMfcc, 1);
  m->opts = *opts;
  m->window_size = ws;
  m->window_shift = wsh;
  m->padded = padded;
  m->n_fft_bins = padded / 2 + 1;
  m->high_freq = hf;
  m->window = g_new (double, ws);
  m->mel_banks = g_new0 (double, (gsize)opts->num_mel_bins * m->n_fft_bins);
  m->bank_first = g_new0 (guint, opts->num_mel_bins);
  m->bank_last = g_new0 (guint, opts->num_mel_bins);
  m->dct = g_new (double, (gsize)opts->num_ceps * opts->num_mel_bins);
  m->lifter = g_new (double, opts->num_ceps);
  m->mel_scratch = g_new (double, opts->num_mel_bins);
  m->fft_in = fftw_malloc (sizeof (double) * padded);
  m->fft_out = fftw_malloc (sizeof (fftw_complex) * m->n_fft_bins);
  affect_fftw_lock ();
  m->plan = fftw_plan_dft_r2c_1d (
      (int)padded, m->fft_in, m->fft_out, FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
  affect_fftw_unlock ();
  if (opts->dither != 0.0)
    m->rand = g_rand_new_with_seed (opts->dither_seed);

  make_window (m);
  make_mel_banks (m);
  make_dct_and_lifter (m);
  return m;
}

void
affect_mfcc_free (AffectMfcc *m)
{
  if (m == NULL)
    return;
  affect_fftw_lock ();
  fftw_destroy_plan (m->plan);
  affect_fftw_unlock ();
  fftw_free (m->fft_in);
  fftw_free (m->fft_out);
  g_free (m->window);
  g_free (m->mel_banks);
  g_free (m->bank_first);
  g_free (m->bank_last);
  g_free (m->dct);
  g_free (m->lifter);
  g_free (m->mel_scratch);
  if (m->rand)
    g_rand_free (m->rand);
  g_free (m);
}

guint
affect_mfcc_window_size (const AffectMfcc *m)
{
  return m->window_size;
}

guint
affect_mfcc_window_shift (const AffectMfcc *m)
{
  return m->window_shift;
}

guint
affect_mfcc_padded_size (const AffectMfcc *m)
{
  return m->padded;
}

const AffectMfccOptions *
affect_mfcc_get_options (const AffectMfcc *m)
{
  return &m->opts;
}

const double *
affect_mfcc_mel_banks (const AffectMfcc *m)
{
  return m->mel_banks;
}

const double *
affect_mfcc_window (const AffectMfcc *m)
{
  return m->window;
}

guint64
affect_mfcc_num_frames (const AffectMfcc *m, guint64 n_samples)
{
  if (n_samples < m->window_size)
    return 0;
  return 1 + (n_samples - m->window_size) / m->window_shift;
}

static double
log_energy_of (const double *x, guint n, double energy_floor)
{
  double e = 0.0, le;
  for (guint i = 0; i < n; i++)
    e += x[i] * x[i];
  le = log (MAX (e, (double)FLT_EPSILON));
  if (energy_floor != 0.0)
    le = MAX (le, log (energy_floor));
  return le;
}

/* Box-Muller standard normal from GRand. */
static double
gauss (GRand *r)
{
  double u1 = g_rand_double (r), u2 = g_rand_double (r);
  if (u1 < 1e-300)
    u1 = 1e-300;
  return sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2);
}

void
affect_mfcc_compute_frame (AffectMfcc *m, const double *frame, double *ceps,
    double *fbank, double *log_energy)
{
  const AffectMfccOptions *o = &m->opts;
  const guint n = m->window_size;
  const guint nb = o->num_mel_bins;
  double *x = m->fft_in;
  double energy = 0.0;

  memcpy (x, frame, sizeof (double) * n);
  if (m->rand != NULL) {
    for (guint i = 0; i < n; i++)
      x[i] += o->dither * gauss (m->rand);
  }
  if (o->remove_dc_offset) {
    double mean = 0.0;
    for (guint i = 0; i < n; i++)
      mean += x[i];
    mean /= (double)n;
    for (guint i = 0; i < n; i++)
      x[i] -= mean;
  }
  if (o->raw_energy)
    energy = log_energy_of (x, n, o->energy_floor);
  affect_mfcc_preemphasize (x, n, o->preemphasis_coefficient);
  for (guint i = 0; i < n; i++)
    x[i] *= m->window[i];
  for (guint i = n; i < m->padded; i++)
    x[i] = 0.0;
  if (!o->raw_energy)
    energy = log_energy_of (x, m->padded, o->energy_floor);
  if (log_energy)
    *log_energy = energy;
  if (ceps == NULL && fbank == NULL)
    return;

  fftw_execute (m->plan);

  /* Power spectrum into fft_in (no longer needed): n_fft_bins values. */
  {
    double *power = m->fft_in;
    double *mel = m->mel_scratch;
    for (guint k = 0; k < m->n_fft_bins; k++)
      power[k] = m->fft_out[k][0] * m->fft_out[k][0]
                 + m->fft_out[k][1] * m->fft_out[k][1];
    for (guint b = 0; b < nb; b++) {
      const double *row = m->mel_banks + (gsize)b * m->n_fft_bins;
      double s = 0.0;
      for (guint k = m->bank_first[b]; k < m->bank_last[b]; k++)
        s += row[k] * power[k];
      mel[b] = log (MAX (s, (double)FLT_EPSILON));
    }
    if (fbank)
      memcpy (fbank, mel, sizeof (double) * nb);
    if (ceps) {
      const guint nc = o->num_ceps;
      double c0;
      for (guint k = 0; k < nc; k++) {
        const double *d = m->dct + (gsize)k * nb;
        double s = 0.0;
        for (guint b = 0; b < nb; b++)
          s += d[b] * mel[b];
        ceps[k] = s * m->lifter[k];
      }
      if (o->use_energy)
        ceps[0] = energy;
      if (o->htk_compat) {
        c0 = ceps[0];
        if (!o->use_energy)
          c0 *= G_SQRT2;
        memmove (ceps, ceps + 1, sizeof (double) * (nc - 1));
        ceps[nc - 1] = c0;
      }
    }
  }
}
