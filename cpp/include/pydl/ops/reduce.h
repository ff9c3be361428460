// Reductions over a set of axes (empty = all axes), with keepdims.
#pragma once
#include <vector>

#include "pydl/tensor.h"

namespace pydl::ops {

using Axes = std::vector<int64_t>;

Tensor sum(const Tensor& x, const Axes& axes = {}, bool keepdims = false);
Tensor mean(const Tensor& x, const Axes& axes = {}, bool keepdims = false);
Tensor max(const Tensor& x, const Axes& axes = {}, bool keepdims = false);
Tensor min(const Tensor& x, const Axes& axes = {}, bool keepdims = false);
// Variance with `ddof` delta degrees of freedom (0: the population variance, as NumPy).
Tensor var(const Tensor& x, const Axes& axes = {}, bool keepdims = false, int64_t ddof = 0);

// Sum `g` down to `shape` (undo a broadcast): used by every broadcasting op's backward.
Tensor sum_to(const Tensor& g, const Shape& shape);

}  // namespace pydl::ops
