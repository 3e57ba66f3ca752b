/* gst-affect — cuda/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CUDA backend module (libaffect-backend-cuda.so): registration, the
 * probe, the function table, memory and transfers. See cuda-private.h for
 * the file map and docs/cuda.md for what is verified (the module loading
 * and declining without a device) and what is not (everything that needs a
 * GPU).
 *
 * The CUDA runtime is linked statically (libcudart_static.a): it opens the
 * driver (libcuda.so.1) itself when first used and reports
 * cudaErrorInsufficientDriver / cudaErrorNoDevice when there is none, so
 * the module loads on any machine. cuBLAS is opened with dlopen in the
 * probe (cuda-blas.c) for the same reason, and cuDNN (cuda-dnn.c) too,
 * optionally: without it the module's own kernels run the convolutions.
 *
 * Memory: tensors come from the device's default memory pool through the
 * stream-ordered allocator (cudaMallocAsync / cudaFreeAsync on the
 * backend's stream) with the release threshold raised, so freed blocks are
 * kept and reused instead of going back to the driver; layer weights are
 * uploaded once, at prepare, with cudaMalloc. Uploads and downloads go
 * through a pinned staging buffer per backend.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <string.h>

#include "cuda-private.h"

AFFECT_BACKEND_MODULE_EXPORT const guint affect_backend_module_abi_version
    = AFFECT_BACKEND_ABI_VERSION;
AFFECT_BACKEND_MODULE_EXPORT gboolean affect_backend_module_init (
    GError **error);

G_STATIC_ASSERT ((int)CK_ACT_RELU == (int)AFFECT_UNARY_RELU);
G_STATIC_ASSERT ((int)CK_ACT_RELU6 == (int)AFFECT_UNARY_RELU6);
G_STATIC_ASSERT ((int)CK_ACT_LEAKY == (int)AFFECT_UNARY_LEAKY);
G_STATIC_ASSERT ((int)CK_ACT_SIGMOID == (int)AFFECT_UNARY_SIGMOID);
G_STATIC_ASSERT ((int)CK_ACT_TANH == (int)AFFECT_UNARY_TANH);
G_STATIC_ASSERT ((int)CK_ACT_GELU == (int)AFFECT_UNARY_GELU);
G_STATIC_ASSERT ((int)CK_BIN_ADD == (int)AFFECT_BINARY_ADD);
G_STATIC_ASSERT ((int)CK_BIN_SUB == (int)AFFECT_BINARY_SUB);
G_STATIC_ASSERT ((int)CK_BIN_MUL == (int)AFFECT_BINARY_MUL);

/* Staging chunk: uploads and downloads larger than this go in pieces. */
#define STAGING_MAX_FLOATS ((gsize)4 * 1024 * 1024)

/* The code this module carries (cuda/meson.build). */
#define CUDA_TARGETS "sm_80, sm_86, sm_90 and compute_90 PTX"

/* ---- helpers ----------------------------------------------------------- */

void
cuda_begin (AffectBackend *be)
{
  CudaBackend *cb = be->priv;

  g_rec_mutex_lock (&cb->lock);
  cudaSetDevice (cb->device);
}

void
cuda_end (AffectBackend *be)
{
  CudaBackend *cb = be->priv;

  g_rec_mutex_unlock (&cb->lock);
}

gboolean
cuda_check (AffectBackend *be, cudaError_t err, const gchar *what)
{
  CudaBackend *cb = be->priv;
  struct cudaDeviceProp prop;
  const gchar *name = "?";

  if (err == cudaSuccess)
    return TRUE;
  if (cudaGetDeviceProperties (&prop, cb->device) == cudaSuccess)
    name = prop.name;
  /* The element (or other caller) takes it with affect_backend_take_error()
   * and reports it; the registry keeps the first one. */
  affect_backend_set_error (be, "cuda device %d (%s): %s failed: %s (%s)",
      cb->device, name, what, cudaGetErrorString (err), cudaGetErrorName (err));
  cb->failed = TRUE;
  return FALSE;
}

gpointer
cuda_scratch (AffectBackend *be, gsize n_bytes)
{
  CudaBackend *cb = be->priv;

  if (n_bytes > cb->scratch_bytes) {
    void *p = NULL;

    if (cb->scratch != NULL)
      cudaFreeAsync (cb->scratch, cb->stream);
    cb->scratch = NULL;
    cb->scratch_bytes = 0;
    if (!cuda_check (be, cudaMallocAsync (&p, n_bytes, cb->stream),
            "allocating scratch memory"))
      return NULL;
    cb->scratch = p;
    cb->scratch_bytes = n_bytes;
  }
  return cb->scratch;
}

float *
cuda_weights_upload (AffectBackend *be, const float *src, gsize n)
{
  void *p = NULL;

  if (!cuda_check (be, cudaMalloc (&p, MAX (n, 1) * sizeof (float)),
          "allocating layer weights"))
    return NULL;
  if (!cuda_check (be,
          cudaMemcpy (p, src, n * sizeof (float), cudaMemcpyHostToDevice),
          "uploading layer weights")) {
    cudaFree (p);
    return NULL;
  }
  return p;
}

void
cuda_weights_free (float *p)
{
  if (p != NULL)
    cudaFree (p);
}

/* ---- memory and transfers ---------------------------------------------- */

static gpointer
cuda_alloc (AffectBackend *be, gsize n_bytes)
{
  CudaBackend *cb = be->priv;
  void *p = NULL;
  cudaError_t err;

  cuda_begin (be);
  err = cudaMallocAsync (&p, n_bytes, cb->stream);
  if (err != cudaSuccess) {
    gchar *what = g_strdup_printf (
        "allocating a tensor (%" G_GSIZE_FORMAT " bytes)", n_bytes);

    cuda_check (be, err, what);
    g_free (what);
  }
  cuda_end (be);
  return err == cudaSuccess ? p : NULL;
}

static void
cuda_free (AffectBackend *be, gpointer data)
{
  CudaBackend *cb = be->priv;

  cuda_begin (be);
  cudaFreeAsync (data, cb->stream);
  cuda_end (be);
}

static gboolean
staging_reserve (AffectBackend *be, gsize floats)
{
  CudaBackend *cb = be->priv;
  void *p = NULL;

  if (cb->staging_floats >= floats)
    return TRUE;
  if (cb->staging != NULL)
    cudaFreeHost (cb->staging);
  cb->staging = NULL;
  cb->staging_floats = 0;
  if (!cuda_check (be, cudaMallocHost (&p, floats * sizeof (float)),
          "allocating pinned staging memory"))
    return FALSE;
  cb->staging = p;
  cb->staging_floats = floats;
  return TRUE;
}

static void
cuda_upload (AffectBackend *be, AffectTensor *dst, const float *src, gsize n)
{
  CudaBackend *cb = be->priv;
  gsize done = 0;

  cuda_begin (be);
  if (staging_reserve (be, MIN (n, STAGING_MAX_FLOATS))) {
    while (done < n) {
      const gsize part = MIN (n - done, cb->staging_floats);

      memcpy (cb->staging, src + done, part * sizeof (float));
      if (!cuda_check (be,
              cudaMemcpyAsync (dst->data + done, cb->staging,
                  part * sizeof (float), cudaMemcpyHostToDevice, cb->stream),
              "upload")
          || !cuda_check (
              be, cudaStreamSynchronize (cb->stream), "upload (synchronise)"))
        break;
      done += part;
    }
  }
  cuda_end (be);
}

static void
cuda_download (AffectBackend *be, const AffectTensor *src, float *dst, gsize n)
{
  CudaBackend *cb = be->priv;
  gsize done = 0;

  cuda_begin (be);
  if (staging_reserve (be, MIN (n, STAGING_MAX_FLOATS))) {
    while (done < n) {
      const gsize part = MIN (n - done, cb->staging_floats);

      if (!cuda_check (be,
              cudaMemcpyAsync (cb->staging, src->data + done,
                  part * sizeof (float), cudaMemcpyDeviceToHost, cb->stream),
              "download")
          || !cuda_check (be, cudaStreamSynchronize (cb->stream),
              "download (synchronise: also reports errors of earlier ops)"))
        break;
      memcpy (dst + done, cb->staging, part * sizeof (float));
      done += part;
    }
  }
  cuda_end (be);
}

/* ---- the table --------------------------------------------------------- */

static gboolean
cuda_supports_op (AffectBackend *be, AffectOp op)
{
  /* Every family of the table has a CUDA implementation (unverified on a
   * device: docs/cuda.md). */
  return op >= 0 && op < AFFECT_OP_LAST;
}

static void
cuda_destroy (AffectBackend *be)
{
  CudaBackend *cb = be->priv;

  cudaSetDevice (cb->device);
  if (cb->scratch != NULL)
    cudaFreeAsync (cb->scratch, cb->stream);
  cudaStreamSynchronize (cb->stream);
  if (cb->staging != NULL)
    cudaFreeHost (cb->staging);
  cuda_dnn_destroy (cb);
  cuda_blas_destroy (cb);
  cudaStreamDestroy (cb->stream);
  g_rec_mutex_clear (&cb->lock);
  g_free (cb);
}

static const AffectBackendOps cuda_ops = {
  .name = "cuda",
  .host_memory = FALSE,
  .supports_op = cuda_supports_op,
  .destroy = cuda_destroy,
  .set_n_threads = NULL,
  .alloc = cuda_alloc,
  .free = cuda_free,
  .upload = cuda_upload,
  .download = cuda_download,
  .conv_prepare = cuda_conv_prepare,
  .conv_forward = cuda_conv_forward,
  .conv_free = cuda_conv_free,
  .linear_prepare = cuda_linear_prepare,
  .linear_forward = cuda_linear_forward,
  .linear_free = cuda_linear_free,
  .pad = cuda_pad,
  .pool = cuda_pool,
  .global_mean = cuda_global_mean,
  .add = cuda_add,
  .unary = cuda_unary,
  .softmax = cuda_softmax,
  .concat_channels = cuda_concat_channels,
  .pad_channels = cuda_pad_channels,
  .resize_bilinear = cuda_resize_bilinear,
  .matmul = cuda_matmul,
  .layer_norm = cuda_layer_norm,
  .softmax_masked = cuda_softmax_masked,
  .gather_rows = cuda_gather_rows,
  .binary = cuda_binary,
  .scale = cuda_scale,
  .copy_rows = cuda_copy_rows,
  .gru_prepare = cuda_gru_prepare,
  .gru_forward = cuda_gru_forward,
  .gru_free = cuda_gru_free,
};

/* ---- registration ------------------------------------------------------ */

static gboolean
probe_fail (GError **error, const gchar *reason)
{
  /* The one line a user sees (G_MESSAGES_DEBUG=affect-cuda or all) when
   * the module is installed but cannot be used: the probe runs once per
   * process. */
  g_info ("cuda backend not available: %s; \"auto\" uses the next backend "
          "(cpu)",
      reason);
  g_set_error (error, AFFECT_BACKEND_ERROR, AFFECT_BACKEND_ERROR_NOT_AVAILABLE,
      "%s", reason);
  return FALSE;
}

static gboolean
cuda_probe (GPtrArray *devices, GError **error)
{
  GError *local = NULL;
  gchar *reason;
  int n = 0, rt = 0, drv = 0, i;
  cudaError_t err;
  gboolean ok;

  cudaRuntimeGetVersion (&rt);
  err = cudaGetDeviceCount (&n);
  if (err != cudaSuccess || n <= 0) {
    cudaDriverGetVersion (&drv);
    reason = g_strdup_printf ("no CUDA device (cudaGetDeviceCount: %s; "
                              "driver supports CUDA %d.%d, runtime %d.%d)",
        err != cudaSuccess ? cudaGetErrorString (err) : "0 devices", drv / 1000,
        (drv % 1000) / 10, rt / 1000, (rt % 1000) / 10);
    ok = probe_fail (error, reason);
    g_free (reason);
    return ok;
  }
  if (!cuda_blas_open (&local)) {
    ok = probe_fail (error, local->message);
    g_error_free (local);
    return ok;
  }
  /* Optional: without it the own kernels serve (one debug line). */
  if (g_strcmp0 (g_getenv ("AFFECT_CUDA_CUDNN"), "0") != 0
      && !cuda_dnn_open (&local))
    g_clear_error (&local);
  for (i = 0; i < n; i++) {
    struct cudaDeviceProp prop;

    memset (&prop, 0, sizeof (prop));
    err = cudaGetDeviceProperties (&prop, i);
    if (err == cudaSuccess)
      err = cudaSetDevice (i);
    if (err == cudaSuccess)
      err = ck_probe (0);
    if (err == cudaSuccess)
      err = cudaDeviceSynchronize ();
    if (err != cudaSuccess) {
      reason = g_strdup_printf ("CUDA device %d (%s, sm_%d%d) cannot run this "
                                "module's code (" CUDA_TARGETS "): %s",
          i, prop.name[0] != '\0' ? prop.name : "?", prop.major, prop.minor,
          cudaGetErrorString (err));
      ok = probe_fail (error, reason);
      g_free (reason);
      return ok;
    }
    g_ptr_array_add (devices,
        g_strdup_printf ("%s, sm_%d%d, %" G_GSIZE_FORMAT " MiB, runtime "
                         "%d.%d, %s, %s",
            prop.name, prop.major, prop.minor,
            (gsize)(prop.totalGlobalMem >> 20), rt / 1000, (rt % 1000) / 10,
            cuda_blas_version (), cuda_dnn_version ()));
  }
  return TRUE;
}

static AffectBackend *
cuda_create (int device_id, int n_threads, GError **error)
{
  CudaBackend *cb;
  cudaMemPool_t pool;
  uint64_t threshold = UINT64_MAX;
  cudaError_t err;

  err = cudaSetDevice (device_id);
  if (err != cudaSuccess) {
    g_set_error (error, AFFECT_BACKEND_ERROR,
        AFFECT_BACKEND_ERROR_NOT_AVAILABLE, "cudaSetDevice (%d): %s", device_id,
        cudaGetErrorString (err));
    return NULL;
  }
  /* Keep freed blocks in the device's pool (reused by the next
   * cudaMallocAsync) instead of returning them at every synchronisation. */
  if (cudaDeviceGetDefaultMemPool (&pool, device_id) == cudaSuccess)
    cudaMemPoolSetAttribute (pool, cudaMemPoolAttrReleaseThreshold, &threshold);

  cb = g_new0 (CudaBackend, 1);
  cb->device = device_id;
  g_rec_mutex_init (&cb->lock);
  err = cudaStreamCreateWithFlags (&cb->stream, cudaStreamNonBlocking);
  if (err != cudaSuccess) {
    g_set_error (error, AFFECT_BACKEND_ERROR,
        AFFECT_BACKEND_ERROR_NOT_AVAILABLE,
        "could not create a stream on CUDA device %d: %s", device_id,
        cudaGetErrorString (err));
    g_rec_mutex_clear (&cb->lock);
    g_free (cb);
    return NULL;
  }
  if (!cuda_blas_create (cb, error)) {
    cudaStreamDestroy (cb->stream);
    g_rec_mutex_clear (&cb->lock);
    g_free (cb);
    return NULL;
  }
  if (!cuda_dnn_create (cb, error)) {
    cuda_blas_destroy (cb);
    cudaStreamDestroy (cb->stream);
    g_rec_mutex_clear (&cb->lock);
    g_free (cb);
    return NULL;
  }
  return affect_backend_new_internal (&cuda_ops, n_threads, cb);
}

static const AffectBackendDesc cuda_desc = {
  .name = "cuda",
  .description = "CUDA (NVIDIA GPUs: own kernels, cuBLAS and cuDNN; "
                 "unverified, see docs/cuda.md)",
  .priority = 100,
  .probe = cuda_probe,
  .create = cuda_create,
};

gboolean
affect_backend_module_init (GError **error)
{
  if (!affect_backend_register (&cuda_desc)) {
    g_set_error (error, AFFECT_BACKEND_ERROR,
        AFFECT_BACKEND_ERROR_NOT_AVAILABLE,
        "could not register \"cuda\" (already registered?)");
    return FALSE;
  }
  return TRUE;
}
