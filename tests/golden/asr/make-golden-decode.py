#!/usr/bin/env python3
# gst-affect — golden files for Whisper's decoder, greedy decoding, segments
# and word timestamps (models/asr/affect-whisper-decoder.c,
# affect-whisper-transcribe.c).
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run by hand, outside the build, in the venv with faster-whisper (README.md):
#   python make-golden-decode.py [--model DIR] > whisper-decode-golden.json
#   python make-golden-decode.py --base [--model BASE_DIR] > whisper-base-golden.json
#   python make-golden-decode.py --previous-text > whisper-prevtext-golden.json
# (the second: the multilingual base model, three clips, language "en"; the
# third: the long recording with condition_on_previous_text=True)
# and, once, to make the two extra espeak-ng clips (needs espeak-ng):
#   python make-golden-decode.py --make-clips
#
# The recordings: the committed clips, a silent one (3 s of zeros) and a long
# one (over 30 s) assembled from the clips with 1 s of silence between them
# (see long_recording(); tests/models/test-asr.c assembles the same samples).

import argparse
import json
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CLIPS = [
    ("espeak-fox", "espeak-fox.wav"),
    ("austen-0930", os.path.join("..", "speech", "austen-0930.wav")),
    ("espeak-asr", "espeak-asr.wav"),
    ("espeak-stella", "espeak-stella.wav"),
]
NEW_CLIPS = {
    "espeak-asr.wav":
        "Speech recognition turns spoken words into text, one window at a time.",
    "espeak-stella.wav":
        "Please call Stella. Ask her to bring these things with her from the store.",
}
# decoder parity: a fixed prompt on espeak-fox's first window
LOGITS_PROMPT_TEXT = " The quick"
LOGITS_STEPS = 8
LOGITS_IDS = [0, 13, 220, 383, 2068, 7586, 21831, 50256, 50257, 50361, 50362,
              50363, 50400, 51863]


def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1
        assert w.getsampwidth() == 2
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768.0


def long_recording():
    # [fox, asr, austen, stella] twice, each clip followed by 1 s of zeros
    parts = []
    for _ in range(2):
        for _, rel in (CLIPS[0], CLIPS[2], CLIPS[1], CLIPS[3]):
            parts.append(read_wav(os.path.join(HERE, rel)))
            parts.append(np.zeros(16000, dtype=np.float32))
    return np.concatenate(parts)


def make_clips():
    from faster_whisper.audio import decode_audio

    for name, text in NEW_CLIPS.items():
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "clip.wav")
            subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", src,
                            text], check=True)
            x = decode_audio(src, sampling_rate=16000)
        pcm = np.clip(np.round(x * 32768.0), -32768, 32767).astype("<i2")
        with wave.open(os.path.join(HERE, name), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes(pcm.tobytes())


def r(v, d=4):
    return round(float(v), d)


def logits_golden(model_dir, fe):
    import ctranslate2
    import tokenizers
    from faster_whisper.audio import pad_or_trim

    tok = tokenizers.Tokenizer.from_file(os.path.join(model_dir,
                                                      "tokenizer.json"))
    model = ctranslate2.models.Whisper(model_dir, device="cpu",
                                       compute_type="float32", intra_threads=2)
    x = read_wav(os.path.join(HERE, CLIPS[0][1]))
    mel = fe(x)
    window = pad_or_trim(mel[:, :mel.shape[1] - 1])
    feats = ctranslate2.StorageView.from_array(
        np.ascontiguousarray(window[None].astype(np.float32)))
    sot = tok.token_to_id("<|startoftranscript|>")
    nots = tok.token_to_id("<|notimestamps|>")
    prompt = [sot, nots] + tok.encode(LOGITS_PROMPT_TEXT,
                                      add_special_tokens=False).ids
    res = model.generate(feats, [prompt], beam_size=1, max_length=len(prompt)
                         + LOGITS_STEPS, return_logits_vocab=True,
                         suppress_blank=False, suppress_tokens=[],
                         return_scores=True)[0]
    steps = []
    for lv in res.logits[0][:LOGITS_STEPS]:
        v = np.array(lv, dtype=np.float64).ravel()
        top = np.argsort(-v)[:10]
        ls = v - (v.max() + np.log(np.exp(v - v.max()).sum()))
        steps.append({
            "max": r(v.max()), "mean": r(v.mean()),
            "top": [int(i) for i in top],
            "values": [r(v[i]) for i in LOGITS_IDS],
            "log_softmax": [r(ls[i]) for i in LOGITS_IDS],
        })
    # generated: the forced prefix (" The quick") then the greedy tokens;
    # steps[s] are the logits that predict generated[s] after
    # start + generated[:s]
    return {
        "recording": CLIPS[0][0],
        "start": prompt[:2],
        "prefix": prompt[2:],
        "generated": [int(t) for t in res.sequences_ids[0]],
        "ids": LOGITS_IDS,
        "steps": steps,
    }


def transcribe(model, x, word_timestamps, previous_text=False):
    segments, info = model.transcribe(
        x, beam_size=1, best_of=1, temperature=0.0, vad_filter=False,
        condition_on_previous_text=previous_text, without_timestamps=False,
        word_timestamps=word_timestamps, language="en")
    out = []
    for s in segments:
        seg = {
            "seek": int(s.seek), "start": r(s.start, 3), "end": r(s.end, 3),
            "text": s.text, "tokens": [int(t) for t in s.tokens],
            "avg_logprob": r(s.avg_logprob), "no_speech_prob":
                r(s.no_speech_prob, 5),
        }
        if word_timestamps:
            seg["words"] = [{"word": w.word, "start": r(w.start, 3),
                             "end": r(w.end, 3),
                             "probability": r(w.probability)}
                            for w in s.words]
        out.append(seg)
    return out


def previous_text_golden(model_dir):
    import ctranslate2
    import faster_whisper
    from faster_whisper import WhisperModel

    model = WhisperModel(model_dir, device="cpu", compute_type="float32",
                         cpu_threads=2)
    x = long_recording()
    out = {
        "reference": "faster-whisper %s, ctranslate2 %s, compute_type "
                     "float32, beam_size 1, temperature 0, no VAD, "
                     "condition_on_previous_text True"
                     % (faster_whisper.__version__, ctranslate2.__version__),
        "recordings": [{
            "name": "long", "file": None, "n_samples": int(len(x)),
            "segments": transcribe(model, x, False, True),
            "segments_words": transcribe(model, x, True, True),
        }],
    }
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


def base_golden(model_dir):
    import ctranslate2
    import faster_whisper
    from faster_whisper import WhisperModel

    model = WhisperModel(model_dir, device="cpu", compute_type="float32",
                         cpu_threads=2)
    out = {
        "reference": "faster-whisper %s, ctranslate2 %s, whisper base, "
                     "compute_type float32, beam_size 1, temperature 0, no "
                     "VAD, condition_on_previous_text False, language en"
                     % (faster_whisper.__version__, ctranslate2.__version__),
        "recordings": [],
    }
    for name, rel in (CLIPS[0], CLIPS[1], CLIPS[3]):
        x = read_wav(os.path.join(HERE, rel))
        out["recordings"].append({
            "name": name, "file": rel, "n_samples": int(len(x)),
            "segments": transcribe(model, x, False),
            "segments_words": transcribe(model, x, True),
        })
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.expanduser(
        "~/.cache/gst-affect/models/whisper-tiny.en"))
    ap.add_argument("--make-clips", action="store_true")
    ap.add_argument("--base", action="store_true")
    ap.add_argument("--previous-text", action="store_true")
    args = ap.parse_args()
    if args.previous_text:
        previous_text_golden(args.model)
        return
    if args.make_clips:
        make_clips()
        return
    if args.base:
        base_golden(args.model if args.model != ap.get_default("model")
                    else os.path.expanduser(
                        "~/.cache/gst-affect/models/whisper-base"))
        return

    import ctranslate2
    import faster_whisper
    from faster_whisper import WhisperModel
    from faster_whisper.feature_extractor import FeatureExtractor
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_suppressed_tokens

    fe = FeatureExtractor(feature_size=80)
    model = WhisperModel(args.model, device="cpu", compute_type="float32",
                         cpu_threads=2)
    tk = Tokenizer(model.hf_tokenizer, model.model.is_multilingual,
                   task="transcribe", language="en")
    out = {
        "reference": "faster-whisper %s, ctranslate2 %s, compute_type "
                     "float32, beam_size 1, temperature 0, no VAD, "
                     "condition_on_previous_text False"
                     % (faster_whisper.__version__, ctranslate2.__version__),
        "suppress_tokens": list(get_suppressed_tokens(tk, [-1])),
        "logits": logits_golden(args.model, fe),
        "recordings": [],
    }
    recs = [(name, rel, read_wav(os.path.join(HERE, rel)))
            for name, rel in CLIPS]
    recs.append(("silence-3s", None, np.zeros(48000, dtype=np.float32)))
    recs.append(("long", None, long_recording()))
    for name, rel, x in recs:
        out["recordings"].append({
            "name": name, "file": rel, "n_samples": int(len(x)),
            "segments": transcribe(model, x, False),
            "segments_words": transcribe(model, x, True),
        })
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
