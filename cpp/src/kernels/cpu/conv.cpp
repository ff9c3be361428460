// Fast convolution: im2col + the project's GEMM (kernels::gemm_fast), per image and group.
//   forward        y_n[g]  (og, L)      = W[g] (og, K) · col_n[g] (K, L)          (+ b, as GEMM's beta = 1)
//   input grad     gcol[g] (K, L)       = W[g]ᵀ · gy_n[g] (og, L), then col2im into gx_n
//   weight grad    gW[g]   (og, K)     += gy_n[g] · col_n[g]ᵀ                     (summed over n)
// with K = (C / groups) · kh · kw and L = Ho · Wo; col_n = im2col(x_n) holds the groups' row
// blocks one after another. A 1x1 kernel with stride 1 and no padding needs no im2col: x_n is
// its own column matrix.
// Threads: over the images (see "batch parallelism" below), or with fewer images than threads
// inside the GEMM and over the rows / channels of im2col and col2im. Depthwise convolutions
// (one input channel per group) take direct loops instead of GEMMs.
#include "kernels/conv.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

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

}  // namespace

template <typename T>
void conv2d_forward_fast(const Conv2dGeom& g, const T* x, const T* w, const T* b, T* y) {
  if (is_depthwise(g)) return depthwise_forward<T>(g, x, w, b, y);
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
