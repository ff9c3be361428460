// Reductions over a set of axes (empty = all axes), with keepdims.
#pragma once
#include <optional>
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

// The index of the first largest (smallest) value along `axis`, or in the flattened tensor when
// axis is none (NumPy's argmax; PyTorch's with dim/keepdim). A NaN counts as the extreme (the
// first NaN wins, as both do). Works on float32/float64/int64; returns int64, no gradient.
Tensor argmax(const Tensor& x, std::optional<int64_t> axis = std::nullopt, bool keepdims = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> axis = std::nullopt, bool keepdims = false);

// Sum `g` down to `shape` (undo a broadcast): used by every broadcasting op's backward.
Tensor sum_to(const Tensor& g, const Shape& shape);

}  // namespace pydl::ops
