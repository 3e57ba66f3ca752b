/* gst-affect — tests/models
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The affect-evaluate command (models/tools/affect-evaluate.c):
 *  - on the random fixtures of tests/golden/evaluate (made by
 *    make-golden.py), its JSON scores and per-video track choices and fill
 *    counts against scikit-learn / numpy on the same pooled frames;
 *  - a small case computed by hand (missing and short predictions filled);
 *  - malformed files, mapping files and command lines: a clear message
 *    naming the file (and line) and a non-zero exit status.
 *
 * Usage: test-models-evaluate PATH-TO-affect-evaluate
 * (exit 77 = skipped when no path is given).
 */

#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "test-tools.h"

#define SCORE_TOL 1e-9

static const gchar *tool_path = NULL;

static const gchar *const au_header
    = "AU1,AU2,AU4,AU6,AU7,AU10,AU12,AU15,AU23,AU24,AU25,AU26";
static const gchar *const expr_header
    = "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other";

/* ---- helpers ---------------------------------------------------------- */

static void
write_file (const gchar *dir, const gchar *rel, const gchar *contents)
{
  gchar *path = g_build_filename (dir, rel, NULL);
  gchar *parent = g_path_get_dirname (path);
  GError *error = NULL;

  ck_assert_int_eq (g_mkdir_with_parents (parent, 0755), 0);
  ck_assert_msg (g_file_set_contents (path, contents, -1, &error), "%s",
      error ? error->message : "");
  g_free (parent);
  g_free (path);
}

static void
remove_tree (const gchar *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    GDir *d = g_dir_open (path, 0, NULL);
    const gchar *name;
    while (d && (name = g_dir_read_name (d))) {
      gchar *child = g_build_filename (path, name, NULL);
      remove_tree (child);
      g_free (child);
    }
    if (d)
      g_dir_close (d);
    g_rmdir (path);
  } else {
    g_unlink (path);
  }
}

static JsonNode *
load_json (const gchar *path)
{
  JsonParser *parser = affect_test_load_json (path);
  JsonNode *root = json_node_copy (json_parser_get_root (parser));

  g_object_unref (parser);
  return root;
}

/* Every member of @expected is in @got with the same value (numbers within
 * SCORE_TOL; integers exactly). */
static void
json_check (JsonNode *got, JsonNode *expected, const gchar *where)
{
  ck_assert_msg (got != NULL, "%s: missing", where);
  switch (JSON_NODE_TYPE (expected)) {
    case JSON_NODE_OBJECT: {
      JsonObject *e = json_node_get_object (expected), *g;
      GList *members = json_object_get_members (e);
      ck_assert_msg (JSON_NODE_HOLDS_OBJECT (got), "%s: not an object", where);
      g = json_node_get_object (got);
      for (GList *m = members; m; m = m->next) {
        gchar *sub = g_strdup_printf ("%s/%s", where, (gchar *)m->data);
        json_check (json_object_get_member (g, m->data),
            json_object_get_member (e, m->data), sub);
        g_free (sub);
      }
      g_list_free (members);
      break;
    }
    case JSON_NODE_ARRAY: {
      JsonArray *e = json_node_get_array (expected), *g;
      ck_assert_msg (JSON_NODE_HOLDS_ARRAY (got), "%s: not an array", where);
      g = json_node_get_array (got);
      ck_assert_msg (json_array_get_length (g) == json_array_get_length (e),
          "%s: %u entries, expected %u", where, json_array_get_length (g),
          json_array_get_length (e));
      for (guint i = 0; i < json_array_get_length (e); i++) {
        gchar *sub = g_strdup_printf ("%s/%u", where, i);
        json_check (
            json_array_get_element (g, i), json_array_get_element (e, i), sub);
        g_free (sub);
      }
      break;
    }
    case JSON_NODE_NULL:
      ck_assert_msg (JSON_NODE_HOLDS_NULL (got), "%s: expected null", where);
      break;
    case JSON_NODE_VALUE:
      ck_assert_msg (JSON_NODE_HOLDS_VALUE (got), "%s: not a value", where);
      if (json_node_get_value_type (expected) == G_TYPE_STRING) {
        ck_assert_msg (json_node_get_value_type (got) == G_TYPE_STRING,
            "%s: not a string", where);
        ck_assert_msg (
            strcmp (json_node_get_string (got), json_node_get_string (expected))
                == 0,
            "%s: '%s', expected '%s'", where, json_node_get_string (got),
            json_node_get_string (expected));
      } else if (json_node_get_value_type (expected) == G_TYPE_INT64) {
        ck_assert_msg (json_node_get_value_type (got) == G_TYPE_INT64,
            "%s: not an integer", where);
        ck_assert_msg (json_node_get_int (got) == json_node_get_int (expected),
            "%s: %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT, where,
            json_node_get_int (got), json_node_get_int (expected));
      } else {
        double g = json_node_get_double (got),
               e = json_node_get_double (expected);
        ck_assert_msg (fabs (g - e) <= SCORE_TOL, "%s: %.12g, expected %.12g",
            where, g, e);
      }
      break;
    default:
      ck_abort_msg ("%s: unexpected JSON node", where);
  }
}

static JsonObject *
member_object (JsonNode *root, const gchar *name)
{
  JsonObject *o = json_node_get_object (root);
  ck_assert_msg (json_object_has_member (o, name), "no member %s", name);
  return json_object_get_object_member (o, name);
}

/* The "track" of @video in the per-video list of a task object. */
static const gchar *
video_track (JsonObject *task, const gchar *video)
{
  JsonArray *a = json_object_get_array_member (task, "videos");
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonObject *v = json_array_get_object_element (a, i);
    if (strcmp (json_object_get_string_member (v, "name"), video) == 0)
      return json_object_get_null_member (v, "track")
                 ? NULL
                 : json_object_get_string_member (v, "track");
  }
  ck_abort_msg ("no video %s", video);
  return NULL;
}

/* ---- against scikit-learn --------------------------------------------- */

START_TEST (test_golden)
{
  gchar *pred = affect_test_golden_path ("evaluate", "pred"),
        *au = affect_test_golden_path ("evaluate", "ann/AU");
  gchar *expr = affect_test_golden_path ("evaluate", "ann/EXPR"),
        *va = affect_test_golden_path ("evaluate", "ann/VA");
  gchar *map = affect_test_golden_path ("evaluate", "map.txt"),
        *exp_path = affect_test_golden_path ("evaluate", "expected.json");
  gchar *dir = g_dir_make_tmp ("affect-evaluate-XXXXXX", NULL);
  gchar *json = g_build_filename (dir, "scores.json", NULL);
  gchar *out = NULL, *err = NULL, *total;
  JsonNode *got, *expected;
  const gchar *args[] = { "--pred", pred, "--au", au, "--expr", expr, "--va",
    va, "--map", map, "--json", json, NULL };
  int rc;

  rc = affect_test_run_tool (tool_path, args, &out, &err);
  ck_assert_msg (rc == 0, "affect-evaluate failed (%d): %s", rc, err);
  got = load_json (json);
  expected = load_json (exp_path);
  json_check (got, expected, "");
  /* the documented warnings */
  ck_assert_msg (strstr (err, "most valid frames") != NULL, "%s", err);
  ck_assert_msg (strstr (err, "extra predictions are ignored"), "%s", err);
  ck_assert_msg (
      strstr (err, "after the last prediction are filled"), "%s", err);
  ck_assert_msg (strstr (err, "no prediction folder vidE"), "%s", err);
  ck_assert_msg (
      strstr (err, "track-0.VA.txt; every labelled frame"), "%s", err);
  /* the table on standard output */
  total = g_strdup_printf ("%.4f",
      json_object_get_double_member (json_node_get_object (expected), "total"));
  ck_assert_msg (strstr (out, "Total") && strstr (out, total), "%s", out);
  ck_assert_msg (strstr (out, "mean F1 over 12 AUs"), "%s", out);
  ck_assert_msg (strstr (out, "mean F1 over 8 classes"), "%s", out);
  g_free (total);

  json_node_unref (got);
  json_node_unref (expected);
  g_free (out);
  g_free (err);
  g_unlink (json);
  g_rmdir (dir);
  g_free (json);
  g_free (dir);
  g_free (pred);
  g_free (au);
  g_free (expr);
  g_free (va);
  g_free (map);
  g_free (exp_path);
}

END_TEST

/* One task, no map, JSON on standard output: no total, and without the map
 * both faces of vidD get the same track (the one of folder vidD with the
 * most valid expression frames), with a warning. */
START_TEST (test_one_task)
{
  gchar *pred = affect_test_golden_path ("evaluate", "pred"),
        *expr = affect_test_golden_path ("evaluate", "ann/EXPR");
  gchar *out = NULL, *err = NULL;
  const gchar *args[] = { "--pred", pred, "--expr", expr, "--json", "-", NULL };
  JsonParser *parser = json_parser_new ();
  GError *error = NULL;
  JsonObject *root, *t;
  const gchar *left, *right;
  int rc;

  rc = affect_test_run_tool (tool_path, args, &out, &err);
  ck_assert_msg (rc == 0, "affect-evaluate failed (%d): %s", rc, err);
  ck_assert_msg (json_parser_load_from_data (parser, out, -1, &error),
      "not JSON (%s): %s", error ? error->message : "", out);
  root = json_node_get_object (json_parser_get_root (parser));
  ck_assert (!json_object_has_member (root, "total"));
  ck_assert (!json_object_has_member (root, "au"));
  ck_assert (!json_object_has_member (root, "va"));
  t = json_object_get_object_member (root, "expr");
  left = video_track (t, "vidD_left");
  right = video_track (t, "vidD_right");
  ck_assert (left != NULL && right != NULL);
  ck_assert_str_eq (left, right);
  ck_assert (g_str_has_prefix (left, "vidD/track-"));
  ck_assert_msg (strstr (err, "twin may share"), "%s", err);
  ck_assert_str_eq (video_track (t, "vidB"), "vidB/track-4");
  g_object_unref (parser);
  g_free (out);
  g_free (err);
  g_free (pred);
  g_free (expr);
}

END_TEST

/* ---- a case computed by hand ------------------------------------------ */

START_TEST (test_by_hand)
{
  gchar *dir = g_dir_make_tmp ("affect-evaluate-XXXXXX", NULL);
  gchar *pred = g_build_filename (dir, "pred", NULL);
  gchar *ann_e = g_build_filename (dir, "ann", "EXPR", NULL);
  gchar *ann_a = g_build_filename (dir, "ann", "AU", NULL);
  gchar *ann_v = g_build_filename (dir, "ann", "VA", NULL);
  gchar *json = g_build_filename (dir, "s.json", NULL);
  gchar *out = NULL, *err = NULL;
  const gchar *args[] = { "--pred", pred, "--expr", ann_e, "--au", ann_a,
    "--va", ann_v, "--json", json, NULL };
  JsonNode *root;
  JsonObject *e, *a, *v;
  int rc;

  /* 3 classes; labels 0 1 2 2 -1, predictions 0 -1 2 (then none): the
   * predictions used are 0 0 2 0 (2 filled).
   * A: tp 1 fp 2 -> 0.5; B: fn 1 -> 0; C: tp 1 fn 1 -> 2/3. */
  write_file (dir, "ann/EXPR/v.txt", "A,B,C\n0\n1\n2\n2\n-1\n");
  write_file (dir, "pred/v/track-5.EXPR.txt", "A,B,C\n0\n-1\n2\n");
  /* two AUs; AU X: labels 1 1 0 -1, predictions 1 -1 1 0 (filled 0):
   * tp 1 fn 1 fp 1 -> 0.5; AU Y: labels 0 0 1 1, predictions 0 -1 0.5 0.49:
   * tp 1 fn 1 -> 2/3. Frame 2 (index 1) is filled. The annotation starts
   * with a UTF-8 byte order mark. */
  write_file (dir, "ann/AU/v.txt", "\xef\xbb\xbfX,Y\n1,0\n1,0\n0,1\n-1,1\n");
  write_file (dir, "pred/v/track-5.AU.txt", "Y,X\n0,1\n-1,-1\n0.5,1\n0.49,0\n");
  /* VA: labels (0.5,-5) (-5,-5) (-0.5,0.5) (0,-0.5); predictions
   * (0.5,0.1) (0.2,0.2) (-5,-5) (0,-0.5): valence over frames 0, 2, 3 with
   * x = (0.5, 0, 0), y = (0.5, -0.5, 0) -> CCC 2 cov / (vx + vy + d^2);
   * arousal over frames 2, 3: x = (0, -0.5), y = (0.5, -0.5). */
  write_file (dir, "ann/VA/v.txt",
      "valence,arousal\n0.5,-5\n-5,-5\n-0.5,0.5\n0,-0.5\n");
  write_file (dir, "pred/v/track-5.VA.txt",
      "valence,arousal\n0.5,0.1\n0.2,0.2\n-5,-5\n0,-0.5\n");

  rc = affect_test_run_tool (tool_path, args, &out, &err);
  ck_assert_msg (rc == 0, "affect-evaluate failed (%d): %s", rc, err);
  root = load_json (json);
  e = member_object (root, "expr");
  ck_assert_double_eq_tol (json_object_get_double_member (e, "f1_mean"),
      (0.5 + 0.0 + 2.0 / 3.0) / 3.0, 1e-12);
  ck_assert_int_eq (json_object_get_int_member (e, "labelled"), 4);
  ck_assert_int_eq (json_object_get_int_member (e, "filled"), 2);
  ck_assert_str_eq (video_track (e, "v"), "v/track-5");
  a = member_object (root, "au");
  ck_assert_double_eq_tol (json_object_get_double_member (
                               json_object_get_object_member (a, "f1"), "X"),
      0.5, 1e-12);
  ck_assert_double_eq_tol (json_object_get_double_member (
                               json_object_get_object_member (a, "f1"), "Y"),
      2.0 / 3.0, 1e-12);
  ck_assert_int_eq (json_object_get_int_member (a, "labelled"), 4);
  ck_assert_int_eq (json_object_get_int_member (a, "filled"), 1);
  v = member_object (root, "va");
  {
    /* valence: x = (0.5, 0, 0), y = (0.5, -0.5, 0) */
    double mx = 0.5 / 3, my = 0.0, vx, vy, cov, cv, ca;
    vx = ((0.5 - mx) * (0.5 - mx) + 2 * mx * mx) / 3;
    vy = (0.25 + 0.25) / 3;
    cov = ((0.5 - mx) * 0.5 + (0 - mx) * (-0.5) + 0) / 3;
    cv = 2 * cov / (vx + vy + (mx - my) * (mx - my));
    /* arousal: x = (0, -0.5), y = (0.5, -0.5): means -0.25, 0 */
    vx = 0.0625;
    vy = 0.25;
    cov = ((0.25) * 0.5 + (-0.25) * (-0.5)) / 2;
    ca = 2 * cov / (vx + vy + 0.0625);
    ck_assert_double_eq_tol (
        json_object_get_double_member (v, "ccc_valence"), cv, 1e-7);
    ck_assert_double_eq_tol (
        json_object_get_double_member (v, "ccc_arousal"), ca, 1e-7);
  }
  /* frame 2 has a label and no prediction */
  ck_assert_int_eq (json_object_get_int_member (v, "labelled"), 3);
  ck_assert_int_eq (json_object_get_int_member (v, "filled"), 1);
  ck_assert_msg (
      strstr (err, "the labelled frames after the last prediction"), "%s", err);
  json_node_unref (root);

  remove_tree (dir);
  g_free (out);
  g_free (err);
  g_free (json);
  g_free (ann_e);
  g_free (ann_a);
  g_free (ann_v);
  g_free (pred);
  g_free (dir);
}

END_TEST

/* ---- malformed input --------------------------------------------------- */

typedef struct {
  const gchar *file;     /* relative to the temporary folder; NULL: none */
  const gchar *contents; /* NULL: the file is removed */
  const gchar *expect;   /* in the message, after the folder */
} BadCase;

static const BadCase bad_cases[] = {
  /* 0 */ { "ann/AU/v1.txt",
      "AU1,AU2,AU4,AU6,AU7,AU10,AU12,AU15,AU23,AU24,AU25,AU26\n"
      "0,0,0,0,0,0,0,0,0,0,0,0\n0,0,0,0,0,0,0,0,0,0,0\n",
      "ann/AU/v1.txt:3: 11 values, expected 12" },
  /* 1 */
  { "ann/AU/v1.txt",
      "AU1,AU2,AU4,AU6,AU7,AU10,AU12,AU15,AU23,AU24,AU25,AU26\n"
      "0,0,2,0,0,0,0,0,0,0,0,0\n",
      "ann/AU/v1.txt:2: value 3 is 2: an AU label must be" },
  /* 2 */
  { "ann/EXPR/v1.txt",
      "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other\n0\n8\n",
      "ann/EXPR/v1.txt:3: value 1 is 8" },
  /* 3 */
  { "pred/v1/track-0.VA.txt", "valence,arousal\nabc,0.1\n",
      "pred/v1/track-0.VA.txt:2: value 1 ('abc') is not a number" },
  /* 4 */
  { "ann/VA/v1.txt", "valence,arousal\n0.1,0.2\n0.3,1.5\n",
      "ann/VA/v1.txt:3: value 2 is 1.5" },
  /* 5 */
  { "ann/AU/v1.txt", "0,0,0,0,0,0,0,0,0,0,0,0\n",
      "ann/AU/v1.txt:1: expected a header line" },
  /* 6 */
  { "ann/EXPR/v1.txt",
      "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other\n0\n\n1\n",
      "ann/EXPR/v1.txt:3: empty line" },
  /* 7 */
  { "pred/v1/track-0.AU.txt",
      "AU1,AU2,AU4,AU6,AU7,AU10,AU12,AU15,AU23,AU24,AU25,AU26\n"
      "1.7,0,0,0,0,0,0,0,0,0,0,0\n",
      "pred/v1/track-0.AU.txt:2: value 1 is 1.7" },
  /* 8 */
  { "map.txt", "v1 v1/track-0\nv2 track-1 extra\n",
      "map.txt:2: expected '<annotation name> <video folder>/track-N'" },
  /* 9 */
  { "map.txt", "v1 v1/track-3\n", "map.txt:1: no file" },
  /* 10 */
  { "map.txt", "v1 v1/track-0\nv1.txt v1/track-0\n",
      "map.txt:2: 'v1' is already mapped on line 1" },
  /* 11 */ { "ann/EXPR/v1.txt", "", "ann/EXPR/v1.txt:1: expected a header" },
  /* 12 */
  { "ann/EXPR/v2.txt", "Neutral,Anger,Disgust,Fear,Happiness,Sadness\n0\n",
      "ann/EXPR/v2.txt:1: header 'Neutral,Anger,Disgust,Fear,Happiness,"
      "Sadness' differs" },
  /* 13 */
  { "ann/VA/v1.txt", "valence,arousal,other\n0,0,0\n",
      "ann/VA/v1.txt:1: the header of a valence-arousal file has 2 columns" },
  /* 14 */
  { "pred/v1/track-0.EXPR.txt",
      "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other\n0.5\n",
      "pred/v1/track-0.EXPR.txt:2: value 1 is 0.5: an expression prediction" },
  /* 15 */
  { "ann/VA/v1.txt", "valence,arousal\n0.1,0.2\r\n0.3\r\n",
      "ann/VA/v1.txt:3: 1 value, expected 2" },
  /* 16 */ { "ann/AU/v1.txt", NULL, "ann/AU: no annotation files" },
  /* 17 */
  { "pred/v1/track-0.VA.txt", "valence,arousal\n0.1,nan\n",
      "pred/v1/track-0.VA.txt:2: value 2 ('nan') is not a number" },
};

static void
write_valid_set (const gchar *dir)
{
  gchar *au = g_strdup_printf ("%s\n0,1,0,0,0,0,0,0,0,0,1,0\n"
                               "-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1\n",
      au_header);
  gchar *ex = g_strdup_printf ("%s\n0\n3\n-1\n", expr_header);

  write_file (dir, "ann/AU/v1.txt", au);
  write_file (dir, "pred/v1/track-0.AU.txt", au);
  write_file (dir, "ann/EXPR/v1.txt", ex);
  write_file (dir, "pred/v1/track-0.EXPR.txt", ex);
  write_file (dir, "ann/VA/v1.txt", "valence,arousal\n0.5,-0.2\n-5,-5\n");
  write_file (dir, "pred/v1/track-0.VA.txt", "valence,arousal\n0.4,0\n0,0\n");
  write_file (dir, "map.txt", "# nothing\n");
  g_free (au);
  g_free (ex);
}

static int
run_on_set (const gchar *dir, gchar **err)
{
  gchar *pred = g_build_filename (dir, "pred", NULL);
  gchar *au = g_build_filename (dir, "ann", "AU", NULL);
  gchar *expr = g_build_filename (dir, "ann", "EXPR", NULL);
  gchar *va = g_build_filename (dir, "ann", "VA", NULL);
  gchar *map = g_build_filename (dir, "map.txt", NULL);
  const gchar *args[] = { "--pred", pred, "--au", au, "--expr", expr, "--va",
    va, "--map", map, NULL };
  gchar *out = NULL;
  int rc = affect_test_run_tool (tool_path, args, &out, err);

  g_free (out);
  g_free (pred);
  g_free (au);
  g_free (expr);
  g_free (va);
  g_free (map);
  return rc;
}

START_TEST (test_valid_set)
{
  gchar *dir = g_dir_make_tmp ("affect-evaluate-XXXXXX", NULL);
  gchar *err = NULL;
  int rc;

  write_valid_set (dir);
  rc = run_on_set (dir, &err);
  ck_assert_msg (rc == 0, "%s", err);
  /* identical predictions and labels: no warning */
  ck_assert_msg (strstr (err, "warning") == NULL, "%s", err);
  g_free (err);
  remove_tree (dir);
  g_free (dir);
}

END_TEST

START_TEST (test_malformed)
{
  const BadCase *c = &bad_cases[_i];
  gchar *dir = g_dir_make_tmp ("affect-evaluate-XXXXXX", NULL);
  gchar *err = NULL, *expect;
  int rc;

  write_valid_set (dir);
  if (c->contents) {
    write_file (dir, c->file, c->contents);
  } else {
    gchar *path = g_build_filename (dir, c->file, NULL);
    g_unlink (path);
    g_free (path);
  }
  rc = run_on_set (dir, &err);
  ck_assert_msg (rc == 1, "case %d: exit %d, expected 1: %s", _i, rc, err);
  expect = g_strdup_printf ("%s/%s", dir, c->expect);
  ck_assert_msg (strstr (err, expect) != NULL,
      "case %d: '%s' not in the message: %s", _i, expect, err);
  ck_assert_msg (g_str_has_prefix (err, "affect-evaluate: "), "%s", err);
  g_free (expect);
  g_free (err);
  remove_tree (dir);
  g_free (dir);
}

END_TEST

START_TEST (test_bad_usage)
{
  gchar *dir = g_dir_make_tmp ("affect-evaluate-XXXXXX", NULL);
  gchar *pred = g_build_filename (dir, "pred", NULL);
  gchar *au = g_build_filename (dir, "ann", "AU", NULL);
  gchar *nowhere = g_build_filename (dir, "nowhere", NULL);
  gchar *out = NULL, *err = NULL;

  write_valid_set (dir);
  {
    const gchar *args[] = { "--au", au, NULL };
    ck_assert_int_eq (affect_test_run_tool (tool_path, args, &out, &err), 2);
    ck_assert_msg (strstr (err, "--pred is required"), "%s", err);
    g_free (out);
    g_free (err);
  }
  {
    const gchar *args[] = { "--pred", pred, NULL };
    ck_assert_int_eq (affect_test_run_tool (tool_path, args, &out, &err), 2);
    ck_assert_msg (strstr (err, "--au, --expr, --va"), "%s", err);
    g_free (out);
    g_free (err);
  }
  {
    const gchar *args[] = { "--pred", pred, "--au", au, "extra", NULL };
    ck_assert_int_eq (affect_test_run_tool (tool_path, args, &out, &err), 2);
    g_free (out);
    g_free (err);
  }
  {
    const gchar *args[] = { "--pred", pred, "--bogus", NULL };
    ck_assert_int_eq (affect_test_run_tool (tool_path, args, &out, &err), 2);
    g_free (out);
    g_free (err);
  }
  {
    const gchar *args[] = { "--pred", pred, "--va", nowhere, NULL };
    ck_assert_int_eq (affect_test_run_tool (tool_path, args, &out, &err), 1);
    ck_assert_msg (strstr (err, nowhere), "%s", err);
    g_free (out);
    g_free (err);
  }
  {
    const gchar *args[] = { "--pred", nowhere, "--au", au, NULL };
    ck_assert_int_eq (affect_test_run_tool (tool_path, args, &out, &err), 1);
    ck_assert_msg (strstr (err, "not a folder"), "%s", err);
    g_free (out);
    g_free (err);
  }
  {
    const gchar *args[]
        = { "--pred", pred, "--au", au, "--map", nowhere, NULL };
    ck_assert_int_eq (affect_test_run_tool (tool_path, args, &out, &err), 1);
    ck_assert_msg (strstr (err, nowhere), "%s", err);
    g_free (out);
    g_free (err);
  }
  remove_tree (dir);
  g_free (nowhere);
  g_free (au);
  g_free (pred);
  g_free (dir);
}

END_TEST

static Suite *
evaluate_suite (void)
{
  Suite *s = suite_create ("evaluate");
  TCase *tc = tcase_create ("scores");

  tcase_add_test (tc, test_golden);
  tcase_add_test (tc, test_one_task);
  tcase_add_test (tc, test_by_hand);
  tcase_add_test (tc, test_valid_set);
  suite_add_tcase (s, tc);

  tc = tcase_create ("errors");
  tcase_add_loop_test (tc, test_malformed, 0, G_N_ELEMENTS (bad_cases));
  tcase_add_test (tc, test_bad_usage);
  suite_add_tcase (s, tc);
  return s;
}

int
main (int argc, char **argv)
{
  SRunner *sr;
  int failed;

  if (argc < 2) {
    g_print ("affect-evaluate path not given: skipping\n");
    return 77;
  }
  tool_path = argv[1];
  sr = srunner_create (evaluate_suite ());
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
