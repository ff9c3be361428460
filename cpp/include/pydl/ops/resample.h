// Resampling NCHW images: upsampling (nearest, bilinear) and padding (zeros, reflect), with
// PyTorch's semantics (F.interpolate, F.pad).
#pragma once
#include <array>
#include <string>

#include "pydl/tensor.h"

namespace pydl::ops {

// x (N, C, H, W) -> (N, C, size[0], size[1]). scale = the scale_factor (h, w) the caller gave,
// or 0 in an axis where the output size alone defines the map (PyTorch uses the given factor,
// not the sizes' ratio, when one is given). mode "nearest": output i reads input
// floor(i / scale) (floor(i * H / Ho) from sizes); "bilinear": PyTorch's, with align_corners.
Tensor upsample2d(const Tensor& x, std::array<int64_t, 2> size, std::array<double, 2> scale, const std::string& mode,
                  bool align_corners);

// x (N, C, H, W) padded by {left, right, top, bottom} (F.pad's order) -> (N, C, H + t + b, W + l + r).
// mode "zeros" (constant 0) or "reflect" (mirror about the edge pixel; each pad < that axis' size).
Tensor pad2d(const Tensor& x, std::array<int64_t, 4> padding, const std::string& mode);

}  // namespace pydl::ops
