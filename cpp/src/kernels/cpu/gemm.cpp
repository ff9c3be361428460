// Fast GEMM: C = alpha * op(A) · op(B) + beta * C   (row-major, see kernels.h)
//
// GotoBLAS/BLIS structure. The loops, outermost first:
//   jc: N in blocks of NC      - a (KC x NC) panel of op(B) is packed once, shared by all threads (L3)
//   pc: K in blocks of KC      - the only loop that accumulates; never split across threads
//   ic: M in blocks of ~MC     - each thread packs its own (MC x KC) block of op(A) (L2)
//   jr: NR-wide slivers of B    - one sliver (KC x NR) stays in L1 while ...
//   ir: MR-tall slivers of A    - ... the micro-kernel runs over the A slivers
// Packing makes the micro-kernel's loads contiguous and aligned and zero-pads ragged edges,
// so one register-blocked micro-kernel (MR x NR accumulators, FMA) does all the arithmetic.
//
// SIMD: the library is built with portable flags, so the AVX2 / AVX-512 kernels carry
// __attribute__((target(...))) and are picked at run time from CPUID. A plain C++ kernel is
// the fallback (and what non-x86 machines compile).
//
// Determinism: every C element is computed by exactly one thread with the same sequence of
// operations (KC is fixed; M/N splits are multiples of MR/NR), so the result is bit-identical
// for any thread count.
#include "kernels/kernels.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__)
#define PYDL_GEMM_X86 1
#include <immintrin.h>
#else
#define PYDL_GEMM_X86 0
#endif

namespace pydl::kernels {
namespace {

// ------------------------------------------------------------------ small helpers

constexpr std::size_t kAlign = 64;  // one cache line = one AVX-512 register

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// A growable, 64-byte aligned scratch buffer. Instances are thread_local (one per thread), so
// repeated calls reuse memory without page faults and no state is shared between threads.
struct Scratch {
  void* ptr = nullptr;
  std::size_t bytes = 0;
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { std::free(ptr); }
  template <typename T>
  T* get(int64_t count) {
    std::size_t need = round_up(static_cast<int64_t>(count * sizeof(T)) + 1, kAlign);
    if (need > bytes) {
      std::free(ptr);
      ptr = std::aligned_alloc(kAlign, need);  // size is a multiple of the alignment, as required
      if (!ptr) { bytes = 0; throw std::bad_alloc(); }
      bytes = need;
    }
    return static_cast<T*>(ptr);
  }
};

Scratch& tls_scratch(int which) {
  thread_local Scratch s[3];  // 0: packed B (owned by the calling thread), 1: packed A, 2: direct path
  return s[which];
}

// ------------------------------------------------------------------ micro-kernels
// Contract of every micro-kernel:
//   acc[i][j] = sum_{k < kc} a[k*MR + i] * b[k*NR + j]     (a, b packed, b 64-byte aligned)
//   C[i][j]   = alpha * acc[i][j] + beta * C[i][j]         (beta == 0: C is not read)
template <typename T>
using Ukernel = void (*)(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, T alpha, T beta);

// Portable kernel: plain arrays the compiler can keep in registers / auto-vectorise.
template <typename T, int MR, int NR>
void ukernel_generic(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, T alpha, T beta) {
  T acc[MR][NR] = {};
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR)
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc[i][j] += a[i] * b[j];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) {
      T& cij = c[i * ldc + j];
      cij = (beta == T(0)) ? alpha * acc[i][j] : alpha * acc[i][j] + beta * cij;
    }
}

#if PYDL_GEMM_X86
// Per-ISA vector wrappers so one kernel body serves float and double.
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
};

// The register-blocked kernel body: MR rows x NV vectors of accumulators. Each k step loads
// NV vectors of B once and broadcasts MR scalars of A: MR*NV FMAs per (NV + MR) loads.
// A macro because the target attribute must sit on the function itself (one per ISA).
#define PYDL_UKERNEL_BODY(VT)                                                         \
  using V = typename VT::V;                                                           \
  constexpr int W = VT::W;                                                            \
  V acc[MR][NV];                                                                      \
  _Pragma("GCC unroll 16") for (int i = 0; i < MR; ++i)                               \
    _Pragma("GCC unroll 8") for (int v = 0; v < NV; ++v) acc[i][v] = VT::zero();      \
  /* Touch the C tile early so its lines arrive while the k loop runs. */             \
  _Pragma("GCC unroll 16") for (int i = 0; i < MR; ++i)                               \
    _Pragma("GCC unroll 8") for (int v = 0; v < NV * W; v += 64 / int(sizeof(T)))     \
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + v), _MM_HINT_T0);      \
  _Pragma("GCC unroll 4") for (int64_t k = 0; k < kc; ++k) {                          \
    V bv[NV];                                                                         \
    _Pragma("GCC unroll 8") for (int v = 0; v < NV; ++v) bv[v] = VT::load(b + v * W); \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; ++i) {                           \
      V ai = VT::set1(a[i]);                                                          \
      _Pragma("GCC unroll 8") for (int v = 0; v < NV; ++v)                            \
        acc[i][v] = VT::fmadd(ai, bv[v], acc[i][v]);                                  \
    }                                                                                 \
    a += MR;                                                                          \
    b += NV * W;                                                                      \
  }                                                                                   \
  const V va = VT::set1(alpha);                                                       \
  if (beta == T(0)) {                                                                 \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; ++i)                             \
      _Pragma("GCC unroll 8") for (int v = 0; v < NV; ++v)                            \
        VT::storeu(c + i * ldc + v * W, VT::mul(va, acc[i][v]));                      \
  } else {                                                                            \
    const V vb = VT::set1(beta);                                                      \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; ++i)                             \
      _Pragma("GCC unroll 8") for (int v = 0; v < NV; ++v) {                          \
        T* cp = c + i * ldc + v * W;                                                  \
        VT::storeu(cp, VT::fmadd(vb, VT::loadu(cp), VT::mul(va, acc[i][v])));         \
      }                                                                               \
  }

template <typename T, int MR, int NV>
__attribute__((target("avx512f,fma")))
void ukernel_avx512(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, T alpha, T beta) {
  PYDL_UKERNEL_BODY(V512<T>)
}

template <typename T, int MR, int NV>
__attribute__((target("avx2,fma")))
void ukernel_avx2(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, T alpha, T beta) {
  PYDL_UKERNEL_BODY(V256<T>)
}
#endif  // PYDL_GEMM_X86

// ------------------------------------------------------------------ packing
// op(A)[i0 .. i0+mc) x [p0 .. p0+kc) -> MR-tall slivers, each stored k-major: dst[k*MR + i].
// MR is a template argument so the inner copy is fully unrolled (MR row streams, one
// contiguous output stream).
template <typename T, int MR>
void pack_a(bool trans_a, const T* A, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
            T* dst) {
  for (int64_t ip = 0; ip < mc; ip += MR, dst += MR * kc) {
    const int64_t mr = std::min<int64_t>(MR, mc - ip);
    if (trans_a) {  // op(A)[i][k] = A[k][i]: each k gives mr contiguous values
      for (int64_t k = 0; k < kc; ++k) {
        const T* src = A + (p0 + k) * lda + i0 + ip;
        T* d = dst + k * MR;
        if (mr == MR) {
          for (int i = 0; i < MR; ++i) d[i] = src[i];
        } else {
          for (int64_t i = 0; i < mr; ++i) d[i] = src[i];
          for (int64_t i = mr; i < MR; ++i) d[i] = T(0);
        }
      }
    } else if (mr == MR) {  // op(A)[i][k] = A[i][k]: MR rows read side by side
      const T* src[MR];
      for (int i = 0; i < MR; ++i) src[i] = A + (i0 + ip + i) * lda + p0;
      for (int64_t k = 0; k < kc; ++k)
        for (int i = 0; i < MR; ++i) dst[k * MR + i] = src[i][k];
    } else {
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t i = 0; i < MR; ++i)
          dst[k * MR + i] = (i < mr) ? A[(i0 + ip + i) * lda + p0 + k] : T(0);
    }
  }
}

template <typename T>
using PackA = void (*)(bool, const T*, int64_t, int64_t, int64_t, int64_t, int64_t, T*);

// op(B)[p0 .. p0+kc) x [j0 + jp .. ) -> one NR-wide sliver stored k-major: dst[k*NR + j].
template <typename T>
void pack_b_sliver(bool trans_b, const T* B, int64_t ldb, int64_t p0, int64_t kc, int64_t j0,
                   int64_t nr, int NR, T* dst) {
  if (trans_b) {  // op(B)[k][j] = B[j][k]: read each of the nr rows of B contiguously
    if (nr < NR)  // zero the padding columns row by row (contiguous runs)
      for (int64_t k = 0; k < kc; ++k) std::fill(dst + k * NR + nr, dst + (k + 1) * NR, T(0));
    for (int64_t j = 0; j < nr; ++j) {
      const T* src = B + (j0 + j) * ldb + p0;
      for (int64_t k = 0; k < kc; ++k) dst[k * NR + j] = src[k];
    }
  } else {  // op(B)[k][j] = B[k][j]: row k of the sliver is a contiguous run
    for (int64_t k = 0; k < kc; ++k) {
      const T* src = B + (p0 + k) * ldb + j0;
      T* d = dst + k * NR;
      if (nr == NR) {
        std::memcpy(d, src, sizeof(T) * NR);
      } else {
        for (int64_t j = 0; j < nr; ++j) d[j] = src[j];
        for (int64_t j = nr; j < NR; ++j) d[j] = T(0);
      }
    }
  }
}

// ------------------------------------------------------------------ configuration
// MR x NR register tile; KC (depth) so that a KC x NR sliver of B sits in L1; MC so that an
// MC x KC block of A sits in L2; NC so that the KC x NC panel of B sits in L3.
template <typename T>
struct Config {
  Ukernel<T> kernel;
  int MR, NR, MC, KC, NC;
  PackA<T> pack_a;
};

enum SimdLevel { kGeneric = 0, kAvx2 = 1, kAvx512 = 2 };

SimdLevel detect_simd() {
  SimdLevel level = kGeneric;
#if PYDL_GEMM_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = kAvx2;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) level = kAvx512;
#endif
  // PYDL_GEMM_SIMD=avx2|generic lowers the path (for benchmarks and tests); never raises it.
  if (const char* env = std::getenv("PYDL_GEMM_SIMD")) {
    SimdLevel want = level;
    if (std::strcmp(env, "generic") == 0) want = kGeneric;
    else if (std::strcmp(env, "avx2") == 0) want = kAvx2;
    else if (std::strcmp(env, "avx512") == 0) want = kAvx512;
    level = std::min(level, want);
  }
  return level;
}

SimdLevel simd_level() {
  static const SimdLevel level = detect_simd();  // thread-safe one-time init, read-only after
  return level;
}

template <typename T> Config<T> config_for(SimdLevel level);

// Chosen by measurement on Zen 4 (AVX-512 executed as 2x256-bit): a 6 x 64 float tile
// (24 zmm accumulators + 4 B vectors + 1 broadcast = 29 of 32 registers; 24 FMAs per 10 loads)
// beat 6x32, 8x48, 12x32, 14x32 and 4x64. KC = 512 amortises the C-tile update better than
// the textbook L1-sized KC = 256 (+10-15% here): the B sliver then lives in the 1 MB L2.
// AVX2 (16 registers): 4 x 24 (12 accumulators + 3 + 1) measured slightly ahead of 6 x 16.
template <> Config<float> config_for<float>(SimdLevel level) {
#if PYDL_GEMM_X86
  if (level == kAvx512) return {&ukernel_avx512<float, 6, 4>, 6, 64, 96, 512, 2048, &pack_a<float, 6>};
  if (level == kAvx2) return {&ukernel_avx2<float, 4, 3>, 4, 24, 96, 512, 2048, &pack_a<float, 4>};
#endif
  (void)level;
  return {&ukernel_generic<float, 4, 16>, 4, 16, 96, 256, 2048, &pack_a<float, 4>};
}
// Double: the same kernels at half the lanes per register.
template <> Config<double> config_for<double>(SimdLevel level) {
#if PYDL_GEMM_X86
  if (level == kAvx512) return {&ukernel_avx512<double, 6, 4>, 6, 32, 96, 256, 2048, &pack_a<double, 6>};
  if (level == kAvx2) return {&ukernel_avx2<double, 4, 3>, 4, 12, 96, 256, 2048, &pack_a<double, 4>};
#endif
  (void)level;
  return {&ukernel_generic<double, 4, 8>, 4, 8, 96, 256, 2048, &pack_a<double, 4>};
}

// ------------------------------------------------------------------ packed driver
template <typename T>
void gemm_packed(const Config<T>& cfg, int nthreads, bool trans_a, bool trans_b, int64_t M,
                 int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B, int64_t ldb,
                 T beta, T* C, int64_t ldc) {
  const int MR = cfg.MR, NR = cfg.NR;
  const int64_t KC = cfg.KC;
  // NC a multiple of NR, so only the last sliver of the whole matrix can be ragged.
  const int64_t NC = std::min<int64_t>(std::max<int64_t>(NR, cfg.NC / NR * NR), round_up(N, NR));
  const int64_t kc_max = std::min<int64_t>(KC, K);

  // Split M into blocks of about MC rows, a multiple of MR, and a multiple of the thread count
  // so threads get equal shares. When M is too short to feed every thread, split N as well.
  int64_t n_mblk = ceil_div(M, cfg.MC);
  if (nthreads > 1 && n_mblk >= nthreads) n_mblk = round_up(n_mblk, nthreads);
  const int64_t mc_blk = round_up(ceil_div(M, n_mblk), MR);
  n_mblk = ceil_div(M, mc_blk);
  const int64_t n_nsplit = (n_mblk >= nthreads) ? 1 : ceil_div(nthreads, n_mblk);
  const int64_t n_items = n_mblk * n_nsplit;

  T* bpack = tls_scratch(0).get<T>(kc_max * NC);

  auto body = [&](int tid, int nth) {
    T* apack = tls_scratch(1).get<T>(mc_blk * kc_max);
    alignas(kAlign) T tile[16 * 64];  // ragged-edge tile (MR*NR <= 1024)
    for (int64_t jc = 0; jc < N; jc += NC) {
      const int64_t nc = std::min(NC, N - jc);
      const int64_t n_sliver = ceil_div(nc, NR);
      for (int64_t pc = 0; pc < K; pc += KC) {
        const int64_t kc = std::min(KC, K - pc);
        const T beta_eff = (pc == 0) ? beta : T(1);  // later K blocks accumulate onto C

        // All threads pack the shared B panel together, then wait for it.
        for (int64_t s = tid; s < n_sliver; s += nth)
          pack_b_sliver(trans_b, B, ldb, pc, kc, jc + s * NR, std::min<int64_t>(NR, nc - s * NR),
                        NR, bpack + s * NR * kc);
#ifdef _OPENMP
        if (nth > 1) {
#pragma omp barrier
        }
#endif
        // Static contiguous share of the (M block, N split) items.
        const int64_t it0 = n_items * tid / nth, it1 = n_items * (tid + 1) / nth;
        int64_t packed_blk = -1;
        for (int64_t it = it0; it < it1; ++it) {
          const int64_t mb = it / n_nsplit, ns = it % n_nsplit;
          const int64_t ic = mb * mc_blk, mc = std::min(mc_blk, M - ic);
          if (mb != packed_blk) {
            cfg.pack_a(trans_a, A, lda, ic, mc, pc, kc, apack);
            packed_blk = mb;
          }
          const int64_t s0 = n_sliver * ns / n_nsplit, s1 = n_sliver * (ns + 1) / n_nsplit;
          for (int64_t s = s0; s < s1; ++s) {
            const int64_t j = jc + s * NR, nr = std::min<int64_t>(NR, N - j);
            const T* bp = bpack + s * NR * kc;
            for (int64_t ip = 0; ip < mc; ip += MR) {
              const int64_t i = ic + ip, mr = std::min<int64_t>(MR, M - i);
              const T* ap = apack + ip * kc;
              T* c = C + i * ldc + j;
              if (mr == MR && nr == NR) {
                cfg.kernel(kc, ap, bp, c, ldc, alpha, beta_eff);
              } else {  // ragged edge: full tile into scratch, copy the valid part
                cfg.kernel(kc, ap, bp, tile, NR, alpha, T(0));
                for (int64_t ii = 0; ii < mr; ++ii)
                  for (int64_t jj = 0; jj < nr; ++jj) {
                    T& cij = c[ii * ldc + jj];
                    cij = (beta_eff == T(0)) ? tile[ii * NR + jj] : tile[ii * NR + jj] + beta_eff * cij;
                  }
              }
            }
          }
        }
#ifdef _OPENMP
        if (nth > 1) {  // bpack is overwritten by the next (jc, pc) step
#pragma omp barrier
        }
#endif
      }
    }
  };

#ifdef _OPENMP
  if (nthreads > 1) {
#pragma omp parallel num_threads(nthreads)
    body(omp_get_thread_num(), omp_get_num_threads());
    return;
  }
#endif
  body(0, 1);
}

// ------------------------------------------------------------------ direct path (M <= 4 or N <= 16)
// Without packing: when op(A) has only a few rows (a small batch of vectors), packing B would
// cost as much as the multiply; when op(B) has only a few columns, most of a packed sliver
// would be zero padding. (Tiny square products are fastest through the packed path:
// packing 10x10 operands is cheap, and the micro-kernel then does the arithmetic.) Rows of C are accumulated in a
// scratch row, in k order, then written once: C[i][:] = alpha * sum_k A[i][k] * B[k][:] + beta * C[i][:].
constexpr int64_t kDirectRows = 4;
constexpr int64_t kDirectCols = 16;

template <typename T>
__attribute__((always_inline)) inline void gemm_direct_body(
    bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
    const T* B, int64_t ldb, T beta, T* C, int64_t ldc, int64_t j_begin, int64_t j_end) {
  (void)N;  // the caller passes the column range [j_begin, j_end) instead
  const int64_t nj = j_end - j_begin;
  // Few columns and B not transposed: the row update below would run on vectors of <= 16;
  // copy op(B)ᵀ (nj x K, small) once and take the dot-product form instead.
  const bool use_dots = trans_b || nj <= kDirectCols;
  T* scratch = tls_scratch(2).get<T>(kDirectRows * (nj + K) + (trans_b ? 0 : nj * K) + 64);
  T* acc = scratch;                      // kDirectRows rows of nj sums
  T* arow = scratch + kDirectRows * nj;  // kDirectRows rows of op(A), contiguous in k
  const T* bt = B + j_begin * ldb;       // op(B)ᵀ rows (contiguous in k), row stride bt_ld
  int64_t bt_ld = ldb;
  if (use_dots && !trans_b) {
    T* copy = arow + kDirectRows * K;
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < nj; ++j) copy[j * K + k] = B[k * ldb + j_begin + j];
    bt = copy;
    bt_ld = K;
  }
  for (int64_t i0 = 0; i0 < M; i0 += kDirectRows) {
    const int64_t mr = std::min(kDirectRows, M - i0);
    for (int64_t r = 0; r < mr; ++r)
      for (int64_t k = 0; k < K; ++k)
        arow[r * K + k] = trans_a ? A[k * lda + i0 + r] : A[(i0 + r) * lda + k];
    if (!use_dots) {  // acc[r][:] += a[r][k] * B[k][:], streaming each row of B once
      std::fill(acc, acc + mr * nj, T(0));
      for (int64_t k = 0; k < K; ++k) {
        const T* brow = B + k * ldb + j_begin;
        for (int64_t r = 0; r < mr; ++r) {
          const T a = arow[r * K + k];
          T* accr = acc + r * nj;
          for (int64_t j = 0; j < nj; ++j) accr[j] += a * brow[j];
        }
      }
    } else {  // acc[r][j] = dot(a[r], B[j]); 16 partial sums in a fixed order (vectorisable)
      for (int64_t j = 0; j < nj; ++j) {
        const T* bj = bt + j * bt_ld;
        for (int64_t r = 0; r < mr; ++r) {
          const T* ar = arow + r * K;
          T part[16] = {};
          int64_t k = 0;
          for (; k + 16 <= K; k += 16)
            for (int u = 0; u < 16; ++u) part[u] += ar[k + u] * bj[k + u];
          T s = 0;
          for (; k < K; ++k) s += ar[k] * bj[k];
          for (int u = 0; u < 16; ++u) s += part[u];
          acc[r * nj + j] = s;
        }
      }
    }
    for (int64_t r = 0; r < mr; ++r) {
      T* crow = C + (i0 + r) * ldc + j_begin;
      const T* accr = acc + r * nj;
      if (beta == T(0))
        for (int64_t j = 0; j < nj; ++j) crow[j] = alpha * accr[j];
      else
        for (int64_t j = 0; j < nj; ++j) crow[j] = alpha * accr[j] + beta * crow[j];
    }
  }
}

#define PYDL_DIRECT_ARGS                                                                    \
  bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T *A,         \
      int64_t lda, const T *B, int64_t ldb, T beta, T *C, int64_t ldc, int64_t j_begin,     \
      int64_t j_end
#define PYDL_DIRECT_CALL \
  trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, j_begin, j_end

// The same body compiled three times; the target attribute lets the auto-vectoriser use
// AVX-512 / AVX2 in the copies that run on CPUs that have them.
template <typename T>
void gemm_direct_generic(PYDL_DIRECT_ARGS) { gemm_direct_body<T>(PYDL_DIRECT_CALL); }
#if PYDL_GEMM_X86
template <typename T>
__attribute__((target("avx512f,fma"))) void gemm_direct_avx512(PYDL_DIRECT_ARGS) {
  gemm_direct_body<T>(PYDL_DIRECT_CALL);
}
template <typename T>
__attribute__((target("avx2,fma"))) void gemm_direct_avx2(PYDL_DIRECT_ARGS) {
  gemm_direct_body<T>(PYDL_DIRECT_CALL);
}
#endif

template <typename T>
void gemm_direct(SimdLevel level, PYDL_DIRECT_ARGS) {
#if PYDL_GEMM_X86
  if (level == kAvx512) return gemm_direct_avx512<T>(PYDL_DIRECT_CALL);
  if (level == kAvx2) return gemm_direct_avx2<T>(PYDL_DIRECT_CALL);
#endif
  (void)level;
  gemm_direct_generic<T>(PYDL_DIRECT_CALL);
}

int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

}  // namespace

// ------------------------------------------------------------------ entry points

template <typename T>
void gemm_fast(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
               const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {  // empty sum: C = beta * C (beta == 0: C = 0 without reading it)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = (beta == T(0)) ? T(0) : beta * C[i * ldc + j];
    return;
  }
  const SimdLevel level = simd_level();
  const double flops = 2.0 * double(M) * double(N) * double(K);
  // Threads only pay off above ~a few MFLOP; the count never changes the result.
  int nthreads = std::max(1, std::min<int>(max_threads(), static_cast<int>(flops / 4e6)));

  if (M <= kDirectRows || N <= kDirectCols) {
    // A handful of rows (e.g. a small batch through a linear layer): skip packing, stream B
    // once. A handful of columns: packing B would pad each sliver to NR (up to 64) wide.
    // Columns are split over threads when there is enough work.
    const int64_t nchunks = (nthreads > 1 && N >= 256) ? nthreads : 1;
    auto chunk = [&](int64_t t) {
      const int64_t j_begin = round_up(N * t / nchunks, 16);
      const int64_t j_end = std::min(N, round_up(N * (t + 1) / nchunks, 16));
      if (j_begin < j_end)
        gemm_direct<T>(level, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
                       j_begin, j_end);
    };
#ifdef _OPENMP
    if (nchunks > 1) {  // (an OpenMP region costs ~1 us even when serialised: only open it here)
#pragma omp parallel for num_threads(static_cast<int>(nchunks)) schedule(static)
      for (int64_t t = 0; t < nchunks; ++t) chunk(t);
      return;
    }
#endif
    for (int64_t t = 0; t < nchunks; ++t) chunk(t);
    return;
  }
  gemm_packed<T>(config_for<T>(level), nthreads, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
                 beta, C, ldc);
}

const char* gemm_simd_path() {
  switch (simd_level()) {
    case kAvx512: return "avx512";
    case kAvx2: return "avx2";
    default: return "generic";
  }
}

template void gemm_fast<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                               const float*, int64_t, float, float*, int64_t);
template void gemm_fast<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                                int64_t, const double*, int64_t, double, double*, int64_t);

}  // namespace pydl::kernels
