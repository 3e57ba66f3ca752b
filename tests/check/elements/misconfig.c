/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Misconfigured pipelines (elements/affect-misconfig.h): affectfuse
 * without affectfeatures, affectfeatures without facecrop upstream, a
 * model whose needed branch never comes. Each posts exactly one warning and
 * one "affect-misconfiguration" element message per stream (again after a
 * flush), and a correct pipeline, or a stream without faces behind a
 * facecrop, posts none.
 *
 * The tests that start affectfeatures, facecrop or the expression baseline
 * need the face models and are skipped with a message when they are
 * missing, unless AFFECT_REQUIRE_MODELS=1.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/affect/affectmeta.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include "affect-modelpath.h"
#include "affect-check-sample.h"

#define N_FEAT 256
#define WATCH_FRAMES 30 /* AFFECT_MISCONFIG_FRAMES */
#define CAPS_STR "video/x-raw,format=RGB,width=64,height=48,framerate=30/1"

/* Whether the face models @names are there; prints why a test is skipped
 * otherwise (fails with AFFECT_REQUIRE_MODELS=1). */

static const gchar *expression_model[] = { "face_expression_model", NULL };
static const gchar *all_models[]
    = { "face_expression_model", "face_recognition_model",
        "tiny_face_detector_model", "face_landmark_68_model", NULL };

/* A black RGB 64×48 frame. */
static GstBuffer *
new_frame (guint i)
{
  gsize size = 64 * 3 * 48;
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);

  gst_buffer_memset (buf, 0, 0, size);
  GST_BUFFER_PTS (buf) = i * GST_SECOND / 30;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

/* A face meta for @track, and a features meta with the branches in
 * @branches (GstAffectModalities) when @branches is not 0. */
static void
add_face (GstBuffer *buf, guint track, GstAffectModalities branches)
{
  gfloat f[N_FEAT];
  guint i;

  for (i = 0; i < N_FEAT; i++)
    f[i] = (gfloat)(i % 7) / 7.0f;
  fail_unless (
      gst_buffer_add_affect_face_meta (buf, track, 8, 6, 30, 36, 0.9f) != NULL);
  if (branches != 0) {
    GstAffectFeaturesMeta *m = gst_buffer_add_affect_features_meta (buf, track);

    if (branches & GST_AFFECT_MODALITY_IMAGE)
      gst_affect_features_meta_set (m, GST_AFFECT_BRANCH_IMAGE, f, N_FEAT);
    if (branches & GST_AFFECT_MODALITY_EXPRESSION)
      gst_affect_features_meta_set (m, GST_AFFECT_BRANCH_EXPRESSION, f, N_FEAT);
  }
}

/* Pushes @n frames numbered from @first, each with a face and the features
 * @branches when @face, and pulls each (affectfeatures works in its own
 * thread: waiting for the output keeps the test in step). */
static void
push_frames (GstHarness *h, guint first, guint n, gboolean face,
    GstAffectModalities branches)
{
  guint i;

  for (i = first; i < first + n; i++) {
    GstBuffer *buf = new_frame (i);

    if (face)
      add_face (buf, 1, branches);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    buf = gst_harness_pull (h);
    fail_unless (buf != NULL);
    gst_buffer_unref (buf);
  }
}

/* Sends EOS and waits until it came out. */
static void
push_eos (GstHarness *h)
{
  GstEvent *ev;
  gboolean eos = FALSE;

  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  while (!eos && (ev = gst_harness_pull_event (h)) != NULL) {
    eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  fail_unless (eos);
}

/* The misconfiguration messages on @bus so far. */
typedef struct {
  guint n_warnings; /* warnings with the affect-misconfiguration details */
  guint n_messages; /* element messages affect-misconfiguration */
  guint n_other_warnings;
  gchar *source; /* of the last message */
  gchar *reason, *hint, *text, *branch;
  guint64 frames;
} Seen;

static void
seen_clear (Seen *seen)
{
  g_free (seen->source);
  g_free (seen->reason);
  g_free (seen->hint);
  g_free (seen->text);
  g_free (seen->branch);
  memset (seen, 0, sizeof (*seen));
}

static void
collect (GstBus *bus, Seen *seen)
{
  GstMessage *msg;

  while ((msg = gst_bus_pop_filtered (
              bus, GST_MESSAGE_WARNING | GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = NULL;

    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      GError *err = NULL;
      gchar *dbg = NULL;

      gst_message_parse_warning (msg, &err, &dbg);
      gst_message_parse_warning_details (msg, &s);
      if (s != NULL && gst_structure_has_name (s, "affect-misconfiguration")) {
        /* the warning's text names the cause and the fix */
        fail_unless (err->domain == GST_CORE_ERROR);
        fail_unless (strstr (err->message, gst_structure_get_string (s, "hint"))
                     != NULL);
        seen->n_warnings++;
      } else {
        seen->n_other_warnings++;
        GST_INFO ("other warning: %s", err->message);
      }
      g_clear_error (&err);
      g_free (dbg);
    } else {
      s = gst_message_get_structure (msg);
      if (s != NULL && gst_structure_has_name (s, "affect-misconfiguration")) {
        seen->n_messages++;
        g_free (seen->source);
        g_free (seen->reason);
        g_free (seen->hint);
        g_free (seen->text);
        g_free (seen->branch);
        seen->source = gst_object_get_name (GST_MESSAGE_SRC (msg));
        seen->reason = g_strdup (gst_structure_get_string (s, "reason"));
        seen->hint = g_strdup (gst_structure_get_string (s, "hint"));
        seen->text = g_strdup (gst_structure_get_string (s, "text"));
        seen->branch = g_strdup (gst_structure_get_string (s, "branch"));
        fail_unless (gst_structure_get_uint64 (s, "frames", &seen->frames));
        fail_unless (
            seen->reason != NULL && seen->hint != NULL && seen->text != NULL);
      }
    }
    gst_message_unref (msg);
  }
}

static GstHarness *
fuse_harness (GstBus *bus, const gchar *model)
{
  GstElement *e = gst_element_factory_make ("affectfuse", "fuse");
  GstHarness *h;

  fail_unless (e != NULL);
  if (model != NULL)
    g_object_set (
        e, "model", model, "mode", 1 /* causal */, "features", NULL, NULL);
  gst_element_set_bus (e, bus);
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_set_src_caps_str (h, CAPS_STR);
  return h;
}

static void
flush (GstHarness *h)
{
  GstSegment seg;

  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
}

static void
teardown (GstHarness *h, GstBus *bus, Seen *seen)
{
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);
  gst_object_unref (bus);
  seen_clear (seen);
}

/* A harness around the launch line @desc, its bus set to @bus. */
static GstHarness *
parse_harness (GstBus *bus, const gchar *desc)
{
  GstHarness *h = gst_harness_new_parse (desc);

  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps_str (h, CAPS_STR);
  return h;
}

/* A harness with its bus and the misconfiguration messages seen on it. */
typedef struct {
  GstBus *bus;
  GstHarness *h;
  Seen seen;
} Watch;

/* affectfuse (with the fusion network @model, or the baseline) on a new
 * bus. */
static void
watch_fuse (Watch *w, const gchar *model)
{
  memset (w, 0, sizeof (*w));
  w->bus = gst_bus_new ();
  w->h = fuse_harness (w->bus, model);
}

/* The launch line @desc on a new bus. */
static void
watch_parse (Watch *w, const gchar *desc)
{
  memset (w, 0, sizeof (*w));
  w->bus = gst_bus_new ();
  w->h = parse_harness (w->bus, desc);
}

static void
watch_collect (Watch *w)
{
  collect (w->bus, &w->seen);
}

static void
watch_end (Watch *w)
{
  teardown (w->h, w->bus, &w->seen);
}

/* EOS; no misconfiguration message or warning came; ends the watch. */
static void
finish_silent (Watch *w)
{
  push_eos (w->h);
  watch_collect (w);
  fail_unless_equals_int (w->seen.n_messages, 0);
  fail_unless_equals_int (w->seen.n_warnings, 0);
  watch_end (w);
}

/* tests/golden/fusion/model-all.safetensors (g_free). */
static gchar *
golden_fusion_model (void)
{
  const gchar *srcdir = g_getenv ("AFFECT_TEST_SRCDIR");

  fail_unless (srcdir != NULL, "AFFECT_TEST_SRCDIR not set");
  return g_build_filename (
      srcdir, "golden", "fusion", "model-all.safetensors", NULL);
}

/* facecrop ! affectfuse: faces, never features. */
GST_START_TEST (test_fuse_no_features)
{
  Watch w;

  if (!affect_check_have_models ("test_fuse_no_features", expression_model))
    return;
  watch_fuse (&w, NULL);

  push_frames (w.h, 0, WATCH_FRAMES - 1, TRUE, 0);
  watch_collect (&w);
  fail_unless_equals_int (w.seen.n_messages, 0);
  push_frames (w.h, WATCH_FRAMES - 1, 1, TRUE, 0);
  watch_collect (&w);
  fail_unless_equals_int (w.seen.n_warnings, 1);
  fail_unless_equals_int (w.seen.n_messages, 1);
  fail_unless_equals_string (w.seen.source, "fuse");
  fail_unless_equals_string (w.seen.reason, "no-features");
  fail_unless (
      strstr (w.seen.hint, "affectfeatures") != NULL, "%s", w.seen.hint);
  fail_unless (w.seen.branch == NULL);
  fail_unless_equals_uint64 (w.seen.frames, WATCH_FRAMES);

  /* once per stream: more frames say nothing more */
  push_frames (w.h, WATCH_FRAMES, 20, TRUE, 0);
  watch_collect (&w);
  fail_unless_equals_int (w.seen.n_messages, 1);
  fail_unless_equals_int (w.seen.n_warnings, 1);

  /* a flush watches afresh; EOS decides early with fewer frames */
  flush (w.h);
  push_frames (w.h, 0, 3, TRUE, 0);
  watch_collect (&w);
  fail_unless_equals_int (w.seen.n_messages, 1);
  push_eos (w.h);
  watch_collect (&w);
  fail_unless_equals_int (w.seen.n_messages, 2);
  fail_unless_equals_int (w.seen.n_warnings, 2);
  fail_unless_equals_string (w.seen.reason, "no-features");
  fail_unless_equals_uint64 (w.seen.frames, 3);
  fail_unless_equals_int (w.seen.n_other_warnings, 0);
  watch_end (&w);

  /* a new stream (STREAM_START) is watched afresh too */
  watch_fuse (&w, NULL);
  push_frames (w.h, 0, WATCH_FRAMES, TRUE, 0);
  watch_collect (&w);
  fail_unless_equals_int (w.seen.n_messages, 1);
  fail_unless (
      gst_harness_push_event (w.h, gst_event_new_stream_start ("second")));
  push_frames (w.h, 0, WATCH_FRAMES - 1, TRUE, 0);
  watch_collect (&w);
  fail_unless_equals_int (w.seen.n_messages, 1);
  push_frames (w.h, WATCH_FRAMES - 1, 1, TRUE, 0);
  watch_collect (&w);
  fail_unless_equals_int (w.seen.n_messages, 2);
  fail_unless_equals_int (w.seen.n_warnings, 2);

  watch_end (&w);
}

GST_END_TEST;

/* The expression baseline fed features without f_exp
 * (affectfeatures branches=image). */
GST_START_TEST (test_fuse_baseline_missing_branch)
{
  Watch w;

  if (!affect_check_have_models (
          "test_fuse_baseline_missing_branch", expression_model))
    return;
  watch_fuse (&w, NULL);
  push_frames (w.h, 0, WATCH_FRAMES + 5, TRUE, GST_AFFECT_MODALITY_IMAGE);
  push_eos (w.h);
  watch_collect (&w);
  fail_unless_equals_int (w.seen.n_warnings, 1);
  fail_unless_equals_int (w.seen.n_messages, 1);
  fail_unless_equals_string (w.seen.reason, "missing-branch");
  fail_unless_equals_string (w.seen.branch, "expression");
  fail_unless (strstr (w.seen.hint, "branches") != NULL, "%s", w.seen.hint);
  fail_unless_equals_uint64 (w.seen.frames, WATCH_FRAMES);
  watch_end (&w);
}

GST_END_TEST;

/* A fusion network fed features without f_img (affectfeatures
 * branches=expression): it never predicts. */
GST_START_TEST (test_fuse_fusion_missing_image)
{
  gchar *model = golden_fusion_model ();
  Watch w;

  watch_fuse (&w, model);
  push_frames (w.h, 0, WATCH_FRAMES, TRUE, GST_AFFECT_MODALITY_EXPRESSION);
  watch_collect (&w);
  fail_unless_equals_int (w.seen.n_warnings, 1);
  fail_unless_equals_int (w.seen.n_messages, 1);
  fail_unless_equals_string (w.seen.reason, "missing-branch");
  fail_unless_equals_string (w.seen.branch, "image");
  fail_unless (strstr (w.seen.text, "fusion") != NULL, "%s", w.seen.text);
  watch_end (&w);
  g_free (model);
}

GST_END_TEST;

/* A correct stream: no message, neither while playing nor at EOS. */
GST_START_TEST (test_fuse_correct)
{
  gchar *model;
  Watch w;

  if (!affect_check_have_models ("test_fuse_correct", expression_model))
    return;
  /* the baseline, with frames without faces first */
  watch_fuse (&w, NULL);
  push_frames (w.h, 0, 5, FALSE, 0);
  push_frames (w.h, 5, WATCH_FRAMES + 10, TRUE,
      GST_AFFECT_MODALITY_IMAGE | GST_AFFECT_MODALITY_EXPRESSION);
  finish_silent (&w);

  /* the fusion network with its image feature */
  model = golden_fusion_model ();
  watch_fuse (&w, model);
  push_frames (w.h, 0, WATCH_FRAMES + 2, TRUE, GST_AFFECT_MODALITY_IMAGE);
  finish_silent (&w);
  g_free (model);
}

GST_END_TEST;

/* affectfuse alone on a stream without any face meta and no facecrop
 * upstream. */
GST_START_TEST (test_fuse_no_faces)
{
  Watch w;

  if (!affect_check_have_models ("test_fuse_no_faces", expression_model))
    return;
  watch_fuse (&w, NULL);
  push_frames (w.h, 0, WATCH_FRAMES + 3, FALSE, 0);
  push_eos (w.h);
  watch_collect (&w);
  fail_unless_equals_int (w.seen.n_warnings, 1);
  fail_unless_equals_int (w.seen.n_messages, 1);
  fail_unless_equals_string (w.seen.reason, "no-faces");
  fail_unless (strstr (w.seen.hint, "facecrop") != NULL, "%s", w.seen.hint);
  watch_end (&w);
}

GST_END_TEST;

/* affectfeatures before facecrop: no face meta reaches it. */
GST_START_TEST (test_features_before_facecrop)
{
  Watch w;

  if (!affect_check_have_models ("test_features_before_facecrop", all_models))
    return;
  watch_parse (&w, "affectfeatures name=feat branches=expression ! facecrop");
  push_frames (w.h, 0, WATCH_FRAMES + 4, FALSE, 0);
  watch_collect (&w);
  fail_unless_equals_int (w.seen.n_warnings, 1);
  fail_unless_equals_int (w.seen.n_messages, 1);
  fail_unless_equals_string (w.seen.source, "feat");
  fail_unless_equals_string (w.seen.reason, "no-faces");
  fail_unless (strstr (w.seen.hint, "facecrop before affectfeatures") != NULL,
      "%s", w.seen.hint);
  fail_unless_equals_uint64 (w.seen.frames, WATCH_FRAMES);
  push_eos (w.h);
  watch_collect (&w);
  fail_unless_equals_int (w.seen.n_messages, 1);
  watch_end (&w);
}

GST_END_TEST;

/* affectfeatures with face metas: none, even when the faces are rare. */
GST_START_TEST (test_features_with_faces)
{
  Watch w;

  if (!affect_check_have_models ("test_features_with_faces", all_models))
    return;
  watch_parse (&w, "affectfeatures branches=expression");
  push_frames (w.h, 0, 1, TRUE, 0);
  push_frames (w.h, 1, WATCH_FRAMES + 4, FALSE, 0);
  finish_silent (&w);
}

GST_END_TEST;

/* facecrop ! affectfeatures ! affectfuse on frames without any face: a
 * legitimate stream, no message from anyone. */
GST_START_TEST (test_no_face_stream)
{
  Watch w;

  if (!affect_check_have_models ("test_no_face_stream", all_models))
    return;
  watch_parse (&w, "facecrop ! affectfeatures ! affectfuse");
  push_frames (w.h, 0, WATCH_FRAMES + 4, FALSE, 0);
  finish_silent (&w);
}

GST_END_TEST;

static Suite *
misconfig_suite (void)
{
  Suite *s = suite_create ("misconfig");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_fuse_no_features);
  tcase_add_test (tc, test_fuse_baseline_missing_branch);
  tcase_add_test (tc, test_fuse_fusion_missing_image);
  tcase_add_test (tc, test_fuse_correct);
  tcase_add_test (tc, test_fuse_no_faces);
  tcase_add_test (tc, test_features_before_facecrop);
  tcase_add_test (tc, test_features_with_faces);
  tcase_add_test (tc, test_no_face_stream);
  return s;
}

GST_CHECK_MAIN (misconfig);
