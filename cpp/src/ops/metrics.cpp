// Streaming metrics' per-batch counts: argument checks, then the kernel of the current backend
// (kernels/metrics.h). Nothing here records a graph node: metrics have no gradient.
#include <cmath>

#include "kernels/metrics.h"
#include "ops/common.h"

namespace pydl::ops {

Tensor confusion_counts(const Tensor& pred_in, const Tensor& label_in, const Tensor& weight_in,
                        const std::vector<double>& thresholds) {
  const char* op = "confusion_counts";
  check_defined(pred_in, op);
  check_defined(label_in, op);
  if (pred_in.dim() != 1 && pred_in.dim() != 2)
    throw ShapeError(msg(op, ": pred must have shape (batch,) or (batch, labels), got ", shape_str(pred_in.shape())));
  if (label_in.shape() != pred_in.shape())
    throw ShapeError(msg(op, ": label has shape ", shape_str(label_in.shape()), " but pred has shape ",
                         shape_str(pred_in.shape()), "; they must match"));
  if (weight_in.defined() && weight_in.shape() != pred_in.shape())
    throw ShapeError(msg(op, ": weight has shape ", shape_str(weight_in.shape()), " but pred has shape ",
                         shape_str(pred_in.shape()), "; expected one weight per prediction"));
  const int64_t K = int64_t(thresholds.size());
  for (int64_t k = 0; k < K; ++k) {
    if (std::isnan(thresholds[k]))
      throw ValueError(msg(op, ": threshold ", k, " is NaN"));
    if (k > 0 && thresholds[k] < thresholds[k - 1])
      throw ValueError(msg(op, ": thresholds must be ascending, got ", thresholds[k - 1], " before ", thresholds[k]));
  }
  const int64_t N = pred_in.shape()[0];
  const int64_t L = pred_in.dim() == 2 ? pred_in.shape()[1] : 1;
  Tensor pred = contiguous(pred_in.detach());
  Tensor label = contiguous(to_dtype(label_in.detach(), pred.dtype()));
  Tensor weight = weight_in.defined() ? contiguous(to_dtype(weight_in.detach(), pred.dtype())) : Tensor();
  Tensor out = Tensor::zeros({4, K, L}, DType::Float64);
  if (K == 0 || L == 0) return out;
  PYDL_DISPATCH(pred.dtype(), {
    const T* w = weight.defined() ? weight.data<T>() : nullptr;
    if (use_fast())
      kernels::confusion_counts_fast<T>(pred.data<T>(), label.data<T>(), w, N, L, thresholds.data(), K,
                                        out.data<double>());
    else
      kernels::confusion_counts_reference<T>(pred.data<T>(), label.data<T>(), w, N, L, thresholds.data(), K,
                                             out.data<double>());
  });
  return out;
}

Tensor top_k_hits(const Tensor& pred_in, const std::vector<int64_t>& ids, int64_t k) {
  const char* op = "top_k_hits";
  check_defined(pred_in, op);
  if (pred_in.dim() != 2)
    throw ShapeError(msg(op, ": pred must have shape (batch, classes), got ", shape_str(pred_in.shape())));
  const int64_t N = pred_in.shape()[0], C = pred_in.shape()[1];
  if (int64_t(ids.size()) != N)
    throw ShapeError(msg(op, ": ", ids.size(), " class ids for pred of shape ", shape_str(pred_in.shape()),
                         "; expected one per row"));
  if (k < 1) throw ValueError(msg(op, ": k must be a positive int, got ", k));
  for (int64_t n = 0; n < N; ++n)
    if (ids[n] < 0 || ids[n] >= C)
      throw ValueError(msg(op, ": class id ", ids[n], " (row ", n, ") is out of range for ", C,
                           " classes (pred has shape ", shape_str(pred_in.shape()), ")"));
  Tensor pred = contiguous(pred_in.detach());
  Tensor hit = Tensor::zeros({N}, pred.dtype());
  if (N == 0) return hit;
  PYDL_DISPATCH(pred.dtype(), {
    if (use_fast()) kernels::top_k_hits_fast<T>(pred.data<T>(), ids.data(), N, C, k, hit.data<T>());
    else kernels::top_k_hits_reference<T>(pred.data<T>(), ids.data(), N, C, k, hit.data<T>());
  });
  return hit;
}

}  // namespace pydl::ops
