// Losses: forward and backward side by side. Each loss is one node: the forward kernel writes
// one value per row (and what backward needs), the reduction weights and sums the rows, and
// backward hands the kernel coef[r] = d(loss)/d(row value) to write every gradient in one pass.
#include <cmath>
#include <memory>

#include "kernels/loss.h"
#include "ops/common.h"

namespace pydl::ops {

using kernels::PointLoss;

Reduction parse_reduction(const std::string& name) {
  if (name == "sum_over_batch_size" || name == "mean" || name == "auto") return Reduction::SumOverBatchSize;
  if (name == "sum") return Reduction::Sum;
  if (name == "none") return Reduction::None;
  throw ValueError(msg("loss: unknown reduction '", name, "'; valid values: 'sum_over_batch_size', 'sum', 'none'"));
}

namespace {

// pred seen as B samples x M positions = R rows of D values (D: the last axis; 1 for 1-D pred).
struct Rows {
  int64_t B = 0, M = 1, D = 1;
  int64_t R() const { return B * M; }
};

Rows rows_of(const Tensor& pred) {
  Rows r;
  const Shape& s = pred.shape();
  r.B = s[0];
  if (s.size() >= 2) {
    r.D = s.back();
    for (size_t i = 1; i + 1 < s.size(); ++i) r.M *= s[i];
  }
  return r;
}

// The shape of the unreduced loss: pred.shape[:-1], or (batch,) for 1-D pred.
Shape none_shape(const Tensor& pred) {
  if (pred.dim() == 1) return pred.shape();
  return Shape(pred.shape().begin(), pred.shape().end() - 1);
}

bool same_prefix(const Shape& a, const Shape& b, size_t n) {
  if (a.size() < n || b.size() < n) return false;
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

void check_pred(const Tensor& pred, const Tensor& target, const char* op, int64_t min_dim) {
  check_defined(pred, op);
  check_defined(target, op);
  check_float(pred, op);  // targets may be int64 (labels); they are converted where they are read
  if (pred.dim() < min_dim)
    throw ShapeError(msg(op, ": pred must have ", min_dim == 1 ? "a batch axis" : "shape (batch, ..., classes)",
                         ", got shape ", shape_str(pred.shape())));
}

// The target in pred's dtype and shape. As Keras, a trailing axis of size 1 may be missing on
// either side: (N,) targets for an (N, 1) output and the reverse. Differentiable.
Tensor match_target(const Tensor& pred, const Tensor& target_in, const char* op) {
  Tensor t = to_dtype(target_in, pred.dtype());
  const Shape &ps = pred.shape(), &ts = t.shape();
  if (ts == ps) return t;
  if ((ts.size() + 1 == ps.size() && ps.back() == 1 && same_prefix(ps, ts, ts.size())) ||
      (ps.size() + 1 == ts.size() && ts.back() == 1 && same_prefix(ps, ts, ps.size())))
    return reshape(t, ps);
  throw ShapeError(msg(op, ": pred has shape ", shape_str(ps), " but target has shape ", shape_str(ts),
                       "; they must match (only a trailing axis of size 1 may differ)"));
}

// sample_weight as a contiguous (B,) tensor of pred's dtype (undefined: all ones).
Tensor sample_weights(const Tensor& w_in, const Tensor& pred, int64_t B, const char* op) {
  if (!w_in.defined()) return Tensor();
  Tensor w = contiguous(to_dtype(w_in.detach(), pred.dtype()));
  if (w.dim() == 0) return Tensor::full({B}, w.item(), pred.dtype());
  if (w.numel() != B || !(w.dim() == 1 || (w.dim() == 2 && w.shape()[1] == 1)))
    throw ShapeError(msg(op, ": sample_weight has shape ", shape_str(w.shape()), " but pred has shape ",
                         shape_str(pred.shape()), "; expected one weight per sample, shape (", B, ",)"));
  return reshape(w, {B});
}

// Forward reduction of the row values l (R,): see loss.h. Plain loops (R is small), summed in
// double in row order, so both backends give the same result.
Tensor reduce_rows(const Tensor& l, const Tensor& w, const Rows& rw, Reduction red, const Shape& unreduced) {
  const int64_t R = rw.R();
  Tensor out = Tensor::empty(red == Reduction::None ? unreduced : Shape{}, l.dtype());
  PYDL_DISPATCH(l.dtype(), {
    const T* lv = l.data<T>();
    const T* wv = w.defined() ? w.data<T>() : nullptr;
    T* o = out.data<T>();
    if (red == Reduction::None) {
      for (int64_t r = 0; r < R; ++r) o[r] = wv ? wv[r / rw.M] * lv[r] : lv[r];
    } else {
      double acc = 0;
      for (int64_t r = 0; r < R; ++r) acc += (wv ? double(wv[r / rw.M]) : 1.0) * double(lv[r]);
      if (red == Reduction::SumOverBatchSize) acc = R > 0 ? acc / double(R) : 0.0;  // Keras: divide_no_nan
      o[0] = T(acc);
    }
  });
  return out;
}

// coef[r] = d(reduced loss)/d(l_r), given the incoming gradient g of the reduced loss.
Tensor row_coef(const Tensor& g_in, const Tensor& w, const Rows& rw, Reduction red) {
  const int64_t R = rw.R();
  Tensor coef = Tensor::empty({R}, g_in.dtype());
  Tensor g = contiguous(g_in);
  PYDL_DISPATCH(g.dtype(), {
    const T* gv = g.data<T>();
    const T* wv = w.defined() ? w.data<T>() : nullptr;
    T* c = coef.data<T>();
    const T scale = red == Reduction::SumOverBatchSize ? (R > 0 ? T(1) / T(R) : T(0)) : T(1);
    for (int64_t r = 0; r < R; ++r) {
      const T gr = red == Reduction::None ? gv[r] : gv[0] * scale;
      c[r] = wv ? gr * wv[r / rw.M] : gr;
    }
  });
  return coef;
}

// ---------------------------------------------------------------- pointwise losses
Tensor point_loss(PointLoss kind, const char* op, const char* node, const Tensor& pred, const Tensor& target_in,
                  const Tensor& sample_weight, Reduction red) {
  check_pred(pred, target_in, op, 1);
  Tensor target = match_target(pred, target_in, op);
  const Rows rw = rows_of(pred);
  Tensor w = sample_weights(sample_weight, pred, rw.B, op);
  Tensor p = contiguous(pred.detach()), t = contiguous(target.detach());
  Tensor l = Tensor::empty({rw.R()}, pred.dtype());
  PYDL_DISPATCH(pred.dtype(), {
    if (use_fast()) kernels::point_loss_fast<T>(kind, p.data<T>(), t.data<T>(), rw.R(), rw.D, l.data<T>());
    else kernels::point_loss_reference<T>(kind, p.data<T>(), t.data<T>(), rw.R(), rw.D, l.data<T>());
  });
  Tensor out = reduce_rows(l, w, rw, red, none_shape(pred));
  if (any_requires_grad({&pred, &target})) {
    record(node, {pred, target}, out, {p, t}, [kind, rw, red, w](const Node& n, const Tensor& g) {
      Tensor p = n.saved(0), t = n.saved(1);
      Tensor coef = row_coef(g, w, rw, red);
      Tensor dp = fnode(n).needs(0) ? Tensor::empty(p.shape(), p.dtype()) : Tensor();
      Tensor dt = fnode(n).needs(1) ? Tensor::empty(t.shape(), t.dtype()) : Tensor();
      PYDL_DISPATCH(p.dtype(), {
        T* dpp = dp.defined() ? dp.data<T>() : nullptr;
        T* dtp = dt.defined() ? dt.data<T>() : nullptr;
        if (use_fast())
          kernels::point_loss_backward_fast<T>(kind, p.data<T>(), t.data<T>(), coef.data<T>(), rw.R(), rw.D, dpp, dtp);
        else
          kernels::point_loss_backward_reference<T>(kind, p.data<T>(), t.data<T>(), coef.data<T>(), rw.R(), rw.D, dpp,
                                                    dtp);
      });
      return std::vector<Tensor>{dp, dt};
    });
  }
  return out;
}

// ---------------------------------------------------------------- crossentropy over classes
// One body for the dense and the sparse target: exactly one of `target` / `labels` is given.
Tensor crossentropy(const char* node, const Tensor& pred, const Tensor& target,
                    std::shared_ptr<const std::vector<int64_t>> labels, bool from_logits, const Tensor& w,
                    Reduction red) {
  const Rows rw = rows_of(pred);
  const int64_t R = rw.R(), C = rw.D;
  Tensor p = contiguous(pred.detach());
  Tensor t = target.defined() ? contiguous(target.detach()) : Tensor();
  Tensor l = Tensor::zeros({R}, pred.dtype()), aux = Tensor::zeros({R}, pred.dtype());
  const int64_t* lab = labels ? labels->data() : nullptr;
  if (C > 0) {
    PYDL_DISPATCH(pred.dtype(), {
      const T* tp = t.defined() ? t.data<T>() : nullptr;
      if (use_fast()) kernels::crossentropy_fast<T>(p.data<T>(), tp, lab, R, C, from_logits, l.data<T>(), aux.data<T>());
      else kernels::crossentropy_reference<T>(p.data<T>(), tp, lab, R, C, from_logits, l.data<T>(), aux.data<T>());
    });
  }
  Tensor out = reduce_rows(l, w, rw, red, none_shape(pred));
  const bool dense = target.defined();
  if (dense ? any_requires_grad({&pred, &target}) : any_requires_grad({&pred})) {
    std::vector<Tensor> inputs{pred};
    std::vector<Tensor> saved{p, aux};
    if (dense) {
      inputs.push_back(target);
      saved.push_back(t);
    }
    record(node, inputs, out, saved, [rw, red, w, labels, from_logits, dense](const Node& n, const Tensor& g) {
      Tensor p = n.saved(0), aux = n.saved(1), t = dense ? n.saved(2) : Tensor();
      Tensor coef = row_coef(g, w, rw, red);
      Tensor dp = fnode(n).needs(0) ? Tensor::zeros(p.shape(), p.dtype()) : Tensor();
      Tensor dt = dense && fnode(n).needs(1) ? Tensor::zeros(t.shape(), t.dtype()) : Tensor();
      const int64_t* lab = labels ? labels->data() : nullptr;
      if (rw.D > 0) {
        PYDL_DISPATCH(p.dtype(), {
          const T* tp = dense ? t.data<T>() : nullptr;
          T* dpp = dp.defined() ? dp.data<T>() : nullptr;
          T* dtp = dt.defined() ? dt.data<T>() : nullptr;
          if (use_fast())
            kernels::crossentropy_backward_fast<T>(p.data<T>(), tp, lab, aux.data<T>(), coef.data<T>(), rw.R(), rw.D,
                                                   from_logits, dpp, dtp);
          else
            kernels::crossentropy_backward_reference<T>(p.data<T>(), tp, lab, aux.data<T>(), coef.data<T>(), rw.R(),
                                                        rw.D, from_logits, dpp, dtp);
        });
      }
      if (dense) return std::vector<Tensor>{dp, dt};
      return std::vector<Tensor>{dp};
    });
  }
  return out;
}

}  // namespace

Tensor mse_loss(const Tensor& pred, const Tensor& target, const Tensor& sample_weight, Reduction reduction) {
  return point_loss(PointLoss::SquaredError, "mse_loss", "MseLossBackward", pred, target, sample_weight, reduction);
}

Tensor mae_loss(const Tensor& pred, const Tensor& target, const Tensor& sample_weight, Reduction reduction) {
  return point_loss(PointLoss::AbsoluteError, "mae_loss", "MaeLossBackward", pred, target, sample_weight, reduction);
}

Tensor binary_crossentropy(const Tensor& pred, const Tensor& target, bool from_logits, const Tensor& sample_weight,
                           Reduction reduction) {
  return point_loss(from_logits ? PointLoss::BinaryCrossentropyLogits : PointLoss::BinaryCrossentropy,
                    "binary_crossentropy", "BinaryCrossentropyBackward", pred, target, sample_weight, reduction);
}

Tensor categorical_crossentropy(const Tensor& pred, const Tensor& target_in, bool from_logits,
                                const Tensor& sample_weight, Reduction reduction) {
  const char* op = "categorical_crossentropy";
  check_pred(pred, target_in, op, 2);
  const Shape &ps = pred.shape(), &ts = target_in.shape();
  const int64_t C = ps.back();
  const size_t lead = ps.size() - 1;
  if (ts != ps) {
    // Integer class labels: pred.shape[:-1], or that with a trailing 1.
    const bool labels_like = (ts.size() == lead && same_prefix(ps, ts, lead)) ||
                             (ts.size() == ps.size() && same_prefix(ps, ts, lead) && ts.back() == 1);
    if (labels_like)
      throw ShapeError(msg(op, ": target has shape ", shape_str(ts), ", which looks like integer class labels, but pred has shape ",
                           shape_str(ps), " (", C, " classes) and expects one-hot targets of the same shape; "
                           "use sparse_categorical_crossentropy or pydl.utils.to_categorical(y, ", C, ")"));
    if (ts.size() == ps.size() && same_prefix(ps, ts, lead))
      throw ShapeError(msg(op, ": target has ", ts.back(), " classes (shape ", shape_str(ts), ") but pred has ", C,
                           " classes (shape ", shape_str(ps), "); the model's last layer must have one unit per class"));
    throw ShapeError(msg(op, ": pred has shape ", shape_str(ps), " but target has shape ", shape_str(ts),
                         "; one-hot targets must have pred's shape"));
  }
  Tensor target = to_dtype(target_in, pred.dtype());
  Tensor w = sample_weights(sample_weight, pred, ps[0], op);
  return crossentropy("CategoricalCrossentropyBackward", pred, target, nullptr, from_logits, w, reduction);
}

Tensor sparse_categorical_crossentropy(const Tensor& pred, const Tensor& labels_in, bool from_logits,
                                       const Tensor& sample_weight, Reduction reduction) {
  const char* op = "sparse_categorical_crossentropy";
  check_pred(pred, labels_in, op, 2);
  const Shape &ps = pred.shape(), &ls = labels_in.shape();
  const int64_t C = ps.back();
  const size_t lead = ps.size() - 1;
  const bool ok = (ls.size() == lead && same_prefix(ps, ls, lead)) ||
                  (ls.size() == ps.size() && same_prefix(ps, ls, lead) && ls.back() == 1);
  if (!ok) {
    Shape expect(ps.begin(), ps.end() - 1);
    if (ls == ps)
      throw ShapeError(msg(op, ": labels have shape ", shape_str(ls), ", the same as pred, so they look one-hot; "
                           "use categorical_crossentropy for one-hot targets, or pass class ids of shape ",
                           shape_str(expect)));
    throw ShapeError(msg(op, ": labels have shape ", shape_str(ls), " but pred has shape ", shape_str(ps),
                         "; expected integer class ids of shape ", shape_str(expect), " or ",
                         shape_str([&] { Shape e = expect; e.push_back(1); return e; }())));
  }
  // Class ids come as int64 tensors, or as floats holding whole numbers: check they are ids.
  auto ids = std::make_shared<std::vector<int64_t>>(static_cast<size_t>(labels_in.numel()));
  if (labels_in.dtype() == DType::Int64) {
    Tensor lab = contiguous(labels_in.detach());
    const int64_t* lv = lab.data<int64_t>();
    for (int64_t i = 0; i < lab.numel(); ++i) {
      if (lv[i] < 0 || lv[i] >= C)
        throw ValueError(msg(op, ": label ", lv[i], " (at index ", i, ") is out of range for ", C,
                             " classes; labels must be integers in [0, ", C, ")"));
      (*ids)[i] = lv[i];
    }
    Tensor w = sample_weights(sample_weight, pred, ps[0], op);
    return crossentropy("SparseCategoricalCrossentropyBackward", pred, Tensor(), ids, from_logits, w, reduction);
  }
  Tensor lab = contiguous(to_dtype(labels_in.detach(), DType::Float64));
  const double* lv = lab.data<double>();
  for (int64_t i = 0; i < lab.numel(); ++i) {
    const double v = lv[i];
    if (!(v == std::floor(v)))
      throw ValueError(msg(op, ": label ", v, " (at index ", i, ") is not an integer class id; labels must be integers in [0, ",
                           C, ")"));
    if (v < 0 || v >= double(C))
      throw ValueError(msg(op, ": label ", static_cast<int64_t>(v), " (at index ", i, ") is out of range for ", C,
                           " classes; labels must be integers in [0, ", C, ")"));
    (*ids)[i] = static_cast<int64_t>(v);
  }
  Tensor w = sample_weights(sample_weight, pred, ps[0], op);
  return crossentropy("SparseCategoricalCrossentropyBackward", pred, Tensor(), ids, from_logits, w, reduction);
}

}  // namespace pydl::ops
