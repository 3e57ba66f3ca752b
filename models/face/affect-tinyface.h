/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * TinyFaceDetector (face-api): a tiny-YOLOv2-style network of separable
 * convolutions on a 416 × 416 input (any multiple of 32 works), with five
 * anchors per cell of a 13 × 13 grid and one class ("face").
 *
 * Weights: tiny_face_detector_model.safetensors, tensor names and shapes as
 * in the tfjs manifest (conv0/filters [3,3,3,16], conv1..5/depthwise_filter,
 * pointwise_filter, bias, conv8/filters [1,1,512,25], conv8/bias).
 * All tensors are checked at load time.
 *
 * Detection does not modify the detector: concurrent calls on one detector
 * are as safe as the backend's ops are.
 *
 * GStreamer-free (GLib only).
 */

#ifndef __AFFECT_TINYFACE_H__
#define __AFFECT_TINYFACE_H__

#include <glib.h>

#include "affect-detector.h"
#include "affect-image.h"
#include "affect-tensor.h"
#include "affect-shared.h"

G_BEGIN_DECLS

#define AFFECT_TINY_FACE_DEFAULT_INPUT_SIZE 416
#define AFFECT_TINY_FACE_DEFAULT_SCORE_THRESHOLD 0.5f
#define AFFECT_TINY_FACE_IOU_THRESHOLD 0.4
#define AFFECT_TINY_FACE_N_ANCHORS 5

typedef struct _AffectTinyFace AffectTinyFace;

/* Loads the weights from the safetensors file @path. The detector keeps a
 * reference on @backend. Returns NULL with @error naming the file and the
 * tensor on any problem. */
AffectTinyFace *affect_tiny_face_new (
    AffectBackend *backend, const gchar *path, GError **error);

/* Detects faces in @img (packed RGB). @input_size is the network input side
 * (a multiple of 32, 32…2048; 416 is what the network was trained at);
 * a face is reported when its score is > @score_threshold. Up to @max_out
 * detections (best first, after NMS with IoU threshold 0.4) are written to
 * @out. Returns their number, or -1 with @error set. */
int affect_tiny_face_detect (AffectTinyFace *tf, const AffectImage *img,
    int input_size, float score_threshold, AffectDetection *out, int max_out,
    GError **error);

/* Runs the network alone on a prepared input [n, S, S, 3] (see
 * affect_detector_make_input() with AFFECT_DETECTOR_NORM_TINY_FACE) and
 * returns the raw output [n, S/32, S/32, 25]: for anchor a, channels
 * 5a..5a+4 are (tx, ty, tw, th, confidence logit). For parity tests and
 * benchmarks. Returns NULL if @input does not have that shape. */
AffectTensor *affect_tiny_face_forward (
    AffectTinyFace *tf, const AffectTensor *input);

void affect_tiny_face_free (AffectTinyFace *tf);

/* The detector at input size @input_size (as affect_tiny_face_detect()
 * takes it) as a kind of shared network (affect-shared.h): one kind per
 * size, since only inputs of one size batch; affect_shared_net_get_net()
 * of an entry is an AffectTinyFace. */
const AffectSharedNetClass *affect_tiny_face_class (int input_size);

/* affect_tiny_face_detect() on a shared detector acquired with
 * affect_tiny_face_class (@input_size), batched with other callers when
 * @window_us > 0 (affect_shared_net_run()). The detections are those of
 * affect_tiny_face_detect() bit for bit on backends whose results do not
 * depend on the batch (the CPU). */
int affect_tiny_face_detect_shared (AffectSharedNet *shared, gint64 window_us,
    const AffectImage *img, int input_size, float score_threshold,
    AffectDetection *out, int max_out, GError **error);

G_END_DECLS

#endif /* __AFFECT_TINYFACE_H__ */
