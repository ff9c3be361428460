// Elementwise ops: forward and backward side by side. Broadcasting follows NumPy; the
// backward of a broadcast input sums the gradient back down to that input's shape (sum_to).
#include <cmath>

#include "ops/common.h"

namespace pydl::ops {

using kernels::Binary;
using kernels::Params;
using kernels::Unary;

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      throw ShapeError(msg(op, ": shapes ", shape_str(a), " and ", shape_str(b), " cannot be broadcast together (axis ",
                           static_cast<int64_t>(i) - static_cast<int64_t>(n), ": ", da, " vs ", db, ")"));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor scalar_like(double v, const Tensor& like) { return Tensor::scalar(v, like.dtype()); }

// ---------------------------------------------------------------- raw kernel calls
static void run_binary(Binary k, Params p, const Tensor& a, const Tensor& b, Tensor& out) {
  const Shape& shape = out.shape();
  Shape sa = broadcast_strides(a, shape), sb = broadcast_strides(b, shape);
  PYDL_DISPATCH(out.dtype(), {
    if (use_fast())
      kernels::binary_fast<T>(k, p, shape, a.data<T>(), sa, b.data<T>(), sb, out.data<T>(), out.strides());
    else
      kernels::binary_reference<T>(k, p, shape, a.data<T>(), sa, b.data<T>(), sb, out.data<T>(), out.strides());
  });
}

static Tensor binary_raw(Binary k, Params p, const Tensor& a, const Tensor& b, const char* op) {
  check_defined(a, op);
  check_defined(b, op);
  // name the larger operand when both are int64 (2 * t makes the 2 an int64 scalar)
  check_float(!is_floating(b.dtype()) && b.numel() > a.numel() ? b : a, op);
  check_float(b, op);
  check_same_dtype(a, b, op);
  Tensor out = Tensor::empty(broadcast_shapes(a.shape(), b.shape(), op), a.dtype());
  run_binary(k, p, a, b, out);
  return out;
}

static Tensor unary_raw(Unary k, Params p, const Tensor& x, const char* op) {
  check_defined(x, op);
  check_float(x, op);
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  PYDL_DISPATCH(x.dtype(), {
    if (use_fast())
      kernels::unary_fast<T>(k, p, x.shape(), x.data<T>(), x.strides(), out.data<T>(), out.strides());
    else
      kernels::unary_reference<T>(k, p, x.shape(), x.data<T>(), x.strides(), out.data<T>(), out.strides());
  });
  return out;
}

// Backward helpers (same-shape binary kernels, no graph).
static Tensor grad_kernel(Binary k, const Tensor& g, const Tensor& xy, Params p) {
  return binary_raw(k, p, g, xy, "backward");
}

// ---------------------------------------------------------------- binary ops
Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(Binary::Add, {}, a, b, "add");
  if (any_requires_grad({&a, &b})) {
    // d(a+b)/da = 1, d(a+b)/db = 1
    record("AddBackward", {a, b}, out, {}, [sa = a.shape(), sb = b.shape()](const Node& n, const Tensor& g) {
      return std::vector<Tensor>{fnode(n).needs(0) ? sum_to(g, sa) : Tensor(),
                                 fnode(n).needs(1) ? sum_to(g, sb) : Tensor()};
    });
  }
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(Binary::Sub, {}, a, b, "sub");
  if (any_requires_grad({&a, &b})) {
    // d(a-b)/da = 1, d(a-b)/db = -1
    record("SubBackward", {a, b}, out, {}, [sa = a.shape(), sb = b.shape()](const Node& n, const Tensor& g) {
      return std::vector<Tensor>{fnode(n).needs(0) ? sum_to(g, sa) : Tensor(),
                                 fnode(n).needs(1) ? sum_to(neg(g), sb) : Tensor()};
    });
  }
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(Binary::Mul, {}, a, b, "mul");
  if (any_requires_grad({&a, &b})) {
    // d(ab)/da = b, d(ab)/db = a
    record("MulBackward", {a, b}, out, {a, b}, [](const Node& n, const Tensor& g) {
      Tensor a = n.saved(0), b = n.saved(1);
      return std::vector<Tensor>{fnode(n).needs(0) ? sum_to(mul(g, b), a.shape()) : Tensor(),
                                 fnode(n).needs(1) ? sum_to(mul(g, a), b.shape()) : Tensor()};
    });
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(Binary::Div, {}, a, b, "div");
  if (any_requires_grad({&a, &b})) {
    // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -(a/b)/b
    record("DivBackward", {a, b}, out, {a, b, out}, [](const Node& n, const Tensor& g) {
      Tensor a = n.saved(0), b = n.saved(1), y = n.saved(2);
      return std::vector<Tensor>{fnode(n).needs(0) ? sum_to(div(g, b), a.shape()) : Tensor(),
                                 fnode(n).needs(1) ? sum_to(neg(div(mul(g, y), b)), b.shape()) : Tensor()};
    });
  }
  return out;
}

Tensor pow(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(Binary::Pow, {}, a, b, "pow");
  if (any_requires_grad({&a, &b})) {
    // d(a^b)/da = b a^(b-1), d(a^b)/db = a^b ln a
    record("PowBackward", {a, b}, out, {a, b, out}, [](const Node& n, const Tensor& g) {
      Tensor a = n.saved(0), b = n.saved(1), y = n.saved(2);
      Tensor ga, gb;
      if (fnode(n).needs(0)) ga = sum_to(mul(g, mul(b, pow(a, sub(b, scalar_like(1, b))))), a.shape());
      if (fnode(n).needs(1)) gb = sum_to(mul(g, mul(y, log(a))), b.shape());
      return std::vector<Tensor>{ga, gb};
    });
  }
  return out;
}

// max/min: the gradient goes to the larger (smaller) input; ties split it evenly. A NaN input
// (the output is NaN then) gets a NaN gradient and the other input none, so the NaN reaches
// the weights' gradients instead of vanishing.
static Tensor extremum(const Tensor& a, const Tensor& b, bool is_max) {
  Tensor out = binary_raw(is_max ? Binary::Maximum : Binary::Minimum, {}, a, b, is_max ? "maximum" : "minimum");
  if (any_requires_grad({&a, &b})) {
    record(is_max ? "MaximumBackward" : "MinimumBackward", {a, b}, out, {a, b}, [is_max](const Node& n, const Tensor& g) {
      Tensor a = n.saved(0), b = n.saved(1);
      Tensor wins_a = is_max ? gt(a, b) : lt(a, b);
      Tensor share = add(wins_a, mul(eq(a, b), scalar_like(0.5, a)));  // 1, 0.5 on ties, 0
      Tensor nan_a = ne(a, a), nan_b = ne(b, b), zero = scalar_like(0, a);
      // share_a: NaN where a is NaN; share_b: NaN where b is NaN, 0 where only a is
      Tensor share_a = where(nan_a, a, share);
      Tensor share_b = where(nan_b, b, where(nan_a, zero, sub(scalar_like(1, a), share)));
      Tensor ga = fnode(n).needs(0) ? sum_to(mul(g, share_a), a.shape()) : Tensor();
      Tensor gb = fnode(n).needs(1) ? sum_to(mul(g, share_b), b.shape()) : Tensor();
      return std::vector<Tensor>{ga, gb};
    });
  }
  return out;
}
Tensor maximum(const Tensor& a, const Tensor& b) { return extremum(a, b, true); }
Tensor minimum(const Tensor& a, const Tensor& b) { return extremum(a, b, false); }

Tensor eq(const Tensor& a, const Tensor& b) { return binary_raw(Binary::Eq, {}, a, b, "eq"); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary_raw(Binary::Ne, {}, a, b, "ne"); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary_raw(Binary::Lt, {}, a, b, "lt"); }
Tensor le(const Tensor& a, const Tensor& b) { return binary_raw(Binary::Le, {}, a, b, "le"); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary_raw(Binary::Gt, {}, a, b, "gt"); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary_raw(Binary::Ge, {}, a, b, "ge"); }

// ---------------------------------------------------------------- unary ops
// A unary op whose derivative is one fused kernel of (g, saved), with saved = x or y.
static Tensor unary_with_grad(Unary fwd, Params p, const Tensor& x, const char* op, const char* node, Binary grad,
                              bool save_output) {
  Tensor out = unary_raw(fwd, p, x, op);
  if (any_requires_grad({&x})) {
    record(node, {x}, out, {save_output ? out : x}, [grad, p](const Node& n, const Tensor& g) {
      return std::vector<Tensor>{grad_kernel(grad, g, n.saved(0), p)};
    });
  }
  return out;
}

Tensor neg(const Tensor& x) {
  Tensor out = unary_raw(Unary::Neg, {}, x, "neg");
  if (any_requires_grad({&x}))
    record("NegBackward", {x}, out, {}, [](const Node&, const Tensor& g) { return std::vector<Tensor>{neg(g)}; });
  return out;
}

Tensor exp(const Tensor& x) {
  Tensor out = unary_raw(Unary::Exp, {}, x, "exp");
  if (any_requires_grad({&x}))  // (e^x)' = e^x = y
    record("ExpBackward", {x}, out, {out}, [](const Node& n, const Tensor& g) { return std::vector<Tensor>{mul(g, n.saved(0))}; });
  return out;
}

Tensor log(const Tensor& x) {
  Tensor out = unary_raw(Unary::Log, {}, x, "log");
  if (any_requires_grad({&x}))  // (ln x)' = 1/x
    record("LogBackward", {x}, out, {x}, [](const Node& n, const Tensor& g) { return std::vector<Tensor>{div(g, n.saved(0))}; });
  return out;
}

Tensor sqrt(const Tensor& x) { return unary_with_grad(Unary::Sqrt, {}, x, "sqrt", "SqrtBackward", Binary::SqrtGrad, true); }
Tensor abs(const Tensor& x) { return unary_with_grad(Unary::Abs, {}, x, "abs", "AbsBackward", Binary::AbsGrad, false); }
Tensor square(const Tensor& x) {
  // (x^2)' = 2x: the PowScalarGrad kernel with k = 2 (Square ignores the parameter)
  return unary_with_grad(Unary::Square, {2, 0}, x, "square", "SquareBackward", Binary::PowScalarGrad, false);
}
Tensor pow_scalar(const Tensor& x, double k) {
  // x ** 2 (squared errors written by hand) through the Square kernel: x * x, the correctly
  // rounded square, in a loop that vectorises (std::pow keeps it scalar)
  if (k == 2) return unary_with_grad(Unary::Square, {2, 0}, x, "pow", "PowBackward", Binary::PowScalarGrad, false);
  return unary_with_grad(Unary::PowScalar, {k, 0}, x, "pow", "PowBackward", Binary::PowScalarGrad, false);
}
Tensor clip(const Tensor& x, double lo, double hi) {
  if (lo > hi) throw ValueError(msg("clip: min (", lo, ") is greater than max (", hi, ")"));
  return unary_with_grad(Unary::Clip, {lo, hi}, x, "clip", "ClipBackward", Binary::ClipGrad, false);
}

Tensor relu(const Tensor& x) { return unary_with_grad(Unary::Relu, {}, x, "relu", "ReluBackward", Binary::ReluGrad, true); }
Tensor leaky_relu(const Tensor& x, double slope) {
  return unary_with_grad(Unary::LeakyRelu, {slope, 0}, x, "leaky_relu", "LeakyReluBackward", Binary::LeakyReluGrad, false);
}
Tensor elu(const Tensor& x, double alpha) {
  return unary_with_grad(Unary::Elu, {alpha, 0}, x, "elu", "EluBackward", Binary::EluGrad, false);
}
Tensor sigmoid(const Tensor& x) {
  return unary_with_grad(Unary::Sigmoid, {}, x, "sigmoid", "SigmoidBackward", Binary::SigmoidGrad, true);
}
Tensor tanh(const Tensor& x) { return unary_with_grad(Unary::Tanh, {}, x, "tanh", "TanhBackward", Binary::TanhGrad, true); }

// ---------------------------------------------------------------- where
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_defined(cond, "where");
  check_float(cond, "where");
  check_float(a, "where");
  check_float(b, "where");
  check_same_dtype(a, b, "where");
  Tensor c = cond.dtype() == a.dtype() ? cond : to_dtype(cond.detach(), a.dtype());
  Shape shape = broadcast_shapes(broadcast_shapes(c.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = Tensor::empty(shape, a.dtype());
  Shape sc = broadcast_strides(c, shape), sa = broadcast_strides(a, shape), sb = broadcast_strides(b, shape);
  PYDL_DISPATCH(out.dtype(), {
    if (use_fast())
      kernels::where_fast<T>(shape, c.data<T>(), sc, a.data<T>(), sa, b.data<T>(), sb, out.data<T>(), out.strides());
    else
      kernels::where_reference<T>(shape, c.data<T>(), sc, a.data<T>(), sa, b.data<T>(), sb, out.data<T>(), out.strides());
  });
  if (any_requires_grad({&a, &b})) {
    record("WhereBackward", {a, b}, out, {c}, [sa = a.shape(), sb = b.shape()](const Node& n, const Tensor& g) {
      Tensor c = n.saved(0), zero = scalar_like(0, g);
      return std::vector<Tensor>{fnode(n).needs(0) ? sum_to(where(c, g, zero), sa) : Tensor(),
                                 fnode(n).needs(1) ? sum_to(where(c, zero, g), sb) : Tensor()};
    });
  }
  return out;
}

// ---------------------------------------------------------------- copies and casts
static void copy_into(const Tensor& src, const Tensor& dst) {
  // dst has the target shape; src broadcasts to it.
  Shape ss = broadcast_strides(src, dst.shape());
  const Shape& shape = dst.shape();
  const bool fast = use_fast();
  auto go = [&](auto* s, auto* d) {
    using Ti = std::remove_const_t<std::remove_pointer_t<decltype(s)>>;
    using To = std::remove_pointer_t<decltype(d)>;
    if (fast) kernels::copy_fast<Ti, To>(shape, s, ss, d, dst.strides());
    else kernels::copy_reference<Ti, To>(shape, s, ss, d, dst.strides());
  };
  // two nested dtype switches: 3 x 3 instantiations of the copy kernel
  auto with_dst = [&](auto* s) {
    switch (dst.dtype()) {
      case DType::Float32: go(s, dst.data<float>()); break;
      case DType::Float64: go(s, dst.data<double>()); break;
      case DType::Int64: go(s, dst.data<int64_t>()); break;
    }
  };
  switch (src.dtype()) {
    case DType::Float32: with_dst(src.data<float>()); break;
    case DType::Float64: with_dst(src.data<double>()); break;
    case DType::Int64: with_dst(src.data<int64_t>()); break;
  }
}

// A float -> int64 conversion truncates toward zero (as PyTorch's .to(torch.long)); a value no
// int64 can hold (NaN, inf, beyond +-2^63) has no answer, so it is refused rather than left to
// the undefined behaviour of the C++ cast.
template <typename T>
static void check_fits_int64(const Tensor& x, const char* op) {
  Tensor c = contiguous(x.detach());
  const T* p = c.data<T>();
  for (int64_t i = 0; i < c.numel(); ++i)
    if (!(std::abs(static_cast<double>(p[i])) < 9.2233720368547758e18))
      throw ValueError(msg(op, ": cannot convert ", static_cast<double>(p[i]), " (element ", i, " of a ",
                           dtype_name(x.dtype()), " tensor of shape ", shape_str(x.shape()), ") to int64"));
}

Tensor clone(const Tensor& x) {
  check_defined(x, "clone");
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  copy_into(x, out);
  if (any_requires_grad({&x}))
    record("CloneBackward", {x}, out, {}, [](const Node&, const Tensor& g) { return std::vector<Tensor>{g}; });
  return out;
}

Tensor to_dtype(const Tensor& x, DType dtype) {
  check_defined(x, "to");
  if (x.dtype() == dtype) return x;
  if (dtype == DType::Int64) {
    if (x.dtype() == DType::Float32) check_fits_int64<float>(x, "to");
    else check_fits_int64<double>(x, "to");
  }
  Tensor out = Tensor::empty(x.shape(), dtype);
  copy_into(x, out);
  // an int64 result has no gradient (as PyTorch: the cast cuts the graph)
  if (is_floating(dtype) && is_floating(x.dtype()) && any_requires_grad({&x})) {
    record("ToBackward", {x}, out, {}, [from = x.dtype()](const Node&, const Tensor& g) {
      return std::vector<Tensor>{to_dtype(g, from)};
    });
  }
  return out;
}

// ---------------------------------------------------------------- in place
static bool overlaps(const Tensor& a, const Tensor& b) { return a.storage() == b.storage(); }

static void check_inplace(const Tensor& dst, const char* op) {
  check_defined(dst, op);
  if (grad_enabled() && dst.requires_grad())
    throw RuntimeError(msg(op, ": a tensor that requires grad (shape ", shape_str(dst.shape()),
                           ") cannot be changed in place while gradients are recorded; "
                           "wrap the update in pydl.no_grad()"));
  // A broadcast view (stride 0 along an axis longer than 1) has many elements in one memory
  // location: an in-place update would apply several times, in parallel, racing.
  for (int64_t d = 0; d < dst.dim(); ++d)
    if (dst.strides()[d] == 0 && dst.shape()[d] > 1)
      throw RuntimeError(msg(op, ": cannot write in place into a broadcast view of shape ", shape_str(dst.shape()),
                             " (several elements share one memory location); use clone() first"));
}

// In-place ops record no graph: a source that requires grad would silently lose its gradient.
static void check_inplace_source(const Tensor& src, const Tensor& dst, const char* op) {
  check_defined(src, op);
  if (grad_enabled() && src.requires_grad())
    throw RuntimeError(msg(op, ": the value written (shape ", shape_str(src.shape()), ") requires grad, but an in-place "
                           "update of a tensor (shape ", shape_str(dst.shape()), ") records no graph, so its gradient "
                           "would be lost; build the result out of place (e.g. pydl.where, pydl.concatenate, "
                           "pydl.stack) or detach() the value"));
}

static void inplace(Binary k, Tensor& dst, const Tensor& src_in, const char* op) {
  check_inplace(dst, op);
  check_float(dst, op);
  check_inplace_source(src_in, dst, op);
  Tensor src = src_in.dtype() == dst.dtype() ? src_in : to_dtype(src_in.detach(), dst.dtype());
  Shape b = broadcast_shapes(dst.shape(), src.shape(), op);
  if (b != dst.shape())
    throw ShapeError(msg(op, ": cannot update a tensor of shape ", shape_str(dst.shape()), " in place with shape ",
                         shape_str(src.shape()), " (the result would have shape ", shape_str(b), ")"));
  if (overlaps(dst, src) && !(src.offset() == dst.offset() && src.strides() == dst.strides())) src = clone(src.detach());
  run_binary(k, {}, dst, src, dst);
  dst.storage()->version++;
}

void add_(Tensor& dst, const Tensor& src) { inplace(Binary::Add, dst, src, "add_"); }
void sub_(Tensor& dst, const Tensor& src) { inplace(Binary::Sub, dst, src, "sub_"); }
void mul_(Tensor& dst, const Tensor& src) { inplace(Binary::Mul, dst, src, "mul_"); }
void div_(Tensor& dst, const Tensor& src) { inplace(Binary::Div, dst, src, "div_"); }

void copy_(Tensor& dst, const Tensor& src_in) {
  check_inplace(dst, "copy_");
  check_inplace_source(src_in, dst, "copy_ (or t[key] = value)");
  Shape b = broadcast_shapes(dst.shape(), src_in.shape(), "copy_");
  if (b != dst.shape())
    throw ShapeError(msg("copy_: cannot copy shape ", shape_str(src_in.shape()), " into shape ", shape_str(dst.shape())));
  Tensor src = overlaps(dst, src_in) ? clone(src_in.detach()) : src_in;
  copy_into(src, dst);
  dst.storage()->version++;
}

void fill_(Tensor& dst, double value) {
  check_inplace(dst, "fill_");
  copy_into(Tensor::scalar(value, dst.dtype()), dst);
  dst.storage()->version++;
}

}  // namespace pydl::ops
