/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Regression test for the hang found by the state torture (issue 14 item
 * 6): a flushing seek on
 *
 *   videotestsrc ! affectfeatures name=f ! fakesink
 *   filesrc location=a.srt ! subparse ! f.text
 *
 * never completed. subparse turns the TIME seek into a new BYTES seek
 * without the seek's seqnum, so the FLUSH_START/FLUSH_STOP that reach the
 * text pad carry another seqnum than those on the video pad; GstAggregator
 * restarts its streaming task only when every sink pad has had a
 * FLUSH_STOP with the same seqnum, so the task stayed stopped, the sources
 * blocked on full pads and the preroll never came. affectfeatures now gives
 * the flush events of its own flushing seek the seek's seqnum.
 *
 * Deterministic: the seek is handled in the calling thread (GstBaseSrc
 * flushes and restarts synchronously), so when gst_element_seek() returns
 * the aggregator's task must be running again; without the fix it is
 * stopped and the test fails at once instead of hanging.
 *
 * Needs the word model (branches=words) and subparse; skipped without them
 * unless AFFECT_REQUIRE_MODELS=1.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <glib/gstdio.h>
#include <gst/affect/affectmeta.h>
#include <gst/check/gstcheck.h>

#include "affect-bert.h"
#include "affect-check.h"

static GstPadProbeReturn
add_face_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  buf = gst_buffer_make_writable (buf);
  gst_buffer_add_affect_face_meta (buf, 7, 8, 8, 32, 32, 0.9f);
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  return GST_PAD_PROBE_OK;
}

/* The PTS of the first buffer at the sink after the last FLUSH_STOP. */
typedef struct {
  GMutex lock;
  gboolean armed;
  GstClockTime first;
} FirstPts;

static GstPadProbeReturn
first_pts_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  FirstPts *fp = user_data;

  g_mutex_lock (&fp->lock);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    if (fp->armed)
      fp->first = GST_BUFFER_PTS (GST_PAD_PROBE_INFO_BUFFER (info));
    fp->armed = FALSE;
  } else if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info))
             == GST_EVENT_FLUSH_STOP) {
    fp->armed = TRUE;
    fp->first = GST_CLOCK_TIME_NONE;
  }
  g_mutex_unlock (&fp->lock);
  return GST_PAD_PROBE_OK;
}

static gboolean
have_requirements (gchar **dir)
{
  GError *err = NULL;
  gboolean req = g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") == 0;

  if (g_getenv ("AFFECT_UNDER_VALGRIND")) {
    /* subparse's GRegex JIT: see tests/check/elements/affectfeatures_av.c */
    g_print ("SKIP under valgrind (subparse's GRegex JIT)\n");
    return FALSE;
  }
  if (!affect_check_load_system_plugin ("libgstvideotestsrc.so")
      || !affect_check_load_system_plugin ("libgstsubparse.so")
      || !affect_check_load_system_plugin ("libgstcoreelements.so")) {
    fail_if (req, "videotestsrc, subparse or the core elements missing");
    g_print ("SKIP: videotestsrc, subparse or the core elements not found\n");
    return FALSE;
  }
  *dir = affect_bert_find (NULL, &err);
  if (*dir == NULL) {
    fail_if (req, "word model missing: %s", err->message);
    g_print ("SKIP: no word model (%s)\n", err->message);
    g_clear_error (&err);
    return FALSE;
  }
  return TRUE;
}

/* A flushing seek to @pos: affectfeatures' task runs again when the seek
 * returns, the pipeline prerolls and the first frame after the flush is
 * the one at @pos. */
static void
check_seek (
    GstElement *pipeline, GstPad *agg_src, GstClockTime pos, FirstPts *fp)
{
  GstTaskState task;
  GstClockTime first;

  fail_unless (gst_element_seek_simple (pipeline, GST_FORMAT_TIME,
      GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, pos));
  task = gst_pad_get_task_state (agg_src);
  fail_if (task == GST_TASK_STOPPED,
      "affectfeatures' streaming task is stopped after the flushing seek to "
      "%" GST_TIME_FORMAT " (the flush events of the text pad had another "
      "seqnum): the pipeline would hang",
      GST_TIME_ARGS (pos));
  fail_unless (gst_element_get_state (pipeline, NULL, NULL, GST_CLOCK_TIME_NONE)
               == GST_STATE_CHANGE_SUCCESS);
  g_mutex_lock (&fp->lock);
  first = fp->first;
  g_mutex_unlock (&fp->lock);
  fail_unless (GST_CLOCK_TIME_IS_VALID (first) && first >= pos
                   && first < pos + GST_SECOND / 10,
      "first frame after the seek to %" GST_TIME_FORMAT ": %" GST_TIME_FORMAT,
      GST_TIME_ARGS (pos), GST_TIME_ARGS (first));
}

GST_START_TEST (test_flushing_seek_with_subparse)
{
  static const gchar srt[] = "1\n00:00:00,200 --> 00:00:00,900\nhello "
                             "world\n\n2\n00:00:01,500 --> 00:00:02,500\n"
                             "once more\n\n";
  GstElement *pipeline, *f, *sink;
  GstPad *vpad, *agg_src, *sinkpad;
  FirstPts fp = {
    0,
  };
  GError *err = NULL;
  gchar *dir = NULL, *tmp, *srt_path, *desc;

  if (!have_requirements (&dir))
    return;
  g_mutex_init (&fp.lock);
  tmp = g_dir_make_tmp ("affect-seek-text-XXXXXX", NULL);
  srt_path = g_build_filename (tmp, "a.srt", NULL);
  fail_unless (g_file_set_contents (srt_path, srt, sizeof (srt) - 1, NULL));
  desc = g_strdup_printf (
      "videotestsrc ! "
      "video/x-raw,format=I420,width=64,height=48,framerate=30/1 ! "
      "f.video affectfeatures name=f branches=words ! fakesink name=sink "
      "sync=false filesrc location=\"%s\" ! subparse ! f.text",
      srt_path);
  pipeline = gst_parse_launch (desc, &err);
  fail_unless (pipeline != NULL, "%s", err ? err->message : "?");
  f = gst_bin_get_by_name (GST_BIN (pipeline), "f");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  vpad = gst_element_get_static_pad (f, "video");
  gst_pad_add_probe (
      vpad, GST_PAD_PROBE_TYPE_BUFFER, add_face_probe, NULL, NULL);
  agg_src = gst_element_get_static_pad (f, "src");
  sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (sinkpad,
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_FLUSH,
      first_pts_probe, &fp, NULL);

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PAUSED)
               != GST_STATE_CHANGE_FAILURE);
  fail_unless (gst_element_get_state (pipeline, NULL, NULL, GST_CLOCK_TIME_NONE)
               == GST_STATE_CHANGE_SUCCESS);

  /* in PAUSED, then in PLAYING; each time the preroll buffer is the
   * frame at the seek position */
  check_seek (pipeline, agg_src, GST_SECOND, &fp);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING)
               != GST_STATE_CHANGE_FAILURE);
  fail_unless (gst_element_get_state (pipeline, NULL, NULL, GST_CLOCK_TIME_NONE)
               == GST_STATE_CHANGE_SUCCESS);
  check_seek (pipeline, agg_src, 2 * GST_SECOND, &fp);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_mutex_clear (&fp.lock);
  gst_object_unref (sinkpad);
  gst_object_unref (agg_src);
  gst_object_unref (vpad);
  gst_object_unref (sink);
  gst_object_unref (f);
  gst_object_unref (pipeline);
  g_unlink (srt_path);
  g_rmdir (tmp);
  g_free (srt_path);
  g_free (tmp);
  g_free (desc);
  g_free (dir);
}

GST_END_TEST;

static Suite *
seek_text_suite (void)
{
  Suite *s = suite_create ("seek_text");
  TCase *tc = tcase_create ("general");

  tcase_add_test (tc, test_flushing_seek_with_subparse);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (seek_text);
