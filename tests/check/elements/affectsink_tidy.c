/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* Tests of affectsink tidy=true: the analysis-ready csv table (timestamp,
 * success, expression and landmark columns) and the flat jsonl records,
 * field by field. tests/python/test_outputs.py loads the same outputs in
 * pandas. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/affect/affect.h>
#include <json-glib/json-glib.h>

#define VIDEO_CAPS "video/x-raw,format=RGB,width=320,height=240,framerate=25/1"

static const gchar *const expr_labels[3]
    = { "Neutral", "Happiness", "Sadness" };
static const gfloat expr_probs[3] = { 0.25f, 0.5f, 0.25f };

typedef struct {
  gchar *dir;
  gchar *path;
  GstHarness *h;
} Fixture;

static void
fixture_start (Fixture *fx, const gchar *format, gboolean features)
{
  GstElement *sink = gst_element_factory_make ("affectsink", NULL);
  GError *err = NULL;

  fail_unless (sink != NULL, "affectsink not found");
  fx->dir = g_dir_make_tmp ("affectsink-tidy-XXXXXX", &err);
  fail_unless (
      fx->dir != NULL, "no temporary folder: %s", err ? err->message : "?");
  fx->path = g_build_filename (fx->dir, "out", NULL);
  gst_util_set_object_arg (G_OBJECT (sink), "format", format);
  g_object_set (
      sink, "location", fx->path, "features", features, "tidy", TRUE, NULL);
  fx->h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_object_unref (sink);
  gst_harness_set_src_caps_str (fx->h, VIDEO_CAPS);
}

static gchar **
fixture_finish (Fixture *fx, guint *n_lines)
{
  gchar *contents = NULL;
  gsize len = 0;
  gchar **lines;

  fail_unless (gst_harness_push_event (fx->h, gst_event_new_eos ()));
  fail_unless (g_file_get_contents (fx->path, &contents, &len, NULL));
  fail_unless (len > 0 && contents[len - 1] == '\n');
  contents[len - 1] = '\0';
  lines = g_strsplit (contents, "\n", -1);
  *n_lines = g_strv_length (lines);
  g_free (contents);

  gst_harness_teardown (fx->h);
  g_unlink (fx->path);
  g_rmdir (fx->dir);
  g_free (fx->path);
  g_free (fx->dir);
  return lines;
}

static gfloat
landmark (guint track, guint i, guint axis)
{
  return axis == 0 ? 10.0f * track + i * 0.5f : 100.0f - i * 0.25f;
}

static void
add_face (GstBuffer *buf, guint track, gboolean with_landmarks)
{
  GstAffectFaceMeta *m = gst_buffer_add_affect_face_meta (
      buf, track, 5.0f * track, 6.5f, 40.0f, 48.0f, 0.75f);

  fail_unless (m != NULL);
  if (with_landmarks) {
    gfloat pts[2 * GST_AFFECT_N_LANDMARKS];
    guint i;

    for (i = 0; i < GST_AFFECT_N_LANDMARKS; i++) {
      pts[2 * i] = landmark (track, i, 0);
      pts[2 * i + 1] = landmark (track, i, 1);
    }
    gst_affect_face_meta_set_landmarks (m, pts, GST_AFFECT_N_LANDMARKS);
  }
}

static void
add_predictions (
    GstBuffer *buf, guint track, gboolean expr, gboolean au, gboolean va)
{
  GstAffectPredictions p;
  const gchar *const *au_labels;
  gfloat probs[12];
  guint n_au, i;

  gst_affect_predictions_init (&p);
  if (expr)
    fail_unless (
        gst_affect_predictions_set_expression (&p, 3, expr_labels, expr_probs));
  if (au) {
    au_labels = gst_affect_abaw_au_labels (&n_au);
    for (i = 0; i < n_au; i++)
      probs[i] = 0.0625f * i;
    fail_unless (gst_affect_predictions_set_au (&p, n_au, au_labels, probs));
  }
  if (va)
    gst_affect_predictions_set_va (&p, 0.5f, -0.25f);
  fail_unless (gst_buffer_add_affect_predictions_meta (buf, track, &p) != NULL);
}

static GstBuffer *
frame (GstClockTime pts)
{
  GstBuffer *buf = gst_buffer_new ();

  GST_BUFFER_PTS (buf) = pts;
  return buf;
}

static gint
column (gchar **header, const gchar *name)
{
  guint i;

  for (i = 0; header[i]; i++) {
    if (strcmp (header[i], name) == 0)
      return i;
  }
  fail ("no column %s", name);
  return -1;
}

static void
check_float (const gchar *text, gfloat v)
{
  gchar *end = NULL;
  gdouble d = g_ascii_strtod (text, &end);

  fail_unless (end != text && *end == '\0', "not a number: '%s'", text);
  fail_unless ((gfloat)d == v, "'%s' != %.9g", text, v);
}

GST_START_TEST (test_csv_tidy)
{
  Fixture fx;
  GstBuffer *buf;
  gchar **lines, **head, **row;
  guint n, i, n_cols;
  gchar name[16];

  fixture_start (&fx, "csv", FALSE);
  /* frame 0 (at 3.04 s): track 1 complete; track 2 box only, no
   * landmarks; track 7 predictions without face */
  buf = frame (3 * GST_SECOND + 40 * GST_MSECOND);
  add_face (buf, 1, TRUE);
  add_predictions (buf, 1, TRUE, TRUE, TRUE);
  add_face (buf, 2, FALSE);
  add_predictions (buf, 7, FALSE, FALSE, TRUE);
  fail_unless_equals_int (gst_harness_push (fx.h, buf), GST_FLOW_OK);
  /* frame 1: no PTS */
  buf = frame (GST_CLOCK_TIME_NONE);
  add_face (buf, 1, TRUE);
  fail_unless_equals_int (gst_harness_push (fx.h, buf), GST_FLOW_OK);
  lines = fixture_finish (&fx, &n);
  fail_unless_equals_int (n, 1 + 3 + 1);

  head = g_strsplit (lines[0], ",", -1);
  n_cols = g_strv_length (head);
  /* 10 fixed, expression + 3 + expr_index, 12 AUs, VA, 136 landmarks */
  fail_unless_equals_int (n_cols, 10 + 1 + 3 + 1 + 12 + 2 + 136);
  {
    const gchar *const expected[] = { "pts", "frame", "timestamp", "id",
      "success", "x", "y", "w", "h", "score", "expression", "expr_Neutral",
      "expr_Happiness", "expr_Sadness", "expr_index", "AU1" };

    for (i = 0; i < G_N_ELEMENTS (expected); i++)
      fail_unless_equals_string (head[i], expected[i]);
  }
  fail_unless_equals_int (
      column (head, "valence") + 1, column (head, "arousal"));
  fail_unless_equals_int (column (head, "x_0"), n_cols - 136);
  fail_unless_equals_int (column (head, "x_67") + 1, column (head, "y_0"));
  fail_unless_equals_string (head[n_cols - 1], "y_67");

  /* track 1 */
  row = g_strsplit (lines[1], ",", -1);
  fail_unless_equals_int (g_strv_length (row), n_cols);
  fail_unless_equals_string (row[0], "3040000000");
  fail_unless_equals_string (row[1], "0");
  fail_unless_equals_string (row[2], "3.04");
  fail_unless_equals_string (row[3], "1");
  fail_unless_equals_string (row[4], "1");
  check_float (row[5], 5.0f);
  fail_unless_equals_string (row[column (head, "expression")], "Happiness");
  check_float (row[column (head, "expr_Sadness")], 0.25f);
  fail_unless_equals_string (row[column (head, "expr_index")], "1");
  check_float (row[column (head, "AU12")], 0.0625f * 6);
  check_float (row[column (head, "valence")], 0.5f);
  check_float (row[column (head, "arousal")], -0.25f);
  for (i = 0; i < GST_AFFECT_N_LANDMARKS; i++) {
    g_snprintf (name, sizeof (name), "x_%u", i);
    check_float (row[column (head, name)], landmark (1, i, 0));
    g_snprintf (name, sizeof (name), "y_%u", i);
    check_float (row[column (head, name)], landmark (1, i, 1));
  }
  g_strfreev (row);

  /* track 2: a box without landmarks is not a success */
  row = g_strsplit (lines[2], ",", -1);
  fail_unless_equals_int (g_strv_length (row), n_cols);
  fail_unless_equals_string (row[3], "2");
  fail_unless_equals_string (row[4], "0");
  check_float (row[5], 10.0f);
  for (i = 10; i < n_cols; i++)
    fail_unless_equals_string (row[i], "");
  g_strfreev (row);

  /* track 7: no box, VA only */
  row = g_strsplit (lines[3], ",", -1);
  fail_unless_equals_int (g_strv_length (row), n_cols);
  fail_unless_equals_string (row[3], "7");
  fail_unless_equals_string (row[4], "0");
  for (i = 5; i < n_cols; i++) {
    if (i == (guint)column (head, "valence"))
      check_float (row[i], 0.5f);
    else if (i == (guint)column (head, "arousal"))
      check_float (row[i], -0.25f);
    else
      fail_unless_equals_string (row[i], "");
  }
  g_strfreev (row);

  /* no PTS: empty pts and timestamp */
  row = g_strsplit (lines[4], ",", -1);
  fail_unless_equals_string (row[0], "");
  fail_unless_equals_string (row[1], "1");
  fail_unless_equals_string (row[2], "");
  fail_unless_equals_string (row[4], "1");
  g_strfreev (row);

  g_strfreev (head);
  g_strfreev (lines);
}

GST_END_TEST;

GST_START_TEST (test_csv_tidy_no_faces)
{
  Fixture fx;
  gchar **lines, **head;
  guint n;

  fixture_start (&fx, "csv", FALSE);
  fail_unless_equals_int (gst_harness_push (fx.h, frame (0)), GST_FLOW_OK);
  lines = fixture_finish (&fx, &n);
  fail_unless_equals_int (n, 1);
  head = g_strsplit (lines[0], ",", -1);
  fail_unless_equals_int (g_strv_length (head), 10 + 136);
  fail_unless_equals_string (head[2], "timestamp");
  fail_unless_equals_string (head[10], "x_0");
  g_strfreev (head);
  g_strfreev (lines);
}

GST_END_TEST;

static JsonObject *
parse (JsonParser *parser, const gchar *line)
{
  GError *err = NULL;

  fail_unless (json_parser_load_from_data (parser, line, -1, &err),
      "invalid JSON: %s", err ? err->message : "?");
  fail_unless (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_node_get_object (json_parser_get_root (parser));
}

static void
check_member_float (JsonObject *o, const gchar *key, gfloat v)
{
  JsonNode *node = json_object_get_member (o, key);

  fail_unless (node != NULL, "no key %s", key);
  fail_unless ((gfloat)json_node_get_double (node) == v, "%s: %.9g != %.9g",
      key, json_node_get_double (node), v);
}

GST_START_TEST (test_jsonl_flat)
{
  Fixture fx;
  GstBuffer *buf;
  JsonParser *parser = json_parser_new ();
  JsonObject *o;
  gchar **lines;
  guint n, i;
  gchar name[16];
  gfloat vec[3] = { 1.5f, -2.0f, 0.125f };

  fixture_start (&fx, "jsonl", TRUE);
  buf = frame (40 * GST_MSECOND);
  add_face (buf, 1, TRUE);
  add_predictions (buf, 1, TRUE, TRUE, TRUE);
  gst_affect_features_meta_set (gst_buffer_add_affect_features_meta (buf, 1),
      GST_AFFECT_BRANCH_EXPRESSION, vec, 3);
  add_face (buf, 2, FALSE);
  fail_unless_equals_int (gst_harness_push (fx.h, buf), GST_FLOW_OK);
  /* no faces: no line */
  fail_unless_equals_int (
      gst_harness_push (fx.h, frame (80 * GST_MSECOND)), GST_FLOW_OK);
  buf = frame (GST_CLOCK_TIME_NONE);
  add_predictions (buf, 5, TRUE, FALSE, FALSE);
  fail_unless_equals_int (gst_harness_push (fx.h, buf), GST_FLOW_OK);
  lines = fixture_finish (&fx, &n);
  fail_unless_equals_int (n, 3);

  o = parse (parser, lines[0]);
  /* 10 fixed, expression + 3 + expr_index, 12 AUs, VA, 136, 3 features */
  fail_unless_equals_int (json_object_get_size (o), 10 + 5 + 12 + 2 + 136 + 3);
  fail_unless_equals_int (json_object_get_int_member (o, "frame"), 0);
  fail_unless_equals_int (
      json_object_get_int_member (o, "pts"), 40 * GST_MSECOND);
  check_member_float (o, "timestamp", 0.04f);
  fail_unless_equals_int (json_object_get_int_member (o, "id"), 1);
  fail_unless_equals_int (json_object_get_int_member (o, "success"), 1);
  check_member_float (o, "x", 5.0f);
  check_member_float (o, "y", 6.5f);
  check_member_float (o, "w", 40.0f);
  check_member_float (o, "h", 48.0f);
  check_member_float (o, "score", 0.75f);
  fail_unless_equals_string (
      json_object_get_string_member (o, "expression"), "Happiness");
  check_member_float (o, "expr_Neutral", 0.25f);
  fail_unless_equals_int (json_object_get_int_member (o, "expr_index"), 1);
  check_member_float (o, "AU26", 0.0625f * 11);
  check_member_float (o, "valence", 0.5f);
  check_member_float (o, "arousal", -0.25f);
  for (i = 0; i < GST_AFFECT_N_LANDMARKS; i++) {
    g_snprintf (name, sizeof (name), "x_%u", i);
    check_member_float (o, name, landmark (1, i, 0));
    g_snprintf (name, sizeof (name), "y_%u", i);
    check_member_float (o, name, landmark (1, i, 1));
  }
  check_member_float (o, "exp_2", 0.125f);

  /* box only: absent values are absent keys */
  o = parse (parser, lines[1]);
  fail_unless_equals_int (json_object_get_size (o), 10);
  fail_unless_equals_int (json_object_get_int_member (o, "id"), 2);
  fail_unless_equals_int (json_object_get_int_member (o, "success"), 0);
  fail_if (json_object_has_member (o, "x_0"));
  fail_if (json_object_has_member (o, "valence"));

  /* predictions without face, no PTS */
  o = parse (parser, lines[2]);
  fail_unless_equals_int (json_object_get_int_member (o, "frame"), 2);
  fail_if (json_object_has_member (o, "pts"));
  fail_if (json_object_has_member (o, "timestamp"));
  fail_if (json_object_has_member (o, "x"));
  fail_unless_equals_int (json_object_get_int_member (o, "success"), 0);
  fail_unless_equals_string (
      json_object_get_string_member (o, "expression"), "Happiness");

  g_strfreev (lines);
  g_object_unref (parser);
}

GST_END_TEST;

GST_START_TEST (test_tidy_property)
{
  GstElement *sink = gst_element_factory_make ("affectsink", NULL);
  gboolean tidy = TRUE;

  g_object_get (sink, "tidy", &tidy, NULL);
  fail_if (tidy);
  g_object_set (sink, "tidy", TRUE, NULL);
  g_object_get (sink, "tidy", &tidy, NULL);
  fail_unless (tidy);
  gst_object_unref (sink);
}

GST_END_TEST;

static Suite *
affectsink_tidy_suite (void)
{
  Suite *s = suite_create ("affectsink_tidy");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_tidy_property);
  tcase_add_test (tc, test_csv_tidy);
  tcase_add_test (tc, test_csv_tidy_no_faces);
  tcase_add_test (tc, test_jsonl_flat);
  return s;
}

GST_CHECK_MAIN (affectsink_tidy);
