/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* Tests of the affectfuse element (expression baseline): passthrough and
 * event order, the probabilities against the original face-api (golden
 * fixtures), relabelling to the ABAW classes, absent tasks, smoothing with
 * its resets, property changes while playing, and the small pipeline
 * appsrc ! affectfeatures ! affectfuse ! appsink.
 *
 * Every test that starts the element needs face_expression_model (its head
 * is read at start); those are skipped with a message when the weights are
 * missing, unless AFFECT_REQUIRE_MODELS=1 (then they fail). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <gst/affect/affectmeta.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

#include "affect-check.h"
#include "affect-fusion.h"
#include "affect-image.h"
#include "affect-modelpath.h"
#include "affect-safetensors.h"

#define N_FEAT 256
#define N_EXPR 7
#define CAPS_STR "video/x-raw,format=RGB,width=321,height=241,framerate=30/1"

/* face-api class of each ABAW class (Neutral, Anger, Disgust, Fear,
 * Happiness, Sadness, Surprise); face-api order: neutral, happy, sad,
 * angry, fearful, disgusted, surprised */
static const guint faceapi_index[N_EXPR] = { 0, 3, 5, 4, 1, 2, 6 };

/* The 321×241 region of sample1 used by the pipeline test: it holds the
 * expression and descriptor crops of golden face 0 entirely. */
#define REGION_X 320
#define REGION_Y 380
#define REGION_W 321
#define REGION_H 241

/* ------------------------------------------------------------------ */
/* Test data                                                           */
/* ------------------------------------------------------------------ */

typedef struct {
  gfloat box[4];
  gfloat landmarks[GST_AFFECT_N_LANDMARKS][2];
  gfloat expression_feature[N_FEAT];
  gfloat expression[N_EXPR]; /* face-api order */
} GoldenFace;

typedef struct {
  guint8 *rgb;
  int width, height;
  guint n_faces;
  GoldenFace faces[8];
} Golden;

static gboolean data_tried = FALSE;
static Golden *golden = NULL;
static gchar *missing = NULL;

static void
read_floats (JsonArray *arr, gfloat *out, guint n)
{
  guint i;

  fail_unless (json_array_get_length (arr) == n);
  for (i = 0; i < n; i++)
    out[i] = (gfloat)json_array_get_double_element (arr, i);
}

static Golden *
golden_load (GString *why, gboolean need_png)
{
  const gchar *srcdir = g_getenv ("AFFECT_TEST_SRCDIR");
  gchar *json_path, *cache, *png, *model;
  JsonParser *parser;
  JsonArray *faces, *ssd;
  JsonObject *root;
  GError *err = NULL;
  Golden *g;
  guint i, j;

  model = affect_model_find ("face_expression_model", NULL, &err);
  if (model == NULL) {
    g_string_append_printf (why, "%s; ", err->message);
    g_clear_error (&err);
  }
  g_free (model);
  if (need_png) {
    model = affect_model_find ("face_recognition_model", NULL, &err);
    if (model == NULL) {
      g_string_append_printf (why, "%s; ", err->message);
      g_clear_error (&err);
    }
    g_free (model);
  }
  cache = affect_cache_dir ();
  png = g_build_filename (cache, "test-inputs", "sample1.png", NULL);
  g_free (cache);
  json_path = g_build_filename (
      srcdir ? srcdir : "tests", "golden", "face-api", "sample1.json", NULL);
  if (need_png && !g_file_test (png, G_FILE_TEST_EXISTS))
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
  if (need_png)
    fail_unless (
        affect_image_load_png (png, &g->rgb, &g->width, &g->height, &err),
        "cannot read %s: %s", png, err ? err->message : "?");
  parser = json_parser_new ();
  fail_unless (json_parser_load_from_file (parser, json_path, &err),
      "cannot parse %s", json_path);
  root = json_node_get_object (json_parser_get_root (parser));
  faces = json_object_get_array_member (root, "faces");
  ssd = json_object_get_array_member (root, "ssd");
  g->n_faces = MIN (json_array_get_length (faces), G_N_ELEMENTS (g->faces));
  for (i = 0; i < g->n_faces; i++) {
    JsonObject *f = json_array_get_object_element (faces, i);
    JsonArray *lm = json_object_get_array_member (f, "landmarks");
    GoldenFace *gf = &g->faces[i];

    read_floats (json_object_get_array_member (
                     json_array_get_object_element (ssd, i), "box"),
        gf->box, 4);
    for (j = 0; j < GST_AFFECT_N_LANDMARKS; j++)
      read_floats (json_array_get_array_element (lm, j), gf->landmarks[j], 2);
    read_floats (json_object_get_array_member (f, "expression_feature"),
        gf->expression_feature, N_FEAT);
    read_floats (
        json_object_get_array_member (f, "expression"), gf->expression, N_EXPR);
  }
  g_object_unref (parser);
  g_free (png);
  g_free (json_path);
  return g;
}

/* The models and fixtures (with the PNG and the recognition weights when
 * @full), or NULL after printing why the test is skipped. */
static Golden *
need_models (const gchar *test, gboolean full)
{
  static Golden *partial = NULL;
  static gboolean partial_tried = FALSE;
  static gchar *partial_missing = NULL;
  Golden **slot = full ? &golden : &partial;
  gboolean *tried = full ? &data_tried : &partial_tried;
  gchar **why_slot = full ? &missing : &partial_missing;

  if (!*tried) {
    GString *why = g_string_new (NULL);

    *tried = TRUE;
    *slot = golden_load (why, full);
    *why_slot = g_string_free (why, *slot != NULL);
  }
  if (*slot == NULL) {
    fail_if (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") == 0,
        "%s: models or test inputs missing: %s", test, *why_slot);
    g_print ("SKIP %s: models or test inputs missing (fetch them with "
             "affect-fetch-models and tests/golden/face-api/prepare.sh): "
             "%s\n",
        test, *why_slot);
  }
  return *slot;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static GstHarness *
make_harness (const gchar *caps)
{
  GstElement *e = gst_element_factory_make ("affectfuse", NULL);
  GstHarness *h;

  fail_unless (e != NULL, "affectfuse not found");
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_set_src_caps_str (h, caps);
  return h;
}

static GstBuffer *
new_frame (guint i)
{
  gsize size = 964 * 241;
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);

  gst_buffer_memset (buf, 0, (guint8)(i * 7), size);
  GST_BUFFER_PTS (buf) = i * GST_SECOND / 30;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

/* A face meta and a features meta with @f_exp (nullable) for @track. */
static void
add_face_features (GstBuffer *buf, guint track, const gfloat *f_exp)
{
  GstAffectFeaturesMeta *m;
  gfloat img[N_FEAT];
  guint i;

  fail_unless (
      gst_buffer_add_affect_face_meta (buf, track, 10 + track, 20, 50, 60, 0.9f)
      != NULL);
  m = gst_buffer_add_affect_features_meta (buf, track);
  for (i = 0; i < N_FEAT; i++)
    img[i] = (gfloat)i;
  gst_affect_features_meta_set (m, GST_AFFECT_BRANCH_IMAGE, img, N_FEAT);
  if (f_exp)
    gst_affect_features_meta_set (
        m, GST_AFFECT_BRANCH_EXPRESSION, f_exp, N_FEAT);
}

/* A deterministic pseudo-feature vector (non-negative, like a pooled relu
 * output). */
static void
synthetic_feature (guint seed, gfloat *f)
{
  guint i;
  guint32 x = 2166136261u ^ seed;

  for (i = 0; i < N_FEAT; i++) {
    x = x * 1664525u + 1013904223u;
    f[i] = (gfloat)((x >> 8) % 1000) / 250.0f;
  }
}

static const GstAffectPredictions *
predictions_of (GstBuffer *buf, guint track)
{
  GstAffectPredictionsMeta *m
      = gst_buffer_get_affect_predictions_meta_by_track (buf, track);

  return m ? &m->predictions : NULL;
}

/* Checks the structure of an expression-baseline prediction. */
static void
check_baseline (const GstAffectPredictions *p)
{
  const gchar *const *labels = gst_affect_abaw_expression_labels (NULL);
  gfloat sum = 0;
  guint i;
  gint best = 0;

  fail_unless (p != NULL);
  fail_unless_equals_int (p->tasks, GST_AFFECT_TASK_EXPRESSION);
  fail_unless_equals_int (p->modalities, GST_AFFECT_MODALITY_EXPRESSION);
  fail_unless_equals_int (p->n_au, 0);
  fail_unless_equals_int (p->n_expr, N_EXPR);
  for (i = 0; i < N_EXPR; i++) {
    fail_unless_equals_string (p->expr_labels[i], labels[i]);
    fail_unless (p->expr[i] >= 0 && p->expr[i] <= 1);
    sum += p->expr[i];
    if (p->expr[i] > p->expr[best])
      best = i;
  }
  fail_unless (fabsf (sum - 1.0f) < 1e-5f, "probabilities sum to %f", sum);
  fail_unless_equals_int (p->expr_index, best);
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_properties)
{
  GstElement *e = gst_element_factory_make ("affectfuse", NULL);
  GParamSpec *pspec;
  gchar *loc = NULL;
  gdouble s;

  fail_unless (e != NULL);
  g_object_get (e, "model-location", &loc, "smoothing", &s, NULL);
  fail_unless (loc == NULL);
  fail_unless_equals_float (s, 0.0);
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "smoothing");
  fail_unless_equals_float (G_PARAM_SPEC_DOUBLE (pspec)->minimum, 0.0);
  fail_unless_equals_float (G_PARAM_SPEC_DOUBLE (pspec)->maximum, 1.0);
  fail_unless (pspec->flags & GST_PARAM_MUTABLE_PLAYING);
  /* the fusion network: off by default, centred window */
  {
    gchar *model = NULL, *features = NULL;
    gint mode = -1;

    g_object_get (
        e, "model", &model, "mode", &mode, "features", &features, NULL);
    fail_unless (model == NULL);
    fail_unless_equals_int (mode, 0);
    fail_unless (features != NULL && strstr (features, "exp=") != NULL);
    g_free (features);
    pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "model");
    fail_unless (pspec->flags & GST_PARAM_MUTABLE_READY);
    pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "mode");
    fail_unless (pspec->flags & GST_PARAM_MUTABLE_READY);
  }
  gst_object_unref (e);
}

GST_END_TEST;

GST_START_TEST (test_missing_model)
{
  GstElement *e = gst_element_factory_make ("affectfuse", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;

  g_object_set (e, "model-location", "/nonexistent/gst-affect", NULL);
  gst_element_set_bus (e, bus);
  fail_unless_equals_int (
      gst_element_set_state (e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (
      g_error_matches (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND));
  fail_unless (strstr (err->message, "affect-fetch-models") != NULL);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

GST_END_TEST;

/* Video untouched, caps passed through, events in order; frames without
 * faces or without f_exp get no predictions. */
GST_START_TEST (test_passthrough_and_events)
{
  GstHarness *h;
  GstEvent *ev;
  GstCaps *caps, *expected;
  gfloat f[N_FEAT];
  guint i;

  if (!need_models ("test_passthrough_and_events", FALSE))
    return;

  h = make_harness (CAPS_STR);
  synthetic_feature (1, f);
  for (i = 0; i < 4; i++) {
    GstBuffer *buf = new_frame (i), *out;
    GstMapInfo map;

    if (i == 1)
      add_face_features (buf, 3, NULL); /* a face without f_exp */
    if (i == 2)
      add_face_features (buf, 4, f);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    out = gst_harness_pull (h);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * GST_SECOND / 30);
    fail_unless (gst_buffer_map (out, &map, GST_MAP_READ));
    fail_unless_equals_int (map.size, 964 * 241);
    fail_unless_equals_int (map.data[100], (guint8)(i * 7));
    gst_buffer_unmap (out, &map);
    if (i == 2) {
      check_baseline (predictions_of (out, 4));
    } else {
      gpointer state = NULL;

      fail_unless (
          gst_buffer_iterate_affect_predictions_meta (out, &state) == NULL);
    }
    gst_buffer_unref (out);
  }

  caps = gst_pad_get_current_caps (h->sinkpad);
  expected = gst_caps_from_string (CAPS_STR);
  fail_unless (gst_caps_is_equal (caps, expected));
  gst_caps_unref (caps);
  gst_caps_unref (expected);

  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  {
    const GstEventType order[] = { GST_EVENT_STREAM_START, GST_EVENT_CAPS,
      GST_EVENT_SEGMENT, GST_EVENT_EOS };

    for (i = 0; i < G_N_ELEMENTS (order); i++) {
      ev = gst_harness_pull_event (h);
      fail_unless_equals_string (
          GST_EVENT_TYPE_NAME (ev), gst_event_type_get_name (order[i]));
      gst_event_unref (ev);
    }
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The head on face-api's expression features gives face-api's
 * probabilities, relabelled to the ABAW classes. Many faces per frame,
 * odd size and a YUV format (the element does not look at pixels). */
GST_START_TEST (test_golden_probabilities)
{
  Golden *g = need_models ("test_golden_probabilities", FALSE);
  GstHarness *h;
  GstBuffer *buf;
  guint i, k;

  if (g == NULL)
    return;

  h = make_harness ("video/x-raw,format=I420,width=321,height=241");
  buf = gst_buffer_new_allocate (NULL, 321 * 241 * 2, NULL);
  /* each golden face three times under different tracks */
  for (k = 0; k < 3; k++)
    for (i = 0; i < g->n_faces; i++)
      add_face_features (buf, 10 * k + i, g->faces[i].expression_feature);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  buf = gst_harness_pull (h);

  for (k = 0; k < 3; k++) {
    for (i = 0; i < g->n_faces; i++) {
      const GstAffectPredictions *p = predictions_of (buf, 10 * k + i);
      guint c;

      check_baseline (p);
      for (c = 0; c < N_EXPR; c++) {
        gfloat want = g->faces[i].expression[faceapi_index[c]];

        fail_unless (fabsf (p->expr[c] - want) <= 1e-4f,
            "face %u %s: %g, face-api %g", i, p->expr_labels[c], p->expr[c],
            want);
      }
    }
  }
  /* sample1: happy, sad, happy */
  fail_unless_equals_string (
      predictions_of (buf, 0)->expr_labels[predictions_of (buf, 0)->expr_index],
      "Happiness");
  fail_unless_equals_string (
      predictions_of (buf, 1)->expr_labels[predictions_of (buf, 1)->expr_index],
      "Sadness");

  /* mirrored into the face's ROI meta */
  {
    GstAffectFaceMeta *face = gst_buffer_get_affect_face_meta_by_track (buf, 1);
    GstVideoRegionOfInterestMeta *roi;

    fail_unless (face != NULL && face->roi_id >= 0);
    roi = gst_buffer_get_video_region_of_interest_meta_id (buf, face->roi_id);
    fail_unless (roi != NULL);
    fail_unless (gst_video_region_of_interest_meta_get_param (
                     roi, GST_AFFECT_ROI_PARAM_NAME)
                 != NULL);
  }

  gst_buffer_unref (buf);
  gst_harness_teardown (h);
}

GST_END_TEST;

static void
push_pull_probs (
    GstHarness *h, guint frame, guint track, const gfloat *f, gfloat *probs)
{
  GstBuffer *buf = new_frame (frame);
  const GstAffectPredictions *p;

  if (f)
    add_face_features (buf, track, f);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  buf = gst_harness_pull (h);
  p = predictions_of (buf, track);
  if (f) {
    check_baseline (p);
    memcpy (probs, p->expr, N_EXPR * sizeof (gfloat));
  } else {
    fail_unless (p == NULL);
  }
  gst_buffer_unref (buf);
}

static void
assert_probs (const gfloat *got, const gfloat *want, const gchar *what)
{
  guint c;

  for (c = 0; c < N_EXPR; c++)
    fail_unless (fabsf (got[c] - want[c]) < 1e-6f, "%s: class %u: %g vs %g",
        what, c, got[c], want[c]);
}

/* Smoothing: the moving average, its reset on flush and when a track
 * disappears, and changes of the factor while playing. */
GST_START_TEST (test_smoothing)
{
  GstHarness *h;
  gfloat fa[N_FEAT], fb[N_FEAT];
  gfloat pa[N_EXPR], pb[N_EXPR], got[N_EXPR], want[N_EXPR];
  guint c, frame = 0;

  if (!need_models ("test_smoothing", FALSE))
    return;

  h = make_harness (CAPS_STR);
  synthetic_feature (11, fa);
  synthetic_feature (12, fb);

  /* raw probabilities (smoothing off, the default) */
  push_pull_probs (h, frame++, 1, fa, pa);
  push_pull_probs (h, frame++, 1, fb, pb);
  {
    gfloat diff = 0;

    for (c = 0; c < N_EXPR; c++)
      diff = MAX (diff, fabsf (pa[c] - pb[c]));
    fail_unless (diff > 1e-3f, "the two test vectors give the same output");
  }

  /* on: s = 0.75 while playing */
  g_object_set (h->element, "smoothing", 0.75, NULL);
  push_pull_probs (h, frame++, 1, fa, got);
  /* the state holds pb (the last output), so: 0.75 pb + 0.25 pa */
  for (c = 0; c < N_EXPR; c++)
    want[c] = 0.75f * pb[c] + 0.25f * pa[c];
  assert_probs (got, want, "first smoothed frame");
  push_pull_probs (h, frame++, 1, fa, got);
  for (c = 0; c < N_EXPR; c++)
    want[c] = 0.75f * want[c] + 0.25f * pa[c];
  assert_probs (got, want, "second smoothed frame");

  /* another track starts from its own raw value */
  push_pull_probs (h, frame++, 2, fb, got);
  assert_probs (got, pb, "new track");

  /* track 1 was absent on the previous frame: its state is gone */
  push_pull_probs (h, frame++, 1, fb, got);
  assert_probs (got, pb, "track after a gap");

  /* flush resets */
  push_pull_probs (h, frame++, 1, fa, got);
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  {
    GstSegment seg;

    gst_segment_init (&seg, GST_FORMAT_TIME);
    fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  }
  push_pull_probs (h, frame++, 1, fb, got);
  assert_probs (got, pb, "after flush");

  /* a frame without the track (no face at all) drops it too */
  push_pull_probs (h, frame++, 1, NULL, got);
  push_pull_probs (h, frame++, 1, fa, got);
  assert_probs (got, pa, "after a frame without faces");

  /* off again while playing */
  g_object_set (h->element, "smoothing", 0.0, NULL);
  push_pull_probs (h, frame++, 1, fb, got);
  assert_probs (got, pb, "smoothing off");

  gst_harness_teardown (h);
}

GST_END_TEST;

/* appsrc ! affectfeatures ! affectfuse ! appsink, 30 frames of a 321×241
 * region of sample1 around face 0: every frame comes out in order with
 * face-api's expression probabilities. */
GST_START_TEST (test_pipeline)
{
  Golden *g = need_models ("test_pipeline", TRUE);
  const GoldenFace *face;
  GstElement *pipeline, *src, *sink;
  GstVideoInfo info;
  GError *err = NULL;
  gboolean under_valgrind = g_getenv ("AFFECT_UNDER_VALGRIND") != NULL;
  GstFlowReturn flow = GST_FLOW_OK;
  GstMessage *msg;
  GstBus *bus;
  guint i, n_out = 0;

  if (g == NULL)
    return;
  if (!affect_check_load_system_plugin ("libgstapp.so")) {
    g_print ("SKIP test_pipeline: appsrc/appsink not found (set "
             "AFFECT_TEST_SYSTEM_PLUGIN_DIR)\n");
    return;
  }
  face = &g->faces[0];

  /* both visual branches are asked for explicitly (the baseline alone
   * would ask affectfeatures for the expression branch only): the image
   * feature must pass affectfuse untouched. Under valgrind the image
   * branch (the costly ResNet, irrelevant to the baseline and covered by
   * the affectfeatures tests) is left out. */
  pipeline = gst_parse_launch ("appsrc name=src format=time caps=\"" CAPS_STR
                               "\" ! affectfeatures name=features "
                               "branches=image+expression ! "
                               "affectfuse ! appsink name=sink sync=false",
      &err);
  fail_unless (pipeline != NULL, "%s", err ? err->message : "?");
  if (under_valgrind) {
    GstElement *features = gst_bin_get_by_name (GST_BIN (pipeline), "features");

    gst_util_set_object_arg (G_OBJECT (features), "branches", "expression");
    g_object_set (features, "n-threads", 1, NULL);
    gst_object_unref (features);
  }
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING)
               != GST_STATE_CHANGE_FAILURE);

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, REGION_W, REGION_H);
  for (i = 0; i < 30; i++) {
    GstBuffer *buf
        = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
    GstAffectFaceMeta *meta;
    GstVideoFrame frame;
    gfloat pts[GST_AFFECT_N_LANDMARKS * 2];
    int r, k;

    fail_unless (gst_video_frame_map (&frame, &info, buf, GST_MAP_WRITE));
    for (r = 0; r < REGION_H; r++)
      memcpy ((guint8 *)GST_VIDEO_FRAME_PLANE_DATA (&frame, 0)
                  + (gsize)r * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0),
          g->rgb + ((gsize)(REGION_Y + r) * g->width + REGION_X) * 3,
          REGION_W * 3);
    gst_video_frame_unmap (&frame);
    GST_BUFFER_PTS (buf) = i * GST_SECOND / 30;
    GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
    meta = gst_buffer_add_affect_face_meta (buf, 1, face->box[0] - REGION_X,
        face->box[1] - REGION_Y, face->box[2], face->box[3], 0.99f);
    for (k = 0; k < GST_AFFECT_N_LANDMARKS; k++) {
      pts[2 * k] = face->landmarks[k][0] - REGION_X;
      pts[2 * k + 1] = face->landmarks[k][1] - REGION_Y;
    }
    gst_affect_face_meta_set_landmarks (meta, pts, GST_AFFECT_N_LANDMARKS);
    g_signal_emit_by_name (src, "push-buffer", buf, &flow);
    gst_buffer_unref (buf);
    fail_unless_equals_int (flow, GST_FLOW_OK);
  }
  g_signal_emit_by_name (src, "end-of-stream", &flow);
  fail_unless_equals_int (flow, GST_FLOW_OK);

  for (;;) {
    GstSample *sample = NULL;
    GstBuffer *out;
    const GstAffectPredictions *p;
    GstAffectFeaturesMeta *fm;
    guint c;

    g_signal_emit_by_name (sink, "pull-sample", &sample);
    if (sample == NULL)
      break;
    out = gst_sample_get_buffer (sample);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), n_out * GST_SECOND / 30);
    fm = gst_buffer_get_affect_features_meta_by_track (out, 1);
    fail_unless (fm != NULL);
    fail_unless_equals_int (fm->present,
        under_valgrind
            ? GST_AFFECT_MODALITY_EXPRESSION
            : (GST_AFFECT_MODALITY_IMAGE | GST_AFFECT_MODALITY_EXPRESSION));
    p = predictions_of (out, 1);
    check_baseline (p);
    for (c = 0; c < N_EXPR; c++)
      fail_unless (
          fabsf (p->expr[c] - face->expression[faceapi_index[c]]) <= 1e-4f,
          "frame %u %s: %g", n_out, p->expr_labels[c], p->expr[c]);
    gst_sample_unref (sample);
    n_out++;
  }
  fail_unless_equals_int (n_out, 30);

  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (
      bus, 600 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_object_unref (bus);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Fusion network (model property)                                    */
/* ------------------------------------------------------------------ */

/* tests/golden/fusion/model-all.safetensors: d_img 10, d_exp 7, d_spe 5,
 * d_wrd 9, clip_len 6, tasks au, expr (8 classes), va. */
#define FUSION_FEATURES "golden-test-features"
#define FN_FRAMES 10
#define FN_TRACKS 3
#define FCAPS "video/x-raw,format=GRAY8,width=4,height=2,framerate=30/1"

static gchar *
fusion_model_path (const gchar *config)
{
  const gchar *srcdir = g_getenv ("AFFECT_TEST_SRCDIR");
  gchar *name = g_strdup_printf ("model-%s.safetensors", config);
  gchar *path;

  fail_unless (srcdir != NULL, "AFFECT_TEST_SRCDIR not set");
  path = g_build_filename (srcdir, "golden", "fusion", name, NULL);
  g_free (name);
  fail_unless (g_file_test (path, G_FILE_TEST_IS_REGULAR), "%s missing", path);
  return path;
}

/* The synthetic stream: which track has which branch on which frame.
 * Track 1: every frame, image and expression always, speech when
 * f % 3 != 0, no words, no image on frame 5. Track 2: even frames, image
 * and words. Track 3: from frame 4, image only (every clip branch absent). */
static gboolean
fn_has_track (guint f, guint track)
{
  switch (track) {
    case 1:
      return TRUE;
    case 2:
      return f % 2 == 0;
    default:
      return f >= 4;
  }
}

static gboolean
fn_has_branch (guint f, guint track, GstAffectBranch b)
{
  if (!fn_has_track (f, track))
    return FALSE;
  switch (b) {
    case GST_AFFECT_BRANCH_IMAGE:
      return !(track == 1 && f == 5);
    case GST_AFFECT_BRANCH_EXPRESSION:
      return track == 1;
    case GST_AFFECT_BRANCH_SPEECH:
      return track == 1 && f % 3 != 0;
    case GST_AFFECT_BRANCH_WORDS:
      return track == 2;
    default:
      return FALSE;
  }
}

/* Deterministic values in [-1, 1) for frame @f, track, branch. */
static void
fn_vector (guint f, guint track, GstAffectBranch b, gfloat *v, guint n)
{
  guint32 x = 2166136261u ^ (f * 7919u + track * 104729u + b * 15485863u);
  guint i;

  for (i = 0; i < n; i++) {
    x = x * 1664525u + 1013904223u;
    v[i] = (gfloat)((x >> 8) % 2000) / 1000.0f - 1.0f;
  }
}

static GstBuffer *
fn_frame (const AffectFusionInfo *info, guint f)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 8, NULL);
  const guint dims[GST_AFFECT_N_BRANCHES]
      = { info->d_img, info->d_branch[AFFECT_FUSION_BRANCH_EXP],
          info->d_branch[AFFECT_FUSION_BRANCH_SPE],
          info->d_branch[AFFECT_FUSION_BRANCH_WRD] };
  guint track, b;

  gst_buffer_memset (buf, 0, (guint8)f, 8);
  GST_BUFFER_PTS (buf) = f * GST_SECOND / 30;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  for (track = 1; track <= FN_TRACKS; track++) {
    GstAffectFeaturesMeta *m;

    if (!fn_has_track (f, track))
      continue;
    m = gst_buffer_add_affect_features_meta (buf, track);
    for (b = 0; b < GST_AFFECT_N_BRANCHES; b++) {
      gfloat v[256];

      if (!fn_has_branch (f, track, b))
        continue;
      fn_vector (f, track, b, v, dims[b]);
      gst_affect_features_meta_set (m, b, v, dims[b]);
    }
  }
  return buf;
}

/* The prediction for @track on frame @p, computed directly with
 * affect_fusion_run() on a window built here: frames [start, start + T),
 * the frames outside [0, n_frames) and the frames without the branch as
 * zeros, a branch present when any frame has it; @mods gets the
 * modalities. */
static void
fn_expected (AffectFusion *fusion, gboolean centred, guint n_frames, guint p,
    guint track, gfloat *au, gfloat *expr, gfloat *va,
    GstAffectModalities *mods)
{
  const AffectFusionInfo *info = affect_fusion_get_info (fusion);
  const gint t = info->clip_len;
  const GstAffectBranch br[3] = { GST_AFFECT_BRANCH_EXPRESSION,
    GST_AFFECT_BRANCH_SPEECH, GST_AFFECT_BRANCH_WORDS };
  const GstAffectModalities md[3] = { GST_AFFECT_MODALITY_EXPRESSION,
    GST_AFFECT_MODALITY_SPEECH, GST_AFFECT_MODALITY_WORDS };
  gint start = centred ? (gint)p - t / 2 : (gint)p - t + 1;
  gfloat *img = g_new0 (gfloat, info->d_img);
  gfloat *x[3];
  guint8 present[3] = { 0, 0, 0 };
  GError *err = NULL;
  gint k, m;

  fn_vector (p, track, GST_AFFECT_BRANCH_IMAGE, img, info->d_img);
  *mods = GST_AFFECT_MODALITY_IMAGE;
  for (m = 0; m < 3; m++) {
    gint d = info->d_branch[m];

    x[m] = g_new0 (gfloat, t * d);
    for (k = 0; k < t; k++) {
      gint f = start + k;

      if (f < 0 || f >= (gint)n_frames || !fn_has_branch (f, track, br[m]))
        continue;
      fn_vector (f, track, br[m], x[m] + k * d, d);
      present[m] = 1;
      *mods |= md[m];
    }
  }
  fail_unless (affect_fusion_run (fusion, 1, t, img, x[0], x[1], x[2], present,
                   au, expr, va, &err),
      "%s", err ? err->message : "?");
  g_free (img);
  for (m = 0; m < 3; m++)
    g_free (x[m]);
}

/* Checks the predictions of every track of frame @p against fn_expected. */
static void
fn_check_frame (AffectFusion *fusion, gboolean centred, guint n_frames,
    GstBuffer *buf, guint p)
{
  const AffectFusionInfo *info = affect_fusion_get_info (fusion);
  guint track, i;

  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), p * GST_SECOND / 30);
  for (track = 1; track <= FN_TRACKS; track++) {
    const GstAffectPredictions *pr = predictions_of (buf, track);
    gfloat au[AFFECT_FUSION_N_AU], expr[16], va[2];
    GstAffectModalities mods;

    if (!fn_has_branch (p, track, GST_AFFECT_BRANCH_IMAGE)) {
      /* no image feature on this frame: no prediction */
      fail_unless (pr == NULL, "frame %u track %u predicted", p, track);
      continue;
    }
    fail_unless (pr != NULL, "frame %u track %u: no predictions", p, track);
    fn_expected (fusion, centred, n_frames, p, track, au, expr, va, &mods);
    fail_unless_equals_int (pr->tasks,
        GST_AFFECT_TASK_AU | GST_AFFECT_TASK_EXPRESSION | GST_AFFECT_TASK_VA);
    fail_unless_equals_int (pr->modalities, mods);
    fail_unless_equals_int (pr->n_au, AFFECT_FUSION_N_AU);
    for (i = 0; i < AFFECT_FUSION_N_AU; i++) {
      fail_unless_equals_string (pr->au_labels[i], info->au_labels[i]);
      fail_unless (fabsf (pr->au[i] - au[i]) <= 1e-6f,
          "frame %u track %u au %u: %g vs %g", p, track, i, pr->au[i], au[i]);
    }
    fail_unless_equals_int (pr->n_expr, info->n_out[AFFECT_FUSION_TASK_EXPR]);
    for (i = 0; i < pr->n_expr; i++) {
      fail_unless_equals_string (pr->expr_labels[i], info->expr_labels[i]);
      fail_unless (fabsf (pr->expr[i] - expr[i]) <= 1e-6f,
          "frame %u track %u expr %u: %g vs %g", p, track, i, pr->expr[i],
          expr[i]);
    }
    fail_unless (fabsf (pr->valence - va[0]) <= 1e-6f);
    fail_unless (fabsf (pr->arousal - va[1]) <= 1e-6f);
  }
}

static GstHarness *
fn_harness (const gchar *model, const gchar *mode)
{
  GstElement *e = gst_element_factory_make ("affectfuse", NULL);
  GstHarness *h;

  fail_unless (e != NULL);
  gst_util_set_object_arg (G_OBJECT (e), "mode", mode);
  g_object_set (e, "model", model, "features", FUSION_FEATURES, NULL);
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_set_src_caps_str (h, FCAPS);
  return h;
}

/* Centred window (T = 6, centre 3): two frames held back, reported as
 * latency; the buffers come out in order with the predictions of the
 * window around them; EOS drains the held ones with the later frames
 * absent. A flush drops held buffers and windows. */
GST_START_TEST (test_fusion_centred)
{
  gchar *path = fusion_model_path ("all");
  AffectFusion *fusion = affect_fusion_load (path, NULL);
  const AffectFusionInfo *info;
  GstHarness *h;
  GstBuffer *buf;
  guint f;

  fail_unless (fusion != NULL);
  info = affect_fusion_get_info (fusion);
  fail_unless_equals_int (info->clip_len, 6);
  h = fn_harness (path, "centred");

  fail_unless_equals_uint64 (gst_harness_query_latency (h),
      2 * gst_util_uint64_scale_int (GST_SECOND, 1, 30));

  for (f = 0; f < FN_FRAMES; f++) {
    fail_unless_equals_int (
        gst_harness_push (h, fn_frame (info, f)), GST_FLOW_OK);
    /* frame f - 2 is out once frame f is in */
    fail_unless_equals_int (
        gst_harness_buffers_received (h), f < 2 ? 0 : f - 1);
  }
  for (f = 0; f < FN_FRAMES - 2; f++) {
    buf = gst_harness_pull (h);
    fn_check_frame (fusion, TRUE, FN_FRAMES, buf, f);
    gst_buffer_unref (buf);
  }
  fail_unless (gst_harness_try_pull (h) == NULL);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_buffers_received (h), FN_FRAMES);
  for (f = FN_FRAMES - 2; f < FN_FRAMES; f++) {
    buf = gst_harness_pull (h);
    fn_check_frame (fusion, TRUE, FN_FRAMES, buf, f);
    gst_buffer_unref (buf);
  }

  /* flush: the held frames are dropped and a new window starts */
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_harness_set_src_caps_str (h, FCAPS);
  for (f = 0; f < 2; f++)
    fail_unless_equals_int (
        gst_harness_push (h, fn_frame (info, f)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_harness_set_src_caps_str (h, FCAPS);
  fail_unless_equals_int (gst_harness_buffers_received (h), FN_FRAMES);
  /* one frame after the flush, then EOS: a window of one frame */
  fail_unless_equals_int (
      gst_harness_push (h, fn_frame (info, 0)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  buf = gst_harness_pull (h);
  fn_check_frame (fusion, TRUE, 1, buf, 0);
  gst_buffer_unref (buf);

  gst_harness_teardown (h);
  affect_fusion_free (fusion);
  g_free (path);
}

GST_END_TEST;

/* Causal window: no latency, every buffer out at once with the window
 * ending at it (with n-threads=3). */
GST_START_TEST (test_fusion_causal)
{
  gchar *path = fusion_model_path ("all");
  AffectFusion *fusion = affect_fusion_load (path, NULL);
  const AffectFusionInfo *info;
  GstHarness *h;
  guint f;

  fail_unless (fusion != NULL);
  info = affect_fusion_get_info (fusion);
  h = fn_harness (path, "causal");
  /* three threads: the same predictions as the one-thread reference */
  g_object_set (h->element, "n-threads", 3, NULL);
  fail_unless_equals_uint64 (gst_harness_query_latency (h), 0);
  for (f = 0; f < FN_FRAMES; f++) {
    GstBuffer *buf;

    fail_unless_equals_int (
        gst_harness_push (h, fn_frame (info, f)), GST_FLOW_OK);
    buf = gst_harness_pull (h);
    fn_check_frame (fusion, FALSE, f + 1, buf, f);
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);
  affect_fusion_free (fusion);
  g_free (path);
}

GST_END_TEST;

/* Sends the "affect-engine" query to @element's sink pad; on an answer,
 * the backend name (g_free), thread count and "shared" flag. */
static gboolean
fn_query_engine (
    GstElement *element, gchar **backend, gint *n_threads, gboolean *shared)
{
  GstQuery *q = gst_query_new_custom (
      GST_QUERY_CUSTOM, gst_structure_new_empty ("affect-engine"));
  GstPad *pad = gst_element_get_static_pad (element, "sink");
  gboolean res = gst_pad_query (pad, q);

  gst_object_unref (pad);
  if (res) {
    const GstStructure *s = gst_query_get_structure (q);

    *backend = g_strdup (gst_structure_get_string (s, "backend"));
    fail_unless (gst_structure_get_int (s, "n-threads", n_threads));
    fail_unless (gst_structure_get_boolean (s, "shared", shared));
  }
  gst_query_unref (q);
  return res;
}

/* The element's backend and n-threads reach the fusion networks: they run
 * on the backend the engine settings made (the main and the valence
 * network), with its thread count, which follows n-threads while playing;
 * the predictions stay those of the one-thread reference. */
GST_START_TEST (test_fusion_engine)
{
  gchar *path = fusion_model_path ("all");
  AffectFusion *fusion = affect_fusion_load (path, NULL);
  const AffectFusionInfo *info;
  gchar *backend = NULL;
  gint n_threads = -1;
  gboolean shared = FALSE;
  GstElement *e = gst_element_factory_make ("affectfuse", NULL);
  GstHarness *h;
  guint f;

  fail_unless (fusion != NULL);
  info = affect_fusion_get_info (fusion);
  fail_unless (e != NULL);
  gst_util_set_object_arg (G_OBJECT (e), "mode", "causal");
  g_object_set (e, "model", path, "valence-model", path, "features",
      FUSION_FEATURES, "backend", "cpu", "n-threads", 3, NULL);
  /* not started: no answer */
  fail_if (fn_query_engine (e, &backend, &n_threads, &shared));
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_harness_set_src_caps_str (h, FCAPS);
  for (f = 0; f < FN_FRAMES; f++) {
    GstBuffer *buf;

    if (f == 3)
      g_object_set (e, "n-threads", 2, NULL);
    fail_unless_equals_int (
        gst_harness_push (h, fn_frame (info, f)), GST_FLOW_OK);
    buf = gst_harness_pull (h);
    fn_check_frame (fusion, FALSE, f + 1, buf, f);
    gst_buffer_unref (buf);
    fail_unless (fn_query_engine (e, &backend, &n_threads, &shared));
    fail_unless_equals_string (backend, "cpu");
    fail_unless_equals_int (n_threads, f < 3 ? 3 : 2);
    fail_unless (shared);
    g_clear_pointer (&backend, g_free);
  }
  gst_harness_teardown (h);
  gst_object_unref (e);
  affect_fusion_free (fusion);
  g_free (path);
}

GST_END_TEST;

/* A copy of @src whose va head output bias is shifted by @shift (so its
 * valence and arousal differ from the original's), written to @dst. */
static void
fn_write_shifted_va (const gchar *src, const gchar *dst, gfloat shift)
{
  AffectStFile *file = affect_st_open (src, NULL);
  AffectStWriter *w = affect_st_writer_new ();
  const gchar **keys;
  GError *err = NULL;
  guint i;

  fail_unless (file != NULL);
  keys = affect_st_get_metadata_keys (file);
  for (i = 0; keys[i]; i++)
    affect_st_writer_add_metadata (
        w, keys[i], affect_st_get_metadata (file, keys[i]));
  g_free (keys);
  for (i = 0; i < affect_st_get_n_tensors (file); i++) {
    const AffectStTensor *t = affect_st_get_tensor_by_index (file, i);
    guint8 *data = g_memdup2 (t->data, t->n_bytes);

    if (g_str_equal (t->name, "head_va.2.bias")) {
      gfloat v[2];

      fail_unless_equals_int (t->n_bytes, sizeof (v));
      memcpy (v, data, sizeof (v));
      v[0] += shift;
      v[1] -= shift;
      memcpy (data, v, sizeof (v));
    }
    fail_unless (affect_st_writer_add (w, t->name, t->dtype, t->n_dims,
                     t->shape, data, t->n_bytes, &err),
        "%s", err ? err->message : "?");
    g_free (data);
  }
  fail_unless (
      affect_st_writer_write (w, dst, &err), "%s", err ? err->message : "?");
  affect_st_writer_free (w);
  affect_st_close (file);
}

/* valence-model / arousal-model (valence and arousal trained as two
 * models): each replaces its dimension of the main model's va output, run
 * on the same clips; the other tasks stay the main model's. */
GST_START_TEST (test_fusion_va_models)
{
  gchar *path = fusion_model_path ("all");
  gchar *tmp = g_dir_make_tmp ("affectfuse-va-XXXXXX", NULL);
  gchar *vpath = g_build_filename (tmp, "valence.safetensors", NULL);
  gchar *apath = g_build_filename (tmp, "arousal.safetensors", NULL);
  AffectFusion *fusion, *vnet, *anet;
  const AffectFusionInfo *info;
  guint which;

  fail_unless (tmp != NULL);
  fn_write_shifted_va (path, vpath, 0.7f);
  fn_write_shifted_va (path, apath, -0.9f);
  fusion = affect_fusion_load (path, NULL);
  vnet = affect_fusion_load (vpath, NULL);
  anet = affect_fusion_load (apath, NULL);
  fail_unless (fusion != NULL && vnet != NULL && anet != NULL);
  info = affect_fusion_get_info (fusion);

  /* 0: valence only, 1: arousal only, 2: both */
  for (which = 0; which < 3; which++) {
    GstElement *e = gst_element_factory_make ("affectfuse", NULL);
    GstHarness *h;
    guint f, track, changed = 0;

    g_object_set (e, "model", path, "features", FUSION_FEATURES, NULL);
    if (which != 1)
      g_object_set (e, "valence-model", vpath, NULL);
    if (which != 0)
      g_object_set (e, "arousal-model", apath, NULL);
    gst_util_set_object_arg (G_OBJECT (e), "mode", "causal");
    h = gst_harness_new_with_element (e, "sink", "src");
    gst_object_unref (e);
    gst_harness_set_src_caps_str (h, FCAPS);

    for (f = 0; f < FN_FRAMES; f++) {
      GstBuffer *buf;

      fail_unless_equals_int (
          gst_harness_push (h, fn_frame (info, f)), GST_FLOW_OK);
      buf = gst_harness_pull (h);
      for (track = 1; track <= FN_TRACKS; track++) {
        const GstAffectPredictions *pr = predictions_of (buf, track);
        gfloat au[AFFECT_FUSION_N_AU], expr[16], va[2], vva[2], ava[2];
        GstAffectModalities mods;
        guint i;

        if (!fn_has_branch (f, track, GST_AFFECT_BRANCH_IMAGE))
          continue;
        fail_unless (pr != NULL);
        fn_expected (fusion, FALSE, f + 1, f, track, au, expr, va, &mods);
        fn_expected (vnet, FALSE, f + 1, f, track, au, expr, vva, &mods);
        fn_expected (anet, FALSE, f + 1, f, track, au, expr, ava, &mods);
        /* au and expr: the three nets share them; the main model's */
        for (i = 0; i < AFFECT_FUSION_N_AU; i++)
          fail_unless (fabsf (pr->au[i] - au[i]) <= 1e-6f);
        fail_unless (
            fabsf (pr->valence - (which != 1 ? vva[0] : va[0])) <= 1e-6f);
        fail_unless (
            fabsf (pr->arousal - (which != 0 ? ava[1] : va[1])) <= 1e-6f);
        changed += fabsf (pr->valence - va[0]) > 1e-3f
                   || fabsf (pr->arousal - va[1]) > 1e-3f;
      }
      gst_buffer_unref (buf);
    }
    fail_unless (changed > 0, "the va models changed nothing");
    gst_harness_teardown (h);
  }

  affect_fusion_free (fusion);
  affect_fusion_free (vnet);
  affect_fusion_free (anet);
  g_unlink (vpath);
  g_unlink (apath);
  g_rmdir (tmp);
  g_free (vpath);
  g_free (apath);
  g_free (tmp);
  g_free (path);
}

GST_END_TEST;

/* A model that cannot be used: an error on the bus naming the problem, the
 * state change fails, nothing crashes. */
/* Starts @e (which must fail), checks that an error was posted on the
 * bus and returns it (its debug string in @dbg); disposes of @e. */
static GError *
fn_start_error (GstElement *e, gchar **dbg)
{
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;

  gst_element_set_bus (e, bus);
  fail_unless_equals_int (
      gst_element_set_state (e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message");
  gst_message_parse_error (msg, &err, dbg);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  return err;
}

static void
fn_expect_start_error (const gchar *model, const gchar *features, GQuark domain,
    gint code, const gchar *needle)
{
  GstElement *e = gst_element_factory_make ("affectfuse", NULL);
  GError *err;
  gchar *dbg = NULL;

  g_object_set (e, "model", model, NULL);
  if (features != NULL)
    g_object_set (e, "features", features, NULL);
  err = fn_start_error (e, &dbg);
  fail_unless (
      g_error_matches (err, domain, code), "%s: %s", model, err->message);
  fail_unless (strstr (err->message, needle) != NULL
                   || (dbg != NULL && strstr (dbg, needle) != NULL),
      "'%s' not in '%s' / '%s'", needle, err->message, dbg);
  g_error_free (err);
  g_free (dbg);
}

GST_START_TEST (test_fusion_bad_models)
{
  gchar *good = fusion_model_path ("all");
  gchar *dir = g_dir_make_tmp ("affectfuse-XXXXXX", NULL);
  gchar *corrupt = g_build_filename (dir, "corrupt.safetensors", NULL);
  gchar *truncated = g_build_filename (dir, "truncated.safetensors", NULL);
  gchar *missing = g_build_filename (dir, "missing.safetensors", NULL);
  gchar *contents = NULL;
  gsize len = 0;

  fail_unless (dir != NULL);
  fail_unless (
      g_file_set_contents (corrupt, "not a safetensors file", -1, NULL));
  fail_unless (g_file_get_contents (good, &contents, &len, NULL));
  fail_unless (g_file_set_contents (truncated, contents, len / 2, NULL));

  fn_expect_start_error (missing, FUSION_FEATURES, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_NOT_FOUND, "missing.safetensors");
  fn_expect_start_error (corrupt, FUSION_FEATURES, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_SETTINGS, "corrupt.safetensors");
  fn_expect_start_error (truncated, FUSION_FEATURES, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_SETTINGS, "truncated.safetensors");
  /* the default features (the plugin's extractors) are not the golden
   * model's */
  fn_expect_start_error (good, NULL, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_SETTINGS, FUSION_FEATURES);

  g_unlink (corrupt);
  g_unlink (truncated);
  g_rmdir (dir);
  g_free (contents);
  g_free (corrupt);
  g_free (truncated);
  g_free (missing);
  g_free (dir);
  g_free (good);
}

GST_END_TEST;

/* A model path that exists but is not a regular file (issue 14): a clear
 * OPEN_READ error saying what it is, never "not found"; a named pipe
 * without a writer does not block the start. */
GST_START_TEST (test_fusion_not_regular)
{
  gchar *good = fusion_model_path ("all");
  gchar *dir = g_dir_make_tmp ("affectfuse-XXXXXX", NULL);
  gchar *fifo = g_build_filename (dir, "model.fifo", NULL);
  const struct {
    const gchar *prop, *path, *needle;
  } cases[] = {
    { "model", "/dev/null", "character device" },
    { "model", "/dev/zero", "character device" },
    { "model", dir, "folder" },
    { "model", fifo, "named pipe" },
    { "valence-model", "/dev/null", "character device" },
    { "arousal-model", fifo, "named pipe" },
  };
  guint i;

  fail_unless (dir != NULL);
  fail_unless (mkfifo (fifo, 0600) == 0, "mkfifo: %s", g_strerror (errno));
  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstElement *e = gst_element_factory_make ("affectfuse", NULL);
    GError *err;
    gchar *dbg = NULL;

    g_object_set (e, "features", FUSION_FEATURES, NULL);
    if (strcmp (cases[i].prop, "model") != 0)
      g_object_set (e, "model", good, NULL);
    g_object_set (e, cases[i].prop, cases[i].path, NULL);
    err = fn_start_error (e, &dbg);
    fail_unless (
        g_error_matches (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ),
        "case %u: %s", i, err->message);
    fail_unless (strstr (err->message, cases[i].path) != NULL, "case %u: %s", i,
        err->message);
    fail_unless (strstr (err->message, cases[i].needle) != NULL,
        "case %u: '%s' not in '%s'", i, cases[i].needle, err->message);
    fail_unless (strstr (err->message, "not found") == NULL, "case %u: %s", i,
        err->message);
    fail_unless (dbg != NULL && strstr (dbg, cases[i].prop) != NULL,
        "case %u: '%s' does not name the property", i, dbg);
    g_error_free (err);
    g_free (dbg);
  }
  g_unlink (fifo);
  g_rmdir (dir);
  g_free (fifo);
  g_free (dir);
  g_free (good);
}

GST_END_TEST;

/* valence-model / arousal-model that cannot be used */
GST_START_TEST (test_fusion_bad_va_models)
{
  gchar *good = fusion_model_path ("all");
  gchar *clip8 = fusion_model_path ("clip8");
  gchar *h32 = fusion_model_path ("h32");
  GstElement *e;
  GError *err;
  const struct {
    const gchar *prop, *value, *needle;
  } cases[] = {
    { "valence-model", clip8, "no 'va' head" },
    { "arousal-model", h32, "clip_len 4" },
    { "valence-model", "/nonexistent/v.safetensors", "not found" },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    e = gst_element_factory_make ("affectfuse", NULL);
    g_object_set (e, "model", good, "features", NULL, cases[i].prop,
        cases[i].value, NULL);
    err = fn_start_error (e, NULL);
    fail_unless (strstr (err->message, cases[i].needle) != NULL,
        "case %u: '%s' not in '%s'", i, cases[i].needle, err->message);
    fail_unless (strstr (err->message, cases[i].prop) != NULL
                     || strstr (err->message, cases[i].value) != NULL,
        "case %u: '%s' names neither the property nor the file", i,
        err->message);
    g_error_free (err);
  }

  /* without 'model' */
  e = gst_element_factory_make ("affectfuse", NULL);
  g_object_set (e, "valence-model", good, NULL);
  err = fn_start_error (e, NULL);
  fail_unless (strstr (err->message, "need the 'model' property") != NULL, "%s",
      err->message);
  g_error_free (err);

  g_free (good);
  g_free (clip8);
  g_free (h32);
}

GST_END_TEST;

/* Writes, at @path, a model with the sizes of the plugin's image and
 * expression features (d_img = d_exp = 256) and the default features
 * string: the tensors of model-all with those input sizes and new
 * deterministic random values. */
static void
fn_write_model_256 (const gchar *path)
{
  gchar *src = fusion_model_path ("all");
  AffectStFile *in = affect_st_open (src, NULL);
  AffectStWriter *w = affect_st_writer_new ();
  const gchar **keys;
  GError *err = NULL;
  guint32 x = 12345u;
  guint i, k;

  fail_unless (in != NULL);
  keys = affect_st_get_metadata_keys (in);
  for (k = 0; keys[k] != NULL; k++) {
    const gchar *v = affect_st_get_metadata (in, keys[k]);

    if (g_str_equal (keys[k], "d_img") || g_str_equal (keys[k], "d_exp"))
      v = "256";
    else if (g_str_equal (keys[k], "features"))
      v = "img=face_recognition_model,exp=face_expression_model,"
          "spe=affect-speech,wrd=affect-bert";
    affect_st_writer_add_metadata (w, keys[k], v);
  }
  g_free (keys);

  for (i = 0; i < affect_st_get_n_tensors (in); i++) {
    const AffectStTensor *t = affect_st_get_tensor_by_index (in, i);
    int64_t shape[AFFECT_ST_MAX_DIMS];
    gsize n = 1, j;
    gfloat *data, scale;

    memcpy (shape, t->shape, sizeof (shape));
    if (g_str_equal (t->name, "gru_exp.weight_ih_l0")
        || g_str_has_prefix (t->name, "query_"))
      shape[1] = 256;
    else if (g_str_has_prefix (t->name, "head_")
             && g_str_has_suffix (t->name, ".0.weight"))
      shape[1] += 256 - 10; /* |z| = d_img + 3 H */
    for (j = 0; j < t->n_dims; j++)
      n *= shape[j];
    scale = t->n_dims == 2 ? 1.0f / sqrtf ((gfloat)shape[1]) : 0.5f;
    data = g_new (gfloat, n);
    for (j = 0; j < n; j++) {
      x = x * 1664525u + 1013904223u;
      data[j] = scale * ((gfloat)((x >> 8) % 2000) / 1000.0f - 1.0f);
    }
    fail_unless (affect_st_writer_add (w, t->name, AFFECT_DTYPE_F32, t->n_dims,
                     shape, data, n * sizeof (gfloat), &err),
        "%s", err ? err->message : "?");
    g_free (data);
  }
  fail_unless (
      affect_st_writer_write (w, path, &err), "%s", err ? err->message : "?");
  affect_st_writer_free (w);
  affect_st_close (in);
  g_free (src);
}

/* A model for 256-d image and expression features (as affectfeatures
 * makes), with the default features property; features of other sizes are
 * ignored (no predictions, no crash). */
GST_START_TEST (test_fusion_256)
{
  gchar *dir = g_dir_make_tmp ("affectfuse-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "fusion256.safetensors", NULL);
  gchar *small = fusion_model_path ("all");
  AffectFusion *fusion;
  const AffectFusionInfo *info;
  GstElement *e;
  GstHarness *h;
  GstBuffer *buf;
  guint f;

  fn_write_model_256 (path);
  fusion = affect_fusion_load (path, NULL);
  fail_unless (fusion != NULL);
  info = affect_fusion_get_info (fusion);
  fail_unless_equals_int (info->d_img, 256);
  fail_unless_equals_int (info->d_branch[AFFECT_FUSION_BRANCH_EXP], 256);

  e = gst_element_factory_make ("affectfuse", NULL);
  g_object_set (e, "model", path, NULL);
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_set_src_caps_str (h, FCAPS);
  for (f = 0; f < FN_FRAMES; f++)
    fail_unless_equals_int (
        gst_harness_push (h, fn_frame (info, f)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  for (f = 0; f < FN_FRAMES; f++) {
    buf = gst_harness_pull (h);
    fn_check_frame (fusion, TRUE, FN_FRAMES, buf, f);
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);

  /* the same frames into the small model: the image features do not fit
   * (256 floats, the model wants 10), so no track gets predictions */
  h = fn_harness (small, "causal");
  for (f = 0; f < 3; f++) {
    fail_unless_equals_int (
        gst_harness_push (h, fn_frame (info, f)), GST_FLOW_OK);
    buf = gst_harness_pull (h);
    fail_unless (gst_buffer_get_meta (buf, GST_AFFECT_PREDICTIONS_META_API_TYPE)
                 == NULL);
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);

  affect_fusion_free (fusion);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
  g_free (small);
}

GST_END_TEST;

/* Non-finite features (issue 14): the poisoned vectors of fn_poison are
 * NaN or infinite in one stream and absent in the other; the predictions
 * of both streams are the same (a branch with a non-finite vector is
 * absent on that frame, a track whose image feature is non-finite is not
 * predicted on that frame), none is NaN, and each kind is warned about
 * exactly once. */
static const struct {
  guint frame, track;
  GstAffectBranch branch;
  gfloat value;
} fn_poison[] = {
  { 2, 1, GST_AFFECT_BRANCH_SPEECH, NAN },
  { 4, 1, GST_AFFECT_BRANCH_SPEECH, INFINITY },
  { 2, 2, GST_AFFECT_BRANCH_WORDS, -INFINITY },
  { 6, 2, GST_AFFECT_BRANCH_WORDS, NAN },
  { 3, 1, GST_AFFECT_BRANCH_IMAGE, NAN },
  { 8, 3, GST_AFFECT_BRANCH_IMAGE, INFINITY },
};

/* fn_frame() with the vectors of fn_poison given one non-finite value
 * (@poison) or left out. */
static GstBuffer *
fn_frame_poisoned (const AffectFusionInfo *info, guint f, gboolean poison)
{
  GstBuffer *buf = fn_frame (info, f);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (fn_poison); i++) {
    GstAffectFeaturesMeta *m;
    const gfloat *v;
    gfloat copy[256];
    guint size = 0;

    if (fn_poison[i].frame != f)
      continue;
    m = gst_buffer_get_affect_features_meta_by_track (buf, fn_poison[i].track);
    fail_unless (m != NULL);
    v = gst_affect_features_meta_get (m, fn_poison[i].branch, &size);
    fail_unless (v != NULL && size > 2 && size <= 256);
    if (poison) {
      memcpy (copy, v, size * sizeof (gfloat));
      copy[size / 2] = fn_poison[i].value;
      gst_affect_features_meta_set (m, fn_poison[i].branch, copy, size);
    } else {
      gst_affect_features_meta_clear (m, fn_poison[i].branch);
    }
  }
  return buf;
}

static gboolean
fn_all_finite (const GstAffectPredictions *p)
{
  guint i;

  for (i = 0; i < p->n_au; i++)
    if (!isfinite (p->au[i]))
      return FALSE;
  for (i = 0; i < p->n_expr; i++)
    if (!isfinite (p->expr[i]))
      return FALSE;
  return isfinite (p->valence) && isfinite (p->arousal);
}

GST_START_TEST (test_fusion_nonfinite)
{
  gchar *path = fusion_model_path ("all");
  AffectFusion *fusion = affect_fusion_load (path, NULL);
  const AffectFusionInfo *info;
  const gchar *modes[2] = { "causal", "centred" };
  guint mi;

  fail_unless (fusion != NULL);
  info = affect_fusion_get_info (fusion);
  for (mi = 0; mi < 2; mi++) {
    GstHarness *h[2];
    GstBus *bus = gst_bus_new ();
    GstMessage *msg;
    guint f, track, i, n_warn = 0, n_diff = 0;
    gboolean seen[3] = { FALSE, FALSE, FALSE };

    for (i = 0; i < 2; i++)
      h[i] = fn_harness (path, modes[mi]);
    gst_element_set_bus (h[0]->element, bus);
    for (f = 0; f < FN_FRAMES; f++) {
      fail_unless_equals_int (
          gst_harness_push (h[0], fn_frame_poisoned (info, f, TRUE)),
          GST_FLOW_OK);
      fail_unless_equals_int (
          gst_harness_push (h[1], fn_frame_poisoned (info, f, FALSE)),
          GST_FLOW_OK);
    }
    for (i = 0; i < 2; i++)
      fail_unless (gst_harness_push_event (h[i], gst_event_new_eos ()));
    for (f = 0; f < FN_FRAMES; f++) {
      GstBuffer *a = gst_harness_pull (h[0]), *b = gst_harness_pull (h[1]);
      fail_unless (a != NULL && b != NULL);
      for (track = 1; track <= FN_TRACKS; track++) {
        const GstAffectPredictions *pa = predictions_of (a, track);
        const GstAffectPredictions *pb = predictions_of (b, track);

        fail_unless ((pa == NULL) == (pb == NULL), "%s frame %u track %u",
            modes[mi], f, track);
        if (pa == NULL)
          continue;
        fail_unless (fn_all_finite (pa), "%s frame %u track %u: not finite",
            modes[mi], f, track);
        fail_unless_equals_int (pa->tasks, pb->tasks);
        fail_unless_equals_int (pa->modalities, pb->modalities);
        for (i = 0; i < pa->n_au; i++)
          fail_unless (pa->au[i] == pb->au[i]);
        for (i = 0; i < pa->n_expr; i++)
          fail_unless (pa->expr[i] == pb->expr[i]);
        fail_unless (pa->valence == pb->valence);
        fail_unless (pa->arousal == pb->arousal);
      }
      /* the poisoned image features: no prediction on that frame */
      for (i = 0; i < G_N_ELEMENTS (fn_poison); i++)
        if (fn_poison[i].frame == f
            && fn_poison[i].branch == GST_AFFECT_BRANCH_IMAGE)
          fail_unless (predictions_of (a, fn_poison[i].track) == NULL);
      /* the branches left out change some predictions (the poison
       * mattered) */
      for (track = 1; track <= FN_TRACKS; track++) {
        const GstAffectPredictions *pb = predictions_of (b, track);
        gfloat au[AFFECT_FUSION_N_AU], expr[16], va[2];
        GstAffectModalities mods;

        if (pb == NULL)
          continue;
        fn_expected (fusion, mi == 1, FN_FRAMES, f, track, au, expr, va, &mods);
        if (fabsf (pb->valence - va[0]) > 1e-6f)
          n_diff++;
      }
      gst_buffer_unref (a);
      gst_buffer_unref (b);
    }
    fail_unless (
        n_diff > 0, "%s: the left-out vectors changed nothing", modes[mi]);

    while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING))) {
      GError *err = NULL;

      gst_message_parse_warning (msg, &err, NULL);
      fail_unless (
          g_error_matches (err, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT));
      fail_unless (
          strstr (err->message, "Non-finite") != NULL, "%s", err->message);
      if (strstr (err->message, " speech "))
        i = 0;
      else if (strstr (err->message, " words "))
        i = 1;
      else if (strstr (err->message, " image "))
        i = 2;
      else
        fail ("unexpected warning: %s", err->message);
      fail_if (seen[i], "warned twice: %s", err->message);
      seen[i] = TRUE;
      n_warn++;
      g_error_free (err);
      gst_message_unref (msg);
    }
    fail_unless_equals_int (n_warn, 3);

    /* a new start warns again */
    fail_unless_equals_int (
        gst_element_set_state (h[0]->element, GST_STATE_READY),
        GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (
        gst_element_set_state (h[0]->element, GST_STATE_PLAYING),
        GST_STATE_CHANGE_SUCCESS);
    fail_unless (
        gst_harness_push_event (h[0], gst_event_new_stream_start ("restart")));
    gst_harness_set_src_caps_str (h[0], FCAPS);
    fail_unless_equals_int (
        gst_harness_push (h[0], fn_frame_poisoned (info, 2, TRUE)),
        GST_FLOW_OK);
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
    fail_unless (msg != NULL, "no warning after a restart");
    gst_message_unref (msg);

    gst_element_set_bus (h[0]->element, NULL);
    gst_object_unref (bus);
    for (i = 0; i < 2; i++)
      gst_harness_teardown (h[i]);
  }
  affect_fusion_free (fusion);
  g_free (path);
}

GST_END_TEST;

/* The expression baseline: a non-finite f_exp is like none (no
 * predictions for the face on that frame), warned once. */
GST_START_TEST (test_baseline_nonfinite)
{
  Golden *g = need_models ("test_baseline_nonfinite", FALSE);
  GstHarness *h;
  GstBus *bus;
  GstMessage *msg;
  gfloat f[N_FEAT], probs[N_EXPR];
  guint i, n_warn = 0;

  if (g == NULL)
    return;
  h = make_harness ("video/x-raw,format=I420,width=964,height=241");
  bus = gst_bus_new ();
  gst_element_set_bus (h->element, bus);
  synthetic_feature (3, f);
  push_pull_probs (h, 0, 1, f, probs);
  for (i = 0; i < N_EXPR; i++)
    fail_unless (isfinite (probs[i]));
  for (i = 1; i < 4; i++) {
    GstBuffer *buf = new_frame (i);

    f[i] = i == 2 ? INFINITY : NAN;
    add_face_features (buf, 1, f);
    add_face_features (buf, 2, g->faces[0].expression_feature);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    buf = gst_harness_pull (h);
    fail_unless (predictions_of (buf, 1) == NULL);
    check_baseline (predictions_of (buf, 2));
    gst_buffer_unref (buf);
  }
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING))) {
    n_warn++;
    gst_message_unref (msg);
  }
  fail_unless_equals_int (n_warn, 1);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
affectfuse_suite (void)
{
  Suite *s = suite_create ("affectfuse");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_missing_model);
  tcase_add_test (tc, test_passthrough_and_events);
  tcase_add_test (tc, test_golden_probabilities);
  tcase_add_test (tc, test_smoothing);
  tcase_add_test (tc, test_pipeline);
  tcase_add_test (tc, test_fusion_centred);
  tcase_add_test (tc, test_fusion_causal);
  tcase_add_test (tc, test_fusion_engine);
  tcase_add_test (tc, test_fusion_bad_models);
  tcase_add_test (tc, test_fusion_not_regular);
  tcase_add_test (tc, test_fusion_va_models);
  tcase_add_test (tc, test_fusion_bad_va_models);
  tcase_add_test (tc, test_fusion_256);
  tcase_add_test (tc, test_fusion_nonfinite);
  tcase_add_test (tc, test_baseline_nonfinite);
  return s;
}

GST_CHECK_MAIN (affectfuse);
