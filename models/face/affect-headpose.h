/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Head pose from the 68 facial landmarks: a perspective-n-point fit of a
 * generic 3-D face shape (affect_head_pose_model()) to the landmarks.
 *
 * Camera: a pinhole with square pixels, focal length f = image width in
 * pixels (a horizontal field of view of 2 atan (1/2) ≈ 53.1°), principal
 * point at the image centre (w/2, h/2), no lens distortion. Camera axes as
 * in OpenCV: x right, y down, z forward (into the scene).
 *
 * Model: the 68 points in the iBUG 300-W order (the order face-api's
 * landmark net gives), in millimetres, in the face's own frame: X towards
 * the face's left (the viewer's right in a frontal view), Y up, Z out of the
 * face (towards a viewer in front of it), origin at the nose tip (point
 * 30).
 *
 * Angles, in degrees, of the rotation that takes the frontal face (facing
 * the camera, upright) to the observed one, about axes fixed to the viewer
 * (x right, y up, z towards the viewer):
 *  - yaw: about the vertical axis; positive when the face turns to its own
 *    left, i.e. the nose moves to the viewer's (image) right;
 *  - pitch: about the horizontal axis; positive when the face looks up;
 *  - roll: about the viewing axis; positive when the face tilts clockwise
 *    in the image (the face's left eye, on the image right, goes down).
 * Euler order: pitch first, then yaw, then roll, all about the fixed
 * viewer axes: R = Rz(-roll) · Ry(yaw) · Rx(-pitch) in the viewer frame
 * (x right, y up, z towards the viewer; each R_a the right-handed rotation
 * about axis a). yaw is in [-90, 90], pitch and roll in (-180, 180].
 *
 * Method: a scaled-orthographic initial estimate (affine least-squares fit
 * of the centred model to the centred landmarks, rows orthonormalised, the
 * distance from the scale), then Levenberg-Marquardt on rotation and
 * translation minimising the squared reprojection error of the 68 points
 * (the rotation updated by a rotation vector composed on the left,
 * R ← exp ([δ]×) R).
 *
 * Failure: non-finite input, points that all coincide (spread below 1e-3
 * pixels) or lie on one line, or a fit that puts a point at or behind the
 * camera give FALSE, with yaw, pitch and roll set to NaN (the failure
 * value). Points that are not a face still give a pose: rms_error tells
 * how well the shape fits.
 */

#ifndef __AFFECT_HEADPOSE_H__
#define __AFFECT_HEADPOSE_H__

#include <glib.h>

G_BEGIN_DECLS

#define AFFECT_HEAD_POSE_N_POINTS 68

typedef struct {
  /* Degrees, conventions above; NaN on failure. */
  float yaw, pitch, roll;
  /* Face frame to camera frame (OpenCV axes): x_cam = R x_face + t, with
   * t in millimetres. */
  float rotation[3][3];
  float translation[3];
  /* Root-mean-square reprojection error of the fit in pixels. */
  float rms_error;
} AffectHeadPose;

/* The generic 3-D face shape: 68 (X, Y, Z) points in millimetres (see
 * above and affect-headpose.c for where the numbers come from). */
const float (*affect_head_pose_model (void))[3];

/* Focal length in pixels of the camera model for an image of @width. */
double affect_head_pose_focal (int width, int height);

/* Fits the pose of the face whose 68 landmarks, in pixels of an image of
 * @width × @height, are @points. Returns FALSE on failure (@pose then has
 * NaN angles, an identity rotation, a zero translation and a NaN error). */
gboolean affect_head_pose_estimate (
    const float (*points)[2], int width, int height, AffectHeadPose *pose);

/* The rotation of the angles (degrees, conventions above) in the camera
 * frame (OpenCV axes). */
void affect_head_pose_rotation (
    float yaw, float pitch, float roll, float rotation[3][3]);

/* Projects @xyz (face frame, millimetres) with @pose and the camera model
 * of an image of @width × @height; FALSE if the point is behind the
 * camera. */
gboolean affect_head_pose_project (const AffectHeadPose *pose, int width,
    int height, const float xyz[3], float uv[2]);

G_END_DECLS

#endif /* __AFFECT_HEADPOSE_H__ */
