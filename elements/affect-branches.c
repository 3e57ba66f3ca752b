/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "affect-branches.h"

GstQuery *
affect_branches_query_new (void)
{
  return gst_query_new_custom (
      GST_QUERY_CUSTOM, gst_structure_new_empty (AFFECT_BRANCHES_QUERY_NAME));
}

gboolean
affect_branches_query_is (GstQuery *query)
{
  const GstStructure *s;

  if (GST_QUERY_TYPE (query) != GST_QUERY_CUSTOM)
    return FALSE;
  s = gst_query_get_structure (query);
  return s != NULL && gst_structure_has_name (s, AFFECT_BRANCHES_QUERY_NAME);
}

void
affect_branches_query_add (GstQuery *query, GstObject *answerer,
    GstAffectModalities branches, const gchar *why)
{
  GstStructure *s;
  guint old = 0;
  const gchar *answers;
  gchar *what, *line;

  g_return_if_fail (affect_branches_query_is (query));
  g_return_if_fail (gst_query_is_writable (query));

  s = gst_query_writable_structure (query);
  gst_structure_get_flags (s, "branches", GST_TYPE_AFFECT_MODALITIES, &old);
  answers = gst_structure_get_string (s, "answers");
  what = affect_branches_to_string (branches);
  line = g_strdup_printf ("%s%s%s: %s (%s)", answers ? answers : "",
      answers ? "; " : "", answerer ? GST_OBJECT_NAME (answerer) : "?", what,
      why);
  gst_structure_set (s, "branches", GST_TYPE_AFFECT_MODALITIES,
      old | (guint)branches, "answers", G_TYPE_STRING, line, NULL);
  g_free (line);
  g_free (what);
}

gboolean
affect_branches_query_parse (
    GstQuery *query, GstAffectModalities *branches, const gchar **answers)
{
  const GstStructure *s;
  guint b = 0;

  g_return_val_if_fail (affect_branches_query_is (query), FALSE);

  s = gst_query_get_structure (query);
  if (!gst_structure_get_flags (s, "branches", GST_TYPE_AFFECT_MODALITIES, &b))
    return FALSE;
  *branches = b;
  if (answers != NULL)
    *answers = gst_structure_get_string (s, "answers");
  return TRUE;
}

gboolean
affect_branches_from_fusion_features (
    const gchar *features, GstAffectModalities *branches)
{
  static const struct {
    const gchar *key;
    GstAffectModalities branch;
  } keys[] = {
    { "img", GST_AFFECT_MODALITY_IMAGE },
    { "exp", GST_AFFECT_MODALITY_EXPRESSION },
    { "spe", GST_AFFECT_MODALITY_SPEECH },
    { "wrd", GST_AFFECT_MODALITY_WORDS },
  };
  GstAffectModalities b = GST_AFFECT_MODALITY_IMAGE;
  gchar **items;
  gboolean ok = TRUE;
  guint i, k;

  if (features == NULL || *features == '\0')
    return FALSE;
  items = g_strsplit (features, ",", -1);
  for (i = 0; ok && items[i] != NULL; i++) {
    const gchar *eq = strchr (items[i], '=');

    ok = FALSE;
    for (k = 0; eq != NULL && k < G_N_ELEMENTS (keys); k++) {
      if ((gsize)(eq - items[i]) == strlen (keys[k].key)
          && strncmp (items[i], keys[k].key, eq - items[i]) == 0) {
        b |= keys[k].branch;
        ok = TRUE;
      }
    }
  }
  g_strfreev (items);
  if (ok)
    *branches = b;
  return ok;
}

gchar *
affect_branches_to_string (GstAffectModalities branches)
{
  GFlagsClass *klass = g_type_class_ref (GST_TYPE_AFFECT_MODALITIES);
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < klass->n_values; i++) {
    const GFlagsValue *v = &klass->values[i];

    if (v->value != 0 && (branches & v->value) == v->value)
      g_string_append_printf (s, "%s%s", s->len ? "+" : "", v->value_nick);
  }
  g_type_class_unref (klass);
  if (s->len == 0)
    g_string_append (s, "none");
  return g_string_free (s, FALSE);
}
