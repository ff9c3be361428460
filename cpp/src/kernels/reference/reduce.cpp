// Reference reductions and softmax: the loops exactly as the equations read.
#include <cmath>

#include "kernels/kernels.h"
#include "kernels/math.h"

namespace pydl::kernels {

// out[o, j] = reduce_{i < r} x[o, i, j]
// Sums accumulate in double (float32's 24 bits stop counting at 2^24: a float sum of 2^25 ones
// is 2^24), rounded to T once at the end.
template <typename T>
void reduce_reference(Reduce op, const T* x, int64_t outer, int64_t r, int64_t inner, T* out) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      const T* col = x + o * r * inner + j;  // col[i * inner] = x[o, i, j]
      if (op == Reduce::Sum) {
        double acc = 0;
        for (int64_t i = 0; i < r; ++i) acc += double(col[i * inner]);
        out[o * inner + j] = static_cast<T>(acc);
      } else {
        T acc = col[0];
        for (int64_t i = 1; i < r; ++i)
          acc = op == Reduce::Max ? MaximumF::f(col[i * inner], acc, P<T>{}) : MinimumF::f(col[i * inner], acc, P<T>{});
        out[o * inner + j] = acc;
      }
    }
}

template <typename T>
void softmax_reference(const T* x, int64_t outer, int64_t n, int64_t inner, T* y, bool log) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      const T* xr = x + o * n * inner + j;
      T* yr = y + o * n * inner + j;
      T m = xr[0];
      for (int64_t i = 1; i < n; ++i) m = xr[i * inner] > m ? xr[i * inner] : m;
      double acc = 0;  // the row sum in double, as the reductions
      for (int64_t i = 0; i < n; ++i) acc += double(std::exp(xr[i * inner] - m));
      const T s = static_cast<T>(acc);
      for (int64_t i = 0; i < n; ++i)
        yr[i * inner] = log ? xr[i * inner] - m - std::log(s) : std::exp(xr[i * inner] - m) / s;
    }
}

template <typename T>
void softmax_backward_reference(const T* g, const T* y, int64_t outer, int64_t n, int64_t inner, T* dx, bool log) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      const int64_t base = o * n * inner + j;
      double acc = 0;
      for (int64_t i = 0; i < n; ++i) acc += double(log ? g[base + i * inner] : g[base + i * inner] * y[base + i * inner]);
      const T s = static_cast<T>(acc);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t k = base + i * inner;
        dx[k] = log ? g[k] - std::exp(y[k]) * s : y[k] * (g[k] - s);
      }
    }
}

#define PYDL_INSTANTIATE(T)                                                                        \
  template void reduce_reference<T>(Reduce, const T*, int64_t, int64_t, int64_t, T*);             \
  template void softmax_reference<T>(const T*, int64_t, int64_t, int64_t, T*, bool);              \
  template void softmax_backward_reference<T>(const T*, const T*, int64_t, int64_t, int64_t, T*, bool);
PYDL_INSTANTIATE(float)
PYDL_INSTANTIATE(double)
#undef PYDL_INSTANTIATE

}  // namespace pydl::kernels
