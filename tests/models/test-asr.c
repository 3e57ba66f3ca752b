/* gst-affect — tests/models
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Speech recognition foundation (models/asr/):
 *  - the CTranslate2 model.bin reader on small generated files, good and
 *    corrupt (every truncation, every kind of bad field), and on the real
 *    Whisper tiny.en file when it is installed (skipped otherwise, a failure
 *    with AFFECT_REQUIRE_MODELS=1);
 *  - Whisper's log-mel front end against faster-whisper's feature extractor
 *    (tests/golden/asr/whisper-golden.json, make-golden.py): within 1e-4.
 */

#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "affect-ct2.h"
#include "affect-whisper-encoder.h"
#include "affect-whisper-mel.h"
#include "test-tools.h"

#define MEL_TOL 1e-4
/* ctranslate2's float32 encoder output (golden rounded to 1e-5) */
#define ENCODER_TOL 1e-4

#define ck_assert_error(err, dom, cod)                                     \
  ck_assert_msg ((err) != NULL && g_error_matches ((err), (dom), (cod)),   \
      "expected error %s/%d, got %s", g_quark_to_string (dom), (int)(cod), \
      (err) ? (err)->message : "no error")

/* ---- a small model.bin writer for the tests ---------------------------- */

static void
put_u8 (GByteArray *b, guint8 v)
{
  g_byte_array_append (b, &v, 1);
}

static void
put_u16 (GByteArray *b, guint16 v)
{
  guint8 d[2] = { v & 0xff, v >> 8 };
  g_byte_array_append (b, d, 2);
}

static void
put_u32 (GByteArray *b, guint32 v)
{
  guint8 d[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
  g_byte_array_append (b, d, 4);
}

static void
put_str (GByteArray *b, const gchar *s)
{
  put_u16 (b, (guint16)(strlen (s) + 1));
  g_byte_array_append (b, (const guint8 *)s, (guint)strlen (s) + 1);
}

static void
put_var (GByteArray *b, const gchar *name, guint rank, const guint32 *dims,
    guint8 dtype, const void *data, guint32 n_bytes)
{
  guint i;

  put_str (b, name);
  put_u8 (b, (guint8)rank);
  for (i = 0; i < rank; i++)
    put_u32 (b, dims[i]);
  put_u8 (b, dtype);
  put_u32 (b, n_bytes);
  if (n_bytes)
    g_byte_array_append (b, data, n_bytes);
}

static const gfloat good_f32[6] = { 1.5f, -2.0f, 0.0f, 3.25f, 1e-3f, -7.0f };
/* 1, -2, 65504 (largest half), 2^-24 (smallest subnormal), +inf, -0 */
static const guint16 good_f16[6]
    = { 0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x8000 };
static const guint16 good_bf16[2] = { 0x3f80, 0xc040 }; /* 1, -3 */

/* The good file; @variant changes one field to make a corrupt one. */
enum {
  GOOD,
  BAD_VERSION,
  BAD_DTYPE,
  BAD_NBYTES,
  DUPLICATE,
  ALIAS_MISSING,
  ALIAS_REPEATS,
  TRAILING,
  HUGE_COUNT,
  NO_NUL,
  INNER_NUL,
  BAD_UTF8,
  BAD_RANK,
  HUGE_DIMS,
  ZERO_LENGTH_STRING,
  N_VARIANTS
};

static GByteArray *
make_file (guint variant)
{
  GByteArray *b = g_byte_array_new ();
  const guint32 d23[2] = { 2, 3 }, d6[1] = { 6 }, d2[1] = { 2 };
  const guint32 d05[2] = { 0, 5 };
  const guint32 dhuge[4] = { 65536, 65536, 65536, 0x10 };
  const guint32 d9[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 6 };
  guint8 le[12];
  gint16 i16 = 6;
  gint8 i8 = -1;
  gint32 i32 = -123456;
  guint i;

  put_u32 (b, variant == BAD_VERSION ? 5 : 6);
  put_str (b, "WhisperSpec");
  put_u32 (b, 3);
  put_u32 (b, variant == HUGE_COUNT ? 0xffffffffu : 8);
  if (variant == BAD_RANK)
    put_var (b, "a/f32", 9, d9, 0, good_f32, 24);
  else if (variant == HUGE_DIMS)
    put_var (b, "a/f32", 4, dhuge, 0, good_f32, 24);
  else
    put_var (b, "a/f32", 2, d23, variant == BAD_DTYPE ? 6 : 0, good_f32,
        variant == BAD_NBYTES ? 20 : 24);
  for (i = 0; i < 6; i++) {
    le[2 * i] = good_f16[i] & 0xff;
    le[2 * i + 1] = good_f16[i] >> 8;
  }
  put_var (b, variant == DUPLICATE ? "a/f32" : "a/f16", 1, d6, 4, le, 12);
  for (i = 0; i < 2; i++) {
    le[2 * i] = good_bf16[i] & 0xff;
    le[2 * i + 1] = good_bf16[i] >> 8;
  }
  put_var (b, "a/bf16", 1, d2, 5, le, 4);
  le[0] = i16 & 0xff;
  le[1] = (guint16)i16 >> 8;
  put_var (b, "num_heads", 0, NULL, 2, le, 2);
  put_var (b, "flag", 0, NULL, 1, &i8, 1);
  for (i = 0; i < 4; i++)
    le[i] = ((guint32)i32 >> (8 * i)) & 0xff;
  put_var (b, "big", 0, NULL, 3, le, 4);
  put_var (b, "empty", 2, d05, 0, NULL, 0);
  if (variant == NO_NUL) {
    put_u16 (b, 3);
    g_byte_array_append (b, (const guint8 *)"abc", 3);
  } else if (variant == INNER_NUL) {
    put_u16 (b, 4);
    g_byte_array_append (b, (const guint8 *)"a\0b", 4);
  } else if (variant == BAD_UTF8) {
    put_u16 (b, 3);
    g_byte_array_append (b, (const guint8 *)"\xc3\x28", 3);
  } else if (variant == ZERO_LENGTH_STRING) {
    put_u16 (b, 0);
  } else {
    put_str (b, "q/int8");
  }
  put_u8 (b, 1);
  put_u32 (b, 3);
  put_u8 (b, 1);
  put_u32 (b, 3);
  g_byte_array_append (b, (const guint8 *)"\x01\x02\x03", 3);
  put_u32 (b, variant == HUGE_COUNT ? 1 : 1);
  put_str (b, variant == ALIAS_REPEATS ? "a/f16" : "alias");
  put_str (b, variant == ALIAS_MISSING ? "nothing" : "a/f32");
  if (variant == TRAILING)
    put_u8 (b, 0);
  return b;
}

static AffectCt2File *
open_variant (guint variant, GError **err)
{
  GByteArray *b = make_file (variant);
  AffectCt2File *f = affect_ct2_open_bytes (b->data, b->len, "t.bin", err);

  g_byte_array_unref (b);
  return f;
}

/* ---- the CTranslate2 reader --------------------------------------------- */

START_TEST (test_ct2_good)
{
  GError *err = NULL;
  AffectCt2File *f = open_variant (GOOD, &err);
  const AffectCt2Variable *v;
  const gchar *alias, *target;
  const guint32 want23[2] = { 2, 3 }, want_any[2] = { 0, 3 };
  const guint32 wrong[2] = { 3, 2 };
  gfloat *x;
  gint64 n;
  guint i;

  ck_assert_msg (f != NULL, "%s", err ? err->message : "?");
  ck_assert_uint_eq (affect_ct2_get_version (f), 6);
  ck_assert_str_eq (affect_ct2_get_spec_name (f), "WhisperSpec");
  ck_assert_uint_eq (affect_ct2_get_revision (f), 3);
  ck_assert_uint_eq (affect_ct2_get_n_variables (f), 8);
  ck_assert_uint_eq (affect_ct2_get_n_aliases (f), 1);
  ck_assert (affect_ct2_get_alias (f, 0, &alias, &target));
  ck_assert_str_eq (alias, "alias");
  ck_assert_str_eq (target, "a/f32");
  ck_assert (!affect_ct2_get_alias (f, 1, &alias, &target));
  ck_assert (affect_ct2_get_variable (f, 8) == NULL);

  /* lookups by index, name and alias agree */
  for (i = 0; i < affect_ct2_get_n_variables (f); i++) {
    v = affect_ct2_get_variable (f, i);
    ck_assert_ptr_eq (affect_ct2_find (f, v->name), v);
  }
  v = affect_ct2_find (f, "a/f32");
  ck_assert_ptr_eq (affect_ct2_find (f, "alias"), v);
  ck_assert (affect_ct2_find (f, "nothing") == NULL);
  ck_assert_uint_eq (v->rank, 2);
  ck_assert_uint_eq (v->dims[0], 2);
  ck_assert_uint_eq (v->dims[1], 3);
  ck_assert_uint_eq (v->n_elements, 6);
  ck_assert_uint_eq (v->n_bytes, 24);
  ck_assert_int_eq (v->dtype, AFFECT_CT2_F32);

  x = affect_ct2_get_f32 (f, "alias", 2, want23, &err);
  ck_assert_msg (x != NULL, "%s", err ? err->message : "?");
  ck_assert (memcmp (x, good_f32, sizeof good_f32) == 0);
  g_free (x);
  x = affect_ct2_get_f32 (f, "a/f32", 2, want_any, &err);
  ck_assert (x != NULL);
  g_free (x);
  x = affect_ct2_get_f32 (f, "a/f32", -1, NULL, &err);
  ck_assert (x != NULL);
  g_free (x);
  ck_assert (affect_ct2_get_f32 (f, "a/f32", 2, wrong, &err) == NULL);
  ck_assert_error (err, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_MISMATCH);
  g_clear_error (&err);
  ck_assert (affect_ct2_get_f32 (f, "a/f32", 1, want23, &err) == NULL);
  ck_assert_error (err, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_MISMATCH);
  g_clear_error (&err);
  ck_assert (affect_ct2_get_f32 (f, "missing", -1, NULL, &err) == NULL);
  ck_assert_error (err, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_NOT_FOUND);
  g_clear_error (&err);

  /* float16 → float32, exactly */
  x = affect_ct2_get_f32 (f, "a/f16", 1, NULL, &err);
  ck_assert (x != NULL);
  ck_assert (x[0] == 1.0f && x[1] == -2.0f && x[2] == 65504.0f);
  ck_assert (x[3] == ldexpf (1.0f, -24));
  ck_assert (isinf (x[4]) && x[4] > 0);
  ck_assert (x[5] == 0.0f && signbit (x[5]));
  g_free (x);
  x = affect_ct2_get_f32 (f, "a/bf16", 1, NULL, &err);
  ck_assert (x != NULL);
  ck_assert (x[0] == 1.0f && x[1] == -3.0f);
  g_free (x);
  /* an empty variable */
  x = affect_ct2_get_f32 (f, "empty", 2, NULL, &err);
  ck_assert (x != NULL);
  ck_assert_uint_eq (affect_ct2_find (f, "empty")->n_elements, 0);
  g_free (x);

  /* integers */
  ck_assert (affect_ct2_get_int (f, "num_heads", &n, &err));
  ck_assert_int_eq (n, 6);
  ck_assert (affect_ct2_get_int (f, "flag", &n, &err));
  ck_assert_int_eq (n, -1);
  ck_assert (affect_ct2_get_int (f, "big", &n, &err));
  ck_assert_int_eq (n, -123456);
  ck_assert (!affect_ct2_get_int (f, "a/f32", &n, &err));
  ck_assert_error (err, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_MISMATCH);
  g_clear_error (&err);
  ck_assert (!affect_ct2_get_int (f, "q/int8", &n, &err));
  ck_assert_error (err, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_MISMATCH);
  g_clear_error (&err);
  /* int8 weights cannot be read as float */
  ck_assert (affect_ct2_get_f32 (f, "q/int8", -1, NULL, &err) == NULL);
  ck_assert_error (err, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_UNSUPPORTED);
  g_clear_error (&err);
  affect_ct2_close (f);
}
END_TEST

/* affect_ct2_get_num_heads(): positive, dividing the width */
START_TEST (test_ct2_num_heads)
{
  GError *err = NULL;
  AffectCt2File *f = open_variant (GOOD, &err);
  int heads = 0;

  ck_assert_msg (f != NULL, "%s", err ? err->message : "?");
  /* "num_heads" holds 6 */
  ck_assert (affect_ct2_get_num_heads (f, "num_heads", 384, &heads, &err));
  ck_assert_int_eq (heads, 6);
  ck_assert (affect_ct2_get_num_heads (f, "num_heads", 6, &heads, &err));
  ck_assert_int_eq (heads, 6);
  heads = 0;
  ck_assert (!affect_ct2_get_num_heads (f, "num_heads", 64, &heads, &err));
  ck_assert_error (err, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_MISMATCH);
  ck_assert (strstr (err->message, "num_heads 6 does not divide the width 64"));
  g_clear_error (&err);
  ck_assert_int_eq (heads, 0);
  /* "flag" holds -1: no heads */
  ck_assert (!affect_ct2_get_num_heads (f, "flag", 384, &heads, &err));
  ck_assert_error (err, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_MISMATCH);
  g_clear_error (&err);
  /* not an integer, missing */
  ck_assert (!affect_ct2_get_num_heads (f, "a/f32", 384, &heads, &err));
  ck_assert_error (err, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_MISMATCH);
  g_clear_error (&err);
  ck_assert (
      !affect_ct2_get_num_heads (f, "encoder/num_heads", 384, &heads, &err));
  ck_assert (err != NULL);
  g_clear_error (&err);
  ck_assert_int_eq (heads, 0);
  affect_ct2_close (f);
}
END_TEST

START_TEST (test_ct2_half)
{
  guint32 h;

  /* every finite half converts to the value its fields give */
  for (h = 0; h < 0x10000; h++) {
    const guint e = (h >> 10) & 0x1f, m = h & 0x3ff;
    gfloat got = affect_ct2_half_to_float ((guint16)h);
    double want;

    if (e == 0x1f) {
      ck_assert (m ? isnan (got) : isinf (got));
      continue;
    }
    want = e ? ldexp (1.0 + m / 1024.0, (int)e - 15) : ldexp (m, -24);
    if (h & 0x8000)
      want = -want;
    ck_assert_msg ((double)got == want, "half 0x%04x: %g != %g", h, got, want);
  }
}
END_TEST

START_TEST (test_ct2_corrupt)
{
  GError *err = NULL;
  GByteArray *good = make_file (GOOD);
  AffectCt2File *f;
  guint v, len;

  for (v = GOOD + 1; v < N_VARIANTS; v++) {
    f = open_variant (v, &err);
    ck_assert_msg (f == NULL, "variant %u accepted", v);
    ck_assert_error (err, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_FORMAT);
    ck_assert (g_str_has_prefix (err->message, "t.bin: "));
    g_clear_error (&err);
  }
  /* every truncation is an error */
  for (len = 0; len < good->len; len++) {
    f = affect_ct2_open_bytes (good->data, len, "t.bin", &err);
    ck_assert_msg (f == NULL, "truncated to %u accepted", len);
    ck_assert_error (err, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_FORMAT);
    g_clear_error (&err);
  }
  /* every single-byte change is either rejected or gives a valid file */
  for (len = 0; len < good->len; len++) {
    guint8 *copy = g_memdup2 (good->data, good->len);

    copy[len] ^= 0xa5;
    f = affect_ct2_open_bytes (copy, good->len, "t.bin", &err);
    if (f) {
      guint i;

      for (i = 0; i < affect_ct2_get_n_variables (f); i++) {
        const AffectCt2Variable *var = affect_ct2_get_variable (f, i);
        ck_assert_uint_eq (
            var->n_bytes, var->n_elements * affect_ct2_dtype_size (var->dtype));
      }
      affect_ct2_close (f);
    } else {
      g_clear_error (&err);
    }
    g_free (copy);
  }
  g_byte_array_unref (good);

  /* no bytes at all (the first input the fuzzer found trouble with) */
  f = affect_ct2_open_bytes (NULL, 0, "t.bin", &err);
  ck_assert (f == NULL);
  ck_assert_error (err, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_FORMAT);
  g_clear_error (&err);

  f = affect_ct2_open ("/nonexistent/model.bin", &err);
  ck_assert (f == NULL);
  ck_assert_error (err, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_IO);
  g_clear_error (&err);
}
END_TEST

START_TEST (test_ct2_find)
{
  GError *err = NULL;
  gchar *dir = g_dir_make_tmp ("affect-asr-XXXXXX", NULL), *p, *found;
  gchar *sub = g_build_filename (dir, "whisper-test", NULL);
  const gchar *files[] = { "model.bin", "config.json", "vocabulary.txt" };
  guint i;

  ck_assert (dir != NULL);
  ck_assert (affect_ct2_find_whisper (NULL, dir, &err) == NULL);
  ck_assert_error (err, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_NOT_FOUND);
  g_clear_error (&err);
  ck_assert (affect_ct2_find_whisper ("../x", NULL, &err) == NULL);
  ck_assert_error (err, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_NOT_FOUND);
  g_clear_error (&err);

  g_mkdir (sub, 0700);
  for (i = 0; i < G_N_ELEMENTS (files); i++) {
    p = g_build_filename (sub, files[i], NULL);
    ck_assert (g_file_set_contents (p, "x", 1, NULL));
    g_free (p);
  }
  g_setenv ("AFFECT_MODEL_DIR", dir, TRUE);
  found = affect_ct2_find_whisper ("test", NULL, &err);
  ck_assert_msg (found != NULL, "%s", err ? err->message : "?");
  ck_assert_str_eq (found, sub);
  g_free (found);
  found = affect_ct2_find_whisper (NULL, sub, &err);
  ck_assert_str_eq (found, sub);
  g_free (found);
  ck_assert (affect_ct2_find_whisper ("absent-model", NULL, &err) == NULL);
  ck_assert_error (err, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_NOT_FOUND);
  ck_assert (strstr (err->message, "affect-fetch-asr-model absent-model"));
  g_clear_error (&err);
  g_unsetenv ("AFFECT_MODEL_DIR");

  for (i = 0; i < G_N_ELEMENTS (files); i++) {
    p = g_build_filename (sub, files[i], NULL);
    g_unlink (p);
    g_free (p);
  }
  g_rmdir (sub);
  g_rmdir (dir);
  g_free (sub);
  g_free (dir);
}
END_TEST

/* The installed tiny.en, or NULL (skip) / failure with
 * AFFECT_REQUIRE_MODELS=1. */
static gchar *
require_tiny (void)
{
  GError *err = NULL;
  gchar *dir = affect_ct2_find_whisper ("tiny.en", NULL, &err);

  if (dir)
    return dir;
  ck_assert_msg (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") != 0,
      "Whisper tiny.en missing and AFFECT_REQUIRE_MODELS=1: %s", err->message);
  g_printerr ("SKIP: %s\n", err->message);
  g_error_free (err);
  return NULL;
}

static void
check_shape (AffectCt2File *f, const gchar *name, guint rank, guint32 d0,
    guint32 d1, guint32 d2)
{
  const AffectCt2Variable *v = affect_ct2_find (f, name);
  const guint32 want[3] = { d0, d1, d2 };
  guint i;

  ck_assert_msg (v != NULL, "no %s", name);
  ck_assert_msg (v->rank == rank, "%s: rank %u", name, v->rank);
  for (i = 0; i < rank; i++)
    ck_assert_msg (v->dims[i] == want[i], "%s: dim %u is %u, expected %u", name,
        i, v->dims[i], want[i]);
}

START_TEST (test_ct2_tiny_en)
{
  GError *err = NULL;
  gchar *dir = require_tiny (), *path;
  AffectCt2File *f;
  gfloat *x;
  gint64 n;
  guint i, l;

  if (!dir)
    return;
  path = g_build_filename (dir, "model.bin", NULL);
  f = affect_ct2_open (path, &err);
  ck_assert_msg (f != NULL, "%s", err ? err->message : "?");
  ck_assert_uint_eq (affect_ct2_get_version (f), 6);
  ck_assert_str_eq (affect_ct2_get_spec_name (f), "WhisperSpec");
  ck_assert_uint_eq (affect_ct2_get_revision (f), 3);
  ck_assert_uint_eq (affect_ct2_get_n_variables (f), 148);

  check_shape (f, "encoder/conv1/weight", 3, 384, 80, 3);
  check_shape (f, "encoder/conv1/bias", 1, 384, 0, 0);
  check_shape (f, "encoder/conv2/weight", 3, 384, 384, 3);
  check_shape (f, "encoder/position_encodings/encodings", 2, 1500, 384, 0);
  check_shape (f, "encoder/layer_norm/gamma", 1, 384, 0, 0);
  check_shape (f, "decoder/embeddings/weight", 2, 51864, 384, 0);
  check_shape (f, "decoder/position_encodings/encodings", 2, 448, 384, 0);
  check_shape (f, "decoder/layer_norm/beta", 1, 384, 0, 0);
  ck_assert_ptr_eq (affect_ct2_find (f, "decoder/projection/weight"),
      affect_ct2_find (f, "decoder/embeddings/weight"));
  for (l = 0; l < 4; l++) {
    gchar *p;

    p = g_strdup_printf ("encoder/layer_%u/self_attention/linear_0/weight", l);
    check_shape (f, p, 2, 1152, 384, 0); /* fused q, k, v */
    g_free (p);
    p = g_strdup_printf ("encoder/layer_%u/ffn/linear_0/weight", l);
    check_shape (f, p, 2, 1536, 384, 0);
    g_free (p);
    p = g_strdup_printf ("decoder/layer_%u/self_attention/linear_0/weight", l);
    check_shape (f, p, 2, 1152, 384, 0);
    g_free (p);
    p = g_strdup_printf ("decoder/layer_%u/attention/linear_1/weight", l);
    check_shape (f, p, 2, 768, 384, 0); /* fused cross k, v */
    g_free (p);
  }
  ck_assert (
      affect_ct2_find (f, "encoder/layer_4/ffn/linear_0/weight") == NULL);
  ck_assert (
      affect_ct2_find (f, "decoder/layer_4/ffn/linear_0/weight") == NULL);
  ck_assert_int_eq (
      affect_ct2_find (f, "encoder/conv1/weight")->dtype, AFFECT_CT2_F16);
  ck_assert (affect_ct2_get_int (f, "encoder/num_heads", &n, &err));
  ck_assert_int_eq (n, 6);
  ck_assert (affect_ct2_get_int (f, "decoder/num_heads", &n, &err));
  ck_assert_int_eq (n, 6);

  /* float16 weights come out finite; the stored positions are Whisper's
   * sinusoids: row 0 is sin(0) = 0 in the first half, cos(0) = 1 after */
  x = affect_ct2_get_f32 (f, "encoder/position_encodings/encodings", 2,
      (const guint32[]){ 1500, 384 }, &err);
  ck_assert_msg (x != NULL, "%s", err ? err->message : "?");
  for (i = 0; i < 192; i++) {
    ck_assert (x[i] == 0.0f);
    ck_assert (x[192 + i] == 1.0f);
  }
  g_free (x);
  x = affect_ct2_get_f32 (f, "encoder/conv2/weight", 3, NULL, &err);
  ck_assert (x != NULL);
  for (i = 0; i < 384 * 384 * 3; i++)
    ck_assert (isfinite (x[i]));
  g_free (x);

  affect_ct2_close (f);
  g_free (path);
  g_free (dir);
}
END_TEST

/* ---- the log-mel front end ---------------------------------------------- */

/* a file of tests/golden/asr/ */
static gchar *
golden_path (const gchar *file)
{
  return affect_test_golden_path ("asr", file);
}

static JsonParser *
load_golden (void)
{
  gchar *path = golden_path ("whisper-golden.json");
  JsonParser *p = affect_test_load_json (path);

  g_free (path);
  return p;
}

/* 16-bit samples / 32768, as the reference decodes them */
static gfloat *
read_wav (const gchar *rel, gsize *n)
{
  gchar *path = golden_path (rel);
  gint rate = 0;
  gfloat *x = affect_test_read_wav_s16 (path, &rate, n);

  ck_assert_int_eq (rate, 16000);
  g_free (path);
  return x;
}

START_TEST (test_mel_filters)
{
  JsonParser *p = load_golden ();
  JsonObject *root = json_node_get_object (json_parser_get_root (p));
  JsonArray *rows = json_object_get_array_member (root, "filter_rows");
  JsonArray *vals = json_object_get_array_member (root, "filters");
  AffectWhisperMel *m = affect_whisper_mel_new (80);
  const gfloat *w = affect_whisper_mel_get_filters (m);
  guint r, k;

  ck_assert (affect_whisper_mel_new (81) == NULL);
  ck_assert_uint_eq (affect_whisper_mel_get_n_mels (m), 80);
  for (r = 0; r < json_array_get_length (rows); r++) {
    guint row = (guint)json_array_get_int_element (rows, r);
    JsonArray *ref = json_array_get_array_element (vals, r);

    ck_assert_uint_eq (json_array_get_length (ref), AFFECT_WHISPER_N_BINS);
    for (k = 0; k < AFFECT_WHISPER_N_BINS; k++) {
      double want = json_array_get_double_element (ref, k);
      double got = w[row * AFFECT_WHISPER_N_BINS + k];

      ck_assert_msg (fabs (got - want) <= 1e-8 + 1e-6 * fabs (want),
          "filter %u bin %u: %.9g != %.9g", row, k, got, want);
    }
  }
  affect_whisper_mel_free (m);
  g_object_unref (p);
}
END_TEST

static void
compare_columns (const gchar *what, const gfloat *mel, gsize n_frames,
    JsonArray *cols, guint step)
{
  guint c, b;
  double worst = 0.0;

  for (c = 0; c < json_array_get_length (cols); c++) {
    JsonArray *col = json_array_get_array_element (cols, c);
    gsize t = (gsize)c * step;

    ck_assert (t < n_frames);
    ck_assert_uint_eq (json_array_get_length (col), 80);
    for (b = 0; b < 80; b++) {
      double d = fabs (
          mel[b * n_frames + t] - json_array_get_double_element (col, b));

      ck_assert_msg (d <= MEL_TOL, "%s: frame %zu bin %u: %.6f != %.6f (%g)",
          what, t, b, mel[b * n_frames + t],
          json_array_get_double_element (col, b), d);
      worst = MAX (worst, d);
    }
  }
  g_print ("%s: log-mel max |diff| %.2e over %u frames\n", what, worst,
      json_array_get_length (cols));
}

START_TEST (test_mel_recordings)
{
  JsonParser *p = load_golden ();
  JsonObject *root = json_node_get_object (json_parser_get_root (p));
  JsonArray *recs = json_object_get_array_member (root, "recordings");
  guint step = (guint)json_object_get_int_member (root, "frame_step");
  AffectWhisperMel *m = affect_whisper_mel_new (80);
  guint r;

  ck_assert_uint_ge (json_array_get_length (recs), 2);
  for (r = 0; r < json_array_get_length (recs); r++) {
    JsonObject *rec = json_array_get_object_element (recs, r);
    const gchar *name = json_object_get_string_member (rec, "name");
    gsize n, n_frames, i;
    gfloat *x = read_wav (json_object_get_string_member (rec, "file"), &n);
    gfloat *mel, *win, mx = -INFINITY, mn = INFINITY;
    double mean = 0.0;

    ck_assert_uint_eq (n, json_object_get_int_member (rec, "n_samples"));
    mel = affect_whisper_mel_compute (
        m, x, n, AFFECT_WHISPER_DEFAULT_PADDING, &n_frames);
    ck_assert_uint_eq (n_frames, json_object_get_int_member (rec, "n_frames"));
    for (i = 0; i < 80 * n_frames; i++) {
      mx = MAX (mx, mel[i]);
      mn = MIN (mn, mel[i]);
      mean += mel[i];
    }
    mean /= 80.0 * n_frames;
    ck_assert (
        fabs (mx - json_object_get_double_member (rec, "max")) <= MEL_TOL);
    ck_assert (
        fabs (mn - json_object_get_double_member (rec, "min")) <= MEL_TOL);
    ck_assert (
        fabs (mean - json_object_get_double_member (rec, "mean")) <= MEL_TOL);
    /* the clamp: nothing below max - 8 (in (x + 4) / 4 units: 2) */
    ck_assert (mn >= mx - 2.0f - 1e-6f);
    compare_columns (name, mel, n_frames,
        json_object_get_array_member (rec, "logmel"), step);

    /* the first 30-s window as the reference cuts it: the content frames
     * (the last, padding frame dropped), then zeros */
    win = g_new (gfloat, 80 * AFFECT_WHISPER_CHUNK_FRAMES);
    affect_whisper_mel_window (mel, 80, n_frames, 0, n_frames - 1, win);
    for (i = 0; i < 80; i++) {
      ck_assert (memcmp (win + i * AFFECT_WHISPER_CHUNK_FRAMES,
                     mel + i * n_frames, (n_frames - 1) * sizeof (gfloat))
                 == 0);
      ck_assert (win[i * AFFECT_WHISPER_CHUNK_FRAMES + n_frames - 1] == 0.0f);
      ck_assert (win[i * AFFECT_WHISPER_CHUNK_FRAMES + 2999] == 0.0f);
    }
    /* past the end: all zeros; a window in the middle starts at seek */
    affect_whisper_mel_window (mel, 80, n_frames, n_frames, 3000, win);
    for (i = 0; i < 80 * AFFECT_WHISPER_CHUNK_FRAMES; i++)
      ck_assert (win[i] == 0.0f);
    affect_whisper_mel_window (mel, 80, n_frames, 100, 100000, win);
    ck_assert (win[0] == mel[100]);
    ck_assert (win[AFFECT_WHISPER_CHUNK_FRAMES + 5] == mel[n_frames + 105]);
    ck_assert (win[n_frames - 100] == 0.0f);
    g_free (win);
    g_free (mel);
    g_free (x);
  }
  affect_whisper_mel_free (m);
  g_object_unref (p);
}
END_TEST

START_TEST (test_mel_short)
{
  JsonParser *p = load_golden ();
  JsonObject *root = json_node_get_object (json_parser_get_root (p));
  JsonArray *cases = json_object_get_array_member (root, "synthetic");
  AffectWhisperMel *m = affect_whisper_mel_new (80);
  guint c;

  ck_assert_uint_ge (json_array_get_length (cases), 3);
  for (c = 0; c < json_array_get_length (cases); c++) {
    JsonObject *o = json_array_get_object_element (cases, c);
    gsize n = json_object_get_int_member (o, "n_samples");
    gsize padding = json_object_get_int_member (o, "padding");
    gfloat *x = g_new (gfloat, n), *mel;
    gsize i, n_frames;
    gchar *what;

    /* the same formula as make-golden.py's synthetic() */
    for (i = 0; i < n; i++)
      x[i] = (gfloat)(0.5 * sin (2 * G_PI * 440.0 * i / 16000.0)
                      + 0.1 * sin (2 * G_PI * 3100.0 * i / 16000.0));
    mel = affect_whisper_mel_compute (m, x, n, padding, &n_frames);
    ck_assert_uint_eq (n_frames, json_object_get_int_member (o, "n_frames"));
    what = g_strdup_printf ("synthetic %zu+%zu", n, padding);
    compare_columns (
        what, mel, n_frames, json_object_get_array_member (o, "logmel"), 1);
    g_free (what);
    g_free (mel);
    g_free (x);
  }
  /* nothing at all: no frames, no crash */
  {
    gsize n_frames = 99;
    gfloat *mel = affect_whisper_mel_compute (m, NULL, 0, 0, &n_frames);

    ck_assert_uint_eq (n_frames, 0);
    g_free (mel);
  }
  affect_whisper_mel_free (m);
  g_object_unref (p);
}
END_TEST

/* ---- the encoder ---------------------------------------------------------- */

START_TEST (test_encoder_parity)
{
  GError *err = NULL;
  gchar *dir = require_tiny (), *path;
  JsonParser *p;
  JsonArray *recs;
  AffectCt2File *f;
  AffectBackend *be;
  AffectWhisperEncoder *enc;
  AffectWhisperMel *m;
  guint r;

  /* a model.bin that is no Whisper encoder: an error, not a crash */
  be = affect_backend_cpu_new (2);
  f = open_variant (GOOD, &err);
  ck_assert (f != NULL);
  ck_assert (affect_whisper_encoder_new (be, f, &err) == NULL);
  ck_assert_error (err, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_MISMATCH);
  g_clear_error (&err);
  affect_ct2_close (f);

  if (!dir) {
    affect_backend_unref (be);
    return;
  }
  path = g_build_filename (dir, "model.bin", NULL);
  f = affect_ct2_open (path, &err);
  ck_assert_msg (f != NULL, "%s", err ? err->message : "?");
  enc = affect_whisper_encoder_new (be, f, &err);
  ck_assert_msg (enc != NULL, "%s", err ? err->message : "?");
  affect_ct2_close (f);
  ck_assert_int_eq (affect_whisper_encoder_get_width (enc), 384);
  ck_assert_int_eq (affect_whisper_encoder_get_n_mels (enc), 80);
  m = affect_whisper_mel_new (80);
  p = load_golden ();
  recs = json_object_get_array_member (
      json_node_get_object (json_parser_get_root (p)), "recordings");
  for (r = 0; r < json_array_get_length (recs); r++) {
    JsonObject *rec = json_array_get_object_element (recs, r);
    JsonObject *eo = json_object_get_object_member (rec, "encoder");
    JsonArray *rows = json_object_get_array_member (eo, "rows");
    JsonArray *vals = json_object_get_array_member (eo, "values");
    gsize n, n_frames, i;
    gfloat *x = read_wav (json_object_get_string_member (rec, "file"), &n);
    gfloat *mel = affect_whisper_mel_compute (
        m, x, n, AFFECT_WHISPER_DEFAULT_PADDING, &n_frames);
    gfloat *win = g_new (gfloat, 80 * AFFECT_WHISPER_CHUNK_FRAMES), *out;
    AffectTensor *y;
    double worst = 0.0, mean = 0.0, var = 0.0;
    guint k, j;

    affect_whisper_mel_window (mel, 80, n_frames, 0, n_frames - 1, win);
    y = affect_whisper_encoder_forward (enc, win);
    ck_assert_int_eq (y->w, 1500);
    ck_assert_int_eq (y->c, 384);
    out = g_new (gfloat, 1500 * 384);
    affect_tensor_download (y, out);
    for (k = 0; k < json_array_get_length (rows); k++) {
      guint row = (guint)json_array_get_int_element (rows, k);
      JsonArray *ref = json_array_get_array_element (vals, k);

      for (j = 0; j < 384; j++) {
        double d = fabs (
            out[row * 384 + j] - json_array_get_double_element (ref, j));

        ck_assert_msg (d <= ENCODER_TOL, "%s: encoder row %u col %u: %g != %g",
            json_object_get_string_member (rec, "name"), row, j,
            out[row * 384 + j], json_array_get_double_element (ref, j));
        worst = MAX (worst, d);
      }
    }
    for (i = 0; i < 1500 * 384; i++)
      mean += out[i];
    mean /= 1500 * 384;
    for (i = 0; i < 1500 * 384; i++)
      var += (out[i] - mean) * (out[i] - mean);
    var /= 1500 * 384;
    ck_assert (
        fabs (mean - json_object_get_double_member (eo, "mean")) <= 1e-3);
    ck_assert (
        fabs (sqrt (var) - json_object_get_double_member (eo, "std")) <= 1e-3);
    g_print ("%s: encoder max |diff| %.2e over %u rows x 384\n",
        json_object_get_string_member (rec, "name"), worst,
        json_array_get_length (rows));
    affect_tensor_free (y);
    g_free (out);
    g_free (win);
    g_free (mel);
    g_free (x);
  }
  g_object_unref (p);
  affect_whisper_mel_free (m);
  affect_whisper_encoder_free (enc);
  affect_backend_unref (be);
  g_free (path);
  g_free (dir);
}
END_TEST

static Suite *
asr_suite (void)
{
  Suite *s = suite_create ("asr");
  TCase *tc = tcase_create ("ct2");
  TCase *tm = tcase_create ("mel");
  TCase *te = tcase_create ("encoder");

  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_ct2_good);
  tcase_add_test (tc, test_ct2_num_heads);
  tcase_add_test (tc, test_ct2_half);
  tcase_add_test (tc, test_ct2_corrupt);
  tcase_add_test (tc, test_ct2_find);
  tcase_add_test (tc, test_ct2_tiny_en);
  tcase_set_timeout (tm, 300);
  tcase_add_test (tm, test_mel_filters);
  tcase_add_test (tm, test_mel_recordings);
  tcase_add_test (tm, test_mel_short);
  tcase_set_timeout (te, 600);
  tcase_add_test (te, test_encoder_parity);
  suite_add_tcase (s, tc);
  suite_add_tcase (s, tm);
  suite_add_tcase (s, te);
  return s;
}

int
main (void)
{
  Suite *s = asr_suite ();
  SRunner *sr = srunner_create (s);
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
