// Pooling over the spatial axes of NCHW images: max (saving the argmax for backward), average,
// and their global forms. The window slides with a stride over the input padded by
// (top, bottom, left, right): -inf for max, zeros for average.
#pragma once
#include <cstdint>

#include "pydl/tensor.h"

namespace pydl::ops {

struct Pool2d {
  int64_t kh = 1, kw = 1;                                          // window
  int64_t sh = 1, sw = 1;                                          // stride
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t dh = 1, dw = 1;                                          // dilation (max only)
  bool ceil_mode = false;  // PyTorch's: the last partial window counts if it starts inside the input or its left/top padding
};

// y[n, c, i, j] = max over the window at (i sh - pad_top, j sw - pad_left); ties go to the first
// maximum in scan order and a NaN in the window is its maximum (as PyTorch).
Tensor max_pool2d(const Tensor& x, const Pool2d& p);
// y = the window's sum / its size: with count_include_pad the padded positions inside the
// padded input count (PyTorch's default), without only the real ones (Keras's 'same').
Tensor avg_pool2d(const Tensor& x, const Pool2d& p, bool count_include_pad);
// One window over all of H x W: (N, C) or, with keepdims, (N, C, 1, 1).
Tensor global_avg_pool2d(const Tensor& x, bool keepdims = false);
Tensor global_max_pool2d(const Tensor& x, bool keepdims = false);

}  // namespace pydl::ops
