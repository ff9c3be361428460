// SGD with optional (Nesterov) momentum, as Keras 3's keras/optimizers/sgd.py.
#include "ops/common.h"
#include "optim/rules.h"

namespace pydl::optim::detail {

// plain: p = p - lr g
template <typename T>
static inline void sgd_step(T& p, T g, T lr) { p -= lr * g; }

// momentum: m = mu m - lr g; p = p + m   (nesterov: p = p + mu m - lr g, with the new m)
template <typename T>
static inline void sgd_momentum_step(T& p, T g, T& m, T lr, T mu, bool nesterov) {
  m = mu * m - lr * g;
  p += nesterov ? mu * m - lr * g : m;
}

template <typename T>
static void run(T* p, const T* g, T* m, int64_t n, const Hyper& h, const Prep<T> q) {
  const T lr = T(h.learning_rate), mu = T(h.momentum);
  const bool nesterov = h.nesterov;
  if (m) {
    for_each_element(n, use_fast(), [=](int64_t i) {
      T pi = decayed(p[i], q);
      sgd_momentum_step(pi, prepare_grad(g[i], q), m[i], lr, mu, nesterov);
      p[i] = pi;
    });
  } else {
    for_each_element(n, use_fast(), [=](int64_t i) {
      T pi = decayed(p[i], q);
      sgd_step(pi, prepare_grad(g[i], q), lr);
      p[i] = pi;
    });
  }
}

void sgd_update(Tensor& p, const Tensor& g, std::vector<Tensor>& slots, const Hyper& h, double grad_scale) {
  PYDL_DISPATCH(p.dtype(), {
    T* m = h.momentum != 0 ? slots[0].data<T>() : nullptr;
    run<T>(p.data<T>(), g.data<T>(), m, p.numel(), h, prep_of<T>(h, grad_scale));
  });
}

}  // namespace pydl::optim::detail
