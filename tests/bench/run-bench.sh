#!/usr/bin/env bash
# gst-affect — tests/bench/
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs the face-network benchmark: the C core (bench-face-nets) and the
# PyTorch reference (bench_torch.py), network by network, then prints the
# comparison table. Not a test: nothing here asserts anything about time.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build=""
python="${AFFECT_BENCH_PYTHON:-python3}"
nets="tiny,ssd,landmarks,expression,recognition"
batches="1,8"
threads="1,2"
iters=""
warmup=2
out=""
net_timeout=900
repeat=1

usage() {
  cat <<EOF
Usage: $(basename "$0") -b BUILDDIR [options]

Benchmarks the tensor-level forward pass of the five face networks of
gst-affect (C, CPU backend) against the PyTorch modules of
torch_face_nets.py on the same weights, then prints a table with the ratio
C throughput / PyTorch throughput, the achieved GFLOP/s and the machine's
OpenBLAS sgemm GFLOP/s. Detectors run at batch 1 only.

Options:
  -b, --build DIR     meson build dir holding tests/bench/bench-face-nets
  -p, --python PY     Python with torch, numpy, safetensors
                      (default: \$AFFECT_BENCH_PYTHON or python3; see
                      requirements.txt)
  --nets LIST         default $nets
  --batches LIST      face-net batch sizes, default $batches
  --threads LIST      default $threads
  --iters N           timed iterations (default: per network)
  --warmup N          untimed iterations first (default $warmup)
  --repeat N          run the whole C/PyTorch alternation N times and keep,
                      per configuration and side, the run with the lowest
                      median (for busy machines; default 1)
  -o, --out DIR       keep the raw result files there (default: a temp dir)
  -h, --help

The weights are looked up as everywhere in gst-affect (\$AFFECT_MODEL_DIR,
then the cache; fetch them with affect-fetch-models).
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    -b|--build) build="$2"; shift 2 ;;
    -p|--python) python="$2"; shift 2 ;;
    --nets) nets="$2"; shift 2 ;;
    --batches) batches="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --iters) iters="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    -o|--out) out="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run-bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [ -z "$build" ]; then
  echo "run-bench.sh: give the meson build dir with -b (see --help)" >&2
  exit 2
fi
bench_c="$build/tests/bench/bench-face-nets"
if [ ! -x "$bench_c" ]; then
  echo "run-bench.sh: $bench_c not found; build it with" \
    "'ninja -C $build tests/bench/bench-face-nets'" >&2
  exit 2
fi
if ! "$python" -c 'import torch, numpy, safetensors' 2>/dev/null; then
  echo "run-bench.sh: '$python' cannot import torch, numpy and safetensors;" \
    "create a venv: python3 -m venv /tmp/bench-venv &&" \
    "/tmp/bench-venv/bin/pip install -r $here/requirements.txt," \
    "then pass -p /tmp/bench-venv/bin/python" >&2
  exit 2
fi

if [ -z "$out" ]; then
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"
: > "$out/c.tsv"
: > "$out/torch.tsv"

iter_args=()
[ -n "$iters" ] && iter_args=(--iters "$iters")

echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "# cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores online"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for v in OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS OMP_NUM_THREADS; do
  [ -n "${!v:-}" ] && echo "# $v=${!v}"
done

IFS=, read -r -a net_list <<< "$nets"
for ((r = 1; r <= repeat; r++)); do
first=1
for net in "${net_list[@]}"; do
  echo "== $net (run $r of $repeat)" >&2
  sgemm=(--no-sgemm)
  [ $first = 1 ] && sgemm=()
  first=0
  # One process per network and a time limit, so that one failing network
  # does not cost the others.
  if ! timeout "$net_timeout" "$bench_c" --nets "$net" --batches "$batches" \
      --threads "$threads" --warmup "$warmup" "${iter_args[@]}" \
      "${sgemm[@]}" >> "$out/c.tsv"; then
    echo "run-bench.sh: the C benchmark of $net failed or timed out" >&2
  fi
  if ! timeout "$net_timeout" "$python" "$here/bench_torch.py" --nets "$net" \
      --batches "$batches" --threads "$threads" --warmup "$warmup" \
      "${iter_args[@]}" >> "$out/torch.tsv"; then
    echo "run-bench.sh: the PyTorch benchmark of $net failed" >&2
  fi
done
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
"$python" "$here/bench_torch.py" --table "$out/c.tsv" "$out/torch.tsv"
