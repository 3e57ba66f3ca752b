/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared networks and cross-stream batching (see affect-shared.h).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "affect-shared.h"
#include "affect-backend.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>

/* A queued request: lives on its caller's stack until done is set. */
typedef struct {
  const float *in;
  int n;
  float *out;
  float *features;
  gboolean done; /* under the entry's lock */
  gboolean ok;
  GError *error; /* the backend's failure, when it recorded one */
} Request;

struct _AffectSharedNet {
  gchar *key; /* in the cache's table */
  const AffectSharedNetClass *klass;
  AffectBackend *backend;
  gpointer net;
  int ref_count;    /* under cache_lock, read under lock too */
  gboolean loading; /* under cache_lock: the first user loads it */

  GMutex lock; /* the fields below, and ref_count for the leader */
  GCond cond;
  GPtrArray *pending; /* Request *, arrival order */
  int pending_items;
  gboolean collecting; /* a leader waits for its window */
  AffectSharedNetStats stats;
};

static GMutex cache_lock;
static GHashTable *cache; /* key → AffectSharedNet *, under cache_lock */
static GCond cache_cond;  /* an entry finished loading, or failed to */
static guint n_loads;     /* under cache_lock */

/* The key of an entry: every field that must be equal for two users to
 * share it. */
static gchar *
make_key (const AffectSharedNetClass *klass, const gchar *path,
    const gchar *backend_name, int device_id, int n_threads, const gchar *group,
    GError **error)
{
  GStatBuf st;
  char *real = realpath (path, NULL);
  gchar *canonical, *key, *id_file;

  if (real == NULL) {
    int e = errno;

    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
        "Cannot open the model %s: %s", path, g_strerror (e));
    return NULL;
  }
  canonical = g_strdup (real);
  free (real);
  /* a folder's model: the identity of its weights file */
  id_file = klass->key_file != NULL
                ? g_build_filename (canonical, klass->key_file, NULL)
                : g_strdup (canonical);
  if (g_stat (id_file, &st) != 0) {
    int e = errno;

    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
        "Cannot open the model %s: %s",
        klass->key_file != NULL ? id_file : path, g_strerror (e));
    g_free (id_file);
    g_free (canonical);
    return NULL;
  }
  g_free (id_file);
  key = g_strdup_printf ("%s|%s|dev %" G_GUINT64_FORMAT
                         " ino %" G_GUINT64_FORMAT " size %" G_GINT64_FORMAT
                         " mtime %" G_GINT64_FORMAT
                         "|%s|device %d|threads %d|group %s",
      klass->kind, canonical, (guint64)st.st_dev, (guint64)st.st_ino,
      (gint64)st.st_size, (gint64)st.st_mtime, backend_name, device_id,
      n_threads, group != NULL ? group : "");
  g_free (canonical);
  return key;
}

static void
entry_free (AffectSharedNet *s)
{
  if (s->net != NULL)
    s->klass->free (s->net);
  if (s->backend != NULL)
    affect_backend_unref (s->backend);
  g_ptr_array_unref (s->pending);
  g_mutex_clear (&s->lock);
  g_cond_clear (&s->cond);
  g_free (s->key);
  g_free (s);
}

AffectSharedNet *
affect_shared_net_acquire (const AffectSharedNetClass *klass, const gchar *path,
    const gchar *backend_name, int device_id, int n_threads, GError **error)
{
  return affect_shared_net_acquire_in_group (
      klass, path, backend_name, device_id, n_threads, NULL, error);
}

AffectSharedNet *
affect_shared_net_acquire_in_group (const AffectSharedNetClass *klass,
    const gchar *path, const gchar *backend_name, int device_id, int n_threads,
    const gchar *group, GError **error)
{
  AffectBackend *backend = NULL;
  AffectSharedNet *s;
  gchar *key;

  g_return_val_if_fail (klass != NULL && klass->kind != NULL, NULL);
  g_return_val_if_fail (klass->load != NULL && klass->free != NULL, NULL);
  g_return_val_if_fail (klass->forward == NULL || klass->max_batch >= 1, NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (n_threads >= 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* "auto" names whatever it resolves to: create the backend to know */
  if (backend_name == NULL || *backend_name == '\0'
      || g_strcmp0 (backend_name, "auto") == 0) {
    backend = affect_backend_new_for_device (NULL, device_id, n_threads, error);
    if (backend == NULL)
      return NULL;
    backend_name = affect_backend_get_name (backend);
  }

  key = make_key (klass, path, backend_name, device_id,
      affect_backend_resolve_n_threads (n_threads), group, error);
  if (key == NULL) {
    g_clear_pointer (&backend, affect_backend_unref);
    return NULL;
  }

  /* The first user loads the network outside the lock (a load takes a
   * while: other entries are acquired and released meanwhile); users of
   * the same key wait for it. */
  g_mutex_lock (&cache_lock);
  if (cache == NULL)
    cache = g_hash_table_new (g_str_hash, g_str_equal);
  while ((s = g_hash_table_lookup (cache, key)) != NULL && s->loading)
    g_cond_wait (&cache_cond, &cache_lock);
  if (s != NULL) {
    g_mutex_lock (&s->lock);
    s->ref_count++;
    g_mutex_unlock (&s->lock);
    g_mutex_unlock (&cache_lock);
    g_free (key);
    g_clear_pointer (&backend, affect_backend_unref);
    return s;
  }
  s = g_new0 (AffectSharedNet, 1);
  s->key = key;
  s->klass = klass;
  s->loading = TRUE;
  g_mutex_init (&s->lock);
  g_cond_init (&s->cond);
  s->pending = g_ptr_array_new ();
  g_hash_table_insert (cache, s->key, s);
  g_mutex_unlock (&cache_lock);

  if (backend == NULL)
    backend = affect_backend_new_for_device (
        backend_name, device_id, n_threads, error);
  s->backend = backend;
  if (backend != NULL)
    s->net = klass->load (backend, path, error);

  g_mutex_lock (&cache_lock);
  s->loading = FALSE;
  if (s->net == NULL) {
    /* a waiter for the same key tries again itself */
    g_hash_table_remove (cache, s->key);
    g_cond_broadcast (&cache_cond);
    g_mutex_unlock (&cache_lock);
    entry_free (s);
    return NULL;
  }
  s->ref_count = 1;
  n_loads++;
  g_cond_broadcast (&cache_cond);
  g_mutex_unlock (&cache_lock);
  return s;
}

void
affect_shared_net_release (AffectSharedNet *shared)
{
  gboolean last;

  if (shared == NULL)
    return;

  g_mutex_lock (&cache_lock);
  g_mutex_lock (&shared->lock);
  g_assert (shared->ref_count > 0);
  last = --shared->ref_count == 0;
  /* a leader waiting for this holder's request waits no more */
  g_cond_broadcast (&shared->cond);
  g_mutex_unlock (&shared->lock);
  if (last)
    g_hash_table_remove (cache, shared->key);
  g_mutex_unlock (&cache_lock);

  /* nobody can find or hold it any more: no request is queued (each one
   * holds a reference through its caller) */
  if (last)
    entry_free (shared);
}

gpointer
affect_shared_net_get_net (AffectSharedNet *shared)
{
  g_return_val_if_fail (shared != NULL, NULL);
  return shared->net;
}

AffectBackend *
affect_shared_net_get_backend (AffectSharedNet *shared)
{
  g_return_val_if_fail (shared != NULL, NULL);
  return shared->backend;
}

const AffectSharedNetClass *
affect_shared_net_get_class (AffectSharedNet *shared)
{
  g_return_val_if_fail (shared != NULL, NULL);
  return shared->klass;
}

int
affect_shared_net_get_holders (AffectSharedNet *shared)
{
  int n;

  g_return_val_if_fail (shared != NULL, 0);
  g_mutex_lock (&shared->lock);
  n = shared->ref_count;
  g_mutex_unlock (&shared->lock);
  return n;
}

int
affect_shared_net_get_n_threads (AffectSharedNet *shared)
{
  g_return_val_if_fail (shared != NULL, 1);
  return affect_backend_get_n_threads (shared->backend);
}

/* Runs @n items in forward passes of at most max_batch items. */
static gboolean
forward_all (
    AffectSharedNet *s, const float *in, int n, float *out, float *features)
{
  const AffectSharedNetClass *k = s->klass;
  int start;

  for (start = 0; start < n; start += k->max_batch) {
    int count = MIN (n - start, k->max_batch);

    if (!k->forward (k, s->net, in + (gsize)start * k->in_dim, count,
            out + (gsize)start * k->out_dim,
            features ? features + (gsize)start * k->feat_dim : NULL))
      return FALSE;
  }
  return TRUE;
}

/* Runs the requests of @batch as one: their inputs one after the other,
 * their outputs split back. */
static gboolean
run_batch (AffectSharedNet *s, GPtrArray *batch, int n_items)
{
  const AffectSharedNetClass *k = s->klass;
  gboolean want_features = FALSE, ok;
  float *in, *out, *features = NULL;
  gsize at = 0;
  guint i;

  if (batch->len == 1) {
    Request *r = g_ptr_array_index (batch, 0);

    return forward_all (s, r->in, r->n, r->out, r->features);
  }

  for (i = 0; i < batch->len; i++)
    want_features
        |= ((Request *)g_ptr_array_index (batch, i))->features != NULL;
  in = g_new (float, (gsize)n_items * k->in_dim);
  out = g_new (float, (gsize)n_items * k->out_dim);
  if (want_features && k->feat_dim > 0)
    features = g_new (float, (gsize)n_items * k->feat_dim);

  for (i = 0; i < batch->len; i++) {
    Request *r = g_ptr_array_index (batch, i);

    memcpy (in + at * k->in_dim, r->in, sizeof (float) * r->n * k->in_dim);
    at += r->n;
  }

  ok = forward_all (s, in, n_items, out, features);

  at = 0;
  for (i = 0; ok && i < batch->len; i++) {
    Request *r = g_ptr_array_index (batch, i);

    memcpy (r->out, out + at * k->out_dim, sizeof (float) * r->n * k->out_dim);
    if (r->features != NULL && features != NULL)
      memcpy (r->features, features + at * k->feat_dim,
          sizeof (float) * r->n * k->feat_dim);
    at += r->n;
  }
  g_free (in);
  g_free (out);
  g_free (features);
  return ok;
}

/* The leader's batch is complete: every holder has a request in, or the
 * items fill a forward pass. Under s->lock. */
static gboolean
batch_full (AffectSharedNet *s)
{
  return (int)s->pending->len >= s->ref_count
         || s->pending_items >= s->klass->max_batch;
}

gboolean
affect_shared_net_run (AffectSharedNet *shared, gint64 window_us,
    const float *in, int n, float *out, float *features, GError **error)
{
  AffectSharedNet *s = shared;
  Request req = { in, n, out, features, FALSE, FALSE, NULL };
  GError *failure = NULL;
  gboolean ok;
  GPtrArray *batch;
  gint64 deadline;
  int n_items;
  guint i;

  g_return_val_if_fail (s != NULL, FALSE);
  /* a shared-only kind: its users run it with its own API */
  g_return_val_if_fail (s->klass->forward != NULL, FALSE);
  g_return_val_if_fail (n >= 1 && in != NULL && out != NULL, FALSE);
  g_return_val_if_fail (features == NULL || s->klass->feat_dim > 0, FALSE);

  if (window_us <= 0) {
    g_mutex_lock (&s->lock);
    s->stats.requests++;
    s->stats.batches++;
    s->stats.max_requests = MAX (s->stats.max_requests, 1);
    s->stats.max_items = MAX (s->stats.max_items, (guint64)n);
    g_mutex_unlock (&s->lock);
    ok = forward_all (s, in, n, out, features);
    if (!affect_backend_take_error (s->backend, error))
      ok = FALSE;
    return ok;
  }

  g_mutex_lock (&s->lock);
  s->stats.requests++;
  g_ptr_array_add (s->pending, &req);
  s->pending_items += n;

  if (s->collecting) {
    /* the leader collects: tell it one more is in, wait for the result */
    g_cond_broadcast (&s->cond);
    while (!req.done)
      g_cond_wait (&s->cond, &s->lock);
    g_mutex_unlock (&s->lock);
    if (req.error != NULL)
      g_propagate_error (error, req.error);
    return req.ok;
  }

  /* the leader: collect until the window closes or the batch is full */
  s->collecting = TRUE;
  deadline = g_get_monotonic_time () + window_us;
  while (!batch_full (s))
    if (!g_cond_wait_until (&s->cond, &s->lock, deadline))
      break;
  batch = s->pending;
  n_items = s->pending_items;
  s->pending = g_ptr_array_new ();
  s->pending_items = 0;
  s->collecting = FALSE;
  s->stats.batches++;
  s->stats.max_requests = MAX (s->stats.max_requests, batch->len);
  s->stats.max_items = MAX (s->stats.max_items, (guint64)n_items);
  g_mutex_unlock (&s->lock);

  /* the backend serialises this run with any other batch still running */
  ok = run_batch (s, batch, n_items);
  /* one failure record for the whole batch: every request gets it */
  if (!affect_backend_take_error (s->backend, &failure))
    ok = FALSE;

  g_mutex_lock (&s->lock);
  for (i = 0; i < batch->len; i++) {
    Request *r = g_ptr_array_index (batch, i);

    r->ok = ok;
    if (failure != NULL && r != &req)
      r->error = g_error_copy (failure);
    r->done = TRUE;
  }
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
  g_ptr_array_unref (batch);
  if (failure != NULL)
    g_propagate_error (error, failure);
  return ok;
}

void
affect_shared_net_get_stats (
    AffectSharedNet *shared, AffectSharedNetStats *stats)
{
  g_return_if_fail (shared != NULL && stats != NULL);
  g_mutex_lock (&shared->lock);
  *stats = shared->stats;
  stats->holders = shared->ref_count;
  g_mutex_unlock (&shared->lock);
}

guint
affect_shared_net_count_loads (void)
{
  guint n;

  g_mutex_lock (&cache_lock);
  n = n_loads;
  g_mutex_unlock (&cache_lock);
  return n;
}

guint
affect_shared_net_count_live (void)
{
  guint n;

  g_mutex_lock (&cache_lock);
  n = cache != NULL ? g_hash_table_size (cache) : 0;
  g_mutex_unlock (&cache_lock);
  return n;
}
