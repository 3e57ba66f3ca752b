/* gst-affect — tests/models
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test-tools.h"

#include <sys/wait.h>

#include <check.h>

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
