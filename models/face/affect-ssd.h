/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * SsdMobilenetv1 (face-api): a MobileNetV1 backbone with an SSD head on a
 * 512 × 512 input, 5118 anchors, one class ("face").
 *
 * Weights: ssd_mobilenetv1_model.safetensors with the tfjs manifest names
 * and shapes (MobilenetV1/..., Prediction/..., and the float32 anchors
 * Output/extra_dim [1, 5118, 4] as (ymin, xmin, ymax, xmax)). The int32
 * graph constants of the manifest are not used. All tensors used are
 * checked at load time.
 *
 * Detection does not modify the detector: concurrent calls on one detector
 * are as safe as the backend's ops are.
 *
 * GStreamer-free (GLib only).
 */

#ifndef __AFFECT_SSD_H__
#define __AFFECT_SSD_H__

#include <glib.h>

#include "affect-detector.h"
#include "affect-image.h"
#include "affect-tensor.h"
#include "affect-shared.h"

G_BEGIN_DECLS

#define AFFECT_SSD_INPUT_SIZE 512
#define AFFECT_SSD_N_ANCHORS 5118
#define AFFECT_SSD_N_CLASSES 3 /* background, face, unused */
#define AFFECT_SSD_DEFAULT_MIN_CONFIDENCE 0.5f
#define AFFECT_SSD_DEFAULT_MAX_RESULTS 100
#define AFFECT_SSD_IOU_THRESHOLD 0.5

typedef struct _AffectSsd AffectSsd;

/* Loads the weights from the safetensors file @path. The detector keeps a
 * reference on @backend. Returns NULL with @error naming the file and the
 * tensor on any problem. */
AffectSsd *affect_ssd_new (
    AffectBackend *backend, const gchar *path, GError **error);

/* Detects faces in @img (packed RGB): candidates with score >
 * @min_confidence, NMS with IoU threshold 0.5, at most @max_results (> 0)
 * kept, best first. Up to @max_out of them are written to @out. Returns
 * their number, or -1 with @error set. Boxes are clipped to the padded
 * square the network saw (so never left of or above the image; they can
 * reach past the shorter side of the image, as in face-api). */
int affect_ssd_detect (AffectSsd *ssd, const AffectImage *img,
    float min_confidence, int max_results, AffectDetection *out, int max_out,
    GError **error);

/* Runs the network alone on a prepared input [n, 512, 512, 3] (see
 * affect_detector_make_input() with AFFECT_DETECTOR_NORM_SSD). On success
 * returns TRUE and two new tensors of the input's backend:
 * @box_encodings [n, 1, 5118, 4] = raw (ty, tx, th, tw) per anchor and
 * @class_logits [n, 1, 5118, 3] = raw logits (background, face, unused),
 * anchors in the order predictor → row → column → anchor. For parity tests
 * and benchmarks. Returns FALSE if @input does not have that shape. */
gboolean affect_ssd_forward (AffectSsd *ssd, const AffectTensor *input,
    AffectTensor **box_encodings, AffectTensor **class_logits);

/* The anchors (ymin, xmin, ymax, xmax), AFFECT_SSD_N_ANCHORS × 4 floats,
 * owned by @ssd. */
const float *affect_ssd_get_anchors (AffectSsd *ssd);

/* Decodes one anchor's box encoding (ty, tx, th, tw) into (ymin, xmin,
 * ymax, xmax), in float32 arithmetic exactly as face-api does. */
void affect_ssd_decode_box (
    const float anchor[4], const float enc[4], float box[4]);

void affect_ssd_free (AffectSsd *ssd);

/* The detector as a kind of shared network (affect-shared.h):
 * affect_shared_net_get_net() of an entry of this class is an AffectSsd.
 * The 512 × 512 inputs of every caller have one size, so they batch. */
const AffectSharedNetClass *affect_ssd_class (void);

/* affect_ssd_detect() on a shared detector, batched with other callers
 * when @window_us > 0 (affect_shared_net_run()). The detections are those
 * of affect_ssd_detect() bit for bit on backends whose results do not
 * depend on the batch (the CPU). */
int affect_ssd_detect_shared (AffectSharedNet *shared, gint64 window_us,
    const AffectImage *img, float min_confidence, int max_results,
    AffectDetection *out, int max_out, GError **error);

G_END_DECLS

#endif /* __AFFECT_SSD_H__ */
