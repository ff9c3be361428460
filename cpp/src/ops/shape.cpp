// Shape ops. Most are views: a new TensorImpl over the same storage with other
// shape/strides; their backward reshapes or re-strides the gradient back.
#include <algorithm>

#include "ops/common.h"

namespace pydl::ops {

int64_t normalize_axis(int64_t axis, int64_t ndim, const char* op) {
  int64_t a = axis < 0 ? axis + ndim : axis;
  if (a < 0 || a >= ndim)
    throw IndexError(msg(op, ": axis ", axis, " is out of range for a tensor with ", ndim, " dimension",
                         ndim == 1 ? "" : "s"));
  return a;
}

Shape infer_shape(const Shape& shape, int64_t numel, const char* op) {
  Shape probe = shape;  // negative or absurd sizes fail here, before the product can overflow
  for (int64_t& d : probe)
    if (d == -1) d = 1;
  check_shape(probe, op);
  Shape out = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (infer >= 0) throw ValueError(msg(op, ": only one dimension can be -1, got ", shape_str(shape)));
      infer = static_cast<int64_t>(i);
    } else if (out[i] < 0) {
      throw ValueError(msg(op, ": invalid dimension ", out[i], " in shape ", shape_str(shape)));
    } else {
      known *= out[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel % known != 0)
      throw ShapeError(msg(op, ": cannot reshape ", numel, " elements into shape ", shape_str(shape)));
    out[infer] = numel / known;
  } else if (known != numel) {
    throw ShapeError(msg(op, ": cannot reshape ", numel, " elements into shape ", shape_str(shape)));
  }
  return out;
}

static Tensor make_view(const Tensor& x, Shape shape, Shape strides, int64_t offset) {
  return Tensor::view_of(x.storage(), offset, std::move(shape), std::move(strides), x.dtype());
}

// A view whose backward reshapes the gradient back to the input's shape.
static Tensor reshape_view(const Tensor& x, const Shape& shape, const char* node) {
  Tensor out = make_view(x, shape, contiguous_strides(shape), x.offset());
  if (any_requires_grad({&x}))
    record(node, {x}, out, {}, [xs = x.shape()](const Node&, const Tensor& g) { return std::vector<Tensor>{reshape(g, xs)}; });
  return out;
}

Tensor view(const Tensor& x, const Shape& shape_in) {
  check_defined(x, "view");
  Shape shape = infer_shape(shape_in, x.numel(), "view");
  if (!x.is_contiguous())
    throw RuntimeError(msg("view: a tensor of shape ", shape_str(x.shape()),
                           " that is not contiguous cannot be viewed as ", shape_str(shape),
                           "; use reshape() (which copies) or contiguous() first"));
  return reshape_view(x, shape, "ViewBackward");
}

Tensor reshape(const Tensor& x, const Shape& shape_in) {
  check_defined(x, "reshape");
  Shape shape = infer_shape(shape_in, x.numel(), "reshape");
  if (shape == x.shape()) return x;
  if (x.is_contiguous()) return reshape_view(x, shape, "ReshapeBackward");
  return reshape_view(contiguous(x), shape, "ReshapeBackward");
}

Tensor flatten(const Tensor& x, int64_t start, int64_t end) {
  check_defined(x, "flatten");
  if (x.dim() == 0) return reshape(x, {1});
  int64_t s = normalize_axis(start, x.dim(), "flatten"), e = normalize_axis(end, x.dim(), "flatten");
  if (s > e) throw ValueError(msg("flatten: start axis ", start, " comes after end axis ", end));
  Shape shape;
  for (int64_t d = 0; d < s; ++d) shape.push_back(x.shape()[d]);
  int64_t m = 1;
  for (int64_t d = s; d <= e; ++d) m *= x.shape()[d];
  shape.push_back(m);
  for (int64_t d = e + 1; d < x.dim(); ++d) shape.push_back(x.shape()[d]);
  return reshape(x, shape);
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& axes) {
  check_defined(x, "permute");
  const int64_t nd = x.dim();
  if (static_cast<int64_t>(axes.size()) != nd)
    throw ValueError(msg("permute: got ", axes.size(), " axes for a tensor of shape ", shape_str(x.shape())));
  std::vector<int64_t> perm(nd), inverse(nd, -1);
  Shape shape(nd), strides(nd);
  for (int64_t i = 0; i < nd; ++i) {
    int64_t a = normalize_axis(axes[i], nd, "permute");
    if (inverse[a] >= 0) throw ValueError(msg("permute: axis ", axes[i], " repeated in the permutation"));
    inverse[a] = i;
    perm[i] = a;
    shape[i] = x.shape()[a];
    strides[i] = x.strides()[a];
  }
  Tensor out = make_view(x, shape, strides, x.offset());
  if (any_requires_grad({&x}))
    record("PermuteBackward", {x}, out, {}, [inverse](const Node&, const Tensor& g) {
      return std::vector<Tensor>{permute(g, inverse)};
    });
  return out;
}

Tensor transpose(const Tensor& x, int64_t a0, int64_t a1) {
  check_defined(x, "transpose");
  const int64_t nd = x.dim();
  std::vector<int64_t> perm(nd);
  for (int64_t i = 0; i < nd; ++i) perm[i] = i;
  std::swap(perm[normalize_axis(a0, nd, "transpose")], perm[normalize_axis(a1, nd, "transpose")]);
  return permute(x, perm);
}

Tensor contiguous(const Tensor& x) {
  check_defined(x, "contiguous");
  if (x.is_contiguous()) return x;
  return clone(x);
}

Tensor squeeze(const Tensor& x, const std::vector<int64_t>& axes) {
  check_defined(x, "squeeze");
  std::vector<bool> drop(x.dim(), false);
  if (axes.empty()) {
    for (int64_t d = 0; d < x.dim(); ++d) drop[d] = x.shape()[d] == 1;
  } else {
    for (int64_t a : axes) {
      int64_t d = normalize_axis(a, x.dim(), "squeeze");
      if (x.shape()[d] != 1)
        throw ValueError(msg("squeeze: axis ", a, " has size ", x.shape()[d], " (not 1) in shape ", shape_str(x.shape())));
      drop[d] = true;
    }
  }
  Shape shape;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (!drop[d]) shape.push_back(x.shape()[d]);
  return reshape(x, shape);
}

Tensor unsqueeze(const Tensor& x, int64_t axis) {
  check_defined(x, "unsqueeze");
  int64_t a = normalize_axis(axis, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape();
  shape.insert(shape.begin() + a, 1);
  Shape strides = x.strides();
  strides.insert(strides.begin() + a, a < x.dim() ? x.strides()[a] * x.shape()[a] : 1);
  Tensor out = make_view(x, shape, strides, x.offset());
  if (any_requires_grad({&x}))
    record("UnsqueezeBackward", {x}, out, {}, [xs = x.shape()](const Node&, const Tensor& g) {
      return std::vector<Tensor>{reshape(g, xs)};
    });
  return out;
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  check_defined(x, "broadcast_to");
  check_shape(shape, "broadcast_to");
  Shape b = broadcast_shapes(x.shape(), shape, "broadcast_to");
  if (b != shape)
    throw ShapeError(msg("broadcast_to: cannot broadcast shape ", shape_str(x.shape()), " to ", shape_str(shape)));
  if (shape == x.shape()) return x;
  Tensor out = make_view(x, shape, broadcast_strides(x, shape), x.offset());
  if (any_requires_grad({&x}))
    record("BroadcastBackward", {x}, out, {}, [xs = x.shape()](const Node&, const Tensor& g) {
      return std::vector<Tensor>{sum_to(g, xs)};
    });
  return out;
}

// The backward of a view into x: a zero tensor of x's shape with g written into the view.
static Tensor scatter_into_zeros(const Shape& xs, DType dtype, const Tensor& g,
                                 const std::function<Tensor(const Tensor&)>& same_view) {
  Tensor z = Tensor::zeros(xs, dtype);
  Tensor region = same_view(z);
  copy_(region, g);
  return z;
}

Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t stop, int64_t step) {
  check_defined(x, "slice");
  int64_t a = normalize_axis(axis, x.dim(), "slice");
  if (step <= 0) throw ValueError(msg("slice: step must be positive, got ", step));
  const int64_t n = x.shape()[a];
  auto clampi = [n](int64_t i) { if (i < 0) i += n; return i < 0 ? 0 : (i > n ? n : i); };
  int64_t s = clampi(start), e = clampi(stop);
  int64_t len = e > s ? (e - s + step - 1) / step : 0;
  Shape shape = x.shape(), strides = x.strides();
  shape[a] = len;
  strides[a] = x.strides()[a] * step;
  Tensor out = make_view(x, shape, strides, x.offset() + (len > 0 ? s * x.strides()[a] : 0));
  if (any_requires_grad({&x}))
    record("SliceBackward", {x}, out, {}, [xs = x.shape(), a, s, e, step](const Node&, const Tensor& g) {
      return std::vector<Tensor>{
          scatter_into_zeros(xs, g.dtype(), g, [&](const Tensor& z) { return slice(z, a, s, e, step); })};
    });
  return out;
}

Tensor select(const Tensor& x, int64_t axis, int64_t index) {
  check_defined(x, "select");
  int64_t a = normalize_axis(axis, x.dim(), "index");
  const int64_t n = x.shape()[a];
  int64_t i = index < 0 ? index + n : index;
  if (i < 0 || i >= n)
    throw IndexError(msg("index: index ", index, " is out of range for axis ", a, " with size ", n, " (shape ",
                         shape_str(x.shape()), ")"));
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(shape.begin() + a);
  strides.erase(strides.begin() + a);
  Tensor out = make_view(x, shape, strides, x.offset() + i * x.strides()[a]);
  if (any_requires_grad({&x}))
    record("SelectBackward", {x}, out, {}, [xs = x.shape(), a, i](const Node&, const Tensor& g) {
      return std::vector<Tensor>{
          scatter_into_zeros(xs, g.dtype(), g, [&](const Tensor& z) { return select(z, a, i); })};
    });
  return out;
}

Tensor concatenate(const std::vector<Tensor>& xs, int64_t axis) {
  if (xs.empty()) throw ValueError("concatenate: need at least one tensor");
  for (const Tensor& t : xs) check_defined(t, "concatenate");
  const Tensor& first = xs[0];
  if (first.dim() == 0) throw ValueError("concatenate: zero-dimensional tensors cannot be concatenated");
  int64_t a = normalize_axis(axis, first.dim(), "concatenate");
  Shape shape = first.shape();
  shape[a] = 0;
  for (const Tensor& t : xs) {
    check_same_dtype(first, t, "concatenate");
    bool ok = t.dim() == first.dim();
    for (int64_t d = 0; ok && d < t.dim(); ++d) ok = d == a || t.shape()[d] == first.shape()[d];
    if (!ok)
      throw ShapeError(msg("concatenate: shapes ", shape_str(first.shape()), " and ", shape_str(t.shape()),
                           " differ outside axis ", a));
    shape[a] += t.shape()[a];
  }
  Tensor out = Tensor::empty(shape, first.dtype());
  std::vector<int64_t> sizes;
  int64_t at = 0;
  for (const Tensor& t : xs) {
    Tensor region = slice(out, a, at, at + t.shape()[a]);
    copy_(region, t.detach());
    at += t.shape()[a];
    sizes.push_back(t.shape()[a]);
  }
  if (any_requires_grad(xs))
    record("ConcatenateBackward", xs, out, {}, [a, sizes](const Node&, const Tensor& g) {
      std::vector<Tensor> gs;
      int64_t at = 0;
      for (int64_t s : sizes) { gs.push_back(slice(g, a, at, at + s)); at += s; }
      return gs;
    });
  return out;
}

Tensor stack(const std::vector<Tensor>& xs, int64_t axis) {
  if (xs.empty()) throw ValueError("stack: need at least one tensor");
  int64_t a = normalize_axis(axis, xs[0].dim() + 1, "stack");
  std::vector<Tensor> parts;
  for (const Tensor& t : xs) {
    check_defined(t, "stack");
    check_same_dtype(xs[0], t, "stack");
    if (t.shape() != xs[0].shape())
      throw ShapeError(msg("stack: all tensors need the same shape, got ", shape_str(xs[0].shape()), " and ",
                           shape_str(t.shape())));
    parts.push_back(unsqueeze(t, a));
  }
  return concatenate(parts, a);
}

}  // namespace pydl::ops
