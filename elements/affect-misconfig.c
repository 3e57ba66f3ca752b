/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* Warnings for pipelines that cannot give predictions: see
 * affect-misconfig.h. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "affect-misconfig.h"

GST_DEBUG_CATEGORY_STATIC (affect_misconfig_debug);
#define GST_CAT_DEFAULT affect_misconfig_debug

static void
ensure_debug (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (affect_misconfig_debug, "affectmisconfig", 0,
        "Misconfigured affect pipelines");
    g_once_init_leave (&done, 1);
  }
}

static GstStructure *
misconfig_structure (const gchar *reason, const gchar *branch, guint64 frames,
    const gchar *text, const gchar *hint)
{
  GstStructure *s = gst_structure_new (AFFECT_MISCONFIG_MESSAGE_NAME, "reason",
      G_TYPE_STRING, reason, "text", G_TYPE_STRING, text, "hint", G_TYPE_STRING,
      hint, "frames", G_TYPE_UINT64, frames, NULL);

  if (branch != NULL)
    gst_structure_set (s, "branch", G_TYPE_STRING, branch, NULL);
  return s;
}

void
affect_misconfig_post (GstElement *element, const gchar *reason,
    const gchar *branch, guint64 frames, const gchar *text, const gchar *hint)
{
  GError *error;
  gchar *full, *debug;

  ensure_debug ();
  GST_WARNING_OBJECT (element, "%s: %s %s", reason, text, hint);

  full = g_strdup_printf ("%s %s", text, hint);
  debug = g_strdup_printf ("%s after %" G_GUINT64_FORMAT " frame(s)%s%s",
      reason, frames, branch != NULL ? ", branch " : "",
      branch != NULL ? branch : "");
  error = g_error_new_literal (GST_CORE_ERROR, GST_CORE_ERROR_PAD, full);
  gst_element_post_message (element,
      gst_message_new_warning_with_details (GST_OBJECT (element), error, debug,
          misconfig_structure (reason, branch, frames, text, hint)));
  g_error_free (error);
  g_free (full);
  g_free (debug);

  gst_element_post_message (
      element, gst_message_new_element (GST_OBJECT (element),
                   misconfig_structure (reason, branch, frames, text, hint)));
}

GstQuery *
affect_upstream_query_new (void)
{
  return gst_query_new_custom (
      GST_QUERY_CUSTOM, gst_structure_new_empty (AFFECT_UPSTREAM_QUERY_NAME));
}

gboolean
affect_upstream_query_is (GstQuery *query)
{
  const GstStructure *s;

  if (GST_QUERY_TYPE (query) != GST_QUERY_CUSTOM)
    return FALSE;
  s = gst_query_get_structure (query);
  return s != NULL && gst_structure_has_name (s, AFFECT_UPSTREAM_QUERY_NAME);
}

void
affect_upstream_query_add (
    GstQuery *query, const gchar *role, GstObject *answerer)
{
  GstStructure *s;
  gchar *name;

  g_return_if_fail (affect_upstream_query_is (query));
  s = gst_query_writable_structure (query);
  if (gst_structure_has_field (s, role))
    return;
  name = gst_object_get_name (answerer);
  gst_structure_set (s, role, G_TYPE_STRING, name, NULL);
  g_free (name);
}

gboolean
affect_upstream_has_facecrop (GstPad *sinkpad, gboolean *affectfeatures)
{
  GstQuery *query = affect_upstream_query_new ();
  const GstStructure *s;
  gboolean found;

  ensure_debug ();
  /* the answer is in the structure, whatever the return value */
  gst_pad_peer_query (sinkpad, query);
  s = gst_query_get_structure (query);
  found = gst_structure_has_field (s, "facecrop");
  if (affectfeatures != NULL)
    *affectfeatures = gst_structure_has_field (s, "affectfeatures");
  GST_DEBUG_OBJECT (sinkpad, "upstream: %" GST_PTR_FORMAT, s);
  gst_query_unref (query);
  return found;
}
