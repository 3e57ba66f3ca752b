/* gst-affect — cuda/emu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CUDA kernels of cuda/ compiled for the host (CK_EMULATE, see
 * ck-emu.h): the same sources as the module's, one translation unit.
 */

#include "../cuda-elementwise.cu"
#include "../cuda-conv.cu"
#include "../cuda-norm.cu"
#include "../cuda-gru.cu"
