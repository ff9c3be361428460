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

}  // namespace pydl::ops
