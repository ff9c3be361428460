// Recurrent ops fused over time (issue 9): pydl._C.simple_rnn / lstm / gru return a tuple
// (sequence of h, last h[, last c]), the sequence None with return_sequences=False; None for the
// bias or an initial state means none / zeros;
// mask (B, T) and recurrent_dropout (B, G*units) None for none.
#include "common.h"

namespace pydl::bind {

namespace {

Tensor optional(py::object o, const char* op, const char* name) {
  return o.is_none() ? Tensor() : tensor_arg(o, op, name);
}

// the op's outputs as a tuple, None for the sequence without return_sequences
py::tuple outputs(const std::vector<Tensor>& v) {
  py::tuple t(v.size());
  for (size_t i = 0; i < v.size(); ++i) t[i] = v[i].defined() ? py::cast(v[i]) : py::none();
  return t;
}

}  // namespace

void bind_rnn(py::module_& m) {
  m.def("simple_rnn",
        [](const Tensor& x, const Tensor& w, const Tensor& u, py::object bias, py::object h0,
           const std::string& activation, bool go_backwards, py::object mask, py::object rdrop, bool zero_output,
           bool return_sequences) {
          return outputs(ops::simple_rnn(x, w, u, optional(bias, "simple_rnn", "bias"),
                                          optional(h0, "simple_rnn", "initial_state"), activation, go_backwards,
                                          optional(mask, "simple_rnn", "mask"),
                                          optional(rdrop, "simple_rnn", "recurrent_dropout"), zero_output,
                                          return_sequences));
        },
        py::arg("x"), py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("bias"), py::arg("h0"),
        py::arg("activation"), py::arg("go_backwards"), py::arg("mask"), py::arg("recurrent_dropout"),
        py::arg("zero_output_for_mask"), py::arg("return_sequences") = true,
        "SimpleRNN over x (B, T, in): h_s = act(x_t W + h_{s-1} U + b); returns (sequence, last h)");
  m.def("lstm",
        [](const Tensor& x, const Tensor& w, const Tensor& u, py::object bias, py::object h0, py::object c0,
           const std::string& activation, const std::string& recurrent_activation, bool go_backwards,
           py::object mask, py::object rdrop, bool zero_output, bool return_sequences) {
          return outputs(ops::lstm(x, w, u, optional(bias, "lstm", "bias"), optional(h0, "lstm", "initial h"),
                                    optional(c0, "lstm", "initial c"), activation, recurrent_activation,
                                    go_backwards, optional(mask, "lstm", "mask"),
                                    optional(rdrop, "lstm", "recurrent_dropout"), zero_output, return_sequences));
        },
        py::arg("x"), py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("bias"), py::arg("h0"), py::arg("c0"),
        py::arg("activation"), py::arg("recurrent_activation"), py::arg("go_backwards"), py::arg("mask"),
        py::arg("recurrent_dropout"), py::arg("zero_output_for_mask"), py::arg("return_sequences") = true,
        "LSTM over x (B, T, in), Keras's gate order i, f, c, o; returns (sequence, last h, last c)");
  m.def("gru",
        [](const Tensor& x, const Tensor& w, const Tensor& u, py::object bias, py::object h0,
           const std::string& activation, const std::string& recurrent_activation, bool go_backwards,
           py::object mask, py::object rdrop, bool zero_output, bool return_sequences) {
          return outputs(ops::gru(x, w, u, optional(bias, "gru", "bias"), optional(h0, "gru", "initial_state"),
                                   activation, recurrent_activation, go_backwards, optional(mask, "gru", "mask"),
                                   optional(rdrop, "gru", "recurrent_dropout"), zero_output, return_sequences));
        },
        py::arg("x"), py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("bias"), py::arg("h0"),
        py::arg("activation"), py::arg("recurrent_activation"), py::arg("go_backwards"), py::arg("mask"),
        py::arg("recurrent_dropout"), py::arg("zero_output_for_mask"), py::arg("return_sequences") = true,
        "GRU (Keras 3, reset_after=True) over x (B, T, in), gates z, r, h, bias (2, 3u); returns (sequence, last h)");
}

}  // namespace pydl::bind
