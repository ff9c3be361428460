// Bernoulli restricted Boltzmann machine (issue 10): the conditionals of Gibbs sampling, the
// contrastive-divergence (CD-k / persistent CD) gradient estimate and the free energy.
// Shapes: v (B, V) with values in [0, 1], h (B, H) in [0, 1], W (V, H), b (V,), c (H,).
// These ops record no autograd node: the CD estimate is not the gradient of a loss the graph
// computes; rbm_cd hands it back for an optimizer to apply (pydl.models.RBM puts it in .grad).
// Samples come from pydl's one generator (pydl.manual_seed makes them repeatable).
#pragma once
#include <cstdint>
#include <vector>

#include "pydl/tensor.h"

namespace pydl::ops {

// {p(h=1|v) = σ(vW + c), and a sample [u < p] when `sample`}
std::vector<Tensor> rbm_hidden(const Tensor& v, const Tensor& w, const Tensor& c, bool sample);
// {p(v=1|h) = σ(hWᵀ + b), and a sample when `sample`}
std::vector<Tensor> rbm_visible(const Tensor& h, const Tensor& w, const Tensor& b, bool sample);
// k steps of block Gibbs sampling from the data v0 (CD-k) or, when `chain` is given, from the
// persistent chain's visible state (PCD, chain has v0's shape): h ~ p(h|v), v ~ p(v|h), k times.
// Returns {dW, db, dc, v_k, p(h|v0)}: the CD estimate of -d log p(v0)/dθ (descend it),
//   dW = (v_kᵀ p(h|v_k) - v0ᵀ p(h|v0)) / B,  db = mean(v_k - v0),  dc = mean(p(h|v_k) - p(h|v0)),
// and the end of the chain v_k (binary), the next persistent state.
std::vector<Tensor> rbm_cd(const Tensor& v0, const Tensor& w, const Tensor& b, const Tensor& c, int64_t k,
                           const Tensor& chain);
// F(v) = -vᵀb - Σ_j softplus(c_j + (vW)_j), one value per row: (B,)
Tensor rbm_free_energy(const Tensor& v, const Tensor& w, const Tensor& b, const Tensor& c);

}  // namespace pydl::ops
