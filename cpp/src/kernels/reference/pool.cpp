// Reference pooling: the loops exactly as the slide draws them, a window sliding over each
// (n, c) plane; every position of the window is tested against the input's borders.
#include <cmath>
#include <limits>

#include "kernels/pool.h"

namespace pydl::kernels {

// y[p, i, j] = max_{a, b} x[p, i sh - pt + a dh, j sw - pl + b dw]
template <typename T>
void max_pool2d_reference(const T* x, const PoolGeom& g, T* y, int64_t* argmax) {
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t i = 0; i < g.OH; ++i)
      for (int64_t j = 0; j < g.OW; ++j) {
        T best = -std::numeric_limits<T>::infinity();
        int64_t arg = -1;  // stays -1 only if the window holds padding alone
        for (int64_t a = 0; a < g.kh; ++a)
          for (int64_t b = 0; b < g.kw; ++b) {
            const int64_t h = i * g.sh - g.pt + a * g.dh, w = j * g.sw - g.pl + b * g.dw;
            if (h < 0 || h >= g.H || w < 0 || w >= g.W) continue;  // padding: -inf never wins
            const T v = x[(p * g.H + h) * g.W + w];
            if (arg < 0 || v > best || std::isnan(v)) {  // strict >: ties keep the first
              best = v;
              arg = h * g.W + w;
            }
          }
        y[(p * g.OH + i) * g.OW + j] = best;
        if (argmax) argmax[(p * g.OH + i) * g.OW + j] = arg;
      }
}

// gx[p, argmax[p, i, j]] += gy[p, i, j]
template <typename T>
void max_pool2d_backward_reference(const T* gy, const int64_t* argmax, const PoolGeom& g, T* gx) {
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t i = 0; i < g.OH * g.OW; ++i) {
      const int64_t arg = argmax[p * g.OH * g.OW + i];
      if (arg >= 0) gx[p * g.H * g.W + arg] += gy[p * g.OH * g.OW + i];
    }
}

// y[p, i, j] = (1 / |window|) sum_{a, b} x[p, i sh - pt + a, j sw - pl + b]
template <typename T>
void avg_pool2d_reference(const T* x, const PoolGeom& g, bool count_include_pad, T* y) {
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t i = 0; i < g.OH; ++i)
      for (int64_t j = 0; j < g.OW; ++j) {
        double sum = 0;  // in double, as the reductions
        for (int64_t a = 0; a < g.kh; ++a)
          for (int64_t b = 0; b < g.kw; ++b) {
            const int64_t h = i * g.sh - g.pt + a, w = j * g.sw - g.pl + b;
            if (h < 0 || h >= g.H || w < 0 || w >= g.W) continue;  // padding adds 0
            sum += double(x[(p * g.H + h) * g.W + w]);
          }
        y[(p * g.OH + i) * g.OW + j] = static_cast<T>(sum / double(avg_pool_divisor(g, i, j, count_include_pad)));
      }
}

// gx[p, h, w] += gy[p, i, j] / |window(i, j)| for every window (i, j) that holds (h, w)
template <typename T>
void avg_pool2d_backward_reference(const T* gy, const PoolGeom& g, bool count_include_pad, T* gx) {
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t i = 0; i < g.OH; ++i)
      for (int64_t j = 0; j < g.OW; ++j) {
        const T share = static_cast<T>(double(gy[(p * g.OH + i) * g.OW + j]) /
                                       double(avg_pool_divisor(g, i, j, count_include_pad)));
        for (int64_t a = 0; a < g.kh; ++a)
          for (int64_t b = 0; b < g.kw; ++b) {
            const int64_t h = i * g.sh - g.pt + a, w = j * g.sw - g.pl + b;
            if (h < 0 || h >= g.H || w < 0 || w >= g.W) continue;
            gx[(p * g.H + h) * g.W + w] += share;
          }
      }
}

#define PYDL_INSTANTIATE(T)                                                                        \
  template void max_pool2d_reference<T>(const T*, const PoolGeom&, T*, int64_t*);                 \
  template void max_pool2d_backward_reference<T>(const T*, const int64_t*, const PoolGeom&, T*);  \
  template void avg_pool2d_reference<T>(const T*, const PoolGeom&, bool, T*);                     \
  template void avg_pool2d_backward_reference<T>(const T*, const PoolGeom&, bool, T*);
PYDL_INSTANTIATE(float)
PYDL_INSTANTIATE(double)
#undef PYDL_INSTANTIATE

}  // namespace pydl::kernels
