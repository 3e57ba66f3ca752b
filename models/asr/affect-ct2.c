/* gst-affect — models/asr
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * CTranslate2 model.bin reader; the layout is described in affect-ct2.h.
 */

#include "affect-ct2.h"

#include "affect-modelpath.h"

#include <string.h>

GQuark
affect_ct2_error_quark (void)
{
  return g_quark_from_static_string ("affect-ct2-error-quark");
}

struct _AffectCt2File {
  gchar *path;
  GMappedFile *mapped; /* affect_ct2_open */
  guint8 *copy;        /* affect_ct2_open_bytes */
  const guint8 *data;
  gsize size;

  guint32 version;
  gchar *spec_name;
  guint32 revision;

  AffectCt2Variable *vars;
  guint n_vars;
  gchar **names; /* the variables' and aliases' names, owned here */
  gchar **alias_names;
  gchar **alias_targets;
  guint n_aliases;
  GHashTable *by_name; /* name or alias -> AffectCt2Variable* */
};

gsize
affect_ct2_dtype_size (guint dtype)
{
  switch (dtype) {
    case AFFECT_CT2_F32:
    case AFFECT_CT2_I32:
      return 4;
    case AFFECT_CT2_I8:
      return 1;
    case AFFECT_CT2_I16:
    case AFFECT_CT2_F16:
    case AFFECT_CT2_BF16:
      return 2;
    default:
      return 0;
  }
}

const gchar *
affect_ct2_dtype_name (guint dtype)
{
  static const gchar *names[]
      = { "float32", "int8", "int16", "int32", "float16", "bfloat16" };

  return dtype < G_N_ELEMENTS (names) ? names[dtype] : "unknown";
}

gfloat
affect_ct2_half_to_float (guint16 h)
{
  guint32 sign = (guint32)(h & 0x8000) << 16;
  guint32 exp = (h >> 10) & 0x1f;
  guint32 mant = h & 0x3ff;
  guint32 bits;
  gfloat f;

  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13); /* inf / NaN */
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign; /* ±0 */
  } else {
    /* subnormal: mant × 2^-24, exact in float */
    f = (gfloat)mant * (1.0f / 16777216.0f);
    return sign ? -f : f;
  }
  memcpy (&f, &bits, sizeof f);
  return f;
}

/* Every half's float (affect_ct2_half_to_float), made once: a model's
 * conversion at load is then one lookup per weight (tiny.en: 38 M). */
static const gfloat *
half_table (void)
{
  static gsize once = 0;
  static gfloat *table;

  if (g_once_init_enter (&once)) {
    guint h;

    table = g_new (gfloat, 65536);
    for (h = 0; h < 65536; h++)
      table[h] = affect_ct2_half_to_float ((guint16)h);
    g_once_init_leave (&once, 1);
  }
  return table;
}

gfloat
affect_ct2_bf16_to_float (guint16 b)
{
  guint32 bits = (guint32)b << 16;
  gfloat f;

  memcpy (&f, &bits, sizeof f);
  return f;
}

/* A cursor over the file's bytes; every read is checked against the end. */
typedef struct {
  const guint8 *start;
  const guint8 *p;
  const guint8 *end;
  const gchar *path;
  GError **error;
} Reader;

static gboolean
fail (Reader *r, const gchar *what)
{
  g_set_error (r->error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_FORMAT, "%s: %s",
      r->path, what);
  return FALSE;
}

static gboolean
need (Reader *r, gsize n, const gchar *what)
{
  if ((gsize)(r->end - r->p) < n) {
    g_set_error (r->error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_FORMAT,
        "%s: truncated: %s needs %" G_GSIZE_FORMAT
        " bytes at offset %" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT " left",
        r->path, what, n, (gsize)(r->p - r->start), (gsize)(r->end - r->p));
    return FALSE;
  }
  return TRUE;
}

static gboolean
read_u8 (Reader *r, guint8 *v, const gchar *what)
{
  if (!need (r, 1, what))
    return FALSE;
  *v = r->p[0];
  r->p += 1;
  return TRUE;
}

static gboolean
read_u32 (Reader *r, guint32 *v, const gchar *what)
{
  if (!need (r, 4, what))
    return FALSE;
  *v = (guint32)r->p[0] | ((guint32)r->p[1] << 8) | ((guint32)r->p[2] << 16)
       | ((guint32)r->p[3] << 24);
  r->p += 4;
  return TRUE;
}

/* u16 length including the NUL, the bytes, the NUL. */
static gchar *
read_string (Reader *r, const gchar *what)
{
  guint16 len;

  if (!need (r, 2, what))
    return NULL;
  len = (guint16)(r->p[0] | (r->p[1] << 8));
  r->p += 2;
  if (len == 0) {
    fail (r, "a string of length 0 (no terminating NUL)");
    return NULL;
  }
  if (!need (r, len, what))
    return NULL;
  if (r->p[len - 1] != 0 || memchr (r->p, 0, len - 1) != NULL) {
    g_set_error (r->error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_FORMAT,
        "%s: %s is not a NUL-terminated string of %u bytes", r->path, what,
        (guint)len);
    return NULL;
  }
  if (!g_utf8_validate ((const gchar *)r->p, len - 1, NULL)) {
    g_set_error (r->error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_FORMAT,
        "%s: %s is not valid UTF-8", r->path, what);
    return NULL;
  }
  r->p += len;
  return g_strndup ((const gchar *)r->p - len, len - 1);
}

static gboolean
parse (AffectCt2File *f, GError **error)
{
  /* an empty input has no bytes (g_memdup2 and an empty mapping give
   * NULL): read from an empty string so that no NULL pointer is offset */
  const guint8 *base = f->data ? f->data : (const guint8 *)"";
  Reader r = { base, base, base + (f->data ? f->size : 0), f->path, error };
  GPtrArray *names = g_ptr_array_new ();
  guint32 n_vars, n_aliases, i;

  f->by_name = g_hash_table_new (g_str_hash, g_str_equal);

  if (!read_u32 (&r, &f->version, "the format version"))
    goto fail;
  if (f->version != AFFECT_CT2_VERSION) {
    g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_FORMAT,
        "%s: binary version %u, this reader understands version %u "
        "(CTranslate2 >= 3)",
        f->path, f->version, AFFECT_CT2_VERSION);
    goto fail;
  }
  if (!(f->spec_name = read_string (&r, "the spec name")))
    goto fail;
  if (!read_u32 (&r, &f->revision, "the spec revision")
      || !read_u32 (&r, &n_vars, "the number of variables"))
    goto fail;
  /* each variable takes at least 2 + 1 + 1 + 1 + 4 = 9 bytes */
  if (n_vars > (gsize)(r.end - r.p) / 9) {
    fail (&r, "more variables announced than the file can hold");
    goto fail;
  }
  f->vars = g_new0 (AffectCt2Variable, MAX (n_vars, 1));
  for (i = 0; i < n_vars; i++) {
    AffectCt2Variable *v = &f->vars[i];
    gchar *name = read_string (&r, "a variable name");
    guint8 rank, dtype;
    guint32 n_bytes;
    guint64 n = 1;
    gsize esize;
    guint d;

    if (!name)
      goto fail;
    g_ptr_array_add (names, name);
    v->name = name;
    f->n_vars = i + 1;
    if (g_hash_table_contains (f->by_name, name)) {
      g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_FORMAT,
          "%s: variable '%s' appears twice", f->path, name);
      goto fail;
    }
    g_hash_table_insert (f->by_name, name, v);
    if (!read_u8 (&r, &rank, "a variable rank"))
      goto fail;
    if (rank > AFFECT_CT2_MAX_RANK) {
      g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_FORMAT,
          "%s: variable '%s' has rank %u (at most %u)", f->path, name,
          (guint)rank, AFFECT_CT2_MAX_RANK);
      goto fail;
    }
    v->rank = rank;
    for (d = 0; d < rank; d++) {
      if (!read_u32 (&r, &v->dims[d], "a variable dimension"))
        goto fail;
    }
    if (!read_u8 (&r, &dtype, "a variable dtype"))
      goto fail;
    esize = affect_ct2_dtype_size (dtype);
    if (esize == 0) {
      g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_FORMAT,
          "%s: variable '%s' has unknown dtype id %u", f->path, name,
          (guint)dtype);
      goto fail;
    }
    v->dtype = dtype;
    if (!read_u32 (&r, &n_bytes, "a variable byte count"))
      goto fail;
    /* n_elements × esize must equal n_bytes (< 2^32): any zero dimension
     * gives 0, otherwise stop as soon as the product passes n_bytes. */
    for (d = 0; d < rank; d++)
      if (v->dims[d] == 0)
        n = 0;
    for (d = 0; d < rank && n != 0; d++) {
      n *= v->dims[d];
      if (n > n_bytes)
        break;
    }
    if (n > n_bytes || n * esize != n_bytes) {
      g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_FORMAT,
          "%s: variable '%s' has %u bytes, which does not match its "
          "dimensions and dtype %s",
          f->path, name, n_bytes, affect_ct2_dtype_name (dtype));
      goto fail;
    }
    if (!need (&r, n_bytes, "variable data"))
      goto fail;
    v->n_elements = n;
    v->n_bytes = n_bytes;
    v->data = r.p;
    r.p += n_bytes;
  }

  if (!read_u32 (&r, &n_aliases, "the number of aliases"))
    goto fail;
  /* each alias takes at least 2 × (2 + 1) bytes */
  if (n_aliases > (gsize)(r.end - r.p) / 6) {
    fail (&r, "more aliases announced than the file can hold");
    goto fail;
  }
  f->alias_names = g_new0 (gchar *, n_aliases + 1);
  f->alias_targets = g_new0 (gchar *, n_aliases + 1);
  for (i = 0; i < n_aliases; i++) {
    gchar *alias = read_string (&r, "an alias name");
    gchar *target;
    AffectCt2Variable *v;

    if (!alias)
      goto fail;
    f->alias_names[i] = alias;
    f->n_aliases = i + 1;
    if (!(target = read_string (&r, "an alias target")))
      goto fail;
    f->alias_targets[i] = target;
    if (g_hash_table_contains (f->by_name, alias)) {
      g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_FORMAT,
          "%s: alias '%s' repeats a name", f->path, alias);
      goto fail;
    }
    /* CTranslate2 writes aliases of variables only (not of aliases) */
    v = g_hash_table_lookup (f->by_name, target);
    if (!v || strcmp (v->name, target) != 0) {
      g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_FORMAT,
          "%s: alias '%s' names no variable ('%s')", f->path, alias, target);
      goto fail;
    }
    g_hash_table_insert (f->by_name, alias, v);
  }
  if (r.p != r.end) {
    g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_FORMAT,
        "%s: %" G_GSIZE_FORMAT " unexpected bytes after the aliases", f->path,
        (gsize)(r.end - r.p));
    goto fail;
  }
  g_ptr_array_add (names, NULL);
  f->names = (gchar **)g_ptr_array_free (names, FALSE);
  return TRUE;

fail:
  g_ptr_array_add (names, NULL);
  f->names = (gchar **)g_ptr_array_free (names, FALSE);
  return FALSE;
}

static AffectCt2File *
finish (AffectCt2File *f, GError **error)
{
  if (!parse (f, error)) {
    affect_ct2_close (f);
    return NULL;
  }
  return f;
}

AffectCt2File *
affect_ct2_open (const gchar *path, GError **error)
{
  GError *err = NULL;
  AffectCt2File *f;
  GMappedFile *mapped;

  g_return_val_if_fail (path != NULL, NULL);

  mapped = g_mapped_file_new (path, FALSE, &err);
  if (!mapped) {
    g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_IO, "%s: %s", path,
        err->message);
    g_error_free (err);
    return NULL;
  }
  f = g_new0 (AffectCt2File, 1);
  f->path = g_strdup (path);
  f->mapped = mapped;
  f->data = (const guint8 *)g_mapped_file_get_contents (mapped);
  f->size = g_mapped_file_get_length (mapped);
  return finish (f, error);
}

AffectCt2File *
affect_ct2_open_bytes (
    const guint8 *data, gsize size, const gchar *name, GError **error)
{
  AffectCt2File *f;

  g_return_val_if_fail (data != NULL || size == 0, NULL);

  f = g_new0 (AffectCt2File, 1);
  f->path = g_strdup (name ? name : "(memory)");
  f->copy = g_memdup2 (data, size);
  f->data = f->copy;
  f->size = size;
  return finish (f, error);
}

void
affect_ct2_close (AffectCt2File *f)
{
  if (!f)
    return;
  if (f->by_name)
    g_hash_table_unref (f->by_name);
  g_strfreev (f->names);
  g_strfreev (f->alias_names);
  g_strfreev (f->alias_targets);
  g_free (f->vars);
  g_free (f->spec_name);
  if (f->mapped)
    g_mapped_file_unref (f->mapped);
  g_free (f->copy);
  g_free (f->path);
  g_free (f);
}

guint32
affect_ct2_get_version (AffectCt2File *f)
{
  return f->version;
}

const gchar *
affect_ct2_get_spec_name (AffectCt2File *f)
{
  return f->spec_name;
}

guint32
affect_ct2_get_revision (AffectCt2File *f)
{
  return f->revision;
}

guint
affect_ct2_get_n_variables (AffectCt2File *f)
{
  return f->n_vars;
}

const AffectCt2Variable *
affect_ct2_get_variable (AffectCt2File *f, guint index)
{
  return index < f->n_vars ? &f->vars[index] : NULL;
}

const AffectCt2Variable *
affect_ct2_find (AffectCt2File *f, const gchar *name)
{
  return name ? g_hash_table_lookup (f->by_name, name) : NULL;
}

guint
affect_ct2_get_n_aliases (AffectCt2File *f)
{
  return f->n_aliases;
}

gboolean
affect_ct2_get_alias (
    AffectCt2File *f, guint index, const gchar **alias, const gchar **target)
{
  if (index >= f->n_aliases)
    return FALSE;
  if (alias)
    *alias = f->alias_names[index];
  if (target)
    *target = f->alias_targets[index];
  return TRUE;
}

static const AffectCt2Variable *
lookup (AffectCt2File *f, const gchar *name, GError **error)
{
  const AffectCt2Variable *v = affect_ct2_find (f, name);

  if (!v)
    g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_NOT_FOUND,
        "%s: no variable '%s'", f->path, name);
  return v;
}

gfloat *
affect_ct2_get_f32 (AffectCt2File *f, const gchar *name, gint rank,
    const guint32 *dims, GError **error)
{
  const AffectCt2Variable *v = lookup (f, name, error);
  const guint8 *p;
  gfloat *out;
  guint64 i;

  if (!v)
    return NULL;
  if (rank >= 0) {
    gboolean ok = (guint)rank == v->rank;
    guint d;

    for (d = 0; ok && d < v->rank; d++)
      if (dims && dims[d] != 0 && dims[d] != v->dims[d])
        ok = FALSE;
    if (!ok) {
      GString *want = g_string_new ("["), *got = g_string_new ("[");

      for (d = 0; d < (guint)rank; d++)
        g_string_append_printf (
            want, "%s%u", d ? ", " : "", dims ? dims[d] : 0);
      for (d = 0; d < v->rank; d++)
        g_string_append_printf (got, "%s%u", d ? ", " : "", v->dims[d]);
      g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_MISMATCH,
          "%s: variable '%s' has shape %s], expected %s] (0 = any)", f->path,
          name, got->str, want->str);
      g_string_free (want, TRUE);
      g_string_free (got, TRUE);
      return NULL;
    }
  }
  if (v->dtype != AFFECT_CT2_F32 && v->dtype != AFFECT_CT2_F16
      && v->dtype != AFFECT_CT2_BF16) {
    g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_UNSUPPORTED,
        "%s: variable '%s' is %s; only float32, float16 and bfloat16 "
        "variables can be read as float (quantized models are not supported)",
        f->path, name, affect_ct2_dtype_name (v->dtype));
    return NULL;
  }
  /* n_elements ≤ n_bytes < 2^32: the allocation size cannot overflow */
  out = g_new (gfloat, MAX (v->n_elements, 1));
  p = v->data;
  if (v->dtype == AFFECT_CT2_F32) {
    if (v->n_bytes)
      memcpy (out, p, v->n_bytes);
  } else if (v->dtype == AFFECT_CT2_F16) {
    const gfloat *table = half_table ();

    for (i = 0; i < v->n_elements; i++)
      out[i] = table[p[2 * i] | (p[2 * i + 1] << 8)];
  } else {
    for (i = 0; i < v->n_elements; i++)
      out[i] = affect_ct2_bf16_to_float (
          (guint16)(p[2 * i] | (p[2 * i + 1] << 8)));
  }
  return out;
}

gboolean
affect_ct2_get_int (
    AffectCt2File *f, const gchar *name, gint64 *value, GError **error)
{
  const AffectCt2Variable *v = lookup (f, name, error);
  const guint8 *p;

  if (!v)
    return FALSE;
  if (v->n_elements != 1
      || (v->dtype != AFFECT_CT2_I8 && v->dtype != AFFECT_CT2_I16
          && v->dtype != AFFECT_CT2_I32)) {
    g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_MISMATCH,
        "%s: variable '%s' is not an integer scalar (%s, %" G_GUINT64_FORMAT
        " elements)",
        f->path, name, affect_ct2_dtype_name (v->dtype), v->n_elements);
    return FALSE;
  }
  p = v->data;
  switch (v->dtype) {
    case AFFECT_CT2_I8:
      *value = (gint8)p[0];
      break;
    case AFFECT_CT2_I16:
      *value = (gint16)(guint16)(p[0] | (p[1] << 8));
      break;
    default:
      *value = (gint32)((guint32)p[0] | ((guint32)p[1] << 8)
                        | ((guint32)p[2] << 16) | ((guint32)p[3] << 24));
      break;
  }
  return TRUE;
}

static gboolean
is_whisper_dir (const gchar *dir)
{
  static const gchar *files[]
      = { "model.bin", "config.json", "vocabulary.txt" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (files); i++) {
    gchar *p = g_build_filename (dir, files[i], NULL);
    gboolean ok = g_file_test (p, G_FILE_TEST_IS_REGULAR);

    g_free (p);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

gchar *
affect_ct2_find_whisper (
    const gchar *name, const gchar *explicit_dir, GError **error)
{
  GPtrArray *tried;
  const gchar *env;
  gchar *cache, *folder, *found = NULL;
  guint i;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (explicit_dir && *explicit_dir) {
    if (!is_whisper_dir (explicit_dir)) {
      g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_NOT_FOUND,
          "'%s' is not a Whisper model folder (model.bin, config.json, "
          "vocabulary.txt)",
          explicit_dir);
      return NULL;
    }
    return g_strdup (explicit_dir);
  }
  if (!name || !*name)
    name = AFFECT_WHISPER_DEFAULT_MODEL;
  if (strchr (name, G_DIR_SEPARATOR) || strcmp (name, "..") == 0) {
    g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_NOT_FOUND,
        "invalid Whisper model name '%s'", name);
    return NULL;
  }
  folder = g_strconcat ("whisper-", name, NULL);
  tried = g_ptr_array_new_with_free_func (g_free);
  env = g_getenv ("AFFECT_MODEL_DIR");
  if (env && *env)
    g_ptr_array_add (tried, g_build_filename (env, folder, NULL));
  g_ptr_array_add (tried,
      g_build_filename (affect_model_data_dir (), "models", folder, NULL));
  cache = affect_cache_dir ();
  g_ptr_array_add (tried, g_build_filename (cache, "models", folder, NULL));
  g_free (cache);

  for (i = 0; i < tried->len && !found; i++) {
    const gchar *p = g_ptr_array_index (tried, i);

    if (is_whisper_dir (p))
      found = g_strdup (p);
  }
  if (!found) {
    GString *msg = g_string_new (NULL);

    g_string_append_printf (msg,
        "Whisper model %s not found (a folder %s with model.bin, "
        "config.json, vocabulary.txt); tried:",
        name, folder);
    for (i = 0; i < tried->len; i++)
      g_string_append_printf (msg, " %s%s",
          (const gchar *)g_ptr_array_index (tried, i),
          i + 1 < tried->len ? "," : ".");
    g_string_append_printf (
        msg, " To get it, run 'affect-fetch-asr-model %s'.", name);
    g_set_error_literal (
        error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_NOT_FOUND, msg->str);
    g_string_free (msg, TRUE);
  }
  g_ptr_array_free (tried, TRUE);
  g_free (folder);
  return found;
}

guint
affect_ct2_count_layers (AffectCt2File *file, const gchar *prefix)
{
  guint l;

  for (l = 0;; l++) {
    gchar *p = g_strdup_printf ("%s/layer_%u/ffn/linear_0/weight", prefix, l);
    gboolean has = affect_ct2_find (file, p) != NULL;

    g_free (p);
    if (!has)
      return l;
  }
}

gboolean
affect_ct2_get_num_heads (AffectCt2File *file, const gchar *name, guint32 width,
    int *heads, GError **error)
{
  gint64 n;

  if (!affect_ct2_get_int (file, name, &n, error))
    return FALSE;
  if (n <= 0 || n > (gint64)width || width % n != 0) {
    g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_MISMATCH,
        "%s %" G_GINT64_FORMAT " does not divide the width %u", name, n, width);
    return FALSE;
  }
  *heads = (int)n;
  return TRUE;
}
