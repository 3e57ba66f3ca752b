/* gst-affect — tests/models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A backend module loaded by the engine inside the plugin:
 *
 *   test-models-registry-plugin PLUGIN.so MODULE_DIR
 *
 * GStreamer opens plugins with local symbols (G_MODULE_BIND_LOCAL), so the
 * engine linked into libgstaffect.so is not in the global scope, where a
 * module's references to it are resolved. This program opens the plugin
 * the same way (it links no engine of its own, nor GStreamer: it only calls
 * the engine functions the plugin exports) and checks that the registry
 * inside the plugin loads the test module from AFFECT_BACKEND_PATH and
 * runs an op on it.
 */

#include <check.h>
#include <dlfcn.h>
#include <string.h>

#include <affect-tensor.h>

static const gchar *plugin_path;
static const gchar *module_dir;

/* The engine functions, from the plugin. */
static struct {
  AffectBackend *(*backend_new) (const gchar *, int, GError **);
  const gchar *(*get_name) (AffectBackend *);
  void (*unref) (AffectBackend *);
  GPtrArray *(*list_modules) (void);
  AffectTensor *(*tensor_new) (AffectBackend *, int, int, int, int);
  void (*upload) (AffectTensor *, const float *);
  void (*download) (const AffectTensor *, float *);
  AffectTensor *(*add) (const AffectTensor *, const AffectTensor *);
  void (*tensor_free) (AffectTensor *);
} api;

static gpointer
sym (void *handle, const gchar *name)
{
  gpointer p = dlsym (handle, name);

  ck_assert_msg (p != NULL, "the plugin does not export %s", name);
  return p;
}

START_TEST (test_module_in_plugin)
{
  void *plugin = dlopen (plugin_path, RTLD_LOCAL | RTLD_NOW);
  AffectBackend *be;
  AffectTensor *a, *b, *y;
  GPtrArray *mods;
  GError *err = NULL;
  const float va[4] = { 1, -2, 3.5f, 0 }, vb[4] = { 0.5f, 2, -1, 7 };
  float vy[4];
  guint i, n_loaded = 0;
  int k;

  ck_assert_msg (plugin != NULL, "dlopen %s: %s", plugin_path, dlerror ());
  /* Nothing of the engine is visible globally before the registry runs. */
  ck_assert_ptr_null (dlsym (RTLD_DEFAULT, "affect_backend_register"));

  *(gpointer *)&api.backend_new = sym (plugin, "affect_backend_new");
  *(gpointer *)&api.get_name = sym (plugin, "affect_backend_get_name");
  *(gpointer *)&api.unref = sym (plugin, "affect_backend_unref");
  *(gpointer *)&api.list_modules = sym (plugin, "affect_backend_list_modules");
  *(gpointer *)&api.tensor_new = sym (plugin, "affect_tensor_new");
  *(gpointer *)&api.upload = sym (plugin, "affect_tensor_upload");
  *(gpointer *)&api.download = sym (plugin, "affect_tensor_download");
  *(gpointer *)&api.add = sym (plugin, "affect_add");
  *(gpointer *)&api.tensor_free = sym (plugin, "affect_tensor_free");

  be = api.backend_new ("test", 1, &err);
  ck_assert_msg (be != NULL, "no test backend through the plugin: %s",
      err ? err->message : "?");
  ck_assert_str_eq (api.get_name (be), "test");

  mods = api.list_modules ();
  for (i = 0; i < mods->len; i++) {
    AffectBackendModuleInfo *m = g_ptr_array_index (mods, i);
    if (g_str_has_suffix (m->path, "/libaffect-backend-test.so")) {
      ck_assert_msg (m->loaded, "%s: %s", m->path, m->reason);
      n_loaded++;
    }
  }
  ck_assert_uint_eq (n_loaded, 1);
  g_ptr_array_unref (mods);

  a = api.tensor_new (be, 1, 1, 2, 2);
  b = api.tensor_new (be, 1, 1, 2, 2);
  api.upload (a, va);
  api.upload (b, vb);
  y = api.add (a, b);
  ck_assert_ptr_nonnull (y);
  api.download (y, vy);
  for (k = 0; k < 4; k++)
    ck_assert_float_eq (vy[k], va[k] + vb[k]);
  api.tensor_free (a);
  api.tensor_free (b);
  api.tensor_free (y);
  api.unref (be);
  /* The plugin stays loaded (as GStreamer keeps plugins). */
}

END_TEST;

int
main (int argc, char **argv)
{
  Suite *s = suite_create ("models-registry-plugin");
  TCase *tc = tcase_create ("plugin");
  SRunner *sr;
  int failed;

  if (argc != 3) {
    g_printerr ("usage: %s PLUGIN.so MODULE_DIR\n", argv[0]);
    return 2;
  }
  plugin_path = argv[1];
  module_dir = argv[2];
  g_setenv ("AFFECT_BACKEND_PATH", module_dir, TRUE);

  tcase_add_test (tc, test_module_in_plugin);
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
