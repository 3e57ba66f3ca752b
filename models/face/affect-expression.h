/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * FaceExpressionNet (face-api "face_expression_model"): probabilities of
 * seven facial expressions from a face crop.
 *
 * FaceFeatureExtractor (affect-facefeat.h) → 256 features, then FC 256→7
 * (fc/weights, fc/bias) and a softmax. Label order as face-api: neutral,
 * happy, sad, angry, fearful, disgusted, surprised. The crop is
 * face-api's alignedRect (affect_landmarks_aligned_rect()).
 */

#ifndef __AFFECT_EXPRESSION_H__
#define __AFFECT_EXPRESSION_H__

#include <glib.h>
#include "affect-tensor.h"
#include "affect-image.h"
#include "affect-shared.h"

G_BEGIN_DECLS

#define AFFECT_EXPRESSION_INPUT_SIZE 112
#define AFFECT_EXPRESSION_N_FEATURES 256

typedef enum {
  AFFECT_EXPRESSION_NEUTRAL,
  AFFECT_EXPRESSION_HAPPY,
  AFFECT_EXPRESSION_SAD,
  AFFECT_EXPRESSION_ANGRY,
  AFFECT_EXPRESSION_FEARFUL,
  AFFECT_EXPRESSION_DISGUSTED,
  AFFECT_EXPRESSION_SURPRISED,
  AFFECT_EXPRESSION_N_LABELS
} AffectExpression;

/* "neutral", "happy", ... indexed by #AffectExpression. */
extern const gchar *const affect_expression_labels[AFFECT_EXPRESSION_N_LABELS];

typedef struct _AffectExpressionNet AffectExpressionNet;

/* Loads face_expression_model.safetensors; every tensor is checked for
 * presence and shape (the error names the file and tensor). */
AffectExpressionNet *affect_expression_net_new (
    AffectBackend *backend, const gchar *safetensors_path, GError **error);
void affect_expression_net_free (AffectExpressionNet *net);

/* @input [n, 112, 112, 3] normalised → new tensor [n, 1, 1, 7] of
 * probabilities. */
AffectTensor *affect_expression_net_forward (
    AffectExpressionNet *net, const AffectTensor *input);

/* Same, also returning the pooled features [n, 1, 1, 256] in @features
 * (nullable). */
AffectTensor *affect_expression_net_forward_features (AffectExpressionNet *net,
    const AffectTensor *input, AffectTensor **features);

/* Probabilities (n × 7) and, if @features is not NULL, the 256 features
 * (n × 256) of @n face crops of @img. @crops (nullable, n × 4) receives the
 * integer crop boxes used. Fails if a box has no pixel inside the image. */
gboolean affect_expression_net_run_full (AffectExpressionNet *net,
    const AffectImage *img, const AffectBox *boxes, int n, float *probs,
    float *features, int (*crops)[4], GError **error);

gboolean affect_expression_net_run (AffectExpressionNet *net,
    const AffectImage *img, const AffectBox *boxes, int n, float *probs,
    float *features, GError **error);

/* The classifier head alone (FC 256→7 and softmax), for features computed
 * elsewhere (e.g. carried in metadata):
 *
 * affect_expression_net_new_head() loads only fc/weights and fc/bias of
 * face_expression_model.safetensors (checked for presence and shape); the
 * net it returns serves affect_expression_net_classify() only (the forward
 * and run functions refuse it). A net from affect_expression_net_new()
 * serves both.
 *
 * affect_expression_net_classify(): probabilities (n × 7, face-api order)
 * of @n feature vectors (n × 256, as affect_expression_net_run() returns
 * them), computed by the same layer and softmax as the full network, so the
 * result equals the probabilities of affect_expression_net_run() for the
 * features it returned. @n may be 0. Returns FALSE only when the tensors
 * cannot be allocated (a critical is logged). */
AffectExpressionNet *affect_expression_net_new_head (
    AffectBackend *backend, const gchar *safetensors_path, GError **error);
gboolean affect_expression_net_classify (
    AffectExpressionNet *net, const float *features, int n, float *probs);

/* The network as a kind of shared network (affect-shared.h): acquire it
 * with affect_shared_net_acquire (affect_expression_net_class (), path, …);
 * affect_shared_net_get_net() is then an AffectExpressionNet (the whole network). */
const AffectSharedNetClass *affect_expression_net_class (void);

/* affect_expression_net_run_full() on a shared network, batched with other
 * callers when @window_us > 0 (affect_shared_net_run()). The results are
 * those of affect_expression_net_run_full() bit for bit on backends whose
 * results do not depend on the batch (the CPU). */
gboolean affect_expression_net_run_shared (AffectSharedNet *shared,
    gint64 window_us, const AffectImage *img, const AffectBox *boxes, int n,
    float *probs, float *features, int (*crops)[4], GError **error);

G_END_DECLS

#endif /* __AFFECT_EXPRESSION_H__ */
