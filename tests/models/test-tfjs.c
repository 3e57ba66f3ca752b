/* gst-affect — tests/models
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * TensorFlow.js manifest reader: hand-made manifests and shards with values
 * worked out by hand (and, for the double-vs-float rounding case, with
 * JavaScript's Float32Array), error cases, conversion to safetensors, and the
 * real face-api package when it is in the cache.
 */

#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "affect-modelpath.h"
#include "affect-safetensors.h"
#include "affect-tfjs.h"

static gchar *tmpdir;

/* 30 bytes: w1 (4 x uint8) w2 (3 x f32) w3 (3 x uint8) w4 (2 x i32)
 * w5 (1 x uint16) w6 (1 x uint8); split 10 / 20 over two shards, so w2
 * straddles the shard boundary. */
static const guint8 shard_bytes[30] = {
  0x00,
  0x01,
  0x02,
  0xff,
  0x00,
  0x00,
  0xc0,
  0x3f,
  0x00,
  0x00,
  0x00,
  0xc0,
  0x00,
  0x00,
  0x50,
  0x40,
  0x00,
  0x01,
  0x03,
  0x07,
  0x00,
  0x00,
  0x00,
  0xf7,
  0xff,
  0xff,
  0xff,
  0x02,
  0x01,
  0x07,
};

#define SHA_A "12e0db1aed95e29d096348ecc048a93e0837a0c587cc7fd6684ecd78d6ce6f77"
#define SHA_B "1b6797d9e8bccc016bfb67211e059088b7bbbd6646d6be491a3e6cddb10bb49a"

#define Q8(s, m) \
  ",\"quantization\":{\"dtype\":\"uint8\",\"scale\":" s ",\"min\":" m "}"

static const gchar *good_weights
    = "{\"name\":\"w1\",\"shape\":[2,2],\"dtype\":\"float32\"" Q8 ("0.5",
        "-1") "},"
              "{\"name\":\"w2\",\"shape\":[3],\"dtype\":\"float32\"},"
              "{\"name\":\"w3\",\"shape\":[3],\"dtype\":\"int32\"" Q8 ("0.5",
                  "-1") "},"
                        "{\"name\":\"w4\",\"shape\":[2],\"dtype\":\"int32\"},"
                        "{\"name\":\"w5\",\"shape\":[1],\"dtype\":\"float32\","
                        "\"quantization\":"
                        "{\"min\":0,\"scale\":0.25,\"dtype\":\"uint16\"}},"
                        "{\"name\":\"scope/"
                        "w6\",\"shape\":[],\"dtype\":\"float32\"" Q8 (
                            "0.1", "-0.3") "}";

static void
setup_tmpdir (void)
{
  tmpdir = g_dir_make_tmp ("affect-tfjs-XXXXXX", NULL);
  ck_assert_ptr_nonnull (tmpdir);
}

static void
teardown_tmpdir (void)
{
  GDir *d = g_dir_open (tmpdir, 0, NULL);
  const gchar *n;

  while (d && (n = g_dir_read_name (d))) {
    gchar *p = g_build_filename (tmpdir, n, NULL);
    g_unlink (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
}

static void
write_file (const gchar *name, const void *data, gsize len)
{
  gchar *p = g_build_filename (tmpdir, name, NULL);
  ck_assert (g_file_set_contents (p, data, (gssize)len, NULL));
  g_free (p);
}

/* Writes test-weights_manifest.json with one group of @paths_json and
 * @weights_json, plus the two standard shards; returns the manifest path. */
static gchar *
write_model (const gchar *paths_json, const gchar *weights_json)
{
  gchar *manifest = g_strdup_printf (
      "[{\"paths\":%s,\"weights\":[%s]}]", paths_json, weights_json);

  write_file ("test-weights_manifest.json", manifest, strlen (manifest));
  write_file ("a.bin", shard_bytes, 10);
  write_file ("b.bin", shard_bytes + 10, 20);
  g_free (manifest);
  return g_build_filename (tmpdir, "test-weights_manifest.json", NULL);
}

static gfloat
f32_from_bits (guint32 bits)
{
  gfloat f;
  memcpy (&f, &bits, 4);
  return f;
}

START_TEST (test_load)
{
  gchar *path = write_model ("[\"a.bin\",\"b.bin\"]", good_weights);
  GError *error = NULL;
  AffectTfjsModel *m = affect_tfjs_load (path, &error);
  const AffectTfjsTensor *t;
  const gfloat *f;
  const gint32 *i;

  ck_assert_msg (m != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (m->n_tensors, 6);
  ck_assert_uint_eq (m->n_shards, 2);
  ck_assert_str_eq (m->shards[0].path, "a.bin");
  ck_assert_str_eq (m->shards[0].sha256, SHA_A);
  ck_assert_str_eq (m->shards[1].sha256, SHA_B);
  ck_assert_uint_eq (strlen (m->manifest_sha256), 64);

  t = &m->tensors[0];
  ck_assert_str_eq (t->name, "w1");
  ck_assert_int_eq (t->dtype, AFFECT_DTYPE_F32);
  ck_assert_uint_eq (t->n_dims, 2);
  ck_assert_int_eq (t->shape[0], 2);
  ck_assert_int_eq (t->shape[1], 2);
  ck_assert_uint_eq (t->n_elements, 4);
  ck_assert_uint_eq (t->n_bytes, 16);
  f = t->data;
  ck_assert (f[0] == -1.0f && f[1] == -0.5f && f[2] == 0.0f);
  ck_assert (f[3] == 126.5f);

  f = affect_tfjs_find (m, "w2")->data;
  ck_assert (f[0] == 1.5f && f[1] == -2.0f && f[2] == 3.25f);

  t = affect_tfjs_find (m, "w3");
  ck_assert_int_eq (t->dtype, AFFECT_DTYPE_I32);
  i = t->data;
  /* Math.round: -0.5 -> 0, 0.5 -> 1 */
  ck_assert_int_eq (i[0], -1);
  ck_assert_int_eq (i[1], 0);
  ck_assert_int_eq (i[2], 1);

  i = affect_tfjs_find (m, "w4")->data;
  ck_assert_int_eq (i[0], 7);
  ck_assert_int_eq (i[1], -9);

  f = affect_tfjs_find (m, "w5")->data;
  ck_assert (f[0] == 64.5f);

  /* 7 * 0.1 + -0.3 in double, then to float: 0x3ecccccd (what
   * Float32Array.from gives); float arithmetic would give 0x3ecccccc. */
  t = affect_tfjs_find (m, "scope/w6");
  ck_assert_uint_eq (t->n_dims, 0);
  ck_assert_uint_eq (t->n_elements, 1);
  ck_assert (((const gfloat *)t->data)[0] == f32_from_bits (0x3ecccccd));

  ck_assert_ptr_null (affect_tfjs_find (m, "nope"));
  affect_tfjs_model_free (m);
  g_free (path);
}

END_TEST;

static void
expect_error (
    const gchar *paths, const gchar *weights, gint code, const gchar *needle)
{
  gchar *path = write_model (paths, weights);
  GError *error = NULL;
  AffectTfjsModel *m = affect_tfjs_load (path, &error);

  ck_assert_msg (m == NULL, "expected error '%s'", needle);
  ck_assert_msg (g_error_matches (error, AFFECT_TFJS_ERROR, code),
      "wrong error: %s", error->message);
  ck_assert_msg (strstr (error->message, "test-weights_manifest.json"),
      "error does not name the manifest: %s", error->message);
  ck_assert_msg (strstr (error->message, needle), "'%s' lacks '%s'",
      error->message, needle);
  g_error_free (error);
  g_free (path);
}

START_TEST (test_errors)
{
  gchar *w;
  GError *error = NULL;
  gchar *path;

  /* sizes: one shard only -> too little data */
  expect_error ("[\"a.bin\"]", good_weights, AFFECT_TFJS_ERROR_FORMAT,
      "weight data is only 10 bytes");
  /* one extra shard -> data left over */
  expect_error ("[\"a.bin\",\"b.bin\",\"a.bin\"]", good_weights,
      AFFECT_TFJS_ERROR_FORMAT, "use 30 bytes but its weight files hold 40");
  /* missing shard */
  expect_error (
      "[\"a.bin\",\"c.bin\"]", good_weights, AFFECT_TFJS_ERROR_IO, "c.bin");
  /* paths escaping the folder */
  expect_error ("[\"../a.bin\"]", good_weights, AFFECT_TFJS_ERROR_FORMAT,
      "relative file name");
  expect_error ("[\"/etc/passwd\"]", good_weights, AFFECT_TFJS_ERROR_FORMAT,
      "relative file name");
  /* unsupported dtypes */
  expect_error ("[\"a.bin\"]",
      "{\"name\":\"s\",\"shape\":[1],\"dtype\":"
      "\"string\"}",
      AFFECT_TFJS_ERROR_UNSUPPORTED, "'string'");
  expect_error ("[\"a.bin\"]",
      "{\"name\":\"s\",\"shape\":[1],\"dtype\":"
      "\"float32\",\"quantization\":{\"dtype\":\"float16\"}}",
      AFFECT_TFJS_ERROR_UNSUPPORTED, "'float16'");
  /* malformed entries */
  expect_error ("[\"a.bin\"]",
      "{\"name\":\"s\",\"shape\":[-1],\"dtype\":"
      "\"float32\"}",
      AFFECT_TFJS_ERROR_FORMAT, "non-negative");
  expect_error ("[\"a.bin\"]", "{\"shape\":[1],\"dtype\":\"float32\"}",
      AFFECT_TFJS_ERROR_FORMAT, "\"name\"");
  expect_error ("[\"a.bin\"]",
      "{\"name\":\"s\",\"shape\":[1],\"dtype\":"
      "\"float32\",\"quantization\":{\"dtype\":\"uint8\",\"scale\":1}}",
      AFFECT_TFJS_ERROR_FORMAT, "\"min\"");
  /* int32 overflow after dequantisation */
  expect_error ("[\"a.bin\"]",
      "{\"name\":\"s\",\"shape\":[4],\"dtype\":"
      "\"int32\"" Q8 ("1e10", "0") "}",
      AFFECT_TFJS_ERROR_FORMAT, "outside int32");
  /* a group without weights but with data */
  w = g_strdup ("");
  expect_error ("[\"a.bin\"]", w, AFFECT_TFJS_ERROR_FORMAT,
      "use 0 bytes but its weight files hold 10");
  g_free (w);

  /* not JSON, not a list */
  write_file ("bad-weights_manifest.json", "{\"x\":", 5);
  path = g_build_filename (tmpdir, "bad-weights_manifest.json", NULL);
  ck_assert_ptr_null (affect_tfjs_load (path, &error));
  ck_assert (
      g_error_matches (error, AFFECT_TFJS_ERROR, AFFECT_TFJS_ERROR_FORMAT));
  g_clear_error (&error);
  write_file ("bad-weights_manifest.json", "{}", 2);
  ck_assert_ptr_null (affect_tfjs_load (path, &error));
  ck_assert_msg (
      strstr (error->message, "not a JSON list"), "%s", error->message);
  g_clear_error (&error);
  g_free (path);

  path = g_build_filename (tmpdir, "absent-weights_manifest.json", NULL);
  ck_assert_ptr_null (affect_tfjs_load (path, &error));
  ck_assert (g_error_matches (error, AFFECT_TFJS_ERROR, AFFECT_TFJS_ERROR_IO));
  g_clear_error (&error);
  g_free (path);
}

END_TEST;

/* Tensors with no elements, in a group whose only weight file is empty
 * (fuzz-tfjs: the decoder did pointer arithmetic on the NULL data of the
 * empty group, undefined behaviour). */
START_TEST (test_zero_elements)
{
  const gchar *manifest
      = "[{\"paths\":[\"empty.bin\"],\"weights\":["
        "{\"name\":\"z\",\"shape\":[0,0,16],\"dtype\":\"float32\"},"
        "{\"name\":\"q\",\"shape\":[3,0],\"dtype\":\"int32\","
        "\"quantization\":{\"dtype\":\"uint8\",\"scale\":1,\"min\":0}}]},"
        "{\"paths\":[],\"weights\":[{\"name\":\"e\",\"shape\":[0],"
        "\"dtype\":\"float32\"}]}]";
  gchar *path = g_build_filename (tmpdir, "zero-weights_manifest.json", NULL);
  GError *error = NULL;
  AffectTfjsModel *m;

  write_file ("zero-weights_manifest.json", manifest, strlen (manifest));
  write_file ("empty.bin", "", 0);
  m = affect_tfjs_load (path, &error);
  ck_assert_msg (m != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (m->n_tensors, 3);
  for (guint i = 0; i < 3; i++) {
    ck_assert_uint_eq (m->tensors[i].n_elements, 0);
    ck_assert_uint_eq (m->tensors[i].n_bytes, 0);
    ck_assert_ptr_nonnull (m->tensors[i].data);
  }
  ck_assert_int_eq (affect_tfjs_find (m, "z")->shape[2], 16);
  ck_assert_int_eq (affect_tfjs_find (m, "q")->dtype, AFFECT_DTYPE_I32);
  ck_assert_uint_eq (m->n_shards, 1);
  affect_tfjs_model_free (m);
  g_free (path);
}

END_TEST;

START_TEST (test_model_name)
{
  gchar *n;

  n = affect_tfjs_model_name ("/x/y/face_expression_model-weights_manifest"
                              ".json");
  ck_assert_str_eq (n, "face_expression_model");
  g_free (n);
  n = affect_tfjs_model_name ("other.json");
  ck_assert_str_eq (n, "other");
  g_free (n);
}

END_TEST;

/* tfjs -> safetensors -> reader keeps names, order, shapes and bits. */
START_TEST (test_convert_round_trip)
{
  gchar *path = write_model ("[\"a.bin\",\"b.bin\"]", good_weights);
  gchar *out = g_build_filename (tmpdir, "out.safetensors", NULL);
  AffectTfjsModel *m = affect_tfjs_load (path, NULL);
  AffectStWriter *w = affect_st_writer_new ();
  AffectStFile *f;
  GError *error = NULL;
  guint i;

  ck_assert_ptr_nonnull (m);
  for (i = 0; i < m->n_tensors; i++) {
    const AffectTfjsTensor *t = &m->tensors[i];
    ck_assert (affect_st_writer_add (w, t->name, t->dtype, t->n_dims, t->shape,
        t->data, t->n_bytes, &error));
  }
  ck_assert (affect_st_writer_write (w, out, &error));
  f = affect_st_open (out, &error);
  ck_assert_ptr_nonnull (f);
  ck_assert_uint_eq (affect_st_get_n_tensors (f), m->n_tensors);
  for (i = 0; i < m->n_tensors; i++) {
    const AffectStTensor *s = affect_st_get_tensor_by_index (f, i);
    ck_assert_str_eq (s->name, m->tensors[i].name);
    ck_assert_int_eq (s->dtype, m->tensors[i].dtype);
    ck_assert_uint_eq (s->n_dims, m->tensors[i].n_dims);
    ck_assert_uint_eq (s->n_bytes, m->tensors[i].n_bytes);
    ck_assert (memcmp (s->data, m->tensors[i].data, s->n_bytes) == 0);
  }
  affect_st_close (f);
  affect_st_writer_free (w);
  affect_tfjs_model_free (m);
  g_free (out);
  g_free (path);
}

END_TEST;

/* The cached package: every manifest loads, sizes agree, and the converted
 * safetensors in the cache hold exactly the same tensors. */
START_TEST (test_cached_package)
{
  static const gchar *names[] = { "tiny_face_detector_model",
    "ssd_mobilenetv1_model", "face_landmark_68_model",
    "face_landmark_68_tiny_model", "face_expression_model",
    "face_recognition_model", "age_gender_model" };
  gchar *cache = affect_cache_dir ();
  guint n;

  for (n = 0; n < G_N_ELEMENTS (names); n++) {
    gchar *file = g_strconcat (names[n], "-weights_manifest.json", NULL);
    gchar *manifest
        = g_build_filename (cache, "face-api-1.7.15", "model", file, NULL);
    gchar *st_path;
    AffectTfjsModel *m;
    AffectStFile *f;
    GError *error = NULL;
    guint i;

    g_free (file);
    st_path = affect_model_find (names[n], NULL, NULL);
    if (!g_file_test (manifest, G_FILE_TEST_IS_REGULAR) || !st_path) {
      if (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") == 0)
        ck_abort_msg ("%s or its converted model missing; run "
                      "affect-fetch-models",
            manifest);
      g_print ("SKIP cached package check: %s or %s.safetensors missing; "
               "run affect-fetch-models (models/face/fetch-face-models.sh)\n",
          manifest, names[n]);
      g_free (manifest);
      g_free (st_path);
      break;
    }
    m = affect_tfjs_load (manifest, &error);
    ck_assert_msg (m != NULL, "%s", error ? error->message : "");
    f = affect_st_open (st_path, &error);
    ck_assert_msg (f != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq (affect_st_get_n_tensors (f), m->n_tensors);
    for (i = 0; i < m->n_tensors; i++) {
      const AffectStTensor *s = affect_st_get_tensor_by_index (f, i);
      ck_assert_str_eq (s->name, m->tensors[i].name);
      ck_assert_uint_eq (s->n_bytes, m->tensors[i].n_bytes);
      ck_assert (memcmp (s->data, m->tensors[i].data, s->n_bytes) == 0);
    }
    {
      gchar *key = g_strconcat ("sha256:", m->shards[0].path, NULL);
      ck_assert_str_eq (affect_st_get_metadata (f, key), m->shards[0].sha256);
      g_free (key);
    }
    affect_st_close (f);
    affect_tfjs_model_free (m);
    g_free (st_path);
    g_free (manifest);
  }
  g_free (cache);
}

END_TEST;

static Suite *
tfjs_suite (void)
{
  Suite *s = suite_create ("tfjs");
  TCase *tc = tcase_create ("general");

  tcase_add_checked_fixture (tc, setup_tmpdir, teardown_tmpdir);
  tcase_add_test (tc, test_load);
  tcase_add_test (tc, test_errors);
  tcase_add_test (tc, test_zero_elements);
  tcase_add_test (tc, test_model_name);
  tcase_add_test (tc, test_convert_round_trip);
  tcase_add_test (tc, test_cached_package);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (tfjs_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
