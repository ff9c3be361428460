// simple_rnn, lstm, gru: shape checks, the kernels of the current backend, and backpropagation
// through time beside the forward (kernels in kernels/reference/rnn.cpp and kernels/cpu/rnn.cpp).
#include <algorithm>
#include <string>

#include "kernels/rnn.h"

#include "ops/common.h"

namespace pydl::ops {

namespace {

using kernels::RnnAct;
using kernels::RnnCell;

RnnAct parse_act(const std::string& name, const char* op, const char* arg) {
  if (name == "tanh") return RnnAct::Tanh;
  if (name == "sigmoid") return RnnAct::Sigmoid;
  if (name == "relu") return RnnAct::Relu;
  if (name == "linear") return RnnAct::Linear;
  throw ValueError(msg(op, ": ", arg, " must be one of 'tanh', 'sigmoid', 'relu', 'linear', got '", name, "'"));
}

// Copy step T-1 of a (B, T, U) sequence into a new (B, U) tensor.
Tensor last_step(const Tensor& seq) {
  const int64_t B = seq.shape()[0], steps = seq.shape()[1], U = seq.shape()[2];
  Tensor out = Tensor::empty({B, U}, seq.dtype());
  PYDL_DISPATCH(seq.dtype(), {
    const T* s = seq.data<T>();
    T* o = out.data<T>();
    for (int64_t n = 0; n < B; ++n)
      for (int64_t j = 0; j < U; ++j) o[n * U + j] = s[(n * steps + steps - 1) * U + j];
  });
  return out;
}

// Zero the steps of a (B, T, U) sequence (in processing order) whose mask (B, T, by input time) is 0.
void zero_masked(const kernels::RnnGeom& g, const Tensor& mask, Tensor& seq) {
  PYDL_DISPATCH(seq.dtype(), {
    const T* m = mask.data<T>();
    T* q = seq.data<T>();
    for (int64_t n = 0; n < g.B; ++n)
      for (int64_t s = 0; s < g.T; ++s)
        if (!g.keep(m, n, s)) std::fill(q + (n * g.T + s) * g.U, q + (n * g.T + s + 1) * g.U, T(0));
  });
}

std::vector<Tensor> run_rnn(const char* op, RnnCell cell, const Tensor& x_in, const Tensor& w_in,
                            const Tensor& u_in, const Tensor& b_in, const Tensor& h0_in, const Tensor& c0_in,
                            const Tensor& mask_in, const Tensor& rdrop_in, const std::string& activation,
                            const std::string& recurrent_activation, bool go_backwards, bool zero_output,
                            bool return_sequences) {
  check_defined(x_in, op);
  check_defined(w_in, op);
  check_defined(u_in, op);
  const RnnAct act = parse_act(activation, op, "activation");
  const RnnAct rec = parse_act(recurrent_activation, op, "recurrent_activation");
  const int64_t G = cell == RnnCell::Simple ? 1 : cell == RnnCell::LSTM ? 4 : 3;
  if (x_in.dim() != 3)
    throw ShapeError(msg(op, ": the input must be 3-D (batch, time, features), got ", shape_str(x_in.shape())));
  if (w_in.dim() != 2 || u_in.dim() != 2)
    throw ShapeError(msg(op, ": the kernel and the recurrent kernel must be 2-D, got ", shape_str(w_in.shape()),
                         " and ", shape_str(u_in.shape())));
  check_same_dtype(x_in, w_in, op);
  check_same_dtype(x_in, u_in, op);
  const int64_t B = x_in.shape()[0], T = x_in.shape()[1], I = x_in.shape()[2];
  const int64_t U = u_in.shape()[0];
  if (T < 1)
    throw ValueError(msg(op, ": the input sequence is empty (time steps = 0), input ", shape_str(x_in.shape())));
  if (I < 1) throw ValueError(msg(op, ": the input has no features, input ", shape_str(x_in.shape())));
  if (U < 1 || u_in.shape()[1] != G * U)
    throw ShapeError(msg(op, ": the recurrent kernel must be (units, ", G, " * units), got ",
                         shape_str(u_in.shape())));
  if (w_in.shape()[0] != I || w_in.shape()[1] != G * U)
    throw ShapeError(msg(op, ": the kernel must be (features, ", G, " * units) = (", I, ", ", G * U,
                         ") for the input ", shape_str(x_in.shape()), " and the recurrent kernel ",
                         shape_str(u_in.shape()), ", got ", shape_str(w_in.shape())));
  if (b_in.defined()) {
    check_same_dtype(x_in, b_in, op);
    const Shape want = cell == RnnCell::GRU ? Shape{2, G * U} : Shape{G * U};
    if (b_in.shape() != want)
      throw ShapeError(msg(op, ": the bias must have shape ", shape_str(want), " for ", U, " units, got ",
                           shape_str(b_in.shape())));
  }
  for (const Tensor* s : {&h0_in, &c0_in})
    if (s->defined()) {
      check_same_dtype(x_in, *s, op);
      if (s->shape() != Shape{B, U})
        throw ShapeError(msg(op, ": an initial state must have shape (batch, units) = (", B, ", ", U, "), got ",
                             shape_str(s->shape()), " (input ", shape_str(x_in.shape()), ")"));
    }
  Tensor mask, rdrop;  // constants of the op: no gradient flows to them
  if (mask_in.defined()) {
    check_same_dtype(x_in, mask_in, op);
    if (mask_in.shape() != Shape{B, T})
      throw ShapeError(msg(op, ": the mask must have shape (batch, time) = (", B, ", ", T, ") for the input ",
                           shape_str(x_in.shape()), ", got ", shape_str(mask_in.shape())));
    mask = contiguous(mask_in.detach());
    const int64_t cells = B * T;  // (T names the scalar type inside PYDL_DISPATCH)
    PYDL_DISPATCH(mask.dtype(), {
      const T* m = mask.data<T>();
      for (int64_t k = 0; k < cells; ++k)
        if (m[k] != T(0) && m[k] != T(1))
          throw ValueError(msg(op, ": the mask must hold 0 (skip) or 1 (keep), got ", static_cast<double>(m[k]),
                               " at flat index ", k));
    });
  }
  if (rdrop_in.defined()) {
    check_same_dtype(x_in, rdrop_in, op);
    if (rdrop_in.shape() != Shape{B, G * U})
      throw ShapeError(msg(op, ": the recurrent dropout mask must have shape (batch, ", G, " * units) = (", B, ", ",
                           G * U, "), got ", shape_str(rdrop_in.shape())));
    rdrop = contiguous(rdrop_in.detach());
  }
  zero_output = zero_output && mask.defined();
  kernels::RnnGeom g{B, T, I, U, cell, act, rec, go_backwards};
  const bool lstm = cell == RnnCell::LSTM;

  Tensor x = contiguous(x_in.detach()), w = contiguous(w_in.detach()), u = contiguous(u_in.detach());
  Tensor b = b_in.defined() ? contiguous(b_in.detach()) : Tensor();
  Tensor h0 = h0_in.defined() ? contiguous(h0_in.detach()) : Tensor();
  Tensor c0 = c0_in.defined() ? contiguous(c0_in.detach()) : Tensor();
  // Without a gradient to record, the fast kernel saves nothing for backward (gates, extra null).
  const bool record = any_requires_grad({&x_in, &w_in, &u_in, &b_in, &h0_in, &c0_in});
  const bool save = record || !use_fast();
  // Inference: cs is the running cell state (B, U), the last c on return; without
  // return_sequences hs is the running h too (the sequence is never kept)
  g.all_states = save || return_sequences;
  Tensor hs = g.all_states ? Tensor::empty({B, T, U}, x.dtype()) : Tensor::empty({B, U}, x.dtype());
  Tensor cs = lstm ? (save ? Tensor::empty({B, T, U}, x.dtype()) : Tensor::empty({B, U}, x.dtype())) : Tensor();
  Tensor gates = save ? Tensor::empty({B, T, G * U}, x.dtype()) : Tensor();
  Tensor extra = cell == RnnCell::Simple || !save ? Tensor() : Tensor::empty({B, T, U}, x.dtype());
  if (B > 0) {
    PYDL_DISPATCH(x.dtype(), {
      auto p = [](const Tensor& t) { return t.defined() ? t.data<T>() : static_cast<T*>(nullptr); };
      if (use_fast())
        kernels::rnn_forward_fast<T>(g, x.data<T>(), w.data<T>(), u.data<T>(), p(b), p(h0), p(c0), p(mask),
                                     p(rdrop), hs.data<T>(), p(cs), p(gates), p(extra));
      else
        kernels::rnn_forward_reference<T>(g, x.data<T>(), w.data<T>(), u.data<T>(), p(b), p(h0), p(c0), p(mask),
                                          p(rdrop), hs.data<T>(), p(cs), gates.data<T>(), p(extra));
    });
  }
  // The sequence output: the states (a masked step repeats the state carried through, as Keras's
  // default), or with zero_output (Keras's zero_output_for_mask) zeros at the masked steps.
  Tensor seq = hs;
  if (zero_output && B > 0 && g.all_states) {
    seq = clone(hs);
    zero_masked(g, mask, seq);
  }
  std::vector<Tensor> outs{seq, B == 0 ? Tensor::zeros({0, U}, x.dtype()) : g.all_states ? last_step(hs) : hs};
  if (lstm) outs.push_back(B == 0 ? Tensor::zeros({0, U}, x.dtype()) : save ? last_step(cs) : cs);
  // Saving only the internal buffers (and copies of the inputs' values), not the returned sequence:
  // the user may then modify the outputs they get without breaking backward.
  if (record) {
    std::vector<Tensor*> outp;
    for (Tensor& o : outs) outp.push_back(&o);
    const char* name = cell == RnnCell::Simple ? "SimpleRnnBackward" : lstm ? "LstmBackward" : "GruBackward";
    record_multi(name, {x_in, w_in, u_in, b_in, h0_in, c0_in}, outp,
                 {x, w, u, h0, c0, zero_output ? hs : clone(hs), cs, gates, extra, mask, rdrop},
                 [g, lstm, zero_output](const Node& n, const std::vector<Tensor>& grads) {
                   // dL/dh for every step, the last h and the last c (undefined: no gradient reached it)
                   Tensor dhs = grads.size() > 0 && grads[0].defined() ? contiguous(grads[0]) : Tensor();
                   Tensor ms = n.saved(9), rds = n.saved(10);
                   if (zero_output && dhs.defined() && g.B > 0) {  // the zeroed outputs depend on nothing
                     dhs = clone(dhs);
                     zero_masked(g, ms, dhs);
                   }
                   Tensor dhl = grads.size() > 1 && grads[1].defined() ? contiguous(grads[1]) : Tensor();
                   Tensor dcl = grads.size() > 2 && grads[2].defined() ? contiguous(grads[2]) : Tensor();
                   Tensor xs = n.saved(0), ws = n.saved(1), us = n.saved(2), h0s = n.saved(3), c0s = n.saved(4);
                   Tensor hss = n.saved(5), css = n.saved(6), gts = n.saved(7), exs = n.saved(8);
                   const DType dt = xs.dtype();
                   const int64_t GU = ws.shape()[1];
                   Tensor dx = Tensor::zeros(xs.shape(), dt), dw = Tensor::zeros(ws.shape(), dt);
                   Tensor du = Tensor::zeros(us.shape(), dt);
                   Tensor db = g.cell == RnnCell::GRU ? Tensor::zeros({2, GU}, dt) : Tensor::zeros({GU}, dt);
                   Tensor dh0 = Tensor::zeros({g.B, g.U}, dt), dc0 = Tensor::zeros({g.B, g.U}, dt);
                   if (g.B > 0) {
                     PYDL_DISPATCH(dt, {
                       auto p = [](const Tensor& t) { return t.defined() ? t.data<T>() : static_cast<T*>(nullptr); };
                       if (use_fast())
                         kernels::rnn_backward_fast<T>(g, xs.data<T>(), ws.data<T>(), us.data<T>(), p(h0s), p(c0s),
                                                       p(ms), p(rds), hss.data<T>(), p(css), gts.data<T>(), p(exs), p(dhs),
                                                       p(dhl), p(dcl), dx.data<T>(), dw.data<T>(), du.data<T>(),
                                                       db.data<T>(), dh0.data<T>(), dc0.data<T>());
                       else
                         kernels::rnn_backward_reference<T>(g, xs.data<T>(), ws.data<T>(), us.data<T>(), p(h0s),
                                                            p(c0s), p(ms), p(rds), hss.data<T>(), p(css), gts.data<T>(), p(exs),
                                                            p(dhs), p(dhl), p(dcl), dx.data<T>(), dw.data<T>(),
                                                            du.data<T>(), db.data<T>(), dh0.data<T>(), dc0.data<T>());
                     });
                   }
                   const auto& f = static_cast<const MultiFunctionNode&>(n);
                   auto keep = [&](size_t i, const Tensor& t) { return f.needs(i) ? t : Tensor(); };
                   return std::vector<Tensor>{keep(0, dx), keep(1, dw), keep(2, du), keep(3, db), keep(4, dh0),
                                              keep(5, lstm ? dc0 : Tensor())};
                 });
  }
  if (!return_sequences) outs[0] = Tensor();  // (recorded, the node's sequence output reaches no loss)
  return outs;
}

}  // namespace

std::vector<Tensor> simple_rnn(const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel,
                               const Tensor& bias, const Tensor& h0, const std::string& activation,
                               bool go_backwards, const Tensor& mask, const Tensor& recurrent_dropout,
                               bool zero_output_for_mask, bool return_sequences) {
  return run_rnn("simple_rnn", RnnCell::Simple, x, kernel, recurrent_kernel, bias, h0, Tensor(), mask,
                 recurrent_dropout, activation, "sigmoid", go_backwards, zero_output_for_mask, return_sequences);
}

std::vector<Tensor> lstm(const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel, const Tensor& bias,
                         const Tensor& h0, const Tensor& c0, const std::string& activation,
                         const std::string& recurrent_activation, bool go_backwards, const Tensor& mask,
                         const Tensor& recurrent_dropout, bool zero_output_for_mask, bool return_sequences) {
  return run_rnn("lstm", RnnCell::LSTM, x, kernel, recurrent_kernel, bias, h0, c0, mask, recurrent_dropout,
                 activation, recurrent_activation, go_backwards, zero_output_for_mask, return_sequences);
}

std::vector<Tensor> gru(const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel, const Tensor& bias,
                        const Tensor& h0, const std::string& activation, const std::string& recurrent_activation,
                        bool go_backwards, const Tensor& mask, const Tensor& recurrent_dropout,
                        bool zero_output_for_mask, bool return_sequences) {
  return run_rnn("gru", RnnCell::GRU, x, kernel, recurrent_kernel, bias, h0, Tensor(), mask, recurrent_dropout,
                 activation, recurrent_activation, go_backwards, zero_output_for_mask, return_sequences);
}

}  // namespace pydl::ops
