/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * FaceRecognitionNet (face-api "face_recognition_model"): a dlib-style
 * ResNet-29 mapping a 150×150 face crop to a 128-d descriptor.
 *
 * Each conv unit is conv + bias, a per-channel affine "scale" (·weights +
 * biases) and an optional relu. conv32_down (7×7/2 VALID, 150→72, relu),
 * max-pool 3×3/2 VALID (→35); residual blocks relu (u2 (relu (u1 (x))) + x)
 * conv32_1..3; down blocks (u1 3×3/2 VALID with relu, u2 3×3/1 SAME; the
 * shortcut is a 2×2/2 VALID average pool, zero-extended in channels when the
 * width doubles; a main path one pixel smaller is zero-padded at the bottom
 * and right) conv64_down, conv64_1..3, conv128_down, conv128_1..2,
 * conv256_down, conv256_1..2, conv256_down_out; global mean → 256 features;
 * FC 256→128 without bias ("fc"). The descriptor is not normalised: face-api
 * compares descriptors with the Euclidean distance (same person below ~0.6).
 * The crop is the dlib-style rect (affect_landmarks_dlib_rect()).
 */

#ifndef __AFFECT_RECOGNITION_H__
#define __AFFECT_RECOGNITION_H__

#include <glib.h>
#include "affect-tensor.h"
#include "affect-image.h"
#include "affect-shared.h"

G_BEGIN_DECLS

#define AFFECT_RECOGNITION_INPUT_SIZE 150
#define AFFECT_RECOGNITION_N_FEATURES 256
#define AFFECT_RECOGNITION_N_DESCRIPTOR 128

typedef struct _AffectRecognitionNet AffectRecognitionNet;

/* Loads face_recognition_model.safetensors; every tensor is checked for
 * presence and shape (the error names the file and tensor). */
AffectRecognitionNet *affect_recognition_net_new (
    AffectBackend *backend, const gchar *safetensors_path, GError **error);
void affect_recognition_net_free (AffectRecognitionNet *net);

/* @input [n, 150, 150, 3] normalised → new tensor [n, 1, 1, 128]. */
AffectTensor *affect_recognition_net_forward (
    AffectRecognitionNet *net, const AffectTensor *input);

/* Same, also returning the pooled features [n, 1, 1, 256] in @features
 * (nullable). */
AffectTensor *affect_recognition_net_forward_features (
    AffectRecognitionNet *net, const AffectTensor *input,
    AffectTensor **features);

/* Descriptors (n × 128) and, if @features is not NULL, the 256 pooled
 * features (n × 256) of @n face crops of @img. @crops (nullable, n × 4)
 * receives the integer crop boxes used. Fails if a box has no pixel inside
 * the image. */
gboolean affect_recognition_net_run_full (AffectRecognitionNet *net,
    const AffectImage *img, const AffectBox *boxes, int n, float *descriptors,
    float *features, int (*crops)[4], GError **error);

gboolean affect_recognition_net_run (AffectRecognitionNet *net,
    const AffectImage *img, const AffectBox *boxes, int n, float *descriptors,
    float *features, GError **error);

/* The network as a kind of shared network (affect-shared.h): acquire it
 * with affect_shared_net_acquire (affect_recognition_net_class (), path, …);
 * affect_shared_net_get_net() is then an AffectRecognitionNet (the whole network). */
const AffectSharedNetClass *affect_recognition_net_class (void);

/* affect_recognition_net_run_full() on a shared network, batched with other
 * callers when @window_us > 0 (affect_shared_net_run()). The results are
 * those of affect_recognition_net_run_full() bit for bit on backends whose
 * results do not depend on the batch (the CPU). */
gboolean affect_recognition_net_run_shared (AffectSharedNet *shared,
    gint64 window_us, const AffectImage *img, const AffectBox *boxes, int n,
    float *descriptors, float *features, int (*crops)[4], GError **error);

G_END_DECLS

#endif /* __AFFECT_RECOGNITION_H__ */
