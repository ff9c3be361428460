// Normalisation: pydl._C.batch_norm, layer_norm, group_norm (PyTorch's functional arguments;
// pydl.functional documents them, pydl.layers.normalization builds Keras's layers on them).
#include "common.h"

namespace pydl::bind {

namespace {

Tensor optional_tensor(py::handle obj, const char* op, const char* name) {
  return obj.is_none() ? Tensor() : tensor_arg(obj, op, name);
}

}  // namespace

void bind_norm(py::module_& m) {
  m.def("batch_norm",
        [](const Tensor& x, py::object running_mean, py::object running_var, py::object weight, py::object bias,
           bool training, double momentum, double eps, bool unbiased_running_var) {
          return ops::batch_norm(x, optional_tensor(running_mean, "batch_norm", "running_mean"),
                                 optional_tensor(running_var, "batch_norm", "running_var"),
                                 optional_tensor(weight, "batch_norm", "weight"),
                                 optional_tensor(bias, "batch_norm", "bias"), training, momentum, eps,
                                 unbiased_running_var);
        },
        py::arg("x"), py::arg("running_mean") = py::none(), py::arg("running_var") = py::none(),
        py::arg("weight") = py::none(), py::arg("bias") = py::none(), py::arg("training") = false,
        py::arg("momentum") = 0.1, py::arg("eps") = 1e-5, py::arg("unbiased_running_var") = true,
        "Batch norm of x (N, C, *) over N and *, per channel; in training the running statistics (if given) "
        "are updated in place: running = (1 - momentum) running + momentum batch");
  m.def("layer_norm",
        [](const Tensor& x, py::handle normalized_shape, py::object weight, py::object bias, double eps) {
          return ops::layer_norm(x, shape_arg(normalized_shape, "layer_norm"),
                                 optional_tensor(weight, "layer_norm", "weight"),
                                 optional_tensor(bias, "layer_norm", "bias"), eps);
        },
        py::arg("x"), py::arg("normalized_shape"), py::arg("weight") = py::none(), py::arg("bias") = py::none(),
        py::arg("eps") = 1e-5, "Layer norm of x over its trailing dims normalized_shape");
  m.def("group_norm",
        [](const Tensor& x, int64_t num_groups, py::object weight, py::object bias, double eps) {
          return ops::group_norm(x, num_groups, optional_tensor(weight, "group_norm", "weight"),
                                 optional_tensor(bias, "group_norm", "bias"), eps);
        },
        py::arg("x"), py::arg("num_groups"), py::arg("weight") = py::none(), py::arg("bias") = py::none(),
        py::arg("eps") = 1e-5, "Group norm of x (N, C, *): num_groups groups of channels, per sample");
}

}  // namespace pydl::bind
