#!/usr/bin/env python3
# gst-affect — golden files for the Whisper front end (and encoder).
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run by hand, outside the repository, in a virtual environment with
# faster-whisper (see README.md):
#   python make-golden.py [--model DIR] > whisper-golden.json
# and, once, to make the espeak-ng clip (needs espeak-ng):
#   python make-golden.py --make-clip
#
# The C test (tests/models/test-asr.c) compares models/asr/affect-whisper-mel.c
# with these values without needing Python.

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SPEECH = os.path.join(HERE, "..", "speech", "austen-0930.wav")
CLIP = os.path.join(HERE, "espeak-fox.wav")
CLIP_TEXT = "The quick brown fox jumps over the lazy dog."
FRAME_STEP = 7  # log-mel columns kept in the JSON: every 7th frame


def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1
        assert w.getsampwidth() == 2
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    # as faster_whisper.audio.decode_audio: int16 / 32768 in float32
    return pcm.astype(np.float32) / 32768.0


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def make_clip():
    # espeak-ng speaks at 22050 Hz; PyAV (faster-whisper's decoder) resamples
    # to 16 kHz mono int16.
    import av

    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "fox.wav")
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", src,
                        CLIP_TEXT], check=True)
        from faster_whisper.audio import decode_audio

        x = decode_audio(src, sampling_rate=16000)
    pcm = np.clip(np.round(x * 32768.0), -32768, 32767).astype("<i2")
    with wave.open(CLIP, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm.tobytes())
    print("wrote", CLIP, len(pcm), "samples", file=sys.stderr)


def rounded(a, digits=6):
    return [round(float(v), digits) for v in np.asarray(a).ravel()]


def synthetic(n):
    i = np.arange(n, dtype=np.float64)
    x = 0.5 * np.sin(2 * np.pi * 440.0 * i / 16000.0) \
        + 0.1 * np.sin(2 * np.pi * 3100.0 * i / 16000.0)
    return x.astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.expanduser(
        "~/.cache/gst-affect/models/whisper-tiny.en"))
    ap.add_argument("--make-clip", action="store_true")
    args = ap.parse_args()
    if args.make_clip:
        make_clip()
        return

    import ctranslate2
    import faster_whisper
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.feature_extractor import FeatureExtractor

    fe = FeatureExtractor(feature_size=80)
    out = {
        "reference": "faster-whisper %s FeatureExtractor (numpy %s), "
                     "ctranslate2 %s encoder, compute_type float32"
                     % (faster_whisper.__version__, np.__version__,
                        ctranslate2.__version__),
        "frame_step": FRAME_STEP,
        # rows 0, 1, 10, 40, 79 of the filter bank (all 201 bins)
        "filter_rows": [0, 1, 10, 40, 79],
        "filters": [rounded(fe.mel_filters[r], 9)
                    for r in (0, 1, 10, 40, 79)],
        "recordings": [],
        "synthetic": [],
    }
    model = ctranslate2.models.Whisper(args.model, device="cpu",
                                       compute_type="float32")
    for name, path in (("austen-0930", SPEECH), ("espeak-fox", CLIP)):
        x = read_wav(path)
        mel = fe(x)  # padding=160, as transcribe() calls it
        rec = {
            "name": name,
            "file": os.path.relpath(path, HERE),
            "sha256": sha256(path),
            "n_samples": int(len(x)),
            "n_frames": int(mel.shape[1]),
            "max": round(float(mel.max()), 6),
            "min": round(float(mel.min()), 6),
            "mean": round(float(mel.astype(np.float64).mean()), 6),
            # columns 0, FRAME_STEP, 2 FRAME_STEP, ...: [n_cols][80]
            "logmel": [rounded(mel[:, t])
                       for t in range(0, mel.shape[1], FRAME_STEP)],
        }
        # the encoder on the first 30-s window, as transcribe() cuts it:
        # content frames (the last, padding frame dropped), zero-padded
        content = mel.shape[1] - 1
        window = pad_or_trim(mel[:, :content])
        enc = model.encode(ctranslate2.StorageView.from_array(
            np.ascontiguousarray(window[None].astype(np.float32))),
            to_cpu=True)
        enc = np.array(enc)[0]  # [1500, d_model]
        rows = [0, 1, 50, 100, 164, 500, 1499]
        rec["encoder"] = {
            "shape": list(enc.shape),
            "rows": rows,
            "values": [rounded(enc[r], 5) for r in rows],
            "mean": round(float(enc.astype(np.float64).mean()), 6),
            "std": round(float(enc.astype(np.float64).std()), 6),
        }
        out["recordings"].append(rec)
    # short synthetic inputs: reflection padding longer than the input
    for n, padding in ((170, 0), (50, 160), (1000, 160)):
        x = synthetic(n)
        mel = fe(x, padding=padding)
        out["synthetic"].append({
            "n_samples": n, "padding": padding,
            "n_frames": int(mel.shape[1]),
            "logmel": [rounded(mel[:, t]) for t in range(mel.shape[1])],
        })
    json.dump(out, sys.stdout, indent=None, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
