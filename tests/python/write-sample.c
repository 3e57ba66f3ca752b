/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* write-sample FORMAT LOCATION [tidy] [pose]
 *
 * Pushes a fixed set of frames with face metadata through affectsink
 * format=FORMAT (tidy=true with the argument "tidy") into LOCATION,
 * for test_outputs.py, which loads the file in pandas. The frames (25 fps,
 * the values are the ones test_outputs.py expects):
 *
 *   frame 0, 0 s:    track 1 complete (box, 68 landmarks, the 8 ABAW
 *                    expressions, 12 AUs, VA), track 2 a box without
 *                    landmarks or predictions
 *   frame 1, 0.04 s: track 1 complete, track 3 VA without a face
 *   frame 2, 0.08 s: no face
 *   frame 3, 0.12 s: track 1 complete with a NaN valence
 *
 * With the argument "pose", track 1 also has a head pose on frames 0 and 1
 * (yaw 10 + frame, pitch -5, roll 2.5 degrees), none on frame 3.
 */

#include <math.h>
#include <stdio.h>

#include <gst/gst.h>
#include <gst/check/gstharness.h>
#include <gst/affect/affect.h>

static void
add_track1 (GstBuffer *buf, guint frame, gboolean nan_valence, gboolean pose)
{
  GstAffectFaceMeta *face;
  GstAffectPredictions p;
  const gchar *const *labels;
  gfloat pts[2 * GST_AFFECT_N_LANDMARKS], expr[8], au[12];
  guint n, i;

  face = gst_buffer_add_affect_face_meta (
      buf, 1, 100.0f + frame, 50.0f, 80.0f, 96.0f, 0.875f);
  for (i = 0; i < GST_AFFECT_N_LANDMARKS; i++) {
    pts[2 * i] = 100.0f + frame + i;
    pts[2 * i + 1] = 60.0f + 0.5f * i;
  }
  gst_affect_face_meta_set_landmarks (face, pts, GST_AFFECT_N_LANDMARKS);
  if (pose && frame < 2)
    gst_affect_face_meta_set_pose (face, buf, 10.0f + frame, -5.0f, 2.5f);

  gst_affect_predictions_init (&p);
  labels = gst_affect_abaw_expression_labels (&n);
  for (i = 0; i < n; i++)
    expr[i] = i == 4 ? 0.65f : 0.05f;
  gst_affect_predictions_set_expression (&p, n, labels, expr);
  labels = gst_affect_abaw_au_labels (&n);
  for (i = 0; i < n; i++)
    au[i] = 0.0625f * i;
  gst_affect_predictions_set_au (&p, n, labels, au);
  gst_affect_predictions_set_va (&p, nan_valence ? NAN : 0.25f, -0.5f);
  gst_buffer_add_affect_predictions_meta (buf, 1, &p);
}

int
main (int argc, char **argv)
{
  GstElement *sink;
  GstHarness *h;
  GstBuffer *buf;
  GstAffectPredictions p;
  guint frame;
  gboolean tidy = FALSE, pose = FALSE;
  gint i;

  if (argc < 3 || argc > 5) {
    fprintf (stderr, "usage: write-sample csv|jsonl LOCATION [tidy] [pose]\n");
    return 2;
  }
  for (i = 3; i < argc; i++) {
    if (g_str_equal (argv[i], "tidy"))
      tidy = TRUE;
    else if (g_str_equal (argv[i], "pose"))
      pose = TRUE;
    else {
      fprintf (stderr, "write-sample: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  gst_init (NULL, NULL);
  sink = gst_element_factory_make ("affectsink", NULL);
  if (sink == NULL) {
    fprintf (stderr, "write-sample: affectsink not found\n");
    return 1;
  }
  gst_util_set_object_arg (G_OBJECT (sink), "format", argv[1]);
  g_object_set (sink, "location", argv[2], "tidy", tidy, NULL);
  h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_object_unref (sink);
  gst_harness_set_src_caps_str (
      h, "video/x-raw,format=RGB,width=320,height=240,framerate=25/1");

  for (frame = 0; frame < 4; frame++) {
    buf = gst_buffer_new ();
    GST_BUFFER_PTS (buf) = frame * 40 * GST_MSECOND;
    GST_BUFFER_DURATION (buf) = 40 * GST_MSECOND;
    if (frame != 2)
      add_track1 (buf, frame, frame == 3, pose);
    if (frame == 0)
      gst_buffer_add_affect_face_meta (buf, 2, 10, 20, 30, 40, 0.5f);
    if (frame == 1) {
      gst_affect_predictions_init (&p);
      gst_affect_predictions_set_va (&p, -0.75f, 0.125f);
      gst_buffer_add_affect_predictions_meta (buf, 3, &p);
    }
    if (gst_harness_push (h, buf) != GST_FLOW_OK) {
      fprintf (stderr, "write-sample: push failed\n");
      return 1;
    }
  }
  if (!gst_harness_push_event (h, gst_event_new_eos ())) {
    fprintf (stderr, "write-sample: EOS refused\n");
    return 1;
  }
  gst_harness_teardown (h);
  return 0;
}
