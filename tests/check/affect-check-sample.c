/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "affect-check-sample.h"

#include <gst/check/gstcheck.h>

#include "affect-image.h"
#include "affect-modelpath.h"

AffectCheckImage
affect_check_load_sample (guint n)
{
  gchar *cache = affect_cache_dir ();
  gchar *name = g_strdup_printf ("sample%u.png", n);
  gchar *path = g_build_filename (cache, "test-inputs", name, NULL);
  GError *err = NULL;
  AffectCheckImage img = { NULL, 0, 0 };

  fail_unless (
      affect_image_load_png (path, &img.rgb, &img.width, &img.height, &err),
      "cannot load %s: %s", path, err ? err->message : "?");
  g_free (path);
  g_free (name);
  g_free (cache);
  return img;
}

gboolean
affect_check_have_inputs (
    const gchar *const *models, guint n_models, const gchar *png)
{
  gchar *cache = affect_cache_dir ();
  gchar *path = g_build_filename (cache, "test-inputs", png, NULL);
  gboolean ok = TRUE;
  guint i;

  for (i = 0; i < n_models && ok; i++) {
    GError *err = NULL;
    gchar *model = affect_model_find (models[i], NULL, &err);

    if (model == NULL) {
      g_printerr ("SKIP: %s (run affect-fetch-models, i.e. "
                  "models/face/fetch-face-models.sh)\n",
          err->message);
      g_error_free (err);
      ok = FALSE;
    }
    g_free (model);
  }
  if (ok && !g_file_test (path, G_FILE_TEST_EXISTS)) {
    g_printerr ("SKIP: %s missing (run affect-fetch-models, then "
                "tests/golden/face-api/prepare.sh)\n",
        path);
    ok = FALSE;
  }
  g_free (path);
  g_free (cache);
  fail_if (!ok && g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") == 0,
      "models or test inputs missing and AFFECT_REQUIRE_MODELS=1");
  return ok;
}

gboolean
affect_check_have_models (const gchar *test, const gchar *const *names)
{
  guint i;

  for (i = 0; names[i] != NULL; i++) {
    GError *err = NULL;
    gchar *path = affect_model_find (names[i], NULL, &err);

    if (path == NULL) {
      fail_if (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") == 0,
          "%s: %s", test, err->message);
      g_print ("SKIP %s: %s (run affect-fetch-models)\n", test, err->message);
      g_clear_error (&err);
      return FALSE;
    }
    g_free (path);
  }
  return TRUE;
}
