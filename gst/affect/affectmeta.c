/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:gstaffectmeta
 * @title: GstAffect metadata
 * @short_description: faces, branch features and affect predictions on
 *   video buffers
 *
 * Three metas travel on video buffers, at most one of each kind per face
 * and buffer, linked by the face's track id:
 *
 * - #GstAffectFaceMeta: box, score, landmarks and aligned crop of a face.
 *   Adding one also adds a #GstVideoRegionOfInterestMeta of type "face"
 *   with the same box, so that applications that only know ROI metas see
 *   the faces too.
 * - #GstAffectFeaturesMeta: the four branch vectors of a face.
 * - #GstAffectPredictionsMeta: AU and expression probabilities, valence and
 *   arousal. They are mirrored into the face's ROI meta as a #GstStructure
 *   named "affect".
 *
 * Calling one of the `gst_buffer_add_affect_*_meta()` functions for a track
 * id that already has a meta of that kind on the buffer updates that meta
 * instead of adding a second one.
 *
 * The face meta follows a `videoscale` (box and landmarks are scaled) and
 * is dropped by any other transformation that is not a plain copy. Features
 * and predictions do not depend on the frame geometry and are always
 * copied.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "affectmeta.h"
#include "affect-enumtypes.h"

#ifndef GST_DISABLE_GST_DEBUG
#define GST_CAT_DEFAULT ensure_debug_category ()
static GstDebugCategory *
ensure_debug_category (void)
{
  static gsize cat_gonce = 0;

  if (g_once_init_enter (&cat_gonce)) {
    gsize cat_done = (gsize)_gst_debug_category_new (
        "affectmeta", 0, "gst-affect metadata");
    g_once_init_leave (&cat_gonce, cat_done);
  }
  return (GstDebugCategory *)cat_gonce;
}
#else
#define ensure_debug_category() /* NOOP */
#endif                          /* GST_DISABLE_GST_DEBUG */

#define ALL_TASKS \
  (GST_AFFECT_TASK_AU | GST_AFFECT_TASK_EXPRESSION | GST_AFFECT_TASK_VA)
#define ALL_MODALITIES                                        \
  (GST_AFFECT_MODALITY_IMAGE | GST_AFFECT_MODALITY_EXPRESSION \
      | GST_AFFECT_MODALITY_SPEECH | GST_AFFECT_MODALITY_WORDS)

static GstVideoRegionOfInterestMeta *find_face_roi (
    GstBuffer *buffer, GstAffectFaceMeta *face, guint track_id);
static void restore_roi_params (
    GstBuffer *dest, GstBuffer *src, guint track_id);

/* ------------------------------------------------------------------ */
/* Face                                                                */
/* ------------------------------------------------------------------ */

/**
 * gst_affect_face_meta_api_get_type:
 *
 * Returns: the #GType of the API of #GstAffectFaceMeta, with the tags
 *   "video", "size" and "orientation".
 */
GType
gst_affect_face_meta_api_get_type (void)
{
  static GType type = 0;
  static const gchar *tags[] = { GST_META_TAG_VIDEO_STR,
    GST_META_TAG_VIDEO_SIZE_STR, GST_META_TAG_VIDEO_ORIENTATION_STR, NULL };

  if (g_once_init_enter (&type)) {
    GType _type = gst_meta_api_type_register ("GstAffectFaceMetaAPI", tags);
    g_once_init_leave (&type, _type);
  }
  return type;
}

static gboolean
gst_affect_face_meta_init (GstMeta *meta, gpointer params, GstBuffer *buffer)
{
  GstAffectFaceMeta *fmeta = (GstAffectFaceMeta *)meta;

  fmeta->track_id = 0;
  fmeta->x = fmeta->y = fmeta->width = fmeta->height = 0.0f;
  fmeta->score = 0.0f;
  fmeta->has_landmarks = FALSE;
  memset (fmeta->landmarks, 0, sizeof (fmeta->landmarks));
  fmeta->crop = NULL;
  fmeta->crop_size = 0;
  fmeta->roi_id = -1;
  fmeta->has_pose = FALSE;
  fmeta->yaw = fmeta->pitch = fmeta->roll = 0.0f;

  return TRUE;
}

static void
gst_affect_face_meta_free (GstMeta *meta, GstBuffer *buffer)
{
  GstAffectFaceMeta *fmeta = (GstAffectFaceMeta *)meta;

  gst_clear_buffer (&fmeta->crop);
  fmeta->crop_size = 0;
}

/* Copies everything from @src to @dest, scaling the geometry by (@sx, @sy).
 * The crop is shared by reference. */
static void
face_meta_copy_scaled (GstAffectFaceMeta *dest, const GstAffectFaceMeta *src,
    gdouble sx, gdouble sy)
{
  guint i;

  dest->track_id = src->track_id;
  dest->x = (gfloat)(src->x * sx);
  dest->y = (gfloat)(src->y * sy);
  dest->width = (gfloat)(src->width * sx);
  dest->height = (gfloat)(src->height * sy);
  dest->score = src->score;
  dest->has_landmarks = src->has_landmarks;
  for (i = 0; i < GST_AFFECT_N_LANDMARKS; i++) {
    dest->landmarks[i][0] = (gfloat)(src->landmarks[i][0] * sx);
    dest->landmarks[i][1] = (gfloat)(src->landmarks[i][1] * sy);
  }
  if (dest->crop != src->crop)
    gst_buffer_replace (&dest->crop, src->crop);
  dest->crop_size = src->crop ? src->crop_size : 0;
  dest->roi_id = src->roi_id;
  /* angles do not change with the frame size (a non-uniform scale skews
   * the face a little; the pose is kept as it was fitted) */
  dest->has_pose = src->has_pose;
  dest->yaw = src->yaw;
  dest->pitch = src->pitch;
  dest->roll = src->roll;
}

static gboolean
gst_affect_face_meta_transform (GstBuffer *dest, GstMeta *meta,
    GstBuffer *buffer, GQuark type, gpointer data)
{
  GstAffectFaceMeta *smeta = (GstAffectFaceMeta *)meta;
  GstAffectFaceMeta *dmeta;
  gdouble sx = 1.0, sy = 1.0;

  if (GST_META_TRANSFORM_IS_COPY (type)) {
    GST_TRACE ("copy face meta of track %u", smeta->track_id);
  } else if (GST_VIDEO_META_TRANSFORM_IS_SCALE (type)) {
    GstVideoMetaTransform *trans = data;
    gint iw, ih, ow, oh;

    if (trans == NULL || trans->in_info == NULL || trans->out_info == NULL)
      return FALSE;

    iw = GST_VIDEO_INFO_WIDTH (trans->in_info);
    ih = GST_VIDEO_INFO_HEIGHT (trans->in_info);
    ow = GST_VIDEO_INFO_WIDTH (trans->out_info);
    oh = GST_VIDEO_INFO_HEIGHT (trans->out_info);
    if (iw <= 0 || ih <= 0 || ow <= 0 || oh <= 0) {
      GST_DEBUG (
          "invalid scale %dx%d -> %dx%d, dropping face meta", iw, ih, ow, oh);
      return FALSE;
    }
    sx = (gdouble)ow / iw;
    sy = (gdouble)oh / ih;
    GST_TRACE ("scale face meta of track %u by %gx%g", smeta->track_id, sx, sy);
  } else {
    /* Any other transformation (crop, rotation, ...) invalidates the box. */
    return FALSE;
  }

  dmeta = gst_buffer_get_affect_face_meta_by_track (dest, smeta->track_id);
  if (dmeta == NULL) {
    dmeta = (GstAffectFaceMeta *)gst_buffer_add_meta (
        dest, GST_AFFECT_FACE_META_INFO, NULL);
    if (dmeta == NULL)
      return FALSE;
  }
  face_meta_copy_scaled (dmeta, smeta, sx, sy);
  restore_roi_params (dest, buffer, smeta->track_id);

  return TRUE;
}

/**
 * gst_affect_face_meta_get_info:
 *
 * Returns: (transfer none): the #GstMetaInfo of #GstAffectFaceMeta.
 */
const GstMetaInfo *
gst_affect_face_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **)&info)) {
    const GstMetaInfo *mi
        = gst_meta_register (GST_AFFECT_FACE_META_API_TYPE, "GstAffectFaceMeta",
            sizeof (GstAffectFaceMeta), gst_affect_face_meta_init,
            gst_affect_face_meta_free, gst_affect_face_meta_transform);
    g_once_init_leave ((GstMetaInfo **)&info, (GstMetaInfo *)mi);
  }
  return info;
}

/* Float pixel coordinate to a non-negative integer one (rounded). */
static guint
round_clamp_coord (gdouble v)
{
  if (!(v > 0.0)) /* also catches NaN */
    return 0;
  if (v >= (gdouble)G_MAXINT)
    return G_MAXINT;
  return (guint)lround (v);
}

static gboolean
roi_id_in_use (GstBuffer *buffer, gint id, GstVideoRegionOfInterestMeta *skip)
{
  GstVideoRegionOfInterestMeta *roi;
  gpointer state = NULL;

  while (
      (roi = (GstVideoRegionOfInterestMeta *)gst_buffer_iterate_meta_filtered (
           buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    if (roi != skip && roi->id == id)
      return TRUE;
  }
  return FALSE;
}

/* An ROI id unique on @buffer, preferably the track id. */
static gint
pick_roi_id (
    GstBuffer *buffer, guint track_id, GstVideoRegionOfInterestMeta *roi)
{
  GstVideoRegionOfInterestMeta *other;
  gpointer state = NULL;
  gint id = (gint)MIN (track_id, (guint)G_MAXINT);
  gint max_id = -1;

  if (!roi_id_in_use (buffer, id, roi))
    return id;

  while ((
      other = (GstVideoRegionOfInterestMeta *)gst_buffer_iterate_meta_filtered (
          buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    if (other != roi)
      max_id = MAX (max_id, other->id);
  }
  if (max_id < G_MAXINT)
    return max_id + 1;

  /* Ids up to G_MAXINT taken: look for a hole. */
  for (id = 0; id < G_MAXINT; id++) {
    if (!roi_id_in_use (buffer, id, roi))
      return id;
  }
  return -1;
}

/* Replaces the param structure named like @s (taking ownership of @s). */
static void
roi_replace_param (GstVideoRegionOfInterestMeta *roi, GstStructure *s)
{
  GList *l = roi->params;

  while (l != NULL) {
    GList *next = l->next;

    if (gst_structure_has_name (l->data, gst_structure_get_name (s))) {
      gst_structure_free (l->data);
      roi->params = g_list_delete_link (roi->params, l);
    }
    l = next;
  }
  gst_video_region_of_interest_meta_add_param (roi, s);
}

/* Puts the head pose of @meta into @s as "yaw", "pitch" and "roll"
 * (gfloat, degrees), or removes them when @meta has no pose. */
static void
structure_set_pose (GstStructure *s, const GstAffectFaceMeta *meta)
{
  if (meta != NULL && meta->has_pose)
    gst_structure_set (s, "yaw", G_TYPE_FLOAT, meta->yaw, "pitch", G_TYPE_FLOAT,
        meta->pitch, "roll", G_TYPE_FLOAT, meta->roll, NULL);
  else
    gst_structure_remove_fields (s, "yaw", "pitch", "roll", NULL);
}

static void
face_update_roi (GstBuffer *buffer, GstAffectFaceMeta *meta)
{
  GstVideoRegionOfInterestMeta *roi = NULL;
  guint x0, y0, x1, y1;

  x0 = round_clamp_coord (meta->x);
  y0 = round_clamp_coord (meta->y);
  x1 = round_clamp_coord ((gdouble)meta->x + meta->width);
  y1 = round_clamp_coord ((gdouble)meta->y + meta->height);
  x1 = MAX (x1, x0);
  y1 = MAX (y1, y0);

  if (meta->roi_id >= 0)
    roi = gst_buffer_get_video_region_of_interest_meta_id (
        buffer, meta->roi_id);

  if (roi == NULL) {
    roi = gst_buffer_add_video_region_of_interest_meta (
        buffer, GST_AFFECT_ROI_TYPE, x0, y0, x1 - x0, y1 - y0);
    if (roi == NULL) {
      meta->roi_id = -1;
      return;
    }
    roi->id = pick_roi_id (buffer, meta->track_id, roi);
    meta->roi_id = roi->id;
  } else {
    roi->x = x0;
    roi->y = y0;
    roi->w = x1 - x0;
    roi->h = y1 - y0;
  }

  {
    GstStructure *s = gst_structure_new (GST_AFFECT_ROI_FACE_PARAM_NAME,
        "track-id", G_TYPE_UINT, meta->track_id, "score", G_TYPE_FLOAT,
        meta->score, NULL);

    structure_set_pose (s, meta);
    roi_replace_param (roi, s);
  }
}

/**
 * gst_buffer_add_affect_face_meta:
 * @buffer: a writable #GstBuffer
 * @track_id: track id of the face, unique among the faces of @buffer
 * @x: left edge of the box in frame pixels
 * @y: top edge of the box in frame pixels
 * @width: box width in frame pixels (>= 0)
 * @height: box height in frame pixels (>= 0)
 * @score: detection score in [0, 1]
 *
 * Attaches a #GstAffectFaceMeta to @buffer, together with a
 * #GstVideoRegionOfInterestMeta of type "face" carrying the same box
 * (rounded to integers, clipped at 0). The ROI gets an id unique on @buffer
 * (the track id when it is free), stored in the face meta's roi_id, and a
 * param structure "affect-face" with the fields "track-id" (guint) and
 * "score" (gfloat).
 *
 * If @buffer already has a face meta for @track_id, that meta and its ROI
 * are updated instead; landmarks and crop are kept.
 *
 * Returns: (transfer none) (nullable): the face meta, or %NULL on invalid
 *   arguments.
 */
GstAffectFaceMeta *
gst_buffer_add_affect_face_meta (GstBuffer *buffer, guint track_id, gfloat x,
    gfloat y, gfloat width, gfloat height, gfloat score)
{
  GstAffectFaceMeta *meta;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);
  g_return_val_if_fail (isfinite (x) && isfinite (y), NULL);
  g_return_val_if_fail (isfinite (width) && width >= 0.0f, NULL);
  g_return_val_if_fail (isfinite (height) && height >= 0.0f, NULL);

  meta = gst_buffer_get_affect_face_meta_by_track (buffer, track_id);
  if (meta == NULL) {
    GstVideoRegionOfInterestMeta *roi;

    /* The ROI goes on the buffer before the face meta: metas are
     * transformed in the order they were added, and the face meta's
     * transform puts back the ROI params that GStreamer's ROI scale
     * transform drops, which needs the new ROI to exist already. */
    roi = gst_buffer_add_video_region_of_interest_meta (
        buffer, GST_AFFECT_ROI_TYPE, 0, 0, 0, 0);
    roi->id = pick_roi_id (buffer, track_id, roi);

    meta = (GstAffectFaceMeta *)gst_buffer_add_meta (
        buffer, GST_AFFECT_FACE_META_INFO, NULL);
    if (meta == NULL)
      return NULL;
    meta->track_id = track_id;
    meta->roi_id = roi->id;
  }

  meta->x = x;
  meta->y = y;
  meta->width = width;
  meta->height = height;
  meta->score = score;

  face_update_roi (buffer, meta);

  return meta;
}

static gboolean
roi_on_buffer (GstBuffer *buffer, GstVideoRegionOfInterestMeta *roi)
{
  GstVideoRegionOfInterestMeta *other;
  gpointer state = NULL;

  while ((
      other = (GstVideoRegionOfInterestMeta *)gst_buffer_iterate_meta_filtered (
          buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    if (other == roi)
      return TRUE;
  }
  return FALSE;
}

/**
 * gst_buffer_add_affect_face_meta_for_roi:
 * @buffer: a writable #GstBuffer
 * @roi: a #GstVideoRegionOfInterestMeta of @buffer (for example from an
 *   upstream face detector)
 * @track_id: track id of the face, unique among the faces of @buffer
 * @score: detection score in [0, 1]
 *
 * Like gst_buffer_add_affect_face_meta(), but links the face meta to the
 * existing @roi instead of adding a new ROI: the face box is the box of
 * @roi, no other ROI is added. If the id of @roi is shared with another ROI
 * of @buffer, @roi gets a new id unique on @buffer (the track id when it is
 * free) so that the link is unambiguous. The ROI's type is left as it is;
 * the param structure "affect-face" (track id and score) is added to it,
 * replacing an older one.
 *
 * If @buffer already has a face meta for @track_id, that meta is updated
 * and linked to @roi; its landmarks and crop are kept, its former ROI is
 * left alone.
 *
 * Returns: (transfer none) (nullable): the face meta, or %NULL on invalid
 *   arguments.
 */
GstAffectFaceMeta *
gst_buffer_add_affect_face_meta_for_roi (GstBuffer *buffer,
    GstVideoRegionOfInterestMeta *roi, guint track_id, gfloat score)
{
  GstAffectFaceMeta *meta;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);
  g_return_val_if_fail (roi != NULL, NULL);
  g_return_val_if_fail (roi_on_buffer (buffer, roi), NULL);

  if (roi->id < 0 || roi_id_in_use (buffer, roi->id, roi))
    roi->id = pick_roi_id (buffer, track_id, roi);

  meta = gst_buffer_get_affect_face_meta_by_track (buffer, track_id);
  if (meta == NULL) {
    meta = (GstAffectFaceMeta *)gst_buffer_add_meta (
        buffer, GST_AFFECT_FACE_META_INFO, NULL);
    if (meta == NULL)
      return NULL;
    meta->track_id = track_id;
  }
  meta->roi_id = roi->id;
  meta->x = roi->x;
  meta->y = roi->y;
  meta->width = roi->w;
  meta->height = roi->h;
  meta->score = score;

  face_update_roi (buffer, meta);

  return meta;
}

/**
 * gst_affect_face_meta_set_landmarks:
 * @meta: a #GstAffectFaceMeta
 * @points: (array fixed-size=136) (nullable): @n_points (x, y) pairs in
 *   frame pixels, interleaved: x0, y0, x1, y1, ...
 * @n_points: number of points in @points
 *
 * Copies up to %GST_AFFECT_N_LANDMARKS points into @meta; the points not
 * given are set to 0. %NULL or 0 points clear the landmarks.
 *
 * Bindings pass a list of 136 floats (68 points, x0, y0, x1, y1, ...) and
 * the number of points: `meta.set_landmarks(points, 68)` in Python.
 */
void
gst_affect_face_meta_set_landmarks (
    GstAffectFaceMeta *meta, const gfloat *points, guint n_points)
{
  guint n;

  g_return_if_fail (meta != NULL);
  g_return_if_fail (points != NULL || n_points == 0);

  if (n_points > GST_AFFECT_N_LANDMARKS)
    GST_DEBUG ("keeping the first %d of %u landmarks", GST_AFFECT_N_LANDMARKS,
        n_points);

  n = MIN (n_points, GST_AFFECT_N_LANDMARKS);
  memset (meta->landmarks, 0, sizeof (meta->landmarks));
  if (n > 0)
    memcpy (meta->landmarks, points, n * 2 * sizeof (gfloat));
  meta->has_landmarks = n > 0;
}

/**
 * gst_affect_face_meta_get_landmark:
 * @meta: a #GstAffectFaceMeta
 * @index: landmark index, below %GST_AFFECT_N_LANDMARKS
 * @x: (out) (optional): x of the point in frame pixels
 * @y: (out) (optional): y of the point in frame pixels
 *
 * Reads one landmark (for bindings, which cannot read the 2-D array).
 *
 * Returns: %TRUE if @meta has landmarks and @index is valid.
 */
gboolean
gst_affect_face_meta_get_landmark (
    const GstAffectFaceMeta *meta, guint index, gfloat *x, gfloat *y)
{
  g_return_val_if_fail (meta != NULL, FALSE);

  if (!meta->has_landmarks || index >= GST_AFFECT_N_LANDMARKS)
    return FALSE;
  if (x)
    *x = meta->landmarks[index][0];
  if (y)
    *y = meta->landmarks[index][1];
  return TRUE;
}

/* The ROI of @meta on @buffer, NULL when none. */
static GstVideoRegionOfInterestMeta *
face_roi (GstBuffer *buffer, const GstAffectFaceMeta *meta)
{
  if (buffer == NULL || meta->roi_id < 0)
    return NULL;
  return gst_buffer_get_video_region_of_interest_meta_id (buffer, meta->roi_id);
}

/* Mirrors the pose of @meta into the "affect-face" and "affect" params of
 * its ROI on @buffer (when there are such params). */
static void
face_update_roi_pose (GstBuffer *buffer, const GstAffectFaceMeta *meta)
{
  GstVideoRegionOfInterestMeta *roi = face_roi (buffer, meta);
  GstStructure *s;

  if (roi == NULL)
    return;
  s = gst_video_region_of_interest_meta_get_param (
      roi, GST_AFFECT_ROI_FACE_PARAM_NAME);
  if (s != NULL)
    structure_set_pose (s, meta);
  s = gst_video_region_of_interest_meta_get_param (
      roi, GST_AFFECT_ROI_PARAM_NAME);
  if (s != NULL)
    structure_set_pose (s, meta);
}

/**
 * gst_affect_face_meta_set_pose:
 * @meta: a #GstAffectFaceMeta
 * @buffer: (nullable): the writable buffer that holds @meta, to update the
 *   params of the face's ROI too, or %NULL
 * @yaw: yaw in degrees, positive when the face turns to its own left (the
 *   nose moves to the image right)
 * @pitch: pitch in degrees, positive when the face looks up
 * @roll: roll in degrees, positive when the face tilts clockwise in the
 *   image
 *
 * Stores the head pose of the face (conventions in docs/metadata.md, "Head
 * pose"). With @buffer, the "affect-face" param structure of the face's
 * #GstVideoRegionOfInterestMeta (and its "affect" structure when there is
 * one) gets the fields "yaw", "pitch" and "roll" (gfloat, degrees). An
 * angle that is not finite (NaN: the head-pose fit failed) clears the pose
 * instead, as gst_affect_face_meta_clear_pose() does.
 */
void
gst_affect_face_meta_set_pose (GstAffectFaceMeta *meta, GstBuffer *buffer,
    gfloat yaw, gfloat pitch, gfloat roll)
{
  g_return_if_fail (meta != NULL);
  g_return_if_fail (buffer == NULL || GST_IS_BUFFER (buffer));
  g_return_if_fail (buffer == NULL || gst_buffer_is_writable (buffer));

  if (!isfinite (yaw) || !isfinite (pitch) || !isfinite (roll)) {
    gst_affect_face_meta_clear_pose (meta, buffer);
    return;
  }
  meta->has_pose = TRUE;
  meta->yaw = yaw;
  meta->pitch = pitch;
  meta->roll = roll;
  face_update_roi_pose (buffer, meta);
}

/**
 * gst_affect_face_meta_clear_pose:
 * @meta: a #GstAffectFaceMeta
 * @buffer: (nullable): the writable buffer that holds @meta, to remove the
 *   pose from the params of the face's ROI too, or %NULL
 *
 * Marks @meta as having no head pose (angles set to 0).
 */
void
gst_affect_face_meta_clear_pose (GstAffectFaceMeta *meta, GstBuffer *buffer)
{
  g_return_if_fail (meta != NULL);
  g_return_if_fail (buffer == NULL || GST_IS_BUFFER (buffer));
  g_return_if_fail (buffer == NULL || gst_buffer_is_writable (buffer));

  meta->has_pose = FALSE;
  meta->yaw = meta->pitch = meta->roll = 0.0f;
  face_update_roi_pose (buffer, meta);
}

/**
 * gst_affect_face_meta_get_pose:
 * @meta: a #GstAffectFaceMeta
 * @yaw: (out) (optional): yaw in degrees
 * @pitch: (out) (optional): pitch in degrees
 * @roll: (out) (optional): roll in degrees
 *
 * Reads the head pose of the face (see gst_affect_face_meta_set_pose()).
 *
 * Returns: %TRUE if @meta has a pose; without one the angles are set to 0.
 */
gboolean
gst_affect_face_meta_get_pose (
    const GstAffectFaceMeta *meta, gfloat *yaw, gfloat *pitch, gfloat *roll)
{
  g_return_val_if_fail (meta != NULL, FALSE);

  if (yaw)
    *yaw = meta->has_pose ? meta->yaw : 0.0f;
  if (pitch)
    *pitch = meta->has_pose ? meta->pitch : 0.0f;
  if (roll)
    *roll = meta->has_pose ? meta->roll : 0.0f;
  return meta->has_pose;
}

/**
 * gst_affect_face_meta_set_crop:
 * @meta: a #GstAffectFaceMeta
 * @crop: (nullable) (transfer none): packed RGB crop of @crop_size ×
 *   @crop_size pixels, or %NULL to remove the crop
 * @crop_size: side of @crop in pixels
 *
 * Stores a new reference to @crop in @meta, dropping the previous one.
 */
void
gst_affect_face_meta_set_crop (
    GstAffectFaceMeta *meta, GstBuffer *crop, guint crop_size)
{
  g_return_if_fail (meta != NULL);
  g_return_if_fail (crop == NULL || GST_IS_BUFFER (crop));
  g_return_if_fail (crop == NULL || crop_size <= 65535);
  g_return_if_fail (
      crop == NULL
      || gst_buffer_get_size (crop) >= (gsize)3 * crop_size * crop_size);

  gst_buffer_replace (&meta->crop, crop);
  meta->crop_size = crop ? crop_size : 0;
}

/**
 * gst_buffer_iterate_affect_face_meta:
 * @buffer: a #GstBuffer
 * @state: (inout) (nullable) (transfer none): an opaque state pointer, %NULL
 *   at the start; pass back what the previous call left in it (bindings get
 *   (meta, state) back and pass state to the next call)
 *
 * Iterates the face metas of @buffer.
 *
 * Returns: (transfer none) (nullable): the next face meta, or %NULL at the
 *   end.
 */
GstAffectFaceMeta *
gst_buffer_iterate_affect_face_meta (GstBuffer *buffer, gpointer *state)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (state != NULL, NULL);

  return (GstAffectFaceMeta *)gst_buffer_iterate_meta_filtered (
      buffer, state, GST_AFFECT_FACE_META_API_TYPE);
}

/**
 * gst_buffer_get_affect_face_meta_by_track:
 * @buffer: a #GstBuffer
 * @track_id: a track id
 *
 * Returns: (transfer none) (nullable): the face meta of @track_id on @buffer.
 */
GstAffectFaceMeta *
gst_buffer_get_affect_face_meta_by_track (GstBuffer *buffer, guint track_id)
{
  GstAffectFaceMeta *meta;
  gpointer state = NULL;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);

  while ((meta = gst_buffer_iterate_affect_face_meta (buffer, &state))) {
    if (meta->track_id == track_id)
      return meta;
  }
  return NULL;
}

/**
 * gst_buffer_get_n_affect_faces:
 * @buffer: a #GstBuffer
 *
 * Returns: the number of #GstAffectFaceMeta on @buffer.
 */
guint
gst_buffer_get_n_affect_faces (GstBuffer *buffer)
{
  gpointer state = NULL;
  guint n = 0;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), 0);

  while (gst_buffer_iterate_affect_face_meta (buffer, &state))
    n++;
  return n;
}

static gint
compare_uint (gconstpointer a, gconstpointer b)
{
  guint ua = *(const guint *)a, ub = *(const guint *)b;

  return ua < ub ? -1 : (ua > ub ? 1 : 0);
}

/**
 * gst_buffer_get_affect_track_ids:
 * @buffer: a #GstBuffer
 * @n_ids: (out): number of ids returned
 *
 * Lists the track ids that have a face, features or predictions meta on
 * @buffer, in increasing order, each once. Convenient for bindings, which
 * then use the `_by_track` getters.
 *
 * Returns: (array length=n_ids) (transfer full) (nullable): the track ids,
 *   %NULL when there are none; free with g_free().
 */
guint *
gst_buffer_get_affect_track_ids (GstBuffer *buffer, guint *n_ids)
{
  GArray *ids;
  GstMeta *meta;
  gpointer state = NULL;
  guint i, n = 0;

  g_return_val_if_fail (n_ids != NULL, NULL);
  *n_ids = 0;
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);

  ids = g_array_new (FALSE, FALSE, sizeof (guint));
  while ((meta = gst_buffer_iterate_meta (buffer, &state))) {
    GType api = meta->info->api;
    guint id;

    if (api == GST_AFFECT_FACE_META_API_TYPE)
      id = ((GstAffectFaceMeta *)meta)->track_id;
    else if (api == GST_AFFECT_FEATURES_META_API_TYPE)
      id = ((GstAffectFeaturesMeta *)meta)->track_id;
    else if (api == GST_AFFECT_PREDICTIONS_META_API_TYPE)
      id = ((GstAffectPredictionsMeta *)meta)->track_id;
    else
      continue;
    g_array_append_val (ids, id);
  }

  g_array_sort (ids, compare_uint);
  for (i = 0; i < ids->len; i++) {
    if (n == 0
        || g_array_index (ids, guint, i) != g_array_index (ids, guint, n - 1))
      g_array_index (ids, guint, n++) = g_array_index (ids, guint, i);
  }
  g_array_set_size (ids, n);
  *n_ids = n;

  return (guint *)g_array_free (ids, n == 0);
}

/* ------------------------------------------------------------------ */
/* Features                                                            */
/* ------------------------------------------------------------------ */

/**
 * gst_affect_features_meta_api_get_type:
 *
 * Returns: the #GType of the API of #GstAffectFeaturesMeta, with the tag
 *   "video".
 */
GType
gst_affect_features_meta_api_get_type (void)
{
  static GType type = 0;
  static const gchar *tags[] = { GST_META_TAG_VIDEO_STR, NULL };

  if (g_once_init_enter (&type)) {
    GType _type = gst_meta_api_type_register ("GstAffectFeaturesMetaAPI", tags);
    g_once_init_leave (&type, _type);
  }
  return type;
}

static gboolean
gst_affect_features_meta_init (
    GstMeta *meta, gpointer params, GstBuffer *buffer)
{
  GstAffectFeaturesMeta *fmeta = (GstAffectFeaturesMeta *)meta;
  guint b;

  fmeta->track_id = 0;
  fmeta->present = GST_AFFECT_MODALITY_NONE;
  for (b = 0; b < GST_AFFECT_N_BRANCHES; b++) {
    fmeta->sizes[b] = 0;
    fmeta->data[b] = NULL;
  }
  return TRUE;
}

static void
gst_affect_features_meta_free (GstMeta *meta, GstBuffer *buffer)
{
  GstAffectFeaturesMeta *fmeta = (GstAffectFeaturesMeta *)meta;
  guint b;

  for (b = 0; b < GST_AFFECT_N_BRANCHES; b++)
    gst_affect_features_meta_clear (fmeta, b);
}

static gboolean
gst_affect_features_meta_transform (GstBuffer *dest, GstMeta *meta,
    GstBuffer *buffer, GQuark type, gpointer data)
{
  GstAffectFeaturesMeta *smeta = (GstAffectFeaturesMeta *)meta;
  GstAffectFeaturesMeta *dmeta;
  guint b;

  /* The vectors describe the face, not the frame geometry: copy them on
   * every transformation. */
  dmeta = gst_buffer_add_affect_features_meta (dest, smeta->track_id);
  if (dmeta == NULL)
    return FALSE;
  if (dmeta == smeta)
    return TRUE;
  for (b = 0; b < GST_AFFECT_N_BRANCHES; b++)
    gst_affect_features_meta_set (dmeta, b, smeta->data[b], smeta->sizes[b]);
  restore_roi_params (dest, buffer, smeta->track_id);
  return TRUE;
}

/**
 * gst_affect_features_meta_get_info:
 *
 * Returns: (transfer none): the #GstMetaInfo of #GstAffectFeaturesMeta.
 */
const GstMetaInfo *
gst_affect_features_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **)&info)) {
    const GstMetaInfo *mi = gst_meta_register (
        GST_AFFECT_FEATURES_META_API_TYPE, "GstAffectFeaturesMeta",
        sizeof (GstAffectFeaturesMeta), gst_affect_features_meta_init,
        gst_affect_features_meta_free, gst_affect_features_meta_transform);
    g_once_init_leave ((GstMetaInfo **)&info, (GstMetaInfo *)mi);
  }
  return info;
}

/**
 * gst_buffer_add_affect_features_meta:
 * @buffer: a writable #GstBuffer
 * @track_id: track id of the face
 *
 * Attaches an empty #GstAffectFeaturesMeta for @track_id to @buffer, or
 * returns the one @buffer already has for @track_id (with its vectors).
 *
 * Returns: (transfer none) (nullable): the features meta.
 */
GstAffectFeaturesMeta *
gst_buffer_add_affect_features_meta (GstBuffer *buffer, guint track_id)
{
  GstAffectFeaturesMeta *meta;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);

  meta = gst_buffer_get_affect_features_meta_by_track (buffer, track_id);
  if (meta != NULL)
    return meta;

  meta = (GstAffectFeaturesMeta *)gst_buffer_add_meta (
      buffer, GST_AFFECT_FEATURES_META_INFO, NULL);
  if (meta != NULL)
    meta->track_id = track_id;
  return meta;
}

/**
 * gst_affect_features_meta_set:
 * @meta: a #GstAffectFeaturesMeta
 * @branch: the branch
 * @data: (array length=size) (nullable): the vector
 * @size: number of floats in @data
 *
 * Copies @data into @meta as the vector of @branch and marks the branch
 * present. %NULL or an empty vector clears the branch.
 */
void
gst_affect_features_meta_set (GstAffectFeaturesMeta *meta,
    GstAffectBranch branch, const gfloat *data, guint size)
{
  gfloat *copy;

  g_return_if_fail (meta != NULL);
  g_return_if_fail ((guint)branch < GST_AFFECT_N_BRANCHES);

  if (data == NULL || size == 0) {
    gst_affect_features_meta_clear (meta, branch);
    return;
  }

  /* copy before freeing: @data may be the current vector */
  copy = g_memdup2 (data, (gsize)size * sizeof (gfloat));
  g_free (meta->data[branch]);
  meta->data[branch] = copy;
  meta->sizes[branch] = size;
  meta->present |= (1u << branch);
}

/**
 * gst_affect_features_meta_clear:
 * @meta: a #GstAffectFeaturesMeta
 * @branch: the branch
 *
 * Frees the vector of @branch and marks the branch absent.
 */
void
gst_affect_features_meta_clear (
    GstAffectFeaturesMeta *meta, GstAffectBranch branch)
{
  g_return_if_fail (meta != NULL);
  g_return_if_fail ((guint)branch < GST_AFFECT_N_BRANCHES);

  g_clear_pointer (&meta->data[branch], g_free);
  meta->sizes[branch] = 0;
  meta->present &= ~(1u << branch);
}

/**
 * gst_affect_features_meta_get:
 * @meta: a #GstAffectFeaturesMeta
 * @branch: the branch
 * @size: (out) (optional): number of floats returned
 *
 * Returns: (array length=size) (transfer none) (nullable): the vector of
 *   @branch, owned by @meta, or %NULL when the branch is absent.
 */
const gfloat *
gst_affect_features_meta_get (
    GstAffectFeaturesMeta *meta, GstAffectBranch branch, guint *size)
{
  if (size)
    *size = 0;
  g_return_val_if_fail (meta != NULL, NULL);
  g_return_val_if_fail ((guint)branch < GST_AFFECT_N_BRANCHES, NULL);

  if (!(meta->present & (1u << branch)))
    return NULL;
  if (size)
    *size = meta->sizes[branch];
  return meta->data[branch];
}

/**
 * gst_buffer_iterate_affect_features_meta:
 * @buffer: a #GstBuffer
 * @state: (inout) (nullable) (transfer none): an opaque state pointer, %NULL
 *   at the start; pass back what the previous call left in it (bindings get
 *   (meta, state) back and pass state to the next call)
 *
 * Returns: (transfer none) (nullable): the next features meta, or %NULL at
 *   the end.
 */
GstAffectFeaturesMeta *
gst_buffer_iterate_affect_features_meta (GstBuffer *buffer, gpointer *state)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (state != NULL, NULL);

  return (GstAffectFeaturesMeta *)gst_buffer_iterate_meta_filtered (
      buffer, state, GST_AFFECT_FEATURES_META_API_TYPE);
}

/**
 * gst_buffer_get_affect_features_meta_by_track:
 * @buffer: a #GstBuffer
 * @track_id: a track id
 *
 * Returns: (transfer none) (nullable): the features meta of @track_id on
 *   @buffer.
 */
GstAffectFeaturesMeta *
gst_buffer_get_affect_features_meta_by_track (GstBuffer *buffer, guint track_id)
{
  GstAffectFeaturesMeta *meta;
  gpointer state = NULL;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);

  while ((meta = gst_buffer_iterate_affect_features_meta (buffer, &state))) {
    if (meta->track_id == track_id)
      return meta;
  }
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Predictions                                                         */
/* ------------------------------------------------------------------ */

G_DEFINE_BOXED_TYPE (GstAffectPredictions, gst_affect_predictions,
    gst_affect_predictions_copy, gst_affect_predictions_free);

/**
 * gst_affect_predictions_new:
 *
 * Allocates a #GstAffectPredictions initialised by
 * gst_affect_predictions_init().
 *
 * Returns: (transfer full): a new #GstAffectPredictions.
 */
GstAffectPredictions *
gst_affect_predictions_new (void)
{
  GstAffectPredictions *p = g_new (GstAffectPredictions, 1);

  gst_affect_predictions_init (p);
  return p;
}

/**
 * gst_affect_predictions_copy:
 * @p: a #GstAffectPredictions
 *
 * Returns: (transfer full): a copy of @p.
 */
GstAffectPredictions *
gst_affect_predictions_copy (const GstAffectPredictions *p)
{
  g_return_val_if_fail (p != NULL, NULL);

  return g_memdup2 (p, sizeof (GstAffectPredictions));
}

/**
 * gst_affect_predictions_free:
 * @p: (transfer full) (nullable): a #GstAffectPredictions
 *
 * Frees a #GstAffectPredictions allocated by gst_affect_predictions_new() or
 * gst_affect_predictions_copy().
 */
void
gst_affect_predictions_free (GstAffectPredictions *p)
{
  g_free (p);
}

/**
 * gst_affect_predictions_init:
 * @p: a #GstAffectPredictions (in C, also uninitialised memory)
 *
 * Empties @p: no task, no modality, no entries, expr_index -1.
 */
void
gst_affect_predictions_init (GstAffectPredictions *p)
{
  g_return_if_fail (p != NULL);

  memset (p, 0, sizeof (*p));
  p->expr_index = -1;
}

static gboolean
labels_valid (guint n, const gchar *const *labels, const gfloat *probs)
{
  guint i;

  if (n == 0)
    return TRUE;
  if (labels == NULL || probs == NULL)
    return FALSE;
  for (i = 0; i < n; i++) {
    if (labels[i] == NULL)
      return FALSE;
  }
  return TRUE;
}

static gint
argmax (const gfloat *v, guint n)
{
  guint i, best = 0;

  if (n == 0)
    return -1;
  for (i = 1; i < n; i++) {
    if (v[i] > v[best])
      best = i;
  }
  return (gint)best;
}

/**
 * gst_affect_predictions_set_au:
 * @p: a #GstAffectPredictions
 * @n: number of AUs, at most %GST_AFFECT_MAX_AU
 * @labels: (array length=n) (element-type utf8) (nullable): AU names
 * @probs: (array length=n) (nullable): AU probabilities in [0, 1]
 *
 * Copies @n AU labels (interned) and probabilities into @p and sets
 * %GST_AFFECT_TASK_AU; @n = 0 clears the AUs and the task bit.
 *
 * Returns: %FALSE, leaving @p unchanged, if @n exceeds the capacity or a
 *   label or array is missing.
 */
gboolean
gst_affect_predictions_set_au (GstAffectPredictions *p, guint n,
    const gchar *const *labels, const gfloat *probs)
{
  guint i;

  g_return_val_if_fail (p != NULL, FALSE);

  if (n > GST_AFFECT_MAX_AU) {
    GST_WARNING ("%u AUs do not fit in %d", n, GST_AFFECT_MAX_AU);
    return FALSE;
  }
  if (!labels_valid (n, labels, probs)) {
    GST_WARNING ("missing AU labels or probabilities");
    return FALSE;
  }

  memset (p->au_labels, 0, sizeof (p->au_labels));
  memset (p->au, 0, sizeof (p->au));
  for (i = 0; i < n; i++) {
    p->au_labels[i] = g_intern_string (labels[i]);
    p->au[i] = probs[i];
  }
  p->n_au = n;
  if (n > 0)
    p->tasks |= GST_AFFECT_TASK_AU;
  else
    p->tasks &= ~GST_AFFECT_TASK_AU;
  return TRUE;
}

/**
 * gst_affect_predictions_set_expression:
 * @p: a #GstAffectPredictions
 * @n: number of classes, at most %GST_AFFECT_MAX_EXPR
 * @labels: (array length=n) (element-type utf8) (nullable): class names
 * @probs: (array length=n) (nullable): class probabilities
 *
 * Copies @n expression labels (interned) and probabilities into @p, sets
 * expr_index to the most probable class (the first one on ties) and sets
 * %GST_AFFECT_TASK_EXPRESSION; @n = 0 clears them and the task bit.
 *
 * Returns: %FALSE, leaving @p unchanged, if @n exceeds the capacity or a
 *   label or array is missing.
 */
gboolean
gst_affect_predictions_set_expression (GstAffectPredictions *p, guint n,
    const gchar *const *labels, const gfloat *probs)
{
  guint i;

  g_return_val_if_fail (p != NULL, FALSE);

  if (n > GST_AFFECT_MAX_EXPR) {
    GST_WARNING ("%u expressions do not fit in %d", n, GST_AFFECT_MAX_EXPR);
    return FALSE;
  }
  if (!labels_valid (n, labels, probs)) {
    GST_WARNING ("missing expression labels or probabilities");
    return FALSE;
  }

  memset (p->expr_labels, 0, sizeof (p->expr_labels));
  memset (p->expr, 0, sizeof (p->expr));
  for (i = 0; i < n; i++) {
    p->expr_labels[i] = g_intern_string (labels[i]);
    p->expr[i] = probs[i];
  }
  p->n_expr = n;
  p->expr_index = argmax (p->expr, n);
  if (n > 0)
    p->tasks |= GST_AFFECT_TASK_EXPRESSION;
  else
    p->tasks &= ~GST_AFFECT_TASK_EXPRESSION;
  return TRUE;
}

/**
 * gst_affect_predictions_set_va:
 * @p: a #GstAffectPredictions
 * @valence: valence in [-1, 1]
 * @arousal: arousal in [-1, 1]
 *
 * Sets valence and arousal and %GST_AFFECT_TASK_VA.
 */
void
gst_affect_predictions_set_va (
    GstAffectPredictions *p, gfloat valence, gfloat arousal)
{
  g_return_if_fail (p != NULL);

  p->valence = valence;
  p->arousal = arousal;
  p->tasks |= GST_AFFECT_TASK_VA;
}

/* Copies @src into @dest with interned labels and a consistent expr_index.
 * Returns FALSE (leaving @dest alone) if @src is over capacity. */
static gboolean
predictions_copy_checked (
    GstAffectPredictions *dest, const GstAffectPredictions *src)
{
  GstAffectPredictions tmp;
  guint i;

  if (src->n_au > GST_AFFECT_MAX_AU || src->n_expr > GST_AFFECT_MAX_EXPR)
    return FALSE;

  gst_affect_predictions_init (&tmp);
  tmp.tasks = src->tasks;
  tmp.modalities = src->modalities;
  tmp.n_au = src->n_au;
  for (i = 0; i < src->n_au; i++) {
    tmp.au_labels[i] = g_intern_string (src->au_labels[i]);
    tmp.au[i] = src->au[i];
  }
  tmp.n_expr = src->n_expr;
  for (i = 0; i < src->n_expr; i++) {
    tmp.expr_labels[i] = g_intern_string (src->expr_labels[i]);
    tmp.expr[i] = src->expr[i];
  }
  if (src->expr_index >= 0 && (guint)src->expr_index < src->n_expr)
    tmp.expr_index = src->expr_index;
  else
    tmp.expr_index = argmax (tmp.expr, tmp.n_expr);
  tmp.valence = src->valence;
  tmp.arousal = src->arousal;

  *dest = tmp;
  return TRUE;
}

/**
 * gst_affect_predictions_meta_api_get_type:
 *
 * Returns: the #GType of the API of #GstAffectPredictionsMeta, with the tag
 *   "video".
 */
GType
gst_affect_predictions_meta_api_get_type (void)
{
  static GType type = 0;
  static const gchar *tags[] = { GST_META_TAG_VIDEO_STR, NULL };

  if (g_once_init_enter (&type)) {
    GType _type
        = gst_meta_api_type_register ("GstAffectPredictionsMetaAPI", tags);
    g_once_init_leave (&type, _type);
  }
  return type;
}

static gboolean
gst_affect_predictions_meta_init (
    GstMeta *meta, gpointer params, GstBuffer *buffer)
{
  GstAffectPredictionsMeta *pmeta = (GstAffectPredictionsMeta *)meta;

  pmeta->track_id = 0;
  gst_affect_predictions_init (&pmeta->predictions);
  return TRUE;
}

static void
gst_affect_predictions_meta_free (GstMeta *meta, GstBuffer *buffer)
{
  /* plain data, interned labels: nothing to release */
}

static GstAffectPredictionsMeta *
predictions_meta_add_raw (
    GstBuffer *buffer, guint track_id, const GstAffectPredictions *predictions)
{
  GstAffectPredictionsMeta *meta;
  GstAffectPredictions copy;

  if (!predictions_copy_checked (&copy, predictions))
    return NULL;

  meta = gst_buffer_get_affect_predictions_meta_by_track (buffer, track_id);
  if (meta == NULL) {
    meta = (GstAffectPredictionsMeta *)gst_buffer_add_meta (
        buffer, GST_AFFECT_PREDICTIONS_META_INFO, NULL);
    if (meta == NULL)
      return NULL;
    meta->track_id = track_id;
  }
  meta->predictions = copy;
  return meta;
}

static gboolean
gst_affect_predictions_meta_transform (GstBuffer *dest, GstMeta *meta,
    GstBuffer *buffer, GQuark type, gpointer data)
{
  GstAffectPredictionsMeta *smeta = (GstAffectPredictionsMeta *)meta;

  /* Copied unchanged on every transformation; the ROI meta carries its own
   * copy of the "affect" structure, so no new mirror is made here. */
  if (predictions_meta_add_raw (dest, smeta->track_id, &smeta->predictions)
      == NULL)
    return FALSE;
  restore_roi_params (dest, buffer, smeta->track_id);
  return TRUE;
}

/**
 * gst_affect_predictions_meta_get_info:
 *
 * Returns: (transfer none): the #GstMetaInfo of #GstAffectPredictionsMeta.
 */
const GstMetaInfo *
gst_affect_predictions_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **)&info)) {
    const GstMetaInfo *mi
        = gst_meta_register (GST_AFFECT_PREDICTIONS_META_API_TYPE,
            "GstAffectPredictionsMeta", sizeof (GstAffectPredictionsMeta),
            gst_affect_predictions_meta_init, gst_affect_predictions_meta_free,
            gst_affect_predictions_meta_transform);
    g_once_init_leave ((GstMetaInfo **)&info, (GstMetaInfo *)mi);
  }
  return info;
}

/* The ROI of the face of @track_id: through the face meta's roi_id, or,
 * without a face meta, the ROI of type "face" whose id is the track id. */
static GstVideoRegionOfInterestMeta *
find_face_roi (GstBuffer *buffer, GstAffectFaceMeta *face, guint track_id)
{
  GstVideoRegionOfInterestMeta *roi;
  gpointer state = NULL;
  GQuark face_quark;

  if (face != NULL) {
    if (face->roi_id < 0)
      return NULL;
    return gst_buffer_get_video_region_of_interest_meta_id (
        buffer, face->roi_id);
  }

  if (track_id > (guint)G_MAXINT)
    return NULL;
  face_quark = g_quark_from_static_string (GST_AFFECT_ROI_TYPE);
  while (
      (roi = (GstVideoRegionOfInterestMeta *)gst_buffer_iterate_meta_filtered (
           buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    if (roi->roi_type == face_quark && roi->id == (gint)track_id)
      return roi;
  }
  return NULL;
}

/* GStreamer's own scale transform of GstVideoRegionOfInterestMeta (1.22)
 * does not copy the param structures. Whenever one of our metas is
 * transformed after the ROI of its face (metas are transformed in the order
 * they were added, and gst_buffer_add_affect_face_meta() adds the ROI
 * first), put back the params the new ROI lacks. Params already there are
 * left alone, so this never duplicates. */
static void
restore_roi_params (GstBuffer *dest, GstBuffer *src, guint track_id)
{
  GstVideoRegionOfInterestMeta *sroi, *droi;
  GList *l;

  droi = find_face_roi (dest,
      gst_buffer_get_affect_face_meta_by_track (dest, track_id), track_id);
  if (droi == NULL)
    return;
  sroi = find_face_roi (
      src, gst_buffer_get_affect_face_meta_by_track (src, track_id), track_id);
  if (sroi == NULL || sroi == droi)
    return;

  for (l = sroi->params; l; l = l->next) {
    const gchar *name = gst_structure_get_name (l->data);

    if (gst_video_region_of_interest_meta_get_param (droi, name) == NULL) {
      GST_TRACE ("restoring ROI param %s of track %u", name, track_id);
      gst_video_region_of_interest_meta_add_param (
          droi, gst_structure_copy (l->data));
    }
  }
}

/**
 * gst_buffer_add_affect_predictions_meta:
 * @buffer: a writable #GstBuffer
 * @track_id: track id of the face
 * @predictions: the predictions to copy
 *
 * Attaches a copy of @predictions (labels interned) for @track_id to
 * @buffer, or overwrites the predictions meta @buffer already has for
 * @track_id. The predictions are mirrored into the face's
 * #GstVideoRegionOfInterestMeta (found through the face meta's roi_id, or,
 * without a face meta, the ROI of type "face" whose id is @track_id) as a
 * param structure named "affect" (see gst_affect_predictions_to_structure(),
 * plus a "track-id" field, and "yaw", "pitch" and "roll" when the face
 * meta has a head pose), replacing an earlier "affect" structure. Without
 * such an ROI nothing is mirrored.
 *
 * Returns: (transfer none) (nullable): the predictions meta, or %NULL if
 *   @predictions holds more entries than the arrays can take.
 */
GstAffectPredictionsMeta *
gst_buffer_add_affect_predictions_meta (
    GstBuffer *buffer, guint track_id, const GstAffectPredictions *predictions)
{
  GstAffectPredictionsMeta *meta;
  GstAffectFaceMeta *face;
  GstVideoRegionOfInterestMeta *roi;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);
  g_return_val_if_fail (predictions != NULL, NULL);
  g_return_val_if_fail (predictions->n_au <= GST_AFFECT_MAX_AU, NULL);
  g_return_val_if_fail (predictions->n_expr <= GST_AFFECT_MAX_EXPR, NULL);

  meta = predictions_meta_add_raw (buffer, track_id, predictions);
  if (meta == NULL)
    return NULL;

  face = gst_buffer_get_affect_face_meta_by_track (buffer, track_id);
  roi = find_face_roi (buffer, face, track_id);
  if (roi != NULL) {
    GstStructure *s = gst_affect_predictions_to_structure (&meta->predictions);

    gst_structure_set (s, "track-id", G_TYPE_UINT, track_id, NULL);
    structure_set_pose (s, face);
    roi_replace_param (roi, s);
  } else {
    GST_LOG ("no ROI for track %u, predictions not mirrored", track_id);
  }

  return meta;
}

/**
 * gst_buffer_iterate_affect_predictions_meta:
 * @buffer: a #GstBuffer
 * @state: (inout) (nullable) (transfer none): an opaque state pointer, %NULL
 *   at the start; pass back what the previous call left in it (bindings get
 *   (meta, state) back and pass state to the next call)
 *
 * Returns: (transfer none) (nullable): the next predictions meta, or %NULL
 *   at the end.
 */
GstAffectPredictionsMeta *
gst_buffer_iterate_affect_predictions_meta (GstBuffer *buffer, gpointer *state)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (state != NULL, NULL);

  return (GstAffectPredictionsMeta *)gst_buffer_iterate_meta_filtered (
      buffer, state, GST_AFFECT_PREDICTIONS_META_API_TYPE);
}

/**
 * gst_buffer_get_affect_predictions_meta_by_track:
 * @buffer: a #GstBuffer
 * @track_id: a track id
 *
 * Returns: (transfer none) (nullable): the predictions meta of @track_id on
 *   @buffer.
 */
GstAffectPredictionsMeta *
gst_buffer_get_affect_predictions_meta_by_track (
    GstBuffer *buffer, guint track_id)
{
  GstAffectPredictionsMeta *meta;
  gpointer state = NULL;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);

  while ((meta = gst_buffer_iterate_affect_predictions_meta (buffer, &state))) {
    if (meta->track_id == track_id)
      return meta;
  }
  return NULL;
}

static void
take_string_array (
    GstStructure *s, const gchar *field, guint n, const gchar *const *labels)
{
  GValue arr = G_VALUE_INIT;
  guint i;

  gst_value_array_init (&arr, n);
  for (i = 0; i < n; i++) {
    GValue v = G_VALUE_INIT;

    g_value_init (&v, G_TYPE_STRING);
    g_value_set_static_string (&v, labels[i] ? labels[i] : "");
    gst_value_array_append_and_take_value (&arr, &v);
  }
  gst_structure_take_value (s, field, &arr);
}

static void
take_float_array (
    GstStructure *s, const gchar *field, guint n, const gfloat *values)
{
  GValue arr = G_VALUE_INIT;
  guint i;

  gst_value_array_init (&arr, n);
  for (i = 0; i < n; i++) {
    GValue v = G_VALUE_INIT;

    g_value_init (&v, G_TYPE_FLOAT);
    g_value_set_float (&v, values[i]);
    gst_value_array_append_and_take_value (&arr, &v);
  }
  gst_structure_take_value (s, field, &arr);
}

/**
 * gst_affect_predictions_to_structure:
 * @p: a #GstAffectPredictions
 *
 * Serialises @p into a #GstStructure named "affect". "tasks" (guint,
 * #GstAffectTasks bits) and "modalities" (guint, #GstAffectModalities bits)
 * are always there; the other fields only when their task is in @p's
 * tasks, so that an absent value is never mistaken for a prediction:
 *
 * - %GST_AFFECT_TASK_AU: "au-labels" (#GstValueArray of strings) and "au"
 *   (#GstValueArray of gfloat);
 * - %GST_AFFECT_TASK_EXPRESSION: "expr-labels" (#GstValueArray of strings),
 *   "expr" (#GstValueArray of gfloat), "expr-index" (gint) and "expression"
 *   (string: the label of the most probable class, when there is one);
 * - %GST_AFFECT_TASK_VA: "valence" and "arousal" (gfloat).
 *
 * The mirror in the ROI meta also has a "track-id" (guint) field, which
 * this function does not add. Bindings without gst-python's overrides
 * cannot read the #GstValueArray fields; they parse the structure with
 * gst_affect_predictions_from_structure() instead.
 *
 * Returns: (transfer full): a new #GstStructure.
 */
GstStructure *
gst_affect_predictions_to_structure (const GstAffectPredictions *p)
{
  GstStructure *s;
  guint n_au, n_expr;

  g_return_val_if_fail (p != NULL, NULL);

  n_au = MIN (p->n_au, GST_AFFECT_MAX_AU);
  n_expr = MIN (p->n_expr, GST_AFFECT_MAX_EXPR);

  s = gst_structure_new (GST_AFFECT_ROI_PARAM_NAME, "tasks", G_TYPE_UINT,
      (guint)p->tasks, "modalities", G_TYPE_UINT, (guint)p->modalities, NULL);
  if (p->tasks & GST_AFFECT_TASK_AU) {
    take_string_array (s, "au-labels", n_au, p->au_labels);
    take_float_array (s, "au", n_au, p->au);
  }
  if (p->tasks & GST_AFFECT_TASK_EXPRESSION) {
    take_string_array (s, "expr-labels", n_expr, p->expr_labels);
    take_float_array (s, "expr", n_expr, p->expr);
    gst_structure_set (s, "expr-index", G_TYPE_INT, p->expr_index, NULL);
    if (p->expr_index >= 0 && (guint)p->expr_index < n_expr
        && p->expr_labels[p->expr_index] != NULL)
      gst_structure_set (
          s, "expression", G_TYPE_STRING, p->expr_labels[p->expr_index], NULL);
  }
  if (p->tasks & GST_AFFECT_TASK_VA)
    gst_structure_set (s, "valence", G_TYPE_FLOAT, p->valence, "arousal",
        G_TYPE_FLOAT, p->arousal, NULL);

  return s;
}

/* Reads an array field of strings (@labels != NULL) or numbers (@values
 * != NULL). A missing field counts as empty. */
static gboolean
read_array (const GstStructure *s, const gchar *field, guint capacity, guint *n,
    const gchar **labels, gfloat *values)
{
  const GValue *arr = gst_structure_get_value (s, field);
  guint i, len;

  *n = 0;
  if (arr == NULL)
    return TRUE;
  if (!GST_VALUE_HOLDS_ARRAY (arr)) {
    GST_WARNING ("field %s is not an array", field);
    return FALSE;
  }
  len = gst_value_array_get_size (arr);
  if (len > capacity) {
    GST_WARNING ("field %s has %u entries, capacity %u", field, len, capacity);
    return FALSE;
  }
  for (i = 0; i < len; i++) {
    const GValue *v = gst_value_array_get_value (arr, i);

    if (labels != NULL) {
      if (!G_VALUE_HOLDS_STRING (v) || g_value_get_string (v) == NULL)
        return FALSE;
      labels[i] = g_intern_string (g_value_get_string (v));
    } else if (G_VALUE_HOLDS_FLOAT (v)) {
      values[i] = g_value_get_float (v);
    } else if (G_VALUE_HOLDS_DOUBLE (v)) {
      values[i] = (gfloat)g_value_get_double (v);
    } else {
      return FALSE;
    }
  }
  *n = len;
  return TRUE;
}

static gboolean
read_float (const GstStructure *s, const gchar *field, gfloat *out)
{
  const GValue *v = gst_structure_get_value (s, field);

  if (v == NULL)
    return TRUE;
  if (G_VALUE_HOLDS_FLOAT (v))
    *out = g_value_get_float (v);
  else if (G_VALUE_HOLDS_DOUBLE (v))
    *out = (gfloat)g_value_get_double (v);
  else
    return FALSE;
  return TRUE;
}

/**
 * gst_affect_predictions_from_structure:
 * @s: a #GstStructure named "affect"
 * @p: (out caller-allocates): the predictions to fill
 *
 * Parses a structure made by gst_affect_predictions_to_structure() (or the
 * "affect" param of a face's ROI meta). Missing arrays count as empty and
 * missing valence/arousal as 0; numbers may be gfloat or gdouble. Labels are
 * interned. An expr-index that is missing or out of range is recomputed.
 * Other fields ("expression", "track-id", ...) are ignored.
 *
 * This is how bindings without gst-python's overrides (which they need to
 * read #GstValueArray fields) read the "affect" param:
 * `ok, p = GstAffect.Predictions.from_structure(roi.get_param("affect"))`
 * in Python.
 *
 * Returns: %TRUE on success. On failure (wrong name, a field of the wrong
 *   type, arrays over capacity or of different lengths) @p is left
 *   unchanged.
 */
gboolean
gst_affect_predictions_from_structure (
    const GstStructure *s, GstAffectPredictions *p)
{
  GstAffectPredictions tmp;
  guint tasks = 0, modalities = 0, n_labels, n_values;
  gint expr_index = -1;

  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (p != NULL, FALSE);

  if (!gst_structure_has_name (s, GST_AFFECT_ROI_PARAM_NAME)) {
    GST_WARNING ("structure %s is not named " GST_AFFECT_ROI_PARAM_NAME,
        gst_structure_get_name (s));
    return FALSE;
  }

  gst_affect_predictions_init (&tmp);

  if (!gst_structure_get_uint (s, "tasks", &tasks)) {
    GST_WARNING ("no uint field tasks");
    return FALSE;
  }
  if (gst_structure_has_field (s, "modalities")
      && !gst_structure_get_uint (s, "modalities", &modalities))
    return FALSE;
  tmp.tasks = tasks & ALL_TASKS;
  tmp.modalities = modalities & ALL_MODALITIES;

  if (!read_array (
          s, "au-labels", GST_AFFECT_MAX_AU, &n_labels, tmp.au_labels, NULL)
      || !read_array (s, "au", GST_AFFECT_MAX_AU, &n_values, NULL, tmp.au)
      || n_labels != n_values)
    return FALSE;
  tmp.n_au = n_labels;

  if (!read_array (s, "expr-labels", GST_AFFECT_MAX_EXPR, &n_labels,
          tmp.expr_labels, NULL)
      || !read_array (s, "expr", GST_AFFECT_MAX_EXPR, &n_values, NULL, tmp.expr)
      || n_labels != n_values)
    return FALSE;
  tmp.n_expr = n_labels;

  if (gst_structure_has_field (s, "expr-index")
      && !gst_structure_get_int (s, "expr-index", &expr_index))
    return FALSE;
  if (expr_index >= 0 && (guint)expr_index < tmp.n_expr)
    tmp.expr_index = expr_index;
  else
    tmp.expr_index = argmax (tmp.expr, tmp.n_expr);

  if (!read_float (s, "valence", &tmp.valence)
      || !read_float (s, "arousal", &tmp.arousal))
    return FALSE;

  *p = tmp;
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Label tables                                                        */
/* ------------------------------------------------------------------ */

static const gchar *const abaw_au_labels[] = { "AU1", "AU2", "AU4", "AU6",
  "AU7", "AU10", "AU12", "AU15", "AU23", "AU24", "AU25", "AU26", NULL };

static const gchar *const abaw_expression_labels[] = { "Neutral", "Anger",
  "Disgust", "Fear", "Happiness", "Sadness", "Surprise", "Other", NULL };

static const gchar *const branch_names[GST_AFFECT_N_BRANCHES]
    = { "img", "exp", "spe", "wrd" };

/**
 * gst_affect_abaw_au_labels:
 * @n: (out) (optional): number of labels (12)
 *
 * The 12 action units of the ABAW challenge, in the order of the AU
 * outputs: AU1 AU2 AU4 AU6 AU7 AU10 AU12 AU15 AU23 AU24 AU25 AU26.
 *
 * Returns: (array length=n) (transfer none): the labels, %NULL-terminated.
 */
const gchar *const *
gst_affect_abaw_au_labels (guint *n)
{
  if (n)
    *n = G_N_ELEMENTS (abaw_au_labels) - 1;
  return abaw_au_labels;
}

/**
 * gst_affect_abaw_expression_labels:
 * @n: (out) (optional): number of labels (8)
 *
 * The 8 expression classes of the ABAW challenge, in the order of the
 * expression outputs: Neutral Anger Disgust Fear Happiness Sadness Surprise
 * Other. A 7-class model uses the first 7.
 *
 * Returns: (array length=n) (transfer none): the labels, %NULL-terminated.
 */
const gchar *const *
gst_affect_abaw_expression_labels (guint *n)
{
  if (n)
    *n = G_N_ELEMENTS (abaw_expression_labels) - 1;
  return abaw_expression_labels;
}

/**
 * gst_affect_branch_get_name:
 * @branch: a #GstAffectBranch
 *
 * Returns: (nullable): the short name of @branch ("img", "exp", "spe" or
 *   "wrd"), %NULL for an invalid value.
 */
const gchar *
gst_affect_branch_get_name (GstAffectBranch branch)
{
  if ((guint)branch >= GST_AFFECT_N_BRANCHES)
    return NULL;
  return branch_names[branch];
}
