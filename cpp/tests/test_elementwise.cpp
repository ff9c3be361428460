// Elementwise kernels: binary / unary / where / copy, fast against reference, on random shapes
// and random strides (permuted axes, gaps, offsets, broadcast inputs, strided outputs).
#include <cstdio>

#include "check.h"
#include "kernels/kernels.h"
#include "pydl/ops.h"
#include "pydl/settings.h"
#include "strided_fixture.h"

using namespace pydl;
using namespace pydl::kernels;
using namespace pydl_test;

static const Binary kBinary[] = {
    Binary::Add, Binary::Sub, Binary::Mul, Binary::Div, Binary::Pow, Binary::Maximum, Binary::Minimum,
    Binary::Eq, Binary::Ne, Binary::Lt, Binary::Le, Binary::Gt, Binary::Ge,
    Binary::ReluGrad, Binary::LeakyReluGrad, Binary::EluGrad, Binary::SigmoidGrad, Binary::TanhGrad,
    Binary::SqrtGrad, Binary::AbsGrad, Binary::ClipGrad, Binary::PowScalarGrad};
static const Unary kUnary[] = {Unary::Copy, Unary::Neg, Unary::Exp, Unary::Log, Unary::Sqrt, Unary::Abs,
                               Unary::Square, Unary::PowScalar, Unary::Clip, Unary::Relu, Unary::LeakyRelu,
                               Unary::Elu, Unary::Sigmoid, Unary::Tanh};

// Run fast and reference on the same inputs into two copies of the same output buffer and
// compare the whole buffers: the results, and the gaps neither kernel may touch.
template <typename T>
static int compare_binary(Binary op, int rounds) {
  int bad = 0;
  for (int r = 0; r < rounds; ++r) {
    Shape shape = random_shape();
    // positive inputs keep log/sqrt/pow defined; the sign mix of Sub still covers negatives
    const bool positive = op == Binary::Pow || op == Binary::SqrtGrad || op == Binary::PowScalarGrad;
    auto a = random_layout<T>(shape, true, positive ? 0.1 : -2.0, 2.0);
    auto b = random_layout<T>(shape, true, positive ? 0.1 : -2.0, 2.0);
    if (op == Binary::Eq || op == Binary::Ne)  // make equal values common
      for (auto& v : b.buf) v = std::round(v);
    if (op == Binary::Eq || op == Binary::Ne)
      for (auto& v : a.buf) v = std::round(v);
    auto fast = random_layout<T>(shape, false, 7.0, 7.0);
    auto ref = fast;
    Params p{0.3, 1.2};
    binary_fast<T>(op, p, shape, a.data(), a.strides, b.data(), b.strides, fast.data(), fast.strides);
    binary_reference<T>(op, p, shape, a.data(), a.strides, b.data(), b.strides, ref.data(), ref.strides);
    for (size_t i = 0; i < ref.buf.size(); ++i)
      if (!close(fast.buf[i], ref.buf[i], tol<T>())) {
        if (bad++ < 3)
          std::printf("  binary op %d shape %s: [%zu] fast %.9g ref %.9g\n", static_cast<int>(op),
                      shape_str(shape).c_str(), i, double(fast.buf[i]), double(ref.buf[i]));
      }
  }
  return bad;
}

template <typename T>
static int compare_unary(Unary op, int rounds) {
  int bad = 0;
  for (int r = 0; r < rounds; ++r) {
    Shape shape = random_shape();
    const bool positive = op == Unary::Log || op == Unary::Sqrt || op == Unary::PowScalar;
    auto x = random_layout<T>(shape, true, positive ? 0.1 : -3.0, 3.0);
    auto fast = random_layout<T>(shape, false, -7.0, -7.0);
    auto ref = fast;
    Params p{op == Unary::PowScalar ? 2.5 : -0.5, 0.8};
    unary_fast<T>(op, p, shape, x.data(), x.strides, fast.data(), fast.strides);
    unary_reference<T>(op, p, shape, x.data(), x.strides, ref.data(), ref.strides);
    for (size_t i = 0; i < ref.buf.size(); ++i)
      if (!close(fast.buf[i], ref.buf[i], tol<T>())) {
        if (bad++ < 3)
          std::printf("  unary op %d shape %s: [%zu] fast %.9g ref %.9g\n", static_cast<int>(op),
                      shape_str(shape).c_str(), i, double(fast.buf[i]), double(ref.buf[i]));
      }
  }
  return bad;
}

TEST(binary_fast_matches_reference_float) {
  for (Binary op : kBinary) CHECK(compare_binary<float>(op, 12) == 0);
}
TEST(binary_fast_matches_reference_double) {
  for (Binary op : kBinary) CHECK(compare_binary<double>(op, 12) == 0);
}
TEST(unary_fast_matches_reference_float) {
  for (Unary op : kUnary) CHECK(compare_unary<float>(op, 12) == 0);
}
TEST(unary_fast_matches_reference_double) {
  for (Unary op : kUnary) CHECK(compare_unary<double>(op, 12) == 0);
}

template <typename T>
static void where_case() {
  for (int r = 0; r < 25; ++r) {
    Shape shape = random_shape();
    auto c = random_layout<T>(shape, true, -1.0, 1.0);
    for (auto& v : c.buf) v = v > 0 ? T(1) : T(0);
    auto a = random_layout<T>(shape, true, -2.0, 2.0), b = random_layout<T>(shape, true, -2.0, 2.0);
    auto fast = random_layout<T>(shape, false, 9.0, 9.0);
    auto ref = fast;
    where_fast<T>(shape, c.data(), c.strides, a.data(), a.strides, b.data(), b.strides, fast.data(), fast.strides);
    where_reference<T>(shape, c.data(), c.strides, a.data(), a.strides, b.data(), b.strides, ref.data(), ref.strides);
    CHECK(fast.buf == ref.buf);
  }
}
TEST(where_fast_matches_reference) {
  where_case<float>();
  where_case<double>();
}

template <typename Ti, typename To>
static void copy_case() {
  for (int r = 0; r < 25; ++r) {
    Shape shape = random_shape();
    auto src = random_layout<Ti>(shape, true, -5.0, 5.0);
    auto fast = random_layout<To>(shape, false, 3.0, 3.0);
    auto ref = fast;
    copy_fast<Ti, To>(shape, src.data(), src.strides, fast.data(), fast.strides);
    copy_reference<Ti, To>(shape, src.data(), src.strides, ref.data(), ref.strides);
    CHECK(fast.buf == ref.buf);
  }
}
TEST(copy_fast_matches_reference) {
  copy_case<float, float>();
  copy_case<float, double>();
  copy_case<double, float>();
  copy_case<double, double>();
}

// The reference kernel itself against a hand computation on a broadcast, transposed case.
TEST(reference_binary_by_hand) {
  // a (2, 3) transposed storage, b (3,) broadcast over rows: out = a + b
  const double a_store[6] = {0, 3, 1, 4, 2, 5};  // a[i][j] = 3 i + j stored column-major
  const double b[3] = {10, 20, 30};
  double out[6] = {};
  binary_reference<double>(Binary::Add, {}, {2, 3}, a_store, {1, 2}, b, {0, 1}, out, {3, 1});
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) CHECK(out[i * 3 + j] == 3 * i + j + 10 * (j + 1));
}

// The op layer under both settings gives the same answer (the backend switch works).
TEST(op_layer_backends_agree) {
  Tensor x = Tensor::empty({64, 33}, DType::Float64);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<double>()[i] = std::sin(0.37 * i);
  Tensor xt = ops::transpose(x, 0, 1);
  settings::set_backend(settings::Backend::Reference);
  Tensor r = ops::add(ops::mul(xt, xt), ops::exp(xt));
  settings::set_backend(settings::Backend::Fast);
  Tensor f = ops::add(ops::mul(xt, xt), ops::exp(xt));
  for (int64_t i = 0; i < 33; ++i)
    for (int64_t j = 0; j < 64; ++j) CHECK(r.at({i, j}) == f.at({i, j}));
}

// In place into a broadcast view would update one memory location several times.
TEST(inplace_into_broadcast_view_throws) {
  Tensor base = Tensor::zeros({3});
  Tensor view = ops::broadcast_to(base, {4, 3});
  CHECK_THROWS(ops::add_(view, Tensor::scalar(1.0)), RuntimeError);
  CHECK_THROWS(ops::copy_(view, Tensor::zeros({4, 3})), RuntimeError);
  CHECK(base.at({0}) == 0.0);
}

RUN_ALL_TESTS()
