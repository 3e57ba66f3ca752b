/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The device side of the engine settings (elements/affect-engine-settings.h)
 * on the elements that have `backend`: `device-id`, `active-backend`, the
 * info line of backend=auto, the start errors (no GPU, a device id out of
 * range) and GPU failures at run time becoming element errors.
 *
 * One program, three runs (tests/check/meson.build), chosen by
 * $AFFECT_TEST_CUDA:
 *  - "none": no backend module (AFFECT_BACKEND_PATH empty): auto is cpu;
 *  - "real": the real CUDA module of the build folder
 *    ($AFFECT_BACKEND_PATH): without a GPU, backend=cuda fails the start
 *    saying there is no CUDA device; skipped with a message when the module
 *    was not built; on a machine with a GPU, auto must give cuda;
 *  - "emulated": the host emulation of the module (cuda/emu/) as "cuda",
 *    one device: auto gives cuda, device 1 is out of range, and the
 *    emulation's fault knobs (CK_EMU_FAIL_LAUNCH, _COPY, _ALLOC) make a
 *    kernel launch, a copy or a weights allocation fail inside facecrop's
 *    and affectfeatures' networks: the pipeline gets a stream error naming the device and the
 *    op, the buffer is not pushed, nothing crashes; CK_EMU_FAIL_ALLOC is
 *    also swept over every allocation of one frame (activations included)
 *    through facecrop, affectfeatures and affectfuse, sparsely through
 *    facecrop's SSD detector; two affectfuse instances with the same model
 *    share one loaded fusion network, and two affectfeatures with the same
 *    word-model one BERT (models/engine/affect-shared.h).
 *
 * In every run, two affectfuse instances on backend=cpu do not share their
 * fusion network (each loads one of its own).
 *
 * The tests that start facecrop or affectfeatures need the face models (the
 * suite runs with AFFECT_REQUIRE_MODELS=1). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/affect/affectmeta.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "affect-bert.h"
#include "affect-image.h"
#include "affect-modelpath.h"
#include "affect-check-sample.h"

static const gchar *const elements[]
    = { "facecrop", "affectfeatures", "affectfuse", "affecttranscribe" };

#define SMALL_CAPS "video/x-raw,format=RGB,width=96,height=72,framerate=30/1"

static const gchar *
mode (void)
{
  const gchar *m = g_getenv ("AFFECT_TEST_CUDA");

  return m != NULL ? m : "none";
}

/* Whether the face models @names are there; prints why a test is skipped
 * otherwise (fails with AFFECT_REQUIRE_MODELS=1). */

static const gchar *facecrop_models[]
    = { "tiny_face_detector_model", "face_landmark_68_model", NULL };
static const gchar *expression_model[] = { "face_expression_model", NULL };

/* ---- the info line of backend=auto ------------------------------------ */

static GMutex log_lock;
static GString *auto_lines;

static void
log_auto_line (GstDebugCategory *category, GstDebugLevel level,
    const gchar *file, const gchar *function, gint line, GObject *object,
    GstDebugMessage *message, gpointer user_data)
{
  const gchar *text;

  if (level != GST_LEVEL_INFO)
    return;
  text = gst_debug_message_get (message);
  if (text == NULL || !g_str_has_prefix (text, "auto: "))
    return;
  g_mutex_lock (&log_lock);
  g_string_append_printf (
      auto_lines, "%s|%s\n", gst_debug_category_get_name (category), text);
  g_mutex_unlock (&log_lock);
}

static void
watch_auto_lines (void)
{
  auto_lines = g_string_new (NULL);
  gst_debug_set_active (TRUE);
  gst_debug_set_threshold_for_name ("facecrop", GST_LEVEL_INFO);
  gst_debug_add_log_function (log_auto_line, NULL, NULL);
}

/* The auto lines logged so far (g_free), and forgets them. */
static gchar *
take_auto_lines (void)
{
  gchar *s;

  g_mutex_lock (&log_lock);
  s = g_strdup (auto_lines->str);
  g_string_truncate (auto_lines, 0);
  g_mutex_unlock (&log_lock);
  return s;
}

static void
unwatch_auto_lines (void)
{
  gst_debug_remove_log_function (log_auto_line);
  gst_debug_set_threshold_for_name ("facecrop", GST_LEVEL_NONE);
  g_string_free (auto_lines, TRUE);
  auto_lines = NULL;
}

/* ---- starting an element ---------------------------------------------- */

/* Takes @e to PAUSED; returns the error posted when that fails (NULL when
 * it starts), with its debug string in @debug. Leaves @e in NULL. */
static GError *
start_element (GstElement *e, gchar **debug)
{
  GstBus *bus = gst_bus_new ();
  GstStateChangeReturn ret;
  GError *err = NULL;
  GstMessage *msg;

  gst_element_set_bus (e, bus);
  ret = gst_element_set_state (e, GST_STATE_PAUSED);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  if (msg != NULL) {
    gst_message_parse_error (msg, &err, debug);
    gst_message_unref (msg);
  }
  fail_unless ((ret == GST_STATE_CHANGE_FAILURE) == (err != NULL),
      "state change %s but %s error message",
      gst_element_state_change_return_get_name (ret),
      err != NULL ? "an" : "no");
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  return err;
}

/* Starts @element with @backend and @device_id: it must fail with
 * GST_LIBRARY_ERROR_INIT, and the message must hold every string of the
 * NULL-terminated list. */
static void
expect_init_error (const gchar *element, const gchar *backend, gint device_id,
    const gchar *first_needle, ...)
{
  GstElement *e = gst_element_factory_make (element, NULL);
  const gchar *needle;
  gchar *debug = NULL;
  GError *err;
  va_list args;

  fail_unless (e != NULL);
  g_object_set (e, "backend", backend, "device-id", device_id, NULL);
  err = start_element (e, &debug);
  fail_unless (err != NULL, "%s backend=%s device-id=%d started", element,
      backend, device_id);
  GST_INFO ("%s: %s (%s)", element, err->message, debug);
  fail_unless (
      err->domain == GST_LIBRARY_ERROR && err->code == GST_LIBRARY_ERROR_INIT,
      "%s: not a LIBRARY/INIT error: %s", element, err->message);
  va_start (args, first_needle);
  for (needle = first_needle; needle != NULL;
       needle = va_arg (args, const gchar *))
    fail_unless (strstr (err->message, needle) != NULL,
        "%s: '%s' not in the message: %s", element, needle, err->message);
  va_end (args);
  g_clear_error (&err);
  g_free (debug);
  gst_object_unref (e);
}

/* Starts facecrop with @backend / @device_id; it must start; returns its
 * active-backend (g_free) and the auto lines it logged in @lines. */
static gchar *
start_facecrop (const gchar *backend, gint device_id, gchar **lines)
{
  GstElement *e = gst_element_factory_make ("facecrop", NULL);
  gchar *active = NULL, *debug = NULL;
  GError *err;

  fail_unless (e != NULL);
  g_object_set (e, "backend", backend, "device-id", device_id, NULL);
  g_object_get (e, "active-backend", &active, NULL);
  fail_unless (active == NULL, "active-backend before the start: %s", active);
  g_free (take_auto_lines ());
  err = start_element (e, &debug);
  fail_unless (err == NULL, "facecrop backend=%s device-id=%d: %s (%s)",
      backend, device_id, err ? err->message : "", debug);
  g_object_get (e, "active-backend", &active, NULL);
  *lines = take_auto_lines ();
  gst_object_unref (e);
  return active;
}

/* ---- every mode -------------------------------------------------------- */

/* device-id and active-backend: the same on every element with backend. */
GST_START_TEST (test_properties)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (elements); i++) {
    GstElement *e = gst_element_factory_make (elements[i], NULL);
    GParamSpec *p, *a;
    gint id = -1;

    fail_unless (e != NULL, "no element %s", elements[i]);
    p = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "device-id");
    fail_unless (
        p != NULL && G_IS_PARAM_SPEC_INT (p), "%s: no device-id", elements[i]);
    fail_unless_equals_int (G_PARAM_SPEC_INT (p)->default_value, 0);
    fail_unless_equals_int (G_PARAM_SPEC_INT (p)->minimum, 0);
    fail_unless_equals_int (G_PARAM_SPEC_INT (p)->maximum, G_MAXINT);
    fail_unless (p->flags & GST_PARAM_MUTABLE_READY);
    fail_unless (p->flags & G_PARAM_WRITABLE);
    fail_unless (strstr (g_param_spec_get_blurb (p), "ignored by cpu") != NULL,
        "%s: %s", elements[i], g_param_spec_get_blurb (p));
    g_object_set (e, "device-id", 3, NULL);
    g_object_get (e, "device-id", &id, NULL);
    fail_unless_equals_int (id, 3);

    a = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "active-backend");
    fail_unless (a != NULL && G_IS_PARAM_SPEC_STRING (a),
        "%s: no active-backend", elements[i]);
    fail_unless ((a->flags & G_PARAM_WRITABLE) == 0);
    fail_unless (a->flags & G_PARAM_READABLE);
    gst_object_unref (e);
  }
}

GST_END_TEST;

/* backend=cpu ignores device-id. */
GST_START_TEST (test_cpu_ignores_device_id)
{
  gchar *active, *lines;

  if (!affect_check_have_models ("test_cpu_ignores_device_id", facecrop_models))
    return;
  active = start_facecrop ("cpu", 7, &lines);
  fail_unless_equals_string (active, "cpu");
  fail_unless_equals_string (lines, ""); /* the auto line is for auto */
  g_free (active);
  g_free (lines);
}

GST_END_TEST;

/* An unknown backend name still gives LIBRARY/INIT, with the device id. */
GST_START_TEST (test_unknown_backend)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (elements); i++)
    expect_init_error (elements[i], "no-such-backend", 2, "no-such-backend",
        "device-id 2", "Unknown backend", NULL);
}

GST_END_TEST;

/* ---- no module --------------------------------------------------------- */

GST_START_TEST (test_none_auto_is_cpu)
{
  gchar *active, *lines;

  if (!affect_check_have_models ("test_none_auto_is_cpu", facecrop_models))
    return;
  /* without a GPU backend, device-id does not matter either */
  active = start_facecrop ("auto", 3, &lines);
  fail_unless_equals_string (active, "cpu");
  /* "installed)" here; ": cuda: <why>" where a module is installed */
  fail_unless (strstr (lines, "facecrop|auto: cpu (no GPU backend") != NULL,
      "auto line: %s", lines);
  fail_unless (strchr (lines, '\n') == strrchr (lines, '\n'),
      "more than one auto line: %s", lines);
  g_free (active);
  g_free (lines);
}

GST_END_TEST;

GST_START_TEST (test_none_cuda_fails)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (elements); i++)
    expect_init_error (
        elements[i], "cuda", 0, "\"cuda\"", "not available", NULL);
}

GST_END_TEST;

/* ---- the real module --------------------------------------------------- */

/* Whether the real module is in $AFFECT_BACKEND_PATH; prints why a test is
 * skipped otherwise. */
static gboolean
have_real_module (const gchar *test)
{
  const gchar *dir = g_getenv ("AFFECT_BACKEND_PATH");
  gchar *path;
  gboolean ok;

  if (dir == NULL || *dir == '\0') {
    g_print ("SKIP %s: the CUDA module was not built (configure with "
             "-Dcuda=enabled)\n",
        test);
    return FALSE;
  }
  path = g_build_filename (dir, "libaffect-backend-cuda.so", NULL);
  ok = g_file_test (path, G_FILE_TEST_EXISTS);
  if (!ok)
    g_print ("SKIP %s: no CUDA module at %s (configure with -Dcuda=enabled "
             "and build it)\n",
        test, path);
  g_free (path);
  return ok;
}

/* Whether the registry found a CUDA device. */
static gboolean
cuda_has_device (void)
{
  GstElement *e = gst_element_factory_make ("facecrop", NULL);
  gchar *active = NULL, *debug = NULL;
  gboolean found;
  GError *err;

  g_object_set (e, "backend", "cuda", NULL);
  err = start_element (e, &debug);
  g_object_get (e, "active-backend", &active, NULL);
  found = err == NULL && g_strcmp0 (active, "cuda") == 0;
  g_clear_error (&err);
  g_free (debug);
  g_free (active);
  gst_object_unref (e);
  return found;
}

GST_START_TEST (test_real_no_device)
{
  gchar *active, *lines;
  guint i;

  if (!have_real_module ("test_real_no_device")
      || !affect_check_have_models ("test_real_no_device", facecrop_models))
    return;
  if (cuda_has_device ()) {
    g_print ("SKIP test_real_no_device: this machine has a CUDA device; "
             "checking that auto picks it instead\n");
    active = start_facecrop ("auto", 0, &lines);
    fail_unless_equals_string (active, "cuda");
    fail_unless (strstr (lines, "auto: cuda device 0 (") != NULL, "%s", lines);
    g_free (active);
    g_free (lines);
    return;
  }

  for (i = 0; i < G_N_ELEMENTS (elements); i++)
    expect_init_error (
        elements[i], "cuda", 0, "\"cuda\"", "no CUDA device", NULL);

  active = start_facecrop ("auto", 0, &lines);
  fail_unless_equals_string (active, "cpu");
  fail_unless (strstr (lines, "facecrop|auto: cpu (no GPU backend: cuda: no "
                              "CUDA device")
                   != NULL,
      "auto line: %s", lines);
  g_free (active);
  g_free (lines);
}

GST_END_TEST;

/* ---- the emulated module ----------------------------------------------- */

GST_START_TEST (test_emulated_auto_is_cuda)
{
  gchar *active, *lines;

  if (!affect_check_have_models ("test_emulated_auto_is_cuda", facecrop_models))
    return;
  active = start_facecrop ("auto", 0, &lines);
  fail_unless_equals_string (active, "cuda");
  fail_unless (
      strstr (lines, "facecrop|auto: cuda device 0 (host emulation (tests)")
          != NULL,
      "auto line: %s", lines);
  g_free (active);
  g_free (lines);
}

GST_END_TEST;

/* The emulation has one device: device 1 fails, with cuda and with auto
 * (a GPU backend is there, so auto does not fall back to the cpu). */
GST_START_TEST (test_emulated_device_out_of_range)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (elements); i++) {
    expect_init_error (
        elements[i], "cuda", 1, "\"cuda\"", "no device 1", "it has 1", NULL);
    expect_init_error (
        elements[i], "auto", 1, "\"cuda\"", "no device 1", "it has 1", NULL);
  }
}

GST_END_TEST;

/* Pushes @buf into @h with the fault knob @var=@value set: an error message
 * (STREAM/FAILED) naming the emulated device, the op and holding @needle
 * must be posted, and no buffer comes out. A transform (@aggregator FALSE)
 * fails the push itself; an aggregator fails in its source pad's task (the
 * push succeeds, the message comes from that thread). */
static void
expect_run_error (GstHarness *h, GstBuffer *buf, gboolean aggregator,
    const gchar *var, const gchar *value, const gchar *needle)
{
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;
  GstFlowReturn ret;

  gst_element_set_bus (h->element, bus);
  g_setenv (var, value, TRUE);
  ret = gst_harness_push (h, buf);
  /* the aggregator's task runs the network: wait for its error first */
  msg = gst_bus_timed_pop_filtered (
      bus, aggregator ? GST_CLOCK_TIME_NONE : 0, GST_MESSAGE_ERROR);
  g_unsetenv (var);
  if (!aggregator)
    fail_unless_equals_int (ret, GST_FLOW_ERROR);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);

  fail_unless (msg != NULL, "no error message");
  gst_message_parse_error (msg, &err, &debug);
  GST_INFO ("%s=%s: %s (%s)", var, value, err->message, debug);
  fail_unless (
      err->domain == GST_STREAM_ERROR && err->code == GST_STREAM_ERROR_FAILED,
      "not a STREAM/FAILED error: %s", err->message);
  fail_unless (
      strstr (err->message, "cuda device 0 (host emulation (tests)): ") != NULL,
      "the device is not named: %s", err->message);
  /* "...: <op> failed: <error>" */
  fail_unless (strstr (err->message, "(tests)):  failed") == NULL
                   && strstr (err->message, " failed: ") != NULL,
      "the op is not named: %s", err->message);
  fail_unless (strstr (err->message, needle) != NULL, "'%s' not in: %s", needle,
      err->message);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);
  /* one failure, one message */
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
}

static GstBuffer *
grey_frame (guint8 value)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 96 * 72 * 3, NULL);

  gst_buffer_memset (buf, 0, value, 96 * 72 * 3);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

static GstHarness *
facecrop_harness (void)
{
  GstHarness *h = gst_harness_new_parse (
      "facecrop backend=cuda detector-size=128 n-threads=1");

  gst_harness_set_src_caps_str (h, SMALL_CAPS);
  return h;
}

/* A kernel launch, a copy and the upload of a layer's weights failing inside
 * facecrop's detector: element errors naming the device and the op; a new
 * element then runs a frame without faults. */
GST_START_TEST (test_emulated_facecrop_faults)
{
  GstHarness *h;
  GstBuffer *out;

  if (!affect_check_have_models (
          "test_emulated_facecrop_faults", facecrop_models))
    return;

  h = facecrop_harness ();
  /* the 5th launch (the module's probe makes the 1st at the first use) */
  expect_run_error (h, grey_frame (128), FALSE, "CK_EMU_FAIL_LAUNCH", "5",
      "failed: unspecified launch failure (emulated)");
  gst_harness_teardown (h);

  h = facecrop_harness ();
  expect_run_error (h, grey_frame (128), FALSE, "CK_EMU_FAIL_COPY", "1",
      "failed: an illegal memory access was encountered (emulated)");
  gst_harness_teardown (h);

  /* the 3rd device allocation: the first layer's weights (every allocation
   * of a frame: test_emulated_facecrop_alloc_sweep) */
  h = facecrop_harness ();
  expect_run_error (h, grey_frame (128), FALSE, "CK_EMU_FAIL_ALLOC", "3",
      "allocating layer weights failed: out of memory (emulated)");
  gst_harness_teardown (h);

  /* no fault: a frame goes through */
  h = facecrop_harness ();
  fail_unless_equals_int (gst_harness_push (h, grey_frame (128)), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (out != NULL);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

static GstHarness *
features_harness (void)
{
  GstElement *e = gst_element_factory_make ("affectfeatures", NULL);
  GstHarness *h;

  fail_unless (e != NULL);
  g_object_set (e, "backend", "cuda", "n-threads", 1, NULL);
  gst_util_set_object_arg (G_OBJECT (e), "branches", "expression");
  h = gst_harness_new_with_element (e, "video", "src");
  gst_object_unref (e);
  gst_harness_set_src_caps_str (h, SMALL_CAPS);
  return h;
}

static GstBuffer *
frame_with_face (void)
{
  GstBuffer *buf = grey_frame (100);

  fail_unless (gst_buffer_add_affect_face_meta (
                   buf, 1, 20.0f, 10.0f, 48.0f, 48.0f, 0.99f)
               != NULL);
  return buf;
}

/* A launch failing inside affectfeatures' expression network. */
GST_START_TEST (test_emulated_features_fault)
{
  GstHarness *h;
  GstBuffer *out;

  if (!affect_check_have_models (
          "test_emulated_features_fault", expression_model))
    return;

  h = features_harness ();
  expect_run_error (h, frame_with_face (), TRUE, "CK_EMU_FAIL_LAUNCH", "5",
      "failed: unspecified launch failure (emulated)");
  gst_harness_teardown (h);

  /* no fault: the face gets its features */
  h = features_harness ();
  fail_unless_equals_int (
      gst_harness_push (h, frame_with_face ()), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (out != NULL);
  fail_unless (gst_buffer_get_affect_features_meta_by_track (out, 1) != NULL);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

static GstHarness *fuse_harness_on (const gchar *backend);

/* fuse_harness_on() on cuda. */
static GstHarness *
fuse_harness (void)
{
  return fuse_harness_on ("cuda");
}

static GstBuffer *
frame_with_features (void)
{
  GstBuffer *buf = frame_with_face ();
  GstAffectFeaturesMeta *m = gst_buffer_add_affect_features_meta (buf, 1);
  gfloat f[10];
  guint i;

  for (i = 0; i < G_N_ELEMENTS (f); i++)
    f[i] = (gfloat)i / 10.0f;
  gst_affect_features_meta_set (m, GST_AFFECT_BRANCH_IMAGE, f, 10);
  return buf;
}

/* A launch failing inside affectfuse's fusion network. */
GST_START_TEST (test_emulated_fuse_fault)
{
  GstHarness *h;
  GstBuffer *out;

  h = fuse_harness ();
  expect_run_error (h, frame_with_features (), FALSE, "CK_EMU_FAIL_LAUNCH", "3",
      "failed: unspecified launch failure (emulated)");
  gst_harness_teardown (h);

  /* no fault: the track is predicted */
  h = fuse_harness ();
  fail_unless_equals_int (
      gst_harness_push (h, frame_with_features ()), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (out != NULL);
  fail_unless (
      gst_buffer_get_affect_predictions_meta_by_track (out, 1) != NULL);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ---- shared networks: the fusion network and BERT ---------------------- */

static GMutex share_lock;
static GPtrArray *share_lines;

/* The engine helper's info lines "network KIND (PATH, BACKEND, N
 * thread(s)): N instance(s) share it". */
static void
log_share_line (GstDebugCategory *category, GstDebugLevel level,
    const gchar *file, const gchar *function, gint line, GObject *object,
    GstDebugMessage *message, gpointer user_data)
{
  const gchar *text;

  if (level != GST_LEVEL_INFO
      || g_strcmp0 (gst_debug_category_get_name (category), "affectengine")
             != 0)
    return;
  text = gst_debug_message_get (message);
  if (text == NULL || strstr (text, " instance(s) share it") == NULL)
    return;
  g_mutex_lock (&share_lock);
  g_ptr_array_add (share_lines, g_strdup (text));
  g_mutex_unlock (&share_lock);
}

static void
share_lines_start (void)
{
  share_lines = g_ptr_array_new_with_free_func (g_free);
  gst_debug_set_active (TRUE);
  gst_debug_set_threshold_for_name ("affectengine", GST_LEVEL_INFO);
  gst_debug_add_log_function (log_share_line, NULL, NULL);
}

static void
share_lines_stop (void)
{
  gst_debug_remove_log_function (log_share_line);
  gst_debug_set_threshold_for_name ("affectengine", GST_LEVEL_NONE);
  g_ptr_array_unref (share_lines);
  share_lines = NULL;
}

/* The lines of kind @kind logged so far, in order, joined by newlines
 * (g_free). */
static gchar *
share_lines_of (const gchar *kind)
{
  gchar *prefix = g_strdup_printf ("network %s (", kind);
  GString *out = g_string_new (NULL);
  guint i;

  g_mutex_lock (&share_lock);
  for (i = 0; i < share_lines->len; i++) {
    const gchar *l = g_ptr_array_index (share_lines, i);

    if (g_str_has_prefix (l, prefix))
      g_string_append_printf (out, "%s\n", l);
  }
  g_mutex_unlock (&share_lock);
  g_free (prefix);
  return g_string_free (out, FALSE);
}

/* The number of lines of @lines that hold @needle. */
static guint
count_lines (const gchar *lines, const gchar *needle)
{
  gchar **v = g_strsplit (lines, "\n", -1);
  guint i, n = 0;

  for (i = 0; v[i] != NULL; i++)
    n += strstr (v[i], needle) != NULL;
  g_strfreev (v);
  return n;
}

/* affectfuse running the golden fusion network (tests/golden/fusion, tiny
 * random weights, image features of 10 values, 6-frame clips) on @backend
 * with one thread, in causal mode (every frame with a track is predicted),
 * started. */
static GstHarness *
fuse_harness_on (const gchar *backend)
{
  const gchar *srcdir = g_getenv ("AFFECT_TEST_SRCDIR");
  GstElement *e = gst_element_factory_make ("affectfuse", NULL);
  gchar *model;
  GstHarness *h;

  fail_unless (e != NULL);
  fail_unless (srcdir != NULL, "AFFECT_TEST_SRCDIR not set");
  model = g_build_filename (
      srcdir, "golden", "fusion", "model-all.safetensors", NULL);
  g_object_set (e, "backend", backend, "n-threads", 1, "model", model,
      "feature-extractors", NULL, NULL);
  gst_util_set_object_arg (G_OBJECT (e), "mode", "causal");
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  g_free (model);
  gst_harness_set_src_caps_str (h, SMALL_CAPS);
  return h;
}

/* Two affectfuse instances on @backend with the same model: on a GPU
 * backend they share one network (the second one's line says 2 instances
 * share it), on cpu each has its own (both lines say 1); both predict. */
static void
check_fuse_sharing (const gchar *backend, gboolean shared)
{
  GstHarness *h[2];
  gchar *lines;
  guint i;

  share_lines_start ();
  for (i = 0; i < 2; i++)
    h[i] = fuse_harness_on (backend);
  lines = share_lines_of ("fusion");
  fail_unless_equals_int (count_lines (lines, "model-all.safetensors"), 2);
  fail_unless_equals_int (
      count_lines (lines, "1 instance(s) share it"), shared ? 1 : 2);
  fail_unless_equals_int (
      count_lines (lines, "2 instance(s) share it"), shared ? 1 : 0);
  g_free (lines);
  for (i = 0; i < 2; i++) {
    GstBuffer *out;

    fail_unless_equals_int (
        gst_harness_push (h[i], frame_with_features ()), GST_FLOW_OK);
    out = gst_harness_pull (h[i]);
    fail_unless (out != NULL);
    fail_unless (
        gst_buffer_get_affect_predictions_meta_by_track (out, 1) != NULL);
    gst_buffer_unref (out);
  }
  for (i = 0; i < 2; i++)
    gst_harness_teardown (h[i]);
  share_lines_stop ();
}

/* On cpu two affectfuse instances do not share their fusion network. */
GST_START_TEST (test_fuse_cpu_not_shared)
{
  check_fuse_sharing ("cpu", FALSE);
}

GST_END_TEST;

/* On the (emulated) GPU backend they share it. */
GST_START_TEST (test_emulated_fuse_shared)
{
  check_fuse_sharing ("cuda", TRUE);
}

GST_END_TEST;

/* Two affectfeatures with the same explicit word-model (loaded at start)
 * on the emulated GPU backend share one BERT; a third one with another
 * n-threads loads its own. */
GST_START_TEST (test_emulated_bert_shared)
{
  GError *err = NULL;
  gchar *dir = affect_bert_find (NULL, &err), *lines;
  GstElement *e[3];
  guint i;

  if (dir == NULL) {
    fail_if (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") == 0,
        "word model missing and AFFECT_REQUIRE_MODELS=1: %s", err->message);
    g_printerr ("SKIP: %s\n", err->message);
    g_error_free (err);
    return;
  }
  share_lines_start ();
  for (i = 0; i < 3; i++) {
    e[i] = gst_element_factory_make ("affectfeatures", NULL);
    fail_unless (e[i] != NULL);
    g_object_set (e[i], "backend", "cuda", "n-threads", i < 2 ? 1 : 2,
        "word-model", dir, "branches", 0, NULL);
    fail_unless (gst_element_set_state (e[i], GST_STATE_PAUSED)
                 != GST_STATE_CHANGE_FAILURE);
  }
  lines = share_lines_of ("bert");
  fail_unless_equals_int (count_lines (lines, "cuda, 1 thread(s)"), 2);
  fail_unless_equals_int (count_lines (lines, "cuda, 2 thread(s)"), 1);
  fail_unless_equals_int (count_lines (lines, "1 instance(s) share it"), 2);
  fail_unless_equals_int (count_lines (lines, "2 instance(s) share it"), 1);
  g_free (lines);
  for (i = 0; i < 3; i++) {
    gst_element_set_state (e[i], GST_STATE_NULL);
    gst_object_unref (e[i]);
  }
  share_lines_stop ();
  g_free (dir);
}

GST_END_TEST;

/* ---- allocation failures, swept ---------------------------------------- */

/* A frame of @w × @h from sample1.png of the test inputs (a region around
 * one face, resampled); NULL (and a message) when the inputs are
 * missing. */
static GstBuffer *
sample_frame (gint w, gint h)
{
  static guint8 *rgb = NULL;
  static gint sw, sh;
  GstBuffer *buf;
  GstMapInfo map;
  gint x, y, c;

  if (rgb == NULL) {
    gchar *cache = affect_cache_dir ();
    gchar *path = g_build_filename (cache, "test-inputs", "sample1.png", NULL);
    GError *err = NULL;

    if (!affect_image_load_png (path, &rgb, &sw, &sh, &err)) {
      g_printerr (
          "SKIP: %s (tests/golden/face-api/prepare.sh)\n", err->message);
      fail_if (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") == 0,
          "test inputs missing and AFFECT_REQUIRE_MODELS=1");
      g_error_free (err);
      rgb = NULL;
    }
    g_free (path);
    g_free (cache);
    if (rgb == NULL)
      return NULL;
  }
  buf = gst_buffer_new_allocate (NULL, (gsize)w * h * 3, NULL);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  /* nearest-neighbour resampling of the 600 × 400 region at (600, 300),
   * around the face at (776, 445) of the golden files */
  fail_unless (sw >= 1200 && sh >= 700);
  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++)
      for (c = 0; c < 3; c++)
        map.data[((gsize)y * w + x) * 3 + c]
            = rgb[((gsize)(300 + y * 400 / h) * sw + 600 + x * 600 / w) * 3
                  + c];
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

#define SAMPLE_W 240
#define SAMPLE_H 160
#define SAMPLE_CAPS "video/x-raw,format=RGB,width=240,height=160,framerate=30/1"

typedef GstHarness *(*MakeHarness) (void);
typedef GstBuffer *(*MakeFrame) (void);
/* Checks the output of a run without a fault. */
typedef void (*CheckOutput) (GstBuffer *out);

/* One frame through a new element from @make, once for every
 * CK_EMU_FAIL_ALLOC=N, N = 1, 2, ... (@sparse: N = 1, 2, 3, 5, 8, 13, ...,
 * for networks too slow in the emulation to try every N): every N must
 * give one STREAM/FAILED naming the emulated device and the op (an
 * allocation: "out of memory") and no buffer, until N is past the frame's last device or pinned
 * allocation: then the frame goes through and @check checks it. Nothing
 * may crash or log a critical (fatal under gst-check). Returns the last N
 * that failed (without @sparse: the number of allocations). */
static guint
sweep_alloc_faults (MakeHarness make, MakeFrame frame, gboolean aggregator,
    CheckOutput check, gboolean sparse, guint max_n)
{
  guint n, prev = 0, next;

  for (n = 1;; next = sparse ? n + MAX (prev, 1) : n + 1, prev = n, n = next) {
    GstHarness *h = make ();
    GstBus *bus = gst_bus_new ();
    gchar *value = g_strdup_printf ("%u", n);
    GstMessage *msg = NULL;
    GstFlowReturn ret;

    fail_unless (n <= max_n, "more than %u allocations for one frame", max_n);
    gst_element_set_bus (h->element, bus);
    g_setenv ("CK_EMU_FAIL_ALLOC", value, TRUE);
    ret = gst_harness_push (h, frame ());
    if (aggregator) {
      /* the aggregator's task runs the networks: an error or a buffer */
      while (msg == NULL && gst_harness_buffers_in_queue (h) == 0)
        msg = gst_bus_timed_pop_filtered (
            bus, 10 * GST_MSECOND, GST_MESSAGE_ERROR);
    } else {
      msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    }
    g_unsetenv ("CK_EMU_FAIL_ALLOC");

    if (msg == NULL) {
      /* past the last allocation: a normal output */
      GstBuffer *out;

      fail_unless_equals_int (ret, GST_FLOW_OK);
      out = gst_harness_pull (h);
      fail_unless (out != NULL);
      check (out);
      gst_buffer_unref (out);
    } else {
      GError *err = NULL;
      gchar *debug = NULL;

      gst_message_parse_error (msg, &err, &debug);
      GST_INFO ("CK_EMU_FAIL_ALLOC=%u: %s (%s)", n, err->message, debug);
      if (!aggregator)
        fail_unless_equals_int (ret, GST_FLOW_ERROR);
      fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
      fail_unless (err->domain == GST_STREAM_ERROR
                       && err->code == GST_STREAM_ERROR_FAILED,
          "CK_EMU_FAIL_ALLOC=%u: not a STREAM/FAILED error: %s", n,
          err->message);
      fail_unless (
          strstr (err->message, "cuda device 0 (host emulation (tests)): ")
              != NULL,
          "CK_EMU_FAIL_ALLOC=%u: the device is not named: %s", n, err->message);
      fail_unless (
          strstr (err->message, "(tests)):  failed") == NULL
              && strstr (err->message, "allocating ") != NULL
              && strstr (err->message, " failed: out of memory (emulated)")
                     != NULL,
          "CK_EMU_FAIL_ALLOC=%u: the allocation is not named: %s", n,
          err->message);
      /* one failure, one message */
      fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);
      g_clear_error (&err);
      g_free (debug);
      gst_message_unref (msg);
    }
    g_free (value);
    gst_element_set_bus (h->element, NULL);
    gst_object_unref (bus);
    gst_harness_teardown (h);
    if (msg == NULL)
      return prev;
  }
}

static GstHarness *
facecrop_tiny_harness (void)
{
  GstHarness *h = gst_harness_new_parse (
      "facecrop backend=cuda detector=tiny detector-size=160 n-threads=1");

  gst_harness_set_src_caps_str (h, SAMPLE_CAPS);
  return h;
}

static GstBuffer *
sample_frame_sized (void)
{
  return sample_frame (SAMPLE_W, SAMPLE_H);
}

/* At least one face, with its landmarks (the landmark network ran). */
static void
check_faces (GstBuffer *out)
{
  gpointer state = NULL;
  GstAffectFaceMeta *face;

  fail_unless (gst_buffer_get_n_affect_faces (out) > 0);
  face = gst_buffer_iterate_affect_face_meta (out, &state);
  fail_unless (face != NULL && face->has_landmarks);
}

/* An activation, weights or staging allocation failing anywhere in a frame
 * through facecrop (tiny detector, then landmarks on the faces it found). */
GST_START_TEST (test_emulated_facecrop_alloc_sweep)
{
  GstBuffer *probe;
  guint n;

  if (!affect_check_have_models (
          "test_emulated_facecrop_alloc_sweep", facecrop_models))
    return;
  probe = sample_frame_sized ();
  if (probe == NULL)
    return;
  gst_buffer_unref (probe);

  n = sweep_alloc_faults (facecrop_tiny_harness, sample_frame_sized, FALSE,
      check_faces, FALSE, 1000);
  GST_INFO ("facecrop: %u allocations for one frame", n);
  /* the weights of both networks and their activations */
  fail_unless (n > 10, "only %u allocations", n);
}

GST_END_TEST;

static GstHarness *
features_both_harness (void)
{
  GstElement *e = gst_element_factory_make ("affectfeatures", NULL);
  GstHarness *h;

  fail_unless (e != NULL);
  g_object_set (e, "backend", "cuda", "n-threads", 1, NULL);
  gst_util_set_object_arg (G_OBJECT (e), "branches", "expression+image");
  h = gst_harness_new_with_element (e, "video", "src");
  gst_object_unref (e);
  gst_harness_set_src_caps_str (h, SAMPLE_CAPS);
  return h;
}

/* The sample frame with facecrop's faces and landmarks (the image branch
 * needs landmarks), made once without faults. */
static GstBuffer *features_input;

static GstBuffer *
features_frame (void)
{
  return gst_buffer_copy (features_input);
}

/* The first face got both features. */
static void
check_features (GstBuffer *out)
{
  gpointer state = NULL;
  GstAffectFaceMeta *face = gst_buffer_iterate_affect_face_meta (out, &state);
  GstAffectFeaturesMeta *m;
  guint size = 0;

  fail_unless (face != NULL);
  m = gst_buffer_get_affect_features_meta_by_track (out, face->track_id);
  fail_unless (m != NULL);
  fail_unless (
      gst_affect_features_meta_get (m, GST_AFFECT_BRANCH_EXPRESSION, &size)
      != NULL);
  fail_unless (size > 0);
  fail_unless (
      gst_affect_features_meta_get (m, GST_AFFECT_BRANCH_IMAGE, &size) != NULL);
  fail_unless (size > 0);
}

/* The same through affectfeatures' expression and recognition (image)
 * networks. */
GST_START_TEST (test_emulated_features_alloc_sweep)
{
  static const gchar *models[]
      = { "face_expression_model", "face_recognition_model", NULL };
  guint n;

  GstHarness *h;
  GstBuffer *frame;

  if (!affect_check_have_models ("test_emulated_features_alloc_sweep", models)
      || !affect_check_have_models (
          "test_emulated_features_alloc_sweep", facecrop_models))
    return;
  frame = sample_frame_sized ();
  if (frame == NULL)
    return;
  h = facecrop_tiny_harness ();
  fail_unless_equals_int (gst_harness_push (h, frame), GST_FLOW_OK);
  features_input = gst_harness_pull (h);
  fail_unless (features_input != NULL);
  check_faces (features_input);
  gst_harness_teardown (h);

  n = sweep_alloc_faults (
      features_both_harness, features_frame, TRUE, check_features, FALSE, 1000);
  gst_clear_buffer (&features_input);
  GST_INFO ("affectfeatures: %u allocations for one frame", n);
  fail_unless (n > 10, "only %u allocations", n);
}

GST_END_TEST;

/* The track was predicted. */
static void
check_predictions (GstBuffer *out)
{
  fail_unless (
      gst_buffer_get_affect_predictions_meta_by_track (out, 1) != NULL);
}

/* The same through affectfuse's fusion network (the golden one). */
GST_START_TEST (test_emulated_fuse_alloc_sweep)
{
  guint n = sweep_alloc_faults (
      fuse_harness, frame_with_features, FALSE, check_predictions, FALSE, 1000);

  GST_INFO ("affectfuse: %u allocations for one frame", n);
  fail_unless (n > 10, "only %u allocations", n);
}

GST_END_TEST;

static GstHarness *
facecrop_ssd_harness (void)
{
  GstHarness *h = gst_harness_new_parse (
      "facecrop backend=cuda detector=ssd n-threads=1");

  gst_harness_set_src_caps_str (h, SAMPLE_CAPS);
  return h;
}

/* The same through facecrop's SSD detector (its box decoding reads the
 * predictors' outputs), then landmarks. */
GST_START_TEST (test_emulated_ssd_alloc_sweep)
{
  static const gchar *models[]
      = { "ssd_mobilenetv1_model", "face_landmark_68_model", NULL };
  GstBuffer *probe;
  guint n;

  if (!affect_check_have_models ("test_emulated_ssd_alloc_sweep", models))
    return;
  probe = sample_frame_sized ();
  if (probe == NULL)
    return;
  gst_buffer_unref (probe);

  /* about 4 s a frame in the emulation: N = 1, 2, 3, 5, 8, 13, ... */
  n = sweep_alloc_faults (
      facecrop_ssd_harness, sample_frame_sized, FALSE, check_faces, TRUE, 1000);
  GST_INFO ("facecrop (ssd): the last failing N tried is %u", n);
  fail_unless (n > 10, "only %u allocations", n);
}

GST_END_TEST;

static Suite *
enginedevice_suite (void)
{
  Suite *s = suite_create ("enginedevice");
  TCase *tc = tcase_create ("general");
  const gchar *m = mode ();

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 600);
  tcase_add_checked_fixture (tc, watch_auto_lines, unwatch_auto_lines);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_cpu_ignores_device_id);
  tcase_add_test (tc, test_unknown_backend);
  tcase_add_test (tc, test_fuse_cpu_not_shared);
  if (g_strcmp0 (m, "none") == 0) {
    tcase_add_test (tc, test_none_auto_is_cpu);
    tcase_add_test (tc, test_none_cuda_fails);
  } else if (g_strcmp0 (m, "real") == 0) {
    tcase_add_test (tc, test_real_no_device);
  } else if (g_strcmp0 (m, "emulated") == 0) {
    tcase_add_test (tc, test_emulated_auto_is_cuda);
    tcase_add_test (tc, test_emulated_device_out_of_range);
    tcase_add_test (tc, test_emulated_facecrop_faults);
    tcase_add_test (tc, test_emulated_facecrop_alloc_sweep);
    tcase_add_test (tc, test_emulated_features_alloc_sweep);
    tcase_add_test (tc, test_emulated_features_fault);
    tcase_add_test (tc, test_emulated_fuse_fault);
    tcase_add_test (tc, test_emulated_fuse_alloc_sweep);
    tcase_add_test (tc, test_emulated_fuse_shared);
    tcase_add_test (tc, test_emulated_bert_shared);
    tcase_add_test (tc, test_emulated_ssd_alloc_sweep);
  }
  return s;
}

GST_CHECK_MAIN (enginedevice);
