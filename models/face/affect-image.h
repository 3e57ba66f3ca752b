/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Images and face crops for the face networks.
 *
 * An #AffectImage is a borrowed view of packed 8-bit RGB pixels. The face
 * networks (landmarks, expression, recognition) do not look at the whole
 * frame: each face box is cut out, padded to a square and resized, exactly as
 * face-api does it (see FACE_MODELS.md, "Preprocessing" and "Pipeline glue"):
 *
 *  1. clip the box to the image and floor: x' = max (x, 0), y' = max (y, 0),
 *     w' = min (x + w - x', W - x'), h' = min (y + h - y', H - y'), then
 *     floor each of x', y', w', h';
 *  2. pad the crop to a square with zeros, centred: of d = |h' - w'|,
 *     round (d / 2) rows/columns go after (bottom/right), the rest before;
 *  3. bilinear resize (TensorFlow legacy rule, no antialiasing) to
 *     size × size, computed in double and stored as float;
 *  4. normalise x = (p - [122.782, 117.001, 104.298]) / 255 in float.
 *
 * No GStreamer here: only GLib (and libpng for affect_image_load_png()).
 */

#ifndef __AFFECT_IMAGE_H__
#define __AFFECT_IMAGE_H__

#include <glib.h>
#include "affect-tensor.h"

G_BEGIN_DECLS

#define AFFECT_IMAGE_ERROR (affect_image_error_quark ())
GQuark affect_image_error_quark (void);

typedef enum {
  AFFECT_IMAGE_ERROR_IO,       /* cannot read the file */
  AFFECT_IMAGE_ERROR_FORMAT,   /* not a PNG we can decode */
  AFFECT_IMAGE_ERROR_BOX,      /* a face box has no pixels inside the image */
  AFFECT_IMAGE_ERROR_ARGUMENT, /* bad image description or batch size */
  AFFECT_IMAGE_ERROR_FAILED    /* the network's forward pass failed */
} AffectImageError;

/* Packed RGB, 3 bytes per pixel, @stride bytes per row (>= 3 * width). */
typedef struct {
  int width, height, stride;
  const guint8 *data;
} AffectImage;

/* A box in image pixels (not necessarily inside the image). */
typedef struct {
  float x, y, width, height;
} AffectBox;

/* Mean subtracted by the face networks' normalisation (RGB). */
#define AFFECT_FACE_MEAN_R 122.782f
#define AFFECT_FACE_MEAN_G 117.001f
#define AFFECT_FACE_MEAN_B 104.298f

/* TRUE if @img has positive sizes, data and a stride of at least 3 * width. */
gboolean affect_image_is_valid (const AffectImage *img);

/* The integer crop box of step 1 above, as {x, y, width, height}. Returns
 * FALSE (and leaves @used unspecified) when no pixel of @box lies inside the
 * image or the box is not finite. */
gboolean affect_image_crop_box (
    const AffectImage *img, const AffectBox *box, int used[4]);

/* Steps 1–4 into a host buffer of size × size × 3 floats (HWC). @used
 * (nullable) receives the integer crop box. Returns FALSE if the box has no
 * pixel inside the image. */
gboolean affect_image_face_input_host (const AffectImage *img,
    const AffectBox *box, int size, float *dst, int used[4]);

/* Same, written into batch item @index of @dst, an [n, size, size, 3]
 * tensor of any backend. */
gboolean affect_image_face_input (const AffectImage *img, const AffectBox *box,
    int size, AffectTensor *dst, int index, int used[4]);

/* Expression / age-gender crop ("alignedRect"): the bounding box of the 68
 * image-space landmarks (min over the points; max starting from 0),
 * enlarged by 20 %, centred. */
AffectBox affect_landmarks_aligned_rect (const float points[68][2]);

/* Descriptor crop (dlib-style alignment): eye centres (mean of points
 * 36–41 and 42–47) and mouth centre (mean of 48–67); d = mean distance of
 * the eye centres to the mouth centre; size = floor (d / 0.45); ref = mean
 * of the three centres; x = floor (max (0, ref.x - 0.5 size)), y = floor
 * (max (0, ref.y - 0.43 size)), width = min (size, crop_w + x), height =
 * min (size, crop_h + y), where @crop_w × @crop_h is the size of the integer
 * crop the landmarks were computed on. */
AffectBox affect_landmarks_dlib_rect (
    const float points[68][2], int crop_w, int crop_h);

/* Decodes a PNG file to packed RGB8 (stride 3 * width; alpha dropped, grey
 * expanded, 16-bit reduced). Free *@rgb with g_free(). */
gboolean affect_image_load_png (
    const gchar *path, guint8 **rgb, int *w, int *h, GError **error);

G_END_DECLS

#endif /* __AFFECT_IMAGE_H__ */
