/* gst-affect — tests/models
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Speech features: MFCC / fbank / log energy / pitch (models/speech/affect-mfcc.c,
 * affect-pitch.c, affect-speech.c) against torchaudio golden values
 * (tests/golden/speech, made by make-golden.py), small hand-computed
 * cases, streaming, edge cases, and the affect-audio command.
 *
 * Usage: test-models-speech [PATH-TO-affect-audio]
 * (the affect-audio tests are skipped when no path is given).
 */

#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <sndfile.h>
#include <string.h>

#include "affect-mfcc.h"
#include "affect-pitch.h"
#include "affect-speech.h"
#include "test-tools.h"

static const gchar *affect_audio_path = NULL;

/* ---- helpers ---------------------------------------------------------- */

/* Reads the 16-bit mono golden WAV through libsndfile as int16 values. */
static double *
read_golden_wav (gsize *n)
{
  gchar *dir = affect_test_golden_path ("speech", NULL);
  gchar *path = g_build_filename (dir, "austen-0930.wav", NULL);
  SF_INFO info = { 0 };
  SNDFILE *sf = sf_open (path, SFM_READ, &info);
  double *x;
  short *tmp;

  ck_assert_msg (sf != NULL, "cannot open %s: %s", path, sf_strerror (NULL));
  ck_assert_int_eq (info.channels, 1);
  ck_assert_int_eq (info.samplerate, 16000);
  tmp = g_new (short, info.frames);
  ck_assert_int_eq (sf_readf_short (sf, tmp, info.frames), info.frames);
  sf_close (sf);
  x = g_new (double, info.frames);
  for (sf_count_t i = 0; i < info.frames; i++)
    x[i] = tmp[i];
  *n = (gsize)info.frames;
  g_free (tmp);
  g_free (path);
  g_free (dir);
  return x;
}

static JsonParser *golden_parser = NULL;

static JsonObject *
golden (void)
{
  if (golden_parser == NULL) {
    gchar *dir = affect_test_golden_path ("speech", NULL);
    gchar *path = g_build_filename (dir, "austen-0930.json", NULL);
    golden_parser = affect_test_load_json (path);
    g_free (path);
    g_free (dir);
  }
  return json_node_get_object (json_parser_get_root (golden_parser));
}

static JsonObject *
golden_case (const gchar *name)
{
  JsonArray *cases = json_object_get_array_member (golden (), "cases");
  for (guint i = 0; i < json_array_get_length (cases); i++) {
    JsonObject *c = json_array_get_object_element (cases, i);
    if (g_strcmp0 (json_object_get_string_member (c, "name"), name) == 0)
      return c;
  }
  ck_abort_msg ("no golden case %s", name);
  return NULL;
}

static void
apply_json_options (AffectMfccOptions *o, JsonObject *opts)
{
  GList *members = json_object_get_members (opts);
  for (GList *l = members; l; l = l->next) {
    const gchar *k = l->data;
    JsonNode *v = json_object_get_member (opts, k);
    if (!strcmp (k, "num_ceps"))
      o->num_ceps = json_node_get_int (v);
    else if (!strcmp (k, "num_mel_bins"))
      o->num_mel_bins = json_node_get_int (v);
    else if (!strcmp (k, "low_freq"))
      o->low_freq = json_node_get_double (v);
    else if (!strcmp (k, "high_freq"))
      o->high_freq = json_node_get_double (v);
    else if (!strcmp (k, "preemphasis_coefficient"))
      o->preemphasis_coefficient = json_node_get_double (v);
    else if (!strcmp (k, "cepstral_lifter"))
      o->cepstral_lifter = json_node_get_double (v);
    else if (!strcmp (k, "energy_floor"))
      o->energy_floor = json_node_get_double (v);
    else if (!strcmp (k, "frame_length"))
      o->frame_length_ms = json_node_get_double (v);
    else if (!strcmp (k, "use_energy"))
      o->use_energy = json_node_get_boolean (v);
    else if (!strcmp (k, "raw_energy"))
      o->raw_energy = json_node_get_boolean (v);
    else if (!strcmp (k, "remove_dc_offset"))
      o->remove_dc_offset = json_node_get_boolean (v);
    else if (!strcmp (k, "htk_compat"))
      o->htk_compat = json_node_get_boolean (v);
    else if (!strcmp (k, "round_to_power_of_two"))
      o->round_to_power_of_two = json_node_get_boolean (v);
    else if (!strcmp (k, "window_type")) {
      const gchar *w = json_node_get_string (v);
      if (!strcmp (w, "hamming"))
        o->window_type = AFFECT_MFCC_WINDOW_HAMMING;
      else if (!strcmp (w, "blackman"))
        o->window_type = AFFECT_MFCC_WINDOW_BLACKMAN;
      else if (!strcmp (w, "hanning"))
        o->window_type = AFFECT_MFCC_WINDOW_HANNING;
      else if (!strcmp (w, "rectangular"))
        o->window_type = AFFECT_MFCC_WINDOW_RECTANGULAR;
      else
        ck_abort_msg ("unknown window %s", w);
    } else
      ck_abort_msg ("golden option %s not handled by the test", k);
  }
  g_list_free (members);
}

/* ---- hand-computed cases ---------------------------------------------- */

START_TEST (test_mel_scale)
{
  /* 1127 ln(1 + 700/700) = 1127 ln 2 */
  ck_assert_double_eq_tol (affect_mfcc_mel (700.0), 781.17687, 1e-4);
  ck_assert_double_eq_tol (affect_mfcc_mel (0.0), 0.0, 1e-12);
  ck_assert_double_eq_tol (
      affect_mfcc_mel_inverse (affect_mfcc_mel (1234.5)), 1234.5, 1e-9);
}
END_TEST

START_TEST (test_mel_banks_tiny)
{
  /* 1 kHz, 8-sample window (8 ms), 4 bins from 0 Hz to Nyquist: FFT bins
   * at 0, 125, 250, 375 Hz (+ Nyquist, always 0). Expected weights from
   * torchaudio.compliance.kaldi.get_mel_banks(4, 8, 1000, 0, 0, ...). */
  static const double expected[4][4] = {
    { 0.0, 0.47584283, 0.0, 0.0 },
    { 0.0, 0.52415717, 0.16712750, 0.0 },
    { 0.0, 0.0, 0.83287251, 0.02042312 },
    { 0.0, 0.0, 0.0, 0.97957689 },
  };
  AffectMfccOptions o;
  AffectMfcc *m;
  const double *b;

  affect_mfcc_options_init (&o);
  o.sample_frequency = 1000.0;
  o.frame_length_ms = 8.0;
  o.frame_shift_ms = 4.0;
  o.num_mel_bins = 4;
  o.num_ceps = 4;
  o.low_freq = 0.0;
  m = affect_mfcc_new (&o, NULL);
  ck_assert_ptr_nonnull (m);
  ck_assert_uint_eq (affect_mfcc_padded_size (m), 8);
  b = affect_mfcc_mel_banks (m);
  for (int r = 0; r < 4; r++) {
    for (int k = 0; k < 4; k++)
      ck_assert_double_eq_tol (b[r * 5 + k], expected[r][k], 1e-6);
    ck_assert_double_eq (b[r * 5 + 4], 0.0);
  }
  affect_mfcc_free (m);
}
END_TEST

START_TEST (test_mel_banks_default)
{
  /* 23 bins, 512-point FFT at 16 kHz: the first bank covers FFT bins 1..5
   * with these weights (torchaudio); every bank peaks below 1. */
  static const double first[]
      = { 0.149327904, 0.552378416, 0.939236641, 0.688844442, 0.330755740 };
  AffectMfcc *m = affect_mfcc_new (NULL, NULL);
  const double *b = affect_mfcc_mel_banks (m);
  ck_assert_double_eq (b[0], 0.0);
  for (int k = 0; k < 5; k++)
    ck_assert_double_eq_tol (b[1 + k], first[k], 1e-6);
  ck_assert_double_eq (b[6], 0.0);
  for (int r = 0; r < 23; r++)
    for (int k = 0; k < 257; k++)
      ck_assert (b[r * 257 + k] >= 0.0 && b[r * 257 + k] <= 1.0);
  affect_mfcc_free (m);
}
END_TEST

START_TEST (test_window)
{
  AffectMfccOptions o;
  AffectMfcc *m;
  const double *w;

  /* 5-sample windows at 1 kHz (5 ms): Hann(5) = 0, .5, 1, .5, 0. */
  affect_mfcc_options_init (&o);
  o.sample_frequency = 1000.0;
  o.frame_length_ms = 5.0;
  o.frame_shift_ms = 5.0;
  o.num_mel_bins = 4;
  o.num_ceps = 4;
  o.low_freq = 0.0;
  m = affect_mfcc_new (&o, NULL);
  w = affect_mfcc_window (m);
  ck_assert_double_eq_tol (w[0], 0.0, 1e-12);
  ck_assert_double_eq_tol (w[1], pow (0.5, 0.85), 1e-12); /* 0.554784 */
  ck_assert_double_eq_tol (w[1], 0.5547847, 1e-6);
  ck_assert_double_eq_tol (w[2], 1.0, 1e-12);
  ck_assert_double_eq_tol (w[3], w[1], 1e-12);
  affect_mfcc_free (m);

  o.window_type = AFFECT_MFCC_WINDOW_HAMMING;
  m = affect_mfcc_new (&o, NULL);
  w = affect_mfcc_window (m);
  ck_assert_double_eq_tol (w[0], 0.08, 1e-12);
  ck_assert_double_eq_tol (w[1], 0.54, 1e-12);
  ck_assert_double_eq_tol (w[2], 1.0, 1e-12);
  affect_mfcc_free (m);
}
END_TEST

START_TEST (test_preemphasis)
{
  double x[] = { 1.0, 2.0, 3.0 };
  affect_mfcc_preemphasize (x, 3, 0.5);
  ck_assert_double_eq_tol (x[0], 0.5, 1e-15); /* 1 - 0.5 * 1 */
  ck_assert_double_eq_tol (x[1], 1.5, 1e-15); /* 2 - 0.5 * 1 */
  ck_assert_double_eq_tol (x[2], 2.0, 1e-15); /* 3 - 0.5 * 2 */
}
END_TEST

START_TEST (test_constant_frame)
{
  /* A constant frame: DC removal leaves zeros, so the raw energy is
   * floored at log(energy_floor) = 0 and every log mel energy is
   * log(FLT_EPSILON); C0 = sqrt(23) log(eps) (lifter 1 at k = 0), the
   * other cepstra are 0. */
  AffectMfcc *m = affect_mfcc_new (NULL, NULL);
  double frame[400], ceps[13], fb[23], e;
  const double leps = log (1.1920928955078125e-07);
  for (int i = 0; i < 400; i++)
    frame[i] = 1000.0;
  affect_mfcc_compute_frame (m, frame, ceps, fb, &e);
  ck_assert_double_eq_tol (e, 0.0, 1e-12);
  for (int b = 0; b < 23; b++)
    ck_assert_double_eq_tol (fb[b], leps, 1e-9);
  ck_assert_double_eq_tol (ceps[0], sqrt (23.0) * leps, 1e-9);
  for (int k = 1; k < 13; k++)
    ck_assert_double_eq_tol (ceps[k], 0.0, 1e-9);
  affect_mfcc_free (m);
}
END_TEST

START_TEST (test_pitch_sine)
{
  /* 200 Hz sine at 16 kHz: period 80 samples -> F0 = 200 Hz exactly,
   * voicing close to 1 on every frame. */
  AffectPitch *p = affect_pitch_new (NULL, NULL);
  const gsize n = 16000;
  double *x = g_new (double, n), *f0, *v;
  guint64 nf;
  for (gsize i = 0; i < n; i++)
    x[i] = 8000.0 * sin (2 * G_PI * 200.0 * i / 16000.0);
  nf = affect_pitch_num_frames (p, n);
  ck_assert_uint_eq (nf, 100);
  f0 = g_new (double, nf);
  v = g_new (double, nf);
  ck_assert_uint_eq (affect_pitch_track (p, x, n, f0, v), 100);
  for (guint64 t = 0; t < nf - 15; t++) {
    ck_assert_double_eq_tol (f0[t], 200.0, 1e-3);
    ck_assert (v[t] > 0.95);
  }
  g_free (x);
  g_free (f0);
  g_free (v);
  affect_pitch_free (p);
}
END_TEST

START_TEST (test_pitch_median)
{
  guint lags[] = { 9, 1, 5, 7 }, scratch[4];
  /* lower median of 1 5 7 9 is 5, as torch.median */
  ck_assert_uint_eq (affect_pitch_median (lags, 4, scratch), 5);
  ck_assert_uint_eq (affect_pitch_median (lags, 3, scratch), 5);
  ck_assert_uint_eq (affect_pitch_median (lags, 1, scratch), 9);
}
END_TEST

START_TEST (test_bad_options)
{
  AffectSpeechOptions o;
  GError *err = NULL;

  affect_speech_options_init (&o);
  o.mfcc.num_mel_bins = 2;
  ck_assert_ptr_null (affect_speech_new (&o, &err));
  ck_assert (g_error_matches (
      err, AFFECT_MFCC_ERROR, AFFECT_MFCC_ERROR_INVALID_OPTION));
  ck_assert_ptr_nonnull (strstr (err->message, "num_mel_bins"));
  g_clear_error (&err);

  affect_speech_options_init (&o);
  o.mfcc.low_freq = 9000.0;
  ck_assert_ptr_null (affect_speech_new (&o, &err));
  ck_assert_ptr_nonnull (err);
  g_clear_error (&err);

  affect_speech_options_init (&o);
  o.pitch.frame_time = 0.02; /* 320-sample pitch frames vs 160 shift */
  ck_assert_ptr_null (affect_speech_new (&o, &err));
  ck_assert (g_error_matches (
      err, AFFECT_SPEECH_ERROR, AFFECT_SPEECH_ERROR_INVALID_OPTION));
  g_clear_error (&err);

  affect_speech_options_init (&o);
  o.pitch.freq_high = 50.0; /* below freq_low */
  ck_assert_ptr_null (affect_speech_new (&o, &err));
  ck_assert (g_error_matches (
      err, AFFECT_PITCH_ERROR, AFFECT_PITCH_ERROR_INVALID_OPTION));
  g_clear_error (&err);
}
END_TEST

/* ---- golden parity ------------------------------------------------------ */

static void
check_mfcc_case (const gchar *name)
{
  JsonObject *c = golden_case (name);
  JsonArray *mfcc = json_object_get_array_member (c, "mfcc");
  JsonArray *energy = json_object_has_member (c, "log_energy")
                          ? json_object_get_array_member (c, "log_energy")
                          : NULL;
  JsonArray *fb_frames = json_object_has_member (c, "fbank_frames")
                             ? json_object_get_array_member (c, "fbank_frames")
                             : NULL;
  guint step = json_object_has_member (c, "frame_step")
                   ? json_object_get_int_member (c, "frame_step")
                   : 1;
  AffectMfccOptions o;
  AffectMfcc *m;
  gsize n;
  double *x = read_golden_wav (&n);
  double ceps[AFFECT_MFCC_MAX_CEPS], fb[AFFECT_MFCC_MAX_MEL_BINS], e;
  double max_c = 0.0, max_e = 0.0, max_f = 0.0;
  guint64 nf;

  affect_mfcc_options_init (&o);
  apply_json_options (&o, json_object_get_object_member (c, "options"));
  m = affect_mfcc_new (&o, NULL);
  ck_assert_ptr_nonnull (m);
  nf = affect_mfcc_num_frames (m, n);
  ck_assert_uint_eq ((nf + step - 1) / step, json_array_get_length (mfcc));
  if (energy)
    ck_assert_uint_eq (nf, json_array_get_length (energy));

  for (guint64 t = 0; t < nf; t++) {
    affect_mfcc_compute_frame (
        m, x + t * affect_mfcc_window_shift (m), ceps, fb, &e);
    if (t % step == 0) {
      JsonArray *row = json_array_get_array_element (mfcc, t / step);
      ck_assert_uint_eq (json_array_get_length (row), o.num_ceps);
      for (guint k = 0; k < o.num_ceps; k++)
        max_c = MAX (
            max_c, fabs (ceps[k] - json_array_get_double_element (row, k)));
    }
    if (energy)
      max_e = MAX (max_e, fabs (e - json_array_get_double_element (energy, t)));
  }
  if (fb_frames) {
    JsonArray *fbank = json_object_get_array_member (c, "fbank");
    for (guint i = 0; i < json_array_get_length (fb_frames); i++) {
      guint t = json_array_get_int_element (fb_frames, i);
      JsonArray *row = json_array_get_array_element (fbank, i);
      affect_mfcc_compute_frame (
          m, x + t * affect_mfcc_window_shift (m), NULL, fb, NULL);
      for (guint b = 0; b < o.num_mel_bins; b++)
        max_f = MAX (
            max_f, fabs (fb[b] - json_array_get_double_element (row, b)));
    }
  }
  g_print ("speech golden %s: %" G_GUINT64_FORMAT
           " frames, max |d| mfcc %.3g, log energy %.3g, fbank %.3g\n",
      name, nf, max_c, max_e, max_f);
  ck_assert_msg (max_c <= 1e-3, "%s: MFCC max |d| %g > 1e-3", name, max_c);
  ck_assert_msg (max_e <= 1e-3, "%s: energy max |d| %g > 1e-3", name, max_e);
  ck_assert_msg (max_f <= 1e-3, "%s: fbank max |d| %g > 1e-3", name, max_f);
  affect_mfcc_free (m);
  g_free (x);
}

START_TEST (test_golden_audio_sha256)
{
  gchar *dir = affect_test_golden_path ("speech", NULL);
  gchar *path = g_build_filename (dir, "austen-0930.wav", NULL);
  gchar *data = NULL, *sum;
  gsize len;
  JsonObject *audio = json_object_get_object_member (golden (), "audio");

  ck_assert (g_file_get_contents (path, &data, &len, NULL));
  sum = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *)data, len);
  ck_assert_str_eq (sum, json_object_get_string_member (audio, "sha256"));
  g_free (sum);
  g_free (data);
  g_free (path);
  g_free (dir);
}
END_TEST

START_TEST (test_golden_mfcc_default)
{
  check_mfcc_case ("default");
}
END_TEST

START_TEST (test_golden_mfcc_alt)
{
  check_mfcc_case ("alt");
}
END_TEST

START_TEST (test_golden_mfcc_htk)
{
  check_mfcc_case ("htk");
}
END_TEST

/* Streams the golden audio through AffectSpeech in chunks of @chunk
 * samples; returns the frames. */
static GArray *
stream_frames (const double *x, gsize n, gsize chunk)
{
  AffectSpeech *s = affect_speech_new (NULL, NULL);
  GArray *frames = g_array_new (FALSE, FALSE, sizeof (AffectSpeechFrame));
  AffectSpeechFrame f;
  for (gsize off = 0; off < n; off += chunk) {
    affect_speech_push_double (s, x + off, MIN (chunk, n - off));
    while (affect_speech_pull (s, &f))
      g_array_append_val (frames, f);
  }
  affect_speech_finish (s);
  while (affect_speech_pull (s, &f))
    g_array_append_val (frames, f);
  affect_speech_free (s);
  return frames;
}

START_TEST (test_golden_pitch)
{
  JsonObject *p = json_object_get_object_member (golden (), "pitch");
  JsonArray *ref = json_object_get_array_member (p, "f0_hz");
  JsonArray *mfcc
      = json_object_get_array_member (golden_case ("default"), "mfcc");
  gsize n;
  double *x = read_golden_wav (&n);
  double *scaled = g_new (double, n);
  GArray *frames;
  guint voiced = 0, exact = 0, cmp = 0;
  double max_rel = 0.0, max_c = 0.0;

  /* AffectSpeech takes [-1, 1] samples and scales them by 32768. */
  for (gsize i = 0; i < n; i++)
    scaled[i] = x[i] / 32768.0;
  frames = stream_frames (scaled, n, 1000);
  ck_assert_uint_eq (frames->len, json_array_get_length (mfcc));

  for (guint i = 0; i < frames->len; i++) {
    AffectSpeechFrame *f = &g_array_index (frames, AffectSpeechFrame, i);
    JsonArray *row = json_array_get_array_element (mfcc, i);
    ck_assert_uint_eq (f->index, i);
    ck_assert_double_eq_tol (f->time, i * 0.01, 1e-9);
    for (guint k = 0; k < 13; k++)
      max_c = MAX (
          max_c, fabs (f->mfcc[k] - json_array_get_double_element (row, k)));
    ck_assert (f->voicing >= 0.0 && f->voicing <= 1.0);
    if (i >= json_array_get_length (ref))
      continue;
    cmp++;
    {
      const double r = json_array_get_double_element (ref, i);
      const double rel = fabs (f->f0_hz - r) / r;
      if (rel < 1e-5)
        exact++;
      if (f->voiced) {
        voiced++;
        max_rel = MAX (max_rel, rel);
      }
    }
  }
  g_print ("speech golden pitch: %u frames compared, %u voiced, max rel "
           "F0 error on voiced %.3g, %u of %u frames identical\n",
      cmp, voiced, max_rel, exact, cmp);
  ck_assert_msg (max_c <= 1e-3, "streamed MFCC max |d| %g", max_c);
  /* The recording is read speech: most frames are voiced. */
  ck_assert_uint_gt (voiced, cmp / 4);
  ck_assert_msg (
      max_rel <= 0.02, "F0 differs by %g on a voiced frame", max_rel);
  g_array_unref (frames);
  g_free (scaled);
  g_free (x);
}
END_TEST

START_TEST (test_streaming_chunks)
{
  /* Chunk sizes must not change any value. */
  static const gsize chunks[] = { 1, 7, 160, 399, 4096 };
  gsize n;
  double *x = read_golden_wav (&n);
  GArray *ref;
  AffectPitch *p = affect_pitch_new (NULL, NULL);
  double *f0, *v;

  for (gsize i = 0; i < n; i++)
    x[i] /= 32768.0;
  ref = stream_frames (x, n, n);
  for (guint c = 0; c < G_N_ELEMENTS (chunks); c++) {
    GArray *fr = stream_frames (x, n, chunks[c]);
    ck_assert_uint_eq (fr->len, ref->len);
    ck_assert_msg (
        memcmp (fr->data, ref->data, sizeof (AffectSpeechFrame) * ref->len)
            == 0,
        "chunk size %" G_GSIZE_FORMAT " changes the frames", chunks[c]);
    g_array_unref (fr);
  }
  /* And the whole-signal pitch tracker agrees with the stream. */
  for (gsize i = 0; i < n; i++)
    x[i] *= 32768.0;
  f0 = g_new (double, affect_pitch_num_frames (p, n));
  v = g_new (double, affect_pitch_num_frames (p, n));
  affect_pitch_track (p, x, n, f0, v);
  for (guint i = 0; i < ref->len; i++) {
    AffectSpeechFrame *f = &g_array_index (ref, AffectSpeechFrame, i);
    ck_assert_double_eq (f->f0_hz, f0[i]);
    ck_assert_double_eq (f->voicing, v[i]);
  }
  g_free (f0);
  g_free (v);
  affect_pitch_free (p);
  g_array_unref (ref);
  g_free (x);
}
END_TEST

/* ---- edge cases --------------------------------------------------------- */

static guint
count_frames (const float *x, gsize n)
{
  AffectSpeech *s = affect_speech_new (NULL, NULL);
  AffectSpeechFrame f;
  guint count = 0;
  affect_speech_push (s, x, n);
  affect_speech_finish (s);
  while (affect_speech_pull (s, &f)) {
    ck_assert (
        isfinite (f.log_energy) && isfinite (f.f0_hz) && isfinite (f.voicing));
    for (guint k = 0; k < f.n_mfcc; k++)
      ck_assert (isfinite (f.mfcc[k]));
    count++;
  }
  affect_speech_free (s);
  return count;
}

START_TEST (test_edge_lengths)
{
  float *x = g_new0 (float, 1000);
  ck_assert_uint_eq (count_frames (x, 0), 0);
  ck_assert_uint_eq (count_frames (x, 399), 0);
  ck_assert_uint_eq (count_frames (x, 400), 1);
  ck_assert_uint_eq (count_frames (x, 559), 1);
  ck_assert_uint_eq (count_frames (x, 560), 2);
  ck_assert_uint_eq (count_frames (x, 1000), 4);
  g_free (x);
}
END_TEST

START_TEST (test_edge_silence)
{
  AffectSpeech *s = affect_speech_new (NULL, NULL);
  float *x = g_new0 (float, 3200);
  AffectSpeechFrame f;
  guint n = 0;

  affect_speech_push (s, x, 3200);
  /* Not finished: frames wait for the pitch median window. */
  ck_assert_uint_eq (affect_speech_latency_samples (s), 15 * 160 + 349);
  affect_speech_finish (s);
  while (affect_speech_pull (s, &f)) {
    ck_assert_double_eq (f.log_energy, 0.0); /* floor log(1.0) */
    ck_assert_double_eq (f.voicing, 0.0);
    ck_assert (!f.voiced);
    n++;
  }
  ck_assert_uint_eq (n, 18);
  affect_speech_free (s);
  g_free (x);
}
END_TEST

START_TEST (test_edge_nonfinite)
{
  AffectSpeech *s = affect_speech_new (NULL, NULL);
  float *x = g_new (float, 4000);
  AffectSpeechFrame f;

  for (int i = 0; i < 4000; i++)
    x[i] = 0.3f * sinf (2 * G_PI * 150.0f * i / 16000.0f);
  x[100] = NAN;
  x[2000] = INFINITY;
  x[2001] = -INFINITY;
  affect_speech_push (s, x, 4000);
  affect_speech_finish (s);
  ck_assert_uint_eq (affect_speech_nonfinite_samples (s), 3);
  while (affect_speech_pull (s, &f)) {
    ck_assert (isfinite (f.log_energy) && isfinite (f.f0_hz));
    for (guint k = 0; k < f.n_mfcc; k++)
      ck_assert (isfinite (f.mfcc[k]));
  }
  affect_speech_reset (s);
  ck_assert_uint_eq (affect_speech_nonfinite_samples (s), 0);
  ck_assert (!affect_speech_pull (s, &f));
  affect_speech_free (s);
  g_free (x);
}
END_TEST

/* ---- backlog: huge buffers, extreme rates (issue 14) -------------------- */

static gboolean
under_valgrind (void)
{
  return g_getenv ("AFFECT_UNDER_VALGRIND") != NULL;
}

/* A deterministic test signal in [-0.5, 0.5]: a gliding tone plus noise. */
static void
fill_signal (float *x, gsize n, guint32 seed)
{
  guint32 r = seed;
  for (gsize i = 0; i < n; i++) {
    r = r * 1664525u + 1013904223u;
    x[i] = 0.3f * sinf ((float)i * 0.03f * (1.0f + 0.5f * sinf (i * 1e-4f)))
           + ((float)(r >> 8) / 16777216.0f - 0.5f) * 0.1f;
  }
}

/* Pulls every ready frame into @out (may be NULL), checking that the frames
 * come in order and are finite; returns how many. */
static guint64
pull_all (AffectSpeech *s, GArray *out, guint64 *next_index)
{
  AffectSpeechFrame f;
  guint64 count = 0;

  while (affect_speech_pull (s, &f)) {
    ck_assert_uint_eq (f.index, *next_index);
    ck_assert (
        isfinite (f.log_energy) && isfinite (f.f0_hz) && isfinite (f.voicing));
    (*next_index)++;
    count++;
    if (out)
      g_array_append_val (out, f);
  }
  return count;
}

/* The bounds every run must keep, whatever the push sizes: samples held
 * (memory), samples moved inside the store (work: at most once each on
 * average) and raw pitch frames (each computed once). */
static void
check_bounded (AffectSpeech *s, guint64 n)
{
  AffectSpeechStats st;
  const guint shift = affect_speech_frame_shift (s);

  affect_speech_get_stats (s, &st);
  ck_assert_uint_le (st.peak_samples_held,
      AFFECT_SPEECH_MAX_BACKLOG + affect_speech_latency_samples (s));
  ck_assert_uint_le (st.samples_moved, n);
  ck_assert_uint_eq (st.raw_pitch_frames, (n + shift - 1) / shift);
  ck_assert_uint_eq (st.frames_queued, 0);
}

START_TEST (test_backlog_big_buffer)
{
  /* One buffer of 3.84 M samples (4 minutes at 16 kHz), pushed at once:
   * it used to take ~40 s (every pulled frame moved the whole backlog).
   * Now at most AFFECT_SPEECH_MAX_BACKLOG samples are held, the push
   * queues frames as it goes, and the frames equal those of a stream of
   * small chunks. */
  const gsize n = 3840000;
  float *x = g_new (float, n);
  AffectSpeech *s = affect_speech_new (NULL, NULL);
  AffectSpeech *ref = affect_speech_new (NULL, NULL);
  GArray *a = g_array_new (FALSE, FALSE, sizeof (AffectSpeechFrame));
  GArray *b = g_array_new (FALSE, FALSE, sizeof (AffectSpeechFrame));
  AffectSpeechStats st;
  guint64 ia = 0, ib = 0;

  fill_signal (x, n, 1);
  affect_speech_push (s, x, n);
  affect_speech_get_stats (s, &st);
  /* The push computed what it could into the queue instead of holding 3.84
   * M samples. */
  ck_assert_uint_le (st.samples_held,
      AFFECT_SPEECH_MAX_BACKLOG + affect_speech_latency_samples (s));
  ck_assert_uint_gt (st.frames_queued, 0);
  ck_assert_uint_eq (st.frames_queued, st.peak_frames_queued);
  pull_all (s, a, &ia);
  affect_speech_finish (s);
  pull_all (s, a, &ia);
  ck_assert_uint_eq (a->len, affect_speech_num_frames (s, n));
  ck_assert_uint_eq (a->len, 1 + (n - 400) / 160);
  check_bounded (s, n);

  for (gsize off = 0; off < n; off += 4096) {
    affect_speech_push (ref, x + off, MIN ((gsize)4096, n - off));
    pull_all (ref, b, &ib);
  }
  affect_speech_finish (ref);
  pull_all (ref, b, &ib);
  check_bounded (ref, n);
  affect_speech_get_stats (ref, &st);
  ck_assert_uint_eq (st.peak_frames_queued, 0); /* never needed the queue */
  ck_assert_uint_lt (
      st.peak_samples_held, affect_speech_latency_samples (ref) + 4096);
  ck_assert_uint_eq (a->len, b->len);
  ck_assert_msg (
      memcmp (a->data, b->data, sizeof (AffectSpeechFrame) * a->len) == 0,
      "one big push gives other frames than 4096-sample chunks");

  /* Reset clears the queue and the counters. */
  affect_speech_reset (s);
  affect_speech_push (s, x, n);
  affect_speech_reset (s);
  affect_speech_get_stats (s, &st);
  ck_assert_uint_eq (st.frames_queued, 0);
  ck_assert_uint_eq (st.samples_held, 0);
  ck_assert_uint_eq (st.peak_samples_held, 0);
  ck_assert (!affect_speech_pull (s, &g_array_index (b, AffectSpeechFrame, 0)));

  g_array_unref (a);
  g_array_unref (b);
  affect_speech_free (s);
  affect_speech_free (ref);
  g_free (x);
}
END_TEST

START_TEST (test_backlog_rate_1hz)
{
  /* Audio at rate=1: the element resamples each 1024-sample buffer to 16
   * kHz, 16.4 M samples (1024 s) in one push. It used to produce no frame
   * within 60 s and grow to 512 MB. (Under valgrind a quarter of it.) */
  const gsize in = under_valgrind () ? 256 : 1024;
  const gsize n = in * 16000;
  float *x = g_new (float, n);
  AffectSpeech *s = affect_speech_new (NULL, NULL);
  guint64 idx = 0, frames;
  guint32 r = 7;

  /* What a resampler makes of 1-Hz samples: slow ramps between values. */
  for (gsize k = 0; k < in; k++) {
    float a = (float)k / in - 0.5f, b;
    r = r * 1664525u + 1013904223u;
    b = ((float)(r >> 8) / 16777216.0f - 0.5f);
    for (gsize j = 0; j < 16000; j++)
      x[k * 16000 + j] = a + (b - a) * (float)j / 16000.0f;
  }
  affect_speech_push (s, x, n);
  frames = pull_all (s, NULL, &idx);
  /* Everything up to the latency is out before the end of the stream. */
  ck_assert_uint_ge (frames,
      (n - affect_speech_latency_samples (s)) / affect_speech_frame_shift (s));
  affect_speech_finish (s);
  frames += pull_all (s, NULL, &idx);
  ck_assert_uint_eq (frames, affect_speech_num_frames (s, n));
  check_bounded (s, n);
  affect_speech_free (s);
  g_free (x);
}
END_TEST

START_TEST (test_backlog_rate_high)
{
  /* Audio at a very high input rate: the resampler gives 0 or 1 samples
   * per buffer. Many tiny pushes, each followed by a pull, keep only the
   * latency. */
  const gsize n = under_valgrind () ? 40000 : 400000;
  float *x = g_new (float, n);
  AffectSpeech *s = affect_speech_new (NULL, NULL);
  AffectSpeechStats st;
  guint64 idx = 0, frames = 0;

  fill_signal (x, n, 3);
  for (gsize i = 0; i < n; i++) {
    affect_speech_push (s, x + i, 0);
    affect_speech_push (s, x + i, 1);
    frames += pull_all (s, NULL, &idx);
  }
  affect_speech_finish (s);
  frames += pull_all (s, NULL, &idx);
  ck_assert_uint_eq (frames, affect_speech_num_frames (s, n));
  check_bounded (s, n);
  affect_speech_get_stats (s, &st);
  ck_assert_uint_le (st.peak_samples_held, affect_speech_latency_samples (s));
  affect_speech_free (s);
  g_free (x);
}
END_TEST

START_TEST (test_backlog_option_rates)
{
  /* The extractor's own rate: 1 Hz and 2 MHz are refused with a clear
   * error, the highest accepted rate (1 MHz: 10000-sample frames, 25000-
   * sample windows) stays bounded on a 4 M-sample push. */
  AffectSpeechOptions o;
  GError *err = NULL;
  AffectSpeech *s;
  const gsize n = under_valgrind () ? 1500000 : 4000000;
  float *x;
  guint64 idx = 0, frames;

  affect_speech_options_init (&o);
  o.sample_rate = 1.0;
  ck_assert_ptr_null (affect_speech_new (&o, &err));
  ck_assert (g_error_matches (
      err, AFFECT_MFCC_ERROR, AFFECT_MFCC_ERROR_INVALID_OPTION));
  ck_assert_ptr_nonnull (strstr (err->message, "window of 0 samples"));
  g_clear_error (&err);

  o.sample_rate = 2e6;
  ck_assert_ptr_null (affect_speech_new (&o, &err));
  ck_assert (g_error_matches (
      err, AFFECT_PITCH_ERROR, AFFECT_PITCH_ERROR_INVALID_OPTION));
  ck_assert_ptr_nonnull (strstr (err->message, "sample_rate in (0, 1e6]"));
  g_clear_error (&err);

  o.sample_rate = 1e6;
  s = affect_speech_new (&o, &err);
  ck_assert_ptr_nonnull (s);
  ck_assert_uint_eq (affect_speech_frame_shift (s), 10000);
  x = g_new (float, n);
  fill_signal (x, n, 5);
  affect_speech_push (s, x, n);
  frames = pull_all (s, NULL, &idx);
  affect_speech_finish (s);
  frames += pull_all (s, NULL, &idx);
  ck_assert_uint_eq (frames, affect_speech_num_frames (s, n));
  ck_assert_uint_eq (frames, 1 + (n - 25000) / 10000);
  check_bounded (s, n);
  affect_speech_free (s);
  g_free (x);
}
END_TEST

/* ---- affect-audio ------------------------------------------------------- */

/* Writes @x (n samples at @rate, @channels interleaved) with @format. */
static gchar *
write_sound (const gchar *dir, const gchar *name, const float *x, gsize n,
    int rate, int channels, int format)
{
  gchar *path = g_build_filename (dir, name, NULL);
  SF_INFO info = { 0 };
  SNDFILE *sf;
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  sf = sf_open (path, SFM_WRITE, &info);
  ck_assert_msg (sf != NULL, "cannot write %s: %s", path, sf_strerror (NULL));
  ck_assert_int_eq (sf_writef_float (sf, x, n), n);
  sf_close (sf);
  return path;
}

/* Parses affect-audio CSV: returns rows (each a GArray of doubles). */
static GPtrArray *
parse_csv (const gchar *text, gchar **header)
{
  gchar **lines = g_strsplit (text, "\n", -1);
  GPtrArray *rows
      = g_ptr_array_new_with_free_func ((GDestroyNotify)g_array_unref);
  *header = g_strdup (lines[0]);
  for (guint i = 1; lines[i] && lines[i][0]; i++) {
    gchar **cells = g_strsplit (lines[i], ",", -1);
    GArray *r = g_array_new (FALSE, FALSE, sizeof (double));
    for (guint j = 0; cells[j]; j++) {
      double v = g_ascii_strtod (cells[j], NULL);
      g_array_append_val (r, v);
    }
    g_ptr_array_add (rows, r);
    g_strfreev (cells);
  }
  g_strfreev (lines);
  return rows;
}

static const gchar *expected_header
    = "time,mfcc_0,mfcc_1,mfcc_2,mfcc_3,mfcc_4,mfcc_5,mfcc_6,mfcc_7,mfcc_8,"
      "mfcc_9,mfcc_10,mfcc_11,mfcc_12,log_energy,f0_hz,voicing";

static GPtrArray *
tool_rows (const gchar *file)
{
  const gchar *args[] = { file, NULL };
  gchar *out = NULL, *err = NULL, *header = NULL;
  gint status;
  GPtrArray *rows;
  status = affect_test_run_tool (affect_audio_path, args, &out, &err);
  ck_assert_msg (status == 0, "affect-audio %s failed: %s", file, err);
  rows = parse_csv (out, &header);
  ck_assert_str_eq (header, expected_header);
  for (guint i = 0; i < rows->len; i++)
    ck_assert_uint_eq (((GArray *)rows->pdata[i])->len, 17);
  g_free (header);
  g_free (out);
  g_free (err);
  return rows;
}

#define CELL(rows, i, j) g_array_index ((GArray *)(rows)->pdata[i], double, j)

START_TEST (test_tool_golden)
{
  gchar *dir = affect_test_golden_path ("speech", NULL);
  gchar *wav = g_build_filename (dir, "austen-0930.wav", NULL);
  gchar *tmp = g_dir_make_tmp ("affect-speech-XXXXXX", NULL);
  gchar *csv = g_build_filename (tmp, "out.csv", NULL);
  JsonArray *mfcc
      = json_object_get_array_member (golden_case ("default"), "mfcc");
  JsonArray *energy
      = json_object_get_array_member (golden_case ("default"), "log_energy");
  const gchar *args[] = { wav, "-o", csv, NULL };
  gchar *out = NULL, *err = NULL, *text = NULL, *header = NULL;
  gint status;
  GPtrArray *rows;
  double max_d = 0.0;

  if (affect_audio_path == NULL) {
    g_print ("SKIP: affect-audio path not given\n");
    goto out;
  }
  status = affect_test_run_tool (affect_audio_path, args, &out, &err);
  ck_assert_msg (status == 0, "failed: %s", err);
  ck_assert (g_file_get_contents (csv, &text, NULL, NULL));
  rows = parse_csv (text, &header);
  ck_assert_str_eq (header, expected_header);
  ck_assert_uint_eq (rows->len, json_array_get_length (mfcc));
  for (guint i = 0; i < rows->len; i++) {
    JsonArray *row = json_array_get_array_element (mfcc, i);
    ck_assert_double_eq_tol (CELL (rows, i, 0), i * 0.01, 1e-9);
    for (guint k = 0; k < 13; k++)
      max_d = MAX (max_d, fabs (CELL (rows, i, 1 + k)
                                - json_array_get_double_element (row, k)));
    max_d = MAX (max_d,
        fabs (CELL (rows, i, 14) - json_array_get_double_element (energy, i)));
  }
  ck_assert_msg (max_d <= 1e-3, "CSV differs from golden by %g", max_d);
  g_ptr_array_unref (rows);
  g_unlink (csv);
out:
  g_rmdir (tmp);
  g_free (header);
  g_free (text);
  g_free (out);
  g_free (err);
  g_free (csv);
  g_free (tmp);
  g_free (wav);
  g_free (dir);
}
END_TEST

START_TEST (test_tool_formats)
{
  /* The golden audio as 8-bit, 24-bit, float WAV and FLAC: same row count;
   * 24-bit, float and FLAC keep the 16-bit values exactly. */
  static const struct {
    const char *name;
    int format;
    double tol;
  } fmts[] = {
    { "u8.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, -1 },
    { "s24.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 1e-3 },
    { "f32.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1e-3 },
    { "s16.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1e-3 },
    { "vorbis.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, -1 },
  };
  gchar *tmp;
  gsize n;
  double *x;
  float *xf;
  GPtrArray *ref;
  gchar *dir = affect_test_golden_path ("speech", NULL);
  gchar *wav = g_build_filename (dir, "austen-0930.wav", NULL);

  if (affect_audio_path == NULL) {
    g_print ("SKIP: affect-audio path not given\n");
    g_free (wav);
    g_free (dir);
    return;
  }
  tmp = g_dir_make_tmp ("affect-speech-XXXXXX", NULL);
  x = read_golden_wav (&n);
  xf = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    xf[i] = (float)(x[i] / 32768.0);
  ref = tool_rows (wav);

  for (guint f = 0; f < G_N_ELEMENTS (fmts); f++) {
    SF_INFO probe
        = { .samplerate = 16000, .channels = 1, .format = fmts[f].format };
    gchar *path;
    GPtrArray *rows;
    if (!sf_format_check (&probe)) {
      g_print ("libsndfile cannot write %s here: skipped\n", fmts[f].name);
      continue;
    }
    path = write_sound (tmp, fmts[f].name, xf, n, 16000, 1, fmts[f].format);
    rows = tool_rows (path);
    ck_assert_msg (rows->len == ref->len, "%s: %u rows, expected %u",
        fmts[f].name, rows->len, ref->len);
    if (fmts[f].tol > 0) {
      for (guint i = 0; i < rows->len; i++)
        for (guint j = 0; j < 17; j++)
          ck_assert_msg (
              fabs (CELL (rows, i, j) - CELL (ref, i, j))
                  <= fmts[f].tol * MAX (1.0, fabs (CELL (ref, i, j))),
              "%s: row %u col %u: %g vs %g", fmts[f].name, i, j,
              CELL (rows, i, j), CELL (ref, i, j));
    }
    g_ptr_array_unref (rows);
    g_unlink (path);
    g_free (path);
  }
  g_ptr_array_unref (ref);
  g_rmdir (tmp);
  g_free (tmp);
  g_free (xf);
  g_free (x);
  g_free (wav);
  g_free (dir);
}
END_TEST

START_TEST (test_tool_resample_stereo)
{
  /* 2 s of a 220 Hz tone, 48 kHz stereo (right channel = left): mixed
   * down and resampled to 16 kHz, 198 rows, F0 = 220 Hz within 2 %. */
  const int rate = 48000;
  const gsize n = 2 * rate;
  gchar *tmp, *path;
  float *x;
  GPtrArray *rows;
  guint voiced = 0;

  if (affect_audio_path == NULL) {
    g_print ("SKIP: affect-audio path not given\n");
    return;
  }
  tmp = g_dir_make_tmp ("affect-speech-XXXXXX", NULL);
  x = g_new (float, 2 * n);
  for (gsize i = 0; i < n; i++)
    x[2 * i] = x[2 * i + 1] = 0.25f * sinf (2 * G_PI * 220.0 * i / rate);
  path = write_sound (
      tmp, "tone48k.wav", x, n, rate, 2, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  rows = tool_rows (path);
  ck_assert_uint_eq (rows->len, 1 + (32000 - 400) / 160);
  for (guint i = 0; i < rows->len; i++) {
    if (CELL (rows, i, 16) >= 0.5) {
      voiced++;
      ck_assert_msg (fabs (CELL (rows, i, 15) - 220.0) <= 0.02 * 220.0,
          "row %u: F0 %g", i, CELL (rows, i, 15));
    }
  }
  ck_assert_uint_gt (voiced, rows->len * 9 / 10);
  g_ptr_array_unref (rows);
  g_unlink (path);
  g_rmdir (tmp);
  g_free (path);
  g_free (tmp);
  g_free (x);
}
END_TEST

START_TEST (test_tool_errors)
{
  gchar *tmp;
  gchar *bogus, *empty, *missing;
  gchar *out = NULL, *err = NULL;
  gint status;

  if (affect_audio_path == NULL) {
    g_print ("SKIP: affect-audio path not given\n");
    return;
  }
  tmp = g_dir_make_tmp ("affect-speech-XXXXXX", NULL);
  missing = g_build_filename (tmp, "missing.wav", NULL);
  bogus = g_build_filename (tmp, "bogus.wav", NULL);
  ck_assert (g_file_set_contents (bogus, "not audio at all", -1, NULL));
  {
    const gchar *args[] = { missing, NULL };
    status = affect_test_run_tool (affect_audio_path, args, &out, &err);
    ck_assert (!status == 0);
    ck_assert_ptr_nonnull (strstr (err, "missing.wav"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const gchar *args[] = { bogus, NULL };
    status = affect_test_run_tool (affect_audio_path, args, &out, &err);
    ck_assert (!status == 0);
    ck_assert_ptr_nonnull (strstr (err, "bogus.wav"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const gchar *args[] = { "--help", NULL };
    status = affect_test_run_tool (affect_audio_path, args, &out, &err);
    ck_assert (status == 0);
    ck_assert_ptr_nonnull (strstr (out, "mfcc_0"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const gchar *args[] = { bogus, "--window", "triangle", NULL };
    status = affect_test_run_tool (affect_audio_path, args, &out, &err);
    ck_assert (!status == 0);
    ck_assert_ptr_nonnull (strstr (err, "triangle"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    /* An empty WAV (no samples): header only, success. */
    GPtrArray *rows;
    float dummy = 0.0f;
    empty = write_sound (tmp, "empty.wav", &dummy, 0, 16000, 1,
        SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    rows = tool_rows (empty);
    ck_assert_uint_eq (rows->len, 0);
    g_ptr_array_unref (rows);
    g_unlink (empty);
    g_free (empty);
  }
  g_unlink (bogus);
  g_rmdir (tmp);
  g_free (bogus);
  g_free (missing);
  g_free (tmp);
}
END_TEST

static Suite *
speech_suite (void)
{
  Suite *s = suite_create ("speech");
  TCase *tc = tcase_create ("units");
  tcase_add_test (tc, test_mel_scale);
  tcase_add_test (tc, test_mel_banks_tiny);
  tcase_add_test (tc, test_mel_banks_default);
  tcase_add_test (tc, test_window);
  tcase_add_test (tc, test_preemphasis);
  tcase_add_test (tc, test_constant_frame);
  tcase_add_test (tc, test_pitch_sine);
  tcase_add_test (tc, test_pitch_median);
  tcase_add_test (tc, test_bad_options);
  suite_add_tcase (s, tc);

  tc = tcase_create ("golden");
  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_golden_audio_sha256);
  tcase_add_test (tc, test_golden_mfcc_default);
  tcase_add_test (tc, test_golden_mfcc_alt);
  tcase_add_test (tc, test_golden_mfcc_htk);
  tcase_add_test (tc, test_golden_pitch);
  tcase_add_test (tc, test_streaming_chunks);
  suite_add_tcase (s, tc);

  tc = tcase_create ("edges");
  tcase_add_test (tc, test_edge_lengths);
  tcase_add_test (tc, test_edge_silence);
  tcase_add_test (tc, test_edge_nonfinite);
  suite_add_tcase (s, tc);

  tc = tcase_create ("backlog");
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_backlog_big_buffer);
  tcase_add_test (tc, test_backlog_rate_1hz);
  tcase_add_test (tc, test_backlog_rate_high);
  tcase_add_test (tc, test_backlog_option_rates);
  suite_add_tcase (s, tc);

  tc = tcase_create ("affect-audio");
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_tool_golden);
  tcase_add_test (tc, test_tool_formats);
  tcase_add_test (tc, test_tool_resample_stereo);
  tcase_add_test (tc, test_tool_errors);
  suite_add_tcase (s, tc);
  return s;
}

int
main (int argc, char **argv)
{
  SRunner *sr;
  int failed;

  if (argc > 1)
    affect_audio_path = argv[1];
  sr = srunner_create (speech_suite ());
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  if (golden_parser)
    g_object_unref (golden_parser);
  return failed == 0 ? 0 : 1;
}
