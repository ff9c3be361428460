// Matrix products.
#pragma once
#include "pydl/tensor.h"

namespace pydl::ops {

// NumPy's matmul: 2-D · 2-D, batched over broadcast leading axes, 1-D operands promoted.
Tensor matmul(const Tensor& a, const Tensor& b);

// The fully connected layer as one fused op: y = x · W + b, in Keras's layout
// x (..., in), W (in, out), b (out,) or undefined. One GEMM forward, two backward.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

}  // namespace pydl::ops
