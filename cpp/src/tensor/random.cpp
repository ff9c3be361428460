// Counter-based random numbers: value i of a draw = mix(seed, counter + i).
#include "pydl/random.h"

#include <atomic>
#include <cmath>

namespace pydl::random {

static uint64_t g_seed = 0x5eed;
static std::atomic<uint64_t> g_counter{0};

void manual_seed(uint64_t seed) {
  g_seed = seed;
  g_counter = 0;
}
uint64_t initial_seed() { return g_seed; }
uint64_t reserve(uint64_t n) { return g_counter.fetch_add(n); }

// SplitMix64's finaliser: a bijective mix whose output passes BigCrush as a counter hash.
static inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double uniform01(uint64_t seed, uint64_t counter) {
  uint64_t bits = mix64(mix64(seed + 0x9e3779b97f4a7c15ULL) ^ (counter * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL));
  return static_cast<double>(bits >> 11) * (1.0 / 9007199254740992.0);  // 53 bits in [0, 1)
}

template <typename T, typename F>
static Tensor fill(const Shape& shape, DType dtype, uint64_t per_elem, F f) {
  Tensor t = Tensor::empty(shape, dtype);
  int64_t n = t.numel();
  uint64_t base = reserve(static_cast<uint64_t>(n) * per_elem);
  uint64_t seed = g_seed;
  T* p = t.data<T>();
  // One loop serves both backends: value i is a pure function of (seed, counter), so it is the
  // same whatever the backend or the thread count, and there is no plainer form to compare with.
#pragma omp parallel for if (n > 65536) schedule(static)
  for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(f(seed, base + static_cast<uint64_t>(i) * per_elem));
  return t;
}

template <typename F>
static Tensor fill_any(const char* op, const Shape& shape, DType dtype, uint64_t per_elem, F f) {
  if (!is_floating(dtype))
    throw TypeError(msg(op, ": random tensors are float32 or float64, got dtype ", dtype_name(dtype)));
  return dtype == DType::Float32 ? fill<float>(shape, dtype, per_elem, f) : fill<double>(shape, dtype, per_elem, f);
}

Tensor uniform(const Shape& shape, double low, double high, DType dtype) {
  if (!(low <= high)) throw ValueError(msg("uniform: low (", low, ") must not exceed high (", high, ")"));
  return fill_any("uniform", shape, dtype, 1, [=](uint64_t s, uint64_t c) {
    double v = low + (high - low) * uniform01(s, c);
    return v < high ? v : low;  // rounding to float32 must not reach `high`
  });
}

Tensor normal(const Shape& shape, double mean, double std, DType dtype) {
  if (!(std >= 0)) throw ValueError(msg("normal: std must be >= 0, got ", std));
  // Box-Muller: z = sqrt(-2 ln u1) cos(2 pi u2), two counters per element.
  return fill_any("normal", shape, dtype, 2, [=](uint64_t s, uint64_t c) {
    double u1 = 1.0 - uniform01(s, c);  // (0, 1]: log is finite
    double u2 = uniform01(s, c + 1);
    return mean + std * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  });
}

Tensor bernoulli(const Shape& shape, double p, DType dtype) {
  if (!(p >= 0 && p <= 1)) throw ValueError(msg("bernoulli: p must be in [0, 1], got ", p));
  return fill_any("bernoulli", shape, dtype, 1, [=](uint64_t s, uint64_t c) { return uniform01(s, c) < p ? 1.0 : 0.0; });
}

}  // namespace pydl::random
