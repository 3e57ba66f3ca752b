#!/usr/bin/env python3
# gst-affect — models/fusion
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Readers of the Aff-Wild2 (ABAW challenge) annotation files.

Each annotation set (AU, EXPR, VA) has one text file per video and person:
`<video>.txt`, or `<video>_left.txt` / `<video>_right.txt` for the videos
that show two people. A file is a header line, then one line per frame of
the video (line i + 2 of the file is frame i):

    AU    AU1,AU2,AU4,AU6,AU7,AU10,AU12,AU15,AU23,AU24,AU25,AU26
          12 values 0/1, -1 = no label
    EXPR  Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other
          one class index 0-7, -1 = no label
    VA    valence,arousal
          two values in [-1, 1], -5 = no label

Every reader validates the file and raises AnnotationError with
"file:line: problem" on the first bad line. Pure Python + numpy.

    python affwild2.py FILE...      # prints a summary of each file
"""

import math
import os
import sys

import numpy as np

AU_NAMES = ("AU1", "AU2", "AU4", "AU6", "AU7", "AU10", "AU12", "AU15",
            "AU23", "AU24", "AU25", "AU26")
EXPR_NAMES = ("Neutral", "Anger", "Disgust", "Fear", "Happiness", "Sadness",
              "Surprise", "Other")
VA_NAMES = ("valence", "arousal")

NO_AU = -1
NO_EXPR = -1
NO_VA = -5.0

TASKS = ("au", "expr", "va")
SIDES = ("left", "right")


class AnnotationError(ValueError):
    """A malformed annotation file; the message is "file:line: problem"."""


def _fail(path, line, msg):
    raise AnnotationError(f"{path}:{line}: {msg}" if line
                          else f"{path}: {msg}")


def _lines(path):
    """Yields (line number, text without the line end) and checks the file
    is UTF-8 text. Blank lines at the end of the file are dropped; a blank
    line followed by more data is an error."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise AnnotationError(f"{path}: cannot read: {e.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        _fail(path, line, "not UTF-8 text")
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    for i, s in enumerate(lines):
        yield i + 1, s


def _check_header(path, first, names):
    if first is None:
        _fail(path, 0, "empty file (expected the header "
              f"'{','.join(names)}')")
    n, s = first
    got = tuple(x.strip().lower() for x in s.split(","))
    if got != tuple(x.lower() for x in names):
        _fail(path, n, f"bad header '{s.strip()}', expected "
              f"'{','.join(names)}'")


def _fields(path, n, s, count):
    if not s.strip():
        _fail(path, n, "empty line")
    parts = [p.strip() for p in s.split(",")]
    if len(parts) != count:
        _fail(path, n, f"{len(parts)} values, expected {count}")
    return parts


def _int(path, n, tok):
    try:
        return int(tok)
    except ValueError:
        pass
    try:  # "1.0" (some tools write floats)
        v = float(tok)
    except ValueError:
        _fail(path, n, f"'{tok}' is not a number")
    if not math.isfinite(v) or v != int(v):
        _fail(path, n, f"'{tok}' is not an integer")
    return int(v)


def read_au(path):
    """AU file -> int32 array [frames, 12] (0, 1 or -1 = no label)."""
    it = _lines(path)
    _check_header(path, next(it, None), AU_NAMES)
    rows = []
    for n, s in it:
        row = [_int(path, n, t) for t in _fields(path, n, s, len(AU_NAMES))]
        for name, v in zip(AU_NAMES, row):
            if v not in (0, 1, NO_AU):
                _fail(path, n, f"{name} = {v}, expected 0, 1 or -1")
        rows.append(row)
    return np.array(rows, dtype=np.int32).reshape(-1, len(AU_NAMES))


def read_expr(path):
    """EXPR file -> int32 array [frames] (class 0-7, -1 = no label)."""
    it = _lines(path)
    _check_header(path, next(it, None), EXPR_NAMES)
    out = []
    for n, s in it:
        (tok,) = _fields(path, n, s, 1)
        v = _int(path, n, tok)
        if not (v == NO_EXPR or 0 <= v < len(EXPR_NAMES)):
            _fail(path, n, f"class {v}, expected 0-{len(EXPR_NAMES) - 1} "
                  "or -1")
        out.append(v)
    return np.array(out, dtype=np.int32)


def read_va(path):
    """VA file -> float32 array [frames, 2] (valence, arousal in [-1, 1];
    -5 = no label)."""
    it = _lines(path)
    _check_header(path, next(it, None), VA_NAMES)
    rows = []
    for n, s in it:
        row = []
        for name, tok in zip(VA_NAMES, _fields(path, n, s, 2)):
            try:
                v = float(tok)
            except ValueError:
                _fail(path, n, f"{name} '{tok}' is not a number")
            if not (v == NO_VA or -1.0 <= v <= 1.0):
                _fail(path, n, f"{name} = {tok}, expected [-1, 1] or -5")
            row.append(v)
        rows.append(row)
    return np.array(rows, dtype=np.float32).reshape(-1, 2)


READERS = {"au": read_au, "expr": read_expr, "va": read_va}


def labelled(task, labels):
    """Boolean mask [frames] of the frames that have a label for `task`
    (AU: at least one of the 12 AUs; VA: at least one of the two)."""
    if task == "au":
        return (labels >= 0).any(axis=1)
    if task == "expr":
        return labels >= 0
    if task == "va":
        return (labels > NO_VA + 0.5).any(axis=1)
    raise ValueError(f"unknown task '{task}'")


def no_label(task, n):
    """An array of n frames without label, in the layout of `task`."""
    if task == "au":
        return np.full((n, len(AU_NAMES)), NO_AU, dtype=np.int32)
    if task == "expr":
        return np.full((n,), NO_EXPR, dtype=np.int32)
    if task == "va":
        return np.full((n, 2), NO_VA, dtype=np.float32)
    raise ValueError(f"unknown task '{task}'")


def split_name(stem):
    """'video_left' -> ('video', 'left'); 'video' -> ('video', None).
    The caller decides, by the videos it has, whether a name ending in
    _left/_right really means a person (see resolve_subject)."""
    for side in SIDES:
        if stem.endswith("_" + side) and len(stem) > len(side) + 1:
            return stem[:-(len(side) + 1)], side
    return stem, None


def resolve_subject(stem, videos):
    """Maps an annotation file name (without .txt) to (video, side) given the
    set of known video names: a video named exactly like the annotation wins
    (side None: the one person of the video); otherwise '<video>_left' /
    '<video>_right' is the left / right person of <video>. Returns None when
    no video matches."""
    if stem in videos:
        return stem, None
    video, side = split_name(stem)
    if side is not None and video in videos:
        return video, side
    return None


def list_annotations(folder):
    """{stem: path} of the *.txt files of an annotation folder (sorted,
    not recursive)."""
    if not os.path.isdir(folder):
        raise AnnotationError(f"{folder}: not a folder")
    out = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".txt") and not name.startswith("."):
            out[name[:-4]] = os.path.join(folder, name)
    return out


def load_sets(folders):
    """folders: {task: [folder, ...]} -> {stem: {task: labels}}. A subject
    found twice for one task (e.g. in two folders) is an error."""
    out = {}
    where = {}
    for task, dirs in folders.items():
        if task not in READERS:
            raise ValueError(f"unknown task '{task}'")
        for d in dirs:
            for stem, path in list_annotations(d).items():
                key = (stem, task)
                if key in where:
                    raise AnnotationError(
                        f"{path}: {task.upper()} annotation of '{stem}' "
                        f"given twice (also {where[key]})")
                where[key] = path
                out.setdefault(stem, {})[task] = READERS[task](path)
    return out


def _main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    status = 0
    for path in argv:
        try:
            with open(path, encoding="utf-8-sig", errors="replace") as f:
                head = f.readline().strip().lower()
        except OSError as e:
            print(f"{path}: cannot read: {e.strerror}", file=sys.stderr)
            status = 1
            continue
        task = {",".join(AU_NAMES).lower(): "au",
                ",".join(EXPR_NAMES).lower(): "expr",
                ",".join(VA_NAMES).lower(): "va"}.get(
                    head.replace(" ", ""))
        if task is None:
            print(f"{path}:1: not an AU, EXPR or VA header", file=sys.stderr)
            status = 1
            continue
        try:
            lab = READERS[task](path)
        except AnnotationError as e:
            print(e, file=sys.stderr)
            status = 1
            continue
        print(f"{path}: {task.upper()}, {len(lab)} frames, "
              f"{int(labelled(task, lab).sum())} labelled")
    return status


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
