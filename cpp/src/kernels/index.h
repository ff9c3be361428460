// Integer indexing kernels (issue 9): take along one axis (t[idx], pydl.take, Embedding) and
// PyTorch's gather. Indices reach these kernels already checked and wrapped into [0, n) by
// ops/index.cpp, so no kernel can read or write out of bounds.
#pragma once
#include <cstdint>

namespace pydl::kernels {

// x is contiguous (outer, n, inner), idx has m entries, y is (outer, m, inner).
struct TakeGeom {
  int64_t outer, n, m, inner;
};

// y[o, j, k] = x[o, idx[j], k]
template <typename T>
void take_reference(const T* x, const int64_t* idx, const TakeGeom& g, T* y);
template <typename T>
void take_fast(const T* x, const int64_t* idx, const TakeGeom& g, T* y);
// gx[o, idx[j], k] += gy[o, j, k]   (a repeated index accumulates, in increasing j)
template <typename T>
void take_backward_reference(const T* gy, const int64_t* idx, const TakeGeom& g, T* gx);
template <typename T>
void take_backward_fast(const T* gy, const int64_t* idx, const TakeGeom& g, T* gx);

// gather along `dim` d: index and y are contiguous (outer, m, inner) (index's own shape split at
// d); x is contiguous, and its element for (o, j, i) sits at outer_off[o] + idx[o, j, i] * sd +
// inner_off[i] (outer_off/inner_off: the offsets of index's coordinates before/after d in x).
struct GatherGeom {
  int64_t outer, m, inner;
  int64_t sd;  // x's stride along d
  const int64_t* outer_off;
  const int64_t* inner_off;
};

// y[o, j, i] = x[o, idx[o, j, i], i]   (coordinates of x other than d are those of the output)
template <typename T>
void gather_reference(const T* x, const int64_t* idx, const GatherGeom& g, T* y);
template <typename T>
void gather_fast(const T* x, const int64_t* idx, const GatherGeom& g, T* y);
// gx[o, idx[o, j, i], i] += gy[o, j, i]
template <typename T>
void gather_backward_reference(const T* gy, const int64_t* idx, const GatherGeom& g, T* gx);
template <typename T>
void gather_backward_fast(const T* gy, const int64_t* idx, const GatherGeom& g, T* gx);

}  // namespace pydl::kernels
