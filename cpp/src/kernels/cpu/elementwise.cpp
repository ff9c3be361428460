// Fast elementwise kernels: merged axes, a vectorisable inner loop for the common stride
// patterns (all contiguous, one side a broadcast scalar), tiles spread over OpenMP threads.
#include "kernels/cpu/isa.h"
#include "kernels/cpu/vec_math.h"
#include "kernels/kernels.h"
#include "kernels/math.h"
#include "kernels/strided.h"

namespace pydl::kernels {

// The fast kernels may swap an op's scalar function for a vectorisable one of the same value:
// float goes through vec_math.h's loop-friendly exp / tanh, double keeps math.h's libm form.
template <typename Fn>
struct Vectorised { using type = Fn; };
#define PYDL_VEC_UNARY(Name, float_expr)                                                     \
  struct Name##VecF {                                                                       \
    static inline float f(float x, P<float> p) { (void)p; return (float_expr); }            \
    static inline double f(double x, P<double> p) { return Name##F::f(x, p); }              \
  };                                                                                        \
  template <>                                                                               \
  struct Vectorised<Name##F> { using type = Name##VecF; };
#define PYDL_VEC_BINARY(Name, float_expr)                                                    \
  struct Name##VecF {                                                                       \
    static inline float f(float a, float b, P<float> p) { (void)p; return (float_expr); }   \
    static inline double f(double a, double b, P<double> p) { return Name##F::f(a, b, p); } \
  };                                                                                        \
  template <>                                                                               \
  struct Vectorised<Name##F> { using type = Name##VecF; };
PYDL_VEC_UNARY(Sigmoid, sigmoid_vec(x))
PYDL_VEC_UNARY(Exp, exp_full_vec(x))
PYDL_VEC_UNARY(Log, log_vec(x))
PYDL_VEC_UNARY(Elu, x > 0.0f ? x : p.a * (exp_full_vec(x) - 1.0f))
PYDL_VEC_UNARY(Tanh, tanh_vec(x))
PYDL_VEC_BINARY(EluGrad, b > 0.0f ? a : a * p.a * exp_full_vec(b))
#undef PYDL_VEC_UNARY
#undef PYDL_VEC_BINARY

// The contiguous inner loops, one copy per instruction set (see isa.h): all three operands
// contiguous, or one input a broadcast scalar (XS: x is; YS: y is).
#define PYDL_BINARY_RUN(ISA, TARGET)                                                        \
  template <typename Fn, typename T, bool XS, bool YS>                                      \
  TARGET void binary_run_##ISA(const T* x, const T* y, T* o, int64_t n, P<T> q) {           \
    const T xv = x[0], yv = y[0];                                                           \
    _Pragma("omp simd") for (int64_t i = 0; i < n; ++i)                                     \
      o[i] = Fn::f(XS ? xv : x[i], YS ? yv : y[i], q);                                      \
  }
#define PYDL_UNARY_RUN(ISA, TARGET)                                                         \
  template <typename Fn, typename T>                                                        \
  TARGET void unary_run_##ISA(const T* x, T* o, int64_t n, P<T> q) {                        \
    _Pragma("omp simd") for (int64_t i = 0; i < n; ++i) o[i] = Fn::f(x[i], q);              \
  }
PYDL_FOR_EACH_ISA(PYDL_BINARY_RUN)
PYDL_FOR_EACH_ISA(PYDL_UNARY_RUN)

template <typename T>
using BinaryRun = void (*)(const T*, const T*, T*, int64_t, P<T>);
template <typename Fn, typename T, bool XS, bool YS>
BinaryRun<T> binary_run() {
  return pick<BinaryRun<T>>(&binary_run_generic<Fn, T, XS, YS>, &binary_run_avx2<Fn, T, XS, YS>,
                            &binary_run_avx512<Fn, T, XS, YS>);
}

template <typename T>
void binary_fast(Binary op, Params p, const Shape& shape, const T* a, const Shape& sa, const T* b,
                 const Shape& sb, T* out, const Shape& so) {
  const P<T> q{static_cast<T>(p.a), static_cast<T>(p.b)};
  with_binary(op, [&](auto F) {
    using Fn = typename Vectorised<decltype(F)>::type;
    const BinaryRun<T> both = binary_run<Fn, T, false, false>(), ys = binary_run<Fn, T, false, true>(),
                       xs = binary_run<Fn, T, true, false>();
    for_each_run<3>(shape, {&sa, &sb, &so}, [&](const std::array<int64_t, 3>& off, int64_t n,
                                                const std::array<int64_t, 3>& st) {
      const T* x = a + off[0];
      const T* y = b + off[1];
      T* o = out + off[2];
      if (st[2] == 1 && st[0] == 1 && st[1] == 1) {
        both(x, y, o, n, q);
      } else if (st[2] == 1 && st[0] == 1 && st[1] == 0) {
        ys(x, y, o, n, q);
      } else if (st[2] == 1 && st[0] == 0 && st[1] == 1) {
        xs(x, y, o, n, q);
      } else {
        for (int64_t i = 0; i < n; ++i) o[i * st[2]] = Fn::f(x[i * st[0]], y[i * st[1]], q);
      }
    });
  });
}

template <typename T>
void unary_fast(Unary op, Params p, const Shape& shape, const T* x, const Shape& sx, T* out, const Shape& so) {
  const P<T> q{static_cast<T>(p.a), static_cast<T>(p.b)};
  with_unary(op, [&](auto F) {
    using Fn = typename Vectorised<decltype(F)>::type;
    using Run = void (*)(const T*, T*, int64_t, P<T>);
    const Run run = pick<Run>(&unary_run_generic<Fn, T>, &unary_run_avx2<Fn, T>, &unary_run_avx512<Fn, T>);
    for_each_run<2>(shape, {&sx, &so}, [&](const std::array<int64_t, 2>& off, int64_t n,
                                          const std::array<int64_t, 2>& st) {
      const T* in = x + off[0];
      T* o = out + off[1];
      if (st[0] == 1 && st[1] == 1) {
        run(in, o, n, q);
      } else {
        for (int64_t i = 0; i < n; ++i) o[i * st[1]] = Fn::f(in[i * st[0]], q);
      }
    });
  });
}

template <typename T>
void where_fast(const Shape& shape, const T* c, const Shape& sc, const T* a, const Shape& sa, const T* b,
                const Shape& sb, T* out, const Shape& so) {
  for_each_run<4>(shape, {&sc, &sa, &sb, &so}, [&](const std::array<int64_t, 4>& off, int64_t n,
                                                  const std::array<int64_t, 4>& st) {
    const T* cc = c + off[0];
    const T* x = a + off[1];
    const T* y = b + off[2];
    T* o = out + off[3];
    for (int64_t i = 0; i < n; ++i) o[i * st[3]] = cc[i * st[0]] != T(0) ? x[i * st[1]] : y[i * st[2]];
  });
}

template <typename Ti, typename To>
void copy_fast(const Shape& shape, const Ti* src, const Shape& ss, To* dst, const Shape& sd) {
  for_each_run<2>(shape, {&ss, &sd}, [&](const std::array<int64_t, 2>& off, int64_t n,
                                        const std::array<int64_t, 2>& st) {
    const Ti* in = src + off[0];
    To* o = dst + off[1];
    if (st[0] == 1 && st[1] == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<To>(in[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * st[1]] = static_cast<To>(in[i * st[0]]);
    }
  });
}

#define PYDL_INSTANTIATE(T)                                                                                 \
  template void binary_fast<T>(Binary, Params, const Shape&, const T*, const Shape&, const T*, const Shape&, \
                               T*, const Shape&);                                                           \
  template void unary_fast<T>(Unary, Params, const Shape&, const T*, const Shape&, T*, const Shape&);       \
  template void where_fast<T>(const Shape&, const T*, const Shape&, const T*, const Shape&, const T*,       \
                              const Shape&, T*, const Shape&);
PYDL_INSTANTIATE(float)
PYDL_INSTANTIATE(double)
#undef PYDL_INSTANTIATE
template void copy_fast<float, float>(const Shape&, const float*, const Shape&, float*, const Shape&);
template void copy_fast<float, double>(const Shape&, const float*, const Shape&, double*, const Shape&);
template void copy_fast<double, float>(const Shape&, const double*, const Shape&, float*, const Shape&);
template void copy_fast<double, double>(const Shape&, const double*, const Shape&, double*, const Shape&);
// int64 (issue 9): ids and labels move and convert, nothing else
template void copy_fast<int64_t, int64_t>(const Shape&, const int64_t*, const Shape&, int64_t*, const Shape&);
template void copy_fast<int64_t, float>(const Shape&, const int64_t*, const Shape&, float*, const Shape&);
template void copy_fast<int64_t, double>(const Shape&, const int64_t*, const Shape&, double*, const Shape&);
template void copy_fast<float, int64_t>(const Shape&, const float*, const Shape&, int64_t*, const Shape&);
template void copy_fast<double, int64_t>(const Shape&, const double*, const Shape&, int64_t*, const Shape&);

}  // namespace pydl::kernels
