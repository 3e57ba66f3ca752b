/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "affect-track.h"

#include <math.h>
#include <string.h>

#include "affect-face.h"

AffectTracker *
affect_tracker_new (void)
{
  AffectTracker *tracker = g_new0 (AffectTracker, 1);

  tracker->tracks = g_array_new (FALSE, TRUE, sizeof (AffectTrack));
  tracker->next_id = 1;
  return tracker;
}

void
affect_tracker_free (AffectTracker *tracker)
{
  if (tracker == NULL)
    return;
  g_array_unref (tracker->tracks);
  g_free (tracker);
}

void
affect_tracker_clear (AffectTracker *tracker)
{
  g_array_set_size (tracker->tracks, 0);
}

void
affect_tracker_reset_ids (AffectTracker *tracker)
{
  affect_tracker_clear (tracker);
  tracker->next_id = 1;
}

guint
affect_tracker_get_n_tracks (AffectTracker *tracker)
{
  return tracker->tracks->len;
}

AffectTrack *
affect_tracker_get_track (AffectTracker *tracker, guint index)
{
  g_return_val_if_fail (index < tracker->tracks->len, NULL);
  return &g_array_index (tracker->tracks, AffectTrack, index);
}

void
affect_tracker_begin_frame (AffectTracker *tracker)
{
  guint i;

  for (i = 0; i < tracker->tracks->len; i++) {
    AffectTrack *t = &g_array_index (tracker->tracks, AffectTrack, i);
    t->seen = FALSE;
    t->det_index = -1;
  }
}

AffectBox
affect_landmarks_bbox (const float (*landmarks)[2])
{
  float x0 = landmarks[0][0], x1 = x0, y0 = landmarks[0][1], y1 = y0;
  AffectBox box;
  int i;

  for (i = 1; i < 68; i++) {
    x0 = MIN (x0, landmarks[i][0]);
    x1 = MAX (x1, landmarks[i][0]);
    y0 = MIN (y0, landmarks[i][1]);
    y1 = MAX (y1, landmarks[i][1]);
  }
  box.x = x0;
  box.y = y0;
  box.width = x1 - x0;
  box.height = y1 - y0;
  return box;
}

/* Records where @box lies relative to the landmarks' bounding box. */
static void
set_relation (AffectTrack *t)
{
  AffectBox lb = affect_landmarks_bbox ((const float (*)[2])t->landmarks);

  if (lb.width > 1e-3f && lb.height > 1e-3f) {
    t->rel[0] = (t->box.x - lb.x) / lb.width;
    t->rel[1] = (t->box.y - lb.y) / lb.height;
    t->rel[2] = t->box.width / lb.width;
    t->rel[3] = t->box.height / lb.height;
  } else {
    t->rel[0] = t->rel[1] = 0.0f;
    t->rel[2] = t->rel[3] = 1.0f;
  }
}

double
affect_tracker_cost (const AffectTrack *track, const AffectTrackDetection *det)
{
  double iou = affect_box_iou (&track->box, &det->box);
  double d = 0.0, size;
  int i;

  if (!(iou >= AFFECT_TRACK_MIN_IOU))
    return G_MAXDOUBLE;

  for (i = 0; i < 68; i++)
    d += hypot (track->landmarks[i][0] - det->landmarks[i][0],
        track->landmarks[i][1] - det->landmarks[i][1]);
  d /= 68.0;
  size = sqrt ((double)track->box.width * track->box.height);
  d = size > 0.0 ? MIN (1.0, d / size) : 1.0;

  return (1.0 - iou) + AFFECT_TRACK_LANDMARK_WEIGHT * d;
}

typedef struct {
  double cost;
  int track, det;
} Pair;

static gint
compare_pairs (gconstpointer a, gconstpointer b)
{
  const Pair *pa = a, *pb = b;

  if (pa->cost != pb->cost)
    return pa->cost < pb->cost ? -1 : 1;
  if (pa->track != pb->track)
    return pa->track - pb->track;
  return pa->det - pb->det;
}

static void
update_from_detection (AffectTrack *t, const AffectTrackDetection *det, int k)
{
  t->box = det->box;
  t->score = det->score;
  memcpy (t->landmarks, det->landmarks, sizeof (t->landmarks));
  set_relation (t);
  t->missed = 0;
  t->seen = TRUE;
  t->det_index = k;
}

void
affect_tracker_match (AffectTracker *tracker, const AffectTrackDetection *dets,
    int n, int max_faces)
{
  GArray *pairs = g_array_new (FALSE, FALSE, sizeof (Pair));
  gboolean *det_used;
  guint i, n_tracks = tracker->tracks->len;
  int k, n_seen = 0;

  if (n <= 0) {
    g_array_unref (pairs);
    return;
  }

  det_used = g_new0 (gboolean, n);
  for (i = 0; i < n_tracks; i++) {
    AffectTrack *t = &g_array_index (tracker->tracks, AffectTrack, i);

    if (t->seen) {
      n_seen++;
      continue;
    }
    for (k = 0; k < n; k++) {
      Pair p = { affect_tracker_cost (t, &dets[k]), (int)i, k };

      if (p.cost < G_MAXDOUBLE)
        g_array_append_val (pairs, p);
    }
  }
  g_array_sort (pairs, compare_pairs);

  for (i = 0; i < pairs->len; i++) {
    Pair *p = &g_array_index (pairs, Pair, i);
    AffectTrack *t = &g_array_index (tracker->tracks, AffectTrack, p->track);

    if (t->seen || det_used[p->det])
      continue;
    update_from_detection (t, &dets[p->det], p->det);
    det_used[p->det] = TRUE;
    n_seen++;
  }

  /* New tracks, best detections first. */
  for (k = 0; k < n && n_seen < max_faces; k++) {
    AffectTrack t = { 0 };

    if (det_used[k])
      continue;
    t.id = tracker->next_id++;
    if (tracker->next_id == 0) /* wrapped after 2^32 faces */
      tracker->next_id = 1;
    update_from_detection (&t, &dets[k], k);
    g_array_append_val (tracker->tracks, t);
    n_seen++;
  }

  g_free (det_used);
  g_array_unref (pairs);
}

void
affect_tracker_follow (AffectTrack *track, const float (*landmarks)[2])
{
  AffectBox lb = affect_landmarks_bbox (landmarks);

  memcpy (track->landmarks, landmarks, sizeof (track->landmarks));
  track->box.x = lb.x + track->rel[0] * lb.width;
  track->box.y = lb.y + track->rel[1] * lb.height;
  track->box.width = track->rel[2] * lb.width;
  track->box.height = track->rel[3] * lb.height;
  track->missed = 0;
  track->seen = TRUE;
  track->det_index = -1;
}

void
affect_tracker_end_frame (AffectTracker *tracker, int max_missed)
{
  guint i = 0;

  while (i < tracker->tracks->len) {
    AffectTrack *t = &g_array_index (tracker->tracks, AffectTrack, i);

    if (!t->seen && ++t->missed > max_missed) {
      g_array_remove_index (tracker->tracks, i);
      continue;
    }
    i++;
  }
}
