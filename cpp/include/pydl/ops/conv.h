// Convolutions (images NCHW, weights (out, in / groups, kh, kw) as PyTorch).
#pragma once
#include <array>

#include "pydl/tensor.h"

namespace pydl::ops {

// 2-D cross-correlation, PyTorch's conv2d: x (N, C, H, W), weight (O, C / groups, kh, kw),
// bias (O,) or undefined -> (N, O, Ho, Wo) with
//   Ho = (H + pad_top + pad_bottom - dilation_h * (kh - 1) - 1) / stride_h + 1  (and Wo alike).
// padding is {top, bottom, left, right} in zeros (asymmetric, so Keras's 'same' fits).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, std::array<int64_t, 2> stride,
              std::array<int64_t, 4> padding, std::array<int64_t, 2> dilation, int64_t groups);

// Transposed convolution, PyTorch's conv_transpose2d: x (N, C_in, H, W), weight
// (C_in, C_out / groups, kh, kw), bias (C_out,) or undefined -> (N, C_out, Ho, Wo) with
//   Ho = (H - 1) * stride_h - pad_top - pad_bottom + dilation_h * (kh - 1) + output_padding_h + 1.
// It is the adjoint of conv2d with the same weight, stride, padding and dilation (its backward is
// conv2d); padding {top, bottom, left, right} crops the full output, output_padding (each smaller
// than the stride or the dilation, as PyTorch) adds rows / columns at the bottom / right.
Tensor conv2d_transpose(const Tensor& x, const Tensor& weight, const Tensor& bias, std::array<int64_t, 2> stride,
                        std::array<int64_t, 4> padding, std::array<int64_t, 2> output_padding,
                        std::array<int64_t, 2> dilation, int64_t groups);

}  // namespace pydl::ops
