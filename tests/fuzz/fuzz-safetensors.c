/* gst-affect — tests/fuzz
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target for the safetensors reader: parse arbitrary bytes, and
 * when they are accepted, touch every tensor byte and metadata entry, check
 * the lookups agree, and check that writing the file again and reading it
 * back gives the same tensors (an invariant failure aborts, which the fuzzer
 * reports as a crash).
 */

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affect-safetensors.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond)                                                          \
  G_STMT_START                                                               \
  {                                                                          \
    if (!(cond)) {                                                           \
      fprintf (stderr, "fuzz-safetensors: invariant failed: %s (line %d)\n", \
          #cond, __LINE__);                                                  \
      abort ();                                                              \
    }                                                                        \
  }                                                                          \
  G_STMT_END

static void
check_same (AffectStFile *a, AffectStFile *b)
{
  guint i;
  const gchar **keys;

  CHECK (affect_st_get_n_tensors (a) == affect_st_get_n_tensors (b));
  for (i = 0; i < affect_st_get_n_tensors (a); i++) {
    const AffectStTensor *ta = affect_st_get_tensor_by_index (a, i);
    const AffectStTensor *tb = affect_st_find (b, ta->name);

    CHECK (tb != NULL);
    CHECK (ta->dtype == tb->dtype);
    CHECK (ta->n_dims == tb->n_dims);
    CHECK (memcmp (ta->shape, tb->shape, sizeof (int64_t) * ta->n_dims) == 0);
    CHECK (ta->n_bytes == tb->n_bytes);
    CHECK (ta->n_bytes == 0 || memcmp (ta->data, tb->data, ta->n_bytes) == 0);
  }
  keys = affect_st_get_metadata_keys (a);
  for (i = 0; keys[i]; i++)
    CHECK (g_strcmp0 (affect_st_get_metadata (a, keys[i]),
               affect_st_get_metadata (b, keys[i]))
           == 0);
  g_free (keys);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  AffectStFile *f;
  AffectStWriter *w;
  const gchar **keys;
  guint i, sum = 0;

  f = affect_st_open_bytes (data, size, "fuzz.safetensors", &error);
  if (!f) {
    CHECK (error != NULL);
    CHECK (g_str_has_prefix (error->message, "fuzz.safetensors: "));
    g_error_free (error);
    return 0;
  }
  CHECK (error == NULL);

  w = affect_st_writer_new ();
  for (i = 0; i < affect_st_get_n_tensors (f); i++) {
    const AffectStTensor *t = affect_st_get_tensor_by_index (f, i);
    const guint8 *p = t->data;
    gsize j;

    CHECK (t != NULL && t->name != NULL);
    CHECK (affect_st_find (f, t->name) == t);
    CHECK (t->n_dims <= AFFECT_ST_MAX_DIMS);
    CHECK (t->n_bytes == t->n_elements * affect_dtype_size (t->dtype));
    for (j = 0; j < t->n_bytes; j++)
      sum += p[j];
    if (i > 0) {
      const AffectStTensor *prev = affect_st_get_tensor_by_index (f, i - 1);
      CHECK ((const guint8 *)prev->data + prev->n_bytes <= p);
    }
    if (t->dtype == AFFECT_DTYPE_F32) {
      gfloat *v = affect_st_get_f32 (f, t->name, t->n_dims, t->shape, &error);
      CHECK (v != NULL);
      CHECK (t->n_bytes == 0 || memcmp (v, t->data, t->n_bytes) == 0);
      g_free (v);
    } else {
      CHECK (
          affect_st_get_f32 (f, t->name, t->n_dims, t->shape, &error) == NULL);
      g_clear_error (&error);
    }
    if (strcmp (t->name, "__metadata__") != 0)
      CHECK (affect_st_writer_add (w, t->name, t->dtype, t->n_dims, t->shape,
          t->data, t->n_bytes, NULL));
  }
  CHECK (affect_st_get_tensor_by_index (f, i) == NULL);

  keys = affect_st_get_metadata_keys (f);
  for (i = 0; keys[i]; i++) {
    const gchar *v = affect_st_get_metadata (f, keys[i]);
    CHECK (v != NULL);
    sum += (guint)strlen (v);
    affect_st_writer_add_metadata (w, keys[i], v);
  }
  g_free (keys);

  /* serialise it again and read it back: same content */
  {
    GBytes *bytes = affect_st_writer_serialize (w);
    gsize len;
    const guint8 *d = g_bytes_get_data (bytes, &len);
    AffectStFile *again = affect_st_open_bytes (d, len, "again", &error);

    CHECK (again != NULL);
    check_same (f, again);
    check_same (again, f);
    affect_st_close (again);
    g_bytes_unref (bytes);
  }
  affect_st_writer_free (w);
  affect_st_close (f);
  (void)sum;
  return 0;
}
