// Integer indexing, fast versions. Forward: rows copied in parallel (each output row written by
// one thread). Backward without atomics and deterministic: the scatter-add is turned into a
// gather by grouping the output rows by the source row they came from (a counting sort of the
// indices, stable in j), then each source row sums its own rows in increasing j, the order the
// reference loop adds them in, so both give the same bits whatever the thread count.
#include <cstring>
#include <vector>

#include "kernels/index.h"

namespace pydl::kernels {

template <typename T>
void take_fast(const T* x, const int64_t* idx, const TakeGeom& g, T* y) {
  const int64_t rows = g.outer * g.m;
#pragma omp parallel for if (rows * g.inner > 16384) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t o = r / g.m, j = r % g.m;
    std::memcpy(y + r * g.inner, x + (o * g.n + idx[j]) * g.inner, static_cast<size_t>(g.inner) * sizeof(T));
  }
}

template <typename T>
void take_backward_fast(const T* gy, const int64_t* idx, const TakeGeom& g, T* gx) {
  // start[s] .. start[s + 1]: the positions j with idx[j] == s, in increasing j
  std::vector<int64_t> start(static_cast<size_t>(g.n) + 1, 0), order(static_cast<size_t>(g.m));
  for (int64_t j = 0; j < g.m; ++j) start[idx[j] + 1]++;
  for (int64_t s = 0; s < g.n; ++s) start[s + 1] += start[s];
  {
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t j = 0; j < g.m; ++j) order[fill[idx[j]]++] = j;
  }
  const int64_t work = g.outer * g.n;
#pragma omp parallel for if (g.outer * g.m * g.inner > 16384) schedule(dynamic, 16)
  for (int64_t w = 0; w < work; ++w) {
    const int64_t o = w / g.n, s = w % g.n;
    T* dst = gx + (o * g.n + s) * g.inner;
    for (int64_t q = start[s]; q < start[s + 1]; ++q) {
      const T* src = gy + (o * g.m + order[q]) * g.inner;
#pragma omp simd
      for (int64_t k = 0; k < g.inner; ++k) dst[k] += src[k];
    }
  }
}

template <typename T>
void gather_fast(const T* x, const int64_t* idx, const GatherGeom& g, T* y) {
  const int64_t rows = g.outer * g.m;
#pragma omp parallel for if (rows * g.inner > 16384) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t o = r / g.m;
    const T* xo = x + g.outer_off[o];
    const int64_t* ir = idx + r * g.inner;
    T* yr = y + r * g.inner;
    for (int64_t i = 0; i < g.inner; ++i) yr[i] = xo[ir[i] * g.sd + g.inner_off[i]];
  }
}

template <typename T>
void gather_backward_fast(const T* gy, const int64_t* idx, const GatherGeom& g, T* gx) {
  // The outputs (o, ., i) only ever reach x's elements with those same coordinates outside d, so
  // distinct (o, i) columns write disjoint parts of gx: parallel over columns, j in order inside.
  const int64_t cols = g.outer * g.inner;
#pragma omp parallel for if (cols * g.m > 16384) schedule(static)
  for (int64_t c = 0; c < cols; ++c) {
    const int64_t o = c / g.inner, i = c % g.inner;
    T* base = gx + g.outer_off[o] + g.inner_off[i];
    for (int64_t j = 0; j < g.m; ++j) {
      const int64_t at = (o * g.m + j) * g.inner + i;
      base[idx[at] * g.sd] += gy[at];
    }
  }
}

#define PYDL_INSTANTIATE(T)                                                         \
  template void take_fast<T>(const T*, const int64_t*, const TakeGeom&, T*);       \
  template void gather_fast<T>(const T*, const int64_t*, const GatherGeom&, T*);
PYDL_INSTANTIATE(float)
PYDL_INSTANTIATE(double)
PYDL_INSTANTIATE(int64_t)
#undef PYDL_INSTANTIATE
#define PYDL_INSTANTIATE(T)                                                             \
  template void take_backward_fast<T>(const T*, const int64_t*, const TakeGeom&, T*);  \
  template void gather_backward_fast<T>(const T*, const int64_t*, const GatherGeom&, T*);
PYDL_INSTANTIATE(float)
PYDL_INSTANTIATE(double)
#undef PYDL_INSTANTIATE

}  // namespace pydl::kernels
