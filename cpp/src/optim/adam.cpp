// Adam (optionally AMSGrad), as Keras 3's keras/optimizers/adam.py. AdamW is this rule with
// Keras's decoupled weight decay (applied by every rule, see rules.h).
#include "ops/common.h"
#include "optim/rules.h"

namespace pydl::optim::detail {

// m = m + (g - m)(1 - b1); v = v + (g^2 - v)(1 - b2); [amsgrad: vh = max(vh, v), use vh];
// p = p - alpha m / (sqrt(v) + eps),  alpha = lr sqrt(1 - b2^t) / (1 - b1^t)
template <bool Amsgrad, typename T>
static inline void adam_step(T& p, T g, T& m, T& v, T& vhat, T alpha, T b1, T b2, T eps) {
  m += (g - m) * (T(1) - b1);
  v += (g * g - v) * (T(1) - b2);
  T vv = v;
  if constexpr (Amsgrad) {
    vhat = vhat > v ? vhat : v;
    vv = vhat;
  }
  p -= m * alpha / (std::sqrt(vv) + eps);
}

template <bool Amsgrad, typename T>
static void run(T* p, const T* g, T* m, T* v, T* vh, int64_t n, T alpha, T b1, T b2, T eps, Prep<T> q) {
  for_each_element(n, use_fast(), [=](int64_t i) {
    T pi = decayed(p[i], q);
    T unused = 0;
    adam_step<Amsgrad>(pi, prepare_grad(g[i], q), m[i], v[i], Amsgrad ? vh[i] : unused, alpha, b1, b2, eps);
    p[i] = pi;
  });
}

void adam_update(Tensor& p, const Tensor& g, std::vector<Tensor>& slots, const Hyper& h, double grad_scale) {
  PYDL_DISPATCH(p.dtype(), {
    const T b1 = T(h.beta_1), b2 = T(h.beta_2), eps = T(h.epsilon);
    // bias correction, t = iterations + 1
    const T t = T(h.iterations + 1);
    const T alpha = T(h.learning_rate) * std::sqrt(T(1) - std::pow(b2, t)) / (T(1) - std::pow(b1, t));
    T* args[] = {p.data<T>(), slots[0].data<T>(), slots[1].data<T>(), h.amsgrad ? slots[2].data<T>() : nullptr};
    if (h.amsgrad)
      run<true, T>(args[0], g.data<T>(), args[1], args[2], args[3], p.numel(), alpha, b1, b2, eps, prep_of<T>(h, grad_scale));
    else
      run<false, T>(args[0], g.data<T>(), args[1], args[2], args[3], p.numel(), alpha, b1, b2, eps, prep_of<T>(h, grad_scale));
  });
}

}  // namespace pydl::optim::detail
