// Per-ISA vector wrappers, so one kernel body (a macro, since the target attribute must sit on
// the function itself: see isa.h) serves float and double: V512 (AVX-512), V256 (AVX2 + FMA),
// and VGeneric, plain four-lane arrays for the portable copy (FMA-free: a·b + c rounds twice,
// as the reference loops do). Used by the GEMM (gemm.cpp) and the convolution's direct and gather
// paths (conv.cpp).
#pragma once
#include <cstdint>

#include "kernels/cpu/isa.h"
#if PYDL_X86
#include <immintrin.h>
#endif

namespace pydl::kernels {

template <typename T>
struct VGeneric {
  struct V {
    T v[4];
  };
  static constexpr int W = 4;
  static inline V zero() { return V{{T(0), T(0), T(0), T(0)}}; }
  static inline V set1(T x) { return V{{x, x, x, x}}; }
  static inline V loadu(const T* p) { return V{{p[0], p[1], p[2], p[3]}}; }
  static inline void storeu(T* p, V a) {
    for (int l = 0; l < 4; ++l) p[l] = a.v[l];
  }
  static inline V fmadd(V a, V b, V c) {
    for (int l = 0; l < 4; ++l) c.v[l] = a.v[l] * b.v[l] + c.v[l];
    return c;
  }
  static inline V add(V a, V b) {
    for (int l = 0; l < 4; ++l) a.v[l] += b.v[l];
    return a;
  }
  static inline V loadn(const T* p, int n) {
    V a = zero();
    for (int l = 0; l < n; ++l) a.v[l] = p[l];
    return a;
  }
  static inline void storen(T* p, V a, int n) {
    for (int l = 0; l < n; ++l) p[l] = a.v[l];
  }
};

#if PYDL_X86
#define PYDL_AVX512 __attribute__((target("avx512f,fma"), always_inline)) static inline
#define PYDL_AVX2 __attribute__((target("avx2,fma"), always_inline)) static inline

template <typename T> struct V512;
template <> struct V512<float> {
  using V = __m512; static constexpr int W = 16;
  PYDL_AVX512 V zero() { return _mm512_setzero_ps(); }
  PYDL_AVX512 V set1(float x) { return _mm512_set1_ps(x); }
  PYDL_AVX512 V load(const float* p) { return _mm512_load_ps(p); }
  PYDL_AVX512 V loadu(const float* p) { return _mm512_loadu_ps(p); }
  PYDL_AVX512 void storeu(float* p, V v) { _mm512_storeu_ps(p, v); }
  PYDL_AVX512 V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  PYDL_AVX512 V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  PYDL_AVX512 V add(V a, V b) { return _mm512_add_ps(a, b); }
  // The first n lanes (0 <= n <= W); the others are neither read nor written.
  PYDL_AVX512 __mmask16 mask(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
  PYDL_AVX512 V loadn(const float* p, int n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  PYDL_AVX512 void storen(float* p, V v, int n) { _mm512_mask_storeu_ps(p, mask(n), v); }
  // p[l * ld] for the first n lanes l (ld * (W - 1) must fit an int32).
  PYDL_AVX512 V gathern(const float* p, int64_t ld, int n) {
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32(static_cast<int>(ld)));
    return _mm512_mask_i32gather_ps(zero(), mask(n), idx, p, 4);
  }
};
template <> struct V512<double> {
  using V = __m512d; static constexpr int W = 8;
  PYDL_AVX512 V zero() { return _mm512_setzero_pd(); }
  PYDL_AVX512 V set1(double x) { return _mm512_set1_pd(x); }
  PYDL_AVX512 V load(const double* p) { return _mm512_load_pd(p); }
  PYDL_AVX512 V loadu(const double* p) { return _mm512_loadu_pd(p); }
  PYDL_AVX512 void storeu(double* p, V v) { _mm512_storeu_pd(p, v); }
  PYDL_AVX512 V fmadd(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  PYDL_AVX512 V mul(V a, V b) { return _mm512_mul_pd(a, b); }
  PYDL_AVX512 V add(V a, V b) { return _mm512_add_pd(a, b); }
  PYDL_AVX512 __mmask8 mask(int n) { return static_cast<__mmask8>((1u << n) - 1u); }
  PYDL_AVX512 V loadn(const double* p, int n) { return _mm512_maskz_loadu_pd(mask(n), p); }
  PYDL_AVX512 void storen(double* p, V v, int n) { _mm512_mask_storeu_pd(p, mask(n), v); }
  PYDL_AVX512 V gathern(const double* p, int64_t ld, int n) {
    const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                           _mm256_set1_epi32(static_cast<int>(ld)));
    return _mm512_mask_i32gather_pd(zero(), mask(n), idx, p, 8);
  }
};
template <typename T> struct V256;
template <> struct V256<float> {
  using V = __m256; static constexpr int W = 8;
  PYDL_AVX2 V zero() { return _mm256_setzero_ps(); }
  PYDL_AVX2 V set1(float x) { return _mm256_set1_ps(x); }
  PYDL_AVX2 V load(const float* p) { return _mm256_load_ps(p); }
  PYDL_AVX2 V loadu(const float* p) { return _mm256_loadu_ps(p); }
  PYDL_AVX2 void storeu(float* p, V v) { _mm256_storeu_ps(p, v); }
  PYDL_AVX2 V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  PYDL_AVX2 V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  PYDL_AVX2 V add(V a, V b) { return _mm256_add_ps(a, b); }
  PYDL_AVX2 __m256i mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  PYDL_AVX2 V loadn(const float* p, int n) { return _mm256_maskload_ps(p, mask(n)); }
  PYDL_AVX2 void storen(float* p, V v, int n) { _mm256_maskstore_ps(p, mask(n), v); }
  PYDL_AVX2 V gathern(const float* p, int64_t ld, int n) {
    const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                           _mm256_set1_epi32(static_cast<int>(ld)));
    return _mm256_mask_i32gather_ps(zero(), p, idx, _mm256_castsi256_ps(mask(n)), 4);
  }
};
template <> struct V256<double> {
  using V = __m256d; static constexpr int W = 4;
  PYDL_AVX2 V zero() { return _mm256_setzero_pd(); }
  PYDL_AVX2 V set1(double x) { return _mm256_set1_pd(x); }
  PYDL_AVX2 V load(const double* p) { return _mm256_load_pd(p); }
  PYDL_AVX2 V loadu(const double* p) { return _mm256_loadu_pd(p); }
  PYDL_AVX2 void storeu(double* p, V v) { _mm256_storeu_pd(p, v); }
  PYDL_AVX2 V fmadd(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  PYDL_AVX2 V mul(V a, V b) { return _mm256_mul_pd(a, b); }
  PYDL_AVX2 V add(V a, V b) { return _mm256_add_pd(a, b); }
  PYDL_AVX2 __m256i mask(int n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
  }
  PYDL_AVX2 V loadn(const double* p, int n) { return _mm256_maskload_pd(p, mask(n)); }
  PYDL_AVX2 void storen(double* p, V v, int n) { _mm256_maskstore_pd(p, mask(n), v); }
  PYDL_AVX2 V gathern(const double* p, int64_t ld, int n) {
    const __m128i idx = _mm_mullo_epi32(_mm_setr_epi32(0, 1, 2, 3), _mm_set1_epi32(static_cast<int>(ld)));
    return _mm256_mask_i32gather_pd(zero(), p, idx, _mm256_castsi256_pd(mask(n)), 8);
  }
};
#endif  // PYDL_X86

}  // namespace pydl::kernels
