// Vectorisable maths for the fast kernels.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace pydl::kernels {

// e^r for the reduced argument of x = n ln2 + r, |r| <= ln2/2 (n returned as a float holding an
// integer): n = round(x / ln2) by the 1.5 * 2^23 trick (plain adds, so loops stay vectorisable),
// ln2 split in two for an exact r, then the Taylor polynomial of e^r to r^6 (error < 2e-7
// relative). Needs |x| < ~2^22 (callers clamp far inside that).
static inline float exp_reduced(float x, float& n) {
  n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  return p;
}

// 2^n for an integer n in [-126, 127], through the exponent bits. The shift is done in uint32:
// a NaN input reaches here as n = INT32_MIN (x86's conversion of NaN), and shifting the
// negative n + 127 would be undefined (UBSan); the garbage factor is harmless, p is NaN.
static inline float pow2i(int32_t n) {
  const uint32_t bits = static_cast<uint32_t>(n + 127) << 23;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// e^x for float32 in plain arithmetic, so `omp simd` loops vectorise it (std::exp is a
// library call that stops vectorisation). Inputs are clamped to [-87.3, 88.3], so the result
// is never denormal or inf: only for tanh_vec, where e^-2|x| below e^-87 cannot change
// (1 - e) / (1 + e). Everything else takes exp_full_vec (the whole range, as std::exp).
static inline float exp_vec(float x) {
  x = x > -87.3f ? (x < 88.3f ? x : 88.3f) : -87.3f;  // NaN -> -87.3 (never converted to int)
  float n;
  const float p = exp_reduced(x, n);
  return p * pow2i(static_cast<int32_t>(n));
}

// e^x for float32 over the whole range, as std::exp gives it: overflow to +inf (x > 88.72),
// denormal results down to x ~ -103.3, then 0; NaN passes through. 2^n is applied as
// 2^(n/2) * 2^(n - n/2) so that both factors stay normal numbers for n in [-150, 128] (one
// rounding where the result is denormal).
static inline float exp_full_vec(float x) {
  // beyond [-104, 89] the result is 0 or inf anyway; NaN fails `x > -104` and is clamped too, so
  // the float -> int conversion below never sees NaN (its result is replaced by x at the end)
  const float xc = x > -104.0f ? (x < 89.0f ? x : 89.0f) : -104.0f;
  float n;
  const float p = exp_reduced(xc, n);
  const int32_t ni = static_cast<int32_t>(n), n1 = ni >> 1;
  const float e = p * pow2i(n1) * pow2i(ni - n1);
  return x != x ? x : e;
}

// ln(x) for float32 in plain arithmetic, as std::log gives it: log(0) = -inf, log(x < 0) = NaN,
// log(inf) = inf, NaN passes through, denormals handled. x = m 2^e with m in [sqrt(1/2), sqrt(2))
// through the exponent bits; ln m = 2 atanh(s) = 2 (s + s^3/3 + ... + s^9/9) with
// s = (m - 1) / (m + 1), |s| <= 0.172 (truncation < 4e-10 relative); ln x = e ln2 + ln m.
static inline float log_vec(float x) {
  const bool tiny = x < 1.17549435e-38f;  // denormal (or <= 0): scale into the normal range first
  const float xs = tiny ? x * 8388608.0f : x;  // * 2^23
  // Bit arithmetic in uint32 (wraps, never undefined: x <= 0 and NaN go through it too, their
  // result replaced below). The exponent relative to [sqrt(1/2), sqrt(2)): subtract the bits of
  // sqrt(1/2), keep the top 9 bits (sign-extended); m = xs / 2^e is xs with those bits removed.
  uint32_t bits;
  std::memcpy(&bits, &xs, sizeof bits);
  const uint32_t shifted = bits - 0x3f3504f3u;
  const int32_t e = (static_cast<int32_t>(shifted) >> 23) - (tiny ? 23 : 0);
  const uint32_t mbits = bits - (shifted & 0xff800000u);
  float m;
  std::memcpy(&m, &mbits, sizeof m);
  const float sv = (m - 1.0f) / (m + 1.0f), s2 = sv * sv;
  float p = 1.0f / 9;
  p = p * s2 + 1.0f / 7;
  p = p * s2 + 1.0f / 5;
  p = p * s2 + 1.0f / 3;
  const float lnm = 2.0f * sv + 2.0f * sv * s2 * p;
  const float fe = static_cast<float>(e);
  const float r = (fe * 0.693359375f + lnm) - fe * 2.12194440e-4f;  // e ln2, ln2 split in two
  const float inf = __builtin_inff();
  return x != x ? x : (x < 0.0f ? __builtin_nanf("") : (x == 0.0f ? -inf : (x == inf ? inf : r)));
}

// e^y - 1 for y in [-20, 0] (tanh_vec's range), without the cancellation of e^y - 1 near 0:
// y = n ln2 + r as in exp_reduced, q = e^r - 1 = r + r^2 (1/2 + r/6 + ... + r^5/5040) (the Taylor
// series to r^7: truncation < 7e-8 relative for |r| <= ln2/2), then e^y - 1 = 2^n q + (2^n - 1),
// exact to rounding for n = 0 (|y| < ln2/2: the result is q itself) and free of cancellation
// elsewhere (|e^y - 1| >= 0.29 there).
static inline float expm1_neg_vec(float y) {
  const float n = (y * 1.44269504f + 12582912.0f) - 12582912.0f;
  const float r = (y - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  const float q = r + r * r * p;
  const float s = pow2i(static_cast<int32_t>(n));
  return s * q + (s - 1.0f);
}

// tanh(x) for float32 in plain arithmetic (std::tanh is a library call that stops vectorisation,
// ~40x slower than this in a loop): with m = e^-2|x| - 1 (expm1_neg_vec, no cancellation near 0),
// tanh|x| = (1 - e^-2|x|) / (1 + e^-2|x|) = -m / (2 + m), relative error < 2e-7 everywhere
// (tanh x = x down to the denormals). |x| beyond 10 is clamped (tanh is 1 in float32 from 9.1 on).
// Sign restored with copysign (tanh(-0) = -0); NaN passes through; +-inf gives +-1.
static inline float tanh_vec(float x) {
  const float t = std::fabs(x);
  const float y = t < 10.0f ? -2.0f * t : -20.0f;  // NaN -> -20 (never converted to int)
  const float m = expm1_neg_vec(y);
  const float r = std::copysign(-m / (2.0f + m), x);
  return x != x ? x : r;
}

// sigma(x) = 1 / (1 + e^-x) for float32 over the whole range, as the reference's sigmoid_of:
// with e = e^-|x| (never overflows), sigma = 1 / (1 + e) for x >= 0 and e / (1 + e) below, one
// division either way, so the negative tail keeps its exact value down to the denormals
// (sigma(-100) = 3.7e-44) instead of stopping at a clamp. NaN passes through (e is NaN).
static inline float sigmoid_vec(float x) {
  const float e = exp_full_vec(-std::fabs(x));
  return (x >= 0.0f ? 1.0f : e) / (1.0f + e);
}

// e^x where the fast kernels can use a vectorisable one: float through exp_full_vec (the whole
// range, so softmax's small terms match the reference's std::exp), double through std::exp.
static inline float exp_fast(float x) { return exp_full_vec(x); }
static inline double exp_fast(double x) { return std::exp(x); }

}  // namespace pydl::kernels
