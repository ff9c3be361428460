// Fast convolution: im2col + the project's GEMM (kernels::gemm_fast), per image and group.
//   forward        y_n[g]  (og, L)      = W[g] (og, K) · col_n[g] (K, L)          (+ b, as GEMM's beta = 1)
//   input grad     gcol[g] (K, L)       = W[g]ᵀ · gy_n[g] (og, L), then col2im into gx_n
//   weight grad    gW[g]   (og, K)     += gy_n[g] · col_n[g]ᵀ                     (summed over n)
// with K = (C / groups) · kh · kw and L = Ho · Wo; col_n = im2col(x_n) holds the groups' row
// blocks one after another. A 1x1 kernel with stride 1 and no padding needs no im2col: x_n is
// its own column matrix.
// Threads: over the images (see "batch parallelism" below), or with fewer images than threads
// inside the GEMM and over the rows / channels of im2col and col2im. Three other paths, chosen
// by geometry where they measured faster (each checked against the reference loops in
// cpp/tests/test_conv.cpp):
//   depthwise (one input channel per group)            direct loops, no GEMM
//   stride 1, groups 1, 1-4 output channels             "direct stride-1 path": padded planes
//                                                       read as shifted slices, no im2col/col2im
//   groups 1, >= 16 channels on the vectorised side     "gather path": an implicit GEMM whose
//                                                       kernel reads the padded image itself; the
//                                                       input gradient per stride phase
// The rest (grouped convolutions, few channels, 1x1) keeps im2col + GEMM.
#include "kernels/conv.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/simd.h"
#include "kernels/kernels.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace pydl::kernels {

namespace {

// The output columns j whose input column j*s - pad + off lies in [0, W): [lo, hi).
inline void valid_range(int64_t n_out, int64_t s, int64_t pad, int64_t off, int64_t W, int64_t& lo, int64_t& hi) {
  const int64_t a = pad - off;                  // need j*s >= a
  // lo at most n_out: with more padding than input (a causal conv1d of a short sequence) every
  // column can read padding, and the caller zeroes d[0, lo) of an n_out-long row
  lo = a <= 0 ? 0 : std::min(n_out, (a + s - 1) / s);
  const int64_t b = W - 1 + pad - off;          // need j*s <= b
  hi = b < 0 ? 0 : std::min(n_out, b / s + 1);
  if (hi < lo) hi = lo;
}

inline bool is_pointwise(const Conv2dGeom& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.Ho == g.H && g.Wo == g.W;
}

}  // namespace

template <typename T>
void im2col(const Conv2dGeom& g, const T* x, T* col) {
  const int64_t L = g.Ho * g.Wo, rows = g.C * g.kh * g.kw;
  // col[(c,p,q), (i,j)] = x[c, i·sh − pt + p·dh, j·sw − pl + q·dw]   (0 in the padding)
#pragma omp parallel for schedule(static) if (rows * L >= 32768)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t c = r / (g.kh * g.kw), p = (r / g.kw) % g.kh, q = r % g.kw;
    int64_t jlo, jhi;
    valid_range(g.Wo, g.sw, g.pl, q * g.dw, g.W, jlo, jhi);
    T* dst = col + r * L;
    for (int64_t i = 0; i < g.Ho; ++i) {
      T* d = dst + i * g.Wo;
      const int64_t h = i * g.sh - g.pt + p * g.dh;
      if (h < 0 || h >= g.H) {
        for (int64_t j = 0; j < g.Wo; ++j) d[j] = T(0);
        continue;
      }
      // x's row h; column j reads row[j*sw + w0] (indices, not a shifted pointer: w0 may be < 0)
      const T* row = x + (c * g.H + h) * g.W;
      const int64_t w0 = q * g.dw - g.pl;
      for (int64_t j = 0; j < jlo; ++j) d[j] = T(0);
      if (g.sw == 1)
        for (int64_t j = jlo; j < jhi; ++j) d[j] = row[j + w0];
      else
        for (int64_t j = jlo; j < jhi; ++j) d[j] = row[j * g.sw + w0];
      for (int64_t j = jhi; j < g.Wo; ++j) d[j] = T(0);
    }
  }
}

template <typename T>
void col2im(const Conv2dGeom& g, const T* col, T* x) {
  const int64_t L = g.Ho * g.Wo, kk = g.kh * g.kw;
  // x[c, i·sh − pt + p·dh, j·sw − pl + q·dw] += col[(c,p,q), (i,j)]; one thread per channel c,
  // so no two threads write the same pixel.
#pragma omp parallel for schedule(static) if (g.C * kk * L >= 32768)
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t p = 0; p < g.kh; ++p)
      for (int64_t q = 0; q < g.kw; ++q) {
        int64_t jlo, jhi;
        valid_range(g.Wo, g.sw, g.pl, q * g.dw, g.W, jlo, jhi);
        const T* s = col + ((c * g.kh + p) * g.kw + q) * L;
        for (int64_t i = 0; i < g.Ho; ++i) {
          const int64_t h = i * g.sh - g.pt + p * g.dh;
          if (h < 0 || h >= g.H) continue;
          T* row = x + (c * g.H + h) * g.W;
          const int64_t w0 = q * g.dw - g.pl;
          const T* si = s + i * g.Wo;
          for (int64_t j = jlo; j < jhi; ++j) row[j * g.sw + w0] += si[j];
        }
      }
}

namespace {

// ------------------------------------------------------------------ batch parallelism
// Threads over the images: each thread runs whole images with the serial GEMM
// (gemm_fast_serial) into its own column buffer, so a step opens one OpenMP region with no
// barriers instead of several GEMM regions per image (measured faster for the course's shapes,
// whose per-image GEMMs are a few MFLOP at most, bench/cnn.py). With fewer images than threads
// the images run one after another with the GEMM's own threads. Every buffer is taken before
// the region (an exception inside one would end the process). Each output element is computed
// by one thread with the same operations whichever path runs: results do not depend on the
// thread count.

int conv_threads(int64_t items) {
#ifdef _OPENMP
  if (omp_in_parallel()) return 1;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), items)));
#else
  (void)items;
  return 1;
#endif
}

// Per-thread scratch: a column matrix and a GEMM workspace, at a cache-line multiple stride.
// (Left uninitialised: every element is written before it is read.)
template <typename T>
struct ThreadBuffers {
  std::unique_ptr<T[]> data;
  int64_t col = 0, stride = 0;
  ThreadBuffers(int nthreads, int64_t col_elems, int64_t ws_elems) : col(col_elems) {
    stride = (col_elems + ws_elems + 15) / 16 * 16;
    data.reset(new T[static_cast<size_t>(stride * nthreads)]);
  }
  T* col_of(int t) { return data.get() + stride * t; }
  T* ws_of(int t) { return data.get() + stride * t + col; }
};

inline int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

// Depthwise-style convolutions (one input channel per group, cg = 1: out channel o reads input
// channel o / og) as direct loops: the per-group GEMMs would be 1 x L x kh·kw, all overhead.
inline bool is_depthwise(const Conv2dGeom& g) { return g.cg() == 1 && g.groups > 1; }

template <typename T>
void depthwise_forward(const Conv2dGeom& g, const T* x, const T* w, const T* b, T* y) {
  const int64_t og = g.og(), L = g.Ho * g.Wo, kk = g.kh * g.kw;
#pragma omp parallel for schedule(static) if (g.N * g.O * L * kk >= 32768)
  for (int64_t no = 0; no < g.N * g.O; ++no) {
    const int64_t n = no / g.O, o = no % g.O;
    const T* xc = x + (n * g.C + o / og) * g.H * g.W;
    const T* wo = w + o * kk;
    T* yo = y + no * L;
    const T bo = b ? b[o] : T(0);
    for (int64_t k = 0; k < L; ++k) yo[k] = bo;
    for (int64_t p = 0; p < g.kh; ++p)
      for (int64_t q = 0; q < g.kw; ++q) {
        const T wv = wo[p * g.kw + q];
        int64_t jlo, jhi;
        valid_range(g.Wo, g.sw, g.pl, q * g.dw, g.W, jlo, jhi);
        const int64_t w0 = q * g.dw - g.pl;
        for (int64_t i = 0; i < g.Ho; ++i) {
          const int64_t h = i * g.sh - g.pt + p * g.dh;
          if (h < 0 || h >= g.H) continue;
          const T* row = xc + h * g.W;
          T* yi = yo + i * g.Wo;
          if (g.sw == 1)
            for (int64_t j = jlo; j < jhi; ++j) yi[j] += wv * row[j + w0];
          else
            for (int64_t j = jlo; j < jhi; ++j) yi[j] += wv * row[j * g.sw + w0];
        }
      }
  }
}

template <typename T>
void depthwise_backward_input(const Conv2dGeom& g, const T* gy, const T* w, T* gx) {
  const int64_t og = g.og(), L = g.Ho * g.Wo, kk = g.kh * g.kw, plane = g.H * g.W;
  // One thread per (image, input channel): it owns that plane of gx.
#pragma omp parallel for schedule(static) if (g.N * g.O * L * kk >= 32768)
  for (int64_t nc = 0; nc < g.N * g.C; ++nc) {
    const int64_t n = nc / g.C, c = nc % g.C;
    T* gxc = gx + nc * plane;
    for (int64_t k = 0; k < plane; ++k) gxc[k] = T(0);
    for (int64_t o = c * og; o < (c + 1) * og; ++o) {
      const T* gyo = gy + (n * g.O + o) * L;
      for (int64_t p = 0; p < g.kh; ++p)
        for (int64_t q = 0; q < g.kw; ++q) {
          const T wv = w[o * kk + p * g.kw + q];
          int64_t jlo, jhi;
          valid_range(g.Wo, g.sw, g.pl, q * g.dw, g.W, jlo, jhi);
          const int64_t w0 = q * g.dw - g.pl;
          for (int64_t i = 0; i < g.Ho; ++i) {
            const int64_t h = i * g.sh - g.pt + p * g.dh;
            if (h < 0 || h >= g.H) continue;
            T* row = gxc + h * g.W;
            const T* gi = gyo + i * g.Wo;
            if (g.sw == 1)
              for (int64_t j = jlo; j < jhi; ++j) row[j + w0] += wv * gi[j];
            else
              for (int64_t j = jlo; j < jhi; ++j) row[j * g.sw + w0] += wv * gi[j];
          }
        }
    }
  }
}

template <typename T>
void depthwise_backward_weight(const Conv2dGeom& g, const T* gy, const T* x, T* gw) {
  const int64_t og = g.og(), L = g.Ho * g.Wo, kk = g.kh * g.kw;
  // One thread per (output channel, tap): the sum over images and positions in a fixed order.
#pragma omp parallel for schedule(static) if (g.N * g.O * L * kk >= 32768)
  for (int64_t ok = 0; ok < g.O * kk; ++ok) {
    const int64_t o = ok / kk, p = (ok % kk) / g.kw, q = ok % g.kw;
    int64_t jlo, jhi;
    valid_range(g.Wo, g.sw, g.pl, q * g.dw, g.W, jlo, jhi);
    const int64_t w0 = q * g.dw - g.pl;
    T acc = T(0);
    for (int64_t n = 0; n < g.N; ++n) {
      const T* xc = x + (n * g.C + o / og) * g.H * g.W;
      const T* gyo = gy + (n * g.O + o) * L;
      for (int64_t i = 0; i < g.Ho; ++i) {
        const int64_t h = i * g.sh - g.pt + p * g.dh;
        if (h < 0 || h >= g.H) continue;
        const T* row = xc + h * g.W;
        const T* gi = gyo + i * g.Wo;
        T s = T(0);
        if (g.sw == 1)
          for (int64_t j = jlo; j < jhi; ++j) s += gi[j] * row[j + w0];
        else
          for (int64_t j = jlo; j < jhi; ++j) s += gi[j] * row[j * g.sw + w0];
        acc += s;
      }
    }
    gw[ok] = acc;
  }
}


// ------------------------------------------------------------------ direct stride-1 path
// With one to four output channels the GEMM after im2col has one to four rows: im2col's kh·kw
// copies of the input (and col2im's scattered adds in the input gradient) cost more than the
// arithmetic. For stride 1 these loops copy each input plane once into a zero-padded Hp x Wp
// plane instead; in the flat index k = i·Wp + j of a Wp-wide output row every tap (p, q) then
// reads one contiguous slice of it:
//   out[d, k] = Σ_s Σ_(p,q) wt[d, s, p, q] · src[s, k + p·dh·Wp + q·dw],   k < (Ho - 1)·Wp + Wo
// and the columns j >= Wo of each output row are discarded. The forward is this with (d, s) =
// (o, c); the input gradient too, from gy padded, with the kernel flipped and (d, s) = (c, o);
// the weight gradient takes the dot products of gy (Wp-wide rows, 0 in the columns j >= Wo) with
// the same slices. Threads over images (forward, input gradient) or input channels (weight
// gradient); each output element is summed in one fixed order whatever the thread count.
constexpr int64_t kDirectMaxOut = 4;

inline bool use_direct(const Conv2dGeom& g) {
  return g.groups == 1 && g.sh == 1 && g.sw == 1 && g.O <= kDirectMaxOut && !is_pointwise(g) && g.N > 0;
}

// Output values per register block (at most 256 bytes: 4 AVX-512 or 8 AVX2 registers), which
// is also the zeroed slack after each padded plane; dot products run over multiples of
// direct_vec() (64 bytes).
template <typename T>
constexpr int64_t direct_block() { return 256 / sizeof(T); }
template <typename T>
constexpr int64_t direct_vec() { return 64 / sizeof(T); }

// out[k] += Σ_s Σ_t wt[s·ntaps + t] · src[s·plane + off[t] + k] for k < len, NB vectors of
// outputs held in registers while every tap of a source plane is added in (each tap: one
// broadcast, NB loads, NB FMAs). Each src plane must be readable NB·W elements past
// off[t] + len (its zeroed slack). A macro: the target attribute sits on each copy (isa.h).
#define PYDL_DIRECT_TAPS_BODY(VT, NB)                                                        \
  using V = typename VT::V;                                                                  \
  constexpr int64_t W = VT::W;                                                               \
  static_assert(NB * W <= direct_block<T>(), "a block reads past the planes' slack");        \
  for (int64_t s = 0; s < S; ++s) {                                                          \
    const T* sp = src + s * plane;                                                           \
    const T* ws = wt + s * ntaps;                                                            \
    for (int64_t k0 = 0; k0 < len; k0 += NB * W) {                                           \
      V acc[NB];                                                                             \
      _Pragma("GCC unroll 8") for (int v = 0; v < NB; ++v) acc[v] = VT::zero();              \
      const T* base = sp + k0;                                                               \
      for (int64_t t = 0; t < ntaps; ++t) {                                                  \
        const V wv = VT::set1(ws[t]);                                                        \
        const T* r = base + off[t];                                                          \
        _Pragma("GCC unroll 8") for (int v = 0; v < NB; ++v)                                 \
          acc[v] = VT::fmadd(wv, VT::loadu(r + v * W), acc[v]);                             \
      }                                                                                      \
      T* o = out + k0;                                                                       \
      _Pragma("GCC unroll 8") for (int v = 0; v < NB; ++v) {                                 \
        const int64_t m = len - k0 - v * W; /* valid lanes of this vector */                 \
        if (m >= W) VT::storeu(o + v * W, VT::add(VT::loadu(o + v * W), acc[v]));           \
        else if (m > 0) VT::storen(o + v * W, VT::add(VT::loadn(o + v * W, int(m)), acc[v]), int(m)); \
      }                                                                                      \
    }                                                                                        \
  }

// res[t] += Σ_k g[k] · x[off[t] + k] for t < ntaps, k < len (len a multiple of direct_vec()):
// four taps at a time share each load of g; each tap's lanes are summed in lane order.
#define PYDL_DIRECT_DOTS_BODY(VT)                                                            \
  using V = typename VT::V;                                                                  \
  constexpr int64_t W = VT::W, TB = 4;                                                       \
  for (int64_t t0 = 0; t0 < ntaps; t0 += TB) {                                               \
    const int64_t nt = std::min<int64_t>(TB, ntaps - t0);                                    \
    const T* r[TB];                                                                          \
    for (int64_t a = 0; a < TB; ++a) r[a] = x + off[t0 + (a < nt ? a : 0)]; /* repeats */   \
    V acc[TB];                                                                               \
    _Pragma("GCC unroll 4") for (int a = 0; a < TB; ++a) acc[a] = VT::zero();                \
    for (int64_t k = 0; k < len; k += W) {                                                   \
      const V gv = VT::loadu(g + k);                                                         \
      _Pragma("GCC unroll 4") for (int a = 0; a < TB; ++a)                                   \
        acc[a] = VT::fmadd(gv, VT::loadu(r[a] + k), acc[a]);                                \
    }                                                                                        \
    for (int64_t a = 0; a < nt; ++a) {                                                       \
      T lanes[W];                                                                            \
      VT::storeu(lanes, acc[a]);                                                             \
      T sum = T(0);                                                                          \
      for (int64_t l = 0; l < W; ++l) sum += lanes[l];                                       \
      res[t0 + a] += sum;                                                                    \
    }                                                                                        \
  }

#define PYDL_DIRECT_ARGS_TAPS \
  int64_t S, int64_t ntaps, const int64_t *off, const T *src, int64_t plane, const T *wt, T *out, int64_t len
#define PYDL_DIRECT_ARGS_DOTS int64_t ntaps, const int64_t *off, const T *g, const T *x, int64_t len, T *res
template <typename T>
void direct_taps_generic(PYDL_DIRECT_ARGS_TAPS) { PYDL_DIRECT_TAPS_BODY(VGeneric<T>, 8) }
template <typename T>
void direct_dots_generic(PYDL_DIRECT_ARGS_DOTS) { PYDL_DIRECT_DOTS_BODY(VGeneric<T>) }
#if PYDL_X86
template <typename T>
PYDL_TARGET_AVX2 void direct_taps_avx2(PYDL_DIRECT_ARGS_TAPS) { PYDL_DIRECT_TAPS_BODY(V256<T>, 8) }
template <typename T>
PYDL_TARGET_AVX2 void direct_dots_avx2(PYDL_DIRECT_ARGS_DOTS) { PYDL_DIRECT_DOTS_BODY(V256<T>) }
template <typename T>
PYDL_TARGET_AVX512 void direct_taps_avx512(PYDL_DIRECT_ARGS_TAPS) { PYDL_DIRECT_TAPS_BODY(V512<T>, 4) }
template <typename T>
PYDL_TARGET_AVX512 void direct_dots_avx512(PYDL_DIRECT_ARGS_DOTS) { PYDL_DIRECT_DOTS_BODY(V512<T>) }
#else
template <typename T>
void direct_taps_avx2(PYDL_DIRECT_ARGS_TAPS) { direct_taps_generic<T>(S, ntaps, off, src, plane, wt, out, len); }
template <typename T>
void direct_dots_avx2(PYDL_DIRECT_ARGS_DOTS) { direct_dots_generic<T>(ntaps, off, g, x, len, res); }
template <typename T>
void direct_taps_avx512(PYDL_DIRECT_ARGS_TAPS) { direct_taps_generic<T>(S, ntaps, off, src, plane, wt, out, len); }
template <typename T>
void direct_dots_avx512(PYDL_DIRECT_ARGS_DOTS) { direct_dots_generic<T>(ntaps, off, g, x, len, res); }
#endif
#undef PYDL_DIRECT_ARGS_TAPS
#undef PYDL_DIRECT_ARGS_DOTS

// dst (Hd, Wd)[a, b] = src (Hs, Ws)[a - A, b - B] where that lies inside src; the rest of dst
// (its padding) is left alone: every caller zeroes its buffers once, before the first image,
// and later images overwrite the same interior. (A or B may be negative: src rows / columns no
// output reads are cut.)
template <typename T>
void copy_into_padded(const T* src, int64_t Hs, int64_t Ws, int64_t A, int64_t B, T* dst, int64_t Hd, int64_t Wd) {
  const int64_t blo = std::max<int64_t>(0, B), bhi = std::min<int64_t>(Wd, Ws + B);
  const int64_t alo = std::max<int64_t>(0, A), ahi = std::min<int64_t>(Hd, Hs + A);
  if (blo >= bhi) return;
  for (int64_t a = alo; a < ahi; ++a)
    std::copy(src + (a - A) * Ws + (blo - B), src + (a - A) * Ws + (bhi - B), dst + a * Wd + blo);
}

// The shared loop of the forward and the input gradient, over images: each image's S source
// planes (Hs, Ws) padded by (A, B) into (Hp, Wp) planes, then D output planes (Ho, Wo) from wt
// (D, S, kh, kw) with row step rstep (dh·Wp) and column step cstep (dw), plus bias[d] if given.
template <typename T>
void direct_conv(int64_t N, int64_t S, int64_t Hs, int64_t Ws, int64_t A, int64_t B, int64_t Hp, int64_t Wp,
                 int64_t D, int64_t Ho, int64_t Wo, int64_t kh, int64_t kw, int64_t rstep, int64_t cstep,
                 const T* src, const T* wt, const T* bias, T* dst) {
  const int64_t ntaps = kh * kw, plane = Hp * Wp + direct_block<T>(), len = (Ho - 1) * Wp + Wo;
  std::vector<int64_t> off(static_cast<size_t>(ntaps));
  for (int64_t p = 0; p < kh; ++p)
    for (int64_t q = 0; q < kw; ++q) off[p * kw + q] = p * rstep + q * cstep;
  const auto taps = pick(&direct_taps_generic<T>, &direct_taps_avx2<T>, &direct_taps_avx512<T>);
  const int nthreads = conv_threads(N);
  const int64_t per_thread = (S * plane + len + 15) / 16 * 16;
  std::unique_ptr<T[]> buf(new T[static_cast<size_t>(per_thread * nthreads)]());  // zeroed: padding, slack
#pragma omp parallel for num_threads(nthreads) schedule(static) if (nthreads > 1)
  for (int64_t n = 0; n < N; ++n) {
    T* pad = buf.get() + per_thread * thread_id();
    T* out = pad + S * plane;
    for (int64_t s = 0; s < S; ++s)
      copy_into_padded<T>(src + (n * S + s) * Hs * Ws, Hs, Ws, A, B, pad + s * plane, Hp, Wp);
    for (int64_t d = 0; d < D; ++d) {
      std::fill(out, out + len, bias ? bias[d] : T(0));
      taps(S, ntaps, off.data(), pad, plane, wt + d * S * ntaps, out, len);
      T* y = dst + (n * D + d) * Ho * Wo;
      for (int64_t i = 0; i < Ho; ++i) std::copy(out + i * Wp, out + i * Wp + Wo, y + i * Wo);
    }
  }
}

template <typename T>
void direct_forward(const Conv2dGeom& g, const T* x, const T* w, const T* b, T* y) {
  const int64_t Hp = g.Ho + g.dh * (g.kh - 1), Wp = g.Wo + g.dw * (g.kw - 1);
  direct_conv<T>(g.N, g.C, g.H, g.W, g.pt, g.pl, Hp, Wp, g.O, g.Ho, g.Wo, g.kh, g.kw, g.dh * Wp, g.dw, x, w, b, y);
}

// gx[c, h, w] = Σ_(o,p,q) gy[o, h + pt − p·dh, w + pl − q·dw] · w[o, c, p, q]: with gy shifted by
// (dh·(kh−1) − pt, dw·(kw−1) − pl) into (H + dh·(kh−1), W + dw·(kw−1)) planes, a correlation
// with the flipped kernel wf[c, o, p', q'] = w[o, c, kh−1−p', kw−1−q'].
template <typename T>
void direct_backward_input(const Conv2dGeom& g, const T* gy, const T* w, T* gx) {
  const int64_t ekh = g.dh * (g.kh - 1), ekw = g.dw * (g.kw - 1), kk = g.kh * g.kw;
  const int64_t Hp = g.H + ekh, Wp = g.W + ekw;
  std::vector<T> wf(static_cast<size_t>(g.C * g.O * kk));
  for (int64_t o = 0; o < g.O; ++o)
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t p = 0; p < g.kh; ++p)
        for (int64_t q = 0; q < g.kw; ++q)
          wf[((c * g.O + o) * g.kh + (g.kh - 1 - p)) * g.kw + (g.kw - 1 - q)] =
              w[((o * g.C + c) * g.kh + p) * g.kw + q];
  direct_conv<T>(g.N, g.O, g.Ho, g.Wo, ekh - g.pt, ekw - g.pl, Hp, Wp, g.C, g.H, g.W, g.kh, g.kw, g.dh * Wp, g.dw,
                 gy, wf.data(), nullptr, gx);
}

// gw[o, c, p, q] = Σ_n Σ_k gyw[n, o, k] · xpad[n, c, k + p·dh·Wp + q·dw], gyw gy in Wp-wide rows
// (0 in the columns j >= Wo). One thread per input channel c: it owns gw[:, c] and sums over
// the images in order.
template <typename T>
void direct_backward_weight(const Conv2dGeom& g, const T* gy, const T* x, T* gw) {
  constexpr int64_t V = direct_vec<T>();
  const int64_t Hp = g.Ho + g.dh * (g.kh - 1), Wp = g.Wo + g.dw * (g.kw - 1), kk = g.kh * g.kw;
  const int64_t len = ((g.Ho - 1) * Wp + g.Wo + V - 1) / V * V, plane = Hp * Wp + V;
  std::vector<int64_t> off(static_cast<size_t>(kk));
  for (int64_t p = 0; p < g.kh; ++p)
    for (int64_t q = 0; q < g.kw; ++q) off[p * g.kw + q] = p * g.dh * Wp + q * g.dw;
  const auto dots = pick(&direct_dots_generic<T>, &direct_dots_avx2<T>, &direct_dots_avx512<T>);
  std::fill(gw, gw + g.O * g.C * kk, T(0));
  const int nthreads = conv_threads(g.C);
  const int64_t per_thread = (g.O * len + plane + kk + 15) / 16 * 16;
  // zeroed: the columns j >= Wo of gyw, the padding and slack of xp
  std::unique_ptr<T[]> buf(new T[static_cast<size_t>(per_thread * nthreads)]());
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
  {
    T* gyw = buf.get() + per_thread * thread_id();
    T* xp = gyw + g.O * len;
    T* res = xp + plane;
    for (int64_t n = 0; n < g.N; ++n) {
      for (int64_t o = 0; o < g.O; ++o)
        for (int64_t i = 0; i < g.Ho; ++i)
          std::copy(gy + ((n * g.O + o) * g.Ho + i) * g.Wo, gy + ((n * g.O + o) * g.Ho + i + 1) * g.Wo,
                    gyw + o * len + i * Wp);
      // the same static split for every image: a thread adds only into its own channels' gw
#pragma omp for schedule(static) nowait
      for (int64_t c = 0; c < g.C; ++c) {
        copy_into_padded<T>(x + (n * g.C + c) * g.H * g.W, g.H, g.W, g.pt, g.pl, xp, Hp, Wp);
        for (int64_t o = 0; o < g.O; ++o) {
          std::fill(res, res + kk, T(0));
          dots(kk, off.data(), gyw + o * len, xp, len, res);
          T* gwc = gw + (o * g.C + c) * kk;
          for (int64_t k = 0; k < kk; ++k) gwc[k] += res[k];
        }
      }
    }
  }
}

// ------------------------------------------------------------------ gather path: many channels
// An implicit GEMM: im2col's column matrix is never written; the register-blocked kernel
// broadcasts its entries straight from a zero-padded copy of the image. With position l = (i, j)
// of the output and tap t = (c, p, q),
//   out[l, v] = Σ_t src[base[l] + toff[t]] · wt[t, v]       (v: output channels, vectorised)
// base[l] = (i·sh)·Wp + j·sw and toff[t] = c·Hp·Wp + p·dh·Wp + q·dw address the padded image.
// The forward is this with wt[t, o] = w[o, t]; the weight gradient the transposed product
//   gwt[t, o] = Σ_n Σ_l src_n[base[l] + toff[t]] · gy_n[o, l];
// and the input gradient the same kernel once per output phase (h mod sh, w mod sw): on a phase
// the transposed convolution is a stride-1 correlation of gy with the taps p ≡ h + pt (mod sh),
//   gx[c, rh + sh·a, rw + sw·b] = Σ_(o, p, q) gy[o, a + δp, b + δq] · w[o, c, p, q],
//   δp = (rh + pt − p·dh) / sh,
// so no col2im either. Six (or eight) positions by one to four vectors of channels per tile.
constexpr int64_t kGatherJB = 6;
// Positions per tile: 6, or 8 with two AVX-512 vectors of channels (16 accumulators + 2 weight
// vectors + a broadcast fit its 32 registers, AVX2's 16 would spill; measured 5-8% faster).
template <typename T, int OB>
constexpr int64_t gather_positions(int64_t W) { return OB == 2 && W * int64_t(sizeof(T)) == 64 ? 8 : kGatherJB; }
// positions per kernel call, at least, when images are small (several images per call)
constexpr int64_t kGatherGroupPositions = 192;

// out[l·ldo + o0 + ...] = Σ_t src[base[l] + toff[t]] · wt[t·ldw + o0 + ...] for l < L, OB vectors
// of channels from o0. The taps in chunks whose weights stay in L1 (16 KB), each chunk over
// every position; from the second chunk on a tile starts from what out holds.
#define PYDL_GATHER_BODY(VT)                                                                 \
  using V = typename VT::V;                                                                  \
  constexpr int64_t W = VT::W, JB = gather_positions<T, OB>(VT::W);                          \
  constexpr int64_t KC = std::max<int64_t>(16, 16384 / int64_t(OB * W * sizeof(T)));         \
  for (int64_t k0 = 0; k0 < ntaps || k0 == 0; k0 += KC) {                                    \
    const int64_t k1 = std::min(ntaps, k0 + KC);                                             \
    for (int64_t l0 = 0; l0 < L; l0 += JB) {                                                 \
      const T* xp[JB];                                                                       \
      for (int64_t jj = 0; jj < JB; ++jj) xp[jj] = src + base[std::min(l0 + jj, L - 1)];     \
      const int64_t nl = std::min(JB, L - l0);                                               \
      V acc[JB][OB];                                                                         \
      if (k0 == 0) {                                                                         \
        _Pragma("GCC unroll 8") for (int jj = 0; jj < JB; ++jj)                              \
          _Pragma("GCC unroll 4") for (int v = 0; v < OB; ++v) acc[jj][v] = VT::zero();      \
      } else {                                                                               \
        _Pragma("GCC unroll 8") for (int jj = 0; jj < JB; ++jj)                              \
          _Pragma("GCC unroll 4") for (int v = 0; v < OB; ++v)                               \
            acc[jj][v] = VT::loadu(out + (l0 + std::min<int64_t>(jj, nl - 1)) * ldo + o0 + v * W); \
      }                                                                                      \
      for (int64_t t = k0; t < k1; ++t) {                                                    \
        const int64_t d = toff[t];                                                           \
        const T* wr = wt + t * ldw + o0;                                                     \
        V wv[OB];                                                                            \
        _Pragma("GCC unroll 4") for (int v = 0; v < OB; ++v) wv[v] = VT::loadu(wr + v * W);  \
        _Pragma("GCC unroll 8") for (int jj = 0; jj < JB; ++jj) {                            \
          const V xb = VT::set1(xp[jj][d]);                                                  \
          _Pragma("GCC unroll 4") for (int v = 0; v < OB; ++v)                               \
            acc[jj][v] = VT::fmadd(xb, wv[v], acc[jj][v]);                                   \
        }                                                                                    \
      }                                                                                      \
      for (int64_t jj = 0; jj < nl; ++jj)                                                    \
        _Pragma("GCC unroll 4") for (int v = 0; v < OB; ++v)                                 \
          VT::storeu(out + (l0 + jj) * ldo + o0 + v * W, acc[jj][v]);                        \
    }                                                                                        \
    if (ntaps == 0) break;                                                                   \
  }

// res[t·ldr + o0 + ...] += Σ_l src[base[l] + toff[t]] · g[l·ldg + o0 + ...] for the taps
// t0 <= t < t0 + nt (nt <= JB), OB vectors of channels from o0.
#define PYDL_GATHER_WGRAD_BODY(VT)                                                           \
  using V = typename VT::V;                                                                  \
  constexpr int64_t W = VT::W, TB = kGatherJB;                                               \
  const T* xq[TB];                                                                           \
  for (int64_t tt = 0; tt < TB; ++tt) xq[tt] = src + toff[t0 + std::min(tt, nt - 1)];        \
  V acc[TB][OB];                                                                             \
  _Pragma("GCC unroll 8") for (int tt = 0; tt < TB; ++tt)                                    \
    _Pragma("GCC unroll 4") for (int v = 0; v < OB; ++v) acc[tt][v] = VT::zero();            \
  for (int64_t l = 0; l < L; ++l) {                                                          \
    const int64_t b = base[l];                                                               \
    const T* gr = g + l * ldg + o0;                                                          \
    V gv[OB];                                                                                \
    _Pragma("GCC unroll 4") for (int v = 0; v < OB; ++v) gv[v] = VT::loadu(gr + v * W);      \
    _Pragma("GCC unroll 8") for (int tt = 0; tt < TB; ++tt) {                                \
      const V xb = VT::set1(xq[tt][b]);                                                      \
      _Pragma("GCC unroll 4") for (int v = 0; v < OB; ++v)                                   \
        acc[tt][v] = VT::fmadd(xb, gv[v], acc[tt][v]);                                       \
    }                                                                                        \
  }                                                                                          \
  for (int64_t tt = 0; tt < nt; ++tt)                                                        \
    _Pragma("GCC unroll 4") for (int v = 0; v < OB; ++v) {                                   \
      T* r = res + (t0 + tt) * ldr + o0 + v * W;                                             \
      VT::storeu(r, VT::add(VT::loadu(r), acc[tt][v]));                                      \
    }

#define PYDL_GATHER_ARGS                                                                     \
  int64_t L, const int64_t *base, const T *src, int64_t ntaps, const int64_t *toff, const T *wt, int64_t ldw, \
      int64_t o0, T *out, int64_t ldo
#define PYDL_GATHER_WGRAD_ARGS                                                               \
  int64_t L, const int64_t *base, const T *src, int64_t t0, int64_t nt, const int64_t *toff, const T *g,    \
      int64_t ldg, int64_t o0, T *res, int64_t ldr
template <typename T>
using GatherFn = void (*)(PYDL_GATHER_ARGS);
template <typename T>
using GatherWgradFn = void (*)(PYDL_GATHER_WGRAD_ARGS);

template <typename T, int OB>
void gather_generic(PYDL_GATHER_ARGS) { PYDL_GATHER_BODY(VGeneric<T>) }
template <typename T, int OB>
void gather_wgrad_generic(PYDL_GATHER_WGRAD_ARGS) { PYDL_GATHER_WGRAD_BODY(VGeneric<T>) }
#if PYDL_X86
template <typename T, int OB>
PYDL_TARGET_AVX2 void gather_avx2(PYDL_GATHER_ARGS) { PYDL_GATHER_BODY(V256<T>) }
template <typename T, int OB>
PYDL_TARGET_AVX2 void gather_wgrad_avx2(PYDL_GATHER_WGRAD_ARGS) { PYDL_GATHER_WGRAD_BODY(V256<T>) }
template <typename T, int OB>
PYDL_TARGET_AVX512 void gather_avx512(PYDL_GATHER_ARGS) { PYDL_GATHER_BODY(V512<T>) }
template <typename T, int OB>
PYDL_TARGET_AVX512 void gather_wgrad_avx512(PYDL_GATHER_WGRAD_ARGS) { PYDL_GATHER_WGRAD_BODY(V512<T>) }
#endif
#undef PYDL_GATHER_ARGS
#undef PYDL_GATHER_WGRAD_ARGS

// The kernels for this CPU: per channel block, the widest tile that fits the registers (AVX-512:
// 4, 2 or 1 vectors; AVX2 and the portable copy: 2 or 1), and the vector width W.
template <typename T>
struct GatherKernels {
  int64_t W = 4;
  GatherFn<T> f4 = nullptr, f2 = nullptr, f1 = nullptr;
  GatherWgradFn<T> g4 = nullptr, g2 = nullptr, g1 = nullptr;
  int64_t widest() const { return f4 ? 4 * W : 2 * W; }
  // the channel blocks [o0, o0 + width) covering Vp channels (a multiple of W)
  template <typename F>
  void blocks(int64_t Vp, F&& fn) const {
    for (int64_t o0 = 0; o0 < Vp;) {
      const int64_t rest = Vp - o0;
      const int nb = (f4 && rest >= 4 * W) ? 4 : rest >= 2 * W ? 2 : 1;
      fn(o0, nb);
      o0 += nb * W;
    }
  }
  GatherFn<T> f(int nb) const { return nb == 4 ? f4 : nb == 2 ? f2 : f1; }
  GatherWgradFn<T> g(int nb) const { return nb == 4 ? g4 : nb == 2 ? g2 : g1; }
};

template <typename T>
GatherKernels<T> gather_kernels() {
  GatherKernels<T> k;
#if PYDL_X86
  if (simd_level() == kAvx512) {
    k.W = V512<T>::W;
    k.f4 = &gather_avx512<T, 4>, k.f2 = &gather_avx512<T, 2>, k.f1 = &gather_avx512<T, 1>;
    k.g4 = &gather_wgrad_avx512<T, 4>, k.g2 = &gather_wgrad_avx512<T, 2>, k.g1 = &gather_wgrad_avx512<T, 1>;
    return k;
  }
  if (simd_level() == kAvx2) {
    k.W = V256<T>::W;
    k.f2 = &gather_avx2<T, 2>, k.f1 = &gather_avx2<T, 1>;
    k.g2 = &gather_wgrad_avx2<T, 2>, k.g1 = &gather_wgrad_avx2<T, 1>;
    return k;
  }
#endif
  k.W = VGeneric<T>::W;
  k.f2 = &gather_generic<T, 2>, k.f1 = &gather_generic<T, 1>;
  k.g2 = &gather_wgrad_generic<T, 2>, k.g1 = &gather_wgrad_generic<T, 1>;
  return k;
}

// Taken for groups 1 with at least 16 channels on the vectorised side (the output channels of
// the forward and the weight gradient, the input channels of the input gradient), where it
// measured faster than im2col + GEMM (bench/cnn.py's and the DCGAN's shapes, 1 thread; 1.2-1.6x
// but for the input gradient of a 'valid' 3x3 32 -> 64 at 13x13, 7% slower): the forward and
// weight gradient with at least 64 taps C·kh·kw (with fewer, as a first layer's 1 x 3 x 3,
// the GEMM is short and im2col cheap).
constexpr int64_t kGatherMinChannels = 16, kGatherMinTaps = 64;
inline bool use_gather_out(const Conv2dGeom& g) {
  return g.groups == 1 && g.O >= kGatherMinChannels && g.C * g.kh * g.kw >= kGatherMinTaps && !is_pointwise(g) &&
         g.N > 0;
}
inline bool use_gather_in(const Conv2dGeom& g) {
  return g.groups == 1 && g.C >= kGatherMinChannels && g.N > 0;
}

inline int64_t round_up_to(int64_t a, int64_t m) { return (a + m - 1) / m * m; }

// The padded image of the forward / weight gradient, (C, Hp, Wp), and its position and tap
// offsets.
struct GatherGeom {
  int64_t Hp, Wp, plane, L, ntaps;
  std::vector<int64_t> base, toff;
  explicit GatherGeom(const Conv2dGeom& g)
      : Hp((g.Ho - 1) * g.sh + (g.kh - 1) * g.dh + 1), Wp((g.Wo - 1) * g.sw + (g.kw - 1) * g.dw + 1),
        plane(Hp * Wp), L(g.Ho * g.Wo), ntaps(g.C * g.kh * g.kw) {
    base.resize(static_cast<size_t>(L));
    for (int64_t i = 0; i < g.Ho; ++i)
      for (int64_t j = 0; j < g.Wo; ++j) base[i * g.Wo + j] = i * g.sh * Wp + j * g.sw;
    toff.resize(static_cast<size_t>(ntaps));
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t p = 0; p < g.kh; ++p)
        for (int64_t q = 0; q < g.kw; ++q) toff[(c * g.kh + p) * g.kw + q] = c * plane + p * g.dh * Wp + q * g.dw;
  }
  // x_n (C, H, W) into the interior of a zeroed (C, Hp, Wp), shifted by the padding
  template <typename T>
  void pad(const Conv2dGeom& g, const T* xn, T* dst) const {
    for (int64_t c = 0; c < g.C; ++c)
      copy_into_padded<T>(xn + c * g.H * g.W, g.H, g.W, g.pt, g.pl, dst + c * plane, Hp, Wp);
  }
};

template <typename T>
void gather_forward(const Conv2dGeom& g, const T* x, const T* w, const T* b, T* y) {
  const GatherKernels<T> kern = gather_kernels<T>();
  const GatherGeom gg(g);
  const int64_t Op = round_up_to(g.O, kern.W), L = gg.L, T_ = gg.ntaps, img = g.C * gg.plane;
  // wt[t, o] = w[o, t], the channels padded with zeros to Op
  std::vector<T> wt(static_cast<size_t>(T_ * Op), T(0));
  for (int64_t o = 0; o < g.O; ++o)
    for (int64_t t = 0; t < T_; ++t) wt[t * Op + o] = w[o * T_ + t];
  // Small images (a 7x7 output: 49 positions, 9 tiles of 6 with 5 idle rows in the last) go
  // G at a time through one kernel call, their positions one list over G padded images. Each
  // output is the same sum in the same order in any grouping.
  // (G also leaves a group per thread: images / threads at most.)
  const int64_t per_thread_images = (g.N + conv_threads(g.N) - 1) / conv_threads(g.N);
  const int64_t G = std::max<int64_t>(1, std::min<int64_t>(per_thread_images, kGatherGroupPositions / L));
  const int64_t ngroups = (g.N + G - 1) / G;
  std::vector<int64_t> base(static_cast<size_t>(G * L));
  for (int64_t k = 0; k < G; ++k)
    for (int64_t l = 0; l < L; ++l) base[k * L + l] = k * img + gg.base[l];
  const int nthreads = conv_threads(ngroups);
  const int64_t per_thread = round_up_to(G * (img + L * Op), 16);
  std::unique_ptr<T[]> buf(new T[static_cast<size_t>(per_thread * nthreads)]());  // zeroed: the padding
#pragma omp parallel for num_threads(nthreads) schedule(static) if (nthreads > 1)
  for (int64_t gi = 0; gi < ngroups; ++gi) {
    const int64_t n0 = gi * G, nk = std::min(G, g.N - n0);
    T* xp = buf.get() + per_thread * thread_id();
    T* out = xp + G * img;  // (nk·L, Op)
    for (int64_t k = 0; k < nk; ++k) gg.pad<T>(g, x + (n0 + k) * g.C * g.H * g.W, xp + k * img);
    kern.blocks(Op, [&](int64_t o0, int nb) {
      kern.f(nb)(nk * L, base.data(), xp, T_, gg.toff.data(), wt.data(), Op, o0, out, Op);
    });
    for (int64_t k = 0; k < nk; ++k) {
      T* yn = y + (n0 + k) * g.O * L;
      const T* ok = out + k * L * Op;
      for (int64_t o = 0; o < g.O; ++o) {
        const T bo = b ? b[o] : T(0);
        for (int64_t l = 0; l < L; ++l) yn[o * L + l] = ok[l * Op + o] + bo;
      }
    }
  }
}

template <typename T>
void gather_backward_weight(const Conv2dGeom& g, const T* gy, const T* x, T* gw) {
  constexpr int64_t TB = kGatherJB;
  const GatherKernels<T> kern = gather_kernels<T>();
  const GatherGeom gg(g);
  const int64_t Op = round_up_to(g.O, kern.W), L = gg.L, T_ = gg.ntaps, img = g.C * gg.plane;
  // Images in chunks that stay in L2 (about 512 KB; every tile reads all of a chunk): each
  // chunk's padded images and transposed gradients gyt[k·L + l, o] are made first, then every
  // (tap block, channel block) tile of gwt (T_, Op) adds the chunk, its images' positions one
  // list (cbase): the chunks depend on N and the shapes only, so the sums are the same in the
  // same order whatever the thread count.
  const int64_t chunk =
      std::max<int64_t>(1, std::min<int64_t>(g.N, (int64_t(1) << 19) / int64_t(sizeof(T)) / (img + L * Op)));
  std::vector<int64_t> cbase(static_cast<size_t>(chunk * L));
  for (int64_t k = 0; k < chunk; ++k)
    for (int64_t l = 0; l < L; ++l) cbase[k * L + l] = k * img + gg.base[l];
  std::unique_ptr<T[]> xs(new T[static_cast<size_t>(chunk * img)]());  // zeroed: the padding
  std::unique_ptr<T[]> gyt(new T[static_cast<size_t>(chunk * L * Op)]);
  std::vector<T> gwt(static_cast<size_t>(T_ * Op), T(0));
  std::vector<std::pair<int64_t, int>> oblocks;
  kern.blocks(Op, [&](int64_t o0, int nb) { oblocks.emplace_back(o0, nb); });
  const int64_t ntb = (T_ + TB - 1) / TB, ntiles = ntb * static_cast<int64_t>(oblocks.size());
  // One parallel region for the whole batch: per chunk, the preparation and the tiles are two
  // work-shared loops (their implicit barriers order them).
  const int nthreads = conv_threads(std::max(chunk, ntiles));
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
  for (int64_t n0 = 0; n0 < g.N; n0 += chunk) {
    const int64_t nc = std::min(chunk, g.N - n0);
#pragma omp for schedule(static)
    for (int64_t k = 0; k < nc; ++k) {
      gg.pad<T>(g, x + (n0 + k) * g.C * g.H * g.W, xs.get() + k * img);
      const T* gyn = gy + (n0 + k) * g.O * L;
      T* gt = gyt.get() + k * L * Op;
      for (int64_t l = 0; l < L; ++l) {
        for (int64_t o = 0; o < g.O; ++o) gt[l * Op + o] = gyn[o * L + l];
        for (int64_t o = g.O; o < Op; ++o) gt[l * Op + o] = T(0);
      }
    }
#pragma omp for schedule(static)
    for (int64_t tile = 0; tile < ntiles; ++tile) {
      const int64_t tb = tile % ntb;
      const auto ob = oblocks[static_cast<size_t>(tile / ntb)];
      const int64_t t0 = tb * TB, nt = std::min(TB, T_ - t0);
      kern.g(ob.second)(nc * L, cbase.data(), xs.get(), t0, nt, gg.toff.data(), gyt.get(), Op, ob.first, gwt.data(),
                        Op);
    }
  }
  for (int64_t o = 0; o < g.O; ++o)
    for (int64_t t = 0; t < T_; ++t) gw[o * T_ + t] = gwt[t * Op + o];
}

// floor division (the phases' offsets may be negative)
inline int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

template <typename T>
void gather_backward_input(const Conv2dGeom& g, const T* gy, const T* w, T* gx) {
  const GatherKernels<T> kern = gather_kernels<T>();
  const int64_t Cp = round_up_to(g.C, kern.W);
  // One phase per (rh, rw): its rows h = rh + sh·a (a < Ha), its taps p with
  // (rh + pt − p·dh) ≡ 0 (mod sh) and their row offsets δp (columns alike).
  struct Axis {
    std::vector<std::vector<int64_t>> taps, delta;  // per phase
    std::vector<int64_t> count;                     // outputs per phase
    int64_t lo = 0, hi = 0;                         // the range of a + δ read
  };
  auto axis = [](int64_t s, int64_t pad, int64_t d, int64_t k, int64_t n, int64_t nout) {
    Axis ax;
    ax.taps.resize(static_cast<size_t>(s));
    ax.delta.resize(static_cast<size_t>(s));
    ax.count.resize(static_cast<size_t>(s));
    bool any = false;
    for (int64_t r = 0; r < s; ++r) {
      ax.count[r] = r < n ? (n - r + s - 1) / s : 0;
      for (int64_t p = 0; p < k; ++p) {
        const int64_t num = r + pad - p * d;
        if (floor_div(num, s) * s != num) continue;
        const int64_t dl = num / s;
        ax.taps[r].push_back(p);
        ax.delta[r].push_back(dl);
        if (ax.count[r] == 0) continue;
        const int64_t lo = dl, hi = ax.count[r] - 1 + dl;
        ax.lo = any ? std::min(ax.lo, lo) : lo;
        ax.hi = any ? std::max(ax.hi, hi) : hi;
        any = true;
      }
    }
    // the padded gy covers [lo, hi] and at least gy itself
    ax.lo = std::min<int64_t>(ax.lo, 0);
    ax.hi = std::max<int64_t>(ax.hi, nout - 1);
    return ax;
  };
  const Axis ah = axis(g.sh, g.pt, g.dh, g.kh, g.H, g.Ho), aw = axis(g.sw, g.pl, g.dw, g.kw, g.W, g.Wo);
  const int64_t PT = -ah.lo, PL = -aw.lo, Hg = ah.hi - ah.lo + 1, Wg = aw.hi - aw.lo + 1, planeG = Hg * Wg;
  // Per phase: tap offsets into the padded gy (O, Hg, Wg), the weights wp[t, c], positions.
  struct Phase {
    int64_t rh, rw, Ha, Wb, ntaps;
    std::vector<int64_t> toff, base;
    std::vector<T> wp;
  };
  std::vector<Phase> phases;
  int64_t maxL = 0;
  for (int64_t rh = 0; rh < g.sh; ++rh)
    for (int64_t rw = 0; rw < g.sw; ++rw) {
      Phase ph{rh, rw, ah.count[rh], aw.count[rw], 0, {}, {}, {}};
      if (ph.Ha == 0 || ph.Wb == 0) continue;
      const auto &tp = ah.taps[rh], &tq = aw.taps[rw], &dp = ah.delta[rh], &dq = aw.delta[rw];
      ph.ntaps = g.O * static_cast<int64_t>(tp.size() * tq.size());
      ph.wp.assign(static_cast<size_t>(ph.ntaps * Cp), T(0));
      int64_t t = 0;
      for (int64_t o = 0; o < g.O; ++o)
        for (size_t a = 0; a < tp.size(); ++a)
          for (size_t b = 0; b < tq.size(); ++b, ++t) {
            ph.toff.push_back(o * planeG + dp[a] * Wg + dq[b]);
            for (int64_t c = 0; c < g.C; ++c) ph.wp[t * Cp + c] = w[((o * g.C + c) * g.kh + tp[a]) * g.kw + tq[b]];
          }
      for (int64_t a = 0; a < ph.Ha; ++a)
        for (int64_t b = 0; b < ph.Wb; ++b) ph.base.push_back((a + PT) * Wg + (b + PL));
      maxL = std::max(maxL, ph.Ha * ph.Wb);
      phases.push_back(std::move(ph));
    }
  // Small images go G at a time through each phase's kernel call (as in gather_forward).
  const int64_t imgG = g.O * planeG;
  const int64_t per_thread_images = (g.N + conv_threads(g.N) - 1) / conv_threads(g.N);
  const int64_t G =
      std::max<int64_t>(1, std::min<int64_t>(per_thread_images, kGatherGroupPositions / std::max<int64_t>(1, maxL)));
  const int64_t ngroups = (g.N + G - 1) / G;
  for (Phase& ph : phases) {
    const int64_t L = ph.Ha * ph.Wb;
    ph.base.resize(static_cast<size_t>(G * L));
    for (int64_t k = 1; k < G; ++k)
      for (int64_t l = 0; l < L; ++l) ph.base[k * L + l] = k * imgG + ph.base[l];
  }
  const int nthreads = conv_threads(ngroups);
  const int64_t per_thread = round_up_to(G * (imgG + maxL * Cp), 16);
  std::unique_ptr<T[]> buf(new T[static_cast<size_t>(per_thread * nthreads)]());  // zeroed: the padding
#pragma omp parallel for num_threads(nthreads) schedule(static) if (nthreads > 1)
  for (int64_t gi = 0; gi < ngroups; ++gi) {
    const int64_t n0 = gi * G, nk = std::min(G, g.N - n0);
    T* gp = buf.get() + per_thread * thread_id();
    T* out = gp + G * imgG;  // (nk·L, Cp) for one phase
    for (int64_t k = 0; k < nk; ++k)
      for (int64_t o = 0; o < g.O; ++o)
        copy_into_padded<T>(gy + ((n0 + k) * g.O + o) * g.Ho * g.Wo, g.Ho, g.Wo, PT, PL, gp + k * imgG + o * planeG,
                            Hg, Wg);
    // (pixels of a phase without taps stay 0)
    std::fill(gx + n0 * g.C * g.H * g.W, gx + (n0 + nk) * g.C * g.H * g.W, T(0));
    for (const Phase& ph : phases) {
      if (ph.ntaps == 0) continue;
      const int64_t L = ph.Ha * ph.Wb;
      kern.blocks(Cp, [&](int64_t c0, int nb) {
        kern.f(nb)(nk * L, ph.base.data(), gp, ph.ntaps, ph.toff.data(), ph.wp.data(), Cp, c0, out, Cp);
      });
      for (int64_t k = 0; k < nk; ++k)
        for (int64_t c = 0; c < g.C; ++c) {
          T* gc = gx + ((n0 + k) * g.C + c) * g.H * g.W;
          for (int64_t a = 0; a < ph.Ha; ++a) {
            T* row = gc + (ph.rh + g.sh * a) * g.W + ph.rw;
            const T* src = out + (k * L + a * ph.Wb) * Cp + c;
            for (int64_t b = 0; b < ph.Wb; ++b) row[g.sw * b] = src[b * Cp];
          }
        }
    }
  }
}
}  // namespace

template <typename T>
void conv2d_forward_fast(const Conv2dGeom& g, const T* x, const T* w, const T* b, T* y) {
  if (is_depthwise(g)) return depthwise_forward<T>(g, x, w, b, y);
  if (use_direct(g)) return direct_forward<T>(g, x, w, b, y);
  if (use_gather_out(g)) return gather_forward<T>(g, x, w, b, y);
  const int64_t K = g.cg() * g.kh * g.kw, L = g.Ho * g.Wo, og = g.og();
  const bool pointwise = is_pointwise(g);
  const int64_t col_elems = pointwise ? 0 : g.C * g.kh * g.kw * L;
  const int nthreads = conv_threads(g.N);
  // One image: im2col, the bias, one GEMM per group (serial inside the batch region).
  auto image = [&](int64_t n, T* col, T* ws) {
    const T* xn = x + n * g.C * g.H * g.W;
    T* yn = y + n * g.O * L;
    const T* cp = xn;
    if (!pointwise) {
      im2col<T>(g, xn, col);
      cp = col;
    }
    if (b)  // y_n[o, :] = b[o], then GEMM adds W · col onto it
      for (int64_t o = 0; o < g.O; ++o) std::fill(yn + o * L, yn + (o + 1) * L, b[o]);
    for (int64_t gr = 0; gr < g.groups; ++gr) {
      if (ws)
        gemm_fast_serial<T>(false, false, og, L, K, T(1), w + gr * og * K, K, cp + gr * K * L, L, b ? T(1) : T(0),
                            yn + gr * og * L, L, ws);
      else
        gemm_fast<T>(false, false, og, L, K, T(1), w + gr * og * K, K, cp + gr * K * L, L, b ? T(1) : T(0),
                     yn + gr * og * L, L);
    }
  };
  if (nthreads > 1) {
    ThreadBuffers<T> buf(nthreads, col_elems, gemm_workspace_size<T>(false, false, og, L, K));
#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (int64_t n = 0; n < g.N; ++n) image(n, buf.col_of(thread_id()), buf.ws_of(thread_id()));
    return;
  }
  std::vector<T> col(static_cast<size_t>(col_elems));
  for (int64_t n = 0; n < g.N; ++n) image(n, col.data(), nullptr);
}

template <typename T>
void conv2d_backward_input_fast(const Conv2dGeom& g, const T* gy, const T* w, T* gx) {
  if (is_depthwise(g)) return depthwise_backward_input<T>(g, gy, w, gx);
  if (use_direct(g)) return direct_backward_input<T>(g, gy, w, gx);
  if (use_gather_in(g)) return gather_backward_input<T>(g, gy, w, gx);
  const int64_t K = g.cg() * g.kh * g.kw, L = g.Ho * g.Wo, og = g.og(), img = g.C * g.H * g.W;
  const bool pointwise = is_pointwise(g);
  const int64_t col_elems = pointwise ? 0 : g.C * g.kh * g.kw * L;
  const int nthreads = conv_threads(g.N);
  auto image = [&](int64_t n, T* col, T* ws) {
    const T* gyn = gy + n * g.O * L;
    T* gxn = gx + n * img;
    // pointwise: gx_n itself is the column gradient; otherwise GEMM into col, then col2im.
    T* cp = pointwise ? gxn : col;
    for (int64_t gr = 0; gr < g.groups; ++gr) {
      if (ws)
        gemm_fast_serial<T>(true, false, K, L, og, T(1), w + gr * og * K, K, gyn + gr * og * L, L, T(0),
                            cp + gr * K * L, L, ws);
      else
        gemm_fast<T>(true, false, K, L, og, T(1), w + gr * og * K, K, gyn + gr * og * L, L, T(0), cp + gr * K * L, L);
    }
    if (!pointwise) {
      std::fill(gxn, gxn + img, T(0));
      col2im<T>(g, col, gxn);
    }
  };
  if (nthreads > 1) {
    ThreadBuffers<T> buf(nthreads, col_elems, gemm_workspace_size<T>(true, false, K, L, og));
#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (int64_t n = 0; n < g.N; ++n) image(n, buf.col_of(thread_id()), buf.ws_of(thread_id()));
    return;
  }
  std::vector<T> col(static_cast<size_t>(col_elems));
  for (int64_t n = 0; n < g.N; ++n) image(n, col.data(), nullptr);
}

template <typename T>
void conv2d_backward_weight_fast(const Conv2dGeom& g, const T* gy, const T* x, T* gw) {
  if (is_depthwise(g)) return depthwise_backward_weight<T>(g, gy, x, gw);
  if (use_direct(g)) return direct_backward_weight<T>(g, gy, x, gw);
  if (use_gather_out(g)) return gather_backward_weight<T>(g, gy, x, gw);
  const int64_t K = g.cg() * g.kh * g.kw, L = g.Ho * g.Wo, og = g.og(), wsize = g.O * K;
  const bool pointwise = is_pointwise(g);
  if (g.N == 0) {
    std::fill(gw, gw + wsize, T(0));
    return;
  }
  // The batch in a fixed number of chunks (it depends on N and the weight's size only, not on
  // the thread count, so the summation order is fixed): each chunk's images accumulate into
  // their own partial gW, one after another; then gW = partial_0 + partial_1 + ... in chunk
  // order. At most 16 chunks, fewer for a large weight (the partials stay within ~1 MB).
  const int64_t nchunks = std::min<int64_t>({g.N, 16, std::max<int64_t>(2, (int64_t(1) << 18) / wsize)});
  const int64_t col_elems = pointwise ? 0 : g.C * g.kh * g.kw * L;
  const int nthreads = conv_threads(nchunks);
  ThreadBuffers<T> buf(nthreads, col_elems, gemm_workspace_size<T>(false, true, og, K, L));
  std::unique_ptr<T[]> part(new T[static_cast<size_t>(nchunks > 1 ? nchunks * wsize : 0)]);
#pragma omp parallel for num_threads(nthreads) schedule(static) if (nthreads > 1)
  for (int64_t c = 0; c < nchunks; ++c) {
    T* col = buf.col_of(thread_id());
    T* ws = buf.ws_of(thread_id());
    T* out = nchunks > 1 ? part.get() + c * wsize : gw;
    for (int64_t n = g.N * c / nchunks; n < g.N * (c + 1) / nchunks; ++n) {
      const T* xn = x + n * g.C * g.H * g.W;
      const T* cp = xn;
      if (!pointwise) {
        im2col<T>(g, xn, col);  // (serial here: nested regions run on one thread)
        cp = col;
      }
      const bool first = n == g.N * c / nchunks;  // the chunk's first image writes (beta 0)
      for (int64_t gr = 0; gr < g.groups; ++gr)
        gemm_fast_serial<T>(false, true, og, K, L, T(1), gy + n * g.O * L + gr * og * L, L, cp + gr * K * L, L,
                            first ? T(0) : T(1), out + gr * og * K, K, ws);
    }
  }
  if (nchunks == 1) return;
#pragma omp parallel for schedule(static) if (wsize * nchunks >= 65536)
  for (int64_t e = 0; e < wsize; ++e) {
    T s = part[e];
    for (int64_t c = 1; c < nchunks; ++c) s += part[c * wsize + e];
    gw[e] = s;
  }
}

// Transposed convolution: the input-gradient path of conv2d (GEMM Wᵀ · x_n, then col2im), plus
// the bias, which is a per-channel constant over each output plane.
template <typename T>
void conv2d_transpose_forward_fast(const Conv2dGeom& g, const T* x, const T* w, const T* b, T* y) {
  conv2d_backward_input_fast<T>(g, x, w, y);
  if (!b) return;
  const int64_t plane = g.H * g.W;
#pragma omp parallel for schedule(static) if (g.N * g.C * plane >= 32768)
  for (int64_t nc = 0; nc < g.N * g.C; ++nc) {
    T* yp = y + nc * plane;
    const T bc = b[nc % g.C];
    for (int64_t k = 0; k < plane; ++k) yp[k] += bc;
  }
}

#define PYDL_CONV_FAST(T)                                                                     \
  template void im2col<T>(const Conv2dGeom&, const T*, T*);                                   \
  template void col2im<T>(const Conv2dGeom&, const T*, T*);                                   \
  template void conv2d_forward_fast<T>(const Conv2dGeom&, const T*, const T*, const T*, T*); \
  template void conv2d_backward_input_fast<T>(const Conv2dGeom&, const T*, const T*, T*);    \
  template void conv2d_backward_weight_fast<T>(const Conv2dGeom&, const T*, const T*, T*);   \
  template void conv2d_transpose_forward_fast<T>(const Conv2dGeom&, const T*, const T*, const T*, T*);
PYDL_CONV_FAST(float)
PYDL_CONV_FAST(double)
#undef PYDL_CONV_FAST

}  // namespace pydl::kernels
