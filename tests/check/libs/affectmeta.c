/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* Unit tests of libgstaffect-1.0: the face, features and predictions metas,
 * their ROI mirror, transforms (copy, scale, others), buffer pools and the
 * "affect" structure. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/video/video.h>
#include <gst/affect/affect.h>

#include "affect-check.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

static guint
count_rois (GstBuffer *buf, const gchar *type)
{
  GstVideoRegionOfInterestMeta *roi;
  gpointer state = NULL;
  guint n = 0;

  while (
      (roi = (GstVideoRegionOfInterestMeta *)gst_buffer_iterate_meta_filtered (
           buf, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    if (type == NULL || roi->roi_type == g_quark_from_string (type))
      n++;
  }
  return n;
}

static guint
count_params (GstVideoRegionOfInterestMeta *roi, const gchar *name)
{
  GList *l;
  guint n = 0;

  for (l = roi->params; l; l = l->next) {
    if (gst_structure_has_name (l->data, name))
      n++;
  }
  return n;
}

static guint
count_predictions (GstBuffer *buf)
{
  gpointer state = NULL;
  guint n = 0;

  while (gst_buffer_iterate_affect_predictions_meta (buf, &state))
    n++;
  return n;
}

static guint
count_features (GstBuffer *buf)
{
  gpointer state = NULL;
  guint n = 0;

  while (gst_buffer_iterate_affect_features_meta (buf, &state))
    n++;
  return n;
}

static void
fill_landmarks (gfloat *pts, gfloat offset)
{
  guint i;

  for (i = 0; i < GST_AFFECT_N_LANDMARKS; i++) {
    pts[2 * i] = offset + 2.0f * i;
    pts[2 * i + 1] = offset + 4.0f * i + 1.0f;
  }
}

static GstBuffer *
make_crop (guint size)
{
  GstBuffer *crop = gst_buffer_new_allocate (NULL, 3 * size * size, NULL);

  gst_buffer_memset (crop, 0, 0x5a, 3 * size * size);
  return crop;
}

static void
make_predictions (GstAffectPredictions *p, gfloat bias)
{
  const gchar *const *au_labels, *const *expr_labels;
  gfloat au[12], expr[7];
  guint n_au, n_expr, i;

  au_labels = gst_affect_abaw_au_labels (&n_au);
  expr_labels = gst_affect_abaw_expression_labels (&n_expr);
  for (i = 0; i < 12; i++)
    au[i] = bias + 0.05f * i;
  for (i = 0; i < 7; i++)
    expr[i] = 0.1f;
  expr[3] = 0.4f;

  gst_affect_predictions_init (p);
  fail_unless (gst_affect_predictions_set_au (p, n_au, au_labels, au));
  fail_unless (gst_affect_predictions_set_expression (p, 7, expr_labels, expr));
  gst_affect_predictions_set_va (p, bias - 0.5f, 0.25f);
  p->modalities = GST_AFFECT_MODALITY_IMAGE | GST_AFFECT_MODALITY_SPEECH;
}

static void
assert_predictions_equal (
    const GstAffectPredictions *a, const GstAffectPredictions *b)
{
  guint i;

  fail_unless_equals_int (a->tasks, b->tasks);
  fail_unless_equals_int (a->modalities, b->modalities);
  fail_unless_equals_int (a->n_au, b->n_au);
  for (i = 0; i < a->n_au; i++) {
    /* interned: the pointers are equal, not only the strings */
    fail_unless (a->au_labels[i] == b->au_labels[i]);
    fail_unless_equals_float (a->au[i], b->au[i]);
  }
  fail_unless_equals_int (a->n_expr, b->n_expr);
  for (i = 0; i < a->n_expr; i++) {
    fail_unless (a->expr_labels[i] == b->expr_labels[i]);
    fail_unless_equals_float (a->expr[i], b->expr[i]);
  }
  fail_unless_equals_int (a->expr_index, b->expr_index);
  fail_unless_equals_float (a->valence, b->valence);
  fail_unless_equals_float (a->arousal, b->arousal);
}

/* A buffer with two complete faces (tracks 4 and 9). */
static GstBuffer *
make_full_buffer (GstBuffer *crop)
{
  GstBuffer *buf = gst_buffer_new ();
  GstAffectFaceMeta *face;
  GstAffectFeaturesMeta *feat;
  GstAffectPredictions p;
  gfloat pts[2 * GST_AFFECT_N_LANDMARKS];
  gfloat vec[5] = { 1, 2, 3, 4, 5 };

  face = gst_buffer_add_affect_face_meta (
      buf, 4, 100.0f, 60.0f, 200.0f, 240.0f, 0.9f);
  fill_landmarks (pts, 100.0f);
  gst_affect_face_meta_set_landmarks (face, pts, GST_AFFECT_N_LANDMARKS);
  gst_affect_face_meta_set_crop (face, crop, 8);
  gst_buffer_add_affect_face_meta (buf, 9, 400.0f, 200.0f, 80.0f, 100.0f, 0.7f);

  feat = gst_buffer_add_affect_features_meta (buf, 4);
  gst_affect_features_meta_set (feat, GST_AFFECT_BRANCH_IMAGE, vec, 5);
  gst_affect_features_meta_set (feat, GST_AFFECT_BRANCH_WORDS, vec, 3);

  make_predictions (&p, 0.2f);
  gst_buffer_add_affect_predictions_meta (buf, 4, &p);
  make_predictions (&p, 0.3f);
  gst_buffer_add_affect_predictions_meta (buf, 9, &p);
  return buf;
}

/* Checks that @out holds what make_full_buffer() put, geometry scaled by
 * @s; the crop must be @crop (shared). */
static void
check_full_buffer (GstBuffer *out, GstBuffer *crop, gfloat s)
{
  GstAffectFaceMeta *face;
  GstAffectFeaturesMeta *feat;
  GstAffectPredictionsMeta *pm;
  GstVideoRegionOfInterestMeta *roi;
  GstAffectPredictions p;
  gfloat pts[2 * GST_AFFECT_N_LANDMARKS];
  const gfloat *v;
  guint i, size;

  fail_unless_equals_int (gst_buffer_get_n_affect_faces (out), 2);
  face = gst_buffer_get_affect_face_meta_by_track (out, 4);
  fail_unless (face != NULL);
  fail_unless_equals_float (face->x, 100.0f * s);
  fail_unless_equals_float (face->y, 60.0f * s);
  fail_unless_equals_float (face->width, 200.0f * s);
  fail_unless_equals_float (face->height, 240.0f * s);
  fail_unless_equals_float (face->score, 0.9f);
  fail_unless (face->has_landmarks);
  fill_landmarks (pts, 100.0f);
  for (i = 0; i < GST_AFFECT_N_LANDMARKS; i++) {
    fail_unless_equals_float (face->landmarks[i][0], pts[2 * i] * s);
    fail_unless_equals_float (face->landmarks[i][1], pts[2 * i + 1] * s);
  }
  fail_unless (face->crop == crop);
  fail_unless_equals_int (face->crop_size, 8);

  roi = gst_buffer_get_video_region_of_interest_meta_id (out, face->roi_id);
  fail_unless (roi != NULL);
  fail_unless_equals_int (
      roi->roi_type, g_quark_from_string (GST_AFFECT_ROI_TYPE));
  fail_unless_equals_int (roi->x, (guint)(100 * s));
  fail_unless_equals_int (roi->y, (guint)(60 * s));
  fail_unless_equals_int (roi->w, (guint)(200 * s));
  fail_unless_equals_int (roi->h, (guint)(240 * s));
  fail_unless_equals_int (count_params (roi, GST_AFFECT_ROI_PARAM_NAME), 1);
  fail_unless_equals_int (
      count_params (roi, GST_AFFECT_ROI_FACE_PARAM_NAME), 1);

  face = gst_buffer_get_affect_face_meta_by_track (out, 9);
  fail_unless (face != NULL);
  fail_unless_equals_float (face->x, 400.0f * s);
  fail_unless_equals_float (face->height, 100.0f * s);
  fail_unless (!face->has_landmarks);
  fail_unless (face->crop == NULL);

  fail_unless_equals_int (count_features (out), 1);
  feat = gst_buffer_get_affect_features_meta_by_track (out, 4);
  fail_unless (feat != NULL);
  fail_unless_equals_int (
      feat->present, GST_AFFECT_MODALITY_IMAGE | GST_AFFECT_MODALITY_WORDS);
  v = gst_affect_features_meta_get (feat, GST_AFFECT_BRANCH_IMAGE, &size);
  fail_unless_equals_int (size, 5);
  for (i = 0; i < 5; i++)
    fail_unless_equals_float (v[i], (gfloat)(i + 1));
  v = gst_affect_features_meta_get (feat, GST_AFFECT_BRANCH_WORDS, &size);
  fail_unless_equals_int (size, 3);
  fail_unless (
      gst_affect_features_meta_get (feat, GST_AFFECT_BRANCH_SPEECH, &size)
      == NULL);
  fail_unless_equals_int (size, 0);

  fail_unless_equals_int (count_predictions (out), 2);
  pm = gst_buffer_get_affect_predictions_meta_by_track (out, 9);
  fail_unless (pm != NULL);
  make_predictions (&p, 0.3f);
  assert_predictions_equal (&pm->predictions, &p);
}

/* ------------------------------------------------------------------ */
/* tests                                                               */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_face_add_iterate)
{
  GstBuffer *buf = gst_buffer_new ();
  GstAffectFaceMeta *face, *f;
  GstVideoRegionOfInterestMeta *roi;
  const GstStructure *s;
  gpointer state = NULL;
  guint seen = 0, id;
  gfloat score;

  fail_unless_equals_int (gst_buffer_get_n_affect_faces (buf), 0);
  fail_unless (gst_buffer_get_affect_face_meta_by_track (buf, 1) == NULL);

  face = gst_buffer_add_affect_face_meta (
      buf, 1, 10.4f, 20.6f, 30.2f, 40.0f, 0.5f);
  fail_unless (face != NULL);
  gst_buffer_add_affect_face_meta (buf, 2, -5.0f, 3.0f, 20.0f, 10.0f, 0.75f);
  gst_buffer_add_affect_face_meta (buf, 3, 300.0f, 200.0f, 50.0f, 50.0f, 1.0f);

  fail_unless_equals_int (gst_buffer_get_n_affect_faces (buf), 3);
  while ((f = gst_buffer_iterate_affect_face_meta (buf, &state))) {
    fail_unless (f->track_id >= 1 && f->track_id <= 3);
    seen |= 1u << f->track_id;
  }
  fail_unless_equals_int (seen, 0xe);

  f = gst_buffer_get_affect_face_meta_by_track (buf, 1);
  fail_unless (f == face);
  fail_unless_equals_float (f->x, 10.4f);
  fail_unless_equals_float (f->score, 0.5f);
  fail_unless (!f->has_landmarks);
  fail_unless (f->crop == NULL);
  fail_unless (gst_buffer_get_affect_face_meta_by_track (buf, 4) == NULL);

  /* one ROI of type "face" per face, id = track id, box rounded */
  fail_unless_equals_int (count_rois (buf, GST_AFFECT_ROI_TYPE), 3);
  fail_unless_equals_int (face->roi_id, 1);
  roi = gst_buffer_get_video_region_of_interest_meta_id (buf, 1);
  fail_unless (roi != NULL);
  fail_unless_equals_int (roi->x, 10);
  fail_unless_equals_int (roi->y, 21);
  fail_unless_equals_int (roi->w, 31); /* round (40.6) - 10 */
  fail_unless_equals_int (roi->h, 40); /* round (60.6) - 21 */
  s = gst_video_region_of_interest_meta_get_param (
      roi, GST_AFFECT_ROI_FACE_PARAM_NAME);
  fail_unless (s != NULL);
  fail_unless (gst_structure_get_uint (s, "track-id", &id));
  fail_unless_equals_int (id, 1);
  fail_unless (gst_structure_get (s, "score", G_TYPE_FLOAT, &score, NULL));
  fail_unless_equals_float (score, 0.5f);

  /* clipped at 0 on the left */
  f = gst_buffer_get_affect_face_meta_by_track (buf, 2);
  roi = gst_buffer_get_video_region_of_interest_meta_id (buf, f->roi_id);
  fail_unless_equals_int (roi->x, 0);
  fail_unless_equals_int (roi->w, 15);

  /* adding the same track again updates, never duplicates */
  f = gst_buffer_add_affect_face_meta (
      buf, 1, 50.0f, 50.0f, 10.0f, 10.0f, 0.25f);
  fail_unless (f == face);
  fail_unless_equals_int (gst_buffer_get_n_affect_faces (buf), 3);
  fail_unless_equals_int (count_rois (buf, NULL), 3);
  roi = gst_buffer_get_video_region_of_interest_meta_id (buf, 1);
  fail_unless_equals_int (roi->x, 50);
  fail_unless_equals_int (roi->w, 10);
  fail_unless_equals_int (
      count_params (roi, GST_AFFECT_ROI_FACE_PARAM_NAME), 1);
  s = gst_video_region_of_interest_meta_get_param (
      roi, GST_AFFECT_ROI_FACE_PARAM_NAME);
  fail_unless (gst_structure_get (s, "score", G_TYPE_FLOAT, &score, NULL));
  fail_unless_equals_float (score, 0.25f);

  gst_buffer_unref (buf);
}

GST_END_TEST;

GST_START_TEST (test_face_roi_id_collision)
{
  GstBuffer *buf = gst_buffer_new ();
  GstVideoRegionOfInterestMeta *other;
  GstAffectFaceMeta *face;

  /* another element already used id 5 */
  other = gst_buffer_add_video_region_of_interest_meta (
      buf, "person", 0, 0, 10, 10);
  other->id = 5;

  face = gst_buffer_add_affect_face_meta (buf, 5, 1, 1, 4, 4, 1.0f);
  fail_unless (face != NULL);
  fail_unless (face->roi_id >= 0);
  fail_unless (face->roi_id != 5);
  fail_unless (
      gst_buffer_get_video_region_of_interest_meta_id (buf, face->roi_id)
          ->roi_type
      == g_quark_from_string ("face"));
  fail_unless (
      gst_buffer_get_video_region_of_interest_meta_id (buf, 5) == other);

  gst_buffer_unref (buf);
}

GST_END_TEST;

GST_START_TEST (test_face_for_roi)
{
  GstBuffer *buf = gst_buffer_new ();
  GstVideoRegionOfInterestMeta *a, *b, *person, *roi;
  GstAffectFaceMeta *face;
  const GstStructure *s;
  guint tid = 0;
  gfloat score = 0.0f;

  /* an upstream detector added two faces, both with the default id 0, and
   * some other ROI with id 7 */
  a = gst_buffer_add_video_region_of_interest_meta (
      buf, "face", 10, 20, 30, 40);
  b = gst_buffer_add_video_region_of_interest_meta (
      buf, "face", 100, 50, 20, 25);
  a->id = b->id = 0;
  person = gst_buffer_add_video_region_of_interest_meta (
      buf, "person", 0, 0, 200, 200);
  person->id = 7;

  face = gst_buffer_add_affect_face_meta_for_roi (buf, a, 3, 0.9f);
  fail_unless (face != NULL);
  fail_unless_equals_int (face->track_id, 3);
  fail_unless_equals_float (face->x, 10.0f);
  fail_unless_equals_float (face->y, 20.0f);
  fail_unless_equals_float (face->width, 30.0f);
  fail_unless_equals_float (face->height, 40.0f);
  fail_unless_equals_float (face->score, 0.9f);
  /* the id 0 was shared: the ROI got a unique one, the track id */
  fail_unless_equals_int (face->roi_id, 3);
  fail_unless_equals_int (a->id, 3);
  roi = gst_buffer_get_video_region_of_interest_meta_id (buf, face->roi_id);
  fail_unless (roi == a);
  /* box unchanged, param added */
  fail_unless_equals_int (a->x, 10);
  fail_unless_equals_int (a->w, 30);
  fail_unless_equals_int (a->h, 40);
  s = gst_video_region_of_interest_meta_get_param (a, "affect-face");
  fail_unless (s != NULL);
  fail_unless (gst_structure_get_uint (s, "track-id", &tid));
  fail_unless_equals_int (tid, 3);
  fail_unless (gst_structure_get (s, "score", G_TYPE_FLOAT, &score, NULL));
  fail_unless_equals_float (score, 0.9f);

  /* b's id 0 is now unique: kept; track id 7 is taken by "person" */
  face = gst_buffer_add_affect_face_meta_for_roi (buf, b, 7, 1.0f);
  fail_unless (face != NULL);
  fail_unless_equals_int (b->id, 0);
  fail_unless_equals_int (face->roi_id, 0);
  fail_unless_equals_int (person->id, 7);

  /* no ROI was added */
  fail_unless_equals_int (count_rois (buf, NULL), 3);
  fail_unless_equals_int (gst_buffer_get_n_affect_faces (buf), 2);

  /* again for the same track: update, no new meta, param replaced */
  face = gst_buffer_add_affect_face_meta_for_roi (buf, a, 3, 0.5f);
  fail_unless_equals_int (gst_buffer_get_n_affect_faces (buf), 2);
  fail_unless_equals_float (face->score, 0.5f);
  fail_unless_equals_int (g_list_length (a->params), 1);

  /* an ROI of another buffer is refused */
  {
    GstBuffer *other = gst_buffer_new ();
    GstVideoRegionOfInterestMeta *foreign;

    foreign = gst_buffer_add_video_region_of_interest_meta (
        other, "face", 0, 0, 4, 4);
    ASSERT_CRITICAL (
        gst_buffer_add_affect_face_meta_for_roi (buf, foreign, 9, 1.0f));
    ASSERT_CRITICAL (
        gst_buffer_add_affect_face_meta_for_roi (buf, NULL, 9, 1.0f));
    gst_buffer_unref (other);
  }
  fail_unless_equals_int (gst_buffer_get_n_affect_faces (buf), 2);

  gst_buffer_unref (buf);
}

GST_END_TEST;

GST_START_TEST (test_face_invalid_args)
{
  GstBuffer *buf = gst_buffer_new ();
  GstBuffer *ref;

  ASSERT_CRITICAL (gst_buffer_add_affect_face_meta (buf, 1, 0, 0, NAN, 1, 1));
  ASSERT_CRITICAL (gst_buffer_add_affect_face_meta (buf, 1, 0, 0, -1, 1, 1));
  ASSERT_CRITICAL (gst_buffer_add_affect_face_meta (NULL, 1, 0, 0, 1, 1, 1));
  fail_unless_equals_int (gst_buffer_get_n_affect_faces (buf), 0);
  fail_unless_equals_int (count_rois (buf, NULL), 0);

  /* not writable */
  ref = gst_buffer_ref (buf);
  ASSERT_CRITICAL (gst_buffer_add_affect_face_meta (buf, 1, 0, 0, 1, 1, 1));
  gst_buffer_unref (ref);

  gst_buffer_unref (buf);
}

GST_END_TEST;

GST_START_TEST (test_landmarks_and_crop)
{
  GstBuffer *buf = gst_buffer_new ();
  GstBuffer *crop = make_crop (16);
  GstAffectFaceMeta *face;
  gfloat pts[2 * (GST_AFFECT_N_LANDMARKS + 2)];
  gfloat x, y;
  guint i;

  face = gst_buffer_add_affect_face_meta (buf, 1, 0, 0, 100, 100, 1.0f);

  /* more than 68: only 68 copied */
  for (i = 0; i < G_N_ELEMENTS (pts); i++)
    pts[i] = (gfloat)i;
  gst_affect_face_meta_set_landmarks (face, pts, GST_AFFECT_N_LANDMARKS + 2);
  fail_unless (face->has_landmarks);
  fail_unless_equals_float (face->landmarks[67][0], 134.0f);
  fail_unless_equals_float (face->landmarks[67][1], 135.0f);
  fail_unless (gst_affect_face_meta_get_landmark (face, 10, &x, &y));
  fail_unless_equals_float (x, 20.0f);
  fail_unless_equals_float (y, 21.0f);
  fail_if (
      gst_affect_face_meta_get_landmark (face, GST_AFFECT_N_LANDMARKS, &x, &y));

  /* fewer: the rest is zero */
  gst_affect_face_meta_set_landmarks (face, pts + 2, 5);
  fail_unless (face->has_landmarks);
  fail_unless_equals_float (face->landmarks[0][0], 2.0f);
  fail_unless_equals_float (face->landmarks[4][1], 11.0f);
  fail_unless_equals_float (face->landmarks[5][0], 0.0f);
  fail_unless_equals_float (face->landmarks[67][1], 0.0f);

  /* none: cleared */
  gst_affect_face_meta_set_landmarks (face, NULL, 0);
  fail_if (face->has_landmarks);
  fail_if (gst_affect_face_meta_get_landmark (face, 0, &x, &y));

  /* crop: a new ref is taken, NULL clears */
  ASSERT_BUFFER_REFCOUNT (crop, "crop", 1);
  gst_affect_face_meta_set_crop (face, crop, 16);
  ASSERT_BUFFER_REFCOUNT (crop, "crop", 2);
  fail_unless (face->crop == crop);
  fail_unless_equals_int (face->crop_size, 16);
  gst_affect_face_meta_set_crop (face, crop, 16);
  ASSERT_BUFFER_REFCOUNT (crop, "crop", 2);
  gst_affect_face_meta_set_crop (face, NULL, 0);
  ASSERT_BUFFER_REFCOUNT (crop, "crop", 1);
  fail_unless (face->crop == NULL);
  fail_unless_equals_int (face->crop_size, 0);

  /* a crop smaller than announced is refused */
  ASSERT_CRITICAL (gst_affect_face_meta_set_crop (face, crop, 17));
  fail_unless (face->crop == NULL);

  /* freeing the buffer drops the meta's ref */
  gst_affect_face_meta_set_crop (face, crop, 16);
  ASSERT_BUFFER_REFCOUNT (crop, "crop", 2);
  gst_buffer_unref (buf);
  ASSERT_BUFFER_REFCOUNT (crop, "crop", 1);
  gst_buffer_unref (crop);
}

GST_END_TEST;

GST_START_TEST (test_copy)
{
  GstBuffer *crop = make_crop (8);
  GstBuffer *buf = make_full_buffer (crop);
  GstBuffer *copy, *into;
  GstAffectFeaturesMeta *f1, *f2;

  ASSERT_BUFFER_REFCOUNT (crop, "crop", 2);
  check_full_buffer (buf, crop, 1.0f);

  copy = gst_buffer_copy (buf);
  check_full_buffer (copy, crop, 1.0f);
  /* the crop is shared by reference */
  ASSERT_BUFFER_REFCOUNT (crop, "crop", 3);
  /* the vectors are duplicated */
  f1 = gst_buffer_get_affect_features_meta_by_track (buf, 4);
  f2 = gst_buffer_get_affect_features_meta_by_track (copy, 4);
  fail_unless (
      f1->data[GST_AFFECT_BRANCH_IMAGE] != f2->data[GST_AFFECT_BRANCH_IMAGE]);
  /* ROI metas came along, with their params */
  fail_unless_equals_int (count_rois (copy, GST_AFFECT_ROI_TYPE), 2);

  into = gst_buffer_new ();
  fail_unless (
      gst_buffer_copy_into (into, buf, GST_BUFFER_COPY_METADATA, 0, -1));
  check_full_buffer (into, crop, 1.0f);
  ASSERT_BUFFER_REFCOUNT (crop, "crop", 4);

  /* copying the metas again into the same buffer does not duplicate */
  fail_unless (gst_buffer_copy_into (into, buf, GST_BUFFER_COPY_META, 0, -1));
  fail_unless_equals_int (gst_buffer_get_n_affect_faces (into), 2);
  fail_unless_equals_int (count_features (into), 1);
  fail_unless_equals_int (count_predictions (into), 2);
  ASSERT_BUFFER_REFCOUNT (crop, "crop", 4);

  gst_buffer_unref (buf);
  ASSERT_BUFFER_REFCOUNT (crop, "crop", 3);
  gst_buffer_unref (copy);
  gst_buffer_unref (into);
  ASSERT_BUFFER_REFCOUNT (crop, "crop", 1);
  gst_buffer_unref (crop);
}

GST_END_TEST;

/* Does what a GstVideoFilter that scales (videoscale) does with the metas:
 * metas with the "size" tag get the scale transform, the others a copy. */
static GstBuffer *
transform_like_videoscale (GstBuffer *in, gint iw, gint ih, gint ow, gint oh)
{
  GstBuffer *out = gst_buffer_new ();
  GstVideoInfo in_info, out_info;
  GstVideoMetaTransform trans = { &in_info, &out_info };
  GstMeta *meta;
  gpointer state = NULL;

  gst_video_info_set_format (&in_info, GST_VIDEO_FORMAT_RGB, iw, ih);
  gst_video_info_set_format (&out_info, GST_VIDEO_FORMAT_RGB, ow, oh);

  while ((meta = gst_buffer_iterate_meta (in, &state))) {
    const GstMetaInfo *info = meta->info;

    if (info->transform_func == NULL)
      continue;
    if (gst_meta_api_type_has_tag (
            info->api, g_quark_from_string (GST_META_TAG_VIDEO_SIZE_STR))) {
      info->transform_func (
          out, meta, in, gst_video_meta_transform_scale_get_quark (), &trans);
    } else {
      GstMetaTransformCopy copy = { FALSE, 0, (gsize)-1 };

      info->transform_func (out, meta, in, _gst_meta_transform_copy, &copy);
    }
  }
  return out;
}

GST_START_TEST (test_scale_transform)
{
  GstBuffer *crop = make_crop (8);
  GstBuffer *buf = make_full_buffer (crop);
  GstBuffer *out;
  const GstMetaInfo *info = GST_AFFECT_FACE_META_INFO;

  fail_unless (gst_meta_api_type_has_tag (
      info->api, g_quark_from_string (GST_META_TAG_VIDEO_SIZE_STR)));
  fail_unless (gst_meta_api_type_has_tag (
      info->api, g_quark_from_string (GST_META_TAG_VIDEO_ORIENTATION_STR)));
  fail_unless (gst_meta_api_type_has_tag (
      info->api, g_quark_from_string (GST_META_TAG_VIDEO_STR)));
  fail_if (gst_meta_api_type_has_tag (GST_AFFECT_PREDICTIONS_META_API_TYPE,
      g_quark_from_string (GST_META_TAG_VIDEO_SIZE_STR)));
  fail_if (gst_meta_api_type_has_tag (GST_AFFECT_FEATURES_META_API_TYPE,
      g_quark_from_string (GST_META_TAG_VIDEO_SIZE_STR)));

  out = transform_like_videoscale (buf, 640, 480, 320, 240);
  check_full_buffer (out, crop, 0.5f);
  /* and once more (the metas are in the opposite order now) */
  {
    GstBuffer *out2 = transform_like_videoscale (out, 320, 240, 160, 120);

    check_full_buffer (out2, crop, 0.25f);
    gst_buffer_unref (out2);
  }
  gst_buffer_unref (out);

  /* a face alone: its ROI keeps the "affect-face" param over two scales
   * (GStreamer's ROI scale transform drops params, the face meta's
   * transform puts them back) */
  {
    GstBuffer *b = gst_buffer_new (), *o1, *o2;
    GstAffectFaceMeta *f;
    GstVideoRegionOfInterestMeta *roi;

    gst_buffer_add_affect_face_meta (b, 2, 64, 48, 64, 48, 0.8f);
    o1 = transform_like_videoscale (b, 640, 480, 320, 240);
    o2 = transform_like_videoscale (o1, 320, 240, 160, 120);
    f = gst_buffer_get_affect_face_meta_by_track (o2, 2);
    fail_unless (f != NULL);
    fail_unless_equals_float (f->x, 16.0f);
    roi = gst_buffer_get_video_region_of_interest_meta_id (o2, f->roi_id);
    fail_unless (roi != NULL);
    fail_unless_equals_int (roi->x, 16);
    fail_unless_equals_int (roi->h, 12);
    fail_unless_equals_int (count_rois (o2, NULL), 1);
    fail_unless_equals_int (
        count_params (roi, GST_AFFECT_ROI_FACE_PARAM_NAME), 1);
    gst_buffer_unref (o2);
    gst_buffer_unref (o1);
    gst_buffer_unref (b);
  }

  /* non-uniform: x and y scaled separately */
  out = transform_like_videoscale (buf, 640, 480, 1280, 240);
  {
    GstAffectFaceMeta *f = gst_buffer_get_affect_face_meta_by_track (out, 4);
    GstVideoRegionOfInterestMeta *roi
        = gst_buffer_get_video_region_of_interest_meta_id (out, f->roi_id);

    fail_unless_equals_float (f->x, 200.0f);
    fail_unless_equals_float (f->width, 400.0f);
    fail_unless_equals_float (f->y, 30.0f);
    fail_unless_equals_float (f->height, 120.0f);
    fail_unless_equals_float (f->landmarks[1][0], 2.0f * 102.0f);
    fail_unless_equals_float (f->landmarks[1][1], 0.5f * 105.0f);
    fail_unless_equals_int (roi->x, 200);
    fail_unless_equals_int (roi->w, 400);
    fail_unless_equals_int (roi->y, 30);
    fail_unless_equals_int (roi->h, 120);
  }
  gst_buffer_unref (out);

  gst_buffer_unref (buf);
  ASSERT_BUFFER_REFCOUNT (crop, "crop", 1);
  gst_buffer_unref (crop);
}

GST_END_TEST;

static void
check_pose_fields (const GstStructure *s, gboolean present, gfloat yaw,
    gfloat pitch, gfloat roll)
{
  gfloat v;

  fail_unless (s != NULL);
  if (!present) {
    fail_if (gst_structure_has_field (s, "yaw"));
    fail_if (gst_structure_has_field (s, "pitch"));
    fail_if (gst_structure_has_field (s, "roll"));
    return;
  }
  fail_unless (gst_structure_get (s, "yaw", G_TYPE_FLOAT, &v, NULL));
  fail_unless_equals_float (v, yaw);
  fail_unless (gst_structure_get (s, "pitch", G_TYPE_FLOAT, &v, NULL));
  fail_unless_equals_float (v, pitch);
  fail_unless (gst_structure_get (s, "roll", G_TYPE_FLOAT, &v, NULL));
  fail_unless_equals_float (v, roll);
}

GST_START_TEST (test_head_pose)
{
  GstBuffer *buf = gst_buffer_new (), *copy, *out;
  GstAffectFaceMeta *m, *c;
  GstVideoRegionOfInterestMeta *roi;
  GstAffectPredictions p;
  gfloat yaw = 1, pitch = 1, roll = 1;

  m = gst_buffer_add_affect_face_meta (buf, 3, 10, 20, 64, 64, 0.9f);
  /* no pose at first: FALSE, angles 0, no fields in the ROI */
  fail_if (m->has_pose);
  fail_if (gst_affect_face_meta_get_pose (m, &yaw, &pitch, &roll));
  fail_unless (yaw == 0.0f && pitch == 0.0f && roll == 0.0f);
  roi = gst_buffer_get_video_region_of_interest_meta_id (buf, m->roi_id);
  check_pose_fields (gst_video_region_of_interest_meta_get_param (
                         roi, GST_AFFECT_ROI_FACE_PARAM_NAME),
      FALSE, 0, 0, 0);

  /* set: the meta, the "affect-face" param */
  gst_affect_face_meta_set_pose (m, buf, 12.5f, -8.0f, 33.0f);
  fail_unless (gst_affect_face_meta_get_pose (m, &yaw, &pitch, &roll));
  fail_unless_equals_float (yaw, 12.5f);
  fail_unless_equals_float (pitch, -8.0f);
  fail_unless_equals_float (roll, 33.0f);
  fail_unless (gst_affect_face_meta_get_pose (m, NULL, NULL, NULL));
  check_pose_fields (gst_video_region_of_interest_meta_get_param (
                         roi, GST_AFFECT_ROI_FACE_PARAM_NAME),
      TRUE, 12.5f, -8.0f, 33.0f);

  /* predictions mirrored afterwards carry the pose in "affect" */
  gst_affect_predictions_init (&p);
  gst_affect_predictions_set_va (&p, 0.5f, 0.25f);
  fail_unless (gst_buffer_add_affect_predictions_meta (buf, 3, &p) != NULL);
  check_pose_fields (gst_video_region_of_interest_meta_get_param (
                         roi, GST_AFFECT_ROI_PARAM_NAME),
      TRUE, 12.5f, -8.0f, 33.0f);

  /* a new pose updates both params; updating the box keeps the pose */
  gst_affect_face_meta_set_pose (m, buf, -20.0f, 5.0f, -1.0f);
  check_pose_fields (gst_video_region_of_interest_meta_get_param (
                         roi, GST_AFFECT_ROI_PARAM_NAME),
      TRUE, -20.0f, 5.0f, -1.0f);
  m = gst_buffer_add_affect_face_meta (buf, 3, 11, 21, 64, 64, 0.8f);
  fail_unless (m->has_pose);
  check_pose_fields (gst_video_region_of_interest_meta_get_param (
                         roi, GST_AFFECT_ROI_FACE_PARAM_NAME),
      TRUE, -20.0f, 5.0f, -1.0f);

  /* copies and videoscale keep the pose (angles do not scale) */
  copy = gst_buffer_copy (buf);
  c = gst_buffer_get_affect_face_meta_by_track (copy, 3);
  fail_unless (c != NULL && c->has_pose);
  fail_unless_equals_float (c->yaw, -20.0f);
  gst_buffer_unref (copy);
  out = transform_like_videoscale (buf, 640, 480, 320, 240);
  c = gst_buffer_get_affect_face_meta_by_track (out, 3);
  fail_unless (c != NULL && c->has_pose);
  fail_unless_equals_float (c->pitch, 5.0f);
  check_pose_fields (
      gst_video_region_of_interest_meta_get_param (
          gst_buffer_get_video_region_of_interest_meta_id (out, c->roi_id),
          GST_AFFECT_ROI_FACE_PARAM_NAME),
      TRUE, -20.0f, 5.0f, -1.0f);
  gst_buffer_unref (out);

  /* a failed fit (NaN) clears it, and so does clear_pose */
  gst_affect_face_meta_set_pose (m, buf, NAN, 0.0f, 0.0f);
  fail_if (m->has_pose);
  fail_if (gst_affect_face_meta_get_pose (m, &yaw, NULL, NULL));
  fail_unless (yaw == 0.0f);
  check_pose_fields (gst_video_region_of_interest_meta_get_param (
                         roi, GST_AFFECT_ROI_FACE_PARAM_NAME),
      FALSE, 0, 0, 0);
  check_pose_fields (gst_video_region_of_interest_meta_get_param (
                         roi, GST_AFFECT_ROI_PARAM_NAME),
      FALSE, 0, 0, 0);
  gst_affect_face_meta_set_pose (m, buf, 1.0f, 2.0f, 3.0f);
  fail_unless (m->has_pose);
  gst_affect_face_meta_clear_pose (m, buf);
  fail_if (m->has_pose);
  check_pose_fields (gst_video_region_of_interest_meta_get_param (
                         roi, GST_AFFECT_ROI_FACE_PARAM_NAME),
      FALSE, 0, 0, 0);

  /* without a buffer only the meta changes */
  gst_affect_face_meta_set_pose (m, NULL, 4.0f, 5.0f, 6.0f);
  fail_unless (m->has_pose);
  check_pose_fields (gst_video_region_of_interest_meta_get_param (
                         roi, GST_AFFECT_ROI_FACE_PARAM_NAME),
      FALSE, 0, 0, 0);

  gst_buffer_unref (buf);
}

GST_END_TEST;

GST_START_TEST (test_other_transform)
{
  GstBuffer *buf = make_full_buffer (NULL);
  GstBuffer *out = gst_buffer_new ();
  GQuark other = g_quark_from_static_string ("gst-affect-test-rotate");
  GstMeta *meta;
  gpointer state = NULL;

  while ((meta = gst_buffer_iterate_meta (buf, &state))) {
    gboolean ret = meta->info->transform_func (out, meta, buf, other, NULL);

    if (meta->info->api == GST_AFFECT_FACE_META_API_TYPE)
      fail_if (ret);
    else if (meta->info->api == GST_AFFECT_FEATURES_META_API_TYPE
             || meta->info->api == GST_AFFECT_PREDICTIONS_META_API_TYPE)
      fail_unless (ret);
  }

  fail_unless_equals_int (gst_buffer_get_n_affect_faces (out), 0);
  fail_unless_equals_int (count_features (out), 1);
  fail_unless_equals_int (count_predictions (out), 2);

  gst_buffer_unref (out);
  gst_buffer_unref (buf);
}

GST_END_TEST;

static gboolean
have_factory (const gchar *name)
{
  GstElementFactory *f = gst_element_factory_find (name);

  if (f == NULL)
    return FALSE;
  gst_object_unref (f);
  return TRUE;
}

GST_START_TEST (test_videoscale_pipeline)
{
  const gchar *scale_plugins[]
      = { "libgstvideoconvertscale.so", "libgstvideoscale.so", NULL };
  const gchar *app_plugins[] = { "libgstapp.so", NULL };
  const gchar *core_plugins[] = { "libgstcoreelements.so", NULL };
  GstBuffer *crop, *in;
  GstElement *pipeline, *src, *sink;
  GstSample *sample = NULL;
  GstFlowReturn flow;
  GError *err = NULL;
  guint i;

  if (!have_factory ("videoscale"))
    affect_check_load_system_plugins (scale_plugins);
  if (!have_factory ("appsrc") || !have_factory ("appsink"))
    affect_check_load_system_plugins (app_plugins);
  if (!have_factory ("capsfilter"))
    affect_check_load_system_plugins (core_plugins);
  if (!have_factory ("videoscale") || !have_factory ("appsrc")
      || !have_factory ("appsink") || !have_factory ("capsfilter")) {
    g_printerr ("SKIP test_videoscale_pipeline: videoscale, appsrc, "
                "appsink or capsfilter not found (set "
                "AFFECT_TEST_SYSTEM_PLUGIN_DIR to the "
                "gst-plugins-base plugin folder)\n");
    return;
  }

  pipeline = gst_parse_launch (
      "appsrc name=src format=time "
      "caps=\"video/x-raw,format=RGB,width=640,height=480,framerate=30/1\" "
      "! videoscale ! video/x-raw,width=320,height=240 "
      "! appsink name=sink sync=false",
      &err);
  fail_unless (pipeline != NULL, "%s", err ? err->message : "?");
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");

  crop = make_crop (8);
  in = make_full_buffer (crop);
  gst_buffer_append_memory (
      in, gst_allocator_alloc (NULL, 640 * 480 * 3, NULL));
  gst_buffer_memset (in, 0, 0x80, 640 * 480 * 3);
  GST_BUFFER_PTS (in) = 0;
  GST_BUFFER_DURATION (in) = GST_SECOND / 30;

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PLAYING),
      GST_STATE_CHANGE_ASYNC);
  g_signal_emit_by_name (src, "push-buffer", in, &flow);
  fail_unless_equals_int (flow, GST_FLOW_OK);
  gst_buffer_unref (in);
  g_signal_emit_by_name (src, "end-of-stream", &flow);

  g_signal_emit_by_name (sink, "pull-sample", &sample);
  fail_unless (sample != NULL);
  {
    GstBuffer *out = gst_sample_get_buffer (sample);
    GstCaps *caps = gst_sample_get_caps (sample);
    GstVideoInfo vinfo;

    fail_unless (gst_video_info_from_caps (&vinfo, caps));
    fail_unless_equals_int (GST_VIDEO_INFO_WIDTH (&vinfo), 320);
    fail_unless_equals_int (GST_VIDEO_INFO_HEIGHT (&vinfo), 240);
    check_full_buffer (out, crop, 0.5f);
  }
  gst_sample_unref (sample);

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);

  /* the last buffer can be released by a thread of the pipeline a moment
   * after the state change returned: wait for it (bounded), then check */
  for (i = 0; i < 1000 && GST_MINI_OBJECT_REFCOUNT_VALUE (crop) > 1; i++)
    g_usleep (10 * 1000);
  ASSERT_BUFFER_REFCOUNT (crop, "crop", 1);
  gst_buffer_unref (crop);
}

GST_END_TEST;

GST_START_TEST (test_pool)
{
  GstBufferPool *pool = gst_buffer_pool_new ();
  GstStructure *config = gst_buffer_pool_get_config (pool);
  GstBuffer *crop = make_crop (8);
  GstBuffer *buf, *buf2;
  GstAffectFaceMeta *face;
  GstAffectFeaturesMeta *feat;
  GstAffectPredictions p;
  gfloat vec[4] = { 1, 2, 3, 4 };

  gst_buffer_pool_config_set_params (config, NULL, 64, 1, 1);
  fail_unless (gst_buffer_pool_set_config (pool, config));
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));

  fail_unless_equals_int (
      gst_buffer_pool_acquire_buffer (pool, &buf, NULL), GST_FLOW_OK);
  face = gst_buffer_add_affect_face_meta (buf, 3, 1, 2, 3, 4, 0.5f);
  gst_affect_face_meta_set_crop (face, crop, 8);
  feat = gst_buffer_add_affect_features_meta (buf, 3);
  gst_affect_features_meta_set (feat, GST_AFFECT_BRANCH_SPEECH, vec, 4);
  make_predictions (&p, 0.1f);
  gst_buffer_add_affect_predictions_meta (buf, 3, &p);
  ASSERT_BUFFER_REFCOUNT (crop, "crop", 2);

  /* back to the pool: the metas are removed and their resources freed */
  gst_buffer_unref (buf);
  ASSERT_BUFFER_REFCOUNT (crop, "crop", 1);

  fail_unless_equals_int (
      gst_buffer_pool_acquire_buffer (pool, &buf2, NULL), GST_FLOW_OK);
  fail_unless (buf2 == buf); /* the pool holds a single buffer */
  fail_unless_equals_int (gst_buffer_get_n_affect_faces (buf2), 0);
  fail_unless_equals_int (count_features (buf2), 0);
  fail_unless_equals_int (count_predictions (buf2), 0);
  fail_unless_equals_int (count_rois (buf2, NULL), 0);

  /* and they can be added again */
  fail_unless (
      gst_buffer_add_affect_face_meta (buf2, 3, 1, 2, 3, 4, 0.5f) != NULL);
  gst_buffer_unref (buf2);

  fail_unless (gst_buffer_pool_set_active (pool, FALSE));
  gst_object_unref (pool);
  ASSERT_BUFFER_REFCOUNT (crop, "crop", 1);
  gst_buffer_unref (crop);
}

GST_END_TEST;

GST_START_TEST (test_predictions_mirror)
{
  GstBuffer *buf = gst_buffer_new ();
  GstAffectFaceMeta *face;
  GstAffectPredictionsMeta *pm, *pm2;
  GstVideoRegionOfInterestMeta *roi, *bare, *person;
  GstAffectPredictions p, back;
  const GstStructure *s;
  guint track;

  face = gst_buffer_add_affect_face_meta (buf, 12, 10, 10, 50, 50, 1.0f);
  roi = gst_buffer_get_video_region_of_interest_meta_id (buf, face->roi_id);
  fail_unless (roi != NULL);
  fail_unless (gst_video_region_of_interest_meta_get_param (
                   roi, GST_AFFECT_ROI_PARAM_NAME)
               == NULL);

  make_predictions (&p, 0.2f);
  pm = gst_buffer_add_affect_predictions_meta (buf, 12, &p);
  fail_unless (pm != NULL);
  fail_unless_equals_int (pm->track_id, 12);
  assert_predictions_equal (&pm->predictions, &p);

  s = gst_video_region_of_interest_meta_get_param (
      roi, GST_AFFECT_ROI_PARAM_NAME);
  fail_unless (s != NULL);
  fail_unless (gst_structure_get_uint (s, "track-id", &track));
  fail_unless_equals_int (track, 12);
  fail_unless (gst_affect_predictions_from_structure (s, &back));
  assert_predictions_equal (&back, &p);

  /* second add: meta and structure replaced, not duplicated */
  make_predictions (&p, 0.6f);
  pm2 = gst_buffer_add_affect_predictions_meta (buf, 12, &p);
  fail_unless (pm2 == pm);
  fail_unless_equals_int (count_predictions (buf), 1);
  fail_unless_equals_int (count_params (roi, GST_AFFECT_ROI_PARAM_NAME), 1);
  fail_unless_equals_int (
      count_params (roi, GST_AFFECT_ROI_FACE_PARAM_NAME), 1);
  s = gst_video_region_of_interest_meta_get_param (
      roi, GST_AFFECT_ROI_PARAM_NAME);
  fail_unless (gst_affect_predictions_from_structure (s, &back));
  assert_predictions_equal (&back, &p);
  fail_unless_equals_float (back.au[0], 0.6f);

  /* no face meta: the "face" ROI whose id is the track id, not another
   * type */
  person = gst_buffer_add_video_region_of_interest_meta (
      buf, "person", 0, 0, 5, 5);
  person->id = 40;
  bare = gst_buffer_add_video_region_of_interest_meta (buf, "face", 0, 0, 5, 5);
  bare->id = 41;
  gst_buffer_add_affect_predictions_meta (buf, 40, &p);
  fail_unless_equals_int (count_params (person, GST_AFFECT_ROI_PARAM_NAME), 0);
  gst_buffer_add_affect_predictions_meta (buf, 41, &p);
  fail_unless_equals_int (count_params (bare, GST_AFFECT_ROI_PARAM_NAME), 1);

  /* no ROI at all: the meta is still added */
  fail_unless (gst_buffer_add_affect_predictions_meta (buf, 77, &p) != NULL);
  fail_unless_equals_int (count_predictions (buf), 4);

  /* labels that are not interned are interned by the copy */
  {
    gchar *label = g_strdup ("AU99");
    GstAffectPredictions q;

    gst_affect_predictions_init (&q);
    q.tasks = GST_AFFECT_TASK_AU;
    q.n_au = 1;
    q.au_labels[0] = label;
    q.au[0] = 0.5f;
    pm = gst_buffer_add_affect_predictions_meta (buf, 78, &q);
    g_free (label);
    fail_unless (pm->predictions.au_labels[0] == g_intern_string ("AU99"));
    fail_unless_equals_int (pm->predictions.expr_index, -1);
  }

  {
    guint n_ids, *ids = gst_buffer_get_affect_track_ids (buf, &n_ids);

    fail_unless_equals_int (n_ids, 5);
    fail_unless_equals_int (ids[0], 12);
    fail_unless_equals_int (ids[1], 40);
    fail_unless_equals_int (ids[2], 41);
    fail_unless_equals_int (ids[3], 77);
    fail_unless_equals_int (ids[4], 78);
    g_free (ids);
  }

  gst_buffer_unref (buf);
}

GST_END_TEST;

GST_START_TEST (test_structure_roundtrip)
{
  GstAffectPredictions p, back, empty;
  GstStructure *s, *parsed;
  gchar *str;
  guint tasks;

  make_predictions (&p, 0.35f);
  s = gst_affect_predictions_to_structure (&p);
  fail_unless (gst_structure_has_name (s, "affect"));
  fail_unless (gst_structure_get_uint (s, "tasks", &tasks));
  fail_unless_equals_int (tasks,
      GST_AFFECT_TASK_AU | GST_AFFECT_TASK_EXPRESSION | GST_AFFECT_TASK_VA);
  fail_unless (GST_VALUE_HOLDS_ARRAY (gst_structure_get_value (s, "au")));
  fail_unless_equals_int (
      gst_value_array_get_size (gst_structure_get_value (s, "au-labels")), 12);
  fail_unless_equals_string (
      g_value_get_string (gst_value_array_get_value (
          gst_structure_get_value (s, "expr-labels"), 4)),
      "Happiness");

  fail_unless (gst_affect_predictions_from_structure (s, &back));
  assert_predictions_equal (&back, &p);

  /* through the string form too */
  str = gst_structure_to_string (s);
  parsed = gst_structure_from_string (str, NULL);
  fail_unless (parsed != NULL, "could not parse %s", str);
  memset (&back, 0xff, sizeof (back));
  fail_unless (gst_affect_predictions_from_structure (parsed, &back));
  assert_predictions_equal (&back, &p);
  g_free (str);
  gst_structure_free (parsed);

  /* an empty prediction */
  gst_affect_predictions_init (&empty);
  gst_structure_free (s);
  s = gst_affect_predictions_to_structure (&empty);
  fail_unless (gst_affect_predictions_from_structure (s, &back));
  assert_predictions_equal (&back, &empty);
  gst_structure_free (s);

  /* doubles are accepted, expr-index is recomputed when missing */
  parsed = gst_structure_from_string (
      "affect, tasks=(uint)2, "
      "expr-labels=(string)< a, b, c >, expr=(double)< 0.1, 0.7, 0.2 >, "
      "valence=(double)0.5",
      NULL);
  fail_unless (parsed != NULL);
  fail_unless (gst_affect_predictions_from_structure (parsed, &back));
  fail_unless_equals_int (back.n_expr, 3);
  fail_unless_equals_int (back.expr_index, 1);
  fail_unless (back.expr_labels[2] == g_intern_string ("c"));
  fail_unless_equals_float (back.valence, 0.5f);
  fail_unless_equals_int (back.n_au, 0);
  gst_structure_free (parsed);

  /* malformed input is refused and leaves @p alone */
  {
    const gchar *bad[] = {
      "notaffect, tasks=(uint)0",
      "affect, modalities=(uint)1",
      "affect, tasks=(string)x",
      "affect, tasks=(uint)1, au-labels=(string)< AU1, AU2 >, "
      "au=(float)< 0.5 >",
      "affect, tasks=(uint)1, au-labels=(string)AU1, au=(float)0.5",
      "affect, tasks=(uint)1, au-labels=(int)< 1 >, au=(float)< 0.5 >",
      "affect, tasks=(uint)1, au-labels=(string)< AU1 >, au=(string)< x >",
      "affect, tasks=(uint)4, valence=(string)high",
      "affect, tasks=(uint)2, expr-index=(string)x",
      "affect, tasks=(uint)2, expr-labels=(string)< a, b, c, d, e, f, g, h, "
      "i, j, k, l, m, n, o, p, q >, expr=(float)< 0, 0, 0, 0, 0, 0, 0, "
      "0, 0, 0, 0, 0, 0, 0, 0, 0, 0 >",
    };
    guint i;

    for (i = 0; i < G_N_ELEMENTS (bad); i++) {
      parsed = gst_structure_from_string (bad[i], NULL);
      fail_unless (parsed != NULL, "test string %u does not parse", i);
      back = p;
      fail_if (gst_affect_predictions_from_structure (parsed, &back),
          "accepted %s", bad[i]);
      assert_predictions_equal (&back, &p);
      gst_structure_free (parsed);
    }
  }
}

GST_END_TEST;

GST_START_TEST (test_predictions_setters)
{
  GstAffectPredictions p, saved;
  const gchar *labels[GST_AFFECT_MAX_AU + 1];
  gfloat probs[GST_AFFECT_MAX_AU + 1];
  guint i;

  memset (&p, 0xab, sizeof (p));
  gst_affect_predictions_init (&p);
  fail_unless_equals_int (p.tasks, 0);
  fail_unless_equals_int (p.modalities, 0);
  fail_unless_equals_int (p.n_au, 0);
  fail_unless_equals_int (p.n_expr, 0);
  fail_unless_equals_int (p.expr_index, -1);
  fail_unless (p.au_labels[0] == NULL);
  fail_unless_equals_float (p.valence, 0.0f);

  for (i = 0; i <= GST_AFFECT_MAX_AU; i++) {
    labels[i] = "X";
    probs[i] = (gfloat)i / 100.0f;
  }

  /* over capacity: refused, unchanged */
  saved = p;
  fail_if (
      gst_affect_predictions_set_au (&p, GST_AFFECT_MAX_AU + 1, labels, probs));
  fail_if (gst_affect_predictions_set_expression (
      &p, GST_AFFECT_MAX_EXPR + 1, labels, probs));
  fail_unless (memcmp (&p, &saved, sizeof (p)) == 0);

  /* missing arrays or labels */
  fail_if (gst_affect_predictions_set_au (&p, 2, NULL, probs));
  fail_if (gst_affect_predictions_set_au (&p, 2, labels, NULL));
  labels[1] = NULL;
  fail_if (gst_affect_predictions_set_expression (&p, 2, labels, probs));
  labels[1] = "X";
  fail_unless (memcmp (&p, &saved, sizeof (p)) == 0);

  /* at capacity: fine */
  fail_unless (
      gst_affect_predictions_set_au (&p, GST_AFFECT_MAX_AU, labels, probs));
  fail_unless_equals_int (p.n_au, GST_AFFECT_MAX_AU);
  fail_unless_equals_int (p.tasks, GST_AFFECT_TASK_AU);
  fail_unless (p.au_labels[31] == g_intern_string ("X"));
  fail_unless (gst_affect_predictions_set_expression (
      &p, GST_AFFECT_MAX_EXPR, labels, probs));
  fail_unless_equals_int (p.expr_index, GST_AFFECT_MAX_EXPR - 1);
  fail_unless_equals_int (
      p.tasks, GST_AFFECT_TASK_AU | GST_AFFECT_TASK_EXPRESSION);

  /* argmax, first on ties */
  {
    const gfloat e[4] = { 0.1f, 0.4f, 0.4f, 0.1f };

    fail_unless (gst_affect_predictions_set_expression (&p, 4, labels, e));
    fail_unless_equals_int (p.expr_index, 1);
    fail_unless_equals_int (p.n_expr, 4);
    fail_unless (p.expr_labels[4] == NULL);
  }

  gst_affect_predictions_set_va (&p, -0.5f, 0.75f);
  fail_unless (p.tasks & GST_AFFECT_TASK_VA);
  fail_unless_equals_float (p.valence, -0.5f);
  fail_unless_equals_float (p.arousal, 0.75f);

  /* n = 0 clears */
  fail_unless (gst_affect_predictions_set_au (&p, 0, NULL, NULL));
  fail_unless_equals_int (p.n_au, 0);
  fail_unless_equals_int (
      p.tasks, GST_AFFECT_TASK_EXPRESSION | GST_AFFECT_TASK_VA);
  fail_unless (gst_affect_predictions_set_expression (&p, 0, NULL, NULL));
  fail_unless_equals_int (p.expr_index, -1);
  fail_unless_equals_int (p.tasks, GST_AFFECT_TASK_VA);

  /* the meta refuses a hand-made struct over capacity */
  {
    GstBuffer *buf = gst_buffer_new ();

    p.n_au = GST_AFFECT_MAX_AU + 1;
    ASSERT_CRITICAL (gst_buffer_add_affect_predictions_meta (buf, 1, &p));
    fail_unless_equals_int (count_predictions (buf), 0);
    gst_buffer_unref (buf);
  }

  /* boxed copy */
  {
    GstAffectPredictions *a = gst_affect_predictions_new (), *b;

    fail_unless_equals_int (a->expr_index, -1);
    make_predictions (a, 0.5f);
    b = g_boxed_copy (GST_AFFECT_TYPE_PREDICTIONS, a);
    assert_predictions_equal (a, b);
    gst_affect_predictions_free (a);
    g_boxed_free (GST_AFFECT_TYPE_PREDICTIONS, b);
  }
}

GST_END_TEST;

GST_START_TEST (test_features)
{
  GstBuffer *buf = gst_buffer_new ();
  GstAffectFeaturesMeta *feat;
  gfloat a[3] = { 1, 2, 3 }, b[2] = { -1, -2 };
  const gfloat *v;
  guint size, br;

  feat = gst_buffer_add_affect_features_meta (buf, 6);
  fail_unless (feat != NULL);
  fail_unless_equals_int (feat->track_id, 6);
  fail_unless_equals_int (feat->present, GST_AFFECT_MODALITY_NONE);
  for (br = 0; br < GST_AFFECT_N_BRANCHES; br++) {
    fail_unless_equals_int (feat->sizes[br], 0);
    fail_unless (feat->data[br] == NULL);
    fail_unless (gst_affect_features_meta_get (feat, br, &size) == NULL);
  }

  gst_affect_features_meta_set (feat, GST_AFFECT_BRANCH_EXPRESSION, a, 3);
  a[0] = 100; /* the meta has its own copy */
  v = gst_affect_features_meta_get (feat, GST_AFFECT_BRANCH_EXPRESSION, &size);
  fail_unless_equals_int (size, 3);
  fail_unless_equals_float (v[0], 1.0f);
  fail_unless_equals_float (v[2], 3.0f);
  fail_unless_equals_int (feat->present, GST_AFFECT_MODALITY_EXPRESSION);
  fail_unless_equals_int (feat->sizes[GST_AFFECT_BRANCH_EXPRESSION], 3);

  /* replace, including with its own data */
  gst_affect_features_meta_set (feat, GST_AFFECT_BRANCH_EXPRESSION, b, 2);
  v = gst_affect_features_meta_get (feat, GST_AFFECT_BRANCH_EXPRESSION, &size);
  fail_unless_equals_int (size, 2);
  fail_unless_equals_float (v[1], -2.0f);
  gst_affect_features_meta_set (feat, GST_AFFECT_BRANCH_EXPRESSION, v, 2);
  v = gst_affect_features_meta_get (feat, GST_AFFECT_BRANCH_EXPRESSION, &size);
  fail_unless_equals_float (v[1], -2.0f);

  gst_affect_features_meta_set (feat, GST_AFFECT_BRANCH_SPEECH, a, 1);
  fail_unless_equals_int (feat->present,
      GST_AFFECT_MODALITY_EXPRESSION | GST_AFFECT_MODALITY_SPEECH);

  gst_affect_features_meta_clear (feat, GST_AFFECT_BRANCH_EXPRESSION);
  fail_unless_equals_int (feat->present, GST_AFFECT_MODALITY_SPEECH);
  fail_unless_equals_int (feat->sizes[GST_AFFECT_BRANCH_EXPRESSION], 0);
  fail_unless (feat->data[GST_AFFECT_BRANCH_EXPRESSION] == NULL);

  /* NULL / empty clears */
  gst_affect_features_meta_set (feat, GST_AFFECT_BRANCH_SPEECH, NULL, 0);
  fail_unless_equals_int (feat->present, GST_AFFECT_MODALITY_NONE);
  fail_unless (feat->data[GST_AFFECT_BRANCH_SPEECH] == NULL);

  ASSERT_CRITICAL (
      gst_affect_features_meta_set (feat, GST_AFFECT_N_BRANCHES, a, 3));

  /* one meta per track */
  fail_unless (gst_buffer_add_affect_features_meta (buf, 6) == feat);
  fail_unless (gst_buffer_add_affect_features_meta (buf, 7) != feat);
  fail_unless_equals_int (count_features (buf), 2);
  fail_unless (gst_buffer_get_affect_features_meta_by_track (buf, 7) != NULL);
  fail_unless (gst_buffer_get_affect_features_meta_by_track (buf, 8) == NULL);

  gst_affect_features_meta_set (feat, GST_AFFECT_BRANCH_IMAGE, a, 3);
  gst_buffer_unref (buf); /* frees the vectors (valgrind checks) */
}

GST_END_TEST;

GST_START_TEST (test_labels_and_types)
{
  const gchar *const *l;
  guint n;
  GEnumClass *ec;
  GFlagsClass *fc;

  l = gst_affect_abaw_au_labels (&n);
  fail_unless_equals_int (n, 12);
  fail_unless_equals_string (l[0], "AU1");
  fail_unless_equals_string (l[5], "AU10");
  fail_unless_equals_string (l[11], "AU26");
  fail_unless (l[12] == NULL);

  l = gst_affect_abaw_expression_labels (&n);
  fail_unless_equals_int (n, 8);
  fail_unless_equals_string (l[0], "Neutral");
  fail_unless_equals_string (l[4], "Happiness");
  fail_unless_equals_string (l[6], "Surprise");
  fail_unless_equals_string (l[7], "Other");

  fail_unless_equals_string (
      gst_affect_branch_get_name (GST_AFFECT_BRANCH_IMAGE), "img");
  fail_unless_equals_string (
      gst_affect_branch_get_name (GST_AFFECT_BRANCH_EXPRESSION), "exp");
  fail_unless_equals_string (
      gst_affect_branch_get_name (GST_AFFECT_BRANCH_SPEECH), "spe");
  fail_unless_equals_string (
      gst_affect_branch_get_name (GST_AFFECT_BRANCH_WORDS), "wrd");
  fail_unless (gst_affect_branch_get_name (GST_AFFECT_N_BRANCHES) == NULL);

  /* registered enum/flags types */
  fail_unless (G_TYPE_IS_ENUM (GST_TYPE_AFFECT_BRANCH));
  fail_unless (G_TYPE_IS_FLAGS (GST_TYPE_AFFECT_MODALITIES));
  fail_unless (G_TYPE_IS_FLAGS (GST_TYPE_AFFECT_TASKS));
  ec = g_type_class_ref (GST_TYPE_AFFECT_BRANCH);
  fail_unless (g_enum_get_value (ec, GST_AFFECT_BRANCH_WORDS) != NULL);
  g_type_class_unref (ec);
  fc = g_type_class_ref (GST_TYPE_AFFECT_TASKS);
  fail_unless (g_flags_get_first_value (fc, GST_AFFECT_TASK_VA) != NULL);
  g_type_class_unref (fc);
}

GST_END_TEST;

/* gst-check only watches the criticals of a few log domains; handle those
 * of the library the same way, so that ASSERT_CRITICAL sees them and
 * unexpected ones fail the test. */
static void
library_log_func (const gchar *domain, GLogLevelFlags level,
    const gchar *message, gpointer user_data)
{
  if (!_gst_check_expecting_log)
    fail ("Unexpected critical/warning: %s: %s", domain, message);
  if (level & G_LOG_LEVEL_CRITICAL)
    _gst_check_raised_critical = TRUE;
  if (level & G_LOG_LEVEL_WARNING)
    _gst_check_raised_warning = TRUE;
}

static Suite *
affectmeta_suite (void)
{
  Suite *s = suite_create ("affectmeta");
  TCase *tc = tcase_create ("general");

  g_log_set_handler ("GStreamer-Affect",
      G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING, library_log_func, NULL);

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_face_add_iterate);
  tcase_add_test (tc, test_face_roi_id_collision);
  tcase_add_test (tc, test_face_for_roi);
  tcase_add_test (tc, test_face_invalid_args);
  tcase_add_test (tc, test_landmarks_and_crop);
  tcase_add_test (tc, test_copy);
  tcase_add_test (tc, test_scale_transform);
  tcase_add_test (tc, test_head_pose);
  tcase_add_test (tc, test_other_transform);
  tcase_add_test (tc, test_videoscale_pipeline);
  tcase_add_test (tc, test_pool);
  tcase_add_test (tc, test_predictions_mirror);
  tcase_add_test (tc, test_structure_roundtrip);
  tcase_add_test (tc, test_predictions_setters);
  tcase_add_test (tc, test_features);
  tcase_add_test (tc, test_labels_and_types);

  return s;
}

GST_CHECK_MAIN (affectmeta);
