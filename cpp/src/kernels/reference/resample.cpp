// Reference resampling: one output pixel at a time, its source found by the index maps of
// kernels/resample.h; the backward sends each output's gradient back along the same weights.
#include "kernels/resample.h"

namespace pydl::kernels {

template <typename T>
void upsample2d_reference(const T* x, const UpsampleGeom& g, T* y) {
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t i = 0; i < g.Ho; ++i)
      for (int64_t j = 0; j < g.Wo; ++j) {
        const T* xp = x + p * g.H * g.W;
        T& out = y[(p * g.Ho + i) * g.Wo + j];
        if (!g.bilinear) {
          // y[i, j] = x[floor(i / sh), floor(j / sw)]
          out = xp[nearest_src(i, g.H, g.Ho, g.scale_h) * g.W + nearest_src(j, g.W, g.Wo, g.scale_w)];
          continue;
        }
        // y[i, j] = (1-a)(1-b) x[h0,w0] + (1-a) b x[h0,w1] + a (1-b) x[h1,w0] + a b x[h1,w1]
        int64_t h0, h1, w0, w1;
        double a, b;
        linear_src(i, g.H, g.Ho, g.scale_h, g.align_corners, h0, h1, a);
        linear_src(j, g.W, g.Wo, g.scale_w, g.align_corners, w0, w1, b);
        out = T((1 - a) * ((1 - b) * xp[h0 * g.W + w0] + b * xp[h0 * g.W + w1]) +
                a * ((1 - b) * xp[h1 * g.W + w0] + b * xp[h1 * g.W + w1]));
      }
}

template <typename T>
void upsample2d_backward_reference(const T* gy, const UpsampleGeom& g, T* gx) {
  for (int64_t k = 0; k < g.planes * g.H * g.W; ++k) gx[k] = T(0);
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t i = 0; i < g.Ho; ++i)
      for (int64_t j = 0; j < g.Wo; ++j) {
        T* gp = gx + p * g.H * g.W;
        const T d = gy[(p * g.Ho + i) * g.Wo + j];
        if (!g.bilinear) {
          gp[nearest_src(i, g.H, g.Ho, g.scale_h) * g.W + nearest_src(j, g.W, g.Wo, g.scale_w)] += d;
          continue;
        }
        int64_t h0, h1, w0, w1;
        double a, b;
        linear_src(i, g.H, g.Ho, g.scale_h, g.align_corners, h0, h1, a);
        linear_src(j, g.W, g.Wo, g.scale_w, g.align_corners, w0, w1, b);
        gp[h0 * g.W + w0] += T((1 - a) * (1 - b) * d);
        gp[h0 * g.W + w1] += T((1 - a) * b * d);
        gp[h1 * g.W + w0] += T(a * (1 - b) * d);
        gp[h1 * g.W + w1] += T(a * b * d);
      }
}

template <typename T>
void pad2d_reference(const T* x, const PadGeom& g, T* y) {
  const int64_t Ho = g.Ho(), Wo = g.Wo();
  // y[i, j] = x[src(i), src(j)], 0 where either source is outside (zeros mode)
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t i = 0; i < Ho; ++i)
      for (int64_t j = 0; j < Wo; ++j) {
        const int64_t h = pad_src(i, g.pt, g.H, g.reflect), w = pad_src(j, g.pl, g.W, g.reflect);
        y[(p * Ho + i) * Wo + j] = (h < 0 || w < 0) ? T(0) : x[(p * g.H + h) * g.W + w];
      }
}

template <typename T>
void pad2d_backward_reference(const T* gy, const PadGeom& g, T* gx) {
  const int64_t Ho = g.Ho(), Wo = g.Wo();
  for (int64_t k = 0; k < g.planes * g.H * g.W; ++k) gx[k] = T(0);
  // gx[src(i), src(j)] += gy[i, j]
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t i = 0; i < Ho; ++i)
      for (int64_t j = 0; j < Wo; ++j) {
        const int64_t h = pad_src(i, g.pt, g.H, g.reflect), w = pad_src(j, g.pl, g.W, g.reflect);
        if (h >= 0 && w >= 0) gx[(p * g.H + h) * g.W + w] += gy[(p * Ho + i) * Wo + j];
      }
}

#define PYDL_RESAMPLE_REF(T)                                                      \
  template void upsample2d_reference<T>(const T*, const UpsampleGeom&, T*);       \
  template void upsample2d_backward_reference<T>(const T*, const UpsampleGeom&, T*); \
  template void pad2d_reference<T>(const T*, const PadGeom&, T*);                 \
  template void pad2d_backward_reference<T>(const T*, const PadGeom&, T*);
PYDL_RESAMPLE_REF(float)
PYDL_RESAMPLE_REF(double)
#undef PYDL_RESAMPLE_REF

}  // namespace pydl::kernels
