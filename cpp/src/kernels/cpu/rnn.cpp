// Fast recurrent kernels: the input projection of all B*T rows is one GEMM (x W + b_in); each step
// then does one GEMM for the recurrent part (h_{s-1} U) and a pass over the gates. Inference (no
// gradient recorded: gates = null) saves nothing for backward and keeps the LSTM's c in a (B, U)
// buffer. SimpleRNN / LSTM (without recurrent dropout) do one GEMM per step, [x_t, h_{s-1}] [W; U],
// instead of the input projection and the recurrent product apart. The weights the
// steps multiply are copied once per call into contiguous column panels (Panels). Backward runs
// the steps in reverse with one GEMM per step (dL/dh_{s-1} = dah Uᵀ), then three GEMMs over the
// whole sequence (dx = dax Wᵀ, dW = xᵀ dax, dU = h_prevᵀ dah). Equations: reference/rnn.cpp.
//
// Threads over the batch rows: sample n's recurrence reads only sample n's earlier steps, so each
// thread runs whole sequences for its rows, per step a serial GEMM (gemm_fast_serial) on those
// rows and the gate pass, in one OpenMP region per call with no barrier between steps. (The
// per-step GEMMs of the course's shapes, 32 x 4U x U, are too small for gemm_fast's own threads:
// one region per step and per gate pass cost more than they saved, bench/rnn.py.) Every buffer is
// taken before the region. Each element is computed by one thread with the same operations
// whichever thread count runs: results do not depend on it.
//
// Masks and recurrent dropout (rnn.h) never enter the vectorised j loops: a masked step is a
// per-row check outside them (forward: the gate pass runs as usual, then the row's h and c are
// overwritten with the carried ones; backward: the row skips the gate pass and its gradients pass
// through), and recurrent dropout swaps a step's single GEMM for one GEMM per gate on h_{s-1} * m_q
// (forward) or a pass adding (dah_q U_qᵀ) * m_q (backward). Without them, the loops are as before.
#include <algorithm>
#include <memory>
#include <type_traits>
#include <vector>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/lstm_avx512.h"
#include "kernels/cpu/vec_math.h"
#include "kernels/kernels.h"
#include "kernels/rnn.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace pydl::kernels {

namespace {

// Threads only pay off above ~this many multiply-adds in the recurrent GEMMs of one call.
constexpr int64_t kParallelMinWork = int64_t(1) << 20;

int rnn_threads(int64_t B, int64_t work) {
#ifdef _OPENMP
  if (omp_in_parallel() || work < kParallelMinWork) return 1;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), B)));
#else
  (void)B, (void)work;
  return 1;
#endif
}

inline int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

// An uninitialised buffer (every element is written before it is read; std::vector would zero it).
template <typename T>
std::unique_ptr<T[]> scratch(int64_t n) {
  return std::unique_ptr<T[]>(new T[static_cast<size_t>(std::max<int64_t>(n, 1))]);
}

// GEMM workspace for one thread whose row count is B / nt rounded down or up.
template <typename T>
int64_t step_workspace(int64_t B, int nt, int64_t N, int64_t K) {
  const int64_t lo = B / nt, hi = (B + nt - 1) / nt;
  return std::max(gemm_workspace_size<T>(false, false, std::max<int64_t>(lo, 1), N, K),
                  gemm_workspace_size<T>(false, false, hi, N, K));
}

// A weight matrix used by every step's GEMM (K, N), copied once per call into column panels of
// kPanelBytes / sizeof(T) columns, each panel contiguous (K, width). The unpacked GEMM that
// these small products take reads B in place a column block at a time; with B's own row stride
// (G*U values, 1-2 KB) the K rows of a block fall into a few L1 sets and evict each other, and
// the contiguous panel measured ~25% faster (32 x 512 x 128: 162 -> 204 GFLOP/s, 1 thread), 48
// columns wide for gemm_panel_serial's 8 x 48 register tile (a few % more in the LSTM(128) step).
// Each C element is still one FMA chain over k in order: the same bits as one call over all N.
constexpr int64_t kPanelBytes = 192;  // gemm_panel_serial's width (48 floats, 24 doubles)

template <typename T>
struct Panels {
  int64_t K = 0, N = 0;
  std::vector<int64_t> cols;  // panel b holds columns [cols[b], cols[b + 1])
  std::unique_ptr<T[]> buf;   // panel b at buf + cols[b] * K, (K, width) row-major
  // row(k) points at row k of the (K, N) matrix. Panels are kPanelBytes wide; a last panel of
  // 1/3 of that (16 floats: an 8 x 1 register tile, a fraction of the multiply rate) is merged
  // into the one before (64 floats: gemm_fast_serial's 6 x 64 tile).
  template <class Row>
  Panels(int64_t k, int64_t n, Row row) : K(k), N(n) {
    const int64_t w = kPanelBytes / int64_t(sizeof(T));
    for (int64_t j0 = 0; j0 < N; j0 += w) cols.push_back(j0);
    if (cols.size() > 1 && N - cols.back() <= w / 3) cols.pop_back();
    cols.push_back(N);
    buf = scratch<T>(K * N);
    for (size_t b = 0; b + 1 < cols.size(); ++b) {
      const int64_t j0 = cols[b], wb = cols[b + 1] - j0;
      T* dst = buf.get() + j0 * K;
      for (int64_t kk = 0; kk < K; ++kk) std::copy(row(kk) + j0, row(kk) + j0 + wb, dst + kk * wb);
    }
  }
  int64_t workspace(int64_t rows) const {
    int64_t n = 0;
    for (size_t b = 0; b + 1 < cols.size(); ++b)
      n = std::max(n, gemm_workspace_size<T>(false, false, std::max<int64_t>(rows, 1), cols[b + 1] - cols[b], K));
    return n;
  }
  // C (rows, N) = A (rows, K) · B + beta C, on the calling thread (one product per panel)
  void gemm(int64_t rows, const T* A, int64_t lda, T beta, T* C, int64_t ldc, T* ws) const {
    for (size_t b = 0; b + 1 < cols.size(); ++b) {
      const int64_t j0 = cols[b], wb = cols[b + 1] - j0;
      gemm_panel_serial<T>(rows, wb, K, A, lda, buf.get() + j0 * K, wb, beta, C + j0, ldc, ws);
    }
  }
};

// Workspace for Panels::gemm on one thread whose row count is B / nt rounded down or up.
template <typename T>
int64_t panel_workspace(const Panels<T>& p, int64_t B, int nt) {
  return std::max(p.workspace(B / nt), p.workspace((B + nt - 1) / nt));
}

// ------------------------------------------------------------------ the gate passes
// One step's gates for the batch rows [n0, n1): forward (the activations from the pre-activations
// ax + ah) and backward (the pre-activation gradients dax / dah from the saved gates). `Geom` is
// RnnGeom, or FixedGeom, whose static members shadow the cell and the activations with
// compile-time constants: the loops read g.cell / g.act / g.rec_act either way, and with
// FixedGeom every branch on them folds away and the j loop vectorises (`omp simd`; float's
// rnn_act below is branch-free). Each copy is compiled for AVX2 and AVX-512 (isa.h).

template <RnnCell C, RnnAct A, RnnAct RA>
struct FixedGeom : RnnGeom {
  static constexpr RnnCell cell = C;
  static constexpr RnnAct act = A, rec_act = RA;
  explicit FixedGeom(const RnnGeom& geom) : RnnGeom(geom) {}
};

// float activations in plain arithmetic (vec_math.h: relative error ~1e-7, as the elementwise
// kernels'), so the gate loops vectorise; this overload wins over rnn.h's template for float,
// double keeps the template's libm form.
inline float rnn_act(RnnAct a, float v) {
  switch (a) {
    case RnnAct::Tanh: return tanh_vec(v);
    case RnnAct::Sigmoid: return sigmoid_vec(v);
    case RnnAct::Relu: return v > 0 ? v : 0.0f;
    default: return v;
  }
}

// Mode: Save writes the gates and extras for backward; Infer and Fused do not (inference: gates
// and extra unused). Save and Infer add a second term to ah, row n of it at axp + n * ax_ld: the
// step's input projection (ax_ld = G*U), or with ax_ld = 0 one row for every sample (the bias,
// when the GEMM put x_t W in ah too: [x_t, h_{s-1}] [W; U]); Fused has everything in ah already
// (that GEMM without a bias) and axp is unused.
enum class GateMode { Save, Infer, Fused };

template <typename T, class Geom, GateMode Mode>
__attribute__((always_inline)) inline void forward_gates(const RnnGeom& geom, int64_t s, int64_t ax_ld, int64_t n0,
                                                         int64_t n1, const T* hp, int64_t ldh, const T* axp,
                                                         const T* ahp, const T* c0, const T* zeros, T* hs, T* cs,
                                                         T* gates, T* extra) {
  const Geom g(geom);
  const int64_t TT = g.T, U = g.U, GU = g.G() * g.U;
  const bool lstm = g.cell == RnnCell::LSTM;
  for (int64_t n = n0; n < n1; ++n) {
    // sample n's h_{s-1} and c_{s-1} (zeros without an initial state), chosen outside the j loop so
    // that its loads are unconditional (a conditional load stops vectorisation)
    const T* hrow = hp ? hp + n * ldh : zeros;
    // c_{s-1}: the saved sequence (B, T, U), or in inference the running state (B, U) updated in place
    const T* crow = s > 0 ? (Mode == GateMode::Save ? cs + (n * TT + s - 1) * U : cs + n * U)
                          : (c0 ? c0 + n * U : zeros);
    T* cout = Mode == GateMode::Save ? cs + (n * TT + s) * U : cs + n * U;
    T* hout = g.all_states ? hs + (n * TT + s) * U : hs + n * U;  // h_s (in place of h_{s-1} when rolling)
#pragma omp simd
    for (int64_t j = 0; j < U; ++j) {
      constexpr bool Save = Mode == GateMode::Save, Fused = Mode == GateMode::Fused;
      const T* a = Fused ? nullptr : axp + n * ax_ld;
      const T* r = ahp + n * GU;
      // the pre-activation of gate q, unit j
      auto pre = [&](int64_t q) { return Fused ? r[q * U + j] : a[q * U + j] + r[q * U + j]; };
      T* gt = Save ? gates + (n * TT + s) * GU : nullptr;
      const int64_t o = (n * TT + s) * U + j;
      const T prev_h = hrow[j];
      if (g.cell == RnnCell::Simple) {
        const T h = rnn_act(g.act, pre(0));
        if (Save) gt[j] = h;
        hout[j] = h;
      } else if (lstm) {
        const T ig = rnn_act(g.rec_act, pre(0));
        const T fg = rnn_act(g.rec_act, pre(1));
        const T cg = rnn_act(g.act, pre(2));
        const T og = rnn_act(g.rec_act, pre(3));
        const T cp = crow[j];
        const T c = fg * cp + ig * cg;
        const T tc = rnn_act(g.act, c);
        if (Save) gt[j] = ig, gt[U + j] = fg, gt[2 * U + j] = cg, gt[3 * U + j] = og, extra[o] = tc;
        cout[j] = c;
        hout[j] = og * tc;
      } else {
        // (never Fused: r multiplies the recurrent part of the candidate only)
        const T z = rnn_act(g.rec_act, pre(0));
        const T rr = rnn_act(g.rec_act, pre(1));
        const T hh = rnn_act(g.act, (Fused ? T(0) : a[2 * U + j]) + rr * r[2 * U + j]);
        if (Save) gt[j] = z, gt[U + j] = rr, gt[2 * U + j] = hh, extra[o] = r[2 * U + j];
        hout[j] = z * prev_h + (T(1) - z) * hh;
      }
    }
  }
}

// Masked: whether a mask is given; a separate copy, so that the loop without a mask has no
// per-row check at all.
template <typename T, class Geom, bool Masked>
__attribute__((always_inline)) inline void backward_gates(const RnnGeom& geom, int64_t s, int64_t t, int64_t n0,
                                                          int64_t n1, const T* gates, const T* extra, const T* cs,
                                                          const T* c0, const T* zeros, const T* hpp, const T* dhs,
                                                          const T* mask, T* dhp, T* dcp, T* daxp, T* dahg) {
  const Geom g(geom);
  const int64_t TT = g.T, U = g.U, GU = g.G() * g.U;
  const bool lstm = g.cell == RnnCell::LSTM;
  for (int64_t n = n0; n < n1; ++n) {
    // unconditional loads in the j loop (see forward_gates): dL/dh_s from the sequence, c_{s-1}
    const T* dhsrow = dhs ? dhs + (n * TT + s) * U : zeros;
    if (Masked && !g.keep(mask, n, s)) {
      // a masked step (h_s = h_{s-1}, c_s = c_{s-1}): dL/dh_s passes to h_{s-1}, dL/dc_s stays as it
      // is, nothing reaches x_t or the weights (dax, dah zero; the dah Uᵀ that follows adds 0)
      T* a = daxp + (n * TT + t) * GU;
      std::fill(a, a + GU, T(0));
      if (g.cell == RnnCell::GRU) std::fill(dahg + (n * TT + s) * GU, dahg + (n * TT + s + 1) * GU, T(0));
      for (int64_t j = 0; j < U; ++j) dhp[n * U + j] += dhsrow[j];
      continue;
    }
    const T* crow = s > 0 ? cs + (n * TT + s - 1) * U : (c0 ? c0 + n * U : zeros);
#pragma omp simd
    for (int64_t j = 0; j < U; ++j) {
      const int64_t o = (n * TT + s) * U + j;
      const T* gt = gates + (n * TT + s) * GU;
      T* a = daxp + (n * TT + t) * GU;
      const T d = dhp[n * U + j] + dhsrow[j];
      if (g.cell == RnnCell::Simple) {
        a[j] = d * rnn_act_grad(g.act, gt[j]);
        dhp[n * U + j] = T(0);
      } else if (lstm) {
        const T ig = gt[j], fg = gt[U + j], cg = gt[2 * U + j], og = gt[3 * U + j];
        const T tc = extra[o];
        const T dct = dcp[n * U + j] + d * og * rnn_act_grad(g.act, tc);
        const T cp = crow[j];
        a[j] = dct * cg * rnn_act_grad(g.rec_act, ig);
        a[U + j] = dct * cp * rnn_act_grad(g.rec_act, fg);
        a[2 * U + j] = dct * ig * rnn_act_grad(g.act, cg);
        a[3 * U + j] = d * tc * rnn_act_grad(g.rec_act, og);
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
  }
}

template <typename T>
using ForwardGates = void (*)(const RnnGeom&, int64_t, int64_t, int64_t, int64_t, const T*, int64_t, const T*,
                              const T*, const T*, const T*, T*, T*, T*, T*);
template <typename T>
using BackwardGates = void (*)(const RnnGeom&, int64_t, int64_t, int64_t, int64_t, const T*, const T*, const T*,
                               const T*, const T*, const T*, const T*, const T*, T*, T*, T*, T*);

#define PYDL_RNN_GATES(ISA, TARGET)                                                                            \
  template <typename T, class Geom, GateMode Mode>                                                            \
  TARGET void forward_gates_##ISA(const RnnGeom& geom, int64_t s, int64_t ld, int64_t n0, int64_t n1,        \
                                  const T* hp, int64_t ldh, const T* axp, const T* ahp, const T* c0,        \
                                  const T* zeros, T* hs, T* cs, T* gates, T* extra) {                         \
    forward_gates<T, Geom, Mode>(geom, s, ld, n0, n1, hp, ldh, axp, ahp, c0, zeros, hs, cs, gates, extra);    \
  }                                                                                                           \
  template <typename T, class Geom, bool Masked>                                                              \
  TARGET void backward_gates_##ISA(const RnnGeom& geom, int64_t s, int64_t t, int64_t n0, int64_t n1,        \
                                   const T* gates, const T* extra, const T* cs, const T* c0,                 \
                                   const T* zeros, const T* hpp, const T* dhs, const T* mask, T* dhp,        \
                                   T* dcp, T* daxp, T* dahg) {                                                \
    backward_gates<T, Geom, Masked>(geom, s, t, n0, n1, gates, extra, cs, c0, zeros, hpp, dhs, mask, dhp, dcp, \
                                    daxp, dahg);                                                              \
  }
PYDL_FOR_EACH_ISA(PYDL_RNN_GATES)
#undef PYDL_RNN_GATES

// The gate passes for this CPU and geometry: compile-time copies for Keras's default activations
// (tanh, sigmoid) of each cell, the runtime-branching loops for any other choice.
using LstmDefault = FixedGeom<RnnCell::LSTM, RnnAct::Tanh, RnnAct::Sigmoid>;
using GruDefault = FixedGeom<RnnCell::GRU, RnnAct::Tanh, RnnAct::Sigmoid>;
using SimpleTanh = FixedGeom<RnnCell::Simple, RnnAct::Tanh, RnnAct::Sigmoid>;  // rec_act unused

#if PYDL_X86
// The float LSTM with Keras's default activations on AVX-512: forward_gates' row pointers, and
// the row in intrinsics (lstm_avx512.h)
template <GateMode Mode>
PYDL_TARGET_AVX512 void forward_gates_lstm_avx512(const RnnGeom& g, int64_t s, int64_t ax_ld, int64_t n0,
                                                  int64_t n1, const float* hp, int64_t ldh, const float* axp,
                                                  const float* ahp, const float* c0, const float* zeros, float* hs,
                                                  float* cs, float* gates, float* extra) {
  (void)hp, (void)ldh;
  constexpr bool Save = Mode == GateMode::Save, Fused = Mode == GateMode::Fused;
  const int64_t TT = g.T, U = g.U, GU = 4 * U;
  for (int64_t n = n0; n < n1; ++n) {
    const float* crow = s > 0 ? (Save ? cs + (n * TT + s - 1) * U : cs + n * U) : (c0 ? c0 + n * U : zeros);
    float* cout = Save ? cs + (n * TT + s) * U : cs + n * U;
    lstm_avx512::row<Save, Fused>(U, Fused ? nullptr : axp + n * ax_ld, ahp + n * GU, crow, cout,
                                  g.all_states ? hs + (n * TT + s) * U : hs + n * U,
                                  Save ? gates + (n * TT + s) * GU : nullptr,
                                  Save ? extra + (n * TT + s) * U : nullptr);
  }
}
#endif

template <GateMode Mode>
struct ForwardCopiesOf {
  template <typename T, class Geom>
  struct Copies {
    static ForwardGates<T> get() {
#if PYDL_X86
      if constexpr (std::is_same<T, float>::value && std::is_same<Geom, LstmDefault>::value)
        return pick(&forward_gates_generic<T, Geom, Mode>, &forward_gates_avx2<T, Geom, Mode>,
                    &forward_gates_lstm_avx512<Mode>);
#endif
      return pick(&forward_gates_generic<T, Geom, Mode>, &forward_gates_avx2<T, Geom, Mode>,
                  &forward_gates_avx512<T, Geom, Mode>);
    }
  };
};
template <typename T, class Geom>
using ForwardCopies = ForwardCopiesOf<GateMode::Save>::Copies<T, Geom>;
template <typename T, class Geom>
using ForwardInferCopies = ForwardCopiesOf<GateMode::Infer>::Copies<T, Geom>;
template <typename T, class Geom>
using ForwardFusedCopies = ForwardCopiesOf<GateMode::Fused>::Copies<T, Geom>;
template <typename T, class Geom>
struct BackwardCopies {
  static BackwardGates<T> get() {
    return pick(&backward_gates_generic<T, Geom, false>, &backward_gates_avx2<T, Geom, false>,
                &backward_gates_avx512<T, Geom, false>);
  }
};
template <typename T, class Geom>
struct BackwardMaskedCopies {  // with a mask
  static BackwardGates<T> get() {
    return pick(&backward_gates_generic<T, Geom, true>, &backward_gates_avx2<T, Geom, true>,
                &backward_gates_avx512<T, Geom, true>);
  }
};

template <typename T, template <typename, class> class Copies>
auto choose_gates(const RnnGeom& g) -> decltype(Copies<T, RnnGeom>::get()) {
  const bool defaults = g.act == RnnAct::Tanh && g.rec_act == RnnAct::Sigmoid;
  if (defaults && g.cell == RnnCell::LSTM) return Copies<T, LstmDefault>::get();
  if (defaults && g.cell == RnnCell::GRU) return Copies<T, GruDefault>::get();
  if (g.cell == RnnCell::Simple && g.act == RnnAct::Tanh) return Copies<T, SimpleTanh>::get();
  return Copies<T, RnnGeom>::get();
}

}  // namespace

template <typename T>
void rnn_forward_fast(const RnnGeom& g, const T* x, const T* w, const T* u, const T* b, const T* h0, const T* c0,
                      const T* mask, const T* rdrop, T* hs, T* cs, T* gates, T* extra) {
  const int64_t B = g.B, TT = g.T, U = g.U, G = g.G(), GU = G * g.U;
  const bool gru = g.cell == RnnCell::GRU, lstm = g.cell == RnnCell::LSTM;
  // The input projection when it is not fused into the step GEMM (below: the GRU, recurrent
  // dropout). Saving for backward (gates given): ax[t, n] = x[n, t] W (+ b_in for the GRU) for
  // every step at once, time-major (each step reads one contiguous block): x copied time-major,
  // then one GEMM over every sample and step. Inference (gates null): each thread projects its
  // rows of x_t at the step itself into a (B, G*U) buffer that stays in cache (the whole
  // sequence's ax is B*T*G*U values written once and read back from memory step by step).
  // The SimpleRNN's and the LSTM's bias is added at each step (a + r is all they use; a pass over
  // ax saved). The GRU's input bias stays in ax: r multiplies h U + b_rh only.
  const bool save = gates != nullptr;
  // A SimpleRNN or an LSTM without recurrent dropout: one GEMM per step, [x_t, h_{s-1}] [W; U]
  // (K = I + U; x W apart, over the whole sequence or per step with K = I, often 1 or 8, runs
  // below the GEMM's speed and its result goes through memory). The GRU keeps x_t W apart: r
  // multiplies only the recurrent part.
  const bool fused = !rdrop && !gru;
  const int64_t KC = g.I + U;
  const T* b_in = gru ? b : nullptr;
  const T* b_step = gru ? (b ? b + GU : nullptr) : b;  // added to ah = h_{s-1} U at each step
  std::unique_ptr<T[]> xt_buf;
  const T* xt = x;
  if (save && !fused && B > 1 && TT > 1) {
    xt_buf = scratch<T>(B * TT * g.I);
    for (int64_t t = 0; t < TT; ++t)
      for (int64_t n = 0; n < B; ++n) std::copy(x + (n * TT + t) * g.I, x + (n * TT + t + 1) * g.I,
                                                xt_buf.get() + (t * B + n) * g.I);
    xt = xt_buf.get();
  }
  auto ax = scratch<T>(fused ? 0 : (save ? TT : 1) * B * GU);
  // the step GEMMs' weights in panels: U (rows of u), or fused [W; U] (I + U, G*U), whose A rows
  // are [x_t, h_{s-1}] (acat, B x (I + U)); W for the step projection of inference without fusion
  // (recurrent dropout multiplies u gate by gate, in place: no panels)
  std::unique_ptr<Panels<T>> up;
  if (!rdrop)
    up = std::make_unique<Panels<T>>(fused ? KC : U, GU, [&](int64_t k) {
      return fused ? (k < g.I ? w + k * GU : u + (k - g.I) * GU) : u + k * GU;
    });
  std::unique_ptr<Panels<T>> wp;
  if (!save && !fused) wp = std::make_unique<Panels<T>>(g.I, GU, [&](int64_t k) { return w + k * GU; });
  std::unique_ptr<T[]> acat;
  if (fused) acat = scratch<T>(B * KC);
  auto ah = scratch<T>(B * GU);
  if (save && !fused) {
    if (b_in)
      for (int64_t r = 0; r < B * TT; ++r) std::copy(b_in, b_in + GU, ax.get() + r * GU);
    gemm_fast<T>(false, false, B * TT, GU, g.I, T(1), xt, g.I, w, GU, b_in ? T(1) : T(0), ax.get(), GU);
  }
  const int nt = rnn_threads(B, B * TT * GU * U);
  // recurrent dropout: one (U, U) GEMM per gate on hd = h_{s-1} * m_q (each thread its own rows)
  const int64_t ws_n = std::max({up ? panel_workspace(*up, B, nt) : int64_t(0), rdrop ? step_workspace<T>(B, nt, U, U) : int64_t(0),
                                 wp ? panel_workspace(*wp, B, nt) : int64_t(0)});
  auto ws = scratch<T>(ws_n * nt);
  std::unique_ptr<T[]> hd;  // allocated only when used (the buffers' layout then stays rnnperf's)
  if (rdrop) hd = scratch<T>(B * U);
  T* axw = ax.get();
  const T* axp = ax.get();
  T* ahw = ah.get();
  const T* ahp = ah.get();
  T* hdw = hd.get();
  // (fused with a bias: the Infer pass adds the bias row to ah; without one ah is complete)
  // (saving, fused without a bias: the pass adds a row of zeros)
  const ForwardGates<T> fwd = save                ? choose_gates<T, ForwardCopies>(g)
                              : fused && !b_step ? choose_gates<T, ForwardFusedCopies>(g)
                                                  : choose_gates<T, ForwardInferCopies>(g);
  T* acw = acat.get();
  const std::vector<T> zeros(static_cast<size_t>(fused && save && !b_step ? GU : U), T(0));
  const T* b_row = b_step ? b_step : zeros.data();  // fused: the row the gate pass adds to ah
  // inference of a masked LSTM: the running c of a row masked at step s is kept aside (cprev)
  // before the gate pass overwrites it, and put back after
  // (and so is the running h of a layer without return_sequences, into hprev)
  const bool roll = !g.all_states;  // hs is the running h (B, U)
  std::unique_ptr<T[]> cprev_buf, hprev_buf;
  if (mask && lstm && !save) cprev_buf = scratch<T>(B * U);
  if (mask && roll) hprev_buf = scratch<T>(B * U);
  T* cprev = cprev_buf.get();
  T* hprev = hprev_buf.get();
  auto stash_masked = [&](int64_t s, int64_t n0, int64_t n1) {
    if (!mask || s == 0) return;
    for (int64_t n = n0; n < n1; ++n) {
      if (g.keep(mask, n, s)) continue;
      if (cprev) std::copy(cs + n * U, cs + (n + 1) * U, cprev + n * U);
      if (hprev) std::copy(hs + n * U, hs + (n + 1) * U, hprev + n * U);
    }
  };
  // a masked step: the states carry through unchanged (its gates are computed, never read)
  auto carry_masked = [&](int64_t s, int64_t n0, int64_t n1, const T* hp, int64_t ldh) {
    if (!mask) return;
    for (int64_t n = n0; n < n1; ++n) {
      if (g.keep(mask, n, s)) continue;
      if (roll) {
        const T* hrow = s > 0 ? hprev + n * U : (h0 ? h0 + n * U : zeros.data());
        std::copy(hrow, hrow + U, hs + n * U);
      } else {
        const T* hrow = hp ? hp + n * ldh : zeros.data();
        std::copy(hrow, hrow + U, hs + (n * TT + s) * U);
      }
      if (lstm && save) {
        const T* crow = s > 0 ? cs + (n * TT + s - 1) * U : (c0 ? c0 + n * U : zeros.data());
        std::copy(crow, crow + U, cs + (n * TT + s) * U);
      } else if (lstm) {  // inference: the running c (B, U) takes c_{s-1} back (at s = 0 c0 or zeros)
        const T* crow = s > 0 ? cprev + n * U : (c0 ? c0 + n * U : zeros.data());
        std::copy(crow, crow + U, cs + n * U);
      }
    }
  };
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int tid = thread_id();
    const int64_t n0 = B * tid / nt, n1 = B * (tid + 1) / nt;  // this thread's batch rows
    T* wsp = ws.get() + ws_n * tid;
    for (int64_t s = 0; s < TT && n0 < n1; ++s) {
      const int64_t t = g.tin(s);
      if (fused) {  // ah = [x_t, h_{s-1}] [W; U] for rows [n0, n1); the gate pass adds b
        for (int64_t n = n0; n < n1; ++n) {
          T* row = acw + n * KC;
          std::copy(x + (n * TT + t) * g.I, x + (n * TT + t + 1) * g.I, row);
          const T* hrow = s > 0 ? (roll ? hs + n * U : hs + (n * TT + s - 1) * U) : (h0 ? h0 + n * U : zeros.data());
          std::copy(hrow, hrow + U, row + g.I);
        }
        up->gemm(n1 - n0, acw + n0 * KC, KC, T(0), ahw + n0 * GU, GU, wsp);
        const T* hp = s > 0 ? (roll ? hs : hs + (s - 1) * U) : h0;
        const int64_t ldh = s > 0 && !roll ? TT * U : U;
        stash_masked(s, n0, n1);
        fwd(g, s, 0, n0, n1, hp, ldh, b_row, ahp, c0, zeros.data(), hs, cs, gates, extra);
        carry_masked(s, n0, n1, hp, ldh);
        continue;
      }
      if (!save) {  // this step's ax for rows [n0, n1): x[n, t] W (+ b_in)
        if (b_in)
          for (int64_t n = n0; n < n1; ++n) std::copy(b_in, b_in + GU, axw + n * GU);
        wp->gemm(n1 - n0, x + (n0 * TT + t) * g.I, TT * g.I, b_in ? T(1) : T(0), axw + n0 * GU, GU, wsp);
      }
      // ah = h_{s-1} U + b_step, h_{s-1} being row s-1 of hs (row stride T*U; the running h when
      // rolling) or h0
      const T* hp = s > 0 ? (roll ? hs : hs + (s - 1) * U) : h0;
      const int64_t ldh = s > 0 && !roll ? TT * U : U;
      if (b_step)
        for (int64_t n = n0; n < n1; ++n) std::copy(b_step, b_step + GU, ahw + n * GU);
      if (hp && rdrop) {
        // gate q sees (h_{s-1} * m_q) U_q (GRU: ah's candidate block is then what r multiplies)
        for (int64_t q = 0; q < G; ++q) {
          for (int64_t n = n0; n < n1; ++n)
            for (int64_t j = 0; j < U; ++j) hdw[n * U + j] = hp[n * ldh + j] * rdrop[n * GU + q * U + j];
          gemm_fast_serial<T>(false, false, n1 - n0, U, U, T(1), hdw + n0 * U, U, u + q * U, GU,
                              b_step ? T(1) : T(0), ahw + n0 * GU + q * U, GU, wsp);
        }
      } else if (hp) {
        up->gemm(n1 - n0, hp + n0 * ldh, ldh, b_step ? T(1) : T(0), ahw + n0 * GU, GU, wsp);
      } else if (!b_step) {
        std::fill(ahw + n0 * GU, ahw + n1 * GU, T(0));
      }
      stash_masked(s, n0, n1);
      fwd(g, s, GU, n0, n1, hp, ldh, save ? axp + t * B * GU : axp, ahp, c0, zeros.data(), hs, cs, gates, extra);
      carry_masked(s, n0, n1, hp, ldh);
    }
  }
}

template <typename T>
void rnn_backward_fast(const RnnGeom& g, const T* x, const T* w, const T* u, const T* h0, const T* c0,
                       const T* mask, const T* rdrop, const T* hs, const T* cs, const T* gates, const T* extra,
                       const T* dhs, const T* dh_last, const T* dc_last, T* dx, T* dw, T* du, T* db, T* dh0,
                       T* dc0) {
  const int64_t B = g.B, TT = g.T, U = g.U, G = g.G(), GU = G * g.U;
  const bool gru = g.cell == RnnCell::GRU, lstm = g.cell == RnnCell::LSTM;
  // dax by input time t (so dx and dW are plain GEMMs); dah and hprev by step s
  auto dax = scratch<T>(B * TT * GU);
  auto dah_gru = scratch<T>(gru ? B * TT * GU : 0);
  auto hprev = scratch<T>(B * TT * U);
  auto dh = scratch<T>(B * U), dc = scratch<T>(B * U);
  // Uᵀ (G*U, U), once: the per-step dah Uᵀ then reads it row-major, unpacked (a transposed B
  // would be packed again at every step)
  auto ut = scratch<T>(GU * U);
  for (int64_t k = 0; k < GU; ++k)
    for (int64_t j = 0; j < U; ++j) ut[k * U + j] = u[j * GU + k];
  const int nt = rnn_threads(B, B * TT * GU * U);
  // Uᵀ in panels for the step GEMM dah Uᵀ (without recurrent dropout)
  const Panels<T> utp_panels(GU, U, [&](int64_t k) { return ut.get() + k * U; });
  // recurrent dropout: dL/dh_{s-1} += Σ_q (dah_q U_qᵀ) * m_q, one (U, U) GEMM per gate into dhq
  const int64_t ws_n =
      std::max(panel_workspace(utp_panels, B, nt), rdrop ? step_workspace<T>(B, nt, U, U) : int64_t(0));
  auto ws = scratch<T>(ws_n * nt);
  std::unique_ptr<T[]> dhq;
  if (rdrop) dhq = scratch<T>(B * U);
  T* dhqw = dhq.get();
  T* dhp = dh.get();
  T* dcp = dc.get();
  T* daxp = dax.get();
  T* dahg = dah_gru.get();
  T* hpw = hprev.get();
  const T* hpp = hprev.get();
  const T* utp = ut.get();
  const BackwardGates<T> bwd =
      mask ? choose_gates<T, BackwardMaskedCopies>(g) : choose_gates<T, BackwardCopies>(g);
  const std::vector<T> zeros(static_cast<size_t>(U), T(0));
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int tid = thread_id();
    const int64_t n0 = B * tid / nt, n1 = B * (tid + 1) / nt;  // this thread's batch rows
    T* wsp = ws.get() + ws_n * tid;
    for (int64_t k = n0 * U; k < n1 * U; ++k) {
      dhp[k] = dh_last ? dh_last[k] : T(0);
      dcp[k] = dc_last ? dc_last[k] : T(0);
    }
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t s = 0; s < TT; ++s)
        for (int64_t j = 0; j < U; ++j)
          hpw[(n * TT + s) * U + j] = s > 0 ? hs[(n * TT + s - 1) * U + j] : (h0 ? h0[n * U + j] : T(0));
    for (int64_t s = TT - 1; s >= 0 && n0 < n1; --s) {
      const int64_t t = g.tin(s);
      bwd(g, s, t, n0, n1, gates, extra, cs, c0, zeros.data(), hpp, dhs, mask, dhp, dcp, daxp, dahg);
      // dL/dh_{s-1} (+)= dah Uᵀ  (with recurrent dropout: Σ_q (dah_q U_qᵀ) * m_q); the SimpleRNN's
      // and the LSTM's dah is dax itself (row n at input time t)
      const T* ah = gru ? dahg + s * GU : daxp + t * GU;
      const int64_t lda = TT * GU;
      if (rdrop) {
        for (int64_t q = 0; q < G; ++q) {
          gemm_fast_serial<T>(false, false, n1 - n0, U, U, T(1), ah + n0 * lda + q * U, lda, utp + q * U * U, U,
                              T(0), dhqw + n0 * U, U, wsp);
          for (int64_t n = n0; n < n1; ++n)
            for (int64_t j = 0; j < U; ++j) dhp[n * U + j] += dhqw[n * U + j] * rdrop[n * GU + q * U + j];
        }
      } else {
        utp_panels.gemm(n1 - n0, ah + n0 * lda, lda, T(1), dhp + n0 * U, U, wsp);
      }
    }
  }
  const T* dah_all = daxp;  // SimpleRNN / LSTM: dah = dax, reordered to steps when go_backwards
  std::unique_ptr<T[]> dah_steps;
  if (gru) {
    dah_all = dahg;
  } else if (g.go_backwards) {
    dah_steps = scratch<T>(B * TT * GU);
    for (int64_t n = 0; n < B; ++n)
      for (int64_t s = 0; s < TT; ++s)
        std::copy(daxp + (n * TT + g.tin(s)) * GU, daxp + (n * TT + g.tin(s) + 1) * GU,
                  dah_steps.get() + (n * TT + s) * GU);
    dah_all = dah_steps.get();
  }
  const int64_t R = B * TT;
  gemm_fast<T>(false, true, R, g.I, GU, T(1), daxp, GU, w, GU, T(0), dx, g.I);     // dx = dax Wᵀ
  gemm_fast<T>(true, false, g.I, GU, R, T(1), x, g.I, daxp, GU, T(0), dw, GU);     // dW = xᵀ dax
  if (rdrop) {  // dU_q = (h_prev * m_q)ᵀ dah_q, gate by gate
    auto hq = scratch<T>(R * U);
    for (int64_t q = 0; q < G; ++q) {
      for (int64_t n = 0; n < B; ++n)
        for (int64_t s = 0; s < TT; ++s)
          for (int64_t j = 0; j < U; ++j)
            hq[(n * TT + s) * U + j] = hpp[(n * TT + s) * U + j] * rdrop[n * GU + q * U + j];
      gemm_fast<T>(true, false, U, U, R, T(1), hq.get(), U, dah_all + q * U, GU, T(0), du + q * U, GU);
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
