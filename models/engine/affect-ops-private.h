/* gst-affect — models/engine/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by the generic op files (affect-ops.c, affect-ops-seq.c): the
 * argument check every op starts with, the shape format of its criticals,
 * and the lock that serialises the lazy preparation of layers.
 */

#ifndef __AFFECT_OPS_PRIVATE_H__
#define __AFFECT_OPS_PRIVATE_H__

#include "affect-backend.h"

G_BEGIN_DECLS

#define SHAPE_FMT "[%d, %d, %d, %d]"
#define SHAPE_ARGS(t) (t)->n, (t)->h, (t)->w, (t)->c

/* FALSE (and a critical naming @func) when @x is NULL or freed, or its
 * backend does not implement @op. */
gboolean affect_ops_check_tensor (
    const AffectTensor *x, AffectOp op, const gchar *func);

/* Serialise lazy preparation of layers (convolutions, fully connected,
 * GRU). Functions, not an exported variable: the engine is a static library
 * that can be linked twice into one process (a program and the plugin). */
void affect_ops_prepare_lock (void);
void affect_ops_prepare_unlock (void);

G_END_DECLS

#endif /* __AFFECT_OPS_PRIVATE_H__ */
