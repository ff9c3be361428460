// Losses, dropout and the optimizer step: pydl._C.mse_loss(...), _C.dropout(...),
// _C.optimizer_step(...). Targets and sample weights may be array-likes (converted to pred's dtype).
#include "common.h"
#include "pydl/optim.h"

namespace pydl::bind {

namespace {

Tensor optional_operand(py::handle obj, const Tensor& like) { return obj.is_none() ? Tensor() : as_operand(obj, like); }

// A dict of hyperparameters -> optim::Hyper. None leaves the default (0 = off for the
// optional ones); an unknown key is an error, so a typo never passes silently.
optim::Hyper parse_hyper(const py::dict& d) {
  optim::Hyper h;
  for (auto item : d) {
    const std::string k = py::str(item.first);
    py::handle v = item.second;
    if (v.is_none()) continue;
    if (k == "learning_rate") h.learning_rate = v.cast<double>();
    else if (k == "momentum") h.momentum = v.cast<double>();
    else if (k == "nesterov") h.nesterov = v.cast<bool>();
    else if (k == "rho") h.rho = v.cast<double>();
    else if (k == "centered") h.centered = v.cast<bool>();
    else if (k == "beta_1") h.beta_1 = v.cast<double>();
    else if (k == "beta_2") h.beta_2 = v.cast<double>();
    else if (k == "amsgrad") h.amsgrad = v.cast<bool>();
    else if (k == "epsilon") h.epsilon = v.cast<double>();
    else if (k == "initial_accumulator_value") h.initial_accumulator_value = v.cast<double>();
    else if (k == "weight_decay") h.weight_decay = v.cast<double>();
    else if (k == "clipnorm") h.clipnorm = v.cast<double>();
    else if (k == "clipvalue") h.clipvalue = v.cast<double>();
    else if (k == "global_clipnorm") h.global_clipnorm = v.cast<double>();
    else if (k == "iterations") h.iterations = v.cast<int64_t>();
    else if (k == "u_product") h.u_product = v.cast<double>();
    else throw ValueError(msg("optimizer: unknown hyperparameter '", k, "'"));
  }
  return h;
}

}  // namespace

void bind_nn(py::module_& m) {
  // ---- losses: each returns the Keras "sum_over_batch_size" scalar unless reduction says otherwise
#define PYDL_POINT_LOSS(name, fn, doc)                                                                            \
  m.def(name,                                                                                                     \
        [](const Tensor& pred, py::object target, py::object w, const std::string& red) {                       \
          return fn(pred, as_operand(target, pred), optional_operand(w, pred), ops::parse_reduction(red));      \
        },                                                                                                        \
        py::arg("pred"), py::arg("target"), py::arg("sample_weight") = py::none(),                             \
        py::arg("reduction") = "sum_over_batch_size", doc);
  PYDL_POINT_LOSS("mse_loss", ops::mse_loss, "Mean squared error (Keras 'mse'): per sample mean((pred - target)^2)")
  PYDL_POINT_LOSS("mae_loss", ops::mae_loss, "Mean absolute error (Keras 'mae'): per sample mean(|pred - target|)")
#undef PYDL_POINT_LOSS
#define PYDL_CE_LOSS(name, fn, doc)                                                                               \
  m.def(name,                                                                                                     \
        [](const Tensor& pred, py::object target, bool from_logits, py::object w, const std::string& red) {     \
          return fn(pred, as_operand(target, pred), from_logits, optional_operand(w, pred),                     \
                    ops::parse_reduction(red));                                                                   \
        },                                                                                                        \
        py::arg("pred"), py::arg("target"), py::arg("from_logits") = false, py::arg("sample_weight") = py::none(), \
        py::arg("reduction") = "sum_over_batch_size", doc);
  PYDL_CE_LOSS("binary_crossentropy", ops::binary_crossentropy,
               "Binary crossentropy; probabilities clipped to [1e-7, 1 - 1e-7], or stable from logits")
  PYDL_CE_LOSS("categorical_crossentropy", ops::categorical_crossentropy,
               "Crossentropy against one-hot targets of pred's shape; fused log-softmax when from_logits")
  PYDL_CE_LOSS("sparse_categorical_crossentropy", ops::sparse_categorical_crossentropy,
               "Crossentropy against integer class ids (float tensor of shape pred.shape[:-1])")
#undef PYDL_CE_LOSS

  m.def("dropout", &ops::dropout, py::arg("x"), py::arg("rate"), py::arg("training") = true,
        "Inverted dropout: zero each unit with probability rate, scale the rest by 1/(1-rate)");

  // ---- optimizers
  m.def("optimizer_slot_specs",
        [](const std::string& rule, const py::dict& hyper) {
          py::list out;
          for (const auto& s : optim::slot_specs(optim::parse_rule(rule), parse_hyper(hyper)))
            out.append(py::make_tuple(s.name, s.initial_value));
          return out;
        },
        py::arg("rule"), py::arg("hyper"), "[(slot name, initial value)] per parameter, in update order");
  m.def("optimizer_check",
        [](const std::string& rule, const py::dict& hyper) { optim::check_hyper(optim::parse_rule(rule), parse_hyper(hyper)); },
        py::arg("rule"), py::arg("hyper"));
  m.def("optimizer_step",
        [](const std::string& rule, std::vector<Tensor> params, const std::vector<Tensor>& grads,
           std::vector<std::vector<Tensor>> slots, const py::dict& hyper) {
          optim::Rule r = optim::parse_rule(rule);
          optim::Hyper h = parse_hyper(hyper);
          std::vector<size_t> non_finite;
          {
            py::gil_scoped_release release;
            try {
              optim::step(r, params, grads, slots, h);
            } catch (const optim::NonFiniteGradientError& e) {
              non_finite = e.indices;
            }
          }
          return non_finite;
        },
        py::arg("rule"), py::arg("params"), py::arg("grads"), py::arg("slots"), py::arg("hyper"),
        "One fused update of every parameter in place (slots updated in place too). Returns [] after "
        "the update, or the indices of the parameters whose gradient holds NaN or inf (then nothing "
        "was changed; pydl.optimizers raises NonFiniteGradientError naming them)");
  m.def("optimizer_nadam_u_product", &optim::nadam_u_product, py::arg("beta_1"), py::arg("n"),
        "Nadam's momentum-cache product u_1 ... u_n, u_k = beta_1 (1 - 0.5 * 0.96^k)");
  m.def("all_finite", &optim::all_finite, py::arg("x"),
        "Whether x holds no NaN and no inf (the scan optimizer_step runs over every gradient)");
  m.def("l2_norm", &optim::l2_norm, py::arg("x"), "sqrt(sum(x^2)) in double (the norm gradient clipping uses)");
}

}  // namespace pydl::bind
