/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* Tests of the audio and text request pads of affectfeatures: speech
 * features pooled per video frame from audiotestsrc at 48 kHz stereo (and
 * other formats), EOS on the audio while the video continues, an absent and
 * an unlinked audio pad, the "spe" vectors in the JSONL of affectsink; word
 * embeddings from text cues (appsrc and an SRT through subparse), text that
 * arrives before or after its video, an invalid UTF-8 cue.
 *
 * The text tests need the word model (affect-fetch-word-model); they are
 * skipped with a message without it, unless AFFECT_REQUIRE_MODELS=1.
 *
 * The faces are put on the frames by a probe (a fixed box, no landmarks)
 * and only the speech branch is selected, so no face network is needed.
 * The test needs videotestsrc, audiotestsrc and the core elements from the
 * system plugins ($AFFECT_TEST_SYSTEM_PLUGIN_DIR); without them the tests
 * are skipped with a message. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <gst/affect/affectmeta.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <json-glib/json-glib.h>

#include "affect-check.h"
#include "affect-bert.h"

#define N_FRAMES 30
/* 13 MFCCs, log energy, F0, voicing */
#define N_SPE 16

static gboolean
have_plugins (const gchar *test)
{
  if (affect_check_load_system_plugin ("libgstvideotestsrc.so")
      && affect_check_load_system_plugin ("libgstaudiotestsrc.so")
      && affect_check_load_system_plugin ("libgstcoreelements.so"))
    return TRUE;
  g_print ("SKIP %s: videotestsrc, audiotestsrc or the core elements not "
           "found (set AFFECT_TEST_SYSTEM_PLUGIN_DIR)\n",
      test);
  return FALSE;
}

/* One output frame. */
typedef struct {
  GstClockTime pts;
  gboolean has_meta;
  gboolean has_spe;
  guint spe_size;
  gfloat spe[N_SPE];
} FrameResult;

typedef struct {
  GMutex lock;
  GArray *frames; /* FrameResult */
} Results;

/* Puts one face (track 7, no landmarks) on every video frame. */
static GstPadProbeReturn
add_face_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  buf = gst_buffer_make_writable (buf);
  gst_buffer_add_affect_face_meta (buf, 7, 8, 8, 32, 32, 0.9f);
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
collect_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Results *res = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstAffectFeaturesMeta *meta;
  FrameResult r = {
    0,
  };

  r.pts = GST_BUFFER_PTS (buf);
  meta = gst_buffer_get_affect_features_meta_by_track (buf, 7);
  if (meta) {
    const gfloat *v;

    r.has_meta = TRUE;
    v = gst_affect_features_meta_get (
        meta, GST_AFFECT_BRANCH_SPEECH, &r.spe_size);
    if (v) {
      r.has_spe = TRUE;
      memcpy (r.spe, v, sizeof (gfloat) * MIN (r.spe_size, N_SPE));
    }
  }
  g_mutex_lock (&res->lock);
  g_array_append_val (res->frames, r);
  g_mutex_unlock (&res->lock);
  return GST_PAD_PROBE_OK;
}

typedef struct {
  guint n_frames;
  gboolean live;              /* live video source, sink synchronised */
  GstPadProbeCallback aprobe; /* buffer probe on the audio pad, or NULL */
  gpointer aprobe_data;
  GstClockTime min_latency; /* out: the pipeline's latency when live */
  gboolean latency_live;
} RunOptions;

/* Runs "videotestsrc ! affectfeatures ! fakesink" with @audio (a launch
 * fragment ending in "f.audio", or "unlinked" for a requested but unlinked
 * pad, or NULL for no audio pad) and returns the frames. */
static GArray *
run_pipeline_full (const gchar *audio, const gchar *sink, RunOptions *opts)
{
  GstElement *pipeline, *f;
  GstPad *vpad, *srcpad;
  GstBus *bus;
  GError *err = NULL;
  Results res;
  gchar *desc;
  gboolean unlinked = audio && strcmp (audio, "unlinked") == 0;

  g_mutex_init (&res.lock);
  res.frames = g_array_new (FALSE, TRUE, sizeof (FrameResult));

  desc = g_strdup_printf (
      "videotestsrc num-buffers=%u is-live=%d ! "
      "video/x-raw,format=I420,width=64,height=48,framerate=30/1 ! "
      "f.video affectfeatures name=f branches=speech ! %s %s",
      opts->n_frames, opts->live,
      sink ? sink
           : (opts->live ? "fakesink name=sink sync=true"
                         : "fakesink sync=false"),
      (audio && !unlinked) ? audio : "");
  pipeline = gst_parse_launch (desc, &err);
  fail_unless (pipeline != NULL, "%s: %s", desc, err ? err->message : "?");
  g_clear_error (&err);
  g_free (desc);

  f = gst_bin_get_by_name (GST_BIN (pipeline), "f");
  if (unlinked) {
    GstPad *apad = gst_element_request_pad_simple (f, "audio");

    fail_unless (apad != NULL);
    gst_object_unref (apad);
  }
  vpad = gst_element_get_static_pad (f, "video");
  gst_pad_add_probe (
      vpad, GST_PAD_PROBE_TYPE_BUFFER, add_face_probe, NULL, NULL);
  srcpad = gst_element_get_static_pad (f, "src");
  gst_pad_add_probe (
      srcpad, GST_PAD_PROBE_TYPE_BUFFER, collect_probe, &res, NULL);
  if (opts->aprobe) {
    GstPad *apad = gst_element_get_static_pad (f, "audio");

    fail_unless (apad != NULL);
    gst_pad_add_probe (
        apad, GST_PAD_PROBE_TYPE_BUFFER, opts->aprobe, opts->aprobe_data, NULL);
    gst_object_unref (apad);
  }

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING)
               != GST_STATE_CHANGE_FAILURE);
  bus = gst_element_get_bus (pipeline);
  if (opts->live) {
    GstQuery *q = gst_query_new_latency ();

    /* the latency is configured on the way to PLAYING */
    fail_unless (gst_element_get_state (pipeline, NULL, NULL, 60 * GST_SECOND)
                 == GST_STATE_CHANGE_SUCCESS);
    fail_unless (gst_element_query (pipeline, q), "latency query failed");
    gst_query_parse_latency (q, &opts->latency_live, &opts->min_latency, NULL);
    gst_query_unref (q);
  }
  affect_check_wait_eos (bus, 300 * GST_SECOND);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  gst_object_unref (bus);
  gst_object_unref (vpad);
  gst_object_unref (srcpad);
  gst_object_unref (f);
  gst_object_unref (pipeline);
  g_mutex_clear (&res.lock);

  fail_unless_equals_int (res.frames->len, opts->n_frames);
  return res.frames;
}

static GArray *
run_pipeline (const gchar *audio, const gchar *sink)
{
  RunOptions opts = {
    N_FRAMES,
  };

  return run_pipeline_full (audio, sink, &opts);
}

/* The mean of the F0 of the voiced frames is near @freq. */
static void
check_speech_frame (const FrameResult *r, guint i, gdouble freq)
{
  guint j;

  fail_unless (r->has_meta, "frame %u: no features meta", i);
  fail_unless (r->has_spe, "frame %u: no speech features", i);
  fail_unless_equals_int (r->spe_size, N_SPE);
  for (j = 0; j < N_SPE; j++)
    fail_unless (isfinite (r->spe[j]), "frame %u: value %u not finite", i, j);
  /* a loud sine: high energy, voiced, F0 at the sine's frequency */
  fail_unless (r->spe[13] > 10.0f, "frame %u: log energy %f", i, r->spe[13]);
  fail_unless (r->spe[15] > 0.5f, "frame %u: voicing %f", i, r->spe[15]);
  fail_unless (fabs (r->spe[14] - freq) < 0.05 * freq,
      "frame %u: F0 %f Hz, expected %f", i, r->spe[14], freq);
}

/* 48 kHz stereo F32 sine for 0.512 s (24 × 1024 samples), then EOS on the
 * audio while the video goes on to 1 s. */
GST_START_TEST (test_speech_48k_stereo_audio_eos)
{
  GArray *frames;
  guint i, n_spe = 0;

  if (!have_plugins ("test_speech_48k_stereo_audio_eos"))
    return;

  frames = run_pipeline (
      "audiotestsrc num-buffers=24 samplesperbuffer=1024 freq=220 "
      "volume=0.5 ! audio/x-raw,format=F32LE,rate=48000,channels=2 ! f.audio",
      NULL);
  for (i = 0; i < frames->len; i++) {
    FrameResult *r = &g_array_index (frames, FrameResult, i);
    GstClockTime end = r->pts + GST_SECOND / 30;

    fail_unless_equals_uint64 (
        r->pts, gst_util_uint64_scale (i, GST_SECOND, 30));
    /* the pitch tracker needs a few frames to settle; the last speech frame
     * has its centre 12.5 ms before the end of the audio */
    if (r->pts >= 100 * GST_MSECOND && end <= 480 * GST_MSECOND)
      check_speech_frame (r, i, 220.0);
    if (r->pts >= 512 * GST_MSECOND) {
      fail_unless (r->has_meta, "frame %u: no features meta", i);
      fail_unless (!r->has_spe, "frame %u: speech after the audio ended", i);
    }
    n_spe += r->has_spe;
  }
  fail_unless (n_spe >= 14 && n_spe <= 16, "%u frames with speech", n_spe);
  g_array_unref (frames);
}

GST_END_TEST;

/* S16 mono at 8 kHz, another sine. */
GST_START_TEST (test_speech_s16_8k_mono)
{
  GArray *frames;
  guint i;

  if (!have_plugins ("test_speech_s16_8k_mono"))
    return;

  frames = run_pipeline (
      "audiotestsrc num-buffers=10 samplesperbuffer=800 freq=150 "
      "volume=0.5 ! audio/x-raw,format=S16LE,rate=8000,channels=1 ! f.audio",
      NULL);
  for (i = 0; i < frames->len; i++) {
    FrameResult *r = &g_array_index (frames, FrameResult, i);

    if (r->pts >= 100 * GST_MSECOND
        && r->pts + GST_SECOND / 30 <= 950 * GST_MSECOND)
      check_speech_frame (r, i, 150.0);
  }
  g_array_unref (frames);
}

GST_END_TEST;

/* audiotestsrc marks silence as GAP buffers: no speech, an absent branch. */
GST_START_TEST (test_speech_gap_absent)
{
  GArray *frames;
  guint i;

  if (!have_plugins ("test_speech_gap_absent"))
    return;

  frames = run_pipeline (
      "audiotestsrc num-buffers=20 samplesperbuffer=4800 wave=silence ! "
      "audio/x-raw,format=F32LE,rate=48000,channels=2 ! f.audio",
      NULL);
  for (i = 0; i < frames->len; i++) {
    FrameResult *r = &g_array_index (frames, FrameResult, i);

    fail_unless (r->has_meta, "frame %u: no features meta", i);
    fail_unless (!r->has_spe, "frame %u: speech features in a gap", i);
  }
  g_array_unref (frames);
}

GST_END_TEST;

/* ---- real speech through wavparse ------------------------------------ */

#define WAV_FRAMES 100 /* 3.33 s of video; the WAV lasts 3.29 s */
#define N_CEPS 13

/* The reference MFCC and log energy of tests/golden/speech (torchaudio,
 * Kaldi-compatible, 10-ms frames): [n_rows][N_CEPS + 1]. */
static gdouble *
load_speech_reference (guint *n_rows)
{
  gchar *path = g_build_filename (g_getenv ("AFFECT_TEST_SRCDIR"), "golden",
      "speech", "austen-0930.json", NULL);
  JsonParser *parser = json_parser_new ();
  GError *err = NULL;
  JsonObject *root, *c = NULL;
  JsonArray *cases, *mfcc, *energy;
  gdouble *ref;
  guint i, j;

  fail_unless (json_parser_load_from_file (parser, path, &err), "%s: %s", path,
      err ? err->message : "?");
  root = json_node_get_object (json_parser_get_root (parser));
  cases = json_object_get_array_member (root, "cases");
  for (i = 0; i < json_array_get_length (cases); i++) {
    JsonObject *o = json_array_get_object_element (cases, i);

    if (g_strcmp0 (json_object_get_string_member (o, "name"), "default") == 0)
      c = o;
  }
  fail_unless (c != NULL, "%s: no default case", path);
  mfcc = json_object_get_array_member (c, "mfcc");
  energy = json_object_get_array_member (c, "log_energy");
  *n_rows = json_array_get_length (mfcc);
  fail_unless_equals_int (json_array_get_length (energy), *n_rows);
  ref = g_new (gdouble, (gsize)*n_rows * (N_CEPS + 1));
  for (i = 0; i < *n_rows; i++) {
    JsonArray *row = json_array_get_array_element (mfcc, i);

    fail_unless_equals_int (json_array_get_length (row), N_CEPS);
    for (j = 0; j < N_CEPS; j++)
      ref[i * (N_CEPS + 1) + j] = json_array_get_double_element (row, j);
    ref[i * (N_CEPS + 1) + N_CEPS] = json_array_get_double_element (energy, i);
  }
  g_object_unref (parser);
  g_free (path);
  return ref;
}

/* A real recording (16 kHz S16 mono WAV) through filesrc ! wavparse: each
 * frame's f_spe is the mean of the torchaudio reference frames (25-ms
 * windows every 10 ms) whose centre lies in the video frame. */
GST_START_TEST (test_speech_wavparse)
{
  GArray *frames;
  gdouble *ref;
  guint n_rows, i, j, n_spe = 0;
  gchar *wav, *audio;
  gdouble worst = 0.0;
  RunOptions opts = {
    WAV_FRAMES,
  };

  if (!have_plugins ("test_speech_wavparse"))
    return;
  if (!affect_check_load_system_plugin ("libgstwavparse.so")) {
    /* gst-plugins-good is installed by tests/setup-and-run.sh */
    fail_if (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") == 0,
        "wavparse not found");
    g_print ("SKIP test_speech_wavparse: wavparse not found\n");
    return;
  }

  ref = load_speech_reference (&n_rows);
  wav = g_build_filename (g_getenv ("AFFECT_TEST_SRCDIR"), "golden", "speech",
      "austen-0930.wav", NULL);
  audio = g_strdup_printf ("filesrc location=\"%s\" ! wavparse ! f.audio", wav);
  frames = run_pipeline_full (audio, NULL, &opts);

  for (i = 0; i < frames->len; i++) {
    FrameResult *r = &g_array_index (frames, FrameResult, i);
    GstClockTime start = gst_util_uint64_scale (i, GST_SECOND, 30);
    GstClockTime end = gst_util_uint64_scale (i + 1, GST_SECOND, 30);
    gdouble mean[N_CEPS + 1] = { 0 };
    guint n = 0, k;

    fail_unless_equals_uint64 (r->pts, start);
    fail_unless (r->has_meta, "frame %u: no features meta", i);
    for (k = 0; k < n_rows; k++) {
      /* frame k: samples [160 k, 160 k + 400), centre 160 k + 200 */
      GstClockTime centre
          = gst_util_uint64_scale (160 * k + 200, GST_SECOND, 16000);

      if (centre < start || centre >= end)
        continue;
      for (j = 0; j <= N_CEPS; j++)
        mean[j] += ref[k * (N_CEPS + 1) + j];
      n++;
    }
    if (n == 0) {
      fail_unless (!r->has_spe, "frame %u: speech features without audio", i);
      continue;
    }
    fail_unless (r->has_spe, "frame %u: no speech features", i);
    fail_unless_equals_int (r->spe_size, N_SPE);
    n_spe++;
    for (j = 0; j <= N_CEPS; j++) {
      gdouble d = fabs (r->spe[j] - mean[j] / n);

      worst = MAX (worst, d);
      fail_unless (d <= 1e-3, "frame %u, value %u: %f, reference %f", i, j,
          r->spe[j], mean[j] / n);
    }
  }
  GST_INFO ("%u frames with speech, max |diff| %g", n_spe, worst);
  /* every reference frame was used: 3.29 s of speech = frames 0 to 98 */
  fail_unless_equals_int (n_spe, 99);

  g_array_unref (frames);
  g_free (ref);
  g_free (audio);
  g_free (wav);
}

GST_END_TEST;

/* ---- a discontinuity inside the audio --------------------------------- */

/* Shifts every audio buffer from the 6th on by 300 ms, the first of them
 * flagged DISCONT: a hole in the audio without a GAP. */
static GstPadProbeReturn
shift_audio_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  guint *count = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  if ((*count)++ < 5)
    return GST_PAD_PROBE_OK;
  buf = gst_buffer_make_writable (buf);
  GST_BUFFER_PTS (buf) += 300 * GST_MSECOND;
  if (*count == 6)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  return GST_PAD_PROBE_OK;
}

/* Audio [0, 500 ms), a hole, then [800, 1300 ms) (48 kHz stereo, 100-ms
 * buffers): speech on the frames of both pieces, none in the hole, and the
 * second piece is timed from its own time stamps. */
GST_START_TEST (test_speech_discont)
{
  GArray *frames;
  guint i, count = 0, in_hole = 0, after = 0;
  RunOptions opts = {
    40,
  };

  if (!have_plugins ("test_speech_discont"))
    return;

  opts.aprobe = shift_audio_probe;
  opts.aprobe_data = &count;
  frames = run_pipeline_full (
      "audiotestsrc num-buffers=10 samplesperbuffer=4800 freq=220 "
      "volume=0.5 ! audio/x-raw,format=F32LE,rate=48000,channels=2 ! f.audio",
      NULL, &opts);
  for (i = 0; i < frames->len; i++) {
    FrameResult *r = &g_array_index (frames, FrameResult, i);
    GstClockTime end = r->pts + GST_SECOND / 30;

    fail_unless (r->has_meta, "frame %u: no features meta", i);
    if (r->pts >= 100 * GST_MSECOND && end <= 480 * GST_MSECOND)
      check_speech_frame (r, i, 220.0);
    if (r->pts >= 500 * GST_MSECOND && end <= 800 * GST_MSECOND) {
      fail_unless (!r->has_spe, "frame %u: speech in the hole", i);
      in_hole++;
    }
    if (r->pts >= 900 * GST_MSECOND && end <= 1280 * GST_MSECOND) {
      check_speech_frame (r, i, 220.0);
      after++;
    }
    if (r->pts >= 1300 * GST_MSECOND)
      fail_unless (!r->has_spe, "frame %u: speech after the audio", i);
  }
  fail_unless (in_hole >= 8);
  fail_unless (after >= 10);
  g_array_unref (frames);
}

GST_END_TEST;

/* ---- live sources ---------------------------------------------------- */

/* Live video and live audio, synchronised to the clock: the latency query
 * answers (live, with the speech branch's latency), every frame comes out
 * and the frames after the start carry speech. */
GST_START_TEST (test_live_audio)
{
  GArray *frames;
  guint i, n_spe = 0;
  RunOptions opts = {
    30,
    TRUE,
  };

  if (!have_plugins ("test_live_audio"))
    return;

  frames = run_pipeline_full (
      "audiotestsrc is-live=true samplesperbuffer=480 freq=220 volume=0.5 ! "
      "audio/x-raw,format=S16LE,rate=48000,channels=1 ! f.audio",
      NULL, &opts);
  fail_unless (opts.latency_live);
  /* the speech branch needs ~190 ms of audio past each frame */
  fail_unless (opts.min_latency >= 150 * GST_MSECOND,
      "latency %" GST_TIME_FORMAT, GST_TIME_ARGS (opts.min_latency));
  for (i = 0; i < frames->len; i++) {
    FrameResult *r = &g_array_index (frames, FrameResult, i);

    fail_unless (r->has_meta, "frame %u: no features meta", i);
    if (r->has_spe) {
      n_spe++;
      fail_unless (
          r->spe[13] > 10.0f, "frame %u: log energy %f", i, r->spe[13]);
    }
  }
  /* a live source starts at the pipeline's running time: the first frames
   * may miss some audio, the rest has it */
  fail_unless (n_spe >= 20, "%u frames with speech", n_spe);
  g_array_unref (frames);
}

GST_END_TEST;

/* A live pipeline whose audio source never delivers a buffer: the
 * aggregator's timeout lets the video through, without speech. (appsrc
 * reports a maximum latency of 0, which no aggregator can honour: as with
 * any GstAggregator, a queue after it provides the buffering.) */
GST_START_TEST (test_live_silent_audio_source)
{
  GArray *frames;
  guint i;
  RunOptions opts = {
    15,
    TRUE,
  };

  if (!have_plugins ("test_live_silent_audio_source"))
    return;
  if (!affect_check_load_system_plugin ("libgstapp.so")) {
    g_print ("SKIP test_live_silent_audio_source: appsrc not found\n");
    return;
  }

  frames = run_pipeline_full (
      "appsrc is-live=true format=time "
      "caps=audio/x-raw,format=S16LE,rate=16000,channels=1,"
      "layout=interleaved ! queue ! f.audio",
      NULL, &opts);
  fail_unless (opts.latency_live);
  for (i = 0; i < frames->len; i++) {
    FrameResult *r = &g_array_index (frames, FrameResult, i);

    fail_unless (r->has_meta, "frame %u: no features meta", i);
    fail_unless (!r->has_spe, "frame %u: speech from nowhere", i);
  }
  g_array_unref (frames);
}

GST_END_TEST;

/* Without an audio pad nothing changes: branches=speech adds nothing. */
GST_START_TEST (test_no_audio_pad)
{
  GArray *frames;
  guint i;

  if (!have_plugins ("test_no_audio_pad"))
    return;

  frames = run_pipeline (NULL, NULL);
  for (i = 0; i < frames->len; i++) {
    FrameResult *r = &g_array_index (frames, FrameResult, i);

    fail_unless (!r->has_meta, "frame %u: features without any branch", i);
    fail_unless_equals_uint64 (
        r->pts, gst_util_uint64_scale (i, GST_SECOND, 30));
  }
  g_array_unref (frames);
}

GST_END_TEST;

/* A requested audio pad that is not linked: an absent modality, and the
 * pipeline does not wait for it. */
GST_START_TEST (test_unlinked_audio_pad)
{
  GArray *frames;
  guint i;

  if (!have_plugins ("test_unlinked_audio_pad"))
    return;

  frames = run_pipeline ("unlinked", NULL);
  for (i = 0; i < frames->len; i++) {
    FrameResult *r = &g_array_index (frames, FrameResult, i);

    fail_unless (r->has_meta, "frame %u: no features meta", i);
    fail_unless (!r->has_spe, "frame %u: speech without audio", i);
  }
  g_array_unref (frames);
}

GST_END_TEST;

/* The audio pad can be requested, released and requested again. */
GST_START_TEST (test_request_release)
{
  GstElement *f = gst_element_factory_make ("affectfeatures", NULL);
  GstPad *a, *b;

  fail_unless (f != NULL);
  a = gst_element_request_pad_simple (f, "audio");
  fail_unless (a != NULL);
  fail_unless_equals_string (GST_PAD_NAME (a), "audio");
  gst_element_release_request_pad (f, a);
  gst_object_unref (a);
  b = gst_element_request_pad_simple (f, "audio");
  fail_unless (b != NULL);
  gst_object_unref (b);
  gst_object_unref (f);
}

GST_END_TEST;

/* affectsink features=true writes "spe" on the frames with audio only. */
GST_START_TEST (test_affectsink_jsonl)
{
  gchar *dir, *path, *sink, *contents = NULL, **lines;
  GArray *frames;
  guint i, n_lines = 0, with_spe = 0, early_spe = 0, late_spe = 0;

  if (!have_plugins ("test_affectsink_jsonl"))
    return;

  dir = g_dir_make_tmp ("affectfeatures-av-XXXXXX", NULL);
  fail_unless (dir != NULL);
  path = g_build_filename (dir, "f.jsonl", NULL);
  sink = g_strdup_printf ("affectsink features=true location=%s", path);
  frames = run_pipeline (
      "audiotestsrc num-buffers=24 samplesperbuffer=1024 freq=220 "
      "volume=0.5 ! audio/x-raw,format=F32LE,rate=48000,channels=2 ! f.audio",
      sink);
  g_array_unref (frames);

  fail_unless (g_file_get_contents (path, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (i = 0; lines[i]; i++) {
    gboolean spe;

    if (lines[i][0] == '\0')
      continue;
    spe = strstr (lines[i], "\"spe\"") != NULL;
    with_spe += spe;
    if (n_lines >= 3 && n_lines < 14)
      early_spe += spe;
    if (n_lines >= 16)
      late_spe += spe;
    n_lines++;
  }
  fail_unless_equals_int (n_lines, N_FRAMES);
  fail_unless_equals_int (early_spe, 11);
  fail_unless_equals_int (late_spe, 0);
  fail_unless (with_spe >= 14);

  g_strfreev (lines);
  g_free (contents);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (sink);
  g_free (dir);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Text pad                                                            */
/* ------------------------------------------------------------------ */

#define HIDDEN 384

typedef struct {
  GMutex lock;
  GArray *frames; /* WordResult */
} WordResults;

typedef struct {
  GstClockTime pts;
  gboolean has_meta, has_wrd;
  guint size;
  gfloat wrd[HIDDEN];
} WordResult;

static GstPadProbeReturn
collect_words_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  WordResults *res = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstAffectFeaturesMeta *meta;
  WordResult r = {
    0,
  };

  r.pts = GST_BUFFER_PTS (buf);
  meta = gst_buffer_get_affect_features_meta_by_track (buf, 7);
  if (meta) {
    const gfloat *v;

    r.has_meta = TRUE;
    v = gst_affect_features_meta_get (meta, GST_AFFECT_BRANCH_WORDS, &r.size);
    if (v && r.size == HIDDEN) {
      r.has_wrd = TRUE;
      memcpy (r.wrd, v, sizeof (gfloat) * HIDDEN);
    }
  }
  g_mutex_lock (&res->lock);
  g_array_append_val (res->frames, r);
  g_mutex_unlock (&res->lock);
  return GST_PAD_PROBE_OK;
}

/* The word model, or NULL with a SKIP message (a failure when
 * AFFECT_REQUIRE_MODELS=1). */
static gchar *
word_model (const gchar *test)
{
  GError *err = NULL;
  gchar *dir = affect_bert_find (NULL, &err);

  if (dir == NULL) {
    fail_if (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") == 0,
        "word model missing: %s", err->message);
    g_print ("SKIP %s: no word model; run affect-fetch-word-model "
             "(models/text/fetch-word-model.sh) (%s)\n",
        test, err->message);
    g_clear_error (&err);
  }
  return dir;
}

/* The mean of the hidden states of the pieces of each word of @text. */
static gfloat *
reference_words (const gchar *dir, const gchar *text, guint *n_words)
{
  AffectBackend *backend = affect_backend_cpu_new (1);
  AffectBert *bert;
  AffectBertText *t;
  GError *err = NULL;
  gfloat *out;
  guint i, j, n = 0;

  bert = affect_bert_new (backend, dir, &err);
  fail_unless (bert != NULL, "%s", err ? err->message : "?");
  t = affect_bert_embed_text (bert, text, -1, &err);
  fail_unless (t != NULL, "%s", err ? err->message : "?");
  fail_unless_equals_int (t->hidden_size, HIDDEN);
  out = g_new0 (gfloat, (gsize)t->tokens->n_tokens * HIDDEN);
  for (i = 0; i < t->tokens->n_tokens;) {
    gint32 ws = t->tokens->word_start[i];
    guint pieces = 0;

    if (ws < 0) {
      i++;
      continue;
    }
    for (; i < t->tokens->n_tokens && t->tokens->word_start[i] == ws; i++) {
      for (j = 0; j < HIDDEN; j++)
        out[n * HIDDEN + j] += t->hidden[(gsize)i * HIDDEN + j];
      pieces++;
    }
    for (j = 0; j < HIDDEN; j++)
      out[n * HIDDEN + j] /= pieces;
    n++;
  }
  affect_bert_text_free (t);
  affect_bert_free (bert);
  affect_backend_unref (backend);
  *n_words = n;
  return out;
}

static gdouble
max_diff (const gfloat *a, const gfloat *b)
{
  gdouble m = 0;
  guint j;

  for (j = 0; j < HIDDEN; j++)
    m = MAX (m, fabs ((gdouble)a[j] - b[j]));
  return m;
}

static GstBuffer *
cue (const gchar *text, gsize len, GstClockTime pts, GstClockTime dur)
{
  GstBuffer *buf = gst_buffer_new_memdup (text, len);

  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = dur;
  return buf;
}

/* Runs video + @text_src (ending in "! f.text") with branches=words;
 * @app: cues pushed into the appsrc named "t" before the pipeline starts.
 * Returns the frames; *n_warnings counts the WARNING messages. */
static GArray *
run_text_pipeline (
    const gchar *text_src, GstBuffer **app, guint n_app, guint *n_warnings)
{
  GstElement *pipeline, *f;
  GstPad *vpad, *srcpad;
  GstBus *bus;
  GError *err = NULL;
  WordResults res;
  gchar *desc;
  gboolean done = FALSE;
  guint i;

  g_mutex_init (&res.lock);
  res.frames = g_array_new (FALSE, TRUE, sizeof (WordResult));
  *n_warnings = 0;

  desc = g_strdup_printf (
      "videotestsrc num-buffers=%d ! "
      "video/x-raw,format=I420,width=64,height=48,framerate=30/1 ! "
      "f.video affectfeatures name=f branches=words ! fakesink sync=false "
      "%s",
      N_FRAMES, text_src);
  pipeline = gst_parse_launch (desc, &err);
  fail_unless (pipeline != NULL, "%s: %s", desc, err ? err->message : "?");
  g_free (desc);

  if (n_app > 0) {
    GstElement *t = gst_bin_get_by_name (GST_BIN (pipeline), "t");
    GstFlowReturn fret;

    for (i = 0; i < n_app; i++) {
      g_signal_emit_by_name (t, "push-buffer", app[i], &fret);
      gst_buffer_unref (app[i]);
    }
    g_signal_emit_by_name (t, "end-of-stream", &fret);
    gst_object_unref (t);
  }

  f = gst_bin_get_by_name (GST_BIN (pipeline), "f");
  vpad = gst_element_get_static_pad (f, "video");
  gst_pad_add_probe (
      vpad, GST_PAD_PROBE_TYPE_BUFFER, add_face_probe, NULL, NULL);
  srcpad = gst_element_get_static_pad (f, "src");
  gst_pad_add_probe (
      srcpad, GST_PAD_PROBE_TYPE_BUFFER, collect_words_probe, &res, NULL);

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING)
               != GST_STATE_CHANGE_FAILURE);
  bus = gst_element_get_bus (pipeline);
  while (!done) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 300 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);

    fail_unless (msg != NULL, "no EOS: the pipeline stalled");
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_ERROR: {
        gchar *dbg = NULL;

        gst_message_parse_error (msg, &err, &dbg);
        fail ("error: %s (%s)", err->message, dbg ? dbg : "");
        break;
      }
      case GST_MESSAGE_WARNING:
        (*n_warnings)++;
        break;
      default:
        done = TRUE;
        break;
    }
    gst_message_unref (msg);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);

  gst_object_unref (bus);
  gst_object_unref (vpad);
  gst_object_unref (srcpad);
  gst_object_unref (f);
  gst_object_unref (pipeline);
  g_mutex_clear (&res.lock);

  fail_unless_equals_int (res.frames->len, N_FRAMES);
  return res.frames;
}

static gboolean
have_text_plugins (const gchar *test)
{
  if (affect_check_load_system_plugin ("libgstvideotestsrc.so")
      && affect_check_load_system_plugin ("libgstapp.so")
      && affect_check_load_system_plugin ("libgstsubparse.so")
      && affect_check_load_system_plugin ("libgstcoreelements.so"))
    return TRUE;
  g_print ("SKIP %s: videotestsrc, appsrc, subparse or the core elements "
           "not found (set AFFECT_TEST_SYSTEM_PLUGIN_DIR)\n",
      test);
  return FALSE;
}

/* subparse matches with GRegex, whose PCRE2 JIT code makes valgrind report
 * uninitialised reads in the subparse thread (frames "???", not ours): the
 * subparse tests are skipped under valgrind; the appsrc test covers the
 * same code of affectfeatures there. */
static gboolean
skip_subparse_under_valgrind (const gchar *test)
{
  if (g_getenv ("AFFECT_UNDER_VALGRIND") == NULL)
    return FALSE;
  g_print ("SKIP %s under valgrind (subparse's GRegex JIT)\n", test);
  return TRUE;
}

/* Frame @i's middle lies in [a, b) seconds. */
static gboolean
mid_in (guint i, gdouble a, gdouble b)
{
  gdouble mid = i / 30.0 + 1 / 60.0;

  return mid >= a && mid < b;
}

/* Cues pushed before the video starts (one after the end of the video):
 * the words spread over the cue; an invalid UTF-8 cue is skipped with a
 * warning; pango markup is stripped. */
GST_START_TEST (test_words_appsrc)
{
  gchar *dir;
  gfloat *ref, *ref_m;
  guint n_ref, n_ref_m, i, n_warnings;
  GstBuffer *cues[4];
  GArray *frames;
  static const gchar bad[] = "caf\xc3 \xff\xfe bad";

  if (!have_text_plugins ("test_words_appsrc")
      || !(dir = word_model ("test_words_appsrc")))
    return;
  ref = reference_words (dir, "hello world", &n_ref);
  fail_unless_equals_int (n_ref, 2);
  ref_m = reference_words (dir, "bold words", &n_ref_m);
  fail_unless_equals_int (n_ref_m, 2);

  cues[0] = cue ("hello world", 11, 200 * GST_MSECOND, 400 * GST_MSECOND);
  cues[1] = cue (bad, sizeof (bad) - 1, 650 * GST_MSECOND, 150 * GST_MSECOND);
  cues[2] = cue ("<b>bold</b> words", 17, 790 * GST_MSECOND, 100 * GST_MSECOND);
  cues[3] = cue ("after the video", 15, 5 * GST_SECOND, GST_SECOND);
  frames = run_text_pipeline ("appsrc name=t format=time "
                              "caps=text/x-raw,format=pango-markup ! f.text",
      cues, 4, &n_warnings);
  fail_unless_equals_int (n_warnings, 1);

  for (i = 0; i < frames->len; i++) {
    WordResult *r = &g_array_index (frames, WordResult, i);

    fail_unless (r->has_meta, "frame %u: no features meta", i);
    if (mid_in (i, 0.2, 0.4)) {
      fail_unless (r->has_wrd, "frame %u: no word", i);
      fail_unless (max_diff (r->wrd, ref) < 1e-5, "frame %u: not 'hello'", i);
    } else if (mid_in (i, 0.4, 0.6)) {
      fail_unless (r->has_wrd, "frame %u: no word", i);
      fail_unless (
          max_diff (r->wrd, ref + HIDDEN) < 1e-5, "frame %u: not 'world'", i);
    } else if (mid_in (i, 0.79, 0.84)) {
      fail_unless (r->has_wrd, "frame %u: no word", i);
      fail_unless (max_diff (r->wrd, ref_m) < 1e-5, "frame %u: not 'bold'", i);
    } else if (mid_in (i, 0.84, 0.89)) {
      fail_unless (r->has_wrd, "frame %u: no word", i);
      fail_unless (
          max_diff (r->wrd, ref_m + HIDDEN) < 1e-5, "frame %u: not 'words'", i);
    } else {
      fail_unless (!r->has_wrd, "frame %u: a word outside the cues", i);
    }
  }
  fail_unless (max_diff (ref, ref + HIDDEN) > 1e-3);
  g_array_unref (frames);
  g_free (ref);
  g_free (ref_m);
  g_free (dir);
}

GST_END_TEST;

/* The mean of the hidden states of every word piece of @text (the
 * embedding of a one-word buffer, whatever the basic tokenizer makes of
 * it: "Hello," is two words there, "don't" three). */
static gfloat *
reference_one_word (const gchar *dir, const gchar *text)
{
  AffectBackend *backend = affect_backend_cpu_new (1);
  AffectBert *bert;
  AffectBertText *t;
  GError *err = NULL;
  gfloat *out = g_new0 (gfloat, HIDDEN);
  guint i, j, pieces = 0;

  bert = affect_bert_new (backend, dir, &err);
  fail_unless (bert != NULL, "%s", err ? err->message : "?");
  t = affect_bert_embed_text (bert, text, -1, &err);
  fail_unless (t != NULL, "%s", err ? err->message : "?");
  for (i = 0; i < t->tokens->n_tokens; i++) {
    if (t->tokens->word_start[i] < 0)
      continue;
    for (j = 0; j < HIDDEN; j++)
      out[j] += t->hidden[(gsize)i * HIDDEN + j];
    pieces++;
  }
  fail_unless (pieces > 0);
  for (j = 0; j < HIDDEN; j++)
    out[j] /= pieces;
  affect_bert_text_free (t);
  affect_bert_free (bert);
  affect_backend_unref (backend);
  return out;
}

typedef struct {
  GstHarness *th;
  GstBuffer **bufs;
  guint n;
} TextPusher;

/* Pushes the text buffers, then EOS, from its own thread: a zero-latency
 * aggregator pad takes the next buffer only once the frames have consumed
 * the one it holds. */
static gpointer
push_text_thread (gpointer data)
{
  TextPusher *p = data;
  guint i;

  for (i = 0; i < p->n; i++)
    fail_unless_equals_int (gst_harness_push (p->th, p->bufs[i]), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (p->th, gst_event_new_eos ()));
  return NULL;
}

#define WORDS_FPS 100
#define WORDS_N_FRAMES 140

/* GstHarness, video at 100 frames/s (frame i's middle at 10·i + 5 ms),
 * text buffers of one word each at irregular times (as affecttranscribe
 * granularity=word sends them), then a cue of two words: each one-word
 * buffer's word covers exactly [pts, pts + duration) with the embedding of
 * the whole word (not spread over the words of the basic tokenizer); the
 * cue's words are spread evenly as before. */
GST_START_TEST (test_words_one_per_buffer)
{
  static const struct {
    const gchar *text;
    guint start_ms, dur_ms;
  } words[] = {
    { "Hello,", 130, 240 },        /* two basic-tokenizer words */
    { "don't", 370, 40 },          /* three, and only 40 ms */
    { "  world\n", 655, 360 },     /* white space around */
    { "good morning", 1100, 200 }, /* a cue: spread */
  };
  GstElement *e;
  GstHarness *h, *th;
  GstBuffer *bufs[G_N_ELEMENTS (words)];
  TextPusher pusher;
  GThread *thread;
  gfloat *one[3], *cue_ref, *hello_ref;
  guint n_cue, n_hello, i, k;
  gchar *dir;

  if (!(dir = word_model ("test_words_one_per_buffer")))
    return;
  for (k = 0; k < 3; k++)
    one[k] = reference_one_word (dir, words[k].text);
  cue_ref = reference_words (dir, "good morning", &n_cue);
  fail_unless_equals_int (n_cue, 2);
  /* the old rule would have given "hello" then "," over "Hello,"'s span */
  hello_ref = reference_words (dir, "Hello,", &n_hello);
  fail_unless_equals_int (n_hello, 2);
  fail_unless (max_diff (one[0], hello_ref) > 1e-3);
  fail_unless (max_diff (one[0], hello_ref + HIDDEN) > 1e-3);

  e = gst_element_factory_make ("affectfeatures", NULL);
  fail_unless (e != NULL, "affectfeatures not found");
  gst_util_set_object_arg (G_OBJECT (e), "branches", "words");
  h = gst_harness_new_with_element (e, "video", "src");
  th = gst_harness_new_with_element (e, "text", NULL);
  gst_object_unref (e);
  gst_harness_set_src_caps_str (
      h, "video/x-raw,format=I420,width=64,height=48,framerate=100/1");
  gst_harness_set_src_caps_str (th, "text/x-raw,format=utf8");

  for (k = 0; k < G_N_ELEMENTS (words); k++)
    bufs[k] = cue (words[k].text, strlen (words[k].text),
        words[k].start_ms * GST_MSECOND, words[k].dur_ms * GST_MSECOND);
  pusher.th = th;
  pusher.bufs = bufs;
  pusher.n = G_N_ELEMENTS (words);
  thread = g_thread_new ("text", push_text_thread, &pusher);

  for (i = 0; i < WORDS_N_FRAMES; i++) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, 64 * 48 * 3 / 2, NULL);
    GstAffectFeaturesMeta *meta;
    const gfloat *v;
    guint size = 0, mid = 10 * i + 5;
    const gfloat *want = NULL;
    const gchar *what = "nothing";

    gst_buffer_memset (buf, 0, 128, 64 * 48 * 3 / 2);
    GST_BUFFER_PTS (buf) = i * GST_SECOND / WORDS_FPS;
    GST_BUFFER_DURATION (buf) = GST_SECOND / WORDS_FPS;
    gst_buffer_add_affect_face_meta (buf, 7, 8, 8, 32, 32, 0.9f);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    buf = gst_harness_pull (h);
    fail_unless (buf != NULL, "frame %u: no output", i);

    for (k = 0; k < 3; k++)
      if (mid >= words[k].start_ms
          && mid < words[k].start_ms + words[k].dur_ms) {
        want = one[k];
        what = words[k].text;
      }
    if (mid >= 1100 && mid < 1200) {
      want = cue_ref;
      what = "good";
    } else if (mid >= 1200 && mid < 1300) {
      want = cue_ref + HIDDEN;
      what = "morning";
    }

    meta = gst_buffer_get_affect_features_meta_by_track (buf, 7);
    fail_unless (meta != NULL, "frame %u: no features meta", i);
    v = gst_affect_features_meta_get (meta, GST_AFFECT_BRANCH_WORDS, &size);
    if (want == NULL) {
      fail_unless (
          v == NULL, "frame %u (%u ms): a word outside the words", i, mid);
    } else {
      fail_unless (
          v != NULL, "frame %u (%u ms): no word, expected '%s'", i, mid, what);
      fail_unless_equals_int (size, HIDDEN);
      fail_unless (max_diff (v, want) < 1e-5,
          "frame %u (%u ms): not '%s' (max |d| %g)", i, mid, what,
          max_diff (v, want));
    }
    gst_buffer_unref (buf);
  }
  g_thread_join (thread);

  gst_harness_teardown (th);
  gst_harness_teardown (h);
  for (k = 0; k < 3; k++)
    g_free (one[k]);
  g_free (cue_ref);
  g_free (hello_ref);
  g_free (dir);
}

GST_END_TEST;

/* An SRT through subparse, one cue with invalid UTF-8 bytes (subparse
 * converts or drops them: no crash, the valid cue still gives words). */
GST_START_TEST (test_words_srt)
{
  gchar *dir, *tmp, *path, *src;
  gfloat *ref;
  guint n_ref, i, n_warnings, with_wrd = 0;
  GArray *frames;
  static const gchar srt[]
      = "1\n00:00:00,200 --> 00:00:00,600\nhello world\n\n"
        "2\n00:00:00,700 --> 00:00:00,900\nbad \xff\xfe\xc3 text\n\n";

  if (skip_subparse_under_valgrind ("test_words_srt"))
    return;
  if (!have_text_plugins ("test_words_srt")
      || !(dir = word_model ("test_words_srt")))
    return;
  ref = reference_words (dir, "hello world", &n_ref);

  tmp = g_dir_make_tmp ("affectfeatures-srt-XXXXXX", NULL);
  path = g_build_filename (tmp, "a.srt", NULL);
  fail_unless (g_file_set_contents (path, srt, sizeof (srt) - 1, NULL));
  src = g_strdup_printf ("filesrc location=%s ! subparse ! f.text", path);
  frames = run_text_pipeline (src, NULL, 0, &n_warnings);

  for (i = 0; i < frames->len; i++) {
    WordResult *r = &g_array_index (frames, WordResult, i);

    with_wrd += r->has_wrd;
    if (mid_in (i, 0.2, 0.4))
      fail_unless (r->has_wrd && max_diff (r->wrd, ref) < 1e-5,
          "frame %u: not 'hello'", i);
    else if (mid_in (i, 0.4, 0.6))
      fail_unless (r->has_wrd && max_diff (r->wrd, ref + HIDDEN) < 1e-5,
          "frame %u: not 'world'", i);
    else if (!mid_in (i, 0.7, 0.9))
      fail_unless (!r->has_wrd, "frame %u: a word outside the cues", i);
  }
  fail_unless (with_wrd >= 12);

  g_array_unref (frames);
  g_unlink (path);
  g_rmdir (tmp);
  g_free (path);
  g_free (tmp);
  g_free (src);
  g_free (ref);
  g_free (dir);
}

GST_END_TEST;

/* Audio, text and video together: the JSONL of affectsink features=true has
 * "spe" on the frames with audio and "wrd" on the frames with a word. */
GST_START_TEST (test_jsonl_speech_and_words)
{
  gchar *dir, *tmp, *srt_path, *jsonl, *desc, *contents = NULL, **lines;
  GstElement *pipeline, *f;
  GstPad *vpad;
  GstBus *bus;
  GstMessage *msg;
  GError *err = NULL;
  guint i, n = 0, n_spe = 0, n_wrd = 0;
  static const gchar srt[]
      = "1\n00:00:00,200 --> 00:00:00,600\nhello world\n\n";

  if (skip_subparse_under_valgrind ("test_jsonl_speech_and_words"))
    return;
  if (!have_plugins ("test_jsonl_speech_and_words")
      || !have_text_plugins ("test_jsonl_speech_and_words")
      || !(dir = word_model ("test_jsonl_speech_and_words")))
    return;

  tmp = g_dir_make_tmp ("affectfeatures-av-XXXXXX", NULL);
  srt_path = g_build_filename (tmp, "a.srt", NULL);
  jsonl = g_build_filename (tmp, "f.jsonl", NULL);
  fail_unless (g_file_set_contents (srt_path, srt, sizeof (srt) - 1, NULL));
  desc = g_strdup_printf (
      "videotestsrc num-buffers=%d ! "
      "video/x-raw,format=I420,width=64,height=48,framerate=30/1 ! "
      "f.video affectfeatures name=f branches=speech+words ! "
      "affectsink features=true location=%s "
      "audiotestsrc num-buffers=24 samplesperbuffer=1024 freq=220 "
      "volume=0.5 ! audio/x-raw,format=F32LE,rate=48000,channels=2 ! f.audio "
      "filesrc location=%s ! subparse ! f.text",
      N_FRAMES, jsonl, srt_path);
  pipeline = gst_parse_launch (desc, &err);
  fail_unless (pipeline != NULL, "%s", err ? err->message : "?");
  f = gst_bin_get_by_name (GST_BIN (pipeline), "f");
  vpad = gst_element_get_static_pad (f, "video");
  gst_pad_add_probe (
      vpad, GST_PAD_PROBE_TYPE_BUFFER, add_face_probe, NULL, NULL);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING)
               != GST_STATE_CHANGE_FAILURE);
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (
      bus, 300 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no EOS: the pipeline stalled");
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  fail_unless (g_file_get_contents (jsonl, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (i = 0; lines[i]; i++) {
    gboolean spe, wrd;

    if (lines[i][0] == '\0')
      continue;
    spe = strstr (lines[i], "\"spe\"") != NULL;
    wrd = strstr (lines[i], "\"wrd\"") != NULL;
    /* frames 6..17 have their middle inside the cue */
    fail_unless (wrd == (n >= 6 && n <= 17), "line %u: wrd %d", n, wrd);
    if (n >= 3 && n < 14)
      fail_unless (spe, "line %u: no spe", n);
    if (n >= 16)
      fail_unless (!spe, "line %u: spe after the audio", n);
    n_spe += spe;
    n_wrd += wrd;
    n++;
  }
  fail_unless_equals_int (n, N_FRAMES);
  fail_unless_equals_int (n_wrd, 12);

  g_strfreev (lines);
  g_free (contents);
  gst_object_unref (vpad);
  gst_object_unref (f);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_unlink (srt_path);
  g_unlink (jsonl);
  g_rmdir (tmp);
  g_free (srt_path);
  g_free (jsonl);
  g_free (tmp);
  g_free (desc);
  g_free (dir);
}

GST_END_TEST;

/* The src caps come from the video input only: linking the src pad after
 * the audio pad (affectfeatures declared last in a launch line) works, and
 * the audio pad's caps do not depend on the video. */
GST_START_TEST (test_caps_after_audio_link)
{
  GstElement *pipeline;
  GstElement *f;
  GstPad *apad, *srcpad;
  GstCaps *caps;
  GstBus *bus;
  GstMessage *msg;
  GError *err = NULL;

  if (!have_plugins ("test_caps_after_audio_link"))
    return;

  pipeline = gst_parse_launch (
      "videotestsrc num-buffers=5 ! video/x-raw,format=I420,width=64,"
      "height=48,framerate=30/1 ! f.video "
      "audiotestsrc num-buffers=5 ! audio/x-raw,format=F32LE ! f.audio "
      "affectfeatures name=f branches=speech ! fakesink",
      &err);
  fail_unless (pipeline != NULL, "%s", err ? err->message : "?");
  fail_unless (err == NULL, "%s", err ? err->message : "?");

  f = gst_bin_get_by_name (GST_BIN (pipeline), "f");
  srcpad = gst_element_get_static_pad (f, "src");
  caps = gst_pad_query_caps (srcpad, NULL);
  fail_unless (!gst_caps_is_empty (caps));
  fail_unless (
      gst_structure_has_name (gst_caps_get_structure (caps, 0), "video/x-raw"));
  gst_caps_unref (caps);
  apad = gst_element_get_static_pad (f, "audio");
  caps = gst_pad_query_caps (apad, NULL);
  fail_unless (
      gst_structure_has_name (gst_caps_get_structure (caps, 0), "audio/x-raw"));
  gst_caps_unref (caps);

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING)
               != GST_STATE_CHANGE_FAILURE);
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (
      bus, 120 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (apad);
  gst_object_unref (srcpad);
  gst_object_unref (f);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* word-model: a folder that is not a BERT folder fails the start with an
 * error naming it; a real one is loaded at start. */
GST_START_TEST (test_word_model_property)
{
  GstElement *f;
  GstBus *bus;
  GstMessage *msg;
  GError *err = NULL;
  gchar *tmp, *dir, *value = NULL;

  f = gst_element_factory_make ("affectfeatures", NULL);
  fail_unless (f != NULL);
  g_object_get (f, "word-model", &value, NULL);
  fail_unless (value == NULL);

  tmp = g_dir_make_tmp ("affectfeatures-wm-XXXXXX", NULL);
  fail_unless (tmp != NULL);
  g_object_set (f, "word-model", tmp, "branches", 0, NULL);
  bus = gst_bus_new ();
  gst_element_set_bus (f, bus);
  fail_unless_equals_int (
      gst_element_set_state (f, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message");
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (err->domain == GST_RESOURCE_ERROR);
  fail_unless (
      strstr (err->message, tmp) != NULL, "message '%s'", err->message);
  g_clear_error (&err);
  gst_message_unref (msg);
  gst_element_set_state (f, GST_STATE_NULL);
  g_rmdir (tmp);

  dir = word_model ("test_word_model_property");
  if (dir != NULL) {
    g_object_set (f, "word-model", dir, NULL);
    g_object_get (f, "word-model", &value, NULL);
    fail_unless_equals_string (value, dir);
    g_free (value);
    fail_unless (gst_element_set_state (f, GST_STATE_PAUSED)
                 != GST_STATE_CHANGE_FAILURE);
    fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);
    gst_element_set_state (f, GST_STATE_NULL);
    g_free (dir);
  }
  gst_element_set_bus (f, NULL);
  gst_object_unref (bus);
  gst_object_unref (f);
  g_free (tmp);
}

GST_END_TEST;

/* Every frame has finite speech features of the usual size. */
static void
check_all_speech (GArray *frames, const gchar *what)
{
  guint i, j;

  fail_unless_equals_int (frames->len, N_FRAMES);
  for (i = 0; i < frames->len; i++) {
    FrameResult *r = &g_array_index (frames, FrameResult, i);

    fail_unless (r->has_meta, "%s: frame %u: no features meta", what, i);
    fail_unless (r->has_spe, "%s: frame %u: no speech features", what, i);
    fail_unless_equals_int (r->spe_size, N_SPE);
    for (j = 0; j < N_SPE; j++)
      fail_unless (isfinite (r->spe[j]), "%s: frame %u: value %u not finite",
          what, i, j);
  }
}

/* Extreme sample rates (issue 14): at rate=1 one buffer of 200 samples
 * becomes 3.2 M samples at 16 kHz, converted in pieces of about
 * AFFECT_SPEECH_MAX_BACKLOG output samples (four here) instead of one
 * allocation; at 4 MHz each 0.1-s buffer holds 400 000 samples. Both
 * complete with speech features on every video frame (the second with the
 * sine's F0). */
GST_START_TEST (test_speech_extreme_rates)
{
  GArray *frames;
  guint i;

  if (!have_plugins ("test_speech_extreme_rates"))
    return;

  frames = run_pipeline (
      "audiotestsrc num-buffers=1 samplesperbuffer=1024 freq=0.1 "
      "volume=0.5 ! audio/x-raw,format=F32LE,rate=1,channels=1 ! f.audio",
      NULL);
  check_all_speech (frames, "rate=1");
  g_array_unref (frames);

  frames = run_pipeline (
      "audiotestsrc num-buffers=11 samplesperbuffer=400000 freq=220 "
      "volume=0.5 ! audio/x-raw,format=S16LE,rate=4000000,channels=1 ! "
      "f.audio",
      NULL);
  check_all_speech (frames, "rate=4000000");
  for (i = 0; i < frames->len; i++) {
    FrameResult *r = &g_array_index (frames, FrameResult, i);

    if (r->pts >= 100 * GST_MSECOND)
      check_speech_frame (r, i, 220.0);
  }
  g_array_unref (frames);
}

GST_END_TEST;

/* More than 8 channels without a channel mask (issue 14): accepted as an
 * unpositioned layout and averaged to mono. audiotestsrc leaves the mask
 * out (0) above 8 channels and puts the same sine on every channel, so the
 * average is that sine: its F0 on every frame. Also 4 channels with an
 * explicit mask of 0 (unpositioned too). */
GST_START_TEST (test_speech_many_channels)
{
  const gchar *caps[] = {
    "channels=10",
    "channels=16",
    "channels=4,channel-mask=(bitmask)0",
  };
  guint c, i;

  if (!have_plugins ("test_speech_many_channels"))
    return;

  for (c = 0; c < G_N_ELEMENTS (caps); c++) {
    gchar *desc = g_strdup_printf (
        "audiotestsrc num-buffers=40 samplesperbuffer=1200 freq=200 "
        "volume=0.5 ! audio/x-raw,format=F32LE,rate=48000,%s ! f.audio",
        caps[c]);
    GArray *frames = run_pipeline (desc, NULL);

    check_all_speech (frames, caps[c]);
    for (i = 0; i < frames->len; i++) {
      FrameResult *r = &g_array_index (frames, FrameResult, i);

      if (r->pts >= 100 * GST_MSECOND)
        check_speech_frame (r, i, 200.0);
    }
    g_array_unref (frames);
    g_free (desc);
  }
}

GST_END_TEST;

static Suite *
affectfeatures_av_suite (void)
{
  Suite *s = suite_create ("affectfeatures_av");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_request_release);
  tcase_add_test (tc, test_no_audio_pad);
  tcase_add_test (tc, test_unlinked_audio_pad);
  tcase_add_test (tc, test_speech_48k_stereo_audio_eos);
  tcase_add_test (tc, test_speech_s16_8k_mono);
  tcase_add_test (tc, test_speech_gap_absent);
  tcase_add_test (tc, test_speech_extreme_rates);
  tcase_add_test (tc, test_speech_many_channels);
  tcase_add_test (tc, test_speech_wavparse);
  tcase_add_test (tc, test_speech_discont);
  tcase_add_test (tc, test_live_audio);
  tcase_add_test (tc, test_live_silent_audio_source);
  tcase_add_test (tc, test_affectsink_jsonl);
  tcase_add_test (tc, test_words_appsrc);
  tcase_add_test (tc, test_words_one_per_buffer);
  tcase_add_test (tc, test_word_model_property);
  tcase_add_test (tc, test_caps_after_audio_link);
  tcase_add_test (tc, test_words_srt);
  tcase_add_test (tc, test_jsonl_speech_and_words);
  return s;
}

GST_CHECK_MAIN (affectfeatures_av);
