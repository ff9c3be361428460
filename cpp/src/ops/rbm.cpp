// RBM ops: shape and range checks, then the kernels of the current backend (kernels/rbm.h).
#include "kernels/rbm.h"

#include "ops/common.h"
#include "pydl/ops/rbm.h"
#include "pydl/random.h"

namespace pydl::ops {

namespace {

using kernels::RbmGeom;

// Values of a unit layer must lie in [0, 1] (probabilities or binary states); NaN fails too.
void check_unit_range(const Tensor& t, const char* op, const char* what) {
  PYDL_DISPATCH(t.dtype(), {
    const T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i)
      if (!(p[i] >= T(0) && p[i] <= T(1)))
        throw ValueError(msg(op, ": the ", what, " units must be in [0, 1] (a Bernoulli RBM models binary or "
                             "[0, 1]-scaled data), got ", static_cast<double>(p[i]), " at flat index ", i, " of ",
                             shape_str(t.shape()), "; scale the data first (e.g. x / 255)"));
  });
}

// Checks the parameters against a (B, units) batch and returns the geometry. `visible_side`:
// the batch holds visible units (else hidden); `bias` is the bias of the units produced.
RbmGeom check_rbm(const char* op, const Tensor& x, const Tensor& w, const Tensor& bias, bool visible_side) {
  check_defined(x, op);
  check_defined(w, op);
  check_defined(bias, op);
  if (w.dim() != 2) throw ShapeError(msg(op, ": the weights must be 2-D (visible, hidden), got ", shape_str(w.shape())));
  const int64_t V = w.shape()[0], H = w.shape()[1];
  const int64_t width = visible_side ? V : H;
  if (x.dim() != 2 || x.shape()[1] != width)
    throw ShapeError(msg(op, ": the ", visible_side ? "visible" : "hidden", " batch must be (batch, ", width,
                         ") for weights ", shape_str(w.shape()), ", got ", shape_str(x.shape())));
  const int64_t nb = visible_side ? H : V;
  if (bias.shape() != Shape{nb})
    throw ShapeError(msg(op, ": the ", visible_side ? "hidden" : "visible", " bias must be (", nb, ",) for weights ",
                         shape_str(w.shape()), ", got ", shape_str(bias.shape())));
  check_same_dtype(x, w, op);
  check_same_dtype(x, bias, op);
  return RbmGeom{x.shape()[0], V, H};
}

Tensor dense(const Tensor& t) { return contiguous(t.detach()); }

// p(h|v) (and a sample) into fresh tensors, with the current backend.
void hidden(const RbmGeom& g, const Tensor& v, const Tensor& w, const Tensor& c, Tensor& p, Tensor* s) {
  p = Tensor::empty({g.B, g.H}, v.dtype());
  if (s) *s = Tensor::empty({g.B, g.H}, v.dtype());
  const uint64_t seed = random::initial_seed();
  const uint64_t counter = s ? random::reserve(static_cast<uint64_t>(g.B * g.H)) : 0;
  PYDL_DISPATCH(v.dtype(), {
    T* sp = s ? s->data<T>() : nullptr;
    if (use_fast())
      kernels::rbm_hidden_fast<T>(g, v.data<T>(), w.data<T>(), c.data<T>(), p.data<T>(), sp, seed, counter);
    else
      kernels::rbm_hidden_reference<T>(g, v.data<T>(), w.data<T>(), c.data<T>(), p.data<T>(), sp, seed, counter);
  });
}

void visible(const RbmGeom& g, const Tensor& h, const Tensor& w, const Tensor& b, Tensor& p, Tensor* s) {
  p = Tensor::empty({g.B, g.V}, h.dtype());
  if (s) *s = Tensor::empty({g.B, g.V}, h.dtype());
  const uint64_t seed = random::initial_seed();
  const uint64_t counter = s ? random::reserve(static_cast<uint64_t>(g.B * g.V)) : 0;
  PYDL_DISPATCH(h.dtype(), {
    T* sp = s ? s->data<T>() : nullptr;
    if (use_fast())
      kernels::rbm_visible_fast<T>(g, h.data<T>(), w.data<T>(), b.data<T>(), p.data<T>(), sp, seed, counter);
    else
      kernels::rbm_visible_reference<T>(g, h.data<T>(), w.data<T>(), b.data<T>(), p.data<T>(), sp, seed, counter);
  });
}

}  // namespace

std::vector<Tensor> rbm_hidden(const Tensor& v_in, const Tensor& w_in, const Tensor& c_in, bool sample) {
  const RbmGeom g = check_rbm("rbm_hidden", v_in, w_in, c_in, true);
  Tensor v = dense(v_in), w = dense(w_in), c = dense(c_in);
  check_unit_range(v, "rbm_hidden", "visible");
  Tensor p, s;
  hidden(g, v, w, c, p, sample ? &s : nullptr);
  return sample ? std::vector<Tensor>{p, s} : std::vector<Tensor>{p};
}

std::vector<Tensor> rbm_visible(const Tensor& h_in, const Tensor& w_in, const Tensor& b_in, bool sample) {
  const RbmGeom g = check_rbm("rbm_visible", h_in, w_in, b_in, false);
  Tensor h = dense(h_in), w = dense(w_in), b = dense(b_in);
  check_unit_range(h, "rbm_visible", "hidden");
  Tensor p, s;
  visible(g, h, w, b, p, sample ? &s : nullptr);
  return sample ? std::vector<Tensor>{p, s} : std::vector<Tensor>{p};
}

std::vector<Tensor> rbm_cd(const Tensor& v0_in, const Tensor& w_in, const Tensor& b_in, const Tensor& c_in,
                           int64_t k, const Tensor& chain_in) {
  const char* op = "rbm_cd";
  const RbmGeom g = check_rbm(op, v0_in, w_in, c_in, true);
  check_defined(b_in, op);
  if (b_in.shape() != Shape{g.V})
    throw ShapeError(msg(op, ": the visible bias must be (", g.V, ",) for weights ", shape_str(w_in.shape()), ", got ",
                         shape_str(b_in.shape())));
  check_same_dtype(v0_in, b_in, op);
  if (k < 1) throw ValueError(msg(op, ": k (Gibbs steps per update) must be >= 1, got ", k));
  if (g.B < 1) throw ValueError(msg(op, ": the batch is empty, input ", shape_str(v0_in.shape())));
  Tensor v0 = dense(v0_in), w = dense(w_in), b = dense(b_in), c = dense(c_in);
  check_unit_range(v0, op, "visible");
  Tensor chain;
  if (chain_in.defined()) {
    check_same_dtype(v0_in, chain_in, op);
    if (chain_in.shape() != v0_in.shape())
      throw ShapeError(msg(op, ": the persistent chain must have the batch's shape ", shape_str(v0_in.shape()),
                           ", got ", shape_str(chain_in.shape())));
    chain = dense(chain_in);
    check_unit_range(chain, op, "persistent chain's visible");
  }
  // data phase p0 = p(h|v0); the chain starts from h ~ p(h|v0) (CD) or h ~ p(h|chain) (PCD)
  Tensor p0, ph, hs, pv, vk;
  if (chain.defined()) {
    hidden(g, v0, w, c, p0, nullptr);
    hidden(g, chain, w, c, ph, &hs);
  } else {
    hidden(g, v0, w, c, p0, &hs);
  }
  for (int64_t step = 1; step <= k; ++step) {
    visible(g, hs, w, b, pv, &vk);                               // v ~ p(v|h)
    hidden(g, vk, w, c, ph, step < k ? &hs : nullptr);           // p(h|v), and h ~ it but at the end
  }
  Tensor dw = Tensor::empty({g.V, g.H}, v0.dtype()), db = Tensor::empty({g.V}, v0.dtype()),
         dc = Tensor::empty({g.H}, v0.dtype());
  PYDL_DISPATCH(v0.dtype(), {
    if (use_fast())
      kernels::rbm_cd_grad_fast<T>(g, v0.data<T>(), p0.data<T>(), vk.data<T>(), ph.data<T>(), dw.data<T>(),
                                   db.data<T>(), dc.data<T>());
    else
      kernels::rbm_cd_grad_reference<T>(g, v0.data<T>(), p0.data<T>(), vk.data<T>(), ph.data<T>(), dw.data<T>(),
                                        db.data<T>(), dc.data<T>());
  });
  return {dw, db, dc, vk, p0};
}

Tensor rbm_free_energy(const Tensor& v_in, const Tensor& w_in, const Tensor& b_in, const Tensor& c_in) {
  const char* op = "rbm_free_energy";
  const RbmGeom g = check_rbm(op, v_in, w_in, c_in, true);
  check_defined(b_in, op);
  if (b_in.shape() != Shape{g.V})
    throw ShapeError(msg(op, ": the visible bias must be (", g.V, ",) for weights ", shape_str(w_in.shape()), ", got ",
                         shape_str(b_in.shape())));
  check_same_dtype(v_in, b_in, op);
  Tensor v = dense(v_in), w = dense(w_in), b = dense(b_in), c = dense(c_in);
  check_unit_range(v, op, "visible");
  Tensor out = Tensor::empty({g.B}, v.dtype());
  if (g.B > 0)
    PYDL_DISPATCH(v.dtype(), {
      if (use_fast())
        kernels::rbm_free_energy_fast<T>(g, v.data<T>(), w.data<T>(), b.data<T>(), c.data<T>(), out.data<T>());
      else
        kernels::rbm_free_energy_reference<T>(g, v.data<T>(), w.data<T>(), b.data<T>(), c.data<T>(), out.data<T>());
    });
  return out;
}

}  // namespace pydl::ops
