/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The fusion network (issue 6, "The network"): C inference of the PyTorch
 * module of models/fusion/fusion_model.py, loaded from its safetensors file.
 *
 * For a face track and a clip of T frames (centre c = T / 2): the image
 * feature x_img of frame c and, per clip branch m (exp, spe, wrd), x_m
 * [T, D_m] and a presence flag. Per branch: h_m = GRU_m(x_m) (PyTorch gates
 * r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); zero initial
 * state); q_m = query_m(x_img); a_m = MultiheadAttention(q_m, h_m, h_m);
 * u_m = LayerNorm(q_m + a_m); c_m = LayerNorm(u_m + FFN(u_m)); an absent
 * branch gives c_m = missing_m. z = [x_img, c_exp, c_spe, c_wrd]; the heads
 * (Linear, ReLU, Linear) give au (12, sigmoid), expr (K, softmax) and va
 * (2, tanh), for the tasks the file holds.
 *
 * Loading validates every metadata key (format, version, sizes, tasks,
 * labels, features) and every tensor's name, dtype and shape; unexpected
 * tensors are rejected too. Errors name the file and what is wrong.
 *
 * Inference runs on the engine's ops (affect-tensor.h) on the backend the
 * model is loaded onto: the caller's (affect_fusion_new (), as the face
 * networks and BERT take theirs) or a CPU backend of its own
 * (affect_fusion_load ()); GLib only, no GStreamer. An AffectFusion is
 * immutable after loading (except for affect_fusion_set_n_threads(), to be
 * called before sharing it); affect_fusion_run() may be called from several
 * threads at once (the ops of one backend take turns).
 */

#ifndef __AFFECT_FUSION_H__
#define __AFFECT_FUSION_H__

#include <glib.h>

#include "affect-safetensors.h"
#include "affect-shared.h"
#include "affect-tensor.h"

G_BEGIN_DECLS

#define AFFECT_FUSION_ERROR (affect_fusion_error_quark ())
GQuark affect_fusion_error_quark (void);

typedef enum {
  AFFECT_FUSION_ERROR_METADATA, /* a metadata key missing or invalid */
  AFFECT_FUSION_ERROR_TENSOR,   /* a tensor missing, unexpected, bad shape */
  AFFECT_FUSION_ERROR_FEATURES, /* the inputs come from other extractors */
  AFFECT_FUSION_ERROR_INPUT,    /* run(): inputs do not fit the model */
  AFFECT_FUSION_ERROR_BACKEND   /* the backend lacks an op the model needs */
} AffectFusionError;

/* Value of the "format" and "version" metadata keys. */
#define AFFECT_FUSION_FORMAT "gst-affect-fusion"
#define AFFECT_FUSION_VERSION "1"

typedef enum {
  AFFECT_FUSION_BRANCH_EXP,
  AFFECT_FUSION_BRANCH_SPE,
  AFFECT_FUSION_BRANCH_WRD,
  AFFECT_FUSION_N_BRANCHES
} AffectFusionBranch;

typedef enum {
  AFFECT_FUSION_TASK_AU,
  AFFECT_FUSION_TASK_EXPR,
  AFFECT_FUSION_TASK_VA,
  AFFECT_FUSION_N_TASKS
} AffectFusionTask;

/* Number of AU outputs and VA outputs of the contract. */
#define AFFECT_FUSION_N_AU 12
#define AFFECT_FUSION_N_VA 2

/* Limits on the sizes in a model's metadata (what a model can sensibly
 * have; the trained models use 32 frames, H = 256, 8 heads): loading
 * fails with AFFECT_FUSION_ERROR_METADATA naming the key, its value and
 * the limit. AFFECT_FUSION_MAX_WINDOW bounds one face track's clip window,
 * clip_len * (d_img + d_exp + d_spe + d_wrd) floats (16 MiB). */
#define AFFECT_FUSION_MAX_CLIP_LEN 1024
#define AFFECT_FUSION_MAX_HIDDEN 4096
#define AFFECT_FUSION_MAX_HEADS 256
#define AFFECT_FUSION_MAX_MLP_HIDDEN 16384
#define AFFECT_FUSION_MAX_FEATURE_DIM 16384
#define AFFECT_FUSION_MAX_WINDOW (1 << 22)

typedef struct {
  int clip_len; /* T the model was trained with */
  int hidden;   /* H */
  int heads;
  int mlp_hidden;
  int d_img;
  int d_branch[AFFECT_FUSION_N_BRANCHES]; /* D_exp, D_spe, D_wrd */
  gboolean has_task[AFFECT_FUSION_N_TASKS];
  int n_out[AFFECT_FUSION_N_TASKS]; /* 12, K, 2 (0 when the task is absent) */
  gchar **au_labels;                /* NULL-terminated; empty without au */
  gchar **expr_labels;              /* NULL-terminated; empty without expr */
  gchar *features;                  /* the "features" metadata value */
} AffectFusionInfo;

typedef struct _AffectFusion AffectFusion;

/* Names "exp", "spe", "wrd" and "au", "expr", "va". */
const gchar *affect_fusion_branch_name (AffectFusionBranch branch);
const gchar *affect_fusion_task_name (AffectFusionTask task);

/* Load and validate onto @backend (a reference is kept; NULL: a CPU
 * backend of the model's own with 1 thread), which then runs every
 * affect_fusion_run (). NULL with @error on any problem;
 * AFFECT_FUSION_ERROR_BACKEND when @backend does not support an op family
 * the network needs. */
AffectFusion *affect_fusion_new (
    AffectBackend *backend, const gchar *path, GError **error);
AffectFusion *affect_fusion_new_from_file (
    AffectBackend *backend, AffectStFile *file, GError **error);
/* The same with @backend NULL. */
AffectFusion *affect_fusion_load (const gchar *path, GError **error);
AffectFusion *affect_fusion_load_file (AffectStFile *file, GError **error);
void affect_fusion_free (AffectFusion *fusion);

/* The network as a shared-only kind of shared network (affect-shared.h,
 * kind "fusion"): affect_shared_net_acquire (affect_fusion_class (), path,
 * …) loads it with affect_fusion_new() on the entry's backend (whose thread
 * count is the key's) and affect_shared_net_get_net() is the AffectFusion,
 * which its holders run with affect_fusion_run() from any thread at once.
 * A holder must not call affect_fusion_set_n_threads() on it. */
const AffectSharedNetClass *affect_fusion_class (void);

/* The backend the model runs on (transfer none). */
AffectBackend *affect_fusion_get_backend (const AffectFusion *fusion);

const AffectFusionInfo *affect_fusion_get_info (const AffectFusion *fusion);

/* Threads one affect_fusion_run() call may use (clamped to
 * 1 .. AFFECT_FUSION_MAX_THREADS): the thread count of the model's backend
 * (affect_backend_set_n_threads (); on a backend shared with other networks
 * this sets theirs too), whose ops spread their work (GRU sequences or
 * hidden units, rows and panels of the products) over the caller and the
 * backend's pool. get () returns the backend's count (1 for a model of
 * affect_fusion_load () until set). On the CPU backend results do not
 * depend on it (nor on the batch): identical bits. Set it before the model
 * is shared between threads. */
#define AFFECT_FUSION_MAX_THREADS 64
void affect_fusion_set_n_threads (AffectFusion *fusion, int n_threads);
int affect_fusion_get_n_threads (const AffectFusion *fusion);

/* TRUE when @features (what the running extractors produce) equals the
 * model's "features" value; else FALSE with AFFECT_FUSION_ERROR_FEATURES
 * naming both. */
gboolean affect_fusion_check_features (
    const AffectFusion *fusion, const gchar *features, GError **error);

/* Runs @n clips of @t frames (t >= 1; normally info->clip_len).
 *  img [n, d_img]; x_exp [n, t, d_exp]; x_spe [n, t, d_spe];
 *  x_wrd [n, t, d_wrd];
 *  present [n, 3] (exp, spe, wrd; nonzero = present). A branch array may be
 *  NULL when no clip has that branch present. Frames without data inside a
 *  present clip are zeros (the caller fills them).
 * Outputs, for the tasks the model has (others may be NULL and are not
 * touched): au [n, 12] probabilities, expr [n, K] probabilities, va [n, 2]
 * in [-1, 1]. Returns FALSE with AFFECT_FUSION_ERROR_INPUT when an input
 * that is needed is NULL or @n / @t is out of range. */
gboolean affect_fusion_run (const AffectFusion *fusion, int n, int t,
    const float *img, const float *x_exp, const float *x_spe,
    const float *x_wrd, const guint8 *present, float *au, float *expr,
    float *va, GError **error);

/* Whether the inputs affect_fusion_run () would read with the same
 * arguments are finite. run () does not check, and a NaN or infinite
 * feature can come out as finite-looking predictions (it does with the
 * golden test model), so call this first and leave the bad inputs out.
 *  @img_finite [n] (may be NULL): 1 when clip i's image feature is finite
 *  (always 1 when @img is NULL);
 *  @branch_finite [n, 3] (exp, spe, wrd; may be NULL): 1 when the t frames
 *  of branch m of clip i are finite, or when run () would not read them
 *  (the branch array is NULL, or @present says absent).
 * @present may be NULL: then every branch whose array is given counts. The
 * arrays have the layout of affect_fusion_run (); t >= 1. Returns TRUE
 * when everything checked is finite. Thread-safe (reads only). For a
 * stream, call it per frame with n = t = 1 on that frame's vectors. */
gboolean affect_fusion_inputs_finite (const AffectFusion *fusion, int n, int t,
    const float *img, const float *x_exp, const float *x_spe,
    const float *x_wrd, const guint8 *present, guint8 *img_finite,
    guint8 *branch_finite);

G_END_DECLS

#endif /* __AFFECT_FUSION_H__ */
