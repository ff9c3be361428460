// Adadelta, as Keras 3's keras/optimizers/adadelta.py. learning_rate = 1.0 is Zeiler's
// original rule; Keras's default 0.001 scales the step down.
#include "ops/common.h"
#include "optim/rules.h"

namespace pydl::optim::detail {

// Eg = rho Eg + (1-rho) g^2; d = -sqrt(Ed + eps) / sqrt(Eg + eps) g; Ed = rho Ed + (1-rho) d^2; p = p + lr d
template <typename T>
static inline void adadelta_step(T& p, T g, T& eg, T& ed, T lr, T rho, T eps) {
  eg = rho * eg + (T(1) - rho) * g * g;
  const T d = -(std::sqrt(ed + eps) * g) / std::sqrt(eg + eps);
  ed = rho * ed + (T(1) - rho) * d * d;
  p += lr * d;
}

void adadelta_update(Tensor& p, const Tensor& g, std::vector<Tensor>& slots, const Hyper& h, double grad_scale) {
  PYDL_DISPATCH(p.dtype(), {
    T* pp = p.data<T>();
    const T* gp = g.data<T>();
    T* eg = slots[0].data<T>();
    T* ed = slots[1].data<T>();
    const T lr = T(h.learning_rate), rho = T(h.rho), eps = T(h.epsilon);
    const Prep<T> q = prep_of<T>(h, grad_scale);
    for_each_element(p.numel(), use_fast(), [=](int64_t i) {
      T pi = decayed(pp[i], q);
      adadelta_step(pi, prepare_grad(gp[i], q), eg[i], ed[i], lr, rho, eps);
      pp[i] = pi;
    });
  });
}

}  // namespace pydl::optim::detail
