// Adamax (Kingma & Ba 2015, section 7.1: Adam with the infinity norm), as Keras 3's
// keras/optimizers/adamax.py.
#include "ops/common.h"
#include "optim/rules.h"

namespace pydl::optim::detail {

// m = m + (g - m)(1 - b1); u = max(b2 u, |g|); p = p - alpha m / (u + eps),  alpha = lr / (1 - b1^t)
template <typename T>
static inline void adamax_step(T& p, T g, T& m, T& u, T alpha, T b1, T b2, T eps) {
  m += (g - m) * (T(1) - b1);
  const T decayed_u = b2 * u, abs_g = g < T(0) ? -g : g;
  u = decayed_u > abs_g ? decayed_u : abs_g;
  p -= alpha * m / (u + eps);
}

void adamax_update(Tensor& p, const Tensor& g, std::vector<Tensor>& slots, const Hyper& h, double grad_scale) {
  const double t = double(h.iterations + 1);
  PYDL_DISPATCH(p.dtype(), {
    T* pp = p.data<T>();
    const T* gp = g.data<T>();
    T* m = slots[0].data<T>();
    T* u = slots[1].data<T>();
    const T alpha = T(h.learning_rate / (1.0 - std::pow(h.beta_1, t)));
    const T b1 = T(h.beta_1), b2 = T(h.beta_2), eps = T(h.epsilon);
    const Prep<T> q = prep_of<T>(h, grad_scale);
    for_each_element(p.numel(), use_fast(), [=](int64_t i) {
      T pi = decayed(pp[i], q);
      adamax_step(pi, prepare_grad(gp[i], q), m[i], u[i], alpha, b1, b2, eps);
      pp[i] = pi;
    });
  });
}

}  // namespace pydl::optim::detail
