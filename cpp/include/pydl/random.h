// The one seeded generator. Counter-based: element i of a draw is a pure function of
// (seed, counter + i), so results do not depend on the thread count or on the order in
// which threads fill the output, and pydl.manual_seed(n) makes every run repeatable.
#pragma once
#include <cstdint>

#include "pydl/tensor.h"

namespace pydl::random {

void manual_seed(uint64_t seed);
uint64_t initial_seed();

// Reserve `n` counters for one draw and return the first.
uint64_t reserve(uint64_t n);

// Uniform in [low, high).
Tensor uniform(const Shape& shape, double low, double high, DType dtype = DType::Float32);
// Normal with the given mean and standard deviation (Box-Muller).
Tensor normal(const Shape& shape, double mean, double std, DType dtype = DType::Float32);
// Bernoulli(p) as 0/1 floats (dropout masks).
Tensor bernoulli(const Shape& shape, double p, DType dtype = DType::Float32);

// The underlying stateless maps, exposed for tests: 53-bit uniform in [0, 1).
double uniform01(uint64_t seed, uint64_t counter);

}  // namespace pydl::random
