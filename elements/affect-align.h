/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/*
 * Face alignment for facecrop (internal, GStreamer-free).
 *
 * Five points are taken from the 68 iBUG landmarks: the eye centres (mean
 * of points 36–41 and of 42–47, i.e. the subject's right eye first, which
 * is on the left of the image), the nose tip (30) and the mouth corners
 * (48 and 54). They are mapped to the ArcFace five-point template of a
 * 112 × 112 crop,
 *
 *   (38.2946, 51.6963) (73.5318, 51.5014) (56.0252, 71.7366)
 *   (41.5493, 92.3655) (70.7299, 92.2041),
 *
 * scaled to the crop size S: with a margin m the template is shrunk
 * towards the crop centre so that the crop shows a fraction m more of the
 * face on each side: p' = ((p - 56) / (1 + 2 m) + 56) · S / 112.
 *
 * The transform is the least-squares similarity (uniform scale, rotation,
 * translation; reflections excluded) from the five points to the template:
 * Umeyama's solution, which in 2-D reduces to the closed form
 *   a = Σ(x·u + y·v) / Σ(x² + y²),  b = Σ(x·v − y·u) / Σ(x² + y²)
 * on centred coordinates ((x, y) landmarks, (u, v) template), giving
 *   u = a·x − b·y + tx,  v = b·x + a·y + ty.
 *
 * The crop is sampled bilinearly with integer coordinates at pixel
 * centres (the convention of OpenCV's warpAffine); samples outside the
 * image are black.
 */

#ifndef __AFFECT_ALIGN_H__
#define __AFFECT_ALIGN_H__

#include <glib.h>

#include "affect-face.h"

G_BEGIN_DECLS

#define AFFECT_ALIGN_N_POINTS 5

/* The five alignment points of 68 landmarks. */
void affect_align_five_points (const float (*landmarks)[2], float pts[5][2]);

/* The template for a @size × @size crop with @margin (>= 0). */
void affect_align_template (int size, double margin, double tpl[5][2]);

/* Least-squares similarity from @src to @dst (@n >= 2 points):
 * dst ≈ (m[0] x + m[1] y + m[2], m[3] x + m[4] y + m[5]) with
 * m[0] = m[4] = a, m[1] = -b, m[3] = b. Returns FALSE when the source
 * points all coincide (no transform). */
gboolean affect_align_similarity (
    const double (*src)[2], const double (*dst)[2], int n, double m[6]);

/* Inverse of a similarity @m as returned above (FALSE if singular). */
gboolean affect_align_invert (const double m[6], double inv[6]);

/* Fills @dst (@size × @size packed RGB, rows of 3·size bytes) with
 * dst(u, v) = img(inv (u, v)), bilinear, black outside. @inv maps crop
 * pixels to image pixels. */
void affect_align_warp (
    const AffectImage *img, const double inv[6], int size, guint8 *dst);

/* All of the above: the aligned crop of a face with @landmarks. Returns
 * FALSE when the landmarks are degenerate (the crop is then black). */
gboolean affect_align_crop (const AffectImage *img, const float (*landmarks)[2],
    int size, double margin, guint8 *dst);

G_END_DECLS

#endif /* __AFFECT_ALIGN_H__ */
