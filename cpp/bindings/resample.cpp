// Resampling: pydl._C.upsample2d(x, size, scale, mode, align_corners) and
// pydl._C.pad2d(x, padding, mode) with every size explicit; pydl.functional parses PyTorch's
// forms (size or scale_factor, an int padding) into these.
#include <array>
#include <string>

#include "common.h"

namespace pydl::bind {

void bind_resample(py::module_& m) {
  m.def("upsample2d", &ops::upsample2d, py::arg("x"), py::arg("size"), py::arg("scale"), py::arg("mode"),
        py::arg("align_corners"),
        "upsample x (N, C, H, W) to size (Ho, Wo); scale (h, w) is the given scale_factor or 0 for the sizes' ratio");
  m.def("pad2d", &ops::pad2d, py::arg("x"), py::arg("padding"), py::arg("mode"),
        "pad x (N, C, H, W) by (left, right, top, bottom) with zeros or reflection");
}

}  // namespace pydl::bind
