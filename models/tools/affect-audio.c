/* gst-affect — models/tools
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * affect-audio: per-10-ms speech features of an audio file as CSV.
 *
 *   affect-audio FILE [-o OUT.csv] [options]
 *
 * Reads anything libsndfile reads (WAV, FLAC, Ogg/Vorbis, AIFF, ...; 8, 16,
 * 24, 32-bit integer or float samples), mixes the channels down to mono
 * (mean), resamples to 16 kHz when needed (windowed-sinc, see
 * docs/speech.md) and writes
 *   time,mfcc_0,...,mfcc_12,log_energy,f0_hz,voicing
 * one row per 10 ms frame (see models/speech/affect-speech.h).
 */

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affect-audiofile.h"
#include "affect-speech.h"

#define TARGET_RATE 16000
#define CHUNK_FRAMES 4096

typedef struct {
  gchar *output;
  gint num_ceps;
  gint num_mel_bins;
  gdouble low_freq;
  gdouble high_freq;
  gdouble preemphasis;
  gdouble dither;
  gdouble lifter;
  gdouble energy_floor;
  gboolean use_energy;
  gboolean no_raw_energy;
  gchar *window;
  gdouble pitch_low;
  gdouble pitch_high;
  gint median_window;
  gdouble voicing_threshold;
  gint bench;
} Args;

static gboolean
parse_window (const gchar *name, AffectMfccWindow *w)
{
  static const struct {
    const char *name;
    AffectMfccWindow w;
  } names[] = {
    { "povey", AFFECT_MFCC_WINDOW_POVEY },
    { "hamming", AFFECT_MFCC_WINDOW_HAMMING },
    { "hanning", AFFECT_MFCC_WINDOW_HANNING },
    { "rectangular", AFFECT_MFCC_WINDOW_RECTANGULAR },
    { "blackman", AFFECT_MFCC_WINDOW_BLACKMAN },
  };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    if (g_ascii_strcasecmp (name, names[i].name) == 0) {
      *w = names[i].w;
      return TRUE;
    }
  }
  return FALSE;
}

static gboolean
write_row (FILE *out, const AffectSpeechFrame *f)
{
  fprintf (out, "%.2f", f->time);
  for (guint k = 0; k < f->n_mfcc; k++)
    fprintf (out, ",%.9g", f->mfcc[k]);
  fprintf (out, ",%.9g,%.6f,%.6f\n", f->log_energy, f->f0_hz, f->voicing);
  return !ferror (out);
}

static double
cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int
run_bench (AffectSpeech *sp, const float *x, gsize n, int iterations)
{
  AffectSpeechFrame f;
  double t0, t1, audio_s = (double)n / TARGET_RATE;
  guint64 frames = 0;

  if (n == 0) {
    g_printerr ("affect-audio: --bench needs a non-empty file\n");
    return 1;
  }
  t0 = cpu_seconds ();
  for (int it = 0; it < iterations; it++) {
    affect_speech_reset (sp);
    affect_speech_push (sp, x, n);
    affect_speech_finish (sp);
    while (affect_speech_pull (sp, &f))
      frames++;
  }
  t1 = cpu_seconds ();
  g_print ("bench: %d x %.2f s of audio, %" G_GUINT64_FORMAT
           " frames, %.4f s CPU (one thread): %.1f x real time, "
           "%.2f us per frame\n",
      iterations, audio_s, frames, t1 - t0,
      audio_s * iterations / MAX (t1 - t0, 1e-9),
      (t1 - t0) * 1e6 / MAX (frames, 1));
  return 0;
}

int
main (int argc, char **argv)
{
  Args a = {
    .num_ceps = 13,
    .num_mel_bins = 23,
    .low_freq = 20.0,
    .high_freq = 0.0,
    .preemphasis = 0.97,
    .dither = 0.0,
    .lifter = 22.0,
    .energy_floor = 1.0,
    .pitch_low = 85.0,
    .pitch_high = 3400.0,
    .median_window = 30,
    .voicing_threshold = 0.5,
  };
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &a.output,
        "Write the CSV to FILE (default: standard output)", "FILE" },
    { "num-ceps", 0, 0, G_OPTION_ARG_INT, &a.num_ceps,
        "Number of cepstra (default 13)", "N" },
    { "num-mel-bins", 0, 0, G_OPTION_ARG_INT, &a.num_mel_bins,
        "Number of mel bins (default 23)", "N" },
    { "low-freq", 0, 0, G_OPTION_ARG_DOUBLE, &a.low_freq,
        "Lowest mel filter frequency in Hz (default 20)", "HZ" },
    { "high-freq", 0, 0, G_OPTION_ARG_DOUBLE, &a.high_freq,
        "Highest mel filter frequency; <= 0 is an offset from Nyquist "
        "(default 0)",
        "HZ" },
    { "preemphasis", 0, 0, G_OPTION_ARG_DOUBLE, &a.preemphasis,
        "Pre-emphasis coefficient (default 0.97)", "K" },
    { "dither", 0, 0, G_OPTION_ARG_DOUBLE, &a.dither,
        "Dither (Gaussian, 16-bit scale; default 0 = off)", "D" },
    { "cepstral-lifter", 0, 0, G_OPTION_ARG_DOUBLE, &a.lifter,
        "Cepstral lifter (default 22, 0 = off)", "Q" },
    { "energy-floor", 0, 0, G_OPTION_ARG_DOUBLE, &a.energy_floor,
        "Energy floor (default 1.0 as torchaudio; Kaldi uses 0)", "E" },
    { "use-energy", 0, 0, G_OPTION_ARG_NONE, &a.use_energy,
        "Replace mfcc_0 by the log energy (Kaldi's binary default)", NULL },
    { "no-raw-energy", 0, 0, G_OPTION_ARG_NONE, &a.no_raw_energy,
        "Log energy after pre-emphasis and window", NULL },
    { "window", 0, 0, G_OPTION_ARG_STRING, &a.window,
        "povey (default), hamming, hanning, rectangular or blackman", "TYPE" },
    { "pitch-min", 0, 0, G_OPTION_ARG_DOUBLE, &a.pitch_low,
        "Lowest F0 searched in Hz (default 85)", "HZ" },
    { "pitch-max", 0, 0, G_OPTION_ARG_DOUBLE, &a.pitch_high,
        "Highest F0 searched in Hz (default 3400)", "HZ" },
    { "median-window", 0, 0, G_OPTION_ARG_INT, &a.median_window,
        "Median smoothing of the pitch, in frames (default 30)", "N" },
    { "voicing-threshold", 0, 0, G_OPTION_ARG_DOUBLE, &a.voicing_threshold,
        "Voicing from which a frame counts as voiced (default 0.5)", "V" },
    { "bench", 0, 0, G_OPTION_ARG_INT, &a.bench,
        "Instead of the CSV, time N passes of the feature extraction on one "
        "thread and print the real-time factor",
        "N" },
    { NULL }
  };
  GOptionContext *ctx;
  GError *error = NULL;
  AffectSpeechOptions opts;
  AffectSpeech *sp = NULL;
  float *x = NULL;
  gsize n = 0;
  int rate = 0, channels = 0, ret = 1;
  FILE *out = NULL;
  AffectSpeechFrame f;
  guint64 rows = 0;

  ctx = g_option_context_new ("FILE - speech features of an audio file as CSV");
  g_option_context_set_summary (ctx,
      "Writes one CSV row per 10 ms frame:\n"
      "  time,mfcc_0,...,mfcc_12,log_energy,f0_hz,voicing\n"
      "Kaldi-compatible MFCC (torchaudio.compliance.kaldi.mfcc defaults),\n"
      "Kaldi raw log energy, F0 by NCCF + median smoothing (as\n"
      "torchaudio.functional.detect_pitch_frequency) and a voicing measure\n"
      "in [0, 1]. Any file libsndfile reads (WAV, FLAC, Ogg, ...), mixed\n"
      "down to mono and resampled to 16 kHz when needed.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("affect-audio: %s\n", error->message);
    goto done;
  }
  if (argc != 2) {
    g_printerr ("affect-audio: expected one audio FILE (see --help)\n");
    goto done;
  }

  affect_speech_options_init (&opts);
  opts.sample_rate = TARGET_RATE;
  if (a.num_ceps < 1 || a.num_mel_bins < 1 || a.median_window < 1) {
    g_printerr ("affect-audio: --num-ceps, --num-mel-bins and "
                "--median-window must be positive\n");
    goto done;
  }
  opts.mfcc.num_ceps = (guint)a.num_ceps;
  opts.mfcc.num_mel_bins = (guint)a.num_mel_bins;
  opts.mfcc.low_freq = a.low_freq;
  opts.mfcc.high_freq = a.high_freq;
  opts.mfcc.preemphasis_coefficient = a.preemphasis;
  opts.mfcc.dither = a.dither;
  opts.mfcc.cepstral_lifter = a.lifter;
  opts.mfcc.energy_floor = a.energy_floor;
  opts.mfcc.use_energy = a.use_energy;
  opts.mfcc.raw_energy = !a.no_raw_energy;
  if (a.window && !parse_window (a.window, &opts.mfcc.window_type)) {
    g_printerr ("affect-audio: unknown window '%s' (povey, hamming, "
                "hanning, rectangular, blackman)\n",
        a.window);
    goto done;
  }
  opts.pitch.freq_low = a.pitch_low;
  opts.pitch.freq_high = a.pitch_high;
  opts.pitch.win_length = (guint)a.median_window;
  opts.pitch.voicing_threshold = a.voicing_threshold;
  sp = affect_speech_new (&opts, &error);
  if (sp == NULL) {
    g_printerr ("affect-audio: %s\n", error->message);
    goto done;
  }

  x = affect_audiofile_read_mono (argv[1], &n, &rate, &channels, &error);
  if (x == NULL) {
    g_printerr ("affect-audio: %s\n", error->message);
    goto done;
  }
  if (rate != TARGET_RATE) {
    gsize n16;
    float *y = affect_audiofile_resample (x, n, rate, TARGET_RATE, &n16);
    g_free (x);
    x = y;
    n = n16;
  }

  if (a.bench > 0) {
    ret = run_bench (sp, x, n, a.bench);
    goto done;
  }

  if (a.output) {
    out = g_fopen (a.output, "w");
    if (out == NULL) {
      g_printerr ("affect-audio: cannot write '%s': %s\n", a.output,
          g_strerror (errno));
      goto done;
    }
  } else {
    out = stdout;
  }

  fputs ("time", out);
  for (guint k = 0; k < opts.mfcc.num_ceps; k++)
    fprintf (out, ",mfcc_%u", k);
  fputs (",log_energy,f0_hz,voicing\n", out);

  for (gsize off = 0; off < n; off += CHUNK_FRAMES) {
    affect_speech_push (sp, x + off, MIN ((gsize)CHUNK_FRAMES, n - off));
    while (affect_speech_pull (sp, &f)) {
      write_row (out, &f);
      rows++;
    }
  }
  affect_speech_finish (sp);
  while (affect_speech_pull (sp, &f)) {
    write_row (out, &f);
    rows++;
  }
  if (affect_speech_nonfinite_samples (sp) > 0)
    g_printerr ("affect-audio: warning: %" G_GUINT64_FORMAT
                " non-finite samples in '%s' were replaced by 0\n",
        affect_speech_nonfinite_samples (sp), argv[1]);
  if (rows == 0)
    g_printerr ("affect-audio: note: '%s' is shorter than one 25 ms "
                "window: no frames\n",
        argv[1]);

  if (fflush (out) != 0 || ferror (out)) {
    g_printerr ("affect-audio: error writing '%s': %s\n",
        a.output ? a.output : "standard output", g_strerror (errno));
    goto done;
  }
  ret = 0;

done:
  if (out && out != stdout && fclose (out) != 0 && ret == 0) {
    g_printerr (
        "affect-audio: error closing '%s': %s\n", a.output, g_strerror (errno));
    ret = 1;
  }
  g_free (x);
  affect_speech_free (sp);
  g_clear_error (&error);
  g_free (a.output);
  g_free (a.window);
  g_option_context_free (ctx);
  return ret;
}
