// Dropout.
#pragma once
#include "pydl/tensor.h"

namespace pydl::ops {

// Inverted dropout: while training each unit is kept with probability 1 - rate and scaled by
// 1 / (1 - rate), so E[output] = input and inference needs no rescaling. The mask comes from
// pydl::random::bernoulli (pydl.manual_seed fixes it). Identity when !training or rate == 0.
// rate outside [0, 1) raises ValueError.
Tensor dropout(const Tensor& x, double rate, bool training = true);

}  // namespace pydl::ops
