/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* Shared face networks and cross-stream batching in the elements
 * (models/engine/affect-shared.h, the batch-window property of facecrop
 * and affectfeatures):
 *
 * - facecrop and affectfeatures instances with the same settings share
 *   their networks (the engine helper's info line says how many instances
 *   share each), instances with another n-threads (or, for the tiny face
 *   detector, another detector-size) do not;
 * - two "facecrop ! affectfeatures" chains in one process, fed from two
 *   threads at once with batch-window set, attach exactly the metadata
 *   (boxes, landmarks, expression and image features, bit for bit) that
 *   each chain attaches alone without batching.
 *
 * The networks need the face models and the test photos (affect-fetch-
 * models): without them the tests are skipped, unless
 * AFFECT_REQUIRE_MODELS=1. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/affect/affectmeta.h>

#include "affect-check-sample.h"
#include "affect-image.h"
#include "affect-modelpath.h"

#define N_FRAMES 3
#define N_STREAMS 2

/* TRUE when the models and photos are there; else says why it skips. */
static gboolean
have_inputs (void)
{
  static const gchar *const names[]
      = { "tiny_face_detector_model", "face_landmark_68_model",
          "face_expression_model", "face_recognition_model" };

  return affect_check_have_inputs (names, G_N_ELEMENTS (names), "sample2.png");
}

/* ---- the info lines of the engine helper -------------------------------- */

static GMutex log_lock;
static GPtrArray *log_lines; /* under log_lock */

static void
log_fn (GstDebugCategory *category, GstDebugLevel level, const gchar *file,
    const gchar *function, gint line, GObject *object, GstDebugMessage *message,
    gpointer user_data)
{
  if (g_strcmp0 (gst_debug_category_get_name (category), "affectengine") != 0
      || level != GST_LEVEL_INFO)
    return;
  g_mutex_lock (&log_lock);
  g_ptr_array_add (log_lines, g_strdup (gst_debug_message_get (message)));
  g_mutex_unlock (&log_lock);
}

static void
log_start (void)
{
  GSList *cats = gst_debug_get_all_categories (), *l;
  GstDebugLevel level = GST_LEVEL_NONE;

  for (l = cats; l != NULL; l = l->next)
    if (g_strcmp0 (gst_debug_category_get_name (l->data), "affectengine") == 0)
      level = gst_debug_category_get_threshold (l->data);
  g_slist_free (cats);
  log_lines = g_ptr_array_new_with_free_func (g_free);
  /* at least the info lines (more when GST_DEBUG asks for more) */
  if (level < GST_LEVEL_INFO)
    gst_debug_set_threshold_for_name ("affectengine", GST_LEVEL_INFO);
  gst_debug_add_log_function (log_fn, NULL, NULL);
}

static void
log_stop (void)
{
  gst_debug_remove_log_function (log_fn);
  g_ptr_array_unref (log_lines);
  log_lines = NULL;
}

/* Lines that name @model and "@n instance(s) share it". */
static guint
count_shared (const gchar *model, gint n)
{
  gchar *needle = g_strdup_printf ("%d instance(s) share it", n);
  guint i, count = 0;

  g_mutex_lock (&log_lock);
  for (i = 0; i < log_lines->len; i++) {
    const gchar *l = g_ptr_array_index (log_lines, i);

    if (strstr (l, model) != NULL && strstr (l, needle) != NULL)
      count++;
  }
  g_mutex_unlock (&log_lock);
  g_free (needle);
  return count;
}

/* ---- streams ------------------------------------------------------------ */

typedef AffectCheckImage Image;

/* Frame @i of a stream: the photo moved right by 4·@i pixels (grey on the
 * left), so that the faces move and are followed. */
static GstBuffer *
make_frame (const Image *img, guint i)
{
  gsize row = (gsize)img->width * 3;
  GstBuffer *buf = gst_buffer_new_allocate (NULL, row * img->height, NULL);
  gint shift = MIN ((gint)(4 * i), img->width);
  GstMapInfo map;
  gint y;

  fail_unless (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  for (y = 0; y < img->height; y++) {
    guint8 *dst = map.data + row * y;

    memset (dst, 128, (gsize)shift * 3);
    memcpy (dst + (gsize)shift * 3, img->rgb + row * y,
        (gsize)(img->width - shift) * 3);
  }
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = i * GST_SECOND / 25;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 25;
  return buf;
}

typedef struct {
  Image img;
  GstHarness *h;
  GArray *sig[N_FRAMES]; /* what the metas say, as floats */
} Stream;

static void
append (GArray *sig, const gfloat *v, guint n)
{
  g_array_append_vals (sig, v, n);
}

/* Everything facecrop and affectfeatures attached to @buf, in order. */
static GArray *
signature (GstBuffer *buf)
{
  GArray *sig = g_array_new (FALSE, FALSE, sizeof (gfloat));
  GstAffectFaceMeta *f;
  gpointer state = NULL;

  while ((f = gst_buffer_iterate_affect_face_meta (buf, &state))) {
    GstAffectFeaturesMeta *m
        = gst_buffer_get_affect_features_meta_by_track (buf, f->track_id);
    gfloat head[6]
        = { (gfloat)f->track_id, f->x, f->y, f->width, f->height, f->score };
    const gfloat *v;
    guint size = 0;

    append (sig, head, 6);
    fail_unless (f->has_landmarks);
    append (sig, &f->landmarks[0][0], 2 * GST_AFFECT_N_LANDMARKS);
    fail_unless (m != NULL, "no features for track %u", f->track_id);
    v = gst_affect_features_meta_get (m, GST_AFFECT_BRANCH_EXPRESSION, &size);
    fail_unless (v != NULL && size > 0);
    append (sig, v, size);
    v = gst_affect_features_meta_get (m, GST_AFFECT_BRANCH_IMAGE, &size);
    fail_unless (v != NULL && size > 0);
    append (sig, v, size);
  }
  return sig;
}

static GstHarness *
new_chain (const Image *img, gint window_us, gint n_threads)
{
  gchar *launch = g_strdup_printf (
      "facecrop detector=tiny n-threads=%d batch-window=%d ! "
      "affectfeatures branches=expression+image n-threads=%d batch-window=%d",
      n_threads, window_us, n_threads, window_us);
  gchar *caps = g_strdup_printf ("video/x-raw,format=RGB,width=%d,height=%d,"
                                 "framerate=25/1,pixel-aspect-ratio=1/1",
      img->width, img->height);
  GstHarness *h = gst_harness_new_parse (launch);

  gst_harness_set_src_caps_str (h, caps);
  g_free (caps);
  g_free (launch);
  return h;
}

/* A chain on @img started (the harness starts the elements with the first
 * buffer's caps) with the image's first frame. */
static GstHarness *
new_started_chain (const Image *img, gint window_us, gint n_threads)
{
  GstHarness *h = new_chain (img, window_us, n_threads);

  gst_buffer_unref (gst_harness_push_and_pull (h, make_frame (img, 0)));
  return h;
}

static gpointer
stream_thread (gpointer data)
{
  Stream *s = data;
  guint i;

  for (i = 0; i < N_FRAMES; i++) {
    GstBuffer *out;

    fail_unless_equals_int (
        gst_harness_push (s->h, make_frame (&s->img, i)), GST_FLOW_OK);
    out = gst_harness_pull (s->h);
    fail_unless (out != NULL);
    s->sig[i] = signature (out);
    gst_buffer_unref (out);
  }
  return NULL;
}

static void
streams_init (Stream *streams)
{
  guint k;

  memset (streams, 0, sizeof (Stream) * N_STREAMS);
  for (k = 0; k < N_STREAMS; k++)
    streams[k].img = affect_check_load_sample (1 + k);
}

static void
streams_clear (Stream *streams)
{
  guint k, i;

  for (k = 0; k < N_STREAMS; k++) {
    for (i = 0; i < N_FRAMES; i++)
      g_clear_pointer (&streams[k].sig[i], g_array_unref);
    g_free (streams[k].img.rgb);
  }
}

/* Each chain alone, unbatched: the reference. */
static void
run_alone (Stream *streams)
{
  guint k;

  for (k = 0; k < N_STREAMS; k++) {
    streams[k].h = new_chain (&streams[k].img, 0, 1);
    stream_thread (&streams[k]);
    gst_harness_teardown (streams[k].h);
  }
}

/* ---- tests -------------------------------------------------------------- */

GST_START_TEST (test_batched_equals_alone)
{
  Stream alone[N_STREAMS], batched[N_STREAMS];
  GThread *threads[N_STREAMS];
  guint k, i;

  if (!have_inputs ())
    return;
  streams_init (alone);
  streams_init (batched);
  run_alone (alone);

  log_start ();
  /* both chains exist (and hold the networks) before any frame flows */
  for (k = 0; k < N_STREAMS; k++)
    batched[k].h = new_chain (&batched[k].img, 200000, 1);
  for (k = 0; k < N_STREAMS; k++)
    threads[k] = g_thread_new ("stream", stream_thread, &batched[k]);
  for (k = 0; k < N_STREAMS; k++)
    g_thread_join (threads[k]);
  /* the second instance of each network found it loaded */
  fail_unless_equals_int (count_shared ("tiny_face_detector_model", 2), 1);
  fail_unless_equals_int (count_shared ("face_landmark_68_model", 2), 1);
  fail_unless_equals_int (count_shared ("face_expression_model", 2), 1);
  fail_unless_equals_int (count_shared ("face_recognition_model", 2), 1);
  for (k = 0; k < N_STREAMS; k++)
    gst_harness_teardown (batched[k].h);
  log_stop ();

  for (k = 0; k < N_STREAMS; k++) {
    for (i = 0; i < N_FRAMES; i++) {
      GArray *a = alone[k].sig[i], *b = batched[k].sig[i];

      fail_unless (a->len > 0, "stream %u frame %u: no face", k, i);
      fail_unless_equals_int (b->len, a->len);
      fail_unless (memcmp (a->data, b->data, a->len * sizeof (gfloat)) == 0,
          "stream %u frame %u: metadata batched differs from alone", k, i);
    }
  }
  streams_clear (alone);
  streams_clear (batched);
}

GST_END_TEST;

/* Another n-threads is another network (each instance keeps its own thread
 * count); the same settings share one (on the cpu backend: with a
 * batch-window, here 1 µs). */
GST_START_TEST (test_share_by_settings)
{
  Stream s[N_STREAMS];
  GstHarness *h1, *h2, *h3;
  GstElement *fc;

  if (!have_inputs ())
    return;
  streams_init (s);
  log_start ();
  h1 = new_started_chain (&s[0].img, 1, 1);
  h2 = new_started_chain (&s[0].img, 1, 2);
  fail_unless_equals_int (count_shared ("face_landmark_68_model", 2), 0);
  fail_unless_equals_int (count_shared ("face_landmark_68_model", 1), 2);
  fail_unless_equals_int (count_shared ("tiny_face_detector_model", 1), 2);

  h3 = new_started_chain (&s[0].img, 1, 2);
  fail_unless_equals_int (count_shared ("face_landmark_68_model", 2), 1);
  fail_unless_equals_int (count_shared ("face_expression_model", 2), 1);
  fail_unless_equals_int (count_shared ("tiny_face_detector_model", 2), 1);

  /* another detector-size is another tiny face network (taken while
   * playing) */
  fc = gst_harness_find_element (h3, "facecrop");
  g_object_set (fc, "detector-size", 320, NULL);
  gst_object_unref (fc);
  gst_buffer_unref (gst_harness_push_and_pull (h3, make_frame (&s[0].img, 1)));
  fail_unless_equals_int (count_shared ("tiny_face_detector_model", 1), 3);

  gst_harness_teardown (h3);
  gst_harness_teardown (h2);
  gst_harness_teardown (h1);
  log_stop ();
  streams_clear (s);
}

GST_END_TEST;

/* On the cpu backend, instances without a batch-window keep networks of
 * their own (a shared CPU backend would run them one at a time); switching
 * batch-window on while playing moves them to the shared ones. */
GST_START_TEST (test_cpu_own_networks_without_window)
{
  Stream s[N_STREAMS];
  GstHarness *h1, *h2;
  GstElement *fc;

  if (!have_inputs ())
    return;
  streams_init (s);
  log_start ();
  h1 = new_started_chain (&s[0].img, 0, 1);
  h2 = new_started_chain (&s[0].img, 0, 1);
  fail_unless_equals_int (count_shared ("face_landmark_68_model", 2), 0);
  fail_unless_equals_int (count_shared ("face_landmark_68_model", 1), 2);
  fail_unless_equals_int (count_shared ("face_expression_model", 2), 0);
  fail_unless_equals_int (count_shared ("tiny_face_detector_model", 2), 0);

  fc = gst_harness_find_element (h1, "facecrop");
  g_object_set (fc, "batch-window", 1, NULL);
  gst_object_unref (fc);
  fc = gst_harness_find_element (h2, "facecrop");
  g_object_set (fc, "batch-window", 1, NULL);
  gst_object_unref (fc);
  gst_buffer_unref (gst_harness_push_and_pull (h1, make_frame (&s[0].img, 1)));
  gst_buffer_unref (gst_harness_push_and_pull (h2, make_frame (&s[0].img, 1)));
  fail_unless_equals_int (count_shared ("face_landmark_68_model", 2), 1);

  gst_harness_teardown (h2);
  gst_harness_teardown (h1);
  log_stop ();
  streams_clear (s);
}

GST_END_TEST;

/* batch-window: an int in µs, 0 (off) by default, changeable while
 * playing, on facecrop and affectfeatures only. */
GST_START_TEST (test_batch_window_property)
{
  static const gchar *const with[] = { "facecrop", "affectfeatures" };
  static const gchar *const without[] = { "affectfuse", "affecttranscribe" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (with); i++) {
    GstElement *e = gst_element_factory_make (with[i], NULL);
    GParamSpec *p;
    gint v = -1;

    fail_unless (e != NULL, "%s", with[i]);
    p = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "batch-window");
    fail_unless (p != NULL && G_IS_PARAM_SPEC_INT (p), "%s", with[i]);
    fail_unless_equals_int (G_PARAM_SPEC_INT (p)->default_value, 0);
    fail_unless_equals_int (G_PARAM_SPEC_INT (p)->minimum, 0);
    fail_unless_equals_int (G_PARAM_SPEC_INT (p)->maximum, 1000000);
    fail_unless (p->flags & GST_PARAM_MUTABLE_PLAYING);
    g_object_set (e, "batch-window", 5000, NULL);
    g_object_get (e, "batch-window", &v, NULL);
    fail_unless_equals_int (v, 5000);
    gst_object_unref (e);
  }
  for (i = 0; i < G_N_ELEMENTS (without); i++) {
    GstElement *e = gst_element_factory_make (without[i], NULL);

    if (e == NULL)
      continue;
    fail_unless (
        g_object_class_find_property (G_OBJECT_GET_CLASS (e), "batch-window")
            == NULL,
        "%s", without[i]);
    gst_object_unref (e);
  }
}

GST_END_TEST;

static Suite *
batching_suite (void)
{
  Suite *s = suite_create ("batching");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_batch_window_property);
  tcase_add_test (tc, test_share_by_settings);
  tcase_add_test (tc, test_cpu_own_networks_without_window);
  tcase_add_test (tc, test_batched_equals_alone);
  return s;
}

GST_CHECK_MAIN (batching);
