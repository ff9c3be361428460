// upsample2d and pad2d: argument checks, the kernels of the current backend (kernels/resample.h),
// and the backward beside the forward.
#include <cmath>
#include <string>

#include "kernels/resample.h"
#include "ops/common.h"

namespace pydl::ops {

Tensor upsample2d(const Tensor& x, std::array<int64_t, 2> size, std::array<double, 2> scale, const std::string& mode,
                  bool align_corners) {
  const char* op = "upsample2d";
  check_defined(x, op);
  check_float(x, op);
  if (x.dim() != 4) throw ShapeError(msg(op, ": expected a 4-D input (N, C, H, W), got shape ", shape_str(x.shape())));
  if (mode != "nearest" && mode != "bilinear")
    throw ValueError(msg(op, ": mode must be 'nearest' or 'bilinear', got '", mode, "'"));
  if (mode == "nearest" && align_corners)
    throw ValueError(msg(op, ": align_corners only applies to mode='bilinear' (as PyTorch), got mode='nearest'"));
  const Shape& xs = x.shape();
  if (xs[2] < 1 || xs[3] < 1)
    throw ShapeError(msg(op, ": cannot upsample an empty plane, input shape ", shape_str(xs)));
  if (size[0] < 1 || size[1] < 1)
    throw ValueError(msg(op, ": the output size must be positive, got (", size[0], ", ", size[1], ") for input shape ",
                         shape_str(xs)));
  for (double s : scale)
    if (!(s >= 0) || !std::isfinite(s))
      throw ValueError(msg(op, ": scale_factor must be positive and finite, got (", scale[0], ", ", scale[1], ")"));
  kernels::UpsampleGeom g{xs[0] * xs[1], xs[2], xs[3], size[0], size[1], scale[0], scale[1], mode == "bilinear",
                          align_corners};
  Tensor xc = contiguous(x.detach());
  Tensor y = Tensor::empty({xs[0], xs[1], size[0], size[1]}, x.dtype());
  PYDL_DISPATCH(x.dtype(), {
    if (use_fast()) kernels::upsample2d_fast<T>(xc.data<T>(), g, y.data<T>());
    else kernels::upsample2d_reference<T>(xc.data<T>(), g, y.data<T>());
  });
  if (any_requires_grad({&x})) {
    // dL/dx[h, w] = Σ over the outputs that read (h, w) of their weight · dL/dy
    record("Upsample2dBackward", {x}, y, {}, [g, shape = xs, dt = x.dtype()](const Node&, const Tensor& gy) {
      Tensor gx = Tensor::empty(shape, dt);
      Tensor gc = contiguous(gy);
      PYDL_DISPATCH(dt, {
        if (use_fast()) kernels::upsample2d_backward_fast<T>(gc.data<T>(), g, gx.data<T>());
        else kernels::upsample2d_backward_reference<T>(gc.data<T>(), g, gx.data<T>());
      });
      return std::vector<Tensor>{gx};
    });
  }
  return y;
}

Tensor pad2d(const Tensor& x, std::array<int64_t, 4> padding, const std::string& mode) {
  const char* op = "pad2d";
  check_defined(x, op);
  check_float(x, op);
  if (x.dim() != 4) throw ShapeError(msg(op, ": expected a 4-D input (N, C, H, W), got shape ", shape_str(x.shape())));
  if (mode != "zeros" && mode != "reflect")
    throw ValueError(msg(op, ": mode must be 'zeros' or 'reflect', got '", mode, "'"));
  const Shape& xs = x.shape();
  const std::string pads = msg("(left, right, top, bottom) = (", padding[0], ", ", padding[1], ", ", padding[2], ", ",
                               padding[3], ")");
  for (int64_t p : padding)
    if (p < 0)
      throw ValueError(msg(op, ": padding must be non-negative, got ", pads, " for input shape ", shape_str(xs),
                           " (to crop, slice the tensor)"));
  const bool reflect = mode == "reflect";
  if (reflect && (padding[0] >= xs[3] || padding[1] >= xs[3] || padding[2] >= xs[2] || padding[3] >= xs[2]))
    throw ValueError(msg(op, ": reflect padding must be smaller than the padded axis (height ", xs[2], ", width ",
                         xs[3], " of input shape ", shape_str(xs), "), got ", pads));
  kernels::PadGeom g{xs[0] * xs[1], xs[2], xs[3], padding[0], padding[1], padding[2], padding[3], reflect};
  Tensor xc = contiguous(x.detach());
  Tensor y = Tensor::empty({xs[0], xs[1], g.Ho(), g.Wo()}, x.dtype());
  PYDL_DISPATCH(x.dtype(), {
    if (use_fast()) kernels::pad2d_fast<T>(xc.data<T>(), g, y.data<T>());
    else kernels::pad2d_reference<T>(xc.data<T>(), g, y.data<T>());
  });
  if (any_requires_grad({&x})) {
    // dL/dx[h, w] = Σ over the outputs that copy x[h, w] (one inside, and its mirror images) of dL/dy
    record("Pad2dBackward", {x}, y, {}, [g, shape = xs, dt = x.dtype()](const Node&, const Tensor& gy) {
      Tensor gx = Tensor::empty(shape, dt);
      Tensor gc = contiguous(gy);
      PYDL_DISPATCH(dt, {
        if (use_fast()) kernels::pad2d_backward_fast<T>(gc.data<T>(), g, gx.data<T>());
        else kernels::pad2d_backward_reference<T>(gc.data<T>(), g, gx.data<T>());
      });
      return std::vector<Tensor>{gx};
    });
  }
  return y;
}

}  // namespace pydl::ops
