// Fast recurrent kernels: the input projection of all B*T rows is one GEMM (x W + b_in); each step
// then does one GEMM for the recurrent part (h_{s-1} U) and an OpenMP pass over the gates. Backward
// runs the steps in reverse with one GEMM per step (dL/dh_{s-1} = dah Uᵀ), then three GEMMs over
// the whole sequence (dx = dax Wᵀ, dW = xᵀ dax, dU = h_prevᵀ dah). Equations: reference/rnn.cpp.
#include <algorithm>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/rnn.h"

namespace pydl::kernels {

namespace {

// Run elementwise passes in parallel only when they are big enough to pay for the threads.
constexpr int64_t kParallelMin = 1 << 14;

}  // namespace

template <typename T>
void rnn_forward_fast(const RnnGeom& g, const T* x, const T* w, const T* u, const T* b, const T* h0, const T* c0,
                      const T* mask, const T* rdrop, T* hs, T* cs, T* gates, T* extra) {
  const int64_t B = g.B, TT = g.T, U = g.U, GU = g.G() * g.U;
  const bool gru = g.cell == RnnCell::GRU, lstm = g.cell == RnnCell::LSTM;
  // ax[n, t] = x[n, t] W + b_in, by input time t: one GEMM over every sample and step
  std::vector<T> ax(static_cast<size_t>(B * TT * GU)), ah(static_cast<size_t>(B * GU));
  std::vector<T> hdrop(rdrop ? static_cast<size_t>(B * U) : 0);  // h_{s-1} * one gate's dropout mask
  if (b)
    for (int64_t r = 0; r < B * TT; ++r) std::copy(b, b + GU, ax.data() + r * GU);
  gemm_fast<T>(false, false, B * TT, GU, g.I, T(1), x, g.I, w, GU, b ? T(1) : T(0), ax.data(), GU);
  for (int64_t s = 0; s < TT; ++s) {
    const int64_t t = g.tin(s);
    // ah = h_{s-1} U + b_rec (GRU), h_{s-1} being row s-1 of hs (row stride T*U) or h0
    const T* hp = s > 0 ? hs + (s - 1) * U : h0;
    const int64_t ldh = s > 0 ? TT * U : U;
    const T* brec = gru && b ? b + GU : nullptr;
    if (brec)
      for (int64_t n = 0; n < B; ++n) std::copy(brec, brec + GU, ah.data() + n * GU);
    if (hp && rdrop) {
      // recurrent dropout: gate q gets (h_{s-1} * m_q) U_q, one GEMM per gate
      for (int64_t q = 0; q < g.G(); ++q) {
        for (int64_t n = 0; n < B; ++n)
          for (int64_t j = 0; j < U; ++j) hdrop[n * U + j] = hp[n * ldh + j] * rdrop[n * GU + q * U + j];
        gemm_fast<T>(false, false, B, U, U, T(1), hdrop.data(), U, u + q * U, GU, brec ? T(1) : T(0),
                     ah.data() + q * U, GU);
      }
    } else if (hp) {
      gemm_fast<T>(false, false, B, GU, U, T(1), hp, ldh, u, GU, brec ? T(1) : T(0), ah.data(), GU);
    } else if (!brec) {
      std::fill(ah.begin(), ah.end(), T(0));
    }
    const T* axp = ax.data();
    const T* ahp = ah.data();
#pragma omp parallel for collapse(2) if (B * U * g.G() >= kParallelMin)
    for (int64_t n = 0; n < B; ++n)
      for (int64_t j = 0; j < U; ++j) {
        const T* a = axp + (n * TT + t) * GU;
        const T* r = ahp + n * GU;
        T* gt = gates + (n * TT + s) * GU;
        const int64_t o = (n * TT + s) * U + j;
        const T prev_h = hp ? hp[n * ldh + j] : T(0);
        if (g.cell == RnnCell::Simple) {
          hs[o] = gt[j] = rnn_act(g.act, a[j] + r[j]);
        } else if (lstm) {
          const T ig = rnn_act(g.rec_act, a[j] + r[j]);
          const T fg = rnn_act(g.rec_act, a[U + j] + r[U + j]);
          const T cg = rnn_act(g.act, a[2 * U + j] + r[2 * U + j]);
          const T og = rnn_act(g.rec_act, a[3 * U + j] + r[3 * U + j]);
          const T cp = s > 0 ? cs[o - U] : (c0 ? c0[n * U + j] : T(0));
          const T c = fg * cp + ig * cg;
          const T tc = rnn_act(g.act, c);
          gt[j] = ig, gt[U + j] = fg, gt[2 * U + j] = cg, gt[3 * U + j] = og;
          cs[o] = c;
          extra[o] = tc;
          hs[o] = og * tc;
        } else {
          const T z = rnn_act(g.rec_act, a[j] + r[j]);
          const T rr = rnn_act(g.rec_act, a[U + j] + r[U + j]);
          const T hh = rnn_act(g.act, a[2 * U + j] + rr * r[2 * U + j]);
          gt[j] = z, gt[U + j] = rr, gt[2 * U + j] = hh;
          extra[o] = r[2 * U + j];
          hs[o] = z * prev_h + (T(1) - z) * hh;
        }
        if (mask && !g.keep(mask, n, s)) {  // a masked step: the states carry through
          hs[o] = prev_h;
          if (lstm) cs[o] = s > 0 ? cs[o - U] : (c0 ? c0[n * U + j] : T(0));
        }
      }
  }
}

template <typename T>
void rnn_backward_fast(const RnnGeom& g, const T* x, const T* w, const T* u, const T* h0, const T* c0,
                       const T* mask, const T* rdrop, const T* hs, const T* cs, const T* gates, const T* extra, const T* dhs, const T* dh_last,
                       const T* dc_last, T* dx, T* dw, T* du, T* db, T* dh0, T* dc0) {
  const int64_t B = g.B, TT = g.T, U = g.U, GU = g.G() * g.U;
  const bool gru = g.cell == RnnCell::GRU, lstm = g.cell == RnnCell::LSTM;
  // dax by input time t (so dx and dW are plain GEMMs); dah and hprev by step s
  std::vector<T> dax(static_cast<size_t>(B * TT * GU));
  std::vector<T> dah_gru(gru ? static_cast<size_t>(B * TT * GU) : 0);
  std::vector<T> hprev(static_cast<size_t>(B * TT * U));
  std::vector<T> dh(static_cast<size_t>(B * U)), dc(static_cast<size_t>(B * U));
  std::vector<T> dah_step(gru ? 0 : static_cast<size_t>(B * GU));  // SimpleRNN / LSTM: dah = dax
  std::vector<T> dhq(rdrop ? static_cast<size_t>(B * U) : 0);       // one gate's dah_q U_qᵀ
  for (int64_t k = 0; k < B * U; ++k) {
    dh[k] = dh_last ? dh_last[k] : T(0);
    dc[k] = dc_last ? dc_last[k] : T(0);
  }
  for (int64_t n = 0; n < B; ++n)
    for (int64_t s = 0; s < TT; ++s)
      for (int64_t j = 0; j < U; ++j)
        hprev[(n * TT + s) * U + j] = s > 0 ? hs[(n * TT + s - 1) * U + j] : (h0 ? h0[n * U + j] : T(0));
  T* dhp = dh.data();
  T* dcp = dc.data();
  T* daxp = dax.data();
  T* dahg = dah_gru.data();
  T* dahs = dah_step.data();
  const T* hpp = hprev.data();
  for (int64_t s = TT - 1; s >= 0; --s) {
    const int64_t t = g.tin(s);
#pragma omp parallel for collapse(2) if (B * U * g.G() >= kParallelMin)
    for (int64_t n = 0; n < B; ++n)
      for (int64_t j = 0; j < U; ++j) {
        const int64_t o = (n * TT + s) * U + j;
        const T* gt = gates + (n * TT + s) * GU;
        T* a = daxp + (n * TT + t) * GU;
        const T d = dhp[n * U + j] + (dhs ? dhs[o] : T(0));
        if (mask && !g.keep(mask, n, s)) {  // h_s = h_{s-1}, c_s = c_{s-1}: the gradient passes through
          for (int64_t q = 0; q < g.G(); ++q) {
            a[q * U + j] = T(0);
            if (gru) dahg[(n * TT + s) * GU + q * U + j] = T(0);
            else dahs[n * GU + q * U + j] = T(0);
          }
          dhp[n * U + j] = d;
        } else if (g.cell == RnnCell::Simple) {
          dahs[n * GU + j] = a[j] = d * rnn_act_grad(g.act, gt[j]);
          dhp[n * U + j] = T(0);
        } else if (lstm) {
          const T ig = gt[j], fg = gt[U + j], cg = gt[2 * U + j], og = gt[3 * U + j];
          const T tc = extra[o];
          const T dct = dcp[n * U + j] + d * og * rnn_act_grad(g.act, tc);
          const T cp = s > 0 ? cs[o - U] : (c0 ? c0[n * U + j] : T(0));
          a[j] = dct * cg * rnn_act_grad(g.rec_act, ig);
          a[U + j] = dct * cp * rnn_act_grad(g.rec_act, fg);
          a[2 * U + j] = dct * ig * rnn_act_grad(g.act, cg);
          a[3 * U + j] = d * tc * rnn_act_grad(g.rec_act, og);
          for (int64_t q = 0; q < 4; ++q) dahs[n * GU + q * U + j] = a[q * U + j];
          dcp[n * U + j] = dct * fg;
          dhp[n * U + j] = T(0);
        } else {
          const T z = gt[j], r = gt[U + j], hh = gt[2 * U + j];
          const T da = d * (T(1) - z) * rnn_act_grad(g.act, hh);
          T* ah = dahg + (n * TT + s) * GU;
          ah[j] = a[j] = d * (hpp[o] - hh) * rnn_act_grad(g.rec_act, z);
          ah[U + j] = a[U + j] = da * extra[o] * rnn_act_grad(g.rec_act, r);
          a[2 * U + j] = da;
          ah[2 * U + j] = da * r;
          dhp[n * U + j] = d * z;
        }
      }
    // dL/dh_{s-1} (+)= dah Uᵀ  (with recurrent dropout: the sum over gates of (dah_q U_qᵀ) * m_q)
    const T* ah = gru ? dahg + s * GU : dahs;
    const int64_t lda = gru ? TT * GU : GU;
    if (rdrop) {
      for (int64_t q = 0; q < g.G(); ++q) {
        gemm_fast<T>(false, true, B, U, U, T(1), ah + q * U, lda, u + q * U, GU, T(0), dhq.data(), U);
        for (int64_t n = 0; n < B; ++n)
          for (int64_t j = 0; j < U; ++j) dhp[n * U + j] += dhq[n * U + j] * rdrop[n * GU + q * U + j];
      }
    } else {
      gemm_fast<T>(false, true, B, U, GU, T(1), ah, lda, u, GU, T(1), dhp, U);
    }
  }
  const T* dah_all = daxp;  // SimpleRNN / LSTM: dah = dax, reordered to steps when go_backwards
  std::vector<T> dah_steps;
  if (gru) {
    dah_all = dahg;
  } else if (g.go_backwards) {
    dah_steps.resize(dax.size());
    for (int64_t n = 0; n < B; ++n)
      for (int64_t s = 0; s < TT; ++s)
        std::copy(daxp + (n * TT + g.tin(s)) * GU, daxp + (n * TT + g.tin(s) + 1) * GU,
                  dah_steps.data() + (n * TT + s) * GU);
    dah_all = dah_steps.data();
  }
  const int64_t R = B * TT;
  gemm_fast<T>(false, true, R, g.I, GU, T(1), daxp, GU, w, GU, T(0), dx, g.I);     // dx = dax Wᵀ
  gemm_fast<T>(true, false, g.I, GU, R, T(1), x, g.I, daxp, GU, T(0), dw, GU);     // dW = xᵀ dax
  if (rdrop) {  // dU_q = (h_prev * m_q)ᵀ dah_q, gate by gate
    std::vector<T> hq(static_cast<size_t>(R * U));
    for (int64_t q = 0; q < g.G(); ++q) {
      for (int64_t n = 0; n < B; ++n)
        for (int64_t s = 0; s < TT; ++s)
          for (int64_t j = 0; j < U; ++j)
            hq[(n * TT + s) * U + j] = hpp[(n * TT + s) * U + j] * rdrop[n * GU + q * U + j];
      gemm_fast<T>(true, false, U, U, R, T(1), hq.data(), U, dah_all + q * U, GU, T(0), du + q * U, GU);
    }
  } else {
    gemm_fast<T>(true, false, U, GU, R, T(1), hpp, U, dah_all, GU, T(0), du, GU);  // dU = h_prevᵀ dah
  }
  std::fill(db, db + (gru ? 2 : 1) * GU, T(0));
  for (int64_t r = 0; r < R; ++r)
    for (int64_t k = 0; k < GU; ++k) db[k] += daxp[r * GU + k];
  if (gru)
    for (int64_t r = 0; r < R; ++r)
      for (int64_t k = 0; k < GU; ++k) db[GU + k] += dahg[r * GU + k];
  for (int64_t k = 0; k < B * U; ++k) {
    if (dh0) dh0[k] = dh[k];
    if (dc0) dc0[k] = lstm ? dc[k] : T(0);
  }
}

#define PYDL_INSTANTIATE_RNN_FAST(T)                                                                          \
  template void rnn_forward_fast<T>(const RnnGeom&, const T*, const T*, const T*, const T*, const T*,         \
                                    const T*, const T*, const T*, T*, T*, T*, T*);                            \
  template void rnn_backward_fast<T>(const RnnGeom&, const T*, const T*, const T*, const T*, const T*,        \
                                     const T*, const T*, const T*, const T*, const T*, const T*, const T*,    \
                                     const T*, const T*, T*, T*, T*, T*, T*, T*);
PYDL_INSTANTIATE_RNN_FAST(float)
PYDL_INSTANTIATE_RNN_FAST(double)

}  // namespace pydl::kernels
