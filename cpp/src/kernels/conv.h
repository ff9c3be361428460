// Convolution kernels (conv2d forward and backward), reference loops and the fast im2col + GEMM
// versions. Shapes are checked by ops/conv.cpp before any kernel runs; every buffer is
// contiguous (row-major):
//   x  (N, C, H, W)            w  (O, C / groups, kh, kw)      b  (O,) or null
//   y  (N, O, Ho, Wo)          Ho = (H + pad_top + pad_bottom - dh * (kh - 1) - 1) / sh + 1
// Padding is implicit zeros: pad_bottom / pad_right only enter through Ho / Wo.
// Backward kernels overwrite their output (gx, gw); the autograd engine accumulates.
#pragma once
#include <cstdint>

namespace pydl::kernels {

struct Conv2dGeom {
  int64_t N, C, H, W;      // input
  int64_t O, kh, kw;       // output channels, kernel size
  int64_t sh, sw;          // stride
  int64_t pt, pl;          // padding at the top and on the left
  int64_t dh, dw;          // dilation
  int64_t groups;
  int64_t Ho, Wo;          // output size
  int64_t cg() const { return C / groups; }  // input channels per group
  int64_t og() const { return O / groups; }  // output channels per group
};

// y = conv(x, w) + b
template <typename T>
void conv2d_forward_reference(const Conv2dGeom& g, const T* x, const T* w, const T* b, T* y);
template <typename T>
void conv2d_forward_fast(const Conv2dGeom& g, const T* x, const T* w, const T* b, T* y);

// gx = dL/dx from gy = dL/dy
template <typename T>
void conv2d_backward_input_reference(const Conv2dGeom& g, const T* gy, const T* w, T* gx);
template <typename T>
void conv2d_backward_input_fast(const Conv2dGeom& g, const T* gy, const T* w, T* gx);

// gw = dL/dw from gy = dL/dy (the bias gradient is gy summed over N, Ho, Wo: done by the op)
template <typename T>
void conv2d_backward_weight_reference(const Conv2dGeom& g, const T* gy, const T* x, T* gw);
template <typename T>
void conv2d_backward_weight_fast(const Conv2dGeom& g, const T* gy, const T* x, T* gw);

// The fast path's two halves, for one image, exposed for the adjoint test:
//   im2col: col (C * kh * kw, Ho * Wo), col[(c, p, q), (i, j)] = x[c, i*sh - pt + p*dh, j*sw - pl + q*dw]
//           (0 where that falls in the padding); x is one image (C, H, W).
//   col2im: its adjoint, x[c, h, w] += every col entry that im2col read from x[c, h, w].
template <typename T>
void im2col(const Conv2dGeom& g, const T* x, T* col);
template <typename T>
void col2im(const Conv2dGeom& g, const T* col, T* x);

// Transposed convolution (PyTorch's conv_transpose2d), described by the geometry g of the
// convolution it is the adjoint of: its input x is that convolution's output side and its
// output y that convolution's input side:
//   x  (N, g.O, g.Ho, g.Wo)    w  (g.O, g.C / groups, kh, kw)   b  (g.C,) or null
//   y  (N, g.C, g.H, g.W)
// so y = b + conv2dᵀ(x), and its backward is conv2d itself: gx = conv2d(gy, w) (forward
// kernels, no bias) and gw = conv2d_backward_weight(gy := x, x := gy).
template <typename T>
void conv2d_transpose_forward_reference(const Conv2dGeom& g, const T* x, const T* w, const T* b, T* y);
template <typename T>
void conv2d_transpose_forward_fast(const Conv2dGeom& g, const T* x, const T* w, const T* b, T* y);

}  // namespace pydl::kernels
