// Restricted Boltzmann machine ops (issue 10): pydl._C.rbm_hidden / rbm_visible / rbm_cd /
// rbm_free_energy. No autograd node is recorded (see pydl/ops/rbm.h).
#include "common.h"
#include "pydl/ops/rbm.h"

namespace pydl::bind {

void bind_rbm(py::module_& m) {
  m.def("rbm_hidden",
        [](const Tensor& v, const Tensor& w, const Tensor& c, bool sample) {
          return as_tuple(ops::rbm_hidden(v, w, c, sample));
        },
        py::arg("v"), py::arg("weights"), py::arg("hidden_bias"), py::arg("sample") = false,
        "p(h=1|v) = sigmoid(v W + c) for v (B, V), W (V, H); returns (p,) or (p, a binary sample)");
  m.def("rbm_visible",
        [](const Tensor& h, const Tensor& w, const Tensor& b, bool sample) {
          return as_tuple(ops::rbm_visible(h, w, b, sample));
        },
        py::arg("h"), py::arg("weights"), py::arg("visible_bias"), py::arg("sample") = false,
        "p(v=1|h) = sigmoid(h W^T + b) for h (B, H), W (V, H); returns (p,) or (p, a binary sample)");
  m.def("rbm_cd",
        [](const Tensor& v0, const Tensor& w, const Tensor& b, const Tensor& c, int64_t k, py::object chain) {
          Tensor ch = chain.is_none() ? Tensor() : tensor_arg(chain, "rbm_cd", "chain");
          return as_tuple(ops::rbm_cd(v0, w, b, c, k, ch));
        },
        py::arg("v0"), py::arg("weights"), py::arg("visible_bias"), py::arg("hidden_bias"), py::arg("k") = 1,
        py::arg("chain") = py::none(),
        "CD-k (or persistent CD from `chain`): returns (dW, db, dc, v_k, p(h|v0)), the estimate of "
        "-d log p(v0) / d(W, b, c) to descend, the chain's end and the data phase's hidden probabilities");
  m.def("rbm_free_energy", &ops::rbm_free_energy, py::arg("v"), py::arg("weights"), py::arg("visible_bias"),
        py::arg("hidden_bias"), "F(v) = -v b - sum_j softplus(c_j + (v W)_j), one value per row (B,)");
}

}  // namespace pydl::bind
