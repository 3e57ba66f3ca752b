/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#ifndef __GST_AFFECT_OVERLAY_H__
#define __GST_AFFECT_OVERLAY_H__

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

/**
 * GstAffectOverlayDraw:
 * @GST_AFFECT_OVERLAY_DRAW_BOXES: the face box
 * @GST_AFFECT_OVERLAY_DRAW_IDS: the track id, in a tag on the box
 * @GST_AFFECT_OVERLAY_DRAW_LANDMARKS: the 68 landmarks, as dots
 * @GST_AFFECT_OVERLAY_DRAW_EXPRESSION: the top expression and a probability
 *   bar per class
 * @GST_AFFECT_OVERLAY_DRAW_AU: the action units, as a grid of cells filled
 *   by probability
 * @GST_AFFECT_OVERLAY_DRAW_VA: valence and arousal, as a dot on a disc
 * @GST_AFFECT_OVERLAY_DRAW_COMPACT: the predictions as a one-line headline
 *   (the top expression, and valence/arousal) instead of the full panel
 * @GST_AFFECT_OVERLAY_DRAW_POSE: the head pose, as three axes from the nose
 *   tip: the face's left (red), up (green) and forward (blue) directions
 *
 * What affectoverlay draws for each face. A part whose data is absent
 * (no landmarks, no head pose, or a prediction task missing) is not
 * drawn.
 */
typedef enum {
  GST_AFFECT_OVERLAY_DRAW_BOXES = (1 << 0),
  GST_AFFECT_OVERLAY_DRAW_IDS = (1 << 1),
  GST_AFFECT_OVERLAY_DRAW_LANDMARKS = (1 << 2),
  GST_AFFECT_OVERLAY_DRAW_EXPRESSION = (1 << 3),
  GST_AFFECT_OVERLAY_DRAW_AU = (1 << 4),
  GST_AFFECT_OVERLAY_DRAW_VA = (1 << 5),
  GST_AFFECT_OVERLAY_DRAW_COMPACT = (1 << 6),
  GST_AFFECT_OVERLAY_DRAW_POSE = (1 << 7)
} GstAffectOverlayDraw;

/**
 * GstAffectOverlayPlacement:
 * @GST_AFFECT_OVERLAY_PLACEMENT_AUTO: a place around the box that covers no
 *   face and no other panel, for the full panel or else its one-line form
 *   (the least covering one-line place when there is none); a panel keeps
 *   its place while it stays free
 * @GST_AFFECT_OVERLAY_PLACEMENT_RIGHT: right of the box
 * @GST_AFFECT_OVERLAY_PLACEMENT_LEFT: left of the box
 * @GST_AFFECT_OVERLAY_PLACEMENT_ABOVE: above the box
 * @GST_AFFECT_OVERLAY_PLACEMENT_BELOW: below the box
 *
 * Where affectoverlay puts the panel with the predictions of a face. The
 * panel is always shifted back into the frame when it would leave it.
 */
typedef enum {
  GST_AFFECT_OVERLAY_PLACEMENT_AUTO = 0,
  GST_AFFECT_OVERLAY_PLACEMENT_RIGHT = 1,
  GST_AFFECT_OVERLAY_PLACEMENT_LEFT = 2,
  GST_AFFECT_OVERLAY_PLACEMENT_ABOVE = 3,
  GST_AFFECT_OVERLAY_PLACEMENT_BELOW = 4
} GstAffectOverlayPlacement;

/**
 * GstAffectOverlayColorMode:
 * @GST_AFFECT_OVERLAY_COLOR_MODE_TRACK: every track its own colour, from a
 *   palette, kept while the track lives
 * @GST_AFFECT_OVERLAY_COLOR_MODE_SINGLE: the box-color property for every
 *   face
 *
 * How affectoverlay colours the box, tag, panel and highlights of a face.
 */
typedef enum {
  GST_AFFECT_OVERLAY_COLOR_MODE_TRACK = 0,
  GST_AFFECT_OVERLAY_COLOR_MODE_SINGLE = 1
} GstAffectOverlayColorMode;

GType gst_affect_overlay_draw_get_type (void);
#define GST_TYPE_AFFECT_OVERLAY_DRAW (gst_affect_overlay_draw_get_type ())

GType gst_affect_overlay_color_mode_get_type (void);
#define GST_TYPE_AFFECT_OVERLAY_COLOR_MODE \
  (gst_affect_overlay_color_mode_get_type ())

GType gst_affect_overlay_placement_get_type (void);
#define GST_TYPE_AFFECT_OVERLAY_PLACEMENT \
  (gst_affect_overlay_placement_get_type ())

#define GST_TYPE_AFFECT_OVERLAY (gst_affect_overlay_get_type ())
G_DECLARE_FINAL_TYPE (
    GstAffectOverlay, gst_affect_overlay, GST, AFFECT_OVERLAY, GstVideoFilter);

GST_ELEMENT_REGISTER_DECLARE (affectoverlay);

G_END_DECLS

#endif /* __GST_AFFECT_OVERLAY_H__ */
