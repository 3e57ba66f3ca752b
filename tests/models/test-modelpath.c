/* gst-affect — tests/models
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Model lookup order, cache folder and the error message, with temporary
 * folders and environment variables. Every test runs in its own process
 * (check's fork mode) or restores the variables it changes.
 */

#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "affect-modelpath.h"

static gchar *tmpdir;
static gchar *saved_env[4];
static const gchar *env_names[4]
    = { "AFFECT_MODEL_DIR", "AFFECT_CACHE_DIR", "XDG_CACHE_HOME", "HOME" };

static void
touch (const gchar *dir, const gchar *name)
{
  gchar *p = g_build_filename (tmpdir, dir, name, NULL);
  gchar *d = g_path_get_dirname (p);

  ck_assert_int_eq (g_mkdir_with_parents (d, 0755), 0);
  ck_assert (g_file_set_contents (p, "x", 1, NULL));
  g_free (d);
  g_free (p);
}

static gchar *
tmp_path (const gchar *a, const gchar *b, const gchar *c)
{
  return g_build_filename (tmpdir, a, b, c, NULL);
}

static void
remove_tree (const gchar *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  const gchar *n;

  if (!d) {
    g_unlink (path);
    return;
  }
  while ((n = g_dir_read_name (d))) {
    gchar *p = g_build_filename (path, n, NULL);
    remove_tree (p);
    g_free (p);
  }
  g_dir_close (d);
  g_rmdir (path);
}

static void
setup (void)
{
  guint i;

  tmpdir = g_dir_make_tmp ("affect-mp-XXXXXX", NULL);
  ck_assert_ptr_nonnull (tmpdir);
  for (i = 0; i < G_N_ELEMENTS (env_names); i++) {
    saved_env[i] = g_strdup (g_getenv (env_names[i]));
    g_unsetenv (env_names[i]);
  }
  /* never look at the real cache of the user running the tests */
  g_setenv ("HOME", tmpdir, TRUE);
}

static void
teardown (void)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (env_names); i++) {
    if (saved_env[i])
      g_setenv (env_names[i], saved_env[i], TRUE);
    else
      g_unsetenv (env_names[i]);
    g_clear_pointer (&saved_env[i], g_free);
  }
  remove_tree (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
}

START_TEST (test_cache_dir)
{
  gchar *c, *want;

  /* $HOME/.cache/gst-affect */
  c = affect_cache_dir ();
  want = tmp_path (".cache", "gst-affect", NULL);
  ck_assert_str_eq (c, want);
  g_free (c);
  g_free (want);

  g_setenv ("XDG_CACHE_HOME", "/xdg/cache", TRUE);
  c = affect_cache_dir ();
  ck_assert_str_eq (c, "/xdg/cache/gst-affect");
  g_free (c);

  g_setenv ("AFFECT_CACHE_DIR", "/my/cache", TRUE);
  c = affect_cache_dir ();
  ck_assert_str_eq (c, "/my/cache");
  g_free (c);

  /* empty values are ignored */
  g_setenv ("AFFECT_CACHE_DIR", "", TRUE);
  g_setenv ("XDG_CACHE_HOME", "", TRUE);
  c = affect_cache_dir ();
  want = tmp_path (".cache", "gst-affect", NULL);
  ck_assert_str_eq (c, want);
  g_free (c);
  g_free (want);
}

END_TEST;

START_TEST (test_lookup_order)
{
  gchar *cache = tmp_path ("cache", NULL, NULL);
  gchar *envdir = tmp_path ("envdir", NULL, NULL);
  gchar *p, *want;
  GError *error = NULL;

  g_setenv ("AFFECT_CACHE_DIR", cache, TRUE);

  /* cache only */
  touch ("cache/models", "m.safetensors");
  p = affect_model_find ("m", NULL, &error);
  want = tmp_path ("cache", "models", "m.safetensors");
  ck_assert_msg (p != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (p, want);
  g_free (p);
  g_free (want);

  /* $AFFECT_MODEL_DIR wins over the cache */
  touch ("envdir", "m.safetensors");
  g_setenv ("AFFECT_MODEL_DIR", envdir, TRUE);
  p = affect_model_find ("m", NULL, &error);
  want = tmp_path ("envdir", "m.safetensors", NULL);
  ck_assert_str_eq (p, want);
  g_free (p);
  g_free (want);

  /* ... but a model missing there is still found further down */
  touch ("cache/models", "other.safetensors");
  p = affect_model_find ("other", "", &error);
  want = tmp_path ("cache", "models", "other.safetensors");
  ck_assert_str_eq (p, want);
  g_free (p);
  g_free (want);

  /* an explicit folder wins over everything */
  touch ("explicit", "m.safetensors");
  want = tmp_path ("explicit", "m.safetensors", NULL);
  p = tmp_path ("explicit", NULL, NULL);
  {
    gchar *found = affect_model_find ("m", p, &error);
    ck_assert_str_eq (found, want);
    g_free (found);
  }
  g_free (p);

  /* an explicit file is used as is, whatever the model name */
  p = affect_model_find ("whatever", want, &error);
  ck_assert_str_eq (p, want);
  g_free (p);
  g_free (want);

  g_free (cache);
  g_free (envdir);
}

END_TEST;

START_TEST (test_explicit_errors)
{
  gchar *dir = tmp_path ("explicit", NULL, NULL);
  gchar *missing = tmp_path ("nothing-here", NULL, NULL);
  GError *error = NULL;

  ck_assert_int_eq (g_mkdir_with_parents (dir, 0755), 0);
  /* a model that exists elsewhere is NOT used when an explicit path is set */
  touch ("cache/models", "m.safetensors");
  g_setenv ("AFFECT_CACHE_DIR", "cache", TRUE);

  ck_assert_ptr_null (affect_model_find ("m", dir, &error));
  ck_assert (g_error_matches (
      error, AFFECT_MODEL_ERROR, AFFECT_MODEL_ERROR_NOT_FOUND));
  ck_assert_msg (strstr (error->message, dir)
                     && strstr (error->message, "m.safetensors")
                     && strstr (error->message, "affect-fetch-models"),
      "%s", error->message);
  g_clear_error (&error);

  ck_assert_ptr_null (affect_model_find ("m", missing, &error));
  ck_assert (
      g_error_matches (error, AFFECT_MODEL_ERROR, AFFECT_MODEL_ERROR_INVALID));
  ck_assert_msg (strstr (error->message, missing), "%s", error->message);
  g_clear_error (&error);

  g_free (dir);
  g_free (missing);
}

END_TEST;

/* An explicit path that exists but is not a model file or a folder: the
 * error says what it is (affectfuse model=/dev/null said "not found"). */
START_TEST (test_explicit_not_regular)
{
  gchar *fifo = tmp_path ("pipe", NULL, NULL);
  gchar *dir = tmp_path ("models", NULL, NULL);
  gchar *inner = tmp_path ("models", "m.safetensors", NULL);
  gchar *missing = tmp_path ("nothing-here", NULL, NULL);
  GError *error = NULL;

  if (g_file_test ("/dev/null", G_FILE_TEST_EXISTS)) {
    ck_assert_ptr_null (affect_model_find ("m", "/dev/null", &error));
    ck_assert (g_error_matches (
        error, AFFECT_MODEL_ERROR, AFFECT_MODEL_ERROR_INVALID));
    ck_assert_msg (strstr (error->message, "'/dev/null'")
                       && strstr (error->message, "character device")
                       && !strstr (error->message, "not found"),
        "%s", error->message);
    g_clear_error (&error);
  }

  ck_assert_int_eq (mkfifo (fifo, 0600), 0);
  ck_assert_ptr_null (affect_model_find ("m", fifo, &error));
  ck_assert (
      g_error_matches (error, AFFECT_MODEL_ERROR, AFFECT_MODEL_ERROR_INVALID));
  ck_assert_msg (
      strstr (error->message, fifo) && strstr (error->message, "named pipe"),
      "%s", error->message);
  g_clear_error (&error);

  ck_assert_ptr_null (affect_model_find ("m", missing, &error));
  ck_assert_msg (strstr (error->message, missing)
                     && strstr (error->message, "does not exist"),
      "%s", error->message);
  g_clear_error (&error);

  /* A folder whose <name>.safetensors is itself a folder. */
  ck_assert_int_eq (g_mkdir_with_parents (inner, 0755), 0);
  ck_assert_ptr_null (affect_model_find ("m", dir, &error));
  ck_assert (
      g_error_matches (error, AFFECT_MODEL_ERROR, AFFECT_MODEL_ERROR_INVALID));
  ck_assert_msg (strstr (error->message, inner)
                     && strstr (error->message, "is a folder, not a file"),
      "%s", error->message);
  g_clear_error (&error);

  /* The default lookup mentions it too. */
  g_setenv ("AFFECT_MODEL_DIR", dir, TRUE);
  ck_assert_ptr_null (affect_model_find ("m", NULL, &error));
  ck_assert (g_error_matches (
      error, AFFECT_MODEL_ERROR, AFFECT_MODEL_ERROR_NOT_FOUND));
  ck_assert_msg (strstr (error->message, inner)
                     && strstr (error->message, "(which is a folder"),
      "%s", error->message);
  g_clear_error (&error);

  g_free (fifo);
  g_free (dir);
  g_free (inner);
  g_free (missing);
}

END_TEST;

START_TEST (test_not_found_message)
{
  gchar *cache = tmp_path ("cache", NULL, NULL);
  gchar *envdir = tmp_path ("envdir", NULL, NULL);
  gchar *p1, *p2, *p3;
  GError *error = NULL;

  g_setenv ("AFFECT_CACHE_DIR", cache, TRUE);
  g_setenv ("AFFECT_MODEL_DIR", envdir, TRUE);
  ck_assert_ptr_null (
      affect_model_find ("face_expression_model", NULL, &error));
  ck_assert (g_error_matches (
      error, AFFECT_MODEL_ERROR, AFFECT_MODEL_ERROR_NOT_FOUND));
  p1 = tmp_path ("envdir", "face_expression_model.safetensors", NULL);
  p2 = g_build_filename (affect_model_data_dir (), "models",
      "face_expression_model.safetensors", NULL);
  p3 = tmp_path ("cache", "models", "face_expression_model.safetensors");
  ck_assert_msg (strstr (error->message, p1), "%s", error->message);
  ck_assert_msg (strstr (error->message, p2), "%s", error->message);
  ck_assert_msg (strstr (error->message, p3), "%s", error->message);
  /* in lookup order */
  ck_assert (strstr (error->message, p1) < strstr (error->message, p2));
  ck_assert (strstr (error->message, p2) < strstr (error->message, p3));
  ck_assert_msg (strstr (error->message, "affect-fetch-models")
                     && strstr (error->message, "npm"),
      "%s", error->message);
  g_clear_error (&error);
  g_free (p1);
  g_free (p2);
  g_free (p3);
  g_free (cache);
  g_free (envdir);
}

END_TEST;

START_TEST (test_invalid_names)
{
  GError *error = NULL;

  ck_assert_ptr_null (affect_model_find ("", NULL, &error));
  ck_assert (
      g_error_matches (error, AFFECT_MODEL_ERROR, AFFECT_MODEL_ERROR_INVALID));
  g_clear_error (&error);
  ck_assert_ptr_null (affect_model_find ("../etc/passwd", NULL, &error));
  ck_assert (
      g_error_matches (error, AFFECT_MODEL_ERROR, AFFECT_MODEL_ERROR_INVALID));
  g_clear_error (&error);
  ck_assert_ptr_null (affect_model_find (NULL, NULL, &error));
  ck_assert (
      g_error_matches (error, AFFECT_MODEL_ERROR, AFFECT_MODEL_ERROR_INVALID));
  g_clear_error (&error);
}

END_TEST;

static Suite *
modelpath_suite (void)
{
  Suite *s = suite_create ("modelpath");
  TCase *tc = tcase_create ("general");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_cache_dir);
  tcase_add_test (tc, test_lookup_order);
  tcase_add_test (tc, test_explicit_errors);
  tcase_add_test (tc, test_explicit_not_regular);
  tcase_add_test (tc, test_not_found_message);
  tcase_add_test (tc, test_invalid_names);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (modelpath_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
