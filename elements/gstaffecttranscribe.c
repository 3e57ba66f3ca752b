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
 * Threading: the streaming thread of the sink pad only converts and gathers
 * the audio and hands each closed window to a worker thread (a task on the
 * source pad) through a queue, in order with the serialized events; the
 * worker runs the model and pushes the words, the GAP to the window's end
 * and the events. The queue holds at most `max-queue-time` of speech audio
 * (quiet windows cost nothing): when a window does not fit, a live element
 * (upstream answers the LATENCY query live) drops the oldest waiting window
 * unseen (its time goes out as a GAP; `windows-dropped` counts them) and a
 * non-live one blocks upstream until the worker catches up. EOS and the
 * DRAIN query wait until the worker has pushed everything before them; a
 * flush drops the queue and the words of the window being transcribed.
 * The element adds `max-latency` to the upstream latency in the LATENCY
 * query (the transcription time is not counted: downstream a late word is
 * late).
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
#define DEFAULT_MAX_QUEUE_TIME (30 * GST_SECOND)
#define MIN_MAX_QUEUE_TIME GST_SECOND
#define MAX_MAX_QUEUE_TIME (3600 * GST_SECOND)

enum {
  PROP_0,
  PROP_LANGUAGE,
  PROP_MAX_LATENCY,
  PROP_MIN_PAUSE,
  PROP_GRANULARITY,
  PROP_MAX_QUEUE_TIME,
  PROP_CURRENT_LEVEL_TIME,
  PROP_WINDOWS_DROPPED,
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
  gboolean live, live_known;  /* upstream is live (latency query) */

  /* the worker (a task on the source pad) and its queue, under qlock */
  GMutex qlock;
  GCond qcond;
  GQueue queue;            /* Item, oldest first */
  guint64 queued_samples;  /* speech samples of the windows in the queue */
  guint64 max_queue_time;  /* property (also read under the object lock) */
  guint64 windows_dropped; /* live: speech windows dropped unseen */
  gboolean flushing;       /* flushing or stopped: the queue is cleared */
  gboolean busy;           /* the worker is handling an item */
  GstFlowReturn srcresult; /* the worker's last flow return */
};

/* One entry of the worker's queue: an event to push (serialized events keep
 * their order with the windows), or a window: its speech samples (NULL for a
 * window dropped without running the model) and its time span, which goes
 * out as words and a GAP to its end. */
typedef struct {
  GstEvent *event;
  gfloat *samples;
  guint n_samples;
  GstClockTime pts, end;
} Item;

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

/* ---- the worker -------------------------------------------------------- */

static void
item_free (Item *item)
{
  if (item->event)
    gst_event_unref (item->event);
  g_free (item->samples);
  g_free (item);
}

/* Under qlock: empties the queue. A flush (@flush) keeps the stream-start,
 * caps and tag events not pushed yet (the stream is the same after it; the
 * segment is not), so that they go out before the first text after it. */
static void
clear_queue (GstAffectTranscribe *self, gboolean flush)
{
  GQueue keep = G_QUEUE_INIT;
  Item *item;

  while ((item = g_queue_pop_head (&self->queue)) != NULL) {
    if (flush && item->event && GST_EVENT_IS_STICKY (item->event)
        && GST_EVENT_TYPE (item->event) != GST_EVENT_SEGMENT
        && GST_EVENT_TYPE (item->event) != GST_EVENT_EOS)
      g_queue_push_tail (&keep, item);
    else
      item_free (item);
  }
  self->queue = keep;
  self->queued_samples = 0;
  g_cond_broadcast (&self->qcond);
}

/* Under qlock: whether the worker has handled everything queued (or can
 * handle nothing more). */
static gboolean
drained_locked (GstAffectTranscribe *self)
{
  return (g_queue_is_empty (&self->queue) && !self->busy) || self->flushing
         || self->srcresult != GST_FLOW_OK;
}

/* Waits until the worker has handled every queued item; the flow return to
 * give upstream. */
static GstFlowReturn
wait_drained (GstAffectTranscribe *self)
{
  GstFlowReturn ret;

  g_mutex_lock (&self->qlock);
  while (!drained_locked (self))
    g_cond_wait (&self->qcond, &self->qlock);
  ret = self->flushing ? GST_FLOW_FLUSHING : self->srcresult;
  g_mutex_unlock (&self->qlock);
  return ret;
}

/* Hands @item to the worker. A window with speech samples must fit in
 * max-queue-time of queued speech (an empty queue takes any window): when
 * it does not, a live element drops the oldest queued speech windows (their
 * span still goes out as a GAP), a non-live one waits for the worker
 * (back pressure). FLUSHING when the element flushes or stops meanwhile;
 * the worker's error otherwise. */
static GstFlowReturn
enqueue (GstAffectTranscribe *self, Item *item)
{
  GstFlowReturn ret;
  guint64 max_samples;
  GList *l;

  GST_OBJECT_LOCK (self);
  max_samples = gst_util_uint64_scale (self->max_queue_time, RATE, GST_SECOND);
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->qlock);
  while (item->n_samples > 0 && self->queued_samples > 0
         && self->queued_samples + item->n_samples > max_samples
         && !self->flushing && self->srcresult == GST_FLOW_OK) {
    if (!self->live) {
      g_cond_wait (&self->qcond, &self->qlock);
      continue;
    }
    for (l = self->queue.head; l; l = l->next) {
      Item *old = l->data;

      if (old->n_samples == 0)
        continue;
      GST_WARNING_OBJECT (self,
          "live and the queue is full: dropping the window at %" GST_TIME_FORMAT
          " (%u samples) unseen",
          GST_TIME_ARGS (old->pts), old->n_samples);
      self->queued_samples -= old->n_samples;
      self->windows_dropped++;
      g_clear_pointer (&old->samples, g_free);
      old->n_samples = 0;
      break;
    }
  }
  ret = self->flushing ? GST_FLOW_FLUSHING : self->srcresult;
  if (ret == GST_FLOW_OK) {
    self->queued_samples += item->n_samples;
    g_queue_push_tail (&self->queue, item);
    g_cond_broadcast (&self->qcond);
    item = NULL;
  }
  g_mutex_unlock (&self->qlock);
  if (item)
    item_free (item);
  return ret;
}

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

/* In the worker: transcribes a window (when it has speech samples) and
 * pushes its text, then a GAP event over the rest of the window, so that a
 * downstream aggregator (affectfeatures' text pad) knows there is no more
 * text before the window's end; a quiet window is one GAP. */
static GstFlowReturn
transcribe (GstAffectTranscribe *self, Item *item)
{
  GstFlowReturn ret = GST_FLOW_OK;
  AffectWhisperOptions opt;
  GstAffectTranscribeGranularity granularity;
  GstClockTime text_end = item->pts;
  GPtrArray *segs = NULL;
  GError *error = NULL;
  gboolean flushing;
  guint i;
  gsize k;

  GST_OBJECT_LOCK (self);
  granularity = self->granularity;
  GST_OBJECT_UNLOCK (self);
  if (item->samples && self->whisper) {
    affect_engine_settings_sync_threads (&self->engine, GST_ELEMENT (self));
    affect_whisper_options_init (&opt);
    opt.word_timestamps = TRUE;
    if (self->cur_language)
      opt.language = self->cur_language;
    GST_DEBUG_OBJECT (self, "transcribing %u samples at %" GST_TIME_FORMAT,
        item->n_samples, GST_TIME_ARGS (item->pts));
    segs = affect_whisper_transcribe (self->whisper, item->samples,
        item->n_samples, &opt, NULL, NULL, &error);
    /* a GPU failure (device memory, a kernel, a copy) names the op */
    if (!affect_engine_settings_check_backend (
            &self->engine, GST_ELEMENT (self), NULL)) {
      g_clear_pointer (&segs, g_ptr_array_unref);
      g_clear_error (&error);
      return GST_FLOW_ERROR;
    }
    if (segs == NULL) {
      GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("Speech recognition failed"),
          ("%s", error->message));
      g_clear_error (&error);
      return GST_FLOW_ERROR;
    }
  }

  /* a flush while the model ran: its words are stale */
  g_mutex_lock (&self->qlock);
  flushing = self->flushing;
  g_mutex_unlock (&self->qlock);
  if (flushing) {
    ret = GST_FLOW_FLUSHING;
    goto done;
  }

  for (i = 0; segs && i < segs->len && ret == GST_FLOW_OK; i++) {
    AffectWhisperSegment *seg = g_ptr_array_index (segs, i);

    if (granularity == GST_AFFECT_TRANSCRIBE_GRANULARITY_SEGMENT) {
      ret = push_text (
          self, seg->text, item->pts, seg->start, seg->end, &text_end);
      continue;
    }
    for (k = 0; k < seg->n_words && ret == GST_FLOW_OK; k++)
      ret = push_text (self, seg->words[k].word, item->pts, seg->words[k].start,
          seg->words[k].end, &text_end);
  }
  if (ret == GST_FLOW_OK && item->end > text_end) {
    GST_LOG_OBJECT (self, "gap %" GST_TIME_FORMAT " - %" GST_TIME_FORMAT,
        GST_TIME_ARGS (text_end), GST_TIME_ARGS (item->end));
    gst_pad_push_event (
        self->srcpad, gst_event_new_gap (text_end, item->end - text_end));
  }

done:
  if (segs)
    g_ptr_array_unref (segs);
  return ret;
}

/* The task of the source pad: takes the items of the queue in order. It
 * pauses itself (under qlock, so that a FLUSH_STOP that restarts it cannot
 * come in between) when flushing or after a flow error. */
static void
gst_affect_transcribe_loop (gpointer user_data)
{
  GstAffectTranscribe *self = GST_AFFECT_TRANSCRIBE (user_data);
  GstFlowReturn ret = GST_FLOW_OK;
  Item *item;

  g_mutex_lock (&self->qlock);
  while (!self->flushing && self->srcresult == GST_FLOW_OK
         && g_queue_is_empty (&self->queue))
    g_cond_wait (&self->qcond, &self->qlock);
  if (self->flushing || self->srcresult != GST_FLOW_OK) {
    GST_DEBUG_OBJECT (self, "pausing the worker (%s)",
        self->flushing ? "flushing" : gst_flow_get_name (self->srcresult));
    gst_pad_pause_task (self->srcpad);
    g_mutex_unlock (&self->qlock);
    return;
  }
  item = g_queue_pop_head (&self->queue);
  self->queued_samples -= item->n_samples;
  self->busy = TRUE;
  g_cond_broadcast (&self->qcond);
  g_mutex_unlock (&self->qlock);

  if (item->event) {
    GstEvent *ev = g_steal_pointer (&item->event);

    GST_LOG_OBJECT (self, "pushing %" GST_PTR_FORMAT, ev);
    gst_pad_push_event (self->srcpad, ev);
  } else {
    ret = transcribe (self, item);
  }
  item_free (item);

  g_mutex_lock (&self->qlock);
  self->busy = FALSE;
  if (ret != GST_FLOW_OK && !self->flushing) {
    GST_DEBUG_OBJECT (self, "worker stops: %s", gst_flow_get_name (ret));
    self->srcresult = ret;
    if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS)
      GST_ELEMENT_FLOW_ERROR (self, ret);
  }
  g_cond_broadcast (&self->qcond);
  g_mutex_unlock (&self->qlock);
}

/* Starts (@active) or stops the worker with the source pad's push mode. */
static gboolean
gst_affect_transcribe_src_activate_mode (
    GstPad *pad, GstObject *parent, GstPadMode mode, gboolean active)
{
  GstAffectTranscribe *self = GST_AFFECT_TRANSCRIBE (parent);

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  g_mutex_lock (&self->qlock);
  self->flushing = !active;
  self->srcresult = active ? GST_FLOW_OK : GST_FLOW_FLUSHING;
  clear_queue (self, FALSE);
  g_mutex_unlock (&self->qlock);
  if (active)
    return gst_pad_start_task (pad, gst_affect_transcribe_loop, self, NULL);
  /* waits for the window being transcribed, if any */
  return gst_pad_stop_task (pad);
}

/* ---- windows ----------------------------------------------------------- */

/* Hands the first @n samples of the window to the worker (a copy of them
 * when @speech; otherwise only the time span, which goes out as a GAP);
 * they leave the window (window_pts moves past them). */
static GstFlowReturn
take_window (GstAffectTranscribe *self, guint n, gboolean speech)
{
  GstClockTime pts = self->window_pts;
  Item *item = NULL;
  guint i;

  n = MIN (n, self->window->len);
  if (n == 0)
    return GST_FLOW_OK;

  if (GST_CLOCK_TIME_IS_VALID (pts)) {
    item = g_new0 (Item, 1);
    item->pts = pts;
    item->end = pts + gst_util_uint64_scale_int (n, GST_SECOND, RATE);
    if (speech && self->whisper) {
      item->samples = g_memdup2 (self->window->data, n * sizeof (gfloat));
      item->n_samples = n;
    } else {
      GST_DEBUG_OBJECT (self, "dropping %u quiet samples", n);
    }
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

  return item ? enqueue (self, item) : GST_FLOW_OK;
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
  return take_window (self, self->window->len, self->window_has_speech);
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
    return take_window (self, self->scanned, self->window_has_speech);
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
  return take_window (self, (best + 1) * BLOCK, speech);
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
      ret = take_window (self, self->scanned, self->window_has_speech);
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
  if (!self->live_known) {
    GstQuery *q = gst_query_new_latency ();

    /* live: a full queue drops windows instead of blocking upstream */
    self->live = FALSE;
    if (gst_pad_peer_query (self->sinkpad, q))
      gst_query_parse_latency (q, &self->live, NULL, NULL);
    gst_query_unref (q);
    self->live_known = TRUE;
    GST_DEBUG_OBJECT (self, "upstream is %slive", self->live ? "" : "not ");
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

/* Queues a serialized event behind the windows before it. */
static gboolean
enqueue_event (GstAffectTranscribe *self, GstEvent *event)
{
  Item *item = g_new0 (Item, 1);

  item->event = event;
  return enqueue (self, item) == GST_FLOW_OK;
}

static gboolean
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
  if (!enqueue_event (self, ev))
    return FALSE;
  caps = gst_static_pad_template_get_caps (&src_template);
  ev = gst_event_new_caps (caps);
  gst_caps_unref (caps);
  return enqueue_event (self, ev);
}

static gboolean
gst_affect_transcribe_sink_event (
    GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstAffectTranscribe *self = GST_AFFECT_TRANSCRIBE (parent);
  GstCaps *caps;
  gboolean ok;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:
      ok = push_stream_start (self, event);
      gst_event_unref (event);
      return ok;
    case GST_EVENT_CAPS:
      gst_event_parse_caps (event, &caps);
      ok = set_caps (self, caps);
      gst_event_unref (event);
      return ok;
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
      self->live_known = FALSE;
      /* the text stream's own TIME segment, the same as the audio's */
      gst_event_unref (event);
      return enqueue_event (self, gst_event_new_segment (&self->segment));
    }
    case GST_EVENT_GAP:
      end_piece (self);
      return enqueue_event (self, event);
    case GST_EVENT_EOS:
      GST_DEBUG_OBJECT (self, "EOS: transcribing the last %u samples",
          self->window ? self->window->len : 0);
      end_piece (self);
      /* the worker pushes the words, then EOS: EOS returns once it has */
      if (!enqueue_event (self, event))
        return FALSE;
      return wait_drained (self) == GST_FLOW_OK;
    case GST_EVENT_FLUSH_START:
      /* the queue is dropped; the worker's pushes fail from now on and it
       * pauses after the window it may be transcribing */
      g_mutex_lock (&self->qlock);
      self->flushing = TRUE;
      self->srcresult = GST_FLOW_FLUSHING;
      clear_queue (self, TRUE);
      g_mutex_unlock (&self->qlock);
      return gst_pad_push_event (self->srcpad, event);
    case GST_EVENT_FLUSH_STOP:
      g_mutex_lock (&self->qlock);
      self->flushing = TRUE;
      clear_queue (self, TRUE);
      g_mutex_unlock (&self->qlock);
      /* the stream lock of the source pad: the worker's current item is
       * done (its words dropped) and it has paused */
      GST_PAD_STREAM_LOCK (self->srcpad);
      reset_stream (self);
      gst_segment_init (&self->segment, GST_FORMAT_TIME);
      self->live_known = FALSE;
      ok = gst_pad_push_event (self->srcpad, event);
      g_mutex_lock (&self->qlock);
      self->flushing = FALSE;
      self->srcresult = GST_FLOW_OK;
      g_mutex_unlock (&self->qlock);
      if (GST_PAD_MODE (self->srcpad) == GST_PAD_MODE_PUSH)
        gst_pad_start_task (
            self->srcpad, gst_affect_transcribe_loop, self, NULL);
      GST_PAD_STREAM_UNLOCK (self->srcpad);
      return ok;
    default:
      if (GST_EVENT_IS_SERIALIZED (event))
        return enqueue_event (self, event);
      return gst_pad_event_default (pad, parent, event);
  }
}

/* DRAIN waits until the worker has pushed the text of all the audio before
 * it (the audio gathered in the open window stays there). */
static gboolean
gst_affect_transcribe_sink_query (
    GstPad *pad, GstObject *parent, GstQuery *query)
{
  GstAffectTranscribe *self = GST_AFFECT_TRANSCRIBE (parent);

  if (GST_QUERY_TYPE (query) == GST_QUERY_DRAIN)
    return wait_drained (self) == GST_FLOW_OK;
  return gst_pad_query_default (pad, parent, query);
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
    case PROP_MAX_QUEUE_TIME:
      self->max_queue_time = g_value_get_uint64 (value);
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
    case PROP_MAX_QUEUE_TIME:
      g_value_set_uint64 (value, self->max_queue_time);
      break;
    case PROP_CURRENT_LEVEL_TIME:
      g_mutex_lock (&self->qlock);
      g_value_set_uint64 (value,
          gst_util_uint64_scale_int (self->queued_samples, GST_SECOND, RATE));
      g_mutex_unlock (&self->qlock);
      break;
    case PROP_WINDOWS_DROPPED:
      g_mutex_lock (&self->qlock);
      g_value_set_uint64 (value, self->windows_dropped);
      g_mutex_unlock (&self->qlock);
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
  clear_queue (self, FALSE);
  g_mutex_clear (&self->qlock);
  g_cond_clear (&self->qcond);
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
  /**
   * GstAffectTranscribe:max-queue-time:
   *
   * The most speech audio (ns) waiting in the queue of the worker thread
   * that transcribes the windows. When a new window does not fit, a live
   * element drops the oldest waiting windows unseen (their time goes out as
   * a GAP, see #GstAffectTranscribe:windows-dropped); a non-live one blocks
   * upstream until the worker catches up.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_QUEUE_TIME,
      g_param_spec_uint64 ("max-queue-time", "Maximum queue time",
          "Most speech audio (ns) waiting to be transcribed; when full, live: "
          "the oldest waiting window is dropped, not live: upstream waits",
          MIN_MAX_QUEUE_TIME, MAX_MAX_QUEUE_TIME, DEFAULT_MAX_QUEUE_TIME,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstAffectTranscribe:current-level-time:
   *
   * The speech audio (ns) now waiting in the worker's queue (the window
   * being transcribed is not counted); at most
   * #GstAffectTranscribe:max-queue-time, or one window above an empty
   * queue.
   */
  g_object_class_install_property (gobject_class, PROP_CURRENT_LEVEL_TIME,
      g_param_spec_uint64 ("current-level-time", "Current level time",
          "Speech audio (ns) waiting in the queue of the worker thread", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstAffectTranscribe:windows-dropped:
   *
   * Windows with speech that a live element dropped without transcribing
   * them because the queue was full (since it was created).
   */
  g_object_class_install_property (gobject_class, PROP_WINDOWS_DROPPED,
      g_param_spec_uint64 ("windows-dropped", "Windows dropped",
          "Windows with speech dropped unseen (live, queue full)", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
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
  gst_pad_set_query_function (
      self->sinkpad, GST_DEBUG_FUNCPTR (gst_affect_transcribe_sink_query));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_query_function (
      self->srcpad, GST_DEBUG_FUNCPTR (gst_affect_transcribe_src_query));
  gst_pad_set_activatemode_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_affect_transcribe_src_activate_mode));
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
  g_mutex_init (&self->qlock);
  g_cond_init (&self->qcond);
  g_queue_init (&self->queue);
  self->max_queue_time = DEFAULT_MAX_QUEUE_TIME;
  self->flushing = TRUE;
  self->srcresult = GST_FLOW_FLUSHING;
}
