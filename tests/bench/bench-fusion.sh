#!/usr/bin/env bash
# gst-affect — tests/bench/
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Fusion-network latency, C (bench-fusion) against the PyTorch module
# (bench_fusion_torch.py) on identical random weights, in one run. Not a
# test: nothing here asserts anything about time. It does stop when the C
# and PyTorch outputs differ by more than 1e-4.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build=""
python="${AFFECT_BENCH_PYTHON:-python3}"
batches="1,8"
threads="1,2"
iters=50
warmup=5
heads=8
out=""

usage() {
  cat <<EOF2
Usage: $(basename "$0") -b BUILDDIR [options]

Makes a random fusion model (clip length 32, hidden 256, heads $heads,
mlp_hidden 256, d_img 256, d_exp 256, d_spe 16, d_wrd 384, heads au, expr,
va) with models/fusion/export.py, checks that the C inference and the
PyTorch module agree on it (max |delta| <= 1e-4, all branches present and
every absence pattern), then times both, alternating C and PyTorch per
configuration, and prints the latency per call and per face with the ratio
PyTorch time / C time (> 1: C is faster).

Options:
  -b, --build DIR     meson build dir holding tests/bench/bench-fusion
  -p, --python PY     Python with torch, numpy, safetensors
                      (default: \$AFFECT_BENCH_PYTHON or python3)
  --batches LIST      tracks per call, default $batches (at most 8)
  --threads LIST      default $threads
  --iters N           timed calls per configuration (default $iters)
  --warmup N          untimed calls first (default $warmup)
  --heads N           attention heads, 4 or 8 (default $heads)
  -o, --out DIR       keep the model, inputs and raw results there
  -h, --help
EOF2
}

while [ $# -gt 0 ]; do
  case "$1" in
    -b|--build) build="$2"; shift 2 ;;
    -p|--python) python="$2"; shift 2 ;;
    --batches) batches="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --iters) iters="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
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

"$python" "$here/bench_fusion_torch.py" make "$out" --heads "$heads" \
  --max-n 8
"$bin" "$out/model.safetensors" "$out/inputs.safetensors" --check-only \
  | tee "$out/check.txt"

IFS=, read -r -a batch_list <<< "$batches"
IFS=, read -r -a thread_list <<< "$threads"
for th in "${thread_list[@]}"; do
  for n in "${batch_list[@]}"; do
    "$bin" "$out/model.safetensors" "$out/inputs.safetensors" --n "$n" \
      --threads "$th" --iters "$iters" --warmup "$warmup" \
      | grep '^RESULT' >> "$results"
    "$python" "$here/bench_fusion_torch.py" time "$out" --n "$n" \
      --threads "$th" --iters "$iters" --warmup "$warmup" \
      | grep '^RESULT' >> "$results"
  done
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

awk -F'\t' -v check="$(cut -f2,3 "$out/check.txt" | tr '\t' ' ')" '
  $1 == "RESULT" { key = $3 "\t" $4; med[$2, key] = $5; pf[$2, key] = $8;
                   if (!(key in seen)) { seen[key] = 1; order[++k] = key } }
  END {
    split(check, c, " ");
    printf "max |C - PyTorch|: %s (all present), %s (mixed presence)\n\n",
      c[1], c[2];
    print "| tracks/call | threads | C ms/call | PyTorch ms/call | C us/face | PyTorch us/face | ratio |";
    print "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |";
    for (i = 1; i <= k; i++) {
      split(order[i], a, "\t");
      printf "| %s | %s | %.2f | %.2f | %.0f | %.0f | %.2fx |\n", a[1], a[2],
        med["c", order[i]], med["torch", order[i]], pf["c", order[i]],
        pf["torch", order[i]], med["torch", order[i]] / med["c", order[i]];
    }
    print "\nmedians over the timed calls; ratio = PyTorch time / C time (goal >= 2)";
  }' "$results"
