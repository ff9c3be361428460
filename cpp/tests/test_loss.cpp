// Loss kernels: fast against reference (forward and backward, dense and sparse targets,
// logits and probabilities, float and double, ragged sizes), a few values by hand, the
// stability of the logit forms at +-1e4, and the ops' shape and label errors.
#include "check.h"
#include "kernels/loss.h"
#include "pydl/autograd.h"
#include "pydl/ops.h"
#include "pydl/settings.h"

#include <cmath>
#include <random>
#include <vector>

using namespace pydl;
using namespace pydl::kernels;

namespace {

template <typename T>
std::vector<T> rand_vec(std::mt19937& rng, int64_t n, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& x : v) x = T(u(rng));
  return v;
}

template <typename T>
double max_rel_diff(const std::vector<T>& a, const std::vector<T>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i)
    m = std::max(m, std::fabs(double(a[i]) - double(b[i])) / (1.0 + std::fabs(double(b[i]))));
  return m;
}

const std::pair<int64_t, int64_t> kSizes[] = {{1, 1}, {3, 1}, {1, 7}, {5, 10}, {17, 33}, {64, 100}, {2, 40000}, {3000, 31}};

template <typename T>
void point_losses_agree(double tol) {
  std::mt19937 rng(1);
  for (auto k : {PointLoss::SquaredError, PointLoss::AbsoluteError, PointLoss::BinaryCrossentropy,
                 PointLoss::BinaryCrossentropyLogits}) {
    for (auto [R, D] : kSizes) {
      const bool prob = k == PointLoss::BinaryCrossentropy;
      auto p = rand_vec<T>(rng, R * D, prob ? 0.01 : -3, prob ? 0.99 : 3);
      auto t = rand_vec<T>(rng, R * D, 0, 1);
      auto coef = rand_vec<T>(rng, R, -1, 1);
      std::vector<T> l1(R), l2(R), dp1(R * D), dp2(R * D), dt1(R * D), dt2(R * D);
      point_loss_reference<T>(k, p.data(), t.data(), R, D, l1.data());
      point_loss_fast<T>(k, p.data(), t.data(), R, D, l2.data());
      CHECK(max_rel_diff(l1, l2) < tol);
      point_loss_backward_reference<T>(k, p.data(), t.data(), coef.data(), R, D, dp1.data(), dt1.data());
      point_loss_backward_fast<T>(k, p.data(), t.data(), coef.data(), R, D, dp2.data(), dt2.data());
      CHECK(max_rel_diff(dp1, dp2) < tol);
      CHECK(max_rel_diff(dt1, dt2) < tol);
    }
  }
}

template <typename T>
void crossentropy_agrees(double tol) {
  std::mt19937 rng(2);
  for (bool logits : {false, true}) {
    for (bool sparse : {false, true}) {
      for (auto [R, C] : kSizes) {
        auto p = rand_vec<T>(rng, R * C, logits ? -5 : 0.01, logits ? 5 : 1);
        auto t = rand_vec<T>(rng, R * C, 0, 1);
        std::vector<int64_t> lab(R);
        for (auto& y : lab) y = std::uniform_int_distribution<int64_t>(0, C - 1)(rng);
        const T* tp = sparse ? nullptr : t.data();
        const int64_t* lp = sparse ? lab.data() : nullptr;
        auto coef = rand_vec<T>(rng, R, -1, 1);
        std::vector<T> l1(R), l2(R), a1(R), a2(R), dp1(R * C), dp2(R * C), dt1(R * C), dt2(R * C);
        crossentropy_reference<T>(p.data(), tp, lp, R, C, logits, l1.data(), a1.data());
        crossentropy_fast<T>(p.data(), tp, lp, R, C, logits, l2.data(), a2.data());
        CHECK(max_rel_diff(l1, l2) < tol);
        CHECK(max_rel_diff(a1, a2) < tol);
        crossentropy_backward_reference<T>(p.data(), tp, lp, a1.data(), coef.data(), R, C, logits, dp1.data(),
                                           sparse ? nullptr : dt1.data());
        crossentropy_backward_fast<T>(p.data(), tp, lp, a1.data(), coef.data(), R, C, logits, dp2.data(),
                                      sparse ? nullptr : dt2.data());
        CHECK(max_rel_diff(dp1, dp2) < tol);
        if (!sparse) CHECK(max_rel_diff(dt1, dt2) < tol);
      }
    }
  }
}

Tensor from(const std::vector<double>& v, const Shape& s, DType d = DType::Float64) {
  Tensor t = Tensor::empty(s, d);
  for (size_t i = 0; i < v.size(); ++i) {
    if (d == DType::Float64) t.data<double>()[i] = v[i];
    else t.data<float>()[i] = float(v[i]);
  }
  return t;
}

}  // namespace

TEST(point_losses_fast_matches_reference_float) { point_losses_agree<float>(1e-5); }
TEST(point_losses_fast_matches_reference_double) { point_losses_agree<double>(1e-12); }
TEST(crossentropy_fast_matches_reference_float) { crossentropy_agrees<float>(1e-5); }
TEST(crossentropy_fast_matches_reference_double) { crossentropy_agrees<double>(1e-12); }

TEST(values_by_hand) {
  for (auto b : {settings::Backend::Reference, settings::Backend::Fast}) {
    settings::set_backend(b);
    // mse: rows [1, 2] vs 0 -> 2.5, [0, 0] vs [1, 1] -> 1; weights 1, 3 -> (2.5 + 3) / 2
    Tensor p = from({1, 2, 0, 0}, {2, 2}), t = from({0, 0, 1, 1}, {2, 2}), w = from({1, 3}, {2});
    CHECK_CLOSE(ops::mse_loss(p, t).item(), 1.75, 1e-12);
    CHECK_CLOSE(ops::mse_loss(p, t, w).item(), 2.75, 1e-12);
    CHECK_CLOSE(ops::mae_loss(p, t).item(), 1.25, 1e-12);
    // categorical from probabilities: -(log 0.8 + log 0.6) / 2
    Tensor q = from({0.2, 0.8, 0.6, 0.4}, {2, 2}), oh = from({0, 1, 1, 0}, {2, 2});
    CHECK_CLOSE(ops::categorical_crossentropy(q, oh).item(), -(std::log(0.8) + std::log(0.6)) / 2, 1e-12);
    CHECK_CLOSE(ops::sparse_categorical_crossentropy(q, from({1, 0}, {2})).item(), -(std::log(0.8) + std::log(0.6)) / 2,
                1e-12);
  }
  settings::set_backend(settings::Backend::Fast);
}

TEST(logits_are_stable_at_1e4) {
  for (DType d : {DType::Float32, DType::Float64}) {
    // a confident wrong prediction: loss = 2e4, finite
    Tensor x = from({1e4, -1e4, 0}, {1, 3}, d), oh = from({0, 1, 0}, {1, 3}, d);
    x.set_requires_grad(true);
    Tensor l = ops::categorical_crossentropy(x, oh, true);
    CHECK_CLOSE(l.item(), 2e4, 1e-6);
    backward({l}, {Tensor()}, false);
    CHECK_CLOSE(x.grad().at({0, 0}), 1.0, 1e-6);
    CHECK_CLOSE(x.grad().at({0, 1}), -1.0, 1e-6);
    Tensor b = from({1e4, -1e4}, {2, 1}, d), bt = from({0, 1}, {2, 1}, d);
    CHECK_CLOSE(ops::binary_crossentropy(b, bt, true).item(), 1e4, 1e-6);
    Tensor bt2 = from({1, 0}, {2, 1}, d);
    CHECK(ops::binary_crossentropy(b, bt2, true).item() == 0.0);
  }
}

TEST(shape_and_label_errors) {
  Tensor p = from({0.2, 0.8, 0.6, 0.4}, {2, 2});
  CHECK_THROWS(ops::categorical_crossentropy(p, from({1, 0}, {2})), ShapeError);
  CHECK_THROWS(ops::categorical_crossentropy(p, from({1, 0}, {2, 1})), ShapeError);
  CHECK_THROWS(ops::categorical_crossentropy(p, from({1, 0, 0, 0, 1, 0}, {2, 3})), ShapeError);
  CHECK_THROWS(ops::sparse_categorical_crossentropy(p, from({2, 0}, {2})), ValueError);
  CHECK_THROWS(ops::sparse_categorical_crossentropy(p, from({0.5, 0}, {2})), ValueError);
  CHECK_THROWS(ops::sparse_categorical_crossentropy(p, from({-1, 0}, {2})), ValueError);
  CHECK_THROWS(ops::sparse_categorical_crossentropy(p, p), ShapeError);
  CHECK_THROWS(ops::mse_loss(p, from({1, 2, 3}, {3})), ShapeError);
  CHECK_THROWS(ops::mse_loss(p, p, from({1, 2, 3}, {3})), ShapeError);
  try {
    ops::sparse_categorical_crossentropy(p, from({1, 7}, {2}));
    CHECK(false);
  } catch (const ValueError& e) {
    std::string m = e.what();
    CHECK(m.find("sparse_categorical_crossentropy") != std::string::npos);
    CHECK(m.find("7") != std::string::npos);
    CHECK(m.find("2 classes") != std::string::npos);
  }
}

RUN_ALL_TESTS()
