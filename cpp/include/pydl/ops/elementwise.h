// Elementwise ops with NumPy broadcasting.
#pragma once
#include "pydl/tensor.h"

namespace pydl::ops {

// The shape two shapes broadcast to, or a ShapeError naming `op`.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
// Comparisons give 0/1 in the inputs' dtype and never carry a gradient.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);

Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor square(const Tensor& x);
Tensor pow_scalar(const Tensor& x, double exponent);
Tensor clip(const Tensor& x, double lo, double hi);
// where(cond, a, b): a where cond != 0, else b (all three broadcast together).
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// A scalar tensor of `like`'s dtype (for `x + 2.0`).
Tensor scalar_like(double v, const Tensor& like);
// A new contiguous tensor with the same values (no graph link unless x needs grad).
Tensor clone(const Tensor& x);
// dtype conversion (differentiable).
Tensor to_dtype(const Tensor& x, DType dtype);

// In place: dst = dst OP src (src broadcast to dst's shape). Records no graph; refuses a
// leaf that requires grad while grad mode is on, as PyTorch does.
void add_(Tensor& dst, const Tensor& src);
void sub_(Tensor& dst, const Tensor& src);
void mul_(Tensor& dst, const Tensor& src);
void div_(Tensor& dst, const Tensor& src);
// Copy src's values into dst (broadcast, cast to dst's dtype).
void copy_(Tensor& dst, const Tensor& src);
void fill_(Tensor& dst, double value);

}  // namespace pydl::ops
