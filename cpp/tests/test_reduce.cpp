// Reductions and softmax: fast against reference on random (outer, r, inner) layouts, the
// long-run and wide-row paths, and results that do not depend on the thread count.
#include <cstdio>

#include "check.h"
#include "kernels/kernels.h"
#include "pydl/ops.h"
#include "pydl/settings.h"
#include "strided_fixture.h"

using namespace pydl;
using namespace pydl::kernels;
using namespace pydl_test;

struct Dims { int64_t outer, r, inner; };

static std::vector<Dims> cases() {
  std::vector<Dims> c = {{1, 1, 1}, {1, 7, 1}, {3, 1, 5}, {1, 40000, 1}, {1, 100000, 1}, {5, 33000, 1},
                         {2, 3, 3000}, {70, 500, 1}, {3, 200, 1500}, {1000, 40, 1}, {4, 9, 17}};
  for (int i = 0; i < 20; ++i) c.push_back({randint(1, 9), randint(1, 9), randint(1, 9)});
  return c;
}

template <typename T>
static std::vector<T> random_values(int64_t n, double lo = -2.0, double hi = 2.0) {
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<T>(uniform(lo, hi));
  return v;
}

template <typename T>
static void reduce_case(Reduce op) {
  for (Dims d : cases()) {
    auto x = random_values<T>(d.outer * d.r * d.inner);
    std::vector<T> fast(d.outer * d.inner, T(-99)), ref(d.outer * d.inner, T(-99));
    reduce_fast<T>(op, x.data(), d.outer, d.r, d.inner, fast.data());
    reduce_reference<T>(op, x.data(), d.outer, d.r, d.inner, ref.data());
    // Max/Min are exact. A sum's rounding depends on its order: allow 4 u sqrt(r) sum|x|
    // (u the unit roundoff), the typical size of the difference between two orders.
    const double u = sizeof(T) == 4 ? 6e-8 : 1.2e-16;
    int bad = 0;
    for (int64_t o = 0; o < d.outer; ++o)
      for (int64_t j = 0; j < d.inner; ++j) {
        const size_t i = static_cast<size_t>(o * d.inner + j);
        double mag = 0;
        for (int64_t k = 0; k < d.r; ++k) mag += std::fabs(double(x[(o * d.r + k) * d.inner + j]));
        const double allowed = op == Reduce::Sum ? 4 * u * std::sqrt(double(d.r)) * mag : 0.0;
        if (!(std::fabs(double(fast[i]) - double(ref[i])) <= allowed) && bad++ < 3)
          std::printf("  reduce %d (%lld, %lld, %lld)[%zu]: fast %.9g ref %.9g\n", static_cast<int>(op),
                      (long long)d.outer, (long long)d.r, (long long)d.inner, i, double(fast[i]), double(ref[i]));
      }
    CHECK(bad == 0);
  }
}

TEST(reduce_fast_matches_reference) {
  for (Reduce op : {Reduce::Sum, Reduce::Max, Reduce::Min}) {
    reduce_case<float>(op);
    reduce_case<double>(op);
  }
}

TEST(reduce_reference_by_hand) {
  // x (2, 3, 2): sum over the middle axis
  const double x[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  double out[4];
  reduce_reference<double>(Reduce::Sum, x, 2, 3, 2, out);
  CHECK(out[0] == 0 + 2 + 4 && out[1] == 1 + 3 + 5 && out[2] == 6 + 8 + 10 && out[3] == 7 + 9 + 11);
  reduce_reference<double>(Reduce::Max, x, 2, 3, 2, out);
  CHECK(out[0] == 4 && out[3] == 11);
  reduce_reference<double>(Reduce::Min, x, 1, 12, 1, out);
  CHECK(out[0] == 0);
}

TEST(reduce_propagates_nan) {
  for (int64_t r : {5, 40000}) {
    std::vector<double> x(r, 1.0);
    x[r / 2] = NAN;
    double f, g;
    reduce_fast<double>(Reduce::Max, x.data(), 1, r, 1, &f);
    reduce_reference<double>(Reduce::Max, x.data(), 1, r, 1, &g);
    CHECK(std::isnan(f) && std::isnan(g));
  }
}

template <typename T>
static void softmax_case(bool log) {
  for (Dims d : cases()) {
    if (d.outer * d.r * d.inner > 300000) continue;
    const int64_t n = d.outer * d.r * d.inner;
    auto x = random_values<T>(n, -20.0, 20.0);
    auto g = random_values<T>(n);
    std::vector<T> yf(n), yr(n), df(n), dr(n);
    softmax_fast<T>(x.data(), d.outer, d.r, d.inner, yf.data(), log);
    softmax_reference<T>(x.data(), d.outer, d.r, d.inner, yr.data(), log);
    softmax_backward_fast<T>(g.data(), yr.data(), d.outer, d.r, d.inner, df.data(), log);
    softmax_backward_reference<T>(g.data(), yr.data(), d.outer, d.r, d.inner, dr.data(), log);
    const double t = (sizeof(T) == 4 ? 1e-5 : 1e-12) * std::sqrt(double(d.r));
    int bad = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (!close(yf[i], yr[i], t) || !close(df[i], dr[i], t)) {
        if (bad++ < 3)
          std::printf("  softmax log=%d (%lld, %lld, %lld)[%lld]: y %.9g/%.9g dx %.9g/%.9g\n", log,
                      (long long)d.outer, (long long)d.r, (long long)d.inner, (long long)i, double(yf[i]),
                      double(yr[i]), double(df[i]), double(dr[i]));
      }
    }
    CHECK(bad == 0);
  }
}

TEST(softmax_fast_matches_reference) {
  for (bool log : {false, true}) {
    softmax_case<float>(log);
    softmax_case<double>(log);
  }
}

TEST(softmax_stable_on_huge_inputs) {
  // rows of huge equal values: softmax 1/3 each, log_softmax -log 3, in both kernels
  for (double big : {1e30, -1e30, 3e38}) {
    const float xf[3] = {float(big), float(big), float(big)};
    const double xd[3] = {big, big, big};
    float yf[3];
    double yd[3];
    for (bool log : {false, true}) {
      const double want = log ? -std::log(3.0) : 1.0 / 3.0;
      softmax_fast<float>(xf, 1, 3, 1, yf, log);
      for (float v : yf) CHECK_CLOSE(v, want, 1e-6);
      softmax_reference<float>(xf, 1, 3, 1, yf, log);
      for (float v : yf) CHECK_CLOSE(v, want, 1e-6);
      softmax_fast<double>(xd, 1, 3, 1, yd, log);
      for (double v : yd) CHECK_CLOSE(v, want, 1e-14);
      softmax_fast<double>(xd, 3, 1, 1, yd, log);  // n = 1: each is its own row
      for (double v : yd) CHECK_CLOSE(v, log ? 0.0 : 1.0, 1e-14);
      // the same along a strided axis (inner > 1)
      softmax_fast<double>(xd, 1, 3, 1, yd, log);
      double ydi[3];
      softmax_fast<double>(xd, 1, 1, 3, ydi, log);
      for (double v : ydi) CHECK_CLOSE(v, log ? 0.0 : 1.0, 1e-14);
    }
  }
}

TEST(softmax_strided_axis_huge_inputs) {
  // (outer=1, n=3, inner=2): column 0 huge equal values, column 1 ordinary
  const double x[6] = {-1e30, 0.0, -1e30, 1.0, -1e30, 2.0};
  double yf[6], yr[6];
  softmax_fast<double>(x, 1, 3, 2, yf, true);
  softmax_reference<double>(x, 1, 3, 2, yr, true);
  for (int i = 0; i < 6; i += 2) {
    CHECK_CLOSE(yf[i], -std::log(3.0), 1e-14);
    CHECK_CLOSE(yr[i], -std::log(3.0), 1e-14);
  }
  const double lse = std::log(std::exp(0.0) + std::exp(1.0) + std::exp(2.0));
  for (int i = 1; i < 6; i += 2) CHECK_CLOSE(yf[i], x[i] - lse, 1e-14);
}

// Same inputs, 1 vs 2 vs 3 threads: bit-identical results from every fast kernel.
TEST(fast_kernels_do_not_depend_on_thread_count) {
  const int64_t n = 3 * 70000;
  auto x = random_values<float>(n);
  auto y = random_values<float>(n);
  std::vector<std::vector<float>> sums, rows, cols, soft, bins;
  for (int threads : {1, 2, 3}) {
    settings::set_num_threads(threads);
    std::vector<float> s(1), r(3), c(70000), sm(n), b(n);
    reduce_fast<float>(Reduce::Sum, x.data(), 1, n, 1, s.data());
    reduce_fast<float>(Reduce::Sum, x.data(), 3, 70000, 1, r.data());
    reduce_fast<float>(Reduce::Sum, x.data(), 1, 3, 70000, c.data());
    softmax_fast<float>(x.data(), 3, 70000, 1, sm.data(), true);
    binary_fast<float>(Binary::Mul, {}, {3, 70000}, x.data(), {70000, 1}, y.data(), {70000, 1}, b.data(), {70000, 1});
    sums.push_back(s);
    rows.push_back(r);
    cols.push_back(c);
    soft.push_back(sm);
    bins.push_back(b);
  }
  settings::set_num_threads(1);
  for (int k = 1; k < 3; ++k) {
    CHECK(sums[k] == sums[0]);
    CHECK(rows[k] == rows[0]);
    CHECK(cols[k] == cols[0]);
    CHECK(soft[k] == soft[0]);
    CHECK(bins[k] == bins[0]);
  }
}

// Through the op layer: sum over non-adjacent axes of a permuted view, both backends.
TEST(op_layer_reduce_backends_agree) {
  Tensor x = Tensor::empty({6, 5, 4}, DType::Float64);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<double>()[i] = std::cos(0.1 * i);
  Tensor v = ops::permute(x, {2, 0, 1});
  settings::set_backend(settings::Backend::Reference);
  Tensor r = ops::sum(v, {0, 2}), m = ops::max(v, {1}, true);
  settings::set_backend(settings::Backend::Fast);
  Tensor f = ops::sum(v, {0, 2}), mf = ops::max(v, {1}, true);
  CHECK(r.shape() == Shape({6}) && m.shape() == Shape({4, 1, 5}));
  for (int64_t i = 0; i < 6; ++i) {
    double want = 0;
    for (int64_t a = 0; a < 4; ++a)
      for (int64_t b = 0; b < 5; ++b) want += x.at({i, b, a});
    CHECK_CLOSE(r.at({i}), want, 1e-13);
    CHECK_CLOSE(f.at({i}), want, 1e-13);
  }
  for (int64_t a = 0; a < 4; ++a)
    for (int64_t b = 0; b < 5; ++b) CHECK(m.at({a, 0, b}) == mf.at({a, 0, b}));
}

// Issue 7: float32 sums accumulate in double in both kernels. A float accumulator stops counting
// at 2^24 (2^24 + 1 rounds back to 2^24), so 2^25 ones summed to 2^24 on the reference.
TEST(float_sums_are_exact_past_2_to_the_24) {
  const int64_t n = int64_t(1) << 25;
  std::vector<float> ones(static_cast<size_t>(n), 1.0f);
  for (int fast = 0; fast < 2; ++fast) {
    float all = -1, cols[2] = {-1, -1};
    if (fast) {
      reduce_fast<float>(Reduce::Sum, ones.data(), 1, n, 1, &all);
      reduce_fast<float>(Reduce::Sum, ones.data(), 1, n / 2, 2, cols);  // the inner > 1 path
    } else {
      reduce_reference<float>(Reduce::Sum, ones.data(), 1, n, 1, &all);
      reduce_reference<float>(Reduce::Sum, ones.data(), 1, n / 2, 2, cols);
    }
    std::printf("  %s: sum of 2^25 ones = %.9g, columns %.9g %.9g\n", fast ? "fast" : "reference", all, cols[0], cols[1]);
    CHECK(all == float(n));
    CHECK(cols[0] == float(n / 2) && cols[1] == float(n / 2));
  }
}

// Data with a large mean (1e4 + noise): the float sum must match the double sum of the same
// float values to float precision (a float accumulator drifts by many ulps here).
TEST(float_sums_of_large_mean_data_match_double) {
  const int64_t n = 3000000;
  std::vector<float> x(static_cast<size_t>(n));
  double want = 0;
  for (auto& v : x) { v = static_cast<float>(1e4 + uniform(-1.0, 1.0)); want += v; }
  float ref = 0, fast = 0;
  reduce_reference<float>(Reduce::Sum, x.data(), 1, n, 1, &ref);
  reduce_fast<float>(Reduce::Sum, x.data(), 1, n, 1, &fast);
  std::printf("  sum: double %.17g, reference %.9g, fast %.9g\n", want, ref, fast);
  CHECK(std::fabs(ref - want) <= 6e-8 * want);  // one float rounding of the exact sum
  CHECK(std::fabs(fast - want) <= 6e-8 * want);
}

RUN_ALL_TESTS()
