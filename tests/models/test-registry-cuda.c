/* gst-affect — tests/models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The real CUDA module (cuda/, libaffect-backend-cuda.so) in the registry:
 *
 *   test-models-registry-cuda CUDA_MODULE_DIR
 *
 * main() sets AFFECT_BACKEND_PATH to the build folder of the module before
 * anything uses the registry. The module must load everywhere (the CUDA
 * runtime is linked statically, cuBLAS opened at probe time). Without a
 * usable device (CI) it must decline cleanly: listed with a reason, no
 * devices, "auto" gives cpu, "cuda" gives NOT_AVAILABLE with the reason,
 * and exactly one info line from the module, nothing louder. With a device
 * (the GPU check bundle, tests/gpu/) "auto" must give cuda and a tensor
 * must survive an upload and a download.
 */

#include <check.h>
#include <stdio.h>
#include <string.h>

#include <affect-backend.h>

#define CUDA_MODULE "libaffect-backend-cuda.so"

static gchar *module_dir;

/* ---- log capture: the module's domain and the registry's --------------- */

static GMutex log_lock;
static GPtrArray *cuda_info; /* info lines of affect-cuda */
static int loud;             /* messages, warnings, criticals of either */

static void
capture_log (const gchar *domain, GLogLevelFlags level, const gchar *message,
    gpointer data)
{
  g_mutex_lock (&log_lock);
  if (level
      & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING
          | G_LOG_LEVEL_MESSAGE))
    loud++;
  else if ((level & G_LOG_LEVEL_INFO) && g_strcmp0 (domain, "affect-cuda") == 0)
    g_ptr_array_add (cuda_info, g_strdup (message));
  g_mutex_unlock (&log_lock);
  if (level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO))
    return;
  g_log_default_handler (domain, level, message, data);
}

static AffectBackendInfo *
find_backend (GPtrArray *list, const gchar *name)
{
  guint i;

  for (i = 0; i < list->len; i++) {
    AffectBackendInfo *b = g_ptr_array_index (list, i);
    if (strcmp (b->name, name) == 0)
      return b;
  }
  return NULL;
}

/* ---- tests ------------------------------------------------------------- */

/* The module loads (no libcuda, no cuBLAS needed to load it) and registers
 * "cuda" with its file. */
START_TEST (test_cuda_module_loads)
{
  GPtrArray *mods = affect_backend_list_modules ();
  GPtrArray *list = affect_backend_list ();
  AffectBackendInfo *cuda;
  gboolean found = FALSE;
  guint i;

  for (i = 0; i < mods->len; i++) {
    AffectBackendModuleInfo *m = g_ptr_array_index (mods, i);
    gchar *base = g_path_get_basename (m->path);

    if (strcmp (base, CUDA_MODULE) == 0) {
      found = TRUE;
      ck_assert_msg (m->loaded, "%s was skipped: %s", m->path, m->reason);
      ck_assert_ptr_null (m->reason);
    }
    g_free (base);
  }
  ck_assert_msg (found, "%s not found in %s", CUDA_MODULE, module_dir);

  cuda = find_backend (list, "cuda");
  ck_assert_ptr_nonnull (cuda);
  ck_assert_ptr_nonnull (cuda->module);
  ck_assert (g_str_has_suffix (cuda->module, CUDA_MODULE));
  ck_assert_int_eq (cuda->priority, 100);
  ck_assert_ptr_nonnull (find_backend (list, "cpu"));
  g_ptr_array_unref (list);
  g_ptr_array_unref (mods);
}
END_TEST

/* Without a device: declined with one clear line; with one: used. */
START_TEST (test_cuda_auto)
{
  GPtrArray *list = affect_backend_list ();
  AffectBackendInfo *cuda = find_backend (list, "cuda");
  AffectBackend *be;
  GError *error = NULL;

  ck_assert_ptr_nonnull (cuda);
  be = affect_backend_new ("auto", 1, &error);
  ck_assert_ptr_nonnull (be);
  ck_assert_ptr_null (error);

  if (!cuda->available) {
    printf ("no usable CUDA device here: %s\n", cuda->reason);
    ck_assert_ptr_nonnull (cuda->reason);
    ck_assert_msg (strstr (cuda->reason, "CUDA") != NULL
                       || strstr (cuda->reason, "cuBLAS") != NULL,
        "unclear reason: %s", cuda->reason);
    ck_assert_ptr_null (cuda->devices[0]);
    ck_assert_str_eq (affect_backend_get_name (be), "cpu");

    /* Asking for it by name says why. */
    ck_assert_ptr_null (affect_backend_new ("cuda", 1, &error));
    ck_assert_ptr_nonnull (error);
    ck_assert (g_error_matches (
        error, AFFECT_BACKEND_ERROR, AFFECT_BACKEND_ERROR_NOT_AVAILABLE));
    ck_assert_msg (strstr (error->message, cuda->reason) != NULL,
        "\"%s\" does not give the reason \"%s\"", error->message, cuda->reason);
    g_clear_error (&error);

    /* One info line from the module (the probe ran once), nothing louder. */
    g_mutex_lock (&log_lock);
    ck_assert_uint_eq (cuda_info->len, 1);
    ck_assert_msg (
        strstr (g_ptr_array_index (cuda_info, 0), cuda->reason) != NULL
            && strstr (g_ptr_array_index (cuda_info, 0), "cpu") != NULL,
        "unclear line: %s", (gchar *)g_ptr_array_index (cuda_info, 0));
    ck_assert_int_eq (loud, 0);
    g_mutex_unlock (&log_lock);
  } else {
    AffectTensor *t;
    float in[37], out[37];
    int i;

    printf ("CUDA device 0: %s\n", cuda->devices[0]);
    ck_assert_ptr_nonnull (cuda->devices[0]);
    ck_assert_str_eq (affect_backend_get_name (be), "cuda");
    for (i = 0; i < 37; i++)
      in[i] = i * 0.5f - 3.0f;
    t = affect_tensor_new (be, 1, 1, 1, 37);
    ck_assert_ptr_nonnull (t);
    ck_assert_ptr_null (affect_tensor_host_data (t));
    affect_tensor_upload (t, in);
    memset (out, 0, sizeof (out));
    affect_tensor_download (t, out);
    ck_assert_mem_eq (in, out, sizeof (in));
    affect_tensor_free (t);
    g_mutex_lock (&log_lock);
    ck_assert_uint_eq (cuda_info->len, 0);
    ck_assert_int_eq (loud, 0);
    g_mutex_unlock (&log_lock);
  }
  affect_backend_unref (be);
  g_ptr_array_unref (list);
}
END_TEST

static Suite *
registry_cuda_suite (void)
{
  Suite *s = suite_create ("registry-cuda");
  TCase *tc = tcase_create ("cuda");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_cuda_module_loads);
  tcase_add_test (tc, test_cuda_auto);
  suite_add_tcase (s, tc);
  return s;
}

int
main (int argc, char **argv)
{
  SRunner *sr;
  int failed;

  if (argc < 2) {
    g_printerr ("usage: %s CUDA_MODULE_DIR\n", argv[0]);
    return 2;
  }
  module_dir = argv[1];
  g_setenv ("AFFECT_BACKEND_PATH", module_dir, TRUE);
  cuda_info = g_ptr_array_new_with_free_func (g_free);
  g_log_set_default_handler (capture_log, NULL);

  sr = srunner_create (registry_cuda_suite ());
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  g_ptr_array_unref (cuda_info);
  return failed == 0 ? 0 : 1;
}
