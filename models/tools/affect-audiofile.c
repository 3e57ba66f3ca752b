/* gst-affect — models/tools
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Audio files for the tools (affect-audio, affect-transcribe); see
 * affect-audiofile.h. Moved here unchanged from affect-audio.c.
 */

#include "affect-audiofile.h"

#include <math.h>
#include <sndfile.h>
#include <string.h>

#define CHUNK_FRAMES 4096
/* Windowed-sinc resampler: zero crossings on each side and Kaiser beta. */
#define RESAMPLE_ZEROS 24
#define RESAMPLE_BETA 8.6
#define RESAMPLE_ROLLOFF 0.945

static double
bessel_i0 (double x)
{
  double sum = 1.0, term = 1.0, q = x * x / 4.0;
  for (int k = 1; k < 64; k++) {
    term *= q / ((double)k * k);
    sum += term;
    if (term < sum * 1e-17)
      break;
  }
  return sum;
}

float *
affect_audiofile_resample (
    const float *in, gsize n_in, int in_rate, int out_rate, gsize *n_out)
{
  const double ratio = (double)out_rate / in_rate;
  const double fc = RESAMPLE_ROLLOFF * MIN (1.0, ratio); /* of in Nyquist */
  const double half = RESAMPLE_ZEROS / fc; /* half-width, input samples */
  const double i0b = bessel_i0 (RESAMPLE_BETA);
  gsize n = (gsize)floor ((double)n_in * ratio);
  float *out = g_new (float, MAX (n, 1));

  for (gsize k = 0; k < n; k++) {
    const double pos = (double)k / ratio;
    gint64 lo = (gint64)ceil (pos - half), hi = (gint64)floor (pos + half);
    double acc = 0.0;
    if (lo < 0)
      lo = 0;
    if (hi > (gint64)n_in - 1)
      hi = (gint64)n_in - 1;
    for (gint64 j = lo; j <= hi; j++) {
      const double d = (double)j - pos;
      const double r = d / half;
      const double x = G_PI * fc * d;
      const double sinc = fabs (x) < 1e-12 ? 1.0 : sin (x) / x;
      const double w = bessel_i0 (RESAMPLE_BETA * sqrt (MAX (0.0, 1 - r * r)));
      acc += in[j] * fc * sinc * w / i0b;
    }
    out[k] = (float)acc;
  }
  *n_out = n;
  return out;
}

float *
affect_audiofile_read_mono (
    const gchar *path, gsize *n, int *rate, int *channels, GError **error)
{
  SF_INFO info;
  SNDFILE *sf;
  GArray *mono;
  float *chunk;

  memset (&info, 0, sizeof (info));
  sf = sf_open (path, SFM_READ, &info);
  if (sf == NULL) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
        "cannot read audio file '%s': %s", path, sf_strerror (NULL));
    return NULL;
  }
  if (info.channels < 1 || info.samplerate < 1) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "audio file '%s' has %d channels at %d Hz", path, info.channels,
        info.samplerate);
    sf_close (sf);
    return NULL;
  }
  /* Integer files are scaled to [-1, 1) exactly (16-bit: x / 32768). */
  sf_command (sf, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
  mono = g_array_new (FALSE, FALSE, sizeof (float));
  chunk = g_new (float, (gsize)CHUNK_FRAMES *info.channels);
  for (;;) {
    sf_count_t got = sf_readf_float (sf, chunk, CHUNK_FRAMES);
    if (got <= 0)
      break;
    for (sf_count_t i = 0; i < got; i++) {
      float v;
      if (info.channels == 1) {
        v = chunk[i];
      } else {
        double acc = 0.0;
        for (int c = 0; c < info.channels; c++)
          acc += chunk[i * info.channels + c];
        v = (float)(acc / info.channels);
      }
      g_array_append_val (mono, v);
    }
  }
  if (sf_error (sf) != SF_ERR_NO_ERROR) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO,
        "error while decoding audio file '%s': %s", path, sf_strerror (sf));
    g_free (chunk);
    g_array_unref (mono);
    sf_close (sf);
    return NULL;
  }
  g_free (chunk);
  sf_close (sf);
  *rate = info.samplerate;
  *channels = info.channels;
  *n = mono->len;
  if (mono->len == 0) { /* g_array_free would give NULL */
    g_array_unref (mono);
    return g_new0 (float, 1);
  }
  return (float *)g_array_free (mono, FALSE);
}
