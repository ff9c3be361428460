// Recurrent kernels: fast against reference (forward with and without saving for backward, backward, every cell, bias or none,
// initial states or none, go_backwards, masks, recurrent dropout, float and double), one step of each cell against values
// worked out by hand, and the reference backward against central differences of a scalar loss.
#include "check.h"
#include "kernels/rnn.h"

#include <cmath>
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace pydl::kernels;

namespace {

std::mt19937 rng(4321);

int64_t pick(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

template <typename T>
std::vector<T> randn(int64_t n, double scale = 0.5) {
  std::normal_distribution<double> d;
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& e : v) e = T(scale * d(rng));
  return v;
}

template <typename T>
T* ptr(std::vector<T>& v) { return v.empty() ? nullptr : v.data(); }

template <typename T>
struct Case {
  RnnGeom g;
  std::vector<T> x, w, u, b, h0, c0, mask, rdrop, hs, cs, gates, extra, dhs, dhl, dcl;
  Case(RnnGeom geom, bool bias, bool init, bool masked = false, bool dropped = false) : g(geom) {
    const int64_t GU = g.G() * g.U, BTU = g.B * g.T * g.U;
    const bool lstm = g.cell == RnnCell::LSTM;
    x = randn<T>(g.B * g.T * g.I, 1.0);
    w = randn<T>(g.I * GU);
    u = randn<T>(g.U * GU);
    if (bias) b = randn<T>((g.cell == RnnCell::GRU ? 2 : 1) * GU);
    if (init) h0 = randn<T>(g.B * g.U);
    if (init && lstm) c0 = randn<T>(g.B * g.U);
    // about a third of the steps masked; dropout p = 0.25 kept units scaled by 1 / 0.75
    if (masked)
      for (int64_t k = 0; k < g.B * g.T; ++k) mask.push_back(pick(0, 2) == 0 ? T(0) : T(1));
    if (dropped)
      for (int64_t k = 0; k < g.B * GU; ++k) rdrop.push_back(pick(0, 3) == 0 ? T(0) : T(1) / T(0.75));
    hs.assign(BTU, T(0));
    if (lstm) cs.assign(BTU, T(0));
    gates.assign(g.B * g.T * GU, T(0));
    if (g.cell != RnnCell::Simple) extra.assign(BTU, T(0));
    dhs = randn<T>(BTU, 1.0);
    dhl = randn<T>(g.B * g.U, 1.0);
    if (lstm) dcl = randn<T>(g.B * g.U, 1.0);
  }
  void forward(bool fast) {
    if (fast)
      rnn_forward_fast<T>(g, x.data(), w.data(), u.data(), ptr(b), ptr(h0), ptr(c0), ptr(mask), ptr(rdrop),
                          hs.data(), ptr(cs), gates.data(), ptr(extra));
    else
      rnn_forward_reference<T>(g, x.data(), w.data(), u.data(), ptr(b), ptr(h0), ptr(c0), ptr(mask), ptr(rdrop),
                               hs.data(), ptr(cs), gates.data(), ptr(extra));
  }
  // the fast kernel's inference forward: gates and extras not saved (null), hs written, and the
  // LSTM's last cell state into c_last (B, U)
  // (all_states false: the last h only, into h_last (B, U), hs untouched)
  std::vector<T> c_last, h_last;
  void infer(bool all_states = true) {
    if (g.cell == RnnCell::LSTM) c_last.assign(g.B * g.U, T(-7));
    h_last.assign(g.B * g.U, T(-7));
    RnnGeom gi = g;
    gi.all_states = all_states;
    rnn_forward_fast<T>(gi, x.data(), w.data(), u.data(), ptr(b), ptr(h0), ptr(c0), ptr(mask), ptr(rdrop),
                        all_states ? hs.data() : h_last.data(), ptr(c_last), nullptr, nullptr);
  }
  // step T-1 of a (B, T, U) sequence
  std::vector<T> last_of(const std::vector<T>& seq) const {
    std::vector<T> r;
    for (int64_t n = 0; n < g.B; ++n)
      for (int64_t j = 0; j < g.U; ++j) r.push_back(seq[(n * g.T + g.T - 1) * g.U + j]);
    return r;
  }
  // step T-1 of the LSTM's saved cells (B, T, U) -> (B, U)
  std::vector<T> last_cells() const {
    std::vector<T> r;
    for (int64_t n = 0; n < g.B; ++n)
      for (int64_t j = 0; j < g.U; ++j) r.push_back(cs.empty() ? T(0) : cs[(n * g.T + g.T - 1) * g.U + j]);
    return cs.empty() ? std::vector<T>() : r;
  }
  // dx, dw, du, db, dh0, dc0 concatenated
  std::vector<std::vector<T>> backward(bool fast) {
    const int64_t GU = g.G() * g.U;
    std::vector<std::vector<T>> r{std::vector<T>(x.size()),  std::vector<T>(w.size()),
                                  std::vector<T>(u.size()),  std::vector<T>((g.cell == RnnCell::GRU ? 2 : 1) * GU),
                                  std::vector<T>(g.B * g.U), std::vector<T>(g.B * g.U)};
    auto f = fast ? rnn_backward_fast<T> : rnn_backward_reference<T>;
    f(g, x.data(), w.data(), u.data(), ptr(h0), ptr(c0), ptr(mask), ptr(rdrop), hs.data(), ptr(cs), gates.data(), ptr(extra), dhs.data(),
      dhl.data(), ptr(dcl), r[0].data(), r[1].data(), r[2].data(), r[3].data(), r[4].data(), r[5].data());
    return r;
  }
  // L = Σ dhs·hs + Σ dhl·h_last (+ Σ dcl·c_last): its gradients are what backward computes
  double loss() {
    forward(false);
    double L = 0;
    for (size_t k = 0; k < hs.size(); ++k) L += double(dhs[k]) * double(hs[k]);
    for (int64_t n = 0; n < g.B; ++n)
      for (int64_t j = 0; j < g.U; ++j) {
        const int64_t o = (n * g.T + g.T - 1) * g.U + j;
        L += double(dhl[n * g.U + j]) * double(hs[o]);
        if (!dcl.empty()) L += double(dcl[n * g.U + j]) * double(cs[o]);
      }
    return L;
  }
};

RnnGeom random_geom(RnnCell cell) {
  RnnAct acts[] = {RnnAct::Tanh, RnnAct::Sigmoid, RnnAct::Relu, RnnAct::Linear};
  RnnGeom g{pick(1, 5), pick(1, 7), pick(1, 6), pick(1, 9), cell, RnnAct::Tanh, RnnAct::Sigmoid, pick(0, 1) == 1};
  if (pick(0, 2) == 0) g.act = acts[pick(0, 3)];
  if (pick(0, 2) == 0) g.rec_act = acts[pick(0, 1)];
  return g;
}

template <typename T>
void fast_matches_reference(RnnCell cell, double tol) {
  for (int trial = 0; trial < 31; ++trial) {
    RnnGeom g = random_geom(cell);
    if (trial == 30) {  // large enough for the fast kernels' OpenMP passes (B * U * gates >= 2^14)
      g.B = 48, g.T = 3, g.I = 5, g.U = cell == RnnCell::Simple ? 350 : 120;
    }
    Case<T> c(g, pick(0, 3) > 0, pick(0, 1) == 1, pick(0, 1) == 1, pick(0, 2) == 0);
    c.forward(false);
    auto hs = c.hs, cs = c.cs, gates = c.gates, extra = c.extra;
    // gates and extras at masked steps are never read: compare them only where the step is kept
    auto kept = [&](size_t k, int64_t width) {
      const int64_t n = int64_t(k) / (g.T * width), s = (int64_t(k) / width) % g.T;
      return g.keep(ptr(c.mask), n, s);
    };
    auto ref = c.backward(false);
    c.forward(true);
    for (size_t k = 0; k < hs.size(); ++k) CHECK_CLOSE(c.hs[k], hs[k], tol);
    for (size_t k = 0; k < cs.size(); ++k) CHECK_CLOSE(c.cs[k], cs[k], tol);
    for (size_t k = 0; k < gates.size(); ++k)
      if (kept(k, g.G() * g.U)) CHECK_CLOSE(c.gates[k], gates[k], tol);
    for (size_t k = 0; k < extra.size(); ++k)
      if (kept(k, g.U)) CHECK_CLOSE(c.extra[k], extra[k], tol);
    auto fast = c.backward(true);
    // inference (nothing saved) gives the same states: every h, and the last c
    const std::vector<T> ref_last = c.last_cells();
    std::fill(c.hs.begin(), c.hs.end(), T(0));
    c.infer();
    for (size_t k = 0; k < hs.size(); ++k) CHECK_CLOSE(c.hs[k], hs[k], tol);
    CHECK(c.c_last.size() == ref_last.size());
    for (size_t k = 0; k < ref_last.size(); ++k) CHECK_CLOSE(c.c_last[k], ref_last[k], tol);
    // ... and keeping the last state only (a layer without return_sequences): the same last h and c
    const std::vector<T> ref_h = c.last_of(hs);
    c.infer(false);
    for (size_t k = 0; k < ref_h.size(); ++k) CHECK_CLOSE(c.h_last[k], ref_h[k], tol);
    for (size_t k = 0; k < ref_last.size(); ++k) CHECK_CLOSE(c.c_last[k], ref_last[k], tol);
    // Gradients are sums over every step and sample, with cancellation: compare each array
    // relative to its largest entry (what float rounding scales with).
    for (size_t a = 0; a < ref.size(); ++a) {
      double scale = 1;
      for (T v : ref[a]) scale = std::max(scale, double(std::fabs(v)));
      for (size_t k = 0; k < ref[a].size(); ++k) CHECK_CLOSE(fast[a][k] / scale, ref[a][k] / scale, tol);
    }
  }
}

// Central differences of the loss in every input the gradient flows to (double).
void reference_backward_matches_differences(RnnCell cell) {
  for (int trial = 0; trial < 9; ++trial) {
    RnnGeom g = random_geom(cell);
    g.act = g.act == RnnAct::Relu ? RnnAct::Tanh : g.act;  // keep away from relu's kink
    Case<double> c(g, true, true, trial % 3 != 0, trial % 3 == 2);  // plain; masked; masked and dropped
    c.forward(false);
    auto grads = c.backward(false);
    std::vector<std::vector<double>*> inputs{&c.x, &c.w, &c.u, &c.b, &c.h0, &c.c0};
    const double eps = 1e-6;
    for (size_t a = 0; a < inputs.size(); ++a)
      for (size_t k = 0; k < inputs[a]->size(); ++k) {
        double& v = (*inputs[a])[k];
        const double keep = v;
        v = keep + eps;
        const double lp = c.loss();
        v = keep - eps;
        const double lm = c.loss();
        v = keep;
        CHECK_CLOSE(grads[a][k], (lp - lm) / (2 * eps), 1e-5);
      }
  }
}

double sigmoid(double v) { return 1 / (1 + std::exp(-v)); }

}  // namespace

TEST(simple_rnn_fast_matches_reference) {
  fast_matches_reference<double>(RnnCell::Simple, 1e-12);
  fast_matches_reference<float>(RnnCell::Simple, 1e-4);
}
TEST(lstm_fast_matches_reference) {
  fast_matches_reference<double>(RnnCell::LSTM, 1e-12);
  fast_matches_reference<float>(RnnCell::LSTM, 1e-4);
}
TEST(gru_fast_matches_reference) {
  fast_matches_reference<double>(RnnCell::GRU, 1e-12);
  fast_matches_reference<float>(RnnCell::GRU, 1e-4);
}
TEST(simple_rnn_backward_matches_differences) { reference_backward_matches_differences(RnnCell::Simple); }
TEST(lstm_backward_matches_differences) { reference_backward_matches_differences(RnnCell::LSTM); }
TEST(gru_backward_matches_differences) { reference_backward_matches_differences(RnnCell::GRU); }

// One step, one unit, one feature, worked out by hand: x = 0.5, h0 = 0.3 (c0 = -0.2).
TEST(one_step_by_hand) {
  for (bool fast : {false, true}) {
    auto run = [&](RnnCell cell, std::vector<double> w, std::vector<double> u, std::vector<double> b,
                   std::vector<double>& hs, std::vector<double>& cs) {
      RnnGeom g{1, 1, 1, 1, cell, RnnAct::Tanh, RnnAct::Sigmoid, false};
      std::vector<double> x{0.5}, h0{0.3}, c0{-0.2}, gates(g.G()), extra(1);
      hs.assign(1, 0);
      cs.assign(1, 0);
      auto f = fast ? rnn_forward_fast<double> : rnn_forward_reference<double>;
      f(g, x.data(), w.data(), u.data(), b.data(), h0.data(), cell == RnnCell::LSTM ? c0.data() : nullptr,
        nullptr, nullptr, hs.data(), cs.data(), gates.data(), extra.data());
    };
    std::vector<double> hs, cs;
    // SimpleRNN: tanh(0.5 * 2 + 0.3 * (-1) + 0.1) = tanh(0.8)
    run(RnnCell::Simple, {2}, {-1}, {0.1}, hs, cs);
    CHECK_CLOSE(hs[0], std::tanh(0.8), 1e-14);
    // LSTM, W = (1, -1, 2, 0.5), U = (0.5, 1, -1, 2), b = (0, 1, 0, 0):
    // i = σ(0.5 + 0.15) = σ(0.65), f = σ(-0.5 + 0.3 + 1) = σ(0.8), g = tanh(1 - 0.3) = tanh(0.7),
    // o = σ(0.25 + 0.6) = σ(0.85);  c = f * (-0.2) + i * g,  h = o * tanh(c)
    run(RnnCell::LSTM, {1, -1, 2, 0.5}, {0.5, 1, -1, 2}, {0, 1, 0, 0}, hs, cs);
    const double c = sigmoid(0.8) * -0.2 + sigmoid(0.65) * std::tanh(0.7);
    CHECK_CLOSE(cs[0], c, 1e-14);
    CHECK_CLOSE(hs[0], sigmoid(0.85) * std::tanh(c), 1e-14);
    // GRU (reset_after), W = (1, 2, -1), U = (0.5, -1, 2), b = [(0.1, 0, 0.2), (0, 0.3, -0.4)]:
    // z = σ(0.5 + 0.1 + 0.15) = σ(0.75), r = σ(1 - 0.3 + 0.3) = σ(1),
    // hh = tanh(-0.5 + 0.2 + r * (0.6 - 0.4)),  h = z * 0.3 + (1 - z) * hh
    run(RnnCell::GRU, {1, 2, -1}, {0.5, -1, 2}, {0.1, 0, 0.2, 0, 0.3, -0.4}, hs, cs);
    const double hh = std::tanh(-0.3 + sigmoid(1.0) * 0.2);
    CHECK_CLOSE(hs[0], sigmoid(0.75) * 0.3 + (1 - sigmoid(0.75)) * hh, 1e-14);
  }
}

// go_backwards: step s reads x[:, T-1-s], so running it equals running forwards on the reversed input.
TEST(go_backwards_reads_the_input_reversed) {
  for (RnnCell cell : {RnnCell::Simple, RnnCell::LSTM, RnnCell::GRU}) {
    RnnGeom g = random_geom(cell);
    g.T = 5;
    g.go_backwards = true;
    Case<double> back(g, true, true);
    RnnGeom gf = g;
    gf.go_backwards = false;
    Case<double> fwd = back;
    fwd.g = gf;
    for (int64_t n = 0; n < g.B; ++n)
      for (int64_t t = 0; t < g.T; ++t)
        for (int64_t i = 0; i < g.I; ++i) fwd.x[(n * g.T + t) * g.I + i] = back.x[(n * g.T + g.T - 1 - t) * g.I + i];
    back.forward(false);
    fwd.forward(false);
    for (size_t k = 0; k < back.hs.size(); ++k) CHECK_CLOSE(back.hs[k], fwd.hs[k], 1e-14);
  }
}

// A masked step carries h (and c) through: the state after it equals the state before it, and a
// sequence whose every step is masked ends in its initial state.
TEST(masked_steps_carry_the_state) {
  for (bool fast : {false, true})
    for (RnnCell cell : {RnnCell::Simple, RnnCell::LSTM, RnnCell::GRU}) {
      RnnGeom g = random_geom(cell);
      g.T = 4;
      Case<double> c(g, true, true, true);
      for (int64_t n = 0; n < g.B; ++n) c.mask[n * g.T + 2] = 0;  // input time 2 masked for every sample
      if (g.B > 1) std::fill(c.mask.begin() + g.T, c.mask.begin() + 2 * g.T, 0.0);  // sample 1 fully masked
      c.forward(fast);
      const int64_t s2 = g.go_backwards ? 1 : 2;  // the step that reads input time 2
      for (int64_t n = 0; n < g.B; ++n)
        for (int64_t j = 0; j < g.U; ++j) {
          const int64_t o = (n * g.T + s2) * g.U + j;
          CHECK_CLOSE(c.hs[o], c.hs[o - g.U], 0.0);
          if (cell == RnnCell::LSTM) CHECK_CLOSE(c.cs[o], c.cs[o - g.U], 0.0);
        }
      if (g.B > 1)
        for (int64_t j = 0; j < g.U; ++j) {
          CHECK_CLOSE(c.hs[(g.T + g.T - 1) * g.U + j], c.h0[g.U + j], 0.0);
          if (cell == RnnCell::LSTM) CHECK_CLOSE(c.cs[(g.T + g.T - 1) * g.U + j], c.c0[g.U + j], 0.0);
        }
    }
}

// The fast kernels split the batch rows over threads (one region per call): every element is
// computed by one thread with the same operations, so 1 and 3 threads give identical bits, for
// an uneven split (37 rows), a vector tail (100 units), the compile-time default activations and
// the runtime-branching loop, without and with masks and recurrent dropout.
template <typename T>
void fast_is_thread_count_independent(RnnCell cell, RnnAct act, RnnAct rec_act, bool masked_dropped = false) {
#ifdef _OPENMP
  RnnGeom g{37, 4, 3, 100, cell, act, rec_act, masked_dropped};
  Case<T> c(g, true, true, masked_dropped, masked_dropped);
  const int before = omp_get_max_threads();
  omp_set_num_threads(1);
  c.forward(true);
  auto hs = c.hs, cs = c.cs, gates = c.gates;
  auto one = c.backward(true);
  omp_set_num_threads(3);
  c.forward(true);
  auto three = c.backward(true);
  CHECK(c.hs == hs);
  CHECK(c.cs == cs);
  CHECK(c.gates == gates);
  // the inference forward too (nothing saved), at 1 and 3 threads
  omp_set_num_threads(1);
  c.infer();
  auto hs1 = c.hs, cl1 = c.c_last;
  omp_set_num_threads(3);
  c.infer();
  omp_set_num_threads(before);
  CHECK(c.hs == hs1);
  CHECK(c.c_last == cl1);
  omp_set_num_threads(1);
  c.infer(false);
  auto hl1 = c.h_last;
  omp_set_num_threads(3);
  c.infer(false);
  omp_set_num_threads(before);
  CHECK(c.h_last == hl1);
  for (size_t a = 0; a < one.size(); ++a) CHECK(one[a] == three[a]);
#else
  (void)cell, (void)act, (void)rec_act, (void)masked_dropped;
#endif
}

TEST(fast_results_do_not_depend_on_the_thread_count) {
  for (RnnCell cell : {RnnCell::Simple, RnnCell::LSTM, RnnCell::GRU}) {
    fast_is_thread_count_independent<float>(cell, RnnAct::Tanh, RnnAct::Sigmoid);
    fast_is_thread_count_independent<double>(cell, RnnAct::Tanh, RnnAct::Sigmoid);
    fast_is_thread_count_independent<float>(cell, RnnAct::Relu, RnnAct::Tanh);
    fast_is_thread_count_independent<float>(cell, RnnAct::Tanh, RnnAct::Sigmoid, true);
    fast_is_thread_count_independent<double>(cell, RnnAct::Relu, RnnAct::Tanh, true);
  }
}

RUN_ALL_TESTS()
