// batch_norm, layer_norm, group_norm: shape checks, the kernels of the current backend, and the
// backward beside the forward. Each forward saves x and the per-channel (or per-row) mean and
// 1 / sqrt(var + eps) it normalised with: exactly what its backward needs.
#include "kernels/norm.h"

#include <cmath>

#include "ops/common.h"

namespace pydl::ops {

namespace {

// weight / bias: undefined, or of `shape`, in x's dtype.
void check_affine(const Tensor& t, const Tensor& x, const Shape& shape, const char* op, const char* name,
                  const char* what) {
  if (!t.defined()) return;
  check_same_dtype(x, t, op);
  if (t.shape() != shape)
    throw ShapeError(msg(op, ": ", name, " must have shape ", shape_str(shape), " (", what, " of the input ",
                         shape_str(x.shape()), "), got ", shape_str(t.shape())));
}

void check_eps(double eps, const char* op) {
  if (!(eps >= 0) || !std::isfinite(eps)) throw ValueError(msg(op, ": eps must be finite and >= 0, got ", eps));
}

Tensor contiguous_or_none(const Tensor& t) { return t.defined() ? contiguous(t.detach()) : Tensor(); }

template <typename T>
const T* ptr(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}
template <typename T>
T* ptr_mut(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace

Tensor batch_norm(const Tensor& x_in, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps, bool unbiased_running_var) {
  const char* op = "batch_norm";
  check_defined(x_in, op);
  check_float(x_in, op);
  if (x_in.dim() < 2)
    throw ShapeError(msg(op, ": the input must be (N, C) or (N, C, *) with channels on axis 1, got ",
                         shape_str(x_in.shape())));
  check_eps(eps, op);
  if (!(momentum >= 0 && momentum <= 1))
    throw ValueError(msg(op, ": momentum must be in [0, 1] (PyTorch's convention: the weight of the new batch), got ",
                         momentum));
  const Shape& xs = x_in.shape();
  const int64_t N = xs[0], C = xs[1];
  int64_t S = 1;
  for (size_t i = 2; i < xs.size(); ++i) S *= xs[i];
  const Shape cshape{C};
  check_affine(weight, x_in, cshape, op, "weight", "one per channel");
  check_affine(bias, x_in, cshape, op, "bias", "one per channel");
  check_affine(running_mean, x_in, cshape, op, "running_mean", "one per channel");
  check_affine(running_var, x_in, cshape, op, "running_var", "one per channel");
  if (running_mean.defined() != running_var.defined())
    throw ValueError(msg(op, ": give both running_mean and running_var, or neither (input ", shape_str(xs), ")"));
  if (!training && !running_mean.defined())
    throw ValueError(msg(op, ": inference (training=False) normalises with running_mean and running_var; "
                             "give them (input ", shape_str(xs), ")"));
  for (const Tensor* t : {&running_mean, &running_var})
    if (t->defined() && t->requires_grad())
      throw ValueError(msg(op, ": running_mean and running_var are statistics, updated outside the graph; "
                               "they must not require grad"));
  const int64_t M = N * S;
  if (training && M == 0) throw ValueError(msg(op, ": training needs at least one value per channel, got input ",
                                               shape_str(xs)));
  if (training && unbiased_running_var && M == 1)
    throw ValueError(msg(op, ": expected more than 1 value per channel when training, got input ", shape_str(xs),
                         " (the unbiased variance of one value is undefined)"));

  kernels::BatchNormGeom g{N, C, S};
  Tensor x = contiguous(x_in.detach());
  Tensor w = contiguous_or_none(weight), b = contiguous_or_none(bias);
  Tensor mean = Tensor::empty(cshape, x.dtype()), invstd = Tensor::empty(cshape, x.dtype());
  Tensor y = Tensor::empty(xs, x.dtype());
  const bool fast = use_fast();
  PYDL_DISPATCH(x.dtype(), {
    T* mp = mean.data<T>();
    T* ip = invstd.data<T>();
    if (training) {
      Tensor var = Tensor::empty(cshape, x.dtype());
      T* vp = var.data<T>();
      if (fast) kernels::batch_norm_stats_fast<T>(g, x.data<T>(), mp, vp);
      else kernels::batch_norm_stats_reference<T>(g, x.data<T>(), mp, vp);
      // invstd = 1 / sqrt(var + eps)
      for (int64_t c = 0; c < C; ++c) ip[c] = T(1.0 / std::sqrt(double(vp[c]) + eps));
      if (running_mean.defined()) {
        // running = (1 - momentum) running + momentum batch, written outside the graph
        Tensor rm = contiguous(running_mean.detach()), rv = contiguous(running_var.detach());
        Tensor nm = Tensor::empty(cshape, x.dtype()), nv = Tensor::empty(cshape, x.dtype());
        const double unbias = unbiased_running_var ? double(M) / double(M - 1) : 1.0;
        for (int64_t c = 0; c < C; ++c) {
          nm.data<T>()[c] = T((1 - momentum) * double(rm.data<T>()[c]) + momentum * double(mp[c]));
          nv.data<T>()[c] = T((1 - momentum) * double(rv.data<T>()[c]) + momentum * double(vp[c]) * unbias);
        }
        NoGradGuard no_grad;
        Tensor dm = running_mean, dv = running_var;
        copy_(dm, nm);
        copy_(dv, nv);
      }
    } else {
      Tensor rm = contiguous(running_mean.detach()), rv = contiguous(running_var.detach());
      for (int64_t c = 0; c < C; ++c) {
        const double v = double(rv.data<T>()[c]);
        if (!(v + eps > 0))
          throw ValueError(msg(op, ": running_var[", c, "] = ", v, " with eps = ", eps,
                               " gives no real 1 / sqrt(var + eps) (input ", shape_str(xs), ")"));
        mp[c] = rm.data<T>()[c];
        ip[c] = T(1.0 / std::sqrt(v + eps));
      }
    }
    if (fast) kernels::batch_norm_apply_fast<T>(g, x.data<T>(), mp, ip, ptr<T>(w), ptr<T>(b), y.data<T>());
    else kernels::batch_norm_apply_reference<T>(g, x.data<T>(), mp, ip, ptr<T>(w), ptr<T>(b), y.data<T>());
  });
  if (any_requires_grad({&x_in, &weight, &bias})) {
    // training: gx = w invstd (gy - (Σ gy + xhat Σ gy xhat) / M); inference: gx = w invstd gy;
    // gw = Σ gy xhat, gb = Σ gy (sums over N and *)
    std::vector<Tensor> saved{x, mean, invstd};
    if (w.defined()) saved.push_back(w);
    const bool has_w = w.defined();
    record("BatchNormBackward", {x_in, weight, bias}, y, saved, [g, training, has_w](const Node& n, const Tensor& grad) {
      Tensor gy = contiguous(grad);
      Tensor xs = n.saved(0), mean = n.saved(1), invstd = n.saved(2);
      Tensor wt = has_w ? n.saved(3) : Tensor();
      const FunctionNode& f = fnode(n);
      Tensor gx = f.needs(0) ? Tensor::empty(xs.shape(), gy.dtype()) : Tensor();
      Tensor gw = f.needs(1) ? Tensor::empty(mean.shape(), gy.dtype()) : Tensor();
      Tensor gb = f.needs(2) ? Tensor::empty(mean.shape(), gy.dtype()) : Tensor();
      PYDL_DISPATCH(gy.dtype(), {
        if (use_fast())
          kernels::batch_norm_backward_fast<T>(g, gy.data<T>(), xs.data<T>(), mean.data<T>(), invstd.data<T>(),
                                               ptr<T>(wt), training, ptr_mut<T>(gx), ptr_mut<T>(gw), ptr_mut<T>(gb));
        else
          kernels::batch_norm_backward_reference<T>(g, gy.data<T>(), xs.data<T>(), mean.data<T>(),
                                                    invstd.data<T>(), ptr<T>(wt), training, ptr_mut<T>(gx),
                                                    ptr_mut<T>(gw), ptr_mut<T>(gb));
      });
      return std::vector<Tensor>{gx, gw, gb};
    });
  }
  return y;
}

namespace {

// The shared forward and backward of layer_norm and group_norm (kernels::GroupNormGeom).
Tensor row_norm(const char* node, const Tensor& x_in, const kernels::GroupNormGeom& g,
                const Tensor& weight, const Tensor& bias, double eps) {
  Tensor x = contiguous(x_in.detach());
  Tensor w = contiguous_or_none(weight), b = contiguous_or_none(bias);
  Tensor mean = Tensor::empty({g.rows()}, x.dtype()), invstd = Tensor::empty({g.rows()}, x.dtype());
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  PYDL_DISPATCH(x.dtype(), {
    if (use_fast())
      kernels::group_norm_forward_fast<T>(g, x.data<T>(), ptr<T>(w), ptr<T>(b), eps, y.data<T>(), mean.data<T>(),
                                          invstd.data<T>());
    else
      kernels::group_norm_forward_reference<T>(g, x.data<T>(), ptr<T>(w), ptr<T>(b), eps, y.data<T>(),
                                               mean.data<T>(), invstd.data<T>());
  });
  if (any_requires_grad({&x_in, &weight, &bias})) {
    // gx = invstd (d - (Σ_row d + xhat Σ_row d xhat) / L) with d = gy w;  gw = Σ gy xhat, gb = Σ gy
    std::vector<Tensor> saved{x, mean, invstd};
    if (w.defined()) saved.push_back(w);
    const bool has_w = w.defined();
    const Shape wshape = weight.defined() ? weight.shape() : bias.defined() ? bias.shape() : Shape{};
    record(node, {x_in, weight, bias}, y, saved, [g, has_w, wshape](const Node& n, const Tensor& grad) {
      Tensor gy = contiguous(grad);
      Tensor xs = n.saved(0), mean = n.saved(1), invstd = n.saved(2);
      Tensor wt = has_w ? n.saved(3) : Tensor();
      const FunctionNode& f = fnode(n);
      Tensor gx = f.needs(0) ? Tensor::empty(xs.shape(), gy.dtype()) : Tensor();
      Tensor gw = f.needs(1) ? Tensor::empty(wshape, gy.dtype()) : Tensor();
      Tensor gb = f.needs(2) ? Tensor::empty(wshape, gy.dtype()) : Tensor();
      PYDL_DISPATCH(gy.dtype(), {
        if (use_fast())
          kernels::group_norm_backward_fast<T>(g, gy.data<T>(), xs.data<T>(), mean.data<T>(), invstd.data<T>(),
                                               ptr<T>(wt), ptr_mut<T>(gx), ptr_mut<T>(gw), ptr_mut<T>(gb));
        else
          kernels::group_norm_backward_reference<T>(g, gy.data<T>(), xs.data<T>(), mean.data<T>(), invstd.data<T>(),
                                                    ptr<T>(wt), ptr_mut<T>(gx), ptr_mut<T>(gw), ptr_mut<T>(gb));
      });
      return std::vector<Tensor>{gx, gw, gb};
    });
  }
  return y;
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  const char* op = "layer_norm";
  check_defined(x, op);
  check_float(x, op);
  check_eps(eps, op);
  const Shape& xs = x.shape();
  const size_t k = normalized_shape.size();
  bool matches = k >= 1 && k <= xs.size();
  for (size_t i = 0; matches && i < k; ++i) matches = xs[xs.size() - k + i] == normalized_shape[i];
  if (!matches)
    throw ShapeError(msg(op, ": normalized_shape ", shape_str(normalized_shape),
                         " must be non-empty and equal the trailing dims of the input ", shape_str(xs)));
  check_affine(weight, x, normalized_shape, op, "weight", "normalized_shape, the trailing dims");
  check_affine(bias, x, normalized_shape, op, "bias", "normalized_shape, the trailing dims");
  int64_t D = 1, R = 1;
  for (size_t i = 0; i < xs.size(); ++i) (i < xs.size() - k ? R : D) *= xs[i];
  return row_norm("LayerNormBackward", x, kernels::GroupNormGeom{R, 1, D, 1}, weight, bias, eps);
}

Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight, const Tensor& bias, double eps) {
  const char* op = "group_norm";
  check_defined(x, op);
  check_float(x, op);
  check_eps(eps, op);
  const Shape& xs = x.shape();
  if (x.dim() < 2)
    throw ShapeError(msg(op, ": the input must be (N, C, *) with channels on axis 1, got ", shape_str(xs)));
  const int64_t N = xs[0], C = xs[1];
  if (num_groups < 1) throw ValueError(msg(op, ": num_groups must be positive, got ", num_groups));
  if (C % num_groups != 0)
    throw ShapeError(msg(op, ": num_groups=", num_groups, " must divide the channels (", C, ", input ", shape_str(xs),
                         ")"));
  check_affine(weight, x, Shape{C}, op, "weight", "one per channel");
  check_affine(bias, x, Shape{C}, op, "bias", "one per channel");
  int64_t S = 1;
  for (size_t i = 2; i < xs.size(); ++i) S *= xs[i];
  return row_norm("GroupNormBackward", x, kernels::GroupNormGeom{N, num_groups, C / num_groups, S}, weight, bias,
                  eps);
}

}  // namespace pydl::ops
