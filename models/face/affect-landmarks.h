/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * FaceLandmark68Net (face-api "face_landmark_68_model"): 68 facial
 * landmarks (iBUG 300-W order) from a face box.
 *
 * FaceFeatureExtractor (affect-facefeat.h) then FC 256→136 (fc/weights,
 * fc/bias, no activation): 68 interleaved (x, y) in units of the padded
 * 112×112 square. affect_landmark_net_run() maps them back to image pixels
 * exactly as face-api does: with the integer crop w × h, s = 112 / max (w, h),
 * ws = w s, hs = h s, padX = (hs - ws) / 2 if ws < hs else 0 (padY
 * likewise), x_rel = (v 112 - padX) / ws (float32 arithmetic), then
 * x = x_rel w + box.x (and y likewise) with the un-clipped, un-floored box.
 */

#ifndef __AFFECT_LANDMARKS_H__
#define __AFFECT_LANDMARKS_H__

#include <glib.h>
#include "affect-tensor.h"
#include "affect-image.h"
#include "affect-shared.h"

G_BEGIN_DECLS

#define AFFECT_LANDMARKS_N_POINTS 68
#define AFFECT_LANDMARKS_INPUT_SIZE 112

typedef struct _AffectLandmarkNet AffectLandmarkNet;

/* Loads face_landmark_68_model.safetensors; every tensor is checked for
 * presence and shape (the error names the file and tensor). */
AffectLandmarkNet *affect_landmark_net_new (
    AffectBackend *backend, const gchar *safetensors_path, GError **error);
void affect_landmark_net_free (AffectLandmarkNet *net);

/* @input [n, 112, 112, 3] normalised → new tensor [n, 1, 1, 136]: the raw
 * network output (relative to the padded square). */
AffectTensor *affect_landmark_net_forward (
    AffectLandmarkNet *net, const AffectTensor *input);

/* Landmarks of @n faces of @img in image pixels. @crops (nullable, n × 4
 * ints) receives the integer crop boxes used. Fails if a box has no pixel
 * inside the image. */
gboolean affect_landmark_net_run_full (AffectLandmarkNet *net,
    const AffectImage *img, const AffectBox *boxes, int n,
    float (*points)[68][2], int (*crops)[4], GError **error);

/* Same without the crop boxes. */
gboolean affect_landmark_net_run (AffectLandmarkNet *net,
    const AffectImage *img, const AffectBox *boxes, int n,
    float (*points)[68][2], GError **error);

/* The network as a kind of shared network (affect-shared.h): acquire it
 * with affect_shared_net_acquire (affect_landmark_net_class (), path, …);
 * affect_shared_net_get_net() is then an AffectLandmarkNet. */
const AffectSharedNetClass *affect_landmark_net_class (void);

/* affect_landmark_net_run_full() on a shared landmark network, batched with
 * other callers when @window_us > 0 (affect_shared_net_run()). The results
 * are those of affect_landmark_net_run_full() bit for bit on backends whose
 * results do not depend on the batch (the CPU). */
gboolean affect_landmark_net_run_shared (AffectSharedNet *shared,
    gint64 window_us, const AffectImage *img, const AffectBox *boxes, int n,
    float (*points)[68][2], int (*crops)[4], GError **error);

G_END_DECLS

#endif /* __AFFECT_LANDMARKS_H__ */
