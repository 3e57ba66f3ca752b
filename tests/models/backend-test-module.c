/* gst-affect — tests/models
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A small real backend module for test-registry.c (and the example of how
 * a module is written, see affect-backend.h, "the backend registry"): host
 * memory, elementwise add, the unary activations and softmax, computed in
 * double like the CPU backend; supports_op() is FALSE for everything else.
 * Two devices: device 0 runs all of the above, device 1 only add (so that
 * the tests can tell which device they got).
 *
 * It links nothing of the engine: affect_backend_register() and
 * affect_backend_new_internal() are resolved in the process that loads it.
 *
 * Built four times (tests/models/meson.build) with TEST_MODULE_NAME set:
 *  test       the working module (priority -100);
 *  wrongabi   exports another ABI version: must be refused unopened;
 *  undefined  calls a function nobody defines: loading fails, as for a
 *             module whose library (libcudart) is missing;
 *  initfail   registers, then its init fails: must be unregistered.
 */

#include <math.h>
#include <string.h>

#include "affect-backend.h"

#ifndef TEST_MODULE_NAME
#define TEST_MODULE_NAME "test"
#endif
#ifndef TEST_MODULE_ABI
#define TEST_MODULE_ABI AFFECT_BACKEND_ABI_VERSION
#endif

AFFECT_BACKEND_MODULE_EXPORT const guint affect_backend_module_abi_version
    = TEST_MODULE_ABI;
AFFECT_BACKEND_MODULE_EXPORT gboolean affect_backend_module_init (
    GError **error);

#define TEST_N_DEVICES 2

typedef struct {
  int device;
} TestBackend;

static gboolean
test_supports_op (AffectBackend *be, AffectOp op)
{
  TestBackend *t = be->priv;

  switch (op) {
    case AFFECT_OP_ADD:
      return TRUE;
    case AFFECT_OP_ACTIVATE:
    case AFFECT_OP_SIGMOID:
    case AFFECT_OP_TANH:
    case AFFECT_OP_SOFTMAX:
      return t->device == 0;
    default:
      return FALSE;
  }
}

static void
test_destroy (AffectBackend *be)
{
  g_free (be->priv);
}

static gpointer
test_alloc (AffectBackend *be, gsize n_bytes)
{
  return g_try_malloc (n_bytes);
}

static void
test_free (AffectBackend *be, gpointer data)
{
  g_free (data);
}

static void
test_upload (AffectBackend *be, AffectTensor *dst, const float *src, gsize n)
{
  memcpy (dst->data, src, n * sizeof (float));
}

static void
test_download (AffectBackend *be, const AffectTensor *src, float *dst, gsize n)
{
  memcpy (dst, src->data, n * sizeof (float));
}

static void
test_add (AffectBackend *be, const AffectTensor *a, const AffectTensor *b,
    AffectTensor *y)
{
  gsize i, n = affect_tensor_n_elements (y);

  for (i = 0; i < n; i++)
    y->data[i] = a->data[i] + b->data[i];
}

static void
test_unary (AffectBackend *be, AffectTensor *x, AffectUnaryOp op)
{
  gsize i, n = affect_tensor_n_elements (x);

  for (i = 0; i < n; i++) {
    float v = x->data[i], m;

    switch (op) {
      case AFFECT_UNARY_RELU:
        v = v > 0.0f ? v : 0.0f;
        break;
      case AFFECT_UNARY_RELU6:
        v = v > 0.0f ? (v < 6.0f ? v : 6.0f) : 0.0f;
        break;
      case AFFECT_UNARY_LEAKY:
        /* tfjs: m = 0.1 x; relu(x - m) + m. */
        m = 0.1f * v;
        v = v - m;
        v = (v > 0.0f ? v : 0.0f) + m;
        break;
      case AFFECT_UNARY_SIGMOID:
        v = (float)(1.0 / (1.0 + exp (-(double)v)));
        break;
      case AFFECT_UNARY_TANH:
        v = (float)tanh ((double)v);
        break;
      case AFFECT_UNARY_GELU:
        /* not offered by supports_op(); exact for completeness */
        v = (float)(0.5 * v * (1.0 + erf ((double)v * M_SQRT1_2)));
        break;
    }
    x->data[i] = v;
  }
}

static void
test_softmax (AffectBackend *be, AffectTensor *x)
{
  const int c = x->c;
  gsize r, rows = affect_tensor_n_elements (x) / c;
  int i;

  for (r = 0; r < rows; r++) {
    float *p = x->data + r * c;
    double max = p[0], sum = 0.0;

    for (i = 1; i < c; i++)
      max = p[i] > max ? p[i] : max;
    for (i = 0; i < c; i++)
      sum += exp ((double)p[i] - max);
    for (i = 0; i < c; i++)
      p[i] = (float)(exp ((double)p[i] - max) / sum);
  }
}

static const AffectBackendOps test_ops = {
  .name = TEST_MODULE_NAME,
  .host_memory = TRUE,
  .supports_op = test_supports_op,
  .destroy = test_destroy,
  .alloc = test_alloc,
  .free = test_free,
  .upload = test_upload,
  .download = test_download,
  .add = test_add,
  .unary = test_unary,
  .softmax = test_softmax,
};

static gboolean
test_probe (GPtrArray *devices, GError **error)
{
  g_ptr_array_add (devices,
      g_strdup ("host memory, add, activations and softmax (test device)"));
  g_ptr_array_add (devices, g_strdup ("host memory, add only (test device)"));
  return TRUE;
}

static AffectBackend *
test_create (int device_id, int n_threads, GError **error)
{
  TestBackend *t;

  /* The registry checks the range; a module must not trust it blindly. */
  g_return_val_if_fail (device_id >= 0 && device_id < TEST_N_DEVICES, NULL);
  t = g_new0 (TestBackend, 1);
  t->device = device_id;
  return affect_backend_new_internal (&test_ops, n_threads, t);
}

static const AffectBackendDesc test_desc = {
  .name = TEST_MODULE_NAME,
  .description = "test module (tests/models/backend-test-module.c)",
  .priority = -100,
  .probe = test_probe,
  .create = test_create,
};

#ifdef TEST_MODULE_UNDEFINED
/* Defined nowhere: the module cannot be loaded (immediate binding). */
extern void affect_test_module_missing_symbol (void);
#endif

gboolean
affect_backend_module_init (GError **error)
{
#ifdef TEST_MODULE_UNDEFINED
  affect_test_module_missing_symbol ();
#endif
  if (!affect_backend_register (&test_desc)) {
    g_set_error (error, AFFECT_BACKEND_ERROR,
        AFFECT_BACKEND_ERROR_NOT_AVAILABLE, "could not register \"%s\"",
        TEST_MODULE_NAME);
    return FALSE;
  }
#ifdef TEST_MODULE_INIT_FAILS
  g_set_error (error, AFFECT_BACKEND_ERROR, AFFECT_BACKEND_ERROR_NOT_AVAILABLE,
      "this module always fails after registering (test)");
  return FALSE;
#else
  return TRUE;
#endif
}
