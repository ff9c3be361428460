// Optimizers: one fused update per rule over one parameter, following Keras 3's update rules
// and defaults. Each rule is written once as a per-element step (src/optim/rules.h) run by a
// plain reference loop or an OpenMP `parallel for simd` loop (pydl::settings::backend()).
// `step` loops over every parameter in C++, so Python crosses once per optimizer.step().
//
// Gradient preprocessing happens on the fly inside the update (the stored .grad is never
// modified), with Keras's precedence: clipnorm (each gradient to norm <= c), else
// global_clipnorm (all gradients rescaled together), else clipvalue (clamped to [-c, c]).
// weight_decay is decoupled, as Keras applies it before the update: p -= lr * wd * p.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "pydl/error.h"
#include "pydl/tensor.h"

namespace pydl::optim {

enum class Rule { SGD, Adagrad, Adadelta, RMSprop, Adam, Nadam, Adamax };
// "sgd" | "adagrad" | "adadelta" | "rmsprop" | "adam" | "nadam" | "adamax" (AdamW is Adam with
// weight_decay).
Rule parse_rule(const std::string& name);
const char* rule_name(Rule r);

// Every hyperparameter of every rule (each rule reads its own); defaults are Keras's.
struct Hyper {
  double learning_rate = 0.001;
  double momentum = 0.0;          // SGD, RMSprop
  bool nesterov = false;          // SGD
  double rho = 0.9;               // RMSprop (0.9), Adadelta (0.95)
  bool centered = false;          // RMSprop
  double beta_1 = 0.9, beta_2 = 0.999;  // Adam, Nadam, Adamax
  bool amsgrad = false;           // Adam
  double epsilon = 1e-7;
  double initial_accumulator_value = 0.1;  // Adagrad
  double weight_decay = 0.0;      // 0: off
  double clipnorm = 0.0, clipvalue = 0.0, global_clipnorm = 0.0;  // 0: off
  int64_t iterations = 0;         // updates done before this one (Adam's t = iterations + 1)
  // Nadam's momentum-cache product u_1 u_2 ... u_{t-1} over the updates before this one (1 at
  // the start), u_k = beta_1 (1 - 0.5 * 0.96^k); nadam_u_product computes it. The caller keeps
  // it (Keras keeps it as a variable) because it depends on every past beta_1.
  double u_product = 1.0;
};

// u_1 ... u_n with u_k = beta_1 (1 - 0.5 * 0.96^k): Nadam's product after n updates.
double nadam_u_product(double beta_1, int64_t n);

// The slot variables a rule keeps per parameter, in the order `update` expects them, with
// their initial values: SGD {momentum} when momentum != 0; Adagrad {accumulator};
// Adadelta {accumulated_grad, accumulated_delta_var}; RMSprop {velocity, [momentum],
// [average_gradient]}; Adam {momentum, velocity, [velocity_hat]}; Nadam {momentum, velocity};
// Adamax {momentum, norm}.
struct SlotSpec {
  std::string name;
  double initial_value;
};
std::vector<SlotSpec> slot_specs(Rule rule, const Hyper& h);

// Checks the hyperparameters (ValueError naming the optimizer, the argument and the value):
// every number finite; epsilon > 0; learning_rate, weight_decay, clipnorm, clipvalue,
// global_clipnorm, initial_accumulator_value >= 0; momentum in [0, 1]; rho, beta_1, beta_2 in
// [0, 1); at most one of clipnorm and global_clipnorm; SGD's nesterov only with momentum > 0.
void check_hyper(Rule rule, const Hyper& h);

// One parameter's update, in place. grad is scaled by grad_scale (the clipnorm /
// global_clipnorm factor) and then clamped by h.clipvalue when set; the rest of h as above.
void update(Rule rule, Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, const Hyper& h,
            double grad_scale = 1.0);

// What `step` throws when a gradient holds NaN or +-inf. Every gradient is checked before any
// parameter changes, so nothing was updated; `indices` lists each such parameter, in order.
struct NonFiniteGradientError : RuntimeError {
  NonFiniteGradientError(const std::string& what, std::vector<size_t> idx)
      : RuntimeError(what), indices(std::move(idx)) {}
  std::vector<size_t> indices;
};

// Every parameter's update. Checks everything first (counts, shapes, dtypes, and that every
// gradient is finite: NonFiniteGradientError), so a bad call changes nothing; then computes the
// clipping factors and runs `update` per parameter.
void step(Rule rule, std::vector<Tensor>& params, const std::vector<Tensor>& grads,
          std::vector<std::vector<Tensor>>& slots, const Hyper& h);

// Whether every element of t is finite (no NaN, no +-inf): a plain loop on the reference
// backend, an OpenMP + SIMD scan (kernels/cpu/isa.h copies) on the fast one.
bool all_finite(const Tensor& t);

// sqrt(sum of squares) in double, in fixed blocks (same result on either backend and for any
// thread count): the norm clipnorm and global_clipnorm use.
double l2_norm(const Tensor& t);

}  // namespace pydl::optim
