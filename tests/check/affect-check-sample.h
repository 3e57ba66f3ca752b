/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The sample photos of the test inputs, for the gst-check tests that link
 * the models library.
 */
#ifndef __AFFECT_CHECK_SAMPLE_H__
#define __AFFECT_CHECK_SAMPLE_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint8 *rgb; /* packed RGB, stride 3 * width; g_free () it */
  gint width, height;
} AffectCheckImage;

/* test-inputs/sample@n.png of the cache folder; fails the test when it
 * cannot be read. */
AffectCheckImage affect_check_load_sample (guint n);

/* TRUE when the @n_models models @models and test-inputs/@png of the cache
 * folder are there; otherwise prints why the test is skipped, or fails it
 * with AFFECT_REQUIRE_MODELS=1. */
gboolean affect_check_have_inputs (
    const gchar *const *models, guint n_models, const gchar *png);

/* TRUE when every model of the NULL-terminated @names is found
 * (affect_model_find()); else prints "SKIP @test: ..." and returns FALSE,
 * or fails the test when AFFECT_REQUIRE_MODELS=1. */
gboolean affect_check_have_models (
    const gchar *test, const gchar *const *names);

G_END_DECLS

#endif /* __AFFECT_CHECK_SAMPLE_H__ */
