/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-affecttranscribe
 * @title: affecttranscribe
 *
 * Speech recognition (Whisper, models/asr/, docs/asr.md) of an audio
 * stream with word times. The input (any rate, channel count and sample
 * format) is converted inside to 16 kHz mono float and gathered into
 * windows; each window is transcribed with word timestamps and the result
 * goes out as timed `text/x-raw, format=utf8` buffers: one per word (PTS
 * and duration = the word's times) or one per segment (`granularity`).
 * The text stream has its own stream-start, caps and a copy of the input's
 * TIME segment, so its buffers are in the running time of the audio; it
 * links straight to the `text` pad of affectfeatures and to textoverlay.
 *
 * Windows: a window closes at a pause (the 10-ms energy of the 16-kHz audio
 * stays below -50 dBFS for `min-pause` ms), when it holds `max-latency` of
 * audio (cut at its quietest 10-ms block of the last second), at a
 * discontinuity (DISCONT buffer, GAP event, new segment or
 * caps) and at EOS. A window in which no 10-ms block passes the energy
 * threshold is dropped without running the model; Whisper's own no-speech
 * detection drops the rest of what is not speech. A word cut by a
 * max-latency boundary without a dip may be misrecognised (the two halves
 * are transcribed apart).
 *
 * The model runs on the streaming thread of the sink pad, so upstream is
 * blocked while a window is transcribed (tiny.en: well under the length of
 * the window on a desktop CPU). The element adds `max-latency` to the
 * upstream latency in the LATENCY query.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=talk.wav ! wavparse ! audioconvert ! \
 *     affecttranscribe ! fakesink dump=true
 * ]|
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/audio/audio.h>
#include <math.h>
#include <string.h>

#include "affect-ct2.h"
#include "affect-engine-settings.h"
#include "affect-whisper-mel.h"
#include "affect-whisper.h"
#include "gstaffecttranscribe.h"

GST_DEBUG_CATEGORY_STATIC (gst_affect_transcribe_debug);
#define GST_CAT_DEFAULT gst_affect_transcribe_debug

#define RATE AFFECT_WHISPER_SAMPLE_RATE
/* 10-ms blocks for the pause detection */
#define BLOCK (RATE / 100)
/* -50 dBFS: mean square of a block below which it is quiet */
#define QUIET_POWER 1e-5

#define DEFAULT_LANGUAGE NULL
#define DEFAULT_MAX_LATENCY (5 * GST_SECOND)
#define MIN_MAX_LATENCY (GST_SECOND / 10)
#define MAX_MAX_LATENCY (30 * GST_SECOND)
#define DEFAULT_MIN_PAUSE 300
#define MAX_MIN_PAUSE 10000
#define DEFAULT_GRANULARITY GST_AFFECT_TRANSCRIBE_GRANULARITY_WORD

enum {
  PROP_0,
  PROP_LANGUAGE,
  PROP_MAX_LATENCY,
  PROP_MIN_PAUSE,
  PROP_GRANULARITY,
  PROP_ENGINE_FIRST, /* AFFECT_ENGINE_N_PROPS ids from here */
};

struct _GstAffectTranscribe {
  GstElement parent;

  GstPad *sinkpad, *srcpad;

  /* properties, under the object lock */
  AffectEngineSettings engine;
  gchar *language;
  GstClockTime max_latency;
  guint min_pause;
  GstAffectTranscribeGranularity granularity;

  /* from PAUSED to READY */
  AffectWhisper *whisper;
  gchar *cur_language;

  /* streaming (stream lock) */
  GstAudioConverter *conv;
  GstAudioInfo in_info;
  guint64 conv_in, conv_out; /* frames in and out since the last reset */
  GstSegment segment;
  GArray *window;             /* 16-kHz mono floats */
  GstClockTime window_pts;    /* stream time of window[0] */
  gboolean window_has_speech; /* a block above the energy threshold */
  guint scanned;              /* samples of window[] already in blocks */
  guint quiet_run;            /* samples of consecutive quiet blocks */
  GArray *powers;             /* mean square of each scanned block */
};

static GstStaticPadTemplate sink_template
    = GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
        GST_STATIC_CAPS ("audio/x-raw, format=(string)" GST_AUDIO_FORMATS_ALL
                         ", rate=(int)[1, MAX], channels=(int)[1, MAX], "
                         "layout=(string)interleaved"));

static GstStaticPadTemplate src_template
    = GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
        GST_STATIC_CAPS ("text/x-raw, format=(string)utf8"));

#define gst_affect_transcribe_parent_class parent_class
G_DEFINE_TYPE (GstAffectTranscribe, gst_affect_transcribe, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (affecttranscribe, "affecttranscribe",
    GST_RANK_NONE, GST_TYPE_AFFECT_TRANSCRIBE);

GType
gst_affect_transcribe_granularity_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_AFFECT_TRANSCRIBE_GRANULARITY_WORD, "One buffer per word", "word" },
    { GST_AFFECT_TRANSCRIBE_GRANULARITY_SEGMENT, "One buffer per segment",
        "segment" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstAffectTranscribeGranularity", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ---- output ------------------------------------------------------------ */

static GstFlowReturn
push_text (GstAffectTranscribe *self, const gchar *text, GstClockTime window,
    double start, double end, GstClockTime *text_end)
{
  gchar *t = g_strstrip (g_strdup (text));
  gsize len = strlen (t);
  GstBuffer *buf;
  GstClockTime s, e;

  if (len == 0) {
    g_free (t);
    return GST_FLOW_OK;
  }
  s = window + (GstClockTime)llround (MAX (start, 0.0) * GST_SECOND);
  e = window + (GstClockTime)llround (MAX (end, start) * GST_SECOND);
  buf = gst_buffer_new_wrapped (t, len);
  GST_BUFFER_PTS (buf) = s;
  GST_BUFFER_DURATION (buf) = e - s;
  *text_end = MAX (*text_end, e);
  GST_LOG_OBJECT (self, "'%s' at %" GST_TIME_FORMAT " + %" GST_TIME_FORMAT, t,
      GST_TIME_ARGS (s), GST_TIME_ARGS (e - s));
  return gst_pad_push (self->srcpad, buf);
}

/* Transcribes the first @n samples of the window and pushes the text; they
 * leave the window (window_pts moves past them). The time of the window
 * after the last text goes out as a GAP event, so that a downstream
 * aggregator (affectfeatures' text pad) knows there is no more text before
 * the window's end; a quiet window dropped unseen is one GAP. */
static GstFlowReturn
transcribe (GstAffectTranscribe *self, guint n, gboolean speech)
{
  GstFlowReturn ret = GST_FLOW_OK;
  GstClockTime pts = self->window_pts;
  AffectWhisperOptions opt;
  GstAffectTranscribeGranularity granularity = DEFAULT_GRANULARITY;
  GstClockTime end, text_end = pts;
  GPtrArray *segs = NULL;
  GError *error = NULL;
  guint i;
  gsize k;

  n = MIN (n, self->window->len);
  if (n == 0)
    return GST_FLOW_OK;

  if (speech && self->whisper) {
    GST_OBJECT_LOCK (self);
    granularity = self->granularity;
    GST_OBJECT_UNLOCK (self);
    affect_engine_settings_sync_threads (&self->engine, GST_ELEMENT (self));
    affect_whisper_options_init (&opt);
    opt.word_timestamps = TRUE;
    if (self->cur_language)
      opt.language = self->cur_language;
    GST_DEBUG_OBJECT (self, "transcribing %u samples at %" GST_TIME_FORMAT, n,
        GST_TIME_ARGS (pts));
    segs = affect_whisper_transcribe (self->whisper,
        (const gfloat *)self->window->data, n, &opt, NULL, NULL, &error);
    /* a GPU failure (device memory, a kernel, a copy) names the op */
    if (!affect_engine_settings_check_backend (
            &self->engine, GST_ELEMENT (self), NULL)) {
      g_clear_pointer (&segs, g_ptr_array_unref);
      g_clear_error (&error);
      ret = GST_FLOW_ERROR;
    } else if (segs == NULL) {
      GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("Speech recognition failed"),
          ("%s", error->message));
      g_clear_error (&error);
      ret = GST_FLOW_ERROR;
    }
  } else {
    GST_DEBUG_OBJECT (self, "dropping %u quiet samples", n);
  }

  g_array_remove_range (self->window, 0, n);
  g_array_remove_range (self->powers, 0, MIN (n / BLOCK, self->powers->len));
  self->scanned = self->scanned > n ? self->scanned - n : 0;
  /* what stays (after a cut at max-latency) keeps its blocks */
  self->window_has_speech = FALSE;
  self->quiet_run = 0;
  for (i = 0; i < self->powers->len; i++) {
    if (g_array_index (self->powers, gfloat, i) >= QUIET_POWER) {
      self->window_has_speech = TRUE;
      self->quiet_run = 0;
    } else {
      self->quiet_run += BLOCK;
    }
  }
  if (GST_CLOCK_TIME_IS_VALID (pts))
    self->window_pts = pts + gst_util_uint64_scale_int (n, GST_SECOND, RATE);

  if (ret != GST_FLOW_OK || !GST_CLOCK_TIME_IS_VALID (pts))
    goto done;
  for (i = 0; segs && i < segs->len && ret == GST_FLOW_OK; i++) {
    AffectWhisperSegment *seg = g_ptr_array_index (segs, i);

    if (granularity == GST_AFFECT_TRANSCRIBE_GRANULARITY_SEGMENT) {
      ret = push_text (self, seg->text, pts, seg->start, seg->end, &text_end);
      continue;
    }
    for (k = 0; k < seg->n_words && ret == GST_FLOW_OK; k++)
      ret = push_text (self, seg->words[k].word, pts, seg->words[k].start,
          seg->words[k].end, &text_end);
  }
  end = self->window_pts;
  if (ret == GST_FLOW_OK && end > text_end) {
    GST_LOG_OBJECT (self, "gap %" GST_TIME_FORMAT " - %" GST_TIME_FORMAT,
        GST_TIME_ARGS (text_end), GST_TIME_ARGS (end));
    gst_pad_push_event (
        self->srcpad, gst_event_new_gap (text_end, end - text_end));
  }

done:
  if (segs)
    g_ptr_array_unref (segs);
  return ret;
}

/* Closes the current window: transcribes all of it. */
static GstFlowReturn
close_window (GstAffectTranscribe *self)
{
  /* the last partial block counts for the energy too */
  if (!self->window_has_speech && self->scanned < self->window->len) {
    const gfloat *x = (const gfloat *)self->window->data;
    double power = 0;
    guint i;

    for (i = self->scanned; i < self->window->len; i++)
      power += (double)x[i] * x[i];
    if (power / (self->window->len - self->scanned) >= QUIET_POWER)
      self->window_has_speech = TRUE;
  }
  return transcribe (self, self->window->len, self->window_has_speech);
}

/* The window holds max-latency of audio: cuts it at the end of its quietest
 * block in the last second (or the last half of a shorter window), so that
 * the cut falls between words where there is a dip. */
static GstFlowReturn
cut_at_quietest (GstAffectTranscribe *self)
{
  guint n_blocks = self->powers->len, first, best, i;
  gboolean speech = FALSE;
  gfloat min;

  if (n_blocks == 0)
    return transcribe (self, self->scanned, self->window_has_speech);
  first = n_blocks - MIN (RATE / BLOCK, (n_blocks + 1) / 2);
  best = n_blocks - 1;
  min = G_MAXFLOAT;
  for (i = first; i < n_blocks; i++) {
    gfloat p = g_array_index (self->powers, gfloat, i);

    /* the latest of equal minima: the longest window */
    if (p <= min) {
      min = p;
      best = i;
    }
  }
  for (i = 0; i <= best; i++)
    speech |= g_array_index (self->powers, gfloat, i) >= QUIET_POWER;
  GST_DEBUG_OBJECT (
      self, "max-latency: cut after block %u of %u", best, n_blocks);
  return transcribe (self, (best + 1) * BLOCK, speech);
}

/* Scans the new complete blocks of the window for pauses and for the
 * latency bound, transcribing what they close. */
static GstFlowReturn
scan_window (GstAffectTranscribe *self)
{
  GstFlowReturn ret = GST_FLOW_OK;
  guint min_pause, max_samples;
  GstClockTime max_latency;

  GST_OBJECT_LOCK (self);
  min_pause = self->min_pause;
  max_latency = self->max_latency;
  GST_OBJECT_UNLOCK (self);
  max_samples = (guint)gst_util_uint64_scale (max_latency, RATE, GST_SECOND);
  max_samples = MAX (max_samples, BLOCK);

  while (ret == GST_FLOW_OK && self->scanned + BLOCK <= self->window->len) {
    const gfloat *x = (const gfloat *)self->window->data + self->scanned;
    double power = 0;
    gfloat mean;
    guint i;

    for (i = 0; i < BLOCK; i++)
      power += (double)x[i] * x[i];
    self->scanned += BLOCK;
    mean = (gfloat)(power / BLOCK);
    g_array_append_val (self->powers, mean);
    if (power / BLOCK >= QUIET_POWER) {
      self->window_has_speech = TRUE;
      self->quiet_run = 0;
    } else {
      self->quiet_run += BLOCK;
    }

    if (min_pause > 0
        && self->quiet_run >= (guint)((guint64)min_pause * RATE / 1000)) {
      /* a pause: close the window here (or drop it, if it is all quiet) */
      ret = transcribe (self, self->scanned, self->window_has_speech);
    } else if (self->scanned >= max_samples) {
      ret = cut_at_quietest (self);
    }
  }
  return ret;
}

static void
reset_stream (GstAffectTranscribe *self)
{
  if (self->window)
    g_array_set_size (self->window, 0);
  self->window_pts = GST_CLOCK_TIME_NONE;
  if (self->powers)
    g_array_set_size (self->powers, 0);
  self->window_has_speech = FALSE;
  self->scanned = 0;
  self->quiet_run = 0;
  if (self->conv)
    gst_audio_converter_reset (self->conv);
  self->conv_in = self->conv_out = 0;
}

/* ---- input ------------------------------------------------------------- */

/* The converter's configuration: an even mix for unpositioned channels
 * (which the converter does not mix down by itself), as affectfeatures'
 * audio input. */
static GstStructure *
mix_config (const GstAudioInfo *info)
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

static GstFlowReturn end_piece (GstAffectTranscribe *self);

static gboolean
set_caps (GstAffectTranscribe *self, GstCaps *caps)
{
  GstAudioInfo info, out;
  GstAudioConverter *conv;

  if (!gst_audio_info_from_caps (&info, caps)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("Invalid audio caps %" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  if (self->conv && gst_audio_info_is_equal (&info, &self->in_info))
    return TRUE;
  gst_audio_info_set_format (&out, GST_AUDIO_FORMAT_F32, RATE, 1, NULL);
  conv = gst_audio_converter_new (
      GST_AUDIO_CONVERTER_FLAG_NONE, &info, &out, mix_config (&info));
  if (conv == NULL) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("Cannot convert %" GST_PTR_FORMAT " to 16 kHz mono", caps));
    return FALSE;
  }
  /* a new format: what came before is a window of its own */
  end_piece (self);
  if (self->conv)
    gst_audio_converter_free (self->conv);
  self->conv = conv;
  self->in_info = info;
  self->conv_in = self->conv_out = 0;
  return TRUE;
}

/* Converts @n_in frames at @in (the input format) to 16 kHz mono at the end
 * of the window, at most @max_out of them. FALSE when the converter fails. */
static gboolean
convert (GstAffectTranscribe *self, gconstpointer in, gsize n_in, gsize max_out)
{
  gsize n_out = gst_audio_converter_get_out_frames (self->conv, n_in);
  gsize old = self->window->len;
  gpointer in_planes[1], out_planes[1];
  gfloat *tmp;

  if (n_out == 0 && n_in == 0)
    return TRUE;
  tmp = g_new (gfloat, MAX (n_out, 1));
  in_planes[0] = (gpointer)in;
  out_planes[0] = tmp;
  if (!gst_audio_converter_samples (self->conv, GST_AUDIO_CONVERTER_FLAG_NONE,
          in_planes, n_in, out_planes, n_out)) {
    g_free (tmp);
    return FALSE;
  }
  self->conv_in += n_in;
  n_out = MIN (n_out, max_out);
  self->conv_out += n_out;
  g_array_set_size (self->window, old + n_out);
  memcpy ((gfloat *)self->window->data + old, tmp, n_out * sizeof (gfloat));
  g_free (tmp);
  return TRUE;
}

/* The resampler holds back its last few input frames (its latency): feeds
 * it silence until every input frame has come out. */
static void
drain_converter (GstAffectTranscribe *self)
{
  gint rate = GST_AUDIO_INFO_RATE (&self->in_info);
  guint64 expected;
  gsize missing, n_in;
  gpointer zeros;

  if (self->conv == NULL || rate <= 0 || self->conv_in == 0)
    return;
  expected = gst_util_uint64_scale (self->conv_in, RATE, rate);
  if (expected > self->conv_out) {
    missing = (gsize)(expected - self->conv_out);
    n_in = gst_audio_converter_get_in_frames (self->conv, missing);
    n_in = MAX (n_in, gst_audio_converter_get_max_latency (self->conv) + 1);
    zeros = g_malloc0 (n_in * GST_AUDIO_INFO_BPF (&self->in_info));
    if (convert (self, zeros, n_in, missing))
      GST_LOG_OBJECT (self, "drained %" G_GSIZE_FORMAT " samples", missing);
    g_free (zeros);
  }
  gst_audio_converter_reset (self->conv);
  self->conv_in = self->conv_out = 0;
}

/* The end of a continuous piece of audio (discontinuity, gap, new segment
 * or caps, EOS): the converter is drained and the window transcribed. */
static GstFlowReturn
end_piece (GstAffectTranscribe *self)
{
  drain_converter (self);
  return close_window (self);
}

static GstFlowReturn
gst_affect_transcribe_chain (GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  GstAffectTranscribe *self = GST_AFFECT_TRANSCRIBE (parent);
  GstFlowReturn ret = GST_FLOW_OK;
  GstMapInfo map;
  gboolean ok;

  if (self->conv == NULL) {
    gst_buffer_unref (buf);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  if (GST_BUFFER_IS_DISCONT (buf)) {
    GST_DEBUG_OBJECT (self, "discontinuity: closing the window");
    ret = end_piece (self);
    if (ret != GST_FLOW_OK)
      goto out;
  }
  if (self->window->len == 0) {
    if (GST_BUFFER_PTS_IS_VALID (buf))
      self->window_pts = GST_BUFFER_PTS (buf);
    else if (!GST_CLOCK_TIME_IS_VALID (self->window_pts))
      self->window_pts = self->segment.start;
  }

  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, (NULL), ("Cannot map a buffer"));
    ret = GST_FLOW_ERROR;
    goto out;
  }
  ok = convert (self, map.data, map.size / GST_AUDIO_INFO_BPF (&self->in_info),
      G_MAXSIZE);
  gst_buffer_unmap (buf, &map);
  if (!ok) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
        ("Cannot convert the audio to 16 kHz mono"));
    ret = GST_FLOW_ERROR;
    goto out;
  }
  ret = scan_window (self);

out:
  gst_buffer_unref (buf);
  return ret;
}

static void
push_stream_start (GstAffectTranscribe *self, GstEvent *upstream)
{
  gchar *id
      = gst_pad_create_stream_id (self->srcpad, GST_ELEMENT (self), "text");
  GstEvent *ev = gst_event_new_stream_start (id);
  GstCaps *caps;
  guint group;

  if (upstream && gst_event_parse_group_id (upstream, &group))
    gst_event_set_group_id (ev, group);
  g_free (id);
  gst_pad_push_event (self->srcpad, ev);
  caps = gst_static_pad_template_get_caps (&src_template);
  gst_pad_push_event (self->srcpad, gst_event_new_caps (caps));
  gst_caps_unref (caps);
}

static gboolean
gst_affect_transcribe_sink_event (
    GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstAffectTranscribe *self = GST_AFFECT_TRANSCRIBE (parent);
  GstCaps *caps;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:
      push_stream_start (self, event);
      gst_event_unref (event);
      return TRUE;
    case GST_EVENT_CAPS: {
      gboolean ok;

      gst_event_parse_caps (event, &caps);
      ok = set_caps (self, caps);
      gst_event_unref (event);
      return ok;
    }
    case GST_EVENT_SEGMENT: {
      const GstSegment *seg;

      gst_event_parse_segment (event, &seg);
      if (seg->format != GST_FORMAT_TIME) {
        GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
            ("Need a TIME segment, got %s", gst_format_get_name (seg->format)));
        gst_event_unref (event);
        return FALSE;
      }
      end_piece (self);
      gst_segment_copy_into (seg, &self->segment);
      self->window_pts = GST_CLOCK_TIME_NONE;
      /* the text stream's own TIME segment, the same as the audio's */
      gst_event_unref (event);
      return gst_pad_push_event (
          self->srcpad, gst_event_new_segment (&self->segment));
    }
    case GST_EVENT_GAP:
      end_piece (self);
      return gst_pad_push_event (self->srcpad, event);
    case GST_EVENT_EOS:
      GST_DEBUG_OBJECT (self, "EOS: transcribing the last %u samples",
          self->window ? self->window->len : 0);
      end_piece (self);
      return gst_pad_push_event (self->srcpad, event);
    case GST_EVENT_FLUSH_STOP:
      reset_stream (self);
      gst_segment_init (&self->segment, GST_FORMAT_TIME);
      return gst_pad_push_event (self->srcpad, event);
    default:
      return gst_pad_event_default (pad, parent, event);
  }
}

static gboolean
gst_affect_transcribe_src_query (
    GstPad *pad, GstObject *parent, GstQuery *query)
{
  GstAffectTranscribe *self = GST_AFFECT_TRANSCRIBE (parent);

  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    gboolean live;
    GstClockTime min, max, ours;

    if (!gst_pad_peer_query (self->sinkpad, query))
      return FALSE;
    gst_query_parse_latency (query, &live, &min, &max);
    GST_OBJECT_LOCK (self);
    ours = self->max_latency;
    GST_OBJECT_UNLOCK (self);
    min += ours;
    if (GST_CLOCK_TIME_IS_VALID (max))
      max += ours;
    GST_DEBUG_OBJECT (self,
        "latency: live %d, min %" GST_TIME_FORMAT ", max %" GST_TIME_FORMAT,
        live, GST_TIME_ARGS (min), GST_TIME_ARGS (max));
    gst_query_set_latency (query, live, min, max);
    return TRUE;
  }
  return gst_pad_query_default (pad, parent, query);
}

/* ---- state ------------------------------------------------------------- */

static gboolean
load_model (GstAffectTranscribe *self)
{
  GError *error = NULL;
  gchar *dir, *language;
  AffectWhisperTokenizer *tok;

  if (!affect_engine_settings_start (&self->engine, GST_ELEMENT (self)))
    return FALSE;
  dir = affect_ct2_find_whisper (NULL, self->engine.cur_model_location, &error);
  if (dir == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("Speech recognition model not found; fetch it with "
         "`affect-fetch-asr-model " AFFECT_WHISPER_DEFAULT_MODEL
         "` or set model-location to a Whisper folder"),
        ("%s", error->message));
    g_clear_error (&error);
    return FALSE;
  }
  self->whisper = affect_whisper_new (self->engine.backend, dir, &error);
  if (self->whisper == NULL) {
    affect_engine_settings_post_load_error (
        GST_ELEMENT (self), "whisper", dir, error);
    g_free (dir);
    return FALSE;
  }

  GST_OBJECT_LOCK (self);
  language = g_strdup (self->language);
  GST_OBJECT_UNLOCK (self);
  tok = affect_whisper_get_tokenizer (self->whisper);
  if (language && *language) {
    gchar *token = g_strdup_printf ("<|%s|>", language);
    gboolean known = affect_whisper_tokenizer_lookup (tok, token) >= 0;

    g_free (token);
    if (!affect_whisper_tokenizer_is_multilingual (tok)) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("language is set (\"%s\") but the model is English-only", language),
          ("model %s; use a multilingual model (affect-fetch-asr-model base)",
              dir));
      goto fail;
    }
    if (!known) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Unknown language \"%s\"", language),
          ("model %s has no token <|%s|>", dir, language));
      goto fail;
    }
    self->cur_language = language;
  } else {
    g_free (language);
  }
  GST_INFO_OBJECT (self, "Whisper model %s", dir);
  g_free (dir);
  return TRUE;

fail:
  g_free (language);
  g_free (dir);
  g_clear_pointer (&self->whisper, affect_whisper_free);
  return FALSE;
}

static void
unload_model (GstAffectTranscribe *self)
{
  g_clear_pointer (&self->whisper, affect_whisper_free);
  g_clear_pointer (&self->cur_language, g_free);
  affect_engine_settings_stop (&self->engine);
}

static GstStateChangeReturn
gst_affect_transcribe_change_state (
    GstElement *element, GstStateChange transition)
{
  GstAffectTranscribe *self = GST_AFFECT_TRANSCRIBE (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!load_model (self)) {
        unload_model (self);
        return GST_STATE_CHANGE_FAILURE;
      }
      gst_segment_init (&self->segment, GST_FORMAT_TIME);
      reset_stream (self);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      reset_stream (self);
      g_clear_pointer (&self->conv, gst_audio_converter_free);
      unload_model (self);
      break;
    default:
      break;
  }
  return ret;
}

/* ---- GObject ----------------------------------------------------------- */

static void
gst_affect_transcribe_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstAffectTranscribe *self = GST_AFFECT_TRANSCRIBE (object);

  if (affect_engine_settings_set_property (
          &self->engine, GST_ELEMENT (self), PROP_ENGINE_FIRST, prop_id, value))
    return;
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LANGUAGE:
      g_free (self->language);
      self->language = g_value_dup_string (value);
      break;
    case PROP_MAX_LATENCY:
      self->max_latency = g_value_get_uint64 (value);
      break;
    case PROP_MIN_PAUSE:
      self->min_pause = g_value_get_uint (value);
      break;
    case PROP_GRANULARITY:
      self->granularity = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_affect_transcribe_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstAffectTranscribe *self = GST_AFFECT_TRANSCRIBE (object);

  if (affect_engine_settings_get_property (
          &self->engine, GST_ELEMENT (self), PROP_ENGINE_FIRST, prop_id, value))
    return;
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LANGUAGE:
      g_value_set_string (value, self->language);
      break;
    case PROP_MAX_LATENCY:
      g_value_set_uint64 (value, self->max_latency);
      break;
    case PROP_MIN_PAUSE:
      g_value_set_uint (value, self->min_pause);
      break;
    case PROP_GRANULARITY:
      g_value_set_enum (value, self->granularity);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_affect_transcribe_finalize (GObject *object)
{
  GstAffectTranscribe *self = GST_AFFECT_TRANSCRIBE (object);

  unload_model (self);
  g_clear_pointer (&self->conv, gst_audio_converter_free);
  g_array_unref (self->window);
  g_array_unref (self->powers);
  g_free (self->language);
  affect_engine_settings_clear (&self->engine);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_affect_transcribe_class_init (GstAffectTranscribeClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_affect_transcribe_debug, "affecttranscribe", 0,
      "Speech recognition with word times");

  gobject_class->set_property = gst_affect_transcribe_set_property;
  gobject_class->get_property = gst_affect_transcribe_get_property;
  gobject_class->finalize = gst_affect_transcribe_finalize;

  /**
   * GstAffectTranscribe:language:
   *
   * The spoken language as a Whisper code ("en", "de", ...), for a
   * multilingual model only: setting it with an English-only model (the
   * default tiny.en) is an error when the element starts. NULL: English.
   */
  g_object_class_install_property (gobject_class, PROP_LANGUAGE,
      g_param_spec_string ("language", "Language",
          "Language code of the speech (\"en\", \"de\", ...) for a "
          "multilingual model only (an error with an English-only model); "
          "NULL: English",
          DEFAULT_LANGUAGE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));
  /**
   * GstAffectTranscribe:max-latency:
   *
   * The longest window of audio gathered before it is transcribed, in
   * nanoseconds (at most 30 s, Whisper's window); added to the upstream
   * latency.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_LATENCY,
      g_param_spec_uint64 ("max-latency", "Maximum latency",
          "Longest audio window transcribed at once (ns, at most 30 s); "
          "a window also closes at a pause. Added to the upstream latency",
          MIN_MAX_LATENCY, MAX_MAX_LATENCY, DEFAULT_MAX_LATENCY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));
  /**
   * GstAffectTranscribe:min-pause:
   *
   * Milliseconds of quiet audio (10-ms energy below -50 dBFS) that close
   * a window; 0: windows close only at max-latency, discontinuities and
   * EOS.
   */
  g_object_class_install_property (gobject_class, PROP_MIN_PAUSE,
      g_param_spec_uint ("min-pause", "Minimum pause",
          "Milliseconds of quiet audio (below -50 dBFS) that close a window "
          "(0: only max-latency, discontinuities and EOS close one)",
          0, MAX_MIN_PAUSE, DEFAULT_MIN_PAUSE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstAffectTranscribe:granularity:
   *
   * One output buffer per word (with the word's times) or per segment.
   */
  g_object_class_install_property (gobject_class, PROP_GRANULARITY,
      g_param_spec_enum ("granularity", "Granularity",
          "One text buffer per word (its own times) or per segment",
          GST_TYPE_AFFECT_TRANSCRIBE_GRANULARITY, DEFAULT_GRANULARITY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  affect_engine_settings_install (gobject_class, PROP_ENGINE_FIRST);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Speech recognition",
      "Filter/Analyzer/Audio/Text",
      "Transcribes speech (Whisper) into timed text buffers, one per word "
      "or segment",
      "gst-affect developers");
  element_class->change_state
      = GST_DEBUG_FUNCPTR (gst_affect_transcribe_change_state);

  gst_type_mark_as_plugin_api (GST_TYPE_AFFECT_TRANSCRIBE_GRANULARITY, 0);
}

static void
gst_affect_transcribe_init (GstAffectTranscribe *self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (
      self->sinkpad, GST_DEBUG_FUNCPTR (gst_affect_transcribe_chain));
  gst_pad_set_event_function (
      self->sinkpad, GST_DEBUG_FUNCPTR (gst_affect_transcribe_sink_event));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_query_function (
      self->srcpad, GST_DEBUG_FUNCPTR (gst_affect_transcribe_src_query));
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  affect_engine_settings_init (&self->engine);
  self->language = g_strdup (DEFAULT_LANGUAGE);
  self->max_latency = DEFAULT_MAX_LATENCY;
  self->min_pause = DEFAULT_MIN_PAUSE;
  self->granularity = DEFAULT_GRANULARITY;
  self->window = g_array_new (FALSE, FALSE, sizeof (gfloat));
  self->powers = g_array_new (FALSE, FALSE, sizeof (gfloat));
  self->window_pts = GST_CLOCK_TIME_NONE;
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
}
