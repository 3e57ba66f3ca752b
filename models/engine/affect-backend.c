/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Backend objects: construction (by name: affect-registry.c), reference
 * counting, threads.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "affect-backend.h"

/* Backends that hold a failure not yet taken (affect_backend_set_error()),
 * for affect_backend_failure_pending(). */
static gint failures_pending;

GQuark
affect_backend_error_quark (void)
{
  return g_quark_from_static_string ("affect-backend-error-quark");
}

int
affect_backend_resolve_n_threads (int n_threads)
{
  if (n_threads <= 0)
    n_threads = (int)g_get_num_processors ();
  /* A sane upper bound: more threads than this only adds overhead. */
  return CLAMP (n_threads, 1, 256);
}

AffectBackend *
affect_backend_new_internal (
    const AffectBackendOps *ops, int n_threads, gpointer priv)
{
  AffectBackend *be;

  g_return_val_if_fail (ops != NULL, NULL);

  be = g_new0 (AffectBackend, 1);
  be->ops = ops;
  be->ref_count = 1;
  be->n_threads = affect_backend_resolve_n_threads (n_threads);
  be->priv = priv;
  g_mutex_init (&be->error_lock);
  return be;
}

/* By name, through the registry (affect-registry.c). */
AffectBackend *
affect_backend_new (const gchar *name, int n_threads, GError **error)
{
  return affect_backend_new_for_device (name, 0, n_threads, error);
}

AffectBackend *
affect_backend_ref (AffectBackend *backend)
{
  g_return_val_if_fail (backend != NULL, NULL);
  g_atomic_int_inc (&backend->ref_count);
  return backend;
}

void
affect_backend_unref (AffectBackend *backend)
{
  if (backend == NULL)
    return;
  if (g_atomic_int_dec_and_test (&backend->ref_count)) {
    if (backend->ops->destroy)
      backend->ops->destroy (backend);
    g_mutex_clear (&backend->error_lock);
    if (backend->error != NULL)
      g_atomic_int_dec_and_test (&failures_pending);
    g_free (backend->error);
    g_free (backend);
  }
}

const gchar *
affect_backend_get_name (AffectBackend *backend)
{
  g_return_val_if_fail (backend != NULL, NULL);
  return backend->ops->name;
}

int
affect_backend_get_n_threads (AffectBackend *backend)
{
  g_return_val_if_fail (backend != NULL, 0);
  return backend->n_threads;
}

void
affect_backend_set_n_threads (AffectBackend *backend, int n_threads)
{
  g_return_if_fail (backend != NULL);
  n_threads = affect_backend_resolve_n_threads (n_threads);
  if (n_threads == backend->n_threads)
    return;
  backend->n_threads = n_threads;
  if (backend->ops->set_n_threads)
    backend->ops->set_n_threads (backend, n_threads);
}

gboolean
affect_backend_supports_op (AffectBackend *be, AffectOp op)
{
  g_return_val_if_fail (be != NULL, FALSE);
  g_return_val_if_fail (op >= 0 && op < AFFECT_OP_LAST, FALSE);
  return be->ops->supports_op != NULL && be->ops->supports_op (be, op);
}

int
affect_backend_get_device_id (AffectBackend *backend)
{
  g_return_val_if_fail (backend != NULL, 0);
  return backend->device_id;
}

gboolean
affect_backend_failure_pending (void)
{
  return g_atomic_int_get (&failures_pending) > 0;
}

gboolean
affect_backend_has_error (AffectBackend *be)
{
  gboolean ret;

  g_return_val_if_fail (be != NULL, FALSE);
  g_mutex_lock (&be->error_lock);
  ret = be->error != NULL;
  g_mutex_unlock (&be->error_lock);
  return ret;
}

void
affect_backend_set_error (AffectBackend *be, const gchar *format, ...)
{
  va_list args;
  gchar *msg;

  g_return_if_fail (be != NULL);

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_mutex_lock (&be->error_lock);
  if (be->error == NULL) {
    be->error = msg;
    msg = NULL;
    g_atomic_int_inc (&failures_pending);
  }
  g_mutex_unlock (&be->error_lock);
  if (msg != NULL)
    g_debug ("backend %s: (after an earlier failure) %s", be->ops->name, msg);
  g_free (msg);
}

gboolean
affect_backend_take_error (AffectBackend *backend, GError **error)
{
  gchar *msg;

  g_return_val_if_fail (backend != NULL, FALSE);

  g_mutex_lock (&backend->error_lock);
  msg = backend->error;
  backend->error = NULL;
  if (msg != NULL)
    g_atomic_int_dec_and_test (&failures_pending);
  g_mutex_unlock (&backend->error_lock);
  if (msg == NULL)
    return TRUE;
  g_set_error_literal (
      error, AFFECT_BACKEND_ERROR, AFFECT_BACKEND_ERROR_FAILED, msg);
  g_free (msg);
  return FALSE;
}
