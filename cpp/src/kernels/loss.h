// Loss kernels: the scalar equations (written once, used by both backends) and the loops.
//
// Every loss sees its prediction as R rows of D values (R = batch x positions, D = the last
// axis) and produces one value per row; the op (ops/loss.cpp) weights and reduces the rows.
// Backward receives coef[r] = d(loss)/d(row r's value) and writes each element's gradient.
//   reference/loss.cpp  plain loops beside the equations
//   cpu/loss.cpp        rows spread over OpenMP threads, SIMD inside a row; each row is
//                       reduced by one thread, so results do not depend on the thread count.
#pragma once
#include <cmath>
#include <cstdint>

namespace pydl::kernels {

// Keras's backend epsilon: probabilities are clipped to [eps, 1 - eps] before the log.
constexpr double kLossEpsilon = 1e-7;

// Losses whose row value is the mean over D of a pointwise f(p, t).
enum class PointLoss : uint8_t { SquaredError, AbsoluteError, BinaryCrossentropy, BinaryCrossentropyLogits };

// f(p, t) and its partial derivatives dp = df/dp, dt = df/dt.
// (p - t)^2
struct SquaredErrorL {
  template <typename T> static inline T f(T p, T t) { T d = p - t; return d * d; }
  template <typename T> static inline T dp(T p, T t) { return T(2) * (p - t); }
  template <typename T> static inline T dt(T p, T t) { return T(-2) * (p - t); }
};
// |p - t|   (derivative sign(p - t), 0 at p == t)
struct AbsoluteErrorL {
  template <typename T> static inline T f(T p, T t) { return std::fabs(p - t); }
  template <typename T> static inline T dp(T p, T t) { return p > t ? T(1) : (p < t ? T(-1) : T(0)); }
  template <typename T> static inline T dt(T p, T t) { return -dp(p, t); }
};
// -(t log q + (1 - t) log(1 - q)),  q = clip(p, eps, 1 - eps)   (zero gradient where clipped)
struct BinaryCrossentropyL {
  template <typename T> static inline T clipped(T p) {
    const T lo = T(kLossEpsilon), hi = T(1) - T(kLossEpsilon);
    return p < lo ? lo : (p > hi ? hi : p);
  }
  template <typename T> static inline T f(T p, T t) {
    T q = clipped(p);
    return -(t * std::log(q) + (T(1) - t) * std::log(T(1) - q));
  }
  template <typename T> static inline T dp(T p, T t) {
    const T lo = T(kLossEpsilon), hi = T(1) - T(kLossEpsilon);
    if (p < lo || p > hi) return T(0);
    return (T(1) - t) / (T(1) - p) - t / p;
  }
  template <typename T> static inline T dt(T p, T t) { T q = clipped(p); return std::log(T(1) - q) - std::log(q); }
};
// From a logit x: max(x, 0) - x t + log(1 + e^-|x|)   (never overflows); d/dx = sigmoid(x) - t
struct BinaryCrossentropyLogitsL {
  template <typename T> static inline T f(T x, T t) {
    return (x > T(0) ? x : T(0)) - x * t + std::log1p(std::exp(-std::fabs(x)));
  }
  template <typename T> static inline T dp(T x, T t) {
    T e = std::exp(-std::fabs(x));  // sigmoid(x) without overflow
    T s = x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
    return s - t;
  }
  template <typename T> static inline T dt(T x, T t) { return -x; }
};

template <typename Fn>
inline void with_point_loss(PointLoss k, Fn&& fn) {
  switch (k) {
    case PointLoss::SquaredError: return fn(SquaredErrorL{});
    case PointLoss::AbsoluteError: return fn(AbsoluteErrorL{});
    case PointLoss::BinaryCrossentropy: return fn(BinaryCrossentropyL{});
    case PointLoss::BinaryCrossentropyLogits: return fn(BinaryCrossentropyLogitsL{});
  }
}

// ---------------------------------------------------------------- pointwise losses
// pred, target: (R, D) contiguous; loss: (R).
//   loss[r] = (1/D) sum_d f(pred[r, d], target[r, d])
template <typename T>
void point_loss_reference(PointLoss k, const T* pred, const T* target, int64_t R, int64_t D, T* loss);
template <typename T>
void point_loss_fast(PointLoss k, const T* pred, const T* target, int64_t R, int64_t D, T* loss);
//   dpred[r, d] = coef[r] / D * df/dp,  dtarget[r, d] = coef[r] / D * df/dt   (null: not wanted)
template <typename T>
void point_loss_backward_reference(PointLoss k, const T* pred, const T* target, const T* coef, int64_t R, int64_t D,
                                   T* dpred, T* dtarget);
template <typename T>
void point_loss_backward_fast(PointLoss k, const T* pred, const T* target, const T* coef, int64_t R, int64_t D,
                              T* dpred, T* dtarget);

// ---------------------------------------------------------------- crossentropy over classes
// pred (R, C); the target is either `target` (R, C) (one-hot or probabilities) or `labels` (R)
// (class ids, already checked to lie in [0, C)); the other is null.
//   from logits x:   lse = log sum_c e^x_c (max subtracted first); aux[r] = lse
//                    loss[r] = -sum_c t_c (x_c - lse)
//   from probs p:    s = sum_c p_c (1 for an all-zero row: q = eps, finite); q_c = clip(p_c / s, eps, 1 - eps);
//                    aux[r] = s
//                    loss[r] = -sum_c t_c log q_c
template <typename T>
void crossentropy_reference(const T* pred, const T* target, const int64_t* labels, int64_t R, int64_t C,
                            bool from_logits, T* loss, T* aux);
template <typename T>
void crossentropy_fast(const T* pred, const T* target, const int64_t* labels, int64_t R, int64_t C,
                       bool from_logits, T* loss, T* aux);
//   logits: dx_c = coef (softmax_c sum_k t_k - t_c);    dt_c = -coef (x_c - lse)
//   probs:  with G_c = -t_c / q_c (0 where q_c was clipped): dp_c = coef (G_c - sum_k G_k q_k) / s;
//           dt_c = -coef log q_c
template <typename T>
void crossentropy_backward_reference(const T* pred, const T* target, const int64_t* labels, const T* aux,
                                     const T* coef, int64_t R, int64_t C, bool from_logits, T* dpred, T* dtarget);
template <typename T>
void crossentropy_backward_fast(const T* pred, const T* target, const int64_t* labels, const T* aux,
                                const T* coef, int64_t R, int64_t C, bool from_logits, T* dpred, T* dtarget);

}  // namespace pydl::kernels
