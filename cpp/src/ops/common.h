// Helpers shared by the op files: dtype dispatch, dtype checks, broadcast strides.
#pragma once
#include "autograd/function.h"
#include "kernels/kernels.h"
#include "pydl/ops.h"
#include "pydl/settings.h"

namespace pydl::ops {

inline bool use_fast() { return settings::backend() == settings::Backend::Fast; }

// The TypeError of a float op given an int64 tensor (token ids, labels): ints never silently
// become floats inside an op; the caller converts them on purpose.
[[noreturn]] inline void throw_not_float(const char* op, DType dtype, const Shape* shape = nullptr) {
  throw TypeError(msg(op, ": ", dtype_name(dtype), " tensor", shape ? " " + shape_str(*shape) : std::string(),
                      " is not supported; convert with .to(pydl.float32)"));
}
inline void check_float(const Tensor& t, const char* op) {
  if (t.defined() && !is_floating(t.dtype())) throw_not_float(op, t.dtype(), &t.shape());
}

// Run body<T>() with T = float or double according to `dtype`; any other dtype (int64) throws
// TypeError naming the function it reached (ops name themselves earlier with check_float).
#define PYDL_DISPATCH(dtype, ...)                   \
  do {                                              \
    const ::pydl::DType pydl_dt_ = (dtype);         \
    if (pydl_dt_ == ::pydl::DType::Float32) {       \
      using T = float;                              \
      __VA_ARGS__;                                  \
    } else if (pydl_dt_ == ::pydl::DType::Float64) { \
      using T = double;                             \
      __VA_ARGS__;                                  \
    } else {                                        \
      ::pydl::ops::throw_not_float(__func__, pydl_dt_); \
    }                                               \
  } while (0)

inline void check_same_dtype(const Tensor& a, const Tensor& b, const char* op) {
  if (a.dtype() != b.dtype())
    throw TypeError(msg(op, ": dtype mismatch: ", dtype_name(a.dtype()), " ", shape_str(a.shape()), " and ",
                        dtype_name(b.dtype()), " ", shape_str(b.shape()),
                        "; convert one with .to(pydl.float32) or .to(pydl.float64)"));
}

inline void check_defined(const Tensor& t, const char* op) {
  if (!t.defined()) throw ValueError(msg(op, ": got an undefined tensor"));
}

// t's strides seen from the broadcast shape `out`: right-aligned, 0 on broadcast axes.
inline Shape broadcast_strides(const Tensor& t, const Shape& out) {
  Shape st(out.size(), 0);
  const Shape& sh = t.shape();
  const Shape& ts = t.strides();
  const size_t lead = out.size() - sh.size();
  for (size_t i = 0; i < sh.size(); ++i) st[lead + i] = sh[i] == 1 ? 0 : ts[i];
  return st;
}

}  // namespace pydl::ops
