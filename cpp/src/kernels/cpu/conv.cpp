// Fast convolution: im2col + the project's GEMM (kernels::gemm_fast), per image and group.
//   forward        y_n[g]  (og, L)      = W[g] (og, K) · col_n[g] (K, L)          (+ b, as GEMM's beta = 1)
//   input grad     gcol[g] (K, L)       = W[g]ᵀ · gy_n[g] (og, L), then col2im into gx_n
//   weight grad    gW[g]   (og, K)     += gy_n[g] · col_n[g]ᵀ                     (summed over n)
// with K = (C / groups) · kh · kw and L = Ho · Wo; col_n = im2col(x_n) holds the groups' row
// blocks one after another. A 1x1 kernel with stride 1 and no padding needs no im2col: x_n is
// its own column matrix.
// Threads: inside the GEMM (its own OpenMP regions) and over the rows / channels of im2col and
// col2im; the images run one after another. The one scratch buffer is allocated before any
// parallel region, so no region allocates (an exception there would end the process).
#include "kernels/conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/kernels.h"

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

template <typename T>
void conv2d_forward_fast(const Conv2dGeom& g, const T* x, const T* w, const T* b, T* y) {
  const int64_t K = g.cg() * g.kh * g.kw, L = g.Ho * g.Wo, og = g.og();
  const bool pointwise = is_pointwise(g);
  std::vector<T> col(pointwise ? 0 : static_cast<size_t>(g.C * g.kh * g.kw * L));
  for (int64_t n = 0; n < g.N; ++n) {
    const T* xn = x + n * g.C * g.H * g.W;
    T* yn = y + n * g.O * L;
    const T* cp = xn;
    if (!pointwise) {
      im2col<T>(g, xn, col.data());
      cp = col.data();
    }
    if (b)  // y_n[o, :] = b[o], then GEMM adds W · col onto it
      for (int64_t o = 0; o < g.O; ++o) std::fill(yn + o * L, yn + (o + 1) * L, b[o]);
    for (int64_t gr = 0; gr < g.groups; ++gr)
      gemm_fast<T>(false, false, og, L, K, T(1), w + gr * og * K, K, cp + gr * K * L, L, b ? T(1) : T(0),
                   yn + gr * og * L, L);
  }
}

template <typename T>
void conv2d_backward_input_fast(const Conv2dGeom& g, const T* gy, const T* w, T* gx) {
  const int64_t K = g.cg() * g.kh * g.kw, L = g.Ho * g.Wo, og = g.og(), img = g.C * g.H * g.W;
  const bool pointwise = is_pointwise(g);
  std::vector<T> col(pointwise ? 0 : static_cast<size_t>(g.C * g.kh * g.kw * L));
  for (int64_t n = 0; n < g.N; ++n) {
    const T* gyn = gy + n * g.O * L;
    T* gxn = gx + n * img;
    // pointwise: gx_n itself is the column gradient; otherwise GEMM into col, then col2im.
    T* cp = pointwise ? gxn : col.data();
    for (int64_t gr = 0; gr < g.groups; ++gr)
      gemm_fast<T>(true, false, K, L, og, T(1), w + gr * og * K, K, gyn + gr * og * L, L, T(0), cp + gr * K * L, L);
    if (!pointwise) {
      std::fill(gxn, gxn + img, T(0));
      col2im<T>(g, col.data(), gxn);
    }
  }
}

template <typename T>
void conv2d_backward_weight_fast(const Conv2dGeom& g, const T* gy, const T* x, T* gw) {
  const int64_t K = g.cg() * g.kh * g.kw, L = g.Ho * g.Wo, og = g.og();
  const bool pointwise = is_pointwise(g);
  if (g.N == 0) {
    std::fill(gw, gw + g.O * K, T(0));
    return;
  }
  std::vector<T> col(pointwise ? 0 : static_cast<size_t>(g.C * g.kh * g.kw * L));
  for (int64_t n = 0; n < g.N; ++n) {
    const T* xn = x + n * g.C * g.H * g.W;
    const T* cp = xn;
    if (!pointwise) {
      im2col<T>(g, xn, col.data());
      cp = col.data();
    }
    // The first image writes gW (beta 0), the others add onto it.
    for (int64_t gr = 0; gr < g.groups; ++gr)
      gemm_fast<T>(false, true, og, K, L, T(1), gy + n * g.O * L + gr * og * L, L, cp + gr * K * L, L,
                   n == 0 ? T(0) : T(1), gw + gr * og * K, K);
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
