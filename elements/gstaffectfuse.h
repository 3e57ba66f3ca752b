/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#ifndef __GST_AFFECT_FUSE_H__
#define __GST_AFFECT_FUSE_H__

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_AFFECT_FUSE (gst_affect_fuse_get_type ())
G_DECLARE_FINAL_TYPE (
    GstAffectFuse, gst_affect_fuse, GST, AFFECT_FUSE, GstBaseTransform);

GST_ELEMENT_REGISTER_DECLARE (affectfuse);

G_END_DECLS

#endif /* __GST_AFFECT_FUSE_H__ */
