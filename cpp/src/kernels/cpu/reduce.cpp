// Fast reductions and softmax. Parallel over outputs, never splitting one sum across a
// varying number of threads: a long sum is cut into fixed-size blocks whose partial sums are
// added in order, so the result is the same for any thread count.
#include <cmath>
#include <vector>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/vec_math.h"
#include "kernels/kernels.h"
#include "kernels/math.h"
#include "kernels/strided.h"

namespace pydl::kernels {

// Sums accumulate in double, for float32 too (a float sum stops counting at 2^24 and loses the
// low digits of data with a large mean); the accumulator is converted once, at the end. The
// double loop still vectorises (float lanes widened to double, half as many per register).

// Sum of one contiguous run x[0..n), and acc[j] += row[j] for the inner > 1 case: one copy
// per instruction set (isa.h), so the widened double lanes use the CPU's full vector width.
#define PYDL_SUM_RUN(ISA, TARGET)                                                       \
  template <typename T>                                                                 \
  TARGET double sum_run_##ISA(const T* x, int64_t n) {                                  \
    double acc = 0;                                                                     \
    _Pragma("omp simd reduction(+ : acc)") for (int64_t i = 0; i < n; ++i) acc += double(x[i]); \
    return acc;                                                                         \
  }                                                                                     \
  template <typename T>                                                                 \
  TARGET void add_row_##ISA(double* acc, const T* row, int64_t m) {                     \
    _Pragma("omp simd") for (int64_t j = 0; j < m; ++j) acc[j] += double(row[j]);      \
  }
PYDL_FOR_EACH_ISA(PYDL_SUM_RUN)
#undef PYDL_SUM_RUN

template <typename T>
static double sum_run(const T* x, int64_t n) {
  return pick(&sum_run_generic<T>, &sum_run_avx2<T>, &sum_run_avx512<T>)(x, n);
}
template <typename T>
static void add_row(double* acc, const T* row, int64_t m) {
  pick(&add_row_generic<T>, &add_row_avx2<T>, &add_row_avx512<T>)(acc, row, m);
}

// Max or min of one contiguous run (NaN propagates, as np.max).
template <typename T>
static T extreme_run(Reduce op, const T* x, int64_t n) {
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
  const bool sum = op == Reduce::Sum;
  if (inner == 1) {
    if (outer == 1 && r >= 2 * kTile) {
      // One long run: fixed blocks, partial results combined in block order. (part is
      // allocated here, before the parallel region: nothing in a region may throw.)
      const int64_t nb = (r + kTile - 1) / kTile;
      std::vector<double> part(static_cast<size_t>(nb));
      std::vector<T> ext(sum ? 0 : static_cast<size_t>(nb));
#pragma omp parallel for schedule(static)
      for (int64_t b = 0; b < nb; ++b) {
        int64_t s = b * kTile, n = r - s < kTile ? r - s : kTile;
        if (sum) part[b] = sum_run(x + s, n);
        else ext[b] = extreme_run(op, x + s, n);
      }
      if (sum) {
        double acc = 0;
        for (int64_t b = 0; b < nb; ++b) acc += part[b];
        out[0] = static_cast<T>(acc);
      } else {
        T acc = ext[0];
        for (int64_t b = 1; b < nb; ++b)
          acc = op == Reduce::Max ? MaximumF::f(ext[b], acc, P<T>{}) : MinimumF::f(ext[b], acc, P<T>{});
        out[0] = acc;
      }
      return;
    }
#pragma omp parallel for schedule(static) if (outer * r >= kParallelMin && outer > 1)
    for (int64_t o = 0; o < outer; ++o)
      out[o] = sum ? static_cast<T>(sum_run(x + o * r, r)) : extreme_run(op, x + o * r, r);
    return;
  }
  // inner > 1: add whole rows, vectorised along the inner axis; threads split (o, column block).
  // Sums go through a double accumulator per output, allocated before the region.
  const int64_t cb = inner < 1024 ? inner : 1024;
  const int64_t ncb = (inner + cb - 1) / cb;
  std::vector<double> acc_buf(sum ? static_cast<size_t>(outer * inner) : 0);
  double* acc_all = acc_buf.data();
#pragma omp parallel for schedule(static) if (outer * r * inner >= kParallelMin && outer * ncb > 1)
  for (int64_t t = 0; t < outer * ncb; ++t) {
    const int64_t o = t / ncb, j0 = (t % ncb) * cb;
    const int64_t m = inner - j0 < cb ? inner - j0 : cb;
    T* dst = out + o * inner + j0;
    const T* src = x + o * r * inner + j0;
    if (sum) {
      double* acc = acc_all + o * inner + j0;
      for (int64_t j = 0; j < m; ++j) acc[j] = 0;
      for (int64_t i = 0; i < r; ++i) add_row(acc, src + i * inner, m);
      for (int64_t j = 0; j < m; ++j) dst[j] = static_cast<T>(acc[j]);
      continue;
    }
    for (int64_t j = 0; j < m; ++j) dst[j] = src[j];
    for (int64_t i = 1; i < r; ++i) {
      const T* row = src + i * inner;
      if (op == Reduce::Max) {
        for (int64_t j = 0; j < m; ++j) dst[j] = MaximumF::f(row[j], dst[j], P<T>{});
      } else {
        for (int64_t j = 0; j < m; ++j) dst[j] = MinimumF::f(row[j], dst[j], P<T>{});
      }
    }
  }
}

// y[i] = e^(x[i] - m) for a contiguous row, returning sum_i y[i] (in double): one copy per
// instruction set, so float's exp_full_vec runs at the CPU's vector width.
#define PYDL_EXP_SHIFT_RUN(ISA, TARGET)                                                   \
  template <typename T>                                                                   \
  TARGET double exp_shift_run_##ISA(const T* x, T m, T* y, int64_t n) {                   \
    double acc = 0;                                                                       \
    _Pragma("omp simd reduction(+ : acc)") for (int64_t i = 0; i < n; ++i) {              \
      const T e = exp_fast(x[i] - m);                                                     \
      y[i] = e;                                                                           \
      acc += double(e);                                                                   \
    }                                                                                     \
    return acc;                                                                           \
  }
PYDL_FOR_EACH_ISA(PYDL_EXP_SHIFT_RUN)
#undef PYDL_EXP_SHIFT_RUN

template <typename T>
void softmax_fast(const T* x, int64_t outer, int64_t n, int64_t inner, T* y, bool log) {
  using ExpShift = double (*)(const T*, T, T*, int64_t);
  const ExpShift exp_shift = pick<ExpShift>(&exp_shift_run_generic<T>, &exp_shift_run_avx2<T>, &exp_shift_run_avx512<T>);
  const int64_t rows = outer * inner;
#pragma omp parallel for schedule(static) if (rows * n >= kParallelMin && rows > 1)
  for (int64_t t = 0; t < rows; ++t) {
    const int64_t o = t / inner, j = t % inner;
    const T* xr = x + o * n * inner + j;
    T* yr = y + o * n * inner + j;
    if (inner == 1) {
      T m = xr[0];
      for (int64_t i = 1; i < n; ++i) m = xr[i] > m ? xr[i] : m;
      // row sums in double, as the reductions; for log_softmax yr holds e^(x - m) until overwritten
      const T s = static_cast<T>(exp_shift(xr, m, yr, n));
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
      double acc = 0;
      for (int64_t i = 0; i < n; ++i) acc += double(exp_fast(xr[i * inner] - m));
      const T s = static_cast<T>(acc);
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
    double acc = 0;  // row sums in double, as the reductions
    if (inner == 1) {
      if (log) {
#pragma omp simd reduction(+ : acc)
        for (int64_t i = 0; i < n; ++i) acc += double(gr[i]);
        const T s = static_cast<T>(acc);
        for (int64_t i = 0; i < n; ++i) dr[i] = gr[i] - std::exp(yr[i]) * s;
      } else {
#pragma omp simd reduction(+ : acc)
        for (int64_t i = 0; i < n; ++i) acc += double(gr[i] * yr[i]);
        const T s = static_cast<T>(acc);
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) dr[i] = yr[i] * (gr[i] - s);
      }
    } else {
      for (int64_t i = 0; i < n; ++i) acc += double(log ? gr[i * inner] : gr[i * inner] * yr[i * inner]);
      const T s = static_cast<T>(acc);
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
