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
#include <vector>

#include "pydl/tensor.h"

namespace pydl::optim {

enum class Rule { SGD, Adagrad, Adadelta, RMSprop, Adam };
// "sgd" | "adagrad" | "adadelta" | "rmsprop" | "adam" (AdamW is Adam with weight_decay).
Rule parse_rule(const std::string& name);
const char* rule_name(Rule r);

// Every hyperparameter of every rule (each rule reads its own); defaults are Keras's.
struct Hyper {
  double learning_rate = 0.001;
  double momentum = 0.0;          // SGD, RMSprop
  bool nesterov = false;          // SGD
  double rho = 0.9;               // RMSprop (0.9), Adadelta (0.95)
  bool centered = false;          // RMSprop
  double beta_1 = 0.9, beta_2 = 0.999;  // Adam
  bool amsgrad = false;           // Adam
  double epsilon = 1e-7;
  double initial_accumulator_value = 0.1;  // Adagrad
  double weight_decay = 0.0;      // 0: off
  double clipnorm = 0.0, clipvalue = 0.0, global_clipnorm = 0.0;  // 0: off
  int64_t iterations = 0;         // updates done before this one (Adam's t = iterations + 1)
};

// The slot variables a rule keeps per parameter, in the order `update` expects them, with
// their initial values: SGD {momentum} when momentum != 0; Adagrad {accumulator};
// Adadelta {accumulated_grad, accumulated_delta_var}; RMSprop {velocity, [momentum],
// [average_gradient]}; Adam {momentum, velocity, [velocity_hat]}.
struct SlotSpec {
  std::string name;
  double initial_value;
};
std::vector<SlotSpec> slot_specs(Rule rule, const Hyper& h);

// Checks the hyperparameters as Keras does (ValueError naming the optimizer and the value).
void check_hyper(Rule rule, const Hyper& h);

// One parameter's update, in place. grad is scaled by grad_scale (the clipnorm /
// global_clipnorm factor) and then clamped by h.clipvalue when set; the rest of h as above.
void update(Rule rule, Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, const Hyper& h,
            double grad_scale = 1.0);

// Every parameter's update. Checks everything first (counts, shapes, dtypes), so a bad call
// changes nothing; then computes the clipping factors and runs `update` per parameter.
void step(Rule rule, std::vector<Tensor>& params, const std::vector<Tensor>& grads,
          std::vector<std::vector<Tensor>>& slots, const Hyper& h);

// sqrt(sum of squares) in double, in fixed blocks (same result on either backend and for any
// thread count): the norm clipnorm and global_clipnorm use.
double l2_norm(const Tensor& t);

}  // namespace pydl::optim
