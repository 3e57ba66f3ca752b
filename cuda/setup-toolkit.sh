#!/usr/bin/env bash
# gst-affect: install the CUDA 13 toolkit (nvcc, crt, nvvm, runtime, cccl,
# cuBLAS, cuDNN) from NVIDIA's PyPI wheels into a cache folder and print the
# prefix to use as CUDA_HOME on the last line:
#
#   CUDA_HOME=$(bash cuda/setup-toolkit.sh | tail -n 1 | sed 's/^CUDA_HOME=//')
#   CUDA_HOME=$CUDA_HOME meson setup build -Dcuda=enabled
#
#   bash cuda/setup-toolkit.sh [CACHE_DIR]
#
# CACHE_DIR defaults to $AFFECT_CACHE_DIR or ~/.cache/gst-affect; the
# toolkit goes to CACHE_DIR/cuda13-<hash of the requirements>/ (a new pin
# gives a new folder). Versions and sha256 hashes are pinned in
# cuda/requirements-cu13.txt (pip --require-hashes --no-deps). Downloads about
# 1.1 GB once (~40 s on the development machine), ~2.7 GB installed; a second run
# only checks the prefix.
#
# The wheels install into DIR/nvidia/cu13/ (bin/nvcc, nvvm/, include/, lib/
# with libcudart.so.13, libcudart_static.a, libcublas.so.13) except cuDNN,
# which lives in DIR/nvidia/cudnn/; its headers and libraries are linked into
# nvidia/cu13/include and lib so that one prefix works as CUDA_HOME.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
req=$here/requirements-cu13.txt
cache=${1:-${AFFECT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-affect}}
tag=$(sha256sum "$req" | cut -c1-12)
dir=$cache/cuda13-$tag
prefix=$dir/nvidia/cu13

log() { printf '%s\n' "$*" >&2; }

check_prefix() {
  [ -x "$prefix/bin/nvcc" ] && [ -f "$prefix/include/cuda_runtime.h" ] &&
    [ -f "$prefix/include/cublas_v2.h" ] && [ -f "$prefix/include/cudnn.h" ] &&
    [ -f "$prefix/lib/libcudart_static.a" ] &&
    [ -e "$prefix/lib/libcublas.so.13" ] && [ -e "$prefix/lib/libcudnn.so.9" ] &&
    [ -e "$prefix/nvvm/bin/cicc" ] && [ -f "$dir/.complete" ]
}

if ! check_prefix; then
  log "Installing the CUDA 13 toolkit wheels into $dir"
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  start=$(date +%s)
  python3 -m pip install --quiet --disable-pip-version-check --no-deps \
    --require-hashes --only-binary=:all: --target "$dir.tmp" -r "$req" >&2
  log "pip: $(($(date +%s) - start)) s, $(du -sh "$dir.tmp" | cut -f1) installed"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
  # cuDNN's headers and libraries into the one prefix (relative links).
  for f in "$dir"/nvidia/cudnn/include/*.h; do
    ln -sfn "../../cudnn/include/$(basename "$f")" "$prefix/include/$(basename "$f")"
  done
  for f in "$dir"/nvidia/cudnn/lib/lib*.so*; do
    ln -sfn "../../cudnn/lib/$(basename "$f")" "$prefix/lib/$(basename "$f")"
  done
  # Unversioned names for the linker (-lcudart, -lcublas, -lcudnn).
  for l in cudart cublas cublasLt cudnn; do
    so=$(cd "$prefix/lib" && ls "lib$l.so."* 2>/dev/null | sort | head -n 1 || true)
    if [ -n "$so" ] && [ ! -e "$prefix/lib/lib$l.so" ]; then
      ln -s "$so" "$prefix/lib/lib$l.so"
    fi
  done
  touch "$dir/.complete"
  if ! check_prefix; then
    log "error: the installed wheels do not form a usable prefix in $prefix"
    exit 1
  fi
fi

# nvcc must run (version) and have what it needs to compile device code.
"$prefix/bin/nvcc" --version | tail -n 2 >&2
echo "CUDA_HOME=$prefix"
