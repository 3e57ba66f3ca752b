/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:gstaffectface
 * @title: GstAffectFace
 * @short_description: the faces of a buffer as values, for applications
 *   and bindings
 *
 * gst_affect_buffer_get_faces() returns one #GstAffectFace per track of a
 * buffer: box, score, track id, landmarks, expression probabilities and
 * the top expression, action units, valence and arousal, each with a
 * presence flag. The faces are copies: they stay valid after the buffer
 * is gone and need no knowledge of the metas.
 *
 * From Python (PyGObject, no gst-python overrides needed):
 *
 * |[<!-- language="Python" -->
 * for face in GstAffect.buffer_get_faces(buf):
 *     print(face.track_id, face.x, face.y, face.width, face.height)
 *     if face.has_expression:
 *         print(face.expression, face.expression_prob)
 *     if face.has_va:
 *         print(face.valence, face.arousal)
 * ]|
 *
 * gst_affect_buffer_get_rois() lists the #GstVideoRegionOfInterestMeta of
 * a buffer, which bindings cannot iterate otherwise, and
 * gst_affect_pad_probe_info_set_buffer() lets a pad probe written in a
 * binding hand a buffer with new metas downstream (see its documentation
 * for why that is needed).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "affectface.h"

G_DEFINE_BOXED_TYPE (
    GstAffectFace, gst_affect_face, gst_affect_face_copy, gst_affect_face_free);

/**
 * gst_affect_face_copy:
 * @face: a #GstAffectFace
 *
 * Returns: (transfer full): a copy of @face.
 */
GstAffectFace *
gst_affect_face_copy (const GstAffectFace *face)
{
  g_return_val_if_fail (face != NULL, NULL);

  return g_memdup2 (face, sizeof (GstAffectFace));
}

/**
 * gst_affect_face_free:
 * @face: (transfer full) (nullable): a #GstAffectFace
 *
 * Frees a #GstAffectFace.
 */
void
gst_affect_face_free (GstAffectFace *face)
{
  g_free (face);
}

/**
 * gst_affect_face_get_landmarks:
 * @face: a #GstAffectFace
 * @n_values: (out): number of floats returned: 136 (68 points) or 0
 *
 * The 68 landmarks in frame pixels, interleaved: x0, y0, x1, y1, ... in the
 * iBUG-68 order. In Python, `pts = list(zip(l[0::2], l[1::2]))` makes
 * (x, y) pairs of them.
 *
 * Returns: (array length=n_values) (transfer none): the landmarks, empty
 *   when the face has none.
 */
const gfloat *
gst_affect_face_get_landmarks (const GstAffectFace *face, guint *n_values)
{
  g_return_val_if_fail (n_values != NULL, NULL);
  *n_values = 0;
  g_return_val_if_fail (face != NULL, NULL);

  if (face->has_landmarks)
    *n_values = 2 * GST_AFFECT_N_LANDMARKS;
  return face->landmarks;
}

/**
 * gst_affect_face_get_landmark:
 * @face: a #GstAffectFace
 * @index: landmark index, below %GST_AFFECT_N_LANDMARKS
 * @x: (out) (optional): x of the point in frame pixels
 * @y: (out) (optional): y of the point in frame pixels
 *
 * Returns: %TRUE if @face has landmarks and @index is valid.
 */
gboolean
gst_affect_face_get_landmark (
    const GstAffectFace *face, guint index, gfloat *x, gfloat *y)
{
  g_return_val_if_fail (face != NULL, FALSE);

  if (!face->has_landmarks || index >= GST_AFFECT_N_LANDMARKS)
    return FALSE;
  if (x)
    *x = face->landmarks[2 * index];
  if (y)
    *y = face->landmarks[2 * index + 1];
  return TRUE;
}

/**
 * gst_affect_face_get_expression_labels:
 * @face: a #GstAffectFace
 * @n: (out): number of labels
 *
 * Returns: (array length=n) (transfer none): the expression class names,
 *   in the order of gst_affect_face_get_expression_probs(); empty without
 *   expression.
 */
const gchar *const *
gst_affect_face_get_expression_labels (const GstAffectFace *face, guint *n)
{
  g_return_val_if_fail (n != NULL, NULL);
  *n = 0;
  g_return_val_if_fail (face != NULL, NULL);

  if (face->has_expression)
    *n = face->predictions.n_expr;
  return face->predictions.expr_labels;
}

/**
 * gst_affect_face_get_expression_probs:
 * @face: a #GstAffectFace
 * @n: (out): number of probabilities
 *
 * Returns: (array length=n) (transfer none): the expression probabilities
 *   (summing to 1); empty without expression.
 */
const gfloat *
gst_affect_face_get_expression_probs (const GstAffectFace *face, guint *n)
{
  g_return_val_if_fail (n != NULL, NULL);
  *n = 0;
  g_return_val_if_fail (face != NULL, NULL);

  if (face->has_expression)
    *n = face->predictions.n_expr;
  return face->predictions.expr;
}

/* Index of @label in @labels: the same interned string, else the same
 * string ignoring ASCII case; -1 when absent. */
static gint
find_label (const gchar *const *labels, guint n, const gchar *label)
{
  const gchar *interned = g_intern_string (label);
  guint i;

  for (i = 0; i < n; i++) {
    if (labels[i] == interned)
      return i;
  }
  for (i = 0; i < n; i++) {
    if (labels[i] && g_ascii_strcasecmp (labels[i], label) == 0)
      return i;
  }
  return -1;
}

/**
 * gst_affect_face_get_expression_prob:
 * @face: a #GstAffectFace
 * @label: an expression class name (ASCII case ignored)
 * @prob: (out) (optional): its probability
 *
 * Returns: %TRUE if @face has an expression class named @label.
 */
gboolean
gst_affect_face_get_expression_prob (
    const GstAffectFace *face, const gchar *label, gfloat *prob)
{
  gint i;

  g_return_val_if_fail (face != NULL, FALSE);
  g_return_val_if_fail (label != NULL, FALSE);

  if (!face->has_expression)
    return FALSE;
  i = find_label (
      face->predictions.expr_labels, face->predictions.n_expr, label);
  if (i < 0)
    return FALSE;
  if (prob)
    *prob = face->predictions.expr[i];
  return TRUE;
}

/**
 * gst_affect_face_get_au_labels:
 * @face: a #GstAffectFace
 * @n: (out): number of labels
 *
 * Returns: (array length=n) (transfer none): the action-unit names ("AU1",
 *   ...), in the order of gst_affect_face_get_au_probs(); empty without
 *   AUs.
 */
const gchar *const *
gst_affect_face_get_au_labels (const GstAffectFace *face, guint *n)
{
  g_return_val_if_fail (n != NULL, NULL);
  *n = 0;
  g_return_val_if_fail (face != NULL, NULL);

  if (face->has_au)
    *n = face->predictions.n_au;
  return face->predictions.au_labels;
}

/**
 * gst_affect_face_get_au_probs:
 * @face: a #GstAffectFace
 * @n: (out): number of probabilities
 *
 * Returns: (array length=n) (transfer none): the probabilities that each
 *   action unit is active, in [0, 1]; empty without AUs.
 */
const gfloat *
gst_affect_face_get_au_probs (const GstAffectFace *face, guint *n)
{
  g_return_val_if_fail (n != NULL, NULL);
  *n = 0;
  g_return_val_if_fail (face != NULL, NULL);

  if (face->has_au)
    *n = face->predictions.n_au;
  return face->predictions.au;
}

/**
 * gst_affect_face_get_au:
 * @face: a #GstAffectFace
 * @label: an action-unit name, such as "AU12" (ASCII case ignored)
 * @prob: (out) (optional): the probability that it is active
 *
 * Returns: %TRUE if @face has a probability for @label.
 */
gboolean
gst_affect_face_get_au (
    const GstAffectFace *face, const gchar *label, gfloat *prob)
{
  gint i;

  g_return_val_if_fail (face != NULL, FALSE);
  g_return_val_if_fail (label != NULL, FALSE);

  if (!face->has_au)
    return FALSE;
  i = find_label (face->predictions.au_labels, face->predictions.n_au, label);
  if (i < 0)
    return FALSE;
  if (prob)
    *prob = face->predictions.au[i];
  return TRUE;
}

/**
 * gst_affect_face_get_predictions:
 * @face: a #GstAffectFace
 *
 * Returns: (transfer none): all the predictions of @face (empty, with no
 *   task, when the track has no predictions meta), owned by @face.
 */
const GstAffectPredictions *
gst_affect_face_get_predictions (const GstAffectFace *face)
{
  g_return_val_if_fail (face != NULL, NULL);

  return &face->predictions;
}

static GstAffectFace *
face_new (guint track_id)
{
  GstAffectFace *face = g_new0 (GstAffectFace, 1);

  face->track_id = track_id;
  face->roi_id = -1;
  face->expression_index = -1;
  gst_affect_predictions_init (&face->predictions);
  return face;
}

static void
face_set_meta (GstAffectFace *face, const GstAffectFaceMeta *meta)
{
  guint i;

  face->has_box = TRUE;
  face->x = meta->x;
  face->y = meta->y;
  face->width = meta->width;
  face->height = meta->height;
  face->score = meta->score;
  face->roi_id = meta->roi_id;
  face->has_landmarks = meta->has_landmarks;
  for (i = 0; i < GST_AFFECT_N_LANDMARKS; i++) {
    face->landmarks[2 * i] = meta->has_landmarks ? meta->landmarks[i][0] : 0;
    face->landmarks[2 * i + 1]
        = meta->has_landmarks ? meta->landmarks[i][1] : 0;
  }
  face->has_pose = meta->has_pose;
  face->yaw = meta->has_pose ? meta->yaw : 0.0f;
  face->pitch = meta->has_pose ? meta->pitch : 0.0f;
  face->roll = meta->has_pose ? meta->roll : 0.0f;
}

static void
face_set_predictions (GstAffectFace *face, const GstAffectPredictions *p)
{
  GstAffectPredictions *fp = &face->predictions;

  /* the meta holds interned labels and counts within capacity */
  *fp = *p;
  face->modalities = fp->modalities;
  face->has_expression
      = (fp->tasks & GST_AFFECT_TASK_EXPRESSION) && fp->n_expr > 0;
  face->has_au = (fp->tasks & GST_AFFECT_TASK_AU) && fp->n_au > 0;
  face->has_va = (fp->tasks & GST_AFFECT_TASK_VA) != 0;
  if (face->has_expression && fp->expr_index >= 0
      && (guint)fp->expr_index < fp->n_expr) {
    face->expression_index = fp->expr_index;
    face->expression = fp->expr_labels[fp->expr_index];
    face->expression_prob = fp->expr[fp->expr_index];
  }
  if (face->has_va) {
    face->valence = fp->valence;
    face->arousal = fp->arousal;
  }
}

/**
 * gst_affect_buffer_get_face:
 * @buffer: a #GstBuffer
 * @track_id: a track id
 *
 * The face of @track_id on @buffer: its #GstAffectFaceMeta and
 * #GstAffectPredictionsMeta joined, copied into a #GstAffectFace.
 *
 * Returns: (transfer full) (nullable): the face, %NULL when @buffer has
 *   neither a face nor a predictions meta for @track_id; free with
 *   gst_affect_face_free().
 */
GstAffectFace *
gst_affect_buffer_get_face (GstBuffer *buffer, guint track_id)
{
  GstAffectFaceMeta *meta;
  GstAffectPredictionsMeta *pred;
  GstAffectFace *face;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);

  meta = gst_buffer_get_affect_face_meta_by_track (buffer, track_id);
  pred = gst_buffer_get_affect_predictions_meta_by_track (buffer, track_id);
  if (meta == NULL && pred == NULL)
    return NULL;

  face = face_new (track_id);
  if (meta)
    face_set_meta (face, meta);
  if (pred)
    face_set_predictions (face, &pred->predictions);
  return face;
}

static GstAffectFace *
find_face (GList *faces, guint track_id)
{
  for (; faces; faces = faces->next) {
    GstAffectFace *face = faces->data;

    if (face->track_id == track_id)
      return face;
  }
  return NULL;
}

/**
 * gst_affect_buffer_get_faces:
 * @buffer: a #GstBuffer
 *
 * All faces of @buffer as values: one #GstAffectFace per track that has a
 * #GstAffectFaceMeta (in buffer order), then one per track that only has a
 * #GstAffectPredictionsMeta (with has_box %FALSE). Each joins the face and
 * predictions metas of its track (the first of each kind, should a track
 * have two).
 *
 * In C, free the list with
 * `g_list_free_full (faces, (GDestroyNotify) gst_affect_face_free)`.
 *
 * Returns: (transfer full) (element-type GstAffectFace): the faces, %NULL
 *   (an empty list) when there are none.
 */
GList *
gst_affect_buffer_get_faces (GstBuffer *buffer)
{
  GstAffectFaceMeta *meta;
  GstAffectPredictionsMeta *pred;
  gpointer state = NULL;
  GList *faces = NULL;
  GstAffectFace *face;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);

  while ((meta = gst_buffer_iterate_affect_face_meta (buffer, &state))) {
    if (find_face (faces, meta->track_id) != NULL)
      continue;
    face = face_new (meta->track_id);
    face_set_meta (face, meta);
    faces = g_list_prepend (faces, face);
  }

  state = NULL;
  while ((pred = gst_buffer_iterate_affect_predictions_meta (buffer, &state))) {
    face = find_face (faces, pred->track_id);
    if (face == NULL) {
      face = face_new (pred->track_id);
      faces = g_list_prepend (faces, face);
    } else if (face->predictions.tasks != GST_AFFECT_TASK_NONE
               || face->predictions.modalities != GST_AFFECT_MODALITY_NONE) {
      continue;
    }
    face_set_predictions (face, &pred->predictions);
  }

  return g_list_reverse (faces);
}

/**
 * gst_affect_buffer_get_rois:
 * @buffer: a #GstBuffer
 * @roi_type: (nullable): only the ROIs of this type (such as "face",
 *   %GST_AFFECT_ROI_TYPE), or %NULL for all
 *
 * Lists the #GstVideoRegionOfInterestMeta of @buffer, in buffer order.
 * Bindings cannot iterate metas of one API with
 * gst_buffer_iterate_meta_filtered() (its state argument is not
 * introspectable), and gst_buffer_get_video_region_of_interest_meta_id()
 * needs the ids: this is how they list the ROIs, for example to read the
 * "affect-face" and "affect" params of every face.
 *
 * Returns: (transfer container) (element-type GstVideo.VideoRegionOfInterestMeta):
 *   the ROI metas, owned by @buffer; free the list with g_list_free().
 */
GList *
gst_affect_buffer_get_rois (GstBuffer *buffer, const gchar *roi_type)
{
  GstVideoRegionOfInterestMeta *roi;
  gpointer state = NULL;
  GList *rois = NULL;
  GQuark type = 0;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);

  if (roi_type != NULL) {
    type = g_quark_try_string (roi_type);
    /* no ROI can have a type that was never made a quark */
    if (type == 0)
      return NULL;
  }

  while (
      (roi = (GstVideoRegionOfInterestMeta *)gst_buffer_iterate_meta_filtered (
           buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    if (roi_type == NULL || roi->roi_type == type)
      rois = g_list_prepend (rois, roi);
  }
  return g_list_reverse (rois);
}

/**
 * gst_affect_pad_probe_info_set_buffer:
 * @info: the #GstPadProbeInfo of a buffer probe (%GST_PAD_PROBE_TYPE_BUFFER)
 * @buffer: (transfer none): the buffer to send on instead of the probe's
 *   buffer
 *
 * Replaces the buffer of a buffer probe: @info takes a reference on
 * @buffer and drops the one it held, and @buffer is what goes on when the
 * probe returns %GST_PAD_PROBE_OK.
 *
 * Adding metas needs a writable buffer, that is, one with a single
 * reference. In C, a probe makes its buffer writable with
 * gst_buffer_make_writable() and stores the result back into
 * GST_PAD_PROBE_INFO_DATA(). Bindings cannot: PyGObject holds a reference
 * on every buffer it gives Python, so the probe's buffer is never writable
 * there. A probe in Python therefore adds the metas to a copy (which
 * shares the memory: cheap) and hands the copy on with this function:
 *
 * |[<!-- language="Python" -->
 * COPY_ALL = (Gst.BufferCopyFlags.FLAGS | Gst.BufferCopyFlags.TIMESTAMPS
 *             | Gst.BufferCopyFlags.META | Gst.BufferCopyFlags.MEMORY)
 *
 * def on_buffer(pad, info):
 *     buf = info.get_buffer()
 *     copy = buf.copy_region(COPY_ALL, 0, buf.get_size())
 *     GstAffect.buffer_add_affect_face_meta(copy, 1, 10, 20, 64, 64, 1.0)
 *     GstAffect.pad_probe_info_set_buffer(info, copy)
 *     return Gst.PadProbeReturn.OK
 * ]|
 *
 * (Gst.BUFFER_COPY_ALL, a C macro, reads as 0 in PyGObject: spell the
 * flags out.)
 */
void
gst_affect_pad_probe_info_set_buffer (GstPadProbeInfo *info, GstBuffer *buffer)
{
  g_return_if_fail (info != NULL);
  g_return_if_fail (GST_IS_BUFFER (buffer));
  g_return_if_fail (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER);
  g_return_if_fail (GST_PAD_PROBE_INFO_DATA (info) != NULL);

  gst_buffer_replace ((GstBuffer **)&GST_PAD_PROBE_INFO_DATA (info), buffer);
}
