/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/*
 * Face tracker of facecrop (internal, GStreamer-free).
 *
 * A track is a face seen on consecutive frames: its id, its last box (in
 * the framing of the detector) and its 68 landmarks. On a detection frame
 * the detections are matched to the tracks greedily: all (track,
 * detection) pairs with IoU >= AFFECT_TRACK_MIN_IOU are sorted by the cost
 *
 *   cost = (1 - IoU) + 0.5 · min (1, d / sqrt (w · h))
 *
 * where d is the mean distance between the 68 landmarks of the track and
 * of the detection and w × h the size of the track's box (so d is
 * normalised by the face size), and taken in increasing order, each track
 * and detection at most once. Unmatched detections start new tracks with
 * new ids (a counter that only affect_tracker_reset_ids() rewinds).
 *
 * Between detection frames a track is followed: the landmark net is run
 * on its box and the new box is the bounding box of the new landmarks,
 * carried back to the detector's framing with the box/landmark-box
 * relation recorded at the last detection.
 *
 * A track not seen on a frame counts a miss; it ends when it has missed
 * more than max_missed consecutive frames.
 */

#ifndef __AFFECT_TRACK_H__
#define __AFFECT_TRACK_H__

#include <glib.h>

#include "affect-face.h"

G_BEGIN_DECLS

#define AFFECT_TRACK_MIN_IOU 0.1
#define AFFECT_TRACK_LANDMARK_WEIGHT 0.5

typedef struct {
  guint id;
  AffectBox box;          /* last box, detector framing */
  float landmarks[68][2]; /* last landmarks (image pixels) */
  float score;            /* last detection score */
  float rel[4];           /* box relative to the landmarks' bbox */
  int missed;             /* consecutive frames not seen */
  gboolean seen;          /* seen on the current frame */
  int det_index;          /* detection matched on this frame, or -1 */
} AffectTrack;

/* One detection with its landmarks. */
typedef struct {
  AffectBox box;
  float score;
  float landmarks[68][2];
} AffectTrackDetection;

typedef struct {
  GArray *tracks; /* AffectTrack */
  guint next_id;
} AffectTracker;

AffectTracker *affect_tracker_new (void);
void affect_tracker_free (AffectTracker *tracker);
/* Ends all tracks; ids keep counting. */
void affect_tracker_clear (AffectTracker *tracker);
/* Ends all tracks and restarts ids at 1. */
void affect_tracker_reset_ids (AffectTracker *tracker);

guint affect_tracker_get_n_tracks (AffectTracker *tracker);
AffectTrack *affect_tracker_get_track (AffectTracker *tracker, guint index);

/* Starts a frame: every track is marked not seen. */
void affect_tracker_begin_frame (AffectTracker *tracker);

/* Matches @n detections (best first) to the tracks as described above.
 * New tracks are only started while fewer than @max_faces tracks are seen
 * on this frame. */
void affect_tracker_match (AffectTracker *tracker,
    const AffectTrackDetection *dets, int n, int max_faces);

/* Updates a followed track with the landmarks found in its box. */
void affect_tracker_follow (AffectTrack *track, const float (*landmarks)[2]);

/* Ends the frame: misses are counted, tracks missed more than
 * @max_missed consecutive frames are removed. */
void affect_tracker_end_frame (AffectTracker *tracker, int max_missed);

/* The bounding box of 68 landmarks. */
AffectBox affect_landmarks_bbox (const float (*landmarks)[2]);

/* Cost of matching @track with @det (G_MAXDOUBLE when gated out). */
double affect_tracker_cost (
    const AffectTrack *track, const AffectTrackDetection *det);

G_END_DECLS

#endif /* __AFFECT_TRACK_H__ */
