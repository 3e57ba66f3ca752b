/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* GTypes of GstAffectBranch, GstAffectModalities and GstAffectTasks, with
 * descriptions in words (see affect-enumtypes.h). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "affect-enumtypes.h"
#include "affectmeta.h"

GType
gst_affect_branch_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    { GST_AFFECT_BRANCH_IMAGE, "Image feature of the face (f_img)",
        "branch-image" },
    { GST_AFFECT_BRANCH_EXPRESSION, "Expression embedding (f_exp)",
        "branch-expression" },
    { GST_AFFECT_BRANCH_SPEECH, "Speech features (f_spe)", "branch-speech" },
    { GST_AFFECT_BRANCH_WORDS, "Word embedding (f_wrd)", "branch-words" },
    { GST_AFFECT_N_BRANCHES, "Number of branches", "n-branches" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static (
        g_intern_static_string ("GstAffectBranch"), values);

    g_once_init_leave (&type, t);
  }
  return (GType)type;
}

GType
gst_affect_modalities_get_type (void)
{
  static gsize type = 0;
  static const GFlagsValue values[] = {
    { GST_AFFECT_MODALITY_NONE, "No branch", "none" },
    { GST_AFFECT_MODALITY_IMAGE, "Image feature of the face (f_img)", "image" },
    { GST_AFFECT_MODALITY_EXPRESSION, "Expression embedding (f_exp)",
        "expression" },
    { GST_AFFECT_MODALITY_SPEECH,
        "Speech features (f_spe, needs the audio pad)", "speech" },
    { GST_AFFECT_MODALITY_WORDS, "Word embedding (f_wrd, needs the text pad)",
        "words" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type)) {
    GType t = g_flags_register_static (
        g_intern_static_string ("GstAffectModalities"), values);

    g_once_init_leave (&type, t);
  }
  return (GType)type;
}

GType
gst_affect_tasks_get_type (void)
{
  static gsize type = 0;
  static const GFlagsValue values[] = {
    { GST_AFFECT_TASK_NONE, "No task", "none" },
    { GST_AFFECT_TASK_AU, "Action-unit probabilities", "au" },
    { GST_AFFECT_TASK_EXPRESSION, "Expression probabilities", "expression" },
    { GST_AFFECT_TASK_VA, "Valence and arousal", "va" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type)) {
    GType t = g_flags_register_static (
        g_intern_static_string ("GstAffectTasks"), values);

    g_once_init_leave (&type, t);
  }
  return (GType)type;
}
