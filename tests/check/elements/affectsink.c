/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* Tests of the affectsink element: the three output formats, EOS and
 * flush behaviour, errors a user can cause, and a long run for leaks. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/affect/affectmeta.h>
#include <json-glib/json-glib.h>

#define VIDEO_CAPS "video/x-raw,format=RGB,width=320,height=240,framerate=25/1"

static const gchar *const expr_labels[7] = { "neutral", "happy", "sad", "angry",
  "fearful", "disgusted", "surprised" };

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static gchar *
make_tmp_dir (void)
{
  GError *err = NULL;
  gchar *dir = g_dir_make_tmp ("affectsink-XXXXXX", &err);

  fail_unless (dir != NULL, "cannot make a temporary folder: %s",
      err ? err->message : "?");
  return dir;
}

static void
remove_tree (const gchar *path)
{
  GDir *dir;
  const gchar *name;

  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    dir = g_dir_open (path, 0, NULL);
    if (dir) {
      while ((name = g_dir_read_name (dir))) {
        gchar *child = g_build_filename (path, name, NULL);
        remove_tree (child);
        g_free (child);
      }
      g_dir_close (dir);
    }
    g_rmdir (path);
  } else {
    g_unlink (path);
  }
}

static gchar **
read_lines (const gchar *path, guint *n_lines)
{
  gchar *contents = NULL;
  gchar **lines;
  gsize len = 0;
  guint n;

  fail_unless (g_file_get_contents (path, &contents, &len, NULL),
      "cannot read %s", path);
  /* every record ends with a newline */
  fail_unless (len == 0 || contents[len - 1] == '\n',
      "%s does not end with a newline", path);
  if (len > 0)
    contents[len - 1] = '\0';
  lines = len > 0 ? g_strsplit (contents, "\n", -1) : g_new0 (gchar *, 1);
  g_free (contents);
  n = g_strv_length (lines);
  if (n_lines)
    *n_lines = n;
  return lines;
}

static GstElement *
make_sink (const gchar *format, const gchar *location, gboolean features)
{
  GstElement *sink = gst_element_factory_make ("affectsink", NULL);

  fail_unless (sink != NULL, "affectsink not found");
  gst_util_set_object_arg (G_OBJECT (sink), "format", format);
  g_object_set (sink, "location", location, "features", features, NULL);
  return sink;
}

static GstHarness *
make_harness (GstElement *sink)
{
  GstHarness *h = gst_harness_new_with_element (sink, "sink", NULL);

  /* the harness holds its own reference */
  gst_object_unref (sink);
  gst_harness_set_src_caps_str (h, VIDEO_CAPS);
  return h;
}

static void
landmarks_for (guint id, gfloat *pts)
{
  guint i;

  for (i = 0; i < GST_AFFECT_N_LANDMARKS; i++) {
    pts[2 * i] = 10.25f * id + i / 3.0f;
    pts[2 * i + 1] = 100.0f - i * 0.1f;
  }
}

static void
expr_probs_for (guint id, gfloat *probs)
{
  guint i;
  gfloat sum = 0;

  for (i = 0; i < 7; i++) {
    probs[i] = 1.0f / (1.0f + (gfloat)((i + id) % 7));
    sum += probs[i];
  }
  for (i = 0; i < 7; i++)
    probs[i] /= sum;
}

/* 12 AU probabilities alternating around the 0.5 threshold */
static void
au_probs_for (guint id, gfloat *probs)
{
  guint i;

  for (i = 0; i < 12; i++)
    probs[i] = ((i + id) % 2) ? 0.5f + i / 100.0f : 0.49999f - i / 100.0f;
}

static void
feature_for (guint id, guint branch, guint n, gfloat *v)
{
  guint i;

  for (i = 0; i < n; i++)
    v[i] = (gfloat)(id + 1) * 0.001f * (i + 1) - 0.1f * branch;
}

static GstAffectFaceMeta *
add_face (GstBuffer *buf, guint id, gboolean landmarks)
{
  GstAffectFaceMeta *m = gst_buffer_add_affect_face_meta (
      buf, id, 10.5f + id, 20.25f, 100.0f / 3.0f, 64.0f, 0.875f);

  fail_unless (m != NULL);
  if (landmarks) {
    gfloat pts[2 * GST_AFFECT_N_LANDMARKS];
    landmarks_for (id, pts);
    gst_affect_face_meta_set_landmarks (m, pts, GST_AFFECT_N_LANDMARKS);
  }
  return m;
}

static void
add_predictions (GstBuffer *buf, guint id, GstAffectTasks tasks)
{
  GstAffectPredictions p;
  gfloat e[7], a[12];
  guint n_au;
  const gchar *const *au_labels = gst_affect_abaw_au_labels (&n_au);

  fail_unless_equals_int (n_au, 12);
  gst_affect_predictions_init (&p);
  if (tasks & GST_AFFECT_TASK_EXPRESSION) {
    expr_probs_for (id, e);
    fail_unless (gst_affect_predictions_set_expression (&p, 7, expr_labels, e));
  }
  if (tasks & GST_AFFECT_TASK_AU) {
    au_probs_for (id, a);
    fail_unless (gst_affect_predictions_set_au (&p, 12, au_labels, a));
  }
  if (tasks & GST_AFFECT_TASK_VA)
    gst_affect_predictions_set_va (&p, 0.1f * id - 0.3f, -0.7f / id);
  p.modalities = GST_AFFECT_MODALITY_IMAGE;
  fail_unless (gst_buffer_add_affect_predictions_meta (buf, id, &p) != NULL);
}

static void
add_features (GstBuffer *buf, guint id, guint branches, guint size)
{
  GstAffectFeaturesMeta *m = gst_buffer_add_affect_features_meta (buf, id);
  gfloat v[64];
  guint b;

  fail_unless (m != NULL);
  fail_unless (size <= G_N_ELEMENTS (v));
  for (b = 0; b < GST_AFFECT_N_BRANCHES; b++) {
    if (branches & (1u << b)) {
      feature_for (id, b, size + b, v);
      gst_affect_features_meta_set (m, b, v, size + b);
    }
  }
}

static GstBuffer *
new_frame (GstClockTime pts)
{
  GstBuffer *buf = gst_buffer_new ();

  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = 40 * GST_MSECOND;
  return buf;
}

/* ------------------------------------------------------------------ */
/* JSON Lines                                                          */
/* ------------------------------------------------------------------ */

static void
check_json_floats (JsonArray *a, const gfloat *v, guint n)
{
  guint i;

  fail_unless (a != NULL);
  fail_unless_equals_int (json_array_get_length (a), n);
  for (i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element (a, i);

    if (isnan (v[i])) {
      fail_unless (JSON_NODE_HOLDS_NULL (node), "element %u: NaN not null", i);
      continue;
    }
    fail_unless (JSON_NODE_HOLDS_VALUE (node));
    /* the text must round-trip the float32 exactly */
    fail_unless ((gfloat)json_node_get_double (node) == v[i],
        "element %u: %.9g written as %.9g", i, v[i],
        json_node_get_double (node));
  }
}

static void
check_json_strings (JsonArray *a, const gchar *const *v, guint n)
{
  guint i;

  fail_unless_equals_int (json_array_get_length (a), n);
  for (i = 0; i < n; i++)
    fail_unless_equals_string (json_array_get_string_element (a, i), v[i]);
}

static JsonObject *
parse_line (JsonParser *parser, const gchar *line)
{
  GError *err = NULL;
  JsonNode *root;

  fail_unless (json_parser_load_from_data (parser, line, -1, &err),
      "invalid JSON: %s: %s", err ? err->message : "?", line);
  root = json_parser_get_root (parser);
  fail_unless (JSON_NODE_HOLDS_OBJECT (root));
  return json_node_get_object (root);
}

static JsonObject *
face_by_id (JsonArray *faces, guint id)
{
  guint i;

  for (i = 0; i < json_array_get_length (faces); i++) {
    JsonObject *f = json_array_get_object_element (faces, i);
    if (json_object_get_int_member (f, "id") == id)
      return f;
  }
  return NULL;
}

static void
check_keys (JsonObject *o, const gchar *const *expected)
{
  GList *members = json_object_get_members (o);
  guint n = g_strv_length ((gchar **)expected);

  fail_unless_equals_int (g_list_length (members), n);
  for (; *expected; expected++)
    fail_unless (
        json_object_has_member (o, *expected), "missing key %s", *expected);
  g_list_free (members);
}

static void
run_jsonl (gboolean features)
{
  gchar *dir = make_tmp_dir ();
  gchar *path = g_build_filename (dir, "out.jsonl", NULL);
  GstHarness *h = make_harness (make_sink ("jsonl", path, features));
  JsonParser *parser = json_parser_new ();
  GstBuffer *buf;
  gchar **lines;
  guint n, n_au, i;
  JsonObject *o, *f, *sub;
  JsonArray *faces, *lm;
  gfloat v[64], pts[2 * GST_AFFECT_N_LANDMARKS], e[7], a[12];
  const gchar *const *au_labels = gst_affect_abaw_au_labels (&n_au);

  /* frame 0: face 1 complete, face 2 box only + VA, track 7 predictions
   * without face, track 9 features without face */
  buf = new_frame (0);
  add_face (buf, 1, TRUE);
  add_face (buf, 2, FALSE)->score = NAN;
  add_predictions (buf, 1,
      GST_AFFECT_TASK_AU | GST_AFFECT_TASK_EXPRESSION | GST_AFFECT_TASK_VA);
  add_features (
      buf, 1, GST_AFFECT_MODALITY_IMAGE | GST_AFFECT_MODALITY_EXPRESSION, 16);
  add_predictions (buf, 2, GST_AFFECT_TASK_VA);
  add_predictions (buf, 7, GST_AFFECT_TASK_EXPRESSION);
  add_features (buf, 9, GST_AFFECT_MODALITY_WORDS, 4);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);

  /* frame 1: no faces */
  fail_unless_equals_int (
      gst_harness_push (h, new_frame (40 * GST_MSECOND)), GST_FLOW_OK);

  /* frame 2: no pts, offset 42 */
  buf = new_frame (GST_CLOCK_TIME_NONE);
  GST_BUFFER_OFFSET (buf) = 42;
  add_face (buf, 1, FALSE);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);

  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  lines = read_lines (path, &n);
  fail_unless_equals_int (n, 3);

  /* frame 0 */
  o = parse_line (parser, lines[0]);
  {
    const gchar *const keys[] = { "schema", "pts", "frame", "faces", NULL };
    check_keys (o, keys);
  }
  fail_unless_equals_int (json_object_get_int_member (o, "schema"), 1);
  fail_unless_equals_int (json_object_get_int_member (o, "pts"), 0);
  fail_unless_equals_int (json_object_get_int_member (o, "frame"), 0);
  faces = json_object_get_array_member (o, "faces");
  fail_unless_equals_int (json_array_get_length (faces), features ? 4 : 3);
  /* faces first, in buffer order, then prediction-only tracks */
  fail_unless_equals_int (json_object_get_int_member (
                              json_array_get_object_element (faces, 0), "id"),
      1);
  fail_unless_equals_int (json_object_get_int_member (
                              json_array_get_object_element (faces, 1), "id"),
      2);
  fail_unless_equals_int (json_object_get_int_member (
                              json_array_get_object_element (faces, 2), "id"),
      7);

  f = face_by_id (faces, 1);
  if (features) {
    const gchar *const keys[] = { "id", "box", "score", "landmarks",
      "expression", "au", "va", "features", NULL };
    check_keys (f, keys);
  } else {
    const gchar *const keys[]
        = { "id", "box", "score", "landmarks", "expression", "au", "va", NULL };
    check_keys (f, keys);
  }
  {
    gfloat box[4] = { 11.5f, 20.25f, 100.0f / 3.0f, 64.0f };
    check_json_floats (json_object_get_array_member (f, "box"), box, 4);
  }
  fail_unless ((gfloat)json_object_get_double_member (f, "score") == 0.875f);
  lm = json_object_get_array_member (f, "landmarks");
  fail_unless_equals_int (json_array_get_length (lm), GST_AFFECT_N_LANDMARKS);
  landmarks_for (1, pts);
  for (i = 0; i < GST_AFFECT_N_LANDMARKS; i++)
    check_json_floats (json_array_get_array_element (lm, i), pts + 2 * i, 2);
  sub = json_object_get_object_member (f, "expression");
  check_json_strings (
      json_object_get_array_member (sub, "labels"), expr_labels, 7);
  expr_probs_for (1, e);
  check_json_floats (json_object_get_array_member (sub, "probs"), e, 7);
  sub = json_object_get_object_member (f, "au");
  check_json_strings (
      json_object_get_array_member (sub, "labels"), au_labels, 12);
  au_probs_for (1, a);
  check_json_floats (json_object_get_array_member (sub, "probs"), a, 12);
  {
    gfloat va[2] = { 0.1f * 1 - 0.3f, -0.7f / 1 };
    check_json_floats (json_object_get_array_member (f, "va"), va, 2);
  }
  if (features) {
    const gchar *const keys[] = { "img", "exp", NULL };

    sub = json_object_get_object_member (f, "features");
    check_keys (sub, keys);
    feature_for (1, 0, 16, v);
    check_json_floats (json_object_get_array_member (sub, "img"), v, 16);
    feature_for (1, 1, 17, v);
    check_json_floats (json_object_get_array_member (sub, "exp"), v, 17);
  }

  f = face_by_id (faces, 2);
  {
    const gchar *const keys[] = { "id", "box", "score", "va", NULL };
    gfloat va[2] = { 0.1f * 2 - 0.3f, -0.7f / 2 };

    check_keys (f, keys);
    /* a NaN score is written as null */
    fail_unless (json_object_get_null_member (f, "score"));
    check_json_floats (json_object_get_array_member (f, "va"), va, 2);
  }

  f = face_by_id (faces, 7);
  {
    const gchar *const keys[] = { "id", "expression", NULL };

    check_keys (f, keys);
    sub = json_object_get_object_member (f, "expression");
    expr_probs_for (7, e);
    check_json_floats (json_object_get_array_member (sub, "probs"), e, 7);
  }

  f = face_by_id (faces, 9);
  if (features) {
    const gchar *const keys[] = { "id", "features", NULL };
    const gchar *const fkeys[] = { "wrd", NULL };

    check_keys (f, keys);
    sub = json_object_get_object_member (f, "features");
    check_keys (sub, fkeys);
    feature_for (9, 3, 7, v);
    check_json_floats (json_object_get_array_member (sub, "wrd"), v, 7);
  } else {
    fail_unless (f == NULL);
  }

  /* frame 1 */
  o = parse_line (parser, lines[1]);
  fail_unless_equals_int (
      json_object_get_int_member (o, "pts"), 40 * GST_MSECOND);
  fail_unless_equals_int (json_object_get_int_member (o, "frame"), 1);
  fail_unless_equals_int (
      json_array_get_length (json_object_get_array_member (o, "faces")), 0);

  /* frame 2 */
  o = parse_line (parser, lines[2]);
  fail_unless (json_object_get_null_member (o, "pts"));
  fail_unless_equals_int (json_object_get_int_member (o, "frame"), 42);
  faces = json_object_get_array_member (o, "faces");
  fail_unless_equals_int (json_array_get_length (faces), 1);
  {
    const gchar *const keys[] = { "id", "box", "score", NULL };
    check_keys (json_array_get_object_element (faces, 0), keys);
  }

  g_strfreev (lines);
  g_object_unref (parser);
  gst_harness_teardown (h);
  remove_tree (dir);
  g_free (path);
  g_free (dir);
}

GST_START_TEST (test_jsonl)
{
  run_jsonl (FALSE);
}

GST_END_TEST;

GST_START_TEST (test_jsonl_features)
{
  run_jsonl (TRUE);
}

GST_END_TEST;

GST_START_TEST (test_jsonl_escaping)
{
  gchar *dir = make_tmp_dir ();
  gchar *path = g_build_filename (dir, "out.jsonl", NULL);
  GstHarness *h = make_harness (make_sink ("jsonl", path, FALSE));
  JsonParser *parser = json_parser_new ();
  const gchar *const labels[2] = { "a \"quoted\"\\label", "tab\there\n" };
  gfloat probs[2] = { 0.25f, 0.75f };
  GstAffectPredictions p;
  GstBuffer *buf;
  JsonObject *o, *f;
  gchar **lines;
  guint n;

  gst_affect_predictions_init (&p);
  fail_unless (gst_affect_predictions_set_expression (&p, 2, labels, probs));
  buf = new_frame (0);
  gst_buffer_add_affect_predictions_meta (buf, 4, &p);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  lines = read_lines (path, &n);
  fail_unless_equals_int (n, 1);
  o = parse_line (parser, lines[0]);
  f = json_array_get_object_element (
      json_object_get_array_member (o, "faces"), 0);
  check_json_strings (
      json_object_get_array_member (
          json_object_get_object_member (f, "expression"), "labels"),
      labels, 2);

  g_strfreev (lines);
  g_object_unref (parser);
  gst_harness_teardown (h);
  remove_tree (dir);
  g_free (path);
  g_free (dir);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* CSV                                                                 */
/* ------------------------------------------------------------------ */

static gchar *
fmt_float (gfloat v)
{
  /* the sink writes the shortest round-tripping form; compare numerically */
  return g_strdup_printf ("%.9g", v);
}

static void
check_csv_float (const gchar *field, gfloat v)
{
  gchar *end = NULL;
  gdouble d = g_ascii_strtod (field, &end);
  gchar *want = fmt_float (v);

  fail_unless (end != field && *end == '\0', "not a number: '%s'", field);
  fail_unless ((gfloat)d == v, "'%s' != %s", field, want);
  g_free (want);
}

GST_START_TEST (test_csv)
{
  gchar *dir = make_tmp_dir ();
  gchar *path = g_build_filename (dir, "out.csv", NULL);
  GstHarness *h = make_harness (make_sink ("csv", path, TRUE));
  GString *want = g_string_new ("pts,frame,id,x,y,w,h,score");
  GstBuffer *buf;
  gchar **lines, **cols;
  guint n, i, n_au, n_cols;
  const gchar *const *au_labels = gst_affect_abaw_au_labels (&n_au);
  gfloat e[7], a[12], v[8];

  /* frame 0: nothing, no header yet and no row */
  fail_unless_equals_int (gst_harness_push (h, new_frame (0)), GST_FLOW_OK);

  /* frame 1: decides the columns */
  buf = new_frame (40 * GST_MSECOND);
  add_face (buf, 1, TRUE);
  add_predictions (buf, 1,
      GST_AFFECT_TASK_AU | GST_AFFECT_TASK_EXPRESSION | GST_AFFECT_TASK_VA);
  add_features (buf, 1, GST_AFFECT_MODALITY_IMAGE, 3);
  add_face (buf, 2, FALSE);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);

  /* frame 2: a prediction-only track, features longer than the columns */
  buf = new_frame (80 * GST_MSECOND);
  add_predictions (buf, 5, GST_AFFECT_TASK_VA);
  add_features (
      buf, 5, GST_AFFECT_MODALITY_IMAGE | GST_AFFECT_MODALITY_WORDS, 5);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  lines = read_lines (path, &n);
  fail_unless_equals_int (n, 1 + 2 + 1);

  for (i = 0; i < 7; i++)
    g_string_append_printf (want, ",expr_%s", expr_labels[i]);
  g_string_append (want, ",expr_index");
  for (i = 0; i < 12; i++)
    g_string_append_printf (want, ",%s", au_labels[i]);
  g_string_append (want, ",valence,arousal,img_0,img_1,img_2");
  fail_unless_equals_string (lines[0], want->str);
  n_cols = 8 + 7 + 1 + 12 + 2 + 3;

  /* row of face 1 */
  cols = g_strsplit (lines[1], ",", -1);
  fail_unless_equals_int (g_strv_length (cols), n_cols);
  fail_unless_equals_string (cols[0], "40000000");
  fail_unless_equals_string (cols[1], "1");
  fail_unless_equals_string (cols[2], "1");
  check_csv_float (cols[3], 11.5f);
  check_csv_float (cols[4], 20.25f);
  check_csv_float (cols[5], 100.0f / 3.0f);
  check_csv_float (cols[6], 64.0f);
  check_csv_float (cols[7], 0.875f);
  expr_probs_for (1, e);
  for (i = 0; i < 7; i++)
    check_csv_float (cols[8 + i], e[i]);
  /* expr_probs_for (1) is largest at index 6 */
  fail_unless_equals_string (cols[15], "6");
  au_probs_for (1, a);
  for (i = 0; i < 12; i++)
    check_csv_float (cols[16 + i], a[i]);
  check_csv_float (cols[28], 0.1f - 0.3f);
  check_csv_float (cols[29], -0.7f);
  feature_for (1, 0, 3, v);
  for (i = 0; i < 3; i++)
    check_csv_float (cols[30 + i], v[i]);
  g_strfreev (cols);

  /* row of face 2: box only, everything else empty */
  cols = g_strsplit (lines[2], ",", -1);
  fail_unless_equals_int (g_strv_length (cols), n_cols);
  fail_unless_equals_string (cols[2], "2");
  check_csv_float (cols[3], 12.5f);
  for (i = 8; i < n_cols; i++)
    fail_unless_equals_string (cols[i], "");
  g_strfreev (cols);

  /* prediction-only track 5: no box, VA, the img columns cut to 3 */
  cols = g_strsplit (lines[3], ",", -1);
  fail_unless_equals_int (g_strv_length (cols), n_cols);
  fail_unless_equals_string (cols[0], "80000000");
  fail_unless_equals_string (cols[1], "2");
  fail_unless_equals_string (cols[2], "5");
  for (i = 3; i < 28; i++)
    fail_unless_equals_string (cols[i], "");
  check_csv_float (cols[28], 0.5f - 0.3f);
  check_csv_float (cols[29], -0.7f / 5);
  feature_for (5, 0, 5, v);
  for (i = 0; i < 3; i++)
    check_csv_float (cols[30 + i], v[i]);
  g_strfreev (cols);

  g_strfreev (lines);
  g_string_free (want, TRUE);
  gst_harness_teardown (h);
  remove_tree (dir);
  g_free (path);
  g_free (dir);
}

GST_END_TEST;

GST_START_TEST (test_csv_no_faces)
{
  gchar *dir = make_tmp_dir ();
  gchar *path = g_build_filename (dir, "out.csv", NULL);
  GstHarness *h = make_harness (make_sink ("csv", path, FALSE));
  gchar **lines;
  guint n;

  fail_unless_equals_int (gst_harness_push (h, new_frame (0)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  /* a stream without faces still gives a valid table: the fixed columns */
  lines = read_lines (path, &n);
  fail_unless_equals_int (n, 1);
  fail_unless_equals_string (lines[0], "pts,frame,id,x,y,w,h,score");
  g_strfreev (lines);

  gst_harness_teardown (h);
  remove_tree (dir);
  g_free (path);
  g_free (dir);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Head pose                                                           */
/* ------------------------------------------------------------------ */

/* Frame 0: track 1 with a pose, track 2 without (box only); frame 1: track
 * 1 with another pose. */
static void
push_pose_frames (GstHarness *h)
{
  GstBuffer *buf = new_frame (0);
  GstAffectFaceMeta *m;

  m = add_face (buf, 1, TRUE);
  gst_affect_face_meta_set_pose (m, buf, 12.5f, -7.25f, 3.0f);
  add_face (buf, 2, FALSE);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);

  buf = new_frame (40 * GST_MSECOND);
  m = add_face (buf, 1, TRUE);
  gst_affect_face_meta_set_pose (m, buf, -30.0f, 15.5f, -45.0f);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
}

GST_START_TEST (test_head_pose_csv)
{
  gchar *dir = make_tmp_dir ();
  gchar *path = g_build_filename (dir, "out.csv", NULL);
  gboolean tidy;

  for (tidy = FALSE; tidy <= TRUE; tidy++) {
    GstElement *sink = make_sink ("csv", path, FALSE);
    GstHarness *h;
    gchar **lines, **cols;
    guint n, c;

    g_object_set (sink, "tidy", tidy, NULL);
    h = make_harness (sink);
    push_pose_frames (h);
    lines = read_lines (path, &n);
    fail_unless_equals_int (n, 1 + 3);
    /* the pose columns follow the box and score */
    if (tidy)
      fail_unless (g_str_has_prefix (lines[0],
          "pts,frame,timestamp,id,success,x,y,w,h,score,yaw,pitch,roll,"));
    else
      fail_unless_equals_string (
          lines[0], "pts,frame,id,x,y,w,h,score,yaw,pitch,roll");
    c = tidy ? 10 : 8;
    cols = g_strsplit (lines[1], ",", -1);
    check_csv_float (cols[c], 12.5f);
    check_csv_float (cols[c + 1], -7.25f);
    check_csv_float (cols[c + 2], 3.0f);
    g_strfreev (cols);
    /* no pose: empty cells */
    cols = g_strsplit (lines[2], ",", -1);
    fail_unless_equals_string (cols[tidy ? 3 : 2], "2");
    fail_unless_equals_string (cols[c], "");
    fail_unless_equals_string (cols[c + 1], "");
    fail_unless_equals_string (cols[c + 2], "");
    g_strfreev (cols);
    cols = g_strsplit (lines[3], ",", -1);
    check_csv_float (cols[c], -30.0f);
    check_csv_float (cols[c + 1], 15.5f);
    check_csv_float (cols[c + 2], -45.0f);
    g_strfreev (cols);
    g_strfreev (lines);
    gst_harness_teardown (h);
    g_unlink (path);
  }

  remove_tree (dir);
  g_free (path);
  g_free (dir);
}

GST_END_TEST;

GST_START_TEST (test_head_pose_jsonl)
{
  gchar *dir = make_tmp_dir ();
  gchar *path = g_build_filename (dir, "out.jsonl", NULL);
  JsonParser *parser = json_parser_new ();
  gboolean tidy;

  for (tidy = FALSE; tidy <= TRUE; tidy++) {
    GstElement *sink = make_sink ("jsonl", path, FALSE);
    GstHarness *h;
    gchar **lines;
    JsonObject *o, *f, *pose;
    guint n;

    g_object_set (sink, "tidy", tidy, NULL);
    h = make_harness (sink);
    push_pose_frames (h);
    lines = read_lines (path, &n);
    if (!tidy) {
      /* nested: a "pose" object, absent without pose */
      fail_unless_equals_int (n, 2);
      o = parse_line (parser, lines[0]);
      f = face_by_id (json_object_get_array_member (o, "faces"), 1);
      pose = json_object_get_object_member (f, "pose");
      fail_unless (pose != NULL);
      fail_unless_equals_int (json_object_get_size (pose), 3);
      fail_unless (
          (gfloat)json_object_get_double_member (pose, "yaw") == 12.5f);
      fail_unless (
          (gfloat)json_object_get_double_member (pose, "pitch") == -7.25f);
      fail_unless (
          (gfloat)json_object_get_double_member (pose, "roll") == 3.0f);
      f = face_by_id (json_object_get_array_member (o, "faces"), 2);
      fail_if (json_object_has_member (f, "pose"));
      o = parse_line (parser, lines[1]);
      f = face_by_id (json_object_get_array_member (o, "faces"), 1);
      pose = json_object_get_object_member (f, "pose");
      fail_unless (
          (gfloat)json_object_get_double_member (pose, "roll") == -45.0f);
    } else {
      /* flat: yaw, pitch and roll keys, absent without pose */
      fail_unless_equals_int (n, 3);
      o = parse_line (parser, lines[0]);
      fail_unless_equals_int (json_object_get_int_member (o, "id"), 1);
      fail_unless ((gfloat)json_object_get_double_member (o, "yaw") == 12.5f);
      fail_unless (
          (gfloat)json_object_get_double_member (o, "pitch") == -7.25f);
      fail_unless ((gfloat)json_object_get_double_member (o, "roll") == 3.0f);
      o = parse_line (parser, lines[1]);
      fail_unless_equals_int (json_object_get_int_member (o, "id"), 2);
      fail_if (json_object_has_member (o, "yaw"));
      fail_if (json_object_has_member (o, "pitch"));
      fail_if (json_object_has_member (o, "roll"));
      o = parse_line (parser, lines[2]);
      fail_unless ((gfloat)json_object_get_double_member (o, "yaw") == -30.0f);
    }
    g_strfreev (lines);
    gst_harness_teardown (h);
    g_unlink (path);
  }

  g_object_unref (parser);
  remove_tree (dir);
  g_free (path);
  g_free (dir);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* ABAW                                                                */
/* ------------------------------------------------------------------ */

static void
check_abaw_file (const gchar *dir, guint track, const gchar *task,
    const gchar *header, const gchar *const *expected, guint n_expected)
{
  gchar *name = g_strdup_printf ("track-%u.%s.txt", track, task);
  gchar *path = g_build_filename (dir, name, NULL);
  gchar **lines;
  guint n, i;

  lines = read_lines (path, &n);
  fail_unless_equals_int (n, 1 + n_expected);
  fail_unless_equals_string (lines[0], header);
  for (i = 0; i < n_expected; i++)
    fail_unless_equals_string (lines[1 + i], expected[i]);
  g_strfreev (lines);
  g_free (path);
  g_free (name);
}

static gchar *
au_line_for (guint id)
{
  gfloat a[12];
  GString *s = g_string_new (NULL);
  guint i;

  au_probs_for (id, a);
  for (i = 0; i < 12; i++)
    g_string_append_printf (s, "%s%d", i ? "," : "", a[i] >= 0.5f);
  return g_string_free (s, FALSE);
}

GST_START_TEST (test_abaw)
{
  gchar *tmp = make_tmp_dir ();
  /* a folder that does not exist yet, two levels deep */
  gchar *dir = g_build_filename (tmp, "annotations", "video-1", NULL);
  GstHarness *h = make_harness (make_sink ("abaw", dir, FALSE));
  const gchar *au_header
      = "AU1,AU2,AU4,AU6,AU7,AU10,AU12,AU15,AU23,AU24,AU25,AU26";
  const gchar *expr_header
      = "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other";
  const gchar *au_invalid = "-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1";
  gchar *au3 = au_line_for (3);
  guint frame;

  /* track 3: frames 2..5 with all tasks; track 5: frames 0, 1 with VA only
   * and frames 6, 7 as a face without predictions; frames 8, 9 empty */
  for (frame = 0; frame < 10; frame++) {
    GstBuffer *buf = new_frame (frame * 40 * GST_MSECOND);

    if (frame >= 2 && frame <= 5) {
      add_face (buf, 3, TRUE);
      add_predictions (buf, 3,
          GST_AFFECT_TASK_AU | GST_AFFECT_TASK_EXPRESSION | GST_AFFECT_TASK_VA);
    }
    if (frame <= 1) {
      add_face (buf, 5, FALSE);
      add_predictions (buf, 5, GST_AFFECT_TASK_VA);
    }
    if (frame == 6 || frame == 7)
      add_face (buf, 5, FALSE);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  /* everything is complete right after EOS, before the element stops */
  {
    const gchar *const au[10] = { au_invalid, au_invalid, au3, au3, au3, au3,
      au_invalid, au_invalid, au_invalid, au_invalid };
    /* expr_probs_for (3) is largest at index 4 = "fearful" -> Fear (3) */
    const gchar *const expr[10]
        = { "-1", "-1", "3", "3", "3", "3", "-1", "-1", "-1", "-1" };
    gchar *va3 = g_strdup_printf ("%.9g,%.9g", 0.1f * 3 - 0.3f, -0.7f / 3);
    const gchar *const va[10] = { "-5,-5", "-5,-5", NULL, NULL, NULL, NULL,
      "-5,-5", "-5,-5", "-5,-5", "-5,-5" };
    gchar *name = g_build_filename (dir, "track-3.VA.txt", NULL);
    gchar **lines;
    guint n, i;

    check_abaw_file (dir, 3, "AU", au_header, au, 10);
    check_abaw_file (dir, 3, "EXPR", expr_header, expr, 10);
    /* VA values: compare numerically */
    lines = read_lines (name, &n);
    fail_unless_equals_int (n, 11);
    fail_unless_equals_string (lines[0], "valence,arousal");
    for (i = 0; i < 10; i++) {
      if (va[i]) {
        fail_unless_equals_string (lines[1 + i], va[i]);
      } else {
        gchar **vals = g_strsplit (lines[1 + i], ",", -1);
        fail_unless_equals_int (g_strv_length (vals), 2);
        check_csv_float (vals[0], 0.1f * 3 - 0.3f);
        check_csv_float (vals[1], -0.7f / 3);
        g_strfreev (vals);
      }
    }
    g_strfreev (lines);
    g_free (name);
    g_free (va3);
  }
  {
    const gchar *const au[10]
        = { au_invalid, au_invalid, au_invalid, au_invalid, au_invalid,
            au_invalid, au_invalid, au_invalid, au_invalid, au_invalid };
    const gchar *const expr[10]
        = { "-1", "-1", "-1", "-1", "-1", "-1", "-1", "-1", "-1", "-1" };
    gchar *name = g_build_filename (dir, "track-5.VA.txt", NULL);
    gchar **lines;
    guint n, i;

    check_abaw_file (dir, 5, "AU", au_header, au, 10);
    check_abaw_file (dir, 5, "EXPR", expr_header, expr, 10);
    lines = read_lines (name, &n);
    fail_unless_equals_int (n, 11);
    for (i = 0; i < 2; i++) {
      gchar **vals = g_strsplit (lines[1 + i], ",", -1);
      check_csv_float (vals[0], 0.5f - 0.3f);
      check_csv_float (vals[1], -0.7f / 5);
      g_strfreev (vals);
    }
    for (i = 2; i < 10; i++)
      fail_unless_equals_string (lines[1 + i], "-5,-5");
    g_strfreev (lines);
    g_free (name);
  }

  gst_harness_teardown (h);
  remove_tree (tmp);
  g_free (au3);
  g_free (dir);
  g_free (tmp);
}

GST_END_TEST;

GST_START_TEST (test_abaw_task_and_offsets)
{
  gchar *dir = make_tmp_dir ();
  GstElement *sink = make_sink ("abaw", dir, FALSE);
  GstHarness *h;
  const guint64 offsets[] = { 0, 1, 5, 3, 9, 100000000 };
  const gchar *const expr[]
      = { "0", "-1", "-1", "-1", "-1", "0", "0", "-1", "-1", "-1", "7" };
  const gchar *const expr7[]
      = { "-1", "-1", "-1", "-1", "-1", "-1", "-1", "-1", "-1", "0", "-1" };
  gchar *path;
  guint i;

  gst_util_set_object_arg (G_OBJECT (sink), "abaw-task", "expr");
  h = make_harness (sink);
  /* frames given by buffer offsets: 2..4 dropped (invalid lines); 3 after 5
   * goes backwards and is appended as frame 6; track 7 first seen at 9; an
   * absurd jump is appended too (line 10), with a label ABAW does not know
   * (-> Other, 7) */
  for (i = 0; i < G_N_ELEMENTS (offsets); i++) {
    GstBuffer *buf = new_frame (i * 40 * GST_MSECOND);
    GstAffectPredictions p;
    const gchar *const label[2] = { "neutral", "x" };
    gfloat probs[2] = { 0.9f, 0.1f };

    if (offsets[i] == 100000000) {
      probs[0] = 0.1f;
      probs[1] = 0.9f;
    }
    GST_BUFFER_OFFSET (buf) = offsets[i];
    gst_affect_predictions_init (&p);
    fail_unless (gst_affect_predictions_set_expression (&p, 2, label, probs));
    if (offsets[i] != 1 && offsets[i] != 9)
      gst_buffer_add_affect_predictions_meta (buf, 1, &p);
    if (offsets[i] == 9)
      gst_buffer_add_affect_predictions_meta (buf, 7, &p);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
  /* stop() completes the files too */
  gst_harness_teardown (h);

  check_abaw_file (dir, 1, "EXPR",
      "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other", expr, 11);
  check_abaw_file (dir, 7, "EXPR",
      "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other", expr7, 11);
  /* only the selected task is written */
  path = g_build_filename (dir, "track-1.AU.txt", NULL);
  fail_if (g_file_test (path, G_FILE_TEST_EXISTS));
  g_free (path);
  path = g_build_filename (dir, "track-1.VA.txt", NULL);
  fail_if (g_file_test (path, G_FILE_TEST_EXISTS));
  g_free (path);

  remove_tree (dir);
  g_free (dir);
}

GST_END_TEST;

GST_START_TEST (test_abaw_many_tracks)
{
  gchar *dir = make_tmp_dir ();
  GstElement *sink = make_sink ("abaw", dir, FALSE);
  GstHarness *h;
  const guint n_tracks = 150, n_frames = 300;
  guint i, f;

  /* more tracks than files the sink keeps open: each track lives for 2
   * frames, then its files are closed and completed at the end */
  gst_util_set_object_arg (G_OBJECT (sink), "abaw-task", "va");
  h = make_harness (sink);
  for (f = 0; f < n_frames; f++) {
    GstBuffer *buf = new_frame (f * 40 * GST_MSECOND);

    add_predictions (buf, f / 2 + 1, GST_AFFECT_TASK_VA);
    /* track 1 comes back at the very end */
    if (f == n_frames - 1)
      add_predictions (buf, 1, GST_AFFECT_TASK_VA);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  for (i = 1; i <= n_tracks; i++) {
    gchar *name = g_strdup_printf ("track-%u.VA.txt", i);
    gchar *path = g_build_filename (dir, name, NULL);
    gchar **lines;
    guint n, k, valid = 0;

    lines = read_lines (path, &n);
    fail_unless_equals_int (n, 1 + n_frames);
    for (k = 1; k < n; k++)
      valid += strcmp (lines[k], "-5,-5") != 0;
    fail_unless_equals_int (valid, i == 1 ? 3 : 2);
    fail_unless (strcmp (lines[1 + 2 * (i - 1)], "-5,-5") != 0);
    g_strfreev (lines);
    g_free (path);
    g_free (name);
  }

  gst_harness_teardown (h);
  remove_tree (dir);
  g_free (dir);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* EOS, flush, errors                                                  */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_eos_and_flush)
{
  gchar *dir = make_tmp_dir ();
  gchar *path = g_build_filename (dir, "out.jsonl", NULL);
  GstHarness *h = make_harness (make_sink ("jsonl", path, FALSE));
  JsonParser *parser = json_parser_new ();
  GstSegment segment;
  gchar **lines;
  guint n, i;

  for (i = 0; i < 30; i++) {
    GstBuffer *buf = new_frame (i * 40 * GST_MSECOND);
    add_face (buf, 1, TRUE);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
  /* records are on disk after a flush */
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  lines = read_lines (path, &n);
  fail_unless_equals_int (n, 30);
  g_strfreev (lines);

  /* after the flush the frame counter restarts and the file is appended */
  gst_segment_init (&segment, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&segment)));
  for (i = 0; i < 20; i++) {
    GstBuffer *buf = new_frame (i * 40 * GST_MSECOND);
    add_face (buf, 2, FALSE);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  lines = read_lines (path, &n);
  fail_unless_equals_int (n, 50);
  for (i = 0; i < 50; i++) {
    JsonObject *o = parse_line (parser, lines[i]);
    JsonObject *f = json_array_get_object_element (
        json_object_get_array_member (o, "faces"), 0);

    fail_unless_equals_int (
        json_object_get_int_member (o, "frame"), i < 30 ? i : i - 30);
    fail_unless_equals_int (
        json_object_get_int_member (f, "id"), i < 30 ? 1 : 2);
  }
  g_strfreev (lines);

  g_object_unref (parser);
  gst_harness_teardown (h);
  remove_tree (dir);
  g_free (path);
  g_free (dir);
}

GST_END_TEST;

static GError *
expect_start_error (GstElement *sink)
{
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;

  gst_element_set_bus (sink, bus);
  fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message");
  gst_message_parse_error (msg, &err, NULL);
  gst_message_unref (msg);
  gst_element_set_state (sink, GST_STATE_NULL);
  gst_element_set_bus (sink, NULL);
  gst_object_unref (bus);
  gst_object_unref (sink);
  return err;
}

GST_START_TEST (test_location_errors)
{
  gchar *dir = make_tmp_dir ();
  gchar *file = g_build_filename (dir, "regular-file", NULL);
  gchar *bad = g_build_filename (file, "out.jsonl", NULL);
  GError *err;

  fail_unless (g_file_set_contents (file, "x", 1, NULL));

  /* no location */
  err = expect_start_error (make_sink ("jsonl", NULL, FALSE));
  fail_unless (
      g_error_matches (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND),
      "%s", err->message);
  g_error_free (err);

  /* the parent is a regular file: cannot be opened even as root */
  err = expect_start_error (make_sink ("jsonl", bad, FALSE));
  fail_unless (
      g_error_matches (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE),
      "%s", err->message);
  fail_unless (strstr (err->message, bad) != NULL, "%s", err->message);
  g_error_free (err);

  err = expect_start_error (make_sink ("csv", bad, FALSE));
  fail_unless (
      g_error_matches (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE),
      "%s", err->message);
  g_error_free (err);

  /* abaw: the folder cannot be created */
  err = expect_start_error (make_sink ("abaw", bad, FALSE));
  fail_unless (
      g_error_matches (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE),
      "%s", err->message);
  g_error_free (err);

  remove_tree (dir);
  g_free (bad);
  g_free (file);
  g_free (dir);
}

GST_END_TEST;

GST_START_TEST (test_write_error)
{
  GstElement *sink;
  GstHarness *h;
  GstBus *bus;
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;
  GstFlowReturn ret = GST_FLOW_OK;
  guint i;

  if (!g_file_test ("/dev/full", G_FILE_TEST_EXISTS)) {
    GST_INFO ("no /dev/full, skipping");
    return;
  }

  /* a few records: buffered, the error shows at EOS */
  sink = make_sink ("jsonl", "/dev/full", FALSE);
  bus = gst_bus_new ();
  gst_element_set_bus (sink, bus);
  h = make_harness (sink);
  fail_unless_equals_int (gst_harness_push (h, new_frame (0)), GST_FLOW_OK);
  fail_if (gst_harness_push_event (h, gst_event_new_eos ()));
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, &debug);
  fail_unless (
      g_error_matches (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE), "%s",
      err->message);
  /* the message names the file, the details give the system error */
  fail_unless (strstr (err->message, "/dev/full") != NULL, "%s", err->message);
  fail_unless (strstr (debug, g_strerror (ENOSPC)) != NULL, "%s", debug);
  g_clear_error (&err);
  g_clear_pointer (&debug, g_free);
  gst_message_unref (msg);
  gst_harness_teardown (h);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);

  /* many records: render fails with a flow error */
  sink = make_sink ("jsonl", "/dev/full", FALSE);
  bus = gst_bus_new ();
  gst_element_set_bus (sink, bus);
  h = make_harness (sink);
  for (i = 0; i < 1000 && ret == GST_FLOW_OK; i++) {
    GstBuffer *buf = new_frame (i * GST_MSECOND);
    add_face (buf, 1, TRUE);
    ret = gst_harness_push (h, buf);
  }
  fail_unless_equals_int (ret, GST_FLOW_ERROR);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, &debug);
  fail_unless (
      g_error_matches (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE), "%s",
      err->message);
  /* the message names the file, the details give the system error */
  fail_unless (strstr (err->message, "/dev/full") != NULL, "%s", err->message);
  fail_unless (strstr (debug, g_strerror (ENOSPC)) != NULL, "%s", debug);
  g_clear_error (&err);
  g_clear_pointer (&debug, g_free);
  gst_message_unref (msg);
  gst_harness_teardown (h);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Long run (for valgrind)                                             */
/* ------------------------------------------------------------------ */

static void
run_many_frames (const gchar *format, gboolean features)
{
  const guint n_frames = 10000;
  gchar *dir = make_tmp_dir ();
  gchar *path = g_build_filename (dir, "out", NULL);
  GstHarness *h = make_harness (make_sink (format, path, features));
  GstAffectPredictions p;
  const gchar *const labels[3] = { "neutral", "happy", "sad" };
  const gfloat probs[3] = { 0.25f, 0.5f, 0.25f };
  const gfloat feat[4] = { 0.5f, -0.5f, 0.25f, 1.0f };
  gchar **lines;
  guint i, n;

  /* short, exactly representable values keep this fast under valgrind */
  gst_affect_predictions_init (&p);
  fail_unless (gst_affect_predictions_set_expression (&p, 3, labels, probs));
  gst_affect_predictions_set_va (&p, 0.5f, -0.25f);

  for (i = 0; i < n_frames; i++) {
    GstBuffer *buf = new_frame (i * GST_MSECOND);
    GstAffectFeaturesMeta *fm;

    gst_buffer_add_affect_face_meta (buf, i % 3, 1.0f, 2.0f, 3.0f, 4.0f, 0.5f);
    gst_buffer_add_affect_predictions_meta (buf, i % 3, &p);
    fm = gst_buffer_add_affect_features_meta (buf, i % 3);
    gst_affect_features_meta_set (fm, GST_AFFECT_BRANCH_IMAGE, feat, 4);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  gst_harness_teardown (h);

  if (g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    lines = read_lines (path, &n);
    /* csv: one header line */
    fail_unless_equals_int (n, n_frames + (strcmp (format, "csv") == 0));
    g_strfreev (lines);
  } else {
    gchar *va = g_build_filename (path, "track-2.VA.txt", NULL);
    lines = read_lines (va, &n);
    fail_unless_equals_int (n, n_frames + 1);
    fail_unless_equals_string (lines[3], "0.5,-0.25");
    fail_unless_equals_string (lines[4], "-5,-5");
    g_strfreev (lines);
    g_free (va);
  }

  remove_tree (dir);
  g_free (path);
  g_free (dir);
}

GST_START_TEST (test_many_frames_jsonl)
{
  run_many_frames ("jsonl", TRUE);
}

GST_END_TEST;

GST_START_TEST (test_many_frames_csv)
{
  run_many_frames ("csv", TRUE);
}

GST_END_TEST;

GST_START_TEST (test_many_frames_abaw)
{
  run_many_frames ("abaw", FALSE);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Properties                                                          */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_properties)
{
  GstElement *sink = gst_element_factory_make ("affectsink", NULL);
  gchar *location = NULL;
  gint format, task;
  gboolean features, sync;

  fail_unless (sink != NULL);
  g_object_get (sink, "location", &location, "format", &format, "features",
      &features, "abaw-task", &task, "sync", &sync, NULL);
  fail_unless (location == NULL);
  fail_unless_equals_int (format, 0);
  fail_unless (!features);
  fail_unless_equals_int (task, 3);
  fail_unless (!sync);

  gst_util_set_object_arg (G_OBJECT (sink), "format", "abaw");
  gst_util_set_object_arg (G_OBJECT (sink), "abaw-task", "va");
  g_object_set (sink, "location", "/tmp/x", "features", TRUE, NULL);
  g_object_get (sink, "location", &location, "format", &format, "features",
      &features, "abaw-task", &task, NULL);
  fail_unless_equals_string (location, "/tmp/x");
  fail_unless_equals_int (format, 2);
  fail_unless (features);
  fail_unless_equals_int (task, 2);
  g_free (location);
  gst_object_unref (sink);
}

GST_END_TEST;

static Suite *
affectsink_suite (void)
{
  Suite *s = suite_create ("affectsink");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_jsonl);
  tcase_add_test (tc, test_jsonl_features);
  tcase_add_test (tc, test_jsonl_escaping);
  tcase_add_test (tc, test_csv);
  tcase_add_test (tc, test_csv_no_faces);
  tcase_add_test (tc, test_head_pose_csv);
  tcase_add_test (tc, test_head_pose_jsonl);
  tcase_add_test (tc, test_abaw);
  tcase_add_test (tc, test_abaw_task_and_offsets);
  tcase_add_test (tc, test_abaw_many_tracks);
  tcase_add_test (tc, test_eos_and_flush);
  tcase_add_test (tc, test_location_errors);
  tcase_add_test (tc, test_write_error);
  tcase_add_test (tc, test_many_frames_jsonl);
  tcase_add_test (tc, test_many_frames_csv);
  tcase_add_test (tc, test_many_frames_abaw);
  return s;
}

GST_CHECK_MAIN (affectsink);
