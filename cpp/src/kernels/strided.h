// Walking strided n-d arrays. The reference kernels use the odometer (offset_of/advance):
// plain and obviously right. The fast kernels first merge axes that are contiguous for every
// operand, then run a tight inner loop over the last axis, tiles spread across threads.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "pydl/tensor.h"

namespace pydl::kernels {

// ---- the odometer (reference kernels)
inline int64_t offset_of(const std::vector<int64_t>& idx, const Shape& strides) {
  int64_t off = 0;
  for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * strides[d];
  return off;
}
// idx += 1 in row-major order; the last axis turns fastest.
inline void advance(std::vector<int64_t>& idx, const Shape& shape) {
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    if (++idx[d] < shape[d]) return;
    idx[d] = 0;
  }
}

// ---- tiles (fast kernels)
// Inner runs of at most this many elements, so one long axis still splits across threads.
constexpr int64_t kTile = 16384;
// Below this many elements a parallel region costs more than it saves.
constexpr int64_t kParallelMin = 32768;

template <size_t K>
struct Collapsed {
  Shape shape;
  std::array<Shape, K> strides;
};

// Drop size-1 axes and merge axis d into d+1 where, for every operand, stepping once along d
// equals stepping shape[d+1] times along d+1.
template <size_t K>
Collapsed<K> collapse(const Shape& shape, const std::array<const Shape*, K>& strides) {
  Collapsed<K> c;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !c.shape.empty();
    for (size_t k = 0; k < K && merge; ++k)
      merge = c.strides[k].back() == (*strides[k])[d] * shape[d];
    if (merge) {
      c.shape.back() *= shape[d];
      for (size_t k = 0; k < K; ++k) c.strides[k].back() = (*strides[k])[d];
    } else {
      c.shape.push_back(shape[d]);
      for (size_t k = 0; k < K; ++k) c.strides[k].push_back((*strides[k])[d]);
    }
  }
  return c;
}

// inner(off, len, step): off[k] is operand k's offset of the run's first element, step[k]
// its stride along the run.
template <size_t K, typename Inner>
void for_each_run(const Shape& shape, const std::array<const Shape*, K>& strides, Inner inner) {
  for (int64_t s : shape)
    if (s == 0) return;
  Collapsed<K> c = collapse<K>(shape, strides);
  std::array<int64_t, K> step{};
  if (c.shape.empty()) {  // a single element
    std::array<int64_t, K> off{};
    inner(off, int64_t(1), step);
    return;
  }
  const int64_t nd = static_cast<int64_t>(c.shape.size());
  const int64_t len = c.shape.back();
  for (size_t k = 0; k < K; ++k) step[k] = c.strides[k].back();
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < nd; ++d) rows *= c.shape[d];
  const int64_t chunk = len < kTile ? len : kTile;
  const int64_t nchunks = (len + chunk - 1) / chunk;
  const int64_t tiles = rows * nchunks;
#pragma omp parallel for schedule(static) if (rows * len >= kParallelMin && tiles > 1)
  for (int64_t t = 0; t < tiles; ++t) {
    int64_t row = t / nchunks, part = t % nchunks;
    std::array<int64_t, K> off{};
    for (int64_t d = nd - 2, r = row; d >= 0; --d) {  // row -> multi-index over the outer axes
      int64_t i = r % c.shape[d];
      r /= c.shape[d];
      for (size_t k = 0; k < K; ++k) off[k] += i * c.strides[k][d];
    }
    int64_t start = part * chunk;
    for (size_t k = 0; k < K; ++k) off[k] += start * step[k];
    inner(off, len - start < chunk ? len - start : chunk, step);
  }
}

}  // namespace pydl::kernels
