/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/*
 * The metadata contract between the gst-affect elements and applications.
 *
 * Three metas travel on video buffers, one of each kind per face and frame,
 * linked by the face's track id:
 *
 *  - #GstAffectFaceMeta: where the face is (box, score, landmarks), its
 *    aligned crop, and the id of the #GstVideoRegionOfInterestMeta of type
 *    "face" that carries the same box;
 *  - #GstAffectFeaturesMeta: the four branch vectors (image, expression,
 *    speech, words) with a presence flag each;
 *  - #GstAffectPredictionsMeta: AU probabilities, expression probabilities
 *    and valence/arousal, with flags telling which tasks are present and
 *    which modalities contributed. They are mirrored into the face's ROI
 *    meta as a #GstStructure named "affect".
 *
 * The field-by-field description is docs/metadata.md.
 */

#ifndef __GST_AFFECT_META_H__
#define __GST_AFFECT_META_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/affect/affect-prelude.h>

G_BEGIN_DECLS

/**
 * GST_AFFECT_N_LANDMARKS:
 *
 * Number of facial landmarks (the 68-point iBUG / dlib layout).
 */
#define GST_AFFECT_N_LANDMARKS 68

/**
 * GST_AFFECT_MAX_AU:
 *
 * Capacity of the AU arrays of #GstAffectPredictions.
 */
#define GST_AFFECT_MAX_AU 32

/**
 * GST_AFFECT_MAX_EXPR:
 *
 * Capacity of the expression arrays of #GstAffectPredictions.
 */
#define GST_AFFECT_MAX_EXPR 16

/**
 * GST_AFFECT_ROI_TYPE:
 *
 * The type (a #GQuark string) of the #GstVideoRegionOfInterestMeta that
 * accompanies every #GstAffectFaceMeta.
 */
#define GST_AFFECT_ROI_TYPE "face"

/**
 * GST_AFFECT_ROI_PARAM_NAME:
 *
 * Name of the #GstStructure that mirrors a #GstAffectPredictionsMeta into the
 * face's #GstVideoRegionOfInterestMeta.
 */
#define GST_AFFECT_ROI_PARAM_NAME "affect"

/**
 * GST_AFFECT_ROI_FACE_PARAM_NAME:
 *
 * Name of the #GstStructure with the fields "track-id" (guint) and "score"
 * (gfloat) that gst_buffer_add_affect_face_meta() puts into the face's
 * #GstVideoRegionOfInterestMeta.
 */
#define GST_AFFECT_ROI_FACE_PARAM_NAME "affect-face"

/**
 * GstAffectBranch:
 * @GST_AFFECT_BRANCH_IMAGE: image feature of the face (f_img)
 * @GST_AFFECT_BRANCH_EXPRESSION: expression embedding (f_exp)
 * @GST_AFFECT_BRANCH_SPEECH: speech features pooled over the frame (f_spe)
 * @GST_AFFECT_BRANCH_WORDS: word embedding of what is said (f_wrd)
 * @GST_AFFECT_N_BRANCHES: number of branches
 *
 * The four input branches of the fusion network.
 */
typedef enum {
  GST_AFFECT_BRANCH_IMAGE = 0,
  GST_AFFECT_BRANCH_EXPRESSION = 1,
  GST_AFFECT_BRANCH_SPEECH = 2,
  GST_AFFECT_BRANCH_WORDS = 3,
  GST_AFFECT_N_BRANCHES = 4
} GstAffectBranch;

/**
 * GstAffectModalities:
 * @GST_AFFECT_MODALITY_NONE: nothing
 * @GST_AFFECT_MODALITY_IMAGE: the image feature
 * @GST_AFFECT_MODALITY_EXPRESSION: the expression embedding
 * @GST_AFFECT_MODALITY_SPEECH: the speech features
 * @GST_AFFECT_MODALITY_WORDS: the word embedding
 *
 * A set of branches: one bit per #GstAffectBranch (bit = 1 << branch).
 */
typedef enum {
  GST_AFFECT_MODALITY_NONE = 0,
  GST_AFFECT_MODALITY_IMAGE = (1 << 0),
  GST_AFFECT_MODALITY_EXPRESSION = (1 << 1),
  GST_AFFECT_MODALITY_SPEECH = (1 << 2),
  GST_AFFECT_MODALITY_WORDS = (1 << 3)
} GstAffectModalities;

/**
 * GstAffectTasks:
 * @GST_AFFECT_TASK_NONE: no task
 * @GST_AFFECT_TASK_AU: action-unit probabilities are present
 * @GST_AFFECT_TASK_EXPRESSION: expression probabilities are present
 * @GST_AFFECT_TASK_VA: valence and arousal are present
 *
 * Which prediction tasks a #GstAffectPredictions holds.
 */
typedef enum {
  GST_AFFECT_TASK_NONE = 0,
  GST_AFFECT_TASK_AU = (1 << 0),
  GST_AFFECT_TASK_EXPRESSION = (1 << 1),
  GST_AFFECT_TASK_VA = (1 << 2)
} GstAffectTasks;

/* ------------------------------------------------------------------ */
/* Face                                                                */
/* ------------------------------------------------------------------ */

/**
 * GstAffectFaceMeta:
 * @meta: parent #GstMeta
 * @track_id: track id of the face, stable across frames, never reused in a
 *   stream; unique among the faces of one buffer
 * @x: left edge of the box in frame pixels
 * @y: top edge of the box in frame pixels
 * @width: box width in frame pixels
 * @height: box height in frame pixels
 * @score: detection score in [0, 1] (1 for a face given by upstream)
 * @has_landmarks: whether @landmarks is filled
 * @landmarks: 68 (x, y) points in frame pixels, in the iBUG order
 * @crop: (nullable): the aligned face crop: packed RGB, @crop_size ×
 *   @crop_size pixels, rows of 3 × @crop_size bytes; a reference owned by the
 *   meta
 * @crop_size: side of @crop in pixels (0 when there is no crop)
 * @roi_id: id of the #GstVideoRegionOfInterestMeta of type "face" that
 *   carries the same box, or -1
 * @has_pose: whether @yaw, @pitch and @roll are valid
 * @yaw: head yaw in degrees, positive when the face turns to its own left
 *   (the nose moves to the image right); 0 without pose
 * @pitch: head pitch in degrees, positive when the face looks up; 0
 *   without pose
 * @roll: head roll in degrees, positive when the face tilts clockwise in
 *   the image; 0 without pose
 *
 * One detected face on one video frame. Box and landmarks follow a
 * `videoscale` (the meta has the "size" tag and a scale transform); the crop
 * does not depend on the frame size and is kept as is, and so is the head
 * pose. The pose angles are those of docs/metadata.md ("Head pose"): the
 * rotation R = Rz(-roll) Ry(yaw) Rx(-pitch) about axes fixed to the viewer
 * (x right, y up, z towards the viewer) that takes the upright frontal face
 * to the observed one; `facecrop` fits them to the landmarks.
 */
typedef struct {
  GstMeta meta;

  guint track_id;
  gfloat x, y, width, height;
  gfloat score;
  gboolean has_landmarks;
  gfloat landmarks[GST_AFFECT_N_LANDMARKS][2];
  GstBuffer *crop;
  guint crop_size;
  gint roi_id;

  gboolean has_pose;
  gfloat yaw, pitch, roll;
} GstAffectFaceMeta;

GST_AFFECT_API
GType gst_affect_face_meta_api_get_type (void);
#define GST_AFFECT_FACE_META_API_TYPE (gst_affect_face_meta_api_get_type ())

GST_AFFECT_API
const GstMetaInfo *gst_affect_face_meta_get_info (void);
#define GST_AFFECT_FACE_META_INFO (gst_affect_face_meta_get_info ())

GST_AFFECT_API
GstAffectFaceMeta *gst_buffer_add_affect_face_meta (GstBuffer *buffer,
    guint track_id, gfloat x, gfloat y, gfloat width, gfloat height,
    gfloat score);

GST_AFFECT_API
GstAffectFaceMeta *gst_buffer_add_affect_face_meta_for_roi (GstBuffer *buffer,
    GstVideoRegionOfInterestMeta *roi, guint track_id, gfloat score);

GST_AFFECT_API
void gst_affect_face_meta_set_landmarks (
    GstAffectFaceMeta *meta, const gfloat *points, guint n_points);

GST_AFFECT_API
void gst_affect_face_meta_set_crop (
    GstAffectFaceMeta *meta, GstBuffer *crop, guint crop_size);

GST_AFFECT_API
gboolean gst_affect_face_meta_get_landmark (
    const GstAffectFaceMeta *meta, guint index, gfloat *x, gfloat *y);

GST_AFFECT_API
void gst_affect_face_meta_set_pose (GstAffectFaceMeta *meta, GstBuffer *buffer,
    gfloat yaw, gfloat pitch, gfloat roll);

GST_AFFECT_API
void gst_affect_face_meta_clear_pose (
    GstAffectFaceMeta *meta, GstBuffer *buffer);

GST_AFFECT_API
gboolean gst_affect_face_meta_get_pose (
    const GstAffectFaceMeta *meta, gfloat *yaw, gfloat *pitch, gfloat *roll);

GST_AFFECT_API
GstAffectFaceMeta *gst_buffer_iterate_affect_face_meta (
    GstBuffer *buffer, gpointer *state);

GST_AFFECT_API
GstAffectFaceMeta *gst_buffer_get_affect_face_meta_by_track (
    GstBuffer *buffer, guint track_id);

GST_AFFECT_API
guint gst_buffer_get_n_affect_faces (GstBuffer *buffer);

GST_AFFECT_API
guint *gst_buffer_get_affect_track_ids (GstBuffer *buffer, guint *n_ids);

/* ------------------------------------------------------------------ */
/* Features                                                            */
/* ------------------------------------------------------------------ */

/**
 * GstAffectFeaturesMeta:
 * @meta: parent #GstMeta
 * @track_id: track id of the face these features belong to
 * @present: which branches hold a vector
 * @sizes: (array fixed-size=4): length of each branch vector (0 when
 *   absent)
 * @data: (array fixed-size=4) (element-type gpointer): each branch vector,
 *   @sizes[branch] floats owned by the meta, or %NULL when absent; bindings
 *   use gst_affect_features_meta_get()
 *
 * The four branch vectors of one face on one frame.
 */
typedef struct {
  GstMeta meta;

  guint track_id;
  GstAffectModalities present;
  guint sizes[GST_AFFECT_N_BRANCHES];
  gfloat *data[GST_AFFECT_N_BRANCHES];
} GstAffectFeaturesMeta;

GST_AFFECT_API
GType gst_affect_features_meta_api_get_type (void);
#define GST_AFFECT_FEATURES_META_API_TYPE \
  (gst_affect_features_meta_api_get_type ())

GST_AFFECT_API
const GstMetaInfo *gst_affect_features_meta_get_info (void);
#define GST_AFFECT_FEATURES_META_INFO (gst_affect_features_meta_get_info ())

GST_AFFECT_API
GstAffectFeaturesMeta *gst_buffer_add_affect_features_meta (
    GstBuffer *buffer, guint track_id);

GST_AFFECT_API
void gst_affect_features_meta_set (GstAffectFeaturesMeta *meta,
    GstAffectBranch branch, const gfloat *data, guint size);

GST_AFFECT_API
void gst_affect_features_meta_clear (
    GstAffectFeaturesMeta *meta, GstAffectBranch branch);

GST_AFFECT_API
const gfloat *gst_affect_features_meta_get (
    GstAffectFeaturesMeta *meta, GstAffectBranch branch, guint *size);

GST_AFFECT_API
GstAffectFeaturesMeta *gst_buffer_iterate_affect_features_meta (
    GstBuffer *buffer, gpointer *state);

GST_AFFECT_API
GstAffectFeaturesMeta *gst_buffer_get_affect_features_meta_by_track (
    GstBuffer *buffer, guint track_id);

/* ------------------------------------------------------------------ */
/* Predictions                                                         */
/* ------------------------------------------------------------------ */

/**
 * GstAffectPredictions:
 * @tasks: which of the fields below are valid
 * @modalities: which input branches contributed to these predictions
 * @n_au: number of valid entries in @au_labels and @au
 * @au_labels: AU names ("AU1", ...), interned strings
 * @au: AU activation probabilities in [0, 1]
 * @n_expr: number of valid entries in @expr_labels and @expr
 * @expr_labels: expression class names ("Neutral", ...), interned strings
 * @expr: expression probabilities, summing to 1
 * @expr_index: index of the most probable expression, -1 when absent
 * @valence: valence in [-1, 1]
 * @arousal: arousal in [-1, 1]
 *
 * Predictions for one face on one frame, as plain data. Label pointers must
 * be interned strings (g_intern_string()); the setters of this library and
 * gst_buffer_add_affect_predictions_meta() intern them.
 */
typedef struct {
  GstAffectTasks tasks;
  GstAffectModalities modalities;

  guint n_au;
  const gchar *au_labels[GST_AFFECT_MAX_AU];
  gfloat au[GST_AFFECT_MAX_AU];

  guint n_expr;
  const gchar *expr_labels[GST_AFFECT_MAX_EXPR];
  gfloat expr[GST_AFFECT_MAX_EXPR];
  gint expr_index;

  gfloat valence;
  gfloat arousal;
} GstAffectPredictions;

GST_AFFECT_API
GType gst_affect_predictions_get_type (void);
#define GST_AFFECT_TYPE_PREDICTIONS (gst_affect_predictions_get_type ())

GST_AFFECT_API
GstAffectPredictions *gst_affect_predictions_new (void);

GST_AFFECT_API
GstAffectPredictions *gst_affect_predictions_copy (
    const GstAffectPredictions *p);

GST_AFFECT_API
void gst_affect_predictions_free (GstAffectPredictions *p);

GST_AFFECT_API
void gst_affect_predictions_init (GstAffectPredictions *p);

GST_AFFECT_API
gboolean gst_affect_predictions_set_au (GstAffectPredictions *p, guint n,
    const gchar *const *labels, const gfloat *probs);

GST_AFFECT_API
gboolean gst_affect_predictions_set_expression (GstAffectPredictions *p,
    guint n, const gchar *const *labels, const gfloat *probs);

GST_AFFECT_API
void gst_affect_predictions_set_va (
    GstAffectPredictions *p, gfloat valence, gfloat arousal);

/**
 * GstAffectPredictionsMeta:
 * @meta: parent #GstMeta
 * @track_id: track id of the face these predictions belong to
 * @predictions: the predictions
 */
typedef struct {
  GstMeta meta;

  guint track_id;
  GstAffectPredictions predictions;
} GstAffectPredictionsMeta;

GST_AFFECT_API
GType gst_affect_predictions_meta_api_get_type (void);
#define GST_AFFECT_PREDICTIONS_META_API_TYPE \
  (gst_affect_predictions_meta_api_get_type ())

GST_AFFECT_API
const GstMetaInfo *gst_affect_predictions_meta_get_info (void);
#define GST_AFFECT_PREDICTIONS_META_INFO \
  (gst_affect_predictions_meta_get_info ())

GST_AFFECT_API
GstAffectPredictionsMeta *gst_buffer_add_affect_predictions_meta (
    GstBuffer *buffer, guint track_id, const GstAffectPredictions *predictions);

GST_AFFECT_API
GstAffectPredictionsMeta *gst_buffer_iterate_affect_predictions_meta (
    GstBuffer *buffer, gpointer *state);

GST_AFFECT_API
GstAffectPredictionsMeta *gst_buffer_get_affect_predictions_meta_by_track (
    GstBuffer *buffer, guint track_id);

GST_AFFECT_API
GstStructure *gst_affect_predictions_to_structure (
    const GstAffectPredictions *p);

GST_AFFECT_API
gboolean gst_affect_predictions_from_structure (
    const GstStructure *s, GstAffectPredictions *p);

/* ------------------------------------------------------------------ */
/* Label tables                                                        */
/* ------------------------------------------------------------------ */

GST_AFFECT_API
const gchar *const *gst_affect_abaw_au_labels (guint *n);

GST_AFFECT_API
const gchar *const *gst_affect_abaw_expression_labels (guint *n);

GST_AFFECT_API
const gchar *gst_affect_branch_get_name (GstAffectBranch branch);

G_END_DECLS

/* GTypes of the enums and flags above (generated by glib-mkenums) */
#include <gst/affect/affect-enumtypes.h>

#endif /* __GST_AFFECT_META_H__ */
