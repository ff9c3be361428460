// Reference normalisation: the loops of the slide's equations, sums in double, no threads.
// The fast kernels in cpu/norm.cpp are tested against these (cpp/tests/test_norm.cpp).
// Index names: n sample, c channel, s position within the channel (spatial), r = (n, g) a
// group-norm row, k channel within the group.
#include "kernels/norm.h"

#include <cmath>

namespace pydl::kernels {

template <typename T>
void batch_norm_stats_reference(const BatchNormGeom& g, const T* x, T* mean, T* var) {
  const double M = double(g.N * g.S);
  for (int64_t c = 0; c < g.C; ++c) {
    // mean = Σ x / M
    double sum = 0;
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t s = 0; s < g.S; ++s) sum += double(x[(n * g.C + c) * g.S + s]);
    const double mu = sum / M;
    // var = Σ (x - mean)^2 / M
    double sq = 0;
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t s = 0; s < g.S; ++s) {
        const double d = double(x[(n * g.C + c) * g.S + s]) - mu;
        sq += d * d;
      }
    mean[c] = T(mu);
    var[c] = T(sq / M);
  }
}

template <typename T>
void batch_norm_apply_reference(const BatchNormGeom& g, const T* x, const T* mean, const T* invstd, const T* gamma,
                                const T* beta, T* y) {
  // y = (x - mean) * invstd * gamma + beta
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t s = 0; s < g.S; ++s) {
        const int64_t i = (n * g.C + c) * g.S + s;
        const T xhat = (x[i] - mean[c]) * invstd[c];
        y[i] = xhat * (gamma ? gamma[c] : T(1)) + (beta ? beta[c] : T(0));
      }
}

template <typename T>
void batch_norm_backward_reference(const BatchNormGeom& g, const T* gy, const T* x, const T* mean, const T* invstd,
                                   const T* gamma, bool training, T* gx, T* ggamma, T* gbeta) {
  const double M = double(g.N * g.S);
  for (int64_t c = 0; c < g.C; ++c) {
    // sum_g = Σ gy,  sum_gx = Σ gy * xhat
    double sum_g = 0, sum_gx = 0;
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t s = 0; s < g.S; ++s) {
        const int64_t i = (n * g.C + c) * g.S + s;
        const double xhat = (double(x[i]) - double(mean[c])) * double(invstd[c]);
        sum_g += double(gy[i]);
        sum_gx += double(gy[i]) * xhat;
      }
    if (gbeta) gbeta[c] = T(sum_g);
    if (ggamma) ggamma[c] = T(sum_gx);
    if (!gx) continue;
    const double scale = (gamma ? double(gamma[c]) : 1.0) * double(invstd[c]);
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t s = 0; s < g.S; ++s) {
        const int64_t i = (n * g.C + c) * g.S + s;
        if (training) {
          // gx = gamma invstd (gy - (Σ gy + xhat Σ gy xhat) / M)
          const double xhat = (double(x[i]) - double(mean[c])) * double(invstd[c]);
          gx[i] = T(scale * (double(gy[i]) - (sum_g + xhat * sum_gx) / M));
        } else {
          gx[i] = T(scale * double(gy[i]));  // gx = gamma invstd gy
        }
      }
  }
}

template <typename T>
void group_norm_forward_reference(const GroupNormGeom& g, const T* x, const T* gamma, const T* beta, double eps, T* y,
                                  T* mean, T* invstd) {
  const int64_t L = g.len();
  for (int64_t r = 0; r < g.rows(); ++r) {
    const T* xr = x + r * L;
    // mean = Σ x / L, var = Σ (x - mean)^2 / L
    double sum = 0;
    for (int64_t i = 0; i < L; ++i) sum += double(xr[i]);
    const double mu = sum / double(L);
    double sq = 0;
    for (int64_t i = 0; i < L; ++i) sq += (double(xr[i]) - mu) * (double(xr[i]) - mu);
    const double is = 1.0 / std::sqrt(sq / double(L) + eps);
    mean[r] = T(mu);
    invstd[r] = T(is);
    // y = (x - mean) invstd gamma[c] + beta[c], c = g * Cg + k
    const int64_t grp = r % g.G;
    for (int64_t k = 0; k < g.Cg; ++k)
      for (int64_t s = 0; s < g.S; ++s) {
        const int64_t c = grp * g.Cg + k, i = k * g.S + s;
        const T xhat = (xr[i] - T(mu)) * T(is);
        y[r * L + i] = xhat * (gamma ? gamma[c] : T(1)) + (beta ? beta[c] : T(0));
      }
  }
}

template <typename T>
void group_norm_backward_reference(const GroupNormGeom& g, const T* gy, const T* x, const T* mean, const T* invstd,
                                   const T* gamma, T* gx, T* ggamma, T* gbeta) {
  const int64_t L = g.len(), C = g.channels();
  if (ggamma)
    for (int64_t c = 0; c < C; ++c) ggamma[c] = T(0);
  if (gbeta)
    for (int64_t c = 0; c < C; ++c) gbeta[c] = T(0);
  // ggamma[c] = Σ_{n,s} gy xhat,  gbeta[c] = Σ_{n,s} gy
  for (int64_t c = 0; c < C; ++c) {
    double sg = 0, sgx = 0;
    const int64_t grp = c / g.Cg, k = c % g.Cg;
    for (int64_t n = 0; n < g.N; ++n) {
      const int64_t r = n * g.G + grp;
      for (int64_t s = 0; s < g.S; ++s) {
        const int64_t i = r * L + k * g.S + s;
        sg += double(gy[i]);
        sgx += double(gy[i]) * (double(x[i]) - double(mean[r])) * double(invstd[r]);
      }
    }
    if (gbeta) gbeta[c] = T(sg);
    if (ggamma) ggamma[c] = T(sgx);
  }
  if (!gx) return;
  for (int64_t r = 0; r < g.rows(); ++r) {
    const int64_t grp = r % g.G;
    // d = gy gamma[c];  sum_d = Σ_r d,  sum_dx = Σ_r d xhat
    double sum_d = 0, sum_dx = 0;
    for (int64_t k = 0; k < g.Cg; ++k)
      for (int64_t s = 0; s < g.S; ++s) {
        const int64_t i = r * L + k * g.S + s;
        const double d = double(gy[i]) * (gamma ? double(gamma[grp * g.Cg + k]) : 1.0);
        sum_d += d;
        sum_dx += d * (double(x[i]) - double(mean[r])) * double(invstd[r]);
      }
    // gx = invstd (d - (sum_d + xhat sum_dx) / L)
    for (int64_t k = 0; k < g.Cg; ++k)
      for (int64_t s = 0; s < g.S; ++s) {
        const int64_t i = r * L + k * g.S + s;
        const double d = double(gy[i]) * (gamma ? double(gamma[grp * g.Cg + k]) : 1.0);
        const double xhat = (double(x[i]) - double(mean[r])) * double(invstd[r]);
        gx[i] = T(double(invstd[r]) * (d - (sum_d + xhat * sum_dx) / double(L)));
      }
  }
}

#define PYDL_NORM_REF(T)                                                                                           \
  template void batch_norm_stats_reference<T>(const BatchNormGeom&, const T*, T*, T*);                             \
  template void batch_norm_apply_reference<T>(const BatchNormGeom&, const T*, const T*, const T*, const T*,        \
                                              const T*, T*);                                                       \
  template void batch_norm_backward_reference<T>(const BatchNormGeom&, const T*, const T*, const T*, const T*,     \
                                                 const T*, bool, T*, T*, T*);                                      \
  template void group_norm_forward_reference<T>(const GroupNormGeom&, const T*, const T*, const T*, double, T*,    \
                                                T*, T*);                                                           \
  template void group_norm_backward_reference<T>(const GroupNormGeom&, const T*, const T*, const T*, const T*,     \
                                                 const T*, T*, T*, T*);
PYDL_NORM_REF(float)
PYDL_NORM_REF(double)
#undef PYDL_NORM_REF

}  // namespace pydl::kernels
