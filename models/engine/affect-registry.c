/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The backend registry: backends by name, the built-in cpu, loadable
 * backend modules. See affect-backend.h ("the backend registry") and
 * docs/inference-core.md ("Backends and the registry").
 *
 * State: the entries (one per registered backend, never freed: backends
 * and modules live as long as the process) and the module records, both
 * under reg_lock; the probe results, filled once per entry under
 * probe_lock. The first use (registry_init) registers the cpu backend and
 * loads the modules, once, in the thread that gets there first; the others
 * wait for it.
 */

#define G_LOG_DOMAIN "affect-registry"

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <dlfcn.h>
#include <string.h>

#include "affect-backend.h"

#ifndef AFFECT_BACKEND_DIR
#define AFFECT_BACKEND_DIR "/usr/local/lib/gst-affect/backends"
#endif

#define MODULE_PREFIX "libaffect-backend-"
#define MODULE_SUFFIX "." G_MODULE_SUFFIX

typedef struct {
  gchar *name;
  gchar *description;
  int priority;
  gboolean (*probe) (GPtrArray *devices, GError **error);
  AffectBackend *(*create) (int device_id, int n_threads, GError **error);
  gchar *module; /* NULL: built in */

  /* The probe's result (probe_lock). */
  gboolean probed;
  gboolean available;
  gchar *reason;
  GPtrArray *devices; /* gchar * */
} Entry;

typedef struct {
  gchar *path;
  gboolean loaded;
  gchar *reason;
} ModuleRecord;

/* While a module's init runs (in the thread loading it): its path, and why
 * registrations it attempted were refused. */
typedef struct {
  const gchar *path;
  GString *refused;
} LoadContext;

static GMutex reg_lock;
static GMutex probe_lock;
static GPtrArray *entries; /* Entry *, registration order */
static GPtrArray *modules; /* ModuleRecord *, load order */
static GPrivate load_context = G_PRIVATE_INIT (NULL);

/* Optional backends that come as modules: what to say when one is asked
 * for by name and its module is not there. */
static const struct {
  const gchar *name;
  const gchar *hint;
} optional_backends[] = {
  { "cuda", "gst-affect was built without CUDA (configure with "
            "-Dcuda=enabled and a CUDA toolkit with cuDNN) or the module is "
            "not installed" },
};

/* The functions a module may call. Referenced here so that the objects of
 * the static engine library holding them are always linked into the plugin
 * and the tools, which export them to the modules they load. */
#ifdef __GNUC__
__attribute__ ((used))
#endif
static const gpointer module_api[]
    = { (gpointer)affect_backend_register,
        (gpointer)affect_backend_new_internal,
        (gpointer)affect_backend_resolve_n_threads,
        (gpointer)affect_backend_supports_op, (gpointer)affect_backend_ref,
        (gpointer)affect_backend_unref, (gpointer)affect_backend_get_name,
        (gpointer)affect_backend_get_n_threads,
        (gpointer)affect_backend_error_quark, (gpointer)affect_tensor_new,
        (gpointer)affect_tensor_free, (gpointer)affect_tensor_n_elements,
        (gpointer)affect_tensor_upload, (gpointer)affect_tensor_download,
        (gpointer)affect_tensor_host_data };

/* ---- registration ------------------------------------------------------ */

static gboolean
valid_name (const gchar *name)
{
  const gchar *p;

  if (name == NULL || *name == '\0' || strlen (name) > 64
      || g_ascii_strcasecmp (name, "auto") == 0)
    return FALSE;
  for (p = name; *p; p++)
    if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '-'
            || *p == '_'))
      return FALSE;
  return TRUE;
}

/* reg_lock held. */
static Entry *
find_entry_locked (const gchar *name)
{
  guint i;

  for (i = 0; entries != NULL && i < entries->len; i++) {
    Entry *e = g_ptr_array_index (entries, i);
    if (g_ascii_strcasecmp (e->name, name) == 0)
      return e;
  }
  return NULL;
}

static void refuse (LoadContext *ctx, const gchar *format, ...)
    G_GNUC_PRINTF (2, 3);

static void
refuse (LoadContext *ctx, const gchar *format, ...)
{
  va_list args;
  gchar *msg;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  /* During a module's init the loader reports it, in its one line. */
  if (ctx != NULL) {
    if (ctx->refused->len > 0)
      g_string_append (ctx->refused, "; ");
    g_string_append (ctx->refused, msg);
  } else {
    g_debug ("%s", msg);
  }
  g_free (msg);
}

gboolean
affect_backend_register (const AffectBackendDesc *desc)
{
  LoadContext *ctx = g_private_get (&load_context);
  Entry *e, *old;

  if (desc == NULL) {
    refuse (ctx, "backend registration without a descriptor refused");
    return FALSE;
  }
  if (!valid_name (desc->name)) {
    refuse (ctx,
        "backend name \"%s\" refused (lower case letters, digits, '-' and "
        "'_'; not \"auto\")",
        desc->name ? desc->name : "(null)");
    return FALSE;
  }
  if (desc->probe == NULL || desc->create == NULL) {
    refuse (ctx, "backend \"%s\" refused: its descriptor has no %s", desc->name,
        desc->probe == NULL ? "probe" : "create");
    return FALSE;
  }

  g_mutex_lock (&reg_lock);
  old = find_entry_locked (desc->name);
  if (old != NULL) {
    gchar *by = g_strdup (old->module ? old->module : "the engine (built in)");
    g_mutex_unlock (&reg_lock);
    refuse (ctx, "backend \"%s\" already registered by %s", desc->name, by);
    g_free (by);
    return FALSE;
  }
  e = g_new0 (Entry, 1);
  e->name = g_strdup (desc->name);
  e->description = g_strdup (desc->description);
  e->priority = desc->priority;
  e->probe = desc->probe;
  e->create = desc->create;
  e->module = ctx ? g_strdup (ctx->path) : NULL;
  if (entries == NULL)
    entries = g_ptr_array_new ();
  g_ptr_array_add (entries, e);
  g_mutex_unlock (&reg_lock);
  return TRUE;
}

/* ---- modules ----------------------------------------------------------- */

/* GStreamer opens plugins with local symbols: the engine inside the plugin
 * would be invisible to the modules it opens. Make the object that holds
 * this code part of the global scope. For an executable this finds nothing
 * to do (its exported symbols are global already; without export_dynamic
 * the modules fail with "undefined symbol", in their debug lines). The
 * reference is kept: the engine stays loaded while modules use it. */
static void
export_engine_symbols (void)
{
#ifdef RTLD_NOLOAD
  Dl_info info;

  if (dladdr ((gpointer)affect_backend_register, &info) != 0
      && info.dli_fname != NULL)
    (void)dlopen (info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_GLOBAL);
#endif
}

static gboolean
is_module_file_name (const gchar *name)
{
  return g_str_has_prefix (name, MODULE_PREFIX)
         && g_str_has_suffix (name, MODULE_SUFFIX)
         && strlen (name) > strlen (MODULE_PREFIX) + strlen (MODULE_SUFFIX);
}

/* Removes the entries a module registered (its init failed afterwards). */
static void
unregister_module (const gchar *path)
{
  guint i;

  g_mutex_lock (&reg_lock);
  for (i = 0; entries != NULL && i < entries->len;) {
    Entry *e = g_ptr_array_index (entries, i);
    if (g_strcmp0 (e->module, path) == 0) {
      g_ptr_array_remove_index (entries, i);
      g_free (e->name);
      g_free (e->description);
      g_free (e->module);
      g_free (e);
    } else {
      i++;
    }
  }
  g_mutex_unlock (&reg_lock);
}

static guint
count_registered_by (const gchar *path)
{
  guint i, n = 0;

  g_mutex_lock (&reg_lock);
  for (i = 0; entries != NULL && i < entries->len; i++) {
    Entry *e = g_ptr_array_index (entries, i);
    n += g_strcmp0 (e->module, path) == 0;
  }
  g_mutex_unlock (&reg_lock);
  return n;
}

static void
load_module (const gchar *path)
{
  GModule *mod = NULL;
  gpointer abi = NULL, init = NULL;
  gchar *reason = NULL;
  gboolean init_ran = FALSE;
  ModuleRecord *rec;

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    reason = g_strdup ("not a regular file");
  } else if ((mod = g_module_open (path, G_MODULE_BIND_LOCAL)) == NULL) {
    const gchar *msg = g_module_error ();
    /* dlerror() often starts with the path we print anyway. */
    if (g_str_has_prefix (msg, path)
        && g_str_has_prefix (msg + strlen (path), ": "))
      msg += strlen (path) + 2;
    reason = g_strdup (msg);
  } else if (!g_module_symbol (mod, AFFECT_BACKEND_MODULE_ABI_SYMBOL, &abi)
             || abi == NULL) {
    reason = g_strdup ("no " AFFECT_BACKEND_MODULE_ABI_SYMBOL
                       " symbol (not a gst-affect backend module)");
  } else if (*(const guint *)abi != AFFECT_BACKEND_ABI_VERSION) {
    reason = g_strdup_printf ("built for backend ABI version %u, this engine "
                              "has version %u (rebuild the module)",
        *(const guint *)abi, (guint)AFFECT_BACKEND_ABI_VERSION);
  } else if (!g_module_symbol (mod, AFFECT_BACKEND_MODULE_INIT_SYMBOL, &init)
             || init == NULL) {
    reason = g_strdup ("no " AFFECT_BACKEND_MODULE_INIT_SYMBOL " function");
  } else {
    LoadContext ctx = { path, g_string_new (NULL) };
    GError *error = NULL;
    gboolean ok;

    g_private_set (&load_context, &ctx);
    ok = ((AffectBackendModuleInitFunc)init) (&error);
    g_private_set (&load_context, NULL);
    init_ran = TRUE;
    if (!ok) {
      reason = g_strdup_printf (
          "its init failed: %s", error ? error->message : "(no reason given)");
      unregister_module (path);
    } else if (count_registered_by (path) == 0) {
      reason = g_strdup_printf ("it registered no backend%s%s",
          ctx.refused->len ? ": " : "", ctx.refused->str);
    } else if (ctx.refused->len > 0) {
      /* Loaded, but part of it was refused: say so (still one line). */
      g_debug ("backend module %s: %s", path, ctx.refused->str);
    }
    g_clear_error (&error);
    g_string_free (ctx.refused, TRUE);
  }

  if (reason != NULL) {
    g_debug ("backend module %s skipped: %s", path, reason);
    /* Code that ran may have left state behind (threads, handlers): a
     * module whose init ran stays loaded. */
    if (mod != NULL && !init_ran)
      g_module_close (mod);
    else if (mod != NULL)
      g_module_make_resident (mod);
  } else {
    g_module_make_resident (mod);
    g_debug ("backend module %s loaded", path);
  }

  rec = g_new0 (ModuleRecord, 1);
  rec->path = g_strdup (path);
  rec->loaded = reason == NULL;
  rec->reason = reason;
  g_mutex_lock (&reg_lock);
  if (modules == NULL)
    modules = g_ptr_array_new ();
  g_ptr_array_add (modules, rec);
  g_mutex_unlock (&reg_lock);
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar *const *)a, *(const gchar *const *)b);
}

static void
load_modules (void)
{
  gchar **dirs = affect_backend_get_module_dirs ();
  GHashTable *seen
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean exported = FALSE;
  guint i, j;

  for (i = 0; dirs[i] != NULL; i++) {
    GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
    GDir *dir = g_dir_open (dirs[i], 0, NULL);
    const gchar *name;

    /* A folder that does not exist (the installed one in a build tree, a
     * stale entry in the variable) is normal: nothing to say. */
    if (dir == NULL) {
      g_ptr_array_unref (names);
      continue;
    }
    while ((name = g_dir_read_name (dir)) != NULL)
      if (is_module_file_name (name))
        g_ptr_array_add (names, g_strdup (name));
    g_dir_close (dir);
    g_ptr_array_sort (names, compare_strings);

    for (j = 0; j < names->len; j++) {
      gchar *path = g_build_filename (
          dirs[i], (const gchar *)g_ptr_array_index (names, j), NULL);
      gchar *canonical = g_canonicalize_filename (path, NULL);

      /* The same folder listed twice. */
      if (g_hash_table_contains (seen, canonical)) {
        g_free (canonical);
        g_free (path);
        continue;
      }
      g_hash_table_add (seen, canonical);
      if (!exported) {
        export_engine_symbols ();
        exported = TRUE;
      }
      load_module (path);
      g_free (path);
    }
    g_ptr_array_unref (names);
  }
  g_hash_table_unref (seen);
  g_strfreev (dirs);
}

gchar **
affect_backend_get_module_dirs (void)
{
  GPtrArray *dirs = g_ptr_array_new ();
  const gchar *env = g_getenv ("AFFECT_BACKEND_PATH");

  if (env != NULL) {
    gchar **parts = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);
    gchar **p;

    for (p = parts; *p != NULL; p++)
      if (**p != '\0')
        g_ptr_array_add (dirs, g_strdup (*p));
    g_strfreev (parts);
  }
  g_ptr_array_add (dirs, g_strdup (AFFECT_BACKEND_DIR));
  g_ptr_array_add (dirs, NULL);
  return (gchar **)g_ptr_array_free (dirs, FALSE);
}

static void
registry_init (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once)) {
    affect_backend_cpu_register ();
    load_modules ();
    g_once_init_leave (&once, 1);
  }
}

/* ---- probing and construction ------------------------------------------ */

static void
probe_entry (Entry *e)
{
  g_mutex_lock (&probe_lock);
  if (!e->probed) {
    GPtrArray *devices = g_ptr_array_new_with_free_func (g_free);
    GError *error = NULL;
    gboolean ok = e->probe (devices, &error);

    if (ok && devices->len == 0) {
      ok = FALSE;
      e->reason = g_strdup ("no device found");
    } else if (!ok) {
      e->reason = g_strdup (error ? error->message : "its probe failed");
    }
    g_clear_error (&error);
    if (!ok)
      g_ptr_array_set_size (devices, 0);
    e->devices = devices;
    e->available = ok;
    e->probed = TRUE;
  }
  g_mutex_unlock (&probe_lock);
}

static gint
compare_priority (gconstpointer a, gconstpointer b)
{
  const Entry *ea = *(const Entry *const *)a, *eb = *(const Entry *const *)b;

  return (ea->priority < eb->priority) - (ea->priority > eb->priority);
}

/* The entries, highest priority first (registration order among equals). */
static GPtrArray *
snapshot_entries (void)
{
  GPtrArray *snap;

  registry_init ();
  g_mutex_lock (&reg_lock);
  snap = entries ? g_ptr_array_copy (entries, NULL, NULL) : g_ptr_array_new ();
  g_mutex_unlock (&reg_lock);
  g_ptr_array_sort (snap, compare_priority); /* a stable sort */
  return snap;
}

static AffectBackend *
create_on (Entry *e, int device_id, int n_threads, GError **error)
{
  GError *local = NULL;
  AffectBackend *be;

  probe_entry (e);
  if (!e->available) {
    g_set_error (error, AFFECT_BACKEND_ERROR,
        AFFECT_BACKEND_ERROR_NOT_AVAILABLE,
        "Backend \"%s\" is not available: %s", e->name, e->reason);
    return NULL;
  }
  if ((guint)device_id >= e->devices->len) {
    g_set_error (error, AFFECT_BACKEND_ERROR,
        AFFECT_BACKEND_ERROR_NOT_AVAILABLE,
        "Backend \"%s\" has no device %d (it has %u: 0 to %u)", e->name,
        device_id, e->devices->len, e->devices->len - 1);
    return NULL;
  }
  be = e->create (device_id, n_threads, &local);
  if (be != NULL)
    be->device_id = device_id;
  if (be == NULL) {
    g_set_error (error, AFFECT_BACKEND_ERROR,
        AFFECT_BACKEND_ERROR_NOT_AVAILABLE,
        "Backend \"%s\" could not start on device %d: %s", e->name, device_id,
        local ? local->message : "(no reason given)");
    g_clear_error (&local);
  }
  return be;
}

static AffectBackend *
create_auto (int device_id, int n_threads, GError **error)
{
  GPtrArray *snap = snapshot_entries ();
  GString *tried = g_string_new (NULL);
  AffectBackend *be = NULL;
  guint i;

  for (i = 0; i < snap->len && be == NULL; i++) {
    Entry *e = g_ptr_array_index (snap, i);
    GError *local = NULL;

    probe_entry (e);
    if (!e->available || (guint)device_id >= e->devices->len)
      continue;
    be = create_on (e, device_id, n_threads, &local);
    if (be == NULL) {
      /* The next best one is tried. */
      g_debug ("auto: %s", local->message);
      g_string_append_printf (
          tried, "%s%s", tried->len ? "; " : "", local->message);
      g_clear_error (&local);
    }
  }
  if (be == NULL)
    g_set_error (error, AFFECT_BACKEND_ERROR,
        AFFECT_BACKEND_ERROR_NOT_AVAILABLE,
        "No backend is available for device %d%s%s", device_id,
        tried->len ? ": " : "", tried->str);
  g_string_free (tried, TRUE);
  g_ptr_array_unref (snap);
  return be;
}

/* @name is not registered: a module that failed, an optional backend
 * without its module, or an unknown name. */
static void
set_missing_error (const gchar *name, GError **error)
{
  gchar *file = g_strconcat (MODULE_PREFIX, name, MODULE_SUFFIX, NULL);
  GPtrArray *snap;
  GString *known;
  gchar **dirs, *dirs_str;
  guint i;

  g_mutex_lock (&reg_lock);
  for (i = 0; modules != NULL && i < modules->len; i++) {
    ModuleRecord *m = g_ptr_array_index (modules, i);
    gchar *base = g_path_get_basename (m->path);
    gboolean match = g_ascii_strcasecmp (base, file) == 0 && !m->loaded;

    g_free (base);
    if (match) {
      g_set_error (error, AFFECT_BACKEND_ERROR,
          AFFECT_BACKEND_ERROR_NOT_AVAILABLE,
          "Backend \"%s\" is not available: its module %s could not be "
          "loaded: %s",
          name, m->path, m->reason);
      g_mutex_unlock (&reg_lock);
      g_free (file);
      return;
    }
  }
  g_mutex_unlock (&reg_lock);

  for (i = 0; i < G_N_ELEMENTS (optional_backends); i++) {
    if (g_ascii_strcasecmp (name, optional_backends[i].name) != 0)
      continue;
    dirs = affect_backend_get_module_dirs ();
    dirs_str = g_strjoinv (", ", dirs);
    g_set_error (error, AFFECT_BACKEND_ERROR,
        AFFECT_BACKEND_ERROR_NOT_AVAILABLE,
        "Backend \"%s\" is not available: no module %s in %s: %s",
        optional_backends[i].name, file, dirs_str, optional_backends[i].hint);
    g_free (dirs_str);
    g_strfreev (dirs);
    g_free (file);
    return;
  }

  known = g_string_new ("auto");
  snap = snapshot_entries ();
  for (i = 0; i < snap->len; i++)
    g_string_append_printf (
        known, ", %s", ((Entry *)g_ptr_array_index (snap, i))->name);
  g_ptr_array_unref (snap);
  g_set_error (error, AFFECT_BACKEND_ERROR, AFFECT_BACKEND_ERROR_UNKNOWN,
      "Unknown backend \"%s\" (known: %s)", name, known->str);
  g_string_free (known, TRUE);
  g_free (file);
}

AffectBackend *
affect_backend_new_for_device (
    const gchar *name, int device_id, int n_threads, GError **error)
{
  Entry *e;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (device_id < 0) {
    g_set_error (error, AFFECT_BACKEND_ERROR,
        AFFECT_BACKEND_ERROR_NOT_AVAILABLE,
        "Invalid device %d (devices are numbered from 0)", device_id);
    return NULL;
  }
  if (name == NULL || g_ascii_strcasecmp (name, "auto") == 0)
    return create_auto (device_id, n_threads, error);

  registry_init ();
  g_mutex_lock (&reg_lock);
  e = find_entry_locked (name);
  g_mutex_unlock (&reg_lock);
  if (e == NULL) {
    set_missing_error (name, error);
    return NULL;
  }
  return create_on (e, device_id, n_threads, error);
}

/* ---- listings ---------------------------------------------------------- */

static void
backend_info_free (gpointer data)
{
  AffectBackendInfo *info = data;

  g_free (info->name);
  g_free (info->description);
  g_free (info->reason);
  g_strfreev (info->devices);
  g_free (info->module);
  g_free (info);
}

GPtrArray *
affect_backend_list (void)
{
  GPtrArray *snap = snapshot_entries ();
  GPtrArray *list = g_ptr_array_new_with_free_func (backend_info_free);
  guint i, j;

  for (i = 0; i < snap->len; i++) {
    Entry *e = g_ptr_array_index (snap, i);
    AffectBackendInfo *info = g_new0 (AffectBackendInfo, 1);

    probe_entry (e);
    info->name = g_strdup (e->name);
    info->description = g_strdup (e->description);
    info->priority = e->priority;
    info->available = e->available;
    info->reason = g_strdup (e->reason);
    info->devices = g_new0 (gchar *, e->devices->len + 1);
    for (j = 0; j < e->devices->len; j++)
      info->devices[j] = g_strdup (g_ptr_array_index (e->devices, j));
    info->module = g_strdup (e->module);
    g_ptr_array_add (list, info);
  }
  g_ptr_array_unref (snap);
  return list;
}

static void
module_info_free (gpointer data)
{
  AffectBackendModuleInfo *info = data;

  g_free (info->path);
  g_free (info->reason);
  g_free (info);
}

GPtrArray *
affect_backend_list_modules (void)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (module_info_free);
  guint i;

  registry_init ();
  g_mutex_lock (&reg_lock);
  for (i = 0; modules != NULL && i < modules->len; i++) {
    ModuleRecord *m = g_ptr_array_index (modules, i);
    AffectBackendModuleInfo *info = g_new0 (AffectBackendModuleInfo, 1);

    info->path = g_strdup (m->path);
    info->loaded = m->loaded;
    info->reason = g_strdup (m->reason);
    g_ptr_array_add (list, info);
  }
  g_mutex_unlock (&reg_lock);
  return list;
}
