// Reductions. Each is brought to the kernel's (outer, r, inner) form: when the reduced axes
// are adjacent that is only a reshape of a contiguous input; otherwise they are first
// permuted to the end.
#include <algorithm>

#include "ops/common.h"

namespace pydl::ops {

namespace {

struct Plan {
  Axes axes;        // sorted, unique, non-negative
  Shape out_shape;  // without keepdims
  Shape keep_shape; // with size-1 axes kept
  int64_t count;    // elements reduced into each output
};

Plan plan(const Tensor& x, const Axes& axes_in, const char* op) {
  const int64_t nd = x.dim();
  Plan p;
  std::vector<bool> reduced(nd, axes_in.empty());
  for (int64_t a : axes_in) {
    int64_t n = normalize_axis(a, nd, op);
    if (reduced[n]) throw ValueError(msg(op, ": axis ", a, " appears twice for shape ", shape_str(x.shape())));
    reduced[n] = true;
  }
  p.count = 1;
  for (int64_t d = 0; d < nd; ++d) {
    if (reduced[d]) {
      p.axes.push_back(d);
      p.count *= x.shape()[d];
      p.keep_shape.push_back(1);
    } else {
      p.out_shape.push_back(x.shape()[d]);
      p.keep_shape.push_back(x.shape()[d]);
    }
  }
  return p;
}

// Run the reduce kernel: returns a tensor of p.keep_shape.
Tensor reduce_raw(kernels::Reduce k, const Tensor& x, const Plan& p, const char* op) {
  if (p.count == 0 && k != kernels::Reduce::Sum)
    throw ValueError(msg(op, ": cannot reduce over a zero-size axis of shape ", shape_str(x.shape())));
  Tensor out = Tensor::empty(p.keep_shape, x.dtype());
  if (out.numel() == 0) return out;
  if (p.count == 0) { fill_(out, 0); return out; }
  const int64_t nd = x.dim();
  const bool adjacent = p.axes.empty() || p.axes.back() - p.axes.front() + 1 == static_cast<int64_t>(p.axes.size());
  Tensor src;
  int64_t outer = 1, inner = 1;
  if (adjacent) {
    src = contiguous(x.detach());
    for (int64_t d = 0; d < (p.axes.empty() ? 0 : p.axes.front()); ++d) outer *= x.shape()[d];
    for (int64_t d = p.axes.empty() ? nd : p.axes.back() + 1; d < nd; ++d) inner *= x.shape()[d];
  } else {
    std::vector<int64_t> perm;
    for (int64_t d = 0; d < nd; ++d)
      if (!std::binary_search(p.axes.begin(), p.axes.end(), d)) perm.push_back(d);
    for (int64_t d : p.axes) perm.push_back(d);
    src = contiguous(permute(x.detach(), perm));
    outer = out.numel();
  }
  PYDL_DISPATCH(x.dtype(), {
    if (use_fast()) kernels::reduce_fast<T>(k, src.data<T>(), outer, p.count, inner, out.data<T>());
    else kernels::reduce_reference<T>(k, src.data<T>(), outer, p.count, inner, out.data<T>());
  });
  return out;
}

// The result without the kept size-1 axes (a plain view: the op's node is recorded on it).
Tensor finish(const Tensor& keep, const Plan& p, bool keepdims) {
  if (keepdims) return keep;
  return Tensor::view_of(keep.storage(), keep.offset(), p.out_shape, contiguous_strides(p.out_shape), keep.dtype());
}

}  // namespace

Tensor sum(const Tensor& x, const Axes& axes, bool keepdims) {
  check_defined(x, "sum");
  check_float(x, "sum");
  Plan p = plan(x, axes, "sum");
  Tensor out = finish(reduce_raw(kernels::Reduce::Sum, x, p, "sum"), p, keepdims);
  if (any_requires_grad({&x})) {
    // d(sum x)/dx_i = 1: the gradient is broadcast back over the reduced axes
    record("SumBackward", {x}, out, {}, [xs = x.shape(), ks = p.keep_shape](const Node&, const Tensor& g) {
      return std::vector<Tensor>{broadcast_to(reshape(g, ks), xs)};
    });
  }
  return out;
}

Tensor mean(const Tensor& x, const Axes& axes, bool keepdims) {
  check_defined(x, "mean");
  check_float(x, "mean");
  Plan p = plan(x, axes, "mean");
  if (p.count == 0) throw ValueError(msg("mean: cannot average over a zero-size axis of shape ", shape_str(x.shape())));
  return div(sum(x, axes, keepdims), scalar_like(static_cast<double>(p.count), x));
}

static Tensor extreme(const Tensor& x, const Axes& axes, bool keepdims, bool is_max) {
  const char* op = is_max ? "max" : "min";
  check_defined(x, op);
  check_float(x, op);
  Plan p = plan(x, axes, op);
  Tensor keep = reduce_raw(is_max ? kernels::Reduce::Max : kernels::Reduce::Min, x, p, op);
  Tensor out = finish(keep, p, keepdims);
  if (any_requires_grad({&x})) {
    // The gradient flows to the positions holding the extreme value, split evenly on ties. A NaN
    // extreme (the reduction propagates NaN) is held by the NaN positions: NaN == NaN is false,
    // so they are matched by isnan on both sides (else no position would match: 0 / 0).
    record(is_max ? "MaxBackward" : "MinBackward", {x}, out, {x, keep}, [p](const Node& n, const Tensor& g) {
      Tensor x = n.saved(0), y = n.saved(1);
      Tensor hit = maximum(eq(x, y), mul(ne(x, x), ne(y, y)));
      Tensor count = sum(hit, p.axes, true);
      return std::vector<Tensor>{mul(hit, div(reshape(g, p.keep_shape), count))};
    });
  }
  return out;
}
Tensor max(const Tensor& x, const Axes& axes, bool keepdims) { return extreme(x, axes, keepdims, true); }
Tensor min(const Tensor& x, const Axes& axes, bool keepdims) { return extreme(x, axes, keepdims, false); }

Tensor var(const Tensor& x, const Axes& axes, bool keepdims, int64_t ddof) {
  check_defined(x, "var");
  check_float(x, "var");
  Plan p = plan(x, axes, "var");
  if (p.count - ddof <= 0)
    throw ValueError(msg("var: ", p.count, " values with ddof=", ddof, " leave no degrees of freedom (shape ",
                         shape_str(x.shape()), ")"));
  // var = (sum(c^2) - (sum c)^2 / N) / (N - ddof), c = x - mean: the corrected two-pass form.
  // Mathematically sum c = 0; in float32 the mean is rounded (by up to half an ulp of a large
  // mean, e.g. 5e-4 at 1e4), and sum(c)^2 / N removes exactly the bias that rounding adds to
  // sum(c^2). Built from differentiable ops, so autograd derives d var/dx = 2 (x - mean) / (N - ddof).
  Tensor centred = sub(x, mean(x, axes, true));
  Tensor s1 = sum(centred, axes, keepdims);
  Tensor s2 = sum(square(centred), axes, keepdims);
  Tensor ss = sub(s2, div(square(s1), scalar_like(static_cast<double>(p.count), x)));
  return div(ss, scalar_like(static_cast<double>(p.count - ddof), x));
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  const int64_t lead = g.dim() - static_cast<int64_t>(shape.size());
  if (lead < 0) throw ShapeError(msg("sum_to: cannot sum shape ", shape_str(g.shape()), " to ", shape_str(shape)));
  Axes axes;
  for (int64_t d = 0; d < g.dim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && g.shape()[d] != 1)) axes.push_back(d);
  Tensor s = axes.empty() ? g : sum(g, axes, true);
  return reshape(s, shape);
}

// ---------------------------------------------------------------- argmax, argmin
// out[o, i] = the first j with x[o, j, i] the extreme over j (x seen as (outer, n, inner)).
template <typename T>
static void arg_extreme_loop(const T* x, int64_t outer, int64_t n, int64_t inner, bool is_max, int64_t* out) {
#pragma omp parallel for if (outer * inner * n > 32768) schedule(static)
  for (int64_t oi = 0; oi < outer * inner; ++oi) {
    const int64_t o = oi / inner, i = oi % inner;
    const T* p = x + o * n * inner + i;
    int64_t best = 0;
    T bv = p[0];
    for (int64_t j = 1; j < n && bv == bv; ++j) {  // stop at a NaN: it is the answer
      const T v = p[j * inner];
      if (v != v || (is_max ? v > bv : v < bv)) { best = j; bv = v; }
    }
    out[oi] = best;
  }
}

static Tensor arg_extreme(const Tensor& x_in, std::optional<int64_t> axis, bool keepdims, bool is_max) {
  const char* op = is_max ? "argmax" : "argmin";
  check_defined(x_in, op);
  Tensor x = contiguous(x_in.detach());
  const int64_t nd = x.dim();
  int64_t outer = 1, n = x.numel(), inner = 1;
  Shape out_shape;
  if (axis) {
    const int64_t a = normalize_axis(*axis, nd == 0 ? 1 : nd, op);  // a scalar has axis 0 and -1, as NumPy
    if (nd > 0) {
      n = x.shape()[a];
      for (int64_t d = 0; d < a; ++d) outer *= x.shape()[d];
      for (int64_t d = a + 1; d < nd; ++d) inner *= x.shape()[d];
      for (int64_t d = 0; d < nd; ++d)
        if (d != a) out_shape.push_back(x.shape()[d]);
        else if (keepdims) out_shape.push_back(1);
    }
  } else if (keepdims) {
    out_shape.assign(nd, 1);
  }
  if (n == 0)
    throw ValueError(msg(op, ": the axis reduced is empty (shape ", shape_str(x.shape()), "); there is no ", op));
  Tensor out = Tensor::empty(out_shape, DType::Int64);
  if (out.numel() == 0) return out;
  switch (x.dtype()) {
    case DType::Float32: arg_extreme_loop(x.data<float>(), outer, n, inner, is_max, out.data<int64_t>()); break;
    case DType::Float64: arg_extreme_loop(x.data<double>(), outer, n, inner, is_max, out.data<int64_t>()); break;
    case DType::Int64: arg_extreme_loop(x.data<int64_t>(), outer, n, inner, is_max, out.data<int64_t>()); break;
  }
  return out;
}

Tensor argmax(const Tensor& x, std::optional<int64_t> axis, bool keepdims) { return arg_extreme(x, axis, keepdims, true); }
Tensor argmin(const Tensor& x, std::optional<int64_t> axis, bool keepdims) { return arg_extreme(x, axis, keepdims, false); }

}  // namespace pydl::ops
