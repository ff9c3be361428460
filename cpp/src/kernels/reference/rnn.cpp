// Reference recurrent kernels: loops over time, batch and units exactly as the equations read.
// Keras's gate orders: LSTM i, f, c (candidate g), o; GRU z (update), r (reset), h (candidate).
#include <vector>

#include "kernels/rnn.h"

namespace pydl::kernels {

namespace {

// The previous state of sample n before step s: the output of step s-1, or the initial state.
template <typename T>
T prev(const RnnGeom& g, const T* seq, const T* init, int64_t n, int64_t s, int64_t j) {
  if (s > 0) return seq[(n * g.T + s - 1) * g.U + j];
  return init ? init[n * g.U + j] : T(0);
}

}  // namespace

template <typename T>
void rnn_forward_reference(const RnnGeom& g, const T* x, const T* w, const T* u, const T* b, const T* h0,
                           const T* c0, const T* mask, const T* rdrop, T* hs, T* cs, T* gates, T* extra) {
  const int64_t U = g.U, GU = g.G() * g.U;
  std::vector<T> ax(GU), ah(GU);  // x_t W (+ b_in) and h_{s-1} U (+ b_rec), one sample
  for (int64_t s = 0; s < g.T; ++s) {
    const int64_t t = g.tin(s);
    for (int64_t n = 0; n < g.B; ++n) {
      for (int64_t k = 0; k < GU; ++k) {
        T sx = b ? b[k] : T(0);
        for (int64_t i = 0; i < g.I; ++i) sx += x[(n * g.T + t) * g.I + i] * w[i * GU + k];
        T sh = (b && g.cell == RnnCell::GRU) ? b[GU + k] : T(0);
        // gate k / U sees h_{s-1} times its recurrent dropout mask (if any)
        for (int64_t j = 0; j < U; ++j)
          sh += prev(g, hs, h0, n, s, j) * (rdrop ? rdrop[n * GU + (k / U) * U + j] : T(1)) * u[j * GU + k];
        ax[k] = sx;
        ah[k] = sh;
      }
      T* gt = gates + (n * g.T + s) * GU;
      T* h = hs + (n * g.T + s) * U;
      for (int64_t j = 0; j < U; ++j) {
        if (g.cell == RnnCell::Simple) {
          // h_s = act(x_t W + h_{s-1} U + b)
          h[j] = gt[j] = rnn_act(g.act, ax[j] + ah[j]);
        } else if (g.cell == RnnCell::LSTM) {
          // i = σ(x W_i + h U_i + b_i), f = σ(.._f), g = act(.._c), o = σ(.._o)
          // c_s = f * c_{s-1} + i * g,   h_s = o * act(c_s)
          const T ig = rnn_act(g.rec_act, ax[j] + ah[j]);
          const T fg = rnn_act(g.rec_act, ax[U + j] + ah[U + j]);
          const T cg = rnn_act(g.act, ax[2 * U + j] + ah[2 * U + j]);
          const T og = rnn_act(g.rec_act, ax[3 * U + j] + ah[3 * U + j]);
          const T c = fg * prev(g, cs, c0, n, s, j) + ig * cg;
          const T tc = rnn_act(g.act, c);
          gt[j] = ig, gt[U + j] = fg, gt[2 * U + j] = cg, gt[3 * U + j] = og;
          cs[(n * g.T + s) * U + j] = c;
          extra[(n * g.T + s) * U + j] = tc;
          h[j] = og * tc;
        } else {
          // z = σ(x W_z + b_z + h U_z + b_rz),  r = σ(x W_r + b_r + h U_r + b_rr)
          // hh = act(x W_h + b_h + r * (h U_h + b_rh)),  h_s = z * h_{s-1} + (1 - z) * hh
          const T z = rnn_act(g.rec_act, ax[j] + ah[j]);
          const T r = rnn_act(g.rec_act, ax[U + j] + ah[U + j]);
          const T hh = rnn_act(g.act, ax[2 * U + j] + r * ah[2 * U + j]);
          gt[j] = z, gt[U + j] = r, gt[2 * U + j] = hh;
          extra[(n * g.T + s) * U + j] = ah[2 * U + j];
          h[j] = z * prev(g, hs, h0, n, s, j) + (T(1) - z) * hh;
        }
        // a masked step: the states carry through unchanged
        if (!g.keep(mask, n, s)) {
          h[j] = prev(g, hs, h0, n, s, j);
          if (g.cell == RnnCell::LSTM) cs[(n * g.T + s) * U + j] = prev(g, cs, c0, n, s, j);
        }
      }
    }
  }
}

// Backpropagation through time, from the last step to the first. dh, dc carry dL/dh_s, dL/dc_s;
// dax / dah are dL/d(x_t W + b_in) and dL/d(h_{s-1} U + b_rec) of one step (equal but for GRU's
// candidate, where r multiplies the recurrent part).
template <typename T>
void rnn_backward_reference(const RnnGeom& g, const T* x, const T* w, const T* u, const T* h0, const T* c0,
                            const T* mask, const T* rdrop, const T* hs, const T* cs, const T* gates, const T* extra, const T* dhs,
                            const T* dh_last, const T* dc_last, T* dx, T* dw, T* du, T* db, T* dh0, T* dc0) {
  const int64_t B = g.B, U = g.U, GU = g.G() * g.U;
  const bool gru = g.cell == RnnCell::GRU, lstm = g.cell == RnnCell::LSTM;
  std::vector<T> dh(B * U), dc(B * U), dh_prev(B * U), dax(B * GU), dah(B * GU);
  for (int64_t k = 0; k < B * U; ++k) {
    dh[k] = dh_last ? dh_last[k] : T(0);
    dc[k] = dc_last ? dc_last[k] : T(0);
  }
  for (int64_t k = 0; k < B * g.T * g.I; ++k) dx[k] = T(0);
  for (int64_t k = 0; k < g.I * GU; ++k) dw[k] = T(0);
  for (int64_t k = 0; k < U * GU; ++k) du[k] = T(0);
  for (int64_t k = 0; k < (gru ? 2 : 1) * GU; ++k) db[k] = T(0);
  for (int64_t s = g.T - 1; s >= 0; --s) {
    const int64_t t = g.tin(s);
    for (int64_t n = 0; n < B; ++n) {
      const T* gt = gates + (n * g.T + s) * GU;
      for (int64_t j = 0; j < U; ++j) {
        T d = dh[n * U + j] + (dhs ? dhs[(n * g.T + s) * U + j] : T(0));  // dL/dh_s
        if (!g.keep(mask, n, s)) {
          // h_s = h_{s-1}, c_s = c_{s-1}: the gradients pass through; nothing reaches x_t or the weights
          for (int64_t q = 0; q < g.G(); ++q) dax[n * GU + q * U + j] = dah[n * GU + q * U + j] = T(0);
          dh_prev[n * U + j] = d;  // dc[n * U + j] stays as it is
        } else if (g.cell == RnnCell::Simple) {
          dax[n * GU + j] = dah[n * GU + j] = d * rnn_act_grad(g.act, gt[j]);
          dh_prev[n * U + j] = T(0);
        } else if (lstm) {
          const T ig = gt[j], fg = gt[U + j], cg = gt[2 * U + j], og = gt[3 * U + j];
          const T tc = extra[(n * g.T + s) * U + j];
          // dL/dc_s = carried dc + d * o * act'(c_s);  c_{s-1} receives it times f
          const T dct = dc[n * U + j] + d * og * rnn_act_grad(g.act, tc);
          const T cp = prev(g, cs, c0, n, s, j);
          dax[n * GU + j] = dct * cg * rnn_act_grad(g.rec_act, ig);
          dax[n * GU + U + j] = dct * cp * rnn_act_grad(g.rec_act, fg);
          dax[n * GU + 2 * U + j] = dct * ig * rnn_act_grad(g.act, cg);
          dax[n * GU + 3 * U + j] = d * tc * rnn_act_grad(g.rec_act, og);
          for (int64_t q = 0; q < 4; ++q) dah[n * GU + q * U + j] = dax[n * GU + q * U + j];
          dc[n * U + j] = dct * fg;
          dh_prev[n * U + j] = T(0);
        } else {
          const T z = gt[j], r = gt[U + j], hh = gt[2 * U + j];
          const T hp = prev(g, hs, h0, n, s, j);
          const T da = d * (T(1) - z) * rnn_act_grad(g.act, hh);  // dL/d(candidate's pre-activation)
          dax[n * GU + j] = dah[n * GU + j] = d * (hp - hh) * rnn_act_grad(g.rec_act, z);
          dax[n * GU + U + j] = dah[n * GU + U + j] =
              da * extra[(n * g.T + s) * U + j] * rnn_act_grad(g.rec_act, r);
          dax[n * GU + 2 * U + j] = da;
          dah[n * GU + 2 * U + j] = da * r;
          dh_prev[n * U + j] = d * z;  // h_s = z * h_{s-1} + ...
        }
      }
      // dx_t = dax Wᵀ,  dW += x_tᵀ dax,  dU += (h_{s-1} * m)ᵀ dah,  db += dax (and dah for GRU's b_rec),
      // dL/dh_{s-1} += (dah Uᵀ) * m   (m: the gate's recurrent dropout mask, or 1)
      for (int64_t k = 0; k < GU; ++k) {
        const T a = dax[n * GU + k], r = dah[n * GU + k];
        for (int64_t i = 0; i < g.I; ++i) {
          dx[(n * g.T + t) * g.I + i] += a * w[i * GU + k];
          dw[i * GU + k] += x[(n * g.T + t) * g.I + i] * a;
        }
        for (int64_t j = 0; j < U; ++j) {
          const T m = rdrop ? rdrop[n * GU + (k / U) * U + j] : T(1);
          du[j * GU + k] += prev(g, hs, h0, n, s, j) * m * r;
          dh_prev[n * U + j] += r * u[j * GU + k] * m;
        }
        db[k] += a;
        if (gru) db[GU + k] += r;
      }
    }
    dh.swap(dh_prev);
  }
  for (int64_t k = 0; k < B * U; ++k) {
    if (dh0) dh0[k] = dh[k];
    if (dc0) dc0[k] = lstm ? dc[k] : T(0);
  }
}

#define PYDL_INSTANTIATE_RNN_REF(T)                                                                            \
  template void rnn_forward_reference<T>(const RnnGeom&, const T*, const T*, const T*, const T*, const T*,     \
                                         const T*, const T*, const T*, T*, T*, T*, T*);                        \
  template void rnn_backward_reference<T>(const RnnGeom&, const T*, const T*, const T*, const T*, const T*,    \
                                          const T*, const T*, const T*, const T*, const T*, const T*, const T*, \
                                          const T*, const T*, T*, T*, T*, T*, T*, T*);
PYDL_INSTANTIATE_RNN_REF(float)
PYDL_INSTANTIATE_RNN_REF(double)

}  // namespace pydl::kernels
