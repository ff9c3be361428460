// The optimizer step over all parameters: checks, clipping factors, one fused update each.
#include <cmath>
#include <vector>

#include "ops/common.h"
#include "optim/rules.h"

namespace pydl::optim {

Rule parse_rule(const std::string& name) {
  if (name == "sgd") return Rule::SGD;
  if (name == "adagrad") return Rule::Adagrad;
  if (name == "adadelta") return Rule::Adadelta;
  if (name == "rmsprop") return Rule::RMSprop;
  if (name == "adam") return Rule::Adam;
  throw ValueError(msg("optimizer: unknown update rule '", name,
                       "'; valid rules: 'sgd', 'adagrad', 'adadelta', 'rmsprop', 'adam'"));
}

const char* rule_name(Rule r) {
  switch (r) {
    case Rule::SGD: return "SGD";
    case Rule::Adagrad: return "Adagrad";
    case Rule::Adadelta: return "Adadelta";
    case Rule::RMSprop: return "RMSprop";
    case Rule::Adam: return "Adam";
  }
  return "?";
}

std::vector<SlotSpec> slot_specs(Rule rule, const Hyper& h) {
  switch (rule) {
    case Rule::SGD:
      if (h.momentum != 0) return {{"momentum", 0.0}};
      return {};
    case Rule::Adagrad: return {{"accumulator", h.initial_accumulator_value}};
    case Rule::Adadelta: return {{"accumulated_grad", 0.0}, {"accumulated_delta_var", 0.0}};
    case Rule::RMSprop: {
      std::vector<SlotSpec> s{{"velocity", 0.0}};
      if (h.momentum > 0) s.push_back({"momentum", 0.0});
      if (h.centered) s.push_back({"average_gradient", 0.0});
      return s;
    }
    case Rule::Adam: {
      std::vector<SlotSpec> s{{"momentum", 0.0}, {"velocity", 0.0}};
      if (h.amsgrad) s.push_back({"velocity_hat", 0.0});
      return s;
    }
  }
  return {};
}

void check_hyper(Rule rule, const Hyper& h) {
  const char* op = rule_name(rule);
  auto in01 = [&](double v, const char* name, bool closed_right) {
    if (!(v >= 0 && (closed_right ? v <= 1 : v < 1)))
      throw ValueError(msg(op, ": `", name, "` must be a float in [0, 1", closed_right ? "]" : ")", ", got ", v));
  };
  if (!(h.learning_rate >= 0) || std::isinf(h.learning_rate))
    throw ValueError(msg(op, ": `learning_rate` must be a finite number >= 0, got ", h.learning_rate));
  if (!(h.epsilon >= 0)) throw ValueError(msg(op, ": `epsilon` must be >= 0, got ", h.epsilon));
  if (!(h.weight_decay >= 0)) throw ValueError(msg(op, ": `weight_decay` must be >= 0, got ", h.weight_decay));
  if (!(h.clipnorm >= 0) || !(h.clipvalue >= 0) || !(h.global_clipnorm >= 0))
    throw ValueError(msg(op, ": clipnorm, clipvalue and global_clipnorm must be >= 0"));
  if (h.clipnorm > 0 && h.global_clipnorm > 0)
    throw ValueError(msg(op, ": only one of `clipnorm` and `global_clipnorm` can be set; got clipnorm=", h.clipnorm,
                         " and global_clipnorm=", h.global_clipnorm));
  switch (rule) {
    case Rule::SGD: in01(h.momentum, "momentum", true); break;
    case Rule::Adagrad:
      if (!(h.initial_accumulator_value >= 0))
        throw ValueError(msg(op, ": `initial_accumulator_value` must be >= 0, got ", h.initial_accumulator_value));
      break;
    case Rule::Adadelta: in01(h.rho, "rho", true); break;
    case Rule::RMSprop:
      in01(h.rho, "rho", true);
      in01(h.momentum, "momentum", true);
      break;
    case Rule::Adam:
      in01(h.beta_1, "beta_1", false);
      in01(h.beta_2, "beta_2", false);
      break;
  }
}

// Sum of squares per fixed block of x[0..n), blocks combined in order: the same result on
// both backends and for any thread count.
template <typename T>
static double sum_squares(const T* x, int64_t n, bool parallel) {
  constexpr int64_t kBlock = 16384;
  const int64_t nb = (n + kBlock - 1) / kBlock;
  std::vector<double> part(static_cast<size_t>(nb), 0.0);
#pragma omp parallel for schedule(static) if (parallel && n >= detail::kOptimParallelMin)
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t s = b * kBlock, e = s + kBlock < n ? s + kBlock : n;
    double acc = 0;
    for (int64_t i = s; i < e; ++i) acc += double(x[i]) * double(x[i]);
    part[b] = acc;
  }
  double total = 0;
  for (double v : part) total += v;
  return total;
}

double l2_norm(const Tensor& t_in) {
  Tensor t = ops::contiguous(t_in.detach());
  double sq = 0;
  PYDL_DISPATCH(t.dtype(), sq = sum_squares(t.data<T>(), t.numel(), detail::use_fast()));
  return std::sqrt(sq);
}

void update(Rule rule, Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, const Hyper& h,
            double grad_scale) {
  switch (rule) {
    case Rule::SGD: return detail::sgd_update(param, grad, slots, h, grad_scale);
    case Rule::Adagrad: return detail::adagrad_update(param, grad, slots, h, grad_scale);
    case Rule::Adadelta: return detail::adadelta_update(param, grad, slots, h, grad_scale);
    case Rule::RMSprop: return detail::rmsprop_update(param, grad, slots, h, grad_scale);
    case Rule::Adam: return detail::adam_update(param, grad, slots, h, grad_scale);
  }
}

// Keras's clip_by_norm / clip_by_global_norm factor: c / max(norm, c).
static double clip_factor(double norm, double c) { return std::isfinite(norm) ? c / std::max(norm, c) : NAN; }

void step(Rule rule, std::vector<Tensor>& params, const std::vector<Tensor>& grads,
          std::vector<std::vector<Tensor>>& slots, const Hyper& h) {
  const char* op = rule_name(rule);
  check_hyper(rule, h);
  if (grads.size() != params.size() || slots.size() != params.size())
    throw ValueError(msg(op, ".step: got ", params.size(), " parameters, ", grads.size(), " gradients and ",
                         slots.size(), " slot lists; they must match"));
  const size_t nslots = slot_specs(rule, h).size();
  // Check everything before touching anything: a bad call leaves every parameter as it was.
  std::vector<Tensor> g(grads.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    if (!p.defined() || !grads[i].defined())
      throw ValueError(msg(op, ".step: parameter ", i, " or its gradient is missing"));
    if (!p.is_contiguous())
      throw ValueError(msg(op, ".step: parameter ", i, " (shape ", shape_str(p.shape()),
                           ") is not contiguous; optimizers update contiguous parameters in place"));
    if (grads[i].shape() != p.shape())
      throw ShapeError(msg(op, ".step: parameter ", i, " has shape ", shape_str(p.shape()), " but its gradient has shape ",
                           shape_str(grads[i].shape())));
    if (grads[i].dtype() != p.dtype())
      throw TypeError(msg(op, ".step: parameter ", i, " is ", dtype_name(p.dtype()), " but its gradient is ",
                          dtype_name(grads[i].dtype())));
    if (slots[i].size() != nslots)
      throw ValueError(msg(op, ".step: parameter ", i, " has ", slots[i].size(), " slot variables, expected ", nslots,
                           " (build the optimizer again after changing its configuration)"));
    for (const Tensor& s : slots[i])
      if (!s.defined() || s.shape() != p.shape() || s.dtype() != p.dtype() || !s.is_contiguous())
        throw ValueError(msg(op, ".step: a slot variable of parameter ", i, " does not match the parameter (shape ",
                             shape_str(p.shape()), ", ", dtype_name(p.dtype()), ")"));
    g[i] = ops::contiguous(grads[i].detach());
  }
  // Clipping factors, computed from the unmodified gradients.
  std::vector<double> scale(params.size(), 1.0);
  if (h.clipnorm > 0) {
    for (size_t i = 0; i < g.size(); ++i) scale[i] = clip_factor(l2_norm(g[i]), h.clipnorm);
  } else if (h.global_clipnorm > 0) {
    double sq = 0;
    for (const Tensor& gi : g) {
      const double n = l2_norm(gi);
      sq += n * n;
    }
    const double s = clip_factor(std::sqrt(sq), h.global_clipnorm);
    for (double& v : scale) v = s;
  }
  for (size_t i = 0; i < params.size(); ++i) {
    update(rule, params[i], g[i], slots[i], h, scale[i]);
    params[i].storage()->version++;  // a graph that saved this parameter can no longer backward
  }
}

}  // namespace pydl::optim
