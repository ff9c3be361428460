// Random shapes and random strided layouts for comparing fast kernels with reference ones.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "pydl/tensor.h"

namespace pydl_test {

using pydl::Shape;

inline std::mt19937_64& rng() {
  static std::mt19937_64 r(20240607);
  return r;
}
inline int64_t randint(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng()); }
inline double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng()); }

// A random shape of 0..4 axes with sides 1..7; now and then one long axis (parallel paths).
inline Shape random_shape(bool allow_big = true) {
  Shape s(randint(0, 4));
  for (auto& d : s) d = randint(1, 7);
  if (allow_big && !s.empty() && randint(0, 5) == 0) {  // ~20 000 - 160 000 elements
    for (auto& d : s) d = randint(1, 2);
    s[randint(0, s.size() - 1)] = randint(20000, 40000);
  }
  return s;
}

// One operand's memory: a buffer and strides (in elements) into it for `shape`.
//   layout: axes stored in a random order, some axes with gaps (stride x2), and for inputs
//   some axes broadcast (stride 0) and a random start offset.
template <typename T>
struct Strided {
  std::vector<T> buf;
  Shape strides;
  int64_t offset = 0;
  T* data() { return buf.data() + offset; }
  const T* data() const { return buf.data() + offset; }
};

template <typename T>
Strided<T> random_layout(const Shape& shape, bool is_input, double lo, double hi) {
  const size_t nd = shape.size();
  std::vector<size_t> order(nd);
  std::iota(order.begin(), order.end(), 0);
  if (randint(0, 1)) std::shuffle(order.begin(), order.end(), rng());
  Strided<T> s;
  s.strides.assign(nd, 0);
  int64_t acc = 1;
  for (size_t k = nd; k-- > 0;) {  // order[nd-1] is the innermost axis in memory
    size_t d = order[k];
    int64_t gap = randint(0, 3) == 0 ? 2 : 1;
    s.strides[d] = acc * gap;
    acc *= shape[d] * gap;
  }
  if (is_input)
    for (size_t d = 0; d < nd; ++d)
      if (randint(0, 4) == 0) s.strides[d] = 0;  // broadcast along d
  s.offset = is_input ? randint(0, 3) : 0;
  int64_t extent = 1;
  for (size_t d = 0; d < nd; ++d) extent += (shape[d] - 1) * s.strides[d];
  s.buf.resize(static_cast<size_t>(s.offset + extent));
  for (auto& v : s.buf) v = static_cast<T>(uniform(lo, hi));
  return s;
}

// Both NaN, or equal within rel * (1 + |b|).
inline bool close(double a, double b, double rel) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= rel * (1.0 + std::fabs(b));
}

template <typename T>
constexpr double tol() { return sizeof(T) == 4 ? 2e-6 : 1e-14; }

}  // namespace pydl_test
