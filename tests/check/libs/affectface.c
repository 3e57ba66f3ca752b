/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* Unit tests of the application side of libgstaffect-1.0 (affectface.h):
 * the faces of a buffer as GstAffectFace values, listing ROI metas,
 * handing a buffer with new metas back to a pad probe, and the "affect"
 * structure leaving out what is not predicted. tests/python/ runs the same
 * API through GObject-introspection. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <gst/affect/affect.h>

#include "affect-check.h"

static const gchar *const expr_labels[3]
    = { "Neutral", "Happiness", "Sadness" };
static const gfloat expr_probs[3] = { 0.2f, 0.7f, 0.1f };

static void
fill_landmarks (gfloat *pts, gfloat offset)
{
  guint i;

  for (i = 0; i < GST_AFFECT_N_LANDMARKS; i++) {
    pts[2 * i] = offset + 2.0f * i;
    pts[2 * i + 1] = offset + 4.0f * i + 1.0f;
  }
}

/* Track 4: box, landmarks, expression, AUs, VA. Track 9: box only.
 * Track 12: predictions (VA) without a face. Track 30: features only. */
static GstBuffer *
make_buffer (void)
{
  GstBuffer *buf = gst_buffer_new ();
  GstAffectFaceMeta *face;
  GstAffectPredictions p;
  gfloat pts[2 * GST_AFFECT_N_LANDMARKS];
  gfloat au[12], vec[3] = { 1, 2, 3 };
  const gchar *const *au_labels;
  guint n_au, i;

  face = gst_buffer_add_affect_face_meta (buf, 4, 10.5f, 20.0f, 64, 72, 0.9f);
  fill_landmarks (pts, 5.0f);
  gst_affect_face_meta_set_landmarks (face, pts, GST_AFFECT_N_LANDMARKS);
  gst_buffer_add_affect_face_meta (buf, 9, 200, 30, 50, 50, 0.5f);

  gst_affect_predictions_init (&p);
  fail_unless (
      gst_affect_predictions_set_expression (&p, 3, expr_labels, expr_probs));
  au_labels = gst_affect_abaw_au_labels (&n_au);
  for (i = 0; i < n_au; i++)
    au[i] = 0.05f * i;
  fail_unless (gst_affect_predictions_set_au (&p, n_au, au_labels, au));
  gst_affect_predictions_set_va (&p, 0.25f, -0.5f);
  p.modalities = GST_AFFECT_MODALITY_IMAGE | GST_AFFECT_MODALITY_EXPRESSION;
  fail_unless (gst_buffer_add_affect_predictions_meta (buf, 4, &p) != NULL);

  gst_affect_predictions_init (&p);
  gst_affect_predictions_set_va (&p, -0.75f, 0.125f);
  fail_unless (gst_buffer_add_affect_predictions_meta (buf, 12, &p) != NULL);

  gst_affect_features_meta_set (gst_buffer_add_affect_features_meta (buf, 30),
      GST_AFFECT_BRANCH_IMAGE, vec, 3);
  return buf;
}

GST_START_TEST (test_faces)
{
  GstBuffer *buf = make_buffer ();
  GList *faces;
  GstAffectFace *f, *copy;
  const gfloat *v;
  const gchar *const *labels;
  guint n, i;
  gfloat x, y, prob;
  gfloat pts[2 * GST_AFFECT_N_LANDMARKS];

  faces = gst_affect_buffer_get_faces (buf);
  /* faces in buffer order, then the prediction-only track; features-only
   * tracks are not faces */
  fail_unless_equals_int (g_list_length (faces), 3);

  f = g_list_nth_data (faces, 0);
  fail_unless_equals_int (f->track_id, 4);
  fail_unless (f->has_box);
  fail_unless_equals_float (f->x, 10.5f);
  fail_unless_equals_float (f->y, 20.0f);
  fail_unless_equals_float (f->width, 64.0f);
  fail_unless_equals_float (f->height, 72.0f);
  fail_unless_equals_float (f->score, 0.9f);
  fail_unless_equals_int (
      f->roi_id, gst_buffer_get_affect_face_meta_by_track (buf, 4)->roi_id);
  fail_unless (f->has_landmarks);
  v = gst_affect_face_get_landmarks (f, &n);
  fail_unless_equals_int (n, 136);
  fill_landmarks (pts, 5.0f);
  for (i = 0; i < n; i++)
    fail_unless_equals_float (v[i], pts[i]);
  fail_unless (gst_affect_face_get_landmark (f, 67, &x, &y));
  fail_unless_equals_float (x, pts[134]);
  fail_unless_equals_float (y, pts[135]);
  fail_if (gst_affect_face_get_landmark (f, 68, &x, &y));

  fail_unless (f->has_expression);
  fail_unless_equals_string (f->expression, "Happiness");
  fail_unless_equals_float (f->expression_prob, 0.7f);
  fail_unless_equals_int (f->expression_index, 1);
  labels = gst_affect_face_get_expression_labels (f, &n);
  fail_unless_equals_int (n, 3);
  fail_unless_equals_string (labels[2], "Sadness");
  v = gst_affect_face_get_expression_probs (f, &n);
  fail_unless_equals_int (n, 3);
  fail_unless_equals_float (v[0], 0.2f);
  fail_unless (gst_affect_face_get_expression_prob (f, "sadness", &prob));
  fail_unless_equals_float (prob, 0.1f);
  fail_if (gst_affect_face_get_expression_prob (f, "Fear", &prob));

  fail_unless (f->has_au);
  labels = gst_affect_face_get_au_labels (f, &n);
  fail_unless_equals_int (n, 12);
  fail_unless_equals_string (labels[6], "AU12");
  v = gst_affect_face_get_au_probs (f, &n);
  fail_unless_equals_int (n, 12);
  fail_unless_equals_float (v[6], 0.05f * 6);
  fail_unless (gst_affect_face_get_au (f, "au12", &prob));
  fail_unless_equals_float (prob, 0.05f * 6);
  fail_if (gst_affect_face_get_au (f, "AU3", NULL));

  fail_unless (f->has_va);
  fail_unless_equals_float (f->valence, 0.25f);
  fail_unless_equals_float (f->arousal, -0.5f);
  fail_unless_equals_int (f->modalities,
      GST_AFFECT_MODALITY_IMAGE | GST_AFFECT_MODALITY_EXPRESSION);
  fail_unless_equals_int (gst_affect_face_get_predictions (f)->n_au, 12);

  /* a copy is independent of the buffer */
  copy = gst_affect_face_copy (f);

  /* box only: no predictions, empty arrays */
  f = g_list_nth_data (faces, 1);
  fail_unless_equals_int (f->track_id, 9);
  fail_unless (f->has_box);
  fail_if (f->has_landmarks);
  fail_if (f->has_expression);
  fail_unless (f->expression == NULL);
  fail_unless_equals_int (f->expression_index, -1);
  fail_if (f->has_au);
  fail_if (f->has_va);
  gst_affect_face_get_landmarks (f, &n);
  fail_unless_equals_int (n, 0);
  gst_affect_face_get_expression_labels (f, &n);
  fail_unless_equals_int (n, 0);
  gst_affect_face_get_expression_probs (f, &n);
  fail_unless_equals_int (n, 0);
  gst_affect_face_get_au_labels (f, &n);
  fail_unless_equals_int (n, 0);
  gst_affect_face_get_au_probs (f, &n);
  fail_unless_equals_int (n, 0);
  fail_if (gst_affect_face_get_landmark (f, 0, &x, &y));

  /* predictions without a face */
  f = g_list_nth_data (faces, 2);
  fail_unless_equals_int (f->track_id, 12);
  fail_if (f->has_box);
  fail_unless_equals_int (f->roi_id, -1);
  fail_unless (f->has_va);
  fail_unless_equals_float (f->valence, -0.75f);
  fail_if (f->has_expression);

  g_list_free_full (faces, (GDestroyNotify)gst_affect_face_free);
  gst_buffer_unref (buf);

  fail_unless_equals_string (copy->expression, "Happiness");
  v = gst_affect_face_get_landmarks (copy, &n);
  fail_unless_equals_int (n, 136);
  fail_unless_equals_float (v[1], pts[1]);
  fail_unless (G_TYPE_IS_BOXED (GST_AFFECT_TYPE_FACE));
  f = g_boxed_copy (GST_AFFECT_TYPE_FACE, copy);
  fail_unless_equals_int (f->track_id, 4);
  g_boxed_free (GST_AFFECT_TYPE_FACE, f);
  gst_affect_face_free (copy);
  gst_affect_face_free (NULL);
}

GST_END_TEST;

GST_START_TEST (test_face_pose)
{
  GstBuffer *buf = make_buffer ();
  GstAffectFace *f, *copy;

  /* track 4 has no pose yet, track 9 gets one */
  gst_affect_face_meta_set_pose (
      gst_buffer_get_affect_face_meta_by_track (buf, 9), buf, -15.0f, 7.5f,
      2.25f);
  f = gst_affect_buffer_get_face (buf, 4);
  fail_unless (f != NULL);
  fail_if (f->has_pose);
  fail_unless (f->yaw == 0.0f && f->pitch == 0.0f && f->roll == 0.0f);
  gst_affect_face_free (f);

  f = gst_affect_buffer_get_face (buf, 9);
  fail_unless (f != NULL);
  fail_unless (f->has_pose);
  fail_unless_equals_float (f->yaw, -15.0f);
  fail_unless_equals_float (f->pitch, 7.5f);
  fail_unless_equals_float (f->roll, 2.25f);
  copy = gst_affect_face_copy (f);
  gst_affect_face_free (f);
  fail_unless (copy->has_pose);
  fail_unless_equals_float (copy->roll, 2.25f);
  gst_affect_face_free (copy);

  /* a prediction-only track has no face meta and no pose */
  f = gst_affect_buffer_get_face (buf, 12);
  fail_unless (f != NULL);
  fail_if (f->has_pose);
  gst_affect_face_free (f);

  gst_buffer_unref (buf);
}

GST_END_TEST;

GST_START_TEST (test_face_by_track)
{
  GstBuffer *buf = make_buffer ();
  GstAffectFace *f;

  f = gst_affect_buffer_get_face (buf, 4);
  fail_unless (f != NULL);
  fail_unless_equals_string (f->expression, "Happiness");
  fail_unless (f->has_box && f->has_va && f->has_au);
  gst_affect_face_free (f);

  f = gst_affect_buffer_get_face (buf, 12);
  fail_unless (f != NULL);
  fail_if (f->has_box);
  fail_unless (f->has_va);
  gst_affect_face_free (f);

  fail_unless (gst_affect_buffer_get_face (buf, 30) == NULL);
  fail_unless (gst_affect_buffer_get_face (buf, 5) == NULL);
  gst_buffer_unref (buf);

  buf = gst_buffer_new ();
  fail_unless (gst_affect_buffer_get_faces (buf) == NULL);
  gst_buffer_unref (buf);
}

GST_END_TEST;

GST_START_TEST (test_rois)
{
  GstBuffer *buf = make_buffer ();
  GstVideoRegionOfInterestMeta *roi;
  GList *rois;

  /* an ROI of another kind, between the faces' */
  gst_buffer_add_video_region_of_interest_meta (buf, "person", 1, 2, 3, 4);

  rois = gst_affect_buffer_get_rois (buf, NULL);
  fail_unless_equals_int (g_list_length (rois), 3);
  roi = g_list_nth_data (rois, 2);
  fail_unless (roi->roi_type == g_quark_from_string ("person"));
  g_list_free (rois);

  rois = gst_affect_buffer_get_rois (buf, GST_AFFECT_ROI_TYPE);
  fail_unless_equals_int (g_list_length (rois), 2);
  roi = rois->data;
  fail_unless_equals_int (
      roi->id, gst_buffer_get_affect_face_meta_by_track (buf, 4)->roi_id);
  fail_unless (gst_video_region_of_interest_meta_get_param (
                   roi, GST_AFFECT_ROI_PARAM_NAME)
               != NULL);
  roi = rois->next->data;
  fail_unless_equals_int (roi->x, 200);
  g_list_free (rois);

  fail_unless (
      gst_affect_buffer_get_rois (buf, "no-such-type-anywhere") == NULL);
  gst_buffer_unref (buf);
}

GST_END_TEST;

/* the "affect" structure has only what is predicted */
GST_START_TEST (test_structure_absent_values)
{
  GstAffectPredictions p, back;
  GstStructure *s;
  guint tasks;

  gst_affect_predictions_init (&p);
  fail_unless (
      gst_affect_predictions_set_expression (&p, 3, expr_labels, expr_probs));
  s = gst_affect_predictions_to_structure (&p);
  fail_unless (gst_structure_get_uint (s, "tasks", &tasks));
  fail_unless_equals_int (tasks, GST_AFFECT_TASK_EXPRESSION);
  fail_unless (gst_structure_has_field (s, "modalities"));
  fail_unless_equals_string (
      gst_structure_get_string (s, "expression"), "Happiness");
  fail_unless (gst_structure_has_field (s, "expr"));
  fail_unless (gst_structure_has_field (s, "expr-labels"));
  fail_unless (gst_structure_has_field (s, "expr-index"));
  fail_if (gst_structure_has_field (s, "valence"));
  fail_if (gst_structure_has_field (s, "arousal"));
  fail_if (gst_structure_has_field (s, "au"));
  fail_if (gst_structure_has_field (s, "au-labels"));
  fail_unless (gst_affect_predictions_from_structure (s, &back));
  fail_unless_equals_int (back.tasks, GST_AFFECT_TASK_EXPRESSION);
  fail_unless_equals_int (back.expr_index, 1);
  gst_structure_free (s);

  gst_affect_predictions_init (&p);
  gst_affect_predictions_set_va (&p, 0.0f, 0.0f);
  s = gst_affect_predictions_to_structure (&p);
  /* a real neutral VA is written; no expression fields */
  fail_unless (gst_structure_has_field (s, "valence"));
  fail_unless (gst_structure_has_field (s, "arousal"));
  fail_if (gst_structure_has_field (s, "expression"));
  fail_if (gst_structure_has_field (s, "expr-index"));
  gst_structure_free (s);

  gst_affect_predictions_init (&p);
  s = gst_affect_predictions_to_structure (&p);
  fail_unless_equals_int (gst_structure_n_fields (s), 2);
  gst_structure_free (s);
}

GST_END_TEST;

/* what a probe in a binding does: add the metas to a copy, hand it on */
static GstPadProbeReturn
add_face_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstBuffer *copy = gst_buffer_copy (buf);

  fail_unless (
      gst_buffer_add_affect_face_meta (copy, 7, 1, 2, 3, 4, 1.0f) != NULL);
  gst_affect_pad_probe_info_set_buffer (info, copy);
  /* the probe info holds its own reference */
  gst_buffer_unref (copy);
  fail_unless (GST_PAD_PROBE_INFO_BUFFER (info) == copy);
  return GST_PAD_PROBE_OK;
}

GST_START_TEST (test_probe_set_buffer)
{
  GstHarness *h;
  GstPad *pad;
  GstBuffer *in, *out;
  GstAffectFace *f;

  /* identity, from the system's core elements (hidden by the test env) */
  fail_unless (affect_check_load_system_plugin ("libgstcoreelements.so"));
  h = gst_harness_new_parse ("identity");
  pad = gst_element_get_static_pad (h->element, "src");

  gst_pad_add_probe (
      pad, GST_PAD_PROBE_TYPE_BUFFER, add_face_probe, NULL, NULL);
  gst_object_unref (pad);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY8,width=8,height=8");

  in = gst_buffer_new_allocate (NULL, 64, NULL);
  GST_BUFFER_PTS (in) = 5 * GST_SECOND;
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (out != NULL);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 5 * GST_SECOND);
  fail_unless_equals_int (gst_buffer_get_size (out), 64);
  f = gst_affect_buffer_get_face (out, 7);
  fail_unless (f != NULL);
  fail_unless_equals_float (f->width, 3.0f);
  gst_affect_face_free (f);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* gst-check only watches the criticals of a few log domains; handle those
 * of the library the same way. */
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

GST_START_TEST (test_invalid_args)
{
  GstBuffer *buf = gst_buffer_new ();
  guint n = 99;

  ASSERT_CRITICAL (gst_affect_buffer_get_faces (NULL));
  ASSERT_CRITICAL (gst_affect_buffer_get_face (NULL, 1));
  ASSERT_CRITICAL (gst_affect_buffer_get_rois (NULL, NULL));
  ASSERT_CRITICAL (gst_affect_face_get_landmarks (NULL, &n));
  fail_unless_equals_int (n, 0);
  ASSERT_CRITICAL (gst_affect_face_get_au (NULL, "AU1", NULL));
  ASSERT_CRITICAL (gst_affect_pad_probe_info_set_buffer (NULL, buf));
  gst_buffer_unref (buf);
}

GST_END_TEST;

static Suite *
affectface_suite (void)
{
  Suite *s = suite_create ("affectface");
  TCase *tc = tcase_create ("general");

  g_log_set_handler ("GStreamer-Affect",
      G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING, library_log_func, NULL);

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_faces);
  tcase_add_test (tc, test_face_by_track);
  tcase_add_test (tc, test_face_pose);
  tcase_add_test (tc, test_rois);
  tcase_add_test (tc, test_structure_absent_values);
  tcase_add_test (tc, test_probe_set_buffer);
  tcase_add_test (tc, test_invalid_args);

  return s;
}

GST_CHECK_MAIN (affectface);
