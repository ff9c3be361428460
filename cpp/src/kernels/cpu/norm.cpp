// Fast normalisation kernels: the same equations as reference/norm.cpp, with OpenMP over
// channels (statistics, gamma / beta gradients) or over samples / rows (the elementwise
// passes), and inner loops the compiler vectorises. Sums are in double and each is taken by
// one thread in a fixed order, so results do not depend on the thread count. Nothing is
// allocated: the per-chunk sums live on the stack.
#include "kernels/norm.h"

#include <algorithm>
#include <cmath>

namespace pydl::kernels {

namespace {

constexpr int64_t kParallelMin = 32768;  // elements below which threads cost more than they give
constexpr int64_t kChunk = 64;           // channels per task when S == 1 (the (N, F) layout)

// Channels per task: one when each channel is a contiguous run of S values, else a block of
// kChunk so that the inner loop runs along a contiguous row of channels.
inline int64_t chunk_of(int64_t S) { return S == 1 ? kChunk : 1; }

// For c in [c0, c1): s0[c - c0] = Σ_{n,s} a(n, c, s) and, when s1 is given, s1[c - c0] = Σ b(n, c, s),
// over x viewed as (N, C, S); f(i, n, c) returns the pair (a, b) for element i.
template <typename F>
inline void channel_sums(int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, double* s0, double* s1, F f) {
  for (int64_t c = c0; c < c1; ++c) s0[c - c0] = s1[c - c0] = 0;
  for (int64_t n = 0; n < N; ++n)
    if (S == 1) {
      for (int64_t c = c0; c < c1; ++c) {
        double a, b;
        f(n * C + c, n, c, a, b);
        s0[c - c0] += a;
        s1[c - c0] += b;
      }
    } else {
      for (int64_t c = c0; c < c1; ++c) {
        double a0 = 0, b0 = 0;
        const int64_t base = (n * C + c) * S;
#pragma omp simd reduction(+ : a0, b0)
        for (int64_t s = 0; s < S; ++s) {
          double a, b;
          f(base + s, n, c, a, b);
          a0 += a;
          b0 += b;
        }
        s0[c - c0] += a0;
        s1[c - c0] += b0;
      }
    }
}

}  // namespace

template <typename T>
void batch_norm_stats_fast(const BatchNormGeom& g, const T* x, T* mean, T* var) {
  const double M = double(g.N * g.S);
  const int64_t cb = chunk_of(g.S), chunks = (g.C + cb - 1) / cb;
#pragma omp parallel for schedule(static) if (g.N * g.C * g.S >= kParallelMin)
  for (int64_t ch = 0; ch < chunks; ++ch) {
    const int64_t c0 = ch * cb, c1 = std::min(g.C, c0 + cb);
    double sum[kChunk], unused[kChunk], mu[kChunk], sq[kChunk];
    // mean = Σ x / M
    channel_sums(g.N, g.C, g.S, c0, c1, sum, unused, [&](int64_t i, int64_t, int64_t, double& a, double& b) {
      a = double(x[i]);
      b = 0;
    });
    for (int64_t c = c0; c < c1; ++c) mu[c - c0] = sum[c - c0] / M;
    // var = Σ (x - mean)^2 / M
    channel_sums(g.N, g.C, g.S, c0, c1, sq, unused, [&](int64_t i, int64_t, int64_t c, double& a, double& b) {
      const double d = double(x[i]) - mu[c - c0];
      a = d * d;
      b = 0;
    });
    for (int64_t c = c0; c < c1; ++c) {
      mean[c] = T(mu[c - c0]);
      var[c] = T(sq[c - c0] / M);
    }
  }
}

template <typename T>
void batch_norm_apply_fast(const BatchNormGeom& g, const T* x, const T* mean, const T* invstd, const T* gamma,
                           const T* beta, T* y) {
  // y = (x - mean) * invstd * gamma + beta
#pragma omp parallel for collapse(2) schedule(static) if (g.N * g.C * g.S >= kParallelMin)
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t c = 0; c < g.C; ++c) {
      const T m = mean[c], is = invstd[c], gm = gamma ? gamma[c] : T(1), bt = beta ? beta[c] : T(0);
      const int64_t base = (n * g.C + c) * g.S;
#pragma omp simd
      for (int64_t s = 0; s < g.S; ++s) y[base + s] = (x[base + s] - m) * is * gm + bt;
    }
}

template <typename T>
void batch_norm_backward_fast(const BatchNormGeom& g, const T* gy, const T* x, const T* mean, const T* invstd,
                              const T* gamma, bool training, T* gx, T* ggamma, T* gbeta) {
  const double M = double(g.N * g.S);
  const int64_t cb = chunk_of(g.S), chunks = (g.C + cb - 1) / cb;
  const bool par = g.N * g.C * g.S >= kParallelMin;
#pragma omp parallel if (par)
  {
    // Per channel chunk: Σ gy and Σ gy xhat, then (training) that channel's gx, which needs
    // only its own two sums.
#pragma omp for schedule(static)
    for (int64_t ch = 0; ch < chunks; ++ch) {
      const int64_t c0 = ch * cb, c1 = std::min(g.C, c0 + cb);
      double sg[kChunk], sgx[kChunk];
      channel_sums(g.N, g.C, g.S, c0, c1, sg, sgx, [&](int64_t i, int64_t, int64_t c, double& a, double& b) {
        a = double(gy[i]);
        b = double(gy[i]) * (double(x[i]) - double(mean[c])) * double(invstd[c]);
      });
      for (int64_t c = c0; c < c1; ++c) {
        if (gbeta) gbeta[c] = T(sg[c - c0]);
        if (ggamma) ggamma[c] = T(sgx[c - c0]);
        if (gx && training) {
          // gx = gamma invstd (gy - (Σ gy + xhat Σ gy xhat) / M), channel by channel
          const double scale = (gamma ? double(gamma[c]) : 1.0) * double(invstd[c]);
          const double m = double(mean[c]), is = double(invstd[c]), a = sg[c - c0] / M, b = sgx[c - c0] / M;
          for (int64_t n = 0; n < g.N; ++n) {
            const int64_t base = (n * g.C + c) * g.S;
#pragma omp simd
            for (int64_t s = 0; s < g.S; ++s) {
              const double xhat = (double(x[base + s]) - m) * is;
              gx[base + s] = T(scale * (double(gy[base + s]) - a - xhat * b));
            }
          }
        }
      }
    }
    if (gx && !training) {
      // gx = gamma invstd gy
#pragma omp for collapse(2) schedule(static)
      for (int64_t n = 0; n < g.N; ++n)
        for (int64_t c = 0; c < g.C; ++c) {
          const double scale = (gamma ? double(gamma[c]) : 1.0) * double(invstd[c]);
          const int64_t base = (n * g.C + c) * g.S;
#pragma omp simd
          for (int64_t s = 0; s < g.S; ++s) gx[base + s] = T(scale * double(gy[base + s]));
        }
    }
  }
}

template <typename T>
void group_norm_forward_fast(const GroupNormGeom& g, const T* x, const T* gamma, const T* beta, double eps, T* y,
                             T* mean, T* invstd) {
  const int64_t L = g.len();
#pragma omp parallel for schedule(static) if (g.rows() * L >= kParallelMin)
  for (int64_t r = 0; r < g.rows(); ++r) {
    const T* xr = x + r * L;
    T* yr = y + r * L;
    double sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < L; ++i) sum += double(xr[i]);
    const double mu = sum / double(L);
    double sq = 0;
#pragma omp simd reduction(+ : sq)
    for (int64_t i = 0; i < L; ++i) sq += (double(xr[i]) - mu) * (double(xr[i]) - mu);
    const double is = 1.0 / std::sqrt(sq / double(L) + eps);
    mean[r] = T(mu);
    invstd[r] = T(is);
    const T m = T(mu), ist = T(is);
    const int64_t c0 = (r % g.G) * g.Cg;
    // y = (x - mean) invstd gamma[c] + beta[c]
    if (g.S == 1) {  // layer norm: one value per channel, the row runs along the channels
#pragma omp simd
      for (int64_t k = 0; k < g.Cg; ++k)
        yr[k] = (xr[k] - m) * ist * (gamma ? gamma[c0 + k] : T(1)) + (beta ? beta[c0 + k] : T(0));
      continue;
    }
    for (int64_t k = 0; k < g.Cg; ++k) {
      const T* xk = xr + k * g.S;
      T* yk = yr + k * g.S;
      const T gm = gamma ? gamma[c0 + k] : T(1), bt = beta ? beta[c0 + k] : T(0);
#pragma omp simd
      for (int64_t s = 0; s < g.S; ++s) yk[s] = (xk[s] - m) * ist * gm + bt;
    }
  }
}

template <typename T>
void group_norm_backward_fast(const GroupNormGeom& g, const T* gy, const T* x, const T* mean, const T* invstd,
                              const T* gamma, T* gx, T* ggamma, T* gbeta) {
  const int64_t L = g.len(), C = g.channels();
  const bool par = g.rows() * L >= kParallelMin;
#pragma omp parallel if (par)
  {
    if (ggamma || gbeta) {
      // ggamma[c] = Σ_{n,s} gy xhat, gbeta[c] = Σ_{n,s} gy over x viewed as (N, C, S)
      const int64_t cb = chunk_of(g.S), chunks = (C + cb - 1) / cb;
#pragma omp for schedule(static)
      for (int64_t ch = 0; ch < chunks; ++ch) {
        const int64_t c0 = ch * cb, c1 = std::min(C, c0 + cb);
        double sg[kChunk], sgx[kChunk];
        channel_sums(g.N, C, g.S, c0, c1, sg, sgx, [&](int64_t i, int64_t n, int64_t c, double& a, double& b) {
          const int64_t r = n * g.G + c / g.Cg;
          a = double(gy[i]);
          b = double(gy[i]) * (double(x[i]) - double(mean[r])) * double(invstd[r]);
        });
        for (int64_t c = c0; c < c1; ++c) {
          if (gbeta) gbeta[c] = T(sg[c - c0]);
          if (ggamma) ggamma[c] = T(sgx[c - c0]);
        }
      }
    }
    if (gx) {
#pragma omp for schedule(static)
      for (int64_t r = 0; r < g.rows(); ++r) {
        const int64_t c0 = (r % g.G) * g.Cg, base = r * L;
        const double m = double(mean[r]), is = double(invstd[r]);
        // d = gy gamma[c]; sum_d = Σ_r d, sum_dx = Σ_r d xhat
        double sum_d = 0, sum_dx = 0;
        for (int64_t k = 0; k < g.Cg; ++k) {
          const double gm = gamma ? double(gamma[c0 + k]) : 1.0;
          const int64_t b = base + k * g.S;
          double a0 = 0, b0 = 0;
#pragma omp simd reduction(+ : a0, b0)
          for (int64_t s = 0; s < g.S; ++s) {
            const double d = double(gy[b + s]) * gm;
            a0 += d;
            b0 += d * (double(x[b + s]) - m) * is;
          }
          sum_d += a0;
          sum_dx += b0;
        }
        // gx = invstd (d - (sum_d + xhat sum_dx) / L)
        const double a = sum_d / double(L), bb = sum_dx / double(L);
        for (int64_t k = 0; k < g.Cg; ++k) {
          const double gm = gamma ? double(gamma[c0 + k]) : 1.0;
          const int64_t b = base + k * g.S;
#pragma omp simd
          for (int64_t s = 0; s < g.S; ++s) {
            const double xhat = (double(x[b + s]) - m) * is;
            gx[b + s] = T(is * (double(gy[b + s]) * gm - a - xhat * bb));
          }
        }
      }
    }
  }
}

#define PYDL_NORM_FAST(T)                                                                                          \
  template void batch_norm_stats_fast<T>(const BatchNormGeom&, const T*, T*, T*);                                  \
  template void batch_norm_apply_fast<T>(const BatchNormGeom&, const T*, const T*, const T*, const T*, const T*,   \
                                         T*);                                                                      \
  template void batch_norm_backward_fast<T>(const BatchNormGeom&, const T*, const T*, const T*, const T*,          \
                                            const T*, bool, T*, T*, T*);                                           \
  template void group_norm_forward_fast<T>(const GroupNormGeom&, const T*, const T*, const T*, double, T*, T*,     \
                                           T*);                                                                    \
  template void group_norm_backward_fast<T>(const GroupNormGeom&, const T*, const T*, const T*, const T*,          \
                                            const T*, T*, T*, T*);
PYDL_NORM_FAST(float)
PYDL_NORM_FAST(double)
#undef PYDL_NORM_FAST

}  // namespace pydl::kernels
