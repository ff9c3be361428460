// RBM kernels: fast against reference (both conditionals with their samples, the CD statistics,
// the free energy; float and double), one conditional against values worked out by hand, and the
// free energy against its definition by enumeration of the hidden states.
#include "check.h"
#include "kernels/rbm.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

using namespace pydl::kernels;

namespace {

std::mt19937 rng(2006);

template <typename T>
std::vector<T> uniform(int64_t n, double lo, double hi) {
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& e : v) e = T(d(rng));
  return v;
}

template <typename T>
std::vector<T> binary(int64_t n) {
  std::bernoulli_distribution d(0.4);
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& e : v) e = d(rng) ? T(1) : T(0);
  return v;
}

template <typename T>
double max_diff(const std::vector<T>& a, const std::vector<T>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::fmax(m, std::fabs(double(a[i]) - double(b[i])));
  return m;
}

template <typename T>
int64_t mismatches(const std::vector<T>& a, const std::vector<T>& b) {
  int64_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) n += a[i] != b[i];
  return n;
}

// Shapes that cross the fast GEMM's blocking and the OpenMP threshold, and tiny ones.
const RbmGeom kGeoms[] = {{1, 1, 1}, {3, 5, 2}, {17, 33, 9}, {64, 200, 70}, {130, 64, 129}};

template <typename T>
void conditionals_match(double tol) {
  for (const RbmGeom& g : kGeoms) {
    auto v = binary<T>(g.B * g.V), h = binary<T>(g.B * g.H);
    auto w = uniform<T>(g.V * g.H, -0.3, 0.3), b = uniform<T>(g.V, -1, 1), c = uniform<T>(g.H, -1, 1);
    std::vector<T> pr(g.B * g.H), pf(g.B * g.H), sr(g.B * g.H), sf(g.B * g.H);
    rbm_hidden_reference<T>(g, v.data(), w.data(), c.data(), pr.data(), sr.data(), 7, 100);
    rbm_hidden_fast<T>(g, v.data(), w.data(), c.data(), pf.data(), sf.data(), 7, 100);
    CHECK(max_diff(pr, pf) <= tol);
    // the same uniforms: samples differ only where u falls between the two rounded probabilities
    CHECK(mismatches(sr, sf) <= (sizeof(T) == 8 ? 0 : 1));
    std::vector<T> qr(g.B * g.V), qf(g.B * g.V), tr(g.B * g.V), tf(g.B * g.V);
    rbm_visible_reference<T>(g, h.data(), w.data(), b.data(), qr.data(), tr.data(), 7, 900);
    rbm_visible_fast<T>(g, h.data(), w.data(), b.data(), qf.data(), tf.data(), 7, 900);
    CHECK(max_diff(qr, qf) <= tol);
    CHECK(mismatches(tr, tf) <= (sizeof(T) == 8 ? 0 : 1));
    // no sample asked: the probabilities alone, unchanged
    std::vector<T> pn(g.B * g.H);
    rbm_hidden_fast<T>(g, v.data(), w.data(), c.data(), pn.data(), nullptr, 0, 0);
    CHECK(max_diff(pn, pf) == 0);
  }
}

TEST(conditionals_fast_match_reference_float) { conditionals_match<float>(2e-6); }
TEST(conditionals_fast_match_reference_double) { conditionals_match<double>(1e-13); }

TEST(samples_follow_the_probabilities) {
  // one visible unit on, weights chosen so p(h_j) = σ(c_j + W_0j) is 0.1, 0.5, 0.9: the sample
  // frequencies over many draws (different counters) must match them
  const RbmGeom g{1, 1, 3};
  const double w[3] = {0.0, 0.0, 0.0};
  const double c[3] = {std::log(0.1 / 0.9), 0.0, std::log(0.9 / 0.1)};
  const double v[1] = {1.0};
  double p[3], s[3], freq[3] = {0, 0, 0};
  const int draws = 20000;
  for (int d = 0; d < draws; ++d) {
    rbm_hidden_fast<double>(g, v, w, c, p, s, 11, static_cast<uint64_t>(d) * 3);
    for (int j = 0; j < 3; ++j) freq[j] += s[j] / draws;
  }
  CHECK_CLOSE(p[0], 0.1, 1e-12);
  CHECK_CLOSE(p[2], 0.9, 1e-12);
  for (int j = 0; j < 3; ++j) CHECK(std::fabs(freq[j] - p[j]) < 0.015);  // > 4 standard errors
}

TEST(hidden_by_hand) {
  // v = (1, 0, 1), W = [[1, -1], [5, 5], [0.5, 2]], c = (0, -1):
  // a = (1 + 0.5 + 0, -1 + 2 - 1) = (1.5, 0)
  const RbmGeom g{1, 3, 2};
  const double v[3] = {1, 0, 1}, w[6] = {1, -1, 5, 5, 0.5, 2}, c[2] = {0, -1};
  double p[2];
  rbm_hidden_reference<double>(g, v, w, c, p, nullptr, 0, 0);
  CHECK_CLOSE(p[0], 1.0 / (1.0 + std::exp(-1.5)), 1e-15);
  CHECK_CLOSE(p[1], 0.5, 1e-15);
}

template <typename T>
void cd_grad_match(double tol) {
  for (const RbmGeom& g : kGeoms) {
    auto v0 = binary<T>(g.B * g.V), vk = binary<T>(g.B * g.V);
    auto p0 = uniform<T>(g.B * g.H, 0, 1), pk = uniform<T>(g.B * g.H, 0, 1);
    std::vector<T> dwr(g.V * g.H), dbr(g.V), dcr(g.H), dwf(g.V * g.H), dbf(g.V), dcf(g.H);
    rbm_cd_grad_reference<T>(g, v0.data(), p0.data(), vk.data(), pk.data(), dwr.data(), dbr.data(), dcr.data());
    rbm_cd_grad_fast<T>(g, v0.data(), p0.data(), vk.data(), pk.data(), dwf.data(), dbf.data(), dcf.data());
    CHECK(max_diff(dwr, dwf) <= tol);
    CHECK(max_diff(dbr, dbf) <= tol);
    CHECK(max_diff(dcr, dcf) <= tol);
  }
}

TEST(cd_grad_fast_matches_reference_float) { cd_grad_match<float>(1e-5); }
TEST(cd_grad_fast_matches_reference_double) { cd_grad_match<double>(1e-13); }

TEST(cd_grad_by_hand) {
  // B = 2, V = 1, H = 1: dW = (vk·pk summed - v0·p0 summed) / 2
  const RbmGeom g{2, 1, 1};
  const double v0[2] = {1, 0}, p0[2] = {0.8, 0.3}, vk[2] = {1, 1}, pk[2] = {0.6, 0.5};
  double dw, db, dc;
  rbm_cd_grad_reference<double>(g, v0, p0, vk, pk, &dw, &db, &dc);
  CHECK_CLOSE(dw, ((0.6 + 0.5) - (0.8 + 0.0)) / 2, 1e-15);
  CHECK_CLOSE(db, ((1 + 1) - (1 + 0)) / 2.0, 1e-15);
  CHECK_CLOSE(dc, ((0.6 + 0.5) - (0.8 + 0.3)) / 2, 1e-15);
}

template <typename T>
void free_energy_match(double tol) {
  for (const RbmGeom& g : kGeoms) {
    auto v = uniform<T>(g.B * g.V, 0, 1);
    auto w = uniform<T>(g.V * g.H, -0.5, 0.5), b = uniform<T>(g.V, -1, 1), c = uniform<T>(g.H, -1, 1);
    std::vector<T> fr(g.B), ff(g.B);
    rbm_free_energy_reference<T>(g, v.data(), w.data(), b.data(), c.data(), fr.data());
    rbm_free_energy_fast<T>(g, v.data(), w.data(), b.data(), c.data(), ff.data());
    for (int64_t n = 0; n < g.B; ++n) CHECK_CLOSE(ff[n], fr[n], tol);
  }
}

TEST(free_energy_fast_matches_reference_float) { free_energy_match<float>(2e-5); }
TEST(free_energy_fast_matches_reference_double) { free_energy_match<double>(1e-12); }

TEST(free_energy_is_minus_log_of_the_sum_over_hidden_states) {
  // F(v) = -log Σ_h exp(vᵀb + hᵀc + vᵀWh), enumerated over the 2^H hidden states
  const RbmGeom g{4, 3, 4};
  auto v = binary<double>(g.B * g.V);
  auto w = uniform<double>(g.V * g.H, -1, 1), b = uniform<double>(g.V, -1, 1), c = uniform<double>(g.H, -1, 1);
  std::vector<double> f(g.B);
  rbm_free_energy_reference<double>(g, v.data(), w.data(), b.data(), c.data(), f.data());
  for (int64_t n = 0; n < g.B; ++n) {
    double z = 0;
    for (int mask = 0; mask < (1 << g.H); ++mask) {
      double e = 0;
      for (int64_t i = 0; i < g.V; ++i) e += v[n * g.V + i] * b[i];
      for (int64_t j = 0; j < g.H; ++j) {
        if (!(mask >> j & 1)) continue;
        e += c[j];
        for (int64_t i = 0; i < g.V; ++i) e += v[n * g.V + i] * w[i * g.H + j];
      }
      z += std::exp(e);
    }
    CHECK_CLOSE(f[n], -std::log(z), 1e-12);
  }
}

TEST(free_energy_extreme_inputs_stay_finite) {
  // softplus of ±1000 must neither overflow nor lose the linear part
  const RbmGeom g{1, 1, 2};
  const double v[1] = {1}, w[2] = {1000, -1000}, b[1] = {0}, c[2] = {0, 0};
  double f;
  rbm_free_energy_fast<double>(g, v, w, b, c, &f);
  CHECK(std::isfinite(f));
  CHECK_CLOSE(f, -1000.0, 1e-12);
}

}  // namespace

RUN_ALL_TESTS()
