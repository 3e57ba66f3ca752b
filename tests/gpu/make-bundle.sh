#!/usr/bin/env bash
# gst-affect: build the GPU check bundle (docs/cuda.md, "The GPU check
# bundle") from a build folder configured with -Dcuda=enabled:
#
#   bash tests/gpu/make-bundle.sh [BUILD_DIR]      (default: build)
#
# writes BUILD_DIR/gpu-bundle/ with two files:
#   gpu-bundle.tar.xz  the programs (op test, registry test, gpu-check), the
#                      CUDA module, every shared library they load from this
#                      machine (glibc and its loader included: they run
#                      through the bundled ld-linux, so the GPU machine's
#                      own libraries do not matter), the face models, the
#                      word model's config/tokenizer and tensor layout (its
#                      weights are generated there: 87 MB would not fit),
#                      a random fusion model, and the PyTorch scripts;
#   run-bundle.sh      the script to run on the GPU machine (prints a parity
#                      table and a throughput table, < 8 minutes).
# The two together must stay under 60 MiB (checked). With the device tool:
#   carry build/gpu-bundle, run `bash build/gpu-bundle/run-bundle.sh`.
# It needs no GPU here: `bash BUILD_DIR/gpu-bundle/run-bundle.sh` runs the
# same steps on this machine (the cuda columns then say "no device").
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:-build}" && pwd)
out=$build/gpu-bundle
cache=${AFFECT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-affect}
models=$cache/models
limit=$((60 * 1024 * 1024))

log() { printf '%s\n' "$*" >&2; }

progs="tests/models/test-models-backend-ops tests/models/test-models-registry-cuda tests/gpu/gpu-check"
if [ ! -f "$build/cuda/libaffect-backend-cuda.so" ] && ! grep -q 'affect-backend-cuda' "$build/build.ninja"; then
  log "error: $build has no CUDA module: configure it with -Dcuda=enabled (cuda/setup-toolkit.sh)"
  exit 1
fi
ninja -C "$build" $progs cuda/libaffect-backend-cuda.so >&2

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
b=$stage/gpu-bundle
mkdir -p "$b/bin" "$b/lib" "$b/backends" "$b/models" "$b/py"

for p in $progs; do
  cp "$build/$p" "$b/bin/"
done
cp "$build/cuda/libaffect-backend-cuda.so" "$b/backends/"

# Every shared library the programs and the module load from this machine
# (cuBLAS, cuDNN and libcuda excepted: opened at run time, the GPU machine
# has its own), glibc and the loader included.
for f in "$b"/bin/* "$b"/backends/*; do
  ldd "$f" | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }'
done | sort -u | while read -r lib; do
  cp -L "$lib" "$b/lib/$(basename "$lib")"
done
[ -e "$b/lib/ld-linux-x86-64.so.2" ] || cp -L /lib64/ld-linux-x86-64.so.2 "$b/lib/"
# cuDNN's libraries need zlib: the bundled loader searches the bundle first.
if [ ! -e "$b/lib/libz.so.1" ]; then
  z=$(ldconfig -p | awk '/libz\.so\.1 .*x86-64/ { print $NF; exit }')
  [ -n "$z" ] && cp -L "$z" "$b/lib/"
fi
# OpenBLAS's and oneDNN's OpenMP/threads libraries come through ldd above.

# The face networks of the visual chain.
for m in tiny_face_detector_model face_landmark_68_model face_expression_model face_recognition_model; do
  cp "$models/$m.safetensors" "$b/models/"
done
# The word model: config, tokenizer and the tensor layout; run-bundle.sh
# writes random weights of that layout (parity and speed do not need the
# trained ones).
bert=$models/all-MiniLM-L6-v2
mkdir -p "$b/models/all-MiniLM-L6-v2"
for f in config.json tokenizer.json tokenizer_config.json special_tokens_map.json vocab.txt; do
  [ -f "$bert/$f" ] && cp "$bert/$f" "$b/models/all-MiniLM-L6-v2/"
done
python3 - "$bert/model.safetensors" "$b/models/all-MiniLM-L6-v2/layout.json" <<'PY'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    h = json.loads(f.read(n))
h.pop("__metadata__", None)
json.dump({k: {"dtype": v["dtype"], "shape": v["shape"]} for k, v in h.items()},
          open(sys.argv[2], "w"), indent=0, sort_keys=True)
PY

# A fusion model with random weights (the trained models' sizes: 32
# frames, H 256, 8 heads), written by the PyTorch recipe's exporter.
train_py=${AFFECT_TRAIN_PYTHON:-$cache/venv-train/bin/python}
if [ -x "$train_py" ]; then
  "$train_py" "$src/tests/bench/bench_fusion_torch.py" make "$stage/fusion" --max-n 8 >&2
  cp "$stage/fusion/model.safetensors" "$b/models/fusion.safetensors"
else
  log "warning: no training Python ($train_py): the bundle has no fusion model"
fi

cp "$src/tests/gpu/torch_gpu.py" "$src/tests/bench/torch_face_nets.py" \
  "$src/models/fusion/fusion_model.py" "$b/py/"
cp "$src/tests/gpu/bundle-steps.sh" "$b/"

rm -rf "$out"
mkdir -p "$out"
log "Compressing ($(du -sh "$b" | cut -f1) uncompressed)"
tar -C "$stage" -cf - gpu-bundle | xz -T2 -6 > "$out/gpu-bundle.tar.xz"
cp "$src/tests/gpu/run-bundle.sh" "$out/"
size=$(du -cb "$out"/* | tail -n 1 | cut -f1)
if [ "$size" -gt "$limit" ]; then
  log "error: the bundle is $size bytes, over the 60 MiB limit"
  exit 1
fi
log "Bundle: $out ($((size / 1024 / 1024)) MiB)"
echo "$out"
