/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * FaceFeatureExtractor: the backbone shared (by design, not by weights) by
 * face-api's FaceLandmark68Net and FaceExpressionNet.
 *
 * Input [n, 112, 112, 3], normalised (see affect-image.h). Four dense blocks
 * dense0..dense3 of four convolutions c0..c3 each: c0 downsamples (stride 2,
 * SAME; a regular 3×3 conv 3→32 in dense0, separable 3×3 in dense1..3),
 * c1..c3 are separable 3×3/1 SAME keeping the width. With o1 = relu (c0 (x)),
 * o2 = c1 (o1), o3 = c2 (relu (o1 + o2)), o4 = c3 (relu (o1 + (o2 + o3))),
 * the block returns relu (o1 + (o2 + (o3 + o4))). Spatial 112→56→28→14→7,
 * channels 32, 64, 128, 256; then a 7×7/2 VALID average pool gives
 * [n, 1, 1, 256].
 *
 * Tensor names (tfjs manifest): dense<i>/conv0/filters (dense0 only),
 * dense<i>/conv<j>/depthwise_filter, .../pointwise_filter, .../bias.
 */

#ifndef __AFFECT_FACEFEAT_H__
#define __AFFECT_FACEFEAT_H__

#include <glib.h>
#include "affect-tensor.h"
#include "affect-safetensors.h"
#include "affect-image.h"
#include "affect-shared.h"

G_BEGIN_DECLS

#define AFFECT_FACEFEAT_INPUT_SIZE 112
#define AFFECT_FACEFEAT_N_FEATURES 256

typedef struct _AffectFaceFeat AffectFaceFeat;

/* Builds the extractor from the dense* tensors of @file; checks the
 * presence and shape of each one (the error names the file and tensor). */
AffectFaceFeat *affect_facefeat_new (
    AffectBackend *backend, AffectStFile *file, GError **error);
void affect_facefeat_free (AffectFaceFeat *feat);

/* @input [n, 112, 112, 3] → new tensor [n, 1, 1, 256]. */
AffectTensor *affect_facefeat_forward (
    AffectFaceFeat *feat, const AffectTensor *input);

/* Loads a network made of the extractor and a fully connected head of
 * @n_out outputs (fc/weights [256, n_out], fc/bias [n_out]) from the
 * safetensors file @path onto @backend: the landmark and expression nets.
 * With @head_only the extractor is not built (*@feat = NULL). FALSE with
 * @error, and nothing built, when the file or a tensor is missing or of
 * the wrong shape. */
gboolean affect_facefeat_load_net (AffectBackend *backend, const gchar *path,
    gboolean head_only, int n_out, AffectFaceFeat **feat, AffectLinear **fc,
    GError **error);

/* Helper shared by the networks: an F32 tensor of @file with the given
 * shape (a 0-terminated list of sizes), as a newly allocated copy, or NULL
 * with @error naming the file and tensor. */
gfloat *affect_facefeat_get_weights (
    AffectStFile *file, const gchar *name, GError **error, ...);

/* ---- helpers shared by the face networks' image-level calls ------------ */

/* Faces per forward pass; larger batches are run in chunks. */
#define AFFECT_FACENET_MAX_BATCH 16

/* Checks the arguments of an image-level call: a valid image, n >= 1,
 * non-NULL @boxes and @out, and every box with pixels inside the image (the
 * error says which box). */
gboolean affect_facenet_check_args (const AffectImage *img,
    const AffectBox *boxes, int n, const void *out, GError **error);

/* The crops of @boxes as one host batch [n, size, size, 3] (g_free);
 * @used (n × 4) receives the integer crop boxes. The boxes must have passed
 * affect_facenet_check_args(). */
float *affect_facenet_prepare_batch (const AffectImage *img,
    const AffectBox *boxes, int n, int size, int (*used)[4]);

/* A tensor-level forward pass: returns the head output [n, 1, 1, out_dim]
 * and, when @features is not NULL, the pooled feature [n, 1, 1, feat_dim]. */
typedef AffectTensor *(*AffectFacenetForward) (
    gpointer net, const AffectTensor *input, AffectTensor **features);

/* Runs @forward on the crops of @boxes, AFFECT_FACENET_MAX_BATCH faces at a
 * time: @out_dim floats per face into @out, @feat_dim floats per face into
 * @features (nullable) and the integer crop boxes into @crops (nullable).
 * The boxes must have passed affect_facenet_check_args(). */
void affect_facenet_run_batched (AffectBackend *backend, gpointer net,
    AffectFacenetForward forward, const AffectImage *img,
    const AffectBox *boxes, int n, int size, float *out, int out_dim,
    float *features, int feat_dim, int (*crops)[4]);

/* The forward pass of a shared network (AffectSharedNetClass.forward) for
 * a face network on @backend: uploads @n host crops [n, size, size, 3] from
 * @in, runs @forward and downloads the head output into @out and, when
 * @features is not NULL, the pooled feature into @features. */
gboolean affect_facenet_forward_host (AffectBackend *backend, gpointer net,
    AffectFacenetForward forward, int size, const float *in, int n, float *out,
    float *features);

/* Like affect_facenet_run_batched(), through the shared network @shared
 * (affect-shared.h): the crops are made on the calling thread, the forward
 * passes go through affect_shared_net_run() with @window_us (0 = at once,
 * > 0 = batched with other callers of @shared). The boxes must have passed
 * affect_facenet_check_args(); @size is the network's input size. FALSE
 * with AFFECT_IMAGE_ERROR_FAILED when the forward pass fails. */
gboolean affect_facenet_run_shared (AffectSharedNet *shared, gint64 window_us,
    const AffectImage *img, const AffectBox *boxes, int n, int size, float *out,
    float *features, int (*crops)[4], GError **error);

G_END_DECLS

#endif /* __AFFECT_FACEFEAT_H__ */
