// Fast pooling: the same sums and comparisons in the same order as the reference loops (so the
// backends agree exactly), with the border tests taken out of the inner loops. Each output row
// and column gets, once before the parallel region, the range of window taps that fall inside
// the input; the inner loop then runs over contiguous memory. OpenMP splits the forward over
// (plane, output row) and the backward over planes (the windows of one plane overlap, so two
// threads must not scatter into the same plane).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/pool.h"

#include "kernels/cpu/isa.h"

namespace pydl::kernels {

namespace {

// The taps t in [lo, hi) of a window starting at `start` with dilation d whose positions
// start + t d fall inside [0, n).
struct Range { int64_t lo, hi; };

std::vector<Range> tap_ranges(int64_t out, int64_t stride, int64_t pad, int64_t k, int64_t d, int64_t n) {
  std::vector<Range> r(static_cast<size_t>(out));
  for (int64_t i = 0; i < out; ++i) {
    const int64_t start = i * stride - pad;
    int64_t lo = start >= 0 ? 0 : (-start + d - 1) / d;
    int64_t hi = start > n - 1 ? 0 : std::min(k, (n - 1 - start) / d + 1);
    r[static_cast<size_t>(i)] = {lo, std::max(lo, hi)};
  }
  return r;
}

// Parallel only when there is enough work to pay for waking the threads.
inline bool worth_threads(const PoolGeom& g) { return g.planes * g.OH * g.OW * g.kh * g.kw >= 32768; }

// The course's pooling, 2x2 windows with stride 2 inside the input (no padding, no dilation):
// one output row from two input rows, with the general loop's rule unrolled (the first tap,
// then each later one that is larger or NaN), branch-free so it vectorises; copies per
// instruction set (kernels/cpu/isa.h).
inline bool is_2x2_stride_2(const PoolGeom& g) {
  return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.pt == 0 && g.pl == 0 && g.dh == 1 && g.dw == 1 &&
         2 * g.OH <= g.H && 2 * g.OW <= g.W;
}

#define PYDL_MAXPOOL22(ISA, TARGET)                                                                       \
  template <typename T, bool ARG>                                                                         \
  TARGET void maxpool22_row_##ISA(const T* r0, const T* r1, int64_t ow, int64_t base, int64_t W, T* y,  \
                                  int64_t* am) {                                                          \
    for (int64_t j = 0; j < ow; ++j) {                                                                    \
      T best = r0[2 * j];                                                                                 \
      int64_t arg = 0;                                                                                    \
      T v = r0[2 * j + 1];                                                                                \
      bool t = v > best || v != v;                                                                        \
      best = t ? v : best;                                                                                \
      arg = t ? 1 : arg;                                                                                  \
      v = r1[2 * j];                                                                                      \
      t = v > best || v != v;                                                                             \
      best = t ? v : best;                                                                                \
      arg = t ? W : arg;                                                                                  \
      v = r1[2 * j + 1];                                                                                  \
      t = v > best || v != v;                                                                             \
      best = t ? v : best;                                                                                \
      arg = t ? W + 1 : arg;                                                                              \
      y[j] = best;                                                                                        \
      if (ARG) am[j] = base + 2 * j + arg;                                                                \
    }                                                                                                     \
  }
PYDL_FOR_EACH_ISA(PYDL_MAXPOOL22)
#undef PYDL_MAXPOOL22

template <typename T>
void max_pool2d_2x2(const T* x, const PoolGeom& g, T* y, int64_t* argmax) {
  using Row = void (*)(const T*, const T*, int64_t, int64_t, int64_t, T*, int64_t*);
  const Row row = argmax ? pick<Row>(&maxpool22_row_generic<T, true>, &maxpool22_row_avx2<T, true>,
                                     &maxpool22_row_avx512<T, true>)
                         : pick<Row>(&maxpool22_row_generic<T, false>, &maxpool22_row_avx2<T, false>,
                                     &maxpool22_row_avx512<T, false>);
#pragma omp parallel for schedule(static) if (worth_threads(g))
  for (int64_t pi = 0; pi < g.planes * g.OH; ++pi) {
    const int64_t p = pi / g.OH, i = pi % g.OH;
    const T* r0 = x + (p * g.H + 2 * i) * g.W;
    row(r0, r0 + g.W, g.OW, 2 * i * g.W, g.W, y + pi * g.OW, argmax ? argmax + pi * g.OW : nullptr);
  }
}

}  // namespace

template <typename T>
void max_pool2d_fast(const T* x, const PoolGeom& g, T* y, int64_t* argmax) {
  if (is_2x2_stride_2(g)) return max_pool2d_2x2<T>(x, g, y, argmax);
  const std::vector<Range> rows = tap_ranges(g.OH, g.sh, g.pt, g.kh, g.dh, g.H);
  const std::vector<Range> cols = tap_ranges(g.OW, g.sw, g.pl, g.kw, g.dw, g.W);
  const Range* rr = rows.data();
  const Range* cr = cols.data();
#pragma omp parallel for collapse(2) schedule(static) if (worth_threads(g))
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t i = 0; i < g.OH; ++i) {
      const T* plane = x + p * g.H * g.W;
      T* yr = y + (p * g.OH + i) * g.OW;
      int64_t* ar = argmax ? argmax + (p * g.OH + i) * g.OW : nullptr;
      const int64_t h0 = i * g.sh - g.pt;
      for (int64_t j = 0; j < g.OW; ++j) {
        const int64_t w0 = j * g.sw - g.pl;
        T best = -std::numeric_limits<T>::infinity();
        int64_t arg = -1;
        for (int64_t a = rr[i].lo; a < rr[i].hi; ++a) {
          const int64_t h = h0 + a * g.dh;
          const T* row = plane + h * g.W;  // row[w0 + b dw], w0 may be negative (left padding)
          for (int64_t b = cr[j].lo; b < cr[j].hi; ++b) {
            const T v = row[w0 + b * g.dw];
            if (arg < 0 || v > best || std::isnan(v)) {
              best = v;
              arg = h * g.W + w0 + b * g.dw;
            }
          }
        }
        yr[j] = best;
        if (ar) ar[j] = arg;
      }
    }
}

template <typename T>
void max_pool2d_backward_fast(const T* gy, const int64_t* argmax, const PoolGeom& g, T* gx) {
  const int64_t n_out = g.OH * g.OW, n_in = g.H * g.W;
#pragma omp parallel for schedule(static) if (g.planes * n_out >= 32768)
  for (int64_t p = 0; p < g.planes; ++p) {
    const T* gp = gy + p * n_out;
    const int64_t* ap = argmax + p * n_out;
    T* xp = gx + p * n_in;
    for (int64_t i = 0; i < n_out; ++i)
      if (ap[i] >= 0) xp[ap[i]] += gp[i];
  }
}

template <typename T>
void avg_pool2d_fast(const T* x, const PoolGeom& g, bool count_include_pad, T* y) {
  const std::vector<Range> rows = tap_ranges(g.OH, g.sh, g.pt, g.kh, 1, g.H);
  const std::vector<Range> cols = tap_ranges(g.OW, g.sw, g.pl, g.kw, 1, g.W);
  const Range* rr = rows.data();
  const Range* cr = cols.data();
#pragma omp parallel for collapse(2) schedule(static) if (worth_threads(g))
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t i = 0; i < g.OH; ++i) {
      const T* plane = x + p * g.H * g.W;
      T* yr = y + (p * g.OH + i) * g.OW;
      const int64_t h0 = i * g.sh - g.pt;
      for (int64_t j = 0; j < g.OW; ++j) {
        const int64_t w0 = j * g.sw - g.pl;
        double sum = 0;
        for (int64_t a = rr[i].lo; a < rr[i].hi; ++a) {
          const T* row = plane + (h0 + a) * g.W;
          for (int64_t b = cr[j].lo; b < cr[j].hi; ++b) sum += double(row[w0 + b]);
        }
        yr[j] = static_cast<T>(sum / double(avg_pool_divisor(g, i, j, count_include_pad)));
      }
    }
}

template <typename T>
void avg_pool2d_backward_fast(const T* gy, const PoolGeom& g, bool count_include_pad, T* gx) {
  const std::vector<Range> rows = tap_ranges(g.OH, g.sh, g.pt, g.kh, 1, g.H);
  const std::vector<Range> cols = tap_ranges(g.OW, g.sw, g.pl, g.kw, 1, g.W);
  const Range* rr = rows.data();
  const Range* cr = cols.data();
#pragma omp parallel for schedule(static) if (worth_threads(g))
  for (int64_t p = 0; p < g.planes; ++p) {
    T* plane = gx + p * g.H * g.W;
    for (int64_t i = 0; i < g.OH; ++i) {
      const int64_t h0 = i * g.sh - g.pt;
      for (int64_t j = 0; j < g.OW; ++j) {
        const int64_t w0 = j * g.sw - g.pl;
        const T share = static_cast<T>(double(gy[(p * g.OH + i) * g.OW + j]) /
                                       double(avg_pool_divisor(g, i, j, count_include_pad)));
        for (int64_t a = rr[i].lo; a < rr[i].hi; ++a) {
          T* row = plane + (h0 + a) * g.W;
          for (int64_t b = cr[j].lo; b < cr[j].hi; ++b) row[w0 + b] += share;
        }
      }
    }
  }
}

#define PYDL_INSTANTIATE(T)                                                                   \
  template void max_pool2d_fast<T>(const T*, const PoolGeom&, T*, int64_t*);                 \
  template void max_pool2d_backward_fast<T>(const T*, const int64_t*, const PoolGeom&, T*);  \
  template void avg_pool2d_fast<T>(const T*, const PoolGeom&, bool, T*);                     \
  template void avg_pool2d_backward_fast<T>(const T*, const PoolGeom&, bool, T*);
PYDL_INSTANTIATE(float)
PYDL_INSTANTIATE(double)
#undef PYDL_INSTANTIATE

}  // namespace pydl::kernels
