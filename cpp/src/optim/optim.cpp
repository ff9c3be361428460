// The optimizer step over all parameters: checks, clipping factors, one fused update each.
#include <algorithm>
#include <cmath>
#include <sstream>
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
  if (name == "nadam") return Rule::Nadam;
  if (name == "adamax") return Rule::Adamax;
  throw ValueError(msg("optimizer: unknown update rule '", name,
                       "'; valid rules: 'sgd', 'adagrad', 'adadelta', 'rmsprop', 'adam', 'nadam', 'adamax'"));
}

const char* rule_name(Rule r) {
  switch (r) {
    case Rule::SGD: return "SGD";
    case Rule::Adagrad: return "Adagrad";
    case Rule::Adadelta: return "Adadelta";
    case Rule::RMSprop: return "RMSprop";
    case Rule::Adam: return "Adam";
    case Rule::Nadam: return "Nadam";
    case Rule::Adamax: return "Adamax";
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
    case Rule::Nadam: return {{"momentum", 0.0}, {"velocity", 0.0}};
    case Rule::Adamax: return {{"momentum", 0.0}, {"norm", 0.0}};
  }
  return {};
}

void check_hyper(Rule rule, const Hyper& h) {
  const char* op = rule_name(rule);
  // NaN fails every comparison below, so it is refused too.
  auto finite = [&](double v, const char* name) {
    if (!std::isfinite(v)) throw ValueError(msg(op, ": `", name, "` must be a finite number, got ", v));
  };
  auto nonneg = [&](double v, const char* name) {
    finite(v, name);
    if (!(v >= 0)) throw ValueError(msg(op, ": `", name, "` must be >= 0, got ", v));
  };
  auto in01 = [&](double v, const char* name, bool closed_right) {
    finite(v, name);
    if (!(v >= 0 && (closed_right ? v <= 1 : v < 1)))
      throw ValueError(msg(op, ": `", name, "` must be a float in [0, 1", closed_right ? "]" : ")", ", got ", v));
  };
  nonneg(h.learning_rate, "learning_rate");
  finite(h.epsilon, "epsilon");
  // every rule divides by a root plus epsilon that is 0 for a zero gradient: 0 / 0 would be NaN
  if (!(h.epsilon > 0))
    throw ValueError(msg(op, ": `epsilon` must be > 0 (with 0 a zero gradient divides 0 by 0 and writes NaN into ",
                         "the weights), got ", h.epsilon));
  nonneg(h.weight_decay, "weight_decay");
  nonneg(h.clipnorm, "clipnorm");
  nonneg(h.clipvalue, "clipvalue");
  nonneg(h.global_clipnorm, "global_clipnorm");
  if (h.clipnorm > 0 && h.global_clipnorm > 0)
    throw ValueError(msg(op, ": only one of `clipnorm` and `global_clipnorm` can be set; got clipnorm=", h.clipnorm,
                         " and global_clipnorm=", h.global_clipnorm));
  if (h.iterations < 0) throw ValueError(msg(op, ": `iterations` must be >= 0, got ", h.iterations));
  switch (rule) {
    case Rule::SGD:
      in01(h.momentum, "momentum", true);
      // as PyTorch: without momentum Nesterov's look-ahead does nothing, so asking for it is a slip
      if (h.nesterov && !(h.momentum > 0))
        throw ValueError(msg(op, ": `nesterov=True` needs a momentum > 0 (the look-ahead is along the momentum), got "
                             "momentum=", h.momentum));
      break;
    case Rule::Adagrad: nonneg(h.initial_accumulator_value, "initial_accumulator_value"); break;
    case Rule::Adadelta: in01(h.rho, "rho", false); break;
    case Rule::RMSprop:
      in01(h.rho, "rho", false);
      in01(h.momentum, "momentum", true);
      break;
    case Rule::Adam:
    case Rule::Adamax:
      in01(h.beta_1, "beta_1", false);
      in01(h.beta_2, "beta_2", false);
      break;
    case Rule::Nadam:
      in01(h.beta_1, "beta_1", false);
      in01(h.beta_2, "beta_2", false);
      // the product of u_k = beta_1 (1 - 0.5 * 0.96^k), each in [0, 1)
      if (!(h.u_product >= 0 && h.u_product <= 1))
        throw ValueError(msg(op, ": `u_product` (the momentum-cache product) must be in [0, 1], got ", h.u_product));
      break;
  }
}

double nadam_u_product(double beta_1, int64_t n) {
  double prod = 1.0;
  for (int64_t k = 1; k <= n; ++k) prod *= beta_1 * (1.0 - 0.5 * std::pow(0.96, double(k)));
  return prod;
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

// Every x[i] finite? Fast copies sum x[i] * 0, which is 0 for finite x and NaN for NaN or +-inf
// (a branch-free reduction that vectorises); the reference loop asks std::isfinite per element.
#define PYDL_FINITE_CHUNK(ISA, TARGET)                                         \
  template <typename T>                                                        \
  TARGET bool finite_chunk_##ISA(const T* x, int64_t lo, int64_t hi) {         \
    T acc = 0;                                                                 \
    _Pragma("omp simd reduction(+ : acc)") for (int64_t i = lo; i < hi; ++i) acc += x[i] * T(0); \
    return acc == acc;                                                         \
  }
PYDL_FOR_EACH_ISA(PYDL_FINITE_CHUNK)
#undef PYDL_FINITE_CHUNK

template <typename T>
static bool all_finite_of(const T* x, int64_t n, bool fast) {
  if (!fast) {
    for (int64_t i = 0; i < n; ++i)
      if (!std::isfinite(x[i])) return false;
    return true;
  }
  using Chunk = bool (*)(const T*, int64_t, int64_t);
  const Chunk chunk = kernels::pick<Chunk>(&finite_chunk_generic<T>, &finite_chunk_avx2<T>, &finite_chunk_avx512<T>);
  const int64_t chunks = (n + detail::kOptimChunk - 1) / detail::kOptimChunk;
  bool ok = true;
#pragma omp parallel for schedule(static) reduction(&& : ok) if (n >= detail::kOptimParallelMin)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t lo = c * detail::kOptimChunk, hi = lo + detail::kOptimChunk < n ? lo + detail::kOptimChunk : n;
    ok = ok && chunk(x, lo, hi);
  }
  return ok;
}

bool all_finite(const Tensor& t_in) {
  Tensor t = ops::contiguous(t_in.detach());
  bool ok = true;
  PYDL_DISPATCH(t.dtype(), ok = all_finite_of(t.data<T>(), t.numel(), detail::use_fast()));
  return ok;
}

// The norm of finite values whose squares overflow (float64 beyond ~1e154): max|x| times the
// norm of x / max|x|. Only that rare case runs it, so one plain loop serves both backends.
template <typename T>
static double scaled_norm_of(const T* x, int64_t n) {
  double big = 0;
  for (int64_t i = 0; i < n; ++i) big = std::max(big, std::abs(double(x[i])));
  if (big == 0) return 0;
  double sq = 0;
  for (int64_t i = 0; i < n; ++i) sq += (double(x[i]) / big) * (double(x[i]) / big);
  return big * std::sqrt(sq);
}

static double scaled_norm(const Tensor& t) {
  double out = 0;
  PYDL_DISPATCH(t.dtype(), out = scaled_norm_of(t.data<T>(), t.numel()));
  return out;
}

// sqrt(sum of norms^2), rescaled by the largest norm when the plain sum overflows.
static double norm_of_norms(const std::vector<double>& norms) {
  double sq = 0, big = 0;
  for (double n : norms) {
    sq += n * n;
    big = std::max(big, n);
  }
  if (std::isfinite(sq) || !std::isfinite(big)) return std::sqrt(sq);
  double rs = 0;
  for (double n : norms) rs += (n / big) * (n / big);
  return big * std::sqrt(rs);
}

void update(Rule rule, Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, const Hyper& h,
            double grad_scale) {
  switch (rule) {
    case Rule::SGD: return detail::sgd_update(param, grad, slots, h, grad_scale);
    case Rule::Adagrad: return detail::adagrad_update(param, grad, slots, h, grad_scale);
    case Rule::Adadelta: return detail::adadelta_update(param, grad, slots, h, grad_scale);
    case Rule::RMSprop: return detail::rmsprop_update(param, grad, slots, h, grad_scale);
    case Rule::Adam: return detail::adam_update(param, grad, slots, h, grad_scale);
    case Rule::Nadam: return detail::nadam_update(param, grad, slots, h, grad_scale);
    case Rule::Adamax: return detail::adamax_update(param, grad, slots, h, grad_scale);
  }
}

// Keras's clip_by_norm / clip_by_global_norm factor: c / max(norm, c) (norm finite: step checked).
static double clip_factor(double norm, double c) { return c / std::max(norm, c); }

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
  // A NaN or inf gradient would poison its parameter (and, through a global norm, all of them):
  // refuse the whole step before anything changes. Norm clipping computes every norm anyway and a
  // finite norm proves a finite gradient, so there only a non-finite norm costs a scan.
  const bool by_norm = h.clipnorm > 0 || h.global_clipnorm > 0;
  std::vector<double> norms(by_norm ? g.size() : 0);
  std::vector<size_t> bad;
  for (size_t i = 0; i < g.size(); ++i) {
    if (by_norm) {
      norms[i] = l2_norm(g[i]);
      if (std::isfinite(norms[i])) continue;
      if (all_finite(g[i])) {
        norms[i] = scaled_norm(g[i]);  // finite values whose squares overflow
        continue;
      }
    } else if (all_finite(g[i])) {
      continue;
    }
    bad.push_back(i);
  }
  if (!bad.empty()) {
    std::ostringstream others;
    for (size_t k = 1; k < bad.size(); ++k) others << (k > 1 ? ", " : "") << bad[k];
    throw NonFiniteGradientError(
        msg(op, ".step: the gradient of parameter ", bad[0], " (shape ", shape_str(params[bad[0]].shape()),
            ") holds NaN or inf", bad.size() > 1 ? msg(" (so do those of parameters ", others.str(), ")") : "",
            "; no parameter was updated"),
        bad);
  }
  // Clipping factors, computed from the unmodified gradients.
  std::vector<double> scale(params.size(), 1.0);
  if (h.clipnorm > 0) {
    for (size_t i = 0; i < g.size(); ++i) scale[i] = clip_factor(norms[i], h.clipnorm);
  } else if (h.global_clipnorm > 0) {
    const double s = clip_factor(norm_of_norms(norms), h.global_clipnorm);
    for (double& v : scale) v = s;
  }
  for (size_t i = 0; i < params.size(); ++i) {
    update(rule, params[i], g[i], slots[i], h, scale[i]);
    params[i].storage()->version++;  // a graph that saved this parameter can no longer backward
  }
}

}  // namespace pydl::optim
