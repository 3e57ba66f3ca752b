/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the two face detectors (affect-tinyface.h, affect-ssd.h) share: the
 * detection type, the input preparation and box overlap / non-maximum
 * suppression.
 *
 * Input preparation follows face-api exactly: the RGB image is padded with
 * zeros at the bottom or at the right to a square of side max(W, H), resized
 * to S × S with TensorFlow's legacy bilinear rule (align_corners = false,
 * half_pixel_centers = false; skipped when the square already has side S)
 * and normalised per detector. The image content then covers the top-left
 * "reshaped" rectangle of round(W·S/max) × round(H·S/max) pixels of the
 * network input, which the decoders use to map boxes back to the image.
 *
 * GStreamer-free (GLib only).
 */

#ifndef __AFFECT_DETECTOR_H__
#define __AFFECT_DETECTOR_H__

#include <glib.h>

#include "affect-image.h"
#include "affect-tensor.h"

G_BEGIN_DECLS

/* One detected face. @box is in image pixels (it may reach outside the
 * image for the tiny detector, which does not clip), @score in (0, 1]. */
typedef struct {
  AffectBox box;
  float score;
} AffectDetection;

#define AFFECT_DETECTOR_ERROR (affect_detector_error_quark ())
GQuark affect_detector_error_quark (void);

typedef enum {
  AFFECT_DETECTOR_ERROR_INVALID_ARGUMENT, /* bad image or parameter */
  AFFECT_DETECTOR_ERROR_MODEL /* weights file lacks a tensor / wrong shape */
} AffectDetectorError;

/* Largest network input side accepted (the tiny detector's input size is
 * configurable). */
#define AFFECT_DETECTOR_MAX_INPUT_SIZE 2048
/* Largest image side accepted. */
#define AFFECT_DETECTOR_MAX_IMAGE_SIDE 65536

typedef enum {
  /* x = (p - [117.001, 114.697, 97.404]) / 255 (TinyFaceDetector) */
  AFFECT_DETECTOR_NORM_TINY_FACE,
  /* x = p / 127.5 - 1 (SsdMobilenetv1) */
  AFFECT_DETECTOR_NORM_SSD
} AffectDetectorNorm;

/* Where the image lies in the S × S network input. */
typedef struct {
  int size;                      /* S */
  int image_width, image_height; /* W, H */
  int reshaped_width,
      reshaped_height; /* round(W·S/max), round(H·S/max), >= 1 */
} AffectDetectorGeometry;

void affect_detector_geometry_init (
    AffectDetectorGeometry *geom, int image_width, int image_height, int size);

/* Checks @img (non-NULL, 1 <= width, height <= AFFECT_DETECTOR_MAX_IMAGE_SIDE,
 * stride >= 3·width, data non-NULL). */
gboolean affect_detector_check_image (const AffectImage *img, GError **error);

/* Pads, resizes and normalises @img into @dst, which holds size·size·3
 * floats (row-major, RGB interleaved). */
void affect_detector_preprocess (
    const AffectImage *img, int size, AffectDetectorNorm norm, float *dst);

/* Same, into a new [1, size, size, 3] tensor of @backend; fills @geom when
 * non-NULL. Returns NULL with @error set for a bad image or size. */
AffectTensor *affect_detector_make_input (AffectBackend *backend,
    const AffectImage *img, int size, AffectDetectorNorm norm,
    AffectDetectorGeometry *geom, GError **error);

/* Intersection over union of two boxes (width/height taken as given; a box
 * with non-positive area has IoU 0 with everything). */
double affect_box_iou (const AffectBox *a, const AffectBox *b);

/* Greedy non-maximum suppression, in place. The detections are ordered by
 * descending score (ties: lower index first); going down that list a
 * detection is kept unless its IoU with an already kept one is greater than
 * @iou_threshold. At most @max_keep (if > 0) are kept. The kept detections
 * are moved to the front of @dets in that order; returns their number. */
int affect_detection_nms (
    AffectDetection *dets, int n, double iou_threshold, int max_keep);

G_END_DECLS

#endif /* __AFFECT_DETECTOR_H__ */
