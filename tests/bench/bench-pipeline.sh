#!/usr/bin/env bash
# gst-affect — tests/bench/
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Frames per second of the whole visual pipeline,
#
#   filesrc ! rawvideoparse (I420 640x480 30 fps) ! facecrop ! affectfeatures
#           ! affectfuse ! fakesink sync=false
#
# on a clip with one face and on a clip with four faces, with n-threads 1
# and 2 on facecrop and affectfeatures (element defaults otherwise), then
# once more with faster settings (facecrop detect-interval=5,
# affectfeatures branches=expression). Not a test: nothing here asserts
# anything about time.
#
# The clips are made from the demo photos of the model package
# ($CACHE/face-api-1.7.15/demo, put there by affect-fetch-models):
#   one face:   the 640x480 window (35,372) of sample6.jpg (one face, about
#               210 px wide);
#   four faces: a 2x2 mosaic of 320x240 reductions of that window and of the
#               window (143,769) 640x480 of sample5.jpg (faces about 130 px).
# Each picture is animated by examples' make-demo-clip (slow zoom of 5 %,
# H.264), then decoded once to a raw I420 file, so that the timed runs
# include no decoding. The timed figure is gst-launch's "Execution ended
# after" (PLAYING to EOS: model loading and the preroll frame excluded);
# fps = (frames - 1) / that time. A separate short run with affectsink
# counts the faces found per frame.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build=""
frames=150
threads="1,2"
keep=""
repeat=1

usage() {
  cat <<EOF
Usage: $(basename "$0") -b BUILDDIR [options]

Options:
  -b, --build DIR     meson build dir (elements/ and examples/make-demo-clip)
  -n, --frames N      frames per clip (default $frames)
  --threads LIST      n-threads values (default $threads)
  --repeat N          timed runs per configuration, the fastest is kept
                      (for busy machines; default $repeat)
  -k, --keep DIR      make the clips there and keep them (default: a
                      temporary folder, removed at the end)
  -h, --help

Needs gst-launch-1.0 with gstreamer1.0-plugins-base, -good (jpeg,
videocrop, imagefreeze) and -ugly (x264enc), plus the face models.
EOF
}

die() {
  echo "$(basename "$0"): error: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    -b | --build) build=${2:?}; shift 2 ;;
    -n | --frames) frames=${2:?}; shift 2 ;;
    --threads) threads=${2:?}; shift 2 ;;
    --repeat) repeat=${2:?}; shift 2 ;;
    -k | --keep) keep=${2:?}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[ -n "$build" ] || { usage >&2; exit 2; }
build=$(cd "$build" && pwd)
[ -f "$build/elements/libgstaffect.so" ] || die "$build/elements/libgstaffect.so not found"
clipper="$build/examples/make-demo-clip"
[ -x "$clipper" ] || die "$clipper not found (build the examples)"
[ "$frames" -ge 10 ] 2>/dev/null || die "--frames must be a number >= 10"

cache=${AFFECT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-affect}
photos="$cache/face-api-1.7.15/demo"
[ -f "$photos/sample5.jpg" ] && [ -f "$photos/sample6.jpg" ] ||
  die "demo photos missing in $photos (run affect-fetch-models)"

export GST_PLUGIN_PATH="$build/elements${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
for e in facecrop affectfeatures affectfuse affectsink rawvideoparse jpegdec \
  jpegenc videocrop imagefreeze compositor x264enc decodebin; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || die "GStreamer element '$e' not found"
done

if [ -n "$keep" ]; then
  work=$keep
  mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/affect-bench-pipeline.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi

# --- pictures ---------------------------------------------------------
crop() { # photo left top width height out-w out-h out.jpg
  local W H
  read -r W H < <(jpeg_size "$1")
  gst-launch-1.0 -q filesrc location="$1" ! jpegdec ! videoconvert ! \
    videocrop left="$2" top="$3" right=$((W - $2 - $4)) bottom=$((H - $3 - $5)) ! \
    videoscale ! "video/x-raw,width=$6,height=$7" ! videoconvert ! \
    jpegenc quality=95 ! filesink location="$8"
}
# width and height of a JPEG, read from the decoder's caps
jpeg_size() {
  gst-launch-1.0 -v filesrc location="$1" ! jpegdec ! fakesink 2>/dev/null |
    grep -m1 -o 'width=(int)[0-9]*, height=(int)[0-9]*' |
    sed 's/width=(int)\([0-9]*\), height=(int)\([0-9]*\)/\1 \2/'
}

if [ ! -s "$work/one.jpg" ] || [ ! -s "$work/four.jpg" ]; then
  echo "making the pictures in $work"
  crop "$photos/sample6.jpg" 35 372 640 480 640 480 "$work/one.jpg"
  crop "$photos/sample6.jpg" 35 372 640 480 320 240 "$work/tileA.jpg"
  crop "$photos/sample5.jpg" 143 769 640 480 320 240 "$work/tileB.jpg"
  tile() { echo "filesrc location=$work/$1 ! jpegdec ! videoconvert ! imagefreeze num-buffers=1 ! c.sink_$2"; }
  # shellcheck disable=SC2046
  gst-launch-1.0 -q compositor name=c background=black \
    sink_1::xpos=320 sink_2::ypos=240 sink_3::xpos=320 sink_3::ypos=240 ! \
    video/x-raw,width=640,height=480 ! videoconvert ! jpegenc quality=95 ! \
    filesink location="$work/four.jpg" \
    $(tile tileA.jpg 0) $(tile tileB.jpg 1) $(tile tileB.jpg 2) $(tile tileA.jpg 3)
fi

# --- clips ------------------------------------------------------------
seconds=$(awk -v n="$frames" 'BEGIN { printf "%.4f", n / 30 }')
for c in one four; do
  if [ ! -s "$work/$c.i420" ]; then
    echo "making the $c-face clip ($frames frames)"
    "$clipper" -q --output "$work/$c.mp4" --seconds "$seconds" --size 640x480 \
      --fps 30 --zoom 1.05 "$work/$c.jpg"
    gst-launch-1.0 -q filesrc location="$work/$c.mp4" ! decodebin ! \
      videoconvert ! video/x-raw,format=I420,width=640,height=480 ! \
      filesink location="$work/$c.i420"
  fi
  n=$(($(stat -c %s "$work/$c.i420") / 460800))
  [ "$n" -ge "$frames" ] || die "$work/$c.i420 has $n frames, expected $frames"
done

src() {
  echo "filesrc location=$work/$1.i420 ! rawvideoparse format=i420 width=640 height=480 framerate=30/1"
}

# mean faces per frame over the first 30 frames of a clip
faces_per_frame() {
  # shellcheck disable=SC2046
  gst-launch-1.0 -q $(src "$1") ! identity eos-after=30 ! facecrop ! \
    affectsink location="$work/$1.jsonl" >/dev/null
  awk '{ n += gsub(/"id":/, ""); f++ } END { printf "%.2f", n / f }' "$work/$1.jsonl"
}

# prints "S C": S = seconds from PLAYING to EOS, C = CPU seconds (user +
# system) of the whole gst-launch process, model loading included
timed_run() { # clip threads [facecrop props] [affectfeatures props]
  local cpu
  # shellcheck disable=SC2046,SC2086
  cpu=$({
    TIMEFORMAT='CPU %U %S'
    time gst-launch-1.0 $(src "$1") ! facecrop n-threads="$2" ${3:-} ! \
      affectfeatures n-threads="$2" ${4:-} ! affectfuse ! fakesink sync=false \
      >"$work/run.log" 2>&1
  } 2>&1 | awk '/^CPU/ { printf "%.3f", $2 + $3 }')
  sed -n 's/^Execution ended after \([0-9]*\):\([0-9]*\):\([0-9.]*\)$/\1 \2 \3/p' \
    "$work/run.log" | awk -v c="$cpu" '{ printf "%.3f %s", $1 * 3600 + $2 * 60 + $3, c }'
}

declare -A faces
for c in one four; do
  faces[$c]=$(faces_per_frame "$c")
done

echo
echo "Visual pipeline, 640x480 I420, $frames frames per run, $(nproc) CPU(s), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| clip | faces/frame | settings | n-threads | seconds | frames/s | CPU ms/frame | real time (30 fps) |\n'
printf '|---|---|---|---|---|---|---|---|\n'
IFS=, read -r -a tlist <<<"$threads"
fast_fc="detect-interval=5"
fast_af="branches=expression"
for c in one four; do
  # the defaults with every n-threads value, then the fast settings with the
  # last one: detection every 5th frame (tracking by landmarks in between)
  # and only the expression branch, all that the expression baseline of
  # affectfuse reads
  for run in "${tlist[@]}" fast; do
    if [ "$run" = fast ]; then
      t=${tlist[${#tlist[@]} - 1]}
      fc=$fast_fc af=$fast_af label="$fast_fc, $fast_af"
    else
      t=$run fc="" af="" label=defaults
    fi
    best=""
    for _ in $(seq "$repeat"); do
      r=$(timed_run "$c" "$t" "$fc" "$af")
      [ -n "$r" ] || die "the pipeline failed on the $c-face clip ($label, n-threads=$t; see $work/run.log)"
      if [ -z "$best" ] || awk -v a="${r% *}" -v b="${best% *}" 'BEGIN { exit !(a < b) }'; then
        best=$r
      fi
    done
    awk -v c="$c" -v f="${faces[$c]}" -v l="$label" -v t="$t" -v s="${best% *}" \
      -v cpu="${best#* }" -v n="$frames" 'BEGIN {
      fps = (n - 1) / s
      printf "| %s | %s | %s | %d | %.1f | %.1f | %.0f | %s |\n", c, f, l, t, s,
        fps, 1000 * cpu / n,
        (fps >= 30 ? "yes" : sprintf("no (%.0f %%)", 100 * fps / 30)) }'
  done
done
echo
echo "frames/s: (frames - 1) / seconds, seconds from PLAYING to EOS (gst-launch);"
echo "CPU ms/frame: CPU time of the whole run (all threads, model loading"
echo "included) / frames. Load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
