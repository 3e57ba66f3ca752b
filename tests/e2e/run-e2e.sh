#!/usr/bin/env bash
# gst-affect: end-to-end tests of the fusion network (issue 6 item 6).
#
#   run-e2e.sh fuse E2E_FUSE_EXE   (meson test e2e_fuse)
#   run-e2e.sh launch [IGNORED]    (meson test e2e_launch)
#
# fuse:   tests/e2e/e2e_train.py makes synthetic tracks with a planted signal,
#         trains a small model with models/fusion/train.py, exports it with
#         export.py and writes a held-out stream; E2E_FUSE_EXE (e2e-fuse.c)
#         pushes the stream through affectfuse and checks its predictions
#         against PyTorch's and the metrics against chance.
# launch: trains (same recipe, seconds) a model with the sizes of the
#         plugin's extractors and its default features value, runs
#           filesrc ! pngdec ! imagefreeze ! ... ! facecrop ! affectfeatures !
#           affectfuse model=FILE ! affectoverlay ! ... tee ! filesink / affectsink
#         with gst-launch-1.0 on a demo photo (a few frames), once more
#         without affectfuse, and check_launch.py checks that the JSONL carries
#         the model's predictions (equal to PyTorch's on the features written
#         next to them) and that affectoverlay drew them.
#
# Environment: AFFECT_TRAIN_PYTHON, a Python with PyTorch, numpy and
# safetensors (bash models/fusion/setup-train-env.sh DIR prints one); unset,
# the test is skipped (exit 77) unless AFFECT_REQUIRE_TORCH=1, then it fails.
# The launch test also needs the face models and the decoded demo photos
# (affect-fetch-models, tests/golden/face-api/prepare.sh): skipped without
# them unless AFFECT_REQUIRE_MODELS=1. AFFECT_E2E_WORKDIR: where the files go
# (default: a new temporary folder); AFFECT_TEST_SYSTEM_PLUGIN_DIR: the
# system GStreamer plugins (filesrc, pngdec, imagefreeze, ...) for gst-launch.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kind=${1:-}
exe=${2:-}

skip() {
  # $1: the variable that turns this skip into a failure
  local req=$1
  shift
  if [ "${!req:-0}" = 1 ]; then
    echo "FAIL ($req=1): $*" >&2
    exit 1
  fi
  echo "SKIP: $*"
  exit 77
}

case "$kind" in
  fuse | launch) ;;
  *)
    echo "usage: run-e2e.sh fuse|launch [E2E_FUSE_EXE]" >&2
    exit 2
    ;;
esac

py=${AFFECT_TRAIN_PYTHON:-}
how="create one with: bash models/fusion/setup-train-env.sh DIR, then export AFFECT_TRAIN_PYTHON=DIR/bin/python"
[ -n "$py" ] || skip AFFECT_REQUIRE_TORCH "AFFECT_TRAIN_PYTHON is not set ($how)"
"$py" -c 'import numpy, safetensors, torch' 2>/dev/null ||
  skip AFFECT_REQUIRE_TORCH "$py cannot import torch, numpy and safetensors ($how)"

work=${AFFECT_E2E_WORKDIR:-}
if [ -z "$work" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/affect-e2e-XXXXXX")
  trap 'rm -rf "$work"' EXIT
else
  rm -rf "$work"
  mkdir -p "$work"
fi

if [ "$kind" = fuse ]; then
  [ -x "$exe" ] || { echo "run-e2e.sh: $exe is not an executable" >&2; exit 2; }
  start=$(date +%s)
  "$py" "$here/e2e_train.py" --out "$work"
  echo "data, training and export: $(($(date +%s) - start)) s (wall clock)"
  AFFECT_E2E_MODEL=$work/model.safetensors \
    AFFECT_E2E_HELDOUT=$work/heldout.safetensors "$exe"
  exit 0
fi

# ---- launch --------------------------------------------------------------
cache=${AFFECT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-affect}
models=${AFFECT_MODEL_DIR:-$cache/models}
photo=$cache/test-inputs/sample2.png
for m in tiny_face_detector_model face_landmark_68_model face_expression_model \
  face_recognition_model; do
  [ -f "$models/$m.safetensors" ] ||
    skip AFFECT_REQUIRE_MODELS "$models/$m.safetensors missing (fetch the models with affect-fetch-models)"
done
[ -f "$photo" ] ||
  skip AFFECT_REQUIRE_MODELS "$photo missing (run tests/golden/face-api/prepare.sh)"

# gst-launch needs the system plugins besides the one built here (the test
# environment hides them); a registry of our own in the work folder.
export GST_PLUGIN_SYSTEM_PATH_1_0=${AFFECT_TEST_SYSTEM_PLUGIN_DIR:-${GST_PLUGIN_SYSTEM_PATH_1_0:-}}
unset GST_PLUGIN_LOADING_WHITELIST
export GST_REGISTRY=$work/registry.bin
command -v gst-launch-1.0 >/dev/null ||
  skip AFFECT_REQUIRE_TORCH "gst-launch-1.0 not found (Debian: gstreamer1.0-tools)"
# A plugin built with -Db_sanitize=address,undefined loads into the
# uninstrumented gst-launch-1.0 only with the sanitizer runtimes preloaded
# (leak checking is left to the gst-check tests, which run the same
# elements in-process).
preload=""
case "${AFFECT_E2E_SANITIZE:-none}" in
  *address*) preload=$(${CC:-cc} -print-file-name=libasan.so) ;;
esac
case "${AFFECT_E2E_SANITIZE:-none}" in
  *undefined*) preload="$preload${preload:+ }$(${CC:-cc} -print-file-name=libubsan.so)" ;;
esac
gst() {
  if [ -n "$preload" ]; then
    LD_PRELOAD="$preload" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$@"
  else
    "$@"
  fi
}
for e in filesrc pngdec imagefreeze videoconvert videoscale tee queue filesink \
  facecrop affectfeatures affectfuse affectoverlay affectsink; do
  gst gst-inspect-1.0 "$e" >/dev/null 2>&1 ||
    skip AFFECT_REQUIRE_TORCH "GStreamer element $e not found (gstreamer1.0-plugins-base/-good, GST_PLUGIN_PATH)"
done

start=$(date +%s)
"$py" "$here/e2e_train.py" --dims plugin --out "$work"
echo "data, training and export: $(($(date +%s) - start)) s (wall clock)"

frames=8
# $1: the analysis elements between facecrop and affectoverlay; $2: name
analyse() {
  # shellcheck disable=SC2086
  gst gst-launch-1.0 -q filesrc location="$photo" ! pngdec ! \
    imagefreeze num-buffers=$frames ! video/x-raw,framerate=25/1 ! \
    videoconvert ! videoscale add-borders=true ! \
    video/x-raw,width=640,height=480,pixel-aspect-ratio=1/1 ! \
    facecrop ! $1 ! affectoverlay ! videoconvert ! video/x-raw,format=RGB ! \
    tee name=t \
    t. ! queue ! filesink location="$work/$2.rgb" \
    t. ! queue ! affectsink format=jsonl features=true location="$work/$2.jsonl"
}
analyse "affectfeatures ! affectfuse model=$work/model.safetensors" with
analyse "affectfeatures" without
"$py" "$here/check_launch.py" --model "$work/model.safetensors" \
  --frames $frames --size 640x480 --with "$work/with" --without "$work/without"
