// Resampling kernels: upsample2d (nearest, bilinear, align_corners, sizes or scale factors) and
// pad2d (zeros, reflect), fast against reference on random shapes; each backward against its
// forward by the adjoint identity <forward(x), y> = <x, backward(y)>; small cases by hand.
#include "check.h"
#include "kernels/resample.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

using namespace pydl::kernels;

namespace {

std::mt19937 rng(4321);

int64_t pick(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

template <typename T>
std::vector<T> randn(int64_t n) {
  std::normal_distribution<double> d;
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

UpsampleGeom random_up(bool bilinear) {
  UpsampleGeom g{};
  g.planes = pick(1, 6);
  g.H = pick(1, 7);
  g.W = pick(1, 7);
  g.bilinear = bilinear;
  g.align_corners = bilinear && pick(0, 1);
  if (pick(0, 1)) {  // a scale factor (integer or not), the output size floor(in * scale)
    const double choices[] = {1.0, 2.0, 3.0, 1.5, 2.5, 0.5, 1.75};
    g.scale_h = choices[pick(0, 6)];
    g.scale_w = choices[pick(0, 6)];
    g.Ho = std::max<int64_t>(1, int64_t(g.H * g.scale_h));
    g.Wo = std::max<int64_t>(1, int64_t(g.W * g.scale_w));
  } else {  // sizes only
    g.scale_h = g.scale_w = 0;
    g.Ho = pick(1, 15);
    g.Wo = pick(1, 15);
  }
  return g;
}

PadGeom random_pad(bool reflect) {
  PadGeom g{};
  g.planes = pick(1, 6);
  g.H = pick(1, 7);
  g.W = pick(1, 7);
  g.reflect = reflect;
  const int64_t mh = reflect ? g.H - 1 : 4, mw = reflect ? g.W - 1 : 4;
  g.pl = pick(0, mw);
  g.pr = pick(0, mw);
  g.pt = pick(0, mh);
  g.pb = pick(0, mh);
  return g;
}

template <typename T, typename G, typename F, typename B>
void compare(const G& g, int64_t nin, int64_t nout, F fwd_ref, F fwd_fast, B bwd_ref, B bwd_fast, double tol) {
  auto x = randn<T>(nin), gy = randn<T>(nout);
  std::vector<T> y_ref(nout), y_fast(nout, T(7)), gx_ref(nin), gx_fast(nin, T(7));
  fwd_ref(x.data(), g, y_ref.data());
  fwd_fast(x.data(), g, y_fast.data());
  bwd_ref(gy.data(), g, gx_ref.data());
  bwd_fast(gy.data(), g, gx_fast.data());
  CHECK(max_rel_diff(y_fast, y_ref) <= tol);
  CHECK(max_rel_diff(gx_fast, gx_ref) <= tol);
  if (sizeof(T) == 8) {  // the adjoint identity, reference kernels
    double lhs = 0, rhs = 0, scale = 0;
    for (int64_t i = 0; i < nout; ++i) lhs += double(y_ref[i]) * double(gy[i]), scale += std::abs(double(y_ref[i] * gy[i]));
    for (int64_t i = 0; i < nin; ++i) rhs += double(x[i]) * double(gx_ref[i]);
    CHECK_CLOSE(lhs, rhs, 1e-12 * (1.0 + scale));
  }
}

template <typename T>
void upsample_cases(bool bilinear, double tol) {
  for (int t = 0; t < 300; ++t) {
    UpsampleGeom g = random_up(bilinear);
    compare<T>(g, g.planes * g.H * g.W, g.planes * g.Ho * g.Wo, upsample2d_reference<T>, upsample2d_fast<T>,
               upsample2d_backward_reference<T>, upsample2d_backward_fast<T>, tol);
  }
}

template <typename T>
void pad_cases(bool reflect, double tol) {
  for (int t = 0; t < 300; ++t) {
    PadGeom g = random_pad(reflect);
    compare<T>(g, g.planes * g.H * g.W, g.planes * g.Ho() * g.Wo(), pad2d_reference<T>, pad2d_fast<T>,
               pad2d_backward_reference<T>, pad2d_backward_fast<T>, tol);
  }
}

}  // namespace

TEST(upsample_nearest_fast_matches_reference) {
  upsample_cases<double>(false, 0);
  upsample_cases<float>(false, 0);
}

TEST(upsample_bilinear_fast_matches_reference) {
  upsample_cases<double>(true, 1e-12);
  upsample_cases<float>(true, 1e-5);
}

TEST(pad_fast_matches_reference) {
  // zeros: every value copied once, exact; reflect: a pixel's gradient sums up to four
  // outputs, in another order in the fast kernel (interior first, then the mirrored borders)
  pad_cases<double>(false, 0);
  pad_cases<double>(true, 1e-15);
  pad_cases<float>(false, 0);
  pad_cases<float>(true, 1e-6);
}

TEST(large_planes_run_threaded) {
  UpsampleGeom u{64, 16, 16, 32, 32, 2.0, 2.0, true, false};
  compare<double>(u, 64 * 16 * 16, 64 * 32 * 32, upsample2d_reference<double>, upsample2d_fast<double>,
                  upsample2d_backward_reference<double>, upsample2d_backward_fast<double>, 1e-12);
  PadGeom p{64, 20, 20, 3, 2, 1, 4, true};
  compare<double>(p, 64 * 20 * 20, 64 * p.Ho() * p.Wo(), pad2d_reference<double>, pad2d_fast<double>,
                  pad2d_backward_reference<double>, pad2d_backward_fast<double>, 1e-15);
}

TEST(known_values) {
  // nearest x2 of [[1, 2]]: [[1, 1, 2, 2], [1, 1, 2, 2]]
  UpsampleGeom n{1, 1, 2, 2, 4, 2.0, 2.0, false, false};
  std::vector<double> x = {1, 2}, y(8);
  upsample2d_reference<double>(x.data(), n, y.data());
  const double want_n[8] = {1, 1, 2, 2, 1, 1, 2, 2};
  for (int k = 0; k < 8; ++k) CHECK(y[k] == want_n[k]);
  // bilinear x2 of [1, 2] along the width, align_corners=False: sources max((j + 0.5) / 2 - 0.5, 0)
  // = 0, 0.25, 0.75, 1 (clamped to the last pixel): 1, 1.25, 1.75, 2
  UpsampleGeom b{1, 1, 2, 1, 4, 1.0, 2.0, true, false};
  std::vector<double> yb(4);
  upsample2d_reference<double>(x.data(), b, yb.data());
  const double want_b[4] = {1, 1.25, 1.75, 2};
  for (int k = 0; k < 4; ++k) CHECK_CLOSE(yb[k], want_b[k], 1e-15);
  // align_corners=True, width 2 -> 4: sources j / 3: 1, 4/3, 5/3, 2
  b.align_corners = true;
  upsample2d_reference<double>(x.data(), b, yb.data());
  const double want_a[4] = {1, 4.0 / 3, 5.0 / 3, 2};
  for (int k = 0; k < 4; ++k) CHECK_CLOSE(yb[k], want_a[k], 1e-15);
  // reflect-pad [1, 2, 3] by (2, 1): [3, 2, 1, 2, 3, 2]; zeros: [0, 0, 1, 2, 3, 0]
  std::vector<double> r = {1, 2, 3}, yr(6);
  PadGeom pr{1, 1, 3, 2, 1, 0, 0, true};
  pad2d_reference<double>(r.data(), pr, yr.data());
  const double want_r[6] = {3, 2, 1, 2, 3, 2};
  for (int k = 0; k < 6; ++k) CHECK(yr[k] == want_r[k]);
  pr.reflect = false;
  pad2d_fast<double>(r.data(), pr, yr.data());
  const double want_z[6] = {0, 0, 1, 2, 3, 0};
  for (int k = 0; k < 6; ++k) CHECK(yr[k] == want_z[k]);
}

RUN_ALL_TESTS()
