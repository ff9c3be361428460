// Normalisation kernels (batch, layer and group norm), reference loops and fast (OpenMP)
// versions. Shapes are checked by ops/norm.cpp before any kernel runs; every buffer is
// contiguous. Statistics are summed in double (the project's rule for reductions); the
// variance is the biased one, E[(x - mean)^2], taken in a second pass over x.
// gamma / beta may be null (meaning 1 and 0); a null gradient pointer is not computed.
// Backward kernels overwrite their outputs; the autograd engine accumulates.
#pragma once
#include <cstdint>

namespace pydl::kernels {

// ---------------------------------------------------------------- batch norm
// x viewed as (N, C, S): NCHW has S = H * W, (N, F) has S = 1. Statistics per channel c over
// the M = N * S values x[n, c, s].
struct BatchNormGeom {
  int64_t N, C, S;
};

// mean[c] = Σ_{n,s} x / M,  var[c] = Σ_{n,s} (x - mean[c])^2 / M      (mean, var: (C,))
template <typename T>
void batch_norm_stats_reference(const BatchNormGeom& g, const T* x, T* mean, T* var);
template <typename T>
void batch_norm_stats_fast(const BatchNormGeom& g, const T* x, T* mean, T* var);

// y[n,c,s] = (x[n,c,s] - mean[c]) * invstd[c] * gamma[c] + beta[c]
template <typename T>
void batch_norm_apply_reference(const BatchNormGeom& g, const T* x, const T* mean, const T* invstd, const T* gamma,
                                const T* beta, T* y);
template <typename T>
void batch_norm_apply_fast(const BatchNormGeom& g, const T* x, const T* mean, const T* invstd, const T* gamma,
                           const T* beta, T* y);

// With xhat = (x - mean[c]) invstd[c]:
//   gbeta[c] = Σ_{n,s} gy,   ggamma[c] = Σ_{n,s} gy xhat
//   training (mean, invstd from this batch):  gx = gamma invstd (gy - (Σ gy + xhat Σ gy xhat) / M)
//   inference (mean, invstd constants):       gx = gamma invstd gy
template <typename T>
void batch_norm_backward_reference(const BatchNormGeom& g, const T* gy, const T* x, const T* mean, const T* invstd,
                                   const T* gamma, bool training, T* gx, T* ggamma, T* gbeta);
template <typename T>
void batch_norm_backward_fast(const BatchNormGeom& g, const T* gy, const T* x, const T* mean, const T* invstd,
                              const T* gamma, bool training, T* gx, T* ggamma, T* gbeta);

// ---------------------------------------------------------------- group norm (and layer norm)
// x viewed as (N, G, Cg, S): statistics per row r = (n, g) over its L = Cg * S values; the
// element (n, g, k, s) belongs to channel c = g * Cg + k, which carries gamma[c], beta[c].
// group_norm of (N, C, ...): G groups, Cg = C / G, S = the spatial size.
// layer_norm over the trailing D values: N = the leading size, G = 1, Cg = D, S = 1.
struct GroupNormGeom {
  int64_t N, G, Cg, S;
  int64_t rows() const { return N * G; }
  int64_t len() const { return Cg * S; }
  int64_t channels() const { return G * Cg; }
};

// mean[r] = Σ x_r / L,  invstd[r] = 1 / sqrt(Σ (x_r - mean[r])^2 / L + eps),
// y = (x - mean[r]) invstd[r] gamma[c] + beta[c]                        (mean, invstd: (N * G,))
template <typename T>
void group_norm_forward_reference(const GroupNormGeom& g, const T* x, const T* gamma, const T* beta, double eps, T* y,
                                  T* mean, T* invstd);
template <typename T>
void group_norm_forward_fast(const GroupNormGeom& g, const T* x, const T* gamma, const T* beta, double eps, T* y,
                             T* mean, T* invstd);

// With xhat = (x - mean[r]) invstd[r] and d = gy gamma[c]:
//   gx = invstd[r] (d - (Σ_r d + xhat Σ_r d xhat) / L)
//   ggamma[c] = Σ_{n,s} gy xhat,  gbeta[c] = Σ_{n,s} gy
template <typename T>
void group_norm_backward_reference(const GroupNormGeom& g, const T* gy, const T* x, const T* mean, const T* invstd,
                                   const T* gamma, T* gx, T* ggamma, T* gbeta);
template <typename T>
void group_norm_backward_fast(const GroupNormGeom& g, const T* gy, const T* x, const T* mean, const T* invstd,
                              const T* gamma, T* gx, T* ggamma, T* gbeta);

}  // namespace pydl::kernels
