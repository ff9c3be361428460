// Fast reductions and softmax. Parallel over outputs, never splitting one sum across a
// varying number of threads: a long sum is cut into fixed-size blocks whose partial sums are
// added in order, so the result is the same for any thread count.
#include <cmath>
#include <vector>

#include "kernels/cpu/vec_math.h"
#include "kernels/kernels.h"
#include "kernels/math.h"
#include "kernels/strided.h"

namespace pydl::kernels {

// Reduce one contiguous run x[0..n) (the vectorisable case).
template <typename T>
static T reduce_run(Reduce op, const T* x, int64_t n) {
  if (op == Reduce::Sum) {
    T acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int64_t i = 0; i < n; ++i) acc += x[i];
    return acc;
  }
  T acc = x[0];
  if (op == Reduce::Max) {
    for (int64_t i = 1; i < n; ++i) acc = MaximumF::f(x[i], acc, P<T>{});
  } else {
    for (int64_t i = 1; i < n; ++i) acc = MinimumF::f(x[i], acc, P<T>{});
  }
  return acc;
}

template <typename T>
void reduce_fast(Reduce op, const T* x, int64_t outer, int64_t r, int64_t inner, T* out) {
  if (inner == 1) {
    if (outer == 1 && r >= 2 * kTile) {
      // One long run: fixed blocks, partial results combined in block order.
      const int64_t nb = (r + kTile - 1) / kTile;
      std::vector<T> part(static_cast<size_t>(nb));
#pragma omp parallel for schedule(static)
      for (int64_t b = 0; b < nb; ++b) {
        int64_t s = b * kTile, n = r - s < kTile ? r - s : kTile;
        part[b] = reduce_run(op, x + s, n);
      }
      T acc = part[0];
      for (int64_t b = 1; b < nb; ++b)
        acc = op == Reduce::Sum ? acc + part[b]
                                : (op == Reduce::Max ? MaximumF::f(part[b], acc, P<T>{}) : MinimumF::f(part[b], acc, P<T>{}));
      out[0] = acc;
      return;
    }
#pragma omp parallel for schedule(static) if (outer * r >= kParallelMin && outer > 1)
    for (int64_t o = 0; o < outer; ++o) out[o] = reduce_run(op, x + o * r, r);
    return;
  }
  // inner > 1: add whole rows, vectorised along the inner axis; threads split (o, column block).
  const int64_t cb = inner < 1024 ? inner : 1024;
  const int64_t ncb = (inner + cb - 1) / cb;
#pragma omp parallel for schedule(static) if (outer * r * inner >= kParallelMin && outer * ncb > 1)
  for (int64_t t = 0; t < outer * ncb; ++t) {
    const int64_t o = t / ncb, j0 = (t % ncb) * cb;
    const int64_t m = inner - j0 < cb ? inner - j0 : cb;
    T* dst = out + o * inner + j0;
    const T* src = x + o * r * inner + j0;
    for (int64_t j = 0; j < m; ++j) dst[j] = op == Reduce::Sum ? T(0) : src[j];
    for (int64_t i = (op == Reduce::Sum ? 0 : 1); i < r; ++i) {
      const T* row = src + i * inner;
      if (op == Reduce::Sum) {
#pragma omp simd
        for (int64_t j = 0; j < m; ++j) dst[j] += row[j];
      } else if (op == Reduce::Max) {
        for (int64_t j = 0; j < m; ++j) dst[j] = MaximumF::f(row[j], dst[j], P<T>{});
      } else {
        for (int64_t j = 0; j < m; ++j) dst[j] = MinimumF::f(row[j], dst[j], P<T>{});
      }
    }
  }
}

template <typename T>
void softmax_fast(const T* x, int64_t outer, int64_t n, int64_t inner, T* y, bool log) {
  const int64_t rows = outer * inner;
#pragma omp parallel for schedule(static) if (rows * n >= kParallelMin && rows > 1)
  for (int64_t t = 0; t < rows; ++t) {
    const int64_t o = t / inner, j = t % inner;
    const T* xr = x + o * n * inner + j;
    T* yr = y + o * n * inner + j;
    if (inner == 1) {
      T m = xr[0];
      for (int64_t i = 1; i < n; ++i) m = xr[i] > m ? xr[i] : m;
      T s = 0;
      for (int64_t i = 0; i < n; ++i) {
        T e = exp_fast(xr[i] - m);
        if (!log) yr[i] = e;
        s += e;
      }
      if (log) {
        // (x - m) - log s, not x - (m + log s): for |m| >> log s the latter rounds log s away
        const T ls = std::log(s);
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - m) - ls;
      } else {
        const T inv = T(1) / s;
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) yr[i] *= inv;
      }
    } else {
      T m = xr[0];
      for (int64_t i = 1; i < n; ++i) m = xr[i * inner] > m ? xr[i * inner] : m;
      T s = 0;
      for (int64_t i = 0; i < n; ++i) s += exp_fast(xr[i * inner] - m);
      const T ls = std::log(s);
      for (int64_t i = 0; i < n; ++i)
        yr[i * inner] = log ? (xr[i * inner] - m) - ls : exp_fast(xr[i * inner] - m) / s;
    }
  }
}

template <typename T>
void softmax_backward_fast(const T* g, const T* y, int64_t outer, int64_t n, int64_t inner, T* dx, bool log) {
  const int64_t rows = outer * inner;
#pragma omp parallel for schedule(static) if (rows * n >= kParallelMin && rows > 1)
  for (int64_t t = 0; t < rows; ++t) {
    const int64_t o = t / inner, j = t % inner;
    const int64_t base = o * n * inner + j;
    const T* gr = g + base;
    const T* yr = y + base;
    T* dr = dx + base;
    T s = 0;
    if (inner == 1) {
      if (log) {
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < n; ++i) s += gr[i];
        for (int64_t i = 0; i < n; ++i) dr[i] = gr[i] - std::exp(yr[i]) * s;
      } else {
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < n; ++i) s += gr[i] * yr[i];
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) dr[i] = yr[i] * (gr[i] - s);
      }
    } else {
      for (int64_t i = 0; i < n; ++i) s += log ? gr[i * inner] : gr[i * inner] * yr[i * inner];
      for (int64_t i = 0; i < n; ++i) {
        const int64_t k = i * inner;
        dr[k] = log ? gr[k] - std::exp(yr[k]) * s : yr[k] * (gr[k] - s);
      }
    }
  }
}

#define PYDL_INSTANTIATE(T)                                                                   \
  template void reduce_fast<T>(Reduce, const T*, int64_t, int64_t, int64_t, T*);             \
  template void softmax_fast<T>(const T*, int64_t, int64_t, int64_t, T*, bool);              \
  template void softmax_backward_fast<T>(const T*, const T*, int64_t, int64_t, int64_t, T*, bool);
PYDL_INSTANTIATE(float)
PYDL_INSTANTIATE(double)
#undef PYDL_INSTANTIATE

}  // namespace pydl::kernels
