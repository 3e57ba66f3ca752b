/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What gst-inspect-1.0 shows of the plugin's elements (issue 13, finding
 * 9): gst-inspect-1.0 runs over every element of the plugin (the build's,
 * through GST_PLUGIN_PATH_1_0 of the test environment); no blurb points at
 * a docs/ path; every enum and flags value has a nick of lowercase words
 * joined by dashes and a description in words (not a C name); `backend`
 * names its values; `n-threads` has one default and range on the three
 * inference elements; affectfuse's `features` is a deprecated alias of
 * `feature-extractors`; the GstAggregator properties affectfeatures
 * inherits are documented; facecrop's `detector-size`.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/affect/affectmeta.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include "affect-image.h"
#include "affect-modelpath.h"

/* a build with AddressSanitizer (GCC's macro, clang's feature) */
#if defined(__SANITIZE_ADDRESS__)
#define AFFECT_ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AFFECT_ASAN_BUILD 1
#endif
#endif

static const gchar *const elements[] = { "facecrop", "affectfeatures",
  "affectfuse", "affectoverlay", "affectsink", "affecttranscribe", NULL };
static const gchar *const inference_elements[]
    = { "facecrop", "affectfeatures", "affectfuse", "affecttranscribe", NULL };

/* A nick of lowercase words (or numbers) joined by dashes. */
static gboolean
nick_is_words (const gchar *nick)
{
  return g_regex_match_simple ("^[a-z0-9]+(-[a-z0-9]+)*$", nick, 0, 0);
}

/* A C identifier in capitals (GST_AFFECT_MODALITY_IMAGE): not words. */
static gboolean
is_c_name (const gchar *s)
{
  return g_regex_match_simple ("^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$", s, 0, 0);
}

/* The element names of the plugin "affect" in the registry. */
static GList *
plugin_elements (void)
{
  GList *features
      = gst_registry_get_feature_list_by_plugin (gst_registry_get (), "affect");
  GList *names = NULL, *l;

  for (l = features; l != NULL; l = l->next)
    if (GST_IS_ELEMENT_FACTORY (l->data))
      names = g_list_prepend (
          names, g_strdup (gst_plugin_feature_get_name (l->data)));
  gst_plugin_feature_list_free (features);
  return g_list_sort (names, (GCompareFunc)g_strcmp0);
}

GST_START_TEST (test_every_element_listed)
{
  GList *names = plugin_elements (), *l;
  guint i;

  /* the list below is the one the other tests use */
  for (i = 0; elements[i] != NULL; i++)
    fail_unless (
        g_list_find_custom (names, elements[i], (GCompareFunc)g_strcmp0)
            != NULL,
        "%s not in the plugin", elements[i]);
  for (l = names; l != NULL; l = l->next)
    fail_unless (g_strv_contains (elements, l->data),
        "element %s of the plugin is not checked by this test",
        (const gchar *)l->data);
  g_list_free_full (names, g_free);
}

GST_END_TEST;

/* gst-inspect-1.0 over each element: its text as a user reads it. */
GST_START_TEST (test_gst_inspect_text)
{
  gchar *prog = g_find_program_in_path ("gst-inspect-1.0");
  GRegex *value_line;
  guint i;

#ifdef AFFECT_ASAN_BUILD
  /* the uninstrumented gst-inspect-1.0 cannot load the instrumented plugin
   * (the GObject checks below run in every build) */
  g_print ("SKIP test_gst_inspect_text: AddressSanitizer build\n");
  g_free (prog);
  return;
#endif
  if (prog == NULL) {
    fail_if (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") == 0,
        "gst-inspect-1.0 not found (gstreamer1.0-tools)");
    g_print ("SKIP test_gst_inspect_text: gst-inspect-1.0 not found\n");
    return;
  }
  /* "(0x00000001): image            - Image feature (f_img)" */
  value_line = g_regex_new (
      "^\\s+\\((?:0x[0-9a-f]+|-?[0-9]+)\\): (\\S+)\\s+- (.*)$", 0, 0, NULL);

  for (i = 0; elements[i] != NULL; i++) {
    const gchar *argv[] = { prog, elements[i], NULL };
    gchar *out = NULL, *err = NULL, **lines;
    gint status = 0;
    guint k, n_values = 0;
    GError *error = NULL;

    fail_unless (g_spawn_sync (NULL, (gchar **)argv, NULL, G_SPAWN_DEFAULT,
                     NULL, NULL, &out, &err, &status, &error),
        "%s", error ? error->message : "?");
    fail_unless (g_spawn_check_wait_status (status, NULL),
        "gst-inspect-1.0 %s failed: %s", elements[i], err);
    fail_unless (strstr (out, "Element Properties") != NULL, "%s", out);

    lines = g_strsplit (out, "\n", -1);
    for (k = 0; lines[k] != NULL; k++) {
      GMatchInfo *m = NULL;

      /* a path of the source tree means nothing on an installed system */
      fail_if (
          strstr (lines[k], "docs/") != NULL, "%s: %s", elements[i], lines[k]);
      if (g_regex_match (value_line, lines[k], 0, &m)) {
        gchar *nick = g_match_info_fetch (m, 1);
        gchar *desc = g_match_info_fetch (m, 2);

        n_values++;
        fail_unless (nick_is_words (nick), "%s: nick '%s' (%s)", elements[i],
            nick, lines[k]);
        /* GstAggregator's own start-time-selection values are C names:
         * inherited, documented in docs/elements/affectfeatures.md */
        if (!g_str_has_prefix (desc, "GST_AGGREGATOR_"))
          fail_if (is_c_name (desc), "%s: value '%s' described as '%s'",
              elements[i], nick, desc);
        g_free (nick);
        g_free (desc);
      }
      g_match_info_free (m);
    }
    /* every element has at least one enum or flags property */
    fail_unless (n_values > 0, "%s: no enum or flags values read in\n%s",
        elements[i], out);
    g_strfreev (lines);
    g_free (out);
    g_free (err);
  }
  g_regex_unref (value_line);
  g_free (prog);
}

GST_END_TEST;

static void
check_enum_flags (const gchar *element, GParamSpec *pspec)
{
  if (G_IS_PARAM_SPEC_ENUM (pspec)) {
    GEnumClass *k = G_PARAM_SPEC_ENUM (pspec)->enum_class;
    guint i;

    for (i = 0; i < k->n_values; i++) {
      fail_unless (nick_is_words (k->values[i].value_nick), "%s:%s nick %s",
          element, pspec->name, k->values[i].value_nick);
      fail_if (is_c_name (k->values[i].value_name), "%s:%s value %s", element,
          pspec->name, k->values[i].value_name);
    }
  } else if (G_IS_PARAM_SPEC_FLAGS (pspec)) {
    GFlagsClass *k = G_PARAM_SPEC_FLAGS (pspec)->flags_class;
    guint i;

    for (i = 0; i < k->n_values; i++) {
      fail_unless (nick_is_words (k->values[i].value_nick), "%s:%s nick %s",
          element, pspec->name, k->values[i].value_nick);
      fail_if (is_c_name (k->values[i].value_name), "%s:%s value %s", element,
          pspec->name, k->values[i].value_name);
    }
  }
}

/* The properties each element defines itself, through GObject. */
GST_START_TEST (test_own_properties)
{
  guint i;

  for (i = 0; elements[i] != NULL; i++) {
    GstElement *e = gst_element_factory_make (elements[i], NULL);
    GParamSpec **specs;
    guint n, k, own = 0;

    fail_unless (e != NULL, "%s", elements[i]);
    specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (e), &n);
    for (k = 0; k < n; k++) {
      GParamSpec *p = specs[k];
      const gchar *blurb = g_param_spec_get_blurb (p);

      if (p->owner_type != G_OBJECT_TYPE (e))
        continue; /* inherited */
      own++;
      fail_unless (
          blurb != NULL && *blurb != '\0', "%s:%s", elements[i], p->name);
      fail_if (strstr (blurb, "docs/") != NULL, "%s:%s: %s", elements[i],
          p->name, blurb);
      fail_unless (nick_is_words (p->name), "%s:%s", elements[i], p->name);
      check_enum_flags (elements[i], p);
    }
    fail_unless (own > 0);
    g_free (specs);
    gst_object_unref (e);
  }
}

GST_END_TEST;

/* backend names its values; n-threads means the same everywhere. */
GST_START_TEST (test_engine_properties)
{
  guint i;

  for (i = 0; inference_elements[i] != NULL; i++) {
    GstElement *e = gst_element_factory_make (inference_elements[i], NULL);
    GObjectClass *k = G_OBJECT_GET_CLASS (e);
    GParamSpec *backend = g_object_class_find_property (k, "backend");
    GParamSpec *threads = g_object_class_find_property (k, "n-threads");
    const gchar *blurb;
    gchar *s = NULL;

    fail_unless (
        backend != NULL && threads != NULL, "%s", inference_elements[i]);
    blurb = g_param_spec_get_blurb (backend);
    fail_unless (strstr (blurb, "auto") && strstr (blurb, "cpu")
                     && strstr (blurb, "cuda"),
        "%s: %s", inference_elements[i], blurb);
    /* a string: any registered name is taken as it is */
    g_object_set (e, "backend", "cpu", NULL);
    g_object_get (e, "backend", &s, NULL);
    fail_unless_equals_string (s, "cpu");
    g_free (s);

    fail_unless (G_IS_PARAM_SPEC_INT (threads));
    fail_unless_equals_int (G_PARAM_SPEC_INT (threads)->default_value, 0);
    fail_unless_equals_int (G_PARAM_SPEC_INT (threads)->minimum, 0);
    fail_unless (strstr (g_param_spec_get_blurb (threads), "0 = all cores"));
    fail_unless (threads->flags & GST_PARAM_MUTABLE_PLAYING);
    gst_object_unref (e);
  }
}

GST_END_TEST;

/* affectfuse: `feature-extractors`, and `features` as a deprecated alias
 * that still works. */
GST_START_TEST (test_fuse_feature_extractors)
{
  GstElement *e = gst_element_factory_make ("affectfuse", NULL);
  GObjectClass *k = G_OBJECT_GET_CLASS (e);
  GParamSpec *alias = g_object_class_find_property (k, "features");
  GParamSpec *prop = g_object_class_find_property (k, "feature-extractors");
  gchar *a = NULL, *b = NULL;

  fail_unless (prop != NULL && alias != NULL);
  fail_unless (alias->flags & G_PARAM_DEPRECATED);
  fail_if (prop->flags & G_PARAM_DEPRECATED);
  fail_unless (strstr (g_param_spec_get_blurb (alias), "feature-extractors"));
  fail_unless_equals_string (G_PARAM_SPEC_STRING (alias)->default_value,
      G_PARAM_SPEC_STRING (prop)->default_value);

  g_object_set (e, "features", "img=a,exp=b", NULL);
  g_object_get (e, "feature-extractors", &a, "features", &b, NULL);
  fail_unless_equals_string (a, "img=a,exp=b");
  fail_unless_equals_string (b, "img=a,exp=b");
  g_free (a);
  g_free (b);
  g_object_set (e, "feature-extractors", NULL, NULL);
  g_object_get (e, "features", &b, NULL);
  fail_unless (b == NULL);
  gst_object_unref (e);

  /* affectsink's `features` is the only one left: a boolean */
  e = gst_element_factory_make ("affectsink", NULL);
  fail_unless (G_IS_PARAM_SPEC_BOOLEAN (
      g_object_class_find_property (G_OBJECT_GET_CLASS (e), "features")));
  gst_object_unref (e);
}

GST_END_TEST;

/* Every property affectfeatures inherits from GstAggregator is explained
 * in its documentation. */
GST_START_TEST (test_aggregator_properties_documented)
{
  const gchar *srcdir = g_getenv ("AFFECT_TEST_SRCDIR");
  GstElement *e = gst_element_factory_make ("affectfeatures", NULL);
  GParamSpec **specs;
  gchar *path, *doc = NULL;
  guint n, k, inherited = 0;

  fail_unless (srcdir != NULL, "AFFECT_TEST_SRCDIR not set");
  path = g_build_filename (
      srcdir, "..", "docs", "elements", "affectfeatures.md", NULL);
  fail_unless (g_file_get_contents (path, &doc, NULL, NULL), "%s", path);
  specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (e), &n);
  for (k = 0; k < n; k++) {
    gchar *row;

    if (specs[k]->owner_type != GST_TYPE_AGGREGATOR)
      continue;
    inherited++;
    row = g_strdup_printf ("| `%s` |", specs[k]->name);
    fail_unless (strstr (doc, row) != NULL,
        "%s does not explain the inherited property %s", path, specs[k]->name);
    g_free (row);
  }
  fail_unless (inherited >= 5, "only %u GstAggregator properties?", inherited);
  g_free (specs);
  g_free (doc);
  g_free (path);
  gst_object_unref (e);
}

GST_END_TEST;

/* The faces facecrop finds on @img with detector-size @size (0: the
 * default); their boxes in @boxes (x, y, w, h each). */
static guint
faces_at (const guint8 *rgb, gint w, gint h, gint size, GArray *boxes)
{
  GstElement *e = gst_element_factory_make ("facecrop", NULL);
  GstHarness *h_;
  GstBuffer *buf;
  GstVideoInfo info;
  GstVideoFrame frame;
  GstAffectFaceMeta *face;
  gint y;
  gpointer state = NULL;
  gchar *caps;
  guint n = 0;

  if (size > 0)
    g_object_set (e, "detector-size", size, NULL);
  h_ = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  caps = g_strdup_printf (
      "video/x-raw,format=RGB,width=%d,height=%d,framerate=1/1", w, h);
  gst_harness_set_src_caps_str (h_, caps);
  g_free (caps);
  /* RGB rows of a GstVideoInfo are 4-byte aligned: copy row by row */
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, w, h);
  buf = gst_buffer_new_allocate (NULL, info.size, NULL);
  fail_unless (gst_video_frame_map (&frame, &info, buf, GST_MAP_WRITE));
  for (y = 0; y < h; y++)
    memcpy ((guint8 *)GST_VIDEO_FRAME_PLANE_DATA (&frame, 0)
                + (gsize)y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0),
        rgb + (gsize)y * w * 3, (gsize)w * 3);
  gst_video_frame_unmap (&frame);
  GST_BUFFER_PTS (buf) = 0;
  buf = gst_harness_push_and_pull (h_, buf);
  fail_unless (buf != NULL);
  while ((face = gst_buffer_iterate_affect_face_meta (buf, &state))) {
    gfloat b[4] = { face->x, face->y, face->width, face->height };

    g_array_append_vals (boxes, b, 4);
    n++;
  }
  gst_buffer_unref (buf);
  gst_harness_teardown (h_);
  return n;
}

GST_START_TEST (test_detector_size)
{
  static const gchar *const names[]
      = { "tiny_face_detector_model", "face_landmark_68_model", NULL };
  GstElement *e = gst_element_factory_make ("facecrop", NULL);
  GParamSpec *p
      = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "detector-size");
  gchar *cache, *png;
  guint8 *rgb = NULL;
  gint w = 0, h = 0, v = 0;
  guint i, n_default, n_416, n_small;
  GArray *b_default, *b_416, *b_small;
  GError *err = NULL;

  /* the property: default 416 (the size every frame was resized to
   * before), multiples of 32 up to 2048 */
  fail_unless (p != NULL && G_IS_PARAM_SPEC_INT (p));
  fail_unless_equals_int (G_PARAM_SPEC_INT (p)->default_value, 416);
  fail_unless_equals_int (G_PARAM_SPEC_INT (p)->minimum, 32);
  fail_unless_equals_int (G_PARAM_SPEC_INT (p)->maximum, 2048);
  fail_unless (p->flags & GST_PARAM_MUTABLE_PLAYING);
  g_object_get (e, "detector-size", &v, NULL);
  fail_unless_equals_int (v, 416);
  g_object_set (e, "detector-size", 100, NULL);
  g_object_get (e, "detector-size", &v, NULL);
  fail_unless_equals_int (v, 96);
  g_object_set (e, "detector-size", 2048, NULL);
  g_object_get (e, "detector-size", &v, NULL);
  fail_unless_equals_int (v, 2048);
  gst_object_unref (e);

  /* detection on the demo photo (1.9k wide, three faces) */
  for (i = 0; names[i] != NULL; i++) {
    gchar *path = affect_model_find (names[i], NULL, &err);

    if (path == NULL) {
      fail_if (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") == 0, "%s",
          err->message);
      g_print ("SKIP test_detector_size (detection): %s\n", err->message);
      g_clear_error (&err);
      return;
    }
    g_free (path);
  }
  cache = affect_cache_dir ();
  png = g_build_filename (cache, "test-inputs", "sample1.png", NULL);
  if (!g_file_test (png, G_FILE_TEST_EXISTS)) {
    fail_if (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") == 0,
        "%s missing", png);
    g_print ("SKIP test_detector_size (detection): %s missing "
             "(tests/golden/face-api/prepare.sh)\n",
        png);
    g_free (png);
    g_free (cache);
    return;
  }
  fail_unless (affect_image_load_png (png, &rgb, &w, &h, &err), "%s",
      err ? err->message : "?");

  b_default = g_array_new (FALSE, FALSE, sizeof (gfloat));
  b_416 = g_array_new (FALSE, FALSE, sizeof (gfloat));
  b_small = g_array_new (FALSE, FALSE, sizeof (gfloat));
  n_default = faces_at (rgb, w, h, 0, b_default);
  n_416 = faces_at (rgb, w, h, 416, b_416);
  n_small = faces_at (rgb, w, h, 128, b_small);
  /* the default is today's behaviour: 416 */
  fail_unless (n_default > 0);
  fail_unless_equals_int (n_default, n_416);
  for (i = 0; i < b_default->len; i++)
    fail_unless_equals_float (
        g_array_index (b_default, gfloat, i), g_array_index (b_416, gfloat, i));
  /* the property reaches the detector: shrunk to 128 the faces are too
   * small to be found */
  fail_unless (
      n_small < n_default, "%u faces at 128, %u at 416", n_small, n_default);

  g_array_unref (b_default);
  g_array_unref (b_416);
  g_array_unref (b_small);
  g_free (rgb);
  g_free (png);
  g_free (cache);
}

GST_END_TEST;

static Suite *
inspect_suite (void)
{
  Suite *s = suite_create ("inspect");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_every_element_listed);
  tcase_add_test (tc, test_gst_inspect_text);
  tcase_add_test (tc, test_own_properties);
  tcase_add_test (tc, test_engine_properties);
  tcase_add_test (tc, test_fuse_feature_extractors);
  tcase_add_test (tc, test_aggregator_properties_documented);
  tcase_add_test (tc, test_detector_size);
  return s;
}

GST_CHECK_MAIN (inspect);
