/* gst-affect — tests/fuzz
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target for the TensorFlow.js manifest and shard reader
 * (models/face/affect-tfjs.c). The input is a manifest and the bytes of
 * one shard: everything before the first NUL byte is written as
 * `m-weights_manifest.json`, everything after it as the shard `s`, in a
 * private temporary folder that also holds `t` (the 8 bytes 0..7) and a
 * folder `d`; the manifest may name any of them (or anything else). The
 * reader must fail with an error that names the manifest, or succeed with
 * tensors that agree with the manifest: F32 or I32, element counts equal to
 * the shape products, data readable, checksums of the manifest and shards
 * right, lookups by name giving the first tensor of that name.
 */

#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affect-tfjs.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond)                                                          \
  G_STMT_START                                                               \
  {                                                                          \
    if (!(cond)) {                                                           \
      fprintf (stderr, "fuzz-tfjs: invariant failed: %s (line %d)\n", #cond, \
          __LINE__);                                                         \
      abort ();                                                              \
    }                                                                        \
  }                                                                          \
  G_STMT_END

static gchar *dir = NULL, *manifest = NULL, *shard = NULL;
static volatile guint sink; /* keeps the reads of the tensor data */

/* Plain writes: g_file_set_contents () syncs to disk, far too slow here. */
static void
put_file (const gchar *path, const void *data, gsize len)
{
  FILE *f = fopen (path, "wb");

  CHECK (f != NULL);
  CHECK (len == 0 || fwrite (data, 1, len, f) == len);
  CHECK (fclose (f) == 0);
}

static void
remove_dir (void)
{
  const gchar *names[] = { "m-weights_manifest.json", "s", "t", NULL };
  gchar *d;

  for (int i = 0; names[i]; i++) {
    gchar *p = g_build_filename (dir, names[i], NULL);
    g_unlink (p);
    g_free (p);
  }
  d = g_build_filename (dir, "d", NULL);
  g_rmdir (d);
  g_free (d);
  g_rmdir (dir);
}

static void
init (void)
{
  static const guint8 t[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
  gchar *p;

  if (dir)
    return;
  dir = g_dir_make_tmp ("fuzz-tfjs-XXXXXX", NULL);
  CHECK (dir != NULL);
  manifest = g_build_filename (dir, "m-weights_manifest.json", NULL);
  shard = g_build_filename (dir, "s", NULL);
  p = g_build_filename (dir, "t", NULL);
  put_file (p, t, sizeof t);
  g_free (p);
  p = g_build_filename (dir, "d", NULL);
  CHECK (g_mkdir (p, 0700) == 0);
  g_free (p);
  atexit (remove_dir);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const uint8_t *nul = memchr (data, 0, size);
  gsize m_len = nul ? (gsize)(nul - data) : size;
  gsize s_len = nul ? size - m_len - 1 : 0;
  GError *error = NULL;
  AffectTfjsModel *model;
  gchar *sha;

  /* A g_return_if_fail () in the code under test is a bug. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
  init ();
  put_file (manifest, data, m_len);
  put_file (shard, nul ? nul + 1 : data, s_len);

  model = affect_tfjs_load (manifest, &error);
  if (g_getenv ("FUZZ_VERBOSE")) /* replaying a corpus: say what happened */
    fprintf (stderr, "%s\n", model ? "loaded" : error->message);
  if (!model) {
    CHECK (error != NULL);
    CHECK (error->domain == AFFECT_TFJS_ERROR);
    /* Every error names the manifest (its path or its base name). */
    CHECK (g_str_has_prefix (error->message, manifest)
           || g_str_has_prefix (error->message, "m-weights_manifest.json: "));
    g_error_free (error);
    return 0;
  }
  CHECK (error == NULL);

  CHECK (strcmp (model->manifest_path, manifest) == 0);
  sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, m_len);
  CHECK (strcmp (sha, model->manifest_sha256) == 0);
  g_free (sha);
  for (guint i = 0; i < model->n_shards; i++) {
    const AffectTfjsShard *s = &model->shards[i];
    CHECK (s->path != NULL && s->sha256 != NULL);
    CHECK (strlen (s->sha256) == 64);
    if (strcmp (s->path, "s") == 0) {
      sha = g_compute_checksum_for_data (
          G_CHECKSUM_SHA256, nul ? nul + 1 : data, s_len);
      CHECK (strcmp (sha, s->sha256) == 0);
      g_free (sha);
    }
  }
  for (guint i = 0; i < model->n_tensors; i++) {
    const AffectTfjsTensor *t = &model->tensors[i];
    guint64 prod = 1;
    const guint8 *p = t->data;

    CHECK (t->name != NULL);
    CHECK (t->dtype == AFFECT_DTYPE_F32 || t->dtype == AFFECT_DTYPE_I32);
    CHECK (t->n_dims <= AFFECT_ST_MAX_DIMS);
    for (guint d = 0; d < t->n_dims; d++) {
      CHECK (t->shape[d] >= 0);
      prod *= (guint64)t->shape[d];
    }
    CHECK (prod == t->n_elements);
    CHECK (t->n_bytes == t->n_elements * 4);
    CHECK (t->data != NULL);
    for (gsize b = 0; b < t->n_bytes; b++)
      sink += p[b];
    CHECK (affect_tfjs_find (model, t->name) != NULL);
    CHECK (affect_tfjs_find (model, t->name) <= t);
    CHECK (strcmp (affect_tfjs_find (model, t->name)->name, t->name) == 0);
  }
  affect_tfjs_model_free (model);
  return 0;
}
