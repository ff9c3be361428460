// Dropout: forward and backward side by side.
#include "ops/common.h"
#include "pydl/random.h"

namespace pydl::ops {

// m = m * scale (in place; m is a fresh contiguous mask). One loop serves both backends: a
// contiguous scaling has no plainer form, and the product with x goes through mul's two kernels.
template <typename T>
static void scale_mask(T* m, int64_t n, T scale) {
#pragma omp parallel for simd if (n >= 32768)
  for (int64_t i = 0; i < n; ++i) m[i] *= scale;
}

Tensor dropout(const Tensor& x, double rate, bool training) {
  check_defined(x, "dropout");
  check_float(x, "dropout");
  if (!(rate >= 0 && rate < 1))
    throw ValueError(msg("dropout: rate must be in [0, 1), got ", rate, " (rate is the fraction of units dropped)"));
  if (!training || rate == 0) return x;
  // mask_i = Bernoulli(1 - rate) / (1 - rate): kept units scaled so that E[out] = x
  Tensor mask = random::bernoulli(x.shape(), 1.0 - rate, x.dtype());
  PYDL_DISPATCH(x.dtype(), scale_mask(mask.data<T>(), mask.numel(), T(1.0 / (1.0 - rate))));
  Tensor out;
  {
    NoGradGuard no_grad;
    out = mul(x.detach(), mask);
  }
  if (any_requires_grad({&x})) {
    // d(x * mask)/dx = mask: the same scaled mask, saved
    record("DropoutBackward", {x}, out, {mask}, [](const Node& n, const Tensor& g) {
      return std::vector<Tensor>{mul(g, n.saved(0))};
    });
  }
  return out;
}

}  // namespace pydl::ops
