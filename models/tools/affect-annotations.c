/* gst-affect — models/tools
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Aff-Wild2 / ABAW annotation, prediction and mapping files for
 * affect-evaluate. See affect-annotations.h.
 */

#include "affect-annotations.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "affect-metrics.h"

GQuark
affect_ann_error_quark (void)
{
  return g_quark_from_static_string ("affect-evaluate-error-quark");
}

void
affect_ann_table_free (AffectAnnTable *t)
{
  if (!t)
    return;
  g_free (t->path);
  g_strfreev (t->names);
  g_free (t->values);
  g_free (t);
}

static gboolean
parse_number (const gchar *s, double *out)
{
  gchar *end;
  double v;

  if (*s == '\0')
    return FALSE;
  errno = 0;
  v = g_ascii_strtod (s, &end);
  if (end == s || *end != '\0' || errno == ERANGE || !isfinite (v))
    return FALSE;
  *out = v;
  return TRUE;
}

gchar *
affect_ann_check_value (
    AffectAnnTask task, AffectAnnRole role, const AffectAnnTable *t, double v)
{
  const gchar *what = role == AFFECT_ANN_LABEL ? "label" : "prediction";
  const gchar *none = role == AFFECT_ANN_LABEL ? "no label" : "none";

  switch (task) {
    case AFFECT_ANN_AU:
      if (role == AFFECT_ANN_LABEL && v != -1.0 && v != 0.0 && v != 1.0)
        return g_strdup ("an AU label must be 1, 0 or -1 (no label)");
      if (role == AFFECT_ANN_PRED && v != -1.0 && !(v >= 0.0 && v <= 1.0))
        return g_strdup ("an AU prediction must be in [0, 1], or -1 (none)");
      return NULL;
    case AFFECT_ANN_EXPR:
      if (v == -1.0 || (v == floor (v) && v >= 0.0 && v < t->n_names))
        return NULL;
      return g_strdup_printf ("an expression %s must be a class index 0..%d "
                              "(the header names %d classes), or -1 (%s)",
          what, t->n_names - 1, t->n_names, none);
    case AFFECT_ANN_VA:
      if (v == AFFECT_METRICS_NO_VA || (v >= -1.0 && v <= 1.0))
        return NULL;
      return g_strdup_printf (
          "valence and arousal %ss must be in [-1, 1], or -5 (%s)", what, none);
    default:
      g_assert_not_reached ();
  }
  return NULL;
}

AffectAnnTable *
affect_ann_table_parse (const gchar *path, const gchar *data, gsize len,
    AffectAnnTask task, AffectAnnRole role, GError **error)
{
  gchar *contents = NULL, **lines = NULL;
  gsize n_lines, cap = 0, pending_blank = 0;
  AffectAnnTable *t = g_new0 (AffectAnnTable, 1);
  const gchar *kind = role == AFFECT_ANN_LABEL ? "annotation" : "prediction";

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  t->path = g_strdup (path);
  if (len > 0 && memchr (data, '\0', len)) {
    g_set_error (error, AFFECT_ANN_ERROR, AFFECT_ANN_ERROR_INPUT,
        "%s: binary data in a text %s file", path, kind);
    goto fail;
  }
  contents = g_strndup (data ? data : "", len);
  /* a UTF-8 byte order mark is not part of the first column name */
  lines = g_strsplit (len >= 3 && memcmp (contents, "\xef\xbb\xbf", 3) == 0
                          ? contents + 3
                          : contents,
      "\n", -1);
  n_lines = g_strv_length (lines);
  for (gsize i = 0; i < n_lines; i++)
    g_strstrip (lines[i]); /* also drops a '\r' */

  /* Header */
  if (n_lines == 0 || lines[0][0] == '\0') {
    g_set_error (error, AFFECT_ANN_ERROR, AFFECT_ANN_ERROR_INPUT,
        "%s:1: expected a header line (column names), the file is empty or "
        "starts with an empty line",
        path);
    goto fail;
  }
  t->names = g_strsplit (lines[0], ",", -1);
  t->n_names = (int)g_strv_length (t->names);
  for (int j = 0; j < t->n_names; j++) {
    double v;
    g_strstrip (t->names[j]);
    if (t->names[j][0] == '\0' || parse_number (t->names[j], &v)) {
      g_set_error (error, AFFECT_ANN_ERROR, AFFECT_ANN_ERROR_INPUT,
          "%s:1: expected a header line of column names, got '%s'", path,
          lines[0]);
      goto fail;
    }
  }
  switch (task) {
    case AFFECT_ANN_AU:
      t->n_values = t->n_names;
      break;
    case AFFECT_ANN_EXPR:
      t->n_values = 1;
      if (t->n_names < 2) {
        g_set_error (error, AFFECT_ANN_ERROR, AFFECT_ANN_ERROR_INPUT,
            "%s:1: the header of an expression file names the classes "
            "(e.g. Neutral,Anger,...,Other), got '%s'",
            path, lines[0]);
        goto fail;
      }
      break;
    case AFFECT_ANN_VA:
      t->n_values = 2;
      if (t->n_names != 2) {
        g_set_error (error, AFFECT_ANN_ERROR, AFFECT_ANN_ERROR_INPUT,
            "%s:1: the header of a valence-arousal file has 2 columns "
            "(valence,arousal), got '%s'",
            path, lines[0]);
        goto fail;
      }
      break;
    default:
      g_assert_not_reached ();
  }

  /* Data lines; empty lines are only allowed at the end. */
  for (gsize i = 1; i < n_lines; i++) {
    gchar **fields;
    int n_fields;

    if (lines[i][0] == '\0') {
      if (pending_blank == 0)
        pending_blank = i + 1;
      continue;
    }
    if (pending_blank) {
      g_set_error (error, AFFECT_ANN_ERROR, AFFECT_ANN_ERROR_INPUT,
          "%s:%" G_GSIZE_FORMAT ": empty line (one line per frame expected)",
          path, pending_blank);
      goto fail;
    }
    fields = g_strsplit (lines[i], ",", -1);
    n_fields = (int)g_strv_length (fields);
    if (n_fields != t->n_values) {
      g_set_error (error, AFFECT_ANN_ERROR, AFFECT_ANN_ERROR_INPUT,
          "%s:%" G_GSIZE_FORMAT ": %d value%s, expected %d", path, i + 1,
          n_fields, n_fields == 1 ? "" : "s", t->n_values);
      g_strfreev (fields);
      goto fail;
    }
    if (t->n_rows == cap) {
      cap = MAX (cap * 2, 256);
      t->values = g_renew (float, t->values, cap * t->n_values);
    }
    for (int j = 0; j < n_fields; j++) {
      double v;
      gchar *problem;
      g_strstrip (fields[j]);
      if (!parse_number (fields[j], &v)) {
        g_set_error (error, AFFECT_ANN_ERROR, AFFECT_ANN_ERROR_INPUT,
            "%s:%" G_GSIZE_FORMAT ": value %d ('%s') is not a number", path,
            i + 1, j + 1, fields[j]);
        g_strfreev (fields);
        goto fail;
      }
      problem = affect_ann_check_value (task, role, t, v);
      if (problem) {
        g_set_error (error, AFFECT_ANN_ERROR, AFFECT_ANN_ERROR_INPUT,
            "%s:%" G_GSIZE_FORMAT ": value %d is %s: %s", path, i + 1, j + 1,
            fields[j], problem);
        g_free (problem);
        g_strfreev (fields);
        goto fail;
      }
      t->values[t->n_rows * t->n_values + j] = (float)v;
    }
    g_strfreev (fields);
    t->n_rows++;
  }
  g_strfreev (lines);
  g_free (contents);
  return t;

fail:
  g_strfreev (lines);
  g_free (contents);
  affect_ann_table_free (t);
  return NULL;
}

AffectAnnTable *
affect_ann_table_load (
    const gchar *path, AffectAnnTask task, AffectAnnRole role, GError **error)
{
  gchar *contents = NULL;
  gsize len = 0;
  AffectAnnTable *t;

  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;
  t = affect_ann_table_parse (path, contents, len, task, role, error);
  g_free (contents);
  return t;
}

gboolean
affect_ann_pred_row_valid (AffectAnnTask task, const AffectAnnTable *t, gsize i)
{
  const float *r = t->values + i * t->n_values;

  switch (task) {
    case AFFECT_ANN_AU:
      for (int j = 0; j < t->n_values; j++)
        if (r[j] >= 0.0f)
          return TRUE;
      return FALSE;
    case AFFECT_ANN_EXPR:
      return r[0] >= 0.0f;
    case AFFECT_ANN_VA:
      return r[0] != AFFECT_METRICS_NO_VA || r[1] != AFFECT_METRICS_NO_VA;
    default:
      g_assert_not_reached ();
  }
  return FALSE;
}

/* ---- mapping annotations to tracks ------------------------------------ */

void
affect_ann_map_entry_free (gpointer p)
{
  AffectAnnMapEntry *e = p;
  g_free (e->folder);
  g_free (e->track);
  g_free (e);
}

gboolean
affect_ann_is_track_name (const gchar *s, gsize len)
{
  if (len <= 6 || strncmp (s, "track-", 6) != 0)
    return FALSE;
  for (gsize i = 6; i < len; i++)
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
  return TRUE;
}

gchar *
affect_ann_strip_txt (const gchar *name)
{
  if (g_str_has_suffix (name, ".txt"))
    return g_strndup (name, strlen (name) - 4);
  return g_strdup (name);
}

GHashTable *
affect_ann_map_parse (
    const gchar *path, const gchar *data, gsize len, GError **error)
{
  GHashTable *map = g_hash_table_new_full (
      g_str_hash, g_str_equal, g_free, affect_ann_map_entry_free);
  gchar *contents = NULL, **lines = NULL;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  /* Like a file read into a string: the text ends at a NUL byte. */
  contents = g_strndup (data ? data : "", len);
  lines = g_strsplit (contents, "\n", -1);
  for (gsize i = 0; lines[i]; i++) {
    gchar **tok, *name, *slash;
    AffectAnnMapEntry *e, *prev;

    g_strstrip (lines[i]);
    if (lines[i][0] == '\0' || lines[i][0] == '#')
      continue;
    tok = g_strsplit_set (lines[i], " \t", -1);
    {
      /* drop the empty tokens of repeated blanks */
      int k = 0;
      for (int j = 0; tok[j]; j++) {
        if (tok[j][0])
          tok[k++] = tok[j];
        else
          g_free (tok[j]);
      }
      tok[k] = NULL;
    }
    slash = g_strv_length (tok) == 2 ? strrchr (tok[1], '/') : NULL;
    if (!slash || slash == tok[1]
        || !affect_ann_is_track_name (slash + 1, strlen (slash + 1))) {
      g_set_error (error, AFFECT_ANN_ERROR, AFFECT_ANN_ERROR_INPUT,
          "%s:%" G_GSIZE_FORMAT ": expected '<annotation name> <video "
          "folder>/track-N', got '%s'",
          path, i + 1, lines[i]);
      g_strfreev (tok);
      goto fail;
    }
    name = affect_ann_strip_txt (tok[0]);
    prev = g_hash_table_lookup (map, name);
    if (prev) {
      g_set_error (error, AFFECT_ANN_ERROR, AFFECT_ANN_ERROR_INPUT,
          "%s:%" G_GSIZE_FORMAT
          ": '%s' is already mapped on line %" G_GSIZE_FORMAT,
          path, i + 1, name, prev->line);
      g_free (name);
      g_strfreev (tok);
      goto fail;
    }
    e = g_new0 (AffectAnnMapEntry, 1);
    e->folder = g_strndup (tok[1], slash - tok[1]);
    e->track = g_strdup (slash + 1);
    e->line = i + 1;
    g_hash_table_insert (map, name, e);
    g_strfreev (tok);
  }
  g_strfreev (lines);
  g_free (contents);
  return map;

fail:
  g_strfreev (lines);
  g_free (contents);
  g_hash_table_unref (map);
  return NULL;
}

GHashTable *
affect_ann_map_load (const gchar *path, GError **error)
{
  gchar *contents = NULL;
  gsize len = 0;
  GHashTable *map;

  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;
  map = affect_ann_map_parse (path, contents, len, error);
  g_free (contents);
  return map;
}
