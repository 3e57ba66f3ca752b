/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared networks and cross-stream batching.
 *
 * A process-wide, thread-safe, reference-counted cache of loaded networks.
 * An entry is keyed by
 *
 *   (network kind, canonical model path, the file's identity: device,
 *    inode, size and modification time, backend name, device id, thread
 *    count)
 *
 * and holds one backend, created by the cache for that entry, and the
 * network loaded on it. Every user that asks for the same key gets the same
 * entry: N element instances with the same settings load the weights once
 * (on a GPU backend, one upload).
 *
 * The backend object is shared with the weights, not only the weights: a
 * layer belongs to one backend (it is prepared once, on that backend), and
 * on the CPU the backend is also the thread pool. The thread count is
 * therefore part of the key: users with different thread counts get
 * different entries, so each one's n-threads is honoured exactly and no
 * user can change another's threads. A user whose thread count changes
 * releases its entry and acquires the one for the new count. Ops on one
 * backend are serialised, so users of one entry run its network one at a
 * time unless they batch (below).
 *
 * Batching: affect_shared_net_run() with @window_us > 0 queues the request.
 * The first request that finds no batch being collected becomes the leader:
 * it waits until @window_us has passed since it arrived, or until every
 * holder of the entry has a request queued, or until the queued items fill
 * max_batch, whichever comes first, then takes every queued request and
 * runs them as one batch (in forward passes of at most max_batch items,
 * requests in arrival order) on its own thread, and wakes the others. A
 * request therefore waits at most its window plus the run time of its batch
 * (plus, on a busy backend, the end of the batch already running there). A
 * holder that releases the entry wakes the leader, which then no longer
 * waits for it. Requests live on their callers' stacks and every caller
 * waits for its own: a request never outlives its caller, and a caller
 * always returns.
 *
 * Results must not depend on how requests were batched. On the CPU backend
 * every image goes through the same kernel calls whatever the batch size
 * (docs/inference-core.md, "Determinism"), so batched results are
 * bit-identical to those of a request run alone (tests/models/test-shared.c
 * checks it). Other backends are not checked here: a backend whose results
 * depend on the batch gives batched results that differ from unbatched
 * ones within its own parity bounds (the CUDA backend is unverified).
 *
 * Shared-only kinds: a kind whose network is not run through the cache
 * (its class has forward NULL, the dims and max_batch 0; the fusion network
 * of models/fusion, the BERT word model of models/text) is shared the same
 * way (one load per key, the thread count in the key) but never batched:
 * its users call the network's own API on affect_shared_net_get_net() from
 * their threads, and affect_shared_net_run() refuses it (a critical,
 * FALSE). Such a network must be safe to run from several threads at once
 * (read-only after loading, scratch per call; the ops of the entry's one
 * backend take turns), and no user may change the entry's backend (its
 * thread count is the key's: a user that wants another count acquires that
 * entry). A kind loaded from a folder (BERT) names in key_file the file of
 * the folder whose identity goes in the key (the weights), so that a model
 * rewritten in place is not mistaken for the one loaded before.
 *
 * Nothing here uses GStreamer.
 */

#ifndef __AFFECT_SHARED_H__
#define __AFFECT_SHARED_H__

#include <glib.h>
#include "affect-tensor.h"

G_BEGIN_DECLS

typedef struct _AffectSharedNet AffectSharedNet;

typedef struct _AffectSharedNetClass AffectSharedNetClass;

/* What the cache needs to know of a network kind. kind, load and free are
 * always set; forward, the dims and max_batch for a kind that batches, or
 * forward NULL and the rest 0 for a shared-only kind (see above). The
 * struct is constant and outlives every entry (a static). */
struct _AffectSharedNetClass {
  /* unique name of the kind, part of the key (e.g. "landmarks") */
  const gchar *kind;
  /* loads the network from @path onto @backend, or NULL with @error */
  gpointer (*load) (AffectBackend *backend, const gchar *path, GError **error);
  void (*free) (gpointer net);
  /* runs @n items of @in_dim floats (host memory) and writes @out_dim
   * floats per item into @out and, when @features is not NULL, @feat_dim
   * floats per item into @features. FALSE on failure. */
  gboolean (*forward) (const AffectSharedNetClass *klass, gpointer net,
      const float *in, int n, float *out, float *features);
  int in_dim;
  int out_dim;
  int feat_dim;       /* 0 when the network has no second output */
  int max_batch;      /* items per forward pass */
  gpointer user_data; /* for forward (e.g. an input size) */
  /* NULL: @path is the model file, whose identity is in the key; else
   * @path is a folder and the identity in the key is that of this file in
   * it (e.g. "model.safetensors"); the loader still gets the folder */
  const gchar *key_file;
};

/* The entry of (@klass, @path, @backend_name, @device_id, @n_threads),
 * loading the network when there is none (a reference: release it with
 * affect_shared_net_release()). The first user of a key loads the network
 * (outside the cache's lock; other users of that key wait for it, others
 * do not). @backend_name is a registry name ("cpu",
 * "cuda"; "auto" is resolved first, so users that asked for "auto" share
 * with users that named the backend it resolved to); @n_threads 0 means all
 * cores, as in affect_backend_new(). NULL with @error when the file cannot
 * be read, the backend cannot be created (AFFECT_BACKEND_ERROR) or the
 * network cannot be loaded (the loader's error). Thread-safe. */
AffectSharedNet *affect_shared_net_acquire (const AffectSharedNetClass *klass,
    const gchar *path, const gchar *backend_name, int device_id, int n_threads,
    GError **error);
/* Like affect_shared_net_acquire(), but only users that pass the same
 * @group share the entry (@group is part of the key; NULL is the group of
 * affect_shared_net_acquire()). A user that wants a network of its own
 * (e.g. an element on the CPU that does not batch, so that it runs side by
 * side with the others instead of one at a time on one backend) passes a
 * group no other user passes. */
AffectSharedNet *affect_shared_net_acquire_in_group (
    const AffectSharedNetClass *klass, const gchar *path,
    const gchar *backend_name, int device_id, int n_threads, const gchar *group,
    GError **error);
/* Drops a reference; the last one frees the network and its backend. */
void affect_shared_net_release (AffectSharedNet *shared);

gpointer affect_shared_net_get_net (AffectSharedNet *shared);
AffectBackend *affect_shared_net_get_backend (AffectSharedNet *shared);
/* The kind of the entry. */
const AffectSharedNetClass *affect_shared_net_get_class (
    AffectSharedNet *shared);
/* References held now (the users sharing the entry). */
int affect_shared_net_get_holders (AffectSharedNet *shared);
/* The thread count of the entry's backend (0 resolved to the cores). */
int affect_shared_net_get_n_threads (AffectSharedNet *shared);

/* Runs @n >= 1 items through the network (see AffectSharedNetClass.forward
 * for the arrays); not for a shared-only kind (forward NULL: a critical,
 * FALSE). @window_us <= 0 runs them at once on the calling thread;
 * > 0 batches them with the requests of other threads arriving within the
 * window (see above). Returns the forward pass's result; FALSE also when the
 * entry's backend recorded a failure during the pass (a GPU backend's out of
 * memory, kernel or copy error; affect_backend_take_error()), which is then
 * given in @error (AFFECT_BACKEND_ERROR_FAILED, naming the device and the
 * op) to every request of the batch. A FALSE forward without a record
 * leaves @error unset. */
gboolean affect_shared_net_run (AffectSharedNet *shared, gint64 window_us,
    const float *in, int n, float *out, float *features, GError **error);

/* ---- statistics, for tests and debugging -------------------------------- */

typedef struct {
  guint64 requests;     /* calls of affect_shared_net_run() */
  guint64 batches;      /* batches run (each request alone counts as one) */
  guint64 max_requests; /* most requests in one batch */
  guint64 max_items;    /* most items in one batch */
  int holders;          /* references held now */
} AffectSharedNetStats;

void affect_shared_net_get_stats (
    AffectSharedNet *shared, AffectSharedNetStats *stats);
/* Networks loaded by the cache since the process started. */
guint affect_shared_net_count_loads (void);
/* Entries alive now (one being loaded included). */
guint affect_shared_net_count_live (void);

G_END_DECLS

#endif /* __AFFECT_SHARED_H__ */
