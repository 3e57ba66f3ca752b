#!/bin/sh
# gst-affect — tests/fusion-data
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs test_fusion_data.py with the training Python given in
# AFFECT_TRAIN_PYTHON (made by models/fusion/setup-train-env.sh; only numpy
# and safetensors are needed). Without it the test is skipped (exit 77),
# unless AFFECT_REQUIRE_TORCH=1, then it fails.
here=$(dirname "$0")
py=${AFFECT_TRAIN_PYTHON:-}
if [ -z "$py" ]; then
  msg="AFFECT_TRAIN_PYTHON is not set (a Python with numpy and safetensors, e.g. from models/fusion/setup-train-env.sh)"
  if [ "${AFFECT_REQUIRE_TORCH:-0}" = 1 ]; then
    echo "FAIL: $msg, and AFFECT_REQUIRE_TORCH=1" >&2
    exit 1
  fi
  echo "SKIP: $msg" >&2
  exit 77
fi
if ! "$py" -c 'import numpy, safetensors' 2>/dev/null; then
  echo "FAIL: $py cannot import numpy and safetensors" >&2
  exit 1
fi
exec "$py" "$here/test_fusion_data.py" -v
