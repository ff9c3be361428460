// Nadam (Dozat 2015: Adam with Nesterov momentum), as Keras 3's keras/optimizers/nadam.py, with
// its momentum-cache schedule u_k = beta_1 (1 - 0.5 * 0.96^k).
#include "ops/common.h"
#include "optim/rules.h"

namespace pydl::optim::detail {

// m = m + (g - m)(1 - b1); v = v + (g^2 - v)(1 - b2);
// p = p - lr (cm m + cg g) / (sqrt(v / (1 - b2^t)) + eps),
//   cm = u_{t+1} / (1 - u_1..u_{t+1}),  cg = (1 - u_t) / (1 - u_1..u_t)
template <typename T>
static inline void nadam_step(T& p, T g, T& m, T& v, T lr, T b1, T b2, T cm, T cg, T bc2, T eps) {
  m += (g - m) * (T(1) - b1);
  v += (g * g - v) * (T(1) - b2);
  const T m_hat = cm * m + cg * g;
  p -= lr * m_hat / (std::sqrt(v / bc2) + eps);
}

void nadam_update(Tensor& p, const Tensor& g, std::vector<Tensor>& slots, const Hyper& h, double grad_scale) {
  // t = iterations + 1; the schedule's constants in double, once per update
  const double t = double(h.iterations + 1);
  const double u_t = h.beta_1 * (1.0 - 0.5 * std::pow(0.96, t));
  const double u_next = h.beta_1 * (1.0 - 0.5 * std::pow(0.96, t + 1));
  const double prod_t = h.u_product * u_t, prod_next = prod_t * u_next;
  const double cm = u_next / (1.0 - prod_next), cg = (1.0 - u_t) / (1.0 - prod_t);
  const double bc2 = 1.0 - std::pow(h.beta_2, t);
  PYDL_DISPATCH(p.dtype(), {
    T* pp = p.data<T>();
    const T* gp = g.data<T>();
    T* m = slots[0].data<T>();
    T* v = slots[1].data<T>();
    const T lr = T(h.learning_rate), b1 = T(h.beta_1), b2 = T(h.beta_2), eps = T(h.epsilon);
    const T cmT = T(cm), cgT = T(cg), bc2T = T(bc2);
    const Prep<T> q = prep_of<T>(h, grad_scale);
    for_each_element(p.numel(), use_fast(), [=](int64_t i) {
      T pi = decayed(pp[i], q);
      nadam_step(pi, prepare_grad(gp[i], q), m[i], v[i], lr, b1, b2, cmT, cgT, bc2T, eps);
      pp[i] = pi;
    });
  });
}

}  // namespace pydl::optim::detail
