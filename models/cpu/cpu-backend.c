/* gst-affect — models/cpu/
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
 *  - depthwise, pooling, activations: vector loops written once
 *    (cpu-*-kernels.h) and built for the generic target, AVX2 and AVX-512
 *    by cpu-simd.h, the build for this CPU picked at run time.
 *
 * Every output element is computed by exactly one thread, and every image
 * goes through the same calls whatever the batch size or thread count, so
 * results are bit-identical across batch sizes and thread counts.
 *
 * This file: the function table, construction and memory (a cache of
 * recently freed blocks).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "cpu-private.h"
#include "cpu-simd.h"

/* A chunk of parallel work must be worth at least this many multiply-adds
 * (or comparable steps): waking a pool thread and waiting for it costs tens
 * of microseconds, more than small layers take on one core. Chosen by
 * measurement (docs/performance.md, "Threads"). */
#define CPU_MIN_CHUNK_WORK 200000.0

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

gpointer
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

void
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

void
cpu_upload (AffectBackend *be, AffectTensor *dst, const float *src, gsize n)
{
  memcpy (dst->data, src, n * sizeof (float));
}

void
cpu_download (AffectBackend *be, const AffectTensor *src, float *dst, gsize n)
{
  memcpy (dst, src->data, n * sizeof (float));
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

  cpu_pool_stop (cpu);
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
  .matmul = cpu_matmul_dispatch,
  .layer_norm = cpu_layer_norm,
  .softmax_masked = cpu_softmax_masked,
  .gather_rows = cpu_gather_rows,
  .binary = cpu_binary,
  .scale = cpu_scale,
  .copy_rows = cpu_copy_rows,
  .gru_prepare = cpu_gru_prepare,
  .gru_forward = cpu_gru_forward,
  .gru_free = cpu_gru_free,
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
  /* Debug knob (used by the tests to exercise chunking on small layers). */
  cpu->ws_max = WORKSPACE_MAX_FLOATS;
  env = g_getenv ("AFFECT_CPU_WORKSPACE_FLOATS");
  if (env != NULL) {
    guint64 v = g_ascii_strtoull (env, NULL, 10);
    if (v > 0 && v < G_MAXSIZE / sizeof (float))
      cpu->ws_max = (gsize)v;
  }
  /* Debug knob: the work (multiply-adds) below which an op stays on the
   * calling thread. */
  cpu->min_chunk_work = CPU_MIN_CHUNK_WORK;
  env = g_getenv ("AFFECT_CPU_MIN_CHUNK_WORK");
  if (env != NULL)
    cpu->min_chunk_work = g_ascii_strtod (env, NULL);
  g_rec_mutex_init (&cpu->lock);
  g_mutex_init (&cpu->cache_lock);
  g_mutex_init (&cpu->pool_lock);
  g_cond_init (&cpu->start_cond);
  g_cond_init (&cpu->done_cond);
  return affect_backend_new_internal (&cpu_ops, n_threads, cpu);
}

/* ---- registration ------------------------------------------------------ */

static gboolean
cpu_probe (GPtrArray *devices, GError **error)
{
  guint n = g_get_num_processors ();

  /* One device: the host, with the cores this process may use, the sgemm
   * provider and the build of our own kernels (cpu-simd.h). */
  g_ptr_array_add (
      devices, g_strdup_printf ("%u core%s, sgemm: %s, SIMD kernels: %s", n,
                   n == 1 ? "" : "s", affect_gemm_provider (),
                   cpu_simd_level_name (cpu_simd_level ())));
  return TRUE;
}

static AffectBackend *
cpu_create (int device_id, int n_threads, GError **error)
{
  return affect_backend_cpu_new (n_threads);
}

static const AffectBackendDesc cpu_desc = {
  .name = "cpu",
  .description = "CPU (host memory, one thread pool)",
  .priority = 0,
  .probe = cpu_probe,
  .create = cpu_create,
};

void
affect_backend_cpu_register (void)
{
  affect_backend_register (&cpu_desc);
}
