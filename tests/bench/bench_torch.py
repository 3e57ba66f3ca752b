#!/usr/bin/env python3
# gst-affect — tests/bench/
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""PyTorch side of the face-network benchmark (see README.md).

For every network, batch size and thread count: torch.set_num_threads,
torch.inference_mode, a random normalised input in [-0.5, 0.5) of the
network's shape, --warmup untimed forward passes, then --iters timed ones.
Prints one tab-separated line per configuration, in the same format as
bench-face-nets (tests/bench/bench-face-nets.c):

  RESULT torch[-cl] <net> <batch> <threads> <median ms> <mean ms>
         <images/s from the median> <GFLOP/s from the median> <min ms>

"torch" is the default NCHW contiguous layout, "torch-cl" the
channels_last memory format (oneDNN's preferred layout); both are measured
unless --layouts says otherwise, and the report compares the C core with the
faster of the two.

`--table FILE...` instead reads such RESULT/SGEMM lines and prints the
comparison table (used by run-bench.sh).
"""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

DEFAULT_ITERS = {"tiny": 16, "ssd": 8, "landmarks": 60, "expression": 60,
                 "recognition": 24}
DETECTORS = ("tiny", "ssd")


def iters_for(net, batch, iters):
    """Same rule as bench-face-nets.c."""
    n = iters or DEFAULT_ITERS[net]
    if net not in DETECTORS and batch > 1:
        n = max(3, n // 4)
    return n


def bench(args):
    import torch
    import torch_face_nets as tfn

    torch.manual_seed(42)
    print("# torch %s, %s" % (torch.__version__,
                              torch.backends.cpu.get_cpu_capability()))
    sys.stdout.flush()
    for net in args.nets.split(","):
        model = tfn.build(net)
        macs = tfn.count_macs(model, (1, 3, model.input_size,
                                      model.input_size))
        for batch in [int(b) for b in args.batches.split(",")]:
            if net in DETECTORS and batch != 1:
                continue
            s = model.input_size
            x = torch.rand(batch, 3, s, s) - 0.5
            for threads in [int(t) for t in args.threads.split(",")]:
                torch.set_num_threads(threads)
                for layout in args.layouts.split(","):
                    if layout == "cl":
                        m = model.to(memory_format=torch.channels_last)
                        xi = x.contiguous(memory_format=torch.channels_last)
                        tag = "torch-cl"
                    else:
                        m = model.to(memory_format=torch.contiguous_format)
                        xi = x.contiguous()
                        tag = "torch"
                    n = iters_for(net, batch, args.iters)
                    times = []
                    with torch.inference_mode():
                        for _ in range(args.warmup):
                            m(xi)
                        for _ in range(n):
                            t0 = time.perf_counter()
                            m(xi)
                            times.append((time.perf_counter() - t0) * 1e3)
                    med = statistics.median(times)
                    print("RESULT\t%s\t%s\t%d\t%d\t%.3f\t%.3f\t%.2f\t%.2f\t%.3f"
                          % (tag, net, batch, threads, med,
                             statistics.fmean(times), batch * 1e3 / med,
                             2.0 * macs * batch / (med * 1e6), min(times)))
                    sys.stdout.flush()


def check(dump_dir):
    """Runs the PyTorch modules on the inputs that bench-face-nets --dump
    wrote and compares with the C outputs. Returns True when every output
    agrees to 1e-3 relative to the largest reference value."""
    import glob
    import numpy as np
    import torch
    import torch_face_nets as tfn

    ok = True
    found = False
    for path in sorted(glob.glob(os.path.join(dump_dir, "*.in.f32"))):
        found = True
        base = os.path.basename(path)[:-len(".in.f32")]
        net, b = base.rsplit("-b", 1)
        model = tfn.build(net)
        s = model.input_size
        x = np.fromfile(path, np.float32).reshape(int(b), s, s, 3)
        c_out = np.fromfile(os.path.join(dump_dir, base + ".out.f32"),
                            np.float32)
        with torch.inference_mode():
            y = model(tfn.to_nchw(x))
        if net == "ssd":
            ref = np.concatenate([y[0].numpy().ravel(), y[1].numpy().ravel()])
        elif net == "tiny":
            ref = y.permute(0, 2, 3, 1).numpy().ravel()
        else:
            ref = y.numpy().ravel()
        if ref.size != c_out.size:
            print("%s: C wrote %d floats, PyTorch gives %d" %
                  (base, c_out.size, ref.size))
            ok = False
            continue
        d = float(np.abs(ref - c_out).max())
        rel = d / max(float(np.abs(ref).max()), 1e-30)
        good = rel <= 1e-3 and np.isfinite(c_out).all()
        ok &= bool(good)
        print("%-16s max |C - torch| %.3g (%.3g of max |torch|) %s" %
              (base, d, rel, "ok" if good else "DIFFERENT"))
    if not found:
        print("no *.in.f32 in %s (run bench-face-nets --dump %s)" %
              (dump_dir, dump_dir))
        ok = False
    return ok


def table(files):
    """Comparison table from RESULT / SGEMM lines. For each configuration
    and side: the median time per iteration, and the fastest iteration
    ("min", much less sensitive to other processes on a busy machine).
    PyTorch: the faster of its two memory formats, separately for each
    statistic. C / torch = C throughput / PyTorch throughput (> 1: C is
    faster). GFLOP/s and the share of sgemm are computed from the min times
    (the sgemm figure likewise from its fastest iteration)."""
    res = {}
    sgemm = {}
    notes = []
    for f in files:
        for line in open(f):
            p = line.rstrip("\n").split("\t")
            if p[0] == "RESULT":
                key = (p[2], int(p[3]), int(p[4]))
                med = float(p[5])
                mn = float(p[9]) if len(p) > 9 else med
                old = res.setdefault(key, {}).get(p[1])
                # repeated runs (run-bench.sh --repeat): keep the lowest
                if old:
                    med, mn = min(old[0], med), min(old[1], mn)
                res[key][p[1]] = (med, mn)
            elif p[0] == "SGEMM":
                g = float(p[5]) if len(p) > 5 else float(p[4])
                sgemm[int(p[1])] = max(g, sgemm.get(int(p[1]), 0))
            elif line.startswith("#") and line.strip() not in notes:
                notes.append(line.strip())
    for n in notes:
        print(n)
    for t, g in sorted(sgemm.items()):
        print("OpenBLAS sgemm 1024^3, %d thread(s): %.1f GFLOP/s "
              "(fastest of 10)" % (t, g))
    print()
    macs = {"tiny": 198760528, "ssd": 3143007488, "landmarks": 51571840,
            "expression": 51538816, "recognition": 270854144}
    hdr = ("| net | batch | threads | C ms median / min | "
           "torch ms median / min (layout) | C / torch (median) | "
           "C / torch (min) | C GFLOP/s (min) | C / sgemm |")
    print(hdr)
    print("|" + "---|" * (hdr.count("|") - 1))
    order = ["tiny", "ssd", "landmarks", "expression", "recognition"]
    for key in sorted(res, key=lambda k: (order.index(k[0])
                                          if k[0] in order else 9,
                                          k[1], k[2])):
        net, batch, threads = key
        r = res[key]
        c = r.get("c")
        tv = [(v, "NCHW" if t == "torch" else "ch-last")
              for t, v in r.items() if t.startswith("torch")]
        tmed = min(tv, key=lambda x: x[0][0]) if tv else None
        tmin = min(tv, key=lambda x: x[0][1]) if tv else None
        cs = "%.2f / %.2f" % c if c else "–"
        ts = ("%.2f (%s) / %.2f (%s)" % (tmed[0][0], tmed[1], tmin[0][1],
                                         tmin[1]) if tv else "–")
        rmed = "%.2f×" % (tmed[0][0] / c[0]) if c and tv else "–"
        rmin = "%.2f×" % (tmin[0][1] / c[1]) if c and tv else "–"
        gf = (2.0 * macs[net] * batch / (c[1] * 1e6)
              if c and net in macs else None)
        gfs = "%.1f" % gf if gf else "–"
        eff = ("%.0f %%" % (100 * gf / sgemm[threads])
               if gf and threads in sgemm else "–")
        print("| %s | %d | %d | %s | %s | %s | %s | %s | %s |" %
              (net, batch, threads, cs, ts, rmed, rmin, gfs, eff))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nets",
                    default="tiny,ssd,landmarks,expression,recognition")
    ap.add_argument("--batches", default="1,8",
                    help="batch sizes of the face nets (detectors: 1 only)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--iters", type=int, default=0,
                    help="timed iterations (default: per network)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--layouts", default="nchw,cl",
                    help="nchw and/or cl (channels_last)")
    ap.add_argument("--check", metavar="DIR",
                    help="compare with the outputs bench-face-nets --dump "
                    "wrote to DIR")
    ap.add_argument("--table", nargs="+", metavar="FILE",
                    help="print the comparison of RESULT lines in FILEs")
    a = ap.parse_args()
    if a.check:
        return 0 if check(a.check) else 1
    if a.table:
        table(a.table)
    else:
        bench(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
