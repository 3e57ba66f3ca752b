/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-affectoverlay
 * @title: affectoverlay
 *
 * Draws the faces found by the face analysis elements of this plugin, and
 * what they predicted, onto the video. For each #GstAffectFaceMeta of a
 * buffer it draws:
 *
 * - the face box, and a tag with the track id on its top-left corner;
 * - optionally the 68 landmarks, as dots;
 * - optionally (the `pose` flag of #GstAffectOverlay:draw) the head pose
 *   that `facecrop` fitted, as three axes from the nose tip (landmark 30):
 *   red towards the face's left, green up, blue out of the face, each
 *   0.4 times the box size long when it lies in the image plane
 *   (orthographic view of the rotation);
 * - a panel beside the box with, for the #GstAffectPredictionsMeta of the
 *   same track:
 *   - the most probable expression and its probability, and a bar per
 *     expression class (when the expression task is present);
 *   - the action units as a labelled grid of cells, each filled from the
 *     bottom by the probability of its AU (when the AU task is present);
 *   - valence (x, negative to positive) and arousal (y, calm at the bottom,
 *     excited at the top) as a dot on a disc, with the two values (when the
 *     VA task is present);
 *   or, in its compact form, a one-line headline: the top expression and
 *   its probability, and valence/arousal.
 *
 * Every track gets a colour of its own (box, tag, panel border and
 * highlights), kept while the track lives (#GstAffectOverlay:color-mode).
 * With #GstAffectOverlay:placement "auto" the panels are placed around
 * their faces so that they cover no face and no other panel: each face in
 * turn takes the first free place among twelve around its box, for the full
 * panel, or else for the compact form; when not even that fits, the compact
 * form goes where it covers least. The `compact` flag of
 * #GstAffectOverlay:draw draws the compact form for every face.
 *
 * What is drawn is smoothed over time per track
 * (#GstAffectOverlay:smoothing), and the headline keeps its expression
 * until another one is clearly more probable
 * (#GstAffectOverlay:hysteresis), so that a still face does not flicker
 * between two expressions; the metadata itself is not changed.
 *
 * Nothing is drawn for a task that is absent, and nothing for a predictions
 * meta whose track has no face meta on the buffer. A buffer without faces
 * is passed on untouched, without even being mapped.
 *
 * Fonts and lines follow the frame height (12 pixel text on 480 lines,
 * growing as the height to the power 0.75: 22 pixels on 1080 lines, 37 on
 * 2160).
 *
 * The drawing is rendered with cairo and pango into ARGB rectangles, one
 * per part of a face (each side of the box, the landmarks, the id tag, the
 * panel), so that only pixels near the drawing are touched; the rectangles
 * are blended into the frame with
 * gst_video_overlay_composition_blend(), in place, for every format that
 * function supports. When the caps carry the
 * `meta:GstVideoOverlayComposition` feature (downstream renders overlay
 * compositions itself, e.g. a GL sink), the composition is attached to the
 * buffer as a #GstVideoOverlayCompositionMeta instead and the pixels are
 * not touched; a composition already on the buffer is kept and extended.
 *
 * All properties can be changed while the element is PLAYING; a change
 * takes effect at the next frame.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=talk.mp4 ! decodebin ! videoconvert !
 *     facecrop ! affectfeatures ! affectfuse ! affectoverlay !
 *     videoconvert ! autovideosink
 * ]| Shows the faces of a video with their expressions.
 * |[
 * gst-launch-1.0 ... ! affectoverlay draw="boxes+ids+expression+va+compact"
 *     ! videoconvert ! autovideosink
 * ]| One line per face: a crowd stays readable.
 * |[
 * gst-launch-1.0 ... ! affectoverlay draw="boxes+ids+landmarks"
 *     color-mode=single box-color=0xffff8000 line-width=3 ! videoconvert !
 *     autovideosink
 * ]| Only boxes, track ids and landmarks, all in orange.
 * |[
 * gst-launch-1.0 ... ! affectoverlay font-desc="Sans Bold 14"
 *     placement=below ! x264enc ! mp4mux ! filesink location=out.mp4
 * ]| A bigger font, the panels below the faces, written to an MP4 file.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <gst/affect/affectmeta.h>
#include <gst/video/video.h>
#include <pango/pangocairo.h>

#include "affect-branches.h"
#include "affect-headpose.h"
#include "gstaffectoverlay.h"

GST_DEBUG_CATEGORY_STATIC (gst_affect_overlay_debug);
#define GST_CAT_DEFAULT gst_affect_overlay_debug

#define DEFAULT_DRAW                                                    \
  (GST_AFFECT_OVERLAY_DRAW_BOXES | GST_AFFECT_OVERLAY_DRAW_IDS          \
      | GST_AFFECT_OVERLAY_DRAW_EXPRESSION | GST_AFFECT_OVERLAY_DRAW_AU \
      | GST_AFFECT_OVERLAY_DRAW_VA)
#define DEFAULT_BOX_COLOR 0xff2ecc71
#define DEFAULT_TEXT_COLOR 0xffffffff
#define DEFAULT_FONT_DESC NULL
#define DEFAULT_PLACEMENT GST_AFFECT_OVERLAY_PLACEMENT_AUTO
#define DEFAULT_LINE_WIDTH 0.0
#define DEFAULT_COLOR_MODE GST_AFFECT_OVERLAY_COLOR_MODE_TRACK
#define DEFAULT_SMOOTHING 0.2
#define DEFAULT_HYSTERESIS 0.15

/* Background of the prediction panels (ARGB). */
#define PANEL_COLOR 0xb0101418

/* The head pose axes (ARGB): the face's left, up and forward directions. */
#define POSE_X_COLOR 0xffff2020
#define POSE_Y_COLOR 0xff20e020
#define POSE_Z_COLOR 0xff2080ff

/* The track colours: saturated hues in an order where neighbours differ
 * most, all light enough to show on dark video and with dark text on the
 * light ones. */
static const guint32 track_palette[] = {
  0xff2ecc71, /* green */
  0xff3d9df2, /* blue */
  0xffff9f1a, /* orange */
  0xffff5cb0, /* pink */
  0xfff2dc1d, /* yellow */
  0xffa77bff, /* violet */
  0xff1fd8e6, /* cyan */
  0xffff4d4d, /* red */
  0xffa8e61d, /* lime */
  0xffe8e8e8, /* white */
};

#define N_PALETTE G_N_ELEMENTS (track_palette)

/* A colour counts as taken while its track was seen in the last this many
 * frames. */
#define RECENT_FRAMES 30

/* The font family used when font-desc is not set or has no family; the
 * pixel size used when it has no size is FONT_PX_480 on 480 lines, growing
 * as (height / 480)^SIZE_EXPONENT, at least MIN_FONT_PX. The box outline
 * follows the same rule from 2 pixels on 480 lines. */
#define FALLBACK_FAMILY "Sans"
#define FONT_PX_480 12.0
#define LINE_PX_480 2.0
#define SIZE_EXPONENT 0.75
#define MIN_FONT_PX 8.0

/* Cached text layouts; the cache is emptied when it grows past this. */
#define MAX_CACHED_LAYOUTS 1024

/* The state of a track (colour, panel place, smoothing) is forgotten when
 * the track was not seen for this many frames; a track unseen for longer
 * than SMOOTHING_GAP starts its smoothing afresh. */
#define FORGET_FRAMES 300
#define SMOOTHING_GAP GST_SECOND

/* Coordinates further than this many frame sizes from the frame are
 * clamped (a face box far off the frame). */
#define FAR_OUT 4.0

/* Panel places around a face: N_SIDES sides times 3 alignments. */
#define N_CAND 12

enum {
  PROP_0,
  PROP_DRAW,
  PROP_BOX_COLOR,
  PROP_TEXT_COLOR,
  PROP_FONT_DESC,
  PROP_PLACEMENT,
  PROP_LINE_WIDTH,
  PROP_COLOR_MODE,
  PROP_SMOOTHING,
  PROP_HYSTERESIS,
};

/* Text styles of the layout cache. */
typedef enum {
  STYLE_REGULAR = 'r',
  STYLE_BOLD = 'b',
  STYLE_SMALL = 's',
} TextStyle;

/* The two forms of a panel. */
typedef enum {
  FORM_FULL = 0,
  FORM_COMPACT = 1,
} PanelForm;

/* A snapshot of the properties, taken for each frame. */
typedef struct {
  GstAffectOverlayDraw draw;
  guint32 box_color;
  guint32 text_color;
  GstAffectOverlayPlacement placement;
  gdouble line_width;
  GstAffectOverlayColorMode color_mode;
  gdouble smoothing;
  gdouble hysteresis;
} Settings;

/* What is remembered of a track from frame to frame. */
typedef struct {
  guint64 last_frame; /* frame counter when last seen, 0: never */
  GstClockTime last_pts;
  guint color; /* palette index */
  guint place; /* 1 + form * N_CAND + candidate of the last frame; 0 */
  /* smoothed values (what was drawn last) */
  guint n_expr;                                  /* 0: none */
  const gchar *expr_labels[GST_AFFECT_MAX_EXPR]; /* interned */
  gfloat expr[GST_AFFECT_MAX_EXPR];
  gint shown; /* the expression of the headline, -1: none yet */
  guint n_au;
  const gchar *au_labels[GST_AFFECT_MAX_AU]; /* interned */
  gfloat au[GST_AFFECT_MAX_AU];
  gboolean has_va;
  gfloat va[2];
} TrackState;

/* The geometry of one face's drawing, in frame pixels. */
typedef struct {
  const GstAffectFaceMeta *face;
  TrackState *track;
  gboolean has_pred;
  GstAffectPredictions disp; /* what is drawn: the smoothed predictions */
  guint32 color;             /* box, tag, border and highlights */
  guint32 tag_text_color;

  /* box outline: the outer and inner edges (integers) */
  gboolean has_box;
  gint ox0, oy0, ox1, oy1;
  gint ix0, iy0, ix1, iy1;

  /* track id tag */
  gboolean has_tag;
  PangoLayout *tag_layout;
  gdouble tag_x, tag_y, tag_w, tag_h;

  /* landmarks */
  gboolean has_landmarks;
  gdouble lm_radius;
  gdouble lm_x0, lm_y0, lm_x1, lm_y1;

  /* head pose axes: from (pose_x, pose_y) to pose_end[axis], drawn in
   * pose_order (farthest first); bounds including the line width */
  gboolean has_pose;
  gdouble pose_x, pose_y;
  gdouble pose_end[3][2];
  guint pose_order[3];
  gdouble pose_x0, pose_y0, pose_x1, pose_y1;

  /* the full panel: its sections and size */
  gboolean can_full;
  gboolean has_expr, has_au, has_va;
  gdouble expr_h, au_h, va_h;
  gdouble full_w, full_h;

  /* the compact form: a bold title and a detail, each nullable */
  gboolean can_compact;
  PangoLayout *c_title, *c_detail;
  gdouble comp_w, comp_h;

  /* the panel as placed */
  gboolean has_panel;
  PanelForm form;
  gdouble px, py, pw, ph;

  /* what panels keep clear of: the box outline and the id tag */
  gdouble kx0, ky0, kx1, ky1;
} FaceLayout;

/* Sizes derived from the font and the frame, shared by all faces. */
typedef struct {
  gdouble em;     /* font size in pixels */
  gdouble lh;     /* line height of the regular font */
  gdouble slh;    /* line height of the small font */
  gdouble pad;    /* padding inside the panel and between its parts */
  gdouble gap;    /* room between a box and its panel */
  gdouble sep;    /* least room between two panels, a panel and a face */
  gdouble border; /* width of the panel border */
  gint lw;        /* box line width in pixels */
  gdouble bar_w;  /* length of a full expression bar */
  gdouble disc_d; /* diameter of the VA disc */
} Metrics;

struct _GstAffectOverlay {
  GstVideoFilter parent;

  /* properties, protected by the object lock */
  Settings props;
  gchar *font_desc;
  gboolean font_changed;

  /* streaming state, only used by the streaming thread (and start/stop) */
  gboolean attach; /* caps carry meta:GstVideoOverlayComposition */
  gboolean warned_blend;
  gdouble frame_duration; /* seconds, from the caps (1/30 when unknown) */
  PangoFontMap *font_map;
  PangoContext *pango;
  PangoFontDescription *font[3]; /* regular, bold, small */
  gint font_frame_height;        /* frame height the fonts are sized for */
  gdouble font_px;
  GHashTable *layouts; /* "<style><text>" -> PangoLayout */
  GHashTable *tracks;  /* track id -> TrackState */
  guint64 frame_no;    /* frames with faces seen, from 1 */
  GArray *faces;       /* FaceLayout of the frame being drawn */
  Metrics m;
};

/* Blendable raw video, and any raw video whose overlay downstream draws. */
/* clang-format off */
#define OVERLAY_CAPS \
  GST_VIDEO_CAPS_MAKE (GST_VIDEO_OVERLAY_COMPOSITION_BLEND_FORMATS) "; " \
  GST_VIDEO_CAPS_MAKE_WITH_FEATURES ( \
      GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION, \
      GST_VIDEO_FORMATS_ALL) "; " \
  GST_VIDEO_CAPS_MAKE_WITH_FEATURES ( \
      GST_CAPS_FEATURE_MEMORY_SYSTEM_MEMORY "," \
      GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION, \
      GST_VIDEO_FORMATS_ALL)
/* clang-format on */

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (OVERLAY_CAPS));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE (
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (OVERLAY_CAPS));

#define gst_affect_overlay_parent_class parent_class
G_DEFINE_TYPE (GstAffectOverlay, gst_affect_overlay, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (
    affectoverlay, "affectoverlay", GST_RANK_NONE, GST_TYPE_AFFECT_OVERLAY);

static void gst_affect_overlay_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec);
static void gst_affect_overlay_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec);
static void gst_affect_overlay_finalize (GObject *object);
static gboolean gst_affect_overlay_start (GstBaseTransform *trans);
static gboolean gst_affect_overlay_stop (GstBaseTransform *trans);
static gboolean gst_affect_overlay_query (
    GstBaseTransform *trans, GstPadDirection direction, GstQuery *query);
static GstFlowReturn gst_affect_overlay_transform_ip (
    GstBaseTransform *trans, GstBuffer *buf);
static gboolean gst_affect_overlay_set_info (GstVideoFilter *filter,
    GstCaps *incaps, GstVideoInfo *in_info, GstCaps *outcaps,
    GstVideoInfo *out_info);

GType
gst_affect_overlay_draw_get_type (void)
{
  static GType type = 0;
  static const GFlagsValue values[] = {
    { GST_AFFECT_OVERLAY_DRAW_BOXES, "Face boxes", "boxes" },
    { GST_AFFECT_OVERLAY_DRAW_IDS, "Track ids", "ids" },
    { GST_AFFECT_OVERLAY_DRAW_LANDMARKS, "Facial landmarks", "landmarks" },
    { GST_AFFECT_OVERLAY_DRAW_EXPRESSION,
        "Top expression and expression probability bars", "expression" },
    { GST_AFFECT_OVERLAY_DRAW_AU, "Action unit grid", "au" },
    { GST_AFFECT_OVERLAY_DRAW_VA, "Valence/arousal disc", "va" },
    { GST_AFFECT_OVERLAY_DRAW_COMPACT,
        "One-line headline instead of the panel: top expression and "
        "valence/arousal",
        "compact" },
    { GST_AFFECT_OVERLAY_DRAW_POSE,
        "Head pose axes from the nose tip (red: face's left, green: up, "
        "blue: forward)",
        "pose" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type)) {
    GType t = g_flags_register_static ("GstAffectOverlayDraw", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_affect_overlay_placement_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_AFFECT_OVERLAY_PLACEMENT_AUTO,
        "Around the box, covering no face and no other panel (one-line "
        "form when the panel does not fit)",
        "auto" },
    { GST_AFFECT_OVERLAY_PLACEMENT_RIGHT, "Right of the box", "right" },
    { GST_AFFECT_OVERLAY_PLACEMENT_LEFT, "Left of the box", "left" },
    { GST_AFFECT_OVERLAY_PLACEMENT_ABOVE, "Above the box", "above" },
    { GST_AFFECT_OVERLAY_PLACEMENT_BELOW, "Below the box", "below" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstAffectOverlayPlacement", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_affect_overlay_color_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_AFFECT_OVERLAY_COLOR_MODE_TRACK,
        "A colour per track, kept while the track lives", "track" },
    { GST_AFFECT_OVERLAY_COLOR_MODE_SINGLE, "The box colour for every face",
        "single" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstAffectOverlayColorMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void
gst_affect_overlay_class_init (GstAffectOverlayClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (
      gst_affect_overlay_debug, "affectoverlay", 0, "Affect overlay");

  gobject_class->set_property = gst_affect_overlay_set_property;
  gobject_class->get_property = gst_affect_overlay_get_property;
  gobject_class->finalize = gst_affect_overlay_finalize;

  /**
   * GstAffectOverlay:draw:
   *
   * What to draw for each face. A part whose data is absent is never drawn,
   * whatever this property says. With `compact`, the expression and VA
   * parts are drawn as a one-line headline instead of the panel. `pose`
   * (not in the default) adds the head-pose axes of faces that have a pose.
   */
  g_object_class_install_property (gobject_class, PROP_DRAW,
      g_param_spec_flags ("draw", "Draw",
          "What to draw for each face (parts without data are not drawn; "
          "compact: a one-line headline instead of the panel)",
          GST_TYPE_AFFECT_OVERLAY_DRAW, DEFAULT_DRAW,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstAffectOverlay:box-color:
   *
   * With #GstAffectOverlay:color-mode "single": colour of the face boxes,
   * of the id tags, of the landmarks, of the panel borders, of the bar of
   * the most probable expression, of the AU cell fills and of the VA dot,
   * as 0xAARRGGBB. Not used with "track".
   */
  g_object_class_install_property (gobject_class, PROP_BOX_COLOR,
      g_param_spec_uint ("box-color", "Box colour",
          "Colour of boxes, tags, landmarks and highlights with "
          "color-mode=single (0xAARRGGBB)",
          0, G_MAXUINT32, DEFAULT_BOX_COLOR,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstAffectOverlay:text-color:
   *
   * Colour of the text and of the other bars, as 0xAARRGGBB. (The text of
   * an id tag is black or white, whichever shows on the track colour, with
   * #GstAffectOverlay:color-mode "track".)
   */
  g_object_class_install_property (gobject_class, PROP_TEXT_COLOR,
      g_param_spec_uint ("text-color", "Text colour",
          "Colour of text and bars (0xAARRGGBB)", 0, G_MAXUINT32,
          DEFAULT_TEXT_COLOR,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstAffectOverlay:font-desc:
   *
   * Pango font description of the text, e.g. "Sans 10" or "Serif Bold 14"
   * (sizes in points at 96 dpi). Without a size (or when NULL, the default)
   * the size follows the frame: 12 pixels on 480 lines, growing as the
   * frame height to the power 0.75 (10 pixels on 360 lines, 22 on 1080,
   * 37 on 2160), at least 8 pixels. Without a family, "Sans". The bar and
   * grid labels use a font 20 % smaller.
   */
  g_object_class_install_property (gobject_class, PROP_FONT_DESC,
      g_param_spec_string ("font-desc", "Font description",
          "Pango font description of the text; NULL or no size: a size "
          "that follows the frame height",
          DEFAULT_FONT_DESC,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstAffectOverlay:placement:
   *
   * Where the panel with the predictions goes, relative to the face box.
   * Only "auto" avoids faces and other panels, and falls back to the
   * one-line form when the full panel does not fit.
   */
  g_object_class_install_property (gobject_class, PROP_PLACEMENT,
      g_param_spec_enum ("placement", "Placement",
          "Where the prediction panel goes, relative to the face box",
          GST_TYPE_AFFECT_OVERLAY_PLACEMENT, DEFAULT_PLACEMENT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstAffectOverlay:line-width:
   *
   * Width of the box outline in pixels, rounded to a whole number of
   * pixels; 0 (the default) follows the frame: 2 pixels on 480 lines,
   * growing as the frame height to the power 0.75 (4 on 1080 lines, 6 on
   * 2160), at least 1. The outline is centred on the box edge, covering
   * the box's first and last rows and columns.
   */
  g_object_class_install_property (gobject_class, PROP_LINE_WIDTH,
      g_param_spec_double ("line-width", "Line width",
          "Width of the box outline in pixels (0 = follow the frame height)",
          0.0, 100.0, DEFAULT_LINE_WIDTH,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstAffectOverlay:color-mode:
   *
   * "track" (the default): every track gets a colour of a palette of ten
   * when it first shows, one that no track seen in the last second has
   * (when there is one), and keeps it while it lives. "single":
   * #GstAffectOverlay:box-color for every face.
   */
  g_object_class_install_property (gobject_class, PROP_COLOR_MODE,
      g_param_spec_enum ("color-mode", "Colour mode",
          "A colour per track, or box-color for every face",
          GST_TYPE_AFFECT_OVERLAY_COLOR_MODE, DEFAULT_COLOR_MODE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstAffectOverlay:smoothing:
   *
   * Time constant, in seconds, of an exponential moving average of what is
   * drawn for each track (expression and AU probabilities, valence and
   * arousal): a value seen dt seconds ago weighs exp(-dt / smoothing).
   * 0 draws every frame's values as they are. The metadata is not changed.
   */
  g_object_class_install_property (gobject_class, PROP_SMOOTHING,
      g_param_spec_double ("smoothing", "Smoothing",
          "Time constant in seconds of the smoothing of what is drawn per "
          "track (0 = draw each frame's values)",
          0.0, 10.0, DEFAULT_SMOOTHING,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstAffectOverlay:hysteresis:
   *
   * The headline expression of a track changes only when another class's
   * (smoothed) probability exceeds the shown one's by more than this. 0
   * shows the most probable class of every frame.
   */
  g_object_class_install_property (gobject_class, PROP_HYSTERESIS,
      g_param_spec_double ("hysteresis", "Hysteresis",
          "Probability margin by which another expression must lead before "
          "the headline changes (0 = always the most probable)",
          0.0, 1.0, DEFAULT_HYSTERESIS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Affect overlay",
      "Analyzer/Visualization/Video",
      "Draws face boxes, track ids, expressions, action units and "
      "valence/arousal of the affect metadata onto the video",
      "gst-affect developers <https://github.com/gst-affect/gst-affect>");

  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->start = GST_DEBUG_FUNCPTR (gst_affect_overlay_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_affect_overlay_stop);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_affect_overlay_query);
  /* replaces GstVideoFilter's, which maps every frame: a frame without
   * anything to draw is not even mapped here */
  trans_class->transform_ip
      = GST_DEBUG_FUNCPTR (gst_affect_overlay_transform_ip);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_affect_overlay_set_info);

  gst_type_mark_as_plugin_api (GST_TYPE_AFFECT_OVERLAY_DRAW, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_AFFECT_OVERLAY_PLACEMENT, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_AFFECT_OVERLAY_COLOR_MODE, 0);
}

static void
gst_affect_overlay_init (GstAffectOverlay *self)
{
  self->props.draw = DEFAULT_DRAW;
  self->props.box_color = DEFAULT_BOX_COLOR;
  self->props.text_color = DEFAULT_TEXT_COLOR;
  self->props.placement = DEFAULT_PLACEMENT;
  self->props.line_width = DEFAULT_LINE_WIDTH;
  self->props.color_mode = DEFAULT_COLOR_MODE;
  self->props.smoothing = DEFAULT_SMOOTHING;
  self->props.hysteresis = DEFAULT_HYSTERESIS;
  self->font_desc = g_strdup (DEFAULT_FONT_DESC);
  self->font_changed = TRUE;
  self->frame_duration = 1.0 / 30;
  self->faces = g_array_new (FALSE, TRUE, sizeof (FaceLayout));
  self->tracks = g_hash_table_new_full (NULL, NULL, NULL, g_free);

  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}

/* Frees the pango objects (streaming state). */
static void
gst_affect_overlay_free_text (GstAffectOverlay *self)
{
  guint i;

  g_clear_pointer (&self->layouts, g_hash_table_destroy);
  for (i = 0; i < G_N_ELEMENTS (self->font); i++)
    g_clear_pointer (&self->font[i], pango_font_description_free);
  g_clear_object (&self->pango);
  g_clear_object (&self->font_map);
  self->font_frame_height = 0;
}

static void
gst_affect_overlay_finalize (GObject *object)
{
  GstAffectOverlay *self = GST_AFFECT_OVERLAY (object);

  gst_affect_overlay_free_text (self);
  g_free (self->font_desc);
  g_array_free (self->faces, TRUE);
  g_hash_table_destroy (self->tracks);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_affect_overlay_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstAffectOverlay *self = GST_AFFECT_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_DRAW:
      self->props.draw = g_value_get_flags (value);
      break;
    case PROP_BOX_COLOR:
      self->props.box_color = g_value_get_uint (value);
      break;
    case PROP_TEXT_COLOR:
      self->props.text_color = g_value_get_uint (value);
      break;
    case PROP_FONT_DESC:
      g_free (self->font_desc);
      self->font_desc = g_value_dup_string (value);
      self->font_changed = TRUE;
      break;
    case PROP_PLACEMENT:
      self->props.placement = g_value_get_enum (value);
      break;
    case PROP_LINE_WIDTH:
      self->props.line_width = g_value_get_double (value);
      break;
    case PROP_COLOR_MODE:
      self->props.color_mode = g_value_get_enum (value);
      break;
    case PROP_SMOOTHING:
      self->props.smoothing = g_value_get_double (value);
      break;
    case PROP_HYSTERESIS:
      self->props.hysteresis = g_value_get_double (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_affect_overlay_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstAffectOverlay *self = GST_AFFECT_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_DRAW:
      g_value_set_flags (value, self->props.draw);
      break;
    case PROP_BOX_COLOR:
      g_value_set_uint (value, self->props.box_color);
      break;
    case PROP_TEXT_COLOR:
      g_value_set_uint (value, self->props.text_color);
      break;
    case PROP_FONT_DESC:
      g_value_set_string (value, self->font_desc);
      break;
    case PROP_PLACEMENT:
      g_value_set_enum (value, self->props.placement);
      break;
    case PROP_LINE_WIDTH:
      g_value_set_double (value, self->props.line_width);
      break;
    case PROP_COLOR_MODE:
      g_value_set_enum (value, self->props.color_mode);
      break;
    case PROP_SMOOTHING:
      g_value_set_double (value, self->props.smoothing);
      break;
    case PROP_HYSTERESIS:
      g_value_set_double (value, self->props.hysteresis);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_affect_overlay_start (GstBaseTransform *trans)
{
  GstAffectOverlay *self = GST_AFFECT_OVERLAY (trans);
  cairo_font_options_t *options;

  gst_affect_overlay_free_text (self);

  /* a font map of our own: the default one is per thread */
  self->font_map = pango_cairo_font_map_new ();
  self->pango = pango_font_map_create_context (self->font_map);
  pango_cairo_context_set_resolution (self->pango, 96.0);
  options = cairo_font_options_create ();
  cairo_font_options_set_antialias (options, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
  pango_cairo_context_set_font_options (self->pango, options);
  cairo_font_options_destroy (options);
  self->layouts = g_hash_table_new_full (
      g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_object_unref);

  GST_OBJECT_LOCK (self);
  self->font_changed = TRUE;
  GST_OBJECT_UNLOCK (self);
  self->warned_blend = FALSE;
  return TRUE;
}

static gboolean
gst_affect_overlay_stop (GstBaseTransform *trans)
{
  GstAffectOverlay *self = GST_AFFECT_OVERLAY (trans);

  gst_affect_overlay_free_text (self);
  g_array_set_size (self->faces, 0);
  g_hash_table_remove_all (self->tracks);
  self->frame_no = 0;
  return TRUE;
}

/* affectfeatures asks which feature branches are read (affect-branches.h):
 * none here (boxes and predictions are drawn, no feature vector), but what
 * comes after us may read some. */
static gboolean
gst_affect_overlay_query (
    GstBaseTransform *trans, GstPadDirection direction, GstQuery *query)
{
  if (direction == GST_PAD_SINK && affect_branches_query_is (query)) {
    GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction, query);
    affect_branches_query_add (query, GST_OBJECT (trans),
        GST_AFFECT_MODALITY_NONE, "draws no feature");
    /* FALSE on purpose: a tee then asks its other branches too */
    return FALSE;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)
      ->query (trans, direction, query);
}

static gboolean
gst_affect_overlay_set_info (GstVideoFilter *filter, GstCaps *incaps,
    GstVideoInfo *in_info, GstCaps *outcaps, GstVideoInfo *out_info)
{
  GstAffectOverlay *self = GST_AFFECT_OVERLAY (filter);
  GstCapsFeatures *features = gst_caps_get_features (outcaps, 0);

  self->attach = features != NULL
                 && gst_caps_features_contains (features,
                     GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION);
  if (GST_VIDEO_INFO_FPS_N (in_info) > 0 && GST_VIDEO_INFO_FPS_D (in_info) > 0)
    self->frame_duration = (gdouble)GST_VIDEO_INFO_FPS_D (in_info)
                           / GST_VIDEO_INFO_FPS_N (in_info);
  else
    self->frame_duration = 1.0 / 30;
  GST_DEBUG_OBJECT (self, "%s overlays on %dx%d %s",
      self->attach ? "attaching" : "blending", GST_VIDEO_INFO_WIDTH (in_info),
      GST_VIDEO_INFO_HEIGHT (in_info),
      gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (in_info)));
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Text                                                                */
/* ------------------------------------------------------------------ */

/* A length of @px480 pixels on 480 lines, for a frame of @height lines. */
static gdouble
frame_scale (gdouble px480, gint height)
{
  return px480 * pow (MAX (1, height) / 480.0, SIZE_EXPONENT);
}

/* (Re)creates the three fonts when the font-desc property or the frame
 * height changed. Empties the layout cache then. */
static void
update_fonts (GstAffectOverlay *self, gint frame_height)
{
  PangoFontDescription *desc;
  gchar *str = NULL;
  gboolean changed;
  gdouble px;
  gint size;

  GST_OBJECT_LOCK (self);
  changed = self->font_changed;
  if (changed || frame_height != self->font_frame_height) {
    str = g_strdup (self->font_desc);
    self->font_changed = FALSE;
    changed = TRUE;
  }
  GST_OBJECT_UNLOCK (self);
  if (!changed)
    return;

  desc = pango_font_description_from_string (str ? str : "");
  if (pango_font_description_get_family (desc) == NULL)
    pango_font_description_set_family (desc, FALLBACK_FAMILY);
  size = pango_font_description_get_size (desc);
  if (size <= 0) {
    px = MAX (MIN_FONT_PX, round (frame_scale (FONT_PX_480, frame_height)));
    pango_font_description_set_absolute_size (desc, px * PANGO_SCALE);
  } else if (pango_font_description_get_size_is_absolute (desc)) {
    px = (gdouble)size / PANGO_SCALE;
  } else {
    px = (gdouble)size / PANGO_SCALE * 96.0 / 72.0;
  }
  GST_DEBUG_OBJECT (self, "font \"%s\": %.1f px", str ? str : "", px);
  g_free (str);

  g_clear_pointer (&self->font[0], pango_font_description_free);
  g_clear_pointer (&self->font[1], pango_font_description_free);
  g_clear_pointer (&self->font[2], pango_font_description_free);
  self->font[0] = desc;
  self->font[1] = pango_font_description_copy (desc);
  pango_font_description_set_weight (self->font[1], PANGO_WEIGHT_BOLD);
  self->font[2] = pango_font_description_copy (desc);
  pango_font_description_set_absolute_size (
      self->font[2], MAX (MIN_FONT_PX * 0.8, px * 0.8) * PANGO_SCALE);

  self->font_px = px;
  self->font_frame_height = frame_height;
  g_hash_table_remove_all (self->layouts);
}

/* A layout of @text in @style, from the cache; owned by the cache, valid
 * until the end of the frame. */
static PangoLayout *
get_layout (GstAffectOverlay *self, TextStyle style, const gchar *text)
{
  gchar *key = g_strdup_printf ("%c%s", (gchar)style, text);
  PangoLayout *layout = g_hash_table_lookup (self->layouts, key);
  const PangoFontDescription *font;

  if (layout) {
    g_free (key);
    return layout;
  }
  switch (style) {
    case STYLE_BOLD:
      font = self->font[1];
      break;
    case STYLE_SMALL:
      font = self->font[2];
      break;
    default:
      font = self->font[0];
      break;
  }
  layout = pango_layout_new (self->pango);
  pango_layout_set_font_description (layout, font);
  if (g_utf8_validate (text, -1, NULL)) {
    pango_layout_set_text (layout, text, -1);
  } else {
    /* labels come from metadata anyone can write */
    gchar *valid = g_utf8_make_valid (text, -1);

    pango_layout_set_text (layout, valid, -1);
    g_free (valid);
  }
  g_hash_table_insert (self->layouts, key, layout);
  return layout;
}

static void
layout_size (PangoLayout *layout, gdouble *w, gdouble *h)
{
  PangoRectangle logical;

  pango_layout_get_pixel_extents (layout, NULL, &logical);
  if (w)
    *w = logical.width;
  if (h)
    *h = logical.height;
}

/* ------------------------------------------------------------------ */
/* Predictions                                                         */
/* ------------------------------------------------------------------ */

static gboolean
face_expr_valid (const GstAffectPredictions *p)
{
  return p && (p->tasks & GST_AFFECT_TASK_EXPRESSION) && p->n_expr > 0
         && p->n_expr <= GST_AFFECT_MAX_EXPR;
}

static gboolean
face_au_valid (const GstAffectPredictions *p)
{
  return p && (p->tasks & GST_AFFECT_TASK_AU) && p->n_au > 0
         && p->n_au <= GST_AFFECT_MAX_AU;
}

/* Index of the most probable expression (the stored one when valid). */
static guint
top_expression (const GstAffectPredictions *p)
{
  guint i, best = 0;

  if (p->expr_index >= 0 && (guint)p->expr_index < p->n_expr)
    return p->expr_index;
  for (i = 1; i < p->n_expr; i++)
    if (p->expr[i] > p->expr[best])
      best = i;
  return best;
}

static const gchar *
label_or (const gchar *label, const gchar *fallback)
{
  return label && label[0] ? label : fallback;
}

static gdouble
clamp_prob (gfloat v)
{
  if (!isfinite (v))
    return 0.0;
  return CLAMP (v, 0.0f, 1.0f);
}

/* Whether the @n labels of the state are those of the predictions. */
static gboolean
same_labels (const gchar *const *state, const gchar *const *labels, guint n)
{
  guint i;

  for (i = 0; i < n; i++)
    if (g_strcmp0 (state[i], labels[i]) != 0)
      return FALSE;
  return TRUE;
}

static const gchar *
intern_or_null (const gchar *s)
{
  return s ? g_intern_string (s) : NULL;
}

/* The palette colour of a new track: the one taken by the fewest tracks
 * seen lately, preferring the track id's own (id - 1 modulo the palette
 * size), then the next ones. */
static guint
pick_color (GstAffectOverlay *self, guint id)
{
  guint used[N_PALETTE] = { 0 };
  guint first = (id + N_PALETTE - 1) % N_PALETTE, best = first, i;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->tracks);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    const TrackState *st = value;

    if (st->last_frame > 0 && st->last_frame + RECENT_FRAMES >= self->frame_no)
      used[st->color]++;
  }
  for (i = 1; i < N_PALETTE; i++) {
    guint c = (first + i) % N_PALETTE;

    if (used[c] < used[best])
      best = c;
  }
  return best;
}

static TrackState *
get_track (GstAffectOverlay *self, guint id)
{
  TrackState *st = g_hash_table_lookup (self->tracks, GUINT_TO_POINTER (id));

  if (st == NULL) {
    st = g_new0 (TrackState, 1);
    st->color = pick_color (self, id);
    st->shown = -1;
    st->last_pts = GST_CLOCK_TIME_NONE;
    g_hash_table_insert (self->tracks, GUINT_TO_POINTER (id), st);
    GST_DEBUG_OBJECT (
        self, "track %u: colour 0x%08x", id, track_palette[st->color]);
  }
  return st;
}

static gboolean
track_is_old (gpointer key, gpointer value, gpointer user_data)
{
  const TrackState *st = value;
  const guint64 *frame_no = user_data;

  return st->last_frame + FORGET_FRAMES < *frame_no;
}

/* The weight of the past in the smoothing of @st for a frame at @pts; 0
 * when the track starts afresh (first frame, a gap, time going back). */
static gdouble
smoothing_weight (GstAffectOverlay *self, const Settings *s,
    const TrackState *st, GstClockTime pts)
{
  gdouble dt;

  if (st->last_frame == 0 || s->smoothing <= 0)
    return 0.0;
  if (GST_CLOCK_TIME_IS_VALID (pts) && GST_CLOCK_TIME_IS_VALID (st->last_pts)) {
    if (pts <= st->last_pts || pts - st->last_pts > SMOOTHING_GAP)
      return 0.0;
    dt = (gdouble)(pts - st->last_pts) / GST_SECOND;
  } else {
    dt = (self->frame_no - st->last_frame) * self->frame_duration;
    if (dt > (gdouble)SMOOTHING_GAP / GST_SECOND)
      return 0.0;
  }
  return exp (-dt / s->smoothing);
}

/* Fills @out with what is drawn for @raw: the probabilities smoothed with
 * the track's past, the headline expression (expr_index) held while no
 * other class leads by more than the hysteresis. Updates the track. */
static void
display_predictions (GstAffectOverlay *self, const Settings *s, guint id,
    TrackState *st, const GstAffectPredictions *raw, gdouble a,
    GstAffectPredictions *out)
{
  guint i, n;

  *out = *raw;

  if (face_expr_valid (raw)) {
    gboolean same;
    guint top;

    n = raw->n_expr;
    same = st->n_expr == n && a > 0
           && same_labels (st->expr_labels, raw->expr_labels, n);
    for (i = 0; i < n; i++) {
      gdouble v = clamp_prob (raw->expr[i]);

      st->expr[i] = same ? a * st->expr[i] + (1 - a) * v : v;
      out->expr[i] = st->expr[i];
    }
    if (a <= 0 && raw->expr_index >= 0 && (guint)raw->expr_index < n) {
      top = raw->expr_index;
    } else {
      top = 0;
      for (i = 1; i < n; i++)
        if (out->expr[i] > out->expr[top])
          top = i;
    }
    /* the labels are compared, not the state's age: hysteresis also holds
     * without smoothing */
    if (st->n_expr == n && same_labels (st->expr_labels, raw->expr_labels, n)
        && st->shown >= 0 && (guint)st->shown < n && top != (guint)st->shown) {
      if (out->expr[top] - out->expr[st->shown] <= s->hysteresis) {
        top = st->shown;
      } else {
        GST_DEBUG_OBJECT (self, "track %u: headline %s -> %s", id,
            label_or (raw->expr_labels[st->shown], "?"),
            label_or (raw->expr_labels[top], "?"));
      }
    }
    for (i = 0; i < n; i++)
      st->expr_labels[i] = intern_or_null (raw->expr_labels[i]);
    st->n_expr = n;
    st->shown = top;
    out->expr_index = top;
  } else {
    st->n_expr = 0;
    st->shown = -1;
  }

  if (face_au_valid (raw)) {
    gboolean same;

    n = raw->n_au;
    same = st->n_au == n && a > 0
           && same_labels (st->au_labels, raw->au_labels, n);
    for (i = 0; i < n; i++) {
      gdouble v = clamp_prob (raw->au[i]);

      st->au[i] = same ? a * st->au[i] + (1 - a) * v : v;
      out->au[i] = st->au[i];
      st->au_labels[i] = intern_or_null (raw->au_labels[i]);
    }
    st->n_au = n;
  } else {
    st->n_au = 0;
  }

  if ((raw->tasks & GST_AFFECT_TASK_VA) && isfinite (raw->valence)
      && isfinite (raw->arousal)) {
    if (st->has_va && a > 0) {
      st->va[0] = a * st->va[0] + (1 - a) * raw->valence;
      st->va[1] = a * st->va[1] + (1 - a) * raw->arousal;
    } else {
      st->va[0] = raw->valence;
      st->va[1] = raw->arousal;
    }
    st->has_va = TRUE;
    out->valence = st->va[0];
    out->arousal = st->va[1];
  } else {
    st->has_va = FALSE;
  }
}

/* ------------------------------------------------------------------ */
/* Layout                                                              */
/* ------------------------------------------------------------------ */

static guint
au_columns (guint n)
{
  if (n <= 4)
    return n;
  if (n <= 12)
    return 4;
  if (n <= 24)
    return 6;
  return 8;
}

static gchar *
expression_title (const GstAffectPredictions *p)
{
  guint top = top_expression (p);

  return g_strdup_printf ("%s %d%%", label_or (p->expr_labels[top], "?"),
      (gint)lround (clamp_prob (p->expr[top]) * 100.0));
}

static void
expression_section_size (GstAffectOverlay *self, const GstAffectPredictions *p,
    gdouble *w, gdouble *h)
{
  const Metrics *m = &self->m;
  guint i;
  gchar *title;
  gdouble tw, label_w = 0, lw;

  title = expression_title (p);
  layout_size (get_layout (self, STYLE_BOLD, title), &tw, NULL);
  g_free (title);
  for (i = 0; i < p->n_expr; i++) {
    layout_size (
        get_layout (self, STYLE_SMALL, label_or (p->expr_labels[i], "?")), &lw,
        NULL);
    label_w = MAX (label_w, lw);
  }
  *w = MAX (tw, label_w + m->pad + m->bar_w);
  *h = m->lh + p->n_expr * m->slh;
}

static void
au_cell_size (GstAffectOverlay *self, const GstAffectPredictions *p,
    gdouble *cw, gdouble *ch)
{
  gdouble w = 0, lw;
  guint i;

  for (i = 0; i < p->n_au; i++) {
    layout_size (
        get_layout (self, STYLE_SMALL, label_or (p->au_labels[i], "?")), &lw,
        NULL);
    w = MAX (w, lw);
  }
  *cw = ceil (w + self->m.pad);
  *ch = ceil (self->m.slh + self->m.pad * 0.5);
}

static void
au_section_size (GstAffectOverlay *self, const GstAffectPredictions *p,
    gdouble *w, gdouble *h)
{
  guint cols = au_columns (p->n_au);
  guint rows = (p->n_au + cols - 1) / cols;
  gdouble cw, ch, gap = MAX (1.0, floor (self->m.pad / 2));

  au_cell_size (self, p, &cw, &ch);
  *w = cols * cw + (cols - 1) * gap;
  *h = rows * ch + (rows - 1) * gap;
}

static gchar *
va_text (const gchar *name, gfloat v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (v))
    return g_strdup_printf ("%s ?", name);
  g_ascii_formatd (buf, sizeof (buf), "%+.2f", CLAMP (v, -9.99f, 9.99f));
  return g_strdup_printf ("%s %s", name, buf);
}

static void
va_section_size (GstAffectOverlay *self, const GstAffectPredictions *p,
    gdouble *w, gdouble *h)
{
  gchar *tv = va_text ("V", p->valence), *ta = va_text ("A", p->arousal);
  gdouble wv, wa;

  layout_size (get_layout (self, STYLE_SMALL, tv), &wv, NULL);
  layout_size (get_layout (self, STYLE_SMALL, ta), &wa, NULL);
  g_free (tv);
  g_free (ta);
  *w = self->m.disc_d + self->m.pad + MAX (wv, wa);
  *h = MAX (self->m.disc_d, 2 * self->m.slh);
}

/* The compact form of the predictions of @fl: a bold title with the top
 * expression, and a detail with valence and arousal; with neither, the
 * active action units (p >= 0.5) as the detail. FALSE when there is
 * nothing to show. */
static gboolean
compact_size (GstAffectOverlay *self, const Settings *s, FaceLayout *fl)
{
  const GstAffectPredictions *p = &fl->disp;
  const Metrics *m = &self->m;
  gboolean expr, va, au;
  gdouble tw = 0, th = 0, dw = 0, dh = 0;

  expr = (s->draw & GST_AFFECT_OVERLAY_DRAW_EXPRESSION) && face_expr_valid (p);
  va = (s->draw & GST_AFFECT_OVERLAY_DRAW_VA)
       && (p->tasks & GST_AFFECT_TASK_VA);
  au = !expr && !va && (s->draw & GST_AFFECT_OVERLAY_DRAW_AU)
       && face_au_valid (p);
  fl->c_title = fl->c_detail = NULL;
  if (expr) {
    gchar *title = expression_title (p);

    fl->c_title = get_layout (self, STYLE_BOLD, title);
    g_free (title);
    layout_size (fl->c_title, &tw, &th);
  }
  if (va || au) {
    GString *str = g_string_new (NULL);

    if (va) {
      gchar *tv = va_text ("V", p->valence), *ta = va_text ("A", p->arousal);

      g_string_append_printf (str, "%s  %s", tv, ta);
      g_free (tv);
      g_free (ta);
    } else {
      guint i;

      for (i = 0; i < p->n_au; i++)
        if (clamp_prob (p->au[i]) >= 0.5)
          g_string_append_printf (str, "%s%s", str->len ? " " : "",
              label_or (p->au_labels[i], "?"));
      if (str->len == 0)
        g_string_append (str, "no AU active");
    }
    fl->c_detail = get_layout (self, STYLE_REGULAR, str->str);
    g_string_free (str, TRUE);
    layout_size (fl->c_detail, &dw, &dh);
  }
  if (fl->c_title == NULL && fl->c_detail == NULL)
    return FALSE;
  fl->comp_w
      = ceil (tw + dw + 2 * m->pad + (expr && fl->c_detail ? m->pad : 0));
  fl->comp_h = ceil (MAX (MAX (th, dh), m->lh) + m->pad);
  return TRUE;
}

static gdouble
clamp_coord (gdouble v, gint size)
{
  return CLAMP (v, -FAR_OUT * size, (FAR_OUT + 1) * size);
}

/* The head pose axes of @f: from the nose tip (landmark 30, or the box
 * centre without landmarks), the columns of the pose's rotation seen
 * orthographically (camera x right, y down, as the image), 0.4 times the
 * smaller box side long. FALSE when there is nothing to draw. */
static gboolean
layout_pose (const GstAffectFaceMeta *f, const Metrics *m, gint width,
    gint height, FaceLayout *fl)
{
  float r[3][3];
  gdouble len, pad;
  guint k, a, b;

  if (!isfinite (f->yaw) || !isfinite (f->pitch) || !isfinite (f->roll))
    return FALSE;
  if (f->has_landmarks && isfinite (f->landmarks[30][0])
      && isfinite (f->landmarks[30][1])) {
    fl->pose_x = f->landmarks[30][0];
    fl->pose_y = f->landmarks[30][1];
  } else {
    fl->pose_x = (gdouble)f->x + f->width / 2.0;
    fl->pose_y = (gdouble)f->y + f->height / 2.0;
  }
  fl->pose_x = clamp_coord (fl->pose_x, width);
  fl->pose_y = clamp_coord (fl->pose_y, height);
  len = 0.4 * MIN (f->width, f->height);
  if (!(len >= 1.0))
    return FALSE;
  len = MIN (len, 4.0 * MAX (width, height));

  affect_head_pose_rotation (f->yaw, f->pitch, f->roll, r);
  pad = m->lw + 1.0;
  fl->pose_x0 = fl->pose_x1 = fl->pose_x;
  fl->pose_y0 = fl->pose_y1 = fl->pose_y;
  for (k = 0; k < 3; k++) {
    /* the face's Y axis is up: (0, 1, 0) in the face frame */
    fl->pose_end[k][0] = fl->pose_x + len * r[0][k];
    fl->pose_end[k][1] = fl->pose_y + len * r[1][k];
    fl->pose_x0 = MIN (fl->pose_x0, fl->pose_end[k][0]);
    fl->pose_y0 = MIN (fl->pose_y0, fl->pose_end[k][1]);
    fl->pose_x1 = MAX (fl->pose_x1, fl->pose_end[k][0]);
    fl->pose_y1 = MAX (fl->pose_y1, fl->pose_end[k][1]);
    fl->pose_order[k] = k;
  }
  fl->pose_x0 -= pad;
  fl->pose_y0 -= pad;
  fl->pose_x1 += pad;
  fl->pose_y1 += pad;
  /* farthest axis (largest camera z) first, the nearest drawn on top */
  for (a = 0; a < 3; a++)
    for (b = a + 1; b < 3; b++)
      if (r[2][fl->pose_order[b]] > r[2][fl->pose_order[a]]) {
        guint t = fl->pose_order[a];

        fl->pose_order[a] = fl->pose_order[b];
        fl->pose_order[b] = t;
      }
  return TRUE;
}

/* Computes the geometry of one face: box, tag, landmarks and the sizes of
 * both forms of its panel (placed later, by place_panels()); FALSE when
 * nothing is to be drawn. */
static gboolean
layout_face (GstAffectOverlay *self, const Settings *s, gint width, gint height,
    FaceLayout *fl)
{
  const GstAffectFaceMeta *f = fl->face;
  const GstAffectPredictions *p = fl->has_pred ? &fl->disp : NULL;
  const Metrics *m = &self->m;
  gint x0, y0, x1, y1, a;
  gdouble bx0, by0, bx1, by1; /* what the panel keeps clear of */
  gdouble sec_w, sec_h, max_w = 0, sum_h = 0;
  guint n_sections = 0;

  if (!isfinite (f->x) || !isfinite (f->y) || !isfinite (f->width)
      || !isfinite (f->height) || f->width < 0 || f->height < 0)
    return FALSE;

  x0 = (gint)lround (clamp_coord (f->x, width));
  y0 = (gint)lround (clamp_coord (f->y, height));
  x1 = (gint)lround (clamp_coord ((gdouble)f->x + f->width, width));
  y1 = (gint)lround (clamp_coord ((gdouble)f->y + f->height, height));
  x1 = MAX (x1, x0 + 1);
  y1 = MAX (y1, y0 + 1);

  /* box outline: lw pixels centred on the edge, covering the box's first
   * and last columns and rows */
  a = m->lw / 2;
  fl->has_box = (s->draw & GST_AFFECT_OVERLAY_DRAW_BOXES) != 0;
  fl->ox0 = x0 - a;
  fl->oy0 = y0 - a;
  fl->ox1 = x1 + a;
  fl->oy1 = y1 + a;
  fl->ix0 = x0 + (m->lw - a);
  fl->iy0 = y0 + (m->lw - a);
  fl->ix1 = x1 - (m->lw - a);
  fl->iy1 = y1 - (m->lw - a);
  bx0 = fl->ox0;
  by0 = fl->oy0;
  bx1 = fl->ox1;
  by1 = fl->oy1;

  /* id tag on the top-left corner, above the box, or inside it when the
   * box touches the top of the frame */
  fl->has_tag = (s->draw & GST_AFFECT_OVERLAY_DRAW_IDS) != 0;
  if (fl->has_tag) {
    gchar text[32];
    gdouble tw, th;

    g_snprintf (text, sizeof (text), "#%u", f->track_id);
    fl->tag_layout = get_layout (self, STYLE_BOLD, text);
    layout_size (fl->tag_layout, &tw, &th);
    fl->tag_w = ceil (tw + 2 * m->pad);
    fl->tag_h = ceil (th);
    fl->tag_x = fl->ox0;
    fl->tag_y = fl->oy0 - fl->tag_h;
    if (fl->tag_y < 0)
      fl->tag_y = fl->has_box ? fl->oy0 + m->lw : fl->oy0;
    else
      by0 = fl->tag_y;
    bx1 = MAX (bx1, fl->tag_x + fl->tag_w);
  }

  fl->has_landmarks
      = (s->draw & GST_AFFECT_OVERLAY_DRAW_LANDMARKS) && f->has_landmarks;
  if (fl->has_landmarks) {
    guint i;
    gboolean any = FALSE;

    fl->lm_radius = MAX (1.0, m->lw * 0.75);
    fl->lm_x0 = fl->lm_y0 = G_MAXDOUBLE;
    fl->lm_x1 = fl->lm_y1 = -G_MAXDOUBLE;
    for (i = 0; i < GST_AFFECT_N_LANDMARKS; i++) {
      gdouble lx = f->landmarks[i][0], ly = f->landmarks[i][1];

      if (!isfinite (lx) || !isfinite (ly))
        continue;
      lx = clamp_coord (lx, width);
      ly = clamp_coord (ly, height);
      fl->lm_x0 = MIN (fl->lm_x0, lx);
      fl->lm_y0 = MIN (fl->lm_y0, ly);
      fl->lm_x1 = MAX (fl->lm_x1, lx);
      fl->lm_y1 = MAX (fl->lm_y1, ly);
      any = TRUE;
    }
    if (!any)
      fl->has_landmarks = FALSE;
  }

  fl->has_pose = (s->draw & GST_AFFECT_OVERLAY_DRAW_POSE) && f->has_pose
                 && layout_pose (f, m, width, height, fl);
  if (fl->has_pose) {
    /* panels keep clear of the axes too */
    bx0 = MIN (bx0, fl->pose_x0);
    by0 = MIN (by0, fl->pose_y0);
    bx1 = MAX (bx1, fl->pose_x1);
    by1 = MAX (by1, fl->pose_y1);
  }
  fl->kx0 = bx0;
  fl->ky0 = by0;
  fl->kx1 = bx1;
  fl->ky1 = by1;

  /* the full panel */
  fl->has_expr
      = (s->draw & GST_AFFECT_OVERLAY_DRAW_EXPRESSION) && face_expr_valid (p);
  fl->has_au = (s->draw & GST_AFFECT_OVERLAY_DRAW_AU) && face_au_valid (p);
  fl->has_va = (s->draw & GST_AFFECT_OVERLAY_DRAW_VA) && p
               && (p->tasks & GST_AFFECT_TASK_VA);
  if (fl->has_expr) {
    expression_section_size (self, p, &sec_w, &sec_h);
    fl->expr_h = sec_h;
    max_w = MAX (max_w, sec_w);
    sum_h += sec_h;
    n_sections++;
  }
  if (fl->has_au) {
    au_section_size (self, p, &sec_w, &sec_h);
    fl->au_h = sec_h;
    max_w = MAX (max_w, sec_w);
    sum_h += sec_h;
    n_sections++;
  }
  if (fl->has_va) {
    va_section_size (self, p, &sec_w, &sec_h);
    fl->va_h = sec_h;
    max_w = MAX (max_w, sec_w);
    sum_h += sec_h;
    n_sections++;
  }
  fl->can_full = n_sections > 0 && !(s->draw & GST_AFFECT_OVERLAY_DRAW_COMPACT);
  fl->full_w = ceil (max_w + 2 * m->pad);
  fl->full_h = ceil (sum_h + (n_sections - 1) * m->pad + 2 * m->pad);

  /* its compact form */
  fl->can_compact = p != NULL && compact_size (self, s, fl);
  fl->has_panel = fl->can_full || fl->can_compact;

  return fl->has_box || fl->has_tag || fl->has_landmarks || fl->has_pose
         || fl->has_panel;
}

/* Candidate places of a panel of @w × @h around the face: right, left,
 * below and above what the panel keeps clear of, each in three alignments
 * (top/left, centre, bottom/right). */
static void
candidate (const FaceLayout *fl, const Metrics *m, guint c, gdouble w,
    gdouble h, gdouble *x, gdouble *y)
{
  guint side = c / 3, align = c % 3;

  switch (side) {
    case 0:
      *x = fl->kx1 + m->gap;
      break;
    case 1:
      *x = fl->kx0 - m->gap - w;
      break;
    case 2:
      *y = fl->ky1 + m->gap;
      break;
    default:
      *y = fl->ky0 - m->gap - h;
      break;
  }
  if (side < 2)
    *y = align == 0   ? fl->ky0
         : align == 1 ? round ((fl->ky0 + fl->ky1 - h) / 2)
                      : fl->ky1 - h;
  else
    *x = align == 0   ? fl->kx0
         : align == 1 ? round ((fl->kx0 + fl->kx1 - w) / 2)
                      : fl->kx1 - w;
}

/* The candidates in the order "auto" tries them: the full panel beside the
 * face first, the one-line form below or above it first. */
static const guint full_order[N_CAND]
    = { 0, 3, 6, 9, 1, 4, 2, 5, 7, 8, 10, 11 };
static const guint compact_order[N_CAND]
    = { 6, 9, 0, 3, 7, 8, 10, 11, 1, 4, 2, 5 };

/* Shifts a panel position into the frame where the panel fits, and onto
 * whole pixels. */
static void
clamp_panel (
    gdouble w, gdouble h, gint width, gint height, gdouble *x, gdouble *y)
{
  *x = floor (MAX (0.0, MIN (*x, width - w)));
  *y = floor (MAX (0.0, MIN (*y, height - h)));
}

static gdouble
overlap_area (gdouble x0, gdouble y0, gdouble x1, gdouble y1, gdouble a0,
    gdouble b0, gdouble a1, gdouble b1)
{
  gdouble w = MIN (x1, a1) - MAX (x0, a0);
  gdouble h = MIN (y1, b1) - MAX (y0, b0);

  return w > 0 && h > 0 ? w * h : 0.0;
}

/* What a panel of face @i at (@x, @y) covers: the area of faces (box and
 * tag, its own counting twice) and of the panels placed before it, each
 * with a margin; 0 when the place is free. */
static gdouble
place_cost (GstAffectOverlay *self, guint i, gdouble x, gdouble y, gdouble w,
    gdouble h, gint width, gint height)
{
  const Metrics *m = &self->m;
  gdouble cost = 0, x1 = x + w, y1 = y + h, sep = m->sep;
  guint j;

  /* bigger than the frame: it cannot be free */
  if (w > width || h > height)
    cost += w * h;
  for (j = 0; j < self->faces->len; j++) {
    const FaceLayout *o = &g_array_index (self->faces, FaceLayout, j);

    if (j == i)
      cost += 8 * overlap_area (x, y, x1, y1, o->kx0, o->ky0, o->kx1, o->ky1);
    else
      cost += 4
              * overlap_area (x - sep, y - sep, x1 + sep, y1 + sep, o->kx0,
                  o->ky0, o->kx1, o->ky1);
    if (j < i && o->has_panel)
      cost += overlap_area (x - sep, y - sep, x1 + sep, y1 + sep, o->px, o->py,
          o->px + o->pw, o->py + o->ph);
  }
  return cost;
}

static void
set_panel (FaceLayout *fl, PanelForm form, gdouble x, gdouble y)
{
  fl->form = form;
  fl->pw = form == FORM_FULL ? fl->full_w : fl->comp_w;
  fl->ph = form == FORM_FULL ? fl->full_h : fl->comp_h;
  fl->px = x;
  fl->py = y;
}

/* Places the panel of face @i with placement "auto": the first free place
 * of the full panel (its place on the previous frame first), else of the
 * compact form, else the compact place that covers least. */
static void
place_auto (GstAffectOverlay *self, guint i, gint width, gint height)
{
  FaceLayout *fl = &g_array_index (self->faces, FaceLayout, i);
  const Metrics *m = &self->m;
  guint prev = fl->track->place, form, k;
  gdouble best_cost = G_MAXDOUBLE, bx = 0, by = 0;
  guint best = 0;
  PanelForm fallback;

  for (form = FORM_FULL; form <= FORM_COMPACT; form++) {
    const guint *order = form == FORM_FULL ? full_order : compact_order;
    gboolean ok = form == FORM_FULL ? fl->can_full : fl->can_compact;
    gdouble w = form == FORM_FULL ? fl->full_w : fl->comp_w;
    gdouble h = form == FORM_FULL ? fl->full_h : fl->comp_h;

    if (!ok)
      continue;
    /* k = 0: the place of the previous frame, when of this form */
    for (k = 0; k <= N_CAND; k++) {
      guint c;
      gdouble x, y;

      if (k == 0) {
        if (prev == 0 || (prev - 1) / N_CAND != form)
          continue;
        c = (prev - 1) % N_CAND;
      } else {
        c = order[k - 1];
      }
      candidate (fl, m, c, w, h, &x, &y);
      clamp_panel (w, h, width, height, &x, &y);
      if (place_cost (self, i, x, y, w, h, width, height) == 0) {
        set_panel (fl, form, x, y);
        fl->track->place = 1 + form * N_CAND + c;
        return;
      }
    }
  }

  /* no free place: the compact form (the full panel when there is no
   * compact one) where it covers least */
  fallback = fl->can_compact ? FORM_COMPACT : FORM_FULL;
  set_panel (fl, fallback, 0, 0);
  for (k = 0; k < N_CAND; k++) {
    guint c = compact_order[k];
    gdouble x, y, cost;

    candidate (fl, m, c, fl->pw, fl->ph, &x, &y);
    clamp_panel (fl->pw, fl->ph, width, height, &x, &y);
    cost = place_cost (self, i, x, y, fl->pw, fl->ph, width, height);
    if (cost < best_cost) {
      best_cost = cost;
      best = c;
      bx = x;
      by = y;
    }
  }
  set_panel (fl, fallback, bx, by);
  fl->track->place = 1 + fallback * N_CAND + best;
}

/* Places every panel: "auto" in buffer order (see place_auto()), the other
 * placements on their side of the box, shifted into the frame. */
static void
place_panels (
    GstAffectOverlay *self, const Settings *s, gint width, gint height)
{
  guint i;

  for (i = 0; i < self->faces->len; i++) {
    FaceLayout *fl = &g_array_index (self->faces, FaceLayout, i);
    PanelForm form;
    guint c;
    gdouble x, y;

    if (!fl->has_panel)
      continue;
    if (s->placement == GST_AFFECT_OVERLAY_PLACEMENT_AUTO) {
      place_auto (self, i, width, height);
    } else {
      switch (s->placement) {
        case GST_AFFECT_OVERLAY_PLACEMENT_LEFT:
          c = 3;
          break;
        case GST_AFFECT_OVERLAY_PLACEMENT_BELOW:
          c = 6;
          break;
        case GST_AFFECT_OVERLAY_PLACEMENT_ABOVE:
          c = 9;
          break;
        default:
          c = 0;
          break;
      }
      form = fl->can_full ? FORM_FULL : FORM_COMPACT;
      set_panel (fl, form, 0, 0);
      candidate (fl, &self->m, c, fl->pw, fl->ph, &x, &y);
      clamp_panel (fl->pw, fl->ph, width, height, &x, &y);
      set_panel (fl, form, x, y);
    }
  }

  /* the layout, for debugging and for the tests */
  for (i = 0; i < self->faces->len; i++) {
    const FaceLayout *fl = &g_array_index (self->faces, FaceLayout, i);

    GST_DEBUG_OBJECT (self,
        "layout track=%u color=%08x keep=%d,%d,%d,%d panel=%s,%d,%d,%d,%d",
        fl->face->track_id, fl->color, (gint)fl->kx0, (gint)fl->ky0,
        (gint)fl->kx1, (gint)fl->ky1,
        !fl->has_panel             ? "none"
        : fl->form == FORM_COMPACT ? "compact"
                                   : "full",
        (gint)fl->px, (gint)fl->py, (gint)fl->pw, (gint)fl->ph);
  }
}

/* ------------------------------------------------------------------ */
/* Drawing                                                             */
/* ------------------------------------------------------------------ */

static void
set_color (cairo_t *cr, guint32 argb, gdouble alpha_scale)
{
  cairo_set_source_rgba (cr, ((argb >> 16) & 0xff) / 255.0,
      ((argb >> 8) & 0xff) / 255.0, (argb & 0xff) / 255.0,
      ((argb >> 24) & 0xff) / 255.0 * alpha_scale);
}

/* Black or white, whichever shows better on @argb. */
static guint32
contrast_color (guint32 argb)
{
  gdouble luma = 0.299 * ((argb >> 16) & 0xff) + 0.587 * ((argb >> 8) & 0xff)
                 + 0.114 * (argb & 0xff);

  return luma > 140 ? 0xff000000u : 0xffffffffu;
}

static void
rounded_rect (
    cairo_t *cr, gdouble x, gdouble y, gdouble w, gdouble h, gdouble r)
{
  r = MIN (r, MIN (w, h) / 2);
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

static void
show_text (cairo_t *cr, PangoLayout *layout, gdouble x, gdouble y)
{
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
}

static gdouble
draw_expression (GstAffectOverlay *self, cairo_t *cr, const Settings *s,
    const FaceLayout *fl, gdouble x, gdouble y, gdouble w)
{
  const GstAffectPredictions *p = &fl->disp;
  const Metrics *m = &self->m;
  guint top = top_expression (p), i;
  gchar *title;
  gdouble label_w = 0, lw, bar_x, bar_w, bar_h;

  title = expression_title (p);
  set_color (cr, s->text_color, 1.0);
  show_text (cr, get_layout (self, STYLE_BOLD, title), x, y);
  g_free (title);
  y += m->lh;

  for (i = 0; i < p->n_expr; i++) {
    layout_size (
        get_layout (self, STYLE_SMALL, label_or (p->expr_labels[i], "?")), &lw,
        NULL);
    label_w = MAX (label_w, lw);
  }
  bar_x = x + label_w + m->pad;
  bar_w = MAX (1.0, x + w - bar_x);
  bar_h = MAX (3.0, round (m->slh * 0.55));
  for (i = 0; i < p->n_expr; i++) {
    gdouble by = y + round ((m->slh - bar_h) / 2);
    gdouble v = clamp_prob (p->expr[i]);

    set_color (cr, s->text_color, i == top ? 1.0 : 0.8);
    show_text (cr,
        get_layout (self, STYLE_SMALL, label_or (p->expr_labels[i], "?")), x,
        y);
    set_color (cr, s->text_color, 0.2);
    cairo_rectangle (cr, bar_x, by, bar_w, bar_h);
    cairo_fill (cr);
    if (v > 0) {
      if (i == top)
        set_color (cr, fl->color, 1.0);
      else
        set_color (cr, s->text_color, 0.85);
      cairo_rectangle (cr, bar_x, by, MAX (1.0, round (v * bar_w)), bar_h);
      cairo_fill (cr);
    }
    y += m->slh;
  }
  return y;
}

static gdouble
draw_au (GstAffectOverlay *self, cairo_t *cr, const Settings *s,
    const FaceLayout *fl, gdouble x, gdouble y)
{
  const GstAffectPredictions *p = &fl->disp;
  guint cols = au_columns (p->n_au), i;
  gdouble cw, ch, gap = MAX (1.0, floor (self->m.pad / 2));
  gdouble bottom = y;

  au_cell_size (self, p, &cw, &ch);
  for (i = 0; i < p->n_au; i++) {
    gdouble cx = x + (i % cols) * (cw + gap);
    gdouble cy = y + (i / cols) * (ch + gap);
    gdouble v = clamp_prob (p->au[i]);
    gdouble fill = round (v * ch);
    PangoLayout *layout
        = get_layout (self, STYLE_SMALL, label_or (p->au_labels[i], "?"));
    gdouble tw, th;

    set_color (cr, s->text_color, 0.15);
    cairo_rectangle (cr, cx, cy, cw, ch);
    cairo_fill (cr);
    if (fill > 0) {
      set_color (cr, fl->color, 0.9);
      cairo_rectangle (cr, cx, cy + ch - fill, cw, fill);
      cairo_fill (cr);
    }
    if (v >= 0.5) {
      /* active: a frame around the cell */
      set_color (cr, fl->color, 1.0);
      cairo_set_line_width (cr, 1.0);
      cairo_rectangle (cr, cx + 0.5, cy + 0.5, cw - 1, ch - 1);
      cairo_stroke (cr);
    }
    layout_size (layout, &tw, &th);
    set_color (cr, s->text_color, v >= 0.5 ? 1.0 : 0.75);
    show_text (
        cr, layout, cx + round ((cw - tw) / 2), cy + round ((ch - th) / 2));
    bottom = cy + ch;
  }
  return bottom;
}

static void
draw_va (GstAffectOverlay *self, cairo_t *cr, const Settings *s,
    const FaceLayout *fl, gdouble x, gdouble y)
{
  const GstAffectPredictions *p = &fl->disp;
  const Metrics *m = &self->m;
  gdouble r = m->disc_d / 2, cx = x + r, cy = y + r;
  gdouble v = isfinite (p->valence) ? CLAMP (p->valence, -1.0f, 1.0f) : 0;
  gdouble a = isfinite (p->arousal) ? CLAMP (p->arousal, -1.0f, 1.0f) : 0;
  gdouble dot_r = MAX (2.5, m->disc_d * 0.08);
  gdouble inner = r - 0.5;
  gchar *tv, *ta;
  gdouble ty;

  /* disc, axes */
  set_color (cr, s->text_color, 0.12);
  cairo_arc (cr, cx, cy, inner, 0, 2 * G_PI);
  cairo_fill (cr);
  set_color (cr, s->text_color, 0.6);
  cairo_set_line_width (cr, 1.0);
  cairo_arc (cr, cx, cy, inner, 0, 2 * G_PI);
  cairo_stroke (cr);
  set_color (cr, s->text_color, 0.35);
  cairo_move_to (cr, cx - inner, cy);
  cairo_line_to (cr, cx + inner, cy);
  cairo_move_to (cr, cx, cy - inner);
  cairo_line_to (cr, cx, cy + inner);
  cairo_stroke (cr);

  /* the dot: valence to the right, arousal up; inside the disc */
  if (isfinite (p->valence) && isfinite (p->arousal)) {
    gdouble dx = v * (inner - dot_r), dy = -a * (inner - dot_r);
    gdouble len = sqrt (dx * dx + dy * dy), lim = inner - dot_r;

    if (len > lim && len > 0) {
      dx *= lim / len;
      dy *= lim / len;
    }
    set_color (cr, fl->color, 1.0);
    cairo_arc (cr, cx + dx, cy + dy, dot_r, 0, 2 * G_PI);
    cairo_fill_preserve (cr);
    set_color (cr, s->text_color, 1.0);
    cairo_set_line_width (cr, 1.0);
    cairo_stroke (cr);
  }

  /* the values */
  tv = va_text ("V", p->valence);
  ta = va_text ("A", p->arousal);
  ty = y + MAX (0.0, round ((m->disc_d - 2 * m->slh) / 2));
  set_color (cr, s->text_color, 1.0);
  show_text (
      cr, get_layout (self, STYLE_SMALL, tv), x + m->disc_d + m->pad, ty);
  show_text (cr, get_layout (self, STYLE_SMALL, ta), x + m->disc_d + m->pad,
      ty + m->slh);
  g_free (tv);
  g_free (ta);
}

/* The compact form: title and detail on one line. */
static void
draw_compact (GstAffectOverlay *self, cairo_t *cr, const Settings *s,
    const FaceLayout *fl)
{
  const Metrics *m = &self->m;
  gdouble x = fl->px + m->pad, w, h;

  if (fl->c_title) {
    layout_size (fl->c_title, &w, &h);
    set_color (cr, s->text_color, 1.0);
    show_text (cr, fl->c_title, x, fl->py + round ((fl->ph - h) / 2));
    x += w + m->pad;
  }
  if (fl->c_detail) {
    layout_size (fl->c_detail, &w, &h);
    set_color (cr, s->text_color, 0.9);
    show_text (cr, fl->c_detail, x, fl->py + round ((fl->ph - h) / 2));
  }
}

/* The parts of a face, each rendered into its own overlay rectangle, so
 * that the blend only touches pixels near what is drawn (not the inside of
 * the box, nor the room between box and panel). */
typedef enum {
  PART_BOX,
  PART_LANDMARKS,
  PART_POSE,
  PART_TAG,
  PART_PANEL,
} Part;

/* Draws @part of a face into @cr, whose origin is the frame's. */
static void
draw_part (GstAffectOverlay *self, cairo_t *cr, const Settings *s,
    const FaceLayout *fl, Part part)
{
  const Metrics *m = &self->m;
  const GstAffectFaceMeta *f = fl->face;

  switch (part) {
    case PART_BOX:
      set_color (cr, fl->color, 1.0);
      cairo_rectangle (
          cr, fl->ox0, fl->oy0, fl->ox1 - fl->ox0, fl->oy1 - fl->oy0);
      if (fl->ix1 > fl->ix0 && fl->iy1 > fl->iy0) {
        cairo_rectangle (
            cr, fl->ix0, fl->iy0, fl->ix1 - fl->ix0, fl->iy1 - fl->iy0);
        cairo_set_fill_rule (cr, CAIRO_FILL_RULE_EVEN_ODD);
      }
      cairo_fill (cr);
      cairo_set_fill_rule (cr, CAIRO_FILL_RULE_WINDING);
      break;
    case PART_LANDMARKS: {
      guint i;

      set_color (cr, fl->color, 0.9);
      for (i = 0; i < GST_AFFECT_N_LANDMARKS; i++) {
        gdouble lx = f->landmarks[i][0], ly = f->landmarks[i][1];

        if (!isfinite (lx) || !isfinite (ly))
          continue;
        cairo_new_sub_path (cr);
        /* far-away points are clamped (cairo coordinates are limited) */
        cairo_arc (cr, CLAMP (lx, -1e5, 1e5), CLAMP (ly, -1e5, 1e5),
            fl->lm_radius, 0, 2 * G_PI);
      }
      cairo_fill (cr);
      break;
    }
    case PART_POSE: {
      static const guint32 axis_color[3]
          = { POSE_X_COLOR, POSE_Y_COLOR, POSE_Z_COLOR };
      guint k;

      cairo_set_line_width (cr, m->lw);
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
      for (k = 0; k < 3; k++) {
        guint a = fl->pose_order[k];

        set_color (cr, axis_color[a], 1.0);
        cairo_move_to (cr, fl->pose_x, fl->pose_y);
        cairo_line_to (cr, fl->pose_end[a][0], fl->pose_end[a][1]);
        cairo_stroke (cr);
      }
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
      break;
    }
    case PART_TAG:
      set_color (cr, fl->color, 1.0);
      cairo_rectangle (cr, fl->tag_x, fl->tag_y, fl->tag_w, fl->tag_h);
      cairo_fill (cr);
      set_color (cr, fl->tag_text_color, 1.0);
      show_text (cr, fl->tag_layout, fl->tag_x + m->pad, fl->tag_y);
      break;
    case PART_PANEL: {
      gdouble x = fl->px + m->pad, y = fl->py + m->pad;
      gdouble w = fl->pw - 2 * m->pad, b = m->border;

      set_color (cr, PANEL_COLOR, 1.0);
      rounded_rect (cr, fl->px, fl->py, fl->pw, fl->ph, m->pad);
      cairo_fill (cr);
      /* the border, in the track colour, inside the panel */
      set_color (cr, fl->color, 1.0);
      cairo_set_line_width (cr, b);
      rounded_rect (cr, fl->px + b / 2, fl->py + b / 2, fl->pw - b, fl->ph - b,
          MAX (0.0, m->pad - b / 2));
      cairo_stroke (cr);
      if (fl->form == FORM_COMPACT) {
        draw_compact (self, cr, s, fl);
        break;
      }
      if (fl->has_expr) {
        draw_expression (self, cr, s, fl, x, y, w);
        y += fl->expr_h + m->pad;
      }
      if (fl->has_au) {
        draw_au (self, cr, s, fl, x, y);
        y += fl->au_h + m->pad;
      }
      if (fl->has_va)
        draw_va (self, cr, s, fl, x, y);
      break;
    }
  }
}

/* Renders @part of a face, inside the frame area [x0, x1) × [y0, y1), into
 * a new rectangle appended to *@comp. */
static void
render_part (GstAffectOverlay *self, const Settings *s, const FaceLayout *fl,
    Part part, gdouble x0, gdouble y0, gdouble x1, gdouble y1, gint width,
    gint height, GstVideoOverlayComposition **comp)
{
  GstVideoOverlayRectangle *rect;
  cairo_surface_t *surface;
  cairo_t *cr;
  GstBuffer *buf;
  GstMapInfo map;
  gint rx, ry, rw, rh, stride;

  x0 = MAX (0.0, floor (x0));
  y0 = MAX (0.0, floor (y0));
  x1 = MIN ((gdouble)width, ceil (x1));
  y1 = MIN ((gdouble)height, ceil (y1));
  if (x1 <= x0 || y1 <= y0)
    return;
  rx = (gint)x0;
  ry = (gint)y0;
  rw = (gint)(x1 - x0);
  rh = (gint)(y1 - y0);
  stride = cairo_format_stride_for_width (CAIRO_FORMAT_ARGB32, rw);

  buf = gst_buffer_new_allocate (NULL, (gsize)stride * rh, NULL);
  if (buf == NULL || !gst_buffer_map (buf, &map, GST_MAP_READWRITE)) {
    GST_WARNING_OBJECT (self, "could not allocate a %dx%d overlay", rw, rh);
    gst_clear_buffer (&buf);
    return;
  }
  memset (map.data, 0, map.size);
  surface = cairo_image_surface_create_for_data (
      map.data, CAIRO_FORMAT_ARGB32, rw, rh, stride);
  cr = cairo_create (surface);
  cairo_translate (cr, -rx, -ry);
  draw_part (self, cr, s, fl, part);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  gst_buffer_unmap (buf, &map);

  {
    gsize offset[GST_VIDEO_MAX_PLANES] = { 0 };
    gint strides[GST_VIDEO_MAX_PLANES] = { stride };

    gst_buffer_add_video_meta_full (buf, GST_VIDEO_FRAME_FLAG_NONE,
        GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, rw, rh, 1, offset, strides);
  }
  rect = gst_video_overlay_rectangle_new_raw (
      buf, rx, ry, rw, rh, GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA);
  gst_buffer_unref (buf);
  if (*comp == NULL)
    *comp = gst_video_overlay_composition_new (rect);
  else
    gst_video_overlay_composition_add_rectangle (*comp, rect);
  gst_video_overlay_rectangle_unref (rect);
}

/* Renders the parts of one face, in drawing order, into *@comp. */
static void
render_face (GstAffectOverlay *self, const Settings *s, const FaceLayout *fl,
    gint width, gint height, GstVideoOverlayComposition **comp)
{
  if (fl->has_box) {
    gint lw = self->m.lw;

    if (fl->ix1 > fl->ix0 && fl->iy1 > fl->iy0) {
      /* four strips: top, bottom, left, right */
      render_part (self, s, fl, PART_BOX, fl->ox0, fl->oy0, fl->ox1,
          fl->oy0 + lw, width, height, comp);
      render_part (self, s, fl, PART_BOX, fl->ox0, fl->iy1, fl->ox1, fl->oy1,
          width, height, comp);
      render_part (self, s, fl, PART_BOX, fl->ox0, fl->iy0, fl->ix0, fl->iy1,
          width, height, comp);
      render_part (self, s, fl, PART_BOX, fl->ix1, fl->iy0, fl->ox1, fl->iy1,
          width, height, comp);
    } else {
      render_part (self, s, fl, PART_BOX, fl->ox0, fl->oy0, fl->ox1, fl->oy1,
          width, height, comp);
    }
  }
  if (fl->has_landmarks)
    render_part (self, s, fl, PART_LANDMARKS, fl->lm_x0 - fl->lm_radius - 1,
        fl->lm_y0 - fl->lm_radius - 1, fl->lm_x1 + fl->lm_radius + 1,
        fl->lm_y1 + fl->lm_radius + 1, width, height, comp);
  if (fl->has_pose)
    render_part (self, s, fl, PART_POSE, fl->pose_x0, fl->pose_y0, fl->pose_x1,
        fl->pose_y1, width, height, comp);
  if (fl->has_tag)
    render_part (self, s, fl, PART_TAG, fl->tag_x, fl->tag_y,
        fl->tag_x + fl->tag_w, fl->tag_y + fl->tag_h, width, height, comp);
  if (fl->has_panel)
    render_part (self, s, fl, PART_PANEL, fl->px, fl->py, fl->px + fl->pw,
        fl->py + fl->ph, width, height, comp);
}

static void
update_metrics (GstAffectOverlay *self, const Settings *s, gint height)
{
  Metrics *m = &self->m;
  gdouble h;

  update_fonts (self, height);
  /* a long stream sees many ids and percentages: keep the cache bounded.
   * Only here, between frames: the layouts of a frame are held until it is
   * drawn. */
  if (g_hash_table_size (self->layouts) >= MAX_CACHED_LAYOUTS)
    g_hash_table_remove_all (self->layouts);
  m->em = self->font_px;
  layout_size (get_layout (self, STYLE_REGULAR, "Ag"), NULL, &h);
  m->lh = ceil (MAX (h, m->em));
  layout_size (get_layout (self, STYLE_SMALL, "Ag"), NULL, &h);
  m->slh = ceil (MAX (h, m->em * 0.8));
  m->pad = MAX (2.0, round (m->em * 0.4));
  m->gap = MAX (2.0, round (m->pad * 0.5));
  m->sep = MAX (1.0, round (m->pad * 0.5));
  m->border = MAX (1.0, round (m->em / 12));
  m->bar_w = round (5.0 * m->em);
  m->disc_d = round (3.2 * m->lh);
  if (s->line_width > 0)
    m->lw = MAX (1, (gint)lround (s->line_width));
  else
    m->lw = MAX (1, (gint)lround (frame_scale (LINE_PX_480, height)));
}

static GstFlowReturn
gst_affect_overlay_transform_ip (GstBaseTransform *trans, GstBuffer *buf)
{
  GstAffectOverlay *self = GST_AFFECT_OVERLAY (trans);
  GstVideoFilter *filter = GST_VIDEO_FILTER (trans);
  GstVideoInfo *info = &filter->in_info;
  gint width = GST_VIDEO_INFO_WIDTH (info);
  gint height = GST_VIDEO_INFO_HEIGHT (info);
  GstClockTime pts = GST_BUFFER_PTS (buf);
  GstVideoOverlayComposition *comp = NULL;
  GstAffectFaceMeta *face;
  gpointer state = NULL;
  Settings s;
  guint i;

  if (G_UNLIKELY (!filter->negotiated))
    goto not_negotiated;

  if (gst_buffer_get_n_affect_faces (buf) == 0)
    return GST_FLOW_OK;

  GST_OBJECT_LOCK (self);
  s = self->props;
  GST_OBJECT_UNLOCK (self);
  if (self->pango == NULL)
    gst_affect_overlay_start (trans);
  update_metrics (self, &s, height);

  /* ids of ended tracks are never reused: forget them now and then */
  self->frame_no++;
  if (self->frame_no % 64 == 0)
    g_hash_table_foreach_remove (self->tracks, track_is_old, &self->frame_no);

  /* first the geometry of every face (the layouts it uses are then all in
   * the cache), then the drawing */
  g_array_set_size (self->faces, 0);
  while ((face = gst_buffer_iterate_affect_face_meta (buf, &state))) {
    GstAffectPredictionsMeta *pm
        = gst_buffer_get_affect_predictions_meta_by_track (buf, face->track_id);
    TrackState *st = get_track (self, face->track_id);
    FaceLayout fl = { 0 };

    fl.face = face;
    fl.track = st;
    if (st->last_frame == self->frame_no) {
      /* a second face meta of one track (the contract forbids it): drawn,
       * but the track's state follows the first */
      fl.has_pred = pm != NULL;
      if (pm)
        fl.disp = pm->predictions;
    } else if (pm) {
      fl.has_pred = TRUE;
      display_predictions (self, &s, face->track_id, st, &pm->predictions,
          smoothing_weight (self, &s, st, pts), &fl.disp);
    }
    st->last_frame = self->frame_no;
    st->last_pts = pts;
    if (s.color_mode == GST_AFFECT_OVERLAY_COLOR_MODE_SINGLE) {
      fl.color = s.box_color;
      fl.tag_text_color = s.text_color;
    } else {
      fl.color = track_palette[st->color];
      fl.tag_text_color = contrast_color (fl.color);
    }
    if (layout_face (self, &s, width, height, &fl))
      g_array_append_val (self->faces, fl);
  }
  place_panels (self, &s, width, height);
  GST_LOG_OBJECT (self, "drawing %u faces", self->faces->len);

  for (i = 0; i < self->faces->len; i++)
    render_face (self, &s, &g_array_index (self->faces, FaceLayout, i), width,
        height, &comp);
  g_array_set_size (self->faces, 0);
  if (comp == NULL)
    return GST_FLOW_OK;

  if (self->attach) {
    GstVideoOverlayCompositionMeta *meta
        = gst_buffer_get_video_overlay_composition_meta (buf);

    if (meta) {
      /* keep upstream's rectangles (the same ones, not copies), ours on
       * top */
      GstVideoOverlayComposition *merged = NULL;
      guint n_up = gst_video_overlay_composition_n_rectangles (meta->overlay);
      guint n = gst_video_overlay_composition_n_rectangles (comp);

      for (i = 0; i < n_up + n; i++) {
        GstVideoOverlayRectangle *r
            = i < n_up ? gst_video_overlay_composition_get_rectangle (
                  meta->overlay, i)
                       : gst_video_overlay_composition_get_rectangle (
                           comp, i - n_up);

        if (merged == NULL)
          merged = gst_video_overlay_composition_new (r);
        else
          gst_video_overlay_composition_add_rectangle (merged, r);
      }
      gst_buffer_remove_video_overlay_composition_meta (buf, meta);
      gst_video_overlay_composition_unref (comp);
      comp = merged;
    }
    gst_buffer_add_video_overlay_composition_meta (buf, comp);
  } else {
    GstVideoFrame frame;

    if (!gst_video_frame_map (&frame, info, buf, GST_MAP_READWRITE)) {
      gst_video_overlay_composition_unref (comp);
      GST_ELEMENT_ERROR (self, STREAM, FAILED,
          ("Could not map a video frame for drawing."),
          ("%dx%d %s", width, height,
              gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (info))));
      return GST_FLOW_ERROR;
    }
    if (!gst_video_overlay_composition_blend (comp, &frame)
        && !self->warned_blend) {
      GST_ELEMENT_WARNING (self, STREAM, NOT_IMPLEMENTED,
          ("Cannot draw on %s video; the overlay is missing.",
              gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (info))),
          ("gst_video_overlay_composition_blend() failed"));
      self->warned_blend = TRUE;
    }
    gst_video_frame_unmap (&frame);
  }
  gst_video_overlay_composition_unref (comp);
  return GST_FLOW_OK;

not_negotiated : {
  GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
      ("affectoverlay received a buffer before caps"));
  return GST_FLOW_NOT_NEGOTIATED;
}
}
