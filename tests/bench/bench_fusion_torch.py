#!/usr/bin/env python3
# gst-affect — tests/bench/
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""PyTorch side of the fusion-network benchmark (bench-fusion.sh).

    bench_fusion_torch.py make DIR [--seed S] [--heads 8] ...
        writes DIR/model.safetensors (a FusionNet with random weights, saved
        by models/fusion/export.py) and DIR/inputs.safetensors: random
        inputs for --max-n tracks (img, exp, spe, wrd, present as F32 0/1,
        all branches present) with the PyTorch outputs au, expr, va, and a
        second presence pattern present_mixed (absent branches included)
        with its outputs au_mixed, expr_mixed, va_mixed.
    bench_fusion_torch.py time DIR --n N --threads T --iters I --warmup W
        times FusionNet.predict() on the first N tracks of the inputs,
        under torch.set_num_threads(T) and torch.inference_mode(), and
        prints one line

        RESULT torch <n> <threads> <median ms/call> <mean ms/call>
               <min ms/call> <median us per face> <median CPU ms/call>

        (CPU time: time.process_time(), all threads of the process.)

Not a test: it asserts nothing about time.
"""

import argparse
import os
import statistics
import sys
import time

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "models", "fusion"))

from export import save_model  # noqa: E402
from fusion_model import FusionNet, randomize_  # noqa: E402

INT_KEYS = ("clip_len", "hidden", "heads", "mlp_hidden", "d_img", "d_exp",
            "d_spe", "d_wrd")


def load_model(path):
    with safe_open(path, framework="pt") as f:
        md = f.metadata()
    cfg = {k: int(md[k]) for k in INT_KEYS}
    tasks = [t for t in md["tasks"].split(",") if t]
    n_expr = len(md["expr_labels"].split(",")) if "expr" in tasks else 8
    model = FusionNet(tasks=tasks, n_expr=n_expr, **cfg)
    model.load_state_dict(load_file(path))
    model.eval()
    return model, cfg


def make(args):
    os.makedirs(args.dir, exist_ok=True)
    torch.manual_seed(args.seed)
    model = FusionNet(d_img=args.d_img, d_exp=args.d_exp, d_spe=args.d_spe,
                      d_wrd=args.d_wrd, hidden=args.hidden, heads=args.heads,
                      mlp_hidden=args.mlp_hidden, clip_len=args.clip_len,
                      tasks=("au", "expr", "va"))
    randomize_(model, seed=args.seed)
    model.eval()
    mpath = os.path.join(args.dir, "model.safetensors")
    save_model(model, mpath)
    # Reload through the file, so the reference is what the C side reads.
    model, _ = load_model(mpath)

    g = torch.Generator().manual_seed(args.seed + 1)
    n, t = args.max_n, args.clip_len
    inp = {
        "img": torch.randn(n, args.d_img, generator=g),
        "exp": torch.randn(n, t, args.d_exp, generator=g),
        "spe": torch.randn(n, t, args.d_spe, generator=g),
        "wrd": torch.randn(n, t, args.d_wrd, generator=g),
        "present": torch.ones(n, 3),
    }
    # Every absence pattern, repeated: rows 0..7 cover all 8 of them.
    mixed = torch.tensor([[(i >> b) & 1 for b in range(3)] for i in range(n)],
                         dtype=torch.float32)
    inp["present_mixed"] = mixed
    with torch.inference_mode():
        ref = model.predict(inp["img"], inp["exp"], inp["spe"], inp["wrd"],
                            inp["present"])
        refm = model.predict(inp["img"], inp["exp"], inp["spe"], inp["wrd"],
                             mixed)
    for k, v in ref.items():
        inp[k] = v
    for k, v in refm.items():
        inp[k + "_mixed"] = v
    save_file({k: v.contiguous().float() for k, v in inp.items()},
              os.path.join(args.dir, "inputs.safetensors"))
    print(f"wrote {mpath} and inputs.safetensors", file=sys.stderr)


def bench(args):
    torch.set_num_threads(args.threads)
    model, cfg = load_model(os.path.join(args.dir, "model.safetensors"))
    inp = load_file(os.path.join(args.dir, "inputs.safetensors"))
    n = args.n
    if n > inp["img"].shape[0]:
        sys.exit(f"--n {n} is more than the {inp['img'].shape[0]} tracks "
                 "of the inputs")
    x = [inp[k][:n].contiguous()
         for k in ("img", "exp", "spe", "wrd", "present")]
    times = []
    cpu = []
    with torch.inference_mode():
        for _ in range(args.warmup):
            model.predict(*x)
        for _ in range(args.iters):
            t0 = time.perf_counter()
            c0 = time.process_time()
            model.predict(*x)
            cpu.append((time.process_time() - c0) * 1e3)
            times.append((time.perf_counter() - t0) * 1e3)
    med = statistics.median(times)
    print(f"RESULT\ttorch\t{n}\t{args.threads}\t{med:.4f}\t"
          f"{statistics.fmean(times):.4f}\t{min(times):.4f}\t"
          f"{med * 1e3 / n:.2f}\t{statistics.median(cpu):.4f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    mk = sub.add_parser("make")
    mk.add_argument("dir")
    mk.add_argument("--seed", type=int, default=0)
    mk.add_argument("--max-n", type=int, default=8)
    mk.add_argument("--clip-len", type=int, default=32)
    mk.add_argument("--hidden", type=int, default=256)
    mk.add_argument("--heads", type=int, default=8)
    mk.add_argument("--mlp-hidden", type=int, default=256)
    mk.add_argument("--d-img", type=int, default=256)
    mk.add_argument("--d-exp", type=int, default=256)
    mk.add_argument("--d-spe", type=int, default=16)
    mk.add_argument("--d-wrd", type=int, default=384)
    tm = sub.add_parser("time")
    tm.add_argument("dir")
    tm.add_argument("--n", type=int, default=1)
    tm.add_argument("--threads", type=int, default=1)
    tm.add_argument("--iters", type=int, default=50)
    tm.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args(argv)
    if args.cmd == "make":
        make(args)
    else:
        bench(args)


if __name__ == "__main__":
    main()
