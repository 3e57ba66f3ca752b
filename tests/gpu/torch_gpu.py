#!/usr/bin/env python3
# gst-affect — tests/gpu/
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""PyTorch throughput on the GPU for the networks gpu-check times (the
PyTorch column of the GPU check bundle, bundle-steps.sh):

* the face networks (tests/bench/torch_face_nets.py, the same weights
  files) at batch 1, 8, 32, 128, and the chain (tiny detector, landmarks,
  expression, recognition: face-frames/s);
* BERT (all-MiniLM-L6-v2 layout, the weights file in --bert): 32 sentences
  of 32 tokens;
* the fusion network (models/fusion/fusion_model.py, random weights, the
  trained models' sizes): 64 clips of 32 frames.

float32 without TF32 (as the C engine's default). Each rate: the median of
calls repeated for about --seconds after two untimed ones, every call ended
by torch.cuda.synchronize(). Prints

    RATE <what> torch <batch> <items/s> <median ms>

Not a test: it asserts nothing about time. Without CUDA it prints one
"RATE - torch - - no CUDA device" line.
"""

import argparse
import json
import math
import os
import statistics
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def read_safetensors(path):
    """A minimal reader (the GPU machine may lack the safetensors
    package): {name: numpy array} for F32 and I64 tensors."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, v in header.items():
        if name == "__metadata__":
            continue
        a, b = v["data_offsets"]
        dt = {"F32": np.float32, "I64": np.int64}[v["dtype"]]
        out[name] = np.frombuffer(data[a:b], dtype=dt).reshape(v["shape"]).copy()
    return out


def timed(fn, seconds):
    fn()
    fn()
    torch.cuda.synchronize()
    ms = []
    start = time.perf_counter()
    while len(ms) < 3 or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        ms.append((time.perf_counter() - t0) * 1e3)
        if len(ms) >= 1000:
            break
    return statistics.median(ms)


def rate(what, batch, ms):
    print(f"RATE\t{what}\ttorch\t{batch}\t{batch * 1000.0 / ms:.1f}\t{ms:.3f}",
          flush=True)


def bert_forward(w, ids, mask, heads=12, layers=6, eps=1e-12):
    pos = torch.arange(ids.shape[1], device=ids.device)
    x = w["embeddings.word_embeddings.weight"][ids]
    x = x + w["embeddings.position_embeddings.weight"][pos][None]
    x = x + w["embeddings.token_type_embeddings.weight"][0]
    x = F.layer_norm(x, x.shape[-1:], w["embeddings.LayerNorm.weight"],
                     w["embeddings.LayerNorm.bias"], eps)
    B, S, H = x.shape
    d = H // heads
    bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(x.dtype).min
    for i in range(layers):
        p = f"encoder.layer.{i}."

        def lin(t, name):
            return F.linear(t, w[p + name + ".weight"], w[p + name + ".bias"])

        q = lin(x, "attention.self.query").view(B, S, heads, d).transpose(1, 2)
        k = lin(x, "attention.self.key").view(B, S, heads, d).transpose(1, 2)
        v = lin(x, "attention.self.value").view(B, S, heads, d).transpose(1, 2)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + bias, -1) @ v
        a = a.transpose(1, 2).reshape(B, S, H)
        x = F.layer_norm(lin(a, "attention.output.dense") + x, (H,),
                         w[p + "attention.output.LayerNorm.weight"],
                         w[p + "attention.output.LayerNorm.bias"], eps)
        h = F.gelu(lin(x, "intermediate.dense"))
        x = F.layer_norm(lin(h, "output.dense") + x, (H,),
                         w[p + "output.LayerNorm.weight"],
                         w[p + "output.LayerNorm.bias"], eps)
    return x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", required=True)
    ap.add_argument("--bert")
    ap.add_argument("--batches", default="1,8,32,128")
    ap.add_argument("--seconds", type=float, default=1.0)
    args = ap.parse_args()

    if not torch.cuda.is_available():
        print("RATE\t-\ttorch\t-\t-\tno CUDA device")
        return 0
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    dev = torch.device("cuda")
    print(f"# torch {torch.__version__}, {torch.cuda.get_device_name(0)}",
          file=sys.stderr)

    import torch_face_nets as tfn
    tfn.load_weights = lambda name, path=None, allow_tfjs=True: \
        read_safetensors(path)
    sizes = {"tiny": 416, "landmarks": 112, "expression": 112,
             "recognition": 150}
    nets = {}
    for name in sizes:
        nets[name] = tfn.build(name, os.path.join(
            args.models, tfn.NET_FILES[name] + ".safetensors")).to(dev)
    with torch.inference_mode():
        for batch in [int(b) for b in args.batches.split(",")]:
            inputs = {n: torch.rand(batch, 3, s, s, device=dev) - 0.5
                      for n, s in sizes.items()}
            for n in sizes:
                rate(n, batch, timed(lambda: nets[n](inputs[n]), args.seconds))

            def chain():
                for n in sizes:
                    nets[n](inputs[n])
            rate("chain", batch, timed(chain, args.seconds))

        if args.bert and os.path.exists(os.path.join(args.bert,
                                                     "model.safetensors")):
            w = {k: torch.from_numpy(v).to(dev) for k, v in read_safetensors(
                os.path.join(args.bert, "model.safetensors")).items()}
            ids = torch.randint(1000, 20000, (32, 32), device=dev)
            mask = torch.ones(32, 32, dtype=torch.int64, device=dev)
            rate("bert", 32, timed(lambda: bert_forward(w, ids, mask),
                                   args.seconds))

        from fusion_model import FusionNet, randomize_
        fm = FusionNet(d_img=256, d_exp=256, d_spe=16, d_wrd=384, hidden=256,
                       heads=8, mlp_hidden=256, clip_len=32,
                       tasks=("au", "expr", "va"))
        randomize_(fm, seed=0)
        fm = fm.eval().to(dev)
        n, t = 64, 32
        x = [torch.randn(n, 256, device=dev), torch.randn(n, t, 256, device=dev),
             torch.randn(n, t, 16, device=dev), torch.randn(n, t, 384, device=dev),
             torch.ones(n, 3, device=dev)]
        rate("fusion", n, timed(lambda: fm.predict(*x), args.seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
