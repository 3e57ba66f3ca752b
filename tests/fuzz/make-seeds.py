#!/usr/bin/env python3
# gst-affect — tests/fuzz
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Writes the hand-made seed inputs of the tfjs, fusion, annotations and
# tokenizer fuzz targets into corpus/<target>/ (the input formats are
# described at the top of each fuzz-<target>.c). Regression inputs from
# fuzzing runs (crash-*) are added by hand and are not touched.
# Usage: python3 tests/fuzz/make-seeds.py   (standard library only)

import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- tfjs: manifest, NUL, bytes of the shard "s" ("t" holds 0..7) --------

def tfjs(name, manifest, shard=b""):
    text = manifest if isinstance(manifest, str) else json.dumps(manifest)
    write("tfjs", name, text.encode("utf-8") + b"\0" + shard)


f32 = struct.pack("<4f", 1.0, -2.0, 0.5, 3.25)
tfjs("float32", [{"paths": ["s"], "weights": [
    {"name": "w", "shape": [2, 2], "dtype": "float32"}]}], f32)
tfjs("quantized-two-paths", [{"paths": ["s", "t"], "weights": [
    {"name": "q", "shape": [4], "dtype": "float32",
     "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0}},
    {"name": "i", "shape": [2], "dtype": "int32"}]}], bytes([0, 1, 2, 255]))
tfjs("uint16-int32", [{"paths": ["s"], "weights": [
    {"name": "k", "shape": [3], "dtype": "int32",
     "quantization": {"dtype": "uint16", "scale": 2.5, "min": -7}}]}],
     struct.pack("<3H", 0, 1, 65535))
tfjs("two-groups", [
    {"paths": ["s"], "weights": [{"name": "a", "shape": [1], "dtype": "float32"}]},
    {"paths": ["t"], "weights": [{"name": "b", "shape": [2, 1], "dtype": "int32"},
                                 {"name": "a", "shape": [0], "dtype": "float32"}]}],
     struct.pack("<f", 7.0))
tfjs("bad-size", [{"paths": ["s"], "weights": [
    {"name": "w", "shape": [3], "dtype": "float32"}]}], f32)
tfjs("bad-path", [{"paths": ["../s"], "weights": []}])
tfjs("bad-folder", [{"paths": ["d"], "weights": []}])
tfjs("bad-dtype", [{"paths": ["s"], "weights": [
    {"name": "w", "shape": [2], "dtype": "float16"}]}], f32)
tfjs("bad-quantization", [{"paths": ["s"], "weights": [
    {"name": "w", "shape": [4], "dtype": "float32",
     "quantization": {"dtype": "uint8", "min": 0}}]}], f32)
tfjs("bad-int32-range", [{"paths": ["s"], "weights": [
    {"name": "w", "shape": [1], "dtype": "int32",
     "quantization": {"dtype": "uint8", "scale": 1e12, "min": 0}}]}], b"\xff")
tfjs("bad-shape", [{"paths": ["s"], "weights": [
    {"name": "w", "shape": [4294967296, 4294967296, 16], "dtype": "float32"}]}])
tfjs("bad-json", '[{"paths": ["s"], "weights": [')
tfjs("empty-list", "[]")


# ---- fusion: 'S' + safetensors bytes, or a script on the default model ----

def script(name, *lines):
    write("fusion", name, "M" + "".join(l + "\n" for l in lines))


script("default")
script("clip-at-limit", "clip_len=1024")
script("clip-huge", "clip_len=1048576")
script("hidden-heads", "hidden=6", "heads=3")
script("va-only", "tasks=va")
script("expr-two", "tasks=expr", "expr_labels=x,y")
script("no-features", "-features")
script("drop-tensor", "!missing_wrd")
script("extra-tensor", "+head_x.0.weight")
script("grow-tensor", "*gru_exp.weight_ih_l0")
script("f16-tensor", "~norm1_spe.bias")
script("window", "clip_len=1024", "d_wrd=4096")
script("blank-value", "heads= 2")
script("labels-dup", "expr_labels=a,a,b")


def safetensors(tensors, meta):
    """tensors: list of (name, shape, float list)."""
    header, data = {}, b""
    for name, shape, values in tensors:
        raw = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    header["__metadata__"] = meta
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return struct.pack("<Q", len(h)) + h + data


def tiny_model():
    """hidden 2, heads 1, mlp_hidden 1, all inputs of size 1, task va."""
    H, D, Hm = 2, 1, 1
    t = []

    def add(name, *shape):
        n = 1
        for s in shape:
            n *= s
        t.append((name, list(shape), [0.1 * ((i * 7) % 5 - 2) for i in range(n)]))

    for m in ("exp", "spe", "wrd"):
        add("gru_%s.weight_ih_l0" % m, 3 * H, D)
        add("gru_%s.weight_hh_l0" % m, 3 * H, H)
        add("gru_%s.bias_ih_l0" % m, 3 * H)
        add("gru_%s.bias_hh_l0" % m, 3 * H)
        add("query_%s.weight" % m, H, D)
        add("query_%s.bias" % m, H)
        add("attn_%s.in_proj_weight" % m, 3 * H, H)
        add("attn_%s.in_proj_bias" % m, 3 * H)
        add("attn_%s.out_proj.weight" % m, H, H)
        add("attn_%s.out_proj.bias" % m, H)
        add("norm1_%s.weight" % m, H)
        add("norm1_%s.bias" % m, H)
        add("ffn_%s.0.weight" % m, 4 * H, H)
        add("ffn_%s.0.bias" % m, 4 * H)
        add("ffn_%s.2.weight" % m, H, 4 * H)
        add("ffn_%s.2.bias" % m, H)
        add("norm2_%s.weight" % m, H)
        add("norm2_%s.bias" % m, H)
        add("missing_%s" % m, H)
    add("head_va.0.weight", Hm, D + 3 * H)
    add("head_va.0.bias", Hm)
    add("head_va.2.weight", 2, Hm)
    add("head_va.2.bias", 2)
    meta = {"format": "gst-affect-fusion", "version": "1", "clip_len": "2",
            "hidden": "2", "heads": "1", "mlp_hidden": "1", "d_img": "1",
            "d_exp": "1", "d_spe": "1", "d_wrd": "1", "tasks": "va",
            "au_labels": "", "expr_labels": "", "features": "tiny"}
    return t, meta


t, meta = tiny_model()
write("fusion", "raw-tiny", b"S" + safetensors(t, meta))
meta2 = dict(meta, clip_len="2000000")
write("fusion", "raw-tiny-clip-huge", b"S" + safetensors(t, meta2))
write("fusion", "raw-not-safetensors", b"S" + b"\x10\0\0\0\0\0\0\0{}")


# ---- annotations: a byte (0..5: AU/EXPR/VA label/prediction, 6: map) -----

def ann(name, mode, text):
    write("annotations", name, bytes([mode]) + text.encode("utf-8"))


ann("au-label", 0, "AU1,AU2,AU4,AU6\n1,0,-1,0\n0,0,0,1\n")
ann("au-pred", 1, "AU1,AU2\n0.5,-1\n0.25,1\n\n\n")
ann("expr-label", 2, "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other\n0\n7\n-1\n")
ann("expr-pred-bom-crlf", 3, "\ufeffNeutral,Anger,Other\r\n2\r\n-1\r\n")
ann("va-label", 4, "valence,arousal\n0.5,-0.25\n-5,-5\n1,-1\n")
ann("va-pred", 5, "valence,arousal\n 0.125 , -0.75 \n-5,0.5\n")
ann("bad-blank-inside", 0, "AU1\n1\n\n0\n")
ann("bad-count", 4, "valence,arousal\n0.5\n")
ann("bad-header", 2, "0,1,2\n0\n")
ann("bad-value", 1, "AU1\n1.5\n")
ann("map", 6, "# annotation  video/track\nvid1 vid1/track-0\nvid2.txt\tfolder/sub/track-12\n\n")
ann("map-dup", 6, "a x/track-1\na.txt y/track-2\n")
ann("map-bad", 6, "a x/track-\n")


# ---- tokenizer: a byte (bit 0: cased; the rest: max_length - 2, 127 = 512)

def tok(name, first, text):
    write("tokenizer", name, bytes([first]) + (text if isinstance(text, bytes)
                                              else text.encode("utf-8")))


tok("mixed", 0xFE, "Hello, world! Don't [SEP] café 日本語 naïve straße ﬁ — ¿qué?")
tok("mixed-cased", 0xFF, "Hello, world! Don't [SEP] café 日本語 naïve STRASSE ΣΊΣΥΦΟΣ")
tok("pieces", 0xFE, "unaffable unaffableing hellos the a an")
tok("truncate", 0x02, "the a an and is it the a an and is it")
tok("long-word", 0xFE, "a" * 150 + " b")
tok("invalid-utf8", 0xFE, b"\xff\xfe abc \xc3\x28 d\x00e \xed\xa0\x80 f")
tok("webvtt-cue", 0xFE, "<v Roger>Hi</v> <i>there</i> &amp; <b>you</b>")
tok("srt-cue", 0xFF, "1\n00:00:01,000 --> 00:00:02,000\nHello\r\n- Yes!\n")
tok("controls", 0xFE, "a\u0001b\u200bc\u00add\ue000e\tf\u3000g")
tok("specials", 0xFE, "[CLS][SEP][UNK][PAD][MASK] [cls] [SEP")
