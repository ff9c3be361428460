// Fast loss kernels: rows spread over OpenMP threads, SIMD reductions inside a row. Each row
// is reduced by a single thread, so the result does not depend on the thread count.
#include "kernels/loss.h"

#include <cmath>

namespace pydl::kernels {

// Spread rows over threads only when there is enough work to pay for the fork.
constexpr int64_t kLossParallelMin = 32768;

template <typename T>
void point_loss_fast(PointLoss k, const T* pred, const T* target, int64_t R, int64_t D, T* loss) {
  with_point_loss(k, [&](auto F) {
    using L = decltype(F);
#pragma omp parallel for schedule(static) if (R * D >= kLossParallelMin && R > 1)
    for (int64_t r = 0; r < R; ++r) {
      const T* p = pred + r * D;
      const T* t = target + r * D;
      double acc = 0;  // in double, as the reductions (and the reference) sum
#pragma omp simd reduction(+ : acc)
      for (int64_t d = 0; d < D; ++d) acc += double(L::f(p[d], t[d]));
      loss[r] = D > 0 ? T(acc / double(D)) : T(0);
    }
  });
}

template <typename T>
void point_loss_backward_fast(PointLoss k, const T* pred, const T* target, const T* coef, int64_t R, int64_t D,
                              T* dpred, T* dtarget) {
  with_point_loss(k, [&](auto F) {
    using L = decltype(F);
#pragma omp parallel for schedule(static) if (R * D >= kLossParallelMin && R > 1)
    for (int64_t r = 0; r < R; ++r) {
      const T c = coef[r] / T(D);
      const T* p = pred + r * D;
      const T* t = target + r * D;
      if (dpred) {
        T* o = dpred + r * D;
#pragma omp simd
        for (int64_t d = 0; d < D; ++d) o[d] = c * L::dp(p[d], t[d]);
      }
      if (dtarget) {
        T* o = dtarget + r * D;
#pragma omp simd
        for (int64_t d = 0; d < D; ++d) o[d] = c * L::dt(p[d], t[d]);
      }
    }
  });
}

template <typename T>
static inline T row_max(const T* x, int64_t C) {
  T m = x[0];
  for (int64_t c = 1; c < C; ++c) m = x[c] > m ? x[c] : m;
  return m;
}

template <typename T>
void crossentropy_fast(const T* pred, const T* target, const int64_t* labels, int64_t R, int64_t C,
                       bool from_logits, T* loss, T* aux) {
  const T lo = T(kLossEpsilon), hi = T(1) - T(kLossEpsilon);
#pragma omp parallel for schedule(static) if (R * C >= kLossParallelMin && R > 1)
  for (int64_t r = 0; r < R; ++r) {
    const T* x = pred + r * C;
    const T* t = target ? target + r * C : nullptr;
    if (from_logits) {
      const T m = row_max(x, C);
      double s = 0;  // row sums in double, as the reductions (and the reference) sum
#pragma omp simd reduction(+ : s)
      for (int64_t c = 0; c < C; ++c) s += double(std::exp(x[c] - m));
      const T lse = m + std::log(T(s));
      aux[r] = lse;
      if (!t) {
        loss[r] = lse - x[labels[r]];  // -(x_y - lse)
        continue;
      }
      double l = 0;
#pragma omp simd reduction(+ : l)
      for (int64_t c = 0; c < C; ++c) l -= double(t[c] * (x[c] - lse));
      loss[r] = T(l);
    } else {
      double sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t c = 0; c < C; ++c) sum += double(x[c]);
      T s = T(sum);
      if (s == T(0)) s = T(1);  // an all-zero row: every q_c = 0, clipped to eps (finite, not 0/0)
      aux[r] = s;
      if (!t) {
        T q = x[labels[r]] / s;
        loss[r] = -std::log(q < lo ? lo : (q > hi ? hi : q));
        continue;
      }
      double l = 0;
#pragma omp simd reduction(+ : l)
      for (int64_t c = 0; c < C; ++c) {
        T q = x[c] / s;
        q = q < lo ? lo : (q > hi ? hi : q);
        l -= double(t[c] * std::log(q));
      }
      loss[r] = T(l);
    }
  }
}

template <typename T>
void crossentropy_backward_fast(const T* pred, const T* target, const int64_t* labels, const T* aux,
                                const T* coef, int64_t R, int64_t C, bool from_logits, T* dpred, T* dtarget) {
  const T lo = T(kLossEpsilon), hi = T(1) - T(kLossEpsilon);
#pragma omp parallel for schedule(static) if (R * C >= kLossParallelMin && R > 1)
  for (int64_t r = 0; r < R; ++r) {
    const T* x = pred + r * C;
    const T* t = target ? target + r * C : nullptr;
    const T k = coef[r];
    T* dp = dpred ? dpred + r * C : nullptr;
    T* dt = dtarget ? dtarget + r * C : nullptr;
    if (from_logits) {
      const T lse = aux[r];
      if (!t) {  // one-hot at y: dx = k (softmax - e_y)
        if (dp) {
#pragma omp simd
          for (int64_t c = 0; c < C; ++c) dp[c] = k * std::exp(x[c] - lse);
          dp[labels[r]] -= k;
        }
        continue;
      }
      T tsum = 0;
#pragma omp simd reduction(+ : tsum)
      for (int64_t c = 0; c < C; ++c) tsum += t[c];
      if (dp) {
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) dp[c] = k * (std::exp(x[c] - lse) * tsum - t[c]);
      }
      if (dt) {
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) dt[c] = -k * (x[c] - lse);
      }
    } else {
      const T s = aux[r];
      if (!t) {  // only G_y = -1 / q_y is non-zero
        if (!dp) continue;
        const int64_t y = labels[r];
        const T qy = x[y] / s;
        const bool inside = qy >= lo && qy <= hi;
        const T gq = inside ? T(-1) : T(0);
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) dp[c] = -k * gq / s;
        if (inside) dp[y] += k * (T(-1) / qy) / s;
        continue;
      }
      T gq = 0;
#pragma omp simd reduction(+ : gq)
      for (int64_t c = 0; c < C; ++c) {
        const T q = x[c] / s;
        gq -= (q >= lo && q <= hi) ? t[c] : T(0);
      }
      if (dp) {
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) {
          const T q = x[c] / s;
          const T G = (q >= lo && q <= hi) ? -t[c] / q : T(0);
          dp[c] = k * (G - gq) / s;
        }
      }
      if (dt) {
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) {
          T q = x[c] / s;
          q = q < lo ? lo : (q > hi ? hi : q);
          dt[c] = -k * std::log(q);
        }
      }
    }
  }
}

#define PYDL_INSTANTIATE(T)                                                                                   \
  template void point_loss_fast<T>(PointLoss, const T*, const T*, int64_t, int64_t, T*);                     \
  template void point_loss_backward_fast<T>(PointLoss, const T*, const T*, const T*, int64_t, int64_t, T*, T*); \
  template void crossentropy_fast<T>(const T*, const T*, const int64_t*, int64_t, int64_t, bool, T*, T*);     \
  template void crossentropy_backward_fast<T>(const T*, const T*, const int64_t*, const T*, const T*, int64_t, \
                                              int64_t, bool, T*, T*);
PYDL_INSTANTIATE(float)
PYDL_INSTANTIATE(double)
#undef PYDL_INSTANTIATE

}  // namespace pydl::kernels
