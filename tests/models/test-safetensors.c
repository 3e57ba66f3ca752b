/* gst-affect — tests/models
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * safetensors reader and writer: round trip, the exact on-disk layout, every
 * malformed case the reader must reject (files built by hand), and the
 * converted face models when they are in the cache.
 */

#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "affect-modelpath.h"
#include "affect-safetensors.h"

static gchar *tmpdir;

static void
setup_tmpdir (void)
{
  tmpdir = g_dir_make_tmp ("affect-st-XXXXXX", NULL);
  ck_assert_ptr_nonnull (tmpdir);
}

static void
remove_tree (const gchar *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  const gchar *n;

  if (!d)
    return;
  while ((n = g_dir_read_name (d))) {
    gchar *p = g_build_filename (path, n, NULL);
    if (g_file_test (p, G_FILE_TEST_IS_DIR))
      remove_tree (p);
    else
      g_unlink (p);
    g_free (p);
  }
  g_dir_close (d);
  g_rmdir (path);
}

static void
teardown_tmpdir (void)
{
  remove_tree (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
}

/* Builds a file from an 8-byte length prefix of @header_len (G_MAXUINT64 =
 * use strlen(header)), the header text and @data_len bytes of data. */
static GBytes *
make_file_full (guint64 header_len, const gchar *header, gsize data_len)
{
  GByteArray *a = g_byte_array_new ();
  guint8 len[8];
  guint i;

  if (header_len == G_MAXUINT64)
    header_len = strlen (header);
  for (i = 0; i < 8; i++)
    len[i] = (guint8)(header_len >> (8 * i));
  g_byte_array_append (a, len, 8);
  g_byte_array_append (a, (const guint8 *)header, (guint)strlen (header));
  for (i = 0; i < data_len; i++) {
    guint8 b = (guint8)i;
    g_byte_array_append (a, &b, 1);
  }
  return g_byte_array_free_to_bytes (a);
}

static GBytes *
make_file (const gchar *header, gsize data_len)
{
  return make_file_full (G_MAXUINT64, header, data_len);
}

/* Expects the reader to reject @bytes with a FORMAT error whose message names
 * the file and contains @needle. */
static void
expect_format_error (GBytes *bytes, const gchar *needle)
{
  GError *error = NULL;
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  AffectStFile *f
      = affect_st_open_bytes (data, size, "broken.safetensors", &error);

  ck_assert_msg (f == NULL, "expected an error containing '%s'", needle);
  ck_assert_ptr_nonnull (error);
  ck_assert_msg (
      g_error_matches (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_FORMAT),
      "wrong error: %s", error->message);
  ck_assert_msg (g_str_has_prefix (error->message, "broken.safetensors: "),
      "error does not name the file: %s", error->message);
  ck_assert_msg (strstr (error->message, needle) != NULL,
      "error '%s' does not contain '%s'", error->message, needle);
  g_error_free (error);
  g_bytes_unref (bytes);
}

static void
expect_valid (GBytes *bytes, guint n_tensors)
{
  GError *error = NULL;
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  AffectStFile *f = affect_st_open_bytes (data, size, "ok.safetensors", &error);

  ck_assert_msg (
      f != NULL, "unexpected error: %s", error ? error->message : "?");
  ck_assert_uint_eq (affect_st_get_n_tensors (f), n_tensors);
  affect_st_close (f);
  g_bytes_unref (bytes);
}

static const gfloat f32_values[6] = { 1.0f, -2.5f, 3.25f, 0.0f, 1e-8f, -7.0f };
static const gint32 i32_values[4] = { 1, -1, 2147483647, -2147483647 - 1 };

static AffectStWriter *
make_writer (void)
{
  AffectStWriter *w = affect_st_writer_new ();
  const int64_t s23[] = { 2, 3 }, s4[] = { 4 }, s05[] = { 0, 5 };
  const guint8 u8 = 200;
  GError *error = NULL;

  affect_st_writer_add_metadata (w, "format", "test");
  affect_st_writer_add_metadata (
      w, "quote\"and\\slash", "line\nbreak \xc3\xa9");
  affect_st_writer_add_metadata (w, "format", "test2"); /* replaces */
  ck_assert (affect_st_writer_add (w, "b/weights", AFFECT_DTYPE_F32, 2, s23,
      f32_values, sizeof (f32_values), &error));
  ck_assert (affect_st_writer_add (w, "a/ints", AFFECT_DTYPE_I32, 1, s4,
      i32_values, sizeof (i32_values), &error));
  ck_assert (affect_st_writer_add (
      w, "scalar", AFFECT_DTYPE_U8, 0, NULL, &u8, 1, &error));
  ck_assert (affect_st_writer_add (
      w, "empty", AFFECT_DTYPE_F32, 2, s05, NULL, 0, &error));
  ck_assert_ptr_null (error);
  return w;
}

static void
check_round_trip (AffectStFile *f)
{
  const AffectStTensor *t;
  const gchar **keys;
  const int64_t want23[] = { 2, 3 }, any3[] = { -1, 3 }, wrong[] = { 3, 2 };
  gfloat *v;
  gint32 ints[4];
  GError *error = NULL;

  ck_assert_uint_eq (affect_st_get_n_tensors (f), 4);
  /* file order = order added (data offset order) */
  t = affect_st_get_tensor_by_index (f, 0);
  ck_assert_str_eq (t->name, "b/weights");
  ck_assert_int_eq (t->dtype, AFFECT_DTYPE_F32);
  ck_assert_uint_eq (t->n_dims, 2);
  ck_assert_int_eq (t->shape[0], 2);
  ck_assert_int_eq (t->shape[1], 3);
  ck_assert_uint_eq (t->n_elements, 6);
  ck_assert_uint_eq (t->n_bytes, 24);
  ck_assert_str_eq (affect_st_get_tensor_by_index (f, 1)->name, "a/ints");
  ck_assert_str_eq (affect_st_get_tensor_by_index (f, 2)->name, "scalar");
  ck_assert_str_eq (affect_st_get_tensor_by_index (f, 3)->name, "empty");
  ck_assert_ptr_null (affect_st_get_tensor_by_index (f, 4));

  t = affect_st_find (f, "a/ints");
  ck_assert_ptr_nonnull (t);
  ck_assert_int_eq (t->dtype, AFFECT_DTYPE_I32);
  memcpy (ints, t->data, sizeof (ints));
  ck_assert_int_eq (ints[0], 1);
  ck_assert_int_eq (ints[2], 2147483647);
  ck_assert_int_eq (ints[3], -2147483647 - 1);

  t = affect_st_find (f, "scalar");
  ck_assert_uint_eq (t->n_dims, 0);
  ck_assert_uint_eq (t->n_elements, 1);
  ck_assert_uint_eq (((const guint8 *)t->data)[0], 200);

  t = affect_st_find (f, "empty");
  ck_assert_uint_eq (t->n_elements, 0);
  ck_assert_uint_eq (t->n_bytes, 0);
  ck_assert_ptr_null (affect_st_find (f, "missing"));

  v = affect_st_get_f32 (f, "b/weights", 2, want23, &error);
  ck_assert_ptr_nonnull (v);
  ck_assert_uint_eq (((guintptr)v) % sizeof (gfloat), 0);
  ck_assert (memcmp (v, f32_values, sizeof (f32_values)) == 0);
  g_free (v);
  v = affect_st_get_f32 (f, "b/weights", 2, any3, &error);
  ck_assert_ptr_nonnull (v);
  g_free (v);

  ck_assert_ptr_null (affect_st_get_f32 (f, "b/weights", 2, wrong, &error));
  ck_assert (
      g_error_matches (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH));
  ck_assert_msg (
      strstr (error->message, "[2, 3]") && strstr (error->message, "[3, 2]"),
      "%s", error->message);
  g_clear_error (&error);
  ck_assert_ptr_null (affect_st_get_f32 (f, "b/weights", 1, want23, &error));
  ck_assert (
      g_error_matches (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH));
  g_clear_error (&error);
  ck_assert_ptr_null (affect_st_get_f32 (f, "a/ints", 1, want23, &error));
  ck_assert (
      g_error_matches (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH));
  ck_assert_msg (strstr (error->message, "I32") != NULL, "%s", error->message);
  g_clear_error (&error);
  ck_assert_ptr_null (affect_st_get_f32 (f, "nope", 1, want23, &error));
  ck_assert (
      g_error_matches (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_NOT_FOUND));
  ck_assert_msg (
      strstr (error->message, "'nope'") != NULL, "%s", error->message);
  g_clear_error (&error);

  ck_assert_str_eq (affect_st_get_metadata (f, "format"), "test2");
  ck_assert_str_eq (
      affect_st_get_metadata (f, "quote\"and\\slash"), "line\nbreak \xc3\xa9");
  ck_assert_ptr_null (affect_st_get_metadata (f, "absent"));
  keys = affect_st_get_metadata_keys (f);
  ck_assert_ptr_nonnull (keys[0]);
  ck_assert_ptr_nonnull (keys[1]);
  ck_assert_ptr_null (keys[2]);
  ck_assert_str_eq (keys[0], "format");
  g_free (keys);
}

START_TEST (test_round_trip)
{
  AffectStWriter *w = make_writer ();
  gchar *path = g_build_filename (tmpdir, "rt.safetensors", NULL);
  gchar *contents;
  gsize len;
  GError *error = NULL;
  AffectStFile *f;

  ck_assert (affect_st_writer_write (w, path, &error));
  affect_st_writer_free (w);

  f = affect_st_open (path, &error);
  ck_assert_msg (f != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (affect_st_get_path (f), path);
  check_round_trip (f);
  affect_st_close (f);

  /* the same bytes through the memory reader */
  ck_assert (g_file_get_contents (path, &contents, &len, NULL));
  f = affect_st_open_bytes ((const guint8 *)contents, len, "mem", &error);
  ck_assert_ptr_nonnull (f);
  check_round_trip (f);
  affect_st_close (f);

  g_free (contents);
  g_free (path);
}

END_TEST;

/* The exact layout the reference implementation produces: 8-byte LE length,
 * compact JSON with __metadata__ first, tensors in the given order with
 * contiguous offsets, header padded with spaces to a multiple of 8. */
START_TEST (test_layout)
{
  AffectStWriter *w = affect_st_writer_new ();
  const int64_t s2[] = { 2 };
  const gfloat v[2] = { 1.0f, 2.0f };
  const gchar *expected = "{\"__metadata__\":{\"k\":\"v\"},\"x\":{\"dtype\":"
                          "\"F32\",\"shape\":[2],"
                          "\"data_offsets\":[0,8]}}";
  gchar *path = g_build_filename (tmpdir, "layout.safetensors", NULL);
  gchar *contents;
  gsize len, hlen, i;
  guint64 n = 0;

  affect_st_writer_add_metadata (w, "k", "v");
  ck_assert (affect_st_writer_add (
      w, "x", AFFECT_DTYPE_F32, 1, s2, v, sizeof (v), NULL));
  ck_assert (affect_st_writer_write (w, path, NULL));
  affect_st_writer_free (w);

  ck_assert (g_file_get_contents (path, &contents, &len, NULL));
  for (i = 0; i < 8; i++)
    n |= ((guint64)(guint8)contents[i]) << (8 * i);
  hlen = strlen (expected);
  ck_assert_uint_eq (n % 8, 0);
  ck_assert_uint_ge (n, hlen);
  ck_assert_uint_lt (n, hlen + 8);
  ck_assert_uint_eq (len, 8 + n + 8);
  ck_assert (memcmp (contents + 8, expected, hlen) == 0);
  for (i = 8 + hlen; i < 8 + n; i++)
    ck_assert_int_eq (contents[i], ' ');
  ck_assert (memcmp (contents + 8 + n, v, 8) == 0);
  g_free (contents);
  g_free (path);
}

END_TEST;

START_TEST (test_writer_errors)
{
  AffectStWriter *w = affect_st_writer_new ();
  const int64_t s2[] = { 2 }, neg[] = { -2 };
  const gfloat v[2] = { 1.0f, 2.0f };
  gchar *path;
  GError *error = NULL;

  ck_assert (
      affect_st_writer_add (w, "x", AFFECT_DTYPE_F32, 1, s2, v, 8, &error));
  /* duplicate */
  ck_assert (
      !affect_st_writer_add (w, "x", AFFECT_DTYPE_F32, 1, s2, v, 8, &error));
  ck_assert (
      g_error_matches (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH));
  g_clear_error (&error);
  /* size disagrees with dtype x shape */
  ck_assert (
      !affect_st_writer_add (w, "y", AFFECT_DTYPE_F32, 1, s2, v, 4, &error));
  ck_assert_msg (strstr (error->message, "'y'") != NULL, "%s", error->message);
  g_clear_error (&error);
  ck_assert (
      !affect_st_writer_add (w, "y", AFFECT_DTYPE_F64, 1, s2, v, 8, &error));
  g_clear_error (&error);
  /* negative dimension */
  ck_assert (
      !affect_st_writer_add (w, "z", AFFECT_DTYPE_F32, 1, neg, v, 8, &error));
  g_clear_error (&error);
  /* zero elements with huge other dimensions is fine */
  {
    const int64_t huge0[] = { G_GINT64_CONSTANT (4294942949672960000), 0, 4 };
    ck_assert (affect_st_writer_add (
        w, "z0", AFFECT_DTYPE_I64, 3, huge0, NULL, 0, &error));
  }
  /* but not when the byte size overflows */
  {
    const int64_t over[] = { G_GINT64_CONSTANT (4294967296),
      G_GINT64_CONSTANT (4294967296), 16 };
    ck_assert (!affect_st_writer_add (
        w, "ov", AFFECT_DTYPE_U8, 3, over, v, 8, &error));
    ck_assert_msg (strstr (error->message, "overflows"), "%s", error->message);
    g_clear_error (&error);
  }
  /* reserved name */
  ck_assert (!affect_st_writer_add (
      w, "__metadata__", AFFECT_DTYPE_F32, 1, s2, v, 8, &error));
  g_clear_error (&error);

  /* unwritable destination: IO error naming the path */
  path = g_build_filename (tmpdir, "no", "such", "dir", "x.safetensors", NULL);
  ck_assert (!affect_st_writer_write (w, path, &error));
  ck_assert (g_error_matches (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_IO));
  ck_assert_msg (strstr (error->message, path) != NULL, "%s", error->message);
  g_clear_error (&error);
  g_free (path);
  affect_st_writer_free (w);
}

END_TEST;

START_TEST (test_open_missing_file)
{
  GError *error = NULL;
  gchar *path = g_build_filename (tmpdir, "absent.safetensors", NULL);

  ck_assert_ptr_null (affect_st_open (path, &error));
  ck_assert (g_error_matches (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_IO));
  ck_assert_msg (strstr (error->message, path) != NULL, "%s", error->message);
  g_clear_error (&error);
  g_free (path);
}

END_TEST;

#define T(name, extra)                             \
  "\"" name "\":{\"dtype\":\"F32\",\"shape\":[2]," \
  "\"data_offsets\":" extra "}"

/* Every error names the file by its full path, structure errors included
 * (they used to give only its base name, metadata errors the full path). */
START_TEST (test_errors_full_path)
{
  GError *error = NULL;
  gchar *dir = g_build_filename (tmpdir, "sub", NULL);
  gchar *path = g_build_filename (dir, "broken.safetensors", NULL);
  gchar *good = g_build_filename (dir, "good.safetensors", NULL);
  gchar *prefix = g_strconcat (path, ": ", NULL);
  gchar *good_prefix = g_strconcat (good, ": ", NULL);
  GBytes *bytes = make_file ("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],"
                             "\"data_offsets\":[0,4]}}",
      4);
  AffectStWriter *w;
  AffectStFile *f;
  const gfloat v[2] = { 1.0f, 2.0f };
  const int64_t shape[1] = { 2 }, wrong[1] = { 3 };

  ck_assert_int_eq (g_mkdir_with_parents (dir, 0755), 0);
  ck_assert (g_file_set_contents (
      path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL));
  g_bytes_unref (bytes);
  ck_assert_ptr_null (affect_st_open (path, &error));
  ck_assert (g_error_matches (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_FORMAT));
  ck_assert_msg (g_str_has_prefix (error->message, prefix),
      "does not start with the full path: %s", error->message);
  ck_assert_msg (strstr (error->message, "'x'"), "%s", error->message);
  g_clear_error (&error);

  /* Too short for the length prefix. */
  ck_assert (g_file_set_contents (path, "abc", 3, NULL));
  ck_assert_ptr_null (affect_st_open (path, &error));
  ck_assert_msg (g_str_has_prefix (error->message, prefix),
      "does not start with the full path: %s", error->message);
  g_clear_error (&error);

  /* Lookups on a valid file. */
  w = affect_st_writer_new ();
  ck_assert (affect_st_writer_add (
      w, "t", AFFECT_DTYPE_F32, 1, shape, v, sizeof v, NULL));
  ck_assert (affect_st_writer_write (w, good, NULL));
  affect_st_writer_free (w);
  f = affect_st_open (good, &error);
  ck_assert_ptr_nonnull (f);
  ck_assert_str_eq (affect_st_get_path (f), good);
  ck_assert_ptr_null (affect_st_get_f32 (f, "nope", 1, shape, &error));
  ck_assert_msg (
      g_str_has_prefix (error->message, good_prefix), "%s", error->message);
  g_clear_error (&error);
  ck_assert_ptr_null (affect_st_get_f32 (f, "t", 1, wrong, &error));
  ck_assert_msg (
      g_str_has_prefix (error->message, good_prefix), "%s", error->message);
  g_clear_error (&error);
  affect_st_close (f);

  g_free (prefix);
  g_free (good_prefix);
  g_free (good);
  g_free (path);
  g_free (dir);
}

END_TEST;

/* A path that is there but is not a regular file: the error says what it
 * is (it used to read like a missing or broken file), and a named pipe
 * without a writer does not hang the open. */
START_TEST (test_open_not_regular)
{
  static const struct {
    const gchar *path, *expect;
  } devices[] = {
    { "/dev/null", "character device" },
    { "/dev/zero", "character device" },
  };
  GError *error = NULL;
  gchar *fifo = g_build_filename (tmpdir, "pipe.safetensors", NULL);
  gchar *dir = g_build_filename (tmpdir, "folder.safetensors", NULL);
  gchar *missing = g_build_filename (tmpdir, "missing.safetensors", NULL);
  gchar *why;

  for (guint i = 0; i < G_N_ELEMENTS (devices); i++) {
    if (!g_file_test (devices[i].path, G_FILE_TEST_EXISTS))
      continue;
    ck_assert_ptr_null (affect_st_open (devices[i].path, &error));
    ck_assert (g_error_matches (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_IO));
    ck_assert_msg (g_str_has_prefix (error->message, devices[i].path)
                       && strstr (error->message, devices[i].expect)
                       && strstr (error->message, "not a regular file"),
        "%s", error->message);
    g_clear_error (&error);
    why = affect_st_path_problem (devices[i].path);
    ck_assert_ptr_nonnull (why);
    ck_assert_msg (strstr (why, devices[i].expect), "%s", why);
    g_free (why);
  }

  ck_assert_int_eq (mkfifo (fifo, 0600), 0);
  ck_assert_ptr_null (affect_st_open (fifo, &error));
  ck_assert (g_error_matches (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_IO));
  ck_assert_msg (g_str_has_prefix (error->message, fifo)
                     && strstr (error->message, "named pipe"),
      "%s", error->message);
  g_clear_error (&error);

  ck_assert_int_eq (g_mkdir (dir, 0755), 0);
  ck_assert_ptr_null (affect_st_open (dir, &error));
  ck_assert (g_error_matches (error, AFFECT_ST_ERROR, AFFECT_ST_ERROR_IO));
  ck_assert_msg (g_str_has_prefix (error->message, dir)
                     && strstr (error->message, "is a folder"),
      "%s", error->message);
  g_clear_error (&error);

  /* A socket (where the directory name is short enough for sun_path). */
  {
    gchar *sock = g_build_filename (tmpdir, "s", NULL);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    if (fd >= 0 && strlen (sock) < sizeof addr.sun_path) {
      strcpy (addr.sun_path, sock);
      ck_assert_int_eq (bind (fd, (struct sockaddr *)&addr, sizeof addr), 0);
      ck_assert_ptr_null (affect_st_open (sock, &error));
      ck_assert_msg (g_str_has_prefix (error->message, sock)
                         && strstr (error->message, "socket"),
          "%s", error->message);
      g_clear_error (&error);
    }
    if (fd >= 0)
      close (fd);
    g_free (sock);
  }

  why = affect_st_path_problem (missing);
  ck_assert_str_eq (why, "does not exist");
  g_free (why);
  why = affect_st_path_problem (dir);
  ck_assert_str_eq (why, "is a folder, not a file");
  g_free (why);
  why = affect_st_path_problem (fifo);
  ck_assert_ptr_nonnull (strstr (why, "named pipe (FIFO)"));
  g_free (why);
  ck_assert (g_file_set_contents (missing, "x", 1, NULL));
  ck_assert_ptr_null (affect_st_path_problem (missing));

  g_free (fifo);
  g_free (dir);
  g_free (missing);
}

END_TEST;

START_TEST (test_malformed)
{
  const guint8 tiny[5] = { 1, 0, 0, 0, 0 };
  guint8 *big;

  /* shorter than the length prefix (also 0 bytes) */
  expect_format_error (g_bytes_new (tiny, sizeof (tiny)), "shorter than");
  expect_format_error (g_bytes_new (tiny, 0), "shorter than");
  /* header length over the limit, and beyond the file */
  expect_format_error (
      make_file_full (G_MAXUINT64 - 1, "{}", 0), "exceeds the limit");
  expect_format_error (make_file_full (AFFECT_ST_MAX_HEADER + 1ull, "{}", 0),
      "exceeds the limit");
  expect_format_error (make_file_full (100, "{}", 10), "beyond the end");
  /* JSON problems */
  expect_format_error (make_file ("{\"a\": ", 0), "not valid JSON");
  expect_format_error (make_file ("[1, 2]", 0), "not a JSON object");
  expect_format_error (make_file ("", 0), "not a JSON object");
  expect_format_error (make_file ("{\"x\":\"\xff\"}", 0), "UTF-8");
  expect_format_error (make_file_full (4, "{}", 2), "UTF-8"); /* NUL */
  expect_format_error (make_file ("{\"x\": 5}", 0), "'x' is not a JSON object");
  /* fields */
  expect_format_error (make_file ("{\"x\":{\"dtype\":\"F99\",\"shape\":[2],"
                                  "\"data_offsets\":[0,8]}}",
                           8),
      "unknown dtype 'F99'");
  expect_format_error (make_file ("{\"x\":{\"shape\":[2],"
                                  "\"data_offsets\":[0,8]}}",
                           8),
      "no \"dtype\"");
  expect_format_error (make_file ("{\"x\":{\"dtype\":\"F32\","
                                  "\"data_offsets\":[0,8]}}",
                           8),
      "no \"shape\"");
  expect_format_error (
      make_file ("{\"x\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8),
      "data_offsets");
  expect_format_error (make_file ("{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],"
                                  "\"data_offsets\":[0,8]}}",
                           8),
      "negative");
  expect_format_error (make_file ("{\"x\":{\"dtype\":\"F32\",\"shape\":[2.5],"
                                  "\"data_offsets\":[0,8]}}",
                           8),
      "not an integer");
  expect_format_error (
      make_file ("{\"x\":{\"dtype\":\"F32\",\"shape\":"
                 "[4294967296,4294967296,16],\"data_offsets\":[0,8]}}",
          8),
      "overflows");
  expect_format_error (
      make_file ("{\"x\":{\"dtype\":\"F32\",\"shape\":"
                 "[1,2,3,4,5,6,7,8,9],\"data_offsets\":[0,8]}}",
          8),
      "dimensions");
  /* offsets */
  expect_format_error (
      make_file ("{" T ("x", "[0,8]") "}", 4), "outside the data region");
  expect_format_error (make_file ("{" T ("x", "[10,8]") "}", 16),
      "data_offsets [10, 8] begin after end");
  expect_format_error (
      make_file ("{" T ("x", "[-1,7]") "}", 16), "non-negative");
  expect_format_error (make_file ("{" T ("x", "[0,12]") "}", 16),
      "hold 12 bytes but F32 [2] needs 8");
  expect_format_error (
      make_file ("{" T ("x", "[0,8]") "," T ("y", "[4,12]") "}", 16),
      "overlap");
  expect_format_error (make_file ("{" T ("x", "[8,16]") "," T (
                                      "y", "[0,8]") "," T ("z", "[12,20]") "}",
                           24),
      "overlap");
  /* duplicates, also spelled differently */
  expect_format_error (
      make_file ("{" T ("x", "[0,8]") "," T ("x", "[8,16]") "}", 16),
      "duplicate");
  expect_format_error (
      make_file ("{" T ("x", "[0,8]") "," T ("\\u0078", "[8,16]") "}", 16),
      "duplicate");
  /* lone surrogate escapes decode to invalid UTF-8 (found by fuzzing) */
  expect_format_error (
      make_file ("{" T ("x\\ud800y", "[0,8]") "}", 8), "not valid UTF-8");
  expect_format_error (make_file ("{\"__metadata__\":{\"form\\ud800at\":"
                                  "\"test\"}}",
                           0),
      "not valid UTF-8");
  /* json-glib's scanner fails on some of these: any FORMAT error will do */
  expect_format_error (make_file ("{\"__metadata__\":{\"a\":\"x\\udc00\"}}", 0),
      "broken.safetensors: ");
  expect_format_error (make_file ("{\"__metadata__\":{\"\\ud800\":\"x\"}}", 0),
      "broken.safetensors: ");
  /* a valid surrogate pair is fine */
  expect_valid (make_file ("{" T ("\\ud83d\\ude00", "[0,8]") "}", 8), 1);
  /* metadata */
  expect_format_error (make_file ("{\"__metadata__\":{\"a\":1}}", 0),
      "value of 'a' is not a string");
  expect_format_error (
      make_file ("{\"__metadata__\":{\"a\":{\"b\":\"c\"}}}", 0),
      "not a string");
  expect_format_error (make_file ("{\"__metadata__\":[\"a\"]}", 0),
      "__metadata__ is not a JSON object");

  /* valid edge cases are accepted */
  expect_valid (make_file ("{}", 0), 0);
  expect_valid (make_file ("{\"__metadata__\":null}", 0), 0);
  expect_valid (make_file ("{" T ("x", "[8,16]") "," T ("y",
                               "[0,8]") ",\"e\":{\"dtype\":\"F32\",\"shape\":["
                                        "0],\"data_offsets\":[8,8]}"
                                        "}   ",
                    16),
      3);
  /* a zero dimension means no elements, however large the others (found by
   * fuzzing: the writer used to refuse what the reader accepted) */
  expect_valid (make_file ("{\"x\":{\"dtype\":\"I64\",\"shape\":"
                           "[4294942949672960000,0,4],\"data_offsets\":[0,0]}}",
                    0),
      1);
  /* a gap between tensors is tolerated */
  expect_valid (
      make_file ("{" T ("x", "[0,8]") "," T ("y", "[12,20]") "}", 20), 2);
  /* unknown members inside a tensor entry are ignored */
  expect_valid (make_file ("{\"x\":{\"dtype\":\"U8\",\"shape\":[],"
                           "\"data_offsets\":[0,1],\"extra\":[1,{\"a\":2}]}}",
                    1),
      1);

  /* nested duplicate keys are not tensor names */
  expect_valid (make_file ("{\"__metadata__\":{\"a\":\"1\",\"b\":\"{\\\"c\\\":"
                           "\\\"d\\\"}\"}," T ("x", "[0,8]") "}",
                    8),
      1);

  /* 8 bytes of a huge length, exactly the limit but no data */
  big = g_malloc0 (8);
  big[0] = 1;
  expect_format_error (g_bytes_new_take (big, 8), "beyond the end");
}

END_TEST;

/* The converted face models, when the cache has them. */
START_TEST (test_cached_models)
{
  static const struct {
    const gchar *name;
    guint n_tensors;
  } models[] = {
    { "tiny_face_detector_model", 19 },
    { "ssd_mobilenetv1_model", 151 },
    { "face_landmark_68_model", 49 },
    { "face_expression_model", 49 },
    { "face_recognition_model", 117 },
  };
  guint m;

  for (m = 0; m < G_N_ELEMENTS (models); m++) {
    GError *error = NULL;
    gchar *path = affect_model_find (models[m].name, NULL, &error);
    AffectStFile *f;
    gchar *expect_source;
    guint i;

    if (!path) {
      if (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") == 0)
        ck_abort_msg ("%s", error->message);
      g_print ("SKIP cached model check: %s\n", error->message);
      g_clear_error (&error);
      return;
    }
    f = affect_st_open (path, &error);
    ck_assert_msg (f != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq (affect_st_get_n_tensors (f), models[m].n_tensors);
    ck_assert_str_eq (affect_st_get_metadata (f, "format"), "tfjs-converted");
    expect_source = g_strconcat (
        "@vladmandic/face-api@1.7.15 model/", models[m].name, NULL);
    ck_assert_str_eq (affect_st_get_metadata (f, "source"), expect_source);
    g_free (expect_source);
    for (i = 0; i < affect_st_get_n_tensors (f); i++) {
      const AffectStTensor *t = affect_st_get_tensor_by_index (f, i);
      ck_assert (t->dtype == AFFECT_DTYPE_F32 || t->dtype == AFFECT_DTYPE_I32);
      ck_assert_ptr_eq (affect_st_find (f, t->name), t);
      ck_assert_uint_eq (t->n_bytes, t->n_elements * 4);
      if (i > 0) {
        const AffectStTensor *prev = affect_st_get_tensor_by_index (f, i - 1);
        /* contiguous, in data order */
        ck_assert_ptr_eq ((const guint8 *)prev->data + prev->n_bytes, t->data);
      }
    }
    affect_st_close (f);
    g_free (path);
  }
}

END_TEST;

static Suite *
safetensors_suite (void)
{
  Suite *s = suite_create ("safetensors");
  TCase *tc = tcase_create ("general");

  tcase_add_checked_fixture (tc, setup_tmpdir, teardown_tmpdir);
  tcase_add_test (tc, test_round_trip);
  tcase_add_test (tc, test_layout);
  tcase_add_test (tc, test_writer_errors);
  tcase_add_test (tc, test_open_missing_file);
  tcase_add_test (tc, test_errors_full_path);
  tcase_add_test (tc, test_open_not_regular);
  tcase_add_test (tc, test_malformed);
  tcase_add_test (tc, test_cached_models);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (safetensors_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
