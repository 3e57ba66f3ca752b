/* gst-affect — tests/torture
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A fusion model file with random weights and the sizes of the plugin's
 * extractors (d_img 256, d_exp 256, d_spe 16, d_wrd 384; the default
 * `features` value of affectfuse), for tests and benchmarks that need
 * affectfuse to run the fusion network on every frame but do not look at
 * what it predicts. Same tensors and metadata as models/fusion/export.py
 * writes (au, expr with 8 classes, va).
 */
#ifndef __RANDOM_FUSION_MODEL_H__
#define __RANDOM_FUSION_MODEL_H__

#include <glib.h>

G_BEGIN_DECLS

/* Writes the model to @path. @seed fixes the weights; @clip_len, @hidden
 * (a multiple of 2: two attention heads) and @mlp_hidden are the network's
 * sizes. FALSE with @error set when the file cannot be written. */
gboolean affect_test_write_random_fusion_model (const gchar *path, guint32 seed,
    int clip_len, int hidden, int mlp_hidden, GError **error);

G_END_DECLS

#endif /* __RANDOM_FUSION_MODEL_H__ */
