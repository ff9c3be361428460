// The vectorisable float maths of the fast kernels (kernels/cpu/vec_math.h, and the AVX-512
// sigmoid / tanh of the LSTM's gate pass, kernels/cpu/lstm_avx512.h) against the C library in
// double: relative error over a dense sweep of each function's range, plus the special values
// (signed zeros, tiny inputs, saturation, infinities, NaN).
#include <cmath>
#include <cstdio>
#include <algorithm>
#include <limits>

#include "check.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/lstm_avx512.h"
#include "kernels/cpu/vec_math.h"
#include "kernels/math.h"

using pydl::kernels::exp_vec;
using pydl::kernels::tanh_vec;

namespace {

// Largest relative error of f against ref over n points spread evenly in [lo, hi].
template <typename F, typename R>
double max_rel_error(F f, R ref, double lo, double hi, int n, double* worst_x) {
  double worst = 0;
  for (int i = 0; i <= n; ++i) {
    const float x = static_cast<float>(lo + (hi - lo) * i / n);
    const double want = ref(static_cast<double>(x));
    const double err = std::fabs(double(f(x)) - want) / std::fabs(want);
    if (err > worst) worst = err, *worst_x = x;
  }
  return worst;
}

}  // namespace

TEST(exp_vec_relative_error_below_3e7) {
  double at = 0;
  const double err = max_rel_error(exp_vec, [](double x) { return std::exp(x); }, -87.0, 88.0, 2000003, &at);
  std::printf("  exp_vec: max relative error %.3g at x = %.9g\n", err, at);
  CHECK(err < 3e-7);
}

TEST(exp_full_vec_matches_libm_over_the_whole_range) {
  double at = 0;
  auto ref = [](double x) { return std::exp(x); };
  double err = max_rel_error(pydl::kernels::exp_full_vec, ref, -87.0, 88.7, 2000003, &at);
  std::printf("  exp_full_vec on [-87, 88.7]: max relative error %.3g at x = %.9g\n", err, at);
  CHECK(err < 3e-7);
  // Denormal results (x below -87.3): within the polynomial's relative error plus one unit of
  // the smallest denormal (the final rounding) of the exact value.
  const double denorm_min = std::numeric_limits<float>::denorm_min();
  int bad = 0;
  for (int i = 0; i <= 100000; ++i) {
    const float x = -87.5f - 16.0f * i / 100000;  // down to -103.5
    const double want = std::exp(double(x)), got = pydl::kernels::exp_full_vec(x);
    if (std::fabs(got - want) > denorm_min + 3e-7 * want) {
      if (bad++ < 3) std::printf("  exp_full_vec(%.9g) = %.9g, want %.9g\n", x, got, want);
    }
  }
  CHECK(bad == 0);
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(pydl::kernels::exp_full_vec(88.8f) == inf && pydl::kernels::exp_full_vec(1000.0f) == inf);
  CHECK(pydl::kernels::exp_full_vec(inf) == inf);
  CHECK(pydl::kernels::exp_full_vec(-104.0f) == 0.0f && pydl::kernels::exp_full_vec(-inf) == 0.0f);
  CHECK(pydl::kernels::exp_full_vec(0.0f) == 1.0f);
  CHECK(std::isnan(pydl::kernels::exp_full_vec(std::numeric_limits<float>::quiet_NaN())));
  CHECK(pydl::kernels::exp_full_vec(88.7f) < inf);
}

TEST(log_vec_matches_libm) {
  double at = 0;
  auto ref = [](double x) { return std::log(x); };
  // relative error over 40 binades (x = 1 itself, where log is 0, is checked exactly below)
  double err = 0;
  for (int b = -20; b < 20; ++b) {
    double a = 0;
    const double e = max_rel_error(pydl::kernels::log_vec, ref, std::ldexp(1.0, b) * 1.0000001,
                                   std::ldexp(1.0, b + 1) * 0.9999999, 50000, &a);
    if (e > err) err = e, at = a;
  }
  std::printf("  log_vec on [2^-20, 2^20]: max relative error %.3g at x = %.9g\n", err, at);
  CHECK(err < 3e-7);
  err = max_rel_error(pydl::kernels::log_vec, ref, 0.999, 0.9999999, 100000, &at);  // log ~ x - 1
  std::printf("  log_vec just below 1: max relative error %.3g at x = %.9g\n", err, at);
  CHECK(err < 3e-7);
  err = max_rel_error(pydl::kernels::log_vec, ref, 1.0000001, 1.001, 100000, &at);
  std::printf("  log_vec just above 1: max relative error %.3g at x = %.9g\n", err, at);
  CHECK(err < 3e-7);
  const float inf = std::numeric_limits<float>::infinity();
  using pydl::kernels::log_vec;
  CHECK(log_vec(1.0f) == 0.0f);
  CHECK(log_vec(0.0f) == -inf && log_vec(-0.0f) == -inf && log_vec(inf) == inf);
  CHECK(std::isnan(log_vec(-1.0f)) && std::isnan(log_vec(-inf)));
  CHECK(std::isnan(log_vec(std::numeric_limits<float>::quiet_NaN())));
  for (float x : {1e-40f, 1e-45f /* the smallest denormal */, 3.4e38f})  // denormals and the top
    CHECK(std::fabs(log_vec(x) - std::log(double(x))) < 3e-7 * std::fabs(std::log(double(x))));
}

TEST(tanh_vec_relative_error_below_5e7) {
  double at = 0;
  auto ref = [](double x) { return std::tanh(x); };
  double err = max_rel_error(tanh_vec, ref, -12.0, 12.0, 2000002, &at);  // even n: x = 0 skipped
  std::printf("  tanh_vec on [-12, 12]: max relative error %.3g at x = %.9g\n", err, at);
  CHECK(err < 5e-7);
  err = max_rel_error(tanh_vec, ref, 1e-6, 0.3, 1000000, &at);  // around the series / exp switch
  std::printf("  tanh_vec on [1e-6, 0.3]: max relative error %.3g at x = %.9g\n", err, at);
  CHECK(err < 5e-7);
  for (float tiny : {1e-30f, 1e-20f, 1e-10f, -1e-10f, 3e-39f /* denormal */})
    CHECK(tanh_vec(tiny) == tiny);  // tanh x = x to float precision
}

TEST(tanh_vec_special_values) {
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(tanh_vec(0.0f) == 0.0f && !std::signbit(tanh_vec(0.0f)));
  CHECK(tanh_vec(-0.0f) == 0.0f && std::signbit(tanh_vec(-0.0f)));
  CHECK(tanh_vec(20.0f) == 1.0f && tanh_vec(-20.0f) == -1.0f);
  CHECK(tanh_vec(inf) == 1.0f && tanh_vec(-inf) == -1.0f);
  CHECK(std::isnan(tanh_vec(std::numeric_limits<float>::quiet_NaN())));
  CHECK(tanh_vec(std::numeric_limits<float>::max()) == 1.0f);
}

// Issue 7: the fast sigmoid no longer clamps its argument. Against the reference's scalar
// sigmoid_of in double over [-110, 30], denormal results included; +-inf, NaN, +-0 exact.
TEST(sigmoid_vec_matches_the_reference_over_the_whole_range) {
  using pydl::kernels::sigmoid_vec;
  auto ref = [](double x) { return pydl::kernels::sigmoid_of(x); };
  double at = 0;
  const double err = max_rel_error(sigmoid_vec, ref, -87.0, 30.0, 2000003, &at);
  std::printf("  sigmoid_vec on [-87, 30]: max relative error %.3g at x = %.9g\n", err, at);
  // exp_full_vec's bound (3e-7, above) plus the division's rounding (2^-24 = 6e-8)
  CHECK(err < 3.6e-7);
  const double denorm_min = std::numeric_limits<float>::denorm_min();
  int bad = 0;
  for (int i = 0; i <= 100000; ++i) {  // the denormal tail: sigma(x) ~ e^x below x = -87.3
    const float x = -87.5f - 20.0f * i / 100000;
    const double want = ref(double(x)), got = sigmoid_vec(x);
    if (std::fabs(got - want) > denorm_min + 3e-7 * want && bad++ < 3)
      std::printf("  sigmoid_vec(%.9g) = %.9g, want %.9g\n", x, got, want);
  }
  CHECK(bad == 0);
  // sigma(-100) = 3.7e-44, a denormal: within one step (1.4e-45) of the float nearest it (the
  // clamp gave 4.8e-39 there, log -88.3)
  std::printf("  log(sigmoid_vec(-100)) = %.9g\n", std::log(double(sigmoid_vec(-100.0f))));
  CHECK(std::fabs(double(sigmoid_vec(-100.0f)) - double(float(ref(-100.0)))) <= denorm_min);
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(sigmoid_vec(inf) == 1.0f && sigmoid_vec(-inf) == 0.0f && sigmoid_vec(0.0f) == 0.5f);
  CHECK(sigmoid_vec(-0.0f) == 0.5f && sigmoid_vec(-200.0f) == 0.0f && sigmoid_vec(std::numeric_limits<float>::max()) == 1.0f);
  CHECK(std::isnan(sigmoid_vec(std::numeric_limits<float>::quiet_NaN())));
}

#if PYDL_X86
namespace {
// lane 0 of the AVX-512 function on a vector holding x in every lane
PYDL_TARGET_AVX512 float sigmoid512(float x) {
  return _mm512_cvtss_f32(pydl::kernels::lstm_avx512::sigmoid(_mm512_set1_ps(x)));
}
PYDL_TARGET_AVX512 float tanh512(float x) {
  return _mm512_cvtss_f32(pydl::kernels::lstm_avx512::tanh(_mm512_set1_ps(x)));
}
}  // namespace
#endif

// The LSTM gate pass's AVX-512 sigmoid and tanh: the same bounds and special values as
// sigmoid_vec and tanh_vec above (they compute the same formulas with vscalefps for 2^n).
TEST(lstm_avx512_sigmoid_and_tanh_match_libm) {
#if PYDL_X86
  if (pydl::kernels::simd_level() != pydl::kernels::kAvx512) {
    std::printf("  skipped: this CPU (or PYDL_SIMD) has no AVX-512\n");
    return;
  }
  auto sref = [](double x) { return pydl::kernels::sigmoid_of(x); };
  double at = 0;
  double err = max_rel_error(sigmoid512, sref, -87.0, 30.0, 2000003, &at);
  std::printf("  avx512 sigmoid on [-87, 30]: max relative error %.3g at x = %.9g\n", err, at);
  CHECK(err < 3.6e-7);
  const double denorm_min = std::numeric_limits<float>::denorm_min();
  int bad = 0;
  for (int i = 0; i <= 100000; ++i) {  // the denormal tail
    const float x = -87.5f - 20.0f * i / 100000;
    const double want = sref(double(x)), got = sigmoid512(x);
    if (std::fabs(got - want) > denorm_min + 3e-7 * want && bad++ < 3)
      std::printf("  sigmoid512(%.9g) = %.9g, want %.9g\n", x, got, want);
  }
  CHECK(bad == 0);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(sigmoid512(inf) == 1.0f && sigmoid512(-inf) == 0.0f && sigmoid512(0.0f) == 0.5f);
  CHECK(sigmoid512(-0.0f) == 0.5f && sigmoid512(-200.0f) == 0.0f && sigmoid512(std::numeric_limits<float>::max()) == 1.0f);
  CHECK(std::isnan(sigmoid512(nan)));
  auto tref = [](double x) { return std::tanh(x); };
  err = max_rel_error(tanh512, tref, -12.0, 12.0, 2000002, &at);  // even n: x = 0 skipped
  std::printf("  avx512 tanh on [-12, 12]: max relative error %.3g at x = %.9g\n", err, at);
  CHECK(err < 5e-7);
  err = max_rel_error(tanh512, tref, 1e-6, 0.3, 1000000, &at);
  std::printf("  avx512 tanh on [1e-6, 0.3]: max relative error %.3g at x = %.9g\n", err, at);
  CHECK(err < 5e-7);
  for (float tiny : {1e-30f, -1e-30f, 1e-40f, std::numeric_limits<float>::denorm_min()}) CHECK(tanh512(tiny) == tiny);
  CHECK(tanh512(0.0f) == 0.0f && !std::signbit(tanh512(0.0f)));
  CHECK(tanh512(-0.0f) == 0.0f && std::signbit(tanh512(-0.0f)));
  CHECK(tanh512(20.0f) == 1.0f && tanh512(-20.0f) == -1.0f && tanh512(inf) == 1.0f && tanh512(-inf) == -1.0f);
  CHECK(std::isnan(tanh512(nan)) && tanh512(std::numeric_limits<float>::max()) == 1.0f);
#else
  std::printf("  skipped: not an x86 build\n");
#endif
}

RUN_ALL_TESTS()
