/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-affectfeatures
 * @title: affectfeatures
 *
 * Computes, for every face of every video frame, the feature vectors that
 * the fusion network (and the expression baseline of affectfuse) work on,
 * and attaches them as #GstAffectFeaturesMeta (one per face, joined to the
 * #GstAffectFaceMeta by track id). The video itself passes through
 * unchanged, with its timestamps.
 *
 * The faces come from upstream (facecrop): each #GstAffectFaceMeta gives the
 * box and the 68 landmarks. Two visual branches are computed, batched over
 * the faces of the frame:
 *
 * - expression (f_exp): the 256 pooled features of face-api's
 *   FaceExpressionNet on its own crop, the landmark bounding box enlarged by
 *   20 % (face-api's `alignedRect`);
 * - image (f_img): the 256 pooled features of face-api's FaceRecognitionNet
 *   (before its final 256→128 projection) on the dlib-style crop computed
 *   from the eye and mouth centres; its size limit is the integer landmark
 *   crop, i.e. the face box clipped to the frame.
 *
 * Each network is fed the crop it was trained on, so that the features match
 * the original JavaScript implementation on the same frame.
 *
 * Faces without landmarks (for example boxes of another detector): the
 * expression branch uses the face box itself as its crop (what face-api does
 * for `detectAllFaces().withFaceExpressions()` without landmarks); the image
 * branch is absent, since the recognition network needs the aligned crop.
 * A crop without any pixel inside the frame gives an absent branch too. The
 * features meta is attached to every face; its `present` flags tell which
 * branches were computed. Branches not computed are left as they are.
 *
 * Only the branches that something downstream reads are computed. When it
 * starts, and again whenever its src pad renegotiates (new video caps, a
 * RECONFIGURE event: an element linked or unlinked downstream),
 * affectfeatures sends the custom query `affect-branches` downstream
 * (elements/affect-branches.h); the elements that know what they read add
 * it: affectfuse the expression branch for its expression baseline, or
 * what its fusion network was trained on (the image branch and the
 * branches named in the model's `features`); `affectsink features=true`
 * every branch; `affectsink features=false` and affectoverlay none. The
 * answers of all of them are combined, across the branches of a tee too.
 * When nothing answers (affectfeatures into an appsink, say: an
 * application may read any feature), every branch is computed. Setting
 * #GstAffectFeatures:branches turns the query off: the property wins. The
 * choice and its reasons are logged (`GST_DEBUG=affectfeatures:4`).
 *
 * The speech branch (f_spe) needs the `audio` request pad: raw F32LE or
 * S16LE audio at any rate and channel count, converted internally to 16 kHz
 * mono. Per video frame, f_spe is the mean of the 10-ms speech frames
 * (13 MFCCs, log energy, F0 in Hz, voicing: 16 floats) whose window centre
 * lies in the frame's running-time span; without such frames (no audio, a
 * GAP, the audio ended) the branch is absent. A frame is processed once the
 * audio covers its end (plus the extractor's look-ahead, reported as
 * latency), the audio pad is EOS, or, live, the aggregator times out. An
  * audio pad left unlinked is ended at once: an absent modality.
 *
 * The word branch (f_wrd) needs the `text` request pad: `text/x-raw`
 * (utf8, or pango-markup whose tags are stripped), e.g. from subparse, or
 * `text/plain`. Each buffer is a cue over [pts, pts + duration) (2 s without
 * a duration) whose words are spread evenly over it; f_wrd of a video frame
 * is the contextual embedding (BERT last hidden state, the mean of the
 * word's pieces) of the word at the middle of the frame, computed with the
 * word model (docs/words.md; default all-MiniLM-L6-v2, 384 floats). No word
 * at that time, or no word model (a warning is posted), leaves the branch
 * absent. A cue that is not valid UTF-8 is skipped with a warning. A frame
 * waits until a cue starting after its middle has arrived, the text pad is
 * EOS or, live, the aggregator times out; an unlinked text pad is ended at
 * once.
 *
 * affectfeatures is a #GstAggregator with an always-present `video` pad.
 * With the video pad alone it behaves like a simple filter: a frame is
 * processed as soon as it arrives, no latency is added (the latency query
 * reports the upstream latency unchanged), the output segment is the video
 * segment and caps, allocation and seeking queries are answered by the
 * elements up- and downstream.
 *
 * When no face meta comes on 30 frames (or before EOS) and no facecrop is
 * upstream (affectfeatures before facecrop, or none), it posts one warning
 * and one "affect-misconfiguration" element message per stream
 * (elements/affect-misconfig.h, docs/elements/affectfeatures.md).
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=talk.mp4 ! decodebin ! videoconvert !
 *     facecrop ! affectfeatures ! affectsink features=true location=f.jsonl
 * ]| Writes the face boxes and both feature vectors of every face.
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! facecrop ! affectfeatures
 *     branches=expression n-threads=2 ! affectfuse ! affectoverlay !
 *     videoconvert ! autovideosink
 * ]| Live expression recognition from a camera, computing only f_exp.
 * |[
 * gst-launch-1.0 filesrc location=talk.mp4 ! decodebin name=d
 *     d. ! videoconvert ! facecrop ! f.video  d. ! audioconvert ! f.audio
 *     affectfeatures name=f ! affectsink features=true location=f.jsonl
 * ]| Visual and speech features of every face.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/affect/affectmeta.h>
#include <gst/video/video.h>

#include "affect-face.h"

#include "affect-branches.h"
#include "affect-engine.h"
#include "affect-engine-settings.h"
#include "affect-misconfig.h"
#include "affect-features-audio.h"
#include "affect-features-text.h"
#include "affect-video.h"
#include "gstaffectfeatures.h"

/* shared with affect-features-audio.c and affect-features-text.c */
GST_DEBUG_CATEGORY (gst_affect_features_debug);
#define GST_CAT_DEFAULT gst_affect_features_debug

#define EXPRESSION_MODEL "face_expression_model"
#define RECOGNITION_MODEL "face_recognition_model"

/* The branches this element computes today. */
#define VISUAL_BRANCHES \
  (GST_AFFECT_MODALITY_IMAGE | GST_AFFECT_MODALITY_EXPRESSION)

#define DEFAULT_BRANCHES \
  (VISUAL_BRANCHES | GST_AFFECT_MODALITY_SPEECH | GST_AFFECT_MODALITY_WORDS)

enum {
  PROP_0,
  PROP_BRANCHES,
  PROP_WORD_MODEL,
  /* backend, n-threads, model-location (affect-engine-settings.h) */
  PROP_ENGINE,
};

/* ------------------------------------------------------------------ */
/* The sink pad                                                        */
/* ------------------------------------------------------------------ */

struct _GstAffectFeaturesPad {
  GstAggregatorPad parent;

  /* Caps of the buffers at the head of the queue: set when the CAPS event
   * is dequeued, in the aggregator's streaming thread. Object lock. */
  GstCaps *caps;
  GstVideoInfo info;
  gboolean have_info;
};

G_DEFINE_TYPE (
    GstAffectFeaturesPad, gst_affect_features_pad, GST_TYPE_AGGREGATOR_PAD);

static void
gst_affect_features_pad_finalize (GObject *object)
{
  GstAffectFeaturesPad *pad = GST_AFFECT_FEATURES_PAD (object);

  gst_clear_caps (&pad->caps);
  G_OBJECT_CLASS (gst_affect_features_pad_parent_class)->finalize (object);
}

static void
gst_affect_features_pad_class_init (GstAffectFeaturesPadClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->finalize = gst_affect_features_pad_finalize;
}

static void
gst_affect_features_pad_init (GstAffectFeaturesPad *pad)
{
  gst_video_info_init (&pad->info);
}

/* ------------------------------------------------------------------ */
/* The element                                                         */
/* ------------------------------------------------------------------ */

struct _GstAffectFeatures {
  GstAggregator parent;

  GstAffectFeaturesPad *video_pad;

  /* properties, object lock */
  GstAffectModalities branches;
  gboolean branches_set; /* set explicitly: it wins over downstream */
  gchar *word_model;
  /* backend, n-threads, model-location and the backend in use */
  AffectEngineSettings engine;

  /* what downstream reads (affect-branches.h), object lock: asked in
   * start() and on every renegotiation; the choice last logged */
  GstAffectModalities negotiated;
  GstAffectModalities chosen;
  gboolean have_chosen;

  /* streaming state: created in start(), used in the aggregator's thread */
  AffectBackend *backend; /* engine.backend (borrowed), start() to stop() */
  /* shared with the other instances of the same settings
   * (affect_engine_settings_acquire_net()) */
  AffectSharedNet *expr_net;
  AffectSharedNet *recog_net;
  AffectVideoRgb *rgb;

  /* The audio and text inputs: their request pads and streaming state
   * (affect-features-audio.c, affect-features-text.c). */
  AffectFeaturesAudio *audio;
  AffectFeaturesText *text;

  /* the misconfiguration watch (affect-misconfig.h), aggregator thread;
   * reset at start, on flush and stream-start: video frames seen, and
   * whether it is decided (a face came, or the warning went) */
  guint64 mc_frames;
  gboolean mc_done;

  /* The seqnum of the flushing seek sent upstream and not yet completed
   * (object lock): the flush events it causes get it on every sink pad
   * (see gst_affect_features_fix_flush_seqnum ()). */
  guint32 seek_seqnum;
  gboolean seeking;
};

static GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE (
    "video", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (AFFECT_VIDEO_CAPS));

static GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE ("audio",
    GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("audio/x-raw, format = (string) { F32LE, S16LE }, "
                     "rate = (int) [ 1, MAX ], channels = (int) [ 1, MAX ], "
                     "layout = (string) interleaved"));

static GstStaticPadTemplate text_template = GST_STATIC_PAD_TEMPLATE ("text",
    GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("text/x-raw, format = (string) { utf8, pango-markup }; "
                     "text/plain"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE (
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (AFFECT_VIDEO_CAPS));

#define gst_affect_features_parent_class parent_class
G_DEFINE_TYPE (GstAffectFeatures, gst_affect_features, GST_TYPE_AGGREGATOR);
GST_ELEMENT_REGISTER_DEFINE (
    affectfeatures, "affectfeatures", GST_RANK_NONE, GST_TYPE_AFFECT_FEATURES);

static void gst_affect_features_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec);
static void gst_affect_features_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec);
static void gst_affect_features_finalize (GObject *object);
static gboolean gst_affect_features_start (GstAggregator *agg);
static gboolean gst_affect_features_stop (GstAggregator *agg);
static gboolean gst_affect_features_sink_event (
    GstAggregator *agg, GstAggregatorPad *pad, GstEvent *event);
static gboolean gst_affect_features_sink_query (
    GstAggregator *agg, GstAggregatorPad *pad, GstQuery *query);
static gboolean gst_affect_features_src_query (
    GstAggregator *agg, GstQuery *query);
static GstFlowReturn gst_affect_features_flush (GstAggregator *agg);
static gboolean gst_affect_features_src_event (
    GstAggregator *agg, GstEvent *event);
static GstClockTime gst_affect_features_get_next_time (GstAggregator *agg);
static gboolean gst_affect_features_negotiate (GstAggregator *agg);
static GstFlowReturn gst_affect_features_update_src_caps (
    GstAggregator *agg, GstCaps *downstream_caps, GstCaps **ret);
static GstFlowReturn gst_affect_features_aggregate (
    GstAggregator *agg, gboolean timeout);
static GstPad *gst_affect_features_request_new_pad (GstElement *element,
    GstPadTemplate *templ, const gchar *name, const GstCaps *caps);
static void gst_affect_features_release_pad (GstElement *element, GstPad *pad);
static GstStateChangeReturn gst_affect_features_change_state (
    GstElement *element, GstStateChange transition);

static void
gst_affect_features_class_init (GstAffectFeaturesClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstAggregatorClass *agg_class = GST_AGGREGATOR_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_affect_features_debug, "affectfeatures", 0,
      "Per-face feature vectors");

  gobject_class->set_property = gst_affect_features_set_property;
  gobject_class->get_property = gst_affect_features_get_property;
  gobject_class->finalize = gst_affect_features_finalize;

  /* GstAffectFeatures:backend, GstAffectFeatures:n-threads,
   * GstAffectFeatures:model-location: the engine settings shared with
   * facecrop and affectfuse (affect-engine-settings.h). The models are
   * face_expression_model and face_recognition_model (model-location may
   * be the file of the one in use when only one visual branch is
   * computed); n-threads also sizes the colour conversion. */
  affect_engine_settings_install (gobject_class, PROP_ENGINE);
  /**
   * GstAffectFeatures:batch-window:
   *
   * Microseconds the expression and image networks wait for the requests
   * of other affectfeatures instances in the process that share them (same
   * model file, backend and n-threads), to run them as one batch; 0 (the
   * default) runs each frame's faces at once. Results do not depend on it.
   */
  affect_engine_settings_install_batch_window (gobject_class, PROP_ENGINE);

  /**
   * GstAffectFeatures:branches:
   *
   * Which branches to compute: image (f_img) and expression (f_exp) from
   * the video, speech (f_spe) when the `audio` request pad exists, words
   * (f_wrd) when the `text` request pad exists. When it is not set, the
   * branches are those something downstream reads (see above; all of them
   * when nothing says); once set, it wins over what downstream asks. May be
   * changed while playing; a network not loaded at start is loaded when
   * its branch is first selected.
   */
  g_object_class_install_property (gobject_class, PROP_BRANCHES,
      g_param_spec_flags ("branches", "Branches",
          "Feature branches to compute (image, expression, speech, words)",
          GST_TYPE_AFFECT_MODALITIES, DEFAULT_BRANCHES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstAffectFeatures:word-model:
   *
   * Folder of the word model of the `text` pad: a Hugging Face BERT folder
   * (`model.safetensors` with the standard BERT tensor names, `vocab.txt`,
   * `config.json`), e.g. all-MiniLM-L6-v2 or bert-base-uncased. %NULL looks
   * for all-MiniLM-L6-v2 in $AFFECT_MODEL_DIR, the installed data folder
   * and the cache filled by `affect-fetch-word-model` (docs/words.md). A
   * folder given here that is not a BERT folder fails the start with an
   * error; a model not found by the default lookup only makes the word
   * branch absent (with a warning).
   */
  g_object_class_install_property (gobject_class, PROP_WORD_MODEL,
      g_param_spec_string ("word-model", "Word model",
          "Folder of the BERT word model for the text pad (model.safetensors, "
          "vocab.txt, config.json); NULL = all-MiniLM-L6-v2 from "
          "$AFFECT_MODEL_DIR, the installed models folder, then the cache "
          "filled by affect-fetch-word-model",
          NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));

  gst_element_class_add_static_pad_template_with_gtype (
      element_class, &video_template, GST_TYPE_AFFECT_FEATURES_PAD);
  gst_element_class_add_static_pad_template_with_gtype (
      element_class, &audio_template, GST_TYPE_AFFECT_FEATURES_PAD);
  gst_element_class_add_static_pad_template_with_gtype (
      element_class, &text_template, GST_TYPE_AFFECT_FEATURES_PAD);
  gst_element_class_add_static_pad_template_with_gtype (
      element_class, &src_template, GST_TYPE_AGGREGATOR_PAD);

  element_class->request_new_pad
      = GST_DEBUG_FUNCPTR (gst_affect_features_request_new_pad);
  element_class->release_pad
      = GST_DEBUG_FUNCPTR (gst_affect_features_release_pad);
  element_class->change_state
      = GST_DEBUG_FUNCPTR (gst_affect_features_change_state);
  gst_element_class_set_static_metadata (element_class, "Affect face features",
      "Filter/Analyzer/Video",
      "Computes per-face feature vectors (expression embedding and image "
      "feature) and attaches them as metadata",
      "gst-affect developers <https://github.com/gst-affect/gst-affect>");

  agg_class->start = GST_DEBUG_FUNCPTR (gst_affect_features_start);
  agg_class->stop = GST_DEBUG_FUNCPTR (gst_affect_features_stop);
  agg_class->sink_event = GST_DEBUG_FUNCPTR (gst_affect_features_sink_event);
  agg_class->sink_query = GST_DEBUG_FUNCPTR (gst_affect_features_sink_query);
  agg_class->src_query = GST_DEBUG_FUNCPTR (gst_affect_features_src_query);
  agg_class->update_src_caps
      = GST_DEBUG_FUNCPTR (gst_affect_features_update_src_caps);
  agg_class->negotiate = GST_DEBUG_FUNCPTR (gst_affect_features_negotiate);
  agg_class->aggregate = GST_DEBUG_FUNCPTR (gst_affect_features_aggregate);
  agg_class->flush = GST_DEBUG_FUNCPTR (gst_affect_features_flush);
  agg_class->src_event = GST_DEBUG_FUNCPTR (gst_affect_features_src_event);
  agg_class->get_next_time
      = GST_DEBUG_FUNCPTR (gst_affect_features_get_next_time);

  gst_type_mark_as_plugin_api (GST_TYPE_AFFECT_FEATURES_PAD, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_AFFECT_MODALITIES, 0);
}

static void
gst_affect_features_init (GstAffectFeatures *self)
{
  GstAggregator *agg = GST_AGGREGATOR (self);
  GstPadTemplate *templ;

  affect_engine_settings_init (&self->engine);
  self->branches = DEFAULT_BRANCHES;
  self->negotiated = DEFAULT_BRANCHES;

  templ = gst_static_pad_template_get (&video_template);
  self->video_pad = g_object_new (GST_TYPE_AFFECT_FEATURES_PAD, "name", "video",
      "direction", GST_PAD_SINK, "template", templ, NULL);
  gst_object_unref (templ);
  /* caps queries go through to the peers; a CAPS event must fit the
   * template (the networks need one of these formats) */
  GST_PAD_SET_PROXY_CAPS (self->video_pad);
  GST_PAD_SET_ACCEPT_TEMPLATE (self->video_pad);
  gst_element_add_pad (GST_ELEMENT (self), GST_PAD (self->video_pad));

  GST_PAD_SET_PROXY_CAPS (agg->srcpad);

  self->audio = affect_features_audio_new (agg);
  self->text = affect_features_text_new (agg);
}

static void
gst_affect_features_finalize (GObject *object)
{
  GstAffectFeatures *self = GST_AFFECT_FEATURES (object);

  affect_engine_settings_clear (&self->engine);
  g_free (self->word_model);
  affect_features_audio_free (self->audio);
  affect_features_text_free (self->text);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_affect_features_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstAffectFeatures *self = GST_AFFECT_FEATURES (object);

  if (affect_engine_settings_set_property (
          &self->engine, GST_ELEMENT (self), PROP_ENGINE, prop_id, value))
    return;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_WORD_MODEL:
      g_free (self->word_model);
      self->word_model = g_value_dup_string (value);
      break;
    case PROP_BRANCHES:
      self->branches = g_value_get_flags (value);
      self->branches_set = TRUE;
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_affect_features_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstAffectFeatures *self = GST_AFFECT_FEATURES (object);

  if (affect_engine_settings_get_property (
          &self->engine, GST_ELEMENT (self), PROP_ENGINE, prop_id, value))
    return;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_WORD_MODEL:
      g_value_set_string (value, self->word_model);
      break;
    case PROP_BRANCHES:
      g_value_set_flags (value, self->branches);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ------------------------------------------------------------------ */
/* Models                                                              */
/* ------------------------------------------------------------------ */

/* Loads the networks of @branches that are not loaded yet. Streaming thread
 * or start(). */
static gboolean
gst_affect_features_load (GstAffectFeatures *self, GstAffectModalities branches)
{
  if ((branches & GST_AFFECT_MODALITY_EXPRESSION) && self->expr_net == NULL) {
    self->expr_net = affect_engine_settings_acquire_net (&self->engine,
        GST_ELEMENT (self), affect_expression_net_class (), EXPRESSION_MODEL);
    if (self->expr_net == NULL)
      return FALSE;
  }

  if ((branches & GST_AFFECT_MODALITY_IMAGE) && self->recog_net == NULL) {
    self->recog_net = affect_engine_settings_acquire_net (&self->engine,
        GST_ELEMENT (self), affect_recognition_net_class (), RECOGNITION_MODEL);
    if (self->recog_net == NULL)
      return FALSE;
  }

  return TRUE;
}

static void
gst_affect_features_free_models (GstAffectFeatures *self)
{
  affect_engine_settings_release_net (GST_ELEMENT (self), &self->expr_net);
  affect_engine_settings_release_net (GST_ELEMENT (self), &self->recog_net);
  self->backend = NULL;
  affect_engine_settings_stop (&self->engine);
}

/* The branches to compute: the branches property when it was set
 * explicitly, else what downstream reads, asked with the affect-branches
 * query (affect-branches.h); every branch when nothing downstream answers
 * (an application may read any feature). Logs the choice and why when it
 * changes. start() or the streaming thread. */
static GstAffectModalities
gst_affect_features_choose_branches (GstAffectFeatures *self)
{
  GstAffectModalities branches, asked = 0;
  const gchar *answers = NULL;
  gboolean set, changed;
  gchar *why, *names;

  GST_OBJECT_LOCK (self);
  set = self->branches_set;
  branches = self->branches;
  GST_OBJECT_UNLOCK (self);

  if (set) {
    why = g_strdup ("the branches property is set");
  } else {
    GstQuery *query = affect_branches_query_new ();

    /* the answer is in the query, whatever the return value */
    gst_pad_peer_query (GST_AGGREGATOR_SRC_PAD (self), query);
    if (affect_branches_query_parse (query, &asked, &answers)) {
      branches = asked & DEFAULT_BRANCHES;
      why = g_strdup_printf ("what downstream reads: %s", answers);
    } else {
      branches = DEFAULT_BRANCHES;
      why = g_strdup ("nothing downstream answered the affect-branches "
                      "query, so every branch");
    }
    gst_query_unref (query);
  }

  GST_OBJECT_LOCK (self);
  changed = !self->have_chosen || self->chosen != branches;
  self->chosen = branches;
  self->have_chosen = TRUE;
  if (!set)
    self->negotiated = branches;
  GST_OBJECT_UNLOCK (self);

  if (changed) {
    names = affect_branches_to_string (branches);
    GST_INFO_OBJECT (self, "computing the branches %s: %s", names, why);
    g_free (names);
  }
  g_free (why);
  return branches;
}

static gboolean
gst_affect_features_start (GstAggregator *agg)
{
  GstAffectFeatures *self = GST_AFFECT_FEATURES (agg);
  gchar *word_model;
  GstAffectModalities branches;
  gboolean ok;

  GST_OBJECT_LOCK (self);
  word_model = g_strdup (self->word_model);
  GST_OBJECT_UNLOCK (self);

  if (!affect_engine_settings_start (&self->engine, GST_ELEMENT (self))) {
    g_free (word_model);
    return FALSE;
  }
  self->backend = self->engine.backend;
  self->mc_frames = 0;
  self->mc_done = FALSE;

  /* only the networks of the branches something reads are loaded now;
   * another one is loaded when its branch is first asked for */
  branches = gst_affect_features_choose_branches (self);
  ok = gst_affect_features_load (self, branches)
       && affect_features_text_start (self->text, &self->engine, word_model)
       && affect_features_audio_start (self->audio);
  g_free (word_model);
  if (!ok) {
    affect_features_text_stop (self->text);
    gst_affect_features_free_models (self);
    return FALSE;
  }
  self->rgb = affect_video_rgb_new ();
  return TRUE;
}

static gboolean
gst_affect_features_stop (GstAggregator *agg)
{
  GstAffectFeatures *self = GST_AFFECT_FEATURES (agg);

  gst_affect_features_free_models (self);
  g_clear_pointer (&self->rgb, affect_video_rgb_free);
  GST_OBJECT_LOCK (self);
  self->negotiated = DEFAULT_BRANCHES;
  self->have_chosen = FALSE;
  self->seeking = FALSE;
  GST_OBJECT_UNLOCK (self);
  affect_features_audio_stop (self->audio);
  affect_features_text_stop (self->text);

  GST_OBJECT_LOCK (self->video_pad);
  gst_clear_caps (&self->video_pad->caps);
  self->video_pad->have_info = FALSE;
  GST_OBJECT_UNLOCK (self->video_pad);

  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Events, queries, caps                                               */
/* ------------------------------------------------------------------ */

static gboolean
gst_affect_features_set_video_caps (
    GstAffectFeatures *self, GstAffectFeaturesPad *pad, GstCaps *caps)
{
  GstVideoInfo info;

  if (!gst_video_info_from_caps (&info, caps)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("Invalid video caps %" GST_PTR_FORMAT, caps));
    return FALSE;
  }

  GST_DEBUG_OBJECT (pad, "caps %" GST_PTR_FORMAT, caps);
  GST_OBJECT_LOCK (pad);
  gst_caps_replace (&pad->caps, caps);
  pad->info = info;
  pad->have_info = TRUE;
  GST_OBJECT_UNLOCK (pad);

  /* the src caps follow before the next buffer goes out */
  gst_pad_mark_reconfigure (GST_AGGREGATOR_SRC_PAD (self));
  return TRUE;
}

/* A flushing seek from downstream: remember its seqnum until the flush is
 * over (gst_affect_features_flush ()). */
static gboolean
gst_affect_features_src_event (GstAggregator *agg, GstEvent *event)
{
  GstAffectFeatures *self = GST_AFFECT_FEATURES (agg);
  gboolean flushing_seek = FALSE, ret;
  guint32 seqnum = gst_event_get_seqnum (event);

  if (GST_EVENT_TYPE (event) == GST_EVENT_SEEK) {
    GstSeekFlags flags;

    gst_event_parse_seek (event, NULL, NULL, &flags, NULL, NULL, NULL, NULL);
    if (flags & GST_SEEK_FLAG_FLUSH) {
      flushing_seek = TRUE;
      GST_OBJECT_LOCK (self);
      self->seek_seqnum = seqnum;
      self->seeking = TRUE;
      GST_OBJECT_UNLOCK (self);
    }
  }
  ret = GST_AGGREGATOR_CLASS (parent_class)->src_event (agg, event);
  if (flushing_seek && !ret) {
    /* no flush to wait for: GstAggregator ended it itself */
    GST_OBJECT_LOCK (self);
    if (self->seek_seqnum == seqnum)
      self->seeking = FALSE;
    GST_OBJECT_UNLOCK (self);
  }
  return ret;
}

/* GstAggregator ends a flushing seek (forwards FLUSH_STOP and restarts its
 * streaming task) only when every sink pad has had a FLUSH_STOP with the
 * seek's seqnum. Some upstream elements send the seek on as a new event
 * with a seqnum of its own (subparse turns the TIME seek into a BYTES seek
 * to 0), so the flush events on their pad carry another seqnum and the
 * element would stay stopped for good: the hang of issue 14 item 6 (see
 * tests/torture/README.md). While our flushing seek is under way, flush
 * events with another seqnum are given the seek's. */
static GstEvent *
gst_affect_features_fix_flush_seqnum (
    GstAffectFeatures *self, GstAggregatorPad *aggpad, GstEvent *event)
{
  guint32 seqnum = gst_event_get_seqnum (event);
  guint32 want;
  gboolean seeking;

  GST_OBJECT_LOCK (self);
  seeking = self->seeking;
  want = self->seek_seqnum;
  GST_OBJECT_UNLOCK (self);
  if (!seeking || seqnum == want)
    return event;
  GST_DEBUG_OBJECT (aggpad,
      "%s with seqnum %u during our flushing seek %u: given the seek's",
      GST_EVENT_TYPE_NAME (event), seqnum, want);
  event = gst_event_make_writable (event);
  gst_event_set_seqnum (event, want);
  return event;
}

/* Called in the streaming thread, in order with the buffers. */
static gboolean
gst_affect_features_sink_event (
    GstAggregator *agg, GstAggregatorPad *aggpad, GstEvent *event)
{
  GstAffectFeatures *self = GST_AFFECT_FEATURES (agg);
  gboolean ret;

  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_START
      || GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP)
    event = gst_affect_features_fix_flush_seqnum (self, aggpad, event);

  if (aggpad != GST_AGGREGATOR_PAD (self->video_pad)) {
    /* the audio or the text pad */
    if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
      GstCaps *caps;

      gst_event_parse_caps (event, &caps);
      if (affect_features_audio_has_pad (self->audio, GST_PAD (aggpad))) {
        ret = affect_features_audio_set_caps (self->audio, aggpad, caps);
      } else {
        affect_features_text_set_caps (self->text, caps);
        ret = TRUE;
      }
      gst_event_unref (event);
      return ret;
    }
    return GST_AGGREGATOR_CLASS (parent_class)->sink_event (agg, aggpad, event);
  }

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:
      /* a new stream: the misconfiguration watch starts afresh */
      self->mc_frames = 0;
      self->mc_done = FALSE;
      break;
    case GST_EVENT_CAPS: {
      GstCaps *caps;

      gst_event_parse_caps (event, &caps);
      ret = gst_affect_features_set_video_caps (
          self, GST_AFFECT_FEATURES_PAD (aggpad), caps);
      gst_event_unref (event);
      return ret;
    }
    case GST_EVENT_SEGMENT: {
      const GstSegment *segment;

      gst_event_parse_segment (event, &segment);
      if (segment->format != GST_FORMAT_TIME) {
        GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
            ("Only TIME segments are supported, got %s",
                gst_format_get_name (segment->format)));
        gst_event_unref (event);
        return FALSE;
      }
      /* the output segment is the video segment */
      gst_aggregator_update_segment (agg, segment);
      return GST_AGGREGATOR_CLASS (parent_class)
          ->sink_event (agg, aggpad, event);
    }
    default:
      break;
  }

  return GST_AGGREGATOR_CLASS (parent_class)->sink_event (agg, aggpad, event);
}

static gboolean
gst_affect_features_sink_query (
    GstAggregator *agg, GstAggregatorPad *aggpad, GstQuery *query)
{
  GstAffectFeatures *self = GST_AFFECT_FEATURES (agg);

  if (aggpad == GST_AGGREGATOR_PAD (self->video_pad)
      && GST_QUERY_TYPE (query) == GST_QUERY_ALLOCATION) {
    /* The video buffers are forwarded, never copied: whoever is
     * downstream decides how they are allocated. */
    return gst_pad_peer_query (GST_AGGREGATOR_SRC_PAD (agg), query);
  }
  if (aggpad != GST_AGGREGATOR_PAD (self->video_pad)
      && GST_QUERY_TYPE (query) == GST_QUERY_CAPS) {
    /* audio and text: what the template takes, whatever the video does */
    GstCaps *filter, *caps;

    gst_query_parse_caps (query, &filter);
    caps = gst_pad_get_pad_template_caps (GST_PAD (aggpad));
    if (filter) {
      GstCaps *tmp
          = gst_caps_intersect_full (filter, caps, GST_CAPS_INTERSECT_FIRST);

      gst_caps_unref (caps);
      caps = tmp;
    }
    gst_query_set_caps_result (query, caps);
    gst_caps_unref (caps);
    return TRUE;
  }

  return GST_AGGREGATOR_CLASS (parent_class)->sink_query (agg, aggpad, query);
}

static gboolean
gst_affect_features_src_query (GstAggregator *agg, GstQuery *query)
{
  GstAffectFeatures *self = GST_AFFECT_FEATURES (agg);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_SEEKING:
      /* as seekable as the video is (the default answer of the aggregator
       * is "not seekable") */
      return gst_pad_peer_query (GST_PAD (self->video_pad), query);
    case GST_QUERY_CAPS: {
      /* the output is the video: only the video input constrains it (the
       * default would intersect the audio and text caps too: EMPTY) */
      GstCaps *filter, *templ, *caps, *res;

      gst_query_parse_caps (query, &filter);
      templ = gst_pad_get_pad_template_caps (GST_AGGREGATOR_SRC_PAD (agg));
      caps = gst_pad_peer_query_caps (GST_PAD (self->video_pad), templ);
      res = filter ? gst_caps_intersect_full (
                filter, caps, GST_CAPS_INTERSECT_FIRST)
                   : gst_caps_ref (caps);
      gst_query_set_caps_result (query, res);
      gst_caps_unref (res);
      gst_caps_unref (caps);
      gst_caps_unref (templ);
      return TRUE;
    }
    case GST_QUERY_CUSTOM:
      if (affect_upstream_query_is (query)) {
        /* who is upstream (affect-misconfig.h): us, then the video side */
        affect_upstream_query_add (query, "affectfeatures", GST_OBJECT (self));
        return gst_pad_peer_query (GST_PAD (self->video_pad), query);
      }
      break;
    default:
      break;
  }

  /* LATENCY: the aggregator adds its "latency" property (0) to the
   * upstream latency, so the latency is reported unchanged. */
  return GST_AGGREGATOR_CLASS (parent_class)->src_query (agg, query);
}

/* Live: the deadline of the next output frame is the running time of the
 * video frame at the head of the queue (the aggregator adds the latency);
 * once it passes, the frame goes out with the audio and text there are, so
 * a pad that never delivers cannot stall the pipeline. Without a video
 * frame there is nothing to time out for, unless the video ended. */
static GstClockTime
gst_affect_features_get_next_time (GstAggregator *agg)
{
  GstAffectFeatures *self = GST_AFFECT_FEATURES (agg);
  GstAggregatorPad *vpad = GST_AGGREGATOR_PAD (self->video_pad);
  GstClockTime t = GST_CLOCK_TIME_NONE;
  GstBuffer *buf;

  buf = gst_aggregator_pad_peek_buffer (vpad);
  if (buf == NULL) {
    /* the video ended: finish now, whatever the other pads do */
    return gst_aggregator_pad_is_eos (vpad) ? 0 : GST_CLOCK_TIME_NONE;
  }
  GST_OBJECT_LOCK (vpad);
  if (GST_BUFFER_PTS_IS_VALID (buf))
    t = gst_segment_to_running_time (
        &vpad->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buf));
  GST_OBJECT_UNLOCK (vpad);
  gst_buffer_unref (buf);
  /* a frame without a time: go on at once */
  return GST_CLOCK_TIME_IS_VALID (t) ? t : 0;
}

/* A flushing seek: the queued speech frames belong to the old position.
 * Called once every sink pad has had its FLUSH_STOP: the seek is over. */
static GstFlowReturn
gst_affect_features_flush (GstAggregator *agg)
{
  GstAffectFeatures *self = GST_AFFECT_FEATURES (agg);

  GST_OBJECT_LOCK (self);
  self->seeking = FALSE;
  GST_OBJECT_UNLOCK (self);

  affect_features_audio_flush (self->audio);
  affect_features_text_flush (self->text);
  self->mc_frames = 0;
  self->mc_done = FALSE;
  if (GST_AGGREGATOR_CLASS (parent_class)->flush)
    return GST_AGGREGATOR_CLASS (parent_class)->flush (agg);
  return GST_FLOW_OK;
}

/* Called before the next frame when the src pad needs to renegotiate:
 * new video caps, or a RECONFIGURE event from downstream (an element
 * linked or unlinked there, e.g. a new branch of a tee). What downstream
 * reads may have changed with it: ask again. */
static gboolean
gst_affect_features_negotiate (GstAggregator *agg)
{
  gboolean ret = GST_AGGREGATOR_CLASS (parent_class)->negotiate (agg);

  gst_affect_features_choose_branches (GST_AFFECT_FEATURES (agg));
  return ret;
}

static GstFlowReturn
gst_affect_features_update_src_caps (
    GstAggregator *agg, GstCaps *downstream_caps, GstCaps **ret)
{
  GstAffectFeatures *self = GST_AFFECT_FEATURES (agg);
  GstCaps *caps = NULL;

  GST_OBJECT_LOCK (self->video_pad);
  if (self->video_pad->caps)
    caps = gst_caps_ref (self->video_pad->caps);
  GST_OBJECT_UNLOCK (self->video_pad);

  if (caps == NULL)
    return GST_AGGREGATOR_FLOW_NEED_DATA;

  if (!gst_caps_can_intersect (caps, downstream_caps)) {
    GST_WARNING_OBJECT (self,
        "downstream does not accept %" GST_PTR_FORMAT
        " (it takes %" GST_PTR_FORMAT ")",
        caps, downstream_caps);
    gst_caps_unref (caps);
    return GST_FLOW_NOT_NEGOTIATED;
  }

  *ret = caps;
  return GST_FLOW_OK;
}

/* ------------------------------------------------------------------ */
/* The request pads (affect-features-audio.c, affect-features-text.c)  */
/* ------------------------------------------------------------------ */

static GstPad *
gst_affect_features_request_new_pad (GstElement *element, GstPadTemplate *templ,
    const gchar *name, const GstCaps *caps)
{
  GstAffectFeatures *self = GST_AFFECT_FEATURES (element);
  GstElementClass *klass = GST_ELEMENT_GET_CLASS (element);

  if (templ == gst_element_class_get_pad_template (klass, "text"))
    return affect_features_text_request_pad (self->text, templ);
  if (templ == gst_element_class_get_pad_template (klass, "audio"))
    return affect_features_audio_request_pad (self->audio, templ);

  GST_WARNING_OBJECT (self, "no request pad of template %s",
      GST_PAD_TEMPLATE_NAME_TEMPLATE (templ));
  return NULL;
}

static void
gst_affect_features_release_pad (GstElement *element, GstPad *pad)
{
  GstAffectFeatures *self = GST_AFFECT_FEATURES (element);

  if (!affect_features_audio_release_pad (self->audio, pad))
    affect_features_text_release_pad (self->text, pad);

  GST_ELEMENT_CLASS (parent_class)->release_pad (element, pad);
}

/* An audio or text pad that nobody linked is an absent modality: it is
 * ended at once, so that the aggregator does not wait for it. Takes
 * @pad. */
static void
gst_affect_features_end_unlinked_pad (
    GstAffectFeatures *self, GstAggregatorPad *pad)
{
  GstSegment segment;
  gchar *id;

  if (pad == NULL)
    return;
  if (gst_pad_is_linked (GST_PAD (pad))) {
    gst_object_unref (pad);
    return;
  }

  GST_INFO_OBJECT (
      self, "%s pad not linked: absent modality", GST_PAD_NAME (pad));
  id = g_strdup_printf ("affectfeatures-%s", GST_PAD_NAME (pad));
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_send_event (GST_PAD (pad), gst_event_new_stream_start (id));
  gst_pad_send_event (GST_PAD (pad), gst_event_new_segment (&segment));
  gst_pad_send_event (GST_PAD (pad), gst_event_new_eos ());
  gst_object_unref (pad);
  g_free (id);
}

static void
gst_affect_features_end_unlinked (GstAffectFeatures *self)
{
  gst_affect_features_end_unlinked_pad (
      self, affect_features_audio_ref_pad (self->audio));
  gst_affect_features_end_unlinked_pad (
      self, affect_features_text_ref_pad (self->text));
}

static GstStateChangeReturn
gst_affect_features_change_state (
    GstElement *element, GstStateChange transition)
{
  GstAffectFeatures *self = GST_AFFECT_FEATURES (element);
  GstStateChangeReturn ret;

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    gst_affect_features_end_unlinked (self);

  return ret;
}

/* ------------------------------------------------------------------ */
/* Processing                                                          */
/* ------------------------------------------------------------------ */

typedef struct {
  guint track_id;
  gboolean has_exp, has_img;
  AffectBox exp_box, img_box;
} FaceJob;

/* Whether @box has at least one pixel inside @img. */
static gboolean
box_usable (const AffectImage *img, const AffectBox *box)
{
  int used[4];

  return affect_image_crop_box (img, box, used);
}

/* Decides the crops of every face of @buffer. */
static FaceJob *
gst_affect_features_plan (GstAffectFeatures *self, GstBuffer *buffer,
    const AffectImage *img, GstAffectModalities branches, guint *n_jobs)
{
  GstAffectFaceMeta *face;
  gpointer state = NULL;
  guint n = 0, max = gst_buffer_get_n_affect_faces (buffer);
  FaceJob *jobs = g_new0 (FaceJob, MAX (max, 1));

  while ((face = gst_buffer_iterate_affect_face_meta (buffer, &state))
         && n < max) {
    FaceJob *job = &jobs[n++];
    AffectBox face_box = { face->x, face->y, face->width, face->height };

    job->track_id = face->track_id;

    if (branches & GST_AFFECT_MODALITY_EXPRESSION) {
      job->exp_box = face->has_landmarks
                         ? affect_landmarks_aligned_rect (face->landmarks)
                         : face_box;
      job->has_exp = box_usable (img, &job->exp_box);
    }

    if ((branches & GST_AFFECT_MODALITY_IMAGE) && face->has_landmarks) {
      int crop[4];

      /* the landmarks were computed on the face box clipped to the frame:
       * its integer size bounds the dlib-style crop */
      if (affect_image_crop_box (img, &face_box, crop)) {
        job->img_box
            = affect_landmarks_dlib_rect (face->landmarks, crop[2], crop[3]);
        job->has_img = box_usable (img, &job->img_box);
      }
    }

    GST_LOG_OBJECT (self, "face %u: expression %s, image %s", job->track_id,
        job->has_exp ? "yes" : "no", job->has_img ? "yes" : "no");
  }

  *n_jobs = n;
  return jobs;
}

/* Runs the networks of @branches on the faces of @buffer and attaches the
 * features metas. */
static GstFlowReturn
gst_affect_features_process (GstAffectFeatures *self, GstBuffer *buffer,
    const GstVideoInfo *info, GstAffectModalities branches)
{
  GstVideoFrame frame;
  AffectImage img;
  GError *error = NULL;
  FaceJob *jobs;
  AffectBox *boxes;
  float *exp_feat = NULL, *img_feat = NULL, *scratch;
  guint n_jobs, i, n_exp = 0, n_img = 0;
  AffectSharedNet *failed_net = NULL;
  gboolean ok = TRUE;
  gint64 window = affect_engine_settings_get_batch_window (
      &self->engine, GST_ELEMENT (self));

  if (!gst_video_frame_map (&frame, info, buffer, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, (NULL),
        ("Cannot map the video frame %" GST_PTR_FORMAT, buffer));
    return GST_FLOW_ERROR;
  }

  if (!affect_video_rgb_convert (
          self->rgb, &frame, self->engine.cur_n_threads, &img, &error)) {
    gst_video_frame_unmap (&frame);
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
        ("Cannot convert the frame to RGB: %s", error->message));
    g_clear_error (&error);
    return GST_FLOW_ERROR;
  }

  jobs = gst_affect_features_plan (self, buffer, &img, branches, &n_jobs);
  boxes = g_new (AffectBox, MAX (n_jobs, 1));

  for (i = 0; i < n_jobs; i++)
    if (jobs[i].has_exp)
      boxes[n_exp++] = jobs[i].exp_box;
  if (n_exp > 0) {
    exp_feat = g_new (float, (gsize)n_exp *AFFECT_EXPRESSION_N_FEATURES);
    scratch = g_new (float, (gsize)n_exp *AFFECT_EXPRESSION_N_LABELS);
    ok = affect_expression_net_run_shared (self->expr_net, window, &img, boxes,
        n_exp, scratch, exp_feat, NULL, &error);
    if (!ok)
      failed_net = self->expr_net;
    g_free (scratch);
  }

  for (i = 0; ok && i < n_jobs; i++)
    if (jobs[i].has_img)
      boxes[n_img++] = jobs[i].img_box;
  if (ok && n_img > 0) {
    img_feat = g_new (float, (gsize)n_img *AFFECT_RECOGNITION_N_FEATURES);
    scratch = g_new (float, (gsize)n_img *AFFECT_RECOGNITION_N_DESCRIPTOR);
    ok = affect_recognition_net_run_shared (self->recog_net, window, &img,
        boxes, n_img, scratch, img_feat, NULL, &error);
    if (!ok)
      failed_net = self->recog_net;
    g_free (scratch);
  }

  gst_video_frame_unmap (&frame);
  g_free (boxes);

  if (!ok) {
    /* a GPU failure (device memory, a kernel, a copy) names the device and
     * the op */
    if (!affect_engine_settings_post_run_error (
            GST_ELEMENT (self), failed_net, error))
      GST_ELEMENT_ERROR (self, STREAM, FAILED, (NULL),
          ("Face network failed: %s", error->message));
    g_clear_error (&error);
    g_free (jobs);
    g_free (exp_feat);
    g_free (img_feat);
    return GST_FLOW_ERROR;
  }

  n_exp = n_img = 0;
  for (i = 0; i < n_jobs; i++) {
    GstAffectFeaturesMeta *meta
        = gst_buffer_add_affect_features_meta (buffer, jobs[i].track_id);

    if (branches & GST_AFFECT_MODALITY_EXPRESSION) {
      if (jobs[i].has_exp)
        gst_affect_features_meta_set (meta, GST_AFFECT_BRANCH_EXPRESSION,
            exp_feat + (gsize)(n_exp++) * AFFECT_EXPRESSION_N_FEATURES,
            AFFECT_EXPRESSION_N_FEATURES);
      else
        gst_affect_features_meta_clear (meta, GST_AFFECT_BRANCH_EXPRESSION);
    }
    if (branches & GST_AFFECT_MODALITY_IMAGE) {
      if (jobs[i].has_img)
        gst_affect_features_meta_set (meta, GST_AFFECT_BRANCH_IMAGE,
            img_feat + (gsize)(n_img++) * AFFECT_RECOGNITION_N_FEATURES,
            AFFECT_RECOGNITION_N_FEATURES);
      else
        gst_affect_features_meta_clear (meta, GST_AFFECT_BRANCH_IMAGE);
    }
  }

  g_free (jobs);
  g_free (exp_feat);
  g_free (img_feat);
  return GST_FLOW_OK;
}

/* Sets (or, for %NULL @spe, clears) @branch on every face of @buffer. */
static void
gst_affect_features_attach (GstAffectFeatures *self, GstBuffer *buffer,
    GstAffectBranch branch, const float *spe, guint n)
{
  GstAffectFaceMeta *face;
  gpointer state = NULL;
  guint *tracks, n_tracks = 0, i, max = gst_buffer_get_n_affect_faces (buffer);

  if (max == 0)
    return;
  /* collect the track ids first: adding metas while iterating is unsafe */
  tracks = g_new (guint, max);
  while ((face = gst_buffer_iterate_affect_face_meta (buffer, &state))
         && n_tracks < max)
    tracks[n_tracks++] = face->track_id;

  for (i = 0; i < n_tracks; i++) {
    GstAffectFeaturesMeta *meta
        = gst_buffer_add_affect_features_meta (buffer, tracks[i]);

    if (spe != NULL)
      gst_affect_features_meta_set (meta, branch, spe, n);
    else
      gst_affect_features_meta_clear (meta, branch);
  }
  g_free (tracks);
}

/* The misconfiguration watch (affect-misconfig.h): after
 * AFFECT_MISCONFIG_FRAMES video frames without a single face meta, or at
 * @eos after fewer, a pipeline without facecrop upstream gets one warning;
 * behind a facecrop, frames without faces are a legitimate stream. */
static void
gst_affect_features_watch_decide (GstAffectFeatures *self, gboolean eos)
{
  gchar *text;

  if (self->mc_done || self->mc_frames < (eos ? 1 : AFFECT_MISCONFIG_FRAMES))
    return;
  self->mc_done = TRUE;
  if (affect_upstream_has_facecrop (GST_PAD (self->video_pad), NULL)) {
    GST_DEBUG_OBJECT (self, "no faces yet, but a facecrop is upstream");
    return;
  }
  text = g_strdup_printf ("No faces reach affectfeatures (%" G_GUINT64_FORMAT
                          " frame(s) without a face meta) and there is no "
                          "facecrop upstream, so it computes no features.",
      self->mc_frames);
  affect_misconfig_post (GST_ELEMENT (self), AFFECT_MISCONFIG_REASON_NO_FACES,
      NULL, self->mc_frames, text,
      "Put facecrop before affectfeatures "
      "(facecrop ! affectfeatures ! affectfuse).");
  g_free (text);
}

static void
gst_affect_features_watch (GstAffectFeatures *self, GstBuffer *buffer)
{
  if (self->mc_done)
    return;
  self->mc_frames++;
  if (gst_buffer_get_n_affect_faces (buffer) > 0) {
    self->mc_done = TRUE;
    return;
  }
  gst_affect_features_watch_decide (self, FALSE);
}

static GstFlowReturn
gst_affect_features_aggregate (GstAggregator *agg, gboolean timeout)
{
  GstAffectFeatures *self = GST_AFFECT_FEATURES (agg);
  GstAggregatorPad *vpad = GST_AGGREGATOR_PAD (self->video_pad);
  GstAffectModalities branches;
  GstVideoInfo info;
  gboolean have_info;
  GstBuffer *buffer;
  GstFlowReturn ret;
  GstAggregatorPad *apad = NULL, *tpad = NULL;
  const float *wrd = NULL;
  guint wrd_len = 0;
  GstClockTime vstart = GST_CLOCK_TIME_NONE, vend = GST_CLOCK_TIME_NONE;
  float spe[AFFECT_FEATURES_SPEECH_MAX];
  guint n_spe = 0, spe_len = 0;

  buffer = gst_aggregator_pad_peek_buffer (vpad);
  if (buffer == NULL) {
    if (gst_aggregator_pad_is_eos (vpad)) {
      GST_DEBUG_OBJECT (self, "video pad is EOS");
      gst_affect_features_watch_decide (self, TRUE);
      return GST_FLOW_EOS;
    }
    return GST_AGGREGATOR_FLOW_NEED_DATA;
  }

  GST_OBJECT_LOCK (self);
  branches = self->branches_set ? self->branches : self->negotiated;
  GST_OBJECT_UNLOCK (self);

  apad = affect_features_audio_ref_pad (self->audio);
  tpad = affect_features_text_ref_pad (self->text);

  if ((apad != NULL || tpad != NULL) && GST_BUFFER_PTS_IS_VALID (buffer)
      && !(GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_GAP)
           && gst_buffer_get_size (buffer) == 0)) {
    /* the running-time span of the frame */
    GST_OBJECT_LOCK (vpad);
    vstart = gst_segment_to_running_time (
        &vpad->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buffer));
    if (GST_CLOCK_TIME_IS_VALID (vstart)) {
      if (GST_BUFFER_DURATION_IS_VALID (buffer))
        vend = vstart + GST_BUFFER_DURATION (buffer);
      else if (self->video_pad->have_info
               && GST_VIDEO_INFO_FPS_N (&self->video_pad->info) > 0)
        vend = vstart
               + gst_util_uint64_scale (GST_SECOND,
                   GST_VIDEO_INFO_FPS_D (&self->video_pad->info),
                   GST_VIDEO_INFO_FPS_N (&self->video_pad->info));
      else
        vend = vstart + 1;
    }
    GST_OBJECT_UNLOCK (vpad);

    ret = GST_FLOW_OK;
    if (apad != NULL)
      ret = affect_features_audio_collect (self->audio, apad, vend, timeout);
    /* the word spoken at the middle of the frame */
    if (ret == GST_FLOW_OK && tpad != NULL && GST_CLOCK_TIME_IS_VALID (vstart))
      ret = affect_features_text_collect (self->text, tpad,
          vstart + (vend - vstart) / 2, timeout,
          (branches & GST_AFFECT_MODALITY_WORDS) != 0);
    if (ret != GST_FLOW_OK) {
      g_clear_object (&apad);
      g_clear_object (&tpad);
      gst_buffer_unref (buffer);
      return ret;
    }
    if (tpad != NULL && GST_CLOCK_TIME_IS_VALID (vstart))
      wrd = affect_features_text_word_at (
          self->text, vstart + (vend - vstart) / 2, &wrd_len);
    if (apad != NULL && GST_CLOCK_TIME_IS_VALID (vstart))
      n_spe = affect_features_audio_pool (
          self->audio, vstart, vend, spe, &spe_len);
    GST_LOG_OBJECT (self,
        "frame %" GST_TIME_FORMAT "-%" GST_TIME_FORMAT ": %u speech frames",
        GST_TIME_ARGS (vstart), GST_TIME_ARGS (vend), n_spe);
  }
  gst_buffer_unref (buffer);
  buffer = gst_aggregator_pad_pop_buffer (vpad);
  if (buffer == NULL) {
    g_clear_object (&apad);
    g_clear_object (&tpad);
    return GST_AGGREGATOR_FLOW_NEED_DATA;
  }

  gst_aggregator_selected_samples (agg, GST_BUFFER_PTS (buffer),
      GST_BUFFER_DTS (buffer), GST_BUFFER_DURATION (buffer), NULL);

  if (GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_GAP)
      && gst_buffer_get_size (buffer) == 0) {
    /* a GAP event turned into a buffer by the aggregator: no frame */
    GST_LOG_OBJECT (self, "dropping gap %" GST_PTR_FORMAT, buffer);
    gst_buffer_unref (buffer);
    g_clear_object (&apad);
    g_clear_object (&tpad);
    return GST_FLOW_OK;
  }

  gst_affect_features_watch (self, buffer);

  GST_OBJECT_LOCK (self->video_pad);
  have_info = self->video_pad->have_info;
  info = self->video_pad->info;
  GST_OBJECT_UNLOCK (self->video_pad);
  if (!have_info) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("Received a video buffer before the caps"));
    gst_buffer_unref (buffer);
    g_clear_object (&apad);
    g_clear_object (&tpad);
    return GST_FLOW_NOT_NEGOTIATED;
  }

  /* n-threads changed while playing: the face networks are shared at the
   * new count (the thread count is part of what is shared), acquired again
   * below when a branch needs them */
  if (affect_engine_settings_sync_threads (&self->engine, GST_ELEMENT (self))) {
    affect_engine_settings_release_net (GST_ELEMENT (self), &self->expr_net);
    affect_engine_settings_release_net (GST_ELEMENT (self), &self->recog_net);
    /* the word model too: acquired again with the next cue */
    affect_features_text_release_model (self->text);
  }

  buffer = gst_buffer_make_writable (buffer);

  if ((branches & VISUAL_BRANCHES) != 0
      && gst_buffer_get_n_affect_faces (buffer) > 0) {
    if (!gst_affect_features_load (self, branches & VISUAL_BRANCHES)) {
      gst_buffer_unref (buffer);
      g_clear_object (&apad);
      g_clear_object (&tpad);
      return GST_FLOW_ERROR;
    }
    ret = gst_affect_features_process (
        self, buffer, &info, branches & VISUAL_BRANCHES);
    if (ret != GST_FLOW_OK) {
      gst_buffer_unref (buffer);
      g_clear_object (&apad);
      g_clear_object (&tpad);
      return ret;
    }
  }

  if (apad != NULL && (branches & GST_AFFECT_MODALITY_SPEECH))
    gst_affect_features_attach (
        self, buffer, GST_AFFECT_BRANCH_SPEECH, n_spe ? spe : NULL, spe_len);
  if (tpad != NULL && (branches & GST_AFFECT_MODALITY_WORDS))
    gst_affect_features_attach (
        self, buffer, GST_AFFECT_BRANCH_WORDS, wrd, wrd_len);
  g_clear_object (&apad);
  g_clear_object (&tpad);

  GST_OBJECT_LOCK (self);
  if (GST_BUFFER_PTS_IS_VALID (buffer)) {
    GstClockTime end = GST_BUFFER_PTS (buffer);

    if (GST_BUFFER_DURATION_IS_VALID (buffer))
      end += GST_BUFFER_DURATION (buffer);
    GST_AGGREGATOR_PAD (agg->srcpad)->segment.position = end;
  }
  GST_OBJECT_UNLOCK (self);

  return gst_aggregator_finish_buffer (agg, buffer);
}
