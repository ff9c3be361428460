// Integer indexing, reference loops: each line is the equation in kernels/index.h.
#include "kernels/index.h"

namespace pydl::kernels {

template <typename T>
void take_reference(const T* x, const int64_t* idx, const TakeGeom& g, T* y) {
  for (int64_t o = 0; o < g.outer; ++o)
    for (int64_t j = 0; j < g.m; ++j)
      for (int64_t k = 0; k < g.inner; ++k)
        y[(o * g.m + j) * g.inner + k] = x[(o * g.n + idx[j]) * g.inner + k];
}

template <typename T>
void take_backward_reference(const T* gy, const int64_t* idx, const TakeGeom& g, T* gx) {
  for (int64_t o = 0; o < g.outer; ++o)
    for (int64_t j = 0; j < g.m; ++j)
      for (int64_t k = 0; k < g.inner; ++k)
        gx[(o * g.n + idx[j]) * g.inner + k] += gy[(o * g.m + j) * g.inner + k];
}

template <typename T>
void gather_reference(const T* x, const int64_t* idx, const GatherGeom& g, T* y) {
  for (int64_t o = 0; o < g.outer; ++o)
    for (int64_t j = 0; j < g.m; ++j)
      for (int64_t i = 0; i < g.inner; ++i) {
        const int64_t at = (o * g.m + j) * g.inner + i;
        y[at] = x[g.outer_off[o] + idx[at] * g.sd + g.inner_off[i]];
      }
}

template <typename T>
void gather_backward_reference(const T* gy, const int64_t* idx, const GatherGeom& g, T* gx) {
  for (int64_t o = 0; o < g.outer; ++o)
    for (int64_t j = 0; j < g.m; ++j)
      for (int64_t i = 0; i < g.inner; ++i) {
        const int64_t at = (o * g.m + j) * g.inner + i;
        gx[g.outer_off[o] + idx[at] * g.sd + g.inner_off[i]] += gy[at];
      }
}

#define PYDL_INSTANTIATE(T)                                                              \
  template void take_reference<T>(const T*, const int64_t*, const TakeGeom&, T*);       \
  template void gather_reference<T>(const T*, const int64_t*, const GatherGeom&, T*);
PYDL_INSTANTIATE(float)
PYDL_INSTANTIATE(double)
PYDL_INSTANTIATE(int64_t)
#undef PYDL_INSTANTIATE
#define PYDL_INSTANTIATE(T)                                                                  \
  template void take_backward_reference<T>(const T*, const int64_t*, const TakeGeom&, T*);  \
  template void gather_backward_reference<T>(const T*, const int64_t*, const GatherGeom&, T*);
PYDL_INSTANTIATE(float)
PYDL_INSTANTIATE(double)
#undef PYDL_INSTANTIATE

}  // namespace pydl::kernels
