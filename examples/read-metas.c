/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* read-metas: how an application reads the faces and predictions that the
 * affect elements attach to video buffers.
 *
 *   GST_PLUGIN_PATH=build/elements build/examples/read-metas VIDEO
 *
 * runs  filesrc ! decodebin ! videoconvert ! facecrop ! affectfeatures !
 *       affectfuse ! fakesink
 * and, in a buffer probe on the sink's pad, prints one line per face and
 * frame: time, track id, box, and the most probable expression when there
 * is one. See docs/metadata.md for every field of the metas. */

#include <gst/gst.h>
#include <gst/affect/affect.h>

static GstPadProbeReturn
on_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstAffectFaceMeta *face;
  gpointer state = NULL;

  while ((face = gst_buffer_iterate_affect_face_meta (buf, &state))) {
    /* predictions and features are joined to faces by track id */
    GstAffectPredictionsMeta *pm
        = gst_buffer_get_affect_predictions_meta_by_track (buf, face->track_id);

    g_print ("%" GST_TIME_FORMAT "  face %u  box %.0f,%.0f %.0fx%.0f",
        GST_TIME_ARGS (GST_BUFFER_PTS (buf)), face->track_id, face->x, face->y,
        face->width, face->height);
    if (pm != NULL && (pm->predictions.tasks & GST_AFFECT_TASK_EXPRESSION)
        && pm->predictions.expr_index >= 0) {
      const GstAffectPredictions *p = &pm->predictions;

      g_print (
          "  %s %.2f", p->expr_labels[p->expr_index], p->expr[p->expr_index]);
    }
    if (pm != NULL && (pm->predictions.tasks & GST_AFFECT_TASK_VA))
      g_print ("  valence %.2f arousal %.2f", pm->predictions.valence,
          pm->predictions.arousal);
    g_print ("\n");
  }
  return GST_PAD_PROBE_OK;
}

int
main (int argc, char **argv)
{
  GstElement *pipeline, *src, *sink;
  GstMessage *msg;
  GstBus *bus;
  GstPad *pad;
  GError *error = NULL;
  int ret = 0;

  gst_init (&argc, &argv);
  if (argc != 2) {
    g_printerr ("usage: %s VIDEO\n", argv[0]);
    return 2;
  }

  pipeline = gst_parse_launch ("filesrc name=src ! decodebin ! videoconvert ! "
                               "facecrop ! affectfeatures ! affectfuse ! "
                               "fakesink name=sink",
      &error);
  if (pipeline == NULL) {
    g_printerr ("%s (is GST_PLUGIN_PATH set to the build's elements/?)\n",
        error->message);
    g_clear_error (&error);
    return 1;
  }
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  g_object_set (src, "location", argv[1], NULL);
  gst_object_unref (src);

  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, NULL, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (
      bus, GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gchar *dbg = NULL;

    gst_message_parse_error (msg, &error, &dbg);
    g_printerr ("error: %s\n%s\n", error->message, dbg ? dbg : "");
    g_clear_error (&error);
    g_free (dbg);
    ret = 1;
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  return ret;
}
