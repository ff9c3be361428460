// Fast GEMM: C = alpha * op(A) · op(B) + beta * C   (row-major, see kernels.h)
//
// GotoBLAS/BLIS structure. The loops, outermost first:
//   jc: N in blocks of NC      - a (KC x NC) panel of op(B) is packed once, shared by all threads (L3)
//   pc: K in blocks of KC      - the only loop that accumulates; never split across threads
//   ic: M in blocks of ~MC     - each thread packs its own (MC x KC) block of op(A) (L2)
//   jr: NR-wide slivers of B    - one sliver (KC x NR) stays in L1/L2 while ...
//   ir: MR-tall slivers of A    - ... the micro-kernel runs over the A slivers
// Packing makes the micro-kernel's loads contiguous and aligned and zero-pads ragged edges,
// so one register-blocked micro-kernel (MR x NR accumulators, FMA) does all the arithmetic.
//
// Narrow shapes (small MLPs: a 10-class output layer, a tiny batch) skip the packing, which
// would cost as much as the multiply there; gemm_fast routes by shape:
//   N <= 2 vectors (32 floats on AVX-512)  row-panel kernel, op(A) read in place; with a
//                                          transposed A and N <= 12, the column form instead
//   M <= 4                                 row-panel kernel over column blocks, op(B) streamed
//                                          once (transposed B with K >= 32: dot products)
//   M <= 1024, K <= 1024, row-major B      unpacked: the packed path's register tile reading B
//                                          in place, threads on column blocks (no shared panel,
//                                          no barriers); measured 5-35% faster than packing
//                                          here for these sizes (bench/RESULTS.md)
//   otherwise                              the packed path above (ragged tiles: edge kernels)
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
#include <type_traits>
#include <utility>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels/cpu/isa.h"
#include "kernels/cpu/simd.h"
#define PYDL_GEMM_X86 PYDL_X86

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

// Edge kernels (ragged tiles of the packed path, see below): only the valid mr rows and
// ceil(nr / W) vectors; the last vector has nlast valid lanes.
template <typename T>
using EdgeKernel = void (*)(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, int nlast,
                            T alpha, T beta);

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
// (the per-ISA vector wrappers V512 / V256 are in kernels/cpu/simd.h)

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

// Edge kernels for the ragged tiles of the packed path (mr < MR rows and/or nr < NR columns):
// the same loop over only MR' <= MR rows and NV' = ceil(nr / W) vectors of the packed slivers
// (strides MRS and NVS*W), storing the last vector with nlast lanes. No FMAs are spent on the
// padding and C is written in place. Per element the arithmetic is the full kernel's (one FMA
// chain over k, then alpha / beta), so which kernel computed an element never shows.
#define PYDL_EDGE_BODY(VT)                                                            \
  using V = typename VT::V;                                                           \
  constexpr int W = VT::W;                                                            \
  V acc[MR][NV];                                                                      \
  _Pragma("GCC unroll 16") for (int i = 0; i < MR; ++i)                               \
    _Pragma("GCC unroll 8") for (int v = 0; v < NV; ++v) acc[i][v] = VT::zero();      \
  _Pragma("GCC unroll 4") for (int64_t k = 0; k < kc; ++k) {                          \
    V bv[NV];                                                                         \
    _Pragma("GCC unroll 8") for (int v = 0; v < NV; ++v) bv[v] = VT::load(b + v * W); \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; ++i) {                           \
      V ai = VT::set1(a[i]);                                                          \
      _Pragma("GCC unroll 8") for (int v = 0; v < NV; ++v)                            \
        acc[i][v] = VT::fmadd(ai, bv[v], acc[i][v]);                                  \
    }                                                                                 \
    a += MRS;                                                                         \
    b += NVS * W;                                                                     \
  }                                                                                   \
  const V va = VT::set1(alpha), vb = VT::set1(beta);                                  \
  _Pragma("GCC unroll 16") for (int i = 0; i < MR; ++i)                               \
    _Pragma("GCC unroll 8") for (int v = 0; v < NV; ++v) {                            \
      T* cp = c + i * ldc + v * W;                                                    \
      const V r = VT::mul(va, acc[i][v]);                                             \
      if (v < NV - 1)                                                                 \
        VT::storeu(cp, beta == T(0) ? r : VT::fmadd(vb, VT::loadu(cp), r));           \
      else                                                                            \
        VT::storen(cp, beta == T(0) ? r : VT::fmadd(vb, VT::loadn(cp, nlast), r), nlast); \
    }

template <typename T, int MR, int NV, int MRS, int NVS>
__attribute__((target("avx512f,fma")))
void edge_avx512(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, int nlast, T alpha, T beta) {
  PYDL_EDGE_BODY(V512<T>)
}
template <typename T, int MR, int NV, int MRS, int NVS>
__attribute__((target("avx2,fma")))
void edge_avx2(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, int nlast, T alpha, T beta) {
  PYDL_EDGE_BODY(V256<T>)
}

// Table of edge kernels indexed by (mr - 1) * NVS + (nv - 1).
template <typename T, int MRS, int NVS, int... I>
const EdgeKernel<T>* edge_table_avx512(std::integer_sequence<int, I...>) {
  static const EdgeKernel<T> tab[] = {&edge_avx512<T, I / NVS + 1, I % NVS + 1, MRS, NVS>...};
  return tab;
}
template <typename T, int MRS, int NVS, int... I>
const EdgeKernel<T>* edge_table_avx2(std::integer_sequence<int, I...>) {
  static const EdgeKernel<T> tab[] = {&edge_avx2<T, I / NVS + 1, I % NVS + 1, MRS, NVS>...};
  return tab;
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
// dst[k * ldd + j] = B[j * ldb + k] for j < N, k < K (the ISA structs below provide these).
template <typename T>
using Transpose = void (*)(const T* B, int64_t ldb, int64_t N, int64_t K, T* dst, int64_t ldd);

// op(B)[p0 .. p0+kc) x [j0 + jp .. ) -> one NR-wide sliver stored k-major: dst[k*NR + j].
// A transposed B goes through the ISA's register transpose when there is one (16 x 16 blocks on
// AVX-512; the scalar loop's strided stores cost ~3 cycles an element).
template <typename T>
void pack_b_sliver(bool trans_b, Transpose<T> transpose, const T* B, int64_t ldb, int64_t p0,
                   int64_t kc, int64_t j0, int64_t nr, int NR, T* dst) {
  if (trans_b) {  // op(B)[k][j] = B[j][k]: read each of the nr rows of B contiguously
    if (nr < NR)  // zero the padding columns row by row (contiguous runs)
      for (int64_t k = 0; k < kc; ++k) std::fill(dst + k * NR + nr, dst + (k + 1) * NR, T(0));
    if (transpose) {
      transpose(B + j0 * ldb + p0, ldb, nr, kc, dst, NR);
      return;
    }
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
// MR x NR register tile; KC (depth) so that a KC x NR sliver of B stays cached; MC so that an
// MC x KC block of A sits in L2; NC so that the KC x NC panel of B sits in L3.
template <typename T>
struct Config {
  Ukernel<T> kernel;
  int MR, NR, MC, KC, NC;
  PackA<T> pack_a;
  const EdgeKernel<T>* edge = nullptr;  // MR x NR/W table for ragged tiles (nullptr: scratch tile)
  int W = 0;                            // lanes per vector of the edge kernels
  Transpose<T> transpose = nullptr;     // packs slivers of a transposed B (nullptr: scalar loop)
};

template <typename T> Config<T> config_for(SimdLevel level);

// ------------------------------------------------------------------ packed driver
template <typename T>
void gemm_packed(const Config<T>& cfg, int nthreads, bool trans_a, bool trans_b, int64_t M,
                 int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B, int64_t ldb,
                 T beta, T* C, int64_t ldc, T* ws = nullptr) {
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

  // Every buffer is taken here, before the parallel region: an allocation that fails inside a
  // region cannot be caught outside it (std::terminate), so it must throw here, in the caller.
  // apack holds one MC x KC block of op(A) per thread, at a cache-line multiple stride.
  // (With a caller's workspace ws, see packed_workspace_size, both come from it instead.)
  const int64_t apack_stride = round_up(mc_blk * kc_max, static_cast<int64_t>(kAlign / sizeof(T)));
  T* bpack = ws ? ws : tls_scratch(0).get<T>(kc_max * NC);
  T* apack_all = ws ? ws + round_up(kc_max * NC, static_cast<int64_t>(kAlign / sizeof(T)))
                    : tls_scratch(1).get<T>(apack_stride * nthreads);

  auto body = [&](int tid, int nth) {
    T* apack = apack_all + apack_stride * tid;  // tid < nth <= nthreads
    alignas(kAlign) T tile[16 * 64];  // ragged-edge tile (MR*NR <= 1024)
    for (int64_t jc = 0; jc < N; jc += NC) {
      const int64_t nc = std::min(NC, N - jc);
      const int64_t n_sliver = ceil_div(nc, NR);
      for (int64_t pc = 0; pc < K; pc += KC) {
        const int64_t kc = std::min(KC, K - pc);
        const T beta_eff = (pc == 0) ? beta : T(1);  // later K blocks accumulate onto C

        // All threads pack the shared B panel together, then wait for it.
        for (int64_t s = tid; s < n_sliver; s += nth)
          pack_b_sliver(trans_b, cfg.transpose, B, ldb, pc, kc, jc + s * NR, std::min<int64_t>(NR, nc - s * NR),
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
              } else if (cfg.edge) {  // ragged edge: only the valid rows and vectors
                const int64_t nv = ceil_div(nr, cfg.W);
                cfg.edge[(mr - 1) * (NR / cfg.W) + (nv - 1)](kc, ap, bp, c, ldc,
                                                             static_cast<int>(nr - (nv - 1) * cfg.W),
                                                             alpha, beta_eff);
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

// ------------------------------------------------------------------ direct path (M <= 4, transposed B, K >= 32)
// A handful of rows times a transposed B (the backward's G · Wᵀ for a tiny batch): each C element
// is a dot product of two contiguous rows, op(A)[i][:] and B[j][:], so B streams once from memory
// without packing. (Other small-M and small-N shapes take the row-panel kernels below.)
// The op(A) rows are copied to a scratch block, contiguous in k.
constexpr int64_t kDirectRows = 4;
constexpr int64_t kDirectDotMinK = 32;  // shorter dot products: the row-panel kernel instead
// Scratch elements one direct-path call needs for nj columns: the sums and the op(A) rows.
inline int64_t direct_scratch_size(int64_t nj, int64_t K) { return kDirectRows * (nj + K) + 64; }

template <typename T>
__attribute__((always_inline)) inline void gemm_direct_body(
    bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
    const T* B, int64_t ldb, T beta, T* C, int64_t ldc, int64_t j_begin, int64_t j_end, T* scratch) {
  (void)N;        // the caller passes the column range [j_begin, j_end) instead
  (void)trans_b;  // always transposed here: op(B)ᵀ row j is B + j * ldb, contiguous in k
  const int64_t nj = j_end - j_begin;
  // scratch: direct_scratch_size(nj, K) elements, given by the caller (taken before its region)
  T* acc = scratch;                      // kDirectRows rows of nj sums
  T* arow = scratch + kDirectRows * nj;  // kDirectRows rows of op(A), contiguous in k
  const T* bt = B + j_begin * ldb;
  for (int64_t i0 = 0; i0 < M; i0 += kDirectRows) {
    const int64_t mr = std::min(kDirectRows, M - i0);
    for (int64_t r = 0; r < mr; ++r)
      for (int64_t k = 0; k < K; ++k)
        arow[r * K + k] = trans_a ? A[k * lda + i0 + r] : A[(i0 + r) * lda + k];
    // acc[r][j] = dot(a[r], B[j]); 16 partial sums in a fixed order (vectorisable)
    for (int64_t j = 0; j < nj; ++j) {
      const T* bj = bt + j * ldb;
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
      int64_t j_end, T *scratch
#define PYDL_DIRECT_CALL \
  trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, j_begin, j_end, scratch

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

// ------------------------------------------------------------------ row-panel kernels (small N, small M)
// The packed path pays for packing op(A) (MR-tall slivers) and op(B) (NR-wide slivers, zero padded
// to NR = 64 floats). Two shapes of small MLPs make that a bad deal:
//   small N (N <= 2 vectors, e.g. a 10-class output layer): a packed sliver would be mostly
//     padding, and packing A copies the whole big operand for a single pass over it;
//   small M (M <= 4 rows, a tiny batch): B is the big operand and is used only M times, so
//     packing it costs as much as the multiply.
// Both are served by one register-blocked kernel that reads op(A) in place (broadcasting
// op(A)[i][k]) and streams rows of a row-major B (op(B)[k][:] at B + k*ldb):
//   C[0..MR)[0..NV*W) = alpha * sum_k op(A)[i][k] * B[k][0..NV*W) + beta * C
// with MR x NV vector accumulators; the last vector has nlast valid lanes (masked store; with
// MASKB also a masked load, so nothing past column nlast of the last vector is ever read).
// Each C element is one FMA chain over k = 0, 1, ..., K-1 in order, whatever MR/NV/thread split
// computed it: results do not depend on the thread count.
#define PYDL_PANEL_ARGS                                                                        \
  int64_t K, const T *A, int64_t lda, const T *B, int64_t ldb, T *C, int64_t ldc, int nlast, \
      T alpha, T beta
#define PYDL_PANEL_CALL K, A, lda, B, ldb, C, ldc, nlast, alpha, beta

// dst[k * ldd + j] = B[j * ldb + k] for j < N, k < K: op(B) of a transposed B made row-major.
// Vector ISAs gather W rows of B per k (one contiguous store) instead of W scalar moves.
#define PYDL_TRANSPOSE_BODY(VT)                                                            \
  constexpr int W = VT::W;                                                                 \
  if (ldb > (int64_t(1) << 26)) {  /* gather indices are int32 */                          \
    for (int64_t j = 0; j < N; ++j)                                                        \
      for (int64_t k = 0; k < K; ++k) dst[k * ldd + j] = B[j * ldb + k];                  \
    return;                                                                                \
  }                                                                                        \
  for (int64_t j = 0; j < N; j += W) {                                                     \
    const int n = static_cast<int>(std::min<int64_t>(W, N - j));                           \
    const T* src = B + j * ldb;                                                            \
    for (int64_t k = 0; k < K; ++k) VT::storen(dst + k * ldd + j, VT::gathern(src + k, ldb, n), n); \
  }

#define PYDL_PANEL_BODY(VT)                                                            \
  using V = typename VT::V;                                                            \
  constexpr int W = VT::W;                                                             \
  V acc[MR][NV];                                                                       \
  _Pragma("GCC unroll 8") for (int i = 0; i < MR; ++i)                                 \
    _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) acc[i][v] = VT::zero();       \
  const T* ar[MR]; /* row pointers of op(A) when A is not transposed */                \
  _Pragma("GCC unroll 8") for (int i = 0; i < MR; ++i) ar[i] = A + (TA ? i : i * lda); \
  _Pragma("GCC unroll 2") for (int64_t k = 0; k < K; ++k) {                            \
    const T* bk = B + k * ldb;                                                         \
    V bv[NV];                                                                          \
    _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v)                               \
      bv[v] = (MASKB && v == NV - 1) ? VT::loadn(bk + v * W, nlast)                    \
                                     : VT::loadu(bk + v * W);                          \
    const T* ak = A + k * lda; /* TA: op(A)[i][k] = ak[i] */                           \
    _Pragma("GCC unroll 8") for (int i = 0; i < MR; ++i) {                             \
      const V ai = VT::set1(TA ? ak[i] : ar[i][k]);                                    \
      _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v)                             \
        acc[i][v] = VT::fmadd(ai, bv[v], acc[i][v]);                                   \
    }                                                                                  \
  }                                                                                    \
  const V va = VT::set1(alpha), vb = VT::set1(beta);                                   \
  _Pragma("GCC unroll 8") for (int i = 0; i < MR; ++i) {                               \
    T* ci = C + i * ldc;                                                               \
    _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) {                             \
      V r = VT::mul(va, acc[i][v]);                                                    \
      if (v < NV - 1) {                                                                \
        if (beta != T(0)) r = VT::fmadd(vb, VT::loadu(ci + v * W), r);                 \
        VT::storeu(ci + v * W, r);                                                     \
      } else {                                                                         \
        if (beta != T(0)) r = VT::fmadd(vb, VT::loadn(ci + v * W, nlast), r);          \
        VT::storen(ci + v * W, r, nlast);                                              \
      }                                                                                \
    }                                                                                  \
  }

// Portable "vector" of 32 bytes for the generic path (plain loops the compiler may vectorise).
template <typename T>
struct VGen {
  static constexpr int W = 32 / int(sizeof(T));
  struct V { T x[W]; };
  static inline V zero() { V r; for (int l = 0; l < W; ++l) r.x[l] = T(0); return r; }
  static inline V set1(T a) { V r; for (int l = 0; l < W; ++l) r.x[l] = a; return r; }
  static inline V loadu(const T* p) { V r; for (int l = 0; l < W; ++l) r.x[l] = p[l]; return r; }
  static inline void storeu(T* p, V v) { for (int l = 0; l < W; ++l) p[l] = v.x[l]; }
  static inline V loadn(const T* p, int n) { V r = zero(); for (int l = 0; l < n; ++l) r.x[l] = p[l]; return r; }
  static inline void storen(T* p, V v, int n) { for (int l = 0; l < n; ++l) p[l] = v.x[l]; }
  static inline V fmadd(V a, V b, V c) { for (int l = 0; l < W; ++l) c.x[l] += a.x[l] * b.x[l]; return c; }
  static inline V mul(V a, V b) { for (int l = 0; l < W; ++l) a.x[l] *= b.x[l]; return a; }
};

// One struct per instruction set: vector width, register budget, and the kernel compiled for it.
//   kSmallNRows: rows per block in the small-N path for NV = 1, 2 (accumulators within budget);
//   kSmallMNV:   vectors per column block in the small-M path (up to 4 rows).
struct IsaGeneric {
  static constexpr int kBytes = 32;
  static constexpr int kSmallNRows[2] = {4, 4};
  static constexpr int kSmallMNV = 2;
  template <typename T, bool TA, int MR, int NV, bool MASKB>
  static void block(PYDL_PANEL_ARGS) { PYDL_PANEL_BODY(VGen<T>) }
  template <typename T>
  static void transpose(const T* B, int64_t ldb, int64_t N, int64_t K, T* dst, int64_t ldd) {
    for (int64_t j0 = 0; j0 < N; j0 += 16)  // 16 columns at a time: short contiguous stores
      for (int64_t k = 0; k < K; ++k)
        for (int64_t j = j0; j < std::min<int64_t>(N, j0 + 16); ++j) dst[k * ldd + j] = B[j * ldb + k];
  }
};
#if PYDL_GEMM_X86
struct IsaAvx512 {  // 32 zmm: 8 rows x 2 vectors = 16 accumulators; small M: 4 x 4
  static constexpr int kBytes = 64;
  static constexpr int kSmallNRows[2] = {8, 8};
  static constexpr int kSmallMNV = 4;
  static constexpr int kUnpackedRows = 6, kUnpackedNV = 4;  // the packed path's 6 x 64 tile
  template <typename T, bool TA, int MR, int NV, bool MASKB>
  __attribute__((target("avx512f,fma"))) static void block(PYDL_PANEL_ARGS) {
    PYDL_PANEL_BODY(V512<T>)
  }
  template <typename T>
  __attribute__((target("avx512f,fma"))) static void transpose(const T* B, int64_t ldb, int64_t N,
                                                               int64_t K, T* dst, int64_t ldd) {
    PYDL_TRANSPOSE_BODY(V512<T>)
  }
  // float: 16 x 16 blocks transposed in registers (4 shuffle stages; gathers are slow on Zen 4).
  // (GCC 12 warns -Wmaybe-uninitialized inside the shuffle intrinsics' own _mm512_undefined.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
  __attribute__((target("avx512f,fma"))) static void transpose(const float* B, int64_t ldb, int64_t N,
                                                               int64_t K, float* dst, int64_t ldd) {
    using VT = V512<float>;
    for (int64_t j0 = 0; j0 < N; j0 += 16) {
      const int nj = static_cast<int>(std::min<int64_t>(16, N - j0));
      for (int64_t k0 = 0; k0 < K; k0 += 16) {
        const int nk = static_cast<int>(std::min<int64_t>(16, K - k0));
        __m512 r[16], u[16];
        for (int j = 0; j < 16; ++j)  // r[j] lane k = B[j0 + j][k0 + k]
          r[j] = j < nj ? VT::loadn(B + (j0 + j) * ldb + k0, nk) : VT::zero();
        for (int p = 0; p < 8; ++p) {
          u[2 * p] = _mm512_unpacklo_ps(r[2 * p], r[2 * p + 1]);
          u[2 * p + 1] = _mm512_unpackhi_ps(r[2 * p], r[2 * p + 1]);
        }
        for (int q = 0; q < 4; ++q) {  // r[4q + c], 128-bit lane L: column 4L + c of rows 4q..4q+3
          const __m512d a = _mm512_castps_pd(u[4 * q]), b = _mm512_castps_pd(u[4 * q + 1]);
          const __m512d c = _mm512_castps_pd(u[4 * q + 2]), d = _mm512_castps_pd(u[4 * q + 3]);
          r[4 * q + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
          r[4 * q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
          r[4 * q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
          r[4 * q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
        }
        for (int c = 0; c < 4; ++c) {
          const __m512 x0 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
          const __m512 x1 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD);
          const __m512 y0 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
          const __m512 y1 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
          u[c] = _mm512_shuffle_f32x4(x0, y0, 0x88);       // column c
          u[4 + c] = _mm512_shuffle_f32x4(x1, y1, 0x88);   // column 4 + c
          u[8 + c] = _mm512_shuffle_f32x4(x0, y0, 0xDD);   // column 8 + c
          u[12 + c] = _mm512_shuffle_f32x4(x1, y1, 0xDD);  // column 12 + c
        }
        for (int k = 0; k < nk; ++k) VT::storen(dst + (k0 + k) * ldd + j0, u[k], nj);
      }
    }
  }
#pragma GCC diagnostic pop
};
struct IsaAvx2 {  // 16 ymm: at most 8 accumulators + B vectors + a broadcast
  static constexpr int kBytes = 32;
  static constexpr int kSmallNRows[2] = {8, 4};
  static constexpr int kSmallMNV = 2;
  static constexpr int kUnpackedRows = 4, kUnpackedNV = 3;  // the packed path's 4 x 24 tile
  template <typename T, bool TA, int MR, int NV, bool MASKB>
  __attribute__((target("avx2,fma"))) static void block(PYDL_PANEL_ARGS) {
    PYDL_PANEL_BODY(V256<T>)
  }
  template <typename T>
  __attribute__((target("avx2,fma"))) static void transpose(const T* B, int64_t ldb, int64_t N,
                                                            int64_t K, T* dst, int64_t ldd) {
    PYDL_TRANSPOSE_BODY(V256<T>)
  }
};
#endif

// Column form of the small-N product for a transposed A (stored K x M, so op(A)[i..i+W)[k] is a
// contiguous run): vectors run down the rows of C, one accumulator per (column j, vector) and
// op(B)[k][j] is broadcast. No lane is wasted on N < W (N = 10 fills 10 of 16 lanes in the
// row form). The MV*W x NJ block is written through a small transposing tile. Every element is
// still one FMA chain over k in order, then alpha / beta.
#define PYDL_COLS_BODY(VT)                                                                \
  using V = typename VT::V;                                                               \
  constexpr int W = VT::W;                                                                \
  int cnt[MV];                                                                            \
  for (int v = 0; v < MV; ++v) cnt[v] = static_cast<int>(std::clamp<int64_t>(m - v * W, 0, W)); \
  V acc[NJ][MV];                                                                          \
  _Pragma("GCC unroll 16") for (int j = 0; j < NJ; ++j)                                   \
    _Pragma("GCC unroll 4") for (int v = 0; v < MV; ++v) acc[j][v] = VT::zero();          \
  _Pragma("GCC unroll 2") for (int64_t k = 0; k < K; ++k) {                               \
    const T* ak = A + k * lda;                                                            \
    const T* bk = B + k * ldb;                                                            \
    V av[MV];                                                                             \
    _Pragma("GCC unroll 4") for (int v = 0; v < MV; ++v)                                  \
      av[v] = FULL ? VT::loadu(ak + v * W) : VT::loadn(ak + v * W, cnt[v]);               \
    _Pragma("GCC unroll 16") for (int j = 0; j < NJ; ++j) {                               \
      const V bj = VT::set1(bk[j]);                                                       \
      _Pragma("GCC unroll 4") for (int v = 0; v < MV; ++v)                                \
        acc[j][v] = VT::fmadd(av[v], bj, acc[j][v]);                                      \
    }                                                                                     \
  }                                                                                       \
  alignas(64) T tile[NJ][MV * W];                                                         \
  _Pragma("GCC unroll 16") for (int j = 0; j < NJ; ++j)                                   \
    _Pragma("GCC unroll 4") for (int v = 0; v < MV; ++v) VT::storeu(&tile[j][v * W], acc[j][v]); \
  const int64_t mm = FULL ? MV * W : m;                                                   \
  for (int64_t i = 0; i < mm; ++i) {                                                      \
    T* ci = C + i * ldc;                                                                  \
    if (beta == T(0))                                                                     \
      for (int j = 0; j < NJ; ++j) ci[j] = alpha * tile[j][i];                            \
    else                                                                                  \
      for (int j = 0; j < NJ; ++j) ci[j] = alpha * tile[j][i] + beta * ci[j];             \
  }

template <typename T>
using ColsKernel = void (*)(int64_t m, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb,
                            T* C, int64_t ldc, T alpha, T beta);
#define PYDL_COLS_ARGS \
  int64_t m, int64_t K, const T *A, int64_t lda, const T *B, int64_t ldb, T *C, int64_t ldc, T alpha, T beta

#if PYDL_GEMM_X86
template <typename T, int NJ, int MV, bool FULL>
__attribute__((target("avx512f,fma"))) void cols_avx512(PYDL_COLS_ARGS) { PYDL_COLS_BODY(V512<T>) }
template <typename T, int NJ, int MV, bool FULL>
__attribute__((target("avx2,fma"))) void cols_avx2(PYDL_COLS_ARGS) { PYDL_COLS_BODY(V256<T>) }

constexpr int kColsMaxN = 12;  // beyond, the row form wastes at most a quarter of its lanes
constexpr int64_t kColsMinK = 16;  // shorter sums: the transposing store would dominate
// Tables indexed by 2 * (N - 1) + (full ? 1 : 0).
template <typename T, int MV, int... I>
const ColsKernel<T>* cols_table_avx512(std::integer_sequence<int, I...>) {
  static const ColsKernel<T> tab[] = {&cols_avx512<T, I / 2 + 1, MV, (I % 2) == 1>...};
  return tab;
}
template <typename T, int MV, int... I>
const ColsKernel<T>* cols_table_avx2(std::integer_sequence<int, I...>) {
  static const ColsKernel<T> tab[] = {&cols_avx2<T, I / 2 + 1, MV, (I % 2) == 1>...};
  return tab;
}
#endif

// m rows in blocks of MRTOP, the rest in blocks of 4, 2, 1 (A is read in place, so a smaller
// block costs no extra pass over memory: only the small B panel, cached, is re-read).
template <class Isa, typename T, bool TA, int MRTOP, int NV, bool MASKB>
void panel_rows(int64_t m, PYDL_PANEL_ARGS) {
  const int64_t a_row = TA ? 1 : lda;
  int64_t i = 0;
  for (; i + MRTOP <= m; i += MRTOP)
    Isa::template block<T, TA, MRTOP, NV, MASKB>(K, A + i * a_row, lda, B, ldb, C + i * ldc, ldc,
                                                 nlast, alpha, beta);
  if (MRTOP > 4 && i + 4 <= m) {
    Isa::template block<T, TA, (MRTOP > 4 ? 4 : 1), NV, MASKB>(K, A + i * a_row, lda, B, ldb,
                                                               C + i * ldc, ldc, nlast, alpha, beta);
    i += 4;
  }
  if (MRTOP > 2 && i + 2 <= m) {
    Isa::template block<T, TA, (MRTOP > 2 ? 2 : 1), NV, MASKB>(K, A + i * a_row, lda, B, ldb,
                                                               C + i * ldc, ldc, nlast, alpha, beta);
    i += 2;
  }
  if (i < m)
    Isa::template block<T, TA, 1, NV, MASKB>(K, A + i * a_row, lda, B, ldb, C + i * ldc, ldc, nlast,
                                             alpha, beta);
}

template <class Isa, typename T, int NV>
void panel_rows_nv(bool ta, bool maskb, int64_t m, PYDL_PANEL_ARGS) {
  constexpr int MRTOP = Isa::kSmallNRows[NV - 1];
  if (ta) {
    if (maskb) panel_rows<Isa, T, true, MRTOP, NV, true>(m, PYDL_PANEL_CALL);
    else panel_rows<Isa, T, true, MRTOP, NV, false>(m, PYDL_PANEL_CALL);
  } else {
    if (maskb) panel_rows<Isa, T, false, MRTOP, NV, true>(m, PYDL_PANEL_CALL);
    else panel_rows<Isa, T, false, MRTOP, NV, false>(m, PYDL_PANEL_CALL);
  }
}

// Runs fn(t) for t in [0, nchunks), on nchunks threads when nchunks > 1.
template <typename F>
void run_chunks(int64_t nchunks, F&& fn) {
#ifdef _OPENMP
  if (nchunks > 1) {  // (an OpenMP region costs ~1 us even when serialised: only open it here)
#pragma omp parallel for num_threads(static_cast<int>(nchunks)) schedule(static)
    for (int64_t t = 0; t < nchunks; ++t) fn(t);
    return;
  }
#endif
  for (int64_t t = 0; t < nchunks; ++t) fn(t);
}

// Small N (N <= 2 vectors): C rows in blocks, op(A) read in place. op(B) is read in place too
// when it is row-major (masked last vector); transposed, it is first copied into a K x NV*W
// panel (small: K x 32 floats at most), zero padded.
template <class Isa, typename T>
void gemm_small_n(int nthreads, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                  T alpha, const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C,
                  int64_t ldc, T* ws) {
  constexpr int W = Isa::kBytes / int(sizeof(T));
  const int nv = static_cast<int>(ceil_div(N, W));
  const int nlast = static_cast<int>(N - (nv - 1) * W);
  const T* b = B;
  int64_t bld = ldb;
  if (trans_b) {
    const int64_t np = nv * W;
    T* bp = ws ? ws : tls_scratch(0).get<T>(K * np);
    for (int64_t k = 0; k < K; ++k) std::fill(bp + k * np + N, bp + (k + 1) * np, T(0));
    Isa::transpose(B, ldb, N, K, bp, np);
    b = bp;
    bld = np;
  }
  constexpr int64_t kRowAlign = 8;
#if PYDL_GEMM_X86
  if constexpr (!std::is_same<Isa, IsaGeneric>::value) if (trans_a && N <= kColsMaxN && K >= kColsMinK) {
    // Column form: blocks of MV vectors of rows (2 x 16 floats on AVX-512, 1 x 8 on AVX2).
    constexpr bool k512 = std::is_same<Isa, IsaAvx512>::value;
    constexpr int MV = k512 ? 2 : 1;
    constexpr int64_t rows = MV * W;
    const ColsKernel<T>* tab =
        k512 ? cols_table_avx512<T, 2>(std::make_integer_sequence<int, 2 * kColsMaxN>())
             : cols_table_avx2<T, 1>(std::make_integer_sequence<int, 2 * kColsMaxN>());
    const ColsKernel<T> full = tab[2 * (N - 1) + 1], part = tab[2 * (N - 1)];
    const int64_t nchunks = std::min<int64_t>(nthreads, ceil_div(M, 4 * rows));
    run_chunks(nchunks, [&](int64_t t) {
      const int64_t i0 = std::min(M, round_up(M * t / nchunks, rows));
      const int64_t i1 = std::min(M, round_up(M * (t + 1) / nchunks, rows));
      int64_t i = i0;
      for (; i + rows <= i1; i += rows) full(rows, K, A + i, lda, b, bld, C + i * ldc, ldc, alpha, beta);
      if (i < i1) part(i1 - i, K, A + i, lda, b, bld, C + i * ldc, ldc, alpha, beta);
    });
    return;
  }
#endif
  const bool maskb = !trans_b;  // B read in place: never load past column N
  const int64_t nchunks = std::min<int64_t>(nthreads, ceil_div(M, 4 * kRowAlign));
  run_chunks(nchunks, [&](int64_t t) {
    const int64_t i0 = std::min(M, round_up(M * t / nchunks, kRowAlign));
    const int64_t i1 = std::min(M, round_up(M * (t + 1) / nchunks, kRowAlign));
    if (i0 >= i1) return;
    const T* a = A + i0 * (trans_a ? 1 : lda);
    T* c = C + i0 * ldc;
    if (nv == 1) panel_rows_nv<Isa, T, 1>(trans_a, maskb, i1 - i0, K, a, lda, b, bld, c, ldc, nlast, alpha, beta);
    else panel_rows_nv<Isa, T, 2>(trans_a, maskb, i1 - i0, K, a, lda, b, bld, c, ldc, nlast, alpha, beta);
  });
}

// Small M (M <= 4): C in column blocks of NVM vectors, each with all M rows at once, so op(B)
// is streamed exactly once. Row-major op(B) is read in place; a transposed one (only taken
// here for small K, where dot products are too short) is copied into a K x N panel first.
template <class Isa, typename T, bool TA, int MR>
void small_m_cols(int64_t j0, int64_t j1, PYDL_PANEL_ARGS) {
  constexpr int W = Isa::kBytes / int(sizeof(T));
  constexpr int NVM = Isa::kSmallMNV;
  constexpr int CB = NVM * W;
  (void)nlast;
  int64_t j = j0;
  for (; j + CB <= j1; j += CB)
    Isa::template block<T, TA, MR, NVM, false>(K, A, lda, B + j, ldb, C + j, ldc, W, alpha, beta);
  if (j < j1) {
    const int64_t rem = j1 - j;
    const int nv = static_cast<int>(ceil_div(rem, W)), nl = static_cast<int>(rem - (nv - 1) * W);
    switch (nv) {
      case 1: Isa::template block<T, TA, MR, 1, true>(K, A, lda, B + j, ldb, C + j, ldc, nl, alpha, beta); break;
      case 2: Isa::template block<T, TA, MR, (NVM >= 2 ? 2 : 1), true>(K, A, lda, B + j, ldb, C + j, ldc, nl, alpha, beta); break;
      case 3: Isa::template block<T, TA, MR, (NVM >= 3 ? 3 : 1), true>(K, A, lda, B + j, ldb, C + j, ldc, nl, alpha, beta); break;
      default: Isa::template block<T, TA, MR, NVM, true>(K, A, lda, B + j, ldb, C + j, ldc, nl, alpha, beta); break;
    }
  }
}

template <class Isa, typename T, bool TA>
void small_m_dispatch(int64_t M, int64_t j0, int64_t j1, PYDL_PANEL_ARGS) {
  switch (M) {
    case 1: small_m_cols<Isa, T, TA, 1>(j0, j1, PYDL_PANEL_CALL); break;
    case 2: small_m_cols<Isa, T, TA, 2>(j0, j1, PYDL_PANEL_CALL); break;
    case 3: small_m_cols<Isa, T, TA, 3>(j0, j1, PYDL_PANEL_CALL); break;
    default: small_m_cols<Isa, T, TA, 4>(j0, j1, PYDL_PANEL_CALL); break;
  }
}

template <class Isa, typename T>
void gemm_small_m(int nthreads, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                  T alpha, const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C,
                  int64_t ldc, T* ws) {
  constexpr int W = Isa::kBytes / int(sizeof(T));
  constexpr int64_t CB = Isa::kSmallMNV * W;
  const T* b = B;
  int64_t bld = ldb;
  if (trans_b) {  // B stored (N, K): copy op(B) = Bᵀ into a K x N panel
    T* bp = ws ? ws : tls_scratch(0).get<T>(K * N);
    Isa::transpose(B, ldb, N, K, bp, N);
    b = bp;
    bld = N;
  }
  const int64_t nchunks = std::min<int64_t>(nthreads, ceil_div(N, 4 * CB));
  run_chunks(nchunks, [&](int64_t t) {
    const int64_t j0 = std::min(N, round_up(N * t / nchunks, CB));
    const int64_t j1 = std::min(N, round_up(N * (t + 1) / nchunks, CB));
    if (j0 >= j1) return;
    if (trans_a) small_m_dispatch<Isa, T, true>(M, j0, j1, K, A, lda, b, bld, C, ldc, 0, alpha, beta);
    else small_m_dispatch<Isa, T, false>(M, j0, j1, K, A, lda, b, bld, C, ldc, 0, alpha, beta);
  });
}

// ------------------------------------------------------------------ configuration of the packed path
// Chosen by measurement on Zen 4 (AVX-512 executed as 2x256-bit): a 6 x 64 float tile
// (24 zmm accumulators + 4 B vectors + 1 broadcast = 29 of 32 registers; 24 FMAs per 10 loads)
// beat 6x32, 8x48, 12x32, 14x32 and 4x64. KC = 512 amortises the C-tile update better than
// the textbook L1-sized KC = 256 (+10-15% here): the B sliver then lives in the 1 MB L2.
// AVX2 (16 registers): 4 x 24 (12 accumulators + 3 + 1) measured slightly ahead of 6 x 16.
template <> Config<float> config_for<float>(SimdLevel level) {
#if PYDL_GEMM_X86
  if (level == kAvx512)
    return {&ukernel_avx512<float, 6, 4>, 6, 64, 96, 512, 2048, &pack_a<float, 6>,
            edge_table_avx512<float, 6, 4>(std::make_integer_sequence<int, 6 * 4>()), 16,
            &IsaAvx512::transpose};
  if (level == kAvx2)
    return {&ukernel_avx2<float, 4, 3>, 4, 24, 96, 512, 2048, &pack_a<float, 4>,
            edge_table_avx2<float, 4, 3>(std::make_integer_sequence<int, 4 * 3>()), 8,
            &IsaAvx2::transpose<float>};
#endif
  (void)level;
  return {&ukernel_generic<float, 4, 16>, 4, 16, 96, 256, 2048, &pack_a<float, 4>};
}
// Double: the same kernels at half the lanes per register.
template <> Config<double> config_for<double>(SimdLevel level) {
#if PYDL_GEMM_X86
  if (level == kAvx512)
    return {&ukernel_avx512<double, 6, 4>, 6, 32, 96, 256, 2048, &pack_a<double, 6>,
            edge_table_avx512<double, 6, 4>(std::make_integer_sequence<int, 6 * 4>()), 8,
            &IsaAvx512::transpose<double>};
  if (level == kAvx2)
    return {&ukernel_avx2<double, 4, 3>, 4, 12, 96, 256, 2048, &pack_a<double, 4>,
            edge_table_avx2<double, 4, 3>(std::make_integer_sequence<int, 4 * 3>()), 4,
            &IsaAvx2::transpose<double>};
#endif
  (void)level;
  return {&ukernel_generic<double, 4, 8>, 4, 8, 96, 256, 2048, &pack_a<double, 4>};
}

// Short op(A) times a row-major B (a batch of up to ~128 rows through a Dense layer's weight):
// each element of B is used only M times, and packing B (a full copy of the weight) costs about
// a tenth of the multiply. Here B is read in place. C goes in column blocks of NV vectors; each
// block's K x NV*W strip of B stays in L2 while MR-row groups of op(A) sweep it (the packed
// path's register tile, without the copies). Threads take contiguous runs of column blocks.
constexpr int64_t kUnpackedMaxM = 1024;
constexpr int64_t kUnpackedMaxK = 1024;  // a 64-float strip of B: K x 256 bytes, within L2

template <class Isa, typename T, bool TA, int MR, int NV>
void unpacked_block(int64_t M, int nv, PYDL_PANEL_ARGS) {
  if (nv == NV && nlast == Isa::kBytes / int(sizeof(T))) {
    panel_rows<Isa, T, TA, MR, NV, false>(M, PYDL_PANEL_CALL);
    return;
  }
  switch (nv) {  // the ragged last block: nv vectors, the last one masked
    case 1: panel_rows<Isa, T, TA, MR, 1, true>(M, PYDL_PANEL_CALL); break;
    case 2: panel_rows<Isa, T, TA, MR, (NV >= 2 ? 2 : 1), true>(M, PYDL_PANEL_CALL); break;
    case 3: panel_rows<Isa, T, TA, MR, (NV >= 3 ? 3 : 1), true>(M, PYDL_PANEL_CALL); break;
    default: panel_rows<Isa, T, TA, MR, NV, true>(M, PYDL_PANEL_CALL); break;
  }
}

template <class Isa, typename T>
void gemm_unpacked(int nthreads, bool trans_a, int64_t M, int64_t N, int64_t K, T alpha,
                   const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  constexpr int W = Isa::kBytes / int(sizeof(T));
  constexpr int NV = Isa::kUnpackedNV, MR = Isa::kUnpackedRows;
  constexpr int64_t CB = NV * W;
  const int64_t nblk = ceil_div(N, CB);
  const int64_t nchunks = std::min<int64_t>(nthreads, nblk);
  run_chunks(nchunks, [&](int64_t t) {
    for (int64_t blk = nblk * t / nchunks; blk < nblk * (t + 1) / nchunks; ++blk) {
      const int64_t j = blk * CB, nb = std::min(CB, N - j);
      const int nv = static_cast<int>(ceil_div(nb, W)), nlast = static_cast<int>(nb - (nv - 1) * W);
      if (trans_a)
        unpacked_block<Isa, T, true, MR, NV>(M, nv, K, A, lda, B + j, ldb, C + j, ldc, nlast, alpha, beta);
      else
        unpacked_block<Isa, T, false, MR, NV>(M, nv, K, A, lda, B + j, ldb, C + j, ldc, nlast, alpha, beta);
    }
  });
}

// Largest N the small-N path takes: two vectors of the chosen instruction set.
template <typename T>
int64_t small_n_max(SimdLevel level) {
#if PYDL_GEMM_X86
  if (level == kAvx512) return 2 * IsaAvx512::kBytes / int64_t(sizeof(T));
  if (level == kAvx2) return 2 * IsaAvx2::kBytes / int64_t(sizeof(T));
#endif
  (void)level;
  return 2 * IsaGeneric::kBytes / int64_t(sizeof(T));
}

#define PYDL_GEMM_ARGS                                                                    \
  int nthreads, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,     \
      const T *A, int64_t lda, const T *B, int64_t ldb, T beta, T *C, int64_t ldc, T *ws
#define PYDL_GEMM_CALL nthreads, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ws

template <typename T>
void gemm_small_n_dispatch(SimdLevel level, PYDL_GEMM_ARGS) {
#if PYDL_GEMM_X86
  if (level == kAvx512) return gemm_small_n<IsaAvx512, T>(PYDL_GEMM_CALL);
  if (level == kAvx2) return gemm_small_n<IsaAvx2, T>(PYDL_GEMM_CALL);
#endif
  (void)level;
  gemm_small_n<IsaGeneric, T>(PYDL_GEMM_CALL);
}
template <typename T>
void gemm_small_m_dispatch(SimdLevel level, PYDL_GEMM_ARGS) {
#if PYDL_GEMM_X86
  if (level == kAvx512) return gemm_small_m<IsaAvx512, T>(PYDL_GEMM_CALL);
  if (level == kAvx2) return gemm_small_m<IsaAvx2, T>(PYDL_GEMM_CALL);
#endif
  (void)level;
  gemm_small_m<IsaGeneric, T>(PYDL_GEMM_CALL);
}

int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// The route of gemm_fast, for nthreads threads. ws: nullptr (the calling thread's own
// scratch buffers, grown here, before any parallel region), or a caller's workspace of at least
// gemm_workspace_size elements, 64-byte aligned (with nthreads == 1: the serial entry point).
template <typename T>
void gemm_route(int nthreads, T* ws, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {  // empty sum: C = beta * C (beta == 0: C = 0 without reading it)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = (beta == T(0)) ? T(0) : beta * C[i * ldc + j];
    return;
  }
  const SimdLevel level = simd_level();
  if (N <= small_n_max<T>(level))  // a narrow C (an output layer, its weight gradient)
    return gemm_small_n_dispatch<T>(level, nthreads, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
                                    beta, C, ldc, ws);
  if (M <= kDirectRows) {
    // A handful of rows (a small batch through a linear layer): stream op(B) once, no packing.
    // Transposed B with a long K: dot products of contiguous rows (the direct path); with a
    // short K those are too short, and B is copied row-major for the row kernel instead.
    if (!trans_b || K < kDirectDotMinK)
      return gemm_small_m_dispatch<T>(level, nthreads, trans_a, trans_b, M, N, K, alpha, A, lda, B,
                                      ldb, beta, C, ldc, ws);
    const int64_t nchunks = (nthreads > 1 && N >= 256) ? nthreads : 1;
    // Each chunk's scratch, taken before the region (a chunk has at most N columns).
    const int64_t stride = round_up(direct_scratch_size(N, K), static_cast<int64_t>(kAlign / sizeof(T)));
    T* scratch_all = ws ? ws : tls_scratch(2).get<T>(stride * nchunks);
    run_chunks(nchunks, [&](int64_t t) {
      const int64_t j_begin = round_up(N * t / nchunks, 16);
      const int64_t j_end = std::min(N, round_up(N * (t + 1) / nchunks, 16));
      if (j_begin < j_end)
        gemm_direct<T>(level, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
                       j_begin, j_end, scratch_all + stride * t);
    });
    return;
  }
#if PYDL_GEMM_X86
  if (!trans_b && M <= kUnpackedMaxM && K <= kUnpackedMaxK) {
    if (level == kAvx512)
      return gemm_unpacked<IsaAvx512, T>(nthreads, trans_a, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    if (level == kAvx2)
      return gemm_unpacked<IsaAvx2, T>(nthreads, trans_a, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
#endif
  gemm_packed<T>(config_for<T>(level), nthreads, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
                 beta, C, ldc, ws);
}

// Elements of workspace gemm_route takes from ws on one thread (mirrors the buffers above).
template <typename T>
int64_t serial_workspace_size(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K) {
  (void)trans_a;
  if (M <= 0 || N <= 0 || K <= 0) return 0;
  const SimdLevel level = simd_level();
  const int64_t W = small_n_max<T>(level) / 2, line = static_cast<int64_t>(kAlign / sizeof(T));
  if (N <= 2 * W) return trans_b ? K * round_up(N, W) : 0;
  if (M <= kDirectRows) {
    if (!trans_b) return 0;
    if (K < kDirectDotMinK) return K * N;
    return round_up(direct_scratch_size(N, K), line);
  }
#if PYDL_GEMM_X86
  if (!trans_b && M <= kUnpackedMaxM && K <= kUnpackedMaxK && (level == kAvx512 || level == kAvx2)) return 0;
#endif
  const Config<T> cfg = config_for<T>(level);  // gemm_packed's sizes for one thread
  const int64_t NC = std::min<int64_t>(std::max<int64_t>(cfg.NR, cfg.NC / cfg.NR * cfg.NR), round_up(N, cfg.NR));
  const int64_t kc_max = std::min<int64_t>(cfg.KC, K);
  const int64_t n_mblk = ceil_div(M, cfg.MC);
  const int64_t mc_blk = round_up(ceil_div(M, n_mblk), cfg.MR);
  return round_up(kc_max * NC, line) + round_up(mc_blk * kc_max, line);
}

}  // namespace

// ------------------------------------------------------------------ entry points

template <typename T>
void gemm_fast(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
               const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  const double flops = 2.0 * double(M) * double(N) * double(K);
  // Threads only pay off above ~a few MFLOP; the count never changes the result.
  const int nthreads = std::max(1, std::min<int>(max_threads(), static_cast<int>(flops / 4e6)));
  gemm_route<T>(nthreads, nullptr, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

template <typename T>
int64_t gemm_workspace_size(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K) {
  // + one cache line, so gemm_fast_serial can align any pointer it is given
  return serial_workspace_size<T>(trans_a, trans_b, M, N, K) + static_cast<int64_t>(kAlign / sizeof(T));
}

template <typename T>
void gemm_fast_serial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                      int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc, T* workspace) {
  const auto addr = reinterpret_cast<std::uintptr_t>(workspace);
  T* ws = reinterpret_cast<T*>((addr + kAlign - 1) / kAlign * kAlign);  // sizeof(T) divides kAlign
  gemm_route<T>(1, ws, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

template <typename T>
void gemm_panel_serial(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb, T beta,
                       T* C, int64_t ldc, T* workspace) {
#if PYDL_GEMM_X86
  constexpr int W = IsaAvx512::kBytes / int(sizeof(T));
  if (simd_level() == kAvx512 && M > 0 && K > 0 && N > 0 && N <= 3 * W) {
    // 8 rows x 3 vectors (24 accumulators), op(A) and B read in place; rows in blocks of 8, 4, 2, 1
    const int nv = static_cast<int>(ceil_div(N, W)), nlast = static_cast<int>(N - (nv - 1) * W);
    unpacked_block<IsaAvx512, T, false, 8, 3>(M, nv, K, A, lda, B, ldb, C, ldc, nlast, T(1), beta);
    return;
  }
#endif
  gemm_fast_serial<T>(false, false, M, N, K, T(1), A, lda, B, ldb, beta, C, ldc, workspace);
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
template int64_t gemm_workspace_size<float>(bool, bool, int64_t, int64_t, int64_t);
template int64_t gemm_workspace_size<double>(bool, bool, int64_t, int64_t, int64_t);
template void gemm_fast_serial<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                                      const float*, int64_t, float, float*, int64_t, float*);
template void gemm_fast_serial<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                                       const double*, int64_t, double, double*, int64_t, double*);
template void gemm_panel_serial<float>(int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t, float,
                                       float*, int64_t, float*);
template void gemm_panel_serial<double>(int64_t, int64_t, int64_t, const double*, int64_t, const double*, int64_t,
                                        double, double*, int64_t, double*);

}  // namespace pydl::kernels
