#!/usr/bin/env bash
# gst-affect — tests/torture
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Long runs of the state torture outside meson test (no time limit but the
# watchdog's):
#
#   run-long.sh BUILDDIR CASE STEPS SEED [SEED...]
#
# CASE: full, video or sources (tests/torture/torture.c). Runs the torture
# executable with the environment meson gives the 'torture' test (from
# meson introspect), once per seed, and prints one line per run; stops at
# the first failure (a stall report is in its log, PREFIX-SEED.log in the
# current folder). Extra environment (AFFECT_TORTURE_STALL_S, GST_DEBUG,
# AFFECT_TORTURE_EOS_IN_PAUSED, ...) passes through.
set -euo pipefail

[ $# -ge 4 ] || { sed -n '5,16p' "$0" >&2; exit 2; }
build=$(cd "$1" && pwd)
case_name=$2
steps=$3
shift 3

# the test's command and environment as shell assignments
mapfile -t setup < <(meson introspect "$build" --tests | python3 -c '
import json, shlex, sys
for t in json.load(sys.stdin):
    if t["name"] == "torture":
        for k, v in t["env"].items():
            print("export %s=%s" % (k, shlex.quote(v)))
        print("cmd=%s" % shlex.quote(t["cmd"][0]))
        break
')
[ ${#setup[@]} -gt 0 ] || { echo "no torture test in $build" >&2; exit 1; }
for line in "${setup[@]}"; do eval "$line"; done
export GST_REGISTRY="$build/tests/torture/torture-long.registry"
export CK_RUN_CASE=$case_name AFFECT_TORTURE_STEPS=$steps
export AFFECT_REQUIRE_MODELS=1

for seed in "$@"; do
  log="torture-$case_name-$seed.log"
  start=$(date +%s)
  if AFFECT_TORTURE_SEED=$seed "$cmd" >"$log" 2>&1; then
    echo "$case_name seed $seed: $steps steps OK in $(($(date +%s) - start)) s; $(grep -m1 "buffers at the sinks" "$log" | sed 's/^torture //')"
  else
    echo "$case_name seed $seed: FAILED after $(($(date +%s) - start)) s (see $log)"
    grep -m3 "STALL\|:F:\|:E:" "$log" || true
    exit 1
  fi
done
