// gemm_fast against gemm_reference on many shapes: 0/1 sizes, primes, ragged edges of the
// register tile, transposes, padded leading dimensions, alpha/beta combinations, and beta = 0
// over NaN-filled C. Plus: the result must not depend on the thread count (bit-identical).
#include "check.h"
#include "kernels/kernels.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <limits>
#include <random>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

using pydl::kernels::gemm_fast;
using pydl::kernels::gemm_reference;

namespace {

struct Shape { int64_t M, N, K; };

template <typename T>
struct Problem {
  bool ta, tb;
  int64_t M, N, K, lda, ldb, ldc;
  T alpha, beta;
  std::vector<T> A, B, C;
};

template <typename T>
Problem<T> make_problem(std::mt19937& rng, bool ta, bool tb, Shape s, int64_t pad, T alpha, T beta,
                        bool nan_c) {
  Problem<T> p{ta, tb, s.M, s.N, s.K, 0, 0, 0, alpha, beta, {}, {}, {}};
  // Stored shapes: A is (M, K) or (K, M); B is (K, N) or (N, K); leading dims padded by `pad`.
  const int64_t a_rows = ta ? s.K : s.M, a_cols = ta ? s.M : s.K;
  const int64_t b_rows = tb ? s.N : s.K, b_cols = tb ? s.K : s.N;
  p.lda = a_cols + pad;
  p.ldb = b_cols + pad;
  p.ldc = s.N + pad;
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  p.A.resize(a_rows * p.lda + 1);
  p.B.resize(b_rows * p.ldb + 1);
  p.C.resize(s.M * p.ldc + 1);
  for (auto& x : p.A) x = T(u(rng));
  for (auto& x : p.B) x = T(u(rng));
  for (auto& x : p.C) x = nan_c ? std::numeric_limits<T>::quiet_NaN() : T(u(rng));
  return p;
}

template <typename T>
void run_fast(Problem<T>& p, std::vector<T>& C) {
  C = p.C;
  gemm_fast<T>(p.ta, p.tb, p.M, p.N, p.K, p.alpha, p.A.data(), p.lda, p.B.data(), p.ldb, p.beta,
               C.data(), p.ldc);
}

// Compare fast vs reference; padding columns of C (j >= N) must be left untouched.
template <typename T>
bool compare(Problem<T>& p, const char* what) {
  std::vector<T> ref = p.C, fast;
  gemm_reference<T>(p.ta, p.tb, p.M, p.N, p.K, p.alpha, p.A.data(), p.lda, p.B.data(), p.ldb,
                    p.beta, ref.data(), p.ldc);
  run_fast(p, fast);
  // Rounding error of a K-term dot product of O(1) terms grows ~ K * eps in the worst case.
  const double eps = std::numeric_limits<T>::epsilon();
  const double tol = 8.0 * eps * double(p.K + 4);
  for (int64_t i = 0; i < p.M; ++i)
    for (int64_t j = 0; j < p.ldc; ++j) {
      const int64_t idx = i * p.ldc + j;
      const double r = ref[idx], f = fast[idx];
      bool ok;
      if (j >= p.N) ok = (std::isnan(r) && std::isnan(f)) || r == f;  // padding untouched
      else ok = std::isfinite(f) && std::fabs(f - r) <= tol * (1.0 + std::fabs(r));
      if (!ok) {
        std::printf("  %s mismatch ta=%d tb=%d M=%lld N=%lld K=%lld alpha=%g beta=%g at (%lld,%lld): "
                    "%.9g vs ref %.9g\n", what, p.ta, p.tb, (long long)p.M, (long long)p.N,
                    (long long)p.K, double(p.alpha), double(p.beta), (long long)i, (long long)j, f, r);
        return false;
      }
    }
  return true;
}

const std::vector<Shape>& shapes() {
  static const std::vector<Shape> s = {
      {0, 0, 0},    {0, 5, 3},    {5, 0, 3},    {5, 3, 0},    {1, 1, 1},     {1, 1, 7},
      {1, 7, 1},    {7, 1, 1},    {1, 33, 17},  {33, 1, 17},  {2, 3, 4},     {4, 64, 64},
      {3, 100, 50}, {5, 5, 5},    {10, 10, 10}, {6, 32, 8},   {12, 64, 256}, {13, 33, 257},
      {37, 53, 71}, {64, 64, 64}, {7, 129, 31}, {129, 7, 31}, {97, 101, 103}, {100, 17, 300},
      {200, 150, 600}, {20, 2100, 40}, {31, 300, 9}, {256, 256, 1}, {1, 1, 1000}, {5, 1000, 3}, {150, 70, 513},
      // the unpacked path (M <= 1024, K <= 1024, row-major B): ragged last column block of 1..4
      // vectors, row remainders, its bounds; and just past them (the packed path)
      {5, 100, 33}, {9, 177, 50}, {11, 65, 1024}, {1024, 200, 70}, {1030, 70, 40}, {60, 130, 1100},
  };
  return s;
}

// The row-panel paths of gemm_fast and their boundaries (small N: N <= 2 vectors, i.e. 8 / 16 /
// 32 columns depending on type and SIMD path, rows in blocks of 8 then 4, 2, 1; small M: M <= 4,
// column blocks of 16 / 32 / 64 with a masked ragged block; transposed B with K < 32 copied for
// the row kernel, K >= 32 through dot products). Run under PYDL_SIMD=avx2 / generic too.
const std::vector<Shape>& narrow_shapes() {
  static const std::vector<Shape> s = {
      // small N: N across 8/9, 16/17, 32/33; M across the 8/4/2/1 row blocks; short and long K
      {100, 16, 500}, {100, 10, 500}, {32, 10, 500}, {500, 10, 4}, {500, 10, 32}, {256, 10, 10},
      {15, 8, 33},    {15, 9, 33},    {23, 15, 17},  {23, 17, 17}, {13, 31, 64},  {13, 32, 64},
      {13, 33, 64},   {1, 32, 100},   {2, 9, 3},     {3, 1, 700},  {7, 2, 1},     {9, 24, 2},
      {785, 12, 40},  {64, 30, 1},
      // small M: M = 1..4 across column blocks (16 / 32 / 64 wide) and ragged tails; K across 32
      {4, 500, 784},  {4, 500, 10},   {4, 784, 500}, {1, 33, 5},   {2, 47, 31},   {3, 64, 32},
      {4, 65, 33},    {1, 100, 1},    {2, 129, 300}, {3, 200, 9},  {4, 1000, 17}, {3, 48, 64},
      // just past the paths: M = 5 and N = 33 / 65 go to the packed kernel
      {5, 33, 40},    {5, 65, 12},    {6, 34, 7},
      // packed path, ragged tiles: every row remainder mod 6 / 4 and column remainders mod 64 /
      // 24 / 16 (edge kernels: only the valid rows and vectors, masked last vector)
      {23, 81, 19},   {32, 500, 40},  {9, 113, 7},   {10, 96, 5},  {11, 49, 33},  {7, 200, 600},
  };
  return s;
}

template <typename T>
void sweep_shapes(const char* what, const std::vector<Shape>& list, unsigned seed, const int64_t* pads,
                  int npads) {
  std::mt19937 rng(seed);
  const T alphas[] = {T(1), T(-0.5), T(2)};
  const T betas[] = {T(0), T(1), T(-1.5)};
  int failed = 0, cases = 0;
  for (const Shape& s : list)
    for (int t = 0; t < 4; ++t)
      for (int ip = 0; ip < npads; ++ip)
        for (int ab = 0; ab < 3; ++ab) {
          const int64_t pad = pads[ip];
          const bool ta = t & 1, tb = t & 2;
          const T alpha = alphas[ab], beta = betas[(ab + ip) % 3];
          auto p = make_problem<T>(rng, ta, tb, s, pad, alpha, beta, false);
          ++cases;
          if (!compare(p, what)) ++failed;
        }
  if (failed) std::printf("  %s: %d of %d cases failed\n", what, failed, cases);
  CHECK(failed == 0);
}

template <typename T>
void sweep_narrow(const char* what) {
  const int64_t pads[] = {0, 1, 17};  // lda/ldb/ldc padding, including odd (unaligned rows)
  sweep_shapes<T>(what, narrow_shapes(), 4321, pads, 3);
}

template <typename T>
void sweep(const char* what) {
  std::mt19937 rng(1234);
  const T alphas[] = {T(1), T(-0.5), T(2)};
  const T betas[] = {T(0), T(1), T(-1.5)};
  int failed = 0, cases = 0;
  for (const Shape& s : shapes())
    for (int t = 0; t < 4; ++t)
      for (int64_t pad : {int64_t(0), int64_t(3)})
        for (int ab = 0; ab < 3; ++ab) {
          const bool ta = t & 1, tb = t & 2;
          const T alpha = alphas[ab], beta = betas[(ab + int(pad)) % 3];
          auto p = make_problem<T>(rng, ta, tb, s, pad, alpha, beta, false);
          ++cases;
          if (!compare(p, what)) ++failed;
        }
  if (failed) std::printf("  %s: %d of %d cases failed\n", what, failed, cases);
  CHECK(failed == 0);
}

template <typename T>
void nan_beta0(const char* what) {
  // beta == 0 must overwrite C without reading it: NaN in C must not leak into the result.
  std::mt19937 rng(99);
  int failed = 0;
  std::vector<Shape> all = shapes();
  all.insert(all.end(), narrow_shapes().begin(), narrow_shapes().end());
  for (const Shape& s : all)
    for (int t = 0; t < 4; ++t) {
      auto p = make_problem<T>(rng, t & 1, t & 2, s, 2, T(1.5), T(0), true);
      if (!compare(p, what)) ++failed;
    }
  CHECK(failed == 0);
}

template <typename T>
void determinism() {
#ifdef _OPENMP
  const int saved = omp_get_max_threads();
  std::mt19937 rng(7);
  const Shape cases[] = {{300, 257, 1100}, {517, 389, 300}, {64, 1000, 600}, {3, 3000, 700},
                         {1000, 13, 500}, {1000, 10, 256}, {777, 32, 64}, {700, 16, 9},
                         {4, 3000, 10},   {3, 2500, 300},  {1, 4000, 50},
                         // short and wide (the column split): an MLP layer, ragged last sliver
                         {100, 500, 784}, {90, 333, 513},  {41, 200, 700}};
  for (const Shape& s : cases)
    for (int t = 0; t < 4; ++t) {
      auto p = make_problem<T>(rng, t & 1, t & 2, s, 1, T(0.75), T(0.5), false);
      std::vector<T> c1, c2;
      omp_set_num_threads(1);
      run_fast(p, c1);
      omp_set_num_threads(2);
      run_fast(p, c2);
      omp_set_num_threads(3);  // more threads than cores, odd split
      std::vector<T> c3;
      run_fast(p, c3);
      bool same = true;
      for (size_t i = 0; i < c1.size(); ++i)
        if (std::memcmp(&c1[i], &c2[i], sizeof(T)) != 0 || std::memcmp(&c1[i], &c3[i], sizeof(T)) != 0)
          same = false;
      if (!same)
        std::printf("  thread-count dependence at M=%lld N=%lld K=%lld ta=%d tb=%d\n",
                    (long long)s.M, (long long)s.N, (long long)s.K, t & 1, (t & 2) >> 1);
      CHECK(same);
      CHECK(compare(p, "determinism"));
    }
  omp_set_num_threads(saved);
#endif
}

}  // namespace

// gemm_panel_serial (the recurrent kernels' per-step products against a weight panel): M across
// the 8 / 4 / 2 / 1 row blocks, N from 1 to past 3 vectors (the fallback to gemm_fast_serial),
// padded leading dimensions, beta 0 (C may hold NaN) and 1, against the reference.
template <typename T>
void panel_matches_reference(const char* what) {
  std::mt19937 rng(77);
  const int64_t W = 64 / int64_t(sizeof(T));
  int bad = 0;
  for (int64_t M : {1, 2, 3, 5, 8, 15, 16, 32, 37})
    for (int64_t N : {int64_t(1), W - 1, W, W + 3, 2 * W, 3 * W - 5, 3 * W, 3 * W + 1})
      for (int64_t K : {1, 9, 136})
        for (T beta : {T(0), T(1)}) {
          Problem<T> p = make_problem<T>(rng, false, false, {M, N, K}, 3, T(1), beta, beta == T(0));
          std::vector<T> ref = p.C, got = p.C;
          gemm_reference<T>(false, false, M, N, K, T(1), p.A.data(), p.lda, p.B.data(), p.ldb, beta, ref.data(),
                            p.ldc);
          std::vector<T> ws(static_cast<size_t>(pydl::kernels::gemm_workspace_size<T>(false, false, M, N, K)));
          pydl::kernels::gemm_panel_serial<T>(M, N, K, p.A.data(), p.lda, p.B.data(), p.ldb, beta, got.data(), p.ldc,
                                              ws.data());
          const double tol = 8.0 * std::numeric_limits<T>::epsilon() * double(K + 4);
          for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < p.ldc; ++j) {
              const double r = ref[i * p.ldc + j], f = got[i * p.ldc + j];
              const bool ok = j >= N ? ((std::isnan(r) && std::isnan(f)) || r == f)  // padding untouched
                                     : std::isfinite(f) && std::fabs(f - r) <= tol * (1.0 + std::fabs(r));
              if (!ok && bad++ < 3)
                std::printf("  %s panel M=%lld N=%lld K=%lld beta=%g at (%lld,%lld): %.9g vs ref %.9g\n", what,
                            (long long)M, (long long)N, (long long)K, double(beta), (long long)i, (long long)j, f, r);
            }
        }
  CHECK(bad == 0);
}

TEST(gemm_panel_serial_matches_reference) {
  panel_matches_reference<float>("float");
  panel_matches_reference<double>("double");
}
TEST(gemm_float_matches_reference) { sweep<float>("float"); }
TEST(gemm_double_matches_reference) { sweep<double>("double"); }
TEST(gemm_float_narrow_paths_match_reference) { sweep_narrow<float>("float narrow"); }
TEST(gemm_double_narrow_paths_match_reference) { sweep_narrow<double>("double narrow"); }
TEST(gemm_float_beta0_ignores_nan_c) { nan_beta0<float>("float nan"); }
TEST(gemm_double_beta0_ignores_nan_c) { nan_beta0<double>("double nan"); }
TEST(gemm_float_thread_count_bit_identical) { determinism<float>(); }
TEST(gemm_double_thread_count_bit_identical) { determinism<double>(); }
TEST(gemm_simd_path_is_known) {
  const std::string p = pydl::kernels::gemm_simd_path();
  std::printf("  gemm_simd_path = %s\n", p.c_str());
  CHECK(p == "avx512" || p == "avx2" || p == "generic");
}

RUN_ALL_TESTS()
