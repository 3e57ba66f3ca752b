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
 * The fusion network of all four branches (image, expression, speech,
 * words), which also predicts action units and valence/arousal, will be
 * selected by a `model` property in a later version.
 *
 * With #GstAffectFuse:smoothing > 0 the probabilities of each track are
 * smoothed over time by an exponential moving average. The state of a track
 * is dropped when a frame comes without that track (no face and no features
 * meta with its id), and all state is dropped on flush and on a new stream.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=talk.mp4 ! decodebin ! videoconvert !
 *     facecrop ! affectfeatures branches=expression ! affectfuse
 *     smoothing=0.6 ! affectsink location=talk.jsonl
 * ]| Writes the smoothed expression probabilities of every face.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <gst/affect/affectmeta.h>
#include <gst/video/video.h>

#include "affect-expression.h"
#include "affect-modelpath.h"
#include "affect-safetensors.h"
#include "gstaffectfuse.h"

GST_DEBUG_CATEGORY_STATIC (gst_affect_fuse_debug);
#define GST_CAT_DEFAULT gst_affect_fuse_debug

#define EXPRESSION_MODEL "face_expression_model"
#define N_FEAT AFFECT_EXPRESSION_N_FEATURES
#define N_EXPR AFFECT_EXPRESSION_N_LABELS

#define DEFAULT_MODEL_LOCATION NULL
#define DEFAULT_SMOOTHING 0.0

enum {
  PROP_0,
  PROP_MODEL_LOCATION,
  PROP_SMOOTHING,
};

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
  gchar *model_location;
  gdouble smoothing;

  /* streaming state */
  gfloat *fc_weights; /* [256, 7], face-api order */
  gfloat *fc_bias;    /* [7] */
  GHashTable *tracks; /* track id -> TrackState */
  guint64 frame;
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
   * GstAffectFuse:model-location:
   *
   * Where the expression baseline's head is read from: the file
   * `face_expression_model.safetensors` or a folder holding it (its `fc`
   * weights and bias). %NULL looks it up in the order of docs/models.md
   * ($AFFECT_MODEL_DIR, the installed data folder, the cache filled by
   * `affect-fetch-models`).
   */
  g_object_class_install_property (gobject_class, PROP_MODEL_LOCATION,
      g_param_spec_string ("model-location", "Model location",
          "face_expression_model.safetensors or its folder (the expression "
          "head); NULL = the default lookup (docs/models.md)",
          DEFAULT_MODEL_LOCATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));

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

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Affect predictions",
      "Filter/Analyzer/Video",
      "Predicts facial expressions from per-face features and attaches them "
      "as metadata (expression baseline)",
      "gst-affect developers <https://github.com/gst-affect/gst-affect>");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_affect_fuse_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_affect_fuse_stop);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_affect_fuse_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_affect_fuse_transform_ip);
  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->transform_ip_on_passthrough = FALSE;
}

static void
gst_affect_fuse_init (GstAffectFuse *self)
{
  self->model_location = g_strdup (DEFAULT_MODEL_LOCATION);
  self->smoothing = DEFAULT_SMOOTHING;

  /* the video is not touched, only metadata is added: in place, on a
   * writable (shallow) copy of the buffer when it is shared */
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), FALSE);
}

static void
gst_affect_fuse_finalize (GObject *object)
{
  GstAffectFuse *self = GST_AFFECT_FUSE (object);

  g_free (self->model_location);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_affect_fuse_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstAffectFuse *self = GST_AFFECT_FUSE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL_LOCATION:
      g_free (self->model_location);
      self->model_location = g_value_dup_string (value);
      break;
    case PROP_SMOOTHING:
      self->smoothing = g_value_get_double (value);
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

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL_LOCATION:
      g_value_set_string (value, self->model_location);
      break;
    case PROP_SMOOTHING:
      g_value_set_double (value, self->smoothing);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_affect_fuse_start (GstBaseTransform *trans)
{
  GstAffectFuse *self = GST_AFFECT_FUSE (trans);
  static const int64_t w_shape[2] = { N_FEAT, N_EXPR };
  static const int64_t b_shape[1] = { N_EXPR };
  GError *error = NULL;
  AffectStFile *file;
  gchar *location, *path;

  GST_OBJECT_LOCK (self);
  location = g_strdup (self->model_location);
  GST_OBJECT_UNLOCK (self);

  path = affect_model_find (EXPRESSION_MODEL, location, &error);
  g_free (location);
  if (path == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("Model %s not found; download the face models with "
         "affect-fetch-models or set model-location",
            EXPRESSION_MODEL),
        ("%s", error->message));
    g_clear_error (&error);
    return FALSE;
  }

  GST_INFO_OBJECT (self, "expression head from %s", path);
  file = affect_st_open (path, &error);
  if (file != NULL) {
    self->fc_weights
        = affect_st_get_f32 (file, "fc/weights", 2, w_shape, &error);
    if (self->fc_weights != NULL)
      self->fc_bias = affect_st_get_f32 (file, "fc/bias", 1, b_shape, &error);
    affect_st_close (file);
  }
  if (self->fc_weights == NULL || self->fc_bias == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, READ,
        ("Could not read the expression head from %s", path),
        ("%s", error ? error->message : "unknown error"));
    g_clear_error (&error);
    g_clear_pointer (&self->fc_weights, g_free);
    g_clear_pointer (&self->fc_bias, g_free);
    g_free (path);
    return FALSE;
  }
  g_free (path);

  self->tracks = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  self->frame = 0;
  return TRUE;
}

static gboolean
gst_affect_fuse_stop (GstBaseTransform *trans)
{
  GstAffectFuse *self = GST_AFFECT_FUSE (trans);

  g_clear_pointer (&self->fc_weights, g_free);
  g_clear_pointer (&self->fc_bias, g_free);
  g_clear_pointer (&self->tracks, g_hash_table_unref);
  return TRUE;
}

static gboolean
gst_affect_fuse_sink_event (GstBaseTransform *trans, GstEvent *event)
{
  GstAffectFuse *self = GST_AFFECT_FUSE (trans);

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

/* The expression head: softmax (bias + f · W) in face-api order, computed
 * in double. */
static void
gst_affect_fuse_expression_head (
    GstAffectFuse *self, const gfloat *feat, gdouble *probs)
{
  gdouble max = -INFINITY, sum = 0.0;
  guint i, j;

  for (j = 0; j < N_EXPR; j++)
    probs[j] = self->fc_bias[j];
  for (i = 0; i < N_FEAT; i++) {
    const gfloat *row = self->fc_weights + (gsize)i * N_EXPR;

    for (j = 0; j < N_EXPR; j++)
      probs[j] += (gdouble)feat[i] * row[j];
  }
  for (j = 0; j < N_EXPR; j++)
    max = MAX (max, probs[j]);
  for (j = 0; j < N_EXPR; j++) {
    probs[j] = exp (probs[j] - max);
    sum += probs[j];
  }
  for (j = 0; j < N_EXPR; j++)
    probs[j] /= sum;
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
  GArray *done;
  gdouble smoothing;
  guint i;

  GST_OBJECT_LOCK (self);
  smoothing = self->smoothing;
  GST_OBJECT_UNLOCK (self);

  self->frame++;

  /* predictions are added after the iteration, not while iterating */
  done = g_array_new (FALSE, FALSE, sizeof (Pending));
  while ((feat = gst_buffer_iterate_affect_features_meta (buffer, &state))) {
    const gfloat *f_exp;
    guint size = 0;
    gdouble probs[N_EXPR];
    gfloat out[N_EXPR];
    Pending pending;
    TrackState *track;

    f_exp = gst_affect_features_meta_get (
        feat, GST_AFFECT_BRANCH_EXPRESSION, &size);
    if (f_exp == NULL || size != N_FEAT) {
      if (f_exp != NULL)
        GST_WARNING_OBJECT (self,
            "track %u: expression features of size %u, expected %u",
            feat->track_id, size, N_FEAT);
      continue;
    }

    gst_affect_fuse_expression_head (self, f_exp, probs);
    for (i = 0; i < N_EXPR; i++)
      out[i] = (gfloat)probs[abaw_from_faceapi[i]];

    track
        = g_hash_table_lookup (self->tracks, GUINT_TO_POINTER (feat->track_id));
    if (smoothing > 0.0 && track != NULL) {
      for (i = 0; i < N_EXPR; i++)
        out[i] = (gfloat)(smoothing * track->probs[i]
                          + (1.0 - smoothing) * out[i]);
    }
    if (track == NULL) {
      track = g_new0 (TrackState, 1);
      g_hash_table_insert (
          self->tracks, GUINT_TO_POINTER (feat->track_id), track);
    }
    memcpy (track->probs, out, sizeof (out));
    track->seen = self->frame;

    pending.track_id = feat->track_id;
    gst_affect_predictions_init (&pending.pred);
    gst_affect_predictions_set_expression (&pending.pred, N_EXPR, labels, out);
    pending.pred.modalities = GST_AFFECT_MODALITY_EXPRESSION;
    g_array_append_val (done, pending);
  }

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
