/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* The audio input of affectfeatures: see affect-features-audio.h and the
 * element documentation (gstaffectfeatures.c) for what f_spe is. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/audio/audio.h>

#include "affect-features-audio.h"
#include "affect-features-input.h"
#include "gstaffectfeatures.h"

GST_DEBUG_CATEGORY_EXTERN (gst_affect_features_debug);
#define GST_CAT_DEFAULT gst_affect_features_debug

/* Rate the speech features are computed at. */
#define SPEECH_RATE 16000

/* f_spe: the MFCCs, log energy, F0 (Hz) and voicing */
#define SPEECH_N_FEATURES(n_ceps) ((n_ceps) + 3)

/* One speech frame waiting for its video frame. */
typedef struct {
  GstClockTime centre; /* running time of the window centre */
  guint n;
  float v[AFFECT_FEATURES_SPEECH_MAX];
} SpeechItem;

struct _AffectFeaturesAudio {
  /* the element and the request pad (`audio`) */
  AffectFeaturesInput input;

  /* streaming state, the aggregator's thread */
  GstAudioConverter *aconv;
  GstAudioInfo aconv_in_info;  /* the converter's input format */
  gboolean have_info;          /* aconv_in_info is set */
  guint64 aconv_in, aconv_out; /* frames in and out since the piece began */
  AffectSpeech *speech;
  gboolean audio_started;  /* a base time is set */
  gboolean audio_finished; /* affect_speech_finish() called */
  GstClockTime audio_base; /* running time of the first pushed sample */
  GstClockTime audio_next; /* running time where the next buffer should start */
  GArray *speech_items;    /* SpeechItem, in time order */
};

AffectFeaturesAudio *
affect_features_audio_new (GstAggregator *agg)
{
  AffectFeaturesAudio *audio = g_new0 (AffectFeaturesAudio, 1);

  affect_features_input_init (&audio->input, agg, "audio");
  audio->speech_items = g_array_new (FALSE, FALSE, sizeof (SpeechItem));
  audio->audio_next = GST_CLOCK_TIME_NONE;
  return audio;
}

void
affect_features_audio_free (AffectFeaturesAudio *audio)
{
  if (audio == NULL)
    return;
  affect_features_audio_stop (audio);
  g_array_unref (audio->speech_items);
  g_free (audio);
}

/* ------------------------------------------------------------------ */
/* The request pad                                                     */
/* ------------------------------------------------------------------ */

/* Extra latency of the speech branch: the extractor needs the samples up
 * to latency_samples past a frame start, plus one frame shift and a margin
 * for the resampler. */
static GstClockTime
speech_latency (void)
{
  AffectSpeech *probe = affect_speech_new (NULL, NULL);
  GstClockTime latency = 0;

  if (probe != NULL) {
    latency = gst_util_uint64_scale (affect_speech_latency_samples (probe)
                                         + affect_speech_frame_shift (probe),
                  GST_SECOND, SPEECH_RATE)
              + 10 * GST_MSECOND;
    affect_speech_free (probe);
  }
  return latency;
}

GstPad *
affect_features_audio_request_pad (
    AffectFeaturesAudio *audio, GstPadTemplate *templ)
{
  GstPad *pad = affect_features_input_request_pad (&audio->input, templ);
  GstClockTime latency;

  if (pad == NULL)
    return NULL;
  latency = speech_latency ();
  GST_DEBUG_OBJECT (audio->input.agg, "audio pad: latency %" GST_TIME_FORMAT,
      GST_TIME_ARGS (latency));
  gst_aggregator_set_latency (audio->input.agg, latency, latency);
  return pad;
}

gboolean
affect_features_audio_release_pad (AffectFeaturesAudio *audio, GstPad *pad)
{
  if (!affect_features_input_release_pad (&audio->input, pad))
    return FALSE;
  gst_aggregator_set_latency (audio->input.agg, 0, 0);
  return TRUE;
}

gboolean
affect_features_audio_has_pad (AffectFeaturesAudio *audio, GstPad *pad)
{
  return affect_features_input_has_pad (&audio->input, pad);
}

GstAggregatorPad *
affect_features_audio_ref_pad (AffectFeaturesAudio *audio)
{
  return affect_features_input_ref_pad (&audio->input);
}

/* ------------------------------------------------------------------ */
/* The speech features                                                 */
/* ------------------------------------------------------------------ */

/* Moves the ready frames of the extractor to the queue. */
static void
speech_pull (AffectFeaturesAudio *audio)
{
  const AffectSpeechOptions *opts = affect_speech_get_options (audio->speech);
  double half = opts->mfcc.frame_length_ms / 2000.0;
  AffectSpeechFrame f;

  while (affect_speech_pull (audio->speech, &f)) {
    SpeechItem item;
    guint i;

    item.centre
        = audio->audio_base + (GstClockTime)((f.time + half) * GST_SECOND);
    item.n = SPEECH_N_FEATURES (f.n_mfcc);
    for (i = 0; i < f.n_mfcc; i++)
      item.v[i] = (float)f.mfcc[i];
    item.v[f.n_mfcc] = (float)f.log_energy;
    item.v[f.n_mfcc + 1] = (float)f.f0_hz;
    item.v[f.n_mfcc + 2] = (float)f.voicing;
    g_array_append_val (audio->speech_items, item);
  }
}

/* Converts @n_in frames at @in (the converter's input format, interleaved)
 * to 16 kHz mono and feeds them to the extractor, at most @max_out output
 * samples (G_MAXUINT64: all). The input goes in pieces of what becomes
 * about AFFECT_SPEECH_MAX_BACKLOG output samples, converted into one
 * reused buffer and pulled after each push, so that a buffer at an extreme
 * rate (1 Hz: 16000 output samples per input frame) never expands in one
 * allocation; the converter keeps its state between the pieces, so the
 * samples are the same as in one call. Returns the output samples pushed,
 * or -1 when the converter fails (not posted). */
static gint64
convert_push (
    AffectFeaturesAudio *audio, const guint8 *in, gsize n_in, guint64 max_out)
{
  const GstAudioInfo *info = &audio->aconv_in_info;
  gsize bpf = GST_AUDIO_INFO_BPF (info);
  guint64 piece = gst_util_uint64_scale_int (
      AFFECT_SPEECH_MAX_BACKLOG, GST_AUDIO_INFO_RATE (info), SPEECH_RATE);
  float *out = NULL;
  gsize out_size = 0, off = 0;
  gint64 pushed = 0;

  piece = MAX (piece, 1);
  while (off < n_in && (guint64)pushed < max_out) {
    gsize k = (gsize)MIN (piece, (guint64)(n_in - off));
    gsize n_out = gst_audio_converter_get_out_frames (audio->aconv, k);
    gsize n_push;
    gpointer in_planes[1], out_planes[1];

    if (n_out > out_size || out == NULL) {
      g_free (out);
      out_size = MAX (n_out, 1);
      out = g_new (float, out_size);
    }
    in_planes[0] = (gpointer)(in + off * bpf);
    out_planes[0] = out;
    if (!gst_audio_converter_samples (audio->aconv,
            GST_AUDIO_CONVERTER_FLAG_NONE, in_planes, k, out_planes, n_out)) {
      g_free (out);
      return -1;
    }
    off += k;
    audio->aconv_in += k;
    n_push = (gsize)MIN ((guint64)n_out, max_out - (guint64)pushed);
    if (n_push > 0) {
      affect_speech_push (audio->speech, out, n_push);
      audio->aconv_out += n_push;
      pushed += n_push;
      speech_pull (audio);
    }
  }
  g_free (out);
  return pushed;
}

/* The resampler holds back the last few samples of a piece (its latency):
 * feeds it silence until every input sample has come out, so that the
 * speech frames of the end of the piece are not lost. */
static void
drain_converter (AffectFeaturesAudio *audio)
{
  gint rate = GST_AUDIO_INFO_RATE (&audio->aconv_in_info);
  guint64 expected, aconv_in;
  gsize missing, n_in;
  gint64 pushed;
  gpointer in;

  if (audio->aconv == NULL || rate <= 0 || audio->aconv_in == 0)
    return;
  expected = gst_util_uint64_scale (audio->aconv_in, SPEECH_RATE, rate);
  if (expected <= audio->aconv_out)
    return;
  missing = expected - audio->aconv_out;
  n_in = gst_audio_converter_get_in_frames (audio->aconv, missing);
  n_in = MAX (n_in, gst_audio_converter_get_max_latency (audio->aconv) + 1);
  in = g_malloc0 (n_in * GST_AUDIO_INFO_BPF (&audio->aconv_in_info));
  aconv_in = audio->aconv_in; /* the silence is not input */
  pushed = convert_push (audio, in, n_in, missing);
  audio->aconv_in = aconv_in;
  if (pushed >= 0)
    GST_LOG_OBJECT (audio->input.agg,
        "drained %" G_GINT64_FORMAT " samples of the resampler", pushed);
  g_free (in);
}

/* End of a continuous piece of audio: its last frames become ready. */
static void
speech_end (AffectFeaturesAudio *audio)
{
  if (audio->audio_started && !audio->audio_finished) {
    drain_converter (audio);
    affect_speech_finish (audio->speech);
    speech_pull (audio);
  }
  audio->audio_finished = TRUE;
}

/* A discontinuity: the next buffer starts a new piece. */
static void
speech_restart (AffectFeaturesAudio *audio)
{
  speech_end (audio);
  affect_speech_reset (audio->speech);
  if (audio->aconv)
    gst_audio_converter_reset (audio->aconv);
  audio->aconv_in = audio->aconv_out = 0;
  audio->audio_started = FALSE;
  audio->audio_finished = FALSE;
}

void
affect_features_audio_flush (AffectFeaturesAudio *audio)
{
  if (audio->speech)
    affect_speech_reset (audio->speech);
  if (audio->aconv)
    gst_audio_converter_reset (audio->aconv);
  audio->aconv_in = audio->aconv_out = 0;
  audio->audio_started = FALSE;
  audio->audio_finished = FALSE;
  audio->audio_next = GST_CLOCK_TIME_NONE;
  g_array_set_size (audio->speech_items, 0);
}

gboolean
affect_features_audio_start (AffectFeaturesAudio *audio)
{
  GError *error = NULL;

  audio->speech = affect_speech_new (NULL, &error);
  if (audio->speech == NULL) {
    GST_ELEMENT_ERROR (audio->input.agg, LIBRARY, INIT,
        ("Cannot create the speech feature extractor"), ("%s", error->message));
    g_clear_error (&error);
    return FALSE;
  }
  affect_features_audio_flush (audio);
  return TRUE;
}

void
affect_features_audio_stop (AffectFeaturesAudio *audio)
{
  affect_features_audio_flush (audio);
  g_clear_pointer (&audio->speech, affect_speech_free);
  g_clear_pointer (&audio->aconv, gst_audio_converter_free);
  audio->have_info = FALSE;
}

/* The converter's configuration for @info: NULL (the default downmix of
 * positioned channels) unless the channels are unpositioned (more than 8
 * channels without a channel mask, or a mask of 0), which the converter
 * does not mix by itself: then a mix matrix that averages them. */
static GstStructure *
unpositioned_config (const GstAudioInfo *info)
{
  gint n = GST_AUDIO_INFO_CHANNELS (info), i;
  GValue matrix = G_VALUE_INIT, row = G_VALUE_INIT, v = G_VALUE_INIT;
  GstStructure *config;

  if (n <= 1 || !GST_AUDIO_INFO_IS_UNPOSITIONED (info))
    return NULL;
  g_value_init (&matrix, GST_TYPE_ARRAY);
  g_value_init (&row, GST_TYPE_ARRAY);
  g_value_init (&v, G_TYPE_FLOAT);
  g_value_set_float (&v, 1.0f / (gfloat)n);
  for (i = 0; i < n; i++)
    gst_value_array_append_value (&row, &v);
  gst_value_array_append_and_take_value (&matrix, &row);
  g_value_unset (&v);
  config = gst_structure_new_empty ("GstAudioConverter");
  gst_structure_take_value (
      config, GST_AUDIO_CONVERTER_OPT_MIX_MATRIX, &matrix);
  return config;
}

gboolean
affect_features_audio_set_caps (
    AffectFeaturesAudio *audio, GstAggregatorPad *pad, GstCaps *caps)
{
  GstAudioInfo info, out;
  GstAudioConverter *conv;

  if (!gst_audio_info_from_caps (&info, caps)) {
    GST_ELEMENT_ERROR (audio->input.agg, CORE, NEGOTIATION, (NULL),
        ("Invalid audio caps %" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  gst_audio_info_set_format (&out, GST_AUDIO_FORMAT_F32, SPEECH_RATE, 1, NULL);
  conv = gst_audio_converter_new (
      GST_AUDIO_CONVERTER_FLAG_NONE, &info, &out, unpositioned_config (&info));
  if (conv == NULL) {
    GST_ELEMENT_ERROR (audio->input.agg, CORE, NEGOTIATION, (NULL),
        ("Cannot convert %" GST_PTR_FORMAT " to 16 kHz mono", caps));
    return FALSE;
  }

  GST_DEBUG_OBJECT (pad, "caps %" GST_PTR_FORMAT, caps);
  /* a new format is a new piece of audio */
  if (audio->speech)
    speech_restart (audio);
  if (audio->aconv)
    gst_audio_converter_free (audio->aconv);
  audio->aconv = conv;
  audio->aconv_in_info = info;
  audio->have_info = TRUE;
  audio->aconv_in = audio->aconv_out = 0;
  return TRUE;
}

/* Feeds one audio buffer to the speech extractor. */
static gboolean
push_audio (AffectFeaturesAudio *audio, GstAggregatorPad *apad, GstBuffer *buf)
{
  const GstAudioInfo *info = &audio->aconv_in_info;
  GstClockTime start, dur;
  gsize n_in;
  gboolean gap, ok;
  GstMapInfo map;

  GST_OBJECT_LOCK (apad);
  start = gst_segment_to_running_time (
      &apad->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buf));
  GST_OBJECT_UNLOCK (apad);

  if (!audio->have_info || audio->aconv == NULL) {
    GST_ELEMENT_ERROR (audio->input.agg, CORE, NEGOTIATION, (NULL),
        ("Received an audio buffer before the caps"));
    return FALSE;
  }

  n_in = gst_buffer_get_size (buf) / GST_AUDIO_INFO_BPF (info);
  dur = gst_util_uint64_scale (n_in, GST_SECOND, GST_AUDIO_INFO_RATE (info));
  if (GST_BUFFER_DURATION_IS_VALID (buf) && n_in == 0)
    dur = GST_BUFFER_DURATION (buf);
  if (!GST_CLOCK_TIME_IS_VALID (start)) {
    if (!audio->audio_started || !GST_CLOCK_TIME_IS_VALID (audio->audio_next)) {
      GST_LOG_OBJECT (audio->input.agg,
          "dropping audio without time %" GST_PTR_FORMAT, buf);
      return TRUE;
    }
    start = audio->audio_next;
  }

  gap = GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP) || n_in == 0;
  if (audio->audio_started
      && (gap || GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT)
          || !GST_CLOCK_TIME_IS_VALID (audio->audio_next)
          || (start > audio->audio_next ? start - audio->audio_next
                                        : audio->audio_next - start)
                 > GST_MSECOND)) {
    GST_DEBUG_OBJECT (audio->input.agg,
        "audio discontinuity at %" GST_TIME_FORMAT, GST_TIME_ARGS (start));
    speech_restart (audio);
  }
  audio->audio_next = start + dur;
  if (gap)
    return TRUE;

  if (!audio->audio_started) {
    audio->audio_base = start;
    audio->audio_started = TRUE;
    audio->audio_finished = FALSE;
  }

  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (audio->input.agg, STREAM, FAILED, (NULL),
        ("Cannot map the audio buffer %" GST_PTR_FORMAT, buf));
    return FALSE;
  }
  ok = convert_push (audio, map.data, n_in, G_MAXUINT64) >= 0;
  gst_buffer_unmap (buf, &map);
  if (!ok) {
    GST_ELEMENT_ERROR (audio->input.agg, STREAM, FAILED, (NULL),
        ("Cannot convert the audio to 16 kHz mono"));
    return FALSE;
  }
  return TRUE;
}

GstFlowReturn
affect_features_audio_collect (AffectFeaturesAudio *audio,
    GstAggregatorPad *apad, GstClockTime end, gboolean timeout)
{
  GstClockTime margin;

  margin
      = gst_util_uint64_scale (affect_speech_latency_samples (audio->speech)
                                   + affect_speech_frame_shift (audio->speech),
          GST_SECOND, SPEECH_RATE);
  if (audio->aconv) {
    gint rate
        = audio->have_info ? GST_AUDIO_INFO_RATE (&audio->aconv_in_info) : 0;

    if (rate > 0)
      margin += gst_util_uint64_scale (
          gst_audio_converter_get_max_latency (audio->aconv), GST_SECOND, rate);
  }

  if (!GST_CLOCK_TIME_IS_VALID (end))
    return GST_FLOW_OK;

  while (!GST_CLOCK_TIME_IS_VALID (audio->audio_next)
         || audio->audio_next < end + margin) {
    GstBuffer *abuf = gst_aggregator_pad_pop_buffer (apad);

    if (abuf == NULL) {
      if (gst_aggregator_pad_is_eos (apad)) {
        speech_end (audio);
        return GST_FLOW_OK;
      }
      /* live: the deadline passed, take what is there */
      if (timeout)
        return GST_FLOW_OK;
      return GST_AGGREGATOR_FLOW_NEED_DATA;
    }
    if (!push_audio (audio, apad, abuf)) {
      gst_buffer_unref (abuf);
      return GST_FLOW_ERROR;
    }
    gst_buffer_unref (abuf);
  }
  return GST_FLOW_OK;
}

guint
affect_features_audio_pool (AffectFeaturesAudio *audio, GstClockTime start,
    GstClockTime end, float *out, guint *n_features)
{
  guint i, j, n = 0, used = 0;

  *n_features = 0;
  for (i = 0; i < audio->speech_items->len; i++) {
    SpeechItem *item = &g_array_index (audio->speech_items, SpeechItem, i);

    if (item->centre >= end)
      break;
    used = i + 1;
    if (item->centre < start)
      continue;
    if (n == 0) {
      *n_features = item->n;
      memset (out, 0, sizeof (float) * item->n);
    }
    for (j = 0; j < item->n; j++)
      out[j] += item->v[j];
    n++;
  }
  for (j = 0; n > 0 && j < *n_features; j++)
    out[j] /= n;
  if (used > 0)
    g_array_remove_range (audio->speech_items, 0, used);
  return n;
}
