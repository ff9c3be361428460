// conv2d kernels: the fast (im2col + GEMM) forward, input gradient and weight gradient against
// the reference loops on random shapes (strides, asymmetric paddings, dilations, groups, bias,
// 1x1 kernels), and the adjoint identity <col2im(y), x> = <y, im2col(x)>.
#include "check.h"
#include "kernels/conv.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace pydl::kernels;

namespace {

std::mt19937 rng(1234);

int64_t pick(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

template <typename T>
std::vector<T> randn(int64_t n) {
  std::normal_distribution<double> d;
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& e : v) e = T(d(rng));
  return v;
}

// A random valid geometry; pb / pr (bottom / right padding) only enter through Ho / Wo.
Conv2dGeom random_geom(bool pointwise) {
  Conv2dGeom g{};
  g.groups = pick(1, 3);
  g.N = pick(1, 3);
  g.C = g.groups * pick(1, 3);
  g.O = g.groups * pick(1, 4);
  g.kh = pointwise ? 1 : pick(1, 4);
  g.kw = pointwise ? 1 : pick(1, 4);
  g.sh = pointwise ? 1 : pick(1, 3);
  g.sw = pointwise ? 1 : pick(1, 3);
  g.dh = pick(1, 2);
  g.dw = pick(1, 2);
  g.pt = pointwise ? 0 : pick(0, 2);
  g.pl = pointwise ? 0 : pick(0, 2);
  const int64_t pb = pointwise ? 0 : pick(0, 2), pr = pointwise ? 0 : pick(0, 2);
  const int64_t eh = g.dh * (g.kh - 1) + 1, ew = g.dw * (g.kw - 1) + 1;
  g.H = std::max<int64_t>(1, eh - g.pt - pb) + pick(0, 9);
  g.W = std::max<int64_t>(1, ew - g.pl - pr) + pick(0, 9);
  g.Ho = (g.H + g.pt + pb - eh) / g.sh + 1;
  g.Wo = (g.W + g.pl + pr - ew) / g.sw + 1;
  return g;
}

template <typename T>
double max_rel_diff(const std::vector<T>& a, const std::vector<T>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(double(a[i]) - double(b[i])) / (1.0 + std::abs(double(b[i]))));
  return worst;
}

template <typename T>
void compare_on(const Conv2dGeom& g, bool with_bias, double tol) {
  const int64_t K = g.cg() * g.kh * g.kw;
  auto x = randn<T>(g.N * g.C * g.H * g.W), w = randn<T>(g.O * K), b = randn<T>(g.O);
  auto gy = randn<T>(g.N * g.O * g.Ho * g.Wo);
  const T* bp = with_bias ? b.data() : nullptr;
  std::vector<T> y_ref(gy.size()), y_fast(gy.size(), T(7));
  conv2d_forward_reference<T>(g, x.data(), w.data(), bp, y_ref.data());
  conv2d_forward_fast<T>(g, x.data(), w.data(), bp, y_fast.data());
  std::vector<T> gx_ref(x.size()), gx_fast(x.size(), T(7));
  conv2d_backward_input_reference<T>(g, gy.data(), w.data(), gx_ref.data());
  conv2d_backward_input_fast<T>(g, gy.data(), w.data(), gx_fast.data());
  std::vector<T> gw_ref(w.size()), gw_fast(w.size(), T(7));
  conv2d_backward_weight_reference<T>(g, gy.data(), x.data(), gw_ref.data());
  conv2d_backward_weight_fast<T>(g, gy.data(), x.data(), gw_fast.data());
  const double ey = max_rel_diff(y_fast, y_ref), ex = max_rel_diff(gx_fast, gx_ref), ew = max_rel_diff(gw_fast, gw_ref);
  if (!(ey <= tol && ex <= tol && ew <= tol))
    std::printf("  N=%ld C=%ld H=%ld W=%ld O=%ld k=%ldx%ld s=%ldx%ld p=%ld,%ld d=%ldx%ld g=%ld: y %.3g gx %.3g gw %.3g\n",
                long(g.N), long(g.C), long(g.H), long(g.W), long(g.O), long(g.kh), long(g.kw), long(g.sh), long(g.sw),
                long(g.pt), long(g.pl), long(g.dh), long(g.dw), long(g.groups), ey, ex, ew);
  CHECK(ey <= tol);
  CHECK(ex <= tol);
  CHECK(ew <= tol);
}

}  // namespace

template <typename T>
void compare_transpose_on(const Conv2dGeom& g, bool with_bias, double tol);  // (below)

TEST(fast_matches_reference_double) {
  for (int t = 0; t < 300; ++t) compare_on<double>(random_geom(t % 5 == 0), t % 2 == 0, 1e-12);
}

TEST(fast_matches_reference_float) {
  for (int t = 0; t < 300; ++t) compare_on<float>(random_geom(t % 5 == 0), t % 2 == 1, 1e-4);
}

TEST(fast_matches_reference_larger) {
  // Big enough for the GEMM's packed / threaded paths and the parallel im2col / col2im.
  Conv2dGeom g{4, 16, 20, 21, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 20, 21};
  compare_on<double>(g, true, 1e-12);
  Conv2dGeom g2{3, 32, 15, 15, 64, 5, 3, 2, 1, 2, 0, 1, 2, 2, 8, 11};  // Ho = (15+2+2-5)/2+1 (pb = 2), Wo = (15-5)/1+1
  compare_on<float>(g2, false, 1e-4);
}

TEST(fast_matches_reference_batch_and_depthwise) {
  // More images than threads and than the weight gradient's 16 batch chunks (uneven chunks),
  // and depthwise shapes (one input channel per group: the direct loops), with a channel
  // multiplier, stride, dilation and asymmetric padding.
  Conv2dGeom g{21, 6, 9, 8, 10, 3, 3, 1, 1, 1, 1, 1, 1, 2, 9, 8};
  compare_on<double>(g, true, 1e-12);
  Conv2dGeom dw{19, 16, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16, 28, 28};
  compare_on<double>(dw, true, 1e-12);
  // float on 3 images: the reference's plain float sum over 19 x 28 x 28 terms alone drifts
  // past 1e-4 (its error, not the fast kernel's), so the float check keeps the sums short.
  Conv2dGeom dw3 = dw;
  dw3.N = 3;
  compare_on<float>(dw3, false, 1e-4);
  // multiplier 2, stride (2, 1), dilation (1, 2), padding top 2 / left 0: Ho = (11+2+1-3)/2+1, Wo = (12-5)/1+1
  Conv2dGeom dm{3, 5, 11, 12, 10, 3, 3, 2, 1, 2, 0, 1, 2, 5, 6, 8};
  compare_on<double>(dm, true, 1e-12);
}

TEST(direct_path_matches_reference) {
  // Stride 1, groups 1, one to four output channels: the direct loops (padded planes, shifted
  // slices) instead of im2col + GEMM, in all three passes. Paddings from none to more than the
  // kernel (some taps read only zeros), asymmetric, dilations, one-pixel and wide images, and
  // more images than threads.
  for (int t = 0; t < 200; ++t) {
    Conv2dGeom g = random_geom(false);
    g.groups = 1;
    g.N = pick(1, 5);
    g.C = pick(1, 7);
    g.O = pick(1, 4);
    g.sh = g.sw = 1;
    g.pt = pick(0, 4);
    g.pl = pick(0, 4);
    const int64_t pb = pick(0, 4), pr = pick(0, 4);
    const int64_t eh = g.dh * (g.kh - 1) + 1, ew = g.dw * (g.kw - 1) + 1;
    g.H = std::max<int64_t>(1, eh - g.pt - pb) + pick(0, 12);
    g.W = std::max<int64_t>(1, ew - g.pl - pr) + pick(0, 40);
    g.Ho = g.H + g.pt + pb - eh + 1;
    g.Wo = g.W + g.pl + pr - ew + 1;
    if (t % 2) compare_on<double>(g, t % 4 == 1, 1e-12);
    else compare_on<float>(g, t % 4 == 0, 1e-4);
  }
  // The DCGAN generator's last layer (32 -> 1, 5x5, 'same', 28x28) and a 3-channel output.
  Conv2dGeom gan{5, 32, 28, 28, 1, 5, 5, 1, 1, 2, 2, 1, 1, 1, 28, 28};
  compare_on<double>(gan, true, 1e-12);
  Conv2dGeom rgb{3, 16, 17, 30, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 17, 30};
  compare_on<float>(rgb, true, 1e-4);
  compare_on<double>(rgb, false, 1e-12);
}

TEST(gather_path_matches_reference) {
  // groups 1 with at least 16 channels on the vectorised side (output channels: forward and
  // weight gradient; input channels: input gradient, one pass per stride phase): channel counts
  // that fill 1, 2 or 4 vectors or leave a ragged block, strides 1 to 3 (phases with no taps
  // when the stride exceeds the kernel), dilations, paddings up to more than the kernel, and
  // output sizes that leave a partial tile of positions.
  for (int t = 0; t < 60; ++t) {
    Conv2dGeom g{};
    g.groups = 1;
    g.N = pick(1, 4);
    const int64_t many[] = {16, 17, 24, 32, 40, 64, 65};
    g.C = t % 3 == 0 ? pick(1, 5) : many[pick(0, 6)];
    g.O = t % 3 == 1 ? pick(1, 5) : many[pick(0, 6)];
    g.kh = pick(1, 5);
    g.kw = pick(1, 5);
    g.sh = pick(1, 3);
    g.sw = pick(1, 3);
    g.dh = pick(1, 2);
    g.dw = pick(1, 2);
    g.pt = pick(0, 5);
    g.pl = pick(0, 5);
    const int64_t pb = pick(0, 5), pr = pick(0, 5);
    const int64_t eh = g.dh * (g.kh - 1) + 1, ew = g.dw * (g.kw - 1) + 1;
    g.H = std::max<int64_t>(1, eh - g.pt - pb) + pick(0, 10);
    g.W = std::max<int64_t>(1, ew - g.pl - pr) + pick(0, 10);
    g.Ho = (g.H + g.pt + pb - eh) / g.sh + 1;
    g.Wo = (g.W + g.pl + pr - ew) / g.sw + 1;
    if (t % 2) compare_on<double>(g, t % 4 == 1, 1e-12);
    else compare_on<float>(g, t % 4 == 0, 1e-4);
    if (t % 5 == 0) compare_transpose_on<double>(g, t % 2 == 0, 1e-12);
  }
  // The DCGAN's: Conv2DTranspose 64 -> 64 (7 -> 14) and 64 -> 32 (14 -> 28), 4x4 stride 2
  // padding 1 (given as the convolutions they are the adjoints of), the discriminator's 3x3
  // stride-2 'same' 32 -> 64.
  Conv2dGeom t1{3, 64, 14, 14, 64, 4, 4, 2, 2, 1, 1, 1, 1, 1, 7, 7};
  Conv2dGeom t2{2, 32, 28, 28, 64, 4, 4, 2, 2, 1, 1, 1, 1, 1, 14, 14};
  Conv2dGeom d2{3, 32, 14, 14, 64, 3, 3, 2, 2, 0, 0, 1, 1, 1, 7, 7};
  for (const Conv2dGeom& g : {t1, t2, d2}) {
    compare_on<double>(g, true, 1e-12);
    compare_transpose_on<double>(g, true, 1e-12);
    compare_transpose_on<float>(g, false, 1e-4);
  }
}

TEST(fast_results_do_not_depend_on_threads) {
  // The direct, gather and im2col paths, all three passes, with 1, 2 and 3 threads: bit for bit
  // the same (each output summed by one thread in a fixed order; the gather path's grouping of
  // small images follows the thread count, its sums do not).
#ifdef _OPENMP
  const int saved = omp_get_max_threads();
  const Conv2dGeom cases[] = {
      {7, 32, 28, 28, 1, 5, 5, 1, 1, 2, 2, 1, 1, 1, 28, 28},   // direct
      {7, 64, 14, 14, 64, 4, 4, 2, 2, 1, 1, 1, 1, 1, 7, 7},    // gather, input gradient by phases
      {5, 17, 9, 8, 24, 3, 3, 1, 1, 1, 1, 2, 1, 1, 7, 8},      // gather, stride 1, dilated
      {5, 6, 9, 8, 10, 3, 3, 2, 1, 1, 1, 1, 1, 2, 5, 8},       // im2col + GEMM (groups 2)
  };
  for (const Conv2dGeom& g : cases) {
    auto x = randn<float>(g.N * g.C * g.H * g.W), w = randn<float>(g.O * g.cg() * g.kh * g.kw);
    auto b = randn<float>(g.O), gy = randn<float>(g.N * g.O * g.Ho * g.Wo);
    std::vector<float> first[3];
    for (int threads = 1; threads <= 3; ++threads) {
      omp_set_num_threads(threads);
      std::vector<float> y(gy.size()), gx(x.size()), gw(w.size());
      conv2d_forward_fast<float>(g, x.data(), w.data(), b.data(), y.data());
      conv2d_backward_input_fast<float>(g, gy.data(), w.data(), gx.data());
      conv2d_backward_weight_fast<float>(g, gy.data(), x.data(), gw.data());
      if (threads == 1) {
        first[0] = y, first[1] = gx, first[2] = gw;
        continue;
      }
      CHECK(std::memcmp(y.data(), first[0].data(), y.size() * sizeof(float)) == 0);
      CHECK(std::memcmp(gx.data(), first[1].data(), gx.size() * sizeof(float)) == 0);
      CHECK(std::memcmp(gw.data(), first[2].data(), gw.size() * sizeof(float)) == 0);
    }
  }
  omp_set_num_threads(saved);
#endif
}

TEST(im2col_col2im_adjoint) {
  // <col2im(y), x> = <y, im2col(x)> for random x (C, H, W) and y (C*kh*kw, Ho*Wo).
  for (int t = 0; t < 200; ++t) {
    Conv2dGeom g = random_geom(t % 7 == 0);
    g.N = 1;
    const int64_t rows = g.C * g.kh * g.kw, L = g.Ho * g.Wo;
    auto x = randn<double>(g.C * g.H * g.W), y = randn<double>(rows * L);
    std::vector<double> col(static_cast<size_t>(rows * L), 7.0), back(x.size(), 0.0);
    im2col<double>(g, x.data(), col.data());
    col2im<double>(g, y.data(), back.data());
    double lhs = 0, rhs = 0, scale = 0;
    for (size_t i = 0; i < x.size(); ++i) lhs += back[i] * x[i], scale += std::abs(back[i] * x[i]);
    for (size_t i = 0; i < y.size(); ++i) rhs += y[i] * col[i];
    CHECK_CLOSE(lhs, rhs, 1e-12 * (1.0 + scale));
  }
}

TEST(im2col_of_known_image) {
  // A 3x3 image 1..9, 2x2 kernel, stride 1, padding 1 top/left only: Ho = Wo = 3.
  Conv2dGeom g{1, 1, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1, 1, 3, 3};
  std::vector<double> x = {1, 2, 3, 4, 5, 6, 7, 8, 9}, col(4 * 9);
  im2col<double>(g, x.data(), col.data());
  // Row (p, q) at output (i, j) reads x[i - 1 + p, j - 1 + q] (0 outside).
  const double want[4][9] = {{0, 0, 0, 0, 1, 2, 0, 4, 5},
                             {0, 0, 0, 1, 2, 3, 4, 5, 6},
                             {0, 1, 2, 0, 4, 5, 0, 7, 8},
                             {1, 2, 3, 4, 5, 6, 7, 8, 9}};
  for (int r = 0; r < 4; ++r)
    for (int k = 0; k < 9; ++k) CHECK(col[r * 9 + k] == want[r][k]);
}

TEST(im2col_with_more_padding_than_input_stays_in_bounds) {
  // Padding wider than the input (a causal conv1d of a short sequence: left padding
  // dw * (kw - 1) on a 1-wide row, a 'same' pad on a tiny image): some kernel columns see only
  // padding; im2col must write exactly rows * L values (the guard after them stays 7) and
  // those must be the definition's, and the fast conv must match the reference.
  for (int64_t W = 1; W <= 3; ++W)
    for (int64_t kw = 1; kw <= 4; ++kw)
      for (int64_t dw = 1; dw <= 3; ++dw)
        for (int64_t sw = 1; sw <= 2; ++sw)
          for (int64_t top = 0; top <= 3; ++top) {
            const int64_t pl = dw * (kw - 1) + (W == 1 ? 1 : 0), pt = top;
            Conv2dGeom g{2, 2, 2, W, 3, 2, kw, 1, sw, pt, pl, 1, dw, 1, 0, 0};
            g.Ho = (g.H + pt - 2) / 1 + 1;  // no bottom padding
            g.Wo = (W + pl - (dw * (kw - 1) + 1)) / sw + 1;
            if (g.Ho < 1 || g.Wo < 1) continue;
            const int64_t rows = g.C * g.kh * g.kw, L = g.Ho * g.Wo, guard = 64;
            auto x = randn<double>(g.C * g.H * g.W);
            std::vector<double> col(static_cast<size_t>(rows * L + guard), 7.0);
            im2col<double>(g, x.data(), col.data());
            for (int64_t k = 0; k < guard; ++k) CHECK(col[static_cast<size_t>(rows * L + k)] == 7.0);
            for (int64_t r = 0; r < rows; ++r) {
              const int64_t c = r / (g.kh * g.kw), p = (r / g.kw) % g.kh, q = r % g.kw;
              for (int64_t i = 0; i < g.Ho; ++i)
                for (int64_t j = 0; j < g.Wo; ++j) {
                  const int64_t h = i - pt + p, w = j * sw - pl + q * dw;
                  const double want = (h >= 0 && h < g.H && w >= 0 && w < g.W) ? x[(c * g.H + h) * g.W + w] : 0.0;
                  CHECK(col[static_cast<size_t>(r * L + i * g.Wo + j)] == want);
                }
            }
            compare_on<double>(g, true, 1e-12);
          }
}

// conv2d_transpose: the fast kernel (GEMM + col2im) against its own reference loop, on the geometry
// of the convolution it is the adjoint of (x_t is that convolution's output side).
template <typename T>
void compare_transpose_on(const Conv2dGeom& g, bool with_bias, double tol) {
  auto xt = randn<T>(g.N * g.O * g.Ho * g.Wo), w = randn<T>(g.O * g.cg() * g.kh * g.kw), b = randn<T>(g.C);
  const size_t ny = static_cast<size_t>(g.N * g.C * g.H * g.W);
  std::vector<T> y_ref(ny), y_fast(ny, T(7));
  const T* bp = with_bias ? b.data() : nullptr;
  conv2d_transpose_forward_reference<T>(g, xt.data(), w.data(), bp, y_ref.data());
  conv2d_transpose_forward_fast<T>(g, xt.data(), w.data(), bp, y_fast.data());
  CHECK(max_rel_diff(y_fast, y_ref) <= tol);
}

TEST(transpose_fast_matches_reference) {
  for (int t = 0; t < 300; ++t) compare_transpose_on<double>(random_geom(t % 5 == 0), t % 2 == 0, 1e-12);
  for (int t = 0; t < 200; ++t) compare_transpose_on<float>(random_geom(t % 5 == 0), t % 2 == 1, 1e-4);
  Conv2dGeom g{3, 16, 20, 21, 24, 3, 3, 2, 1, 1, 1, 1, 1, 2, 10, 21};  // large: the GEMM's packed paths
  compare_transpose_on<double>(g, true, 1e-12);
}

TEST(transpose_is_the_adjoint_of_conv2d) {
  // <conv2d_transpose(x_t, w), y> = <x_t, conv2d(y, w)>, both reference loops, no bias: the
  // transposed convolution's own scatter loop against the convolution's gather loop.
  for (int t = 0; t < 200; ++t) {
    Conv2dGeom g = random_geom(t % 7 == 0);
    auto xt = randn<double>(g.N * g.O * g.Ho * g.Wo), w = randn<double>(g.O * g.cg() * g.kh * g.kw);
    auto y = randn<double>(g.N * g.C * g.H * g.W);
    std::vector<double> ty(y.size()), cy(xt.size());
    conv2d_transpose_forward_reference<double>(g, xt.data(), w.data(), nullptr, ty.data());
    conv2d_forward_reference<double>(g, y.data(), w.data(), nullptr, cy.data());
    double lhs = 0, rhs = 0, scale = 0;
    for (size_t i = 0; i < y.size(); ++i) lhs += ty[i] * y[i], scale += std::abs(ty[i] * y[i]);
    for (size_t i = 0; i < xt.size(); ++i) rhs += xt[i] * cy[i];
    CHECK_CLOSE(lhs, rhs, 1e-12 * (1.0 + scale));
  }
}

TEST(transpose_of_known_input) {
  // By hand: x_t = [[1, 2]] (1x2), w = [[1, 10], [100, 1000]], stride 2, no padding: each input
  // pixel stamps the 2x2 kernel times itself, side by side: a 2x4 output.
  Conv2dGeom g{1, 1, 2, 4, 1, 2, 2, 2, 2, 0, 0, 1, 1, 1, 1, 2};
  std::vector<double> xt = {1, 2}, w = {1, 10, 100, 1000}, y(8), b = {0.5};
  conv2d_transpose_forward_reference<double>(g, xt.data(), w.data(), b.data(), y.data());
  const double want[8] = {1.5, 10.5, 2.5, 20.5, 100.5, 1000.5, 200.5, 2000.5};
  for (int k = 0; k < 8; ++k) CHECK(y[k] == want[k]);
  std::vector<double> yf(8);
  conv2d_transpose_forward_fast<double>(g, xt.data(), w.data(), b.data(), yf.data());
  for (int k = 0; k < 8; ++k) CHECK(yf[k] == want[k]);
}

RUN_ALL_TESTS()
