// Optimizer updates: the fast (OpenMP simd) loop against the reference loop for every rule and
// option, bit for bit (the same per-element step runs in both); a hand-computed step; and a bad
// step call leaving every parameter untouched.
#include "check.h"
#include "pydl/optim.h"
#include "pydl/ops.h"
#include "pydl/settings.h"

#include <cstring>
#include <random>
#include <vector>

using namespace pydl;
using optim::Hyper;
using optim::Rule;

namespace {

Tensor random_tensor(std::mt19937& rng, const Shape& s, DType d, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  Tensor t = Tensor::empty(s, d);
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (d == DType::Float32) t.data<float>()[i] = float(u(rng));
    else t.data<double>()[i] = u(rng);
  }
  return t;
}

Tensor copy_of(const Tensor& t) {
  Tensor c = Tensor::empty(t.shape(), t.dtype());
  std::memcpy(c.raw_data(), t.raw_data(), t.numel() * itemsize(t.dtype()));
  return c;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.numel() == b.numel() && std::memcmp(a.raw_data(), b.raw_data(), a.numel() * itemsize(a.dtype())) == 0;
}

struct Case { Rule rule; Hyper h; const char* what; };

std::vector<Case> cases() {
  std::vector<Case> c;
  auto add = [&](Rule r, const char* w, auto set) { Hyper h; set(h); c.push_back({r, h, w}); };
  add(Rule::SGD, "sgd", [](Hyper& h) { h.learning_rate = 0.01; });
  add(Rule::SGD, "sgd momentum", [](Hyper& h) { h.learning_rate = 0.01; h.momentum = 0.9; });
  add(Rule::SGD, "sgd nesterov", [](Hyper& h) { h.momentum = 0.9; h.nesterov = true; });
  add(Rule::Adagrad, "adagrad", [](Hyper&) {});
  add(Rule::Adadelta, "adadelta", [](Hyper& h) { h.rho = 0.95; h.learning_rate = 1.0; });
  add(Rule::RMSprop, "rmsprop", [](Hyper&) {});
  add(Rule::RMSprop, "rmsprop momentum centered", [](Hyper& h) { h.momentum = 0.5; h.centered = true; });
  add(Rule::Adam, "adam", [](Hyper& h) { h.iterations = 3; });
  add(Rule::Adam, "adam amsgrad + decay", [](Hyper& h) { h.amsgrad = true; h.weight_decay = 0.004; });
  add(Rule::Adam, "adam clipvalue", [](Hyper& h) { h.clipvalue = 0.1; });
  add(Rule::SGD, "sgd clipnorm", [](Hyper& h) { h.clipnorm = 0.5; });
  add(Rule::RMSprop, "rmsprop global_clipnorm", [](Hyper& h) { h.global_clipnorm = 1.0; });
  return c;
}

}  // namespace

TEST(fast_matches_reference_bit_for_bit) {
  for (DType d : {DType::Float32, DType::Float64}) {
    for (const Case& c : cases()) {
      for (int64_t n : {int64_t(1), int64_t(7), int64_t(1000), int64_t(100003)}) {
        std::mt19937 rng(static_cast<unsigned>(n));
        std::vector<Tensor> p{random_tensor(rng, {n}, d, -1, 1), random_tensor(rng, {3, 5}, d, -1, 1)};
        std::vector<Tensor> g{random_tensor(rng, {n}, d, -2, 2), random_tensor(rng, {3, 5}, d, -2, 2)};
        std::vector<std::vector<Tensor>> s(2);
        for (size_t i = 0; i < 2; ++i)
          for (const auto& spec : optim::slot_specs(c.rule, c.h))
            s[i].push_back(spec.initial_value == 0 ? random_tensor(rng, p[i].shape(), d, 0, 0.5)
                                                   : Tensor::full(p[i].shape(), spec.initial_value, d));
        std::vector<Tensor> p2{copy_of(p[0]), copy_of(p[1])};
        std::vector<std::vector<Tensor>> s2(2);
        for (size_t i = 0; i < 2; ++i)
          for (auto& t : s[i]) s2[i].push_back(copy_of(t));
        for (int k = 0; k < 3; ++k) {
          settings::set_backend(settings::Backend::Reference);
          optim::step(c.rule, p, g, s, c.h);
          settings::set_backend(settings::Backend::Fast);
          optim::step(c.rule, p2, g, s2, c.h);
        }
        bool ok = same_bits(p[0], p2[0]) && same_bits(p[1], p2[1]);
        for (size_t i = 0; i < 2; ++i)
          for (size_t j = 0; j < s[i].size(); ++j) ok = ok && same_bits(s[i][j], s2[i][j]);
        if (!ok) std::printf("  mismatch: %s, n=%lld, %s\n", c.what, (long long)n, dtype_name(d));
        CHECK(ok);
      }
    }
  }
}

TEST(adam_first_step_by_hand) {
  // t = 1: m = 0.1 g, v = 0.001 g^2, alpha = lr sqrt(0.001) / 0.1, step = alpha m / (sqrt(v) + eps) ~ lr sign(g)
  Hyper h;
  h.learning_rate = 0.1;
  std::vector<Tensor> p{Tensor::full({2}, 1.0, DType::Float64)}, g{Tensor::full({2}, -3.0, DType::Float64)};
  std::vector<std::vector<Tensor>> s{{Tensor::zeros({2}, DType::Float64), Tensor::zeros({2}, DType::Float64)}};
  optim::step(Rule::Adam, p, g, s, h);
  const double alpha = 0.1 * std::sqrt(1 - 0.999) / (1 - 0.9);
  const double m = 0.1 * -3.0, v = 0.001 * 9.0;
  CHECK_CLOSE(p[0].at({0}), 1.0 - alpha * m / (std::sqrt(v) + 1e-7), 1e-14);
  CHECK_CLOSE(s[0][0].at({1}), m, 1e-14);
  CHECK_CLOSE(s[0][1].at({1}), v, 1e-14);
}

TEST(clipnorm_factor) {
  // g = (3, 4), |g| = 5, clipnorm 1 -> g' = (0.6, 0.8); plain SGD lr 1
  Hyper h;
  h.learning_rate = 1.0;
  h.clipnorm = 1.0;
  Tensor g = Tensor::empty({2}, DType::Float64);
  g.data<double>()[0] = 3;
  g.data<double>()[1] = 4;
  std::vector<Tensor> p{Tensor::zeros({2}, DType::Float64)};
  std::vector<std::vector<Tensor>> s(1);
  optim::step(Rule::SGD, p, {g}, s, h);
  CHECK_CLOSE(p[0].at({0}), -0.6, 1e-14);
  CHECK_CLOSE(p[0].at({1}), -0.8, 1e-14);
  CHECK_CLOSE(g.at({0}), 3.0, 0);  // the gradient itself is untouched
}

TEST(bad_step_changes_nothing) {
  Hyper h;
  std::vector<Tensor> p{Tensor::full({2}, 1.0, DType::Float32), Tensor::full({3}, 1.0, DType::Float32)};
  std::vector<Tensor> g{Tensor::full({2}, 1.0, DType::Float32), Tensor::full({4}, 1.0, DType::Float32)};
  std::vector<std::vector<Tensor>> s(2);
  CHECK_THROWS(optim::step(Rule::SGD, p, g, s, h), ShapeError);
  CHECK(p[0].at({0}) == 1.0);
  std::vector<Tensor> g64{Tensor::full({2}, 1.0, DType::Float32), Tensor::full({3}, 1.0, DType::Float64)};
  CHECK_THROWS(optim::step(Rule::SGD, p, g64, s, h), TypeError);
  CHECK(p[0].at({0}) == 1.0);
  h.momentum = 1.5;
  CHECK_THROWS(optim::check_hyper(Rule::SGD, h), ValueError);
  Hyper both;
  both.clipnorm = 1;
  both.global_clipnorm = 1;
  CHECK_THROWS(optim::check_hyper(Rule::Adam, both), ValueError);
}

RUN_ALL_TESTS()
