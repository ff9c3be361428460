// Reference loss kernels: one row at a time, the equations of kernels/loss.h as plain loops.
#include "kernels/loss.h"

#include <cmath>

namespace pydl::kernels {

template <typename T>
void point_loss_reference(PointLoss k, const T* pred, const T* target, int64_t R, int64_t D, T* loss) {
  with_point_loss(k, [&](auto F) {
    using L = decltype(F);
    for (int64_t r = 0; r < R; ++r) {
      // loss[r] = (1/D) sum_d f(p, t)   (summed in double, as the reductions are)
      double acc = 0;
      for (int64_t d = 0; d < D; ++d) acc += double(L::f(pred[r * D + d], target[r * D + d]));
      loss[r] = D > 0 ? T(acc / double(D)) : T(0);
    }
  });
}

template <typename T>
void point_loss_backward_reference(PointLoss k, const T* pred, const T* target, const T* coef, int64_t R, int64_t D,
                                   T* dpred, T* dtarget) {
  with_point_loss(k, [&](auto F) {
    using L = decltype(F);
    for (int64_t r = 0; r < R; ++r) {
      const T c = coef[r] / T(D);
      for (int64_t d = 0; d < D; ++d) {
        const int64_t i = r * D + d;
        if (dpred) dpred[i] = c * L::dp(pred[i], target[i]);
        if (dtarget) dtarget[i] = c * L::dt(pred[i], target[i]);
      }
    }
  });
}

// t_c of row r: the target's value, or 1 for the labelled class of a sparse target.
template <typename T>
static inline T target_at(const T* target, const int64_t* labels, int64_t r, int64_t C, int64_t c) {
  return target ? target[r * C + c] : T(labels[r] == c ? 1 : 0);
}

template <typename T>
void crossentropy_reference(const T* pred, const T* target, const int64_t* labels, int64_t R, int64_t C,
                            bool from_logits, T* loss, T* aux) {
  const T lo = T(kLossEpsilon), hi = T(1) - T(kLossEpsilon);
  for (int64_t r = 0; r < R; ++r) {
    const T* x = pred + r * C;
    T l = 0;
    if (from_logits) {
      // lse = m + log sum_c e^(x_c - m);  loss = -sum_c t_c (x_c - lse)
      T m = x[0];
      for (int64_t c = 1; c < C; ++c) m = x[c] > m ? x[c] : m;
      double s = 0;  // row sums in double, as the reductions
      for (int64_t c = 0; c < C; ++c) s += double(std::exp(x[c] - m));
      const T lse = m + std::log(T(s));
      double acc = 0;
      for (int64_t c = 0; c < C; ++c) acc -= double(target_at(target, labels, r, C, c) * (x[c] - lse));
      l = T(acc);
      aux[r] = lse;
    } else {
      // q_c = clip(p_c / sum p, eps, 1 - eps);  loss = -sum_c t_c log q_c
      double sum = 0;
      for (int64_t c = 0; c < C; ++c) sum += double(x[c]);
      T s = T(sum);
      if (s == T(0)) s = T(1);  // an all-zero row: every q_c = 0, clipped to eps (finite, not 0/0)
      double acc = 0;
      for (int64_t c = 0; c < C; ++c) {
        T q = x[c] / s;
        q = q < lo ? lo : (q > hi ? hi : q);
        acc -= double(target_at(target, labels, r, C, c) * std::log(q));
      }
      l = T(acc);
      aux[r] = s;
    }
    loss[r] = l;
  }
}

template <typename T>
void crossentropy_backward_reference(const T* pred, const T* target, const int64_t* labels, const T* aux,
                                     const T* coef, int64_t R, int64_t C, bool from_logits, T* dpred, T* dtarget) {
  const T lo = T(kLossEpsilon), hi = T(1) - T(kLossEpsilon);
  for (int64_t r = 0; r < R; ++r) {
    const T* x = pred + r * C;
    const T k = coef[r];
    if (from_logits) {
      // dx_c = k (softmax_c sum_t - t_c);  dt_c = -k (x_c - lse)
      const T lse = aux[r];
      T tsum = 0;
      for (int64_t c = 0; c < C; ++c) tsum += target_at(target, labels, r, C, c);
      for (int64_t c = 0; c < C; ++c) {
        const T t = target_at(target, labels, r, C, c);
        if (dpred) dpred[r * C + c] = k * (std::exp(x[c] - lse) * tsum - t);
        if (dtarget) dtarget[r * C + c] = -k * (x[c] - lse);
      }
    } else {
      // G_c = -t_c / q_c inside the clip range; dp_c = k (G_c - sum_j G_j q_j) / s
      const T s = aux[r];
      T gq = 0;
      for (int64_t c = 0; c < C; ++c) {
        const T q = x[c] / s;
        if (q >= lo && q <= hi) gq += -target_at(target, labels, r, C, c);  // G_c q_c = -t_c
      }
      for (int64_t c = 0; c < C; ++c) {
        const T t = target_at(target, labels, r, C, c);
        T q = x[c] / s;
        const bool inside = q >= lo && q <= hi;
        const T G = inside ? -t / q : T(0);
        if (dpred) dpred[r * C + c] = k * (G - gq) / s;
        q = q < lo ? lo : (q > hi ? hi : q);
        if (dtarget) dtarget[r * C + c] = -k * std::log(q);
      }
    }
  }
}

#define PYDL_INSTANTIATE(T)                                                                                      \
  template void point_loss_reference<T>(PointLoss, const T*, const T*, int64_t, int64_t, T*);                   \
  template void point_loss_backward_reference<T>(PointLoss, const T*, const T*, const T*, int64_t, int64_t, T*, \
                                                 T*);                                                           \
  template void crossentropy_reference<T>(const T*, const T*, const int64_t*, int64_t, int64_t, bool, T*, T*);  \
  template void crossentropy_backward_reference<T>(const T*, const T*, const int64_t*, const T*, const T*,      \
                                                   int64_t, int64_t, bool, T*, T*);
PYDL_INSTANTIATE(float)
PYDL_INSTANTIATE(double)
#undef PYDL_INSTANTIATE

}  // namespace pydl::kernels
