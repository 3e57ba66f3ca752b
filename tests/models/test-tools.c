/* gst-affect — tests/models
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test-tools.h"

#include <string.h>
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

gfloat *
affect_test_read_wav_s16 (const gchar *path, gint *rate, gsize *n)
{
  gchar *data = NULL;
  gsize size = 0, off = 12, i;
  gint channels = 0, bits = 0, format = 0;
  gfloat *x = NULL;

  ck_assert_msg (
      g_file_get_contents (path, &data, &size, NULL), "cannot read %s", path);
  ck_assert_msg (size >= 12 && memcmp (data, "RIFF", 4) == 0
                     && memcmp (data + 8, "WAVE", 4) == 0,
      "%s is not a WAV file", path);
  while (off + 8 <= size) {
    guint32 len = GUINT32_FROM_LE (*(const guint32 *)(data + off + 4));
    const guchar *c = (const guchar *)data + off + 8;

    if (memcmp (data + off, "fmt ", 4) == 0 && len >= 16 && off + 24 <= size) {
      format = c[0] | c[1] << 8;
      channels = c[2] | c[3] << 8;
      *rate = (gint)(c[4] | c[5] << 8 | c[6] << 16 | (guint32)c[7] << 24);
      bits = c[14] | c[15] << 8;
    } else if (memcmp (data + off, "data", 4) == 0) {
      len = (guint32)MIN (len, size - off - 8);
      ck_assert_msg (format == 1 && channels == 1 && bits == 16,
          "%s: not 16-bit PCM mono", path);
      *n = len / 2;
      x = g_new (gfloat, MAX (*n, 1));
      for (i = 0; i < *n; i++)
        x[i] = (gfloat)(gint16)(c[2 * i] | c[2 * i + 1] << 8) / 32768.0f;
      break;
    }
    off += 8 + (gsize)len + (len & 1);
  }
  ck_assert_msg (x != NULL, "%s has no data chunk", path);
  g_free (data);
  return x;
}

int
affect_test_run_suite (Suite *suite)
{
  SRunner *sr = srunner_create (suite);
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
