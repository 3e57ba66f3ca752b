/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * safetensors files: a reader (mmap, header validated before any tensor is
 * touched) and a writer.
 *
 * Format: 8 bytes little-endian header length N, N bytes of UTF-8 JSON, then
 * the data region. The JSON maps tensor names to
 * {"dtype": "F32"|"F16"|"BF16"|"I32"|"I64"|"U8"|..., "shape": [...],
 *  "data_offsets": [begin, end]} (offsets relative to the data region), plus
 * an optional "__metadata__" object of string to string.
 *
 * The reader rejects, with a GError naming the file and the problem:
 * a file shorter than 8 bytes, a header length over AFFECT_ST_MAX_HEADER or
 * beyond the file, JSON that does not parse or is not an object, unknown
 * dtypes, shapes with negative or overflowing sizes, offsets outside the data
 * region, begin > end, byte sizes that disagree with dtype × shape,
 * overlapping tensors, duplicate names, and non-string metadata values.
 *
 * No GStreamer here: only GLib.
 */

#ifndef __AFFECT_SAFETENSORS_H__
#define __AFFECT_SAFETENSORS_H__

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define AFFECT_ST_ERROR (affect_st_error_quark ())
GQuark affect_st_error_quark (void);

typedef enum {
  AFFECT_ST_ERROR_IO,        /* cannot open / map / write the file */
  AFFECT_ST_ERROR_FORMAT,    /* the file is not valid safetensors */
  AFFECT_ST_ERROR_NOT_FOUND, /* no tensor of that name */
  AFFECT_ST_ERROR_MISMATCH   /* dtype or shape not what the caller asked */
} AffectStError;

/* Largest header accepted by the reader (bytes). */
#define AFFECT_ST_MAX_HEADER (100u * 1024u * 1024u)
#define AFFECT_ST_MAX_DIMS 8

typedef enum {
  AFFECT_DTYPE_F32,
  AFFECT_DTYPE_F16,
  AFFECT_DTYPE_BF16,
  AFFECT_DTYPE_F64,
  AFFECT_DTYPE_I8,
  AFFECT_DTYPE_U8,
  AFFECT_DTYPE_I16,
  AFFECT_DTYPE_I32,
  AFFECT_DTYPE_I64,
  AFFECT_DTYPE_BOOL
} AffectDType;

/* Bytes per element, and the safetensors spelling ("F32", ...). */
gsize affect_dtype_size (AffectDType dtype);
const gchar *affect_dtype_name (AffectDType dtype);

typedef struct {
  const gchar *name; /* owned by the file */
  AffectDType dtype;
  guint n_dims;
  int64_t shape[AFFECT_ST_MAX_DIMS];
  gsize n_elements;
  const void *data; /* inside the mapping; not aligned in general */
  gsize n_bytes;
} AffectStTensor;

typedef struct _AffectStFile AffectStFile;

/* Open and validate. Returns NULL and sets @error on any problem; every
 * error message starts with @path as given. A path that is not a regular
 * file (a folder, /dev/null, /dev/zero, a named pipe, a socket) is an
 * AFFECT_ST_ERROR_IO saying what it is; a named pipe is never waited on. */
AffectStFile *affect_st_open (const gchar *path, GError **error);

/* NULL when @path is a regular file (symbolic links followed); else what is
 * wrong with it, to follow the path in a message: "does not exist", "is a
 * folder, not a file", "is a character device (like /dev/null or
 * /dev/zero), not a regular file", "is a named pipe (FIFO), not a regular
 * file", ..., or "cannot be read: <reason>". Free with g_free. */
gchar *affect_st_path_problem (const gchar *path);

/* Same, from memory (copied); @name is used in error messages. */
AffectStFile *affect_st_open_bytes (
    const guint8 *data, gsize size, const gchar *name, GError **error);

void affect_st_close (AffectStFile *file);

const gchar *affect_st_get_path (AffectStFile *file);
guint affect_st_get_n_tensors (AffectStFile *file);
/* Tensors in file order (sorted by data offset). */
const AffectStTensor *affect_st_get_tensor_by_index (
    AffectStFile *file, guint index);
/* NULL if absent. */
const AffectStTensor *affect_st_find (AffectStFile *file, const gchar *name);
/* NULL if absent; owned by the file. */
const gchar *affect_st_get_metadata (AffectStFile *file, const gchar *key);
/* NULL-terminated list of metadata keys; free with g_free (not g_strfreev). */
const gchar **affect_st_get_metadata_keys (AffectStFile *file);

/* Looks up @name, checks it is F32 with exactly the given shape (n_dims
 * entries; a -1 entry matches any size) and returns a newly allocated,
 * aligned float copy (g_free), or NULL with @error naming the file, the tensor
 * and what was expected. */
gfloat *affect_st_get_f32 (AffectStFile *file, const gchar *name, guint n_dims,
    const int64_t *shape, GError **error);

/* Appends @str (UTF-8; NULL as "") to @s as a JSON string literal: quotes,
 * backslashes and control characters escaped. Used for the safetensors
 * header, and by affectsink's JSON Lines. */
void affect_json_append_string (GString *s, const gchar *str);

/* Writer: collect tensors, then write. */
typedef struct _AffectStWriter AffectStWriter;

AffectStWriter *affect_st_writer_new (void);
void affect_st_writer_free (AffectStWriter *writer);
void affect_st_writer_add_metadata (
    AffectStWriter *writer, const gchar *key, const gchar *value);
/* Copies @data (n_bytes must equal dtype size × product of shape). */
gboolean affect_st_writer_add (AffectStWriter *writer, const gchar *name,
    AffectDType dtype, guint n_dims, const int64_t *shape, const void *data,
    gsize n_bytes, GError **error);
/* The complete file contents (header + data) as bytes. */
GBytes *affect_st_writer_serialize (AffectStWriter *writer);
/* Writes atomically (temporary file + rename). */
gboolean affect_st_writer_write (
    AffectStWriter *writer, const gchar *path, GError **error);

G_END_DECLS

#endif /* __AFFECT_SAFETENSORS_H__ */
