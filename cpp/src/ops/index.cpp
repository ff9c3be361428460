// Integer indexing: take (t[idx], pydl.take, Embedding's lookup) and gather, forward beside
// backward. The indices are checked and wrapped here, once, before any kernel runs.
#include <memory>
#include <vector>

#include "kernels/index.h"
#include "ops/common.h"

namespace pydl::ops {

namespace {

void check_indices_dtype(const Tensor& idx, const char* op, const char* what) {
  check_defined(idx, op);
  if (idx.dtype() != DType::Int64)
    throw TypeError(msg(op, ": ", what, " must be an int64 tensor, got a ", dtype_name(idx.dtype()), " tensor of shape ",
                        shape_str(idx.shape()), " (convert with .to(pydl.int64))"));
}

// The indices as a flat vector, each in [0, n) (negatives wrapped when `wrap`), or IndexError.
std::shared_ptr<std::vector<int64_t>> checked_indices(const Tensor& idx_in, int64_t n, bool wrap, const char* op,
                                                      int64_t axis, const Shape& xs) {
  Tensor idx = contiguous(idx_in.detach());
  auto out = std::make_shared<std::vector<int64_t>>(static_cast<size_t>(idx.numel()));
  const int64_t* p = idx.data<int64_t>();
  for (int64_t i = 0; i < idx.numel(); ++i) {
    int64_t v = p[i];
    if (wrap && v < 0) v += n;
    if (v < 0 || v >= n)
      throw IndexError(msg(op, ": index ", p[i], " is out of range for axis ", axis, " with size ", n, " (shape ",
                           shape_str(xs), wrap ? "; indices must be in [-size, size))" : "; indices must be in [0, size))"));
    (*out)[i] = v;
  }
  return out;
}

}  // namespace

Tensor take(const Tensor& x_in, const Tensor& indices, std::optional<int64_t> axis, const char* op) {
  check_defined(x_in, op);
  check_indices_dtype(indices, op, "indices");
  const Tensor x = axis ? x_in : reshape(x_in, {-1});  // NumPy: no axis takes from the flat array
  if (x.dim() == 0) throw IndexError(msg(op, ": cannot take from a 0-d tensor (shape ())"));
  const int64_t a = normalize_axis(axis ? *axis : 0, x.dim(), op);
  const Shape& xs = x.shape();
  kernels::TakeGeom g{1, xs[a], indices.numel(), 1};
  for (int64_t d = 0; d < a; ++d) g.outer *= xs[d];
  for (int64_t d = a + 1; d < x.dim(); ++d) g.inner *= xs[d];
  auto idx = checked_indices(indices, g.n, true, op, a, x_in.shape());
  Shape ys(xs.begin(), xs.begin() + a);
  ys.insert(ys.end(), indices.shape().begin(), indices.shape().end());
  ys.insert(ys.end(), xs.begin() + a + 1, xs.end());
  Tensor y = Tensor::empty(ys, x.dtype());
  if (y.numel() > 0) {
    Tensor xc = contiguous(x.detach());
    auto run = [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      if (use_fast()) kernels::take_fast<T>(xc.data<T>(), idx->data(), g, y.data<T>());
      else kernels::take_reference<T>(xc.data<T>(), idx->data(), g, y.data<T>());
    };
    switch (x.dtype()) {
      case DType::Float32: run(static_cast<float*>(nullptr)); break;
      case DType::Float64: run(static_cast<double*>(nullptr)); break;
      case DType::Int64: run(static_cast<int64_t*>(nullptr)); break;
    }
  }
  if (any_requires_grad({&x})) {
    // dL/dx[o, s, k] = sum over j with idx[j] == s of dL/dy[o, j, k]
    record("TakeBackward", {x}, y, {}, [idx, g, xs](const Node&, const Tensor& gy) {
      Tensor gx = Tensor::zeros(xs, gy.dtype());
      Tensor gc = contiguous(gy);
      if (gx.numel() > 0 && gc.numel() > 0)
        PYDL_DISPATCH(gy.dtype(), {
          if (use_fast()) kernels::take_backward_fast<T>(gc.data<T>(), idx->data(), g, gx.data<T>());
          else kernels::take_backward_reference<T>(gc.data<T>(), idx->data(), g, gx.data<T>());
        });
      return std::vector<Tensor>{gx};
    });
  }
  return y;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  const char* op = "gather";
  check_defined(x, op);
  check_indices_dtype(index, op, "index");
  const Shape &xs = x.shape(), &is = index.shape();
  if (index.dim() != x.dim())
    throw ShapeError(msg(op, ": index must have the rank of the input, got index shape ", shape_str(is),
                         " for input shape ", shape_str(xs)));
  if (x.dim() == 0) throw IndexError(msg(op, ": cannot gather from a 0-d tensor (shape ())"));
  const int64_t d = normalize_axis(dim, x.dim(), op);
  for (int64_t k = 0; k < x.dim(); ++k)
    if (k != d && is[k] > xs[k])
      throw ShapeError(msg(op, ": index shape ", shape_str(is), " is larger than input shape ", shape_str(xs),
                           " along dimension ", k, " (only dimension ", d, " may be larger)"));
  auto idx = checked_indices(index, xs[d], false, op, d, xs);
  const Shape xst = contiguous_strides(xs);
  // offsets in x of index's coordinates before d (outer) and after d (inner)
  auto outer_off = std::make_shared<std::vector<int64_t>>(1, 0), inner_off = std::make_shared<std::vector<int64_t>>(1, 0);
  for (int64_t k = 0; k < d; ++k) {
    std::vector<int64_t> next;
    for (int64_t base : *outer_off)
      for (int64_t c = 0; c < is[k]; ++c) next.push_back(base + c * xst[k]);
    *outer_off = std::move(next);
  }
  for (int64_t k = d + 1; k < x.dim(); ++k) {
    std::vector<int64_t> next;
    for (int64_t base : *inner_off)
      for (int64_t c = 0; c < is[k]; ++c) next.push_back(base + c * xst[k]);
    *inner_off = std::move(next);
  }
  const int64_t outer = static_cast<int64_t>(outer_off->size()), inner = static_cast<int64_t>(inner_off->size());
  Tensor y = Tensor::empty(is, x.dtype());
  const kernels::GatherGeom g{outer, is[d], inner, xst[d], outer_off->data(), inner_off->data()};
  if (y.numel() > 0) {
    Tensor xc = contiguous(x.detach());
    auto run = [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      if (use_fast()) kernels::gather_fast<T>(xc.data<T>(), idx->data(), g, y.data<T>());
      else kernels::gather_reference<T>(xc.data<T>(), idx->data(), g, y.data<T>());
    };
    switch (x.dtype()) {
      case DType::Float32: run(static_cast<float*>(nullptr)); break;
      case DType::Float64: run(static_cast<double*>(nullptr)); break;
      case DType::Int64: run(static_cast<int64_t*>(nullptr)); break;
    }
  }
  if (any_requires_grad({&x})) {
    // dL/dx[o, s, i] = sum over j with idx[o, j, i] == s of dL/dy[o, j, i]
    record("GatherBackward", {x}, y, {}, [idx, outer_off, inner_off, g, xs](const Node&, const Tensor& gy) {
      Tensor gx = Tensor::zeros(xs, gy.dtype());
      Tensor gc = contiguous(gy);
      if (gc.numel() > 0)
        PYDL_DISPATCH(gy.dtype(), {
          if (use_fast()) kernels::gather_backward_fast<T>(gc.data<T>(), idx->data(), g, gx.data<T>());
          else kernels::gather_backward_reference<T>(gc.data<T>(), idx->data(), g, gx.data<T>());
        });
      return std::vector<Tensor>{gx};
    });
  }
  return y;
}

}  // namespace pydl::ops
