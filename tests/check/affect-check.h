/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers shared by the gst-check tests.
 */
#ifndef __AFFECT_CHECK_H__
#define __AFFECT_CHECK_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* Loads the first of @names (plugin file names, NULL-terminated) found in
 * the system plugin folder ($AFFECT_TEST_SYSTEM_PLUGIN_DIR, then the usual
 * Debian/Fedora folders) into the test's registry: the test environment
 * hides system plugins. Returns whether one was loaded. */
gboolean affect_check_load_system_plugins (const gchar *const *names);

/* The same for one file name. */
gboolean affect_check_load_system_plugin (const gchar *file);

/* Waits up to @timeout for EOS or an error on @bus; fails the test on an
 * error (with its message) or when neither comes. */
void affect_check_wait_eos (GstBus *bus, GstClockTime timeout);

G_END_DECLS

#endif /* __AFFECT_CHECK_H__ */
