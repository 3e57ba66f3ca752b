/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* The engine settings of the inference elements: see
 * affect-engine-settings.h. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "affect-engine-settings.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (affect_engine_debug);
#define GST_CAT_DEFAULT affect_engine_debug

void
affect_engine_settings_install (GObjectClass *klass, guint first_prop_id)
{
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  if (affect_engine_debug == NULL)
    GST_DEBUG_CATEGORY_INIT (affect_engine_debug, "affectengine", 0,
        "Engine settings of the affect elements");

  /* backend: a string rather than an enum, since the names are those of
   * the backend registry (a loadable backend adds its own). */
  g_object_class_install_property (klass,
      first_prop_id + AFFECT_ENGINE_PROP_BACKEND,
      g_param_spec_string ("backend", "Backend",
          "Inference backend: auto (the best one available), cpu, or the "
          "name of another registered backend, e.g. cuda (affect-info lists "
          "them)",
          AFFECT_ENGINE_DEFAULT_BACKEND, flags | GST_PARAM_MUTABLE_READY));

  g_object_class_install_property (klass,
      first_prop_id + AFFECT_ENGINE_PROP_N_THREADS,
      g_param_spec_int ("n-threads", "Threads",
          "Worker threads of the networks and of the element's other "
          "inference work (0 = all cores)",
          0, AFFECT_ENGINE_MAX_N_THREADS, AFFECT_ENGINE_DEFAULT_N_THREADS,
          flags | GST_PARAM_MUTABLE_PLAYING));

  g_object_class_install_property (klass,
      first_prop_id + AFFECT_ENGINE_PROP_MODEL_LOCATION,
      g_param_spec_string ("model-location", "Model location",
          "Folder of the face models (<name>.safetensors), or the file of "
          "the one model the element uses; NULL = $AFFECT_MODEL_DIR, the "
          "installed models folder, then the cache filled by "
          "affect-fetch-models",
          AFFECT_ENGINE_DEFAULT_MODEL_LOCATION,
          flags | GST_PARAM_MUTABLE_READY));
}

void
affect_engine_settings_install_batch_window (
    GObjectClass *klass, guint first_prop_id)
{
  g_object_class_install_property (klass,
      first_prop_id + AFFECT_ENGINE_PROP_BATCH_WINDOW,
      g_param_spec_int ("batch-window", "Batch window",
          "Microseconds to wait for the face-network requests of other "
          "element instances in this process that use the same model, "
          "backend and n-threads, to run them as one batch (0 = off: run "
          "each request at once); results do not depend on it",
          0, AFFECT_ENGINE_MAX_BATCH_WINDOW, AFFECT_ENGINE_DEFAULT_BATCH_WINDOW,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
}

void
affect_engine_settings_init (AffectEngineSettings *settings)
{
  memset (settings, 0, sizeof (*settings));
  settings->backend_name = g_strdup (AFFECT_ENGINE_DEFAULT_BACKEND);
  settings->n_threads = AFFECT_ENGINE_DEFAULT_N_THREADS;
  settings->model_location = g_strdup (AFFECT_ENGINE_DEFAULT_MODEL_LOCATION);
  settings->batch_window = AFFECT_ENGINE_DEFAULT_BATCH_WINDOW;
}

void
affect_engine_settings_clear (AffectEngineSettings *settings)
{
  affect_engine_settings_stop (settings);
  g_clear_pointer (&settings->backend_name, g_free);
  g_clear_pointer (&settings->model_location, g_free);
}

gboolean
affect_engine_settings_set_property (AffectEngineSettings *settings,
    GstElement *element, guint first_prop_id, guint prop_id,
    const GValue *value)
{
  const gchar *name;

  if (prop_id < first_prop_id
      || prop_id >= first_prop_id + AFFECT_ENGINE_N_PROPS)
    return FALSE;

  GST_OBJECT_LOCK (element);
  switch ((AffectEngineProp)(prop_id - first_prop_id)) {
    case AFFECT_ENGINE_PROP_BACKEND:
      name = g_value_get_string (value);
      g_free (settings->backend_name);
      settings->backend_name = g_strdup (
          name != NULL && *name != '\0' ? name : AFFECT_ENGINE_DEFAULT_BACKEND);
      break;
    case AFFECT_ENGINE_PROP_N_THREADS:
      settings->n_threads = g_value_get_int (value);
      break;
    case AFFECT_ENGINE_PROP_MODEL_LOCATION:
      g_free (settings->model_location);
      settings->model_location = g_value_dup_string (value);
      break;
    case AFFECT_ENGINE_PROP_BATCH_WINDOW:
      settings->batch_window = g_value_get_int (value);
      break;
    default:
      g_assert_not_reached ();
  }
  GST_OBJECT_UNLOCK (element);
  return TRUE;
}

gboolean
affect_engine_settings_get_property (AffectEngineSettings *settings,
    GstElement *element, guint first_prop_id, guint prop_id, GValue *value)
{
  if (prop_id < first_prop_id
      || prop_id >= first_prop_id + AFFECT_ENGINE_N_PROPS)
    return FALSE;

  GST_OBJECT_LOCK (element);
  switch ((AffectEngineProp)(prop_id - first_prop_id)) {
    case AFFECT_ENGINE_PROP_BACKEND:
      g_value_set_string (value, settings->backend_name);
      break;
    case AFFECT_ENGINE_PROP_N_THREADS:
      g_value_set_int (value, settings->n_threads);
      break;
    case AFFECT_ENGINE_PROP_MODEL_LOCATION:
      g_value_set_string (value, settings->model_location);
      break;
    case AFFECT_ENGINE_PROP_BATCH_WINDOW:
      g_value_set_int (value, settings->batch_window);
      break;
    default:
      g_assert_not_reached ();
  }
  GST_OBJECT_UNLOCK (element);
  return TRUE;
}

gboolean
affect_engine_settings_start (
    AffectEngineSettings *settings, GstElement *element)
{
  GError *error = NULL;
  gchar *backend_name;

  affect_engine_settings_stop (settings);

  GST_OBJECT_LOCK (element);
  backend_name = g_strdup (settings->backend_name);
  settings->cur_n_threads = settings->n_threads;
  settings->cur_model_location = g_strdup (settings->model_location);
  GST_OBJECT_UNLOCK (element);

  settings->backend
      = affect_backend_new (backend_name, settings->cur_n_threads, &error);
  if (settings->backend == NULL) {
    GST_ELEMENT_ERROR (element, LIBRARY, INIT,
        ("Cannot use the inference backend \"%s\"", backend_name),
        ("%s", error != NULL ? error->message : "unknown error"));
    g_clear_error (&error);
    g_free (backend_name);
    g_clear_pointer (&settings->cur_model_location, g_free);
    return FALSE;
  }
  GST_INFO_OBJECT (element, "backend %s (asked: %s), %d thread(s)",
      affect_backend_get_name (settings->backend), backend_name,
      affect_backend_get_n_threads (settings->backend));
  g_free (backend_name);
  return TRUE;
}

void
affect_engine_settings_stop (AffectEngineSettings *settings)
{
  g_clear_pointer (&settings->backend, affect_backend_unref);
  g_clear_pointer (&settings->cur_model_location, g_free);
}

gboolean
affect_engine_settings_sync_threads (
    AffectEngineSettings *settings, GstElement *element)
{
  gint n;

  g_return_val_if_fail (settings->backend != NULL, FALSE);

  GST_OBJECT_LOCK (element);
  n = settings->n_threads;
  GST_OBJECT_UNLOCK (element);
  if (n == settings->cur_n_threads)
    return FALSE;
  GST_DEBUG_OBJECT (element, "n-threads %d -> %d", settings->cur_n_threads, n);
  affect_backend_set_n_threads (settings->backend, n);
  settings->cur_n_threads = n;
  return TRUE;
}

gint
affect_engine_settings_resolved_threads (AffectEngineSettings *settings)
{
  g_return_val_if_fail (settings->backend != NULL, 1);
  return affect_backend_get_n_threads (settings->backend);
}

gchar *
affect_engine_settings_find_model (
    AffectEngineSettings *settings, GstElement *element, const gchar *name)
{
  GError *error = NULL;
  gchar *path = affect_model_find (name, settings->cur_model_location, &error);

  if (path == NULL) {
    GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND,
        ("Face model \"%s\" not found. Run affect-fetch-models to download "
         "the face models, or set model-location to the folder that holds "
         "them.",
            name),
        ("%s", error->message));
    g_clear_error (&error);
    return NULL;
  }
  GST_INFO_OBJECT (element, "model %s: %s", name, path);
  return path;
}

AffectSharedNet *
affect_engine_settings_acquire_net (AffectEngineSettings *settings,
    GstElement *element, const AffectSharedNetClass *klass, const gchar *name)
{
  GError *error = NULL;
  AffectSharedNet *shared;
  const gchar *backend_name;
  gchar *path;

  g_return_val_if_fail (settings->backend != NULL, NULL);

  if (!(path = affect_engine_settings_find_model (settings, element, name)))
    return NULL;
  backend_name = affect_backend_get_name (settings->backend);
  /* the first device: the backend of the snapshot is made on it too */
  shared = affect_shared_net_acquire (
      klass, path, backend_name, 0, settings->cur_n_threads, &error);
  if (shared == NULL) {
    if (error != NULL && error->domain == AFFECT_BACKEND_ERROR) {
      GST_ELEMENT_ERROR (element, LIBRARY, INIT,
          ("Cannot use the inference backend \"%s\"", backend_name),
          ("%s", error->message));
      g_error_free (error);
    } else {
      affect_engine_settings_post_load_error (element, name, path, error);
    }
    g_free (path);
    return NULL;
  }
  GST_INFO_OBJECT (element,
      "network %s (%s, %s, %d thread(s)): %d instance(s) share it", name, path,
      backend_name, affect_shared_net_get_n_threads (shared),
      affect_shared_net_get_holders (shared));
  g_free (path);
  return shared;
}

void
affect_engine_settings_release_net (
    GstElement *element, AffectSharedNet **shared)
{
  AffectSharedNetStats st;

  if (*shared == NULL)
    return;
  affect_shared_net_get_stats (*shared, &st);
  GST_DEBUG_OBJECT (element,
      "releasing a network shared by %d instance(s): %" G_GUINT64_FORMAT
      " requests in %" G_GUINT64_FORMAT " batches (at most %" G_GUINT64_FORMAT
      " requests, %" G_GUINT64_FORMAT " items in one)",
      st.holders, st.requests, st.batches, st.max_requests, st.max_items);
  g_clear_pointer (shared, affect_shared_net_release);
}

gint64
affect_engine_settings_get_batch_window (
    AffectEngineSettings *settings, GstElement *element)
{
  gint64 window;

  GST_OBJECT_LOCK (element);
  window = settings->batch_window;
  GST_OBJECT_UNLOCK (element);
  return window;
}

void
affect_engine_settings_post_load_error (
    GstElement *element, const gchar *name, const gchar *path, GError *error)
{
  GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
      ("Cannot load the face model \"%s\" from %s. The file is damaged or "
       "not a model of that name; run affect-fetch-models to fetch the "
       "face models again.",
          name, path),
      ("%s", error != NULL ? error->message : "unknown error"));
  g_clear_error (&error);
}
