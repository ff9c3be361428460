// Recurrent kernels (SimpleRNN, LSTM, GRU with reset_after) fused over the whole sequence, reference
// loops and fast versions (one GEMM for the input projection of every step, one GEMM per step for
// the recurrent part). Shapes are checked by ops/rnn.cpp; every buffer is contiguous (row-major).
// G = gates per cell (SimpleRNN 1, LSTM 4, GRU 3), Keras's shapes and gate orders:
//   x  (B, T, I)       w (I, G*U)        u (U, G*U)
//   b  SimpleRNN/LSTM (G*U,); GRU (2, G*U): row 0 the input bias, row 1 the recurrent bias; or null
//   h0, c0 (B, U) or null (zeros)
//   mask (B, T) by input time, 1 keep / 0 skip, or null (every step kept): at a skipped step the
//        states carry through unchanged (h_s = h_{s-1}, c_s = c_{s-1}) and no gradient reaches the
//        weights or x_t from it; dL/dh_s passes straight to h_{s-1}
//   rdrop (B, G*U) or null: recurrent dropout, one mask per gate, already scaled by 1/(1-p), fixed over
//        the sequence: gate q sees (h_{s-1} * rdrop[:, q]) U_q, as Keras's cells (implementation 1);
//        GRU's update z * h_{s-1} and LSTM's c_{s-1} use the undropped values
// Step s reads x[:, s] (or x[:, T-1-s] with go_backwards, as Keras) and writes step s of:
//   hs (B, T, U)       the states h_s (carried at skipped steps);  the last state is hs[:, T-1]
//   cs (B, T, U)       LSTM: the cells c_s (null otherwise)
//   gates (B, T, G*U)  the gates after their activations (LSTM i f g o, GRU z r hh; SimpleRNN h_s)
//   extra (B, T, U)    LSTM: act(c_s);  GRU: h_{s-1} U_h + b_rh (what r multiplies); null for SimpleRNN
//   rnn_forward_fast also takes gates = extra = null: inference, nothing saved for a backward (the
//   reference always saves; the ops pass null when no gradient is recorded). cs is then (B, U),
//   the LSTM's running cell state, which holds c_{T-1} (the last state) on return.
// Every activation's derivative is taken from its output y (tanh 1-y², sigmoid y(1-y), relu [y>0],
// linear 1), so forward saves outputs only.
// Backward kernels overwrite their outputs (dx, dw, du, db, dh0, dc0; any of dh0 / dc0 may be null);
// dhs (B, T, U), dh_last (B, U), dc_last (B, U) are the incoming gradients, each may be null (zero).
#pragma once
#include <cmath>
#include <cstdint>

namespace pydl::kernels {

enum class RnnCell : uint8_t { Simple, LSTM, GRU };
enum class RnnAct : uint8_t { Tanh, Sigmoid, Relu, Linear };

struct RnnGeom {
  int64_t B, T, I, U;
  RnnCell cell;
  RnnAct act, rec_act;  // activation (SimpleRNN's only one), recurrent_activation (gates)
  bool go_backwards;
  // false (rnn_forward_fast's inference only, gates null): hs is (B, U), the running h, which
  // holds the last state on return; nothing else reads the sequence (a layer without
  // return_sequences)
  bool all_states = true;
  int64_t G() const { return cell == RnnCell::Simple ? 1 : cell == RnnCell::LSTM ? 4 : 3; }
  int64_t tin(int64_t s) const { return go_backwards ? T - 1 - s : s; }  // input time of step s
  // whether sample n takes step s (the mask is read at the step's input time, so it reverses with x)
  template <typename V>
  bool keep(const V* mask, int64_t n, int64_t s) const { return !mask || mask[n * T + tin(s)] != V(0); }
};

template <typename T>
void rnn_forward_reference(const RnnGeom& g, const T* x, const T* w, const T* u, const T* b, const T* h0,
                           const T* c0, const T* mask, const T* rdrop, T* hs, T* cs, T* gates, T* extra);
template <typename T>
void rnn_forward_fast(const RnnGeom& g, const T* x, const T* w, const T* u, const T* b, const T* h0, const T* c0,
                      const T* mask, const T* rdrop, T* hs, T* cs, T* gates, T* extra);

template <typename T>
void rnn_backward_reference(const RnnGeom& g, const T* x, const T* w, const T* u, const T* h0, const T* c0,
                            const T* mask, const T* rdrop, const T* hs, const T* cs, const T* gates, const T* extra, const T* dhs,
                            const T* dh_last, const T* dc_last, T* dx, T* dw, T* du, T* db, T* dh0, T* dc0);
template <typename T>
void rnn_backward_fast(const RnnGeom& g, const T* x, const T* w, const T* u, const T* h0, const T* c0,
                       const T* mask, const T* rdrop, const T* hs, const T* cs, const T* gates, const T* extra, const T* dhs, const T* dh_last,
                       const T* dc_last, T* dx, T* dw, T* du, T* db, T* dh0, T* dc0);

// The activation and its derivative written in terms of the output y = act(a).
template <typename T>
inline T rnn_act(RnnAct a, T v) {
  switch (a) {
    case RnnAct::Tanh: return std::tanh(v);
    case RnnAct::Sigmoid: return v >= 0 ? T(1) / (T(1) + std::exp(-v)) : std::exp(v) / (T(1) + std::exp(v));
    case RnnAct::Relu: return v > 0 ? v : T(0);
    default: return v;
  }
}
template <typename T>
inline T rnn_act_grad(RnnAct a, T y) {
  switch (a) {
    case RnnAct::Tanh: return T(1) - y * y;
    case RnnAct::Sigmoid: return y * (T(1) - y);
    case RnnAct::Relu: return y > 0 ? T(1) : T(0);
    default: return T(1);
  }
}

}  // namespace pydl::kernels
