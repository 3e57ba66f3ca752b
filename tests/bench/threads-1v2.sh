#!/bin/sh
# gst-affect — tests/bench/
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# threads-1v2.sh: one thread against two for the face networks (issue 10:
# "a second thread never makes a network slower"). Not a test.
#
#   tests/bench/threads-1v2.sh -b BUILDDIR [--baseline OTHER_BUILDDIR]
#       [--rounds N] [--nets LIST] [--batches LIST]
#
# Runs bench-face-nets for every network, batch and thread count, N rounds
# (default 5) in which the 1-thread and 2-thread runs alternate which goes
# first, and prints per network and batch the median over the rounds of
# the per-run median ms per image, the fastest iteration seen, and the
# ratio 2 threads / 1 thread of the medians (below 1: the second thread
# helps). With --baseline the other build (e.g. of the previous commit)
# runs in the same rounds, interleaved, and gets its own rows. The load
# average is printed before and after: on a busy machine the figures are
# noisy.
set -eu

build=
baseline=
rounds=5
nets=landmarks,expression,recognition,tiny
batches=1,8
while [ $# -gt 0 ]; do
  case "$1" in
    -b) build=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --nets) nets=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    -h|--help) sed -n '6,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[ -n "$build" ] || { echo "-b BUILDDIR is required" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

builds="new=$build"
[ -z "$baseline" ] || builds="base=$baseline $builds"

echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
r=0
while [ "$r" -lt "$rounds" ]; do
  if [ $((r % 2)) -eq 0 ]; then order="1 2"; else order="2 1"; fi
  for net in $(echo "$nets" | tr , ' '); do
    for batch in $(echo "$batches" | tr , ' '); do
      # the detector runs at batch 1 only
      if [ "$net" = tiny ] || [ "$net" = ssd ]; then
        [ "$batch" = 1 ] || continue
      fi
      for t in $order; do
        for b in $builds; do
          name=${b%%=*}
          dir=${b#*=}
          "$dir/tests/bench/bench-face-nets" --nets "$net" --batches "$batch" \
              --threads "$t" --no-sgemm 2>/dev/null \
            | awk -v n="$name" '/^RESULT/ { print n, $3, $4, $5, $6, $10 }' \
              >>"$tmp/results"
        done
      done
    done
  done
  r=$((r + 1))
done
echo "# load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$tmp/results" <<'PY'
import statistics, sys
res = {}
for line in open(sys.argv[1]):
    build, net, batch, threads, med, mn = line.split()
    d = res.setdefault((build, net, int(batch)), {}).setdefault(int(threads), [[], []])
    d[0].append(float(med))
    d[1].append(float(mn))
print("%-5s %-12s %5s %10s %10s %10s %10s %8s %s" % ("build", "net", "batch",
      "1t median", "2t median", "1t min", "2t min", "2t/1t", "runs"))
order = {"landmarks": 0, "expression": 1, "recognition": 2, "tiny": 3, "ssd": 4}
for key in sorted(res, key=lambda k: (order.get(k[1], 9), k[2], k[0])):
    d = res[key]
    if 1 not in d or 2 not in d:
        continue
    m1, m2 = statistics.median(d[1][0]), statistics.median(d[2][0])
    print("%-5s %-12s %5d %10.3f %10.3f %10.3f %10.3f %8.2f %d" % (key[0], key[1],
          key[2], m1, m2, min(d[1][1]), min(d[2][1]), m2 / m1, len(d[1][0])))
print("(ms per forward pass of the whole batch: medians over the rounds of each "
      "run's median; min: the fastest iteration seen)")
PY
