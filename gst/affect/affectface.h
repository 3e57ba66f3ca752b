/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/*
 * The faces of a buffer as plain values: one #GstAffectFace per track,
 * joining the face meta and the predictions meta, for applications in C
 * and, through GObject-introspection, in Python and other languages
 * (GstAffect.buffer_get_faces (buf)). Also the helpers bindings need to
 * list ROI metas and to hand a buffer with new metas back to a pad probe.
 */

#ifndef __GST_AFFECT_FACE_H__
#define __GST_AFFECT_FACE_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/affect/affect-prelude.h>
#include <gst/affect/affectmeta.h>

G_BEGIN_DECLS

/**
 * GstAffectFace:
 * @track_id: track id of the face
 * @has_box: whether the buffer has a #GstAffectFaceMeta for this track;
 *   @x, @y, @width, @height, @score and @roi_id are valid only then
 * @x: left edge of the box in frame pixels
 * @y: top edge of the box in frame pixels
 * @width: box width in frame pixels
 * @height: box height in frame pixels
 * @score: detection score in [0, 1]
 * @roi_id: id of the face's #GstVideoRegionOfInterestMeta, -1 when none
 * @has_landmarks: whether the face has its 68 landmarks
 *   (gst_affect_face_get_landmarks())
 * @has_expression: whether expression probabilities are present
 * @expression: (nullable): label of the most probable expression, %NULL
 *   without expression; an interned string
 * @expression_prob: probability of @expression (0 without expression)
 * @expression_index: index of @expression in
 *   gst_affect_face_get_expression_labels(), -1 without expression
 * @has_au: whether action-unit probabilities are present (they come only
 *   from a fusion model, see docs/training.md)
 * @has_va: whether @valence and @arousal are present (only from a fusion
 *   model)
 * @valence: valence in [-1, 1] (0 when absent: check @has_va)
 * @arousal: arousal in [-1, 1] (0 when absent: check @has_va)
 * @modalities: the branches that contributed to the predictions
 * @has_pose: whether @yaw, @pitch and @roll are present (a face meta with a
 *   head pose: `facecrop` fits it when the face has landmarks)
 * @yaw: head yaw in degrees, positive when the face turns to its own left
 *   (the nose moves to the image right); 0 when absent
 * @pitch: head pitch in degrees, positive when the face looks up; 0 when
 *   absent
 * @roll: head roll in degrees, positive when the face tilts clockwise in
 *   the image; 0 when absent
 *
 * One face of one buffer as a value: what its #GstAffectFaceMeta and
 * #GstAffectPredictionsMeta say, copied, so that it stays valid after the
 * buffer is gone. Made by gst_affect_buffer_get_faces() and
 * gst_affect_buffer_get_face(); a boxed type, copied with
 * gst_affect_face_copy() and freed with gst_affect_face_free().
 *
 * Arrays are read with the getters: landmarks, expression and AU labels and
 * probabilities.
 */
typedef struct {
  guint track_id;

  gboolean has_box;
  gfloat x, y, width, height;
  gfloat score;
  gint roi_id;
  gboolean has_landmarks;

  gboolean has_expression;
  const gchar *expression;
  gfloat expression_prob;
  gint expression_index;

  gboolean has_au;

  gboolean has_va;
  gfloat valence;
  gfloat arousal;

  GstAffectModalities modalities;

  gboolean has_pose;
  gfloat yaw, pitch, roll;

  /*< private >*/
  gfloat landmarks[2 * GST_AFFECT_N_LANDMARKS];
  GstAffectPredictions predictions;
  gpointer _gst_reserved[GST_PADDING];
} GstAffectFace;

GST_AFFECT_API
GType gst_affect_face_get_type (void);
#define GST_AFFECT_TYPE_FACE (gst_affect_face_get_type ())

GST_AFFECT_API
GstAffectFace *gst_affect_face_copy (const GstAffectFace *face);

GST_AFFECT_API
void gst_affect_face_free (GstAffectFace *face);

GST_AFFECT_API
const gfloat *gst_affect_face_get_landmarks (
    const GstAffectFace *face, guint *n_values);

GST_AFFECT_API
gboolean gst_affect_face_get_landmark (
    const GstAffectFace *face, guint index, gfloat *x, gfloat *y);

GST_AFFECT_API
const gchar *const *gst_affect_face_get_expression_labels (
    const GstAffectFace *face, guint *n);

GST_AFFECT_API
const gfloat *gst_affect_face_get_expression_probs (
    const GstAffectFace *face, guint *n);

GST_AFFECT_API
gboolean gst_affect_face_get_expression_prob (
    const GstAffectFace *face, const gchar *label, gfloat *prob);

GST_AFFECT_API
const gchar *const *gst_affect_face_get_au_labels (
    const GstAffectFace *face, guint *n);

GST_AFFECT_API
const gfloat *gst_affect_face_get_au_probs (
    const GstAffectFace *face, guint *n);

GST_AFFECT_API
gboolean gst_affect_face_get_au (
    const GstAffectFace *face, const gchar *label, gfloat *prob);

GST_AFFECT_API
const GstAffectPredictions *gst_affect_face_get_predictions (
    const GstAffectFace *face);

GST_AFFECT_API
GList *gst_affect_buffer_get_faces (GstBuffer *buffer);

GST_AFFECT_API
GstAffectFace *gst_affect_buffer_get_face (GstBuffer *buffer, guint track_id);

GST_AFFECT_API
GList *gst_affect_buffer_get_rois (GstBuffer *buffer, const gchar *roi_type);

GST_AFFECT_API
void gst_affect_pad_probe_info_set_buffer (
    GstPadProbeInfo *info, GstBuffer *buffer);

G_END_DECLS

#endif /* __GST_AFFECT_FACE_H__ */
