#!/usr/bin/env python3
# gst-affect — tests/python
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""libgstaffect-1.0 through GObject-introspection, as a Python app uses it.

    GI_TYPELIB_PATH=BUILD/gst/affect LD_LIBRARY_PATH=BUILD/gst/affect \\
        python3 tests/python/test_gi.py [-v]

Plain PyGObject (python3-gi), no gst-python overrides: buffers with faces,
features and predictions are built through the API and read back, the ROI
metas are listed and their "affect" params parsed, a pad probe adds faces
the way that works from Python, and, when the face models are installed,
the real elements run in a small pipeline whose faces a probe reads.

Every callable of the GstAffect namespace is wrapped to record its calls;
after the tests, a callable of the typelib that no test called fails the
run, so new API cannot go untested from Python. The *_free functions are
left out: PyGObject calls them when a wrapper dies.
"""

import math
import os
import sys
import unittest

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstVideo", "1.0")
gi.require_version("GIRepository", "2.0")
gi.require_version("GstAffect", "1.0")
from gi.repository import GIRepository, Gst, GstAffect, GstVideo  # noqa: E402

Gst.init(None)

# ---------------------------------------------------------------------------
# Call recording: every function and method of the namespace
# ---------------------------------------------------------------------------

CALLED = set()
ALL_SYMBOLS = {}  # C symbol -> Python name


def _wrap(owner, name, symbol, static):
    orig = getattr(owner, name)

    def wrapper(*args, **kwargs):
        CALLED.add(symbol)
        return orig(*args, **kwargs)

    wrapper.__name__ = name
    setattr(owner, name, staticmethod(wrapper) if static else wrapper)


def _instrument():
    repo = GIRepository.Repository.get_default()
    for i in range(repo.get_n_infos("GstAffect")):
        info = repo.get_info("GstAffect", i)
        kind = info.get_type()
        if kind == GIRepository.InfoType.FUNCTION:
            sym = GIRepository.function_info_get_symbol(info)
            ALL_SYMBOLS[sym] = "GstAffect." + info.get_name()
            _wrap(GstAffect, info.get_name(), sym, False)
        elif kind in (GIRepository.InfoType.STRUCT,
                      GIRepository.InfoType.BOXED):
            cls = getattr(GstAffect, info.get_name())
            for j in range(GIRepository.struct_info_get_n_methods(info)):
                m = GIRepository.struct_info_get_method(info, j)
                sym = GIRepository.function_info_get_symbol(m)
                flags = GIRepository.function_info_get_flags(m)
                is_method = bool(flags & GIRepository.FunctionInfoFlags.IS_METHOD)
                if m.get_name() == "free":
                    continue
                ALL_SYMBOLS[sym] = "GstAffect.%s.%s" % (info.get_name(),
                                                        m.get_name())
                _wrap(cls, m.get_name(), sym, not is_method)


_instrument()

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

EXPR = ["Neutral", "Happiness", "Sadness"]
EXPR_P = [0.2, 0.7, 0.1]


def landmarks(offset):
    """68 interleaved points."""
    pts = []
    for i in range(68):
        pts += [offset + 2.0 * i, offset + 4.0 * i + 1.0]
    return pts


def f32(v):
    """What a float becomes as a gfloat."""
    import struct
    return struct.unpack("f", struct.pack("f", v))[0]


def cache_dir():
    c = os.environ.get("AFFECT_CACHE_DIR")
    if c:
        return c
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gst-affect")


def models_or_skip(test, models):
    """Skips @test when a face model or the demo photo is missing, unless
    AFFECT_REQUIRE_MODELS=1 (then it fails)."""
    mdir = os.environ.get("AFFECT_MODEL_DIR") or os.path.join(
        cache_dir(), "models")
    photo = os.path.join(cache_dir(), "test-inputs", "sample2.png")
    missing = [os.path.join(mdir, m + ".safetensors") for m in models]
    missing = [p for p in missing + [photo] if not os.path.exists(p)]
    if missing:
        msg = "missing %s (affect-fetch-models, tests/golden/face-api/" \
              "prepare.sh)" % ", ".join(missing)
        if os.environ.get("AFFECT_REQUIRE_MODELS") == "1":
            test.fail(msg + " and AFFECT_REQUIRE_MODELS=1")
        test.skipTest(msg)
    return photo


def run_pipeline(test, pipeline):
    """Plays @pipeline to EOS; an error fails @test."""
    bus = pipeline.get_bus()
    test.assertNotEqual(pipeline.set_state(Gst.State.PLAYING),
                        Gst.StateChangeReturn.FAILURE)
    msg = bus.timed_pop_filtered(120 * Gst.SECOND,
                                 Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    test.assertIsNotNone(msg, "no EOS after 120 s")
    if msg.type == Gst.MessageType.ERROR:
        err, dbg = msg.parse_error()
        test.fail("%s (%s)" % (err.message, dbg))


def full_buffer():
    """Track 4: box, landmarks, crop, features, expression, AUs, VA.
    Track 9: box only. Track 12: VA predictions without a face."""
    buf = Gst.Buffer.new()
    face = GstAffect.buffer_add_affect_face_meta(buf, 4, 10.5, 20, 64, 72, 0.9)
    face.set_landmarks(landmarks(5.0), 68)
    GstAffect.buffer_add_affect_face_meta(buf, 9, 200, 30, 50, 50, 0.5)

    p = GstAffect.Predictions.new()
    au_labels = GstAffect.abaw_au_labels()
    assert p.set_expression(EXPR, EXPR_P)
    assert p.set_au(au_labels, [0.05 * i for i in range(12)])
    p.set_va(0.25, -0.5)
    p.modalities = GstAffect.Modalities.IMAGE | GstAffect.Modalities.EXPRESSION
    GstAffect.buffer_add_affect_predictions_meta(buf, 4, p)

    q = GstAffect.Predictions.new()
    q.set_va(-0.75, 0.125)
    GstAffect.buffer_add_affect_predictions_meta(buf, 12, q)
    return buf


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------


class Types(unittest.TestCase):
    def test_constants_enums_flags(self):
        self.assertEqual(GstAffect.N_LANDMARKS, 68)
        self.assertEqual(GstAffect.MAX_AU, 32)
        self.assertEqual(GstAffect.MAX_EXPR, 16)
        self.assertEqual(GstAffect.ROI_TYPE, "face")
        self.assertEqual(GstAffect.ROI_PARAM_NAME, "affect")
        self.assertEqual(GstAffect.ROI_FACE_PARAM_NAME, "affect-face")
        self.assertEqual(int(GstAffect.Branch.BRANCH_WORDS), 3)
        self.assertEqual(int(GstAffect.Tasks.VA), 4)
        self.assertEqual(int(GstAffect.Modalities.SPEECH), 4)
        names = [GstAffect.branch_get_name(b) for b in (
            GstAffect.Branch.BRANCH_IMAGE, GstAffect.Branch.BRANCH_EXPRESSION,
            GstAffect.Branch.BRANCH_SPEECH, GstAffect.Branch.BRANCH_WORDS)]
        self.assertEqual(names, ["img", "exp", "spe", "wrd"])

    def test_label_tables(self):
        au = GstAffect.abaw_au_labels()
        self.assertEqual(len(au), 12)
        self.assertEqual(au[6], "AU12")
        ex = GstAffect.abaw_expression_labels()
        self.assertEqual(ex, ["Neutral", "Anger", "Disgust", "Fear",
                              "Happiness", "Sadness", "Surprise", "Other"])

    def test_meta_infos(self):
        for info, api in (
                (GstAffect.face_meta_get_info(),
                 GstAffect.face_meta_api_get_type()),
                (GstAffect.FaceMeta.get_info(),
                 GstAffect.face_meta_api_get_type()),
                (GstAffect.features_meta_get_info(),
                 GstAffect.features_meta_api_get_type()),
                (GstAffect.FeaturesMeta.get_info(),
                 GstAffect.features_meta_api_get_type()),
                (GstAffect.predictions_meta_get_info(),
                 GstAffect.predictions_meta_api_get_type()),
                (GstAffect.PredictionsMeta.get_info(),
                 GstAffect.predictions_meta_api_get_type())):
            self.assertEqual(info.api, api)
        self.assertEqual(GstAffect.face_meta_api_get_type().name,
                         "GstAffectFaceMetaAPI")


class FaceMeta(unittest.TestCase):
    def test_add_read_update(self):
        buf = Gst.Buffer.new()
        m = GstAffect.buffer_add_affect_face_meta(buf, 3, 1.5, 2.5, 30, 40,
                                                  0.75)
        self.assertEqual((m.track_id, m.x, m.y, m.width, m.height, m.score),
                         (3, 1.5, 2.5, 30.0, 40.0, 0.75))
        self.assertFalse(m.has_landmarks)
        self.assertIsNone(m.crop)
        self.assertEqual(m.crop_size, 0)
        self.assertEqual(m.roi_id, 3)
        self.assertEqual(m.meta.info.api, GstAffect.face_meta_api_get_type())

        m.set_landmarks(landmarks(1.0), 68)
        self.assertTrue(m.has_landmarks)
        self.assertEqual(len(m.landmarks), 136)
        self.assertEqual(m.landmarks[:4], [1.0, 2.0, 3.0, 6.0])
        ok, x, y = m.get_landmark(67)
        self.assertTrue(ok)
        self.assertEqual((x, y), (1.0 + 134, 1.0 + 4 * 67 + 1))
        self.assertFalse(m.get_landmark(68)[0])

        crop = Gst.Buffer.new_wrapped(bytes(3 * 8 * 8))
        m.set_crop(crop, 8)
        self.assertEqual(m.crop_size, 8)
        self.assertEqual(m.crop.get_size(), 192)
        m.set_crop(None, 0)
        self.assertIsNone(m.crop)

        # the same track again updates the meta
        GstAffect.buffer_add_affect_face_meta(buf, 3, 7, 8, 9, 10, 0.5)
        self.assertEqual(GstAffect.buffer_get_n_affect_faces(buf), 1)
        again = GstAffect.buffer_get_affect_face_meta_by_track(buf, 3)
        self.assertEqual((again.x, again.score), (7.0, 0.5))
        self.assertTrue(again.has_landmarks)
        self.assertIsNone(GstAffect.buffer_get_affect_face_meta_by_track(buf,
                                                                          4))

    def test_head_pose(self):
        buf = Gst.Buffer.new()
        m = GstAffect.buffer_add_affect_face_meta(buf, 6, 10, 20, 64, 64, 0.9)
        self.assertFalse(m.has_pose)
        self.assertEqual(m.get_pose(), (False, 0.0, 0.0, 0.0))
        # a probe's buffer is not writable from Python: the pose goes on the
        # meta alone (buffer None), or on a writable buffer with its ROI
        m.set_pose(None, 12.5, -8.0, 3.25)
        self.assertTrue(m.has_pose)
        self.assertEqual((m.yaw, m.pitch, m.roll), (12.5, -8.0, 3.25))
        self.assertEqual(m.get_pose(), (True, 12.5, -8.0, 3.25))
        roi = GstAffect.buffer_get_rois(buf, GstAffect.ROI_TYPE)[0]
        face_param = roi.get_param(GstAffect.ROI_FACE_PARAM_NAME)
        self.assertFalse(face_param.has_field("yaw"))
        m.set_pose(buf, -20.0, 5.0, -1.5)
        face_param = roi.get_param(GstAffect.ROI_FACE_PARAM_NAME)
        self.assertEqual(face_param.get_value("yaw"), -20.0)
        self.assertEqual(face_param.get_value("pitch"), 5.0)
        self.assertEqual(face_param.get_value("roll"), -1.5)
        f = GstAffect.buffer_get_face(buf, 6)
        self.assertTrue(f.has_pose)
        self.assertEqual((f.yaw, f.pitch, f.roll), (-20.0, 5.0, -1.5))
        # NaN (a failed fit) clears the pose, and so does clear_pose
        m.set_pose(buf, math.nan, 0.0, 0.0)
        self.assertFalse(m.has_pose)
        m.set_pose(buf, 1.0, 2.0, 3.0)
        m.clear_pose(buf)
        self.assertFalse(m.has_pose)
        self.assertFalse(roi.get_param(
            GstAffect.ROI_FACE_PARAM_NAME).has_field("roll"))
        self.assertFalse(GstAffect.buffer_get_face(buf, 6).has_pose)

    def test_iterate_advances(self):
        buf = Gst.Buffer.new()
        for t in (5, 2, 8):
            GstAffect.buffer_add_affect_face_meta(buf, t, t, 0, 10, 10, 1)
        seen, state = [], None
        while True:
            meta, state = GstAffect.buffer_iterate_affect_face_meta(buf, state)
            if meta is None:
                break
            seen.append(meta.track_id)
            self.assertLess(len(seen), 10, "the iteration does not advance")
        self.assertEqual(seen, [5, 2, 8])
        self.assertEqual(GstAffect.buffer_get_affect_track_ids(buf), [2, 5, 8])

    def test_for_roi(self):
        buf = Gst.Buffer.new()
        roi = GstVideo.buffer_add_video_region_of_interest_meta(
            buf, "face", 11, 12, 30, 40)
        m = GstAffect.buffer_add_affect_face_meta_for_roi(buf, roi, 21, 0.6)
        self.assertEqual((m.x, m.y, m.width, m.height), (11, 12, 30, 40))
        self.assertEqual(m.roi_id, roi.id)
        # no second ROI
        self.assertEqual(len(GstAffect.buffer_get_rois(buf, None)), 1)
        s = roi.get_param("affect-face")
        self.assertEqual(s.get_value("track-id"), 21)


class FeaturesMeta(unittest.TestCase):
    def test_features(self):
        buf = Gst.Buffer.new()
        fm = GstAffect.buffer_add_affect_features_meta(buf, 6)
        self.assertEqual(fm.track_id, 6)
        # a fixed-size array for GI: reading it used to abort the interpreter
        self.assertEqual(list(fm.sizes), [0, 0, 0, 0])
        fm.set(GstAffect.Branch.BRANCH_IMAGE, [1.0, 2.0, 3.0])
        fm.set(GstAffect.Branch.BRANCH_WORDS, [0.5])
        self.assertEqual(list(fm.sizes), [3, 0, 0, 1])
        self.assertEqual(fm.present, GstAffect.Modalities.IMAGE
                         | GstAffect.Modalities.WORDS)
        self.assertEqual(fm.get(GstAffect.Branch.BRANCH_IMAGE),
                         [1.0, 2.0, 3.0])
        self.assertEqual(fm.get(GstAffect.Branch.BRANCH_SPEECH), [])
        fm.clear(GstAffect.Branch.BRANCH_IMAGE)
        self.assertEqual(list(fm.sizes), [0, 0, 0, 1])
        self.assertEqual(fm.present, GstAffect.Modalities.WORDS)

        GstAffect.buffer_add_affect_features_meta(buf, 7)
        seen, state = [], None
        while True:
            meta, state = GstAffect.buffer_iterate_affect_features_meta(
                buf, state)
            if meta is None:
                break
            seen.append(meta.track_id)
        self.assertEqual(seen, [6, 7])
        again = GstAffect.buffer_get_affect_features_meta_by_track(buf, 6)
        self.assertEqual(again.get(GstAffect.Branch.BRANCH_WORDS), [0.5])
        self.assertEqual(GstAffect.buffer_get_affect_track_ids(buf), [6, 7])


class Predictions(unittest.TestCase):
    def test_fill_copy_read(self):
        p = GstAffect.Predictions.new()
        self.assertEqual((p.tasks, p.n_au, p.n_expr, p.expr_index),
                         (GstAffect.Tasks.NONE, 0, 0, -1))
        self.assertTrue(p.set_expression(EXPR, EXPR_P))
        self.assertTrue(p.set_au(["AU1", "AU12"], [0.25, 0.75]))
        p.set_va(0.5, -0.25)
        self.assertFalse(p.set_au(["AU%d" % i for i in range(33)],
                                  [0.0] * 33))
        self.assertEqual(p.tasks, GstAffect.Tasks.AU
                         | GstAffect.Tasks.EXPRESSION | GstAffect.Tasks.VA)
        self.assertEqual(p.n_expr, 3)
        self.assertEqual(p.expr_labels[:p.n_expr], EXPR)
        self.assertEqual(p.expr[:3], [f32(v) for v in EXPR_P])
        self.assertEqual(p.expr_index, 1)
        self.assertEqual(p.au_labels[:p.n_au], ["AU1", "AU12"])
        self.assertEqual(p.au[:2], [0.25, 0.75])
        self.assertEqual((p.valence, p.arousal), (0.5, -0.25))

        c = p.copy()
        p.init()
        self.assertEqual(p.tasks, GstAffect.Tasks.NONE)
        self.assertEqual(c.expr_index, 1)
        c.init()
        self.assertEqual((c.n_expr, c.expr_index), (0, -1))

    def test_meta_and_roi_mirror(self):
        buf = full_buffer()
        pm = GstAffect.buffer_get_affect_predictions_meta_by_track(buf, 4)
        self.assertEqual(pm.track_id, 4)
        self.assertEqual(pm.predictions.valence, 0.25)
        seen, state = [], None
        while True:
            meta, state = GstAffect.buffer_iterate_affect_predictions_meta(
                buf, state)
            if meta is None:
                break
            seen.append(meta.track_id)
        self.assertEqual(seen, [4, 12])

        # the ROIs listed without guessing ids, their params parsed without
        # gst-python's overrides
        rois = GstAffect.buffer_get_rois(buf, GstAffect.ROI_TYPE)
        self.assertEqual([r.id for r in rois], [4, 9])
        s = rois[0].get_param(GstAffect.ROI_PARAM_NAME)
        self.assertEqual(s.get_value("track-id"), 4)
        self.assertEqual(s.get_string("expression"), "Happiness")
        ok, back = GstAffect.Predictions.from_structure(s)
        self.assertTrue(ok)
        self.assertEqual(back.expr_labels[back.expr_index], "Happiness")
        self.assertEqual(back.n_au, 12)
        self.assertEqual(back.valence, 0.25)
        ok, back = GstAffect.predictions_from_structure(s)
        self.assertTrue(ok)
        self.assertIsNone(rois[1].get_param(GstAffect.ROI_PARAM_NAME))

    def test_structure_leaves_out_absent_values(self):
        p = GstAffect.Predictions.new()
        p.set_expression(EXPR, EXPR_P)
        s = p.to_structure()
        self.assertEqual(s.get_name(), "affect")
        self.assertEqual(s.get_string("expression"), "Happiness")
        for field in ("valence", "arousal", "au", "au-labels"):
            self.assertFalse(s.has_field(field), field)
        q = GstAffect.Predictions.new()
        q.set_va(0.0, 0.0)
        s = q.to_structure()
        self.assertEqual(s.get_value("valence"), 0.0)
        self.assertFalse(s.has_field("expression"))


class Faces(unittest.TestCase):
    def test_buffer_get_faces(self):
        buf = full_buffer()
        faces = GstAffect.buffer_get_faces(buf)
        self.assertEqual([f.track_id for f in faces], [4, 9, 12])
        f = faces[0]
        self.assertTrue(f.has_box)
        self.assertEqual((f.x, f.y, f.width, f.height), (10.5, 20, 64, 72))
        self.assertEqual(f.score, f32(0.9))
        self.assertEqual(f.roi_id, 4)
        self.assertTrue(f.has_landmarks)
        self.assertEqual(f.get_landmarks(), landmarks(5.0))
        ok, x, y = f.get_landmark(1)
        self.assertEqual((ok, x, y), (True, 7.0, 10.0))
        self.assertTrue(f.has_expression)
        self.assertEqual(f.expression, "Happiness")
        self.assertEqual(f.expression_prob, f32(0.7))
        self.assertEqual(f.expression_index, 1)
        self.assertEqual(f.get_expression_labels(), EXPR)
        self.assertEqual(f.get_expression_probs(), [f32(v) for v in EXPR_P])
        self.assertEqual(f.get_expression_prob("sadness"), (True, f32(0.1)))
        self.assertFalse(f.get_expression_prob("Fear")[0])
        self.assertTrue(f.has_au)
        self.assertEqual(f.get_au_labels(), GstAffect.abaw_au_labels())
        self.assertEqual(len(f.get_au_probs()), 12)
        self.assertEqual(f.get_au("AU12"), (True, f32(0.3)))
        self.assertFalse(f.get_au("AU3")[0])
        self.assertTrue(f.has_va)
        self.assertEqual((f.valence, f.arousal), (0.25, -0.5))
        self.assertEqual(f.modalities, GstAffect.Modalities.IMAGE
                         | GstAffect.Modalities.EXPRESSION)
        self.assertEqual(f.get_predictions().n_expr, 3)

        box_only = faces[1]
        self.assertTrue(box_only.has_box)
        self.assertFalse(box_only.has_landmarks or box_only.has_expression
                         or box_only.has_au or box_only.has_va)
        self.assertIsNone(box_only.expression)
        self.assertEqual(box_only.get_landmarks(), [])
        self.assertEqual(box_only.get_expression_labels(), [])
        self.assertEqual(box_only.get_au_probs(), [])

        no_box = faces[2]
        self.assertFalse(no_box.has_box)
        self.assertEqual(no_box.roi_id, -1)
        self.assertEqual((no_box.has_va, no_box.valence), (True, -0.75))

        # the faces are values: they outlive the buffer
        copy = f.copy()
        del buf, faces, f
        self.assertEqual(copy.expression, "Happiness")
        self.assertEqual(copy.get_landmarks()[:2], [5.0, 6.0])

    def test_buffer_get_face(self):
        buf = full_buffer()
        self.assertEqual(GstAffect.buffer_get_face(buf, 12).valence, -0.75)
        self.assertIsNone(GstAffect.buffer_get_face(buf, 99))
        self.assertEqual(GstAffect.buffer_get_faces(Gst.Buffer.new()), [])
        self.assertEqual(GstAffect.buffer_get_rois(buf, "nothing-like-it"),
                         [])


# The writable-buffer rule: a probe in Python never holds a writable buffer
# (PyGObject keeps a reference); it adds the metas to a copy that shares the
# memory and hands the copy on. Gst.BUFFER_COPY_ALL reads as 0 in PyGObject
# (a macro): spell the flags out.
COPY_ALL = (Gst.BufferCopyFlags.FLAGS | Gst.BufferCopyFlags.TIMESTAMPS
            | Gst.BufferCopyFlags.META | Gst.BufferCopyFlags.MEMORY)


class Pipelines(unittest.TestCase):
    def test_probe_adds_faces(self):
        pipeline = Gst.parse_launch(
            "videotestsrc num-buffers=3 ! video/x-raw,width=64,height=48 ! "
            "identity name=i ! fakesink name=s")
        added, seen = [], []

        def add(pad, info):
            buf = info.get_buffer()
            copy = buf.copy_region(COPY_ALL, 0, buf.get_size())
            m = GstAffect.buffer_add_affect_face_meta(copy, 1, 4, 5, 20, 30,
                                                      0.5)
            added.append(m is not None)
            GstAffect.pad_probe_info_set_buffer(info, copy)
            return Gst.PadProbeReturn.OK

        def read(pad, info):
            buf = info.get_buffer()
            seen.append([(f.track_id, f.width, buf.pts)
                         for f in GstAffect.buffer_get_faces(buf)])
            return Gst.PadProbeReturn.OK

        pipeline.get_by_name("i").get_static_pad("src").add_probe(
            Gst.PadProbeType.BUFFER, add)
        pipeline.get_by_name("s").get_static_pad("sink").add_probe(
            Gst.PadProbeType.BUFFER, read)
        run_pipeline(self, pipeline)
        self.assertEqual(added, [True] * 3)
        step = Gst.SECOND // 30
        self.assertEqual(seen, [[(1, 20.0, 0)], [(1, 20.0, step)],
                                [(1, 20.0, 2 * step)]])

    def test_real_elements(self):
        photo = models_or_skip(self, ["tiny_face_detector_model",
                                      "face_landmark_68_model",
                                      "face_expression_model"])
        pipeline = Gst.parse_launch(
            "filesrc location=%s ! pngdec ! imagefreeze num-buffers=2 ! "
            "video/x-raw,framerate=25/1 ! videoconvert ! facecrop n-threads=2 "
            "! affectfeatures n-threads=2 ! affectfuse ! fakesink name=s"
            % photo)
        faces, params = [], []

        def read(pad, info):
            buf = info.get_buffer()
            faces.append(GstAffect.buffer_get_faces(buf))
            params.append([r.get_param("affect")
                           for r in GstAffect.buffer_get_rois(buf, "face")])
            return Gst.PadProbeReturn.OK

        pipeline.get_by_name("s").get_static_pad("sink").add_probe(
            Gst.PadProbeType.BUFFER, read)
        run_pipeline(self, pipeline)
        self.assertEqual(len(faces), 2)
        self.assertGreaterEqual(len(faces[1]), 1, "no face on the photo")
        for f in faces[1]:
            self.assertTrue(f.has_box and f.has_landmarks)
            self.assertEqual(len(f.get_landmarks()), 136)
            self.assertTrue(f.has_expression)
            self.assertIn(f.expression, f.get_expression_labels())
            self.assertAlmostEqual(sum(f.get_expression_probs()), 1.0,
                                   places=4)
            # the expression baseline predicts no AU and no VA, and says so
            self.assertFalse(f.has_au)
            self.assertFalse(f.has_va)
            # facecrop fits the head pose to the landmarks
            self.assertTrue(f.has_pose)
            for v in (f.yaw, f.pitch, f.roll):
                self.assertTrue(math.isfinite(v) and abs(v) < 90, v)
        for s in params[1]:
            self.assertIsNotNone(s)
            self.assertFalse(s.has_field("valence"))
            self.assertTrue(s.has_field("expression"))
            for field in ("yaw", "pitch", "roll"):
                self.assertTrue(s.has_field(field), field)
            ok, p = GstAffect.Predictions.from_structure(s)
            self.assertTrue(ok)
            self.assertEqual(p.expr_labels[p.expr_index],
                             s.get_string("expression"))


def main():
    verbosity = 2 if "-v" in sys.argv else 1
    result = unittest.main(argv=[sys.argv[0]], verbosity=verbosity,
                           exit=False).result
    ok = result.wasSuccessful()
    # Coverage of the typelib: only meaningful when no test was skipped.
    if ok and not result.skipped:
        missing = sorted(ALL_SYMBOLS[s] for s in set(ALL_SYMBOLS) - CALLED)
        if missing:
            print("FAIL: callables of GstAffect that no test called: "
                  + ", ".join(missing))
            ok = False
        else:
            print("all %d callables of GstAffect called" % len(ALL_SYMBOLS))
    elif result.skipped:
        print("some tests were skipped: the coverage of the typelib is not "
              "checked")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
