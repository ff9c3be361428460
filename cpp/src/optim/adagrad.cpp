// Adagrad, as Keras 3's keras/optimizers/adagrad.py (accumulator starts at 0.1).
#include "ops/common.h"
#include "optim/rules.h"

namespace pydl::optim::detail {

// a = a + g^2; p = p - lr g / sqrt(a + eps)
template <typename T>
static inline void adagrad_step(T& p, T g, T& a, T lr, T eps) {
  a += g * g;
  p -= lr * g / std::sqrt(a + eps);
}

void adagrad_update(Tensor& p, const Tensor& g, std::vector<Tensor>& slots, const Hyper& h, double grad_scale) {
  PYDL_DISPATCH(p.dtype(), {
    T* pp = p.data<T>();
    const T* gp = g.data<T>();
    T* a = slots[0].data<T>();
    const T lr = T(h.learning_rate), eps = T(h.epsilon);
    const Prep<T> q = prep_of<T>(h, grad_scale);
    for_each_element(p.numel(), use_fast(), [=](int64_t i) {
      T pi = decayed(pp[i], q);
      adagrad_step(pi, prepare_grad(gp[i], q), a[i], lr, eps);
      pp[i] = pi;
    });
  });
}

}  // namespace pydl::optim::detail
