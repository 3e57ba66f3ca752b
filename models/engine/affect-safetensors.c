/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * safetensors reader and writer. See affect-safetensors.h for the format and
 * the list of checks. The whole header is validated before a single tensor
 * byte is looked at; every error names the file.
 */

#include "affect-safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

GQuark
affect_st_error_quark (void)
{
  return g_quark_from_static_string ("affect-st-error-quark");
}

typedef struct {
  AffectDType dtype;
  const gchar *name;
  gsize size;
} DTypeInfo;

static const DTypeInfo dtype_table[] = {
  { AFFECT_DTYPE_F32, "F32", 4 },
  { AFFECT_DTYPE_F16, "F16", 2 },
  { AFFECT_DTYPE_BF16, "BF16", 2 },
  { AFFECT_DTYPE_F64, "F64", 8 },
  { AFFECT_DTYPE_I8, "I8", 1 },
  { AFFECT_DTYPE_U8, "U8", 1 },
  { AFFECT_DTYPE_I16, "I16", 2 },
  { AFFECT_DTYPE_I32, "I32", 4 },
  { AFFECT_DTYPE_I64, "I64", 8 },
  { AFFECT_DTYPE_BOOL, "BOOL", 1 },
};

gsize
affect_dtype_size (AffectDType dtype)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (dtype_table); i++)
    if (dtype_table[i].dtype == dtype)
      return dtype_table[i].size;
  return 0;
}

const gchar *
affect_dtype_name (AffectDType dtype)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (dtype_table); i++)
    if (dtype_table[i].dtype == dtype)
      return dtype_table[i].name;
  return NULL;
}

static gboolean
dtype_from_name (const gchar *name, AffectDType *dtype)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (dtype_table); i++) {
    if (strcmp (dtype_table[i].name, name) == 0) {
      *dtype = dtype_table[i].dtype;
      return TRUE;
    }
  }
  return FALSE;
}

/* ---- reader ------------------------------------------------------------ */

struct _AffectStFile {
  gchar *path; /* as given (or the name given to _open_bytes); every error
                * names it */
  GMappedFile *mapped; /* when opened from a file */
  guint8 *owned;       /* when opened from memory */
  const guint8 *base;
  gsize size;

  AffectStTensor *tensors; /* sorted by data offset */
  guint n_tensors;
  gchar **names;        /* owned names, one per tensor */
  GHashTable *by_name;  /* name -> AffectStTensor* */
  GHashTable *metadata; /* owned key -> owned value */
};

typedef struct {
  guint64 begin, end;
  guint index;
} Span;

static gint
span_compare (gconstpointer a, gconstpointer b)
{
  const Span *sa = a, *sb = b;

  if (sa->begin != sb->begin)
    return sa->begin < sb->begin ? -1 : 1;
  if (sa->end != sb->end)
    return sa->end < sb->end ? -1 : 1;
  return 0;
}

/* Counts the members of the top-level object by scanning the (already
 * successfully parsed) JSON text. json-glib silently keeps only the last of
 * duplicated member names, so comparing this count with the object size is
 * how duplicates are detected. */
static guint
count_top_level_keys (const gchar *text, gsize len)
{
  gsize i;
  guint depth = 0, count = 0;
  gboolean in_string = FALSE, string_at_depth1 = FALSE, pending_key = FALSE;

  for (i = 0; i < len; i++) {
    gchar c = text[i];

    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"') {
        in_string = FALSE;
        pending_key = string_at_depth1;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = TRUE;
        string_at_depth1 = (depth == 1);
        break;
      case ':':
        if (pending_key)
          count++;
        pending_key = FALSE;
        break;
      case '{':
      case '[':
        depth++;
        pending_key = FALSE;
        break;
      case '}':
      case ']':
        if (depth > 0)
          depth--;
        pending_key = FALSE;
        break;
      case ' ':
      case '\t':
      case '\n':
      case '\r':
        break;
      default:
        pending_key = FALSE;
        break;
    }
  }
  return count;
}

static gboolean
get_uint_member (JsonNode *node, guint64 *out)
{
  gint64 v;

  if (!node || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  v = json_node_get_int (node);
  if (v < 0)
    return FALSE;
  *out = (guint64)v;
  return TRUE;
}

static gchar *
format_shape (guint n_dims, const int64_t *shape)
{
  GString *s = g_string_new ("[");
  guint i;

  for (i = 0; i < n_dims; i++)
    g_string_append_printf (
        s, "%s%" G_GINT64_FORMAT, i ? ", " : "", (gint64)shape[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

/* Element and byte count of a shape (entries already known non-negative).
 * A shape with a zero entry has no elements whatever the other entries; else
 * FALSE when the byte size does not fit in a gsize. Reader and writer share
 * this so that whatever one accepts the other does too. */
static gboolean
shape_size (guint n_dims, const int64_t *shape, gsize elem, guint64 *n_elements,
    guint64 *n_bytes)
{
  guint64 n = 1;
  guint i;

  for (i = 0; i < n_dims; i++) {
    if (shape[i] == 0) {
      *n_elements = 0;
      *n_bytes = 0;
      return TRUE;
    }
  }
  for (i = 0; i < n_dims; i++) {
    if (n > G_MAXSIZE / (guint64)shape[i])
      return FALSE;
    n *= (guint64)shape[i];
  }
  if (elem == 0 || n > G_MAXSIZE / elem)
    return FALSE;
  *n_elements = n;
  *n_bytes = n * elem;
  return TRUE;
}

#define FORMAT_ERROR(...) \
  g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_FORMAT, __VA_ARGS__)

static gboolean
parse_tensor_info (AffectStFile *file, const gchar *name, JsonNode *node,
    guint64 data_size, AffectStTensor *t, Span *span, GError **error)
{
  JsonObject *obj;
  JsonNode *n;
  JsonArray *arr;
  const gchar *dtype_name;
  guint64 begin, end, n_elements = 1, n_bytes;
  guint i, n_dims;

  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    FORMAT_ERROR ("%s: tensor '%s' is not a JSON object", file->path, name);
    return FALSE;
  }
  obj = json_node_get_object (node);

  n = json_object_get_member (obj, "dtype");
  if (!n || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING) {
    FORMAT_ERROR ("%s: tensor '%s' has no \"dtype\" string", file->path, name);
    return FALSE;
  }
  dtype_name = json_node_get_string (n);
  if (!dtype_from_name (dtype_name, &t->dtype)) {
    FORMAT_ERROR (
        "%s: tensor '%s' has unknown dtype '%s'", file->path, name, dtype_name);
    return FALSE;
  }

  n = json_object_get_member (obj, "shape");
  if (!n || !JSON_NODE_HOLDS_ARRAY (n)) {
    FORMAT_ERROR ("%s: tensor '%s' has no \"shape\" array", file->path, name);
    return FALSE;
  }
  arr = json_node_get_array (n);
  n_dims = json_array_get_length (arr);
  if (n_dims > AFFECT_ST_MAX_DIMS) {
    FORMAT_ERROR ("%s: tensor '%s' has %u dimensions (at most %u supported)",
        file->path, name, n_dims, AFFECT_ST_MAX_DIMS);
    return FALSE;
  }
  t->n_dims = n_dims;
  for (i = 0; i < n_dims; i++) {
    JsonNode *d = json_array_get_element (arr, i);
    guint64 dim;

    if (!d || !JSON_NODE_HOLDS_VALUE (d)
        || json_node_get_value_type (d) != G_TYPE_INT64) {
      FORMAT_ERROR ("%s: tensor '%s' shape entry %u is not an integer",
          file->path, name, i);
      return FALSE;
    }
    if (json_node_get_int (d) < 0) {
      FORMAT_ERROR (
          "%s: tensor '%s' shape entry %u is negative (%" G_GINT64_FORMAT ")",
          file->path, name, i, json_node_get_int (d));
      return FALSE;
    }
    dim = (guint64)json_node_get_int (d);
    t->shape[i] = (int64_t)dim;
  }
  if (!shape_size (n_dims, t->shape, affect_dtype_size (t->dtype), &n_elements,
          &n_bytes)) {
    FORMAT_ERROR (
        "%s: tensor '%s' shape overflows the byte size", file->path, name);
    return FALSE;
  }

  n = json_object_get_member (obj, "data_offsets");
  if (!n || !JSON_NODE_HOLDS_ARRAY (n)
      || json_array_get_length (json_node_get_array (n)) != 2) {
    FORMAT_ERROR ("%s: tensor '%s' has no \"data_offsets\" array of two "
                  "integers",
        file->path, name);
    return FALSE;
  }
  arr = json_node_get_array (n);
  if (!get_uint_member (json_array_get_element (arr, 0), &begin)
      || !get_uint_member (json_array_get_element (arr, 1), &end)) {
    FORMAT_ERROR ("%s: tensor '%s' data_offsets are not non-negative "
                  "integers",
        file->path, name);
    return FALSE;
  }
  if (begin > end) {
    FORMAT_ERROR ("%s: tensor '%s' data_offsets [%" G_GUINT64_FORMAT
                  ", %" G_GUINT64_FORMAT "] begin after end",
        file->path, name, begin, end);
    return FALSE;
  }
  if (end > data_size) {
    FORMAT_ERROR ("%s: tensor '%s' data_offsets [%" G_GUINT64_FORMAT
                  ", %" G_GUINT64_FORMAT
                  "] outside the data region of %" G_GUINT64_FORMAT " bytes",
        file->path, name, begin, end, data_size);
    return FALSE;
  }
  if (end - begin != n_bytes) {
    gchar *s = format_shape (t->n_dims, t->shape);
    FORMAT_ERROR ("%s: tensor '%s' data_offsets [%" G_GUINT64_FORMAT
                  ", %" G_GUINT64_FORMAT "] hold %" G_GUINT64_FORMAT
                  " bytes but %s %s needs %" G_GUINT64_FORMAT,
        file->path, name, begin, end, end - begin, dtype_name, s, n_bytes);
    g_free (s);
    return FALSE;
  }

  t->n_elements = (gsize)n_elements;
  t->n_bytes = (gsize)n_bytes;
  span->begin = begin;
  span->end = end;
  return TRUE;
}

static gboolean
parse_metadata (AffectStFile *file, JsonNode *node, GError **error)
{
  JsonObject *obj;
  GList *members, *l;
  gboolean ok = TRUE;

  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    FORMAT_ERROR ("%s: __metadata__ is not a JSON object", file->path);
    return FALSE;
  }
  obj = json_node_get_object (node);
  members = json_object_get_members (obj);
  for (l = members; l; l = l->next) {
    const gchar *key = l->data;
    JsonNode *v = json_object_get_member (obj, key);

    if (!JSON_NODE_HOLDS_VALUE (v)
        || json_node_get_value_type (v) != G_TYPE_STRING) {
      FORMAT_ERROR (
          "%s: __metadata__ value of '%s' is not a string", file->path, key);
      ok = FALSE;
      break;
    }
    if (!g_utf8_validate (key, -1, NULL)
        || !g_utf8_validate (json_node_get_string (v), -1, NULL)) {
      FORMAT_ERROR ("%s: __metadata__ entry is not valid UTF-8 "
                    "(bad \\u escape?)",
          file->path);
      ok = FALSE;
      break;
    }
    g_hash_table_replace (
        file->metadata, g_strdup (key), g_strdup (json_node_get_string (v)));
  }
  g_list_free (members);
  return ok;
}

static gboolean
parse_header (AffectStFile *file, GError **error)
{
  guint64 header_len = 0, data_size;
  const gchar *header;
  JsonParser *parser = NULL;
  JsonObject *root;
  GList *members = NULL, *l;
  GError *json_error = NULL;
  Span *spans = NULL;
  AffectStTensor *tmp = NULL;
  gchar **tmp_names = NULL;
  guint n_members, n_tensors = 0, i;
  const guint8 *data_region;
  gboolean ok = FALSE;

  if (file->size < 8) {
    FORMAT_ERROR ("%s: file is %" G_GSIZE_FORMAT " bytes, shorter than the "
                  "8-byte header length",
        file->path, file->size);
    return FALSE;
  }
  for (i = 0; i < 8; i++)
    header_len |= ((guint64)file->base[i]) << (8 * i);
  if (header_len > AFFECT_ST_MAX_HEADER) {
    FORMAT_ERROR ("%s: header length %" G_GUINT64_FORMAT " exceeds the "
                  "limit of %u bytes",
        file->path, header_len, AFFECT_ST_MAX_HEADER);
    return FALSE;
  }
  if (header_len > file->size - 8) {
    FORMAT_ERROR ("%s: header length %" G_GUINT64_FORMAT " goes beyond the "
                  "end of the file (%" G_GSIZE_FORMAT " bytes)",
        file->path, header_len, file->size);
    return FALSE;
  }
  header = (const gchar *)file->base + 8;
  data_region = file->base + 8 + header_len;
  data_size = file->size - 8 - header_len;

  if (!g_utf8_validate (header, (gssize)header_len, NULL)) {
    FORMAT_ERROR (
        "%s: header is not valid UTF-8 (or contains NUL bytes)", file->path);
    return FALSE;
  }
  if (header_len == 0 || header[0] != '{') {
    FORMAT_ERROR ("%s: header is not a JSON object", file->path);
    return FALSE;
  }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (
          parser, header, (gssize)header_len, &json_error)) {
    FORMAT_ERROR (
        "%s: header is not valid JSON: %s", file->path, json_error->message);
    g_clear_error (&json_error);
    goto out;
  }
  if (!json_parser_get_root (parser)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    FORMAT_ERROR ("%s: header is not a JSON object", file->path);
    goto out;
  }
  root = json_node_get_object (json_parser_get_root (parser));
  n_members = json_object_get_size (root);
  if (count_top_level_keys (header, header_len) != n_members) {
    FORMAT_ERROR ("%s: header contains duplicate names", file->path);
    goto out;
  }

  members = json_object_get_members (root);
  spans = g_new0 (Span, n_members + 1);
  tmp = g_new0 (AffectStTensor, n_members + 1);
  tmp_names = g_new0 (gchar *, n_members + 1);
  for (l = members; l; l = l->next) {
    const gchar *name = l->data;
    JsonNode *node = json_object_get_member (root, name);

    /* json-glib decodes lone surrogate escapes ("\ud800") into invalid
     * UTF-8; refuse such names. */
    if (!g_utf8_validate (name, -1, NULL)) {
      FORMAT_ERROR ("%s: header has a name that is not valid UTF-8 "
                    "(bad \\u escape?)",
          file->path);
      goto out;
    }
    if (strcmp (name, "__metadata__") == 0) {
      if (!parse_metadata (file, node, error))
        goto out;
      continue;
    }
    if (!parse_tensor_info (file, name, node, data_size, &tmp[n_tensors],
            &spans[n_tensors], error))
      goto out;
    tmp_names[n_tensors] = g_strdup (name);
    spans[n_tensors].index = n_tensors;
    n_tensors++;
  }

  qsort (spans, n_tensors, sizeof (Span), span_compare);
  for (i = 1; i < n_tensors; i++) {
    if (spans[i].begin < spans[i - 1].end) {
      FORMAT_ERROR ("%s: tensors '%s' [%" G_GUINT64_FORMAT
                    ", %" G_GUINT64_FORMAT "] and '%s' [%" G_GUINT64_FORMAT
                    ", %" G_GUINT64_FORMAT "] overlap",
          file->path, tmp_names[spans[i - 1].index], spans[i - 1].begin,
          spans[i - 1].end, tmp_names[spans[i].index], spans[i].begin,
          spans[i].end);
      goto out;
    }
  }

  /* Everything validated: lay the tensors out in data order. */
  file->n_tensors = n_tensors;
  file->tensors = g_new0 (AffectStTensor, n_tensors + 1);
  file->names = g_new0 (gchar *, n_tensors + 1);
  for (i = 0; i < n_tensors; i++) {
    AffectStTensor *t = &file->tensors[i];

    *t = tmp[spans[i].index];
    file->names[i] = tmp_names[spans[i].index];
    tmp_names[spans[i].index] = NULL;
    t->name = file->names[i];
    t->data = data_region + spans[i].begin;
    g_hash_table_insert (file->by_name, (gpointer)t->name, t);
  }
  ok = TRUE;

out:
  if (tmp_names)
    g_strfreev (tmp_names);
  g_free (tmp);
  g_free (spans);
  g_list_free (members);
  if (parser)
    g_object_unref (parser);
  return ok;
}

static AffectStFile *
st_file_new (const gchar *path)
{
  AffectStFile *file = g_new0 (AffectStFile, 1);

  file->path = g_strdup (path);
  file->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  file->metadata
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return file;
}

/* What a file of type @mode is, when it is not a regular file. */
static const gchar *
describe_mode (mode_t mode)
{
  if (S_ISDIR (mode))
    return "is a folder, not a file";
  if (S_ISCHR (mode))
    return "is a character device (like /dev/null or /dev/zero), not a "
           "regular file";
  if (S_ISBLK (mode))
    return "is a block device, not a regular file";
  if (S_ISFIFO (mode))
    return "is a named pipe (FIFO), not a regular file";
  if (S_ISSOCK (mode))
    return "is a socket, not a regular file";
  return "is not a regular file";
}

gchar *
affect_st_path_problem (const gchar *path)
{
  GStatBuf st;

  g_return_val_if_fail (path != NULL, NULL);
  if (g_stat (path, &st) != 0) {
    int e = errno;
    if (e == ENOENT)
      return g_strdup ("does not exist");
    return g_strdup_printf ("cannot be read: %s", g_strerror (e));
  }
  if (S_ISREG (st.st_mode))
    return NULL;
  return g_strdup (describe_mode (st.st_mode));
}

AffectStFile *
affect_st_open (const gchar *path, GError **error)
{
  AffectStFile *file;
  GError *map_error = NULL;
  struct stat st;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Non-blocking, so that a named pipe without a writer does not hang the
   * open; the type is checked on the descriptor that is then mapped. */
  fd = g_open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0) {
    int e = errno;
    gchar *why = affect_st_path_problem (path);
    if (why && g_str_has_prefix (why, "is "))
      g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_IO,
          "%s: cannot open: it %s", path, why);
    else
      g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_IO,
          "%s: cannot open: %s", path, g_strerror (e));
    g_free (why);
    return NULL;
  }
  if (fstat (fd, &st) != 0) {
    int e = errno;
    g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_IO,
        "%s: cannot open: %s", path, g_strerror (e));
    close (fd);
    return NULL;
  }
  if (!S_ISREG (st.st_mode)) {
    g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_IO,
        "%s: cannot read a model from it: it %s", path,
        describe_mode (st.st_mode));
    close (fd);
    return NULL;
  }

  file = st_file_new (path);
  file->mapped = g_mapped_file_new_from_fd (fd, FALSE, &map_error);
  close (fd);
  if (!file->mapped) {
    g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_IO,
        "%s: cannot open: %s", path, map_error->message);
    g_clear_error (&map_error);
    affect_st_close (file);
    return NULL;
  }
  file->base = (const guint8 *)g_mapped_file_get_contents (file->mapped);
  file->size = g_mapped_file_get_length (file->mapped);
  if (!parse_header (file, error)) {
    affect_st_close (file);
    return NULL;
  }
  return file;
}

AffectStFile *
affect_st_open_bytes (
    const guint8 *data, gsize size, const gchar *name, GError **error)
{
  AffectStFile *file;

  g_return_val_if_fail (data != NULL || size == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  file = st_file_new (name ? name : "(memory)");
  /* +1 so that an empty input still gets a valid allocation */
  file->owned = g_malloc (size + 1);
  if (size)
    memcpy (file->owned, data, size);
  file->base = file->owned;
  file->size = size;
  if (!parse_header (file, error)) {
    affect_st_close (file);
    return NULL;
  }
  return file;
}

void
affect_st_close (AffectStFile *file)
{
  if (!file)
    return;
  g_hash_table_unref (file->by_name);
  g_hash_table_unref (file->metadata);
  g_strfreev (file->names);
  g_free (file->tensors);
  if (file->mapped)
    g_mapped_file_unref (file->mapped);
  g_free (file->owned);
  g_free (file->path);
  g_free (file);
}

const gchar *
affect_st_get_path (AffectStFile *file)
{
  g_return_val_if_fail (file != NULL, NULL);
  return file->path;
}

guint
affect_st_get_n_tensors (AffectStFile *file)
{
  g_return_val_if_fail (file != NULL, 0);
  return file->n_tensors;
}

const AffectStTensor *
affect_st_get_tensor_by_index (AffectStFile *file, guint index)
{
  g_return_val_if_fail (file != NULL, NULL);
  if (index >= file->n_tensors)
    return NULL;
  return &file->tensors[index];
}

const AffectStTensor *
affect_st_find (AffectStFile *file, const gchar *name)
{
  g_return_val_if_fail (file != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  return g_hash_table_lookup (file->by_name, name);
}

const gchar *
affect_st_get_metadata (AffectStFile *file, const gchar *key)
{
  g_return_val_if_fail (file != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);
  return g_hash_table_lookup (file->metadata, key);
}

static gint
str_ptr_compare (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar *const *)a, *(const gchar *const *)b);
}

const gchar **
affect_st_get_metadata_keys (AffectStFile *file)
{
  guint n;
  const gchar **keys;

  g_return_val_if_fail (file != NULL, NULL);
  keys = (const gchar **)g_hash_table_get_keys_as_array (file->metadata, &n);
  qsort (keys, n, sizeof (gchar *), str_ptr_compare);
  return keys;
}

gfloat *
affect_st_get_f32 (AffectStFile *file, const gchar *name, guint n_dims,
    const int64_t *shape, GError **error)
{
  const AffectStTensor *t;
  gboolean match;
  gfloat *out;
  guint i;

  g_return_val_if_fail (file != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (n_dims == 0 || shape != NULL, NULL);

  t = affect_st_find (file, name);
  if (!t) {
    g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_NOT_FOUND,
        "%s: no tensor named '%s'", file->path, name);
    return NULL;
  }
  if (t->dtype != AFFECT_DTYPE_F32) {
    g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH,
        "%s: tensor '%s' is %s, expected F32", file->path, name,
        affect_dtype_name (t->dtype));
    return NULL;
  }
  match = (t->n_dims == n_dims);
  for (i = 0; match && i < n_dims; i++)
    if (shape[i] != -1 && shape[i] != t->shape[i])
      match = FALSE;
  if (!match) {
    gchar *want = format_shape (n_dims, shape);
    gchar *have = format_shape (t->n_dims, t->shape);
    g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH,
        "%s: tensor '%s' has shape %s, expected %s", file->path, name, have,
        want);
    g_free (want);
    g_free (have);
    return NULL;
  }
  out = g_new (gfloat, MAX (t->n_elements, 1));
  if (t->n_bytes)
    memcpy (out, t->data, t->n_bytes);
  return out;
}

/* ---- writer ------------------------------------------------------------ */

typedef struct {
  gchar *name;
  AffectDType dtype;
  guint n_dims;
  int64_t shape[AFFECT_ST_MAX_DIMS];
  guint8 *data;
  gsize n_bytes;
} WriterEntry;

struct _AffectStWriter {
  GPtrArray *entries;   /* WriterEntry*, in the order added */
  GHashTable *names;    /* set of tensor names */
  GPtrArray *meta_keys; /* insertion order */
  GHashTable *metadata; /* key -> value */
};

static void
writer_entry_free (gpointer p)
{
  WriterEntry *e = p;

  g_free (e->name);
  g_free (e->data);
  g_free (e);
}

AffectStWriter *
affect_st_writer_new (void)
{
  AffectStWriter *w = g_new0 (AffectStWriter, 1);

  w->entries = g_ptr_array_new_with_free_func (writer_entry_free);
  w->names = g_hash_table_new (g_str_hash, g_str_equal);
  w->meta_keys = g_ptr_array_new_with_free_func (g_free);
  w->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  return w;
}

void
affect_st_writer_free (AffectStWriter *writer)
{
  if (!writer)
    return;
  g_hash_table_unref (writer->names);
  g_ptr_array_unref (writer->entries);
  g_hash_table_unref (writer->metadata);
  g_ptr_array_unref (writer->meta_keys);
  g_free (writer);
}

void
affect_st_writer_add_metadata (
    AffectStWriter *writer, const gchar *key, const gchar *value)
{
  gchar *k;

  g_return_if_fail (writer != NULL);
  g_return_if_fail (key != NULL && g_utf8_validate (key, -1, NULL));
  g_return_if_fail (value != NULL && g_utf8_validate (value, -1, NULL));

  if (!g_hash_table_lookup_extended (
          writer->metadata, key, (gpointer *)&k, NULL)) {
    k = g_strdup (key);
    g_ptr_array_add (writer->meta_keys, k);
  }
  g_hash_table_insert (writer->metadata, k, g_strdup (value));
}

gboolean
affect_st_writer_add (AffectStWriter *writer, const gchar *name,
    AffectDType dtype, guint n_dims, const int64_t *shape, const void *data,
    gsize n_bytes, GError **error)
{
  WriterEntry *e;
  gsize elem = affect_dtype_size (dtype);
  guint64 n_elements = 1, total = 0;
  guint i;

  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (n_dims == 0 || shape != NULL, FALSE);
  g_return_val_if_fail (data != NULL || n_bytes == 0, FALSE);

  if (!g_utf8_validate (name, -1, NULL) || strcmp (name, "__metadata__") == 0) {
    g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH,
        "invalid tensor name '%s'", name);
    return FALSE;
  }
  if (g_hash_table_contains (writer->names, name)) {
    g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH,
        "tensor '%s' added twice", name);
    return FALSE;
  }
  if (elem == 0) {
    g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH,
        "tensor '%s': unknown dtype %d", name, (int)dtype);
    return FALSE;
  }
  if (n_dims > AFFECT_ST_MAX_DIMS) {
    g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH,
        "tensor '%s': %u dimensions (at most %u)", name, n_dims,
        AFFECT_ST_MAX_DIMS);
    return FALSE;
  }
  for (i = 0; i < n_dims; i++) {
    if (shape[i] < 0) {
      g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH,
          "tensor '%s': negative shape entry %u (%" G_GINT64_FORMAT ")", name,
          i, (gint64)shape[i]);
      return FALSE;
    }
  }
  if (!shape_size (n_dims, shape, elem, &n_elements, &total)) {
    g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH,
        "tensor '%s': shape overflows the byte size", name);
    return FALSE;
  }
  if (total != n_bytes) {
    gchar *s = format_shape (n_dims, shape);
    g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH,
        "tensor '%s': %" G_GSIZE_FORMAT
        " bytes given but %s %s needs %" G_GUINT64_FORMAT,
        name, n_bytes, affect_dtype_name (dtype), s, total);
    g_free (s);
    return FALSE;
  }

  e = g_new0 (WriterEntry, 1);
  e->name = g_strdup (name);
  e->dtype = dtype;
  e->n_dims = n_dims;
  for (i = 0; i < n_dims; i++)
    e->shape[i] = shape[i];
  e->n_bytes = n_bytes;
  e->data = g_malloc (n_bytes + 1);
  if (n_bytes)
    memcpy (e->data, data, n_bytes);
  g_ptr_array_add (writer->entries, e);
  g_hash_table_add (writer->names, e->name);
  return TRUE;
}

void
affect_json_append_string (GString *s, const gchar *str)
{
  const guchar *p;

  g_string_append_c (s, '"');
  for (p = (const guchar *)(str ? str : ""); *p; p++) {
    switch (*p) {
      case '"':
        g_string_append (s, "\\\"");
        break;
      case '\\':
        g_string_append (s, "\\\\");
        break;
      case '\n':
        g_string_append (s, "\\n");
        break;
      case '\r':
        g_string_append (s, "\\r");
        break;
      case '\t':
        g_string_append (s, "\\t");
        break;
      default:
        if (*p < 0x20)
          g_string_append_printf (s, "\\u%04x", *p);
        else
          g_string_append_c (s, (gchar)*p);
        break;
    }
  }
  g_string_append_c (s, '"');
}

GBytes *
affect_st_writer_serialize (AffectStWriter *writer)
{
  GString *out;
  guint64 offset = 0, header_len;
  gsize header_start;
  guint i, j;

  g_return_val_if_fail (writer != NULL, NULL);

  out = g_string_new (NULL);
  /* header length placeholder */
  g_string_append_len (out, "\0\0\0\0\0\0\0\0", 8);
  header_start = out->len;
  g_string_append_c (out, '{');
  if (writer->meta_keys->len > 0) {
    g_string_append (out, "\"__metadata__\":{");
    for (i = 0; i < writer->meta_keys->len; i++) {
      const gchar *k = g_ptr_array_index (writer->meta_keys, i);
      if (i)
        g_string_append_c (out, ',');
      affect_json_append_string (out, k);
      g_string_append_c (out, ':');
      affect_json_append_string (
          out, g_hash_table_lookup (writer->metadata, k));
    }
    g_string_append_c (out, '}');
  }
  for (i = 0; i < writer->entries->len; i++) {
    WriterEntry *e = g_ptr_array_index (writer->entries, i);

    if (i > 0 || writer->meta_keys->len > 0)
      g_string_append_c (out, ',');
    affect_json_append_string (out, e->name);
    g_string_append_printf (
        out, ":{\"dtype\":\"%s\",\"shape\":[", affect_dtype_name (e->dtype));
    for (j = 0; j < e->n_dims; j++)
      g_string_append_printf (
          out, "%s%" G_GINT64_FORMAT, j ? "," : "", (gint64)e->shape[j]);
    g_string_append_printf (out,
        "],\"data_offsets\":[%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT "]}",
        offset, offset + e->n_bytes);
    offset += e->n_bytes;
  }
  g_string_append_c (out, '}');
  /* Pad with spaces so the data region starts 8-byte aligned, as the
   * reference implementation does. */
  while ((out->len - header_start) % 8 != 0)
    g_string_append_c (out, ' ');
  header_len = out->len - header_start;
  for (i = 0; i < 8; i++)
    out->str[i] = (gchar)((header_len >> (8 * i)) & 0xff);

  for (i = 0; i < writer->entries->len; i++) {
    WriterEntry *e = g_ptr_array_index (writer->entries, i);
    g_string_append_len (out, (const gchar *)e->data, (gssize)e->n_bytes);
  }

  return g_string_free_to_bytes (out);
}

gboolean
affect_st_writer_write (
    AffectStWriter *writer, const gchar *path, GError **error)
{
  GBytes *bytes;
  GError *io_error = NULL;
  gboolean ok;
  gsize len;
  const gchar *data;

  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  bytes = affect_st_writer_serialize (writer);
  data = g_bytes_get_data (bytes, &len);
  ok = g_file_set_contents_full (
      path, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &io_error);
  if (!ok) {
    g_set_error (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_IO,
        "%s: cannot write: %s", path, io_error->message);
    g_clear_error (&io_error);
  }
  g_bytes_unref (bytes);
  return ok;
}
