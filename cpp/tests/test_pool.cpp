// Pooling: fast against reference (forward and backward) on random geometries, max pool's
// backward routing each gradient to the first maximum of its window (ties, -inf, NaN), and the
// bad-argument errors.
#include <cmath>
#include <cstdio>
#include <limits>

#include "check.h"
#include "pydl/autograd.h"
#include "pydl/ops.h"
#include "pydl/settings.h"
#include "strided_fixture.h"
#include "kernels/pool.h"

using namespace pydl;
using namespace pydl_test;

template <typename T>
static Tensor from_values(const Shape& s, const std::vector<double>& v) {
  Tensor t = Tensor::empty(s, std::is_same<T, float>::value ? DType::Float32 : DType::Float64);
  for (size_t i = 0; i < v.size(); ++i) t.data<T>()[i] = static_cast<T>(v[i]);
  return t;
}

struct PoolCase {
  Shape x;
  ops::Pool2d p;
};

// A random valid geometry: pads at most half the (dilated) kernel, kernel inside the padded input.
static PoolCase random_case(bool allow_dilation, bool big) {
  for (;;) {
    PoolCase c;
    c.p.kh = randint(1, 4);
    c.p.kw = randint(1, 4);
    c.p.sh = randint(1, 3);
    c.p.sw = randint(1, 3);
    c.p.dh = allow_dilation ? randint(1, 2) : 1;
    c.p.dw = allow_dilation ? randint(1, 2) : 1;
    const int64_t keh = (c.p.kh - 1) * c.p.dh + 1, kew = (c.p.kw - 1) * c.p.dw + 1;
    c.p.pad_top = randint(0, keh / 2);
    c.p.pad_bottom = randint(0, keh / 2);
    c.p.pad_left = randint(0, kew / 2);
    c.p.pad_right = randint(0, kew / 2);
    c.p.ceil_mode = randint(0, 1) == 1;
    c.x = big ? Shape{randint(2, 4), randint(8, 16), randint(20, 40), randint(20, 40)}
              : Shape{randint(1, 3), randint(1, 3), randint(1, 9), randint(1, 9)};
    if (keh <= c.x[2] + c.p.pad_top + c.p.pad_bottom && kew <= c.x[3] + c.p.pad_left + c.p.pad_right) return c;
  }
}

// Forward and gradient of `fn` under one backend, for a given output gradient.
struct Result { std::vector<double> y, gx; };

template <typename T, typename F>
static Result run(const char* backend, const Tensor& x_in, const std::vector<double>& gy_values, F fn) {
  settings::set_backend(backend);
  Tensor x = x_in.detach();
  x.set_requires_grad(true);
  Tensor y = fn(x);
  Tensor gy = from_values<T>(y.shape(), gy_values);
  backward({y}, {gy}, false);
  Result r;
  for (int64_t i = 0; i < y.numel(); ++i) r.y.push_back(double(y.data<T>()[i]));
  for (int64_t i = 0; i < x.numel(); ++i) r.gx.push_back(double(x.grad().data<T>()[i]));
  settings::set_backend("fast");
  return r;
}

static bool same(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

// Both backends add the same terms in the same order, so they agree exactly.
template <typename T>
static void compare_backends(bool is_max) {
  for (int t = 0; t < 60; ++t) {
    PoolCase c = random_case(is_max, t % 10 == 0);
    std::vector<double> xv(numel_of(c.x));
    // Small integers: many ties, which both backends must break the same way.
    for (auto& v : xv) v = is_max && t % 2 ? double(randint(-3, 3)) : uniform(-2, 2);
    Tensor x = from_values<T>(c.x, xv);
    auto fn = [&](const Tensor& xx) { return is_max ? ops::max_pool2d(xx, c.p) : ops::avg_pool2d(xx, c.p, t % 3 != 0); };
    Tensor probe = fn(x);
    std::vector<double> gy(probe.numel());
    for (auto& v : gy) v = uniform(-1, 1);
    Result ref = run<T>("reference", x, gy, fn), fast = run<T>("fast", x, gy, fn);
    // probe ran on the fast backend without a gradient (max pool keeps no argmax then)
    std::vector<double> plain;
    for (int64_t i = 0; i < probe.numel(); ++i) plain.push_back(double(probe.data<T>()[i]));
    const bool ok = same(ref.y, fast.y) && same(ref.gx, fast.gx) && same(plain, fast.y);
    if (!ok)
      std::printf("  %s x %s k (%lld, %lld) s (%lld, %lld) pads (%lld %lld %lld %lld) d (%lld, %lld) ceil %d\n",
                  is_max ? "max" : "avg", shape_str(c.x).c_str(), (long long)c.p.kh, (long long)c.p.kw,
                  (long long)c.p.sh, (long long)c.p.sw, (long long)c.p.pad_top, (long long)c.p.pad_bottom,
                  (long long)c.p.pad_left, (long long)c.p.pad_right, (long long)c.p.dh, (long long)c.p.dw,
                  int(c.p.ceil_mode));
    CHECK(ok);
  }
}

TEST(max_pool_fast_matches_reference) {
  compare_backends<float>(true);
  compare_backends<double>(true);
}

TEST(avg_pool_fast_matches_reference) {
  compare_backends<float>(false);
  compare_backends<double>(false);
}

// The test's own argmax: the first position in scan order whose value is the window's maximum,
// a NaN counting as the maximum (PyTorch takes the last NaN of a window; these windows hold one).
static void expected_max_grad(const PoolCase& c, const std::vector<double>& xv, const std::vector<double>& gy,
                              int64_t OH, int64_t OW, std::vector<double>& y, std::vector<double>& gx) {
  const int64_t planes = c.x[0] * c.x[1], H = c.x[2], W = c.x[3];
  gx.assign(xv.size(), 0.0);
  y.assign(static_cast<size_t>(planes * OH * OW), 0.0);
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t i = 0; i < OH; ++i)
      for (int64_t j = 0; j < OW; ++j) {
        int64_t best = -1;
        for (int64_t a = 0; a < c.p.kh; ++a)
          for (int64_t b = 0; b < c.p.kw; ++b) {
            const int64_t h = i * c.p.sh - c.p.pad_top + a * c.p.dh, w = j * c.p.sw - c.p.pad_left + b * c.p.dw;
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            const int64_t k = (p * H + h) * W + w;
            if (best < 0) { best = k; continue; }
            const double v = xv[k], m = xv[best];
            if (std::isnan(m)) continue;
            if (std::isnan(v) || v > m) best = k;
          }
        y[(p * OH + i) * OW + j] = xv[best];
        gx[best] += gy[(p * OH + i) * OW + j];
      }
}

template <typename T>
static void max_routes_to_argmax(const char* backend) {
  for (int t = 0; t < 40; ++t) {
    PoolCase c = random_case(true, false);
    std::vector<double> xv(numel_of(c.x));
    for (auto& v : xv) v = double(randint(-2, 2));                    // ties everywhere
    if (t % 4 == 1) xv[randint(0, xv.size() - 1)] = std::nan("");     // one NaN
    if (t % 4 == 2) for (auto& v : xv) v = -std::numeric_limits<double>::infinity();
    Tensor x = from_values<T>(c.x, xv);
    Tensor probe = ops::max_pool2d(x, c.p);
    std::vector<double> gy(probe.numel());
    for (auto& v : gy) v = double(randint(1, 9));  // integers: sums exact in float32
    std::vector<double> ey, egx;
    expected_max_grad(c, xv, gy, probe.shape()[2], probe.shape()[3], ey, egx);
    Result r = run<T>(backend, x, gy, [&](const Tensor& xx) { return ops::max_pool2d(xx, c.p); });
    CHECK(same(r.y, ey));
    CHECK(same(r.gx, egx));
  }
}

TEST(max_pool_backward_routes_to_the_first_maximum) {
  for (const char* b : {"reference", "fast"}) {
    max_routes_to_argmax<float>(b);
    max_routes_to_argmax<double>(b);
  }
}

// The fast 2x2 / stride-2 path (the course's MaxPooling2D(2)) against the reference loop, on
// odd and even sizes (the last row / column of an odd input dropped), with ties, windows
// holding several NaNs (the reference takes the last), -inf, and with and without argmax.
template <typename T>
static void max_pool_2x2_case(int64_t planes, int64_t H, int64_t W, int fill) {
  kernels::PoolGeom g{planes, H, W, H / 2, W / 2, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1};
  std::vector<T> x(static_cast<size_t>(planes * H * W));
  for (auto& v : x) {
    const int64_t r = randint(0, 9);
    v = T(randint(-2, 2));  // ties everywhere
    if (fill == 1 && r < 3) v = std::numeric_limits<T>::quiet_NaN();
    if (fill == 2 && r < 5) v = -std::numeric_limits<T>::infinity();
  }
  const size_t n = static_cast<size_t>(planes * g.OH * g.OW);
  std::vector<T> y_ref(n), y_fast(n, T(7)), y_noarg(n, T(7));
  std::vector<int64_t> a_ref(n), a_fast(n, -7);
  kernels::max_pool2d_reference<T>(x.data(), g, y_ref.data(), a_ref.data());
  kernels::max_pool2d_fast<T>(x.data(), g, y_fast.data(), a_fast.data());
  kernels::max_pool2d_fast<T>(x.data(), g, y_noarg.data(), nullptr);
  bool ok = true;
  for (size_t i = 0; i < n; ++i) {
    const bool same_y = y_ref[i] == y_fast[i] || (std::isnan(y_ref[i]) && std::isnan(y_fast[i]));
    const bool same_noarg = y_ref[i] == y_noarg[i] || (std::isnan(y_ref[i]) && std::isnan(y_noarg[i]));
    ok = ok && same_y && same_noarg && a_ref[i] == a_fast[i];
  }
  if (!ok) std::printf("  planes=%ld H=%ld W=%ld fill=%d\n", long(planes), long(H), long(W), fill);
  CHECK(ok);
}

TEST(max_pool_2x2_fast_path_matches_reference) {
  for (int fill = 0; fill < 3; ++fill)
    for (int64_t H : {2, 5, 26})
      for (int64_t W : {3, 4, 26, 37}) {
        max_pool_2x2_case<float>(3, H, W, fill);
        max_pool_2x2_case<double>(2, H, W, fill);
      }
  max_pool_2x2_case<float>(64, 26, 26, 1);  // big enough for the threads
}

TEST(two_backwards_double_the_gradient) {
  Tensor x = from_values<double>({1, 1, 2, 2}, {1, 4, 3, 2});
  x.set_requires_grad(true);
  ops::Pool2d p;
  p.kh = p.kw = p.sh = p.sw = 2;
  Tensor y = ops::max_pool2d(x, p);
  backward({y}, {from_values<double>({1, 1, 1, 1}, {1})}, true);
  backward({y}, {from_values<double>({1, 1, 1, 1}, {1})}, false);
  CHECK(x.grad().data<double>()[1] == 2.0 && x.grad().data<double>()[0] == 0.0);
}

TEST(bad_arguments_raise) {
  Tensor x = from_values<float>({1, 1, 4, 4}, std::vector<double>(16, 1.0));
  ops::Pool2d p;
  p.kh = p.kw = p.sh = p.sw = 2;
  CHECK_THROWS(ops::max_pool2d(from_values<float>({4, 4}, std::vector<double>(16, 1.0)), p), ShapeError);
  ops::Pool2d big = p;
  big.kh = 5;
  CHECK_THROWS(ops::max_pool2d(x, big), ShapeError);
  ops::Pool2d pad = p;
  pad.pad_left = 2;
  CHECK_THROWS(ops::avg_pool2d(x, pad, true), ValueError);
  ops::Pool2d stride = p;
  stride.sw = 0;
  CHECK_THROWS(ops::max_pool2d(x, stride), ValueError);
  ops::Pool2d dil = p;
  dil.dh = 2;
  CHECK_THROWS(ops::avg_pool2d(x, dil, true), ValueError);
  CHECK_THROWS(ops::global_max_pool2d(from_values<float>({1, 1, 0, 3}, {}), false), ShapeError);
}

RUN_ALL_TESTS()
