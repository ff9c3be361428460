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
  add(Rule::Nadam, "nadam", [](Hyper& h) { h.iterations = 4; h.u_product = optim::nadam_u_product(0.9, 4); });
  add(Rule::Nadam, "nadam clipnorm + decay", [](Hyper& h) { h.clipnorm = 0.5; h.weight_decay = 0.01; });
  add(Rule::Adamax, "adamax", [](Hyper& h) { h.iterations = 2; });
  add(Rule::Adamax, "adamax clipvalue", [](Hyper& h) { h.clipvalue = 0.3; h.beta_2 = 0.5; });
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
          Hyper hk = c.h;
          hk.iterations += k;
          hk.u_product = optim::nadam_u_product(hk.beta_1, hk.iterations);
          settings::set_backend(settings::Backend::Reference);
          optim::step(c.rule, p, g, s, hk);
          settings::set_backend(settings::Backend::Fast);
          optim::step(c.rule, p2, g, s2, hk);
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

TEST(nadam_first_two_steps_by_hand) {
  // Keras's Nadam: u_k = b1 (1 - 0.5 0.96^k); m_hat = u_{t+1} m / (1 - u_1..u_{t+1}) + (1 - u_t) g / (1 - u_1..u_t)
  Hyper h;
  h.learning_rate = 0.1;
  const double b1 = 0.9, b2 = 0.999, eps = 1e-7, g0 = -3.0, g1 = 2.0;
  std::vector<Tensor> p{Tensor::full({2}, 1.0, DType::Float64)};
  std::vector<std::vector<Tensor>> s{{Tensor::zeros({2}, DType::Float64), Tensor::zeros({2}, DType::Float64)}};
  auto u = [&](int k) { return b1 * (1 - 0.5 * std::pow(0.96, k)); };
  double m = 0, v = 0, w = 1.0, prod = 1.0;
  for (int t = 1; t <= 2; ++t) {
    const double g = t == 1 ? g0 : g1;
    h.iterations = t - 1;
    h.u_product = prod;
    CHECK_CLOSE(optim::nadam_u_product(b1, t - 1), prod, 1e-15);
    optim::step(Rule::Nadam, p, {Tensor::full({2}, g, DType::Float64)}, s, h);
    prod *= u(t);
    m = m + (g - m) * (1 - b1);
    v = v + (g * g - v) * (1 - b2);
    const double m_hat = u(t + 1) * m / (1 - prod * u(t + 1)) + (1 - u(t)) * g / (1 - prod);
    const double v_hat = v / (1 - std::pow(b2, t));
    w -= 0.1 * m_hat / (std::sqrt(v_hat) + eps);
    CHECK_CLOSE(p[0].at({1}), w, 1e-13);
    CHECK_CLOSE(s[0][0].at({0}), m, 1e-14);
    CHECK_CLOSE(s[0][1].at({0}), v, 1e-14);
  }
}

TEST(adamax_first_two_steps_by_hand) {
  // m = m + (g - m)(1 - b1); u = max(b2 u, |g|); p = p - lr m / ((1 - b1^t)(u + eps))
  Hyper h;
  h.learning_rate = 0.1;
  const double b1 = 0.9, eps = 1e-7;
  std::vector<Tensor> p{Tensor::full({3}, 1.0, DType::Float64)};
  std::vector<std::vector<Tensor>> s{{Tensor::zeros({3}, DType::Float64), Tensor::zeros({3}, DType::Float64)}};
  // step 1: g = -3 -> m = -0.3, u = 3, p = 1 + 0.1 * 0.3 / (0.1 * (3 + eps))
  optim::step(Rule::Adamax, p, {Tensor::full({3}, -3.0, DType::Float64)}, s, h);
  CHECK_CLOSE(p[0].at({0}), 1.0 + 0.1 * 0.3 / (0.1 * (3 + eps)), 1e-14);
  CHECK_CLOSE(s[0][1].at({2}), 3.0, 1e-15);
  // step 2: g = 1 -> m = -0.3 + 1.3 * 0.1 = -0.17, u = max(0.999 * 3, 1) = 2.997
  const double w1 = p[0].at({0});
  h.iterations = 1;
  optim::step(Rule::Adamax, p, {Tensor::full({3}, 1.0, DType::Float64)}, s, h);
  CHECK_CLOSE(s[0][0].at({1}), -0.17, 1e-14);
  CHECK_CLOSE(s[0][1].at({1}), 2.997, 1e-14);
  CHECK_CLOSE(p[0].at({1}), w1 + 0.1 * 0.17 / ((1 - b1 * b1) * (2.997 + eps)), 1e-14);
}

TEST(non_finite_gradient_changes_nothing) {
  const double specials[] = {NAN, INFINITY, -INFINITY};
  for (DType d : {DType::Float32, DType::Float64}) {
    for (int clip = 0; clip < 3; ++clip) {
      for (double bad : specials) {
        for (int64_t where : {int64_t(0), int64_t(16), int64_t(99998)}) {
          Hyper h;
          h.learning_rate = 0.1;
          if (clip == 1) h.clipnorm = 1.0;
          if (clip == 2) h.global_clipnorm = 1.0;
          std::mt19937 rng(7);
          std::vector<Tensor> p{random_tensor(rng, {5}, d, -1, 1), random_tensor(rng, {99999}, d, -1, 1),
                                random_tensor(rng, {3}, d, -1, 1)};
          std::vector<Tensor> g{random_tensor(rng, {5}, d, -1, 1), random_tensor(rng, {99999}, d, -1, 1),
                                random_tensor(rng, {3}, d, -1, 1)};
          if (d == DType::Float32) g[1].data<float>()[where] = float(bad);
          else g[1].data<double>()[where] = bad;
          std::vector<Tensor> before{copy_of(p[0]), copy_of(p[1]), copy_of(p[2])};
          std::vector<std::vector<Tensor>> s(3);
          for (size_t i = 0; i < 3; ++i) s[i] = {Tensor::zeros(p[i].shape(), d), Tensor::zeros(p[i].shape(), d)};
          for (settings::Backend b : {settings::Backend::Reference, settings::Backend::Fast}) {
            settings::set_backend(b);
            bool thrown = false;
            try {
              optim::step(Rule::Adam, p, g, s, h);
            } catch (const optim::NonFiniteGradientError& e) {
              thrown = e.indices.size() == 1 && e.indices[0] == 1 &&
                       std::string(e.what()).find("parameter 1 (shape (99999,))") != std::string::npos;
            }
            CHECK(thrown);
            for (size_t i = 0; i < 3; ++i) CHECK(same_bits(p[i], before[i]));
            for (size_t i = 0; i < 3; ++i) CHECK(s[i][0].at({0}) == 0.0 && s[i][1].at({0}) == 0.0);
          }
        }
      }
    }
  }
}

TEST(all_finite_reference_matches_fast) {
  for (DType d : {DType::Float32, DType::Float64}) {
    for (int64_t n : {int64_t(1), int64_t(15), int64_t(4097), int64_t(200001)}) {
      std::mt19937 rng(static_cast<unsigned>(n));
      Tensor t = random_tensor(rng, {n}, d, -1e30, 1e30);
      for (settings::Backend b : {settings::Backend::Reference, settings::Backend::Fast}) {
        settings::set_backend(b);
        CHECK(optim::all_finite(t));
      }
      for (int64_t where : {int64_t(0), n / 2, n - 1}) {
        for (double bad : {double(NAN), double(INFINITY), -double(INFINITY)}) {
          Tensor u = copy_of(t);
          if (d == DType::Float32) u.data<float>()[where] = float(bad);
          else u.data<double>()[where] = bad;
          for (settings::Backend b : {settings::Backend::Reference, settings::Backend::Fast}) {
            settings::set_backend(b);
            CHECK(!optim::all_finite(u));
          }
        }
      }
    }
  }
  // the largest finite values are finite (x * 0 == 0, no overflow)
  Tensor big = Tensor::full({100}, 3.0e38, DType::Float32);
  settings::set_backend(settings::Backend::Fast);
  CHECK(optim::all_finite(big));
}

TEST(clipnorm_with_overflowing_squares_is_exact) {
  // g = (3e200, 4e200): the squares overflow float64, the norm 5e200 does not; clipnorm 1 -> (0.6, 0.8)
  for (int global = 0; global < 2; ++global) {
    Hyper h;
    h.learning_rate = 1.0;
    (global ? h.global_clipnorm : h.clipnorm) = 1.0;
    Tensor g = Tensor::empty({2}, DType::Float64);
    g.data<double>()[0] = 3e200;
    g.data<double>()[1] = 4e200;
    std::vector<Tensor> p{Tensor::zeros({2}, DType::Float64)};
    std::vector<std::vector<Tensor>> s(1);
    optim::step(Rule::SGD, p, {g}, s, h);
    CHECK_CLOSE(p[0].at({0}), -0.6, 1e-14);
    CHECK_CLOSE(p[0].at({1}), -0.8, 1e-14);
  }
}

TEST(hyperparameter_ranges) {
  auto bad = [](Rule r, auto set) {
    Hyper h;
    set(h);
    bool thrown = false;
    try {
      optim::check_hyper(r, h);
    } catch (const ValueError&) {
      thrown = true;
    }
    return thrown;
  };
  CHECK(bad(Rule::SGD, [](Hyper& h) { h.learning_rate = -0.1; }));
  CHECK(bad(Rule::SGD, [](Hyper& h) { h.learning_rate = NAN; }));
  CHECK(bad(Rule::SGD, [](Hyper& h) { h.momentum = -0.1; }));
  CHECK(!bad(Rule::SGD, [](Hyper& h) { h.momentum = 1.0; }));
  CHECK(bad(Rule::SGD, [](Hyper& h) { h.nesterov = true; }));
  CHECK(bad(Rule::RMSprop, [](Hyper& h) { h.rho = 1.0; }));
  CHECK(bad(Rule::Adadelta, [](Hyper& h) { h.rho = 1.0; }));
  CHECK(bad(Rule::Adadelta, [](Hyper& h) { h.rho = -0.5; }));
  CHECK(bad(Rule::Nadam, [](Hyper& h) { h.beta_1 = 1.0; }));
  CHECK(bad(Rule::Adamax, [](Hyper& h) { h.beta_2 = -0.1; }));
  CHECK(bad(Rule::Adam, [](Hyper& h) { h.epsilon = -1e-7; }));
  CHECK(bad(Rule::RMSprop, [](Hyper& h) { h.epsilon = 0; }));
  CHECK(bad(Rule::Adam, [](Hyper& h) { h.clipvalue = -1; }));
  CHECK(bad(Rule::Adam, [](Hyper& h) { h.weight_decay = INFINITY; }));
  CHECK(!bad(Rule::Adam, [](Hyper& h) { h.beta_1 = 0.0; h.beta_2 = 0.0; }));
}

RUN_ALL_TESTS()
