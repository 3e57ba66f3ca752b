/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Model lookup. See affect-modelpath.h.
 */

#include "affect-modelpath.h"

#include "affect-safetensors.h"

#include <string.h>

#ifndef AFFECT_DATADIR
#define AFFECT_DATADIR "/usr/local/share/gst-affect"
#endif

#define FETCH_HINT                                      \
  "run `affect-fetch-models` (needs npm) to fetch and " \
  "convert the models"

GQuark
affect_model_error_quark (void)
{
  return g_quark_from_static_string ("affect-model-error-quark");
}

gchar *
affect_cache_dir (void)
{
  const gchar *env = g_getenv ("AFFECT_CACHE_DIR");
  const gchar *xdg, *home;

  if (env && *env)
    return g_strdup (env);
  /* g_get_user_cache_dir() is cached for the process lifetime; read the
   * variable directly so a change (tests) is seen. */
  xdg = g_getenv ("XDG_CACHE_HOME");
  if (xdg && *xdg)
    return g_build_filename (xdg, "gst-affect", NULL);
  home = g_getenv ("HOME");
  if (!home || !*home)
    home = g_get_home_dir ();
  return g_build_filename (home, ".cache", "gst-affect", NULL);
}

const gchar *
affect_model_data_dir (void)
{
  return AFFECT_DATADIR;
}

static gboolean
valid_name (const gchar *name)
{
  return name && *name && !strchr (name, '/') && !strchr (name, '\\')
         && strcmp (name, ".") != 0 && strcmp (name, "..") != 0;
}

gchar *
affect_model_find (
    const gchar *name, const gchar *explicit_path, GError **error)
{
  GPtrArray *tried;
  gchar *file_name, *found = NULL, *cache, *candidate;
  const gchar *env;
  GString *msg;
  guint i;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!valid_name (name)) {
    g_set_error (error, AFFECT_MODEL_ERROR, AFFECT_MODEL_ERROR_INVALID,
        "invalid model name '%s'", name ? name : "(null)");
    return NULL;
  }
  file_name = g_strconcat (name, ".safetensors", NULL);

  if (explicit_path && *explicit_path) {
    if (g_file_test (explicit_path, G_FILE_TEST_IS_DIR)) {
      gchar *why;
      candidate = g_build_filename (explicit_path, file_name, NULL);
      why = affect_st_path_problem (candidate);
      if (why == NULL) {
        g_free (file_name);
        return candidate;
      }
      if (g_file_test (candidate, G_FILE_TEST_EXISTS))
        /* There, but a folder, a device, a pipe, ... */
        g_set_error (error, AFFECT_MODEL_ERROR, AFFECT_MODEL_ERROR_INVALID,
            "model folder '%s': %s %s", explicit_path, candidate, why);
      else
        g_set_error (error, AFFECT_MODEL_ERROR, AFFECT_MODEL_ERROR_NOT_FOUND,
            "model folder '%s' has no %s (looked for %s); " FETCH_HINT,
            explicit_path, file_name, candidate);
      g_free (why);
      g_free (candidate);
    } else if (g_file_test (explicit_path, G_FILE_TEST_IS_REGULAR)) {
      g_free (file_name);
      return g_strdup (explicit_path);
    } else {
      /* Missing, or a device (/dev/null, /dev/zero), a named pipe, a
       * socket: say which. */
      gchar *why = affect_st_path_problem (explicit_path);
      g_set_error (error, AFFECT_MODEL_ERROR, AFFECT_MODEL_ERROR_INVALID,
          "model path '%s' %s (it must be a model file or a folder holding "
          "%s)",
          explicit_path, why ? why : "is not a regular file", file_name);
      g_free (why);
    }
    g_free (file_name);
    return NULL;
  }

  tried = g_ptr_array_new_with_free_func (g_free);
  env = g_getenv ("AFFECT_MODEL_DIR");
  if (env && *env)
    g_ptr_array_add (tried, g_build_filename (env, file_name, NULL));
  g_ptr_array_add (
      tried, g_build_filename (AFFECT_DATADIR, "models", file_name, NULL));
  cache = affect_cache_dir ();
  g_ptr_array_add (tried, g_build_filename (cache, "models", file_name, NULL));
  g_free (cache);

  for (i = 0; i < tried->len; i++) {
    const gchar *p = g_ptr_array_index (tried, i);
    if (g_file_test (p, G_FILE_TEST_IS_REGULAR)) {
      found = g_strdup (p);
      break;
    }
  }

  if (!found) {
    msg = g_string_new (NULL);
    g_string_append_printf (msg, "model %s not found; tried:", file_name);
    for (i = 0; i < tried->len; i++) {
      const gchar *p = g_ptr_array_index (tried, i);
      gchar *why = NULL;
      /* Something that is there but not a file is worth a word. */
      if (g_file_test (p, G_FILE_TEST_EXISTS))
        why = affect_st_path_problem (p);
      g_string_append_printf (msg, " %s%s%s%s%s", p, why ? " (which " : "",
          why ? why : "", why ? ")" : "", i + 1 < tried->len ? "," : ".");
      g_free (why);
    }
    if (!(env && *env))
      g_string_append (msg, " ($AFFECT_MODEL_DIR is not set.)");
    g_string_append (msg, " To get them, " FETCH_HINT ".");
    g_set_error_literal (
        error, AFFECT_MODEL_ERROR, AFFECT_MODEL_ERROR_NOT_FOUND, msg->str);
    g_string_free (msg, TRUE);
  }
  g_ptr_array_unref (tried);
  g_free (file_name);
  return found;
}
