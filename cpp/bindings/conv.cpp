// Convolutions: pydl._C.conv2d(x, weight, bias, stride, padding, dilation, groups), all sizes
// explicit (padding as (top, bottom, left, right)); pydl.functional.conv2d parses PyTorch's and
// Keras's forms ('same', 'valid', ints, pairs) into these.
#include "common.h"

namespace pydl::bind {

void bind_conv(py::module_& m) {
  m.def("conv2d",
        [](const Tensor& x, const Tensor& w, py::object bias, std::array<int64_t, 2> stride,
           std::array<int64_t, 4> padding, std::array<int64_t, 2> dilation, int64_t groups) {
          Tensor b = bias.is_none() ? Tensor() : tensor_arg(bias, "conv2d", "bias");
          return ops::conv2d(x, w, b, stride, padding, dilation, groups);
        },
        py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding"),
        py::arg("dilation"), py::arg("groups"),
        "2-D convolution (cross-correlation) of x (N, C, H, W) with weight (O, C / groups, kh, kw); "
        "padding (top, bottom, left, right) in zeros");
  m.def("conv2d_transpose",
        [](const Tensor& x, const Tensor& w, py::object bias, std::array<int64_t, 2> stride,
           std::array<int64_t, 4> padding, std::array<int64_t, 2> output_padding, std::array<int64_t, 2> dilation,
           int64_t groups) {
          Tensor b = bias.is_none() ? Tensor() : tensor_arg(bias, "conv2d_transpose", "bias");
          return ops::conv2d_transpose(x, w, b, stride, padding, output_padding, dilation, groups);
        },
        py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding"),
        py::arg("output_padding"), py::arg("dilation"), py::arg("groups"),
        "transposed 2-D convolution of x (N, C_in, H, W) with weight (C_in, C_out / groups, kh, kw), the adjoint "
        "of conv2d; padding (top, bottom, left, right) crops the output, output_padding (h, w) extends it");
}

}  // namespace pydl::bind
