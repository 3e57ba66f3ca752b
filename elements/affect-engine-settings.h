/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/*
 * The engine settings shared by the inference elements of the affect
 * plugin (facecrop, affectfeatures, affectfuse); internal, not installed.
 *
 * One helper installs the same three properties on each element class,
 * with the same names, blurbs, defaults, ranges and flags:
 *
 * - `backend` (string, default "auto", NULL/READY): the inference backend
 *   by name, as affect_backend_new() takes it: "auto" (the best one
 *   available: a GPU backend when one is present, else the CPU), "cpu", or
 *   any other name in the backend registry ("cuda" when its module is
 *   installed; `affect-info` lists them). Setting NULL or "" means "auto".
 * - `n-threads` (int 0–1024, default 0, PLAYING): worker threads of the
 *   element's inference work: the backend's thread count, the colour
 *   conversion of facecrop and affectfeatures and the fusion network of
 *   affectfuse. 0 means all cores (g_get_num_processors()). A change while
 *   playing applies from the next buffer
 *   (affect_engine_settings_sync_threads()).
 * - `device-id` (int >= 0, default 0, NULL/READY): the device of a GPU
 *   backend (0 = the first GPU; `affect-info` lists each backend's
 *   devices), ignored by `cpu`. With "auto" the GPU backend is picked only
 *   when it has that device. A device the backend does not have fails
 *   start() (GST_LIBRARY_ERROR_INIT naming the backend, the id and how many
 *   devices it has).
 * - `active-backend` (string, read-only): the backend the last start()
 *   created ("cpu", "cuda"; the device is device-id), NULL before a
 *   successful start (kept after stop: stop() has no element to lock). With
 *   "auto" start() also logs one info line (the element's debug category)
 *   saying what it picked and why.
 * - `model-location` (string, default NULL, NULL/READY): the folder of the
 *   face models (<name>.safetensors), or, for an element that needs a
 *   single model, that file. NULL uses the lookup of affect-modelpath.h:
 *   $AFFECT_MODEL_DIR, the installed models folder, then the cache filled
 *   by `affect-fetch-models`.
 *
 * The element embeds an AffectEngineSettings, calls
 * affect_engine_settings_install() in class_init with the first of the
 * consecutive property ids it reserves (AFFECT_ENGINE_N_PROPS), _init() in
 * instance init, _clear() in finalize, and routes those ids to
 * _set_property() / _get_property(). The property fields are protected by
 * the element's object lock (the helper takes it; call the set/get
 * functions without holding it).
 *
 * In start(), affect_engine_settings_start() takes a snapshot of the
 * properties and creates the backend; affect_engine_settings_find_model()
 * resolves a model file with the snapshot of model-location, and
 * affect_engine_settings_post_load_error() reports a model that is found
 * but cannot be loaded; affect_engine_settings_stop() releases the backend.
 * After running a network, before using its outputs, the element calls
 * affect_engine_settings_check_backend(): a GPU backend that failed (out of
 * memory, a kernel or copy error) becomes an element error.
 *
 * Every failure is posted the same way by every element:
 *
 * | failure                                   | GError domain / code         |
 * |-------------------------------------------|------------------------------|
 * | unknown or unavailable backend (no GPU    | GST_LIBRARY_ERROR_INIT       |
 * |   for cuda), a device it does not have    |                              |
 * | the backend failed at run time (device    | GST_STREAM_ERROR_FAILED      |
 * |   memory, a kernel, a copy); the message  |                              |
 * |   names the device and the op             |                              |
 * | model not found (no file, no folder, a    | GST_RESOURCE_ERROR_NOT_FOUND |
 * |   folder without it); the message names   |                              |
 * |   `affect-fetch-models`                   |                              |
 * | model found but unusable (not safetensors,| GST_RESOURCE_ERROR_SETTINGS  |
 * |   truncated, a tensor missing or of the   |                              |
 * |   wrong shape)                            |                              |
 *
 * The last code is also the one affectfuse uses for a fusion network file
 * it cannot use, so one failure has one code across the plugin.
 *
 * Shared networks and batching (models/engine/affect-shared.h): an element
 * that runs per-face networks loads them with
 * affect_engine_settings_acquire_net(), which gives every instance in the
 * process with the same model file, backend, device and n-threads the same
 * loaded network (on the cpu backend only while batch-window > 0; otherwise
 * each instance has its own, so instances run side by side); such an
 * element also installs
 * affect_engine_settings_install_batch_window():
 *
 * - `batch-window` (int 0–1000000 µs, default 0, PLAYING): with a value
 *   > 0, the element's face-network requests are batched with those of the
 *   other instances sharing the network that arrive within that many
 *   microseconds (affect_shared_net_run()); 0 runs them at once. Results do
 *   not depend on it.
 *
 * Networks that are shared but never batched (affectfuse's fusion
 * networks, affectfeatures' BERT word model: a model file or folder the
 * element finds itself) are acquired with
 * affect_engine_settings_acquire_path(), with the same sharing rule.
 */

#ifndef __AFFECT_ENGINE_SETTINGS_H__
#define __AFFECT_ENGINE_SETTINGS_H__

#include <gst/gst.h>

#include "affect-engine.h"

G_BEGIN_DECLS

#define AFFECT_ENGINE_DEFAULT_BACKEND "auto"
#define AFFECT_ENGINE_DEFAULT_N_THREADS 0
#define AFFECT_ENGINE_MAX_N_THREADS 1024
#define AFFECT_ENGINE_DEFAULT_MODEL_LOCATION NULL
#define AFFECT_ENGINE_DEFAULT_DEVICE_ID 0
#define AFFECT_ENGINE_DEFAULT_BATCH_WINDOW 0
#define AFFECT_ENGINE_MAX_BATCH_WINDOW 1000000

/* The properties, in the order of their ids (first_prop_id + value). */
typedef enum {
  AFFECT_ENGINE_PROP_BACKEND,
  AFFECT_ENGINE_PROP_N_THREADS,
  AFFECT_ENGINE_PROP_MODEL_LOCATION,
  AFFECT_ENGINE_PROP_DEVICE_ID,
  AFFECT_ENGINE_PROP_ACTIVE_BACKEND,
  /* installed by affect_engine_settings_install_batch_window() only */
  AFFECT_ENGINE_PROP_BATCH_WINDOW,
  AFFECT_ENGINE_N_PROPS
} AffectEngineProp;

typedef struct {
  /* properties, under the element's object lock */
  gchar *backend_name; /* never NULL */
  gint n_threads;
  gchar *model_location;
  gint device_id;
  gchar *active_backend; /* read-only: the last start's backend name */
  gint batch_window;     /* µs */

  /* streaming state, from affect_engine_settings_start() to _stop(); used
   * by the element's streaming thread (or start()) only */
  AffectBackend *backend;
  gchar *cur_model_location;
  gint cur_n_threads;    /* as set (0 = all cores) */
  gint cur_batch_window; /* as last seen by start() or sync_threads() */
} AffectEngineSettings;

/* Installs `backend`, `n-threads`, `model-location`, `device-id` and
 * `active-backend` with the ids @first_prop_id + AffectEngineProp. */
void affect_engine_settings_install (GObjectClass *klass, guint first_prop_id);
/* Installs `batch-window` with the id @first_prop_id +
 * AFFECT_ENGINE_PROP_BATCH_WINDOW (elements whose face networks batch
 * across streams: facecrop, affectfeatures). */
void affect_engine_settings_install_batch_window (
    GObjectClass *klass, guint first_prop_id);

void affect_engine_settings_init (AffectEngineSettings *settings);
/* Frees everything, the streaming state included. */
void affect_engine_settings_clear (AffectEngineSettings *settings);

/* Return TRUE when @prop_id is one of the helper's properties (then it is
 * handled), FALSE otherwise. They lock @element's object lock. */
gboolean affect_engine_settings_set_property (AffectEngineSettings *settings,
    GstElement *element, guint first_prop_id, guint prop_id,
    const GValue *value);
gboolean affect_engine_settings_get_property (AffectEngineSettings *settings,
    GstElement *element, guint first_prop_id, guint prop_id, GValue *value);

/* Takes the snapshot of the properties and creates the backend
 * (affect_backend_new_for_device() with device-id). On failure posts
 * GST_LIBRARY_ERROR_INIT on @element (the message says why: no such
 * backend, no CUDA device, a device id out of range) and returns FALSE. */
gboolean affect_engine_settings_start (
    AffectEngineSettings *settings, GstElement *element);
/* Releases the backend and the snapshot. */
void affect_engine_settings_stop (AffectEngineSettings *settings);

/* Call after running a network on @backend (NULL: the backend of
 * @settings, which may be NULL when @backend is given)
 * and before using its outputs: returns TRUE when the backend recorded no
 * failure (affect_backend_take_error()), else posts GST_STREAM_ERROR_FAILED
 * on @element with the backend's message (it names the device and the op)
 * and returns FALSE; the element then drops the results and returns
 * GST_FLOW_ERROR. Streaming thread. */
gboolean affect_engine_settings_check_backend (AffectEngineSettings *settings,
    GstElement *element, AffectBackend *backend);
/* After a shared network's run (affect_shared_net_run() and the *_shared
 * calls of models/face) returned FALSE with @error: when @error is the
 * backend's failure record (AFFECT_BACKEND_ERROR), posts it as
 * affect_engine_settings_check_backend() does (STREAM/FAILED naming the
 * backend, the device and the op) and returns TRUE; otherwise posts nothing
 * and returns FALSE (the element posts its own message). */
gboolean affect_engine_settings_post_run_error (
    GstElement *element, AffectSharedNet *shared, const GError *error);

/* Gives the backend a value of n-threads changed while playing. Returns
 * TRUE when it changed since the last call (or start), e.g. to resize other
 * thread pools of the element with affect_engine_settings_resolved_threads(),
 * or when batch-window went from 0 to non-zero or back on the cpu backend
 * (the networks then go from the instance's own to shared or back): in both
 * cases the element releases its networks and acquires them again
 * (affect_engine_settings_acquire_net()). Streaming thread. */
gboolean affect_engine_settings_sync_threads (
    AffectEngineSettings *settings, GstElement *element);
/* The thread count in use, 0 resolved to the number of cores (>= 1). */
gint affect_engine_settings_resolved_threads (AffectEngineSettings *settings);

/* The file of the model @name (e.g. "face_landmark_68_model") under the
 * snapshot of model-location (g_free), or NULL after posting
 * GST_RESOURCE_ERROR_NOT_FOUND on @element (the message names
 * `affect-fetch-models` and model-location, the details every place
 * searched). */
gchar *affect_engine_settings_find_model (
    AffectEngineSettings *settings, GstElement *element, const gchar *name);

/* The shared network of kind @klass for the model @name: the model file is
 * found as by affect_engine_settings_find_model(), the network acquired
 * (affect_shared_net_acquire_in_group()) for the backend of the snapshot
 * (by its resolved name), its device and the n-threads in use: shared with
 * the other instances of those settings on a GPU backend, and on cpu when
 * batch-window is > 0; else one of the instance's own. Release it
 * with affect_shared_net_release(). NULL after posting the error:
 * GST_RESOURCE_ERROR_NOT_FOUND, GST_LIBRARY_ERROR_INIT when the backend
 * cannot be created, or GST_RESOURCE_ERROR_SETTINGS when the model cannot
 * be loaded. Call between _start() and _stop(). */
AffectSharedNet *affect_engine_settings_acquire_net (
    AffectEngineSettings *settings, GstElement *element,
    const AffectSharedNetClass *klass, const gchar *name);

/* The shared network of kind @klass loaded from @path, a model file (or,
 * for a kind with a key_file, a folder) that the element found itself
 * (affectfuse's model property, affectfeatures' word model): the same
 * sharing as affect_engine_settings_acquire_net() (shared with the other
 * instances of those settings on a GPU backend, and on cpu while
 * batch-window > 0, which only elements with that property have; else one
 * of the instance's own), and the same info line. NULL with @error and
 * nothing posted: AFFECT_BACKEND_ERROR when the entry's backend cannot be
 * created, else the file's or the loader's error (the element posts its
 * own message). Call between _start() and _stop(). */
AffectSharedNet *affect_engine_settings_acquire_path (
    AffectEngineSettings *settings, GstElement *element,
    const AffectSharedNetClass *klass, const gchar *path, GError **error);

/* Posts GST_LIBRARY_ERROR_INIT ("Cannot use the inference backend ...")
 * on @element when @error (may be NULL) says the backend of a network's
 * entry could not be created (AFFECT_BACKEND_ERROR) and returns TRUE; FALSE,
 * posting nothing, for any other error (the caller posts its own). Does not
 * take @error. */
gboolean affect_engine_settings_post_backend_error (
    AffectEngineSettings *settings, GstElement *element, const GError *error);

/* Releases *@shared (may be NULL) and sets it to NULL, logging (debug
 * level) how its requests were batched. */
void affect_engine_settings_release_net (
    GstElement *element, AffectSharedNet **shared);

/* The batch window in microseconds (the property now; 0 = off). */
gint64 affect_engine_settings_get_batch_window (
    AffectEngineSettings *settings, GstElement *element);

/* Posts GST_RESOURCE_ERROR_SETTINGS on @element for the model @name found
 * at @path that could not be loaded; takes @error (may be NULL). */
void affect_engine_settings_post_load_error (
    GstElement *element, const gchar *name, const gchar *path, GError *error);

G_END_DECLS

#endif /* __AFFECT_ENGINE_SETTINGS_H__ */
