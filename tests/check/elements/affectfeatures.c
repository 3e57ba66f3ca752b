/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* Tests of the affectfeatures element: behaviour as a filter (caps, event
 * order, segment, latency, EOS, flush), the feature vectors against the
 * original face-api (golden fixtures), faces without landmarks, many faces,
 * odd sizes, every input format and property changes while playing.
 *
 * Tests that run the networks need the converted weights and the test PNGs;
 * they are skipped with a message when those are missing, unless
 * AFFECT_REQUIRE_MODELS=1 (then they fail). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <gst/affect/affectmeta.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

#include "affect-check.h"
#include "affect-image.h"
#include "affect-modelpath.h"

#define N_FEAT 256
#define SMALL_CAPS "video/x-raw,format=RGB,width=320,height=240,framerate=30/1"

/* ------------------------------------------------------------------ */
/* Test data: sample1 and its golden face-api outputs                  */
/* ------------------------------------------------------------------ */

typedef struct {
  gfloat box[4];
  gfloat landmarks[GST_AFFECT_N_LANDMARKS][2];
  gfloat expression_feature[N_FEAT];
  gfloat recognition_feature[N_FEAT];
} GoldenFace;

typedef struct {
  guint8 *rgb;
  int width, height;
  guint n_faces;
  GoldenFace faces[8];
} Golden;

static Golden *golden = NULL;
static gboolean golden_tried = FALSE;
static gchar *golden_missing = NULL;

static void
read_floats (JsonArray *arr, gfloat *out, guint n)
{
  guint i;

  fail_unless (json_array_get_length (arr) == n, "expected %u numbers, got %u",
      n, json_array_get_length (arr));
  for (i = 0; i < n; i++)
    out[i] = (gfloat)json_array_get_double_element (arr, i);
}

static Golden *
golden_load (GString *why)
{
  const gchar *srcdir = g_getenv ("AFFECT_TEST_SRCDIR");
  gchar *json_path, *cache, *png, *model;
  JsonParser *parser;
  JsonObject *root;
  JsonArray *faces, *ssd;
  GError *err = NULL;
  Golden *g;
  guint i, j;

  model = affect_model_find ("face_expression_model", NULL, &err);
  if (model == NULL) {
    g_string_append_printf (why, "%s; ", err->message);
    g_clear_error (&err);
  }
  g_free (model);
  model = affect_model_find ("face_recognition_model", NULL, &err);
  if (model == NULL) {
    g_string_append_printf (why, "%s; ", err->message);
    g_clear_error (&err);
  }
  g_free (model);

  cache = affect_cache_dir ();
  png = g_build_filename (cache, "test-inputs", "sample1.png", NULL);
  g_free (cache);
  json_path = g_build_filename (
      srcdir ? srcdir : "tests", "golden", "face-api", "sample1.json", NULL);
  if (!g_file_test (png, G_FILE_TEST_EXISTS))
    g_string_append_printf (
        why, "%s missing (run tests/golden/face-api/prepare.sh); ", png);
  if (!g_file_test (json_path, G_FILE_TEST_EXISTS))
    g_string_append_printf (why, "%s missing; ", json_path);
  if (why->len > 0) {
    g_free (png);
    g_free (json_path);
    return NULL;
  }

  g = g_new0 (Golden, 1);
  fail_unless (
      affect_image_load_png (png, &g->rgb, &g->width, &g->height, &err),
      "cannot read %s: %s", png, err ? err->message : "?");

  parser = json_parser_new ();
  fail_unless (json_parser_load_from_file (parser, json_path, &err),
      "cannot parse %s: %s", json_path, err ? err->message : "?");
  root = json_node_get_object (json_parser_get_root (parser));
  faces = json_object_get_array_member (root, "faces");
  ssd = json_object_get_array_member (root, "ssd");
  g->n_faces = MIN (json_array_get_length (faces), G_N_ELEMENTS (g->faces));
  fail_unless (g->n_faces > 0);
  for (i = 0; i < g->n_faces; i++) {
    JsonObject *f = json_array_get_object_element (faces, i);
    JsonObject *s = json_array_get_object_element (ssd, i);
    JsonArray *lm = json_object_get_array_member (f, "landmarks");
    GoldenFace *gf = &g->faces[i];

    read_floats (json_object_get_array_member (s, "box"), gf->box, 4);
    fail_unless (json_array_get_length (lm) == GST_AFFECT_N_LANDMARKS);
    for (j = 0; j < GST_AFFECT_N_LANDMARKS; j++)
      read_floats (json_array_get_array_element (lm, j), gf->landmarks[j], 2);
    read_floats (json_object_get_array_member (f, "expression_feature"),
        gf->expression_feature, N_FEAT);
    read_floats (json_object_get_array_member (f, "recognition_feature"),
        gf->recognition_feature, N_FEAT);
  }
  g_object_unref (parser);
  g_free (png);
  g_free (json_path);
  return g;
}

/* Returns the test data, or NULL when the test must be skipped (after
 * printing why); fails instead when AFFECT_REQUIRE_MODELS=1. */
static Golden *
need_models (const gchar *test)
{
  if (!golden_tried) {
    GString *why = g_string_new (NULL);

    golden_tried = TRUE;
    golden = golden_load (why);
    golden_missing = g_string_free (why, golden != NULL);
  }
  if (golden == NULL) {
    fail_if (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") == 0,
        "%s: models or test inputs missing: %s", test, golden_missing);
    g_print ("SKIP %s: models or test inputs missing (fetch them with "
             "affect-fetch-models and tests/golden/face-api/prepare.sh): "
             "%s\n",
        test, golden_missing);
  }
  return golden;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* An RGB buffer of the @w × @h region at (@x, @y) of @g's image (black
 * outside), converted to @format. */
static GstBuffer *
make_frame (const Golden *g, int x, int y, int w, int h, GstVideoFormat format)
{
  GstVideoInfo rgb_info, info;
  GstVideoFrame src, dst;
  GstBuffer *rgb, *out;
  int r;

  gst_video_info_set_format (&rgb_info, GST_VIDEO_FORMAT_RGB, w, h);
  rgb = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&rgb_info), NULL);
  gst_buffer_memset (rgb, 0, 0, GST_VIDEO_INFO_SIZE (&rgb_info));
  fail_unless (gst_video_frame_map (&src, &rgb_info, rgb, GST_MAP_WRITE));
  for (r = 0; r < h; r++) {
    guint8 *row = (guint8 *)GST_VIDEO_FRAME_PLANE_DATA (&src, 0)
                  + (gsize)r * GST_VIDEO_FRAME_PLANE_STRIDE (&src, 0);
    int sy = y + r, x0 = MAX (x, 0), x1 = MIN (x + w, g->width);

    if (sy < 0 || sy >= g->height || x1 <= x0)
      continue;
    memcpy (row + (gsize)(x0 - x) * 3, g->rgb + ((gsize)sy * g->width + x0) * 3,
        (gsize)(x1 - x0) * 3);
  }
  gst_video_frame_unmap (&src);

  if (format == GST_VIDEO_FORMAT_RGB)
    return rgb;

  gst_video_info_set_format (&info, format, w, h);
  out = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  fail_unless (gst_video_frame_map (&src, &rgb_info, rgb, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&dst, &info, out, GST_MAP_WRITE));
  {
    GstVideoConverter *conv = gst_video_converter_new (&rgb_info, &info, NULL);

    gst_video_converter_frame (conv, &src, &dst);
    gst_video_converter_free (conv);
  }
  gst_video_frame_unmap (&dst);
  gst_video_frame_unmap (&src);
  gst_buffer_unref (rgb);
  return out;
}

/* Adds the face meta of golden face @i, shifted by (-@dx, -@dy). */
static void
add_face (GstBuffer *buf, const GoldenFace *f, guint track_id, gfloat dx,
    gfloat dy, gboolean with_landmarks)
{
  GstAffectFaceMeta *meta = gst_buffer_add_affect_face_meta (buf, track_id,
      f->box[0] - dx, f->box[1] - dy, f->box[2], f->box[3], 0.99f);
  gfloat pts[GST_AFFECT_N_LANDMARKS * 2];
  guint i;

  fail_unless (meta != NULL);
  if (!with_landmarks)
    return;
  for (i = 0; i < GST_AFFECT_N_LANDMARKS; i++) {
    pts[2 * i] = f->landmarks[i][0] - dx;
    pts[2 * i + 1] = f->landmarks[i][1] - dy;
  }
  gst_affect_face_meta_set_landmarks (meta, pts, GST_AFFECT_N_LANDMARKS);
}

static GstHarness *
make_harness (const gchar *caps, const gchar *branches)
{
  GstElement *e = gst_element_factory_make ("affectfeatures", NULL);
  GstHarness *h;

  fail_unless (e != NULL, "affectfeatures not found");
  gst_util_set_object_arg (G_OBJECT (e), "branches", branches);
  h = gst_harness_new_with_element (e, "video", "src");
  gst_object_unref (e);
  gst_harness_set_src_caps_str (h, caps);
  return h;
}

/* gst_harness_pull() gives up after 60 s, which a slow machine (valgrind)
 * can need for one full-size frame: wait up to 30 minutes. */
static GstBuffer *
pull (GstHarness *h)
{
  GstBuffer *buf = NULL;
  guint i;

  for (i = 0; i < 30 && buf == NULL; i++)
    buf = gst_harness_pull (h);
  fail_unless (buf != NULL, "no output buffer");
  return buf;
}

static GstBuffer *
small_buffer (guint i)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 964 * 240, NULL);

  gst_buffer_memset (buf, 0, (guint8)i, 964 * 240);
  GST_BUFFER_PTS (buf) = i * GST_SECOND / 30;
  GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  GST_BUFFER_OFFSET (buf) = i;
  return buf;
}

static gdouble
cosine (const gfloat *a, const gfloat *b, guint n)
{
  gdouble ab = 0, aa = 0, bb = 0;
  guint i;

  for (i = 0; i < n; i++) {
    ab += (gdouble)a[i] * b[i];
    aa += (gdouble)a[i] * a[i];
    bb += (gdouble)b[i] * b[i];
  }
  if (aa == 0 && bb == 0)
    return 1.0;
  return ab / sqrt (aa * bb);
}

static const gfloat *
branch_of (GstBuffer *buf, guint track, GstAffectBranch branch)
{
  GstAffectFeaturesMeta *m
      = gst_buffer_get_affect_features_meta_by_track (buf, track);
  guint size = 0;
  const gfloat *v;

  fail_unless (m != NULL, "no features meta for track %u", track);
  v = gst_affect_features_meta_get (m, branch, &size);
  fail_unless (
      v == NULL || size == N_FEAT, "branch %d of size %u", branch, size);
  fail_unless ((v != NULL) == ((m->present & (1 << branch)) != 0),
      "presence flag and vector of branch %d disagree", branch);
  return v;
}

/* ------------------------------------------------------------------ */
/* Filter behaviour (no network needed: branches=none)                 */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_properties)
{
  GstElement *e = gst_element_factory_make ("affectfeatures", NULL);
  gchar *loc = NULL, *backend = NULL;
  guint branches;
  gint threads;
  GstPad *pad;

  fail_unless (e != NULL);
  g_object_get (e, "model-location", &loc, "backend", &backend, "branches",
      &branches, "n-threads", &threads, NULL);
  fail_unless (loc == NULL);
  fail_unless_equals_string (backend, "auto");
  fail_unless_equals_int (
      branches, GST_AFFECT_MODALITY_IMAGE | GST_AFFECT_MODALITY_EXPRESSION
                    | GST_AFFECT_MODALITY_SPEECH | GST_AFFECT_MODALITY_WORDS);
  fail_unless_equals_int (threads, 0);
  g_free (backend);

  g_object_set (e, "model-location", "/tmp", "n-threads", 2, NULL);
  gst_util_set_object_arg (G_OBJECT (e), "branches", "expression");
  g_object_get (e, "model-location", &loc, "branches", &branches, "n-threads",
      &threads, NULL);
  fail_unless_equals_string (loc, "/tmp");
  fail_unless_equals_int (branches, GST_AFFECT_MODALITY_EXPRESSION);
  fail_unless_equals_int (threads, 2);
  g_free (loc);

  /* an always video pad of our pad type, and a src pad */
  pad = gst_element_get_static_pad (e, "video");
  fail_unless (pad != NULL);
  fail_unless (g_type_is_a (G_OBJECT_TYPE (pad), GST_TYPE_AGGREGATOR_PAD));
  fail_unless_equals_string (G_OBJECT_TYPE_NAME (pad), "GstAffectFeaturesPad");
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (e, "src");
  fail_unless (pad != NULL);
  gst_object_unref (pad);

  gst_object_unref (e);
}

GST_END_TEST;

GST_START_TEST (test_caps_and_event_order)
{
  GstHarness *h = make_harness (SMALL_CAPS, "none");
  GstCaps *caps, *expected;
  GstEvent *ev;
  guint i;

  for (i = 0; i < 5; i++) {
    GstBuffer *out;
    GstMapInfo map;

    fail_unless_equals_int (
        gst_harness_push (h, small_buffer (i)), GST_FLOW_OK);
    out = pull (h);
    fail_unless (out != NULL);
    /* same timestamps, same pixels, no features without faces */
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * GST_SECOND / 30);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), GST_SECOND / 30);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), i);
    fail_unless (gst_buffer_map (out, &map, GST_MAP_READ));
    fail_unless_equals_int (map.size, 964 * 240);
    fail_unless_equals_int (map.data[0], i);
    fail_unless_equals_int (map.data[map.size - 1], i);
    gst_buffer_unmap (out, &map);
    fail_unless (gst_buffer_get_n_affect_faces (out) == 0);
    gst_buffer_unref (out);
  }

  caps = gst_pad_get_current_caps (h->sinkpad);
  expected = gst_caps_from_string (SMALL_CAPS);
  fail_unless (caps != NULL && gst_caps_is_equal (caps, expected),
      "caps not passed through: %" GST_PTR_FORMAT, caps);
  gst_caps_unref (caps);
  gst_caps_unref (expected);

  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  ev = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_STREAM_START);
  gst_event_unref (ev);
  ev = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_CAPS);
  gst_event_unref (ev);
  ev = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_SEGMENT);
  gst_event_unref (ev);
  ev = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_EOS);
  gst_event_unref (ev);
  fail_unless_equals_int (gst_harness_events_in_queue (h), 0);

  gst_harness_teardown (h);
}

GST_END_TEST;

/* The video segment (rate, start, base, ...) is the output segment. */
GST_START_TEST (test_segment_forwarded)
{
  GstHarness *h = make_harness (SMALL_CAPS, "none");
  GstSegment seg;
  const GstSegment *out;
  GstBuffer *buf;
  GstEvent *ev;

  gst_segment_init (&seg, GST_FORMAT_TIME);
  seg.start = 10 * GST_SECOND;
  seg.time = 3 * GST_SECOND;
  seg.base = 7 * GST_SECOND;
  seg.stop = 20 * GST_SECOND;
  seg.rate = 2.0;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  buf = small_buffer (0);
  GST_BUFFER_PTS (buf) = 11 * GST_SECOND;
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  buf = pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), 11 * GST_SECOND);
  gst_buffer_unref (buf);

  /* stream-start, caps, then the segment of the video, once */
  while ((ev = gst_harness_try_pull_event (h))) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_SEGMENT) {
      gst_event_parse_segment (ev, &out);
      fail_unless_equals_uint64 (out->start, seg.start);
      fail_unless_equals_uint64 (out->stop, seg.stop);
      fail_unless_equals_uint64 (out->time, seg.time);
      fail_unless_equals_uint64 (out->base, seg.base);
      fail_unless_equals_float (out->rate, 2.0);
    }
    gst_event_unref (ev);
  }
  fail_unless (gst_harness_try_pull_event (h) == NULL);

  gst_harness_teardown (h);
}

GST_END_TEST;

/* A live upstream: the latency is reported unchanged and a buffer goes
 * through as soon as it arrives (no waiting for a deadline). */
GST_START_TEST (test_latency_live)
{
  GstHarness *h = make_harness (SMALL_CAPS, "none");
  GstBuffer *out;
  GstClockTime latency;
  GstQuery *q;
  gboolean live;
  GstClockTime min, max;

  gst_harness_set_live (h, TRUE);
  gst_harness_set_upstream_latency (h, 40 * GST_MSECOND);
  latency = gst_harness_query_latency (h);
  fail_unless_equals_uint64 (latency, 40 * GST_MSECOND);

  q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (h->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  fail_unless (live);
  fail_unless_equals_uint64 (min, 40 * GST_MSECOND);
  gst_query_unref (q);

  fail_unless_equals_int (gst_harness_push (h, small_buffer (0)), GST_FLOW_OK);
  out = pull (h);
  fail_unless (out != NULL, "the buffer did not come out");
  gst_buffer_unref (out);
  fail_unless_equals_int (gst_harness_push (h, small_buffer (1)), GST_FLOW_OK);
  out = pull (h);
  fail_unless (out != NULL, "the buffer did not come out");
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), GST_SECOND / 30);
  gst_buffer_unref (out);

  gst_harness_teardown (h);
}

GST_END_TEST;

/* A non-live pipeline runs to EOS without stalling. */
GST_START_TEST (test_pipeline_eos)
{
  GstElement *pipeline;
  GstMessage *msg;
  GstBus *bus;
  GError *err = NULL;

  if (!affect_check_load_system_plugin ("libgstvideotestsrc.so")
      || !affect_check_load_system_plugin ("libgstcoreelements.so")) {
    g_print ("SKIP test_pipeline_eos: videotestsrc or fakesink not found "
             "(set AFFECT_TEST_SYSTEM_PLUGIN_DIR)\n");
    return;
  }

  pipeline = gst_parse_launch ("videotestsrc num-buffers=20 ! "
                               "video/x-raw,format=I420,width=64,height=48 ! "
                               "affectfeatures branches=none ! "
                               "fakesink name=sink sync=false",
      &err);
  fail_unless (pipeline != NULL, "%s", err ? err->message : "?");
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING)
               != GST_STATE_CHANGE_FAILURE);
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (
      bus, 600 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no EOS: the pipeline stalled");
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  {
    GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
    GstSample *last = NULL;

    g_object_get (sink, "last-sample", &last, NULL);
    fail_unless (last != NULL);
    fail_unless_equals_uint64 (
        GST_BUFFER_PTS (gst_sample_get_buffer (last)), 19 * GST_SECOND / 30);
    gst_sample_unref (last);
    gst_object_unref (sink);
  }
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_flush)
{
  GstHarness *h = make_harness (SMALL_CAPS, "none");
  GstSegment seg;
  GstBuffer *out;
  GstEvent *ev;
  gboolean saw_start = FALSE, saw_stop = FALSE, saw_segment = FALSE;

  fail_unless_equals_int (gst_harness_push (h, small_buffer (0)), GST_FLOW_OK);
  gst_buffer_unref (pull (h));
  while ((ev = gst_harness_try_pull_event (h)))
    gst_event_unref (ev);

  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  seg.start = 5 * GST_SECOND;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  out = small_buffer (1);
  GST_BUFFER_PTS (out) = 5 * GST_SECOND;
  fail_unless_equals_int (gst_harness_push (h, out), GST_FLOW_OK);
  out = pull (h);
  fail_unless (out != NULL);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 5 * GST_SECOND);
  gst_buffer_unref (out);

  while ((ev = gst_harness_try_pull_event (h))) {
    switch (GST_EVENT_TYPE (ev)) {
      case GST_EVENT_FLUSH_START:
        saw_start = TRUE;
        break;
      case GST_EVENT_FLUSH_STOP:
        fail_unless (saw_start);
        saw_stop = TRUE;
        break;
      case GST_EVENT_SEGMENT: {
        const GstSegment *s;

        fail_unless (saw_stop);
        gst_event_parse_segment (ev, &s);
        fail_unless_equals_uint64 (s->start, 5 * GST_SECOND);
        saw_segment = TRUE;
        break;
      }
      default:
        break;
    }
    gst_event_unref (ev);
  }
  fail_unless (saw_start && saw_stop && saw_segment);

  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  ev = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_EOS);
  gst_event_unref (ev);

  gst_harness_teardown (h);
}

GST_END_TEST;

static void
error_from_start (const gchar *prop, const gchar *value, GQuark domain,
    gint code, const gchar *needle)
{
  GstElement *e = gst_element_factory_make ("affectfeatures", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;

  g_object_set (e, prop, value, NULL);
  gst_element_set_bus (e, bus);
  fail_unless_equals_int (
      gst_element_set_state (e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message");
  gst_message_parse_error (msg, &err, &debug);
  fail_unless (err->domain == domain && err->code == code,
      "unexpected error %s (%d)", err->message, err->code);
  fail_unless (strstr (err->message, needle) != NULL
                   || (debug && strstr (debug, needle) != NULL),
      "'%s' not in the error: %s / %s", needle, err->message, debug);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

GST_START_TEST (test_errors)
{
  /* a wrong explicit location is a clear error, not a crash */
  error_from_start ("model-location", "/nonexistent/gst-affect-models",
      GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, "affect-fetch-models");
  error_from_start ("backend", "no-such-backend", GST_LIBRARY_ERROR,
      GST_LIBRARY_ERROR_INIT, "no-such-backend");
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* With the networks                                                   */
/* ------------------------------------------------------------------ */

static gchar *
full_caps (const Golden *g)
{
  return g_strdup_printf (
      "video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1", g->width,
      g->height);
}

/* The features of the golden faces on sample1 equal face-api's. */
GST_START_TEST (test_golden_parity)
{
  Golden *g = need_models ("test_golden_parity");
  GstHarness *h;
  GstBuffer *buf;
  gchar *caps;
  guint i;

  if (g == NULL)
    return;

  caps = full_caps (g);
  h = make_harness (caps, "image+expression");
  g_free (caps);

  buf = make_frame (g, 0, 0, g->width, g->height, GST_VIDEO_FORMAT_RGB);
  for (i = 0; i < g->n_faces; i++)
    add_face (buf, &g->faces[i], 10 + i, 0, 0, TRUE);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  buf = pull (h);

  for (i = 0; i < g->n_faces; i++) {
    const gfloat *exp = branch_of (buf, 10 + i, GST_AFFECT_BRANCH_EXPRESSION);
    const gfloat *img = branch_of (buf, 10 + i, GST_AFFECT_BRANCH_IMAGE);
    gdouble ce, ci;

    fail_unless (exp != NULL && img != NULL);
    ce = cosine (exp, g->faces[i].expression_feature, N_FEAT);
    ci = cosine (img, g->faces[i].recognition_feature, N_FEAT);
    GST_INFO ("face %u: cosine expression %.9f, image %.9f", i, ce, ci);
    fail_unless (ce >= 0.99999, "face %u: f_exp cosine %.9f", i, ce);
    fail_unless (ci >= 0.99999, "face %u: f_img cosine %.9f", i, ci);
    fail_if (branch_of (buf, 10 + i, GST_AFFECT_BRANCH_SPEECH) != NULL);
    fail_if (branch_of (buf, 10 + i, GST_AFFECT_BRANCH_WORDS) != NULL);
  }
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Many faces in one batch give the same vectors as each face alone; a face
 * without landmarks gets f_exp from its box and no f_img; a frame without
 * faces gets no metas. */
GST_START_TEST (test_many_faces)
{
  Golden *g = need_models ("test_many_faces");
  GstHarness *h;
  GstBuffer *buf, *single;
  gchar *caps;
  guint i;
  const guint n = 7;

  if (g == NULL)
    return;

  caps = full_caps (g);
  h = make_harness (caps, "image+expression");
  g_free (caps);

  /* frame 1: each golden face twice (different tracks) plus one face
   * without landmarks */
  buf = make_frame (g, 0, 0, g->width, g->height, GST_VIDEO_FORMAT_RGB);
  for (i = 0; i < n - 1; i++)
    add_face (buf, &g->faces[i % g->n_faces], 100 + i, 0, 0, TRUE);
  add_face (buf, &g->faces[0], 200, 0, 0, FALSE);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  buf = pull (h);

  /* frame 2: the first face alone */
  single = make_frame (g, 0, 0, g->width, g->height, GST_VIDEO_FORMAT_RGB);
  add_face (single, &g->faces[0], 1, 0, 0, TRUE);
  fail_unless_equals_int (gst_harness_push (h, single), GST_FLOW_OK);
  single = pull (h);

  /* frame 3: no face */
  fail_unless_equals_int (
      gst_harness_push (
          h, make_frame (g, 0, 0, g->width, g->height, GST_VIDEO_FORMAT_RGB)),
      GST_FLOW_OK);
  {
    GstBuffer *none = pull (h);
    gpointer state = NULL;

    fail_unless (
        gst_buffer_iterate_affect_features_meta (none, &state) == NULL);
    gst_buffer_unref (none);
  }

  for (i = 0; i < n - 1; i++) {
    const gfloat *e = branch_of (buf, 100 + i, GST_AFFECT_BRANCH_EXPRESSION);
    const gfloat *im = branch_of (buf, 100 + i, GST_AFFECT_BRANCH_IMAGE);
    const GoldenFace *f = &g->faces[i % g->n_faces];

    fail_unless (e != NULL && im != NULL);
    fail_unless (cosine (e, f->expression_feature, N_FEAT) >= 0.99999);
    fail_unless (cosine (im, f->recognition_feature, N_FEAT) >= 0.99999);
    if (i % g->n_faces == 0) {
      const gfloat *e1 = branch_of (single, 1, GST_AFFECT_BRANCH_EXPRESSION);

      /* batching does not change a face's result beyond rounding */
      fail_unless (cosine (e, e1, N_FEAT) >= 0.999999);
    }
  }

  /* no landmarks: expression from the box, no image feature */
  {
    const gfloat *e = branch_of (buf, 200, GST_AFFECT_BRANCH_EXPRESSION);

    fail_unless (e != NULL);
    fail_unless (branch_of (buf, 200, GST_AFFECT_BRANCH_IMAGE) == NULL);
    /* a different crop than the landmark one, but the same face */
    fail_unless (cosine (e, g->faces[0].expression_feature, N_FEAT) < 0.99999);
  }

  gst_buffer_unref (single);
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A face whose crops lie outside the frame gets absent branches; the
 * element does not fail. */
GST_START_TEST (test_face_outside)
{
  Golden *g = need_models ("test_face_outside");
  GstHarness *h;
  GstBuffer *buf;
  GstAffectFeaturesMeta *m;

  if (g == NULL)
    return;

  h = make_harness (SMALL_CAPS, "image+expression");
  buf = small_buffer (0);
  /* golden face 2 is far right of a 320×240 frame */
  add_face (buf, &g->faces[2], 5, 0, 0, TRUE);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  buf = pull (h);
  m = gst_buffer_get_affect_features_meta_by_track (buf, 5);
  fail_unless (m != NULL);
  fail_unless_equals_int (m->present, 0);
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Odd size 321×241 in every format: RGB gives face-api's result, the other
 * packed RGB formats exactly the RGB result, the YUV ones (lossy) a close
 * one. */
GST_START_TEST (test_formats_odd_size)
{
  static const GstVideoFormat formats[]
      = { GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_BGR, GST_VIDEO_FORMAT_RGBA,
          GST_VIDEO_FORMAT_BGRA, GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_BGRx,
          GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12 };
  Golden *g = need_models ("test_formats_odd_size");
  /* this region holds the expression and descriptor crops of golden face
   * 0 entirely, so the RGB result is face-api's */
  const int x0 = 320, y0 = 380, w = 321, hgt = 241;
  gfloat ref_exp[N_FEAT], ref_img[N_FEAT];
  guint f;

  if (g == NULL)
    return;

  for (f = 0; f < G_N_ELEMENTS (formats); f++) {
    const gchar *name = gst_video_format_to_string (formats[f]);
    gchar *caps = g_strdup_printf (
        "video/x-raw,format=%s,width=%d,height=%d,framerate=25/1", name, w,
        hgt);
    /* under valgrind only RGB runs the costly image branch */
    gboolean img_too = f == 0 || g_getenv ("AFFECT_UNDER_VALGRIND") == NULL;
    GstHarness *h
        = make_harness (caps, img_too ? "image+expression" : "expression");
    GstBuffer *buf = make_frame (g, x0, y0, w, hgt, formats[f]);
    const gfloat *e, *im;

    add_face (buf, &g->faces[0], 1, x0, y0, TRUE);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    buf = pull (h);
    e = branch_of (buf, 1, GST_AFFECT_BRANCH_EXPRESSION);
    im = branch_of (buf, 1, GST_AFFECT_BRANCH_IMAGE);
    fail_unless (
        e != NULL && (im != NULL || !img_too), "%s: branches missing", name);
    if (im == NULL)
      im = ref_img;
    if (f == 0) {
      fail_unless (
          cosine (e, g->faces[0].expression_feature, N_FEAT) >= 0.99999);
      fail_unless (
          cosine (im, g->faces[0].recognition_feature, N_FEAT) >= 0.99999);
      memcpy (ref_exp, e, sizeof (ref_exp));
      memcpy (ref_img, im, sizeof (ref_img));
    } else if (!GST_VIDEO_FORMAT_INFO_IS_YUV (
                   gst_video_format_get_info (formats[f]))) {
      fail_unless (memcmp (ref_exp, e, sizeof (ref_exp)) == 0,
          "%s: f_exp differs from RGB", name);
      fail_unless (memcmp (ref_img, im, sizeof (ref_img)) == 0,
          "%s: f_img differs from RGB", name);
    } else {
      gdouble ce = cosine (ref_exp, e, N_FEAT);
      gdouble ci = cosine (ref_img, im, N_FEAT);

      GST_INFO ("%s: cosine to RGB: %f %f", name, ce, ci);
      fail_unless (
          ce > 0.95 && ci > 0.95, "%s: cosine to RGB %f %f", name, ce, ci);
    }
    gst_buffer_unref (buf);
    gst_harness_teardown (h);
    g_free (caps);
  }
}

GST_END_TEST;

/* branches and n-threads changed while PLAYING take effect on the next
 * frame; a network not loaded at start is loaded then. */
GST_START_TEST (test_properties_while_playing)
{
  static const struct {
    const gchar *branches;
    gint threads;
    gboolean exp, img;
  } steps[] = {
    { "expression", 1, TRUE, FALSE },
    { "none", 2, FALSE, FALSE },
    { "image", 1, FALSE, TRUE },
    { "image+expression", 0, TRUE, TRUE },
    { "expression+speech", 2, TRUE, FALSE },
  };
  Golden *g = need_models ("test_properties_while_playing");
  GstHarness *h;
  gchar *caps;
  guint s;

  if (g == NULL)
    return;

  caps = full_caps (g);
  h = make_harness (caps, "expression");
  g_free (caps);

  for (s = 0; s < G_N_ELEMENTS (steps); s++) {
    GstBuffer *buf
        = make_frame (g, 0, 0, g->width, g->height, GST_VIDEO_FORMAT_RGB);
    GstAffectFeaturesMeta *m;

    gst_util_set_object_arg (
        G_OBJECT (h->element), "branches", steps[s].branches);
    g_object_set (h->element, "n-threads", steps[s].threads, NULL);
    add_face (buf, &g->faces[1], 7, 0, 0, TRUE);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    buf = pull (h);
    m = gst_buffer_get_affect_features_meta_by_track (buf, 7);
    if (!steps[s].exp && !steps[s].img) {
      fail_unless (m == NULL, "step %u: features without branches", s);
    } else {
      fail_unless (m != NULL);
      fail_unless_equals_int (
          (m->present & GST_AFFECT_MODALITY_EXPRESSION) != 0, steps[s].exp);
      fail_unless_equals_int (
          (m->present & GST_AFFECT_MODALITY_IMAGE) != 0, steps[s].img);
      fail_unless_equals_int (
          m->present & (GST_AFFECT_MODALITY_SPEECH | GST_AFFECT_MODALITY_WORDS),
          0);
      if (steps[s].exp)
        fail_unless (cosine (branch_of (buf, 7, GST_AFFECT_BRANCH_EXPRESSION),
                         g->faces[1].expression_feature, N_FEAT)
                     >= 0.99999);
    }
    gst_buffer_unref (buf);
  }

  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
affectfeatures_suite (void)
{
  Suite *s = suite_create ("affectfeatures");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_caps_and_event_order);
  tcase_add_test (tc, test_segment_forwarded);
  tcase_add_test (tc, test_latency_live);
  tcase_add_test (tc, test_pipeline_eos);
  tcase_add_test (tc, test_flush);
  tcase_add_test (tc, test_errors);
  tcase_add_test (tc, test_golden_parity);
  tcase_add_test (tc, test_many_faces);
  tcase_add_test (tc, test_face_outside);
  tcase_add_test (tc, test_formats_odd_size);
  tcase_add_test (tc, test_properties_while_playing);
  return s;
}

GST_CHECK_MAIN (affectfeatures);
