#!/usr/bin/env python3
# gst-affect — tests/bench
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Plot and judge the CSV of soak.sh (Python standard library only).

    python3 soak_plot.py SOAK.csv -o SOAK.svg [--warmup S] [--tolerance-mb M]

Reads t_s, rss_kib, frames, fps; writes an SVG with two panels (resident
memory in MiB with the least-squares line fitted after the warm-up, and
frames/s per sampling interval) and prints a summary. Memory is called
flat when |slope| x (length of the fitted window) <= the tolerance. Exit
status 0 when flat, 3 when not, 2 on bad input.
"""

import argparse
import csv
import sys
from xml.sax.saxutils import escape


def read(path):
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            rows.append((float(r["t_s"]), float(r["rss_kib"]) / 1024.0,
                         int(r["frames"]), float(r["fps"])))
    return rows


def fit(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0, my
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return slope, my - slope * mx


def nice_max(v):
    for e in range(-3, 7):
        for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8):
            c = m * 10 ** e
            if c >= v:
                return c
    return v


def panel(out, x0, y0, w, h, tmax, ylo, yhi, label, series, colour,
          line=None, warmup=None):
    def px(t):
        return x0 + w * t / (tmax * 60)

    def py(v):
        return y0 + h - h * (v - ylo) / (yhi - ylo)

    out.append(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" '
               'fill="none" stroke="#444"/>')
    if warmup:
        out.append(f'<rect x="{x0}" y="{y0}" width="{px(warmup) - x0:.1f}" '
                   f'height="{h}" fill="#eee"/>')
        out.append(f'<text x="{x0 + 4}" y="{y0 + 14}" font-size="11" '
                   'fill="#777">warm-up</text>')
    for i in range(6):
        v = ylo + (yhi - ylo) * i / 5
        y = py(v)
        out.append(f'<line x1="{x0 - 4}" y1="{y:.1f}" x2="{x0 + w}" '
                   f'y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{x0 - 8}" y="{y + 4:.1f}" font-size="11" '
                   f'text-anchor="end">{v:.4g}</text>')
    for i in range(9):
        m = tmax * i / 8
        out.append(f'<text x="{px(m * 60):.1f}" y="{y0 + h + 16}" '
                   f'font-size="11" text-anchor="middle">{m:g}</text>')
    out.append(f'<text x="{x0 - 52}" y="{y0 + h / 2}" font-size="12" '
               f'transform="rotate(-90 {x0 - 52} {y0 + h / 2})" '
               f'text-anchor="middle">{escape(label)}</text>')
    pts = " ".join(f"{px(t):.1f},{py(v):.1f}" for t, v in series)
    out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
               'stroke-width="1.5"/>')
    if line:
        (t1, v1), (t2, v2) = line
        out.append(f'<line x1="{px(t1):.1f}" y1="{py(v1):.1f}" '
                   f'x2="{px(t2):.1f}" y2="{py(v2):.1f}" stroke="#d62728" '
                   'stroke-dasharray="6 4" stroke-width="1.5"/>')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv")
    ap.add_argument("-o", "--output", required=True, help="SVG file")
    ap.add_argument("--warmup", type=float, default=300.0)
    ap.add_argument("--tolerance-mb", type=float, default=4.0)
    ap.add_argument("--title", default="gst-affect soak")
    args = ap.parse_args()

    rows = read(args.csv)
    after = [r for r in rows if r[0] >= args.warmup]
    if len(after) < 3:
        print(f"{args.csv}: fewer than 3 samples after the warm-up",
              file=sys.stderr)
        return 2
    ts = [r[0] for r in after]
    rss = [r[1] for r in after]
    slope, icpt = fit(ts, rss)
    window = ts[-1] - ts[0]
    drift = slope * window
    flat = abs(drift) <= args.tolerance_mb
    fps_after = (after[-1][2] - after[0][2]) / window if window else 0.0

    tmax = nice_max(rows[-1][0] / 60.0)  # minutes
    rmax = max(r[1] for r in rows)
    rmin = min(r[1] for r in rows)
    pad = max(1.0, (rmax - rmin) * 0.1)
    fmax = nice_max(max(r[3] for r in rows) * 1.1 or 1.0)
    W, H = 900, 560
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" '
           f'height="{H}" font-family="sans-serif">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="22" font-size="14" text-anchor="middle">'
           f'{escape(args.title)}</text>']
    panel(out, 80, 40, 780, 200, tmax, rmin - pad, rmax + pad,
          "RSS (MiB)", [(r[0], r[1]) for r in rows], "#1f77b4",
          line=((ts[0], slope * ts[0] + icpt),
                (ts[-1], slope * ts[-1] + icpt)),
          warmup=args.warmup)
    panel(out, 80, 300, 780, 200, tmax, 0, fmax, "frames/s",
          [(r[0], r[3]) for r in rows], "#2ca02c", warmup=args.warmup)
    out.append(f'<text x="{80 + 390}" y="{300 + 200 + 36}" font-size="12" '
               'text-anchor="middle">minutes</text>')
    verdict = (f"after the warm-up: slope {slope * 3600:+.2f} MiB/h, "
               f"drift {drift:+.2f} MiB over {window / 60:.1f} min "
               f"({'flat' if flat else 'NOT flat'}, tolerance "
               f"{args.tolerance_mb:g} MiB); {fps_after:.2f} frames/s")
    out.append(f'<text x="{W / 2}" y="{40 + 200 + 36}" font-size="12" '
               f'text-anchor="middle">{escape(verdict)}</text>')
    out.append("</svg>")
    with open(args.output, "w") as f:
        f.write("\n".join(out) + "\n")

    print(f"samples: {len(rows)} over {rows[-1][0]:.0f} s; frames: "
          f"{rows[-1][2]}")
    print(f"RSS: {rows[0][1]:.1f} MiB at {rows[0][0]:.0f} s, "
          f"{after[0][1]:.1f} MiB after the warm-up ({args.warmup:.0f} s), "
          f"{rows[-1][1]:.1f} MiB at the end; after the warm-up min "
          f"{min(rss):.1f}, max {max(rss):.1f} MiB")
    print(f"RSS slope after the warm-up: {slope * 3600:+.3f} MiB/h, "
          f"drift {drift:+.2f} MiB over {window:.0f} s -> memory "
          f"{'FLAT' if flat else 'NOT FLAT'} (tolerance "
          f"{args.tolerance_mb:g} MiB)")
    print(f"frames/s after the warm-up: {fps_after:.2f} (mean), per "
          f"interval {min(r[3] for r in after):.2f} .. "
          f"{max(r[3] for r in after):.2f}")
    print(f"plot: {args.output}")
    return 0 if flat else 3


if __name__ == "__main__":
    sys.exit(main())
