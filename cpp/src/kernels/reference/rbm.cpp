// Reference RBM kernels: the equations of kernels/rbm.h as plain loops.
#include <cmath>

#include "kernels/math.h"
#include "kernels/rbm.h"
#include "pydl/random.h"

namespace pydl::kernels {

namespace {

// softplus(a) = log(1 + e^a), without overflow for large a
template <typename T>
T softplus(T a) {
  return a > 0 ? a + std::log1p(std::exp(-a)) : std::log1p(std::exp(a));
}

}  // namespace

template <typename T>
void rbm_hidden_reference(const RbmGeom& g, const T* v, const T* w, const T* c, T* p, T* sample, uint64_t seed,
                          uint64_t counter) {
  for (int64_t n = 0; n < g.B; ++n)
    for (int64_t j = 0; j < g.H; ++j) {
      // p(h_j = 1 | v) = σ(c_j + Σ_i v_i W_ij)
      T a = c[j];
      for (int64_t i = 0; i < g.V; ++i) a += v[n * g.V + i] * w[i * g.H + j];
      const int64_t k = n * g.H + j;
      p[k] = sigmoid_of(a);
      if (sample) sample[k] = random::uniform01(seed, counter + static_cast<uint64_t>(k)) < p[k] ? T(1) : T(0);
    }
}

template <typename T>
void rbm_visible_reference(const RbmGeom& g, const T* h, const T* w, const T* b, T* p, T* sample, uint64_t seed,
                           uint64_t counter) {
  for (int64_t n = 0; n < g.B; ++n)
    for (int64_t i = 0; i < g.V; ++i) {
      // p(v_i = 1 | h) = σ(b_i + Σ_j W_ij h_j)
      T a = b[i];
      for (int64_t j = 0; j < g.H; ++j) a += w[i * g.H + j] * h[n * g.H + j];
      const int64_t k = n * g.V + i;
      p[k] = sigmoid_of(a);
      if (sample) sample[k] = random::uniform01(seed, counter + static_cast<uint64_t>(k)) < p[k] ? T(1) : T(0);
    }
}

template <typename T>
void rbm_cd_grad_reference(const RbmGeom& g, const T* v0, const T* p0, const T* vk, const T* pk, T* dw, T* db,
                           T* dc) {
  const T inv = T(1) / T(g.B);
  for (int64_t i = 0; i < g.V; ++i)
    for (int64_t j = 0; j < g.H; ++j) {
      // dW_ij = (Σ_n vk_ni pk_nj - v0_ni p0_nj) / B
      T s = 0;
      for (int64_t n = 0; n < g.B; ++n) s += vk[n * g.V + i] * pk[n * g.H + j] - v0[n * g.V + i] * p0[n * g.H + j];
      dw[i * g.H + j] = s * inv;
    }
  for (int64_t i = 0; i < g.V; ++i) {
    T s = 0;
    for (int64_t n = 0; n < g.B; ++n) s += vk[n * g.V + i] - v0[n * g.V + i];
    db[i] = s * inv;
  }
  for (int64_t j = 0; j < g.H; ++j) {
    T s = 0;
    for (int64_t n = 0; n < g.B; ++n) s += pk[n * g.H + j] - p0[n * g.H + j];
    dc[j] = s * inv;
  }
}

template <typename T>
void rbm_free_energy_reference(const RbmGeom& g, const T* v, const T* w, const T* b, const T* c, T* out) {
  for (int64_t n = 0; n < g.B; ++n) {
    // F(v) = -Σ_i b_i v_i - Σ_j softplus(c_j + Σ_i v_i W_ij)
    T f = 0;
    for (int64_t i = 0; i < g.V; ++i) f -= b[i] * v[n * g.V + i];
    for (int64_t j = 0; j < g.H; ++j) {
      T a = c[j];
      for (int64_t i = 0; i < g.V; ++i) a += v[n * g.V + i] * w[i * g.H + j];
      f -= softplus(a);
    }
    out[n] = f;
  }
}

#define PYDL_INSTANTIATE_RBM_REF(T)                                                                        \
  template void rbm_hidden_reference<T>(const RbmGeom&, const T*, const T*, const T*, T*, T*, uint64_t,    \
                                        uint64_t);                                                         \
  template void rbm_visible_reference<T>(const RbmGeom&, const T*, const T*, const T*, T*, T*, uint64_t,   \
                                         uint64_t);                                                        \
  template void rbm_cd_grad_reference<T>(const RbmGeom&, const T*, const T*, const T*, const T*, T*, T*, T*); \
  template void rbm_free_energy_reference<T>(const RbmGeom&, const T*, const T*, const T*, const T*, T*);
PYDL_INSTANTIATE_RBM_REF(float)
PYDL_INSTANTIATE_RBM_REF(double)

}  // namespace pydl::kernels
