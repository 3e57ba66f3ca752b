/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-affectfuse
 * @title: affectfuse
 *
 * Turns the per-face feature vectors of #GstAffectFeaturesMeta (made by
 * affectfeatures) into affect predictions, attached as
 * #GstAffectPredictionsMeta (one per face, joined by track id, mirrored into
 * the face's ROI meta). The video passes through untouched.
 *
 * This version runs the **expression baseline**: the pretrained head of
 * face-api's FaceExpressionNet (its fully connected layer `fc`, 256→7, and a
 * softmax) applied to the expression embedding f_exp. The seven
 * probabilities are relabelled from face-api's classes (neutral, happy, sad,
 * angry, fearful, disgusted, surprised) to the ABAW expression classes, in
 * the ABAW order: Neutral, Anger, Disgust, Fear, Happiness, Sadness,
 * Surprise. The predictions hold the expression task only: action units and
 * valence/arousal are marked absent, never invented; the contributing
 * modality is the expression branch. A face whose features meta has no
 * f_exp gets no predictions meta.
 *
 * With #GstAffectFuse:model set to a fusion network file (docs/fusion.md)
 * the element runs that network instead: per track it keeps a clip window
 * of the model's clip_len frames of features (image feature of the frame,
 * expression, speech and words features of every frame of the clip; frames
 * without data are zeros, a branch absent from the whole clip takes the
 * model's missing vector), runs all tracks of a frame in one batch and
 * attaches the tasks the file holds (action units, expression,
 * valence/arousal) with its labels; the modalities name the branches present
 * in the clip. In the default #GstAffectFuse:mode, centred, the clip is
 * centred on the frame: the element holds back the clip_len - 1 -
 * clip_len / 2 later frames and reports them in the LATENCY query; at EOS
 * the held frames are pushed with the missing later frames as zeros, on
 * flush they are dropped. In causal mode the clip ends at the frame and
 * there is no latency. #GstAffectFuse:smoothing applies to the baseline
 * only.
 *
 * The networks run on the element's backend (#GstAffectFuse:backend,
 * #GstAffectFuse:n-threads). A custom query named "affect-engine" sent to
 * either pad of a started element is answered with what they report:
 * "backend" (string, the backend's name), "n-threads" (int, its thread
 * count) and "shared" (boolean, TRUE when every network runs with the
 * backend settings of the element: the backend the engine settings created,
 * or, for the fusion networks, the backend of their entry in the
 * process-wide cache of networks, of the same name, device and thread
 * count). The fusion networks come from that cache
 * (models/engine/affect-shared.h): on a GPU backend, instances with the
 * same model file, backend, device and n-threads share one loaded network;
 * on the cpu backend each instance has its own.
 *
 * With #GstAffectFuse:smoothing > 0 the probabilities of each track are
 * smoothed over time by an exponential moving average. The state of a track
 * is dropped when a frame comes without that track (no face and no features
 * meta with its id), and all state is dropped on flush and on a new stream.
 *
 * A pipeline that can never give predictions (faces but no features: no
 * affectfeatures upstream; features without the branch the baseline or the
 * network needs; no faces and no facecrop upstream) posts one warning and
 * one "affect-misconfiguration" element message per stream, naming the cause
 * and the fix (elements/affect-misconfig.h, docs/elements/affectfuse.md).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=talk.mp4 ! decodebin ! videoconvert !
 *     facecrop ! affectfeatures branches=expression ! affectfuse
 *     smoothing=0.6 ! affectsink location=talk.jsonl
 * ]| Writes the smoothed expression probabilities of every face.
 * |[
 * gst-launch-1.0 filesrc location=talk.mp4 ! decodebin ! videoconvert !
 *     facecrop ! affectfeatures ! affectfuse model=fusion.safetensors !
 *     affectsink location=talk.jsonl
 * ]| Runs a trained fusion network (centred clips).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <gst/affect/affectmeta.h>
#include <gst/video/video.h>

#include "affect-branches.h"
#include "affect-face.h"
#include "affect-fusion.h"
#include "affect-safetensors.h"
#include "affect-engine.h"
#include "affect-engine-settings.h"
#include "affect-misconfig.h"
#include "gstaffectfuse.h"

GST_DEBUG_CATEGORY_STATIC (gst_affect_fuse_debug);
#define GST_CAT_DEFAULT gst_affect_fuse_debug

#define EXPRESSION_MODEL "face_expression_model"
#define N_FEAT AFFECT_EXPRESSION_N_FEATURES
#define N_EXPR AFFECT_EXPRESSION_N_LABELS

#define DEFAULT_SMOOTHING 0.0
#define DEFAULT_MODEL NULL
#define DEFAULT_MODE GST_AFFECT_FUSE_MODE_CENTRED
/* What the plugin's extractors produce (affectfeatures: image and
 * expression branches from face-api's nets; speech and words); the value
 * models/fusion/export.py writes by default. */
#define DEFAULT_FEATURES                                  \
  "img=face_recognition_model,exp=face_expression_model," \
  "spe=affect-speech,wrd=affect-bert"

enum {
  PROP_0,
  PROP_SMOOTHING,
  PROP_MODEL,
  PROP_MODE,
  PROP_FEATURES,
  PROP_VALENCE_MODEL,
  PROP_AROUSAL_MODEL,
  PROP_FEATURE_EXTRACTORS,
  /* backend, n-threads, model-location (affect-engine-settings.h) */
  PROP_ENGINE,
};

GType
gst_affect_fuse_mode_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    { GST_AFFECT_FUSE_MODE_CENTRED,
        "Clip centred on the frame (latency of the frames after it)",
        "centred" },
    { GST_AFFECT_FUSE_MODE_CAUSAL, "Clip ending at the frame (no latency)",
        "causal" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstAffectFuseMode", values);

    g_once_init_leave (&type, t);
  }
  return (GType)type;
}

/* The clip window of one track: the last clip_len frames, in a ring indexed
 * by frame number modulo clip_len. */
typedef struct {
  gint64 *stamp; /* [T] frame number held by the slot, -1 = none */
  guint8 *has;   /* [T] GstAffectModalities of the slot */
  gfloat *img;   /* [T, d_img] */
  gfloat *x[AFFECT_FUSION_N_BRANCHES]; /* [T, d_m] */
  gint64 last; /* last frame with features of the track */
} TrackWindow;

/* For each ABAW class (Neutral, Anger, Disgust, Fear, Happiness, Sadness,
 * Surprise) the index of the face-api class. */
static const guint abaw_from_faceapi[N_EXPR] = {
  AFFECT_EXPRESSION_NEUTRAL,
  AFFECT_EXPRESSION_ANGRY,
  AFFECT_EXPRESSION_DISGUSTED,
  AFFECT_EXPRESSION_FEARFUL,
  AFFECT_EXPRESSION_HAPPY,
  AFFECT_EXPRESSION_SAD,
  AFFECT_EXPRESSION_SURPRISED,
};

typedef struct {
  gfloat probs[N_EXPR]; /* smoothed, ABAW order */
  guint64 seen;         /* frame counter of the last frame with the track */
} TrackState;

struct _GstAffectFuse {
  GstBaseTransform parent;

  /* properties, object lock */
  gdouble smoothing;
  /* backend, n-threads, model-location and the backend in use */
  AffectEngineSettings engine;

  /* streaming state (expression baseline) */
  AffectExpressionNet *head; /* the expression head alone */
  GHashTable *tracks;        /* track id -> TrackState */
  guint64 frame;

  /* properties (fusion network), object lock */
  gchar *model;
  GstAffectFuseMode mode;
  gchar *features;
  gchar *va_model[2]; /* valence-model, arousal-model */

  /* streaming state (fusion network): the entries of the process-wide
   * cache (affect-shared.h; shared with other instances of the same
   * settings on a GPU backend) and their networks; model paths as started,
   * to acquire them again at another n-threads */
  AffectSharedNet *fusion_net, *va_net[2];
  AffectFusion *fusion;       /* NULL = expression baseline */
  AffectFusion *va_fusion[2]; /* separately trained valence, arousal nets */
  gchar *run_model, *run_features, *run_va_model[2];
  GstAffectFuseMode run_mode; /* mode copied at start */
  gint clip_len, centre;
  gint hold;                   /* frames held back: clip_len - 1 - centre */
  GHashTable *windows;         /* track id -> TrackWindow */
  GQueue held;                 /* held buffers, oldest first (centred) */
  gint64 next_in;              /* frame number of the next input buffer */
  gint64 next_out;             /* frame number of the oldest held buffer */
  GstClockTime frame_duration; /* from the caps framerate, or NONE */
  GstClockTime latency;        /* hold × frame_duration, object lock */
  /* feature branches the loaded fusion networks read (0: none loaded),
   * object lock; for the affect-branches query (affect-branches.h) */
  GstAffectModalities reads;
  /* a non-finite feature was warned about (once per stream start): the
   * image feature, then the fusion branches (exp, spe, wrd); the baseline
   * uses the exp flag */
  gboolean warned_nonfinite[1 + AFFECT_FUSION_N_BRANCHES];
  /* what the networks report about their backend, object lock; for the
   * affect-engine query (NULL backend_name: not started) */
  gchar *backend_name;
  gint backend_threads;
  gboolean backend_shared;

  /* the misconfiguration watch (affect-misconfig.h), streaming thread;
   * reset at start, on flush and stream-start: frames seen, with a face
   * meta, with a features meta; done once the needed branch came or the
   * warning went */
  guint64 mc_frames, mc_face_frames, mc_feature_frames;
  gboolean mc_done, mc_upstream_checked;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw(ANY)"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE (
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw(ANY)"));

#define gst_affect_fuse_parent_class parent_class
G_DEFINE_TYPE (GstAffectFuse, gst_affect_fuse, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (
    affectfuse, "affectfuse", GST_RANK_NONE, GST_TYPE_AFFECT_FUSE);

static void gst_affect_fuse_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec);
static void gst_affect_fuse_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec);
static void gst_affect_fuse_finalize (GObject *object);
static gboolean gst_affect_fuse_start (GstBaseTransform *trans);
static gboolean gst_affect_fuse_stop (GstBaseTransform *trans);
static gboolean gst_affect_fuse_sink_event (
    GstBaseTransform *trans, GstEvent *event);
static GstFlowReturn gst_affect_fuse_transform_ip (
    GstBaseTransform *trans, GstBuffer *buffer);
static gboolean gst_affect_fuse_set_caps (
    GstBaseTransform *trans, GstCaps *incaps, GstCaps *outcaps);
static gboolean gst_affect_fuse_query (
    GstBaseTransform *trans, GstPadDirection direction, GstQuery *query);
static GstFlowReturn gst_affect_fuse_submit_input_buffer (
    GstBaseTransform *trans, gboolean is_discont, GstBuffer *input);
static GstFlowReturn gst_affect_fuse_generate_output (
    GstBaseTransform *trans, GstBuffer **outbuf);

static void
gst_affect_fuse_class_init (GstAffectFuseClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (
      gst_affect_fuse_debug, "affectfuse", 0, "Affect predictions");

  gobject_class->set_property = gst_affect_fuse_set_property;
  gobject_class->get_property = gst_affect_fuse_get_property;
  gobject_class->finalize = gst_affect_fuse_finalize;

  /**
   * GstAffectFuse:smoothing:
   *
   * Temporal smoothing of each track's probabilities: p'(t) = s p'(t-1) +
   * (1 - s) p(t), where s is this factor. 0 turns smoothing off; values
   * near 1 smooth strongly (1 keeps the first value of the track). May be
   * changed while playing.
   */
  g_object_class_install_property (gobject_class, PROP_SMOOTHING,
      g_param_spec_double ("smoothing", "Smoothing",
          "Exponential moving average factor of the per-track probabilities "
          "(weight of the past; 0 = off)",
          0.0, 1.0, DEFAULT_SMOOTHING,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstAffectFuse:model:
   *
   * A fusion network file (safetensors, `format=gst-affect-fusion`, see
   * docs/fusion.md) exported by the trainer of models/fusion. When set, the
   * network runs instead of the expression baseline: it keeps a clip window
   * of #GstAffectFuse:mode per track and predicts the tasks the file holds
   * (action units, expression, valence/arousal) with its labels. %NULL
   * runs the expression baseline. Every metadata key and tensor shape is
   * validated in the READY→PAUSED transition; a bad file is an error that
   * names the problem.
   */
  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "Fusion network file (gst-affect-fusion safetensors); NULL = the "
          "expression baseline",
          DEFAULT_MODEL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));

  /**
   * GstAffectFuse:mode:
   *
   * Placement of the fusion network's clip of clip_len (T) frames: centred
   * on the frame (centre index T/2, as in training; the element holds back
   * T - 1 - T/2 frames and reports that latency), or causal (the clip ends
   * at the frame, no latency; the image feature is the frame's own). Only
   * used with #GstAffectFuse:model.
   */
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode",
          "Clip window of the fusion network: centred on the frame "
          "(latency) or ending at it (causal)",
          GST_TYPE_AFFECT_FUSE_MODE, DEFAULT_MODE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));

  /**
   * GstAffectFuse:feature-extractors:
   *
   * The identifier of the feature extractors upstream; the model's
   * `features` metadata must equal it (a model trained on other features is
   * refused at start). The default names the plugin's own extractors, the
   * value models/fusion/export.py writes by default. %NULL skips the check.
   */
  g_object_class_install_property (gobject_class, PROP_FEATURE_EXTRACTORS,
      g_param_spec_string ("feature-extractors", "Feature extractors",
          "Identifier of the upstream feature extractors the model must have "
          "been trained on (its 'features' metadata); NULL = no check",
          DEFAULT_FEATURES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));

  /**
   * GstAffectFuse:features:
   *
   * Deprecated alias of #GstAffectFuse:feature-extractors (renamed so that
   * `features` means one thing in the plugin: affectsink's switch that
   * writes the feature vectors). Setting it still works and logs a
   * warning.
   */
  g_object_class_install_property (gobject_class, PROP_FEATURES,
      g_param_spec_string ("features", "Features (deprecated)",
          "Deprecated alias of feature-extractors", DEFAULT_FEATURES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_DEPRECATED
              | GST_PARAM_MUTABLE_READY));

  /**
   * GstAffectFuse:valence-model:
   *
   * A second fusion network file whose `va` head gives the valence (its
   * first output), for valence and arousal trained as two models as in the
   * paper (`train.py --va-mode separate` writes `<fold>-valence` and
   * `<fold>-arousal` next to the model of the other tasks). It runs on the
   * same clips as #GstAffectFuse:model, so its clip length, feature sizes
   * and `features` must match that model's; it replaces that model's
   * valence (or provides it, when that model has no `va` head). Needs
   * #GstAffectFuse:model.
   */
  g_object_class_install_property (gobject_class, PROP_VALENCE_MODEL,
      g_param_spec_string ("valence-model", "Valence model",
          "Fusion network file whose va head gives the valence (a model "
          "trained for valence alone); needs 'model'",
          NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));

  /**
   * GstAffectFuse:arousal-model:
   *
   * As #GstAffectFuse:valence-model, for the arousal (the second output of
   * the file's `va` head).
   */
  g_object_class_install_property (gobject_class, PROP_AROUSAL_MODEL,
      g_param_spec_string ("arousal-model", "Arousal model",
          "Fusion network file whose va head gives the arousal (a model "
          "trained for arousal alone); needs 'model'",
          NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));

  /* GstAffectFuse:backend, GstAffectFuse:n-threads,
   * GstAffectFuse:model-location: the engine settings shared with facecrop
   * and affectfeatures (affect-engine-settings.h). The expression baseline
   * runs its head (face_expression_model, found through model-location) on
   * the backend, and so do the fusion networks (model, valence-model,
   * arousal-model). */
  affect_engine_settings_install (gobject_class, PROP_ENGINE);

  gst_type_mark_as_plugin_api (GST_TYPE_AFFECT_FUSE_MODE, 0);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Affect predictions",
      "Filter/Analyzer/Video",
      "Predicts expressions from per-face features with the pretrained "
      "baseline and, only with a fusion model you train (model=FILE), "
      "action units and valence/arousal; attaches them as metadata",
      "gst-affect developers <https://github.com/gst-affect/gst-affect>");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_affect_fuse_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_affect_fuse_stop);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_affect_fuse_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_affect_fuse_transform_ip);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_affect_fuse_set_caps);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_affect_fuse_query);
  trans_class->submit_input_buffer
      = GST_DEBUG_FUNCPTR (gst_affect_fuse_submit_input_buffer);
  trans_class->generate_output
      = GST_DEBUG_FUNCPTR (gst_affect_fuse_generate_output);
  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->transform_ip_on_passthrough = FALSE;
}

static void
gst_affect_fuse_init (GstAffectFuse *self)
{
  self->smoothing = DEFAULT_SMOOTHING;
  affect_engine_settings_init (&self->engine);
  self->model = g_strdup (DEFAULT_MODEL);
  self->mode = DEFAULT_MODE;
  self->features = g_strdup (DEFAULT_FEATURES);
  self->frame_duration = GST_CLOCK_TIME_NONE;
  g_queue_init (&self->held);

  /* the video is not touched, only metadata is added: in place, on a
   * writable (shallow) copy of the buffer when it is shared */
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), FALSE);
}

static void
gst_affect_fuse_finalize (GObject *object)
{
  GstAffectFuse *self = GST_AFFECT_FUSE (object);

  affect_engine_settings_clear (&self->engine);
  g_free (self->model);
  g_free (self->features);
  g_free (self->va_model[0]);
  g_free (self->va_model[1]);
  g_free (self->backend_name);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_affect_fuse_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstAffectFuse *self = GST_AFFECT_FUSE (object);

  if (affect_engine_settings_set_property (
          &self->engine, GST_ELEMENT (self), PROP_ENGINE, prop_id, value))
    return;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SMOOTHING:
      self->smoothing = g_value_get_double (value);
      break;
    case PROP_MODEL:
      g_free (self->model);
      self->model = g_value_dup_string (value);
      break;
    case PROP_MODE:
      self->mode = g_value_get_enum (value);
      break;
    case PROP_FEATURES:
      GST_WARNING_OBJECT (self,
          "the 'features' property is deprecated: use 'feature-extractors'");
      /* fall through */
    case PROP_FEATURE_EXTRACTORS:
      g_free (self->features);
      self->features = g_value_dup_string (value);
      break;
    case PROP_VALENCE_MODEL:
    case PROP_AROUSAL_MODEL:
      g_free (self->va_model[prop_id == PROP_AROUSAL_MODEL]);
      self->va_model[prop_id == PROP_AROUSAL_MODEL]
          = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_affect_fuse_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstAffectFuse *self = GST_AFFECT_FUSE (object);

  if (affect_engine_settings_get_property (
          &self->engine, GST_ELEMENT (self), PROP_ENGINE, prop_id, value))
    return;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SMOOTHING:
      g_value_set_double (value, self->smoothing);
      break;
    case PROP_MODEL:
      g_value_set_string (value, self->model);
      break;
    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;
    case PROP_FEATURES:
    case PROP_FEATURE_EXTRACTORS:
      g_value_set_string (value, self->features);
      break;
    case PROP_VALENCE_MODEL:
    case PROP_AROUSAL_MODEL:
      g_value_set_string (value, self->va_model[prop_id == PROP_AROUSAL_MODEL]);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ------------------------------------------------------------------ */
/* Fusion network                                                      */
/* ------------------------------------------------------------------ */

/* The features-meta branch of each fusion clip branch. */
static const GstAffectBranch meta_branch[AFFECT_FUSION_N_BRANCHES] = {
  GST_AFFECT_BRANCH_EXPRESSION,
  GST_AFFECT_BRANCH_SPEECH,
  GST_AFFECT_BRANCH_WORDS,
};

static const GstAffectModalities branch_modality[AFFECT_FUSION_N_BRANCHES] = {
  GST_AFFECT_MODALITY_EXPRESSION,
  GST_AFFECT_MODALITY_SPEECH,
  GST_AFFECT_MODALITY_WORDS,
};

static void
track_window_free (gpointer data)
{
  TrackWindow *w = data;
  guint m;

  g_free (w->stamp);
  g_free (w->has);
  g_free (w->img);
  for (m = 0; m < AFFECT_FUSION_N_BRANCHES; m++)
    g_free (w->x[m]);
  g_free (w);
}

static TrackWindow *
track_window_new (const AffectFusionInfo *info)
{
  TrackWindow *w = g_new0 (TrackWindow, 1);
  gsize t = info->clip_len;
  guint m;

  w->stamp = g_new (gint64, t);
  for (m = 0; m < t; m++)
    w->stamp[m] = -1;
  w->has = g_new0 (guint8, t);
  w->img = g_new0 (gfloat, t * info->d_img);
  for (m = 0; m < AFFECT_FUSION_N_BRANCHES; m++)
    w->x[m] = g_new0 (gfloat, t * info->d_branch[m]);
  w->last = -1;
  return w;
}

/* Posts the warning about a non-finite feature of kind @which (0: image,
 * 1 + m: fusion branch m) once per stream start. */
static void
gst_affect_fuse_warn_nonfinite (
    GstAffectFuse *self, guint which, guint track_id, gint64 frame)
{
  static const gchar *const names[1 + AFFECT_FUSION_N_BRANCHES]
      = { "image", "expression", "speech", "words" };
  const gchar *what = names[which];

  if (self->warned_nonfinite[which]) {
    GST_DEBUG_OBJECT (self,
        "track %u frame %" G_GINT64_FORMAT ": non-finite %s features", track_id,
        frame, what);
    return;
  }
  self->warned_nonfinite[which] = TRUE;
  if (which == 0)
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Non-finite (NaN or infinite) image features: the face is not "
         "predicted on the frames where they occur"),
        ("first on track %u, frame %" G_GINT64_FORMAT "; warned once", track_id,
            frame));
  else
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Non-finite (NaN or infinite) %s features: the branch is treated "
         "as absent on the frames where they occur",
            what),
        ("first on track %u, frame %" G_GINT64_FORMAT "; warned once", track_id,
            frame));
}

/* Stores the features of frame @frame of every track of @buffer in the
 * track's window. A vector whose size is not the model's, or that is not
 * finite, is ignored (the branch is absent on that frame; without a finite
 * image feature the track is not predicted on that frame). */
static void
gst_affect_fuse_record (GstAffectFuse *self, GstBuffer *buffer, gint64 frame)
{
  const AffectFusionInfo *info = affect_fusion_get_info (self->fusion);
  GstAffectFeaturesMeta *feat;
  gpointer state = NULL;
  gsize slot = (gsize)(frame % self->clip_len);

  while ((feat = gst_buffer_iterate_affect_features_meta (buffer, &state))) {
    TrackWindow *w = g_hash_table_lookup (
        self->windows, GUINT_TO_POINTER (feat->track_id));
    const gfloat *img, *x[AFFECT_FUSION_N_BRANCHES];
    guint8 img_ok = 1, br_ok[AFFECT_FUSION_N_BRANCHES] = { 1, 1, 1 };
    guint size = 0, m;

    if (w == NULL) {
      w = track_window_new (info);
      g_hash_table_insert (self->windows, GUINT_TO_POINTER (feat->track_id), w);
    }
    w->stamp[slot] = frame;
    w->has[slot] = 0;
    w->last = frame;

    img = gst_affect_features_meta_get (feat, GST_AFFECT_BRANCH_IMAGE, &size);
    if (img != NULL && size != (guint)info->d_img) {
      GST_WARNING_OBJECT (self,
          "track %u: image features of size %u, the model wants %d",
          feat->track_id, size, info->d_img);
      img = NULL;
    }
    for (m = 0; m < AFFECT_FUSION_N_BRANCHES; m++) {
      gsize d = info->d_branch[m];

      x[m] = gst_affect_features_meta_get (feat, meta_branch[m], &size);
      if (x[m] != NULL && size != d) {
        GST_WARNING_OBJECT (self,
            "track %u: %s features of size %u, the model wants "
            "%" G_GSIZE_FORMAT,
            feat->track_id, affect_fusion_branch_name (m), size, d);
        x[m] = NULL;
      }
    }
    affect_fusion_inputs_finite (
        self->fusion, 1, 1, img, x[0], x[1], x[2], NULL, &img_ok, br_ok);

    if (img != NULL && img_ok) {
      memcpy (w->img + slot * info->d_img, img, info->d_img * sizeof (gfloat));
      w->has[slot] |= GST_AFFECT_MODALITY_IMAGE;
    } else if (img != NULL) {
      gst_affect_fuse_warn_nonfinite (self, 0, feat->track_id, frame);
    }
    for (m = 0; m < AFFECT_FUSION_N_BRANCHES; m++) {
      gsize d = info->d_branch[m];

      if (x[m] == NULL)
        continue;
      if (!br_ok[m]) {
        gst_affect_fuse_warn_nonfinite (self, 1 + m, feat->track_id, frame);
        continue;
      }
      memcpy (w->x[m] + slot * d, x[m], d * sizeof (gfloat));
      w->has[slot] |= branch_modality[m];
    }
  }
}

static gboolean
window_is_stale (gpointer key, gpointer value, gpointer user_data)
{
  const TrackWindow *w = value;

  return w->last < *(const gint64 *)user_data;
}

/* Drops the windows of tracks not seen in the last clip_len frames (no clip
 * that is still to be predicted can contain them). */
static void
gst_affect_fuse_forget (GstAffectFuse *self)
{
  gint64 oldest = self->next_in - self->clip_len;

  g_hash_table_foreach_remove (self->windows, window_is_stale, &oldest);
}

/* Whether @be runs with the settings of the engine's backend @ref: the
 * same backend, or one of the same name, device and thread count (the
 * entry of a shared fusion network). */
static gboolean
same_settings (AffectBackend *be, AffectBackend *ref)
{
  return be == ref
         || (g_strcmp0 (
                 affect_backend_get_name (be), affect_backend_get_name (ref))
                 == 0
             && affect_backend_get_device_id (be)
                    == affect_backend_get_device_id (ref)
             && affect_backend_get_n_threads (be)
                    == affect_backend_get_n_threads (ref));
}

/* Records for the affect-engine query the backend the networks report
 * (the fusion networks', else the engine's, which the expression head
 * runs on). */
static void
gst_affect_fuse_note_backend (GstAffectFuse *self)
{
  AffectBackend *be = self->engine.backend;
  gboolean shared = TRUE;
  guint i;

  if (self->fusion != NULL) {
    be = affect_fusion_get_backend (self->fusion);
    shared = same_settings (be, self->engine.backend);
    for (i = 0; i < 2; i++)
      if (self->va_fusion[i] != NULL)
        shared
            = shared
              && same_settings (affect_fusion_get_backend (self->va_fusion[i]),
                  self->engine.backend);
  }
  GST_OBJECT_LOCK (self);
  g_free (self->backend_name);
  self->backend_name = g_strdup (affect_backend_get_name (be));
  self->backend_threads = affect_backend_get_n_threads (be);
  self->backend_shared = shared;
  GST_OBJECT_UNLOCK (self);
}

static gboolean gst_affect_fuse_acquire_fusion (GstAffectFuse *self);
static void gst_affect_fuse_release_fusion (GstAffectFuse *self);

/* Gives the backend the n-threads value (0: all cores) when it changed:
 * the engine's backend (the expression head) takes it, the fusion networks
 * are acquired again at the new count (the thread count is part of what
 * is shared: a shared network's backend is never changed by one of its
 * users). FALSE after posting an error when they cannot be. */
static gboolean
gst_affect_fuse_apply_threads (GstAffectFuse *self)
{
  AffectSharedNet *old[3];
  const AffectFusionInfo *was, *now;
  gboolean ok = TRUE;
  guint i, m;

  if (!affect_engine_settings_sync_threads (&self->engine, GST_ELEMENT (self)))
    return TRUE;
  if (self->fusion != NULL) {
    /* the old entries stay held until the new ones are compared */
    old[0] = g_steal_pointer (&self->fusion_net);
    old[1] = g_steal_pointer (&self->va_net[0]);
    old[2] = g_steal_pointer (&self->va_net[1]);
    self->fusion = self->va_fusion[0] = self->va_fusion[1] = NULL;
    ok = gst_affect_fuse_acquire_fusion (self);
    /* the file must still be the network the clip windows were made for
     * (it may have been replaced on disk since the start) */
    if (ok) {
      was = affect_fusion_get_info (affect_shared_net_get_net (old[0]));
      now = affect_fusion_get_info (self->fusion);
      ok = was->clip_len == now->clip_len && was->d_img == now->d_img;
      for (m = 0; ok && m < AFFECT_FUSION_N_BRANCHES; m++)
        ok = was->d_branch[m] == now->d_branch[m];
      if (!ok) {
        GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
            ("Fusion model %s changed on disk while running", self->run_model),
            ("acquired again at another n-threads, its sizes differ"));
        gst_affect_fuse_release_fusion (self);
      }
    }
    if (!ok) {
      /* the error is posted and no new network is held; the element keeps
       * the networks it had, so that its state stays whole until it is
       * stopped */
      self->fusion_net = g_steal_pointer (&old[0]);
      self->va_net[0] = g_steal_pointer (&old[1]);
      self->va_net[1] = g_steal_pointer (&old[2]);
      self->fusion = affect_shared_net_get_net (self->fusion_net);
      for (i = 0; i < 2; i++)
        self->va_fusion[i] = self->va_net[i] != NULL
                                 ? affect_shared_net_get_net (self->va_net[i])
                                 : NULL;
    }
    for (i = 0; i < 3; i++)
      affect_engine_settings_release_net (GST_ELEMENT (self), &old[i]);
  }
  if (ok)
    gst_affect_fuse_note_backend (self);
  return ok;
}

/* Runs the network on the clips of every track of @buffer (frame @frame)
 * that has an image feature, in one batch, and attaches the predictions.
 * @buffer must be writable. */
static gboolean
gst_affect_fuse_predict (GstAffectFuse *self, GstBuffer *buffer, gint64 frame)
{
  const AffectFusionInfo *info;
  const gint t = self->clip_len;
  GstAffectFeaturesMeta *feat;
  gpointer state = NULL;
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (guint));
  gfloat *img = NULL, *x[AFFECT_FUSION_N_BRANCHES] = { NULL }, *out[3];
  GstAffectModalities *mods = NULL;
  guint8 *present = NULL;
  GError *error = NULL;
  gint64 start;
  gboolean ok = TRUE;
  guint n, i, m;
  gint k;

  /* before the networks are read: they may be acquired again */
  if (!gst_affect_fuse_apply_threads (self)) {
    g_array_unref (ids);
    return FALSE;
  }
  info = affect_fusion_get_info (self->fusion);

  /* the tracks: features meta with a usable (right size, finite) image
   * feature on this frame, as gst_affect_fuse_record() found it */
  while ((feat = gst_buffer_iterate_affect_features_meta (buffer, &state))) {
    const TrackWindow *w = g_hash_table_lookup (
        self->windows, GUINT_TO_POINTER (feat->track_id));
    gsize slot = (gsize)(frame % t);
    guint j;

    if (w == NULL || w->stamp[slot] != frame
        || !(w->has[slot] & GST_AFFECT_MODALITY_IMAGE))
      continue;
    for (j = 0; j < ids->len; j++)
      if (g_array_index (ids, guint, j) == feat->track_id)
        break;
    if (j == ids->len)
      g_array_append_val (ids, feat->track_id);
  }
  n = ids->len;
  if (n == 0)
    goto done;

  start = self->run_mode == GST_AFFECT_FUSE_MODE_CENTRED ? frame - self->centre
                                                         : frame - t + 1;
  img = g_new0 (gfloat, (gsize)n * info->d_img);
  for (m = 0; m < AFFECT_FUSION_N_BRANCHES; m++)
    x[m] = g_new0 (gfloat, (gsize)n * t * info->d_branch[m]);
  present = g_new0 (guint8, (gsize)n * AFFECT_FUSION_N_BRANCHES);
  mods = g_new0 (GstAffectModalities, n);
  for (i = 0; i < AFFECT_FUSION_N_TASKS; i++)
    out[i]
        = info->has_task[i] ? g_new0 (gfloat, (gsize)n * info->n_out[i]) : NULL;
  if (out[AFFECT_FUSION_TASK_VA] == NULL
      && (self->va_fusion[0] != NULL || self->va_fusion[1] != NULL))
    out[AFFECT_FUSION_TASK_VA] = g_new0 (gfloat, (gsize)n * 2);

  for (i = 0; i < n; i++) {
    guint id = g_array_index (ids, guint, i);
    TrackWindow *w = g_hash_table_lookup (self->windows, GUINT_TO_POINTER (id));
    gsize slot = (gsize)(frame % t);

    g_assert (w != NULL && w->stamp[slot] == frame);
    memcpy (img + (gsize)i * info->d_img, w->img + slot * info->d_img,
        info->d_img * sizeof (gfloat));
    mods[i] = GST_AFFECT_MODALITY_IMAGE;
    for (k = 0; k < t; k++) {
      gint64 f = start + k;

      if (f < 0 || f >= self->next_in)
        continue; /* outside the stream: a frame without data */
      slot = (gsize)(f % t);
      if (w->stamp[slot] != f)
        continue; /* the track had no features on that frame */
      for (m = 0; m < AFFECT_FUSION_N_BRANCHES; m++) {
        gsize d = info->d_branch[m];

        if (!(w->has[slot] & branch_modality[m]))
          continue;
        memcpy (x[m] + ((gsize)i * t + k) * d, w->x[m] + slot * d,
            d * sizeof (gfloat));
        present[i * AFFECT_FUSION_N_BRANCHES + m] = 1;
        mods[i] |= branch_modality[m];
      }
    }
  }

  ok = affect_fusion_run (self->fusion, n, t, img, x[0], x[1], x[2], present,
      out[AFFECT_FUSION_TASK_AU], out[AFFECT_FUSION_TASK_EXPR],
      out[AFFECT_FUSION_TASK_VA], &error);
  /* a GPU failure (device memory, a kernel, a copy) names the op */
  if (!affect_engine_settings_check_backend (&self->engine, GST_ELEMENT (self),
          affect_fusion_get_backend (self->fusion))) {
    g_clear_error (&error);
    ok = FALSE;
    goto done;
  }
  if (!ok) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("The fusion network failed"),
        ("%s", error->message));
    g_clear_error (&error);
    ok = FALSE;
    goto done;
  }
  for (m = 0; m < 2; m++) {
    const AffectFusionInfo *vinfo;
    gfloat *vout[AFFECT_FUSION_N_TASKS] = { NULL };
    guint d;

    if (self->va_fusion[m] == NULL)
      continue;
    /* the extra net may have other heads too: give each its buffer */
    vinfo = affect_fusion_get_info (self->va_fusion[m]);
    for (d = 0; d < AFFECT_FUSION_N_TASKS; d++)
      if (vinfo->has_task[d])
        vout[d] = g_new0 (gfloat, (gsize)n * vinfo->n_out[d]);
    ok = affect_fusion_run (self->va_fusion[m], n, t, img, x[0], x[1], x[2],
        present, vout[AFFECT_FUSION_TASK_AU], vout[AFFECT_FUSION_TASK_EXPR],
        vout[AFFECT_FUSION_TASK_VA], &error);
    if (!affect_engine_settings_check_backend (&self->engine,
            GST_ELEMENT (self),
            affect_fusion_get_backend (self->va_fusion[m]))) {
      g_clear_error (&error);
      ok = FALSE;
      for (d = 0; d < AFFECT_FUSION_N_TASKS; d++)
        g_free (vout[d]);
      goto done;
    }
    for (i = 0; ok && i < n; i++)
      out[AFFECT_FUSION_TASK_VA][i * 2 + m]
          = vout[AFFECT_FUSION_TASK_VA][i * 2 + m];
    for (d = 0; d < AFFECT_FUSION_N_TASKS; d++)
      g_free (vout[d]);
    if (!ok) {
      GST_ELEMENT_ERROR (self, STREAM, FAILED,
          ("The %s network failed", m == 0 ? "valence" : "arousal"),
          ("%s", error->message));
      g_clear_error (&error);
      goto done;
    }
  }

  for (i = 0; i < n; i++) {
    GstAffectPredictions pred;

    gst_affect_predictions_init (&pred);
    if (out[AFFECT_FUSION_TASK_AU] != NULL)
      gst_affect_predictions_set_au (&pred, AFFECT_FUSION_N_AU,
          (const gchar *const *)info->au_labels,
          out[AFFECT_FUSION_TASK_AU] + (gsize)i * AFFECT_FUSION_N_AU);
    if (out[AFFECT_FUSION_TASK_EXPR] != NULL) {
      gsize kk = info->n_out[AFFECT_FUSION_TASK_EXPR];

      gst_affect_predictions_set_expression (&pred, kk,
          (const gchar *const *)info->expr_labels,
          out[AFFECT_FUSION_TASK_EXPR] + i * kk);
    }
    if (out[AFFECT_FUSION_TASK_VA] != NULL)
      gst_affect_predictions_set_va (&pred, out[AFFECT_FUSION_TASK_VA][i * 2],
          out[AFFECT_FUSION_TASK_VA][i * 2 + 1]);
    pred.modalities = mods[i];
    gst_buffer_add_affect_predictions_meta (
        buffer, g_array_index (ids, guint, i), &pred);
  }

done:
  g_array_unref (ids);
  g_free (img);
  for (m = 0; m < AFFECT_FUSION_N_BRANCHES; m++)
    g_free (x[m]);
  if (n > 0)
    for (i = 0; i < AFFECT_FUSION_N_TASKS; i++)
      g_free (out[i]);
  g_free (present);
  g_free (mods);
  return ok;
}

/* Pushes every held buffer, predicted with the frames received so far (the
 * missing later frames count as frames without data). */
static GstFlowReturn
gst_affect_fuse_drain (GstAffectFuse *self)
{
  GstFlowReturn ret = GST_FLOW_OK;
  GstBuffer *buf;

  while ((buf = g_queue_pop_head (&self->held)) != NULL) {
    gint64 frame = self->next_out++;

    if (ret != GST_FLOW_OK) {
      gst_buffer_unref (buf);
      continue;
    }
    buf = gst_buffer_make_writable (buf);
    if (!gst_affect_fuse_predict (self, buf, frame)) {
      gst_buffer_unref (buf);
      ret = GST_FLOW_ERROR;
      continue;
    }
    ret = gst_pad_push (GST_BASE_TRANSFORM_SRC_PAD (self), buf);
  }
  return ret;
}

/* Forgets the windows and the frame numbering, dropping held buffers. */
static void
gst_affect_fuse_reset (GstAffectFuse *self)
{
  g_queue_clear_full (&self->held, (GDestroyNotify)gst_buffer_unref);
  if (self->windows != NULL)
    g_hash_table_remove_all (self->windows);
  self->next_in = 0;
  self->next_out = 0;
}

/* Starts the misconfiguration watch afresh (start, flush, stream-start). */
static void
gst_affect_fuse_watch_reset (GstAffectFuse *self)
{
  self->mc_frames = self->mc_face_frames = self->mc_feature_frames = 0;
  self->mc_done = FALSE;
  self->mc_upstream_checked = FALSE;
}

/* Decides whether the stream so far shows a pipeline that can never give
 * predictions (after AFFECT_MISCONFIG_FRAMES frames, or at @eos after any
 * frame), and then posts the warning once (affect-misconfig.h). */
static void
gst_affect_fuse_watch_decide (GstAffectFuse *self, gboolean eos)
{
  const guint64 need = eos ? 1 : AFFECT_MISCONFIG_FRAMES;
  const gboolean fusion = self->fusion != NULL;
  GstPad *sinkpad = GST_BASE_TRANSFORM_SINK_PAD (self);
  gboolean facecrop, features = FALSE;
  gchar *text;

  if (self->mc_done || self->mc_frames < need)
    return;

  if (self->mc_face_frames >= need && self->mc_feature_frames == 0) {
    /* faces but never features: is there an affectfeatures at all? */
    affect_upstream_has_facecrop (sinkpad, &features);
    self->mc_done = TRUE;
    if (!features) {
      text = g_strdup_printf ("affectfuse got faces on %" G_GUINT64_FORMAT
                              " frame(s) but never the features of "
                              "affectfeatures, so it cannot predict anything.",
          self->mc_face_frames);
      affect_misconfig_post (GST_ELEMENT (self),
          AFFECT_MISCONFIG_REASON_NO_FEATURES, NULL, self->mc_frames, text,
          "Insert affectfeatures between facecrop and affectfuse "
          "(facecrop ! affectfeatures ! affectfuse).");
      g_free (text);
      return;
    }
    /* else: affectfeatures is there but attaches nothing we read */
  } else if (self->mc_feature_frames < need) {
    if (self->mc_face_frames == 0 && self->mc_feature_frames == 0
        && !self->mc_upstream_checked) {
      /* nothing at all: a stream without faces behind a facecrop is fine */
      self->mc_upstream_checked = TRUE;
      facecrop = affect_upstream_has_facecrop (sinkpad, &features);
      if (!facecrop && !features) {
        self->mc_done = TRUE;
        text = g_strdup_printf ("No faces reach affectfuse (%" G_GUINT64_FORMAT
                                " frame(s) without a face meta) and there is "
                                "no facecrop upstream, so it cannot predict "
                                "anything.",
            self->mc_frames);
        affect_misconfig_post (GST_ELEMENT (self),
            AFFECT_MISCONFIG_REASON_NO_FACES, NULL, self->mc_frames, text,
            "Put facecrop and affectfeatures before affectfuse "
            "(facecrop ! affectfeatures ! affectfuse).");
        g_free (text);
      }
      /* with affectfeatures upstream, it warns about the faces itself */
    }
    return;
  }

  /* features (or an affectfeatures) but never the branch we need */
  self->mc_done = TRUE;
  text = g_strdup_printf (
      "The %s needs the %s feature (%s), which never came in %" G_GUINT64_FORMAT
      " frame(s) with faces or features, so no face gets predictions.",
      fusion ? "fusion network" : "expression baseline",
      fusion ? "image" : "expression", fusion ? "f_img" : "f_exp",
      MAX (self->mc_feature_frames, self->mc_face_frames));
  affect_misconfig_post (GST_ELEMENT (self),
      AFFECT_MISCONFIG_REASON_MISSING_BRANCH, fusion ? "image" : "expression",
      self->mc_frames, text,
      fusion ? "Let affectfeatures compute the image branch: leave its "
               "branches property unset, or include image in it "
               "(branches=image+expression)."
             : "Let affectfeatures compute the expression branch: leave its "
               "branches property unset, or include expression in it.");
  g_free (text);
}

/* Counts what @buffer carries for the misconfiguration watch. */
static void
gst_affect_fuse_watch (GstAffectFuse *self, GstBuffer *buffer)
{
  const GstAffectBranch branch = self->fusion != NULL
                                     ? GST_AFFECT_BRANCH_IMAGE
                                     : GST_AFFECT_BRANCH_EXPRESSION;
  GstAffectFeaturesMeta *feat;
  gpointer state = NULL;
  gboolean has_features = FALSE;

  if (self->mc_done)
    return;
  if (GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_GAP)
      && gst_buffer_get_size (buffer) == 0)
    return;
  self->mc_frames++;
  if (gst_buffer_get_n_affect_faces (buffer) > 0)
    self->mc_face_frames++;
  while ((feat = gst_buffer_iterate_affect_features_meta (buffer, &state))) {
    guint size = 0;

    has_features = TRUE;
    if (gst_affect_features_meta_get (feat, branch, &size) != NULL) {
      /* what we need comes: a working pipeline */
      GST_DEBUG_OBJECT (self, "the needed features came");
      self->mc_done = TRUE;
      return;
    }
  }
  if (has_features)
    self->mc_feature_frames++;
  gst_affect_fuse_watch_decide (self, FALSE);
}

/* TRUE when @path (of property @prop) is a regular file; else posts the
 * error: RESOURCE/NOT_FOUND "... not found" when nothing is there,
 * RESOURCE/OPEN_READ saying what is wrong with it otherwise (a folder,
 * /dev/null, a named pipe, ...; nothing is opened, so a FIFO never
 * blocks). */
static gboolean
gst_affect_fuse_check_path (
    GstAffectFuse *self, const gchar *path, const gchar *prop)
{
  gchar *problem = affect_st_path_problem (path);

  if (problem == NULL)
    return TRUE;
  if (g_strcmp0 (problem, "does not exist") == 0)
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("Fusion model %s not found", path),
        ("%s %s (the '%s' property)", path, problem, prop));
  else
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Fusion model %s: %s", path, problem), ("the '%s' property", prop));
  g_free (problem);
  return FALSE;
}

/* The fusion network of @path from the process-wide cache, with the
 * sharing of the engine settings (on a GPU backend one network for every
 * instance of the same settings; on cpu one of the instance's own), or
 * NULL with @error. */
static AffectSharedNet *
gst_affect_fuse_acquire_one (
    GstAffectFuse *self, const gchar *path, GError **error)
{
  return affect_engine_settings_acquire_path (
      &self->engine, GST_ELEMENT (self), affect_fusion_class (), path, error);
}

/* Releases the fusion networks (the main one and the valence and arousal
 * ones). */
static void
gst_affect_fuse_release_fusion (GstAffectFuse *self)
{
  guint i;

  self->fusion = NULL;
  affect_engine_settings_release_net (GST_ELEMENT (self), &self->fusion_net);
  for (i = 0; i < 2; i++) {
    self->va_fusion[i] = NULL;
    affect_engine_settings_release_net (GST_ELEMENT (self), &self->va_net[i]);
  }
}

/* Loads the valence (@which 0) or arousal (1) network of @path and checks
 * that it runs on the clips of the main network. */
static gboolean
gst_affect_fuse_load_va (
    GstAffectFuse *self, guint which, const gchar *path, const gchar *features)
{
  static const gchar *const names[2] = { "valence-model", "arousal-model" };
  const AffectFusionInfo *main_info = affect_fusion_get_info (self->fusion);
  const AffectFusionInfo *info;
  AffectFusion *net;
  GError *error = NULL;
  gchar *problem = NULL;
  guint m;

  if (!gst_affect_fuse_check_path (self, path, names[which]))
    return FALSE;
  self->va_net[which] = gst_affect_fuse_acquire_one (self, path, &error);
  net = self->va_net[which] != NULL
            ? affect_shared_net_get_net (self->va_net[which])
            : NULL;
  if (net != NULL && features != NULL
      && !affect_fusion_check_features (net, features, &error)) {
    affect_engine_settings_release_net (
        GST_ELEMENT (self), &self->va_net[which]);
    net = NULL;
  }
  if (net == NULL) {
    if (!affect_engine_settings_post_backend_error (
            &self->engine, GST_ELEMENT (self), error))
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Invalid %s %s: %s", names[which], path, error->message),
          ("%s", error->message));
    g_clear_error (&error);
    return FALSE;
  }
  info = affect_fusion_get_info (net);
  if (!info->has_task[AFFECT_FUSION_TASK_VA])
    problem = g_strdup ("it has no 'va' head");
  else if (info->clip_len != main_info->clip_len)
    problem = g_strdup_printf (
        "clip_len %d, the model's is %d", info->clip_len, main_info->clip_len);
  else if (info->d_img != main_info->d_img)
    problem = g_strdup_printf (
        "d_img %d, the model's is %d", info->d_img, main_info->d_img);
  for (m = 0; problem == NULL && m < AFFECT_FUSION_N_BRANCHES; m++)
    if (info->d_branch[m] != main_info->d_branch[m])
      problem = g_strdup_printf ("d_%s %d, the model's is %d",
          affect_fusion_branch_name (m), info->d_branch[m],
          main_info->d_branch[m]);
  if (problem != NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("The %s %s does not fit the model: %s", names[which], path, problem),
        (NULL));
    g_free (problem);
    affect_engine_settings_release_net (
        GST_ELEMENT (self), &self->va_net[which]);
    return FALSE;
  }
  self->va_fusion[which] = net;
  GST_INFO_OBJECT (
      self, "%s from %s", which == 0 ? "valence" : "arousal", path);
  return TRUE;
}

/* What the loaded networks read, from their "features" metadata; every
 * branch when one of them does not say it in the usual form. */
static void
gst_affect_fuse_set_reads (GstAffectFuse *self)
{
  AffectFusion *nets[3]
      = { self->fusion, self->va_fusion[0], self->va_fusion[1] };
  GstAffectModalities reads = 0, r;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (nets); i++) {
    if (nets[i] == NULL)
      continue;
    if (affect_branches_from_fusion_features (
            affect_fusion_get_info (nets[i])->features, &r))
      reads |= r;
    else
      reads |= AFFECT_BRANCHES_ALL;
  }
  GST_OBJECT_LOCK (self);
  self->reads = reads;
  GST_OBJECT_UNLOCK (self);
}

/* Acquires the networks of the started model paths (run_model,
 * run_va_model, features as run_features) and checks them; FALSE after
 * posting the error (none held then). */
static gboolean
gst_affect_fuse_acquire_fusion (GstAffectFuse *self)
{
  const gchar *model = self->run_model, *features = self->run_features;
  const AffectFusionInfo *info;
  GError *error = NULL;
  guint v;

  if (!gst_affect_fuse_check_path (self, model, "model"))
    return FALSE;
  self->fusion_net = gst_affect_fuse_acquire_one (self, model, &error);
  if (self->fusion_net == NULL) {
    if (!affect_engine_settings_post_backend_error (
            &self->engine, GST_ELEMENT (self), error))
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Invalid fusion model: %s", error->message), ("%s", error->message));
    g_clear_error (&error);
    return FALSE;
  }
  self->fusion = affect_shared_net_get_net (self->fusion_net);
  if (features != NULL
      && !affect_fusion_check_features (self->fusion, features, &error)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Fusion model %s was trained on other features: %s", model,
            error->message),
        ("%s", error->message));
    g_clear_error (&error);
    gst_affect_fuse_release_fusion (self);
    return FALSE;
  }
  info = affect_fusion_get_info (self->fusion);
  if (info->n_out[AFFECT_FUSION_TASK_EXPR] > GST_AFFECT_MAX_EXPR
      || AFFECT_FUSION_N_AU > GST_AFFECT_MAX_AU) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Fusion model %s has %d expression classes, at most %d are "
         "supported",
            model, info->n_out[AFFECT_FUSION_TASK_EXPR], GST_AFFECT_MAX_EXPR),
        (NULL));
    gst_affect_fuse_release_fusion (self);
    return FALSE;
  }
  for (v = 0; v < 2; v++) {
    if (self->run_va_model[v] != NULL
        && !gst_affect_fuse_load_va (
            self, v, self->run_va_model[v], features)) {
      gst_affect_fuse_release_fusion (self);
      return FALSE;
    }
  }
  return TRUE;
}

/* Forgets the model paths of the start (run_model ...). */
static void
gst_affect_fuse_clear_run_paths (GstAffectFuse *self)
{
  g_clear_pointer (&self->run_model, g_free);
  g_clear_pointer (&self->run_features, g_free);
  g_clear_pointer (&self->run_va_model[0], g_free);
  g_clear_pointer (&self->run_va_model[1], g_free);
}

static gboolean
gst_affect_fuse_start_fusion (GstAffectFuse *self, const gchar *model,
    const gchar *features, GstAffectFuseMode mode, gchar **va_models)
{
  const AffectFusionInfo *info;
  guint v;

  gst_affect_fuse_clear_run_paths (self);
  self->run_model = g_strdup (model);
  self->run_features = g_strdup (features);
  for (v = 0; v < 2; v++)
    self->run_va_model[v] = g_strdup (va_models[v]);
  if (!gst_affect_fuse_acquire_fusion (self)) {
    /* a failed start is not followed by stop () */
    gst_affect_fuse_clear_run_paths (self);
    return FALSE;
  }
  info = affect_fusion_get_info (self->fusion);

  self->run_mode = mode;
  self->clip_len = info->clip_len;
  self->centre = info->clip_len / 2;
  self->hold = mode == GST_AFFECT_FUSE_MODE_CENTRED
                   ? info->clip_len - 1 - self->centre
                   : 0;
  self->windows = g_hash_table_new_full (NULL, NULL, NULL, track_window_free);
  gst_affect_fuse_reset (self);
  gst_affect_fuse_set_reads (self);
  GST_INFO_OBJECT (self,
      "fusion network %s: clip %d, %s mode, %d frame(s) held back", model,
      info->clip_len,
      mode == GST_AFFECT_FUSE_MODE_CENTRED ? "centred" : "causal", self->hold);
  return TRUE;
}

/* The expression baseline: the expression head of face_expression_model,
 * run on the backend. */
static gboolean
gst_affect_fuse_start_baseline (GstAffectFuse *self)
{
  GError *error = NULL;
  gchar *path;

  path = affect_engine_settings_find_model (
      &self->engine, GST_ELEMENT (self), EXPRESSION_MODEL);
  if (path == NULL)
    return FALSE;
  self->head
      = affect_expression_net_new_head (self->engine.backend, path, &error);
  if (self->head == NULL) {
    affect_engine_settings_post_load_error (
        GST_ELEMENT (self), EXPRESSION_MODEL, path, error);
    g_free (path);
    return FALSE;
  }
  GST_INFO_OBJECT (self, "expression head from %s", path);
  g_free (path);

  self->tracks = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  self->frame = 0;
  return TRUE;
}

static gboolean
gst_affect_fuse_start (GstBaseTransform *trans)
{
  GstAffectFuse *self = GST_AFFECT_FUSE (trans);
  gchar *model, *features, *va_models[2];
  GstAffectFuseMode mode;
  gboolean ok;

  GST_OBJECT_LOCK (self);
  model = g_strdup (self->model);
  features = g_strdup (self->features);
  va_models[0] = g_strdup (self->va_model[0]);
  va_models[1] = g_strdup (self->va_model[1]);
  mode = self->mode;
  GST_OBJECT_UNLOCK (self);

  self->frame_duration = GST_CLOCK_TIME_NONE;
  memset (self->warned_nonfinite, 0, sizeof (self->warned_nonfinite));
  gst_affect_fuse_watch_reset (self);
  /* the backend in every mode: a bad backend is an error whatever runs */
  if (!affect_engine_settings_start (&self->engine, GST_ELEMENT (self))) {
    ok = FALSE;
  } else if (model != NULL) {
    ok = gst_affect_fuse_start_fusion (self, model, features, mode, va_models);
  } else if (va_models[0] != NULL || va_models[1] != NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("valence-model and arousal-model need the 'model' property"),
        ("they replace the valence/arousal of the fusion network in 'model', "
         "which defines the clips"));
    ok = FALSE;
  } else {
    ok = gst_affect_fuse_start_baseline (self);
  }
  if (ok)
    gst_affect_fuse_note_backend (self);
  else
    affect_engine_settings_stop (&self->engine);

  g_free (model);
  g_free (features);
  g_free (va_models[0]);
  g_free (va_models[1]);
  return ok;
}

static gboolean
gst_affect_fuse_stop (GstBaseTransform *trans)
{
  GstAffectFuse *self = GST_AFFECT_FUSE (trans);

  g_clear_pointer (&self->head, affect_expression_net_free);
  g_clear_pointer (&self->tracks, g_hash_table_unref);
  g_queue_clear_full (&self->held, (GDestroyNotify)gst_buffer_unref);
  g_clear_pointer (&self->windows, g_hash_table_unref);
  gst_affect_fuse_release_fusion (self);
  gst_affect_fuse_clear_run_paths (self);
  affect_engine_settings_stop (&self->engine);
  GST_OBJECT_LOCK (self);
  self->latency = 0;
  self->reads = 0;
  g_clear_pointer (&self->backend_name, g_free);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_affect_fuse_sink_event (GstBaseTransform *trans, GstEvent *event)
{
  GstAffectFuse *self = GST_AFFECT_FUSE (trans);

  /* the misconfiguration watch: decided at EOS, afresh after a flush or
   * with a new stream */
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
    gst_affect_fuse_watch_decide (self, TRUE);
  else if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP
           || GST_EVENT_TYPE (event) == GST_EVENT_STREAM_START)
    gst_affect_fuse_watch_reset (self);

  if (self->fusion != NULL) {
    GstFlowReturn ret;

    switch (GST_EVENT_TYPE (event)) {
      case GST_EVENT_FLUSH_STOP:
        GST_DEBUG_OBJECT (self, "flush: dropping %u held buffer(s)",
            g_queue_get_length (&self->held));
        gst_affect_fuse_reset (self);
        break;
      case GST_EVENT_EOS:
      case GST_EVENT_STREAM_START:
      case GST_EVENT_SEGMENT:
      case GST_EVENT_CAPS:
        /* the held buffers go out before the event, predicted with the
         * frames received so far; a new segment or stream starts new
         * windows */
        ret = gst_affect_fuse_drain (self);
        if (ret != GST_FLOW_OK)
          GST_DEBUG_OBJECT (self, "drain before %s: %s",
              GST_EVENT_TYPE_NAME (event), gst_flow_get_name (ret));
        if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
          gst_affect_fuse_reset (self);
        break;
      default:
        break;
    }
  }

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_STREAM_START:
      if (self->tracks != NULL) {
        GST_DEBUG_OBJECT (self, "dropping the smoothing state");
        g_hash_table_remove_all (self->tracks);
      }
      break;
    default:
      break;
  }

  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static gboolean
gst_affect_fuse_set_caps (
    GstBaseTransform *trans, GstCaps *incaps, GstCaps *outcaps)
{
  GstAffectFuse *self = GST_AFFECT_FUSE (trans);
  GstStructure *st = gst_caps_get_structure (incaps, 0);
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  gint num = 0, den = 0;

  if (gst_structure_get_fraction (st, "framerate", &num, &den) && num > 0
      && den > 0)
    duration = gst_util_uint64_scale_int (GST_SECOND, den, num);
  if (duration != self->frame_duration) {
    self->frame_duration = duration;
    GST_OBJECT_LOCK (self);
    self->latency = self->fusion != NULL && GST_CLOCK_TIME_IS_VALID (duration)
                        ? self->hold * duration
                        : 0;
    GST_OBJECT_UNLOCK (self);
    if (self->fusion != NULL && self->hold > 0) {
      if (!GST_CLOCK_TIME_IS_VALID (duration))
        GST_WARNING_OBJECT (self,
            "no framerate in the caps: the latency of the %d held frame(s) "
            "cannot be reported",
            self->hold);
      gst_element_post_message (
          GST_ELEMENT (self), gst_message_new_latency (GST_OBJECT (self)));
    }
  }
  return TRUE;
}

/* The latency of the centred window: the frames held back. */
static gboolean
gst_affect_fuse_query (
    GstBaseTransform *trans, GstPadDirection direction, GstQuery *query)
{
  GstAffectFuse *self = GST_AFFECT_FUSE (trans);
  gboolean res;

  if (direction == GST_PAD_SINK && affect_branches_query_is (query)) {
    /* affectfeatures asks which branches are read: what comes after us
     * adds its own, then ours (affect-branches.h) */
    GstAffectModalities reads = GST_AFFECT_MODALITY_EXPRESSION;
    const gchar *why = "expression baseline";

    GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction, query);
    GST_OBJECT_LOCK (self);
    if (self->model != NULL) {
      reads = self->reads ? self->reads : AFFECT_BRANCHES_ALL;
      why = self->reads ? "fusion network"
                        : "fusion network not loaded yet: any branch";
    }
    GST_OBJECT_UNLOCK (self);
    affect_branches_query_add (query, GST_OBJECT (self), reads, why);
    /* FALSE on purpose: a tee then asks its other branches too */
    return FALSE;
  }

  if (GST_QUERY_TYPE (query) == GST_QUERY_CUSTOM
      && gst_query_get_structure (query) != NULL
      && gst_structure_has_name (
          gst_query_get_structure (query), "affect-engine")) {
    GstStructure *s = gst_query_writable_structure (query);

    GST_OBJECT_LOCK (self);
    res = self->backend_name != NULL;
    if (res)
      gst_structure_set (s, "backend", G_TYPE_STRING, self->backend_name,
          "n-threads", G_TYPE_INT, self->backend_threads, "shared",
          G_TYPE_BOOLEAN, self->backend_shared, NULL);
    GST_OBJECT_UNLOCK (self);
    return res;
  }

  res = GST_BASE_TRANSFORM_CLASS (parent_class)
            ->query (trans, direction, query);
  if (res && direction == GST_PAD_SRC
      && GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    GstClockTime min, max, ours;
    gboolean live;

    GST_OBJECT_LOCK (self);
    ours = self->latency;
    GST_OBJECT_UNLOCK (self);
    if (ours == 0)
      return res;
    gst_query_parse_latency (query, &live, &min, &max);
    min += ours;
    if (GST_CLOCK_TIME_IS_VALID (max))
      max += ours;
    GST_DEBUG_OBJECT (
        self, "adding %" GST_TIME_FORMAT " of latency", GST_TIME_ARGS (ours));
    gst_query_set_latency (query, live, min, max);
  }
  return res;
}

/* Centred mode: the input buffer is recorded and held back until the
 * frames after it have come. Otherwise the base class keeps it for
 * transform_ip(). */
static GstFlowReturn
gst_affect_fuse_submit_input_buffer (
    GstBaseTransform *trans, gboolean is_discont, GstBuffer *input)
{
  GstAffectFuse *self = GST_AFFECT_FUSE (trans);
  GstFlowReturn ret;
  GstBuffer *buf;

  gst_affect_fuse_watch (self, input);
  ret = GST_BASE_TRANSFORM_CLASS (parent_class)
            ->submit_input_buffer (trans, is_discont, input);
  if (ret != GST_FLOW_OK || self->fusion == NULL
      || self->run_mode != GST_AFFECT_FUSE_MODE_CENTRED)
    return ret;

  buf = trans->queued_buf;
  trans->queued_buf = NULL;
  if (buf == NULL)
    return ret; /* dropped by QoS */
  gst_affect_fuse_record (self, buf, self->next_in);
  self->next_in++;
  gst_affect_fuse_forget (self);
  g_queue_push_tail (&self->held, buf);
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_affect_fuse_generate_output (GstBaseTransform *trans, GstBuffer **outbuf)
{
  GstAffectFuse *self = GST_AFFECT_FUSE (trans);
  GstBuffer *buf;
  gint64 frame;

  if (self->fusion == NULL || self->run_mode != GST_AFFECT_FUSE_MODE_CENTRED)
    return GST_BASE_TRANSFORM_CLASS (parent_class)
        ->generate_output (trans, outbuf);

  *outbuf = NULL;
  if (g_queue_get_length (&self->held) <= (guint)self->hold)
    return GST_FLOW_OK;
  buf = gst_buffer_make_writable (g_queue_pop_head (&self->held));
  frame = self->next_out++;
  if (!gst_affect_fuse_predict (self, buf, frame)) {
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
  *outbuf = buf;
  return GST_FLOW_OK;
}

/* Predictions waiting to be attached. */
typedef struct {
  guint track_id;
  GstAffectPredictions pred;
} Pending;

static gboolean
track_is_stale (gpointer key, gpointer value, gpointer user_data)
{
  const TrackState *state = value;

  return state->seen != *(const guint64 *)user_data;
}

static GstFlowReturn
gst_affect_fuse_transform_ip (GstBaseTransform *trans, GstBuffer *buffer)
{
  GstAffectFuse *self = GST_AFFECT_FUSE (trans);
  const gchar *const *labels = gst_affect_abaw_expression_labels (NULL);
  GstAffectFeaturesMeta *feat;
  GstAffectFaceMeta *face;
  gpointer state = NULL;
  GArray *done, *ids, *feats;
  gfloat *probs;
  gdouble smoothing;
  gboolean ok;
  guint i, k;

  if (self->fusion != NULL) {
    /* causal mode: the clip ends at this frame */
    gst_affect_fuse_record (self, buffer, self->next_in);
    self->next_in++;
    gst_affect_fuse_forget (self);
    ok = gst_affect_fuse_predict (self, buffer, self->next_in - 1);
    return ok ? GST_FLOW_OK : GST_FLOW_ERROR;
  }

  GST_OBJECT_LOCK (self);
  smoothing = self->smoothing;
  GST_OBJECT_UNLOCK (self);

  self->frame++;

  /* the faces with f_exp, in one batch through the expression head */
  ids = g_array_new (FALSE, FALSE, sizeof (guint));
  feats = g_array_new (FALSE, FALSE, sizeof (gfloat));
  while ((feat = gst_buffer_iterate_affect_features_meta (buffer, &state))) {
    const gfloat *f_exp;
    guint size = 0;

    f_exp = gst_affect_features_meta_get (
        feat, GST_AFFECT_BRANCH_EXPRESSION, &size);
    if (f_exp == NULL || size != N_FEAT) {
      if (f_exp != NULL)
        GST_WARNING_OBJECT (self,
            "track %u: expression features of size %u, expected %u",
            feat->track_id, size, N_FEAT);
      continue;
    }
    for (i = 0; i < N_FEAT && isfinite (f_exp[i]); i++)
      ;
    if (i < N_FEAT) {
      /* like a face without f_exp: no prediction on this frame */
      gst_affect_fuse_warn_nonfinite (
          self, 1 + AFFECT_FUSION_BRANCH_EXP, feat->track_id, self->frame - 1);
      continue;
    }
    g_array_append_val (ids, feat->track_id);
    g_array_append_vals (feats, f_exp, N_FEAT);
  }
  probs = g_new (gfloat, (gsize)MAX (ids->len, 1) * N_EXPR);
  gst_affect_fuse_apply_threads (self);
  ok = affect_expression_net_classify (
      self->head, (const gfloat *)feats->data, (int)ids->len, probs);
  /* a GPU failure (device memory, a kernel, a copy) names the op */
  if (!affect_engine_settings_check_backend (
          &self->engine, GST_ELEMENT (self), NULL)) {
    g_free (probs);
    g_array_unref (ids);
    g_array_unref (feats);
    return GST_FLOW_ERROR;
  }
  if (!ok) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("The expression head failed"),
        ("out of memory on %u faces", ids->len));
    g_free (probs);
    g_array_unref (ids);
    g_array_unref (feats);
    return GST_FLOW_ERROR;
  }

  /* predictions are added after the iteration, not while iterating */
  done = g_array_new (FALSE, FALSE, sizeof (Pending));
  for (k = 0; k < ids->len; k++) {
    const guint track_id = g_array_index (ids, guint, k);
    gfloat out[N_EXPR];
    Pending pending;
    TrackState *track;

    for (i = 0; i < N_EXPR; i++)
      out[i] = probs[(gsize)k * N_EXPR + abaw_from_faceapi[i]];

    track = g_hash_table_lookup (self->tracks, GUINT_TO_POINTER (track_id));
    if (smoothing > 0.0 && track != NULL) {
      for (i = 0; i < N_EXPR; i++)
        out[i] = (gfloat)(smoothing * track->probs[i]
                          + (1.0 - smoothing) * out[i]);
    }
    if (track == NULL) {
      track = g_new0 (TrackState, 1);
      g_hash_table_insert (self->tracks, GUINT_TO_POINTER (track_id), track);
    }
    memcpy (track->probs, out, sizeof (out));
    track->seen = self->frame;

    pending.track_id = track_id;
    gst_affect_predictions_init (&pending.pred);
    gst_affect_predictions_set_expression (&pending.pred, N_EXPR, labels, out);
    pending.pred.modalities = GST_AFFECT_MODALITY_EXPRESSION;
    g_array_append_val (done, pending);
  }
  g_free (probs);
  g_array_unref (ids);
  g_array_unref (feats);

  for (i = 0; i < done->len; i++) {
    Pending *p = &g_array_index (done, Pending, i);

    gst_buffer_add_affect_predictions_meta (buffer, p->track_id, &p->pred);
  }
  g_array_unref (done);

  /* tracks with a face but without features keep their state */
  state = NULL;
  while ((face = gst_buffer_iterate_affect_face_meta (buffer, &state))) {
    TrackState *track
        = g_hash_table_lookup (self->tracks, GUINT_TO_POINTER (face->track_id));

    if (track != NULL)
      track->seen = self->frame;
  }
  g_hash_table_foreach_remove (self->tracks, track_is_stale, &self->frame);

  return GST_FLOW_OK;
}
