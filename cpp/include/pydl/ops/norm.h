// Normalisation: batch norm (statistics per channel over the batch), layer norm (per sample over
// the trailing dims) and group norm (per sample over groups of channels), PyTorch's functional
// semantics. Statistics use the biased variance E[(x - mean)^2]; y = xhat * weight + bias with
// xhat = (x - mean) / sqrt(var + eps). weight / bias may be undefined (1 and 0).
#pragma once
#include <cstdint>

#include "pydl/tensor.h"

namespace pydl::ops {

// x (N, C) or (N, C, *); running_mean, running_var, weight, bias (C,) or undefined.
// training: normalise with this batch's statistics over N and *; when the running statistics are
// given, update them in place (outside the graph):
//   running = (1 - momentum) * running + momentum * batch statistic
// where the variance statistic is the unbiased one (M / (M - 1) times the biased, M = N * prod(*),
// as PyTorch) when unbiased_running_var, else the biased one (as Keras's moving_variance).
// With unbiased_running_var a batch of M = 1 value per channel is refused, as PyTorch does.
// inference: normalise with running_mean and running_var (both required).
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps, bool unbiased_running_var = true);

// Normalise over the trailing dims of x that equal normalized_shape; weight, bias have that shape.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps);

// x (N, C, *): the C channels split into num_groups groups (C % num_groups == 0), each
// normalised per sample over its channels and *; weight, bias (C,). num_groups = C is instance
// norm, num_groups = 1 normalises each sample over all of (C, *).
Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight, const Tensor& bias, double eps);

}  // namespace pydl::ops
