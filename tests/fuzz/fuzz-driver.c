/* gst-affect — tests/fuzz
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A main() for fuzz targets built without libFuzzer: runs
 * LLVMFuzzerTestOneInput once over each file named on the command line, or
 * over each file of a folder named there. Used as a regression test over the
 * seed corpus (and to replay a crash file with a plain build).
 */

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static gboolean
run_file (const gchar *path, guint *count)
{
  gchar *contents;
  gsize len;
  GError *error = NULL;

  if (!g_file_get_contents (path, &contents, &len, &error)) {
    g_printerr ("cannot read %s: %s\n", path, error->message);
    g_error_free (error);
    return FALSE;
  }
  LLVMFuzzerTestOneInput ((const uint8_t *)contents, len);
  g_free (contents);
  (*count)++;
  return TRUE;
}

int
main (int argc, char **argv)
{
  guint count = 0;
  gboolean ok = TRUE;
  int i;

  if (argc < 2) {
    g_printerr ("usage: %s FILE-OR-FOLDER...\n", argv[0]);
    return 2;
  }
  for (i = 1; i < argc; i++) {
    if (g_file_test (argv[i], G_FILE_TEST_IS_DIR)) {
      GError *error = NULL;
      GDir *dir = g_dir_open (argv[i], 0, &error);
      const gchar *name;

      if (!dir) {
        g_printerr ("cannot open %s: %s\n", argv[i], error->message);
        g_error_free (error);
        ok = FALSE;
        continue;
      }
      while ((name = g_dir_read_name (dir))) {
        gchar *p = g_build_filename (argv[i], name, NULL);
        if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
          ok &= run_file (p, &count);
        g_free (p);
      }
      g_dir_close (dir);
    } else {
      ok &= run_file (argv[i], &count);
    }
  }
  g_print ("ran %u inputs\n", count);
  if (count == 0) {
    g_printerr ("no inputs found\n");
    return EXIT_FAILURE;
  }
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
