#!/bin/sh
# gst-affect — tests/python
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   run-python.sh NEEDS SCRIPT [ARGS...]
#
# Runs SCRIPT with the first Python that has what the test NEEDS:
#
#   gi      PyGObject and the GStreamer typelibs (Debian: python3-gi,
#           gir1.2-gstreamer-1.0, gir1.2-gst-plugins-base-1.0), and the
#           GstAffect typelib built here (GI_TYPELIB_PATH, set by meson);
#           candidates: $AFFECT_GI_PYTHON, python3, /usr/bin/python3
#   pandas  pandas; candidates: $AFFECT_PANDAS_PYTHON, $AFFECT_TRAIN_PYTHON
#           (the trainer's environment, when pandas was added to it),
#           python3, /usr/bin/python3 (Debian: python3-pandas)
#   any     any Python 3: python3, /usr/bin/python3
#
# Without one the test is skipped (exit 77), unless AFFECT_REQUIRE_MODELS=1
# (set by CI, tests/setup-and-run.sh): then it fails, so that a missing
# package cannot hide a test in CI.
needs=$1
script=$2
shift 2

case "$needs" in
  gi)
    candidates="${AFFECT_GI_PYTHON:-} python3 /usr/bin/python3"
    check='import gi; gi.require_version("Gst", "1.0"); gi.require_version("GstVideo", "1.0"); from gi.repository import Gst, GstVideo'
    what="PyGObject with the GStreamer typelibs (Debian: python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0)"
    ;;
  pandas)
    candidates="${AFFECT_PANDAS_PYTHON:-} ${AFFECT_TRAIN_PYTHON:-} python3 /usr/bin/python3"
    check='import pandas'
    what="pandas (Debian: python3-pandas, or pip install pandas into AFFECT_PANDAS_PYTHON's environment)"
    ;;
  any)
    candidates="python3 /usr/bin/python3"
    check='import sys; assert sys.version_info >= (3, 7)'
    what="Python 3.7 or newer"
    ;;
  *)
    echo "usage: run-python.sh gi|pandas|any SCRIPT [ARGS...]" >&2
    exit 2
    ;;
esac

skip() {
  if [ "${AFFECT_REQUIRE_MODELS:-0}" = 1 ]; then
    echo "FAIL (AFFECT_REQUIRE_MODELS=1): $*" >&2
    exit 1
  fi
  echo "SKIP: $*"
  exit 77
}

if [ "$needs" = gi ] && [ "${AFFECT_TEST_HAVE_TYPELIB:-1}" != 1 ]; then
  skip "libgstaffect-1.0 was built without GObject-introspection (meson option introspection; Debian: gobject-introspection libgirepository1.0-dev)"
fi

for py in $candidates; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c "$check" >/dev/null 2>&1; then
    echo "using $py ($("$py" -c 'import sys; print(sys.version.split()[0])'))"
    exec "$py" "$script" "$@"
  fi
done
skip "no Python with $what among: $candidates"
