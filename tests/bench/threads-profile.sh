#!/bin/sh
# gst-affect — tests/bench/
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# threads-profile.sh: where a face network's time goes on 1 and on 2
# threads, layer by layer: every cpu_parallel_for() call of the CPU
# backend is timed (AFFECT_CPU_PROFILE=1, see models/cpu/cpu-threads.c).
# Not a test.
#
#   tests/bench/threads-profile.sh -b BUILDDIR [-n NET] [--batch N]
#       [--iters N] [--all]
#
# One line per call of a forward pass, in network order: the range
# function, items, chunks on 2 threads, then on 1 and on 2 threads the
# median and the fastest µs of that call over the passes, and on 2 threads
# the median µs the caller waited for the other thread after its own
# chunks, the mean number of chunks the caller ran itself, and the median
# µs spent in the layer's range function by all threads together on 1 and
# on 2 threads (more on 2: the split costs work, or the threads slow each
# other down), and on 2 threads the median µs from the call to the start
# of the caller's own work (publishing the job, waking sleeping workers). Calls under 20 µs on both are left out unless --all. The last
# lines sum all calls (medians of per-call times: not the wall time).
set -eu

build=
net=expression
batch=1
iters=200
all=0
while [ $# -gt 0 ]; do
  case "$1" in
    -b) build=$2; shift 2 ;;
    -n) net=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    --all) all=1; shift ;;
    -h|--help) sed -n '6,19p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[ -n "$build" ] || { echo "-b BUILDDIR is required" >&2; exit 2; }
exe=$build/tests/bench/bench-face-nets
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
warmup=5

for t in 1 2; do
  AFFECT_CPU_PROFILE=1 "$exe" --nets "$net" --batches "$batch" --threads "$t" \
      --iters "$iters" --warmup "$warmup" --no-sgemm >"$tmp/out$t" 2>"$tmp/prof$t"
  grep '^RESULT' "$tmp/out$t" | sed 's/^/# /'
done

cat "$tmp/prof1" "$tmp/prof2" | awk '/^CPUPROF/ { print $2 }' | sort -u >"$tmp/addrs"
addr2line -f -e "$exe" $(cat "$tmp/addrs") | paste - - | paste "$tmp/addrs" - \
    >"$tmp/names"

python3 - "$tmp" "$((iters + warmup))" "$all" <<'PY'
import statistics, sys
tmp, passes, show_all = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
names = {l.split()[0]: l.split()[1] for l in open(tmp + "/names")}
def calls(t):
    rows = [l.split()[1:] for l in open(f"{tmp}/prof{t}") if l.startswith("CPUPROF")]
    per = len(rows) // passes
    return per, [rows[i * per:(i + 1) * per] for i in range(1, passes)]  # pass 0 dropped
per1, p1 = calls(1)
per2, p2 = calls(2)
assert per1 == per2, (per1, per2)
print("%-3s %-22s %7s %6s %8s %8s %8s %8s %8s %6s %8s %8s %6s" % ("#", "function", "items", "chunks",
      "1t med", "1t min", "2t med", "2t min", "2t wait", "caller", "1t busy", "2t busy", "2t pub"))
tot = [0.0] * 5
for i in range(per1):
    f, items, grain, _, _ = p1[0][i][:5]
    a = [int(p[i][5]) / 1e3 for p in p1]
    b = [int(p[i][5]) / 1e3 for p in p2]
    w = [int(p[i][6]) / 1e3 for p in p2]
    # (builds before the dynamic pool print neither of the last two)
    mine = sum(int(p[i][7]) for p in p2) / len(p2) if len(p2[0][i]) > 7 else float("nan")
    ba = [int(p[i][8]) / 1e3 if len(p[i]) > 8 else float("nan") for p in p1]
    bb = [int(p[i][8]) / 1e3 if len(p[i]) > 8 else float("nan") for p in p2]
    pub = [int(p[i][9]) / 1e3 if len(p[i]) > 9 else float("nan") for p in p2]
    row = [statistics.median(a), min(a), statistics.median(b), min(b), statistics.median(w)]
    tot = [x + y for x, y in zip(tot, row)]
    if show_all or max(row[0], row[2]) >= 20:
        print("%-3d %-22s %7s %6s %8.1f %8.1f %8.1f %8.1f %8.1f %6.2f %8.1f %8.1f %6.1f" % (
            i, names.get(f, f), items, p2[0][i][4], *row, mine,
            statistics.median(ba), statistics.median(bb), statistics.median(pub)))
print("%-3s %-22s %7s %6s %8.1f %8.1f %8.1f %8.1f %8.1f" % ("", "sum of calls", "", "", *tot))
PY
