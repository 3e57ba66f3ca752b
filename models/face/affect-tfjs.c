/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * TensorFlow.js weights manifest + shard reader. See affect-tfjs.h.
 */

#include "affect-tfjs.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

/* Largest manifest accepted (bytes); real ones are a few tens of KiB. */
#define MAX_MANIFEST_SIZE (16u * 1024u * 1024u)

GQuark
affect_tfjs_error_quark (void)
{
  return g_quark_from_static_string ("affect-tfjs-error-quark");
}

#define FORMAT_ERROR(...) \
  g_set_error (error, AFFECT_TFJS_ERROR, AFFECT_TFJS_ERROR_FORMAT, __VA_ARGS__)
#define UNSUPPORTED_ERROR(...) \
  g_set_error (                \
      error, AFFECT_TFJS_ERROR, AFFECT_TFJS_ERROR_UNSUPPORTED, __VA_ARGS__)

gchar *
affect_tfjs_model_name (const gchar *manifest_path)
{
  gchar *base = g_path_get_basename (manifest_path);
  static const gchar *suffixes[] = { "-weights_manifest.json", ".json" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (suffixes); i++) {
    if (g_str_has_suffix (base, suffixes[i])
        && strlen (base) > strlen (suffixes[i])) {
      base[strlen (base) - strlen (suffixes[i])] = '\0';
      break;
    }
  }
  return base;
}

void
affect_tfjs_model_free (AffectTfjsModel *model)
{
  guint i;

  if (!model)
    return;
  for (i = 0; i < model->n_tensors; i++) {
    g_free (model->tensors[i].name);
    g_free (model->tensors[i].data);
  }
  g_free (model->tensors);
  for (i = 0; i < model->n_shards; i++) {
    g_free (model->shards[i].path);
    g_free (model->shards[i].sha256);
  }
  g_free (model->shards);
  g_free (model->manifest_path);
  g_free (model->manifest_sha256);
  g_free (model);
}

const AffectTfjsTensor *
affect_tfjs_find (const AffectTfjsModel *model, const gchar *name)
{
  guint i;

  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  for (i = 0; i < model->n_tensors; i++)
    if (strcmp (model->tensors[i].name, name) == 0)
      return &model->tensors[i];
  return NULL;
}

static gboolean
is_safe_relative_path (const gchar *p)
{
  gchar **parts;
  gboolean ok = TRUE;
  guint i;

  if (p[0] == '\0' || g_path_is_absolute (p) || strchr (p, '\\'))
    return FALSE;
  parts = g_strsplit (p, "/", -1);
  for (i = 0; parts[i]; i++)
    if (strcmp (parts[i], "..") == 0)
      ok = FALSE;
  g_strfreev (parts);
  return ok;
}

static gboolean
get_number (JsonObject *obj, const gchar *member, gdouble *out)
{
  JsonNode *n = json_object_get_member (obj, member);
  GType t;

  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  t = json_node_get_value_type (n);
  if (t == G_TYPE_INT64)
    *out = (gdouble)json_node_get_int (n);
  else if (t == G_TYPE_DOUBLE)
    *out = json_node_get_double (n);
  else
    return FALSE;
  return isfinite (*out);
}

/* JavaScript Math.round: nearest integer, halves towards +infinity. */
static gdouble
js_round (gdouble v)
{
  return floor (v + 0.5);
}

/* Parses one weight entry and decodes it from @data + *@pos. */
static gboolean
decode_weight (const gchar *display, JsonNode *wnode, const guint8 *data,
    gsize data_size, gsize *pos, AffectTfjsTensor *t, GError **error)
{
  JsonObject *w, *q = NULL;
  JsonNode *n;
  JsonArray *shape;
  const gchar *dtype;
  const gchar *qdtype = NULL;
  gdouble scale = 0, min = 0;
  guint64 n_elements = 1;
  gsize in_elem, in_bytes, i;
  guint d;

  if (!JSON_NODE_HOLDS_OBJECT (wnode)) {
    FORMAT_ERROR ("%s: a weights entry is not an object", display);
    return FALSE;
  }
  w = json_node_get_object (wnode);
  n = json_object_get_member (w, "name");
  if (!n || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING) {
    FORMAT_ERROR ("%s: a weights entry has no \"name\" string", display);
    return FALSE;
  }
  t->name = g_strdup (json_node_get_string (n));

  n = json_object_get_member (w, "dtype");
  if (!n || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING) {
    FORMAT_ERROR ("%s: weight '%s' has no \"dtype\" string", display, t->name);
    return FALSE;
  }
  dtype = json_node_get_string (n);
  if (strcmp (dtype, "float32") == 0)
    t->dtype = AFFECT_DTYPE_F32;
  else if (strcmp (dtype, "int32") == 0)
    t->dtype = AFFECT_DTYPE_I32;
  else {
    UNSUPPORTED_ERROR (
        "%s: weight '%s' has unsupported dtype '%s'", display, t->name, dtype);
    return FALSE;
  }

  n = json_object_get_member (w, "shape");
  if (!n || !JSON_NODE_HOLDS_ARRAY (n)) {
    FORMAT_ERROR ("%s: weight '%s' has no \"shape\" array", display, t->name);
    return FALSE;
  }
  shape = json_node_get_array (n);
  if (json_array_get_length (shape) > AFFECT_ST_MAX_DIMS) {
    FORMAT_ERROR ("%s: weight '%s' has %u dimensions (at most %u)", display,
        t->name, json_array_get_length (shape), AFFECT_ST_MAX_DIMS);
    return FALSE;
  }
  t->n_dims = json_array_get_length (shape);
  for (d = 0; d < t->n_dims; d++) {
    JsonNode *e = json_array_get_element (shape, d);
    gint64 v;

    if (!JSON_NODE_HOLDS_VALUE (e)
        || json_node_get_value_type (e) != G_TYPE_INT64
        || (v = json_node_get_int (e)) < 0) {
      FORMAT_ERROR ("%s: weight '%s' shape entry %u is not a non-negative "
                    "integer",
          display, t->name, d);
      return FALSE;
    }
    if (v != 0 && n_elements > (G_MAXSIZE / 8) / (guint64)v) {
      FORMAT_ERROR ("%s: weight '%s' shape is too large", display, t->name);
      return FALSE;
    }
    t->shape[d] = v;
    n_elements *= (guint64)v;
  }
  t->n_elements = (gsize)n_elements;
  t->n_bytes = t->n_elements * 4;

  n = json_object_get_member (w, "quantization");
  if (n && !JSON_NODE_HOLDS_NULL (n)) {
    JsonNode *qd;

    if (!JSON_NODE_HOLDS_OBJECT (n)) {
      FORMAT_ERROR (
          "%s: weight '%s' quantization is not an object", display, t->name);
      return FALSE;
    }
    q = json_node_get_object (n);
    qd = json_object_get_member (q, "dtype");
    if (!qd || !JSON_NODE_HOLDS_VALUE (qd)
        || json_node_get_value_type (qd) != G_TYPE_STRING) {
      FORMAT_ERROR (
          "%s: weight '%s' quantization has no \"dtype\"", display, t->name);
      return FALSE;
    }
    qdtype = json_node_get_string (qd);
    if (strcmp (qdtype, "uint8") != 0 && strcmp (qdtype, "uint16") != 0) {
      UNSUPPORTED_ERROR ("%s: weight '%s' has unsupported quantization dtype "
                         "'%s'",
          display, t->name, qdtype);
      return FALSE;
    }
    if (!get_number (q, "scale", &scale) || !get_number (q, "min", &min)) {
      FORMAT_ERROR ("%s: weight '%s' quantization needs numeric \"scale\" "
                    "and \"min\"",
          display, t->name);
      return FALSE;
    }
    in_elem = strcmp (qdtype, "uint8") == 0 ? 1 : 2;
  } else {
    in_elem = 4;
  }

  in_bytes = t->n_elements * in_elem;
  if (in_bytes > data_size - *pos) {
    FORMAT_ERROR ("%s: weight '%s' needs %" G_GSIZE_FORMAT
                  " bytes at offset %" G_GSIZE_FORMAT
                  " but the weight data is only %" G_GSIZE_FORMAT " bytes",
        display, t->name, in_bytes, *pos, data_size);
    return FALSE;
  }

  t->data = g_malloc (MAX (t->n_bytes, 1));
  if (in_bytes == 0)
    return TRUE; /* no elements; @data may be NULL (a group without data) */
  if (q) {
    const guint8 *src = data + *pos;
    for (i = 0; i < t->n_elements; i++) {
      guint qv = in_elem == 1
                     ? src[i]
                     : (guint)src[2 * i] | ((guint)src[2 * i + 1] << 8);
      gdouble v = (gdouble)qv * scale + min;

      if (t->dtype == AFFECT_DTYPE_F32) {
        ((gfloat *)t->data)[i] = (gfloat)v;
      } else {
        gdouble r = js_round (v);
        if (r < G_MININT32 || r > G_MAXINT32) {
          FORMAT_ERROR ("%s: weight '%s' element %" G_GSIZE_FORMAT
                        " dequantises to %g, outside int32",
              display, t->name, i, v);
          return FALSE;
        }
        ((gint32 *)t->data)[i] = (gint32)r;
      }
    }
  } else {
    const guint8 *src = data + *pos;
    for (i = 0; i < t->n_elements; i++) {
      guint32 u = (guint32)src[4 * i] | ((guint32)src[4 * i + 1] << 8)
                  | ((guint32)src[4 * i + 2] << 16)
                  | ((guint32)src[4 * i + 3] << 24);
      memcpy ((guint8 *)t->data + 4 * i, &u, 4);
    }
  }
  *pos += in_bytes;
  return TRUE;
}

AffectTfjsModel *
affect_tfjs_load (const gchar *manifest_path, GError **error)
{
  AffectTfjsModel *model;
  gchar *text = NULL, *dir = NULL, *display = NULL;
  gsize text_len = 0;
  JsonParser *parser = NULL;
  JsonNode *root;
  JsonArray *groups;
  GError *local = NULL;
  GArray *tensors, *shards;
  guint g, n_groups;
  gboolean ok = FALSE;

  g_return_val_if_fail (manifest_path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  model = g_new0 (AffectTfjsModel, 1);
  model->manifest_path = g_strdup (manifest_path);
  tensors = g_array_new (FALSE, TRUE, sizeof (AffectTfjsTensor));
  shards = g_array_new (FALSE, TRUE, sizeof (AffectTfjsShard));
  display = g_path_get_basename (manifest_path);
  dir = g_path_get_dirname (manifest_path);

  if (!g_file_get_contents (manifest_path, &text, &text_len, &local)) {
    g_set_error (error, AFFECT_TFJS_ERROR, AFFECT_TFJS_ERROR_IO,
        "%s: cannot read: %s", manifest_path, local->message);
    g_clear_error (&local);
    goto out;
  }
  if (text_len > MAX_MANIFEST_SIZE) {
    FORMAT_ERROR ("%s: manifest is %" G_GSIZE_FORMAT " bytes, larger than "
                  "the limit of %u",
        display, text_len, MAX_MANIFEST_SIZE);
    goto out;
  }
  model->manifest_sha256 = g_compute_checksum_for_data (
      G_CHECKSUM_SHA256, (const guchar *)text, text_len);

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, (gssize)text_len, &local)) {
    FORMAT_ERROR ("%s: not valid JSON: %s", display, local->message);
    g_clear_error (&local);
    goto out;
  }
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_ARRAY (root)) {
    FORMAT_ERROR ("%s: manifest is not a JSON list of weight groups", display);
    goto out;
  }
  groups = json_node_get_array (root);
  n_groups = json_array_get_length (groups);

  for (g = 0; g < n_groups; g++) {
    JsonNode *gnode = json_array_get_element (groups, g);
    JsonObject *group;
    JsonNode *pn, *wn;
    JsonArray *paths, *weights;
    GByteArray *data;
    gsize pos = 0;
    guint i;
    gboolean group_ok = FALSE;

    if (!JSON_NODE_HOLDS_OBJECT (gnode)) {
      FORMAT_ERROR ("%s: group %u is not an object", display, g);
      goto out;
    }
    group = json_node_get_object (gnode);
    pn = json_object_get_member (group, "paths");
    wn = json_object_get_member (group, "weights");
    if (!pn || !JSON_NODE_HOLDS_ARRAY (pn) || !wn
        || !JSON_NODE_HOLDS_ARRAY (wn)) {
      FORMAT_ERROR (
          "%s: group %u needs \"paths\" and \"weights\" lists", display, g);
      goto out;
    }
    paths = json_node_get_array (pn);
    weights = json_node_get_array (wn);

    data = g_byte_array_new ();
    for (i = 0; i < json_array_get_length (paths); i++) {
      JsonNode *p = json_array_get_element (paths, i);
      const gchar *rel;
      gchar *full, *contents;
      gsize len;
      AffectTfjsShard shard;

      if (!JSON_NODE_HOLDS_VALUE (p)
          || json_node_get_value_type (p) != G_TYPE_STRING
          || !is_safe_relative_path (json_node_get_string (p))) {
        FORMAT_ERROR ("%s: group %u path %u is not a relative file name "
                      "inside the manifest's folder",
            display, g, i);
        goto group_out;
      }
      rel = json_node_get_string (p);
      full = g_build_filename (dir, rel, NULL);
      if (!g_file_get_contents (full, &contents, &len, &local)) {
        g_set_error (error, AFFECT_TFJS_ERROR, AFFECT_TFJS_ERROR_IO,
            "%s: cannot read weight file %s: %s", display, full,
            local->message);
        g_clear_error (&local);
        g_free (full);
        goto group_out;
      }
      g_free (full);
      shard.path = g_strdup (rel);
      shard.sha256 = g_compute_checksum_for_data (
          G_CHECKSUM_SHA256, (const guchar *)contents, len);
      g_array_append_val (shards, shard);
      g_byte_array_append (data, (const guint8 *)contents, (guint)len);
      g_free (contents);
    }

    for (i = 0; i < json_array_get_length (weights); i++) {
      AffectTfjsTensor t = { 0 };

      if (!decode_weight (display, json_array_get_element (weights, i),
              data->data, data->len, &pos, &t, error)) {
        g_free (t.name);
        g_free (t.data);
        goto group_out;
      }
      g_array_append_val (tensors, t);
    }
    if (pos != data->len) {
      FORMAT_ERROR ("%s: group %u weights use %" G_GSIZE_FORMAT " bytes but "
                    "its weight files hold %u bytes",
          display, g, pos, data->len);
      goto group_out;
    }
    group_ok = TRUE;
  group_out:
    g_byte_array_unref (data);
    if (!group_ok)
      goto out;
  }
  ok = TRUE;

out:
  model->n_tensors = tensors->len;
  model->tensors = (AffectTfjsTensor *)g_array_free (tensors, FALSE);
  model->n_shards = shards->len;
  model->shards = (AffectTfjsShard *)g_array_free (shards, FALSE);
  if (parser)
    g_object_unref (parser);
  g_free (text);
  g_free (dir);
  g_free (display);
  if (!ok) {
    affect_tfjs_model_free (model);
    return NULL;
  }
  return model;
}
