// Helpers shared by the op files: dtype dispatch, dtype checks, broadcast strides.
#pragma once
#include "autograd/function.h"
#include "kernels/kernels.h"
#include "pydl/ops.h"
#include "pydl/settings.h"

namespace pydl::ops {

inline bool use_fast() { return settings::backend() == settings::Backend::Fast; }

// Run body<T>() with T = float or double according to `dtype`.
#define PYDL_DISPATCH(dtype, ...)                   \
  do {                                              \
    if ((dtype) == ::pydl::DType::Float32) {        \
      using T = float;                              \
      __VA_ARGS__;                                  \
    } else {                                        \
      using T = double;                             \
      __VA_ARGS__;                                  \
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
