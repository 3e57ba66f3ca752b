/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "affect-check.h"

#include <gst/check/gstcheck.h>

gboolean
affect_check_load_system_plugins (const gchar *const *names)
{
  const gchar *dirs[] = { g_getenv ("AFFECT_TEST_SYSTEM_PLUGIN_DIR"),
    "/usr/lib/x86_64-linux-gnu/gstreamer-1.0",
    "/usr/lib/aarch64-linux-gnu/gstreamer-1.0", "/usr/lib64/gstreamer-1.0",
    "/usr/lib/gstreamer-1.0", "/usr/local/lib/gstreamer-1.0" };
  guint d, i;

  for (d = 0; d < G_N_ELEMENTS (dirs); d++) {
    if (dirs[d] == NULL)
      continue;
    for (i = 0; names[i]; i++) {
      gchar *path = g_build_filename (dirs[d], names[i], NULL);
      GstPlugin *plugin = NULL;
      GError *err = NULL;

      if (g_file_test (path, G_FILE_TEST_EXISTS))
        plugin = gst_plugin_load_file (path, &err);
      if (err) {
        GST_INFO ("could not load %s: %s", path, err->message);
        g_clear_error (&err);
      }
      g_free (path);
      if (plugin) {
        gst_object_unref (plugin);
        return TRUE;
      }
    }
  }
  return FALSE;
}

gboolean
affect_check_load_system_plugin (const gchar *file)
{
  const gchar *names[] = { file, NULL };

  return affect_check_load_system_plugins (names);
}

void
affect_check_wait_eos (GstBus *bus, GstClockTime timeout)
{
  GstMessage *msg;

  msg = gst_bus_timed_pop_filtered (
      bus, timeout, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no EOS: the pipeline stalled");
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gchar *dbg = NULL;

    gst_message_parse_error (msg, &err, &dbg);
    fail ("error: %s (%s)", err->message, dbg ? dbg : "");
  }
  gst_message_unref (msg);
}
