// Streaming-metric kernels (issue 11): the confusion counts of a batch at a list of thresholds
// and the top-k hits. No gradient: these feed pydl/metrics.py's accumulators.
//   reference/metrics.cpp  the loops as the definitions read (every threshold, every value)
//   cpu/metrics.cpp        bucket each value by binary search, then cumulative sums over the
//                          buckets: O(N L log K) instead of O(N L K); OpenMP over fixed blocks
//                          of samples (the block layout does not depend on the thread count,
//                          and the blocks are summed in order, so neither does the result).
#pragma once
#include <cstdint>

namespace pydl::kernels {

// pred, label: (N, L) contiguous, one column per label; label != 0 means positive.
// weight: (N, L) or null (every weight 1). thr: (K) sorted ascending (repeats allowed).
// counts: (4, K, L), overwritten:
//   counts[0, k, l] = tp = sum_n w[n, l] [label[n, l] != 0] [pred[n, l] >  thr[k]]
//   counts[1, k, l] = fp = sum_n w[n, l] [label[n, l] == 0] [pred[n, l] >  thr[k]]
//   counts[2, k, l] = tn = sum_n w[n, l] [label[n, l] == 0] [pred[n, l] <= thr[k]]
//   counts[3, k, l] = fn = sum_n w[n, l] [label[n, l] != 0] [pred[n, l] <= thr[k]]
// (Keras's rule: a prediction is positive when it is strictly above the threshold; a NaN is
// never above one.) Sums are accumulated in double.
template <typename T>
void confusion_counts_reference(const T* pred, const T* label, const T* weight, int64_t N, int64_t L,
                                const double* thr, int64_t K, double* counts);
template <typename T>
void confusion_counts_fast(const T* pred, const T* label, const T* weight, int64_t N, int64_t L, const double* thr,
                           int64_t K, double* counts);

// pred (N, C) contiguous, ids (N) class ids already checked to lie in [0, C).
//   hit[n] = 1 if #{c : pred[n, c] > pred[n, ids[n]]} < k else 0
// (TensorFlow's in_top_k: classes tied with the true one at the k-th place count as in.)
template <typename T>
void top_k_hits_reference(const T* pred, const int64_t* ids, int64_t N, int64_t C, int64_t k, T* hit);
template <typename T>
void top_k_hits_fast(const T* pred, const int64_t* ids, int64_t N, int64_t C, int64_t k, T* hit);

}  // namespace pydl::kernels
