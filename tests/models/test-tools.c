/* gst-affect — tests/models
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test-tools.h"

#include <sys/wait.h>

#include <check.h>

gchar *
affect_test_golden_path (const gchar *set, const gchar *name)
{
  const gchar *src = g_getenv ("AFFECT_TEST_SRCDIR");

  if (src != NULL)
    return g_build_filename (src, "golden", set, name, NULL);
  /* tests/models/meson.build defines it for every program built with this
   * file: this source folder */
  return g_build_filename (FUSION_TEST_SRCDIR, "..", "golden", set, name, NULL);
}

JsonParser *
affect_test_load_json (const gchar *path)
{
  JsonParser *parser = json_parser_new ();
  GError *err = NULL;

  ck_assert_msg (json_parser_load_from_file (parser, path, &err),
      "cannot load %s: %s", path, err ? err->message : "?");
  return parser;
}

int
affect_test_run_tool (
    const gchar *tool, const gchar *const *args, gchar **out, gchar **err)
{
  GPtrArray *argv = g_ptr_array_new ();
  GError *error = NULL;
  gint status = 0;
  gboolean ok;

  g_ptr_array_add (argv, (gpointer)tool);
  for (; *args; args++)
    g_ptr_array_add (argv, (gpointer)*args);
  g_ptr_array_add (argv, NULL);
  ok = g_spawn_sync (NULL, (gchar **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL,
      NULL, out, err, &status, &error);
  g_ptr_array_free (argv, TRUE);
  ck_assert_msg (ok, "cannot run %s: %s", tool, error ? error->message : "");
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  return -1;
}
