/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Where the converted weights (<name>.safetensors) are looked up.
 *
 * Order:
 *  1. an explicit path (an element property): a file, used as is, or a
 *     folder that must hold <name>.safetensors; when given, nothing else is
 *     tried;
 *  2. $AFFECT_MODEL_DIR/<name>.safetensors;
 *  3. the installed data folder: AFFECT_DATADIR/models/<name>.safetensors
 *     (AFFECT_DATADIR = <prefix>/share/gst-affect);
 *  4. the cache: affect_cache_dir()/models/<name>.safetensors.
 *
 * <name> is the tfjs manifest base name, e.g. "face_expression_model".
 * No GStreamer here.
 */

#ifndef __AFFECT_MODELPATH_H__
#define __AFFECT_MODELPATH_H__

#include <glib.h>

G_BEGIN_DECLS

#define AFFECT_MODEL_ERROR (affect_model_error_quark ())
GQuark affect_model_error_quark (void);

typedef enum {
  AFFECT_MODEL_ERROR_NOT_FOUND, /* no <name>.safetensors anywhere */
  AFFECT_MODEL_ERROR_INVALID    /* bad model name or explicit path */
} AffectModelError;

/* ${AFFECT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-affect}
 * (XDG_CACHE_HOME as g_get_user_cache_dir() reports it). Free with g_free. */
gchar *affect_cache_dir (void);

/* The installed data folder (AFFECT_DATADIR). */
const gchar *affect_model_data_dir (void);

/* Returns the path of <name>.safetensors (g_free), or NULL with @error.
 * @explicit_path may be NULL or empty. When nothing is found, the error
 * message lists every place tried and says how to fetch the models. */
gchar *affect_model_find (
    const gchar *name, const gchar *explicit_path, GError **error);

G_END_DECLS

#endif /* __AFFECT_MODELPATH_H__ */
