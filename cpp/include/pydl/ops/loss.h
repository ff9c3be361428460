// Losses, each one fused op (one graph node, one backward kernel).
//
// pred is (batch, ...), seen as rows over its last axis. Each row gets one value: the mean
// over the last axis of a pointwise loss (mse, mae, binary crossentropy) or the sum over the
// class axis (categorical crossentropies). The reduction then follows Keras:
//   "sum_over_batch_size" (default; "mean" is the same)  sum_r w_r l_r / rows
//   "sum"                                                sum_r w_r l_r
//   "none"                                               w_r l_r, shape pred.shape[:-1] ((batch,) for 1-D pred)
// where w_r is the sample weight of the row's sample (sample_weight: (batch,), (batch, 1) or a
// scalar; undefined = 1). For a 2-D pred this is sum_i w_i l_i / batch.
#pragma once
#include <string>

#include "pydl/tensor.h"

namespace pydl::ops {

enum class Reduction { None, Sum, SumOverBatchSize };
// "none" | "sum" | "sum_over_batch_size" | "mean", or a ValueError naming the valid ones.
Reduction parse_reduction(const std::string& name);

// Keras 'mean_squared_error' / 'mse': mean over the last axis of (pred - target)^2.
Tensor mse_loss(const Tensor& pred, const Tensor& target, const Tensor& sample_weight = Tensor(),
                Reduction reduction = Reduction::SumOverBatchSize);
// Keras 'mean_absolute_error' / 'mae': mean over the last axis of |pred - target|.
Tensor mae_loss(const Tensor& pred, const Tensor& target, const Tensor& sample_weight = Tensor(),
                Reduction reduction = Reduction::SumOverBatchSize);
// Probabilities are clipped to [1e-7, 1 - 1e-7] as Keras does; logits use the stable
// max(x, 0) - x t + log(1 + e^-|x|).
Tensor binary_crossentropy(const Tensor& pred, const Tensor& target, bool from_logits = false,
                           const Tensor& sample_weight = Tensor(),
                           Reduction reduction = Reduction::SumOverBatchSize);
// target one-hot (or class probabilities) of pred's shape. From probabilities: p / sum p,
// clipped, -sum t log p (Keras). From logits: a fused, stable log-softmax + crossentropy.
Tensor categorical_crossentropy(const Tensor& pred, const Tensor& target, bool from_logits = false,
                                const Tensor& sample_weight = Tensor(),
                                Reduction reduction = Reduction::SumOverBatchSize);
// labels: integer class ids stored as floats, shape pred.shape[:-1] (or that with a trailing 1).
Tensor sparse_categorical_crossentropy(const Tensor& pred, const Tensor& labels, bool from_logits = false,
                                       const Tensor& sample_weight = Tensor(),
                                       Reduction reduction = Reduction::SumOverBatchSize);

}  // namespace pydl::ops
