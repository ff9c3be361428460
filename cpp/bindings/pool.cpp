// Pooling: pydl._C.max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode), ... with
// every size already explicit: kernel_size, stride, dilation (h, w); padding (top, bottom, left,
// right). pydl.functional turns PyTorch's and Keras's arguments ('same', stride=None) into these.
#include <array>

#include "common.h"

namespace pydl::bind {

namespace {

using Pair = std::array<int64_t, 2>;
using Pads = std::array<int64_t, 4>;

ops::Pool2d make_pool(const Pair& k, const Pair& s, const Pads& pad, const Pair& d, bool ceil_mode) {
  ops::Pool2d p;
  p.kh = k[0];
  p.kw = k[1];
  p.sh = s[0];
  p.sw = s[1];
  p.pad_top = pad[0];
  p.pad_bottom = pad[1];
  p.pad_left = pad[2];
  p.pad_right = pad[3];
  p.dh = d[0];
  p.dw = d[1];
  p.ceil_mode = ceil_mode;
  return p;
}

}  // namespace

void bind_pool(py::module_& m) {
  m.def("max_pool2d",
        [](const Tensor& x, Pair k, Pair s, Pads pad, Pair d, bool ceil_mode) {
          return ops::max_pool2d(x, make_pool(k, s, pad, d, ceil_mode));
        },
        py::arg("x"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
        py::arg("ceil_mode"), "Max pooling of NCHW x; padding (top, bottom, left, right) is -inf");
  m.def("avg_pool2d",
        [](const Tensor& x, Pair k, Pair s, Pads pad, bool ceil_mode, bool count_include_pad) {
          return ops::avg_pool2d(x, make_pool(k, s, pad, {1, 1}, ceil_mode), count_include_pad);
        },
        py::arg("x"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"), py::arg("ceil_mode"),
        py::arg("count_include_pad"), "Average pooling of NCHW x; padding (top, bottom, left, right) is 0");
  m.def("global_max_pool2d", &ops::global_max_pool2d, py::arg("x"), py::arg("keepdims") = false,
        "Max over H and W of NCHW x: (N, C), or (N, C, 1, 1) with keepdims");
  m.def("global_avg_pool2d", &ops::global_avg_pool2d, py::arg("x"), py::arg("keepdims") = false,
        "Mean over H and W of NCHW x: (N, C), or (N, C, 1, 1) with keepdims");
}

}  // namespace pydl::bind
