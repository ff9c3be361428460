// conv2d and conv2d_transpose: shape checks, the kernels of the current backend, and the backward beside the forward.
#include <algorithm>
#include <string>

#include "kernels/conv.h"

#include "ops/common.h"

namespace pydl::ops {

namespace {

std::string pair_str(std::array<int64_t, 2> a) { return msg("(", a[0], ", ", a[1], ")"); }

}  // namespace

Tensor conv2d(const Tensor& x_in, const Tensor& w_in, const Tensor& bias, std::array<int64_t, 2> stride,
              std::array<int64_t, 4> padding, std::array<int64_t, 2> dilation, int64_t groups) {
  check_defined(x_in, "conv2d");
  check_float(x_in, "conv2d");
  check_defined(w_in, "conv2d");
  check_float(w_in, "conv2d");
  check_same_dtype(x_in, w_in, "conv2d");
  if (x_in.dim() != 4)
    throw ShapeError(msg("conv2d: the input must be 4-D (N, C, H, W), got ", shape_str(x_in.shape())));
  if (w_in.dim() != 4)
    throw ShapeError(msg("conv2d: the weight must be 4-D (out_channels, in_channels / groups, kh, kw), got ",
                         shape_str(w_in.shape())));
  if (stride[0] < 1 || stride[1] < 1)
    throw ValueError(msg("conv2d: stride must be positive, got ", pair_str(stride), " (input ",
                         shape_str(x_in.shape()), ", weight ", shape_str(w_in.shape()), ")"));
  if (dilation[0] < 1 || dilation[1] < 1)
    throw ValueError(msg("conv2d: dilation must be positive, got ", pair_str(dilation), " (input ",
                         shape_str(x_in.shape()), ", weight ", shape_str(w_in.shape()), ")"));
  for (int64_t p : padding)
    if (p < 0)
      throw ValueError(msg("conv2d: padding must be non-negative, got (top, bottom, left, right) = (", padding[0],
                           ", ", padding[1], ", ", padding[2], ", ", padding[3], ")"));
  const Shape& xs = x_in.shape();
  const Shape& ws = w_in.shape();
  const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
  const int64_t O = ws[0], kh = ws[2], kw = ws[3];
  if (groups < 1) throw ValueError(msg("conv2d: groups must be positive, got ", groups));
  if (C % groups != 0 || O % groups != 0)
    throw ShapeError(msg("conv2d: groups=", groups, " must divide both the input channels (", C, ", input ",
                         shape_str(xs), ") and the output channels (", O, ", weight ", shape_str(ws), ")"));
  if (ws[1] != C / groups)
    throw ShapeError(msg("conv2d: the weight ", shape_str(ws), " expects ", ws[1] * groups,
                         " input channels (in_channels / groups = ", ws[1], " with groups=", groups,
                         "), but the input ", shape_str(xs), " has ", C));
  if (bias.defined()) {
    check_same_dtype(x_in, bias, "conv2d");
    if (bias.dim() != 1 || bias.shape()[0] != O)
      throw ShapeError(msg("conv2d: the bias must have shape (", O, ",) for the weight ", shape_str(ws), ", got ",
                           shape_str(bias.shape())));
  }
  const int64_t eh = dilation[0] * (kh - 1) + 1, ew = dilation[1] * (kw - 1) + 1;  // the dilated kernel
  const int64_t ph = H + padding[0] + padding[1], pw = W + padding[2] + padding[3];
  if (kh < 1 || kw < 1 || eh > ph || ew > pw)
    throw ShapeError(msg("conv2d: the kernel ", shape_str(ws), " (", eh, "x", ew, " with dilation ",
                         pair_str(dilation), ") is larger than the padded input ", ph, "x", pw, " (input ",
                         shape_str(xs), ", padding (top, bottom, left, right) = (", padding[0], ", ", padding[1], ", ",
                         padding[2], ", ", padding[3], "))"));
  kernels::Conv2dGeom g{N, C, H, W, O, kh, kw, stride[0], stride[1], padding[0], padding[2],
                        dilation[0], dilation[1], groups, (ph - eh) / stride[0] + 1, (pw - ew) / stride[1] + 1};

  Tensor x = contiguous(x_in.detach()), w = contiguous(w_in.detach());
  Tensor b = bias.defined() ? contiguous(bias.detach()) : Tensor();
  Tensor y = Tensor::empty({N, O, g.Ho, g.Wo}, x.dtype());
  PYDL_DISPATCH(x.dtype(), {
    const T* bp = b.defined() ? b.data<T>() : nullptr;
    if (use_fast()) kernels::conv2d_forward_fast<T>(g, x.data<T>(), w.data<T>(), bp, y.data<T>());
    else kernels::conv2d_forward_reference<T>(g, x.data<T>(), w.data<T>(), bp, y.data<T>());
  });
  if (any_requires_grad({&x_in, &w_in, &bias})) {
    // dx = conv's transpose of g with W,  dW = Σ_n g_n ⋆ x_n,  db = Σ_{n,i,j} g
    record("Conv2dBackward", {x_in, w_in, bias}, y, {x, w}, [g](const Node& n, const Tensor& grad) {
      Tensor gy = contiguous(grad);
      Tensor xs = n.saved(0), wt = n.saved(1);
      Tensor gx, gw, gb;
      PYDL_DISPATCH(gy.dtype(), {
        if (fnode(n).needs(0)) {
          gx = Tensor::empty(xs.shape(), gy.dtype());
          if (use_fast()) kernels::conv2d_backward_input_fast<T>(g, gy.data<T>(), wt.data<T>(), gx.data<T>());
          else kernels::conv2d_backward_input_reference<T>(g, gy.data<T>(), wt.data<T>(), gx.data<T>());
        }
        if (fnode(n).needs(1)) {
          gw = Tensor::empty(wt.shape(), gy.dtype());
          if (use_fast()) kernels::conv2d_backward_weight_fast<T>(g, gy.data<T>(), xs.data<T>(), gw.data<T>());
          else kernels::conv2d_backward_weight_reference<T>(g, gy.data<T>(), xs.data<T>(), gw.data<T>());
        }
      });
      if (fnode(n).needs(2)) gb = sum(gy, {0, 2, 3});
      return std::vector<Tensor>{gx, gw, gb};
    });
  }
  return y;
}

Tensor conv2d_transpose(const Tensor& x_in, const Tensor& w_in, const Tensor& bias, std::array<int64_t, 2> stride,
                        std::array<int64_t, 4> padding, std::array<int64_t, 2> output_padding,
                        std::array<int64_t, 2> dilation, int64_t groups) {
  const char* op = "conv2d_transpose";
  check_defined(x_in, op);
  check_float(x_in, op);
  check_defined(w_in, op);
  check_float(w_in, op);
  check_same_dtype(x_in, w_in, op);
  if (x_in.dim() != 4)
    throw ShapeError(msg(op, ": the input must be 4-D (N, C_in, H, W), got ", shape_str(x_in.shape())));
  if (w_in.dim() != 4)
    throw ShapeError(msg(op, ": the weight must be 4-D (in_channels, out_channels / groups, kh, kw), got ",
                         shape_str(w_in.shape())));
  const Shape& xs = x_in.shape();
  const Shape& ws = w_in.shape();
  const std::string where = msg(" (input ", shape_str(xs), ", weight ", shape_str(ws), ")");
  if (stride[0] < 1 || stride[1] < 1)
    throw ValueError(msg(op, ": stride must be positive, got ", pair_str(stride), where));
  if (dilation[0] < 1 || dilation[1] < 1)
    throw ValueError(msg(op, ": dilation must be positive, got ", pair_str(dilation), where));
  for (int64_t p : padding)
    if (p < 0)
      throw ValueError(msg(op, ": padding must be non-negative, got (top, bottom, left, right) = (", padding[0], ", ",
                           padding[1], ", ", padding[2], ", ", padding[3], ")", where));
  for (int a = 0; a < 2; ++a)
    if (output_padding[a] < 0 || output_padding[a] >= std::max(stride[a], dilation[a]))
      throw ValueError(msg(op, ": output_padding ", pair_str(output_padding),
                           " must be non-negative and smaller than the stride ", pair_str(stride),
                           " or the dilation ", pair_str(dilation), " in each axis", where));
  if (groups < 1) throw ValueError(msg(op, ": groups must be positive, got ", groups));
  const int64_t N = xs[0], Cin = xs[1], H = xs[2], W = xs[3];
  const int64_t kh = ws[2], kw = ws[3];
  if (ws[0] != Cin)
    throw ShapeError(msg(op, ": the weight ", shape_str(ws), " expects ", ws[0],
                         " input channels (its first axis), but the input ", shape_str(xs), " has ", Cin));
  if (Cin % groups != 0)
    throw ShapeError(msg(op, ": groups=", groups, " must divide the input channels (", Cin, ")", where));
  const int64_t Cout = ws[1] * groups;
  if (bias.defined()) {
    check_same_dtype(x_in, bias, op);
    if (bias.dim() != 1 || bias.shape()[0] != Cout)
      throw ShapeError(msg(op, ": the bias must have shape (", Cout, ",) (out_channels / groups = ", ws[1],
                           " times groups = ", groups, "), got ", shape_str(bias.shape())));
  }
  const int64_t Ho = (H - 1) * stride[0] - padding[0] - padding[1] + dilation[0] * (kh - 1) + output_padding[0] + 1;
  const int64_t Wo = (W - 1) * stride[1] - padding[2] - padding[3] + dilation[1] * (kw - 1) + output_padding[1] + 1;
  if (kh < 1 || kw < 1 || H < 1 || W < 1 || Ho < 1 || Wo < 1)
    throw ShapeError(msg(op, ": the output would be ", Ho, "x", Wo, " (H_out = (H - 1) * stride - pad_top - "
                         "pad_bottom + dilation * (kh - 1) + output_padding + 1); the padding (top, bottom, left, "
                         "right) = (", padding[0], ", ", padding[1], ", ", padding[2], ", ", padding[3],
                         ") crops more than the full output", where));
  // The convolution this is the adjoint of: input (N, Cout, Ho, Wo), output (N, Cin, H, W).
  kernels::Conv2dGeom g{N, Cout, Ho, Wo, Cin, kh, kw, stride[0], stride[1], padding[0], padding[2],
                        dilation[0], dilation[1], groups, H, W};

  Tensor x = contiguous(x_in.detach()), w = contiguous(w_in.detach());
  Tensor b = bias.defined() ? contiguous(bias.detach()) : Tensor();
  Tensor y = Tensor::empty({N, Cout, Ho, Wo}, x.dtype());
  if (N > 0) {
    PYDL_DISPATCH(x.dtype(), {
      const T* bp = b.defined() ? b.data<T>() : nullptr;
      if (use_fast()) kernels::conv2d_transpose_forward_fast<T>(g, x.data<T>(), w.data<T>(), bp, y.data<T>());
      else kernels::conv2d_transpose_forward_reference<T>(g, x.data<T>(), w.data<T>(), bp, y.data<T>());
    });
  }
  if (any_requires_grad({&x_in, &w_in, &bias})) {
    // dx = conv2d(g_y, W),  dW = conv2d's weight gradient with the roles of x and g_y swapped,  db = Σ_{n,i,j} g_y
    record("Conv2dTransposeBackward", {x_in, w_in, bias}, y, {x, w}, [g](const Node& n, const Tensor& grad) {
      Tensor gy = contiguous(grad);
      Tensor xs = n.saved(0), wt = n.saved(1);
      Tensor gx, gw, gb;
      PYDL_DISPATCH(gy.dtype(), {
        if (fnode(n).needs(0)) {
          gx = Tensor::zeros(xs.shape(), gy.dtype());
          if (g.N > 0) {
            if (use_fast()) kernels::conv2d_forward_fast<T>(g, gy.data<T>(), wt.data<T>(), nullptr, gx.data<T>());
            else kernels::conv2d_forward_reference<T>(g, gy.data<T>(), wt.data<T>(), nullptr, gx.data<T>());
          }
        }
        if (fnode(n).needs(1)) {
          gw = Tensor::empty(wt.shape(), gy.dtype());
          if (use_fast()) kernels::conv2d_backward_weight_fast<T>(g, xs.data<T>(), gy.data<T>(), gw.data<T>());
          else kernels::conv2d_backward_weight_reference<T>(g, xs.data<T>(), gy.data<T>(), gw.data<T>());
        }
      });
      if (fnode(n).needs(2)) gb = sum(gy, {0, 2, 3});
      return std::vector<Tensor>{gx, gw, gb};
    });
  }
  return y;
}

}  // namespace pydl::ops
