#!/usr/bin/env bash
# gst-affect — tests/bench/
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Fusion-network latency, C (bench-fusion) against the PyTorch module
# (bench_fusion_torch.py) on identical random weights, in one run, and
# optionally against the C of another build (--baseline: the previous
# commit). Not a test: nothing here asserts anything about time. It does
# stop when the C and PyTorch outputs differ by more than 1e-4.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build=""
baseline=""
python="${AFFECT_BENCH_PYTHON:-python3}"
batches="1,8"
threads="1,2"
iters=50
warmup=5
rounds=3
heads=8
out=""

usage() {
  cat <<EOF2
Usage: $(basename "$0") -b BUILDDIR [options]

Makes a random fusion model (clip length 32, hidden 256, heads $heads,
mlp_hidden 256, d_img 256, d_exp 256, d_spe 16, d_wrd 384, heads au, expr,
va: the paper's size) with models/fusion/export.py, checks that the C
inference and the PyTorch module agree on it (max |delta| <= 1e-4, all
branches present and every absence pattern; C results identical whatever
the threads and the batch), then times both: ROUNDS rounds, each running
every configuration on every side back to back (C first in odd rounds,
PyTorch first in even ones; the baseline between them), and prints the
latency per call and per face (median over rounds of each round's
median), the ratio PyTorch time / C time (> 1: C is faster) on those
medians and on the best calls, and the median CPU time per call (process
CPU time, all threads: on a loaded machine, the part of the wall time not
spent waiting). With --baseline, also the baseline's latency and the ratio
C time / baseline time (< 1: this build is faster).

Options:
  -b, --build DIR     meson build dir holding tests/bench/bench-fusion
  --baseline DIR      another build dir (e.g. of the previous commit) whose
                      bench-fusion is timed alongside
  -p, --python PY     Python with torch, numpy, safetensors
                      (default: \$AFFECT_BENCH_PYTHON or python3)
  --batches LIST      tracks per call, default $batches (the inputs hold
                      as many tracks as the largest)
  --threads LIST      default $threads
  --iters N           timed calls per configuration (default $iters)
  --warmup N          untimed calls first (default $warmup)
  --rounds N          rounds of all configurations (default $rounds)
  --heads N           attention heads, 4 or 8 (default $heads)
  -o, --out DIR       keep the model, inputs and raw results there
  -h, --help
EOF2
}

while [ $# -gt 0 ]; do
  case "$1" in
    -b|--build) build="$2"; shift 2 ;;
    --baseline) baseline="$2"; shift 2 ;;
    -p|--python) python="$2"; shift 2 ;;
    --batches) batches="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --iters) iters="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --heads) heads="$2"; shift 2 ;;
    -o|--out) out="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done

if [ -z "$build" ]; then
  usage >&2
  exit 2
fi
bin="$build/tests/bench/bench-fusion"
if [ ! -x "$bin" ]; then
  echo "no $bin: build it with ninja -C $build tests/bench/bench-fusion" >&2
  exit 1
fi
base_bin=""
if [ -n "$baseline" ]; then
  base_bin="$baseline/tests/bench/bench-fusion"
  if [ ! -x "$base_bin" ]; then
    echo "no $base_bin: build it with ninja -C $baseline" \
      "tests/bench/bench-fusion" >&2
    exit 1
  fi
fi
if [ -z "$out" ]; then
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"
results="$out/results.tsv"
: > "$results"

echo "# machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n1)," \
  "$(nproc) CPUs; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# torch $("$python" -c 'import torch; print(torch.__version__)')," \
  "$(date -u '+%Y-%m-%d %H:%M UTC')"
for v in OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS OMP_NUM_THREADS; do
  if [ -n "${!v:-}" ]; then
    echo "# $v=${!v}"
  fi
done

IFS=, read -r -a batch_list <<< "$batches"
IFS=, read -r -a thread_list <<< "$threads"
max_n=1
for n in "${batch_list[@]}"; do
  if ((n > max_n)); then
    max_n=$n
  fi
done

"$python" "$here/bench_fusion_torch.py" make "$out" --heads "$heads" \
  --max-n "$max_n"
"$bin" "$out/model.safetensors" "$out/inputs.safetensors" --check-only \
  | tee "$out/check.txt"
if [ -n "$base_bin" ]; then
  echo "# baseline:"
  "$base_bin" "$out/model.safetensors" "$out/inputs.safetensors" \
    --check-only
fi

# The C side's products do not use OpenBLAS (linked by the core), but its
# idle server thread spins for a while after start-up and would take CPU
# from the timed calls: no server thread for the C process.
run_c() {
  OPENBLAS_NUM_THREADS=1 "$bin" "$out/model.safetensors" \
    "$out/inputs.safetensors" --n "$1" --threads "$2" --iters "$iters" \
    --warmup "$warmup" \
    | grep '^RESULT' >> "$results"
}
run_base() {
  if [ -n "$base_bin" ]; then
    OPENBLAS_NUM_THREADS=1 "$base_bin" "$out/model.safetensors" \
      "$out/inputs.safetensors" --n "$1" --threads "$2" --iters "$iters" \
      --warmup "$warmup" \
      | grep '^RESULT' | sed 's/^RESULT\tc\t/RESULT\tbase\t/' >> "$results"
  fi
}
run_torch() {
  "$python" "$here/bench_fusion_torch.py" time "$out" --n "$1" \
    --threads "$2" --iters "$iters" --warmup "$warmup" \
    | grep '^RESULT' >> "$results"
}

for ((r = 1; r <= rounds; r++)); do
  for th in "${thread_list[@]}"; do
    for n in "${batch_list[@]}"; do
      if ((r % 2)); then
        run_c "$n" "$th"
        run_base "$n" "$th"
        run_torch "$n" "$th"
      else
        run_torch "$n" "$th"
        run_base "$n" "$th"
        run_c "$n" "$th"
      fi
    done
  done
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

check="$(awk -F'\t' '$1 == "CHECK" { print $2, $3 }
  $1 == "CHECK-BATCH" { print $2 }' "$out/check.txt" | tr '\n' ' ')"
awk -F'\t' -v check="$check" -v base="${base_bin:+1}" '
  # Per-round ratios PyTorch / C: the lists hold the rounds in order.
  function range(lc, lt,   c, t, n, i, r, lo, hi) {
    n = split(lc, c, " ");
    split(lt, t, " ");
    for (i = 1; i <= n; i++) {
      r = t[i] / c[i];
      if (i == 1 || r < lo) lo = r;
      if (i == 1 || r > hi) hi = r;
    }
    return sprintf("%.2f-%.2fx", lo, hi);
  }
  function median(list,   v, n, i, j, t) {
    n = split(list, v, " ");
    for (i = 2; i <= n; i++)
      for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
        t = v[j]; v[j] = v[j - 1]; v[j - 1] = t;
      }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2;
  }
  $1 == "RESULT" {
    key = $3 "\t" $4;
    med[$2, key] = med[$2, key] " " $5;
    cpu[$2, key] = cpu[$2, key] " " $9;
    if (!(($2, key) in best) || $7 + 0 < best[$2, key]) best[$2, key] = $7;
    if (!(key in seen)) { seen[key] = 1; order[++k] = key }
  }
  END {
    split(check, c, " ");
    printf "max |C - PyTorch|: %s (all present), %s (mixed presence); ", c[1], c[2];
    printf "C across threads and batches: %s\n\n", c[3];
    printf "| tracks/call | threads | C ms/call | PyTorch ms/call | C us/face | PyTorch us/face | ratio | ratio (best calls) | ratio per round | C CPU ms/call | PyTorch CPU ms/call |";
    if (base) printf " baseline ms/call | C / baseline | C / baseline (best calls) | C / baseline per round | baseline CPU ms/call |";
    printf "\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :--- | ---: | ---: |";
    if (base) printf " ---: | ---: | ---: | :--- | ---: |";
    printf "\n";
    for (i = 1; i <= k; i++) {
      split(order[i], a, "\t");
      mc = median(med["c", order[i]]); mt = median(med["torch", order[i]]);
      printf "| %s | %s | %.2f | %.2f | %.0f | %.0f | %.2fx | %.2fx | %s | %.2f | %.2f |",
        a[1], a[2], mc, mt, mc * 1e3 / a[1], mt * 1e3 / a[1], mt / mc,
        best["torch", order[i]] / best["c", order[i]],
        range(med["c", order[i]], med["torch", order[i]]),
        median(cpu["c", order[i]]), median(cpu["torch", order[i]]);
      if (base) {
        mb = median(med["base", order[i]]);
        printf " %.2f | %.2f | %.2f | %s | %.2f |", mb, mc / mb,
          best["c", order[i]] / best["base", order[i]],
          range(med["base", order[i]], med["c", order[i]]),
          median(cpu["base", order[i]]);
      }
      printf "\n";
    }
    printf "\nlatency: median over the rounds of each round'"'"'s median; ratio = PyTorch time / C time (goal >= 2)";
    if (base) printf "; C / baseline = C time / baseline time (< 1: faster than the baseline)";
    printf "\n";
  }' "$results"
