// The LSTM's gate pass for one batch row in AVX-512 intrinsics (float, Keras's default activations:
// sigmoid gates, tanh candidate and cell output). rnn.cpp's portable loop computes the same
// equations and is what other CPUs, doubles and other activations run; this copy exists because
// the gate pass is a third of an LSTM's inference time and the portable loop leaves most of the
// vector units idle: one vector of 16 cells is a ~100-instruction dependency chain (three sigmoids
// and a tanh, then c, then tanh c) that out-of-order execution cannot overlap with the next one.
// Here four vectors (64 units) go through each stage together, so four independent chains fill
// the pipelines (the pass alone, 32 x 128 cells, 1 thread on this project's AVX-512 test machine:
// 2.0 -> 1.5 ns per cell).
//
// Numerics, per lane, as vec_math.h's sigmoid_vec / tanh_vec (relative error ~2e-7):
//   sigma(x) = (x >= 0 ? 1 : e) / (1 + e),  e = e^-|x| (exp_reduced's reduction and polynomial;
//              2^n applied with vscalefps, which yields the denormals of the far tail and 0 beyond
//              them as exp_full_vec does; -|x| clamped at -104 as there)
//   tanh(x)  = sign(x) * -m / (2 + m),      m = e^-2|x| - 1 (expm1_neg_vec, -2|x| clamped at -20)
// NaN propagates through both (the clamps are written max(bound, y), which returns y when y is NaN).
#pragma once
#include <cstdint>

#include "kernels/cpu/isa.h"

#if PYDL_X86
#include <immintrin.h>

// (GCC 12 warns -W(maybe-)uninitialized inside the intrinsics' own _mm512_undefined, as in gemm.cpp)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
namespace pydl::kernels::lstm_avx512 {

// y = n ln2 + r, |r| <= ln2 / 2, n integral (as exp_reduced, ln2 split in two for an exact r)
PYDL_TARGET_AVX512 inline __m512 reduce(__m512 y, __m512& n) {
  n = _mm512_roundscale_ps(_mm512_mul_ps(y, _mm512_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), y);
  return _mm512_fmadd_ps(n, _mm512_set1_ps(2.12194440e-4f), r);
}

PYDL_TARGET_AVX512 inline __m512 sigmoid(__m512 x) {
  const __m512 sign = _mm512_set1_ps(-0.0f);
  const __m512 y = _mm512_max_ps(_mm512_set1_ps(-104.0f), _mm512_or_ps(x, sign));  // -|x|, clamped
  __m512 n;
  const __m512 r = reduce(y, n);
  __m512 p = _mm512_set1_ps(1.0f / 720);  // e^r to r^6
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  const __m512 e = _mm512_scalef_ps(p, n);
  const __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
  const __m512 num = _mm512_mask_mov_ps(_mm512_set1_ps(1.0f), neg, e);
  return _mm512_div_ps(num, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

PYDL_TARGET_AVX512 inline __m512 tanh(__m512 x) {
  const __m512 signbit = _mm512_set1_ps(-0.0f);
  const __m512 y = _mm512_max_ps(_mm512_set1_ps(-20.0f), _mm512_add_ps(_mm512_or_ps(x, signbit), _mm512_or_ps(x, signbit)));
  __m512 n;
  const __m512 r = reduce(y, n);
  __m512 p = _mm512_set1_ps(1.0f / 5040);  // (e^r - 1 - r) / r^2 to r^5
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  const __m512 q = _mm512_fmadd_ps(_mm512_mul_ps(r, r), p, r);  // e^r - 1
  const __m512 s = _mm512_scalef_ps(_mm512_set1_ps(1.0f), n);   // 2^n
  const __m512 m = _mm512_fmadd_ps(s, q, _mm512_sub_ps(s, _mm512_set1_ps(1.0f)));
  const __m512 t = _mm512_div_ps(m, _mm512_sub_ps(_mm512_set1_ps(-2.0f), m));  // -m / (2 + m) >= 0
  // t (>= 0) with x's sign bit: (t & ~signbit) | (x & signbit), truth table 0xD8; NaN stays NaN
  return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(t), _mm512_castps_si512(x),
                                                       _mm512_castps_si512(signbit), 0xD8));
}

// the pre-activations of gate q at units [j, j + 16) (lanes outside k zero)
template <bool Fused>
PYDL_TARGET_AVX512 inline __m512 gate(const float* a, const float* r, int64_t U, int q, int64_t j, __mmask16 k) {
  const __m512 v = _mm512_maskz_loadu_ps(k, r + q * U + j);
  return Fused ? v : _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, a + q * U + j));
}

// One row: pre-activation of gate q, unit j = r[q U + j] (+ a[q U + j] unless Fused); c_{s-1} from
// cprev; writes c_s to cout and h_s to hout, and with Save the gates (i f g o) to gt and tanh c_s
// to ex. cprev and cout may be the same row (each lane is read before it is written).
template <bool Save, bool Fused>
PYDL_TARGET_AVX512 inline void row(int64_t U, const float* a, const float* r, const float* cprev, float* cout,
                                   float* hout, float* gt, float* ex) {
  constexpr int NV = 4;  // vectors in flight together
  for (int64_t j0 = 0; j0 < U; j0 += NV * 16) {
    __mmask16 k[NV];
    __m512 ig[NV], fg[NV], cg[NV], og[NV], c[NV], tc[NV];
    for (int v = 0; v < NV; ++v) {
      const int64_t left = U - (j0 + 16 * v);
      k[v] = left >= 16 ? __mmask16(0xFFFF) : left > 0 ? __mmask16((1u << left) - 1) : __mmask16(0);
    }
    for (int v = 0; v < NV; ++v) ig[v] = sigmoid(gate<Fused>(a, r, U, 0, j0 + 16 * v, k[v]));
    for (int v = 0; v < NV; ++v) fg[v] = sigmoid(gate<Fused>(a, r, U, 1, j0 + 16 * v, k[v]));
    for (int v = 0; v < NV; ++v) cg[v] = tanh(gate<Fused>(a, r, U, 2, j0 + 16 * v, k[v]));
    for (int v = 0; v < NV; ++v) og[v] = sigmoid(gate<Fused>(a, r, U, 3, j0 + 16 * v, k[v]));
    for (int v = 0; v < NV; ++v)
      c[v] = _mm512_fmadd_ps(fg[v], _mm512_maskz_loadu_ps(k[v], cprev + j0 + 16 * v), _mm512_mul_ps(ig[v], cg[v]));
    for (int v = 0; v < NV; ++v) tc[v] = tanh(c[v]);
    for (int v = 0; v < NV; ++v) {
      const int64_t j = j0 + 16 * v;
      if (!k[v]) break;
      _mm512_mask_storeu_ps(cout + j, k[v], c[v]);
      _mm512_mask_storeu_ps(hout + j, k[v], _mm512_mul_ps(og[v], tc[v]));
      if (Save) {
        _mm512_mask_storeu_ps(gt + j, k[v], ig[v]);
        _mm512_mask_storeu_ps(gt + U + j, k[v], fg[v]);
        _mm512_mask_storeu_ps(gt + 2 * U + j, k[v], cg[v]);
        _mm512_mask_storeu_ps(gt + 3 * U + j, k[v], og[v]);
        _mm512_mask_storeu_ps(ex + j, k[v], tc[v]);
      }
    }
  }
}

}  // namespace pydl::kernels::lstm_avx512
#pragma GCC diagnostic pop
#endif
