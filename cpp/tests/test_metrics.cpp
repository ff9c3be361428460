// Streaming-metric kernels: the fast confusion counts (binary search + cumulative sums, OpenMP
// over blocks) against the reference loops on random sizes, with predictions lying exactly on
// thresholds (Keras: only > t is positive), repeated thresholds, empty batches, weights or none,
// float and double, 1 and several threads; a case by hand (Keras's AUC docstring counts); the
// top-k hits both ways with ties; the ops' argument errors.
#include "check.h"
#include "kernels/metrics.h"
#include "pydl/ops.h"
#include "pydl/settings.h"

#include <algorithm>
#include <random>
#include <vector>

using namespace pydl;
using namespace pydl::kernels;

namespace {

// Integer weights (or none) make every partial sum exact, so both kernels must agree bit for
// bit; real weights agree to rounding (the fast one sums per bucket, then across buckets).
template <typename T>
void counts_agree(bool integer_weights, double tol) {
  std::mt19937 rng(7);
  const int64_t sizes[][3] = {{0, 1, 3}, {0, 4, 200}, {1, 1, 1}, {5, 1, 3}, {17, 3, 2}, {100, 1, 200},
                              {3000, 4, 13}, {9000, 2, 50}, {20000, 1, 7}};
  for (auto& s : sizes) {
    const int64_t N = s[0], L = s[1], K = s[2];
    std::vector<double> thr(K);
    std::uniform_real_distribution<double> u(0, 1);
    for (auto& t : thr) t = std::round(u(rng) * 20) / 20;  // repeats likely when K > 20
    thr[0] = -1e-7;
    std::sort(thr.begin(), thr.end());
    std::vector<T> pred(N * L), label(N * L), w(N * L);
    for (int64_t i = 0; i < N * L; ++i) {
      // a third of the values exactly on a threshold, the rest on the 0.05 grid or anywhere
      const double r = u(rng);
      pred[i] = r < 0.33 ? T(thr[rng() % K]) : (r < 0.66 ? T(std::round(u(rng) * 20) / 20) : T(u(rng)));
      label[i] = T(u(rng) < 0.4);
      w[i] = integer_weights ? T(rng() % 4) : T(0.1 + u(rng));
    }
    for (const T* wp : {static_cast<const T*>(nullptr), static_cast<const T*>(w.data())}) {
      std::vector<double> a(4 * K * L, -1), b(4 * K * L, -2), c(4 * K * L, -3);
      confusion_counts_reference<T>(pred.data(), label.data(), wp, N, L, thr.data(), K, a.data());
      settings::set_num_threads(1);
      confusion_counts_fast<T>(pred.data(), label.data(), wp, N, L, thr.data(), K, b.data());
      settings::set_num_threads(2);
      confusion_counts_fast<T>(pred.data(), label.data(), wp, N, L, thr.data(), K, c.data());
      CHECK(b == c);  // the thread count never changes the result
      const bool exact = wp == nullptr || integer_weights;
      for (size_t i = 0; i < a.size(); ++i) {
        if (exact) CHECK(a[i] == b[i]);
        else CHECK_CLOSE(b[i], a[i], tol);
      }
      // each threshold's four counts add up to the total weight of its label
      for (int64_t k = 0; k < K; ++k)
        for (int64_t l = 0; l < L; ++l) {
          double total = 0;
          for (int64_t n = 0; n < N; ++n) total += wp ? double(wp[n * L + l]) : 1.0;
          const double sum = b[k * L + l] + b[(K + k) * L + l] + b[(2 * K + k) * L + l] + b[(3 * K + k) * L + l];
          CHECK_CLOSE(sum, total, 1e-12);
        }
    }
  }
}

Tensor from(const std::vector<double>& v, const Shape& s) {
  Tensor t = Tensor::empty(s, DType::Float64);
  for (size_t i = 0; i < v.size(); ++i) t.data<double>()[i] = v[i];
  return t;
}

}  // namespace

TEST(confusion_counts_fast_matches_reference_float) { counts_agree<float>(false, 1e-12); }
TEST(confusion_counts_fast_matches_reference_double) { counts_agree<double>(false, 1e-12); }
TEST(confusion_counts_exact_with_integer_weights) {
  counts_agree<float>(true, 0);
  counts_agree<double>(true, 0);
}

TEST(confusion_counts_by_hand) {
  // Keras's AUC example: y = [0, 0, 1, 1], p = [0, 0.5, 0.3, 0.9], thresholds [-1e-7, 0.5, 1 + 1e-7]:
  // tp = [2, 1, 0], fp = [2, 0, 0], tn = [0, 2, 2], fn = [0, 1, 2] (0.5 is not above 0.5)
  const double want[4][3] = {{2, 1, 0}, {2, 0, 0}, {0, 2, 2}, {0, 1, 2}};
  for (auto be : {settings::Backend::Reference, settings::Backend::Fast}) {
    settings::set_backend(be);
    Tensor c = ops::confusion_counts(from({0, 0.5, 0.3, 0.9}, {4}), from({0, 0, 1, 1}, {4}), Tensor(),
                                     {-1e-7, 0.5, 1 + 1e-7});
    CHECK(c.shape() == (Shape{4, 3, 1}));
    for (int i = 0; i < 4; ++i)
      for (int k = 0; k < 3; ++k) CHECK(c.data<double>()[i * 3 + k] == want[i][k]);
    // weights [1, 0, 0, 1]: only the first negative and the last positive remain
    Tensor cw = ops::confusion_counts(from({0, 0.5, 0.3, 0.9}, {4}), from({0, 0, 1, 1}, {4}),
                                      from({1, 0, 0, 1}, {4}), {0.5});
    CHECK(cw.data<double>()[0] == 1 && cw.data<double>()[1] == 0 && cw.data<double>()[2] == 1 &&
          cw.data<double>()[3] == 0);
    // an empty batch counts nothing
    Tensor e = ops::confusion_counts(Tensor::zeros({0, 2}, DType::Float64), Tensor::zeros({0, 2}, DType::Float64),
                                     Tensor(), {0.5});
    CHECK(e.shape() == (Shape{4, 1, 2}));
    for (int i = 0; i < 8; ++i) CHECK(e.data<double>()[i] == 0);
  }
  settings::set_backend(settings::Backend::Fast);
}

TEST(top_k_hits_fast_matches_reference_with_ties) {
  std::mt19937 rng(3);
  for (auto [N, C] : {std::pair<int64_t, int64_t>{0, 4}, {1, 1}, {50, 5}, {3000, 17}}) {
    std::vector<double> pred(N * C);
    for (auto& p : pred) p = double(rng() % 4) / 4;  // many ties
    std::vector<int64_t> ids(N);
    for (auto& i : ids) i = int64_t(rng() % C);
    for (int64_t k : {1, 2, 5}) {
      std::vector<double> a(N, -1), b(N, -2);
      top_k_hits_reference<double>(pred.data(), ids.data(), N, C, k, a.data());
      top_k_hits_fast<double>(pred.data(), ids.data(), N, C, k, b.data());
      CHECK(a == b);
    }
  }
  // by hand: row [0.1, 0.5, 0.5, 0.2], true class 2: one class above it -> in the top 2, not the top 1;
  // true class 1 tied with class 2: nothing above -> in the top 1
  Tensor p = from({0.1, 0.5, 0.5, 0.2, 0.1, 0.5, 0.5, 0.2}, {2, 4});
  Tensor h1 = ops::top_k_hits(p, {3, 1}, 1), h2 = ops::top_k_hits(p, {3, 1}, 3);
  CHECK(h1.data<double>()[0] == 0 && h1.data<double>()[1] == 1);
  CHECK(h2.data<double>()[0] == 1 && h2.data<double>()[1] == 1);
}

TEST(ops_reject_bad_arguments) {
  Tensor p = from({0.1, 0.7}, {2}), y = from({0, 1}, {2});
  CHECK_THROWS(ops::confusion_counts(p, y, Tensor(), {0.6, 0.2}), ValueError);  // not ascending
  CHECK_THROWS(ops::confusion_counts(p, from({0, 1, 1}, {3}), Tensor(), {0.5}), ShapeError);
  CHECK_THROWS(ops::confusion_counts(p, y, from({1, 1, 1}, {3}), {0.5}), ShapeError);
  CHECK_THROWS(ops::confusion_counts(Tensor::zeros({2, 1, 1}, DType::Float64), Tensor::zeros({2, 1, 1}, DType::Float64),
                                     Tensor(), {0.5}),
               ShapeError);
  Tensor s = from({0.1, 0.9, 0.3, 0.7}, {2, 2});
  CHECK_THROWS(ops::top_k_hits(s, {0, 2}, 1), ValueError);  // id out of range
  CHECK_THROWS(ops::top_k_hits(s, {0}, 1), ShapeError);
  CHECK_THROWS(ops::top_k_hits(s, {0, 1}, 0), ValueError);
}

RUN_ALL_TESTS()
