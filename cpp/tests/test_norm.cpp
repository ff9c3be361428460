// Normalisation kernels: the fast (OpenMP) batch-norm and group-norm (= layer-norm) kernels
// against the reference loops on random shapes, a hand-computed case, and the reference
// backward against central differences of the reference forward.
#include "check.h"
#include "kernels/norm.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

using namespace pydl::kernels;

namespace {

std::mt19937 rng(4321);

int64_t pick(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

template <typename T>
std::vector<T> randn(int64_t n, double mean = 0, double sd = 1) {
  std::normal_distribution<double> d(mean, sd);
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& e : v) e = T(d(rng));
  return v;
}

template <typename T>
double max_rel_diff(const std::vector<T>& a, const std::vector<T>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(double(a[i]) - double(b[i])) / (1.0 + std::abs(double(b[i]))));
  return worst;
}

BatchNormGeom random_bn() {
  // S == 1 is the (N, F) layout (channel chunks in the fast kernel); C up to 150 crosses chunks.
  const bool flat = pick(0, 2) == 0;
  return BatchNormGeom{pick(1, 6), flat ? pick(1, 150) : pick(1, 7), flat ? 1 : pick(1, 40)};
}

template <typename T>
void bn_compare(const BatchNormGeom& g, bool affine, bool training, double tol) {
  const int64_t n = g.N * g.C * g.S;
  auto x = randn<T>(n, 3.0, 2.0), gy = randn<T>(n), gamma = randn<T>(g.C), beta = randn<T>(g.C);
  const T* gp = affine ? gamma.data() : nullptr;
  const T* bp = affine ? beta.data() : nullptr;
  std::vector<T> m_ref(g.C), v_ref(g.C), m_fast(g.C, T(7)), v_fast(g.C, T(7));
  batch_norm_stats_reference<T>(g, x.data(), m_ref.data(), v_ref.data());
  batch_norm_stats_fast<T>(g, x.data(), m_fast.data(), v_fast.data());
  CHECK(max_rel_diff(m_fast, m_ref) <= tol);
  CHECK(max_rel_diff(v_fast, v_ref) <= tol);
  std::vector<T> invstd(g.C);
  for (int64_t c = 0; c < g.C; ++c) invstd[c] = T(1.0 / std::sqrt(double(v_ref[c]) + 1e-5));
  std::vector<T> y_ref(n), y_fast(n, T(7));
  batch_norm_apply_reference<T>(g, x.data(), m_ref.data(), invstd.data(), gp, bp, y_ref.data());
  batch_norm_apply_fast<T>(g, x.data(), m_ref.data(), invstd.data(), gp, bp, y_fast.data());
  CHECK(max_rel_diff(y_fast, y_ref) <= tol);
  std::vector<T> gx_ref(n), gx_fast(n, T(7)), gg_ref(g.C), gg_fast(g.C, T(7)), gb_ref(g.C), gb_fast(g.C, T(7));
  batch_norm_backward_reference<T>(g, gy.data(), x.data(), m_ref.data(), invstd.data(), gp, training, gx_ref.data(),
                                   gg_ref.data(), gb_ref.data());
  batch_norm_backward_fast<T>(g, gy.data(), x.data(), m_ref.data(), invstd.data(), gp, training, gx_fast.data(),
                              gg_fast.data(), gb_fast.data());
  const double ex = max_rel_diff(gx_fast, gx_ref), eg = max_rel_diff(gg_fast, gg_ref), eb = max_rel_diff(gb_fast, gb_ref);
  if (!(ex <= tol && eg <= tol && eb <= tol))
    std::printf("  bn N=%ld C=%ld S=%ld train=%d: gx %.3g gg %.3g gb %.3g\n", long(g.N), long(g.C), long(g.S),
                int(training), ex, eg, eb);
  CHECK(ex <= tol);
  CHECK(eg <= tol);
  CHECK(eb <= tol);
}

GroupNormGeom random_gn() {
  if (pick(0, 2) == 0) return GroupNormGeom{pick(1, 7), 1, pick(1, 150), 1};  // layer norm
  return GroupNormGeom{pick(1, 5), pick(1, 4), pick(1, 4), pick(1, 30)};
}

template <typename T>
void gn_compare(const GroupNormGeom& g, bool affine, double tol) {
  const int64_t n = g.rows() * g.len(), C = g.channels();
  auto x = randn<T>(n, -1.0, 3.0), gy = randn<T>(n), gamma = randn<T>(C), beta = randn<T>(C);
  const T* gp = affine ? gamma.data() : nullptr;
  const T* bp = affine ? beta.data() : nullptr;
  std::vector<T> y_ref(n), y_fast(n, T(7)), m_ref(g.rows()), m_fast(g.rows(), T(7)), i_ref(g.rows()),
      i_fast(g.rows(), T(7));
  group_norm_forward_reference<T>(g, x.data(), gp, bp, 1e-5, y_ref.data(), m_ref.data(), i_ref.data());
  group_norm_forward_fast<T>(g, x.data(), gp, bp, 1e-5, y_fast.data(), m_fast.data(), i_fast.data());
  CHECK(max_rel_diff(y_fast, y_ref) <= tol);
  CHECK(max_rel_diff(m_fast, m_ref) <= tol);
  CHECK(max_rel_diff(i_fast, i_ref) <= tol);
  std::vector<T> gx_ref(n), gx_fast(n, T(7)), gg_ref(C), gg_fast(C, T(7)), gb_ref(C), gb_fast(C, T(7));
  group_norm_backward_reference<T>(g, gy.data(), x.data(), m_ref.data(), i_ref.data(), gp, gx_ref.data(),
                                   gg_ref.data(), gb_ref.data());
  group_norm_backward_fast<T>(g, gy.data(), x.data(), m_ref.data(), i_ref.data(), gp, gx_fast.data(), gg_fast.data(),
                              gb_fast.data());
  const double ex = max_rel_diff(gx_fast, gx_ref), eg = max_rel_diff(gg_fast, gg_ref), eb = max_rel_diff(gb_fast, gb_ref);
  if (!(ex <= tol && eg <= tol && eb <= tol))
    std::printf("  gn N=%ld G=%ld Cg=%ld S=%ld: gx %.3g gg %.3g gb %.3g\n", long(g.N), long(g.G), long(g.Cg),
                long(g.S), ex, eg, eb);
  CHECK(ex <= tol);
  CHECK(eg <= tol);
  CHECK(eb <= tol);
}

}  // namespace

TEST(batch_norm_fast_matches_reference_double) {
  for (int t = 0; t < 200; ++t) bn_compare<double>(random_bn(), t % 2 == 0, t % 3 != 0, 1e-12);
}

TEST(batch_norm_fast_matches_reference_float) {
  for (int t = 0; t < 200; ++t) bn_compare<float>(random_bn(), t % 2 == 1, t % 3 != 0, 1e-5);
}

TEST(batch_norm_fast_matches_reference_larger) {
  // Big enough for the threaded paths (>= 32768 elements), both layouts.
  bn_compare<double>(BatchNormGeom{16, 32, 196}, true, true, 1e-12);
  bn_compare<float>(BatchNormGeom{256, 300, 1}, true, true, 1e-5);
  bn_compare<double>(BatchNormGeom{64, 16, 49}, false, false, 1e-12);
}

TEST(group_norm_fast_matches_reference_double) {
  for (int t = 0; t < 200; ++t) gn_compare<double>(random_gn(), t % 2 == 0, 1e-12);
}

TEST(group_norm_fast_matches_reference_float) {
  for (int t = 0; t < 200; ++t) gn_compare<float>(random_gn(), t % 2 == 1, 1e-5);
}

TEST(group_norm_fast_matches_reference_larger) {
  gn_compare<double>(GroupNormGeom{8, 4, 8, 256}, true, 1e-12);
  gn_compare<float>(GroupNormGeom{512, 1, 128, 1}, true, 1e-5);
}

TEST(batch_norm_stats_by_hand) {
  // x (N=2, C=2, S=2): channel 0 holds 1, 2, 3, 4 -> mean 2.5, var 1.25; channel 1 holds
  // -1, -1, 5, 5 -> mean 2, var 9.
  const std::vector<double> x = {1, 2, -1, -1, 3, 4, 5, 5};
  BatchNormGeom g{2, 2, 2};
  for (int fast = 0; fast < 2; ++fast) {
    double mean[2], var[2];
    if (fast) batch_norm_stats_fast<double>(g, x.data(), mean, var);
    else batch_norm_stats_reference<double>(g, x.data(), mean, var);
    CHECK_CLOSE(mean[0], 2.5, 1e-15);
    CHECK_CLOSE(var[0], 1.25, 1e-15);
    CHECK_CLOSE(mean[1], 2.0, 1e-15);
    CHECK_CLOSE(var[1], 9.0, 1e-15);
  }
}

TEST(variance_two_pass_survives_a_large_mean) {
  // A one-pass E[x^2] - E[x]^2 in float loses every digit here; two passes keep them.
  std::vector<float> x = {10000.0f, 10001.0f, 10002.0f, 10003.0f};
  float mean, var;
  batch_norm_stats_fast<float>(BatchNormGeom{4, 1, 1}, x.data(), &mean, &var);
  CHECK_CLOSE(var, 1.25, 1e-6);
  GroupNormGeom g{1, 1, 4, 1};
  float y[4], m, is;
  group_norm_forward_fast<float>(g, x.data(), nullptr, nullptr, 0.0, y, &m, &is);
  CHECK_CLOSE(is, 1.0 / std::sqrt(1.25), 1e-6);
}

TEST(reference_backward_matches_central_differences) {
  // L = Σ y * r for a fixed random r; dL/dx from the backward kernels vs (L(x + h) - L(x - h)) / 2h.
  for (int t = 0; t < 20; ++t) {
    BatchNormGeom g{pick(2, 3), pick(1, 3), pick(1, 4)};
    const int64_t n = g.N * g.C * g.S;
    auto x = randn<double>(n), r = randn<double>(n), gamma = randn<double>(g.C), beta = randn<double>(g.C);
    auto loss = [&](const std::vector<double>& xv) {
      std::vector<double> m(g.C), v(g.C), is(g.C), y(n);
      batch_norm_stats_reference<double>(g, xv.data(), m.data(), v.data());
      for (int64_t c = 0; c < g.C; ++c) is[c] = 1.0 / std::sqrt(v[c] + 1e-3);
      batch_norm_apply_reference<double>(g, xv.data(), m.data(), is.data(), gamma.data(), beta.data(), y.data());
      double s = 0;
      for (int64_t i = 0; i < n; ++i) s += y[i] * r[i];
      return s;
    };
    std::vector<double> m(g.C), v(g.C), is(g.C), gx(n), gg(g.C), gb(g.C);
    batch_norm_stats_reference<double>(g, x.data(), m.data(), v.data());
    for (int64_t c = 0; c < g.C; ++c) is[c] = 1.0 / std::sqrt(v[c] + 1e-3);
    batch_norm_backward_reference<double>(g, r.data(), x.data(), m.data(), is.data(), gamma.data(), true, gx.data(),
                                          gg.data(), gb.data());
    for (int64_t i = 0; i < n; ++i) {
      auto xp = x, xm = x;
      xp[i] += 1e-6;
      xm[i] -= 1e-6;
      CHECK_CLOSE(gx[i], (loss(xp) - loss(xm)) / 2e-6, 1e-6);
    }
  }
  for (int t = 0; t < 20; ++t) {
    GroupNormGeom g{pick(1, 2), pick(1, 3), pick(1, 3), pick(1, 3)};
    const int64_t n = g.rows() * g.len(), C = g.channels();
    auto x = randn<double>(n), r = randn<double>(n), gamma = randn<double>(C), beta = randn<double>(C);
    auto loss = [&](const std::vector<double>& xv) {
      std::vector<double> y(n), m(g.rows()), is(g.rows());
      group_norm_forward_reference<double>(g, xv.data(), gamma.data(), beta.data(), 1e-3, y.data(), m.data(),
                                           is.data());
      double s = 0;
      for (int64_t i = 0; i < n; ++i) s += y[i] * r[i];
      return s;
    };
    std::vector<double> y(n), m(g.rows()), is(g.rows()), gx(n), gg(C), gb(C);
    group_norm_forward_reference<double>(g, x.data(), gamma.data(), beta.data(), 1e-3, y.data(), m.data(), is.data());
    group_norm_backward_reference<double>(g, r.data(), x.data(), m.data(), is.data(), gamma.data(), gx.data(),
                                          gg.data(), gb.data());
    for (int64_t i = 0; i < n; ++i) {
      auto xp = x, xm = x;
      xp[i] += 1e-6;
      xm[i] -= 1e-6;
      CHECK_CLOSE(gx[i], (loss(xp) - loss(xm)) / 2e-6, 1e-6);
    }
  }
}

RUN_ALL_TESTS()
