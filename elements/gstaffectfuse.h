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

/**
 * GstAffectFuseMode:
 * @GST_AFFECT_FUSE_MODE_CENTRED: the clip is centred on the frame the
 *   predictions are attached to (the frames after it are waited for)
 * @GST_AFFECT_FUSE_MODE_CAUSAL: the clip ends at that frame (no latency)
 *
 * Where the fusion network's clip window lies relative to the frame.
 */
typedef enum {
  GST_AFFECT_FUSE_MODE_CENTRED = 0,
  GST_AFFECT_FUSE_MODE_CAUSAL = 1,
} GstAffectFuseMode;

GType gst_affect_fuse_mode_get_type (void);
#define GST_TYPE_AFFECT_FUSE_MODE (gst_affect_fuse_mode_get_type ())

#define GST_TYPE_AFFECT_FUSE (gst_affect_fuse_get_type ())
G_DECLARE_FINAL_TYPE (
    GstAffectFuse, gst_affect_fuse, GST, AFFECT_FUSE, GstBaseTransform);

GST_ELEMENT_REGISTER_DECLARE (affectfuse);

G_END_DECLS

#endif /* __GST_AFFECT_FUSE_H__ */
