// Streaming metrics' per-batch counts (issue 11): no gradient, float64 results that
// pydl/metrics.py adds to its accumulators (Keras's update_state).
#pragma once
#include <cstdint>
#include <vector>

#include "pydl/tensor.h"

namespace pydl::ops {

// pred (N,) or (N, L) (L labels, each counted on its own); label: pred's shape, nonzero =
// positive; weight: undefined (all 1) or pred's shape; thresholds: ascending (repeats allowed).
// -> float64 (4, K, L): tp, fp, tn, fn at each threshold and label, where a prediction counts
// as positive at threshold t when it is > t (Keras's rule). L is 1 for a 1-D pred.
Tensor confusion_counts(const Tensor& pred, const Tensor& label, const Tensor& weight,
                        const std::vector<double>& thresholds);

// pred (N, C) scores, ids (N) true class ids in [0, C), k >= 1 -> pred's dtype (N): 1 where
// fewer than k classes score strictly above the true class (ties at the k-th place are in).
Tensor top_k_hits(const Tensor& pred, const std::vector<int64_t>& ids, int64_t k);

}  // namespace pydl::ops
