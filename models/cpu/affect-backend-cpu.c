/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CPU backend: host memory, a small persistent thread pool for our own
 * loops, affect_sgemm() (oneDNN or CBLAS, single-threaded, called on
 * independent tiles from the pool) for the heavy work. See
 * docs/inference-core.md.
 *
 *  - regular and separable convolutions: per image, tiles of (output pixel
 *    block) x (output channel block); each tile builds its A block (im2col
 *    with K ordered kh, kw, cin like the HWIO filter, the depthwise output,
 *    or a view of the input for 1×1 stride 1), runs sgemm and applies
 *    bias + activation while the tile is in cache;
 *  - few input channels with generic CBLAS kernels: a direct loop;
 *  - depthwise, pooling, activations: vector loops (8-float GCC/clang
 *    vector types, AVX2 clones on x86-64 GCC).
 *
 * Every output element is computed by exactly one thread, and every image
 * goes through the same calls whatever the batch size or thread count, so
 * results are bit-identical across batch sizes and thread counts.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "affect-backend.h"
#include "affect-gemm.h"

/* Upper bound of one tile's im2col / depthwise scratch in floats (64 MiB);
 * AFFECT_CPU_WORKSPACE_FLOATS lowers it (tests). */
#define WORKSPACE_MAX_FLOATS ((gsize)16 * 1024 * 1024)
/* Elementwise ops are split in blocks of at least this many floats. */
#define ELEMENTWISE_GRAIN 16384

/* Processes items [start, end); @tid is the chunk index (0 = the calling
 * thread), usable to pick per-thread scratch memory. */
typedef void (*CpuRangeFunc) (gpointer data, gsize start, gsize end, int tid);

typedef struct {
  /* Serialises ops on this backend (they share the pool and workspace). */
  GRecMutex lock;

  /* Thread pool: n_workers threads plus the calling thread. */
  GMutex pool_lock;
  GCond start_cond;
  GCond done_cond;
  GThread **workers;
  int n_workers;
  int pool_threads; /* thread count the pool was sized for (0: none) */
  guint generation;
  int pending;
  gboolean quit;
  CpuRangeFunc func;
  gpointer func_data;
  gsize n_items;
  int n_chunks;

  /* Workspace for im2col and depthwise intermediates. */
  float *ws;
  gsize ws_floats;
  gsize ws_max;              /* chunking threshold in floats */
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
  int index;  /* 1 .. n_workers */
  guint seen; /* generation at start */
} CpuWorker;

static void
chunk_bounds (gsize n_items, int n_chunks, int i, gsize *start, gsize *end)
{
  *start = n_items * (gsize)i / (gsize)n_chunks;
  *end = n_items * (gsize)(i + 1) / (gsize)n_chunks;
}

static gpointer
worker_main (gpointer data)
{
  CpuWorker *w = data;
  CpuBackend *cpu = w->cpu;
  guint seen;

  g_mutex_lock (&cpu->pool_lock);
  /* Jobs published after the worker was created must not be missed. */
  seen = w->seen;
  for (;;) {
    gsize start, end;
    while (!cpu->quit && cpu->generation == seen)
      g_cond_wait (&cpu->start_cond, &cpu->pool_lock);
    if (cpu->quit)
      break;
    seen = cpu->generation;
    if (w->index < cpu->n_chunks) {
      CpuRangeFunc func = cpu->func;
      gpointer func_data = cpu->func_data;
      chunk_bounds (cpu->n_items, cpu->n_chunks, w->index, &start, &end);
      g_mutex_unlock (&cpu->pool_lock);
      func (func_data, start, end, w->index);
      g_mutex_lock (&cpu->pool_lock);
      if (--cpu->pending == 0)
        g_cond_signal (&cpu->done_cond);
    }
  }
  g_mutex_unlock (&cpu->pool_lock);
  g_free (w);
  return NULL;
}

static void
pool_stop (CpuBackend *cpu)
{
  int i;

  if (cpu->n_workers == 0)
    return;
  g_mutex_lock (&cpu->pool_lock);
  cpu->quit = TRUE;
  g_cond_broadcast (&cpu->start_cond);
  g_mutex_unlock (&cpu->pool_lock);
  for (i = 0; i < cpu->n_workers; i++)
    g_thread_join (cpu->workers[i]);
  g_free (cpu->workers);
  cpu->workers = NULL;
  cpu->n_workers = 0;
  cpu->quit = FALSE;
}

/* Starts n_threads - 1 workers (a failure to start one only means fewer). */
static void
pool_start (CpuBackend *cpu, int n_threads)
{
  int i;

  cpu->workers = g_new0 (GThread *, MAX (n_threads - 1, 1));
  for (i = 0; i < n_threads - 1; i++) {
    CpuWorker *w = g_new0 (CpuWorker, 1);
    GError *err = NULL;
    w->cpu = cpu;
    w->index = i + 1;
    w->seen = cpu->generation;
    cpu->workers[i] = g_thread_try_new ("affect-cpu", worker_main, w, &err);
    if (cpu->workers[i] == NULL) {
      g_warning ("affect cpu backend: could not start a worker thread: %s",
          err->message);
      g_clear_error (&err);
      g_free (w);
      break;
    }
    cpu->n_workers++;
  }
}

/* Locks the backend for one op and brings the pool to the configured size;
 * returns the number of threads parallel_for() will use (the calling thread
 * included) until cpu_end(). */
static int
cpu_begin (AffectBackend *be)
{
  CpuBackend *cpu = be->priv;
  int want;

  g_rec_mutex_lock (&cpu->lock);
  want = g_atomic_int_get (&be->n_threads);
  if (cpu->pool_threads != want) {
    pool_stop (cpu);
    if (want > 1)
      pool_start (cpu, want);
    cpu->pool_threads = want;
  }
  return cpu->n_workers + 1;
}

static void
cpu_end (AffectBackend *be)
{
  CpuBackend *cpu = be->priv;

  g_rec_mutex_unlock (&cpu->lock);
}

/* Runs func over [0, n_items) split in contiguous chunks of at least @grain
 * items, at most one per thread (chunk index = @tid). Call between
 * cpu_begin() and cpu_end(). */
static void
parallel_for (AffectBackend *be, gsize n_items, gsize grain, CpuRangeFunc func,
    gpointer data)
{
  CpuBackend *cpu = be->priv;
  gsize n_chunks, start, end;

  if (n_items == 0)
    return;
  grain = MAX (grain, 1);
  n_chunks = MIN ((gsize)cpu->n_workers + 1, (n_items + grain - 1) / grain);
  if (n_chunks <= 1) {
    func (data, 0, n_items, 0);
    return;
  }

  g_mutex_lock (&cpu->pool_lock);
  cpu->func = func;
  cpu->func_data = data;
  cpu->n_items = n_items;
  cpu->n_chunks = (int)n_chunks;
  cpu->pending = (int)n_chunks - 1;
  cpu->generation++;
  g_cond_broadcast (&cpu->start_cond);
  g_mutex_unlock (&cpu->pool_lock);

  chunk_bounds (n_items, (int)n_chunks, 0, &start, &end);
  func (data, start, end, 0);

  g_mutex_lock (&cpu->pool_lock);
  while (cpu->pending > 0)
    g_cond_wait (&cpu->done_cond, &cpu->pool_lock);
  g_mutex_unlock (&cpu->pool_lock);
}

/* The workspace, grown to at least @n floats; NULL on allocation failure.
 * Call with cpu->lock held. */
static float *
workspace (CpuBackend *cpu, gsize n)
{
  if (n > cpu->ws_floats) {
    g_free (cpu->ws);
    cpu->ws = g_try_new (float, n);
    cpu->ws_floats = cpu->ws ? n : 0;
  }
  return cpu->ws;
}

/* ---- memory ------------------------------------------------------------ */

/* Every block starts with this header; the tensor data follow at
 * BLOCK_HEADER bytes (keeps malloc's 16-byte alignment). */
typedef struct {
  gsize size; /* usable bytes */
} CpuBlock;

#define BLOCK_HEADER 32
/* Limits of the cache of freed blocks. */
#define CACHE_MAX_BYTES ((gsize)128 * 1024 * 1024)
#define CACHE_MAX_BLOCKS 32

static gpointer
cpu_alloc (AffectBackend *be, gsize n_bytes)
{
  CpuBackend *cpu = be->priv;
  CpuBlock *best = NULL, *blk;
  GSList *l, *best_link = NULL;

  if (n_bytes > G_MAXSIZE - BLOCK_HEADER)
    return NULL;

  /* Smallest cached block that fits without wasting more than half. */
  g_mutex_lock (&cpu->cache_lock);
  for (l = cpu->cache; l != NULL; l = l->next) {
    blk = l->data;
    if (blk->size >= n_bytes && blk->size / 2 <= n_bytes
        && (best == NULL || blk->size < best->size)) {
      best = blk;
      best_link = l;
    }
  }
  if (best != NULL) {
    cpu->cache = g_slist_delete_link (cpu->cache, best_link);
    cpu->cache_bytes -= best->size;
  }
  g_mutex_unlock (&cpu->cache_lock);

  if (best == NULL) {
    best = g_try_malloc (BLOCK_HEADER + n_bytes);
    if (best == NULL)
      return NULL;
    best->size = n_bytes;
  }
  return (guint8 *)best + BLOCK_HEADER;
}

static void
cpu_free (AffectBackend *be, gpointer data)
{
  CpuBackend *cpu = be->priv;
  CpuBlock *blk = (CpuBlock *)((guint8 *)data - BLOCK_HEADER);
  GSList *evict = NULL, *l;

  g_mutex_lock (&cpu->cache_lock);
  if (blk->size <= CACHE_MAX_BYTES) {
    cpu->cache = g_slist_prepend (cpu->cache, blk);
    cpu->cache_bytes += blk->size;
    blk = NULL;
    /* Drop the oldest blocks beyond the limits. */
    while (cpu->cache_bytes > CACHE_MAX_BYTES
           || g_slist_length (cpu->cache) > CACHE_MAX_BLOCKS) {
      GSList *last = g_slist_last (cpu->cache);
      CpuBlock *old = last->data;
      cpu->cache = g_slist_delete_link (cpu->cache, last);
      cpu->cache_bytes -= old->size;
      evict = g_slist_prepend (evict, old);
    }
  }
  g_mutex_unlock (&cpu->cache_lock);

  g_free (blk);
  for (l = evict; l != NULL; l = l->next)
    g_free (l->data);
  g_slist_free (evict);
}

static void
cpu_upload (AffectBackend *be, AffectTensor *dst, const float *src, gsize n)
{
  memcpy (dst->data, src, n * sizeof (float));
}

static void
cpu_download (AffectBackend *be, const AffectTensor *src, float *dst, gsize n)
{
  memcpy (dst, src->data, n * sizeof (float));
}

/* ---- vector helpers ---------------------------------------------------- */

/* GCC/clang vector extensions: 8 floats. Without AVX the compiler lowers
 * them to two SSE (or NEON) operations; on x86-64 GCC the hot kernels are
 * also built for AVX2 and picked at run time (same operations, same
 * results: no FMA contraction, -ffp-contract=off). */
typedef float v8f __attribute__ ((vector_size (32)));

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) \
    && defined(__linux__) && defined(__ELF__)
#define MULTIVERSION __attribute__ ((target_clones ("avx2", "default")))
#else
#define MULTIVERSION
#endif

/* Unaligned 8-float load/store (memcpy compiles to one vector move). */
#define LOAD8(v, p) memcpy (&(v), (p), sizeof (v8f))
#define STORE8(p, v) memcpy ((p), &(v), sizeof (v8f))

/* ---- activations ------------------------------------------------------- */

static inline float
leaky (float x)
{
  /* Exactly as tfjs: m = 0.1 x; relu(x - m) + m, in float32. */
  float m = 0.1f * x;
  float d = x - m;
  return (d > 0.0f ? d : 0.0f) + m;
}

typedef gint32 v8i __attribute__ ((vector_size (32)));

/* max(v, 0) without branches: keeps v where v > 0, else +0. */
#define RELU8(v) ((v8f)((v8i)(v) & ((v) > zero)))

/* In-place activation; the vector and scalar paths use the same float
 * operations, so results do not depend on alignment or length. */
MULTIVERSION static void
activate (float *restrict p, gsize n, AffectActivation act)
{
  const v8f zero = { 0 };
  const v8f six = { 6, 6, 6, 6, 6, 6, 6, 6 };
  const v8f tenth = { 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f };
  gsize i = 0;
  v8f v, m;

  switch (act) {
    case AFFECT_ACT_RELU:
      for (; i + 8 <= n; i += 8) {
        LOAD8 (v, p + i);
        v = RELU8 (v);
        STORE8 (p + i, v);
      }
      for (; i < n; i++)
        p[i] = p[i] > 0.0f ? p[i] : 0.0f;
      break;
    case AFFECT_ACT_RELU6:
      for (; i + 8 <= n; i += 8) {
        v8i below;
        LOAD8 (v, p + i);
        v = RELU8 (v);
        below = v < six;
        v = (v8f)(((v8i)v & below) | ((v8i)six & ~below));
        STORE8 (p + i, v);
      }
      for (; i < n; i++) {
        float r = p[i] > 0.0f ? p[i] : 0.0f;
        p[i] = r < 6.0f ? r : 6.0f;
      }
      break;
    case AFFECT_ACT_LEAKY:
      /* tfjs: m = 0.1 x; relu(x - m) + m. */
      for (; i + 8 <= n; i += 8) {
        LOAD8 (v, p + i);
        m = tenth * v;
        v = v - m;
        v = RELU8 (v) + m;
        STORE8 (p + i, v);
      }
      for (; i < n; i++)
        p[i] = leaky (p[i]);
      break;
    default:
      break;
  }
}

/* y[r, 0:nc] = act(y[r, 0:nc] + bias[0:nc]) for @rows rows of stride @ld:
 * the GEMM epilogue (conv sum first, then bias, as tfjs does). */
MULTIVERSION static void
bias_act_rows (float *y, gsize rows, int nc, int ld, const float *bias,
    AffectActivation act)
{
  const v8f zero = { 0 };
  const v8f six = { 6, 6, 6, 6, 6, 6, 6, 6 };
  const v8f tenth = { 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f };
  gsize r;

  for (r = 0; r < rows; r++, y += ld) {
    int ch = 0;
    for (; ch + 8 <= nc; ch += 8) {
      v8f v, b, m;
      v8i below;
      LOAD8 (v, y + ch);
      LOAD8 (b, bias + ch);
      v += b;
      switch (act) {
        case AFFECT_ACT_RELU:
          v = RELU8 (v);
          break;
        case AFFECT_ACT_RELU6:
          v = RELU8 (v);
          below = v < six;
          v = (v8f)(((v8i)v & below) | ((v8i)six & ~below));
          break;
        case AFFECT_ACT_LEAKY:
          m = tenth * v;
          v = v - m;
          v = RELU8 (v) + m;
          break;
        default:
          break;
      }
      STORE8 (y + ch, v);
    }
    for (; ch < nc; ch++) {
      float v = y[ch] + bias[ch];
      switch (act) {
        case AFFECT_ACT_RELU:
          v = v > 0.0f ? v : 0.0f;
          break;
        case AFFECT_ACT_RELU6:
          v = v > 0.0f ? v : 0.0f;
          v = v < 6.0f ? v : 6.0f;
          break;
        case AFFECT_ACT_LEAKY:
          v = leaky (v);
          break;
        default:
          break;
      }
      y[ch] = v;
    }
  }
}

/* c[m, n] = a[m, k] b[k, n] + beta c, in the calling thread only (the
 * pool provides the parallelism). The callers keep m the same for every
 * image whatever the batch, so they do not depend on
 * affect_gemm_rows_independent(). */
static void
sgemm_rm (int m, int n, int k, const float *a, int lda, const float *b, int ldb,
    float beta, float *c, int ldc)
{
  affect_sgemm (1, FALSE, FALSE, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}

/* ---- depthwise kernel -------------------------------------------------- */

typedef struct {
  const float *x;
  const float *filter; /* [kh, kw, c] */
  const float *bias;   /* [c] or NULL (zeros) */
  int h, w, c, oh, ow, kh, kw, stride, pt, pl;
} DwParams;

/* Depthwise output of the flattened output pixels [p0, p1) into out
 * (row p0 first), without activation. Each element is bias + the taps in
 * (ky, kx) order, whatever the chunking. */
MULTIVERSION static void
dw_pixels (const DwParams *d, gsize p0, gsize p1, float *out)
{
  const int c = d->c;
  const gsize per_image = (gsize)d->oh * d->ow;
  int n = (int)(p0 / per_image), oy, ox;
  gsize p;

  oy = (int)(p0 % per_image) / d->ow;
  ox = (int)(p0 % per_image) % d->ow;
  for (p = p0; p < p1; p++, out += c) {
    int iy0 = oy * d->stride - d->pt, ix0 = ox * d->stride - d->pl;
    int ky0 = MAX (0, -iy0), ky1 = MIN (d->kh, d->h - iy0);
    int kx0 = MAX (0, -ix0), kx1 = MIN (d->kw, d->w - ix0);
    const float *img = d->x + (gsize)n * d->h * d->w * c;
    int ch = 0, ky, kx;

    /* Two horizontally adjacent pixels with the same taps in bounds (the
     * interior): 32 channels of both at once, eight accumulators, shared
     * filter loads. Same per-element order as the one-pixel loop. */
    if (c % 32 == 0 && p + 1 < p1 && ox + 1 < d->ow) {
      int ix1 = ix0 + d->stride;
      if (kx0 == 0 && kx1 == d->kw && ix1 + d->kw <= d->w) {
        for (; ch + 32 <= c; ch += 32) {
          v8f a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 }, b0, b1, b2, b3,
              x0, x1, x2, x3, f0, f1, f2, f3;
          if (d->bias) {
            LOAD8 (a0, d->bias + ch);
            LOAD8 (a1, d->bias + ch + 8);
            LOAD8 (a2, d->bias + ch + 16);
            LOAD8 (a3, d->bias + ch + 24);
          }
          b0 = a0;
          b1 = a1;
          b2 = a2;
          b3 = a3;
          for (ky = ky0; ky < ky1; ky++) {
            const float *xr = img + ((gsize)(iy0 + ky) * d->w + ix0) * c + ch;
            const float *xs = xr + (gsize)d->stride * c;
            const float *fr = d->filter + (gsize)ky * d->kw * c + ch;
            for (kx = 0; kx < d->kw; kx++) {
              const float *fp = fr + (gsize)kx * c;
              const float *xp = xr + (gsize)kx * c, *xq = xs + (gsize)kx * c;
              LOAD8 (f0, fp);
              LOAD8 (f1, fp + 8);
              LOAD8 (f2, fp + 16);
              LOAD8 (f3, fp + 24);
              LOAD8 (x0, xp);
              LOAD8 (x1, xp + 8);
              LOAD8 (x2, xp + 16);
              LOAD8 (x3, xp + 24);
              a0 += x0 * f0;
              a1 += x1 * f1;
              a2 += x2 * f2;
              a3 += x3 * f3;
              LOAD8 (x0, xq);
              LOAD8 (x1, xq + 8);
              LOAD8 (x2, xq + 16);
              LOAD8 (x3, xq + 24);
              b0 += x0 * f0;
              b1 += x1 * f1;
              b2 += x2 * f2;
              b3 += x3 * f3;
            }
          }
          STORE8 (out + ch, a0);
          STORE8 (out + ch + 8, a1);
          STORE8 (out + ch + 16, a2);
          STORE8 (out + ch + 24, a3);
          STORE8 (out + c + ch, b0);
          STORE8 (out + c + ch + 8, b1);
          STORE8 (out + c + ch + 16, b2);
          STORE8 (out + c + ch + 24, b3);
        }
        /* Both pixels done: advance past the second one. */
        p++;
        out += c;
        ox++;
      }
    }

    /* 32 channels at a time: four independent accumulators. */
    for (; ch + 32 <= c; ch += 32) {
      v8f a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 }, x0, x1, x2, x3, f0,
          f1, f2, f3;
      if (d->bias) {
        LOAD8 (a0, d->bias + ch);
        LOAD8 (a1, d->bias + ch + 8);
        LOAD8 (a2, d->bias + ch + 16);
        LOAD8 (a3, d->bias + ch + 24);
      }
      for (ky = ky0; ky < ky1; ky++) {
        const float *xr = img + ((gsize)(iy0 + ky) * d->w + ix0) * c + ch;
        const float *fr = d->filter + (gsize)ky * d->kw * c + ch;
        for (kx = kx0; kx < kx1; kx++) {
          const float *xp = xr + (gsize)kx * c, *fp = fr + (gsize)kx * c;
          LOAD8 (x0, xp);
          LOAD8 (x1, xp + 8);
          LOAD8 (x2, xp + 16);
          LOAD8 (x3, xp + 24);
          LOAD8 (f0, fp);
          LOAD8 (f1, fp + 8);
          LOAD8 (f2, fp + 16);
          LOAD8 (f3, fp + 24);
          a0 += x0 * f0;
          a1 += x1 * f1;
          a2 += x2 * f2;
          a3 += x3 * f3;
        }
      }
      STORE8 (out + ch, a0);
      STORE8 (out + ch + 8, a1);
      STORE8 (out + ch + 16, a2);
      STORE8 (out + ch + 24, a3);
    }
    for (; ch + 8 <= c; ch += 8) {
      v8f acc = { 0 }, xv, fv;
      if (d->bias)
        LOAD8 (acc, d->bias + ch);
      for (ky = ky0; ky < ky1; ky++) {
        const float *xr = img + ((gsize)(iy0 + ky) * d->w + ix0) * c + ch;
        const float *fr = d->filter + (gsize)ky * d->kw * c + ch;
        for (kx = kx0; kx < kx1; kx++) {
          LOAD8 (xv, xr + (gsize)kx * c);
          LOAD8 (fv, fr + (gsize)kx * c);
          acc += xv * fv;
        }
      }
      STORE8 (out + ch, acc);
    }
    for (; ch < c; ch++) {
      float acc = d->bias ? d->bias[ch] : 0.0f;
      for (ky = ky0; ky < ky1; ky++) {
        const float *xr = img + ((gsize)(iy0 + ky) * d->w + ix0) * c + ch;
        const float *fr = d->filter + (gsize)ky * d->kw * c + ch;
        for (kx = kx0; kx < kx1; kx++)
          acc += xr[(gsize)kx * c] * fr[(gsize)kx * c];
      }
      out[ch] = acc;
    }
    /* Next output pixel. */
    if (++ox == d->ow) {
      ox = 0;
      if (++oy == d->oh) {
        oy = 0;
        n++;
      }
    }
  }
}

typedef struct {
  DwParams d;
  float *y;
  AffectActivation act;
} DepthwiseJob;

static void
depthwise_range (gpointer data, gsize start, gsize end, int tid)
{
  DepthwiseJob *j = data;
  float *out = j->y + start * j->d.c;

  dw_pixels (&j->d, start, end, out);
  activate (out, (end - start) * j->d.c, j->act);
}

/* ---- im2col ------------------------------------------------------------ */

/* Rows of the im2col matrix for output pixels [p0, p1): K = kh * kw * cin
 * ordered (ky, kx, ci) like the HWIO filter; padded taps are zeros. */
static void
im2col_pixels (const AffectTensor *x, int oh, int ow, int kh, int kw,
    int stride, int pt, int pl, gsize p0, gsize p1, float *col)
{
  const int cin = x->c, h = x->h, w = x->w;
  const gsize seg = (gsize)kw * cin;
  const gsize per_image = (gsize)oh * ow;
  gsize p;

  for (p = p0; p < p1; p++) {
    int n = (int)(p / per_image);
    int rem = (int)(p % per_image);
    int oy = rem / ow, ox = rem % ow;
    int iy0 = oy * stride - pt, ix0 = ox * stride - pl;
    gboolean full_x = ix0 >= 0 && ix0 + kw <= w;
    const float *img = x->data + (gsize)n * h * w * cin;
    int ky, kx;

    for (ky = 0; ky < kh; ky++, col += seg) {
      int iy = iy0 + ky;
      const float *src;
      if (iy < 0 || iy >= h) {
        memset (col, 0, seg * sizeof (float));
        continue;
      }
      src = img + (gsize)iy * w * cin;
      if (full_x) {
        memcpy (col, src + (gsize)ix0 * cin, seg * sizeof (float));
        continue;
      }
      for (kx = 0; kx < kw; kx++) {
        int ix = ix0 + kx;
        if (ix < 0 || ix >= w)
          memset (col + (gsize)kx * cin, 0, (gsize)cin * sizeof (float));
        else
          memcpy (col + (gsize)kx * cin, src + (gsize)ix * cin,
              (gsize)cin * sizeof (float));
      }
    }
  }
}

/* ---- direct convolution for few input channels ------------------------ */

/* With cin <= 4 (the RGB first layers) K is tiny and OpenBLAS's generic
 * kernels (affect_gemm_is_generic()) run far below their peak; a direct
 * loop that keeps 32 output channels in registers and broadcasts each
 * input value is several times faster. Sum order per
 * element: bias, then the in-bounds taps in (ky, kx, ci) order (for the
 * 8/16-channel remainders: even taps and odd taps in two partial sums, then
 * added), the same for every tiling. */
#ifndef DIRECT_MAX_CIN
#define DIRECT_MAX_CIN 4
#endif

typedef struct {
  const float *x;
  const float *filter; /* [kh, kw, cin, cout] */
  const float *bias;   /* [cout] */
  float *y;
  int h, w, cin, cout, oh, ow, kh, kw, stride, pt, pl;
  AffectActivation act;
} DirectJob;

MULTIVERSION static void
direct_conv_pixels (const DirectJob *d, gsize p0, gsize p1)
{
  const int cin = d->cin, cout = d->cout;
  const gsize per_image = (gsize)d->oh * d->ow;
  int n = (int)(p0 / per_image), oy, ox;
  float *out = d->y + p0 * cout;
  gsize p;

  oy = (int)(p0 % per_image) / d->ow;
  ox = (int)(p0 % per_image) % d->ow;
  for (p = p0; p < p1; p++, out += cout) {
    int iy0 = oy * d->stride - d->pt, ix0 = ox * d->stride - d->pl;
    int ky0 = MAX (0, -iy0), ky1 = MIN (d->kh, d->h - iy0);
    int kx0 = MAX (0, -ix0), kx1 = MIN (d->kw, d->w - ix0);
    const float *img = d->x + (gsize)n * d->h * d->w * cin;
    int co = 0, ky, kx, ci;

    for (; co + 32 <= cout; co += 32) {
      v8f a0, a1, a2, a3, f0, f1, f2, f3;
      LOAD8 (a0, d->bias + co);
      LOAD8 (a1, d->bias + co + 8);
      LOAD8 (a2, d->bias + co + 16);
      LOAD8 (a3, d->bias + co + 24);
      for (ky = ky0; ky < ky1; ky++)
        for (kx = kx0; kx < kx1; kx++) {
          const float *xp = img + ((gsize)(iy0 + ky) * d->w + ix0 + kx) * cin;
          const float *fp
              = d->filter + ((gsize)(ky * d->kw + kx) * cin) * cout + co;
          for (ci = 0; ci < cin; ci++, fp += cout) {
            v8f xv = { 0 };
            xv += xp[ci];
            LOAD8 (f0, fp);
            LOAD8 (f1, fp + 8);
            LOAD8 (f2, fp + 16);
            LOAD8 (f3, fp + 24);
            a0 += xv * f0;
            a1 += xv * f1;
            a2 += xv * f2;
            a3 += xv * f3;
          }
        }
      STORE8 (out + co, a0);
      STORE8 (out + co + 8, a1);
      STORE8 (out + co + 16, a2);
      STORE8 (out + co + 24, a3);
    }
    /* 8 or 16 channels: too few accumulators for the add latency, so the
     * taps alternate between two accumulator sets summed at the end. */
    for (; co + 16 <= cout; co += 16) {
      v8f a0, a1, b0 = { 0 }, b1 = { 0 }, f0, f1;
      int tap = 0;
      LOAD8 (a0, d->bias + co);
      LOAD8 (a1, d->bias + co + 8);
      for (ky = ky0; ky < ky1; ky++)
        for (kx = kx0; kx < kx1; kx++) {
          const float *xp = img + ((gsize)(iy0 + ky) * d->w + ix0 + kx) * cin;
          const float *fp
              = d->filter + ((gsize)(ky * d->kw + kx) * cin) * cout + co;
          for (ci = 0; ci < cin; ci++, fp += cout, tap++) {
            v8f xv = { 0 };
            xv += xp[ci];
            LOAD8 (f0, fp);
            LOAD8 (f1, fp + 8);
            if (tap & 1) {
              b0 += xv * f0;
              b1 += xv * f1;
            } else {
              a0 += xv * f0;
              a1 += xv * f1;
            }
          }
        }
      a0 += b0;
      a1 += b1;
      STORE8 (out + co, a0);
      STORE8 (out + co + 8, a1);
    }
    for (; co + 8 <= cout; co += 8) {
      v8f a0, b0 = { 0 }, f0;
      int tap = 0;
      LOAD8 (a0, d->bias + co);
      for (ky = ky0; ky < ky1; ky++)
        for (kx = kx0; kx < kx1; kx++) {
          const float *xp = img + ((gsize)(iy0 + ky) * d->w + ix0 + kx) * cin;
          const float *fp
              = d->filter + ((gsize)(ky * d->kw + kx) * cin) * cout + co;
          for (ci = 0; ci < cin; ci++, fp += cout, tap++) {
            v8f xv = { 0 };
            xv += xp[ci];
            LOAD8 (f0, fp);
            if (tap & 1)
              b0 += xv * f0;
            else
              a0 += xv * f0;
          }
        }
      a0 += b0;
      STORE8 (out + co, a0);
    }
    for (; co < cout; co++) {
      float acc = d->bias[co];
      for (ky = ky0; ky < ky1; ky++)
        for (kx = kx0; kx < kx1; kx++) {
          const float *xp = img + ((gsize)(iy0 + ky) * d->w + ix0 + kx) * cin;
          const float *fp
              = d->filter + ((gsize)(ky * d->kw + kx) * cin) * cout + co;
          for (ci = 0; ci < cin; ci++)
            acc += xp[ci] * fp[(gsize)ci * cout];
        }
      out[co] = acc;
    }
    if (++ox == d->ow) {
      ox = 0;
      if (++oy == d->oh) {
        oy = 0;
        n++;
      }
    }
  }
}

static void
direct_conv_range (gpointer data, gsize start, gsize end, int tid)
{
  DirectJob *d = data;

  direct_conv_pixels (d, start, end);
  activate (d->y + start * d->cout, (end - start) * d->cout, d->act);
}

/* ---- convolution ------------------------------------------------------- */

/* GEMM convolutions are cut in tiles of (block of output pixels) x (block
 * of output channels). Each tile builds its own A block (im2col, depthwise
 * output, or a view of the input for 1×1), then fills its part of y with
 * the bias, runs a single-threaded sgemm with beta = 1 and applies the
 * activation while the tile is still in cache. Tiles are spread over the
 * pool threads. */
typedef struct {
  AffectConv *conv;
  const AffectTensor *x;
  AffectTensor *y;
  int pt, pl;
  gsize K;         /* columns of A */
  gsize block;     /* output pixels per tile */
  gsize n_pblocks; /* pixel blocks per image */
  int n_cblocks;   /* output-channel blocks per pixel block */
  int cblock;      /* output channels per block (last: rest) */
  gboolean direct; /* 1×1 stride 1: A is x itself */
  float *scratch;  /* per thread: block * K floats */
  gsize scratch_stride;
  DwParams dw;
} GemmConvJob;

static void
gemm_conv_range (gpointer data, gsize start, gsize end, int tid)
{
  GemmConvJob *j = data;
  AffectConv *conv = j->conv;
  const gsize per_image = (gsize)j->y->h * j->y->w;
  const int cout = conv->cout;
  float *a_buf = j->scratch + (gsize)tid * j->scratch_stride;
  gsize built = G_MAXSIZE; /* pixel block currently in a_buf */
  gsize t;

  for (t = start; t < end; t++) {
    /* Tiles never straddle two images and their geometry depends only on
     * the layer and the image size, never on the batch size or the number
     * of threads: every image goes through the very same sgemm calls, so
     * results are bit-identical across batch sizes and thread counts. */
    gsize pb = t / j->n_cblocks; /* global pixel-block index */
    int cb = (int)(t % j->n_cblocks);
    gsize img = pb / j->n_pblocks, pbi = pb % j->n_pblocks;
    gsize p0 = img * per_image + pbi * j->block;
    gsize p1 = MIN ((img + 1) * per_image, p0 + j->block);
    int c0 = cb * j->cblock, nc = MIN (cout - c0, j->cblock);
    const float *a;
    float *yb = j->y->data + p0 * cout + c0;

    if (j->direct) {
      a = j->x->data + p0 * j->K;
    } else {
      if (built != pb) {
        if (conv->kind == AFFECT_CONV_SEPARABLE)
          dw_pixels (&j->dw, p0, p1, a_buf);
        else
          im2col_pixels (j->x, j->y->h, j->y->w, conv->kh, conv->kw,
              conv->stride, j->pt, j->pl, p0, p1, a_buf);
        built = pb;
      }
      a = a_buf;
    }
    sgemm_rm ((int)(p1 - p0), nc, (int)j->K, a, (int)j->K, conv->filter + c0,
        cout, 0.0f, yb, cout);
    bias_act_rows (yb, p1 - p0, nc, cout, conv->bias + c0, conv->act);
  }
}

static gboolean
cpu_conv_prepare (AffectBackend *be, AffectConv *conv)
{
  /* The folded HWIO filter is already the [K, cout] row-major matrix sgemm
   * wants and the [kh, kw, c] depthwise filter has channels innermost:
   * nothing to repack. */
  conv->priv = NULL;
  return TRUE;
}

static void
cpu_conv_free (AffectBackend *be, AffectConv *conv)
{
  conv->priv = NULL;
}

/* Target size of one tile's A block plus output, in floats (fits L2). */
#define TILE_FLOATS (64 * 1024)
#define MIN_BLOCK 32
#define MAX_BLOCK 4096
/* Small images split their output channels in blocks of at least
 * MIN_CBLOCK until they have MIN_TILES tiles. */
#define MIN_TILES 4
#define MIN_CBLOCK 64

static void
cpu_conv_forward (AffectBackend *be, AffectConv *conv, const AffectTensor *x,
    AffectTensor *y, int pad_top, int pad_left)
{
  CpuBackend *cpu = be->priv;
  const gsize M = (gsize)y->n * y->h * y->w; /* output pixels */
  int threads;
  DwParams dw = { x->data, conv->dw_filter, NULL, x->h, x->w, x->c, y->h, y->w,
    conv->kh, conv->kw, conv->stride, pad_top, pad_left };
  GemmConvJob j;
  gsize per_image, n_tiles;

  threads = cpu_begin (be);

  if (conv->kind == AFFECT_CONV_DEPTHWISE) {
    DepthwiseJob dj = { dw, y->data, conv->act };
    dj.d.bias = conv->bias;
    parallel_for (be, M, 64, depthwise_range, &dj);
    goto done;
  }

  /* With oneDNN or tuned OpenBLAS kernels (AVX2/AVX-512) im2col + sgemm
   * is faster than the direct loop even for 3 input channels. */
  if (conv->kind == AFFECT_CONV_REGULAR && conv->cin <= DIRECT_MAX_CIN
      && cpu->direct_small_cin) {
    DirectJob dj = { x->data, conv->filter, conv->bias, y->data, x->h, x->w,
      x->c, conv->cout, y->h, y->w, conv->kh, conv->kw, conv->stride, pad_top,
      pad_left, conv->act };
    parallel_for (be, M, 64, direct_conv_range, &dj);
    goto done;
  }

  memset (&j, 0, sizeof (j));
  j.conv = conv;
  j.x = x;
  j.y = y;
  j.pt = pad_top;
  j.pl = pad_left;
  j.dw = dw;
  j.K = conv->kind == AFFECT_CONV_REGULAR
            ? (gsize)conv->kh * conv->kw * conv->cin
            : (gsize)conv->cin;
  j.direct = conv->kind == AFFECT_CONV_REGULAR && conv->kh == 1 && conv->kw == 1
             && conv->stride == 1;

  /* Pixel blocks sized for the cache; small images also split their
   * output channels so late layers still give every thread work. The
   * tiling depends on the layer and the image size only (see
   * gemm_conv_range). */
  per_image = (gsize)y->h * y->w;
  j.block = CLAMP (TILE_FLOATS / (j.K + conv->cout), MIN_BLOCK, MAX_BLOCK);
  j.block = MIN (j.block, MAX ((gsize)1, cpu->ws_max / j.K));
  j.block = MIN (j.block, per_image);
  j.n_pblocks = (per_image + j.block - 1) / j.block;
  j.n_cblocks = 1;
  j.cblock = conv->cout;
  if (j.n_pblocks < MIN_TILES && conv->cout >= 2 * MIN_CBLOCK) {
    int want = (int)((MIN_TILES + j.n_pblocks - 1) / j.n_pblocks);
    int width = (conv->cout + want - 1) / want;
    width = MAX (MIN_CBLOCK, (width + 15) / 16 * 16);
    j.cblock = MIN (width, conv->cout);
    j.n_cblocks = (conv->cout + j.cblock - 1) / j.cblock;
  }
  n_tiles = (gsize)y->n * j.n_pblocks * j.n_cblocks;

  if (!j.direct) {
    j.scratch_stride = j.block * j.K;
    j.scratch = workspace (cpu, j.scratch_stride * threads);
    if (j.scratch == NULL) {
      g_critical ("affect cpu backend: out of memory for a %" G_GSIZE_FORMAT
                  "-float convolution workspace",
          j.scratch_stride * threads);
      memset (y->data, 0, M * conv->cout * sizeof (float));
      goto done;
    }
  }

  parallel_for (be, n_tiles, 1, gemm_conv_range, &j);

done:
  cpu_end (be);
}

/* ---- fully connected --------------------------------------------------- */

static gboolean
cpu_linear_prepare (AffectBackend *be, AffectLinear *lin)
{
  lin->priv = NULL;
  return TRUE;
}

static void
cpu_linear_free (AffectBackend *be, AffectLinear *lin)
{
  lin->priv = NULL;
}

typedef struct {
  AffectLinear *lin;
  const float *x;
  float *y;
  gsize rows_per_item;
} LinearJob;

/* Batch items [start, end): one affect_sgemm() per item, so an item's
 * result does not depend on the batch size or threads. */
static void
linear_range (gpointer data, gsize start, gsize end, int tid)
{
  LinearJob *j = data;
  AffectLinear *lin = j->lin;
  gsize i;

  for (i = start; i < end; i++) {
    const float *x = j->x + i * j->rows_per_item * lin->in;
    float *y = j->y + i * j->rows_per_item * lin->out;
    sgemm_rm ((int)j->rows_per_item, lin->out, lin->in, x, lin->in, lin->weight,
        lin->out, 0.0f, y, lin->out);
    bias_act_rows (
        y, j->rows_per_item, lin->out, lin->out, lin->bias, AFFECT_ACT_NONE);
  }
}

static void
cpu_linear_forward (AffectBackend *be, AffectLinear *lin, const AffectTensor *x,
    AffectTensor *y, gsize rows)
{
  LinearJob j = { lin, x->data, y->data, rows / (gsize)x->n };

  cpu_begin (be);
  parallel_for (be, (gsize)x->n, 1, linear_range, &j);
  cpu_end (be);
}

/* ---- padding, concatenation -------------------------------------------- */

static void
cpu_pad (AffectBackend *be, const AffectTensor *x, AffectTensor *y, int top,
    int left)
{
  const gsize c = (gsize)x->c;
  const gsize yrow = (gsize)y->w * c, xrow = (gsize)x->w * c;
  const gsize lpad = (gsize)left * c, rpad = yrow - xrow - lpad;
  const int bottom = y->h - x->h - top;
  int n, r;

  /* Write every output element once: zero borders, copied interior. */
  for (n = 0; n < x->n; n++) {
    float *img = y->data + (gsize)n * y->h * yrow;
    memset (img, 0, (gsize)top * yrow * sizeof (float));
    for (r = 0; r < x->h; r++) {
      float *row = img + (gsize)(r + top) * yrow;
      memset (row, 0, lpad * sizeof (float));
      memcpy (row + lpad, x->data + ((gsize)n * x->h + r) * xrow,
          xrow * sizeof (float));
      memset (row + lpad + xrow, 0, rpad * sizeof (float));
    }
    memset (img + (gsize)(top + x->h) * yrow, 0,
        (gsize)bottom * yrow * sizeof (float));
  }
}

static void
cpu_concat_channels (AffectBackend *be, const AffectTensor *a,
    const AffectTensor *b, AffectTensor *y)
{
  gsize p, pix = (gsize)a->n * a->h * a->w;

  for (p = 0; p < pix; p++) {
    memcpy (
        y->data + p * y->c, a->data + p * a->c, (gsize)a->c * sizeof (float));
    memcpy (y->data + p * y->c + a->c, b->data + p * b->c,
        (gsize)b->c * sizeof (float));
  }
}

static void
cpu_pad_channels (AffectBackend *be, const AffectTensor *x, AffectTensor *y)
{
  gsize p, pix = (gsize)x->n * x->h * x->w;

  for (p = 0; p < pix; p++) {
    memcpy (
        y->data + p * y->c, x->data + p * x->c, (gsize)x->c * sizeof (float));
    memset (
        y->data + p * y->c + x->c, 0, (gsize)(y->c - x->c) * sizeof (float));
  }
}

/* ---- pooling ----------------------------------------------------------- */

typedef struct {
  const float *x;
  float *y;
  int h, w, c, oh, ow, k, stride, pt, pl;
  AffectPoolKind kind;
} PoolJob;

/* One output pixel of a pooling window over channels [0, c). Max: the
 * in-bounds maximum (padding ignored); avg: the in-bounds sum in (ky, kx)
 * order divided by the in-bounds count. */
MULTIVERSION static void
pool_pixel (const PoolJob *j, const float *img, int iy0, int ky0, int ky1,
    int ix0, int kx0, int kx1, float *out)
{
  const int c = j->c;
  int ch = 0, ky, kx;

  if (j->kind == AFFECT_POOL_MAX) {
    for (; ch + 8 <= c; ch += 8) {
      v8f acc, v;
      v8i gt;
      LOAD8 (acc, img + ((gsize)(iy0 + ky0) * j->w + ix0 + kx0) * c + ch);
      for (ky = ky0; ky < ky1; ky++)
        for (kx = kx0; kx < kx1; kx++) {
          LOAD8 (v, img + ((gsize)(iy0 + ky) * j->w + ix0 + kx) * c + ch);
          gt = v > acc;
          acc = (v8f)(((v8i)v & gt) | ((v8i)acc & ~gt));
        }
      STORE8 (out + ch, acc);
    }
    for (; ch < c; ch++) {
      float acc = img[((gsize)(iy0 + ky0) * j->w + ix0 + kx0) * c + ch];
      for (ky = ky0; ky < ky1; ky++)
        for (kx = kx0; kx < kx1; kx++) {
          float v = img[((gsize)(iy0 + ky) * j->w + ix0 + kx) * c + ch];
          acc = v > acc ? v : acc;
        }
      out[ch] = acc;
    }
  } else {
    const float count = (float)((ky1 - ky0) * (kx1 - kx0));
    for (; ch + 8 <= c; ch += 8) {
      v8f acc = { 0 }, v;
      for (ky = ky0; ky < ky1; ky++)
        for (kx = kx0; kx < kx1; kx++) {
          LOAD8 (v, img + ((gsize)(iy0 + ky) * j->w + ix0 + kx) * c + ch);
          acc += v;
        }
      acc /= count;
      STORE8 (out + ch, acc);
    }
    for (; ch < c; ch++) {
      float acc = 0.0f;
      for (ky = ky0; ky < ky1; ky++)
        for (kx = kx0; kx < kx1; kx++)
          acc += img[((gsize)(iy0 + ky) * j->w + ix0 + kx) * c + ch];
      out[ch] = acc / count;
    }
  }
}

static void
pool_range (gpointer data, gsize start, gsize end, int tid)
{
  PoolJob *j = data;
  gsize r;

  for (r = start; r < end; r++) {
    int n = (int)(r / j->oh), oy = (int)(r % j->oh), ox;
    int iy0 = oy * j->stride - j->pt;
    int ky0 = MAX (0, -iy0), ky1 = MIN (j->k, j->h - iy0);
    const float *img = j->x + (gsize)n * j->h * j->w * j->c;

    for (ox = 0; ox < j->ow; ox++) {
      int ix0 = ox * j->stride - j->pl;
      int kx0 = MAX (0, -ix0), kx1 = MIN (j->k, j->w - ix0);
      pool_pixel (
          j, img, iy0, ky0, ky1, ix0, kx0, kx1, j->y + (r * j->ow + ox) * j->c);
    }
  }
}

static void
cpu_pool (AffectBackend *be, AffectPoolKind kind, const AffectTensor *x,
    AffectTensor *y, int k, int stride, int pad_top, int pad_left)
{
  PoolJob j = { x->data, y->data, x->h, x->w, x->c, y->h, y->w, k, stride,
    pad_top, pad_left, kind };

  cpu_begin (be);
  parallel_for (be, (gsize)y->n * y->h, 1, pool_range, &j);
  cpu_end (be);
}

static void
cpu_global_mean (AffectBackend *be, const AffectTensor *x, AffectTensor *y)
{
  const gsize hw = (gsize)x->h * x->w;
  double *sum = g_new (double, x->c);
  int n, ch;
  gsize p;

  for (n = 0; n < x->n; n++) {
    const float *img = x->data + (gsize)n * hw * x->c;
    memset (sum, 0, (gsize)x->c * sizeof (double));
    for (p = 0; p < hw; p++)
      for (ch = 0; ch < x->c; ch++)
        sum[ch] += img[p * x->c + ch];
    for (ch = 0; ch < x->c; ch++)
      y->data[(gsize)n * x->c + ch] = (float)(sum[ch] / (double)hw);
  }
  g_free (sum);
}

/* ---- elementwise ------------------------------------------------------- */

typedef struct {
  const float *a, *b;
  float *y;
  AffectUnaryOp op;
} ElemJob;

MULTIVERSION static void
add_floats (const float *a, const float *b, float *y, gsize n)
{
  gsize i = 0;

  /* y may alias a (in place): each block is read before it is written. */
  for (; i + 8 <= n; i += 8) {
    v8f va, vb;
    LOAD8 (va, a + i);
    LOAD8 (vb, b + i);
    va += vb;
    STORE8 (y + i, va);
  }
  for (; i < n; i++)
    y[i] = a[i] + b[i];
}

static void
add_range (gpointer data, gsize start, gsize end, int tid)
{
  ElemJob *j = data;

  add_floats (j->a + start, j->b + start, j->y + start, end - start);
}

static void
cpu_add (AffectBackend *be, const AffectTensor *a, const AffectTensor *b,
    AffectTensor *y)
{
  ElemJob j = { a->data, b->data, y->data, 0 };

  cpu_begin (be);
  parallel_for (
      be, affect_tensor_n_elements (y), ELEMENTWISE_GRAIN, add_range, &j);
  cpu_end (be);
}

static void
unary_range (gpointer data, gsize start, gsize end, int tid)
{
  ElemJob *j = data;
  float *restrict p = j->y;
  gsize i;

  switch (j->op) {
    case AFFECT_UNARY_RELU:
      activate (p + start, end - start, AFFECT_ACT_RELU);
      break;
    case AFFECT_UNARY_RELU6:
      activate (p + start, end - start, AFFECT_ACT_RELU6);
      break;
    case AFFECT_UNARY_LEAKY:
      activate (p + start, end - start, AFFECT_ACT_LEAKY);
      break;
    case AFFECT_UNARY_SIGMOID:
      for (i = start; i < end; i++)
        p[i] = (float)(1.0 / (1.0 + exp (-(double)p[i])));
      break;
    case AFFECT_UNARY_TANH:
      for (i = start; i < end; i++)
        p[i] = (float)tanh ((double)p[i]);
      break;
  }
}

static void
cpu_unary (AffectBackend *be, AffectTensor *x, AffectUnaryOp op)
{
  ElemJob j = { NULL, NULL, x->data, op };

  cpu_begin (be);
  parallel_for (
      be, affect_tensor_n_elements (x), ELEMENTWISE_GRAIN, unary_range, &j);
  cpu_end (be);
}

static void
cpu_softmax (AffectBackend *be, AffectTensor *x)
{
  const gsize rows = (gsize)x->n * x->h * x->w;
  const int c = x->c;
  double *e = g_new (double, c);
  gsize r;
  int i;

  for (r = 0; r < rows; r++) {
    float *p = x->data + r * c;
    float max = p[0];
    double sum = 0.0;
    for (i = 1; i < c; i++)
      max = p[i] > max ? p[i] : max;
    for (i = 0; i < c; i++) {
      e[i] = exp ((double)p[i] - (double)max);
      sum += e[i];
    }
    for (i = 0; i < c; i++)
      p[i] = (float)(e[i] / sum);
  }
  g_free (e);
}

/* ---- resize ------------------------------------------------------------ */

typedef struct {
  const float *x;
  float *y;
  int h, w, c, oh, ow;
  int *x0, *x1;
  double *fx;
} ResizeJob;

static void
resize_range (gpointer data, gsize start, gsize end, int tid)
{
  ResizeJob *j = data;
  const double ry = (double)j->h / (double)j->oh;
  const int c = j->c;
  gsize r;

  for (r = start; r < end; r++) {
    int n = (int)(r / j->oh), oy = (int)(r % j->oh), ox, ch;
    double src = ry * oy;
    int y0 = (int)floor (src);
    int y1 = MIN ((int)ceil (src), j->h - 1);
    double fy = src - y0;
    const float *img = j->x + (gsize)n * j->h * j->w * c;
    const float *row0 = img + (gsize)y0 * j->w * c;
    const float *row1 = img + (gsize)y1 * j->w * c;
    float *out = j->y + r * (gsize)j->ow * c;

    for (ox = 0; ox < j->ow; ox++) {
      const float *tl = row0 + (gsize)j->x0[ox] * c;
      const float *tr = row0 + (gsize)j->x1[ox] * c;
      const float *bl = row1 + (gsize)j->x0[ox] * c;
      const float *br = row1 + (gsize)j->x1[ox] * c;
      double fx = j->fx[ox];
      for (ch = 0; ch < c; ch++) {
        double top = tl[ch] + (tr[ch] - (double)tl[ch]) * fx;
        double bottom = bl[ch] + (br[ch] - (double)bl[ch]) * fx;
        out[(gsize)ox * c + ch] = (float)(top + (bottom - top) * fy);
      }
    }
  }
}

static void
cpu_resize_bilinear (AffectBackend *be, const AffectTensor *x, AffectTensor *y)
{
  const double rx = (double)x->w / (double)y->w;
  ResizeJob j = { x->data, y->data, x->h, x->w, x->c, y->h, y->w,
    g_new (int, y->w), g_new (int, y->w), g_new (double, y->w) };
  int ox;

  for (ox = 0; ox < y->w; ox++) {
    double src = rx * ox;
    j.x0[ox] = (int)floor (src);
    j.x1[ox] = MIN ((int)ceil (src), x->w - 1);
    j.fx[ox] = src - j.x0[ox];
  }
  cpu_begin (be);
  parallel_for (be, (gsize)y->n * y->h, 1, resize_range, &j);
  cpu_end (be);
  g_free (j.x0);
  g_free (j.x1);
  g_free (j.fx);
}

/* ---- the table --------------------------------------------------------- */

static gboolean
cpu_supports_op (AffectBackend *be, AffectOp op)
{
  return op >= 0 && op < AFFECT_OP_LAST;
}

static void
cpu_set_n_threads (AffectBackend *be, int n_threads)
{
  /* Resize the pool now (waits for a running op to finish). */
  cpu_begin (be);
  cpu_end (be);
}

static void
cpu_destroy (AffectBackend *be)
{
  CpuBackend *cpu = be->priv;

  pool_stop (cpu);
  g_free (cpu->ws);
  g_slist_free_full (cpu->cache, g_free);
  g_mutex_clear (&cpu->cache_lock);
  g_rec_mutex_clear (&cpu->lock);
  g_mutex_clear (&cpu->pool_lock);
  g_cond_clear (&cpu->start_cond);
  g_cond_clear (&cpu->done_cond);
  g_free (cpu);
}

static const AffectBackendOps cpu_ops = {
  .name = "cpu",
  .host_memory = TRUE,
  .supports_op = cpu_supports_op,
  .destroy = cpu_destroy,
  .set_n_threads = cpu_set_n_threads,
  .alloc = cpu_alloc,
  .free = cpu_free,
  .upload = cpu_upload,
  .download = cpu_download,
  .conv_prepare = cpu_conv_prepare,
  .conv_forward = cpu_conv_forward,
  .conv_free = cpu_conv_free,
  .linear_prepare = cpu_linear_prepare,
  .linear_forward = cpu_linear_forward,
  .linear_free = cpu_linear_free,
  .pad = cpu_pad,
  .pool = cpu_pool,
  .global_mean = cpu_global_mean,
  .add = cpu_add,
  .unary = cpu_unary,
  .softmax = cpu_softmax,
  .concat_channels = cpu_concat_channels,
  .pad_channels = cpu_pad_channels,
  .resize_bilinear = cpu_resize_bilinear,
};

/* When the GEMM provider is a CBLAS library running generic kernels
 * (OpenBLAS older than the CPU: it falls back to SSE3 "Prescott" kernels
 * that run sgemm several times slower), say so once. OpenBLAS reads
 * OPENBLAS_CORETYPE when it is loaded, before any of our code runs, so all
 * we can do is name the variable. Never fires with oneDNN. */
static void
check_gemm_provider (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once)) {
    if (affect_gemm_is_generic ()) {
      const char *better = NULL;

#if defined(__x86_64__) && defined(__GNUC__)
      __builtin_cpu_init ();
      if (__builtin_cpu_supports ("avx512f"))
        better = "SkylakeX";
      else if (__builtin_cpu_supports ("avx2"))
        better = "Haswell";
#endif
      if (better != NULL)
        g_info ("%s does not recognise this CPU and uses generic kernels; "
                "setting OPENBLAS_CORETYPE=%s in the environment makes "
                "convolutions several times faster",
            affect_gemm_provider (), better);
    }
    g_once_init_leave (&once, 1);
  }
}

AffectBackend *
affect_backend_cpu_new (int n_threads)
{
  CpuBackend *cpu = g_new0 (CpuBackend, 1);
  const gchar *env;

  check_gemm_provider ();
  cpu->direct_small_cin = affect_gemm_is_generic ();
  /* Debug knob: force (1) or disable (0) the direct small-cin path. */
  env = g_getenv ("AFFECT_CPU_DIRECT_CONV");
  if (env != NULL)
    cpu->direct_small_cin = g_ascii_strtoull (env, NULL, 10) != 0;
  env = g_getenv ("AFFECT_CPU_WORKSPACE_FLOATS");

  /* Debug knob (used by the tests to exercise chunking on small layers). */
  cpu->ws_max = WORKSPACE_MAX_FLOATS;
  if (env != NULL) {
    guint64 v = g_ascii_strtoull (env, NULL, 10);
    if (v > 0 && v < G_MAXSIZE / sizeof (float))
      cpu->ws_max = (gsize)v;
  }
  g_rec_mutex_init (&cpu->lock);
  g_mutex_init (&cpu->cache_lock);
  g_mutex_init (&cpu->pool_lock);
  g_cond_init (&cpu->start_cond);
  g_cond_init (&cpu->done_cond);
  return affect_backend_new_internal (&cpu_ops, n_threads, cpu);
}
