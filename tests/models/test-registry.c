/* gst-affect — tests/models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The backend registry (affect-backend.h, affect-registry.c) with real
 * loadable modules (backend-test-module.c, built four ways):
 *
 *   test-models-registry MODULE_DIR
 *
 * main() writes a file named libaffect-backend-broken.so that is not an ELF
 * file into a temporary folder and sets AFFECT_BACKEND_PATH to
 *   <tmp>/does-not-exist : <tmp> : MODULE_DIR : MODULE_DIR
 * before anything uses the registry, so the first use (in each forked test,
 * or once with CK_FORK=no) loads the modules from there. This executable
 * links the engine statically and exports it (export_dynamic): the test
 * module resolves affect_backend_register() and
 * affect_backend_new_internal() against it.
 */

#include <check.h>
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include <affect-backend.h>

static gchar *module_dir;
static gchar *tmp_dir;

/* ---- log capture -------------------------------------------------------
 * Every message of the registry's domain is kept; the test checks that a
 * skipped module gives exactly one debug line and nothing louder. */

static GMutex log_lock;
static GPtrArray *registry_debug;
static int registry_loud; /* info and above from the registry */

static void
capture_log (const gchar *domain, GLogLevelFlags level, const gchar *message,
    gpointer data)
{
  if (g_strcmp0 (domain, "affect-registry") == 0) {
    g_mutex_lock (&log_lock);
    if (level & G_LOG_LEVEL_DEBUG)
      g_ptr_array_add (registry_debug, g_strdup (message));
    else
      registry_loud++;
    g_mutex_unlock (&log_lock);
    if (level & G_LOG_LEVEL_DEBUG)
      return;
  }
  g_log_default_handler (domain, level, message, data);
}

static guint
count_debug_lines (const gchar *needle)
{
  guint i, n = 0;

  g_mutex_lock (&log_lock);
  for (i = 0; i < registry_debug->len; i++)
    n += strstr (g_ptr_array_index (registry_debug, i), needle) != NULL;
  g_mutex_unlock (&log_lock);
  return n;
}

/* ---- helpers ----------------------------------------------------------- */

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

static AffectBackendModuleInfo *
find_module (GPtrArray *list, const gchar *basename)
{
  guint i;

  for (i = 0; i < list->len; i++) {
    AffectBackendModuleInfo *m = g_ptr_array_index (list, i);
    gchar *base = g_path_get_basename (m->path);
    gboolean match = strcmp (base, basename) == 0;

    g_free (base);
    if (match)
      return m;
  }
  return NULL;
}

static float *
random_floats (GRand *rng, gsize n, double lo, double hi)
{
  float *v = g_new (float, n);
  gsize i;

  for (i = 0; i < n; i++)
    v[i] = (float)g_rand_double_range (rng, lo, hi);
  return v;
}

static AffectTensor *
tensor_from (AffectBackend *be, int n, int h, int w, int c, const float *v)
{
  AffectTensor *t = affect_tensor_new (be, n, h, w, c);

  ck_assert_ptr_nonnull (t);
  affect_tensor_upload (t, v);
  return t;
}

static float *
download (const AffectTensor *t)
{
  float *v = g_new (float, affect_tensor_n_elements (t));

  affect_tensor_download (t, v);
  return v;
}

static void
assert_close (const float *a, const float *b, gsize n, const gchar *what)
{
  gsize i;

  for (i = 0; i < n; i++)
    ck_assert_msg (fabsf (a[i] - b[i]) <= 1e-6f * (1.0f + fabsf (b[i])),
        "%s: element %" G_GSIZE_FORMAT ": test backend %.9g, cpu %.9g", what, i,
        a[i], b[i]);
}

static AffectBackend *
new_backend (const gchar *name, int device)
{
  GError *err = NULL;
  AffectBackend *be = affect_backend_new_for_device (name, device, 1, &err);

  ck_assert_msg (be != NULL, "backend %s device %d: %s", name, device,
      err ? err->message : "?");
  return be;
}

static void
assert_error (GError **err, AffectBackendError code, const gchar *needle)
{
  ck_assert_ptr_nonnull (*err);
  ck_assert_msg (g_error_matches (*err, AFFECT_BACKEND_ERROR, code),
      "error '%s' has code %d, expected %d", (*err)->message, (*err)->code,
      code);
  ck_assert_msg (strstr ((*err)->message, needle) != NULL,
      "error '%s' does not mention '%s'", (*err)->message, needle);
}

/* ---- tests ------------------------------------------------------------- */

START_TEST (test_list)
{
  GPtrArray *list = affect_backend_list ();
  AffectBackendInfo *cpu, *test;
  gchar **dirs = affect_backend_get_module_dirs ();
  gchar *missing = g_build_filename (tmp_dir, "does-not-exist", NULL);
  gchar *module;
  guint i;

  cpu = find_backend (list, "cpu");
  ck_assert_ptr_nonnull (cpu);
  ck_assert (cpu->available);
  ck_assert_ptr_null (cpu->reason);
  ck_assert_ptr_null (cpu->module);
  ck_assert_int_eq (cpu->priority, 0);
  ck_assert_uint_eq (g_strv_length (cpu->devices), 1);
  ck_assert_msg (strstr (cpu->devices[0], "core") != NULL, "cpu device '%s'",
      cpu->devices[0]);

  test = find_backend (list, "test");
  ck_assert_ptr_nonnull (test);
  ck_assert (test->available);
  ck_assert_int_eq (test->priority, -100);
  ck_assert_uint_eq (g_strv_length (test->devices), 2);
  ck_assert_ptr_nonnull (strstr (test->devices[1], "add only"));
  module = g_build_filename (module_dir, "libaffect-backend-test.so", NULL);
  ck_assert_str_eq (test->module, module);
  g_free (module);

  /* The modules that failed left nothing behind. */
  ck_assert_ptr_null (find_backend (list, "initfail"));
  ck_assert_ptr_null (find_backend (list, "undefined"));
  ck_assert_ptr_null (find_backend (list, "wrongabi"));
  ck_assert_ptr_null (find_backend (list, "broken"));

  /* Highest priority first. */
  for (i = 1; i < list->len; i++)
    ck_assert_int_ge (
        ((AffectBackendInfo *)g_ptr_array_index (list, i - 1))->priority,
        ((AffectBackendInfo *)g_ptr_array_index (list, i))->priority);

  /* The folders: the variable's, in order, then the installed one. */
  ck_assert_uint_eq (g_strv_length (dirs), 5);
  ck_assert_str_eq (dirs[0], missing);
  ck_assert_str_eq (dirs[1], tmp_dir);
  ck_assert_str_eq (dirs[2], module_dir);
  ck_assert_str_eq (dirs[3], module_dir);
  ck_assert_ptr_nonnull (strstr (dirs[4], "gst-affect"));

  g_free (missing);
  g_strfreev (dirs);
  g_ptr_array_unref (list);
}

END_TEST;

START_TEST (test_skipped_modules)
{
  GPtrArray *mods = affect_backend_list_modules ();
  AffectBackendModuleInfo *m;
  GError *err = NULL;
  guint i, n_ours = 0;
  const gchar *skipped[]
      = { "libaffect-backend-broken.so", "libaffect-backend-wrongabi.so",
          "libaffect-backend-undefined.so", "libaffect-backend-initfail.so" };

  /* Each file once, although MODULE_DIR is listed twice. */
  for (i = 0; i < mods->len; i++) {
    m = g_ptr_array_index (mods, i);
    n_ours += g_str_has_prefix (m->path, tmp_dir)
              || g_str_has_prefix (m->path, module_dir);
  }
  ck_assert_uint_eq (n_ours, 5);

  m = find_module (mods, "libaffect-backend-test.so");
  ck_assert_ptr_nonnull (m);
  ck_assert (m->loaded);
  ck_assert_ptr_null (m->reason);

  m = find_module (mods, "libaffect-backend-broken.so");
  ck_assert_ptr_nonnull (m);
  ck_assert (!m->loaded);
  ck_assert (m->reason != NULL && *m->reason != '\0');

  m = find_module (mods, "libaffect-backend-wrongabi.so");
  ck_assert_ptr_nonnull (m);
  ck_assert (!m->loaded);
  ck_assert_msg (
      strstr (m->reason, "ABI version 1001") != NULL, "reason: %s", m->reason);

  m = find_module (mods, "libaffect-backend-undefined.so");
  ck_assert_ptr_nonnull (m);
  ck_assert (!m->loaded);
  ck_assert_msg (
      strstr (m->reason, "affect_test_module_missing_symbol") != NULL,
      "reason: %s", m->reason);

  m = find_module (mods, "libaffect-backend-initfail.so");
  ck_assert_ptr_nonnull (m);
  ck_assert (!m->loaded);
  ck_assert_msg (
      strstr (m->reason, "always fails") != NULL, "reason: %s", m->reason);

  /* One debug line per skipped module, naming the file, and nothing
   * louder. */
  for (i = 0; i < G_N_ELEMENTS (skipped); i++)
    ck_assert_msg (count_debug_lines (skipped[i]) == 1,
        "%u debug lines about %s", count_debug_lines (skipped[i]), skipped[i]);
  ck_assert_int_eq (registry_loud, 0);

  /* Asking for one by its name says why it is not there. */
  ck_assert_ptr_null (affect_backend_new ("initfail", 1, &err));
  assert_error (&err, AFFECT_BACKEND_ERROR_NOT_AVAILABLE,
      "libaffect-backend-initfail.so");
  ck_assert_ptr_nonnull (strstr (err->message, "always fails"));
  g_clear_error (&err);
  ck_assert_ptr_null (affect_backend_new ("broken", 1, &err));
  assert_error (
      &err, AFFECT_BACKEND_ERROR_NOT_AVAILABLE, "libaffect-backend-broken.so");
  g_clear_error (&err);

  g_ptr_array_unref (mods);
}

END_TEST;

/* The test module's ops give the CPU backend's results. */
START_TEST (test_module_ops)
{
  AffectBackend *tb = new_backend ("test", 0), *cb = new_backend ("cpu", 0);
  GRand *rng = g_rand_new_with_seed (7);
  const gsize n = 2 * 3 * 5 * 7;
  float *va = random_floats (rng, n, -8, 8),
        *vb = random_floats (rng, n, -8, 8);
  const AffectActivation acts[]
      = { AFFECT_ACT_RELU, AFFECT_ACT_RELU6, AFFECT_ACT_LEAKY };
  AffectTensor *ta, *tb_, *ca, *cb_, *ty, *cy;
  float *got, *want;
  guint i;

  ck_assert_str_eq (affect_backend_get_name (tb), "test");
  ck_assert_int_eq (affect_backend_get_n_threads (tb), 1);
  ck_assert (affect_backend_supports_op (tb, AFFECT_OP_SOFTMAX));
  ck_assert (!affect_backend_supports_op (tb, AFFECT_OP_CONV));
  ck_assert (!affect_backend_supports_op (tb, AFFECT_OP_LINEAR));

  ta = tensor_from (tb, 2, 3, 5, 7, va);
  tb_ = tensor_from (tb, 2, 3, 5, 7, vb);
  ca = tensor_from (cb, 2, 3, 5, 7, va);
  cb_ = tensor_from (cb, 2, 3, 5, 7, vb);
  ck_assert_ptr_eq (ta->backend, tb);
  ck_assert_ptr_nonnull (affect_tensor_host_data (ta));

  /* add */
  ty = affect_add (ta, tb_);
  cy = affect_add (ca, cb_);
  ck_assert_ptr_nonnull (ty);
  ck_assert_ptr_eq (ty->backend, tb);
  got = download (ty);
  want = download (cy);
  assert_close (got, want, n, "add");
  for (i = 0; i < n; i++)
    ck_assert_float_eq (got[i], va[i] + vb[i]);
  g_free (got);
  g_free (want);

  /* activations, sigmoid, tanh, each on a fresh copy */
  for (i = 0; i < G_N_ELEMENTS (acts) + 2; i++) {
    AffectTensor *t = tensor_from (tb, 2, 3, 5, 7, va);
    AffectTensor *c = tensor_from (cb, 2, 3, 5, 7, va);

    if (i < G_N_ELEMENTS (acts)) {
      affect_activate_inplace (t, acts[i]);
      affect_activate_inplace (c, acts[i]);
    } else if (i == G_N_ELEMENTS (acts)) {
      affect_sigmoid_inplace (t);
      affect_sigmoid_inplace (c);
    } else {
      affect_tanh_inplace (t);
      affect_tanh_inplace (c);
    }
    got = download (t);
    want = download (c);
    assert_close (got, want, n, "unary");
    g_free (got);
    g_free (want);
    affect_tensor_free (t);
    affect_tensor_free (c);
  }

  /* softmax over the last dimension: rows sum to 1 and match cpu */
  affect_softmax_inplace (ty);
  affect_softmax_inplace (cy);
  got = download (ty);
  want = download (cy);
  assert_close (got, want, n, "softmax");
  for (i = 0; i < n / 7; i++) {
    double sum = 0;
    int k;
    for (k = 0; k < 7; k++)
      sum += got[i * 7 + k];
    ck_assert_double_eq_tol (sum, 1.0, 1e-5);
  }
  g_free (got);
  g_free (want);

  affect_tensor_free (ta);
  affect_tensor_free (tb_);
  affect_tensor_free (ca);
  affect_tensor_free (cb_);
  affect_tensor_free (ty);
  affect_tensor_free (cy);
  g_free (va);
  g_free (vb);
  g_rand_free (rng);
  affect_backend_unref (tb);
  affect_backend_unref (cb);
}

END_TEST;

START_TEST (test_devices)
{
  AffectBackend *be;
  GError *err = NULL;
  float a[3] = { 1, 2, 3 }, b[3] = { 10, 20, 30 }, y[3];
  AffectTensor *ta, *tb, *ty;

  /* Device 1 of the test module only adds: the device id reached it. */
  be = new_backend ("test", 1);
  ck_assert_str_eq (affect_backend_get_name (be), "test");
  ck_assert (affect_backend_supports_op (be, AFFECT_OP_ADD));
  ck_assert (!affect_backend_supports_op (be, AFFECT_OP_SOFTMAX));
  ta = tensor_from (be, 1, 1, 1, 3, a);
  tb = tensor_from (be, 1, 1, 1, 3, b);
  ty = affect_add (ta, tb);
  affect_tensor_download (ty, y);
  ck_assert_float_eq (y[0], 11);
  ck_assert_float_eq (y[1], 22);
  ck_assert_float_eq (y[2], 33);
  affect_tensor_free (ta);
  affect_tensor_free (tb);
  affect_tensor_free (ty);
  affect_backend_unref (be);

  ck_assert_ptr_null (affect_backend_new_for_device ("test", 2, 1, &err));
  assert_error (&err, AFFECT_BACKEND_ERROR_NOT_AVAILABLE, "no device 2");
  g_clear_error (&err);
  ck_assert_ptr_null (affect_backend_new_for_device ("cpu", 1, 1, &err));
  assert_error (&err, AFFECT_BACKEND_ERROR_NOT_AVAILABLE, "no device 1");
  g_clear_error (&err);
  ck_assert_ptr_null (affect_backend_new_for_device ("cpu", -1, 1, &err));
  assert_error (&err, AFFECT_BACKEND_ERROR_NOT_AVAILABLE, "-1");
  g_clear_error (&err);

  /* "auto" on device 1: the best backend that has one (only the test
   * module here, unless an installed module has more). */
  be = affect_backend_new_for_device ("auto", 1, 1, &err);
  ck_assert_msg (be != NULL, "%s", err ? err->message : "");
  ck_assert_str_ne (affect_backend_get_name (be), "cpu");
  affect_backend_unref (be);
}

END_TEST;

/* The device id a backend was created on, and the run-time failure record
 * (affect_backend_set_error / _take_error): the first failure is kept until
 * taken, taking clears it. */
START_TEST (test_device_id_and_failures)
{
  AffectBackend *be;
  GError *err = NULL;

  be = affect_backend_new_for_device ("test", 1, 1, &err);
  ck_assert_msg (be != NULL, "%s", err ? err->message : "");
  ck_assert_int_eq (affect_backend_get_device_id (be), 1);

  ck_assert (affect_backend_take_error (be, &err));
  ck_assert_ptr_null (err);
  affect_backend_set_error (be, "test device %d: %s failed", 1, "conv");
  affect_backend_set_error (be, "a later failure");
  ck_assert (!affect_backend_take_error (be, &err));
  assert_error (
      &err, AFFECT_BACKEND_ERROR_FAILED, "test device 1: conv failed");
  ck_assert_ptr_null (strstr (err->message, "later"));
  g_clear_error (&err);
  /* taken: clear, and a NULL GError is allowed */
  ck_assert (affect_backend_take_error (be, NULL));
  affect_backend_set_error (be, "again");
  ck_assert (!affect_backend_take_error (be, NULL));
  ck_assert (affect_backend_take_error (be, NULL));
  affect_backend_unref (be);

  be = affect_backend_new ("cpu", 1, &err);
  ck_assert_ptr_nonnull (be);
  ck_assert_int_eq (affect_backend_get_device_id (be), 0);
  affect_backend_unref (be);
}

END_TEST;

START_TEST (test_auto)
{
  GPtrArray *list = affect_backend_list ();
  const gchar *best = NULL;
  gboolean only_ours = TRUE;
  AffectBackend *be;
  GError *err = NULL;
  guint i;

  for (i = 0; i < list->len; i++) {
    AffectBackendInfo *b = g_ptr_array_index (list, i);
    if (b->available && best == NULL)
      best = b->name;
    if (strcmp (b->name, "cpu") != 0 && strcmp (b->name, "test") != 0)
      only_ours = FALSE;
  }
  ck_assert_ptr_nonnull (best);

  be = affect_backend_new (NULL, 1, &err);
  ck_assert_ptr_nonnull (be);
  ck_assert_str_eq (affect_backend_get_name (be), best);
  /* The test module's priority is below cpu's. */
  ck_assert_str_ne (affect_backend_get_name (be), "test");
  if (only_ours)
    ck_assert_str_eq (affect_backend_get_name (be), "cpu");
  affect_backend_unref (be);

  be = affect_backend_new ("AUTO", 1, &err);
  ck_assert_ptr_nonnull (be);
  ck_assert_str_eq (affect_backend_get_name (be), best);
  affect_backend_unref (be);

  /* Names are compared without case. */
  be = affect_backend_new ("Test", 1, &err);
  ck_assert_ptr_nonnull (be);
  ck_assert_str_eq (affect_backend_get_name (be), "test");
  affect_backend_unref (be);

  g_ptr_array_unref (list);
}

END_TEST;

START_TEST (test_unknown)
{
  GPtrArray *list = affect_backend_list ();
  GError *err = NULL;

  ck_assert_ptr_null (affect_backend_new ("tpu", 1, &err));
  assert_error (&err, AFFECT_BACKEND_ERROR_UNKNOWN, "\"tpu\"");
  ck_assert_ptr_nonnull (strstr (err->message, "auto"));
  ck_assert_ptr_nonnull (strstr (err->message, "cpu"));
  ck_assert_ptr_nonnull (strstr (err->message, "test"));
  g_clear_error (&err);

  /* An optional backend without its module: not available, naming the
   * module it needs and where it was looked for. */
  if (find_backend (list, "cuda") == NULL) {
    ck_assert_ptr_null (affect_backend_new ("cuda", 1, &err));
    assert_error (
        &err, AFFECT_BACKEND_ERROR_NOT_AVAILABLE, "libaffect-backend-cuda.so");
    ck_assert_ptr_nonnull (strstr (err->message, module_dir));
    g_clear_error (&err);
  }
  g_ptr_array_unref (list);
}

END_TEST;

/* Registration from the process itself: refusals, and a backend whose
 * probe fails. */
static gboolean
failing_probe (GPtrArray *devices, GError **error)
{
  g_set_error (error, AFFECT_BACKEND_ERROR, AFFECT_BACKEND_ERROR_NOT_AVAILABLE,
      "no inproc device in this machine");
  return FALSE;
}

static AffectBackend *
never_create (int device_id, int n_threads, GError **error)
{
  ck_abort_msg ("create called although the probe failed");
  return NULL;
}

START_TEST (test_register)
{
  const AffectBackendDesc inproc
      = { "inproc", NULL, -200, failing_probe, never_create };
  AffectBackendDesc bad = inproc;
  GPtrArray *list;
  AffectBackendInfo *b;
  GError *err = NULL;

  list = affect_backend_list (); /* the first use, if not done yet */
  g_ptr_array_unref (list);

  ck_assert (!affect_backend_register (NULL));
  bad.name = "cpu";
  ck_assert (!affect_backend_register (&bad));
  bad.name = "TEST";
  ck_assert (!affect_backend_register (&bad));
  bad.name = "auto";
  ck_assert (!affect_backend_register (&bad));
  bad.name = "two words";
  ck_assert (!affect_backend_register (&bad));
  bad.name = "noprobe";
  bad.probe = NULL;
  ck_assert (!affect_backend_register (&bad));

  ck_assert (affect_backend_register (&inproc));
  list = affect_backend_list ();
  b = find_backend (list, "inproc");
  ck_assert_ptr_nonnull (b);
  ck_assert (!b->available);
  ck_assert_str_eq (b->reason, "no inproc device in this machine");
  ck_assert_uint_eq (g_strv_length (b->devices), 0);
  ck_assert_ptr_null (find_backend (list, "noprobe"));
  /* Still last: lowest priority. */
  ck_assert_ptr_eq (g_ptr_array_index (list, list->len - 1), b);
  g_ptr_array_unref (list);

  ck_assert_ptr_null (affect_backend_new ("inproc", 1, &err));
  assert_error (
      &err, AFFECT_BACKEND_ERROR_NOT_AVAILABLE, "no inproc device in this");
  g_clear_error (&err);
}

END_TEST;

/* Several threads make the first use at once (in a forked test) or later:
 * all get a backend, the same one. */
static gpointer
make_auto (gpointer data)
{
  AffectBackend *be = affect_backend_new ("auto", 1, NULL);
  gchar *name = g_strdup (be ? affect_backend_get_name (be) : "(null)");
  GPtrArray *list = affect_backend_list ();

  if (find_backend (list, "test") == NULL) {
    g_free (name);
    name = g_strdup ("(no test backend listed)");
  }
  g_ptr_array_unref (list);
  affect_backend_unref (be);
  return name;
}

START_TEST (test_threads)
{
  GThread *threads[4];
  gchar *names[4];
  guint i;

  for (i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("registry", make_auto, NULL);
  for (i = 0; i < G_N_ELEMENTS (threads); i++)
    names[i] = g_thread_join (threads[i]);
  for (i = 1; i < G_N_ELEMENTS (threads); i++)
    ck_assert_str_eq (names[i], names[0]);
  ck_assert_str_ne (names[0], "(null)");
  for (i = 0; i < G_N_ELEMENTS (threads); i++)
    g_free (names[i]);
  /* The modules were loaded once. */
  ck_assert_uint_eq (count_debug_lines ("libaffect-backend-broken.so"), 1);
}

END_TEST;

static Suite *
registry_suite (void)
{
  Suite *s = suite_create ("models-registry");
  TCase *tc = tcase_create ("registry");

  /* First, so that with CK_FORK=no the threads race for the first use. */
  tcase_add_test (tc, test_threads);
  tcase_add_test (tc, test_list);
  tcase_add_test (tc, test_skipped_modules);
  tcase_add_test (tc, test_module_ops);
  tcase_add_test (tc, test_devices);
  tcase_add_test (tc, test_device_id_and_failures);
  tcase_add_test (tc, test_auto);
  tcase_add_test (tc, test_unknown);
  tcase_add_test (tc, test_register);
  suite_add_tcase (s, tc);
  return s;
}

int
main (int argc, char **argv)
{
  Suite *s;
  SRunner *sr;
  gchar *broken, *missing, *path;
  int failed;

  if (argc != 2) {
    g_printerr ("usage: %s MODULE_DIR\n", argv[0]);
    return 2;
  }
  module_dir = g_canonicalize_filename (argv[1], NULL);
  registry_debug = g_ptr_array_new_with_free_func (g_free);
  g_log_set_default_handler (capture_log, NULL);

  tmp_dir = g_dir_make_tmp ("affect-registry-XXXXXX", NULL);
  g_assert (tmp_dir != NULL);
  broken = g_build_filename (tmp_dir, "libaffect-backend-broken.so", NULL);
  g_assert (
      g_file_set_contents (broken, "this is not an ELF file\n", -1, NULL));
  missing = g_build_filename (tmp_dir, "does-not-exist", NULL);
  path = g_strjoin (
      G_SEARCHPATH_SEPARATOR_S, missing, tmp_dir, module_dir, module_dir, NULL);
  g_setenv ("AFFECT_BACKEND_PATH", path, TRUE);

  s = registry_suite ();
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);

  g_unlink (broken);
  g_rmdir (tmp_dir);
  g_free (broken);
  g_free (missing);
  g_free (path);
  g_free (tmp_dir);
  g_free (module_dir);
  g_ptr_array_unref (registry_debug);
  return failed == 0 ? 0 : 1;
}
