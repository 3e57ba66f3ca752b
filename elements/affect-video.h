/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/*
 * Internal helpers shared by the elements of the affect plugin that run
 * face networks (not installed, not public API).
 *
 * AffectVideoRgb turns a mapped #GstVideoFrame into a packed RGB
 * #AffectImage (3 bytes per pixel, the input of every network in models/).
 * The RGB buffer is owned by the converter and reused between frames: the
 * image returned stays valid until the next call or until the converter is
 * freed. The packed RGB formats (RGB, BGR, RGBA, BGRA, RGBx, BGRx, ARGB,
 * ABGR, xRGB, xBGR) are converted by a direct channel shuffle (RGB is even
 * returned without a copy when the frame has no row padding problem); YUV
 * formats (I420, NV12 and anything else GstVideoConverter knows) go
 * through a GstVideoConverter kept until the video info changes.
 *
 * The AFFECT_VIDEO_CAPS macro lists the formats the affect elements
 * accept.
 */

#ifndef __AFFECT_VIDEO_H__
#define __AFFECT_VIDEO_H__

#include <gst/gst.h>
#include <gst/video/video.h>

#include "affect-face.h"
#include "affect-engine.h"

G_BEGIN_DECLS

/* The raw formats the face elements take, in caps-string order. */
#define AFFECT_VIDEO_FORMATS "{ RGB, BGR, RGBA, BGRA, RGBx, BGRx, I420, NV12 }"
#define AFFECT_VIDEO_CAPS GST_VIDEO_CAPS_MAKE (AFFECT_VIDEO_FORMATS)

typedef struct _AffectVideoRgb AffectVideoRgb;

AffectVideoRgb *affect_video_rgb_new (void);
void affect_video_rgb_free (AffectVideoRgb *conv);

/* Converts @frame (a mapped frame, read access is enough) to packed RGB.
 * On success fills @img, which points into memory owned by @conv or, for
 * RGB frames, into @frame itself (valid while @frame is mapped). Returns
 * FALSE with @error set when the frame's format cannot be converted.
 * @n_threads is used by the GstVideoConverter (0 = all cores). */
gboolean affect_video_rgb_convert (AffectVideoRgb *conv,
    const GstVideoFrame *frame, int n_threads, AffectImage *img,
    GError **error);

/* Forgets the cached converter and buffer (e.g. in stop()). */
void affect_video_rgb_reset (AffectVideoRgb *conv);

G_END_DECLS

#endif /* __AFFECT_VIDEO_H__ */
