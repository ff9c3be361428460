// Bernoulli restricted Boltzmann machine kernels (issue 10): the two conditionals of a Gibbs step,
// the contrastive-divergence statistics and the free energy; reference loops and fast versions.
// Shapes are checked by ops/rbm.cpp; every buffer is contiguous (row-major):
//   v (B, V) visible units in [0, 1]     W (V, H)     b (V,) visible bias     c (H,) hidden bias
//   h (B, H) hidden units
// A sample is drawn as  s = [u < p]  with u = random::uniform01(seed, counter + index), index the
// row-major position in the (B, H) or (B, V) output: both backends draw the same u for the same
// unit, so given the same probabilities they draw the same sample, whatever the thread count.
#pragma once
#include <cstdint>

namespace pydl::kernels {

struct RbmGeom {
  int64_t B, V, H;
};

// Hidden given visible:  p_j = σ(c_j + Σ_i v_i W_ij);  sample (may be null) = [u < p]
template <typename T>
void rbm_hidden_reference(const RbmGeom& g, const T* v, const T* w, const T* c, T* p, T* sample, uint64_t seed,
                          uint64_t counter);
template <typename T>
void rbm_hidden_fast(const RbmGeom& g, const T* v, const T* w, const T* c, T* p, T* sample, uint64_t seed,
                     uint64_t counter);

// Visible given hidden:  p_i = σ(b_i + Σ_j W_ij h_j);  sample (may be null) = [u < p]
template <typename T>
void rbm_visible_reference(const RbmGeom& g, const T* h, const T* w, const T* b, T* p, T* sample, uint64_t seed,
                           uint64_t counter);
template <typename T>
void rbm_visible_fast(const RbmGeom& g, const T* h, const T* w, const T* b, T* p, T* sample, uint64_t seed,
                      uint64_t counter);

// The CD estimate of -d log-likelihood / dθ, the direction an optimizer descends:
//   dW = (v_kᵀ p_k - v_0ᵀ p_0) / B,   db = mean(v_k - v_0),   dc = mean(p_k - p_0)
// (v_0, p_0 = p(h|v_0): the data phase; v_k, p_k = p(h|v_k): the end of the Gibbs chain).
template <typename T>
void rbm_cd_grad_reference(const RbmGeom& g, const T* v0, const T* p0, const T* vk, const T* pk, T* dw, T* db,
                           T* dc);
template <typename T>
void rbm_cd_grad_fast(const RbmGeom& g, const T* v0, const T* p0, const T* vk, const T* pk, T* dw, T* db, T* dc);

// Free energy  F(v) = -Σ_i b_i v_i - Σ_j softplus(c_j + Σ_i v_i W_ij),  one value per row of v;
// p(v) ∝ exp(-F(v)).
template <typename T>
void rbm_free_energy_reference(const RbmGeom& g, const T* v, const T* w, const T* b, const T* c, T* out);
template <typename T>
void rbm_free_energy_fast(const RbmGeom& g, const T* v, const T* w, const T* b, const T* c, T* out);

}  // namespace pydl::kernels
