// Pooling kernels (declared here, beside kernels.h, so the pooling family stays in its own files).
// x is contiguous (planes, H, W) with planes = N * C; y is (planes, OH, OW). Shapes, padding and
// output sizes are checked by ops/pool.cpp before any kernel runs.
#pragma once
#include <cstdint>

namespace pydl::kernels {

struct PoolGeom {
  int64_t planes, H, W, OH, OW;
  int64_t kh, kw, sh, sw;
  int64_t pt, pb, pl, pr;  // padding: top, bottom, left, right
  int64_t dh, dw;          // dilation
};

// y[p, i, j] = max_{a < kh, b < kw} x[p, i sh - pt + a dh, j sw - pl + b dw]  (padding is -inf)
// argmax[p, i, j] = the flat index (h W + w) in the plane of the first maximum in scan order;
// a NaN in the window wins (as PyTorch). argmax may be null (no backward will need it).
template <typename T>
void max_pool2d_reference(const T* x, const PoolGeom& g, T* y, int64_t* argmax);
template <typename T>
void max_pool2d_fast(const T* x, const PoolGeom& g, T* y, int64_t* argmax);
// gx[p, argmax[p, i, j]] += gy[p, i, j]
template <typename T>
void max_pool2d_backward_reference(const T* gy, const int64_t* argmax, const PoolGeom& g, T* gx);
template <typename T>
void max_pool2d_backward_fast(const T* gy, const int64_t* argmax, const PoolGeom& g, T* gx);

// y[p, i, j] = (1 / |window|) sum_{a < kh, b < kw} x[p, i sh - pt + a, j sw - pl + b]  (padding is 0)
// |window| counts the positions inside the padded input (count_include_pad) or inside x only.
template <typename T>
void avg_pool2d_reference(const T* x, const PoolGeom& g, bool count_include_pad, T* y);
template <typename T>
void avg_pool2d_fast(const T* x, const PoolGeom& g, bool count_include_pad, T* y);
// gx[p, h, w] += sum over the windows holding (h, w) of gy[p, i, j] / |window(i, j)|
template <typename T>
void avg_pool2d_backward_reference(const T* gy, const PoolGeom& g, bool count_include_pad, T* gx);
template <typename T>
void avg_pool2d_backward_fast(const T* gy, const PoolGeom& g, bool count_include_pad, T* gx);

// The divisor of the average over the window at output (i, j), PyTorch's rule: the window is
// cut to the padded input (count_include_pad) or to the input itself. Shared by both backends.
inline int64_t avg_pool_divisor(const PoolGeom& g, int64_t i, int64_t j, bool count_include_pad) {
  int64_t h0 = i * g.sh - g.pt, w0 = j * g.sw - g.pl;
  int64_t h1 = h0 + g.kh, w1 = w0 + g.kw;
  if (h1 > g.H + g.pb) h1 = g.H + g.pb;
  if (w1 > g.W + g.pr) w1 = g.W + g.pr;
  if (count_include_pad) return (h1 - h0) * (w1 - w0);
  if (h0 < 0) h0 = 0;
  if (w0 < 0) w0 = 0;
  if (h1 > g.H) h1 = g.H;
  if (w1 > g.W) w1 = g.W;
  return (h1 - h0) * (w1 - w0);
}

}  // namespace pydl::kernels
