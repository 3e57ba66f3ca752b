/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* The GTypes of the enums and flags of affectmeta.h. Written by hand (not
 * by glib-mkenums) so that each value is described in words: that is what
 * gst-inspect-1.0 prints next to a nick (issue 13). The nicks are what
 * glib-mkenums made before ("image", "au", "branch-image", ...), so
 * serialized values do not change. */

#pragma once

#include <glib-object.h>
#include <gst/affect/affect-prelude.h>

G_BEGIN_DECLS

GST_AFFECT_API
GType gst_affect_branch_get_type (void);
#define GST_TYPE_AFFECT_BRANCH (gst_affect_branch_get_type ())

GST_AFFECT_API
GType gst_affect_modalities_get_type (void);
#define GST_TYPE_AFFECT_MODALITIES (gst_affect_modalities_get_type ())

GST_AFFECT_API
GType gst_affect_tasks_get_type (void);
#define GST_TYPE_AFFECT_TASKS (gst_affect_tasks_get_type ())

G_END_DECLS
