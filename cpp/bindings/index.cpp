// Integer indexing and the int64-returning reductions (issue 9): pydl.take, pydl.gather,
// pydl.argmax / pydl.argmin and the Tensor methods of the same names. (t[idx] is in tensor.cpp.)
#include "common.h"

namespace pydl::bind {

// None -> all axes (flattened), an int -> that axis; anything else (a bool, a tuple) raises.
static std::optional<int64_t> one_axis(py::handle axis, const char* op) {
  if (axis.is_none()) return std::nullopt;
  if (PyLong_Check(axis.ptr()) && !PyBool_Check(axis.ptr())) return axis.cast<int64_t>();
  throw TypeError(msg(op, ": axis must be None or an int, got ", std::string(py::repr(axis))));
}

void bind_index(py::module_& m) {
  m.def("take", [](const Tensor& x, py::handle indices, py::object axis) {
          return ops::take(x, index_arg(indices, "take", "indices"), one_axis(axis, "take"), "take");
        },
        py::arg("x"), py::arg("indices"), py::arg("axis") = 0,
        "NumPy's take: x.shape[:axis] + indices.shape + x.shape[axis+1:], the entries of x at `indices` along "
        "`axis` (axis=None: of the flattened x). Negative indices count from the end; out of range raises "
        "IndexError. The backward adds the gradient into x's rows (a repeated index accumulates).");
  m.def("gather", [](const Tensor& x, int64_t dim, py::handle index) {
          return ops::gather(x, dim, index_arg(index, "gather", "index"));
        },
        py::arg("x"), py::arg("dim"), py::arg("index"),
        "PyTorch's gather: out[i][j][k] = x[index[i][j][k]][j][k] for dim=0 (and so on); index has x's rank, "
        "out has index's shape. Indices in [0, x.shape[dim]).");
  auto arg = [&m](const char* name, Tensor (*fn)(const Tensor&, std::optional<int64_t>, bool)) {
    m.def(name, [fn, name](const Tensor& x, py::object axis, bool keepdims) { return fn(x, one_axis(axis, name), keepdims); },
          py::arg("x"), py::arg("axis") = py::none(), py::arg("keepdims") = false);
  };
  arg("argmax", &ops::argmax);
  arg("argmin", &ops::argmin);
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));
  cls.def("argmax", [](const Tensor& x, py::object axis, bool k) { return ops::argmax(x, one_axis(axis, "argmax"), k); },
          py::arg("axis") = py::none(), py::arg("keepdims") = false,
          "The index (int64) of the first largest value along axis (None: of the flattened tensor)")
      .def("argmin", [](const Tensor& x, py::object axis, bool k) { return ops::argmin(x, one_axis(axis, "argmin"), k); },
           py::arg("axis") = py::none(), py::arg("keepdims") = false,
           "The index (int64) of the first smallest value along axis (None: of the flattened tensor)")
      .def("long", [](const Tensor& t) { return ops::to_dtype(t, DType::Int64); }, "The tensor as int64 (as .to(pydl.int64))");
}

}  // namespace pydl::bind
