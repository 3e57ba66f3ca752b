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

  g_object_class_install_property (klass,
      first_prop_id + AFFECT_ENGINE_PROP_DEVICE_ID,
      g_param_spec_int ("device-id", "Device id",
          "The GPU a GPU backend runs on (0 = the first; affect-info lists "
          "them); ignored by cpu. With backend=auto a GPU backend is used "
          "only if it has this device; one it does not have fails the start",
          0, G_MAXINT, AFFECT_ENGINE_DEFAULT_DEVICE_ID,
          flags | GST_PARAM_MUTABLE_READY));

  g_object_class_install_property (klass,
      first_prop_id + AFFECT_ENGINE_PROP_ACTIVE_BACKEND,
      g_param_spec_string ("active-backend", "Active backend",
          "The backend of the element's last start (e.g. what "
          "backend=auto picked: cpu or cuda, on device-id); NULL before a "
          "successful start",
          NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
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
  settings->device_id = AFFECT_ENGINE_DEFAULT_DEVICE_ID;
}

void
affect_engine_settings_clear (AffectEngineSettings *settings)
{
  affect_engine_settings_stop (settings);
  g_clear_pointer (&settings->backend_name, g_free);
  g_clear_pointer (&settings->model_location, g_free);
  g_clear_pointer (&settings->active_backend, g_free);
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
    case AFFECT_ENGINE_PROP_DEVICE_ID:
      settings->device_id = g_value_get_int (value);
      break;
    default: /* active-backend is read-only */
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
    case AFFECT_ENGINE_PROP_DEVICE_ID:
      g_value_set_int (value, settings->device_id);
      break;
    case AFFECT_ENGINE_PROP_ACTIVE_BACKEND:
      g_value_set_string (value, settings->active_backend);
      break;
    default:
      g_assert_not_reached ();
  }
  GST_OBJECT_UNLOCK (element);
  return TRUE;
}

/* The element's own debug category (named like its factory: facecrop,
 * affectfeatures, ...), else the helper's. */
static GstDebugCategory *
element_category (GstElement *element)
{
  GstElementFactory *factory = gst_element_get_factory (element);
  GstDebugCategory *cat = NULL;

  if (factory != NULL)
    GST_DEBUG_CATEGORY_GET (cat, GST_OBJECT_NAME (factory));
  return cat != NULL ? cat : affect_engine_debug;
}

/* The registry's line for @device of the backend @name (g_free), or NULL. */
static gchar *
describe_device (GPtrArray *list, const gchar *name, gint device)
{
  guint i;

  for (i = 0; i < list->len; i++) {
    AffectBackendInfo *info = g_ptr_array_index (list, i);

    if (g_ascii_strcasecmp (info->name, name) == 0 && info->devices != NULL
        && (guint)device < g_strv_length (info->devices))
      return g_strdup (info->devices[device]);
  }
  return NULL;
}

/* Logs what backend=auto picked and why: the device it runs on, or why
 * every backend ranked above it was passed over. */
static void
log_auto_choice (GstElement *element, AffectBackend *backend, gint device_id)
{
  GPtrArray *list = affect_backend_list ();
  const gchar *picked = affect_backend_get_name (backend);
  GString *why = g_string_new (NULL);
  gchar *device = describe_device (list, picked, device_id);
  gint picked_priority = 0;
  guint i;

  for (i = 0; i < list->len; i++) {
    AffectBackendInfo *info = g_ptr_array_index (list, i);

    if (g_ascii_strcasecmp (info->name, picked) == 0)
      picked_priority = info->priority;
  }
  for (i = 0; i < list->len; i++) {
    AffectBackendInfo *info = g_ptr_array_index (list, i);

    if (info->priority <= picked_priority)
      continue;
    g_string_append_printf (why, "%s%s: ", why->len ? "; " : "", info->name);
    if (!info->available)
      g_string_append (why, info->reason ? info->reason : "not available");
    else if ((guint)device_id >= g_strv_length (info->devices))
      g_string_append_printf (why, "no device %d (it has %u)", device_id,
          g_strv_length (info->devices));
    else
      g_string_append (why, "could not start (see the debug log)");
  }

  if (g_strcmp0 (picked, "cpu") == 0)
    GST_CAT_INFO_OBJECT (element_category (element), element,
        "auto: cpu (%s%s)", why->len ? "no GPU backend: " : "",
        why->len ? why->str : "no GPU backend installed");
  else
    GST_CAT_INFO_OBJECT (element_category (element), element,
        "auto: %s device %d (%s)%s%s", picked, device_id, device ? device : "?",
        why->len ? "; passed over: " : "", why->str);
  g_free (device);
  g_string_free (why, TRUE);
  g_ptr_array_unref (list);
}

/* The backend @name on @device_id. cpu has one device and ignores
 * device-id. auto: the usable GPU backend ranked first (priority above
 * cpu's 0), on @device_id, which must be one of its devices; without a
 * usable GPU backend, cpu (device-id ignored). */
static AffectBackend *
create_backend (
    const gchar *name, gint device_id, gint n_threads, GError **error)
{
  GPtrArray *list;
  gboolean has_gpu = FALSE, has_device = FALSE;
  gchar *gpu = NULL;
  AffectBackend *be;
  guint i;

  if (g_ascii_strcasecmp (name, "cpu") == 0)
    return affect_backend_new_for_device (name, 0, n_threads, error);
  if (g_ascii_strcasecmp (name, "auto") != 0)
    return affect_backend_new_for_device (name, device_id, n_threads, error);

  list = affect_backend_list (); /* highest priority first */
  for (i = 0; i < list->len && !has_gpu; i++) {
    AffectBackendInfo *info = g_ptr_array_index (list, i);

    if (info->available && info->priority > 0) {
      has_gpu = TRUE;
      has_device = (guint)device_id < g_strv_length (info->devices);
      gpu = g_strdup (info->name);
    }
  }
  g_ptr_array_unref (list);
  if (has_gpu && !has_device) /* the registry's error names the count */
    be = affect_backend_new_for_device (gpu, device_id, n_threads, error);
  else
    be = affect_backend_new_for_device (
        "auto", has_gpu ? device_id : 0, n_threads, error);
  g_free (gpu);
  return be;
}

gboolean
affect_engine_settings_start (
    AffectEngineSettings *settings, GstElement *element)
{
  GError *error = NULL;
  gchar *backend_name;
  gint device_id;

  affect_engine_settings_stop (settings);

  GST_OBJECT_LOCK (element);
  backend_name = g_strdup (settings->backend_name);
  device_id = settings->device_id;
  g_clear_pointer (&settings->active_backend, g_free);
  settings->cur_n_threads = settings->n_threads;
  settings->cur_batch_window = settings->batch_window;
  settings->cur_model_location = g_strdup (settings->model_location);
  GST_OBJECT_UNLOCK (element);

  settings->backend = create_backend (
      backend_name, device_id, settings->cur_n_threads, &error);
  if (settings->backend == NULL) {
    GST_ELEMENT_ERROR (element, LIBRARY, INIT,
        ("Cannot use the inference backend \"%s\" (device-id %d): %s",
            backend_name, device_id,
            error != NULL ? error->message : "unknown error"),
        ("backend \"%s\", device-id %d: %s", backend_name, device_id,
            error != NULL ? error->message : "unknown error"));
    g_clear_error (&error);
    g_free (backend_name);
    g_clear_pointer (&settings->cur_model_location, g_free);
    return FALSE;
  }
  if (g_ascii_strcasecmp (backend_name, "auto") == 0)
    log_auto_choice (element, settings->backend, device_id);
  GST_INFO_OBJECT (element, "backend %s (asked: %s), device %d, %d thread(s)",
      affect_backend_get_name (settings->backend), backend_name,
      affect_backend_get_device_id (settings->backend),
      affect_backend_get_n_threads (settings->backend));
  GST_OBJECT_LOCK (element);
  g_free (settings->active_backend);
  settings->active_backend
      = g_strdup (affect_backend_get_name (settings->backend));
  GST_OBJECT_UNLOCK (element);
  g_free (backend_name);
  return TRUE;
}

void
affect_engine_settings_stop (AffectEngineSettings *settings)
{
  g_clear_pointer (&settings->backend, affect_backend_unref);
  g_clear_pointer (&settings->cur_model_location, g_free);
  /* active_backend stays (the last start's): stop() has no element to
   * lock; start() replaces it */
}

/* STREAM/FAILED for a failure the backend recorded while running. */
static void
post_backend_failure (
    GstElement *element, AffectBackend *backend, const GError *error)
{
  GST_ELEMENT_ERROR (element, STREAM, FAILED,
      ("Inference failed on the %s backend, device %d: %s",
          affect_backend_get_name (backend),
          affect_backend_get_device_id (backend), error->message),
      ("backend %s, device %d: %s; the results of this buffer are dropped",
          affect_backend_get_name (backend),
          affect_backend_get_device_id (backend), error->message));
}

gboolean
affect_engine_settings_check_backend (
    AffectEngineSettings *settings, GstElement *element, AffectBackend *backend)
{
  GError *error = NULL;

  if (backend == NULL && settings != NULL)
    backend = settings->backend;
  g_return_val_if_fail (backend != NULL, FALSE);

  if (affect_backend_take_error (backend, &error))
    return TRUE;
  post_backend_failure (element, backend, error);
  g_clear_error (&error);
  return FALSE;
}

gboolean
affect_engine_settings_post_run_error (
    GstElement *element, AffectSharedNet *shared, const GError *error)
{
  if (shared == NULL || error == NULL || error->domain != AFFECT_BACKEND_ERROR)
    return FALSE;
  post_backend_failure (element, affect_shared_net_get_backend (shared), error);
  return TRUE;
}

/* Whether the element's face networks come from the process-wide cache
 * shared with other instances of the same settings (affect-shared.h), or
 * are its own. On a GPU backend always (the weights are uploaded once and
 * the device runs one instance's work after another's anyway). On the CPU
 * only with batch-window > 0: a shared CPU backend runs the instances'
 * networks one at a time, so instances that do not batch keep their own and
 * run side by side on the cores, as they did before networks were shared. */
static gboolean
shares_networks (AffectEngineSettings *settings, gint window)
{
  return window > 0
         || g_strcmp0 (affect_backend_get_name (settings->backend), "cpu") != 0;
}

gboolean
affect_engine_settings_sync_threads (
    AffectEngineSettings *settings, GstElement *element)
{
  gboolean changed = FALSE;
  gint n, window;

  g_return_val_if_fail (settings->backend != NULL, FALSE);

  GST_OBJECT_LOCK (element);
  n = settings->n_threads;
  window = settings->batch_window;
  GST_OBJECT_UNLOCK (element);
  /* batch-window switched on or off: on the CPU the networks go from an
   * instance's own to shared or back (see shares_networks()) */
  if (shares_networks (settings, window)
      != shares_networks (settings, settings->cur_batch_window)) {
    GST_DEBUG_OBJECT (element, "batch-window %d -> %d: networks %s",
        settings->cur_batch_window, window,
        shares_networks (settings, window) ? "shared" : "of its own");
    changed = TRUE;
  }
  settings->cur_batch_window = window;
  if (n != settings->cur_n_threads) {
    GST_DEBUG_OBJECT (
        element, "n-threads %d -> %d", settings->cur_n_threads, n);
    affect_backend_set_n_threads (settings->backend, n);
    settings->cur_n_threads = n;
    changed = TRUE;
  }
  return changed;
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

/* The entry of @klass for @path with the element's settings (its own group
 * when it does not share: shares_networks()); logs the info line naming
 * the network @label. NULL with @error, nothing posted. */
static AffectSharedNet *
acquire (AffectEngineSettings *settings, GstElement *element,
    const AffectSharedNetClass *klass, const gchar *path, const gchar *label,
    GError **error)
{
  AffectSharedNet *shared;
  const gchar *backend_name = affect_backend_get_name (settings->backend);
  gchar *group = NULL;

  /* the device of the snapshot's backend (device-id; 0 for cpu); a group
   * of its own when the element does not share (shares_networks()) */
  if (!shares_networks (settings, settings->cur_batch_window))
    group = g_strdup_printf ("instance %p", (gpointer)element);
  shared = affect_shared_net_acquire_in_group (klass, path, backend_name,
      affect_backend_get_device_id (settings->backend), settings->cur_n_threads,
      group, error);
  g_free (group);
  if (shared != NULL)
    GST_INFO_OBJECT (element,
        "network %s (%s, %s, %d thread(s)): %d instance(s) share it", label,
        path, backend_name, affect_shared_net_get_n_threads (shared),
        affect_shared_net_get_holders (shared));
  return shared;
}

AffectSharedNet *
affect_engine_settings_acquire_path (AffectEngineSettings *settings,
    GstElement *element, const AffectSharedNetClass *klass, const gchar *path,
    GError **error)
{
  g_return_val_if_fail (settings->backend != NULL, NULL);

  return acquire (settings, element, klass, path, klass->kind, error);
}

AffectSharedNet *
affect_engine_settings_acquire_net (AffectEngineSettings *settings,
    GstElement *element, const AffectSharedNetClass *klass, const gchar *name)
{
  GError *error = NULL;
  AffectSharedNet *shared;
  gchar *path;

  g_return_val_if_fail (settings->backend != NULL, NULL);

  if (!(path = affect_engine_settings_find_model (settings, element, name)))
    return NULL;
  shared = acquire (settings, element, klass, path, name, &error);
  if (shared == NULL) {
    if (affect_engine_settings_post_backend_error (settings, element, error))
      g_error_free (error);
    else
      affect_engine_settings_post_load_error (element, name, path, error);
  }
  g_free (path);
  return shared;
}

gboolean
affect_engine_settings_post_backend_error (
    AffectEngineSettings *settings, GstElement *element, const GError *error)
{
  if (error == NULL || error->domain != AFFECT_BACKEND_ERROR)
    return FALSE;
  GST_ELEMENT_ERROR (element, LIBRARY, INIT,
      ("Cannot use the inference backend \"%s\"",
          affect_backend_get_name (settings->backend)),
      ("%s", error->message));
  return TRUE;
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
