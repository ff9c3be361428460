// Views and shape changes. Views share storage with their input; their backward maps the
// gradient back to the input's shape.
#pragma once
#include <vector>

#include "pydl/tensor.h"

namespace pydl::ops {

// A shape with at most one -1, resolved against `numel`.
Shape infer_shape(const Shape& shape, int64_t numel, const char* op);
int64_t normalize_axis(int64_t axis, int64_t ndim, const char* op);

Tensor reshape(const Tensor& x, const Shape& shape);  // a view when possible, else a copy
Tensor view(const Tensor& x, const Shape& shape);     // a view or a clear error
Tensor flatten(const Tensor& x, int64_t start_axis = 0, int64_t end_axis = -1);
Tensor transpose(const Tensor& x, int64_t axis0, int64_t axis1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& axes);
Tensor contiguous(const Tensor& x);
Tensor squeeze(const Tensor& x, const std::vector<int64_t>& axes = {});  // empty: all size-1 axes
Tensor unsqueeze(const Tensor& x, int64_t axis);
Tensor broadcast_to(const Tensor& x, const Shape& shape);
// x[start:stop:step] along `axis` (step > 0), a view.
Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t stop, int64_t step = 1);
// x[index] along `axis`, removing the axis, a view.
Tensor select(const Tensor& x, int64_t axis, int64_t index);
Tensor concatenate(const std::vector<Tensor>& xs, int64_t axis = 0);
Tensor stack(const std::vector<Tensor>& xs, int64_t axis = 0);

}  // namespace pydl::ops
