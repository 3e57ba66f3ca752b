/* gst-affect — cuda/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CUDA kernels' launchers: plain C declarations, no GLib, so that both
 * the .cu files (nvcc) and the module's C files (gcc) include them. One .cu
 * file per op family:
 *
 *   cuda-elementwise.cu  add, activations, GELU, binary, scale, bias +
 *                        activation epilogue, pads, concatenation, row
 *                        copies, gather
 *   cuda-conv.cu         direct and depthwise convolutions, pooling, global
 *                        mean, bilinear resize
 *   cuda-norm.cu         softmax, masked softmax, layer norm
 *   cuda-gru.cu          the GRU gate update of one step
 *
 * Every launcher enqueues on @s and returns cudaGetLastError () (launch
 * errors only; execution errors surface at the next synchronisation).
 * Pointers are device memory unless stated otherwise. The numerics follow
 * the CPU backend (docs/inference-core.md): sums in float32, transcendental
 * functions, softmax and normalisation statistics in double, rounded once.
 *
 * UNVERIFIED: written and compiled without a GPU; none of these kernels has
 * run on a device yet (docs/cuda.md).
 */

#ifndef __AFFECT_CUDA_KERNELS_H__
#define __AFFECT_CUDA_KERNELS_H__

#include <stddef.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Activation codes: the values of AffectUnaryOp (affect-backend.h), plus
 * CK_ACT_NONE for epilogues. cuda-backend.c checks that they agree. */
enum {
  CK_ACT_RELU = 0,
  CK_ACT_RELU6 = 1,
  CK_ACT_LEAKY = 2,
  CK_ACT_SIGMOID = 3,
  CK_ACT_TANH = 4,
  CK_ACT_GELU = 5,
  CK_ACT_NONE = 100
};

/* The values of AffectBinaryOp. */
enum { CK_BIN_ADD = 0, CK_BIN_SUB = 1, CK_BIN_MUL = 2 };

/* A kernel that does nothing: the probe launches it to learn whether the
 * module has code for the device (cudaErrorNoKernelImageForDevice). */
cudaError_t ck_probe (cudaStream_t s);

/* ---- cuda-elementwise.cu ---- */
cudaError_t ck_add (
    cudaStream_t s, const float *a, const float *b, float *y, size_t n);
cudaError_t ck_unary (cudaStream_t s, float *x, size_t n, int act);
/* a[i] = a[i] op b[i % nb] */
cudaError_t ck_binary (
    cudaStream_t s, float *a, const float *b, size_t n, size_t nb, int op);
cudaError_t ck_scale (
    cudaStream_t s, float *x, size_t n, float alpha, float beta);
/* y[r, j] = act (y[r, j] + bias[j]) over rows × c (bias may be NULL). */
cudaError_t ck_bias_act (
    cudaStream_t s, float *y, const float *bias, size_t rows, int c, int act);
/* Zero padding of x [n, h, w, c] into y [n, oh, ow, c] at (top, left). */
cudaError_t ck_pad (cudaStream_t s, const float *x, float *y, int n, int h,
    int w, int c, int oh, int ow, int top, int left);
cudaError_t ck_concat_channels (cudaStream_t s, const float *a, const float *b,
    float *y, size_t pixels, int ca, int cb);
cudaError_t ck_pad_channels (
    cudaStream_t s, const float *x, float *y, size_t pixels, int cx, int cy);
/* For i < batch: rows × cols floats, src + i src_stride (rows src_ld apart)
 * to dst + i dst_stride (rows dst_ld apart). */
cudaError_t ck_copy_rows (cudaStream_t s, const float *src, size_t src_ld,
    size_t src_stride, float *dst, size_t dst_ld, size_t dst_stride, int rows,
    int cols, int batch);
/* y [n_ids, c] = table rows @ids (device memory, already range-checked). */
cudaError_t ck_gather_rows (cudaStream_t s, const float *table, const int *ids,
    size_t n_ids, int c, float *y);

/* ---- cuda-conv.cu ---- */
/* y [n, oh, ow, cout] = act (conv (x [n, h, w, cin], filter [kh, kw, cin,
 * cout]) + bias), TF padding given by the before pads. */
cudaError_t ck_conv_direct (cudaStream_t s, const float *x, const float *filter,
    const float *bias, float *y, int n, int h, int w, int cin, int oh, int ow,
    int cout, int kh, int kw, int stride, int pad_top, int pad_left, int act);
/* Depthwise: filter [kh, kw, c]; bias NULL for the first half of a
 * separable layer (then act must be CK_ACT_NONE). */
cudaError_t ck_conv_depthwise (cudaStream_t s, const float *x,
    const float *filter, const float *bias, float *y, int n, int h, int w,
    int c, int oh, int ow, int kh, int kw, int stride, int pad_top,
    int pad_left, int act);
/* im2col rows for pixels [p0, p0 + np) of the output (p counts over n, oy,
 * ox): col [np, kh·kw·cin], K ordered (ky, kx, ci) like the HWIO filter;
 * padded taps are zeros. */
cudaError_t ck_im2col (cudaStream_t s, const float *x, float *col, size_t p0,
    size_t np, int h, int w, int cin, int oh, int ow, int kh, int kw,
    int stride, int pad_top, int pad_left);
/* kind 0 max (ignores padding), 1 avg (divides by the in-bounds count). */
cudaError_t ck_pool (cudaStream_t s, int kind, const float *x, float *y, int n,
    int h, int w, int c, int oh, int ow, int k, int stride, int pad_top,
    int pad_left);
cudaError_t ck_global_mean (
    cudaStream_t s, const float *x, float *y, int n, int hw, int c);
/* TF legacy bilinear (align_corners = half_pixel_centers = false). */
cudaError_t ck_resize_bilinear (cudaStream_t s, const float *x, float *y, int n,
    int h, int w, int c, int oh, int ow);

/* ---- cuda-norm.cu ---- */
cudaError_t ck_softmax (cudaStream_t s, float *x, size_t rows, int c);
/* Rows r of c floats; image = r / rows_per_image, row in its matrix =
 * r % w; mask [mask_n, c] or NULL. */
cudaError_t ck_softmax_masked (cudaStream_t s, float *x, size_t rows,
    size_t rows_per_image, int w, int c, float scale, const float *mask,
    int mask_n, int causal_offset);
cudaError_t ck_layer_norm (cudaStream_t s, float *x, size_t rows, int c,
    const float *gamma, const float *beta, double eps);

/* ---- cuda-gru.cu ---- */
/* One step t of a GRU over B sequences of T steps, hidden size H (PyTorch
 * gate order r, z, n):
 *   gx [B, T, 3H]: x W_ih^T + b_ih for every step (precomputed),
 *   gh [B, 3H]:    h W_hh^T + b_hh for this step,
 *   h [B, H]:      the state, updated in place,
 *   y [B, T, H]:   row t of each sequence receives the new state. */
cudaError_t ck_gru_step (cudaStream_t s, const float *gx, const float *gh,
    float *h, float *y, int B, int T, int t, int H);

#ifdef __cplusplus
}
#endif

#endif /* __AFFECT_CUDA_KERNELS_H__ */
