/* gst-affect — tests/models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * affect-info (models/tools/affect-info.c):
 *
 *   test-models-info AFFECT_INFO MODULE_DIR
 *
 * Runs the tool with the models where the suite has them (the cache;
 * skipped when they are missing unless AFFECT_REQUIRE_MODELS=1), with
 * AFFECT_MODEL_DIR and AFFECT_CACHE_DIR pointed at empty folders (missing,
 * exit status 1), and with a fusion model in AFFECT_MODEL_DIR and the test
 * backend module in AFFECT_BACKEND_PATH (-v), and with a cache that has
 * every model but the Whisper ones (listed as missing with their fetch
 * command; optional, exit status 0) or a broken Whisper folder.
 */

#include <check.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "affect-ct2.h"
#include "affect-engine.h"
#include "affect-text.h"
#include "test-tools.h"

static const gchar *info_path;
static const gchar *module_dir;

static const gchar *required_face[] = { "tiny_face_detector_model",
  "ssd_mobilenetv1_model", "face_landmark_68_model", "face_expression_model",
  "face_recognition_model" };

/* Runs affect-info with @args and the environment changed by @env
 * (NAME, VALUE pairs, NULL-terminated; a NULL VALUE unsets), restored
 * afterwards (the tests may share one process with CK_FORK=no). */
static int
run_info (const gchar *const *env, const gchar *const *args, gchar **out)
{
  GPtrArray *saved = g_ptr_array_new_with_free_func (g_free);
  gchar *err = NULL;
  guint i;
  int status;

  for (i = 0; env[i] != NULL; i += 2) {
    g_ptr_array_add (saved, g_strdup (g_getenv (env[i])));
    if (env[i + 1])
      g_setenv (env[i], env[i + 1], TRUE);
    else
      g_unsetenv (env[i]);
  }
  status = affect_test_run_tool (info_path, args, out, &err);
  for (i = 0; env[i] != NULL; i += 2) {
    const gchar *old = g_ptr_array_index (saved, i / 2);
    if (old)
      g_setenv (env[i], old, TRUE);
    else
      g_unsetenv (env[i]);
  }
  /* Nothing on standard error: no warnings, whatever is missing. */
  ck_assert_msg (
      err == NULL || *err == '\0', "affect-info wrote on stderr: %s", err);
  g_free (err);
  g_ptr_array_unref (saved);
  return status;
}

static void
assert_contains (const gchar *out, const gchar *needle)
{
  ck_assert_msg (strstr (out, needle) != NULL,
      "affect-info's output does not contain '%s':\n%s", needle, out);
}

/* Skip (FALSE) when the models are not installed, or fail when
 * AFFECT_REQUIRE_MODELS=1. */
static gboolean
require (gboolean present, const gchar *what)
{
  if (present)
    return TRUE;
  ck_assert_msg (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") != 0,
      "%s is missing and AFFECT_REQUIRE_MODELS=1", what);
  g_printerr ("SKIP: %s is missing (affect-fetch-models, "
              "affect-fetch-word-model)\n",
      what);
  return FALSE;
}

static gchar *
copy_to (const gchar *src, const gchar *dir, const gchar *name)
{
  gchar *data = NULL, *dst = g_build_filename (dir, name, NULL);
  gsize len = 0;

  ck_assert (g_file_get_contents (src, &data, &len, NULL));
  ck_assert (g_file_set_contents (dst, data, (gssize)len, NULL));
  g_free (data);
  return dst;
}

START_TEST (test_help)
{
  const gchar *help[] = { "--help", NULL },
              *bad[] = { "--no-such-option", NULL };
  const gchar *extra[] = { "extra", NULL }, *none[] = { NULL };
  gchar *out = NULL;

  ck_assert_int_eq (run_info (none, help, &out), 0);
  assert_contains (out, "--verbose");
  assert_contains (out, "Exit status");
  g_free (out);
  /* Usage errors: status 2 (what they say goes to stderr, not checked). */
  ck_assert_int_eq (affect_test_run_tool (info_path, bad, NULL, NULL), 2);
  ck_assert_int_eq (affect_test_run_tool (info_path, extra, NULL, NULL), 2);
}

END_TEST;

/* The suite's environment: the models are installed. */
START_TEST (test_installed)
{
  const gchar *none[] = { NULL };
  gchar *out = NULL, *path, *word;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (required_face); i++) {
    path = affect_model_find (required_face[i], NULL, NULL);
    if (!require (path != NULL, required_face[i]))
      return;
    g_free (path);
  }
  word = affect_bert_find (NULL, NULL);
  if (!require (word != NULL, AFFECT_BERT_DEFAULT_MODEL))
    return;

  ck_assert_int_eq (run_info (none, none, &out), 0);
  assert_contains (out, "Backends");
  assert_contains (out, "  cpu      available");
  assert_contains (out, "auto  -> ");
  assert_contains (out, "core");
  for (i = 0; i < G_N_ELEMENTS (required_face); i++) {
    gchar *line;
    path = affect_model_find (required_face[i], NULL, NULL);
    line = g_strdup_printf ("%-28s %s\n", required_face[i], path);
    assert_contains (out, line);
    g_free (line);
    g_free (path);
  }
  assert_contains (out, word);
  assert_contains (out, "All required models found.");
  g_free (word);
  g_free (out);
}

END_TEST;

/* Empty model folder and cache: everything missing, status 1. */
START_TEST (test_missing)
{
  gchar *tmp = g_dir_make_tmp ("affect-info-XXXXXX", NULL);
  gchar *models = g_build_filename (tmp, "models", NULL);
  gchar *cache = g_build_filename (tmp, "cache", NULL);
  const gchar *env[]
      = { "AFFECT_MODEL_DIR", models, "AFFECT_CACHE_DIR", cache, NULL };
  const gchar *none[] = { NULL }, *verbose[] = { "-v", NULL };
  gchar *out = NULL, *line, *installed;
  int status;

  ck_assert_int_eq (g_mkdir (models, 0755), 0);
  /* Models installed system-wide are found whatever the cache says. */
  installed = g_build_filename (affect_model_data_dir (), "models",
      "tiny_face_detector_model.safetensors", NULL);

  status = run_info (env, none, &out);
  if (!g_file_test (installed, G_FILE_TEST_EXISTS)) {
    ck_assert_int_eq (status, 1);
    line = g_strdup_printf ("%-28s missing\n", "tiny_face_detector_model");
    assert_contains (out, line);
    g_free (line);
    line = g_strdup_printf ("%-28s missing\n", AFFECT_BERT_DEFAULT_MODEL);
    assert_contains (out, line);
    g_free (line);
    assert_contains (out, "affect-fetch-models");
    assert_contains (out, "affect-fetch-word-model");
    assert_contains (out, "required models are missing");
  }
  line = g_strdup_printf ("Cache folder: %s (not found)", cache);
  assert_contains (out, line);
  g_free (line);
  assert_contains (out, models);
  assert_contains (out, "Fusion models");
  assert_contains (out, "  none");
  g_free (out);

  /* -v says where each was looked for. */
  status = run_info (env, verbose, &out);
  if (!g_file_test (installed, G_FILE_TEST_EXISTS)) {
    ck_assert_int_eq (status, 1);
    line = g_build_filename (models, "face_expression_model.safetensors", NULL);
    assert_contains (out, line);
    g_free (line);
  }
  g_free (out);

  g_rmdir (models);
  g_rmdir (tmp);
  g_free (installed);
  g_free (models);
  g_free (cache);
  g_free (tmp);
}

END_TEST;

/* A fusion model among other safetensors files, and the test backend
 * module (loaded by the tool: its engine symbols are exported). */
START_TEST (test_fusion_and_modules)
{
  gchar *tmp = g_dir_make_tmp ("affect-info-XXXXXX", NULL);
  gchar *golden
      = g_build_filename (FUSION_TEST_SRCDIR, "..", "golden", "fusion", NULL);
  gchar *src_model = g_build_filename (golden, "model-clip8.safetensors", NULL);
  gchar *src_inputs
      = g_build_filename (golden, "inputs-clip8.safetensors", NULL);
  gchar *model = copy_to (src_model, tmp, "fusion-clip8.safetensors");
  gchar *inputs = copy_to (src_inputs, tmp, "clips.safetensors");
  const gchar *env[]
      = { "AFFECT_MODEL_DIR", tmp, "AFFECT_BACKEND_PATH", module_dir, NULL };
  const gchar *verbose[] = { "-v", NULL }, *none[] = { NULL };
  gchar *out = NULL, *line;

  run_info (env, verbose, &out);
  line = g_strdup_printf ("  %s\n      tasks ", model);
  assert_contains (out, line);
  g_free (line);
  assert_contains (out, "clip 8");
  ck_assert_msg (strstr (out, inputs) == NULL,
      "clips.safetensors listed as a fusion model:\n%s", out);

  assert_contains (out, "  test     available, priority -100");
  line = g_build_filename (
      module_dir, "libaffect-backend-test.so: loaded", NULL);
  assert_contains (out, line);
  g_free (line);
  assert_contains (out, "libaffect-backend-wrongabi.so: skipped: built for "
                        "backend ABI version");
  assert_contains (out, "libaffect-backend-undefined.so: skipped: ");
  g_free (out);

  /* Without -v: only a count of the skipped modules. */
  run_info (env, none, &out);
  assert_contains (out, "3 modules skipped (-v says why)");
  ck_assert (strstr (out, "wrongabi") == NULL);
  g_free (out);

  g_unlink (model);
  g_unlink (inputs);
  g_rmdir (tmp);
  g_free (model);
  g_free (inputs);
  g_free (src_model);
  g_free (src_inputs);
  g_free (golden);
  g_free (tmp);
}

END_TEST;

/* The Whisper models where the suite has them: each found one on its line
 * with its folder (the one affect_ct2_find_whisper picks). */
START_TEST (test_asr_installed)
{
  static const gchar *names[] = { "tiny.en", "base" };
  const gchar *none[] = { NULL }, *verbose[] = { "-v", NULL };
  gchar *out = NULL, *dir, *line;
  guint i, n_found = 0;

  run_info (none, none, &out);
  assert_contains (out, "Speech recognition models (Whisper, fetched by "
                        "affect-fetch-asr-model NAME):\n");
  for (i = 0; i < G_N_ELEMENTS (names); i++) {
    dir = affect_ct2_find_whisper (names[i], NULL, NULL);
    if (dir)
      line = g_strdup_printf ("  %-28s %s\n", names[i], dir);
    else
      line = g_strdup_printf ("  %-28s missing (optional: "
                              "affect-fetch-asr-model %s)\n",
          names[i], names[i]);
    assert_contains (out, line);
    n_found += dir != NULL;
    g_free (line);
    g_free (dir);
  }
  if (n_found == G_N_ELEMENTS (names))
    ck_assert (strstr (out, "Optional: speech recognition") == NULL);
  else
    assert_contains (out, "Optional: speech recognition");
  g_free (out);

  dir = affect_ct2_find_whisper (NULL, NULL, NULL);
  if (!require (dir != NULL, "Whisper tiny.en"))
    return;
  run_info (none, verbose, &out);
  line = g_strdup_printf ("  %-28s %s\n      WhisperSpec revision ",
      AFFECT_WHISPER_DEFAULT_MODEL, dir);
  assert_contains (out, line);
  assert_contains (out, "used by affect-transcribe (default model)");
  g_free (line);
  g_free (out);
  g_free (dir);
}

END_TEST;

static gboolean
installed_whisper (const gchar *dir, const gchar *folder)
{
  gchar *p = g_build_filename (dir, folder, NULL);
  gboolean there = g_file_test (p, G_FILE_TEST_EXISTS);

  g_free (p);
  return there;
}

/* A cache with everything the real one has (symbolic links) but the
 * Whisper folders: the required models are found (status 0), both Whisper
 * models are listed as missing with the command that fetches each, -v says
 * where they were looked for; then a whisper-tiny.en folder whose model.bin
 * is not a CTranslate2 file is listed as unreadable. */
START_TEST (test_asr_missing)
{
  gchar *real = affect_cache_dir ();
  gchar *real_models = g_build_filename (real, "models", NULL);
  gchar *tmp = g_dir_make_tmp ("affect-info-XXXXXX", NULL);
  gchar *empty = g_build_filename (tmp, "empty", NULL);
  gchar *models = g_build_filename (tmp, "models", NULL);
  gchar *tiny = g_build_filename (models, "whisper-tiny.en", NULL);
  const gchar *env[]
      = { "AFFECT_MODEL_DIR", empty, "AFFECT_CACHE_DIR", tmp, NULL };
  const gchar *none[] = { NULL }, *verbose[] = { "-v", NULL };
  static const gchar *files[]
      = { "model.bin", "config.json", "vocabulary.txt" };
  GPtrArray *links = g_ptr_array_new_with_free_func (g_free);
  gchar *out = NULL, *line, *installed, *word;
  const gchar *name;
  GDir *d;
  guint i;
  int status;

  installed = g_build_filename (affect_model_data_dir (), "models", NULL);
  word = affect_bert_find (NULL, NULL);
  d = g_dir_open (real_models, 0, NULL);
  if (!require (d != NULL && word != NULL, "the model cache")
      || installed_whisper (installed, "whisper-tiny.en")
      || installed_whisper (installed, "whisper-base")) {
    /* Installed system-wide: found whatever the cache says. */
    if (d)
      g_dir_close (d);
    goto out;
  }
  ck_assert_int_eq (g_mkdir (empty, 0755), 0);
  ck_assert_int_eq (g_mkdir (models, 0755), 0);
  while ((name = g_dir_read_name (d)) != NULL) {
    gchar *src, *dst;
    if (g_str_has_prefix (name, "whisper-"))
      continue;
    src = g_build_filename (real_models, name, NULL);
    dst = g_build_filename (models, name, NULL);
    ck_assert_int_eq (symlink (src, dst), 0);
    g_ptr_array_add (links, dst);
    g_free (src);
  }
  g_dir_close (d);

  status = run_info (env, none, &out);
  for (i = 0; i < G_N_ELEMENTS (required_face); i++) {
    gchar *p = affect_model_find (required_face[i], NULL, NULL);
    gboolean have = p != NULL;
    g_free (p);
    if (!require (have, required_face[i]))
      goto out;
  }
  ck_assert_int_eq (status, 0);
  assert_contains (out, "All required models found.");
  assert_contains (out, "  tiny.en                      missing (optional: "
                        "affect-fetch-asr-model tiny.en)\n");
  assert_contains (out, "  base                         missing (optional: "
                        "affect-fetch-asr-model base)\n");
  assert_contains (out, "Optional: speech recognition (affect-transcribe) "
                        "needs a Whisper model:\n  affect-fetch-asr-model "
                        "[tiny.en|base]");
  g_free (out);

  /* -v: the places tried, in lookup order. */
  status = run_info (env, verbose, &out);
  ck_assert_int_eq (status, 0);
  line = g_strdup_printf ("tried: %s/whisper-base, ", empty);
  assert_contains (out, line);
  g_free (line);
  line = g_strdup_printf ("%s/whisper-base. To get it, run "
                          "'affect-fetch-asr-model base'.",
      models);
  assert_contains (out, line);
  g_free (line);
  g_free (out);

  /* A folder with the three files, model.bin not a CTranslate2 file. */
  ck_assert_int_eq (g_mkdir (tiny, 0755), 0);
  for (i = 0; i < G_N_ELEMENTS (files); i++) {
    gchar *p = g_build_filename (tiny, files[i], NULL);
    ck_assert (g_file_set_contents (p, "not a model", -1, NULL));
    g_ptr_array_add (links, p);
  }
  status = run_info (env, none, &out);
  ck_assert_int_eq (status, 0);
  line = g_strdup_printf ("  %-28s unreadable: %s/model.bin", "tiny.en", tiny);
  assert_contains (out, line);
  g_free (line);
  assert_contains (out, "Optional: speech recognition");
  g_free (out);

out:
  for (i = 0; i < links->len; i++)
    g_unlink (g_ptr_array_index (links, i));
  g_rmdir (tiny);
  g_rmdir (models);
  g_rmdir (empty);
  g_rmdir (tmp);
  g_ptr_array_unref (links);
  g_free (installed);
  g_free (word);
  g_free (tiny);
  g_free (models);
  g_free (empty);
  g_free (tmp);
  g_free (real_models);
  g_free (real);
}

END_TEST;

int
main (int argc, char **argv)
{
  Suite *s = suite_create ("models-info");
  TCase *tc = tcase_create ("info");
  SRunner *sr;
  int failed;

  if (argc != 3) {
    g_printerr ("usage: %s AFFECT_INFO MODULE_DIR\n", argv[0]);
    return 2;
  }
  info_path = argv[1];
  module_dir = argv[2];

  tcase_add_test (tc, test_help);
  tcase_add_test (tc, test_installed);
  tcase_add_test (tc, test_missing);
  tcase_add_test (tc, test_fusion_and_modules);
  tcase_add_test (tc, test_asr_installed);
  tcase_add_test (tc, test_asr_missing);
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
