/* gst-affect — tests/models
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers shared by the model tests: the golden files (tests/golden/) and
 * running the command-line tools.
 */
#ifndef __AFFECT_TEST_TOOLS_H__
#define __AFFECT_TEST_TOOLS_H__

#include <check.h>
#include <glib.h>
#include <json-glib/json-glib.h>

/* The file @name (NULL: the folder itself) of the golden set @set
 * ("face-api", "words", "fusion", "speech", "evaluate": a folder of
 * tests/golden/), under $AFFECT_TEST_SRCDIR (meson test sets it) or else
 * the source tree this test was built from. g_free. */
gchar *affect_test_golden_path (const gchar *set, const gchar *name);

/* The JSON file @path parsed (g_object_unref); fails the test, naming the
 * file, when it cannot be read or parsed. */
JsonParser *affect_test_load_json (const gchar *path);

/* Runs @tool with @args (NULL-terminated), collecting its standard output
 * and error in @out and @err when they are not NULL (g_free them). Fails
 * the test when the program cannot be started. Returns its exit status, or
 * -1 when a signal ended it. */
int affect_test_run_tool (
    const gchar *tool, const gchar *const *args, gchar **out, gchar **err);

/* The samples of the 16-bit PCM mono WAV file @path as floats (sample /
 * 32768, as libsndfile and the reference's decoder give them) and its
 * rate; fails the test on any other file. g_free. */
gfloat *affect_test_read_wav_s16 (const gchar *path, gint *rate, gsize *n);

/* Runs every test of @suite (CK_NORMAL) and frees it. Returns the exit
 * status for main(): 0 when no test failed, else 1. */
int affect_test_run_suite (Suite *suite);

#endif /* __AFFECT_TEST_TOOLS_H__ */
