// Integer indexing (issue 9): int64 index tensors select from a float (or int64) source, and
// the backward scatter-adds into the source's gradient (a repeated index accumulates).
#pragma once
#include <optional>

#include "pydl/tensor.h"

namespace pydl::ops {

// NumPy's take: out = x.shape[:axis] + indices.shape + x.shape[axis+1:], out[..., j..., ...] =
// x[..., indices[j...], ...]; axis none takes from the flattened x. Negative indices count from
// the end; one outside [-n, n) is an IndexError naming `op`, the index and the shape.
Tensor take(const Tensor& x, const Tensor& indices, std::optional<int64_t> axis = 0, const char* op = "take");
// PyTorch's gather: index has x's rank and index.size(d) <= x.size(d) for d != dim; out has
// index's shape and out[i][j][k] = x[index[i][j][k]][j][k] (for dim 0). Indices in [0, x.size(dim)).
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);

}  // namespace pydl::ops
