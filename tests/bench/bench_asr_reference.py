#!/usr/bin/env python3
# gst-affect — tests/bench
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The reference side of tests/bench/bench-asr.sh: faster-whisper on one
file, as affect-transcribe decodes it (float32, beam 1, temperature 0, no
VAD, condition_on_previous_text False, word timestamps unless --no-words),
with the given number of CPU threads. Prints one JSON object: the time to
load the model, the wall-clock and CPU time (time.process_time: every
thread of the process) of transcribe() with the segments consumed, and the
text, so that the script can check both sides said the same."""

import argparse
import json
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("audio")
    ap.add_argument("--model", default=os.path.expanduser(
        "~/.cache/gst-affect/models/whisper-tiny.en"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-words", action="store_true")
    args = ap.parse_args()

    t0 = time.perf_counter()
    c0 = time.process_time()
    from faster_whisper import WhisperModel
    from faster_whisper.audio import decode_audio

    model = WhisperModel(args.model, device="cpu", compute_type="float32",
                         cpu_threads=args.threads, num_workers=1)
    audio = decode_audio(args.audio, sampling_rate=16000)
    t1 = time.perf_counter()
    c1 = time.process_time()
    segments, _ = model.transcribe(
        audio, beam_size=1, temperature=0.0, vad_filter=False,
        condition_on_previous_text=False,
        word_timestamps=not args.no_words)
    segments = list(segments)
    t2 = time.perf_counter()
    c2 = time.process_time()
    json.dump({
        "load_wall": t1 - t0, "load_cpu": c1 - c0,
        "transcribe_wall": t2 - t1, "transcribe_cpu": c2 - c1,
        "text": "".join(s.text for s in segments),
        "words": sum(len(s.words or []) for s in segments),
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
