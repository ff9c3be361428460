// Fast resampling: the index maps of kernels/resample.h evaluated once per row and per column
// into tables (not once per pixel), then one thread per plane, so no two threads write the same
// gradient. The tables are allocated before the parallel region (no allocation inside it).
#include <cstring>
#include <vector>

#include "kernels/resample.h"

namespace pydl::kernels {

namespace {

struct LinearTable {
  std::vector<int64_t> i0, i1;
  std::vector<double> lam;
  LinearTable(int64_t out, int64_t in, double scale, bool align_corners) : i0(out), i1(out), lam(out) {
    for (int64_t d = 0; d < out; ++d) linear_src(d, in, out, scale, align_corners, i0[d], i1[d], lam[d]);
  }
};

std::vector<int64_t> nearest_table(int64_t out, int64_t in, double scale) {
  std::vector<int64_t> t(out);
  for (int64_t d = 0; d < out; ++d) t[d] = nearest_src(d, in, out, scale);
  return t;
}

}  // namespace

template <typename T>
void upsample2d_fast(const T* x, const UpsampleGeom& g, T* y) {
  const int64_t in_plane = g.H * g.W, out_plane = g.Ho * g.Wo;
  const bool big = g.planes * out_plane >= 32768;
  if (!g.bilinear) {
    const std::vector<int64_t> rows = nearest_table(g.Ho, g.H, g.scale_h), cols = nearest_table(g.Wo, g.W, g.scale_w);
#pragma omp parallel for schedule(static) if (big)
    for (int64_t p = 0; p < g.planes; ++p)
      for (int64_t i = 0; i < g.Ho; ++i) {
        const T* src = x + p * in_plane + rows[i] * g.W;
        T* dst = y + p * out_plane + i * g.Wo;
        if (i > 0 && rows[i] == rows[i - 1]) {  // the same source row as the last: copy it
          std::memcpy(dst, dst - g.Wo, sizeof(T) * g.Wo);
          continue;
        }
        for (int64_t j = 0; j < g.Wo; ++j) dst[j] = src[cols[j]];
      }
    return;
  }
  const LinearTable r(g.Ho, g.H, g.scale_h, g.align_corners), c(g.Wo, g.W, g.scale_w, g.align_corners);
#pragma omp parallel for schedule(static) if (big)
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t i = 0; i < g.Ho; ++i) {
      const T* x0 = x + p * in_plane + r.i0[i] * g.W;
      const T* x1 = x + p * in_plane + r.i1[i] * g.W;
      const double a = r.lam[i];
      T* dst = y + p * out_plane + i * g.Wo;
      for (int64_t j = 0; j < g.Wo; ++j) {
        const double b = c.lam[j];
        dst[j] = T((1 - a) * ((1 - b) * x0[c.i0[j]] + b * x0[c.i1[j]]) + a * ((1 - b) * x1[c.i0[j]] + b * x1[c.i1[j]]));
      }
    }
}

template <typename T>
void upsample2d_backward_fast(const T* gy, const UpsampleGeom& g, T* gx) {
  const int64_t in_plane = g.H * g.W, out_plane = g.Ho * g.Wo;
  const bool big = g.planes * out_plane >= 32768;
  std::memset(gx, 0, sizeof(T) * g.planes * in_plane);
  if (!g.bilinear) {
    const std::vector<int64_t> rows = nearest_table(g.Ho, g.H, g.scale_h), cols = nearest_table(g.Wo, g.W, g.scale_w);
#pragma omp parallel for schedule(static) if (big)
    for (int64_t p = 0; p < g.planes; ++p)
      for (int64_t i = 0; i < g.Ho; ++i) {
        T* dst = gx + p * in_plane + rows[i] * g.W;
        const T* src = gy + p * out_plane + i * g.Wo;
        for (int64_t j = 0; j < g.Wo; ++j) dst[cols[j]] += src[j];
      }
    return;
  }
  const LinearTable r(g.Ho, g.H, g.scale_h, g.align_corners), c(g.Wo, g.W, g.scale_w, g.align_corners);
#pragma omp parallel for schedule(static) if (big)
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t i = 0; i < g.Ho; ++i) {
      T* g0 = gx + p * in_plane + r.i0[i] * g.W;
      T* g1 = gx + p * in_plane + r.i1[i] * g.W;
      const double a = r.lam[i];
      const T* src = gy + p * out_plane + i * g.Wo;
      for (int64_t j = 0; j < g.Wo; ++j) {
        const double b = c.lam[j], d = src[j];
        g0[c.i0[j]] += T((1 - a) * (1 - b) * d);
        g0[c.i1[j]] += T((1 - a) * b * d);
        g1[c.i0[j]] += T(a * (1 - b) * d);
        g1[c.i1[j]] += T(a * b * d);
      }
    }
}

template <typename T>
void pad2d_fast(const T* x, const PadGeom& g, T* y) {
  const int64_t Ho = g.Ho(), Wo = g.Wo();
#pragma omp parallel for schedule(static) if (g.planes * Ho * Wo >= 32768)
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t i = 0; i < Ho; ++i) {
      T* dst = y + (p * Ho + i) * Wo;
      const int64_t h = pad_src(i, g.pt, g.H, g.reflect);
      if (h < 0) {
        std::memset(dst, 0, sizeof(T) * Wo);
        continue;
      }
      const T* row = x + (p * g.H + h) * g.W;
      // the left border, the row itself in one copy, the right border
      for (int64_t j = 0; j < g.pl; ++j) dst[j] = g.reflect ? row[g.pl - j] : T(0);
      std::memcpy(dst + g.pl, row, sizeof(T) * g.W);
      for (int64_t j = 0; j < g.pr; ++j) dst[g.pl + g.W + j] = g.reflect ? row[g.W - 2 - j] : T(0);
    }
}

template <typename T>
void pad2d_backward_fast(const T* gy, const PadGeom& g, T* gx) {
  const int64_t Ho = g.Ho(), Wo = g.Wo();
  std::memset(gx, 0, sizeof(T) * g.planes * g.H * g.W);
#pragma omp parallel for schedule(static) if (g.planes * Ho * Wo >= 32768)
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t i = 0; i < Ho; ++i) {
      const int64_t h = pad_src(i, g.pt, g.H, g.reflect);
      if (h < 0) continue;
      const T* src = gy + (p * Ho + i) * Wo;
      T* row = gx + (p * g.H + h) * g.W;
      for (int64_t j = 0; j < g.W; ++j) row[j] += src[g.pl + j];
      if (!g.reflect) continue;
      for (int64_t j = 0; j < g.pl; ++j) row[g.pl - j] += src[j];
      for (int64_t j = 0; j < g.pr; ++j) row[g.W - 2 - j] += src[g.pl + g.W + j];
    }
}

#define PYDL_RESAMPLE_FAST(T)                                                   \
  template void upsample2d_fast<T>(const T*, const UpsampleGeom&, T*);          \
  template void upsample2d_backward_fast<T>(const T*, const UpsampleGeom&, T*); \
  template void pad2d_fast<T>(const T*, const PadGeom&, T*);                    \
  template void pad2d_backward_fast<T>(const T*, const PadGeom&, T*);
PYDL_RESAMPLE_FAST(float)
PYDL_RESAMPLE_FAST(double)
#undef PYDL_RESAMPLE_FAST

}  // namespace pydl::kernels
