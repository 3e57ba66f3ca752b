/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * TensorFlow.js weight files: a reader for `<name>-weights_manifest.json`
 * plus the binary shard files it names.
 *
 * The manifest is a JSON list of groups, each {"paths": [...], "weights":
 * [{"name", "shape", "dtype", "quantization"?}, ...]}. A group's data is the
 * concatenation of its `paths` files (relative to the manifest's folder) in
 * order; its tensors are stored back to back in manifest order:
 *  - quantization {"dtype": "uint8"|"uint16", "scale", "min"}: one (two, LE)
 *    byte(s) q per element, value = q * scale + min computed in double; a
 *    float32 tensor stores the value as float, an int32 tensor stores it
 *    rounded like JavaScript's Math.round;
 *  - no quantization: float32 or int32, 4 bytes little-endian each.
 * The sum of the tensor sizes must equal the size of the group's data.
 *
 * Tensors come out as F32 or I32 (host order). No GStreamer here.
 */

#ifndef __AFFECT_TFJS_H__
#define __AFFECT_TFJS_H__

#include <glib.h>
#include <stdint.h>

#include "affect-safetensors.h"

G_BEGIN_DECLS

#define AFFECT_TFJS_ERROR (affect_tfjs_error_quark ())
GQuark affect_tfjs_error_quark (void);

typedef enum {
  AFFECT_TFJS_ERROR_IO,         /* cannot read the manifest or a shard */
  AFFECT_TFJS_ERROR_FORMAT,     /* manifest malformed or sizes disagree */
  AFFECT_TFJS_ERROR_UNSUPPORTED /* dtype or quantization not handled */
} AffectTfjsError;

typedef struct {
  gchar *name;
  AffectDType dtype; /* AFFECT_DTYPE_F32 or AFFECT_DTYPE_I32 */
  guint n_dims;
  int64_t shape[AFFECT_ST_MAX_DIMS];
  gsize n_elements;
  void *data; /* gfloat* or gint32*, n_elements entries */
  gsize n_bytes;
} AffectTfjsTensor;

typedef struct {
  gchar *path;   /* file name as given in the manifest */
  gchar *sha256; /* lower-case hex digest of its bytes */
} AffectTfjsShard;

typedef struct {
  gchar *manifest_path;
  gchar *manifest_sha256; /* lower-case hex digest of the manifest */
  guint n_shards;
  AffectTfjsShard *shards; /* every shard of every group, in order */
  guint n_tensors;
  AffectTfjsTensor *tensors; /* in manifest order */
} AffectTfjsModel;

/* Reads and dequantises a whole model. NULL and @error (naming the file and
 * the problem) on failure. */
AffectTfjsModel *affect_tfjs_load (const gchar *manifest_path, GError **error);

void affect_tfjs_model_free (AffectTfjsModel *model);

/* NULL if absent. */
const AffectTfjsTensor *affect_tfjs_find (
    const AffectTfjsModel *model, const gchar *name);

/* Model base name from a manifest path:
 * ".../face_expression_model-weights_manifest.json" → "face_expression_model"
 * (a path not ending in "-weights_manifest.json" loses only ".json").
 * Free with g_free. */
gchar *affect_tfjs_model_name (const gchar *manifest_path);

G_END_DECLS

#endif /* __AFFECT_TFJS_H__ */
