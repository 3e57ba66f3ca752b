/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* The engine settings shared by the inference elements (facecrop,
 * affectfeatures, affectfuse; elements/affect-engine-settings.h): the same
 * `backend`, `n-threads` and `model-location` properties (type, nick,
 * blurb, flags, default, range) on the three, and the same error domain
 * and code for the same failure: an unknown backend, a missing model
 * folder, a folder without the models, damaged model files. And no blurb
 * of theirs points at the (not installed) docs.
 *
 * No model is needed: every case fails before a network runs. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

static const gchar *const elements[]
    = { "facecrop", "affectfeatures", "affectfuse" };
static const gchar *const engine_props[]
    = { "backend", "n-threads", "model-location" };

/* The face models the three elements load first (a damaged copy of each
 * makes every element fail on its first model). */
static const gchar *const face_models[]
    = { "face_landmark_68_model", "tiny_face_detector_model",
        "face_expression_model", "face_recognition_model" };

static GParamSpec *
pspec_of (const gchar *element, const gchar *prop)
{
  GstElementFactory *factory = gst_element_factory_find (element);
  GObjectClass *klass;
  GParamSpec *pspec;
  GType type;

  fail_unless (factory != NULL, "no element %s", element);
  factory = GST_ELEMENT_FACTORY (
      gst_plugin_feature_load (GST_PLUGIN_FEATURE (factory)));
  type = gst_element_factory_get_element_type (factory);
  gst_object_unref (factory);
  klass = g_type_class_ref (type);
  pspec = g_object_class_find_property (klass, prop);
  g_type_class_unref (klass);
  fail_unless (pspec != NULL, "%s has no property %s", element, prop);
  return pspec;
}

static void
assert_same_pspec (GParamSpec *a, GParamSpec *b, const gchar *what)
{
  GValue va = G_VALUE_INIT, vb = G_VALUE_INIT;

  fail_unless_equals_string (
      g_param_spec_get_name (a), g_param_spec_get_name (b));
  fail_unless (G_PARAM_SPEC_TYPE (a) == G_PARAM_SPEC_TYPE (b),
      "%s: pspec types differ", what);
  fail_unless (G_PARAM_SPEC_VALUE_TYPE (a) == G_PARAM_SPEC_VALUE_TYPE (b),
      "%s: value types differ", what);
  fail_unless_equals_string (
      g_param_spec_get_nick (a), g_param_spec_get_nick (b));
  fail_unless_equals_string (
      g_param_spec_get_blurb (a), g_param_spec_get_blurb (b));
  fail_unless_equals_int (a->flags, b->flags);

  g_value_init (&va, G_PARAM_SPEC_VALUE_TYPE (a));
  g_value_init (&vb, G_PARAM_SPEC_VALUE_TYPE (b));
  g_param_value_set_default (a, &va);
  g_param_value_set_default (b, &vb);
  fail_unless (
      g_param_values_cmp (a, &va, &vb) == 0, "%s: defaults differ", what);
  g_value_unset (&va);
  g_value_unset (&vb);

  if (G_IS_PARAM_SPEC_INT (a)) {
    fail_unless_equals_int (
        G_PARAM_SPEC_INT (a)->minimum, G_PARAM_SPEC_INT (b)->minimum);
    fail_unless_equals_int (
        G_PARAM_SPEC_INT (a)->maximum, G_PARAM_SPEC_INT (b)->maximum);
  }
}

GST_START_TEST (test_same_properties)
{
  guint p, e;

  for (p = 0; p < G_N_ELEMENTS (engine_props); p++) {
    GParamSpec *ref = pspec_of (elements[0], engine_props[p]);

    for (e = 1; e < G_N_ELEMENTS (elements); e++) {
      gchar *what = g_strdup_printf ("%s:%s vs %s:%s", elements[0],
          engine_props[p], elements[e], engine_props[p]);

      assert_same_pspec (ref, pspec_of (elements[e], engine_props[p]), what);
      g_free (what);
    }
  }

  /* and the values they share */
  {
    GParamSpec *pspec = pspec_of ("affectfuse", "backend");

    fail_unless_equals_string (
        G_PARAM_SPEC_STRING (pspec)->default_value, "auto");
    fail_unless (pspec->flags & GST_PARAM_MUTABLE_READY);

    pspec = pspec_of ("affectfuse", "n-threads");
    fail_unless_equals_int (G_PARAM_SPEC_INT (pspec)->default_value, 0);
    fail_unless_equals_int (G_PARAM_SPEC_INT (pspec)->minimum, 0);
    fail_unless_equals_int (G_PARAM_SPEC_INT (pspec)->maximum, 1024);
    fail_unless (pspec->flags & GST_PARAM_MUTABLE_PLAYING);

    pspec = pspec_of ("affectfuse", "model-location");
    fail_unless (G_PARAM_SPEC_STRING (pspec)->default_value == NULL);
    fail_unless (pspec->flags & GST_PARAM_MUTABLE_READY);
  }
}

GST_END_TEST;

/* No blurb of the three elements points at a file that is not installed
 * (the docs folder is not). */
GST_START_TEST (test_blurbs_installed_only)
{
  guint e, i;

  for (e = 0; e < G_N_ELEMENTS (elements); e++) {
    GstElement *el = gst_element_factory_make (elements[e], NULL);
    guint n = 0;
    GParamSpec **pspecs
        = g_object_class_list_properties (G_OBJECT_GET_CLASS (el), &n);

    fail_unless (n > 3);
    for (i = 0; i < n; i++) {
      const gchar *blurb = g_param_spec_get_blurb (pspecs[i]);

      fail_unless (blurb != NULL && *blurb != '\0', "%s:%s has no blurb",
          elements[e], pspecs[i]->name);
      fail_if (strstr (blurb, "docs/") != NULL || strstr (blurb, ".md") != NULL,
          "%s:%s: the blurb points at the docs: %s", elements[e],
          pspecs[i]->name, blurb);
    }
    g_free (pspecs);
    gst_object_unref (el);
  }
}

GST_END_TEST;

/* Setting NULL or "" on backend means auto, on every element. */
GST_START_TEST (test_backend_null_is_auto)
{
  guint e;

  for (e = 0; e < G_N_ELEMENTS (elements); e++) {
    GstElement *el = gst_element_factory_make (elements[e], NULL);
    gchar *name = NULL;

    g_object_set (el, "backend", "cpu", NULL);
    g_object_get (el, "backend", &name, NULL);
    fail_unless_equals_string (name, "cpu");
    g_free (name);
    g_object_set (el, "backend", NULL, NULL);
    g_object_get (el, "backend", &name, NULL);
    fail_unless_equals_string (name, "auto");
    g_free (name);
    g_object_set (el, "backend", "", NULL);
    g_object_get (el, "backend", &name, NULL);
    fail_unless_equals_string (name, "auto");
    g_free (name);
    gst_object_unref (el);
  }
}

GST_END_TEST;

/* Starts @element with @prop=@value (and the other given pairs); the start
 * must fail with an error of @domain/@code whose message or details hold
 * @needle. */
static void
expect_start_error (const gchar *element, GQuark domain, gint code,
    const gchar *needle, const gchar *first_prop, ...)
{
  GstElement *e = gst_element_factory_make (element, NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;
  va_list args;

  fail_unless (e != NULL);
  va_start (args, first_prop);
  g_object_set_valist (G_OBJECT (e), first_prop, args);
  va_end (args);
  gst_element_set_bus (e, bus);
  fail_unless_equals_int (
      gst_element_set_state (e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "%s: no error message", element);
  gst_message_parse_error (msg, &err, &debug);
  GST_INFO ("%s: %s (%s)", element, err->message, debug);
  fail_unless (err->domain == domain && err->code == code,
      "%s: error %s/%d (%s), expected %s/%d", element,
      g_quark_to_string (err->domain), err->code, err->message,
      g_quark_to_string (domain), code);
  fail_unless (strstr (err->message, needle) != NULL
                   || (debug != NULL && strstr (debug, needle) != NULL),
      "%s: '%s' not in the error: %s / %s", element, needle, err->message,
      debug);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

GST_START_TEST (test_same_backend_error)
{
  guint e;

  for (e = 0; e < G_N_ELEMENTS (elements); e++)
    expect_start_error (elements[e], GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_INIT,
        "no-such-backend", "backend", "no-such-backend", NULL);
  /* affectfuse with a fusion network: the backend is checked first too */
  expect_start_error ("affectfuse", GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_INIT,
      "no-such-backend", "backend", "no-such-backend", "model",
      "/nonexistent/fusion.safetensors", NULL);
}

GST_END_TEST;

GST_START_TEST (test_same_missing_models)
{
  gchar *dir = g_dir_make_tmp ("affect-engine-XXXXXX", NULL);
  gchar *gone = g_build_filename (dir, "no-such-folder", NULL);
  guint e;

  fail_unless (dir != NULL);
  for (e = 0; e < G_N_ELEMENTS (elements); e++) {
    /* a folder that does not exist */
    expect_start_error (elements[e], GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_NOT_FOUND, "affect-fetch-models", "model-location",
        gone, NULL);
    /* a folder without the models: the details name the folder */
    expect_start_error (elements[e], GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_NOT_FOUND, "affect-fetch-models", "model-location",
        dir, NULL);
    expect_start_error (elements[e], GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_NOT_FOUND, dir, "model-location", dir, NULL);
  }
  g_rmdir (dir);
  g_free (gone);
  g_free (dir);
}

GST_END_TEST;

GST_START_TEST (test_same_damaged_models)
{
  gchar *dir = g_dir_make_tmp ("affect-engine-XXXXXX", NULL);
  gchar *paths[G_N_ELEMENTS (face_models)];
  guint e, i;

  fail_unless (dir != NULL);
  for (i = 0; i < G_N_ELEMENTS (face_models); i++) {
    gchar *name = g_strconcat (face_models[i], ".safetensors", NULL);

    paths[i] = g_build_filename (dir, name, NULL);
    fail_unless (g_file_set_contents (
        paths[i], "this is not a safetensors file", -1, NULL));
    g_free (name);
  }
  for (e = 0; e < G_N_ELEMENTS (elements); e++)
    expect_start_error (elements[e], GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_SETTINGS, "affect-fetch-models", "model-location",
        dir, NULL);
  for (i = 0; i < G_N_ELEMENTS (face_models); i++) {
    g_unlink (paths[i]);
    g_free (paths[i]);
  }
  g_rmdir (dir);
  g_free (dir);
}

GST_END_TEST;

static Suite *
enginesettings_suite (void)
{
  Suite *s = suite_create ("enginesettings");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_same_properties);
  tcase_add_test (tc, test_blurbs_installed_only);
  tcase_add_test (tc, test_backend_null_is_auto);
  tcase_add_test (tc, test_same_backend_error);
  tcase_add_test (tc, test_same_missing_models);
  tcase_add_test (tc, test_same_damaged_models);
  return s;
}

GST_CHECK_MAIN (enginesettings);
