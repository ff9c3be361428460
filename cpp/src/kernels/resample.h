// Resampling kernels over NCHW images: upsample2d (nearest, bilinear) and pad2d (zeros,
// reflect), forward and backward, reference loops and fast (tabled, OpenMP over planes)
// versions. x is contiguous (planes, H, W) with planes = N * C; y is (planes, Ho, Wo).
// ops/resample.cpp checks every argument before a kernel runs. Backward kernels overwrite gx.
// The index maps below are written once and used by both versions.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace pydl::kernels {

struct UpsampleGeom {
  int64_t planes, H, W, Ho, Wo;
  double scale_h, scale_w;  // the scale_factor the caller gave (> 0), or 0: the sizes' ratio is used
  bool bilinear, align_corners;
};

// Nearest (PyTorch's mode='nearest'): output d reads input floor(d / scale) (floor(d * in / out)
// from the sizes), at most in - 1. Exact: integer arithmetic, or one correctly rounded division.
inline int64_t nearest_src(int64_t d, int64_t in, int64_t out, double scale) {
  const int64_t s = scale > 0 ? static_cast<int64_t>(std::floor(static_cast<double>(d) / scale)) : (d * in) / out;
  return std::min(s, in - 1);
}

// Bilinear: output d sits at input coordinate src (align_corners: the corner pixels' centres
// line up, src = d (in - 1) / (out - 1); otherwise pixel areas line up,
// src = max((d + 0.5) / scale - 0.5, 0)); it blends i0 = floor(src) and i1 = min(i0 + 1, in - 1)
// with weights 1 - lam and lam.
inline void linear_src(int64_t d, int64_t in, int64_t out, double scale, bool align_corners, int64_t& i0,
                       int64_t& i1, double& lam) {
  double src;
  if (align_corners) {
    src = out > 1 ? static_cast<double>(d) * static_cast<double>(in - 1) / static_cast<double>(out - 1) : 0.0;
  } else {
    const double ratio = scale > 0 ? 1.0 / scale : static_cast<double>(in) / static_cast<double>(out);
    src = std::max(ratio * (static_cast<double>(d) + 0.5) - 0.5, 0.0);
  }
  i0 = std::min(static_cast<int64_t>(src), in - 1);
  i1 = std::min(i0 + 1, in - 1);
  lam = src - static_cast<double>(i0);
}

template <typename T>
void upsample2d_reference(const T* x, const UpsampleGeom& g, T* y);
template <typename T>
void upsample2d_fast(const T* x, const UpsampleGeom& g, T* y);
template <typename T>
void upsample2d_backward_reference(const T* gy, const UpsampleGeom& g, T* gx);
template <typename T>
void upsample2d_backward_fast(const T* gy, const UpsampleGeom& g, T* gx);

struct PadGeom {
  int64_t planes, H, W;
  int64_t pl, pr, pt, pb;  // left, right, top, bottom (PyTorch's F.pad order)
  bool reflect;            // reflect (the edge pixel not repeated) or zeros
  int64_t Ho() const { return H + pt + pb; }
  int64_t Wo() const { return W + pl + pr; }
};

// Output position o (along an axis of input length n, padded by `before`) reads input
// pad_src(...), or -1 for a zero. Reflect mirrors about the edge pixel: -1 -> 1, n -> n - 2
// (needs before, after < n, which the op checks).
inline int64_t pad_src(int64_t o, int64_t before, int64_t n, bool reflect) {
  int64_t s = o - before;
  if (s >= 0 && s < n) return s;
  if (!reflect) return -1;
  return s < 0 ? -s : 2 * (n - 1) - s;
}

template <typename T>
void pad2d_reference(const T* x, const PadGeom& g, T* y);
template <typename T>
void pad2d_fast(const T* x, const PadGeom& g, T* y);
template <typename T>
void pad2d_backward_reference(const T* gy, const PadGeom& g, T* gx);
template <typename T>
void pad2d_backward_fast(const T* gy, const PadGeom& g, T* gx);

}  // namespace pydl::kernels
