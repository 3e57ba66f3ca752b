/* gst-affect — tests/fuzz
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target for the CTranslate2 model.bin reader
 * (models/asr/affect-ct2.c): parse arbitrary bytes and, when they are
 * accepted, touch every variable byte, check that lookups by index, name and
 * alias agree, that byte counts match dims and dtype and that variables lie
 * inside the input one after the other, and convert every float variable to
 * float32 (an invariant failure aborts, which the fuzzer reports as a
 * crash).
 */

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affect-ct2.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond)                                                         \
  G_STMT_START                                                              \
  {                                                                         \
    if (!(cond)) {                                                          \
      fprintf (stderr, "fuzz-ct2: invariant failed: %s (line %d)\n", #cond, \
          __LINE__);                                                        \
      abort ();                                                             \
    }                                                                       \
  }                                                                         \
  G_STMT_END

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  AffectCt2File *f;
  const guint8 *prev_end = NULL;
  guint i, sum = 0;

  f = affect_ct2_open_bytes (data, size, "fuzz.bin", &error);
  if (!f) {
    CHECK (error != NULL);
    CHECK (error->domain == AFFECT_CT2_ERROR);
    CHECK (g_str_has_prefix (error->message, "fuzz.bin: "));
    g_error_free (error);
    return 0;
  }
  CHECK (error == NULL);
  CHECK (affect_ct2_get_version (f) == AFFECT_CT2_VERSION);
  CHECK (affect_ct2_get_spec_name (f) != NULL);
  CHECK (g_utf8_validate (affect_ct2_get_spec_name (f), -1, NULL));

  for (i = 0; i < affect_ct2_get_n_variables (f); i++) {
    const AffectCt2Variable *v = affect_ct2_get_variable (f, i);
    const guint8 *p = v->data;
    guint64 n = 1;
    gsize j;
    guint d;

    CHECK (v != NULL && v->name != NULL);
    CHECK (g_utf8_validate (v->name, -1, NULL));
    CHECK (affect_ct2_find (f, v->name) == v);
    CHECK (v->rank <= AFFECT_CT2_MAX_RANK);
    for (d = 0; d < v->rank; d++)
      n *= v->dims[d];
    CHECK (n == v->n_elements);
    CHECK (v->n_bytes == v->n_elements * affect_ct2_dtype_size (v->dtype));
    /* inside the copy, in order, not overlapping */
    CHECK (prev_end == NULL || p >= prev_end);
    for (j = 0; j < v->n_bytes; j++)
      sum += p[j];
    prev_end = p + v->n_bytes;
    if (v->dtype == AFFECT_CT2_F32 || v->dtype == AFFECT_CT2_F16
        || v->dtype == AFFECT_CT2_BF16) {
      gfloat *x
          = affect_ct2_get_f32 (f, v->name, (gint)v->rank, v->dims, &error);
      CHECK (x != NULL);
      if (v->dtype == AFFECT_CT2_F32)
        CHECK (v->n_bytes == 0 || memcmp (x, v->data, v->n_bytes) == 0);
      g_free (x);
    } else {
      gint64 value;

      CHECK (affect_ct2_get_f32 (f, v->name, -1, NULL, &error) == NULL);
      CHECK (error != NULL);
      g_clear_error (&error);
      if (v->n_elements == 1)
        CHECK (affect_ct2_get_int (f, v->name, &value, NULL));
    }
  }
  CHECK (affect_ct2_get_variable (f, i) == NULL);

  for (i = 0; i < affect_ct2_get_n_aliases (f); i++) {
    const gchar *alias, *target;
    const AffectCt2Variable *v;

    CHECK (affect_ct2_get_alias (f, i, &alias, &target));
    v = affect_ct2_find (f, alias);
    CHECK (v != NULL);
    CHECK (strcmp (v->name, target) == 0);
    CHECK (affect_ct2_find (f, target) == v);
  }
  CHECK (!affect_ct2_get_alias (f, i, NULL, NULL));
  affect_ct2_close (f);
  (void)sum;
  return 0;
}
