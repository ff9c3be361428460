// softmax and log_softmax over one axis. (The pointwise activations relu, sigmoid, ... are
// elementwise kernels and live in elementwise.cpp beside their fused gradients.)
#include "ops/common.h"

namespace pydl::ops {

static void softmax_layout(const Tensor& x, int64_t a, int64_t& outer, int64_t& n, int64_t& inner) {
  outer = 1;
  inner = 1;
  for (int64_t d = 0; d < a; ++d) outer *= x.shape()[d];
  n = x.shape()[a];
  for (int64_t d = a + 1; d < x.dim(); ++d) inner *= x.shape()[d];
}

static Tensor softmax_impl(const Tensor& x_in, int64_t axis, bool log) {
  const char* op = log ? "log_softmax" : "softmax";
  check_defined(x_in, op);
  check_float(x_in, op);
  if (x_in.dim() == 0) throw ValueError(msg(op, ": needs at least one dimension, got a scalar"));
  const int64_t a = normalize_axis(axis, x_in.dim(), op);
  Tensor x = contiguous(x_in.detach());
  int64_t outer, n, inner;
  softmax_layout(x, a, outer, n, inner);
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  if (y.numel() > 0) {
    PYDL_DISPATCH(x.dtype(), {
      if (use_fast()) kernels::softmax_fast<T>(x.data<T>(), outer, n, inner, y.data<T>(), log);
      else kernels::softmax_reference<T>(x.data<T>(), outer, n, inner, y.data<T>(), log);
    });
  }
  if (any_requires_grad({&x_in})) {
    record(log ? "LogSoftmaxBackward" : "SoftmaxBackward", {x_in}, y, {y}, [a, log](const Node& nd, const Tensor& g_in) {
      Tensor y = nd.saved(0), g = contiguous(g_in);
      int64_t outer, n, inner;
      softmax_layout(y, a, outer, n, inner);
      Tensor dx = Tensor::empty(y.shape(), y.dtype());
      if (dx.numel() > 0) {
        PYDL_DISPATCH(y.dtype(), {
          if (use_fast()) kernels::softmax_backward_fast<T>(g.data<T>(), y.data<T>(), outer, n, inner, dx.data<T>(), log);
          else kernels::softmax_backward_reference<T>(g.data<T>(), y.data<T>(), outer, n, inner, dx.data<T>(), log);
        });
      }
      return std::vector<Tensor>{dx};
    });
  }
  return y;
}

Tensor softmax(const Tensor& x, int64_t axis) { return softmax_impl(x, axis, false); }
Tensor log_softmax(const Tensor& x, int64_t axis) { return softmax_impl(x, axis, true); }

}  // namespace pydl::ops
