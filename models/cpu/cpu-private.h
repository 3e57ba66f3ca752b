/* gst-affect — models/cpu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CPU backend's private interface, shared by its files (one per op
 * family):
 *   cpu-backend.c      the table, construction, memory
 *   cpu-threads.c      the thread pool (cpu_begin/cpu_end/cpu_parallel_for)
 *                      and the workspace
 *   cpu-conv.c         convolutions, spatial pooling, resize
 *   cpu-gemm.c         fully connected layers (affect-gemm.c: the sgemm
 *                      provider, oneDNN or CBLAS)
 *   cpu-elementwise.c  activations, add, pads, concatenation
 *   cpu-norm.c         softmax (and the normalisation/attention family)
 *   cpu-transformer.c  GELU and the transformer ops
 *   cpu-gru.c          GRU layers and the packed-panel product (also used
 *                      by fully connected layers)
 * The SIMD kernels of cpu-foo.c are in cpu-foo-kernels.h, written once and
 * built for the generic target, AVX2 and AVX-512 by cpu-simd.h, which also
 * picks the build for this CPU at run time.
 */

#ifndef __AFFECT_CPU_PRIVATE_H__
#define __AFFECT_CPU_PRIVATE_H__

#include <string.h>

#include "affect-backend.h"
#include "affect-gemm.h"

G_BEGIN_DECLS

/* Upper bound of one tile's im2col / depthwise scratch in floats (64 MiB);
 * AFFECT_CPU_WORKSPACE_FLOATS lowers it (tests). */
#define WORKSPACE_MAX_FLOATS ((gsize)16 * 1024 * 1024)
/* Elementwise ops are split in blocks of at least this many floats. */
#define ELEMENTWISE_GRAIN 16384

/* Processes items [start, end); @tid is the index of the thread that runs
 * it (0 = the calling thread, below the count cpu_begin () returned),
 * usable to pick per-thread scratch memory. A thread may run several
 * ranges of one job, one after the other. */
typedef void (*CpuRangeFunc) (gpointer data, gsize start, gsize end, int tid);

typedef struct {
  /* Serialises ops on this backend (they share the pool and workspace). */
  GRecMutex lock;

  /* Thread pool: n_workers threads plus the calling thread (see
   * cpu-threads.c). The fields from job on are read and written with
   * atomic operations. */
  GMutex pool_lock;
  GCond start_cond; /* sleeping workers wait here for a job */
  GCond done_cond;  /* a sleeping caller waits here for the last chunks */
  GThread **workers;
  int n_workers;
  int pool_threads; /* thread count the pool was sized for (0: none) */
  gint64 spin_ns;   /* spin before sleeping */
  int chunks_per_thread;
  guint64 job; /* generation, next chunk, chunk count */
  CpuRangeFunc func;
  gpointer func_data;
  gsize n_items;
  guint done;    /* chunks of the job finished */
  gint sleepers; /* workers asleep (or about to be) on start_cond */
  gboolean caller_sleeps;
  gboolean quit;

  /* Workspace for im2col and depthwise intermediates. */
  float *ws;
  gsize ws_floats;
  gsize ws_max;              /* chunking threshold in floats */
  double min_chunk_work;     /* multiply-adds a chunk must be worth */
  gboolean direct_small_cin; /* direct loop for cin <= DIRECT_MAX_CIN */

  /* Recently freed tensor blocks kept for reuse: fresh large allocations
   * cost page faults on every inference. Guarded by cache_lock (tensors
   * may be allocated and freed from any thread). */
  GMutex cache_lock;
  GSList *cache; /* of CpuBlock, most recent first */
  gsize cache_bytes;
} CpuBackend;

typedef struct {
  CpuBackend *cpu;
  int index;    /* 1 .. n_workers */
  guint32 seen; /* job generation at start */
} CpuWorker;

/* ---- threads (cpu-threads.c) ------------------------------------------- */

/* Locks the backend for one op and brings the pool to the configured size;
 * returns the number of threads cpu_parallel_for() will use (the calling
 * thread included) until cpu_end(). */
int cpu_begin (AffectBackend *be);
void cpu_end (AffectBackend *be);
/* Runs func over [0, n_items) in contiguous chunks of about @grain items
 * or more (at most CHUNKS_PER_THREAD per thread; one chunk, on the calling
 * thread, when n_items <= grain). The threads, the caller included, claim
 * chunks as they come; the caller never waits for a thread that has not
 * claimed one. Which thread runs which chunk varies from call to call: the
 * results must not depend on it (nor on where chunks start). Call between
 * cpu_begin() and cpu_end(). */
void cpu_parallel_for (AffectBackend *be, gsize n_items, gsize grain,
    CpuRangeFunc func, gpointer data);
/* The workspace, grown to at least @n floats; NULL on allocation failure.
 * Call with cpu->lock held. */
float *cpu_workspace (CpuBackend *cpu, gsize n);
/* The grain for cpu_parallel_for() of items of @work_per_item
 * multiply-adds (or comparable steps) each: small work stays on the calling
 * thread, since waking a worker costs more than it saves (see
 * CPU_MIN_CHUNK_WORK in cpu-backend.c). */
gsize cpu_grain (AffectBackend *be, double work_per_item);
void cpu_pool_stop (CpuBackend *cpu);

/* ---- scalar helpers ---------------------------------------------------- */

/* SIMD kernels are written once in cpu-*-kernels.h files and built per
 * target by cpu-simd.h (see there). */

static inline float
leaky (float x)
{
  /* Exactly as tfjs: m = 0.1 x; relu(x - m) + m, in float32. */
  float m = 0.1f * x;
  float d = x - m;
  return (d > 0.0f ? d : 0.0f) + m;
}

/* ---- shared kernels (cpu-elementwise.c) -------------------------------- */

/* In-place activation; the vector and scalar paths use the same float
 * operations, so results do not depend on alignment or length. */
void cpu_activate (float *restrict p, gsize n, AffectActivation act);
/* y[r, 0:nc] = act(y[r, 0:nc] + bias[0:nc]) for @rows rows of stride @ld:
 * the GEMM epilogue (conv sum first, then bias, as tfjs does). */
void cpu_bias_act_rows (float *y, gsize rows, int nc, int ld, const float *bias,
    AffectActivation act);

/* c[m, n] = a[m, k] b[k, n] + beta c, in the calling thread only (the
 * pool provides the parallelism). The callers keep m the same for every
 * image whatever the batch, so they do not depend on
 * affect_gemm_rows_independent(). */
static inline void
cpu_sgemm_rm (int m, int n, int k, const float *a, int lda, const float *b,
    int ldb, float beta, float *c, int ldc)
{
  affect_sgemm (1, FALSE, FALSE, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}

/* GELU (erf form) in place over @n floats (cpu-transformer.c). */
void cpu_gelu (float *x, gsize n);

/* ---- packed panels (cpu-gru.c) ----------------------------------------- */

/* Outputs per panel, and how many panel rows ahead the kernels prefetch. */
#define CPU_PANEL 32
#define CPU_PREFETCH_ROWS 16

/* A weight packed for y = x Wᵀ + b (see cpu-gru.c): n_cols outputs in np
 * panels, w [np][k][CPU_PANEL] and bias [np * CPU_PANEL] (64-byte aligned,
 * zeros past n_cols). */
typedef struct {
  int n_cols, k, np;
  float *w, *bias;
  /* The weight as IEEE half floats instead of w (NULL in w), same layout,
   * after cpu_panels_to_half (). */
  guint16 *wh;
} CpuPanels;

/* Packs @w, whose element (output j, input i) is w[j * ld_out + i * ld_in],
 * and @bias [outputs] (NULL: zeros). Packed column o is output map[o]
 * (map NULL: o; -1: a zero column). FALSE on allocation failure. */
gboolean cpu_panels_init (CpuPanels *p, int n_cols, int k, const float *w,
    gsize ld_out, gsize ld_in, const float *bias, const int *map);
void cpu_panels_clear (CpuPanels *p);
/* Stores the packed weight as half floats (wh) if every value is one
 * exactly (not NaN or infinite) and AFFECT_CPU_F16_PANELS is not "0":
 * cpu_panels_run () then reads half the bytes and gives the same bits.
 * FALSE (the float32 packing kept) otherwise. */
gboolean cpu_panels_to_half (CpuPanels *p);
/* y[r, columns of panels p0 .. p1-1] = x[r, 0:k] Wᵀ + b for @rows rows
 * (row strides @ldx, @ldy), in the calling thread. */
void cpu_panels_run (const CpuPanels *p, const float *x, gsize ldx, int rows,
    float *y, gsize ldy, int p0, int p1);

/* ---- the table entries ------------------------------------------------- */

gpointer cpu_alloc (AffectBackend *be, gsize n_bytes);
void cpu_free (AffectBackend *be, gpointer data);
void cpu_upload (
    AffectBackend *be, AffectTensor *dst, const float *src, gsize n);
void cpu_download (
    AffectBackend *be, const AffectTensor *src, float *dst, gsize n);
gboolean cpu_conv_prepare (AffectBackend *be, AffectConv *conv);
void cpu_conv_forward (AffectBackend *be, AffectConv *conv,
    const AffectTensor *x, AffectTensor *y, int pad_top, int pad_left);
void cpu_conv_free (AffectBackend *be, AffectConv *conv);
gboolean cpu_linear_prepare (AffectBackend *be, AffectLinear *lin);
void cpu_linear_forward (AffectBackend *be, AffectLinear *lin,
    const AffectTensor *x, AffectTensor *y, gsize rows);
void cpu_linear_free (AffectBackend *be, AffectLinear *lin);
void cpu_pad (AffectBackend *be, const AffectTensor *x, AffectTensor *y,
    int top, int left);
void cpu_pool (AffectBackend *be, AffectPoolKind kind, const AffectTensor *x,
    AffectTensor *y, int k, int stride, int pad_top, int pad_left);
void cpu_global_mean (
    AffectBackend *be, const AffectTensor *x, AffectTensor *y);
void cpu_add (AffectBackend *be, const AffectTensor *a, const AffectTensor *b,
    AffectTensor *y);
void cpu_unary (AffectBackend *be, AffectTensor *x, AffectUnaryOp op);
void cpu_softmax (AffectBackend *be, AffectTensor *x);
void cpu_concat_channels (AffectBackend *be, const AffectTensor *a,
    const AffectTensor *b, AffectTensor *y);
void cpu_pad_channels (
    AffectBackend *be, const AffectTensor *x, AffectTensor *y);
void cpu_matmul (AffectBackend *be, const AffectMatView *a, gboolean trans_a,
    const AffectMatView *b, gboolean trans_b, const AffectMatView *y, int m,
    int n, int k, int batch0, int batch1, float alpha, float beta);
void cpu_layer_norm (AffectBackend *be, AffectTensor *x,
    const AffectTensor *gamma, const AffectTensor *beta, double eps);
void cpu_softmax_masked (AffectBackend *be, AffectTensor *x, float scale,
    const AffectTensor *mask, int causal_offset);
void cpu_gather_rows (AffectBackend *be, const AffectTensor *table,
    const gint32 *ids, gsize n_ids, AffectTensor *y);
void cpu_binary (AffectBackend *be, AffectTensor *a, const AffectTensor *b,
    AffectBinaryOp op);
void cpu_scale (AffectBackend *be, AffectTensor *x, float alpha, float beta);
void cpu_copy_rows (AffectBackend *be, const AffectTensor *src,
    gsize src_offset, int src_ld, gsize src_stride, AffectTensor *dst,
    gsize dst_offset, int dst_ld, gsize dst_stride, int rows, int cols,
    int batch);
void cpu_resize_bilinear (
    AffectBackend *be, const AffectTensor *x, AffectTensor *y);
/* The table's matmul: small products on the kernels of cpu-gru.c, the
 * others through cpu_matmul (). */
void cpu_matmul_dispatch (AffectBackend *be, const AffectMatView *a,
    gboolean trans_a, const AffectMatView *b, gboolean trans_b,
    const AffectMatView *y, int m, int n, int k, int batch0, int batch1,
    float alpha, float beta);
gboolean cpu_gru_prepare (AffectBackend *be, AffectGru *gru);
void cpu_gru_forward (AffectBackend *be, AffectGru *gru, const AffectTensor *x,
    const AffectTensor *h0, AffectTensor *y);
void cpu_gru_free (AffectBackend *be, AffectGru *gru);

G_END_DECLS

#endif /* __AFFECT_CPU_PRIVATE_H__ */
