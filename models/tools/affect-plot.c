/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* affect-plot: a timeline of the predictions in an affectsink JSON Lines
 * file, as PNG or SVG.
 *
 *   affect-plot FILE.jsonl -o timeline.png|timeline.svg [--width PX]
 *               [--fps N] [--tracks ID,ID,...] [--title TEXT]
 *
 * Per track (a block each, all on one time axis in seconds): the expression
 * probabilities as stacked areas, the action unit activations as a heat map
 * (one row per AU) and valence/arousal as two lines; beside the blocks, the
 * legends and a valence/arousal scatter of all tracks. Parts without data
 * in the file are left out.
 *
 * Input: affectsink's `jsonl` records (one frame per line, "faces": [...],
 * docs/elements/affectsink.md), or flat records (one face per line, as
 * affectsink tidy=true writes them) that carry the same fields: the track
 * in "id" (or "track_id"), the time in "time" or "timestamp" (seconds),
 * "pts" (nanoseconds) or "frame" (/ --fps), the
 * expression as "expression": {"labels", "probs"} or "expr_<label>"
 * numbers, the AUs as "au": {"labels", "probs"} or "AU<n>" numbers, and
 * "va": [v, a] or "valence" and "arousal". See docs/plot.md.
 *
 * No GStreamer: GLib, json-glib, cairo and pango. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-svg.h>
#include <cairo.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <pango/pangocairo.h>

#ifndef AFFECT_VERSION
#define AFFECT_VERSION "unknown"
#endif

#define PLOT_ERROR (g_quark_from_static_string ("affect-plot"))

/* Labels of one kind (expressions, AUs) beyond this are refused. */
#define MAX_LABELS 64

/* The scatter keeps at most this many points per track (evenly spaced). */
#define MAX_SCATTER_POINTS 4000

/* ------------------------------------------------------------------ */
/* Data                                                                */
/* ------------------------------------------------------------------ */

/* One face at one time. The value arrays are indexed by the label's index
 * in Data (labels only get added, so a short array means NaN beyond). */
typedef struct {
  gdouble t;
  guint n_expr;
  gfloat *expr; /* nullable */
  guint n_au;
  gfloat *au; /* nullable */
  gboolean has_va;
  gfloat va[2];
} Sample;

typedef struct {
  gint64 id;
  GArray *samples; /* Sample, in file order */
  guint color;     /* palette index */
  gboolean has_expr, has_au, has_va;
  gdouble t0, t1;
  guint n_with_data;
} Track;

typedef struct {
  GPtrArray *expr_labels; /* gchar * */
  GPtrArray *au_labels;
  GHashTable *tracks_by_id; /* gint64 * -> Track * */
  GPtrArray *tracks;        /* Track *, by id once loaded */
  guint n_records;
  guint n_times; /* distinct times with predictions (frames) */
  gboolean has_expr, has_au, has_va;
  gdouble t0, t1;
  gdouble dt; /* typical time between two samples of a track */
} Data;

static void
sample_clear (Sample *s)
{
  g_free (s->expr);
  g_free (s->au);
}

static void
track_free (Track *t)
{
  guint i;

  for (i = 0; i < t->samples->len; i++)
    sample_clear (&g_array_index (t->samples, Sample, i));
  g_array_free (t->samples, TRUE);
  g_free (t);
}

static void
data_init (Data *d)
{
  memset (d, 0, sizeof (*d));
  d->expr_labels = g_ptr_array_new_with_free_func (g_free);
  d->au_labels = g_ptr_array_new_with_free_func (g_free);
  d->tracks_by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  d->tracks = g_ptr_array_new_with_free_func ((GDestroyNotify)track_free);
  d->t0 = G_MAXDOUBLE;
  d->t1 = -G_MAXDOUBLE;
}

static void
data_clear (Data *d)
{
  g_ptr_array_free (d->expr_labels, TRUE);
  g_ptr_array_free (d->au_labels, TRUE);
  g_hash_table_destroy (d->tracks_by_id);
  g_ptr_array_free (d->tracks, TRUE);
}

/* The index of @label among @labels, added when new; -1 when there are
 * too many. Labels are compared as written. */
static gint
label_index (GPtrArray *labels, const gchar *label)
{
  guint i;

  for (i = 0; i < labels->len; i++)
    if (strcmp (g_ptr_array_index (labels, i), label) == 0)
      return i;
  if (labels->len >= MAX_LABELS)
    return -1;
  g_ptr_array_add (labels, g_strdup (label));
  return labels->len - 1;
}

/* Puts @value at the index of @label into *@values (grown as needed, new
 * entries NaN). */
static gboolean
set_value (GPtrArray *labels, const gchar *label, gdouble value,
    gfloat **values, guint *n, GError **error)
{
  gint k = label_index (labels, label);
  guint i;

  if (k < 0) {
    g_set_error (
        error, PLOT_ERROR, 0, "more than %d different labels", MAX_LABELS);
    return FALSE;
  }
  if ((guint)k >= *n) {
    *values = g_renew (gfloat, *values, k + 1);
    for (i = *n; i <= (guint)k; i++)
      (*values)[i] = NAN;
    *n = k + 1;
  }
  (*values)[k] = (gfloat)value;
  return TRUE;
}

static gboolean
node_is_number (JsonNode *node)
{
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  return type == G_TYPE_DOUBLE || type == G_TYPE_INT64;
}

static gboolean
node_is_null (JsonNode *node)
{
  return node == NULL || JSON_NODE_HOLDS_NULL (node);
}

/* A number member, or NaN when it is null; FALSE (with @error) when it is
 * something else. */
static gboolean
get_number (JsonNode *node, const gchar *name, gdouble *v, GError **error)
{
  if (node_is_null (node)) {
    *v = NAN;
    return TRUE;
  }
  if (!node_is_number (node)) {
    g_set_error (error, PLOT_ERROR, 0, "\"%s\" is not a number or null", name);
    return FALSE;
  }
  *v = json_node_get_double (node);
  return TRUE;
}

/* {"labels": [...], "probs": [...]} into @values. */
static gboolean
parse_labelled (JsonNode *node, const gchar *name, GPtrArray *labels,
    gfloat **values, guint *n, GError **error)
{
  JsonObject *obj;
  JsonArray *l, *p;
  guint i, len;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    goto bad;
  obj = json_node_get_object (node);
  if (!json_object_has_member (obj, "labels")
      || !json_object_has_member (obj, "probs")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (obj, "labels"))
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (obj, "probs")))
    goto bad;
  l = json_object_get_array_member (obj, "labels");
  p = json_object_get_array_member (obj, "probs");
  len = json_array_get_length (l);
  if (json_array_get_length (p) != len) {
    g_set_error (error, PLOT_ERROR, 0, "\"%s\": %u labels but %u probabilities",
        name, len, json_array_get_length (p));
    return FALSE;
  }
  for (i = 0; i < len; i++) {
    JsonNode *ln = json_array_get_element (l, i);
    gdouble v;

    if (!JSON_NODE_HOLDS_VALUE (ln)
        || json_node_get_value_type (ln) != G_TYPE_STRING) {
      g_set_error (
          error, PLOT_ERROR, 0, "\"%s\": label %u is not a string", name, i);
      return FALSE;
    }
    if (!get_number (json_array_get_element (p, i), name, &v, error)
        || !set_value (labels, json_node_get_string (ln), v, values, n, error))
      return FALSE;
  }
  return TRUE;

bad:
  g_set_error (error, PLOT_ERROR, 0,
      "\"%s\" is not an object with \"labels\" and \"probs\" arrays", name);
  return FALSE;
}

/* Whether @name is a flat AU column: "AU" and a digit (AU1, AU12, AU25). */
static gboolean
is_au_name (const gchar *name)
{
  return g_str_has_prefix (name, "AU") && g_ascii_isdigit (name[2]);
}

/* The time of a record in seconds: "time" or "timestamp" (seconds), else
 * "pts" (ns), else "frame" / @fps. */
static gboolean
record_time (JsonObject *obj, gdouble fps, gdouble *t, GError **error)
{
  static const gchar *const names[] = { "time", "timestamp", "pts", "frame" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (names); i++) {
    JsonNode *node = json_object_get_member (obj, names[i]);
    gdouble v;

    if (node_is_null (node))
      continue;
    if (!get_number (node, names[i], &v, error))
      return FALSE;
    *t = i < 2 ? v : i == 2 ? v / 1e9 : v / fps;
    return TRUE;
  }
  g_set_error (error, PLOT_ERROR, 0,
      "no time: none of \"time\", \"timestamp\", \"pts\" and \"frame\" "
      "is set");
  return FALSE;
}

static Track *
get_track (Data *d, gint64 id)
{
  Track *t = g_hash_table_lookup (d->tracks_by_id, &id);

  if (t == NULL) {
    t = g_new0 (Track, 1);
    t->id = id;
    t->samples = g_array_new (FALSE, TRUE, sizeof (Sample));
    t->t0 = G_MAXDOUBLE;
    t->t1 = -G_MAXDOUBLE;
    g_ptr_array_add (d->tracks, t);
    g_hash_table_insert (d->tracks_by_id, &t->id, t);
  }
  return t;
}

/* One face (a member of "faces", or a flat record) at time @time. */
static gboolean
parse_face (
    Data *d, JsonObject *obj, gdouble time, GHashTable *only, GError **error)
{
  static const gchar *const id_names[] = { "id", "track_id", "track" };
  JsonNode *node = NULL;
  GList *members, *m;
  Sample s = { 0 };
  Track *t;
  gdouble v, flat_va[2] = { NAN, NAN };
  guint n_flat_va = 0;
  guint i;
  gint64 id;
  gboolean ok = TRUE;

  for (i = 0; i < G_N_ELEMENTS (id_names) && node_is_null (node); i++)
    node = json_object_get_member (obj, id_names[i]);
  if (!node_is_number (node)) {
    g_set_error (error, PLOT_ERROR, 0, "a face without a numeric \"id\"");
    return FALSE;
  }
  v = json_node_get_double (node);
  if (!(v >= 0 && v <= G_MAXUINT32 && v == floor (v))) {
    g_set_error (
        error, PLOT_ERROR, 0, "a face \"id\" that is not a track id: %g", v);
    return FALSE;
  }
  id = (gint64)v;
  s.t = time;

  members = json_object_get_members (obj);
  for (m = members; m && ok; m = m->next) {
    const gchar *name = m->data;

    node = json_object_get_member (obj, name);
    if (strcmp (name, "expression") == 0) {
      /* a string (the top label of a flat record) is not plotted */
      if (!JSON_NODE_HOLDS_VALUE (node))
        ok = parse_labelled (
            node, name, d->expr_labels, &s.expr, &s.n_expr, error);
    } else if (strcmp (name, "au") == 0) {
      ok = parse_labelled (node, name, d->au_labels, &s.au, &s.n_au, error);
    } else if (strcmp (name, "va") == 0) {
      JsonArray *a;

      if (!JSON_NODE_HOLDS_ARRAY (node)
          || json_array_get_length (a = json_node_get_array (node)) != 2) {
        g_set_error (error, PLOT_ERROR, 0, "\"va\" is not a [v, a] pair");
        ok = FALSE;
      } else {
        gdouble va[2];

        ok = get_number (json_array_get_element (a, 0), "va", &va[0], error)
             && get_number (json_array_get_element (a, 1), "va", &va[1], error);
        if (ok && isfinite (va[0]) && isfinite (va[1])) {
          s.has_va = TRUE;
          s.va[0] = va[0];
          s.va[1] = va[1];
        }
      }
    } else if (strcmp (name, "valence") == 0 || strcmp (name, "arousal") == 0) {
      guint k = name[0] == 'a';

      ok = get_number (node, name, &flat_va[k], error);
      if (ok && isfinite (flat_va[k]))
        n_flat_va |= 1 << k;
    } else if (g_str_has_prefix (name, "expr_") && name[5]
               && strcmp (name, "expr_index") != 0 && node_is_number (node)) {
      ok = set_value (d->expr_labels, name + 5, json_node_get_double (node),
          &s.expr, &s.n_expr, error);
    } else if (is_au_name (name) && (node_is_number (node))) {
      ok = set_value (d->au_labels, name, json_node_get_double (node), &s.au,
          &s.n_au, error);
    }
  }
  g_list_free (members);
  /* flat valence and arousal: only both together */
  if (!s.has_va && n_flat_va == 3) {
    s.has_va = TRUE;
    s.va[0] = flat_va[0];
    s.va[1] = flat_va[1];
  }
  if (!ok) {
    sample_clear (&s);
    return FALSE;
  }

  if (only && !g_hash_table_contains (only, &id)) {
    sample_clear (&s);
    return TRUE;
  }
  t = get_track (d, id);
  t->has_expr |= s.expr != NULL;
  t->has_au |= s.au != NULL;
  t->has_va |= s.has_va;
  if (s.expr || s.au || s.has_va) {
    t->n_with_data++;
    t->t0 = MIN (t->t0, time);
    t->t1 = MAX (t->t1, time);
  }
  g_array_append_val (t->samples, s);
  return TRUE;
}

/* One line of the file. */
static gboolean
parse_line (Data *d, JsonParser *parser, const gchar *line, gdouble fps,
    GHashTable *only, GError **error)
{
  JsonNode *root;
  JsonObject *obj;
  gdouble time;

  if (!json_parser_load_from_data (parser, line, -1, error))
    return FALSE;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, PLOT_ERROR, 0, "not a JSON object");
    return FALSE;
  }
  obj = json_node_get_object (root);
  if (!record_time (obj, fps, &time, error))
    return FALSE;
  if (!isfinite (time)) {
    g_set_error (error, PLOT_ERROR, 0, "a time that is not finite");
    return FALSE;
  }
  d->n_records++;
  if (json_object_has_member (obj, "faces")) {
    JsonNode *faces = json_object_get_member (obj, "faces");
    guint i, n;

    if (!JSON_NODE_HOLDS_ARRAY (faces)) {
      g_set_error (error, PLOT_ERROR, 0, "\"faces\" is not an array");
      return FALSE;
    }
    n = json_array_get_length (json_node_get_array (faces));
    for (i = 0; i < n; i++) {
      JsonNode *f = json_array_get_element (json_node_get_array (faces), i);

      if (!JSON_NODE_HOLDS_OBJECT (f)) {
        g_set_error (error, PLOT_ERROR, 0, "face %u is not an object", i);
        return FALSE;
      }
      if (!parse_face (d, json_node_get_object (f), time, only, error))
        return FALSE;
    }
    return TRUE;
  }
  return parse_face (d, obj, time, only, error);
}

static gint
compare_track_ids (gconstpointer a, gconstpointer b)
{
  const Track *x = *(Track *const *)a, *y = *(Track *const *)b;

  return x->id < y->id ? -1 : x->id > y->id;
}

static gint
compare_doubles (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *)a, y = *(const gdouble *)b;

  return x < y ? -1 : x > y;
}

/* Reads the whole file; drops the tracks without predictions. */
static gboolean
load (Data *d, const gchar *path, gdouble fps, GHashTable *only, GError **error)
{
  GIOChannel *ch;
  JsonParser *parser;
  gchar *line = NULL;
  gsize len;
  guint lineno = 0, i, j;
  GIOStatus st;
  GError *err = NULL;
  GArray *steps;

  ch = g_io_channel_new_file (path, "r", &err);
  if (ch == NULL) {
    g_set_error (error, PLOT_ERROR, 0, "%s: %s", path, err->message);
    g_error_free (err);
    return FALSE;
  }
  g_io_channel_set_encoding (ch, NULL, NULL);
  parser = json_parser_new ();
  while ((st = g_io_channel_read_line (ch, &line, &len, NULL, &err))
         == G_IO_STATUS_NORMAL) {
    lineno++;
    g_strstrip (line);
    if (line[0] && !parse_line (d, parser, line, fps, only, &err)) {
      g_set_error (
          error, PLOT_ERROR, 0, "%s:%u: %s", path, lineno, err->message);
      g_clear_error (&err);
      g_free (line);
      g_object_unref (parser);
      g_io_channel_unref (ch);
      return FALSE;
    }
    g_free (line);
  }
  g_object_unref (parser);
  g_io_channel_unref (ch);
  if (st == G_IO_STATUS_ERROR) {
    g_set_error (
        error, PLOT_ERROR, 0, "%s:%u: %s", path, lineno + 1, err->message);
    g_error_free (err);
    return FALSE;
  }

  /* keep the tracks with predictions; the time range; the typical step */
  steps = g_array_new (FALSE, FALSE, sizeof (gdouble));
  for (i = 0; i < d->tracks->len;) {
    Track *t = g_ptr_array_index (d->tracks, i);

    if (t->n_with_data == 0) {
      g_hash_table_remove (d->tracks_by_id, &t->id);
      g_ptr_array_remove_index (d->tracks, i);
      continue;
    }
    d->has_expr |= t->has_expr;
    d->has_au |= t->has_au;
    d->has_va |= t->has_va;
    d->t0 = MIN (d->t0, t->t0);
    d->t1 = MAX (d->t1, t->t1);
    for (j = 1; j < t->samples->len; j++) {
      gdouble step = g_array_index (t->samples, Sample, j).t
                     - g_array_index (t->samples, Sample, j - 1).t;

      if (step > 0)
        g_array_append_val (steps, step);
    }
    i++;
  }
  g_ptr_array_sort (d->tracks, compare_track_ids);
  /* the frames with predictions: the distinct times (the same count for
   * frame records and flat records) */
  {
    GArray *times = g_array_new (FALSE, FALSE, sizeof (gdouble));

    for (i = 0; i < d->tracks->len; i++) {
      const Track *t = g_ptr_array_index (d->tracks, i);

      for (j = 0; j < t->samples->len; j++) {
        const Sample *s = &g_array_index (t->samples, Sample, j);

        if (s->expr || s->au || s->has_va)
          g_array_append_val (times, s->t);
      }
    }
    g_array_sort (times, compare_doubles);
    for (i = 0; i < times->len; i++)
      d->n_times += i == 0
                    || g_array_index (times, gdouble, i)
                           != g_array_index (times, gdouble, i - 1);
    g_array_free (times, TRUE);
  }
  if (steps->len > 0) {
    g_array_sort (steps, compare_doubles);
    d->dt = g_array_index (steps, gdouble, steps->len / 2);
  } else {
    d->dt = 1.0 / fps;
  }
  g_array_free (steps, TRUE);
  if (d->tracks->len == 0) {
    g_set_error (error, PLOT_ERROR, 0,
        "%s: nothing to plot: no face with an expression, action units or "
        "valence/arousal in %u records",
        path, d->n_records);
    return FALSE;
  }
  if (d->t1 <= d->t0)
    d->t1 = d->t0 + d->dt;
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Colours                                                             */
/* ------------------------------------------------------------------ */

/* The track colours of affectoverlay (color-mode=track). */
static const guint32 track_palette[] = { 0x2ecc71, 0x3d9df2, 0xff9f1a, 0xff5cb0,
  0xf2dc1d, 0xa77bff, 0x1fd8e6, 0xff4d4d, 0xa8e61d, 0x9a9a9a };
#define N_PALETTE G_N_ELEMENTS (track_palette)

/* Each track its palette colour: its id's own ((id - 1) mod 10, as
 * affectoverlay gives it) unless an earlier track has it, then the next
 * free one; colours repeat only beyond ten tracks. */
static void
assign_colors (Data *d)
{
  guint used[N_PALETTE] = { 0 }, i, k;

  for (i = 0; i < d->tracks->len; i++) {
    Track *t = g_ptr_array_index (d->tracks, i);
    guint first = (guint)((t->id + N_PALETTE - 1) % N_PALETTE), best = first;

    for (k = 1; k < N_PALETTE; k++) {
      guint c = (first + k) % N_PALETTE;

      if (used[c] < used[best])
        best = c;
    }
    t->color = best;
    used[best]++;
  }
}

static void
set_rgb (cairo_t *cr, guint32 rgb, gdouble alpha)
{
  cairo_set_source_rgba (cr, ((rgb >> 16) & 0xff) / 255.0,
      ((rgb >> 8) & 0xff) / 255.0, (rgb & 0xff) / 255.0, alpha);
}

/* The colour of an expression class: by name for the usual ones (ABAW and
 * face-api names), else from a wheel of hues. */
static guint32
expression_color (const gchar *label, guint index)
{
  static const struct {
    const gchar *names[3];
    guint32 rgb;
  } known[] = {
    { { "neutral", NULL }, 0xb0b0b0 },
    { { "anger", "angry", NULL }, 0xe53935 },
    { { "disgust", "disgusted", NULL }, 0x7c9a2a },
    { { "fear", "fearful", "scared" }, 0x8e44ad },
    { { "happiness", "happy", "joy" }, 0xfbc02d },
    { { "sadness", "sad", NULL }, 0x1e6fd9 },
    { { "surprise", "surprised", NULL }, 0x00b8d4 },
    { { "contempt", NULL }, 0xd35400 },
    { { "other", NULL }, 0x6d4c41 },
  };
  static const guint32 wheel[]
      = { 0xef6c00, 0x00897b, 0xc2185b, 0x5e35b1, 0x7cb342, 0x3949ab };
  guint i, k;

  for (i = 0; i < G_N_ELEMENTS (known); i++)
    for (k = 0; k < 3 && known[i].names[k]; k++)
      if (g_ascii_strcasecmp (label, known[i].names[k]) == 0)
        return known[i].rgb;
  return wheel[index % G_N_ELEMENTS (wheel)];
}

/* The heat map colour of an activation in [0, 1]: dark blue, teal, green,
 * yellow. */
static guint32
heat_color (gdouble v)
{
  static const guint32 stops[]
      = { 0x141a33, 0x23537f, 0x1f9488, 0x8fcb45, 0xffe34d };
  gdouble x = CLAMP (v, 0.0, 1.0) * (G_N_ELEMENTS (stops) - 1);
  guint i = MIN ((guint)x, G_N_ELEMENTS (stops) - 2);
  gdouble f = x - i;
  guint32 a = stops[i], b = stops[i + 1], out = 0;
  guint sh;

  for (sh = 0; sh <= 16; sh += 8) {
    gdouble ca = (a >> sh) & 0xff, cb = (b >> sh) & 0xff;

    out |= (guint32)lround (ca + (cb - ca) * f) << sh;
  }
  return out;
}

/* ------------------------------------------------------------------ */
/* Layout and text                                                     */
/* ------------------------------------------------------------------ */

#define MARGIN 24.0
#define TITLE_H 44.0
#define RIGHT_W 360.0 /* legends and scatter */
#define LABEL_W 92.0  /* y labels of the time panels */
#define HEADER_H 26.0
#define EXPR_H 110.0
#define AU_ROW_H 11.0
#define VA_H 80.0
#define PANEL_GAP 8.0
#define AXIS_H 24.0
#define BLOCK_GAP 22.0
#define LEGEND_ROW 18.0
#define FONT_PX 12.0
#define INK 0x202020
#define GRID 0xe2e2e2
#define VALENCE_COLOR 0xd35400
#define AROUSAL_COLOR 0x2962ff

typedef struct {
  cairo_t *cr;
  PangoLayout *layout;
  gdouble width, height;
  gdouble x0, x1; /* time panels' plot area */
  gdouble t0, t1;
  guint columns; /* pixel columns of the plot area */
} Plot;

typedef enum {
  ALIGN_LEFT,
  ALIGN_CENTER,
  ALIGN_RIGHT,
} Align;

/* Draws @text with its top at @y, aligned on @x. Returns its width. */
static gdouble
text (Plot *p, gdouble x, gdouble y, const gchar *str, gdouble px,
    gboolean bold, guint32 rgb, Align align)
{
  PangoFontDescription *font = pango_font_description_from_string ("Sans");
  PangoRectangle r;

  pango_font_description_set_absolute_size (font, px * PANGO_SCALE);
  if (bold)
    pango_font_description_set_weight (font, PANGO_WEIGHT_BOLD);
  pango_layout_set_font_description (p->layout, font);
  pango_font_description_free (font);
  pango_layout_set_text (p->layout, str, -1);
  pango_layout_get_pixel_extents (p->layout, NULL, &r);
  if (align == ALIGN_CENTER)
    x -= r.width / 2.0;
  else if (align == ALIGN_RIGHT)
    x -= r.width;
  set_rgb (p->cr, rgb, 1.0);
  cairo_move_to (p->cr, x, y);
  pango_cairo_show_layout (p->cr, p->layout);
  return r.width;
}

static gdouble
time_x (const Plot *p, gdouble t)
{
  return p->x0 + (t - p->t0) / (p->t1 - p->t0) * (p->x1 - p->x0);
}

/* A tick step giving at most @max_ticks ticks over @span seconds. */
static gdouble
tick_step (gdouble span, gdouble max_ticks)
{
  static const gdouble steps[] = { 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10,
    15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (steps); i++)
    if (span / steps[i] <= max_ticks)
      return steps[i];
  return ceil (span / max_ticks / 3600) * 3600;
}

static void
format_time (gdouble t, gdouble step, gchar *buf, gsize size)
{
  if (step < 0.1)
    g_snprintf (buf, size, "%.2f", t);
  else if (step < 1)
    g_snprintf (buf, size, "%.1f", t);
  else
    g_snprintf (buf, size, "%.0f", t);
}

/* Vertical grid lines of the time ticks over [@y0, @y1]; with @labels the
 * tick labels below. */
static void
time_grid (Plot *p, gdouble y0, gdouble y1, gboolean labels)
{
  gdouble step = tick_step (p->t1 - p->t0, (p->x1 - p->x0) / 70.0), t;
  gchar buf[32];

  cairo_set_line_width (p->cr, 1.0);
  for (t = ceil (p->t0 / step - 1e-9) * step; t <= p->t1 + 1e-9; t += step) {
    gdouble x = round (time_x (p, t)) + 0.5;

    set_rgb (p->cr, labels ? INK : GRID, labels ? 0.6 : 1.0);
    cairo_move_to (p->cr, x, labels ? y0 : y0);
    cairo_line_to (p->cr, x, labels ? y0 + 4 : y1);
    cairo_stroke (p->cr);
    if (labels) {
      format_time (fabs (t) < step * 1e-6 ? 0 : t, step, buf, sizeof (buf));
      text (p, x, y0 + 5, buf, FONT_PX * 0.9, FALSE, INK, ALIGN_CENTER);
    }
  }
  if (labels)
    text (p, p->x1, y0 + 5 + FONT_PX, "time (s)", FONT_PX * 0.9, FALSE, INK,
        ALIGN_RIGHT);
}

static void
panel_frame (Plot *p, gdouble y0, gdouble h)
{
  set_rgb (p->cr, 0xf7f7f7, 1.0);
  cairo_rectangle (p->cr, p->x0, y0, p->x1 - p->x0, h);
  cairo_fill (p->cr);
  time_grid (p, y0, y0 + h, FALSE);
  set_rgb (p->cr, 0xb0b0b0, 1.0);
  cairo_set_line_width (p->cr, 1.0);
  cairo_rectangle (p->cr, p->x0 + 0.5, y0 + 0.5, p->x1 - p->x0 - 1, h - 1);
  cairo_stroke (p->cr);
}

/* ------------------------------------------------------------------ */
/* The time panels of a track                                          */
/* ------------------------------------------------------------------ */

/* The samples of a track averaged over the pixel columns of the plot: a
 * sample covers the time until the next one (at most 1.5 typical steps,
 * so that gaps show), and a column the mean of what covers it. */
typedef struct {
  guint n_expr, n_au;
  gdouble *w_expr, *expr; /* columns × n_expr */
  gdouble *w_au, *au;     /* columns × n_au */
  gdouble *w_va, *va;     /* columns × 2 */
} Columns;

static void
columns_clear (Columns *c)
{
  g_free (c->w_expr);
  g_free (c->expr);
  g_free (c->w_au);
  g_free (c->au);
  g_free (c->w_va);
  g_free (c->va);
}

static void
columns_fill (Columns *c, const Plot *p, const Data *d, const Track *t)
{
  guint n = p->columns, i, k;
  gdouble col_t = (p->t1 - p->t0) / n;

  c->n_expr = d->expr_labels->len;
  c->n_au = d->au_labels->len;
  c->w_expr = g_new0 (gdouble, n);
  c->expr = g_new0 (gdouble, (gsize)n * MAX (1, c->n_expr));
  c->w_au = g_new0 (gdouble, n);
  c->au = g_new0 (gdouble, (gsize)n * MAX (1, c->n_au));
  c->w_va = g_new0 (gdouble, n);
  c->va = g_new0 (gdouble, (gsize)n * 2);

  for (i = 0; i < t->samples->len; i++) {
    const Sample *s = &g_array_index (t->samples, Sample, i);
    gdouble end = s->t + d->dt, a, b;
    guint c0, c1, col;

    if (i + 1 < t->samples->len) {
      gdouble next = g_array_index (t->samples, Sample, i + 1).t;

      if (next > s->t && next - s->t <= 1.5 * d->dt)
        end = next;
    }
    a = (s->t - p->t0) / col_t;
    b = (end - p->t0) / col_t;
    c0 = (guint)CLAMP (floor (a), 0, n - 1);
    c1 = (guint)CLAMP (ceil (b), 1, n);
    for (col = c0; col < c1; col++) {
      /* the share of the column this sample covers */
      gdouble w = MIN (b, col + 1.0) - MAX (a, (gdouble)col);

      if (w <= 0)
        continue;
      if (s->expr) {
        gdouble sum = 0;

        for (k = 0; k < s->n_expr; k++)
          if (isfinite (s->expr[k]))
            sum += CLAMP (s->expr[k], 0.0f, 1.0f);
        if (sum > 0) {
          /* stacked to 1 (probabilities that sum to more are scaled) */
          sum = MAX (sum, 1.0);
          for (k = 0; k < s->n_expr; k++)
            if (isfinite (s->expr[k]))
              c->expr[(gsize)col * c->n_expr + k]
                  += w * CLAMP (s->expr[k], 0.0f, 1.0f) / sum;
          c->w_expr[col] += w;
        }
      }
      if (s->au) {
        for (k = 0; k < s->n_au; k++)
          if (isfinite (s->au[k]))
            c->au[(gsize)col * c->n_au + k] += w * CLAMP (s->au[k], 0.0f, 1.0f);
        c->w_au[col] += w;
      }
      if (s->has_va) {
        c->va[2 * col] += w * CLAMP (s->va[0], -1.0f, 1.0f);
        c->va[2 * col + 1] += w * CLAMP (s->va[1], -1.0f, 1.0f);
        c->w_va[col] += w;
      }
    }
  }
  for (i = 0; i < n; i++) {
    for (k = 0; k < c->n_expr && c->w_expr[i] > 0; k++)
      c->expr[(gsize)i * c->n_expr + k] /= c->w_expr[i];
    for (k = 0; k < c->n_au && c->w_au[i] > 0; k++)
      c->au[(gsize)i * c->n_au + k] /= c->w_au[i];
    if (c->w_va[i] > 0) {
      c->va[2 * i] /= c->w_va[i];
      c->va[2 * i + 1] /= c->w_va[i];
    }
  }
}

/* Expression probabilities as stacked areas over [y0, y0 + h]: one path
 * per class and run of covered columns. */
static void
draw_expression (
    Plot *p, const Data *d, const Columns *c, gdouble y0, gdouble h)
{
  guint n = p->columns, k, i, j;
  gdouble cw = (p->x1 - p->x0) / n;

  panel_frame (p, y0, h);
  text (p, p->x0 - 8, y0 + 2, "expression", FONT_PX, FALSE, INK, ALIGN_RIGHT);
  text (p, p->x0 - 4, y0 + h - FONT_PX - 3, "0", FONT_PX * 0.85, FALSE, INK,
      ALIGN_RIGHT);
  text (p, p->x0 - 4, y0 + FONT_PX + 4, "1", FONT_PX * 0.85, FALSE, INK,
      ALIGN_RIGHT);
  for (i = 0; i < n;) {
    if (c->w_expr[i] <= 0) {
      i++;
      continue;
    }
    for (j = i; j < n && c->w_expr[j] > 0; j++)
      ;
    /* columns [i, j) are covered */
    for (k = 0; k < c->n_expr; k++) {
      guint col;

      for (col = i; col < j; col++) {
        gdouble below = 0, top;
        guint q;

        for (q = 0; q < k; q++)
          below += c->expr[(gsize)col * c->n_expr + q];
        top = below + c->expr[(gsize)col * c->n_expr + k];
        top = y0 + h - MIN (top, 1.0) * h;
        if (col == i)
          cairo_move_to (p->cr, p->x0 + col * cw, top);
        else
          cairo_line_to (p->cr, p->x0 + col * cw, top);
        cairo_line_to (p->cr, p->x0 + (col + 1) * cw, top);
      }
      for (col = j; col-- > i;) {
        gdouble below = 0;
        guint q;

        for (q = 0; q < k; q++)
          below += c->expr[(gsize)col * c->n_expr + q];
        below = y0 + h - MIN (below, 1.0) * h;
        cairo_line_to (p->cr, p->x0 + (col + 1) * cw, below);
        cairo_line_to (p->cr, p->x0 + col * cw, below);
      }
      cairo_close_path (p->cr);
      set_rgb (p->cr,
          expression_color (g_ptr_array_index (d->expr_labels, k), k), 1.0);
      cairo_fill (p->cr);
    }
    i = j;
  }
}

/* AU activations as a heat map over [y0, y0 + rows]: per AU row, runs of
 * columns of one colour (activations quantised to 1/32). */
static void
draw_au (Plot *p, const Data *d, const Columns *c, gdouble y0)
{
  guint n = p->columns, k, i, j;
  gdouble cw = (p->x1 - p->x0) / n, h = c->n_au * AU_ROW_H;

  panel_frame (p, y0, h);
  for (k = 0; k < c->n_au; k++) {
    gdouble ry = y0 + k * AU_ROW_H;

    text (p, p->x0 - 4, ry + (AU_ROW_H - FONT_PX * 0.8) / 2 - 2,
        g_ptr_array_index (d->au_labels, k), FONT_PX * 0.8, FALSE, INK,
        ALIGN_RIGHT);
    for (i = 0; i < n;) {
      gint level;

      if (c->w_au[i] <= 0) {
        i++;
        continue;
      }
      level = (gint)lround (c->au[(gsize)i * c->n_au + k] * 32);
      for (j = i + 1; j < n && c->w_au[j] > 0
                      && lround (c->au[(gsize)j * c->n_au + k] * 32) == level;
           j++)
        ;
      set_rgb (p->cr, heat_color (level / 32.0), 1.0);
      cairo_rectangle (p->cr, p->x0 + i * cw, ry, (j - i) * cw, AU_ROW_H);
      cairo_fill (p->cr);
      i = j;
    }
  }
  text (p, p->x0 - 8 - 40, y0 + h / 2 - FONT_PX / 2, "AU", FONT_PX, FALSE, INK,
      ALIGN_RIGHT);
}

/* Valence and arousal as lines over [y0, y0 + h] (-1 at the bottom, +1 at
 * the top). */
static void
draw_va (Plot *p, const Columns *c, gdouble y0, gdouble h)
{
  guint n = p->columns, i, k;
  gdouble cw = (p->x1 - p->x0) / n, mid = y0 + h / 2;

  panel_frame (p, y0, h);
  set_rgb (p->cr, 0x909090, 1.0);
  cairo_set_line_width (p->cr, 1.0);
  cairo_move_to (p->cr, p->x0, round (mid) + 0.5);
  cairo_line_to (p->cr, p->x1, round (mid) + 0.5);
  cairo_stroke (p->cr);
  text (p, p->x0 - 8, y0 + 2, "valence", FONT_PX, FALSE, VALENCE_COLOR,
      ALIGN_RIGHT);
  text (p, p->x0 - 8, y0 + 4 + FONT_PX, "arousal", FONT_PX, FALSE,
      AROUSAL_COLOR, ALIGN_RIGHT);
  text (p, p->x0 - 4, y0 + h - FONT_PX - 2, "-1", FONT_PX * 0.85, FALSE, INK,
      ALIGN_RIGHT);
  text (p, p->x0 - 4, mid - FONT_PX / 2 - 1, "0", FONT_PX * 0.85, FALSE, INK,
      ALIGN_RIGHT);
  for (k = 0; k < 2; k++) {
    gboolean drawing = FALSE;

    for (i = 0; i < n; i++) {
      gdouble x = p->x0 + (i + 0.5) * cw, y;

      if (c->w_va[i] <= 0) {
        drawing = FALSE;
        continue;
      }
      y = mid - c->va[2 * i + k] * (h / 2 - 2);
      if (!drawing)
        cairo_move_to (p->cr, x, y);
      else
        cairo_line_to (p->cr, x, y);
      drawing = TRUE;
    }
    set_rgb (p->cr, k == 0 ? VALENCE_COLOR : AROUSAL_COLOR, 1.0);
    cairo_set_line_width (p->cr, 1.5);
    cairo_set_line_join (p->cr, CAIRO_LINE_JOIN_ROUND);
    cairo_stroke (p->cr);
  }
}

/* The height of a track's block. */
static gdouble
block_height (const Data *d)
{
  gdouble h = HEADER_H + AXIS_H;

  if (d->has_expr)
    h += EXPR_H + PANEL_GAP;
  if (d->has_au)
    h += d->au_labels->len * AU_ROW_H + PANEL_GAP;
  if (d->has_va)
    h += VA_H + PANEL_GAP;
  return h;
}

static gdouble
draw_track (Plot *p, const Data *d, const Track *t, gdouble y)
{
  Columns c = { 0 };
  gchar *head;
  gdouble w, last;

  columns_fill (&c, p, d, t);
  set_rgb (p->cr, track_palette[t->color], 1.0);
  cairo_rectangle (p->cr, MARGIN, y + 3, 14, 14);
  cairo_fill (p->cr);
  head = g_strdup_printf ("track %" G_GINT64_FORMAT, t->id);
  w = text (p, MARGIN + 20, y + 1, head, FONT_PX * 1.2, TRUE, INK, ALIGN_LEFT);
  g_free (head);
  head = g_strdup_printf (
      "%u frames, %.2f–%.2f s", t->n_with_data, t->t0, t->t1);
  text (p, MARGIN + 32 + w, y + 3, head, FONT_PX, FALSE, 0x606060, ALIGN_LEFT);
  g_free (head);
  y += HEADER_H;

  if (d->has_expr) {
    draw_expression (p, d, &c, y, EXPR_H);
    y += EXPR_H + PANEL_GAP;
  }
  if (d->has_au) {
    draw_au (p, d, &c, y);
    y += d->au_labels->len * AU_ROW_H + PANEL_GAP;
  }
  if (d->has_va) {
    draw_va (p, &c, y, VA_H);
    y += VA_H + PANEL_GAP;
  }
  last = y - PANEL_GAP;
  time_grid (p, last, last, TRUE);
  columns_clear (&c);
  return y - PANEL_GAP + AXIS_H;
}

/* ------------------------------------------------------------------ */
/* The right column: legends and the VA scatter                        */
/* ------------------------------------------------------------------ */

static gdouble
right_height (const Data *d)
{
  gdouble h = 0;

  if (d->has_expr)
    h += LEGEND_ROW * (1.5 + (d->expr_labels->len + 1) / 2) + 12;
  if (d->has_au)
    h += LEGEND_ROW * 1.5 + 30 + 12;
  if (d->has_va)
    h += LEGEND_ROW * 1.5 + RIGHT_W + 12;
  h += LEGEND_ROW * (1.5 + d->tracks->len);
  return h;
}

static void
draw_scatter (Plot *p, const Data *d, gdouble x, gdouble y, gdouble size)
{
  gdouble cx = x + size / 2, cy = y + size / 2, r = size / 2 - 16;
  guint i, j;

  set_rgb (p->cr, 0xf7f7f7, 1.0);
  cairo_rectangle (p->cr, x, y, size, size);
  cairo_fill (p->cr);
  set_rgb (p->cr, 0xb0b0b0, 1.0);
  cairo_set_line_width (p->cr, 1.0);
  cairo_rectangle (p->cr, x + 0.5, y + 0.5, size - 1, size - 1);
  cairo_stroke (p->cr);
  set_rgb (p->cr, 0x909090, 1.0);
  cairo_arc (p->cr, cx, cy, r, 0, 2 * G_PI);
  cairo_stroke (p->cr);
  cairo_move_to (p->cr, cx - r, cy);
  cairo_line_to (p->cr, cx + r, cy);
  cairo_move_to (p->cr, cx, cy - r);
  cairo_line_to (p->cr, cx, cy + r);
  cairo_stroke (p->cr);
  text (p, cx + r, cy + 2, "valence +1", FONT_PX * 0.85, FALSE, 0x606060,
      ALIGN_RIGHT);
  text (p, cx - r, cy + 2, "-1", FONT_PX * 0.85, FALSE, 0x606060, ALIGN_LEFT);
  text (p, cx + 4, cy - r, "arousal +1", FONT_PX * 0.85, FALSE, 0x606060,
      ALIGN_LEFT);
  text (p, cx + 4, cy + r - FONT_PX, "-1", FONT_PX * 0.85, FALSE, 0x606060,
      ALIGN_LEFT);

  /* the points of every track, then each track's mean on top */
  for (i = 0; i < d->tracks->len; i++) {
    const Track *t = g_ptr_array_index (d->tracks, i);
    guint n = 0, stride;

    for (j = 0; j < t->samples->len; j++)
      n += g_array_index (t->samples, Sample, j).has_va;
    if (n == 0)
      continue;
    stride = (n + MAX_SCATTER_POINTS - 1) / MAX_SCATTER_POINTS;
    set_rgb (p->cr, track_palette[t->color], 0.45);
    for (j = 0, n = 0; j < t->samples->len; j++) {
      const Sample *s = &g_array_index (t->samples, Sample, j);

      if (!s->has_va || n++ % stride)
        continue;
      cairo_new_sub_path (p->cr);
      cairo_arc (p->cr, cx + CLAMP (s->va[0], -1.0f, 1.0f) * r,
          cy - CLAMP (s->va[1], -1.0f, 1.0f) * r, 2.2, 0, 2 * G_PI);
    }
    cairo_fill (p->cr);
  }
  for (i = 0; i < d->tracks->len; i++) {
    const Track *t = g_ptr_array_index (d->tracks, i);
    gdouble sv = 0, sa = 0;
    guint n = 0;

    for (j = 0; j < t->samples->len; j++) {
      const Sample *s = &g_array_index (t->samples, Sample, j);

      if (s->has_va) {
        sv += CLAMP (s->va[0], -1.0f, 1.0f);
        sa += CLAMP (s->va[1], -1.0f, 1.0f);
        n++;
      }
    }
    if (n == 0)
      continue;
    cairo_new_path (p->cr);
    cairo_arc (p->cr, cx + sv / n * r, cy - sa / n * r, 6, 0, 2 * G_PI);
    set_rgb (p->cr, track_palette[t->color], 1.0);
    cairo_fill_preserve (p->cr);
    set_rgb (p->cr, INK, 1.0);
    cairo_set_line_width (p->cr, 1.5);
    cairo_stroke (p->cr);
  }
}

static void
draw_right (Plot *p, const Data *d, gdouble x, gdouble y)
{
  guint i;
  gchar *str;

  if (d->has_expr) {
    text (p, x, y, "Expressions", FONT_PX * 1.1, TRUE, INK, ALIGN_LEFT);
    y += LEGEND_ROW * 1.5;
    for (i = 0; i < d->expr_labels->len; i++) {
      gdouble lx = x + (i % 2) * RIGHT_W / 2;
      gdouble ly = y + (i / 2) * LEGEND_ROW;

      set_rgb (p->cr,
          expression_color (g_ptr_array_index (d->expr_labels, i), i), 1.0);
      cairo_rectangle (p->cr, lx, ly + 2, 12, 12);
      cairo_fill (p->cr);
      text (p, lx + 18, ly, g_ptr_array_index (d->expr_labels, i), FONT_PX,
          FALSE, INK, ALIGN_LEFT);
    }
    y += LEGEND_ROW * ((d->expr_labels->len + 1) / 2) + 12;
  }
  if (d->has_au) {
    gdouble w = RIGHT_W - 60;

    text (p, x, y, "Action unit activation", FONT_PX * 1.1, TRUE, INK,
        ALIGN_LEFT);
    y += LEGEND_ROW * 1.5;
    for (i = 0; i < 64; i++) {
      set_rgb (p->cr, heat_color ((i + 0.5) / 64), 1.0);
      cairo_rectangle (p->cr, x + 10 + i * w / 64, y, w / 64 + 0.5, 12);
      cairo_fill (p->cr);
    }
    text (p, x + 10, y + 14, "0", FONT_PX * 0.85, FALSE, INK, ALIGN_CENTER);
    text (p, x + 10 + w / 2, y + 14, "0.5", FONT_PX * 0.85, FALSE, INK,
        ALIGN_CENTER);
    text (p, x + 10 + w, y + 14, "1", FONT_PX * 0.85, FALSE, INK, ALIGN_CENTER);
    y += 30 + 12;
  }
  if (d->has_va) {
    text (p, x, y, "Valence / arousal", FONT_PX * 1.1, TRUE, INK, ALIGN_LEFT);
    text (p, x + RIGHT_W, y + 2, "dots: frames, rings: track means",
        FONT_PX * 0.9, FALSE, 0x606060, ALIGN_RIGHT);
    y += LEGEND_ROW * 1.5;
    draw_scatter (p, d, x, y, RIGHT_W);
    y += RIGHT_W + 12;
  }
  text (p, x, y, "Tracks", FONT_PX * 1.1, TRUE, INK, ALIGN_LEFT);
  y += LEGEND_ROW * 1.5;
  for (i = 0; i < d->tracks->len; i++) {
    const Track *t = g_ptr_array_index (d->tracks, i);

    set_rgb (p->cr, track_palette[t->color], 1.0);
    cairo_rectangle (p->cr, x, y + 2, 12, 12);
    cairo_fill (p->cr);
    str = g_strdup_printf (
        "%" G_GINT64_FORMAT "  (%u frames)", t->id, t->n_with_data);
    text (p, x + 18, y, str, FONT_PX, FALSE, INK, ALIGN_LEFT);
    g_free (str);
    y += LEGEND_ROW;
  }
}

/* ------------------------------------------------------------------ */
/* The figure                                                          */
/* ------------------------------------------------------------------ */

static void
figure_size (const Data *d, gdouble width, gdouble *height)
{
  gdouble left = d->tracks->len * (block_height (d) + BLOCK_GAP) - BLOCK_GAP;

  *height = ceil (MARGIN + TITLE_H + MAX (left, right_height (d)) + MARGIN);
  (void)width;
}

static void
draw_figure (cairo_t *cr, const Data *d, gdouble width, gdouble height,
    const gchar *title)
{
  Plot p = { 0 };
  gdouble y;
  gchar *sub;
  guint i;

  p.cr = cr;
  p.layout = pango_cairo_create_layout (cr);
  p.width = width;
  p.height = height;
  p.x0 = MARGIN + LABEL_W;
  p.x1 = width - MARGIN - RIGHT_W - MARGIN;
  p.t0 = d->t0;
  p.t1 = d->t1 + d->dt;
  p.columns = MAX (1, (guint)floor (p.x1 - p.x0));
  p.x1 = p.x0 + p.columns;

  set_rgb (cr, 0xffffff, 1.0);
  cairo_paint (cr);

  text (&p, MARGIN, MARGIN - 6, title, FONT_PX * 1.5, TRUE, INK, ALIGN_LEFT);
  sub = g_strdup_printf ("%u track%s, %.2f–%.2f s, %u frames with predictions",
      d->tracks->len, d->tracks->len == 1 ? "" : "s", d->t0, d->t1, d->n_times);
  text (&p, MARGIN, MARGIN + FONT_PX * 1.5, sub, FONT_PX, FALSE, 0x606060,
      ALIGN_LEFT);
  g_free (sub);

  y = MARGIN + TITLE_H;
  for (i = 0; i < d->tracks->len; i++)
    y = draw_track (&p, d, g_ptr_array_index (d->tracks, i), y) + BLOCK_GAP;
  draw_right (&p, d, width - MARGIN - RIGHT_W, MARGIN + TITLE_H);
  g_object_unref (p.layout);
}

static gboolean
write_figure (const Data *d, const gchar *out, gint width, const gchar *title,
    gint *out_h, GError **error)
{
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;
  gboolean svg
      = g_str_has_suffix (out, ".svg") || g_str_has_suffix (out, ".SVG");
  gdouble height;

  figure_size (d, width, &height);
  *out_h = (gint)height;
  if (svg) {
    surface = cairo_svg_surface_create (out, width, height);
    if (cairo_surface_status (surface) == CAIRO_STATUS_SUCCESS)
      cairo_svg_surface_set_document_unit (surface, CAIRO_SVG_UNIT_PX);
  } else {
    surface
        = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, (gint)height);
  }
  status = cairo_surface_status (surface);
  if (status != CAIRO_STATUS_SUCCESS) {
    g_set_error (
        error, PLOT_ERROR, 0, "%s: %s", out, cairo_status_to_string (status));
    cairo_surface_destroy (surface);
    return FALSE;
  }
  cr = cairo_create (surface);
  draw_figure (cr, d, width, height, title);
  cairo_destroy (cr);
  if (svg) {
    cairo_surface_finish (surface);
    status = cairo_surface_status (surface);
  } else {
    status = cairo_surface_write_to_png (surface, out);
  }
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS) {
    g_set_error (error, PLOT_ERROR, 0, "cannot write %s: %s", out,
        cairo_status_to_string (status));
    return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Command line                                                        */
/* ------------------------------------------------------------------ */

static GHashTable *
parse_tracks (const gchar *list, GError **error)
{
  GHashTable *set
      = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  gchar **parts = g_strsplit (list, ",", -1);
  guint i;

  for (i = 0; parts[i]; i++) {
    gchar *end = NULL, *s = g_strstrip (parts[i]);
    gint64 *id;
    guint64 v;

    if (!s[0])
      continue;
    errno = 0;
    v = g_ascii_strtoull (s, &end, 10);
    if (errno || end == s || *end || v > G_MAXUINT32) {
      g_set_error (
          error, PLOT_ERROR, 0, "--tracks: \"%s\" is not a track id", s);
      g_strfreev (parts);
      g_hash_table_destroy (set);
      return NULL;
    }
    id = g_new (gint64, 1);
    *id = (gint64)v;
    g_hash_table_add (set, id);
  }
  g_strfreev (parts);
  return set;
}

int
main (int argc, char **argv)
{
  /* freed on every return, the early usage errors included */
  g_autofree gchar *output = NULL;
  g_autofree gchar *tracks = NULL;
  g_autofree gchar *title = NULL;
  gint width = 1400;
  gdouble fps = 30;
  gboolean version = FALSE;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
        "The figure to write: FILE.png or FILE.svg (required)", "FILE" },
    { "width", 'w', 0, G_OPTION_ARG_INT, &width,
        "Width of the figure in pixels, 900 to 10000 (default 1400); the "
        "height follows from the tracks and parts",
        "PX" },
    { "fps", 0, 0, G_OPTION_ARG_DOUBLE, &fps,
        "Frame rate for records that only have a frame number (default 30)",
        "N" },
    { "tracks", 't', 0, G_OPTION_ARG_STRING, &tracks,
        "Only these track ids, e.g. 1,4,7", "LIST" },
    { "title", 0, 0, G_OPTION_ARG_STRING, &title,
        "Title of the figure (default: the input file's name)", "TEXT" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL },
    { NULL },
  };
  GOptionContext *ctx = g_option_context_new (
      "FILE.jsonl - timeline of affectsink predictions as PNG or SVG");
  GHashTable *only = NULL;
  GError *error = NULL;
  gchar *base;
  Data d;
  gint height, status = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
      "Per track: expression probabilities as stacked areas, action units "
      "as a heat map, valence/arousal as lines (time in seconds); and a "
      "valence/arousal scatter of all tracks. Input: the JSON Lines of "
      "affectsink (one frame per line) or flat records (one face per line); "
      "see docs/plot.md.");
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("affect-plot: %s\n", error->message);
    g_error_free (error);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);
  if (version) {
    g_print ("affect-plot %s\n", AFFECT_VERSION);
    return 0;
  }
  if (argc != 2 || output == NULL) {
    g_printerr ("usage: affect-plot FILE.jsonl -o OUT.png|OUT.svg "
                "[--width PX] [--fps N] [--tracks LIST] [--title TEXT]\n");
    return 2;
  }
  if (!g_str_has_suffix (output, ".png") && !g_str_has_suffix (output, ".PNG")
      && !g_str_has_suffix (output, ".svg")
      && !g_str_has_suffix (output, ".SVG")) {
    g_printerr (
        "affect-plot: %s: the output must end in .png or .svg\n", output);
    return 2;
  }
  if (width < 900 || width > 10000) {
    g_printerr ("affect-plot: --width must be between 900 and 10000\n");
    return 2;
  }
  if (!(fps > 0 && fps <= 1000)) {
    g_printerr ("affect-plot: --fps must be in (0, 1000]\n");
    return 2;
  }
  if (tracks && !(only = parse_tracks (tracks, &error))) {
    g_printerr ("affect-plot: %s\n", error->message);
    g_error_free (error);
    return 2;
  }

  data_init (&d);
  if (!load (&d, argv[1], fps, only, &error)) {
    g_printerr ("affect-plot: %s\n", error->message);
    g_clear_error (&error);
    status = 1;
    goto done;
  }
  assign_colors (&d);
  base = g_path_get_basename (argv[1]);
  if (!write_figure (
          &d, output, width, title ? title : base, &height, &error)) {
    g_printerr ("affect-plot: %s\n", error->message);
    g_clear_error (&error);
    status = 1;
  } else {
    g_print ("affect-plot: wrote %s (%d x %d, %u track%s)\n", output, width,
        height, d.tracks->len, d.tracks->len == 1 ? "" : "s");
  }
  g_free (base);

done:
  data_clear (&d);
  if (only)
    g_hash_table_destroy (only);
  return status;
}
