// The scalar equations behind the elementwise kernels, written once and used by both the
// reference loops and the fast kernels, so the two can differ only in how they loop.
#pragma once
#include <cmath>

#include "kernels/kernels.h"

namespace pydl::kernels {

template <typename T>
struct P { T a, b; };

template <typename T>
inline T sigmoid_of(T x) {
  // sigma(x) = 1 / (1 + e^-x), written so exp never overflows
  if (x >= 0) return T(1) / (T(1) + std::exp(-x));
  T e = std::exp(x);
  return e / (T(1) + e);
}

// One struct per op: f(a, b, params). Kept trivially inlinable for the vectorised loops.
#define PYDL_BINARY(Name, expr) \
  struct Name##F { template <typename T> static inline T f(T a, T b, P<T> p) { (void)p; return (expr); } };
PYDL_BINARY(Add, a + b)
PYDL_BINARY(Sub, a - b)
PYDL_BINARY(Mul, a * b)
PYDL_BINARY(Div, a / b)
PYDL_BINARY(Pow, std::pow(a, b))
PYDL_BINARY(Maximum, (a > b || a != a) ? a : b)   // NaN propagates, as np.maximum
PYDL_BINARY(Minimum, (a < b || a != a) ? a : b)
PYDL_BINARY(Eq, T(a == b))
PYDL_BINARY(Ne, T(a != b))
PYDL_BINARY(Lt, T(a < b))
PYDL_BINARY(Le, T(a <= b))
PYDL_BINARY(Gt, T(a > b))
PYDL_BINARY(Ge, T(a >= b))
// Backward helpers: a is the incoming gradient g, b the saved x (or y = f(x)).
// A NaN input gets a NaN gradient (b != b selects b itself), so a NaN cannot vanish in backward.
PYDL_BINARY(ReluGrad, b > T(0) ? a : (b != b ? b : T(0)))                // relu'(x) = [x > 0]
PYDL_BINARY(LeakyReluGrad, b > T(0) ? a : (b != b ? b : a * p.a))        // slope where x <= 0
PYDL_BINARY(EluGrad, b > T(0) ? a : a * p.a * std::exp(b))               // alpha e^x where x <= 0
PYDL_BINARY(SigmoidGrad, a * b * (T(1) - b))                            // sigma' = y (1 - y)
PYDL_BINARY(TanhGrad, a * (T(1) - b * b))                               // tanh' = 1 - y^2
PYDL_BINARY(SqrtGrad, a / (T(2) * b))                                   // (sqrt x)' = 1 / (2 y)
PYDL_BINARY(AbsGrad, b > T(0) ? a : (b < T(0) ? -a : (b != b ? b : T(0))))  // sign(x)
PYDL_BINARY(ClipGrad, (b >= p.a && b <= p.b) ? a : (b != b ? b : T(0)))  // 1 inside [lo, hi]
PYDL_BINARY(PowScalarGrad, a * p.a * std::pow(b, p.a - T(1)))            // (x^k)' = k x^(k-1)
#undef PYDL_BINARY

#define PYDL_UNARY(Name, expr) \
  struct Name##F { template <typename T> static inline T f(T x, P<T> p) { (void)p; return (expr); } };
PYDL_UNARY(Copy, x)
PYDL_UNARY(Neg, -x)
PYDL_UNARY(Exp, std::exp(x))
PYDL_UNARY(Log, std::log(x))
PYDL_UNARY(Sqrt, std::sqrt(x))
PYDL_UNARY(Abs, std::fabs(x))
PYDL_UNARY(Square, x * x)
PYDL_UNARY(PowScalar, std::pow(x, p.a))
PYDL_UNARY(Clip, x < p.a ? p.a : (x > p.b ? p.b : x))
PYDL_UNARY(Relu, x < T(0) ? T(0) : x)  // NaN passes through (x < 0 is false), as torch.relu
PYDL_UNARY(LeakyRelu, x > T(0) ? x : p.a * x)
PYDL_UNARY(Elu, x > T(0) ? x : p.a * (std::exp(x) - T(1)))
PYDL_UNARY(Sigmoid, sigmoid_of(x))
PYDL_UNARY(Tanh, std::tanh(x))
#undef PYDL_UNARY

// Call fn(FunctorType{}) for the functor of `op`: one switch, so each loop is instantiated
// once per op with the scalar function inlined.
template <typename Fn>
inline void with_binary(Binary op, Fn&& fn) {
  switch (op) {
    case Binary::Add: return fn(AddF{});
    case Binary::Sub: return fn(SubF{});
    case Binary::Mul: return fn(MulF{});
    case Binary::Div: return fn(DivF{});
    case Binary::Pow: return fn(PowF{});
    case Binary::Maximum: return fn(MaximumF{});
    case Binary::Minimum: return fn(MinimumF{});
    case Binary::Eq: return fn(EqF{});
    case Binary::Ne: return fn(NeF{});
    case Binary::Lt: return fn(LtF{});
    case Binary::Le: return fn(LeF{});
    case Binary::Gt: return fn(GtF{});
    case Binary::Ge: return fn(GeF{});
    case Binary::ReluGrad: return fn(ReluGradF{});
    case Binary::LeakyReluGrad: return fn(LeakyReluGradF{});
    case Binary::EluGrad: return fn(EluGradF{});
    case Binary::SigmoidGrad: return fn(SigmoidGradF{});
    case Binary::TanhGrad: return fn(TanhGradF{});
    case Binary::SqrtGrad: return fn(SqrtGradF{});
    case Binary::AbsGrad: return fn(AbsGradF{});
    case Binary::ClipGrad: return fn(ClipGradF{});
    case Binary::PowScalarGrad: return fn(PowScalarGradF{});
  }
}

template <typename Fn>
inline void with_unary(Unary op, Fn&& fn) {
  switch (op) {
    case Unary::Copy: return fn(CopyF{});
    case Unary::Neg: return fn(NegF{});
    case Unary::Exp: return fn(ExpF{});
    case Unary::Log: return fn(LogF{});
    case Unary::Sqrt: return fn(SqrtF{});
    case Unary::Abs: return fn(AbsF{});
    case Unary::Square: return fn(SquareF{});
    case Unary::PowScalar: return fn(PowScalarF{});
    case Unary::Clip: return fn(ClipF{});
    case Unary::Relu: return fn(ReluF{});
    case Unary::LeakyRelu: return fn(LeakyReluF{});
    case Unary::Elu: return fn(EluF{});
    case Unary::Sigmoid: return fn(SigmoidF{});
    case Unary::Tanh: return fn(TanhF{});
  }
}

}  // namespace pydl::kernels
