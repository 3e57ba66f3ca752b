#!/usr/bin/env bash
# gst-affect — tests/bench/
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Whisper tiny.en speed: affect-transcribe against faster-whisper /
# CTranslate2 (float32, the same threads, the same file) in interleaved
# rounds, and optionally against the affect-transcribe of another build
# (--baseline). Not a test: nothing here asserts anything about time. It
# stops when the two sides' texts differ.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(cd "$here/../.." && pwd)"
build=""
baseline=""
python="${AFFECT_BENCH_PYTHON:-$HOME/.cache/gst-affect/venv-asr/bin/python}"
model="$HOME/.cache/gst-affect/models/whisper-tiny.en"
threads="2,1"
rounds=5
file=""
words=1
out=""

usage() {
  cat <<EOF2
Usage: $(basename "$0") -b BUILDDIR [options]

Times, on one audio file (default: a 30.1-s clip made from the committed
recordings tests/golden/asr/espeak-{asr,fox,stella}.wav, each followed by
0.5 s of silence, twice: one full 30-s window and a sliver), ROUNDS rounds
per thread count, each running both sides back to back (ours first in odd
rounds, the reference first in even ones; the baseline between them):

  ours       BUILDDIR/models/tools/affect-transcribe -t N --profile FILE
  reference  tests/bench/bench_asr_reference.py (faster-whisper,
             compute_type float32, cpu_threads N, beam 1, temperature 0,
             no VAD, condition_on_previous_text False, word timestamps)

and prints, per side, the medians over the rounds of:
  - the whole process (/usr/bin/time: wall, and CPU = user + sys of every
    thread): loading the model and the Python imports included;
  - transcription only, model loaded (ours: --profile's "transcribe
    (all)" line, which includes the log-mel; the reference:
    perf_counter and process_time around transcribe() with the segments
    consumed, which includes its feature extraction);
and the ratios reference / ours on those medians (> 1: ours is faster).
The load average is printed before and after: on a shared machine wall
times say little, CPU times a bit more (a spinning worker thread counts as
CPU time).

Options:
  -b, --build DIR     meson build dir holding models/tools/affect-transcribe
  --baseline DIR      another build dir whose affect-transcribe is timed too
  -p, --python PY     Python with faster-whisper (default:
                      \$AFFECT_BENCH_PYTHON or ~/.cache/gst-affect/venv-asr)
  -m, --model DIR     CTranslate2 tiny.en folder (default $model)
  -f, --file WAV      the audio file (16-kHz mono is what both read best)
  --threads LIST      default $threads
  --rounds N          default $rounds
  --no-words          no word timestamps on either side
  -o, --out DIR       keep the raw results there
  -h, --help
EOF2
}

while [ $# -gt 0 ]; do
  case "$1" in
    -b|--build) build="$2"; shift 2 ;;
    --baseline) baseline="$2"; shift 2 ;;
    -p|--python) python="$2"; shift 2 ;;
    -m|--model) model="$2"; shift 2 ;;
    -f|--file) file="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --no-words) words=0; shift ;;
    -o|--out) out="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "$build" ] || { usage >&2; exit 2; }
tool="$build/models/tools/affect-transcribe"
[ -x "$tool" ] || { echo "no $tool (ninja -C $build)" >&2; exit 2; }
if [ -n "$baseline" ]; then
  base_tool="$baseline/models/tools/affect-transcribe"
  [ -x "$base_tool" ] || { echo "no $base_tool" >&2; exit 2; }
fi
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian: time)" >&2; exit 2; }
"$python" -c "import faster_whisper" 2>/dev/null \
  || { echo "$python has no faster_whisper (pip install faster-whisper)" >&2; exit 2; }
[ -f "$model/model.bin" ] || { echo "no $model/model.bin (affect-fetch-asr-model tiny.en)" >&2; exit 2; }

if [ -z "$out" ]; then
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"
if [ -z "$file" ]; then
  file="$out/speech30.wav"
  python3 - "$src/tests/golden/asr" "$file" <<'EOF2'
import sys, wave
src, dst = sys.argv[1], sys.argv[2]
o = wave.open(dst, "wb")
o.setnchannels(1); o.setsampwidth(2); o.setframerate(16000)
for _ in range(2):
    for name in ("espeak-asr", "espeak-fox", "espeak-stella"):
        w = wave.open(f"{src}/{name}.wav")
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16000)
        o.writeframes(w.readframes(w.getnframes()))
        o.writeframes(b"\0\0" * 8000)
o.close()
EOF2
fi
nowords=""
[ "$words" = 1 ] || nowords="--no-words"

echo "file: $file ($(python3 -c "import wave,sys; w=wave.open(sys.argv[1]); print('%.2f s' % (w.getnframes()/w.getframerate()))" "$file"))"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
gemm="$("$build/models/tools/affect-info" 2>/dev/null | grep -m1 'sgemm' | sed 's/.*sgemm: *//' || true)"
echo "gemm: ${gemm:-?}"
echo "reference: $("$python" -c 'import faster_whisper, ctranslate2; print("faster-whisper", faster_whisper.__version__, "ctranslate2", ctranslate2.__version__)')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# run SIDE THREADS ROUND: appends "side threads round wall cpu twall tcpu"
# to $out/results
run_ours() { # tool side threads round
  local t="$1" side="$2" n="$3" r="$4" tag="$out/$2-$3-$4" profile=""
  # a build from before --profile: whole-process times only
  if "$t" --help 2>&1 | grep -q -- --profile; then profile=--profile; fi
  /usr/bin/time -f "%e %U %S" -o "$tag.time" \
    "$t" -t "$n" -q $profile $nowords -f json -o "$tag.json" "$file" \
    2> "$tag.err"
  python3 - "$tag" "$side" "$n" "$r" >> "$out/results" <<'EOF2'
import json, sys
tag, side, n, r = sys.argv[1:]
e, u, s = map(float, open(tag + ".time").read().split()[-3:])
line = [l for l in open(tag + ".err") if "transcribe (all)" in l]
tw, tc = line[0].split()[-3:-1] if line else ("nan", "nan")
d = json.load(open(tag + ".json"))
open(tag + ".txt", "w").write("".join(x["text"] for x in d["segments"]))
print(side, n, r, e, u + s, tw, tc)
EOF2
}
run_ref() { # threads round
  local n="$1" r="$2" tag="$out/reference-$1-$2"
  /usr/bin/time -f "%e %U %S" -o "$tag.time" \
    "$python" "$here/bench_asr_reference.py" --model "$model" --threads "$n" \
    $nowords "$file" > "$tag.json" 2> "$tag.err"
  python3 - "$tag" "$n" "$r" >> "$out/results" <<'EOF2'
import json, sys
tag, n, r = sys.argv[1:]
e, u, s = map(float, open(tag + ".time").read().split()[-3:])
d = json.load(open(tag + ".json"))
open(tag + ".txt", "w").write(d["text"])
print("reference", n, r, e, u + s, d["transcribe_wall"], d["transcribe_cpu"])
EOF2
}

: > "$out/results"
for n in ${threads//,/ }; do
  # one untimed run of each side first (page cache, JIT)
  run_ours "$tool" warmup "$n" 0
  run_ref "$n" 0
  for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) = 1 ]; then
      run_ours "$tool" ours "$n" "$r"
      [ -z "$baseline" ] || run_ours "$base_tool" baseline "$n" "$r"
      run_ref "$n" "$r"
    else
      run_ref "$n" "$r"
      [ -z "$baseline" ] || run_ours "$base_tool" baseline "$n" "$r"
      run_ours "$tool" ours "$n" "$r"
    fi
    if ! cmp -s "$out/ours-$n-$r.txt" "$out/reference-$n-$r.txt" \
      || { [ -n "$baseline" ] \
        && ! cmp -s "$out/ours-$n-$r.txt" "$out/baseline-$n-$r.txt"; }; then
      echo "texts differ (round $r, $n threads):" >&2
      cat "$out"/*-"$n-$r.txt" >&2
      exit 1
    fi
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$out/results" <<'EOF2'
import statistics, sys
# round 0: the untimed warm-up runs
rows = [l.split() for l in open(sys.argv[1]) if l.split()[2] != "0"]
med = {}
for side in ("ours", "baseline", "reference"):
    for n in sorted({r[1] for r in rows}, key=int):
        sel = [list(map(float, r[3:])) for r in rows if r[0] == side and r[1] == n]
        if sel:
            med[side, n] = [statistics.median(c) for c in zip(*sel)] + [len(sel)]
print()
print("medians (seconds); whole process = load + read + transcribe;")
print("transcribe = model already loaded")
def f(x, w):  # a build without --profile has no transcription times
    return "%*s" % (w, "-") if x != x else "%*.2f" % (w, x)
print("%-10s %7s %6s | %9s %9s | %11s %11s" % ("side", "threads", "rounds",
      "wall", "CPU", "trans. wall", "trans. CPU"))
for (side, n), m in med.items():
    print("%-10s %7s %6d | %s %s | %s %s" % (side, n, m[4], f(m[0], 9),
          f(m[1], 9), f(m[2], 11), f(m[3], 11)))
print()
print("ratio reference / ours (> 1: ours is faster)")
for (side, n), m in med.items():
    if side != "ours" or ("reference", n) not in med:
        continue
    ref = med["reference", n]
    print("  %s threads: whole process wall %.2f, CPU %.2f; transcribe wall "
          "%.2f, CPU %.2f" % (n, ref[0] / m[0], ref[1] / m[1], ref[2] / m[2],
                              ref[3] / m[3]))
    if ("baseline", n) in med:
        b = med["baseline", n]
        print("  %s threads: baseline / ours: whole process wall %.2f, CPU "
              "%.2f" % (n, b[0] / m[0], b[1] / m[1]))
EOF2
