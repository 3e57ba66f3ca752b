/* gst-affect — models/asr
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Reader for CTranslate2's model.bin (the format of the converted Whisper
 * models fetched by affect-fetch-asr-model; docs/asr.md).
 *
 * Layout (binary version 6, little-endian, no padding anywhere):
 *
 *   u32 version                       (6)
 *   str spec name                     ("WhisperSpec")
 *   u32 spec revision                 (3 for Whisper)
 *   u32 n_variables
 *   n_variables × {
 *     str name                        ("encoder/conv1/weight")
 *     u8  rank
 *     u32 dims[rank]                  (outermost first; rank 0 = scalar)
 *     u8  dtype                       (AffectCt2DType)
 *     u32 n_bytes                     (= product of dims × dtype size)
 *     u8  data[n_bytes]
 *   }
 *   u32 n_aliases
 *   n_aliases × { str alias, str variable name }
 *
 * where str = u16 length (bytes including a terminating NUL), the UTF-8
 * bytes, the NUL. The reader checks every length against the file size,
 * names for valid UTF-8 without inner NULs, no duplicate names, aliases that
 * name an existing variable, byte sizes that match dims and dtype, and no
 * bytes after the aliases: a corrupt or truncated file is an error
 * (AFFECT_CT2_ERROR_FORMAT), never a crash.
 */

#ifndef __AFFECT_CT2_H__
#define __AFFECT_CT2_H__

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define AFFECT_CT2_ERROR (affect_ct2_error_quark ())
GQuark affect_ct2_error_quark (void);

typedef enum {
  AFFECT_CT2_ERROR_IO,         /* cannot open / map the file */
  AFFECT_CT2_ERROR_FORMAT,     /* not a valid model.bin */
  AFFECT_CT2_ERROR_NOT_FOUND,  /* no variable of that name */
  AFFECT_CT2_ERROR_MISMATCH,   /* dtype or shape not what the caller asked */
  AFFECT_CT2_ERROR_UNSUPPORTED /* valid, but a dtype this reader cannot
                                * convert (e.g. int8 quantized weights) */
} AffectCt2Error;

/* The binary version this reader understands. */
#define AFFECT_CT2_VERSION 6
/* Largest rank accepted (CTranslate2's models use at most 4). */
#define AFFECT_CT2_MAX_RANK 8

/* CTranslate2's dtype ids, as written in the file. */
typedef enum {
  AFFECT_CT2_F32 = 0,
  AFFECT_CT2_I8 = 1,
  AFFECT_CT2_I16 = 2,
  AFFECT_CT2_I32 = 3,
  AFFECT_CT2_F16 = 4,
  AFFECT_CT2_BF16 = 5
} AffectCt2DType;

/* Bytes per element (0 for an unknown id), and a name ("float16"). */
gsize affect_ct2_dtype_size (guint dtype);
const gchar *affect_ct2_dtype_name (guint dtype);

typedef struct {
  const gchar *name; /* owned by the file */
  AffectCt2DType dtype;
  guint rank;
  guint32 dims[AFFECT_CT2_MAX_RANK];
  guint64 n_elements;
  const void *data; /* inside the file's bytes; not aligned in general */
  gsize n_bytes;
} AffectCt2Variable;

typedef struct _AffectCt2File AffectCt2File;

/* Open (memory-mapped) and validate. NULL and @error on any problem; error
 * messages start with the path. */
AffectCt2File *affect_ct2_open (const gchar *path, GError **error);
/* Same from memory (copied); @name starts error messages. */
AffectCt2File *affect_ct2_open_bytes (
    const guint8 *data, gsize size, const gchar *name, GError **error);
void affect_ct2_close (AffectCt2File *file);

guint32 affect_ct2_get_version (AffectCt2File *file);
const gchar *affect_ct2_get_spec_name (AffectCt2File *file);
guint32 affect_ct2_get_revision (AffectCt2File *file);

/* Variables in file order. */
guint affect_ct2_get_n_variables (AffectCt2File *file);
const AffectCt2Variable *affect_ct2_get_variable (
    AffectCt2File *file, guint index);
/* By name or alias (an alias gives its variable); NULL if absent. */
const AffectCt2Variable *affect_ct2_find (
    AffectCt2File *file, const gchar *name);
/* Aliases in file order: the alias and the name of its variable. */
guint affect_ct2_get_n_aliases (AffectCt2File *file);
gboolean affect_ct2_get_alias (AffectCt2File *file, guint index,
    const gchar **alias, const gchar **target);

/* The variable @name (or alias) as a new float32 array (g_free), converted
 * from float32, float16 or bfloat16. When @rank is not negative, the
 * variable must have exactly that rank and, where @dims[i] is not 0, that
 * size in dimension i (AFFECT_CT2_ERROR_MISMATCH otherwise). Integer
 * variables: AFFECT_CT2_ERROR_UNSUPPORTED (int8/int16 weights come with
 * scales in quantized models, which this reader does not handle). */
gfloat *affect_ct2_get_f32 (AffectCt2File *file, const gchar *name, gint rank,
    const guint32 *dims, GError **error);

/* A scalar (rank 0, or one element) integer variable: int8, int16 or
 * int32 (e.g. "encoder/num_heads"). */
gboolean affect_ct2_get_int (
    AffectCt2File *file, const gchar *name, gint64 *value, GError **error);

/* How many layers "@prefix/layer_<i>/ffn/linear_0/weight" has, counting
 * from layer 0 until the first missing one (e.g. @prefix "encoder"). */
guint affect_ct2_count_layers (AffectCt2File *file, const gchar *prefix);

/* The attention heads of a stack: the integer @name (e.g.
 * "encoder/num_heads"), which must be positive and divide @width. FALSE and
 * @error (AFFECT_CT2_ERROR_MISMATCH, or the reader's error) otherwise. */
gboolean affect_ct2_get_num_heads (AffectCt2File *file, const gchar *name,
    guint32 width, int *heads, GError **error);

/* IEEE half / bfloat16 bits to float (exact). */
gfloat affect_ct2_half_to_float (guint16 h);
gfloat affect_ct2_bf16_to_float (guint16 b);

/* The default speech recognition model: whisper-<name> folders in the model
 * lookup places (affect_ct2_find_whisper). */
#define AFFECT_WHISPER_DEFAULT_MODEL "tiny.en"

/* Finds a Whisper CTranslate2 folder (one holding model.bin, config.json
 * and vocabulary.txt), g_free. @explicit_dir: when non-empty, used as is (an
 * error if it is not such a folder). Otherwise whisper-@name (NULL: the
 * default) in, in order: $AFFECT_MODEL_DIR, AFFECT_DATADIR/models,
 * <cache>/models. The error (AFFECT_CT2_ERROR_NOT_FOUND) lists the places
 * tried and says how to fetch the model (affect-fetch-asr-model). */
gchar *affect_ct2_find_whisper (
    const gchar *name, const gchar *explicit_dir, GError **error);

G_END_DECLS

#endif /* __AFFECT_CT2_H__ */
