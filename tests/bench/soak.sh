#!/usr/bin/env bash
# gst-affect — tests/bench/
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Soak benchmark (issue 14): the four-branch pipeline with a fusion model
# on a looping input for a long time (default 30 minutes),
#
#   multifilesrc loop=true (PNG frames) ! pngdec ! videoconvert ! facecrop
#       ! f.video
#   audiotestsrc ! audio/x-raw,F32LE,16 kHz,mono ! f.audio
#   filesrc (SRT, a cue every 2 s for the whole run) ! subparse ! f.text
#   affectfeatures name=f ! affectfuse model=MODEL ! fakesink sync=false
#
# with the resident memory (VmRSS), the frames that reached the sink and
# those with predictions (faces found) sampled every 10 s into a CSV, then a plot (SVG, soak_plot.py, Python
# standard library only) and a verdict: memory is flat when the
# least-squares slope of RSS after the warm-up, times the length of that
# window, stays within the tolerance. Not a test: nothing here is run by
# meson test. The input loops over the six demo photos of
# $AFFECT_CACHE_DIR/test-inputs (10 frames each at 10 fps, 640x480), so
# tracks start and end every second.
#
# Usage: soak.sh -b BUILDDIR [options] (see --help)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build=""
duration=1800
interval=10
warmup=300
tolerance_mb=4
out=""
model=""

usage() {
  cat <<EOF
Usage: $(basename "$0") -b BUILDDIR [options]

Options:
  -b, --build DIR       meson build dir (elements/ and
                        tests/torture/make-random-fusion-model)
  -d, --duration S      seconds to run (default $duration)
  -i, --interval S      sampling interval in seconds (default $interval)
  -w, --warmup S        seconds left out of the flatness fit (default $warmup)
  -t, --tolerance-mb M  largest RSS drift over the fitted window, in MiB,
                        that counts as flat (default $tolerance_mb)
  -m, --model FILE      fusion model (default: one with random weights and
                        the plugin's feature sizes, made by
                        make-random-fusion-model)
  -o, --out PREFIX      write PREFIX.csv, PREFIX.svg, PREFIX.txt (default:
                        soak-<date> in the current folder)
  -h, --help

Needs gst-launch-1.0 with gstreamer1.0-plugins-base and -good (png,
multifile, subparse, audiotestsrc), python3, the face models, the word
model and the demo photos (tests/golden/face-api/prepare.sh).
EOF
}

die() {
  echo "$(basename "$0"): error: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    -b | --build) build=${2:?}; shift 2 ;;
    -d | --duration) duration=${2:?}; shift 2 ;;
    -i | --interval) interval=${2:?}; shift 2 ;;
    -w | --warmup) warmup=${2:?}; shift 2 ;;
    -t | --tolerance-mb) tolerance_mb=${2:?}; shift 2 ;;
    -m | --model) model=${2:?}; shift 2 ;;
    -o | --out) out=${2:?}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[ -n "$build" ] || { usage >&2; exit 2; }
build=$(cd "$build" && pwd)
[ -f "$build/elements/libgstaffect.so" ] || die "$build/elements/libgstaffect.so not found"
for v in duration interval warmup; do
  [ "${!v}" -ge 1 ] 2>/dev/null || die "--$v must be a whole number of seconds >= 1"
done
[ "$warmup" -lt "$duration" ] || die "--warmup must be shorter than --duration"
[ -n "$out" ] || out="soak-$(date -u +%Y%m%dT%H%M%SZ)"

cache=${AFFECT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-affect}
photos="$cache/test-inputs"
[ -f "$photos/sample1.png" ] || die "$photos/sample1.png missing (tests/golden/face-api/prepare.sh)"

export GST_PLUGIN_PATH="$build/elements${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
for e in multifilesrc pngdec pngenc videoconvert videoscale audiotestsrc \
  subparse facecrop affectfeatures affectfuse; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || die "GStreamer element '$e' not found"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/affect-soak.XXXXXX")
gst_pid=""
cleanup() {
  [ -n "$gst_pid" ] && kill "$gst_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "$model" ]; then
  maker="$build/tests/torture/make-random-fusion-model"
  [ -x "$maker" ] || die "$maker not found (ninja -C $build tests/torture/make-random-fusion-model)"
  model="$work/fusion.safetensors"
  "$maker" "$model" 1
fi
[ -f "$model" ] || die "$model not found"

# --- input: 60 PNG frames (6 photos x 10), a cue every 2 s -----------------
mkdir -p "$work/frames"
n=0
for i in 1 2 3 4 5 6; do
  gst-launch-1.0 -q filesrc location="$photos/sample$i.png" ! pngdec ! \
    videoconvert ! videoscale add-borders=true ! \
    video/x-raw,format=RGB,width=640,height=480,pixel-aspect-ratio=1/1 ! \
    pngenc ! filesink location="$work/photo$i.png"
  for _ in $(seq 10); do
    cp "$work/photo$i.png" "$(printf '%s/frames/f%03d.png' "$work" $n)"
    n=$((n + 1))
  done
done
words=("I am happy to see you" "this is not what we wanted"
  "well maybe it is fine after all" "look at that" "no no no"
  "thank you very much")
{
  cues=$(((duration + 120) / 2))
  for c in $(seq 0 $((cues - 1))); do
    s=$((c * 2))
    printf '%d\n%02d:%02d:%02d,200 --> %02d:%02d:%02d,900\n%s\n\n' $((c + 1)) \
      $((s / 3600)) $((s / 60 % 60)) $((s % 60)) \
      $(((s + 1) / 3600)) $(((s + 1) / 60 % 60)) $(((s + 1) % 60)) \
      "${words[$((c % 6))]}"
  done
} >"$work/cues.srt"

# --- run ------------------------------------------------------------------
log="$work/gst.log"
# fakesink silent=false with -v prints one "chain" line per frame
gst-launch-1.0 -v \
  multifilesrc location="$work/frames/f%03d.png" index=0 stop-index=59 \
  loop=true caps=image/png,framerate=10/1 ! pngdec ! videoconvert ! \
  facecrop ! f.video \
  audiotestsrc wave=sine freq=220 volume=0.3 samplesperbuffer=1600 ! \
  audio/x-raw,format=F32LE,rate=16000,channels=1 ! f.audio \
  filesrc location="$work/cues.srt" ! subparse ! f.text \
  affectfeatures name=f ! affectfuse model="$model" ! \
  fakesink name=out sync=false silent=false >"$log" 2>&1 &
gst_pid=$!

csv="$out.csv"
echo "t_s,rss_kib,frames,fps,frames_with_predictions" >"$csv"
start=$(date +%s)
prev_frames=0
prev_t=0
echo "soak: $duration s, sampling every $interval s into $csv (pid $gst_pid)"
while :; do
  sleep "$interval"
  now=$(date +%s)
  t=$((now - start))
  kill -0 "$gst_pid" 2>/dev/null || {
    tail -20 "$log" >&2
    die "gst-launch-1.0 ended before the end of the run (t = $t s)"
  }
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$gst_pid/status")
  # both counts from one read of the log
  read -r frames predicted < <(grep 'chain   \*\*\*\*\*\*\* (out:sink)' "$log" |
    awk '{ n++ } /GstAffectPredictionsMeta/ { p++ } END { print n + 0, p + 0 }')
  fps=$(awk -v a="$frames" -v b="$prev_frames" -v t="$t" -v p="$prev_t" \
    'BEGIN { printf "%.3f", (a - b) / (t - p) }')
  echo "$t,$rss,$frames,$fps,$predicted" >>"$csv"
  prev_frames=$frames
  prev_t=$t
  [ "$t" -ge "$duration" ] && break
done
kill -INT "$gst_pid" 2>/dev/null || true
wait "$gst_pid" 2>/dev/null || true
gst_pid=""
if grep -q "ERROR" "$log"; then
  grep -m5 "ERROR" "$log" >&2
  die "the pipeline posted an error"
fi

python3 "$here/soak_plot.py" "$csv" -o "$out.svg" --warmup "$warmup" \
  --tolerance-mb "$tolerance_mb" \
  --title "gst-affect soak: four branches + fusion, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" |
  tee "$out.txt"
