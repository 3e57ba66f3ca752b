#!/bin/sh
# gst-affect — tests/scale-out
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   run-tests.sh ray|ddp|folds
#
# ray: test_ray_extract.py (extract.py --ray local:2 against the local path);
# ddp: test_ddp_train.py, torchrun --nproc_per_node 2 against one process;
# folds: test_ddp_train.py, train.py --fold all --ray local:2.
# Runs them with the training Python given in AFFECT_TRAIN_PYTHON (made by
# bash models/fusion/setup-train-env.sh --ray DIR). Without it, or when it
# lacks what the test needs (ray; torch), the test is skipped (exit 77),
# unless AFFECT_REQUIRE_TORCH=1, then it fails.
here=$(dirname "$0")
case "$1" in
  ray) script=test_ray_extract.py; mods="numpy, safetensors, ray"; only= ;;
  ddp) script=test_ddp_train.py; mods="numpy, safetensors, torch, torch.distributed"
    only=TestScaleOutTraining.test_torchrun_matches_single_process ;;
  folds) script=test_ddp_train.py; mods="numpy, safetensors, torch, ray"
    only=TestScaleOutTraining.test_folds_on_ray ;;
  *) echo "usage: run-tests.sh ray|ddp|folds" >&2; exit 2 ;;
esac
skip() {
  if [ "${AFFECT_REQUIRE_TORCH:-0}" = 1 ]; then
    echo "FAIL: $*, and AFFECT_REQUIRE_TORCH=1" >&2
    exit 1
  fi
  echo "SKIP: $*" >&2
  exit 77
}
py=${AFFECT_TRAIN_PYTHON:-}
[ -n "$py" ] || skip "AFFECT_TRAIN_PYTHON is not set (bash models/fusion/setup-train-env.sh --ray DIR makes one)"
"$py" -c "import $mods" 2>/dev/null ||
  skip "$py cannot import $mods (bash models/fusion/setup-train-env.sh --ray DIR installs them)"
# no usage reports from the local Ray instances (the tests run offline)
RAY_USAGE_STATS_ENABLED=0
export RAY_USAGE_STATS_ENABLED
# shellcheck disable=SC2086
exec "$py" "$here/$script" -v $only
