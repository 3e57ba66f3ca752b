#!/usr/bin/env python3
# gst-affect — golden speech features from torchaudio.
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run by hand, outside the repository, in a virtual environment with torch,
# torchaudio and numpy (see README.md):
#   python make-golden.py [austen-0930.wav] > austen-0930.json
# The C test (tests/models/test-speech.c) compares models/speech/affect-speech.c,
# affect-mfcc.c and affect-pitch.c with this JSON without needing torch.
#
# The reference is computed in float64 (the waveform dtype sets the dtype of
# torchaudio.compliance.kaldi), on the 16-bit integer sample scale that
# Kaldi uses.

import hashlib
import json
import os
import sys
import wave

import numpy as np
import torch
import torchaudio
import torchaudio.compliance.kaldi as kaldi
import torchaudio.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def rounded(a, digits=6):
    return [round(float(v), digits) for v in np.asarray(a).ravel()]


def rows(a, digits=6):
    return [rounded(r, digits) for r in np.asarray(a)]


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "austen-0930.wav")
    with open(path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    with wave.open(path) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    x = torch.from_numpy(pcm.astype(np.float64)).unsqueeze(0)

    cases = []

    # 1. torchaudio defaults (dither switched off).
    default = dict(dither=0.0)
    mfcc = kaldi.mfcc(x, **default).numpy()
    energy = kaldi.fbank(x, use_energy=True, **default).numpy()[:, 0]
    fbank = kaldi.fbank(x, **default).numpy()
    fbank_frames = list(range(0, fbank.shape[0], 4))
    cases.append(
        {
            "name": "default",
            "options": {},
            "mfcc": rows(mfcc),
            "log_energy": rounded(energy),
            "fbank_frames": fbank_frames,
            "fbank": rows(fbank[fbank_frames]),
        }
    )

    # 2. Other options: every one that changes the arithmetic.
    alt = dict(
        dither=0.0,
        num_ceps=20,
        num_mel_bins=40,
        low_freq=64.0,
        high_freq=-400.0,
        preemphasis_coefficient=0.5,
        window_type="hamming",
        cepstral_lifter=0.0,
        use_energy=True,
        raw_energy=False,
        energy_floor=0.0,
        remove_dc_offset=False,
    )
    mfcc_alt = kaldi.mfcc(x, **alt).numpy()
    fb_opts = {k: v for k, v in alt.items() if k not in ("num_ceps", "cepstral_lifter")}
    energy_alt = kaldi.fbank(x, **fb_opts).numpy()[:, 0]
    cases.append(
        {
            "name": "alt",
            "options": {k: v for k, v in alt.items() if k != "dither"},
            "mfcc": rows(mfcc_alt),
            "log_energy": rounded(energy_alt),
        }
    )

    # 3. HTK-compatible ordering, blackman window, no power-of-two padding.
    htk = dict(
        dither=0.0,
        htk_compat=True,
        window_type="blackman",
        round_to_power_of_two=False,
        frame_length=20.0,
    )
    mfcc_htk = kaldi.mfcc(x, **htk).numpy()
    cases.append(
        {
            "name": "htk",
            "options": {k: v for k, v in htk.items() if k != "dither"},
            "mfcc": rows(mfcc_htk[::3]),
            "frame_step": 3,
        }
    )

    f0 = F.detect_pitch_frequency(x, rate).numpy()[0]

    out = {
        "generator": "tests/golden/speech/make-golden.py",
        "torch": torch.__version__,
        "torchaudio": torchaudio.__version__,
        "audio": {
            "file": os.path.basename(path),
            "sha256": sha,
            "sample_rate": rate,
            "n_samples": int(pcm.shape[0]),
            "scale": "16-bit integer values (Kaldi scale)",
        },
        "cases": cases,
        "pitch": {
            "function": "torchaudio.functional.detect_pitch_frequency",
            "options": {"frame_time": 0.01, "win_length": 30, "freq_low": 85, "freq_high": 3400},
            "f0_hz": rounded(f0, 4),
        },
    }
    json.dump(out, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
