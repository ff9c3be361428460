// Module-level functions: pydl.add(a, b), pydl.sum(x, axis), pydl.functional.relu(x), ...
#include "common.h"

namespace pydl::bind {

void bind_ops(py::module_& m) {
#define PYDL_BIN(name, fn) \
  m.def(name, [](py::object a, py::object b) { auto p = as_pair(a, b); return fn(p.first, p.second); }, py::arg("a"), py::arg("b"));
  PYDL_BIN("add", ops::add)
  PYDL_BIN("sub", ops::sub)
  PYDL_BIN("mul", ops::mul)
  PYDL_BIN("div", ops::div)
  PYDL_BIN("pow", ops::pow)
  PYDL_BIN("maximum", ops::maximum)
  PYDL_BIN("minimum", ops::minimum)
  PYDL_BIN("eq", ops::eq)
  PYDL_BIN("ne", ops::ne)
  PYDL_BIN("lt", ops::lt)
  PYDL_BIN("le", ops::le)
  PYDL_BIN("gt", ops::gt)
  PYDL_BIN("ge", ops::ge)
  PYDL_BIN("matmul", ops::matmul)
#undef PYDL_BIN
  m.def("neg", &ops::neg);
  m.def("exp", &ops::exp);
  m.def("log", &ops::log);
  m.def("sqrt", &ops::sqrt);
  m.def("abs", &ops::abs);
  m.def("square", &ops::square);
  m.def("clip", [](const Tensor& x, py::object lo, py::object hi) {
          return ops::clip(x, lo.is_none() ? -INFINITY : number_arg(lo, "clip", "min"),
                           hi.is_none() ? INFINITY : number_arg(hi, "clip", "max"));
        },
        py::arg("x"), py::arg("min") = py::none(), py::arg("max") = py::none());
  m.def("where", [](py::object c, py::object a, py::object b) {
          Tensor like = py::isinstance<Tensor>(a) ? a.cast<Tensor>()
                        : py::isinstance<Tensor>(b) ? b.cast<Tensor>()
                                                    : tensor_from_data(a, DType::Float32);
          Tensor cond = py::isinstance<Tensor>(c) ? c.cast<Tensor>() : tensor_from_data(c, like.dtype());
          auto p = promote(as_operand(a, like), as_operand(b, like));
          return ops::where(cond, p.first, p.second);
        },
        py::arg("condition"), py::arg("x"), py::arg("y"));
#define PYDL_RED(name, fn)                                                                               \
  m.def(name, [](const Tensor& x, py::object axis, bool k) { return fn(x, parse_axes(axis, name), k); }, py::arg("x"), \
        py::arg("axis") = py::none(), py::arg("keepdims") = false);
  PYDL_RED("sum", ops::sum)
  PYDL_RED("mean", ops::mean)
  PYDL_RED("max", ops::max)
  PYDL_RED("min", ops::min)
#undef PYDL_RED
  m.def("var", [](const Tensor& x, py::object axis, bool k, int64_t ddof) { return ops::var(x, parse_axes(axis, "var"), k, ddof); },
        py::arg("x"), py::arg("axis") = py::none(), py::arg("keepdims") = false, py::arg("ddof") = 0);
  m.def("reshape", [](const Tensor& x, const Shape& s) { return ops::reshape(x, s); }, py::arg("x"), py::arg("shape"));
  m.def("transpose", &ops::transpose, py::arg("x"), py::arg("axis0") = -2, py::arg("axis1") = -1);
  m.def("permute", &ops::permute, py::arg("x"), py::arg("axes"));
  m.def("flatten", &ops::flatten, py::arg("x"), py::arg("start_axis") = 0, py::arg("end_axis") = -1);
  m.def("squeeze", [](const Tensor& x, py::object axis) { return ops::squeeze(x, parse_axes(axis, "squeeze")); }, py::arg("x"),
        py::arg("axis") = py::none());
  m.def("unsqueeze", &ops::unsqueeze, py::arg("x"), py::arg("axis"));
  m.def("broadcast_to", [](const Tensor& x, const Shape& s) { return ops::broadcast_to(x, s); }, py::arg("x"), py::arg("shape"));
  m.def("concatenate", &ops::concatenate, py::arg("tensors"), py::arg("axis") = 0);
  m.def("stack", &ops::stack, py::arg("tensors"), py::arg("axis") = 0);

  // pydl.functional
  m.def("relu", &ops::relu, py::arg("x"));
  m.def("leaky_relu", &ops::leaky_relu, py::arg("x"), py::arg("negative_slope") = 0.01);
  m.def("elu", &ops::elu, py::arg("x"), py::arg("alpha") = 1.0);
  m.def("sigmoid", &ops::sigmoid, py::arg("x"));
  m.def("tanh", &ops::tanh, py::arg("x"));
  m.def("softmax", &ops::softmax, py::arg("x"), py::arg("axis") = -1);
  m.def("log_softmax", &ops::log_softmax, py::arg("x"), py::arg("axis") = -1);
  m.def("linear", [](const Tensor& x, const Tensor& w, py::object b) {
          return ops::linear(x, w, b.is_none() ? Tensor() : tensor_arg(b, "linear", "bias"));
        },
        py::arg("x"), py::arg("weight"), py::arg("bias") = py::none(),
        "y = x · W + b with W of shape (in_features, out_features), as Keras stores a Dense kernel");
}

}  // namespace pydl::bind
