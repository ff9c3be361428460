// What the update rules share: the gradient preprocessing, the decoupled weight decay, the
// loop that runs a per-element step (reference: a plain loop; fast: OpenMP parallel for simd),
// and one entry point per rule (sgd.cpp, adagrad.cpp, ... one file each).
#pragma once
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/isa.h"
#include "pydl/optim.h"
#include "pydl/settings.h"

namespace pydl::optim::detail {

// Below this many elements one thread is faster than waking the team.
constexpr int64_t kOptimParallelMin = 32768;

// Per-update constants every rule applies to each element before its own step.
template <typename T>
struct Prep {
  T grad_scale;  // clipnorm / global_clipnorm factor (1 when off)
  T clip;        // clipvalue bound (+inf when off)
  T decay;       // learning_rate * weight_decay (0 when off)
};

template <typename T>
inline Prep<T> prep_of(const Hyper& h, double grad_scale) {
  // Keras's precedence: clipvalue only when neither norm clipping is set.
  const bool use_clipvalue = h.clipvalue > 0 && !(h.clipnorm > 0) && !(h.global_clipnorm > 0);
  return {T(grad_scale), use_clipvalue ? T(h.clipvalue) : std::numeric_limits<T>::infinity(),
          T(h.learning_rate * h.weight_decay)};
}

// g' = clip(s g, -c, c)
template <typename T>
inline T prepare_grad(T g, const Prep<T>& q) {
  g *= q.grad_scale;
  return g < -q.clip ? -q.clip : (g > q.clip ? q.clip : g);
}
// p' = p - lr wd p   (Keras applies the decoupled decay before the update)
template <typename T>
inline T decayed(T p, const Prep<T>& q) { return p - p * q.decay; }

inline bool use_fast() { return settings::backend() == settings::Backend::Fast; }

// Run step(i) for i in [0, n): the same per-element function on either backend. The fast path
// is OpenMP's parallel-for over fixed chunks with a `simd` loop inside each, in the copy for the
// CPU's instruction set (kernels/cpu/isa.h); the step is copied per chunk so its pointers live
// in registers and the inner loop vectorises.
constexpr int64_t kOptimChunk = 4096;
#define PYDL_OPTIM_CHUNK(ISA, TARGET)                                        \
  template <typename Step>                                                   \
  TARGET void run_chunk_##ISA(const Step& step, int64_t lo, int64_t hi) {    \
    const Step s = step;                                                     \
    _Pragma("omp simd") for (int64_t i = lo; i < hi; ++i) s(i);              \
  }
PYDL_FOR_EACH_ISA(PYDL_OPTIM_CHUNK)
#undef PYDL_OPTIM_CHUNK

template <typename Step>
inline void for_each_element(int64_t n, bool fast, const Step& step) {
  if (!fast) {
    for (int64_t i = 0; i < n; ++i) step(i);
    return;
  }
  using Chunk = void (*)(const Step&, int64_t, int64_t);
  const Chunk chunk = kernels::pick<Chunk>(&run_chunk_generic<Step>, &run_chunk_avx2<Step>,
                                           &run_chunk_avx512<Step>);
  const int64_t chunks = (n + kOptimChunk - 1) / kOptimChunk;
#pragma omp parallel for schedule(static) if (n >= kOptimParallelMin)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t lo = c * kOptimChunk, hi = lo + kOptimChunk < n ? lo + kOptimChunk : n;
    chunk(step, lo, hi);
  }
}

// One entry per rule: update one contiguous parameter in place with its (contiguous) gradient
// and slots (in slot_specs order). Shapes and dtypes are checked by optim::step.
void sgd_update(Tensor& p, const Tensor& g, std::vector<Tensor>& slots, const Hyper& h, double grad_scale);
void adagrad_update(Tensor& p, const Tensor& g, std::vector<Tensor>& slots, const Hyper& h, double grad_scale);
void adadelta_update(Tensor& p, const Tensor& g, std::vector<Tensor>& slots, const Hyper& h, double grad_scale);
void rmsprop_update(Tensor& p, const Tensor& g, std::vector<Tensor>& slots, const Hyper& h, double grad_scale);
void adam_update(Tensor& p, const Tensor& g, std::vector<Tensor>& slots, const Hyper& h, double grad_scale);
void nadam_update(Tensor& p, const Tensor& g, std::vector<Tensor>& slots, const Hyper& h, double grad_scale);
void adamax_update(Tensor& p, const Tensor& g, std::vector<Tensor>& slots, const Hyper& h, double grad_scale);

}  // namespace pydl::optim::detail
