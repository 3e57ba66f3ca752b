/* gst-affect — tests/models
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers shared by the model tests that run the command-line tools.
 */
#ifndef __AFFECT_TEST_TOOLS_H__
#define __AFFECT_TEST_TOOLS_H__

#include <glib.h>

/* Runs @tool with @args (NULL-terminated), collecting its standard output
 * and error in @out and @err when they are not NULL (g_free them). Fails
 * the test when the program cannot be started. Returns its exit status, or
 * -1 when a signal ended it. */
int affect_test_run_tool (
    const gchar *tool, const gchar *const *args, gchar **out, gchar **err);

#endif /* __AFFECT_TEST_TOOLS_H__ */
