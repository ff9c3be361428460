// Pooling over NCHW images: max_pool2d (the argmax saved for backward), avg_pool2d, and the
// global forms as one window over the whole plane. Shapes and window arguments are checked
// here; the kernels (kernels/pool.h) see only a valid geometry.
#include <memory>
#include <vector>

#include "kernels/pool.h"
#include "ops/common.h"

namespace pydl::ops {

namespace {

std::string pads_str(const Pool2d& p) {
  return msg("(top ", p.pad_top, ", bottom ", p.pad_bottom, ", left ", p.pad_left, ", right ", p.pad_right, ")");
}

// Output length along one axis: floor((n + pads - k_eff) / s) + 1, or with ceil_mode the
// ceiling, less the last window when it would start in the bottom/right padding (PyTorch).
int64_t out_len(int64_t n, int64_t pad_begin, int64_t pad_end, int64_t k_eff, int64_t s, bool ceil_mode) {
  const int64_t span = n + pad_begin + pad_end - k_eff;
  int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (o - 1) * s >= n + pad_begin) --o;
  return o;
}

// Check x and p, return the kernels' geometry. `is_max`: dilation allowed, and the padding rule
// uses the dilated kernel (PyTorch's: each pad at most half the effective kernel).
kernels::PoolGeom plan(const Tensor& x, const Pool2d& p, bool is_max, const char* op) {
  check_defined(x, op);
  check_float(x, op);
  if (x.dim() != 4)
    throw ShapeError(msg(op, ": expected a 4-D input (N, C, H, W), got shape ", shape_str(x.shape())));
  if (p.kh <= 0 || p.kw <= 0)
    throw ValueError(msg(op, ": kernel_size must be positive, got (", p.kh, ", ", p.kw, ") for input shape ",
                         shape_str(x.shape())));
  if (p.sh <= 0 || p.sw <= 0)
    throw ValueError(msg(op, ": stride must be positive, got (", p.sh, ", ", p.sw, ") for input shape ",
                         shape_str(x.shape())));
  if (p.dh <= 0 || p.dw <= 0)
    throw ValueError(msg(op, ": dilation must be positive, got (", p.dh, ", ", p.dw, ")"));
  if (!is_max && (p.dh != 1 || p.dw != 1))
    throw ValueError(msg(op, ": dilation is not defined for average pooling, got (", p.dh, ", ", p.dw, ")"));
  if (p.pad_top < 0 || p.pad_bottom < 0 || p.pad_left < 0 || p.pad_right < 0)
    throw ValueError(msg(op, ": padding must be non-negative, got ", pads_str(p)));
  const int64_t keh = (p.kh - 1) * p.dh + 1, kew = (p.kw - 1) * p.dw + 1;
  if (std::max(p.pad_top, p.pad_bottom) > keh / 2 || std::max(p.pad_left, p.pad_right) > kew / 2)
    throw ValueError(msg(op, ": padding ", pads_str(p), " must be at most half the ", is_max ? "(dilated) " : "",
                         "kernel (", keh, ", ", kew, ") on each side"));
  const int64_t H = x.shape()[2], W = x.shape()[3];
  const int64_t Hp = H + p.pad_top + p.pad_bottom, Wp = W + p.pad_left + p.pad_right;
  if (keh > Hp || kew > Wp)
    throw ShapeError(msg(op, ": the ", is_max ? "(dilated) " : "", "kernel (", keh, ", ", kew,
                         ") is larger than the padded input (", Hp, ", ", Wp, ") of input shape ",
                         shape_str(x.shape()), " with padding ", pads_str(p)));
  kernels::PoolGeom g;
  g.planes = x.shape()[0] * x.shape()[1];
  g.H = H;
  g.W = W;
  g.OH = out_len(H, p.pad_top, p.pad_bottom, keh, p.sh, p.ceil_mode);
  g.OW = out_len(W, p.pad_left, p.pad_right, kew, p.sw, p.ceil_mode);
  g.kh = p.kh;
  g.kw = p.kw;
  g.sh = p.sh;
  g.sw = p.sw;
  g.pt = p.pad_top;
  g.pb = p.pad_bottom;
  g.pl = p.pad_left;
  g.pr = p.pad_right;
  g.dh = p.dh;
  g.dw = p.dw;
  return g;
}

Tensor max_pool2d_impl(const Tensor& x, const Pool2d& p, const char* op) {
  const kernels::PoolGeom g = plan(x, p, true, op);
  Tensor xc = contiguous(x.detach());
  Tensor y = Tensor::empty({x.shape()[0], x.shape()[1], g.OH, g.OW}, x.dtype());
  // The argmax (flat index in its plane) of every output: what backward routes the gradient by,
  // kept only when a backward will run.
  const bool grad = any_requires_grad({&x});
  auto argmax = std::make_shared<std::vector<int64_t>>(grad ? static_cast<size_t>(y.numel()) : 0);
  int64_t* arg = grad ? argmax->data() : nullptr;
  if (y.numel() > 0) {
    PYDL_DISPATCH(x.dtype(), {
      if (use_fast()) kernels::max_pool2d_fast<T>(xc.data<T>(), g, y.data<T>(), arg);
      else kernels::max_pool2d_reference<T>(xc.data<T>(), g, y.data<T>(), arg);
    });
  }
  if (grad) {
    // dL/dx[argmax] += dL/dy: each output's gradient goes to the one input it copied
    record("MaxPool2dBackward", {x}, y, {}, [g, argmax, xs = x.shape(), dt = x.dtype()](const Node&, const Tensor& gy) {
      Tensor gx = Tensor::zeros(xs, dt);
      Tensor gc = contiguous(gy);
      if (gc.numel() > 0) {
        PYDL_DISPATCH(dt, {
          if (use_fast()) kernels::max_pool2d_backward_fast<T>(gc.data<T>(), argmax->data(), g, gx.data<T>());
          else kernels::max_pool2d_backward_reference<T>(gc.data<T>(), argmax->data(), g, gx.data<T>());
        });
      }
      return std::vector<Tensor>{gx};
    });
  }
  return y;
}

Tensor avg_pool2d_impl(const Tensor& x, const Pool2d& p, bool count_include_pad, const char* op) {
  const kernels::PoolGeom g = plan(x, p, false, op);
  Tensor xc = contiguous(x.detach());
  Tensor y = Tensor::empty({x.shape()[0], x.shape()[1], g.OH, g.OW}, x.dtype());
  if (y.numel() > 0) {
    PYDL_DISPATCH(x.dtype(), {
      if (use_fast()) kernels::avg_pool2d_fast<T>(xc.data<T>(), g, count_include_pad, y.data<T>());
      else kernels::avg_pool2d_reference<T>(xc.data<T>(), g, count_include_pad, y.data<T>());
    });
  }
  if (any_requires_grad({&x})) {
    // dL/dx[h, w] = sum over the windows holding (h, w) of dL/dy / |window|
    record("AvgPool2dBackward", {x}, y, {},
           [g, count_include_pad, xs = x.shape(), dt = x.dtype()](const Node&, const Tensor& gy) {
             Tensor gx = Tensor::zeros(xs, dt);
             Tensor gc = contiguous(gy);
             if (gc.numel() > 0) {
               PYDL_DISPATCH(dt, {
                 if (use_fast()) kernels::avg_pool2d_backward_fast<T>(gc.data<T>(), g, count_include_pad, gx.data<T>());
                 else kernels::avg_pool2d_backward_reference<T>(gc.data<T>(), g, count_include_pad, gx.data<T>());
               });
             }
             return std::vector<Tensor>{gx};
           });
  }
  return y;
}

// One window covering the whole H x W plane.
Pool2d whole_plane(const Tensor& x, const char* op) {
  check_defined(x, op);
  check_float(x, op);
  if (x.dim() != 4)
    throw ShapeError(msg(op, ": expected a 4-D input (N, C, H, W), got shape ", shape_str(x.shape())));
  if (x.shape()[2] == 0 || x.shape()[3] == 0)
    throw ShapeError(msg(op, ": cannot pool over an empty plane, input shape ", shape_str(x.shape())));
  Pool2d p;
  p.kh = p.sh = x.shape()[2];
  p.kw = p.sw = x.shape()[3];
  return p;
}

Tensor drop_plane(const Tensor& y, bool keepdims) {
  return keepdims ? y : reshape(y, {y.shape()[0], y.shape()[1]});
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const Pool2d& p) { return max_pool2d_impl(x, p, "max_pool2d"); }

Tensor avg_pool2d(const Tensor& x, const Pool2d& p, bool count_include_pad) {
  return avg_pool2d_impl(x, p, count_include_pad, "avg_pool2d");
}

Tensor global_max_pool2d(const Tensor& x, bool keepdims) {
  Pool2d p = whole_plane(x, "global_max_pool2d");
  return drop_plane(max_pool2d_impl(x, p, "global_max_pool2d"), keepdims);
}

Tensor global_avg_pool2d(const Tensor& x, bool keepdims) {
  Pool2d p = whole_plane(x, "global_avg_pool2d");
  return drop_plane(avg_pool2d_impl(x, p, true, "global_avg_pool2d"), keepdims);
}

}  // namespace pydl::ops
