// Fast RBM kernels: each conditional is one GEMM (v W or h Wᵀ) followed by an OpenMP pass that adds
// the bias, takes the sigmoid and draws the sample; the CD statistics are two GEMMs and two column
// sums. Equations: kernels/rbm.h and reference/rbm.cpp.
#include <cmath>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/math.h"
#include "kernels/rbm.h"
#include "pydl/random.h"

namespace pydl::kernels {

namespace {

constexpr int64_t kParallelMin = 1 << 14;

template <typename T>
T softplus(T a) {
  return a > 0 ? a + std::log1p(std::exp(-a)) : std::log1p(std::exp(a));
}

// p = σ(p + bias) row by row (p holds the GEMM's result), and the sample where asked.
template <typename T>
void sigmoid_sample(int64_t rows, int64_t cols, const T* bias, T* p, T* sample, uint64_t seed, uint64_t counter) {
  const int64_t n = rows * cols;
#pragma omp parallel for if (n >= kParallelMin) schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t k = r * cols + j;
      p[k] = sigmoid_of(p[k] + bias[j]);
      if (sample) sample[k] = random::uniform01(seed, counter + static_cast<uint64_t>(k)) < p[k] ? T(1) : T(0);
    }
}

}  // namespace

template <typename T>
void rbm_hidden_fast(const RbmGeom& g, const T* v, const T* w, const T* c, T* p, T* sample, uint64_t seed,
                     uint64_t counter) {
  gemm_fast<T>(false, false, g.B, g.H, g.V, T(1), v, g.V, w, g.H, T(0), p, g.H);  // v W
  sigmoid_sample(g.B, g.H, c, p, sample, seed, counter);
}

template <typename T>
void rbm_visible_fast(const RbmGeom& g, const T* h, const T* w, const T* b, T* p, T* sample, uint64_t seed,
                      uint64_t counter) {
  gemm_fast<T>(false, true, g.B, g.V, g.H, T(1), h, g.H, w, g.H, T(0), p, g.V);  // h Wᵀ
  sigmoid_sample(g.B, g.V, b, p, sample, seed, counter);
}

template <typename T>
void rbm_cd_grad_fast(const RbmGeom& g, const T* v0, const T* p0, const T* vk, const T* pk, T* dw, T* db, T* dc) {
  const T inv = T(1) / T(g.B);
  gemm_fast<T>(true, false, g.V, g.H, g.B, inv, vk, g.V, pk, g.H, T(0), dw, g.H);   // v_kᵀ p_k / B
  gemm_fast<T>(true, false, g.V, g.H, g.B, -inv, v0, g.V, p0, g.H, T(1), dw, g.H);  // - v_0ᵀ p_0 / B
  std::vector<T> sb(static_cast<size_t>(g.V), T(0)), sc(static_cast<size_t>(g.H), T(0));
  for (int64_t n = 0; n < g.B; ++n) {
    for (int64_t i = 0; i < g.V; ++i) sb[i] += vk[n * g.V + i] - v0[n * g.V + i];
    for (int64_t j = 0; j < g.H; ++j) sc[j] += pk[n * g.H + j] - p0[n * g.H + j];
  }
  for (int64_t i = 0; i < g.V; ++i) db[i] = sb[i] * inv;
  for (int64_t j = 0; j < g.H; ++j) dc[j] = sc[j] * inv;
}

template <typename T>
void rbm_free_energy_fast(const RbmGeom& g, const T* v, const T* w, const T* b, const T* c, T* out) {
  std::vector<T> a(static_cast<size_t>(g.B * g.H));
  gemm_fast<T>(false, false, g.B, g.H, g.V, T(1), v, g.V, w, g.H, T(0), a.data(), g.H);  // v W
  const T* ap = a.data();
#pragma omp parallel for if (g.B * (g.V + g.H) >= kParallelMin) schedule(static)
  for (int64_t n = 0; n < g.B; ++n) {
    T f = 0;
    for (int64_t i = 0; i < g.V; ++i) f -= b[i] * v[n * g.V + i];
    for (int64_t j = 0; j < g.H; ++j) f -= softplus(ap[n * g.H + j] + c[j]);
    out[n] = f;
  }
}

#define PYDL_INSTANTIATE_RBM_FAST(T)                                                                            \
  template void rbm_hidden_fast<T>(const RbmGeom&, const T*, const T*, const T*, T*, T*, uint64_t, uint64_t);   \
  template void rbm_visible_fast<T>(const RbmGeom&, const T*, const T*, const T*, T*, T*, uint64_t, uint64_t);  \
  template void rbm_cd_grad_fast<T>(const RbmGeom&, const T*, const T*, const T*, const T*, T*, T*, T*);        \
  template void rbm_free_energy_fast<T>(const RbmGeom&, const T*, const T*, const T*, const T*, T*);
PYDL_INSTANTIATE_RBM_FAST(float)
PYDL_INSTANTIATE_RBM_FAST(double)

}  // namespace pydl::kernels
