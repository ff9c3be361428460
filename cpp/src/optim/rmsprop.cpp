// RMSprop (optionally centered, optionally with momentum), as Keras 3's keras/optimizers/rmsprop.py.
#include "ops/common.h"
#include "optim/rules.h"

namespace pydl::optim::detail {

// v = rho v + (1-rho) g^2; [centered: mg = rho mg + (1-rho) g, den = v - mg^2, else den = v];
// inc = lr g / sqrt(den + eps); [momentum: m = mu m + inc, p = p - m] else p = p - inc
template <bool Momentum, bool Centered, typename T>
static inline void rmsprop_step(T& p, T g, T& v, T& m, T& mg, T lr, T rho, T mu, T eps) {
  v = rho * v + (T(1) - rho) * g * g;
  T den = v;
  if constexpr (Centered) {
    mg = rho * mg + (T(1) - rho) * g;
    den = v - mg * mg;
  }
  const T inc = lr * g / std::sqrt(den + eps);
  if constexpr (Momentum) {
    m = mu * m + inc;
    p -= m;
  } else {
    p -= inc;
  }
}

template <bool Momentum, bool Centered, typename T>
static void run(T* p, const T* g, T* v, T* m, T* mg, int64_t n, const Hyper& h, Prep<T> q) {
  const T lr = T(h.learning_rate), rho = T(h.rho), mu = T(h.momentum), eps = T(h.epsilon);
  for_each_element(n, use_fast(), [=](int64_t i) {
    T pi = decayed(p[i], q);
    T unused_m = 0, unused_mg = 0;
    rmsprop_step<Momentum, Centered>(pi, prepare_grad(g[i], q), v[i], Momentum ? m[i] : unused_m,
                                     Centered ? mg[i] : unused_mg, lr, rho, mu, eps);
    p[i] = pi;
  });
}

void rmsprop_update(Tensor& p, const Tensor& g, std::vector<Tensor>& slots, const Hyper& h, double grad_scale) {
  PYDL_DISPATCH(p.dtype(), {
    T* v = slots[0].data<T>();
    size_t k = 1;
    T* m = h.momentum > 0 ? slots[k++].data<T>() : nullptr;
    T* mg = h.centered ? slots[k++].data<T>() : nullptr;
    const Prep<T> q = prep_of<T>(h, grad_scale);
    T* pp = p.data<T>();
    const T* gp = g.data<T>();
    const int64_t n = p.numel();
    if (m && mg) run<true, true>(pp, gp, v, m, mg, n, h, q);
    else if (m) run<true, false>(pp, gp, v, m, mg, n, h, q);
    else if (mg) run<false, true>(pp, gp, v, m, mg, n, h, q);
    else run<false, false>(pp, gp, v, m, mg, n, h, q);
  });
}

}  // namespace pydl::optim::detail
