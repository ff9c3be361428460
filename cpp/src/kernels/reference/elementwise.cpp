// Reference elementwise kernels: visit every multi-index, read each operand through its
// strides, apply the scalar function from kernels/math.h.
#include "kernels/kernels.h"
#include "kernels/math.h"
#include "kernels/strided.h"

namespace pydl::kernels {

template <typename T>
void binary_reference(Binary op, Params p, const Shape& shape, const T* a, const Shape& sa, const T* b,
                      const Shape& sb, T* out, const Shape& so) {
  const P<T> q{static_cast<T>(p.a), static_cast<T>(p.b)};
  const int64_t n = numel_of(shape);
  with_binary(op, [&](auto F) {
    std::vector<int64_t> idx(shape.size(), 0);
    for (int64_t i = 0; i < n; ++i) {
      // out[i] = f(a[i], b[i])
      out[offset_of(idx, so)] = decltype(F)::f(a[offset_of(idx, sa)], b[offset_of(idx, sb)], q);
      advance(idx, shape);
    }
  });
}

template <typename T>
void unary_reference(Unary op, Params p, const Shape& shape, const T* x, const Shape& sx, T* out, const Shape& so) {
  const P<T> q{static_cast<T>(p.a), static_cast<T>(p.b)};
  const int64_t n = numel_of(shape);
  with_unary(op, [&](auto F) {
    std::vector<int64_t> idx(shape.size(), 0);
    for (int64_t i = 0; i < n; ++i) {
      // out[i] = f(x[i])
      out[offset_of(idx, so)] = decltype(F)::f(x[offset_of(idx, sx)], q);
      advance(idx, shape);
    }
  });
}

template <typename T>
void where_reference(const Shape& shape, const T* c, const Shape& sc, const T* a, const Shape& sa, const T* b,
                     const Shape& sb, T* out, const Shape& so) {
  const int64_t n = numel_of(shape);
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    // out[i] = c[i] != 0 ? a[i] : b[i]
    out[offset_of(idx, so)] = c[offset_of(idx, sc)] != T(0) ? a[offset_of(idx, sa)] : b[offset_of(idx, sb)];
    advance(idx, shape);
  }
}

template <typename Ti, typename To>
void copy_reference(const Shape& shape, const Ti* src, const Shape& ss, To* dst, const Shape& sd) {
  const int64_t n = numel_of(shape);
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    dst[offset_of(idx, sd)] = static_cast<To>(src[offset_of(idx, ss)]);
    advance(idx, shape);
  }
}

#define PYDL_INSTANTIATE(T)                                                                                  \
  template void binary_reference<T>(Binary, Params, const Shape&, const T*, const Shape&, const T*,         \
                                    const Shape&, T*, const Shape&);                                        \
  template void unary_reference<T>(Unary, Params, const Shape&, const T*, const Shape&, T*, const Shape&);  \
  template void where_reference<T>(const Shape&, const T*, const Shape&, const T*, const Shape&, const T*,  \
                                   const Shape&, T*, const Shape&);
PYDL_INSTANTIATE(float)
PYDL_INSTANTIATE(double)
#undef PYDL_INSTANTIATE
template void copy_reference<float, float>(const Shape&, const float*, const Shape&, float*, const Shape&);
template void copy_reference<float, double>(const Shape&, const float*, const Shape&, double*, const Shape&);
template void copy_reference<double, float>(const Shape&, const double*, const Shape&, float*, const Shape&);
template void copy_reference<double, double>(const Shape&, const double*, const Shape&, double*, const Shape&);
// int64 (issue 9): ids and labels move and convert, nothing else
template void copy_reference<int64_t, int64_t>(const Shape&, const int64_t*, const Shape&, int64_t*, const Shape&);
template void copy_reference<int64_t, float>(const Shape&, const int64_t*, const Shape&, float*, const Shape&);
template void copy_reference<int64_t, double>(const Shape&, const int64_t*, const Shape&, double*, const Shape&);
template void copy_reference<float, int64_t>(const Shape&, const float*, const Shape&, int64_t*, const Shape&);
template void copy_reference<double, int64_t>(const Shape&, const double*, const Shape&, int64_t*, const Shape&);

}  // namespace pydl::kernels
