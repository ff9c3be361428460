// Kernel declarations shared by the ops. Each kernel exists twice:
//   reference/  plain loops that read like the equation on the slide;
//   cpu/        the fast versions (blocked, vectorised, OpenMP), chosen by pydl::settings.
// Kernels work on raw pointers and sizes; shapes are checked by the ops before calling.
#pragma once
#include <cstdint>

#include "pydl/tensor.h"

namespace pydl::kernels {

// ---------------------------------------------------------------- GEMM
// C = alpha * op(A) · op(B) + beta * C, all row-major.
//   op(A) is (M, K): A itself (M, K) with row stride lda, or, with trans_a, Aᵀ of A stored (K, M).
//   op(B) is (K, N): B itself (K, N) with row stride ldb, or, with trans_b, Bᵀ of B stored (N, K).
//   C is (M, N) with row stride ldc. beta == 0 means C is not read (may hold garbage or NaN).
// Results do not depend on the thread count (the K sum is never split across threads).
template <typename T>
void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                    const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);
template <typename T>
void gemm_fast(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
               const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// gemm_fast on the calling thread only, for use inside a parallel region (over a batch, say):
// it opens no OpenMP region and allocates nothing; its packing buffers come from `workspace`,
// at least gemm_workspace_size(trans_a, trans_b, M, N, K) elements the caller took before its
// region (any alignment). The result is bit-identical to gemm_fast's.
template <typename T>
int64_t gemm_workspace_size(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K);
template <typename T>
void gemm_fast_serial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                      int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc, T* workspace);

// C (M, N) = A (M, K) · B (K, N) + beta C (A, B row-major, not transposed) on the calling thread, for
// a narrow B of at most 192 bytes per row (48 floats, 24 doubles): the recurrent kernels' per-step
// products against a weight cut into contiguous column panels. On AVX-512 an 8-row x 3-vector
// register tile reads A and B in place (M = 32 or 16, a batch or half of one, splits into whole
// 8-row blocks); elsewhere, and for other shapes, gemm_fast_serial (workspace as there). The
// result is the same FMA chain over k per element as gemm_fast's.
template <typename T>
void gemm_panel_serial(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb, T beta,
                       T* C, int64_t ldc, T* workspace);

// Which SIMD path gemm_fast takes on this CPU ("avx512", "avx2", "generic").
const char* gemm_simd_path();

// ---------------------------------------------------------------- elementwise
// The scalar functions themselves live in kernels/math.h, shared by both backends.
enum class Binary : uint8_t {
  Add, Sub, Mul, Div, Pow, Maximum, Minimum,
  Eq, Ne, Lt, Le, Gt, Ge,
  // Backward helpers: (g, x) or (g, y) -> dL/dx, fused so backward is one pass.
  ReluGrad, LeakyReluGrad, EluGrad, SigmoidGrad, TanhGrad, SqrtGrad, AbsGrad, ClipGrad, PowScalarGrad,
};
enum class Unary : uint8_t {
  Copy, Neg, Exp, Log, Sqrt, Abs, Square, PowScalar, Clip, Relu, LeakyRelu, Elu, Sigmoid, Tanh,
};
// Scalar parameters of an op: leaky slope, elu alpha, clip bounds, exponent.
struct Params { double a = 0, b = 0; };

// out[i] = f(a[i], b[i]) for every multi-index i of `shape`. Every operand is read/written
// through its own strides (in elements; 0 on a broadcast axis), so views need no copies.
template <typename T>
void binary_reference(Binary op, Params p, const Shape& shape, const T* a, const Shape& sa, const T* b,
                      const Shape& sb, T* out, const Shape& so);
template <typename T>
void binary_fast(Binary op, Params p, const Shape& shape, const T* a, const Shape& sa, const T* b,
                 const Shape& sb, T* out, const Shape& so);

template <typename T>
void unary_reference(Unary op, Params p, const Shape& shape, const T* x, const Shape& sx, T* out, const Shape& so);
template <typename T>
void unary_fast(Unary op, Params p, const Shape& shape, const T* x, const Shape& sx, T* out, const Shape& so);

// out[i] = c[i] != 0 ? a[i] : b[i]
template <typename T>
void where_reference(const Shape& shape, const T* c, const Shape& sc, const T* a, const Shape& sa, const T* b,
                     const Shape& sb, T* out, const Shape& so);
template <typename T>
void where_fast(const Shape& shape, const T* c, const Shape& sc, const T* a, const Shape& sa, const T* b,
                const Shape& sb, T* out, const Shape& so);

// dst[i] = (To) src[i], both strided: contiguous(), casts, writes into views.
template <typename Ti, typename To>
void copy_reference(const Shape& shape, const Ti* src, const Shape& ss, To* dst, const Shape& sd);
template <typename Ti, typename To>
void copy_fast(const Shape& shape, const Ti* src, const Shape& ss, To* dst, const Shape& sd);

// ---------------------------------------------------------------- reductions
// x is contiguous and viewed as (outer, r, inner); out (outer, inner) = reduce over r.
enum class Reduce : uint8_t { Sum, Max, Min };
template <typename T>
void reduce_reference(Reduce op, const T* x, int64_t outer, int64_t r, int64_t inner, T* out);
template <typename T>
void reduce_fast(Reduce op, const T* x, int64_t outer, int64_t r, int64_t inner, T* out);

// ---------------------------------------------------------------- softmax
// x, y contiguous, viewed as (outer, n, inner); softmax over n.
//   y = exp(x - max) / sum(exp(x - max))           (log: y = x - max - log(sum(exp(x - max))))
template <typename T>
void softmax_reference(const T* x, int64_t outer, int64_t n, int64_t inner, T* y, bool log);
template <typename T>
void softmax_fast(const T* x, int64_t outer, int64_t n, int64_t inner, T* y, bool log);
//   dx = y * (g - sum(g * y))                       (log: dx = g - exp(y) * sum(g))
template <typename T>
void softmax_backward_reference(const T* g, const T* y, int64_t outer, int64_t n, int64_t inner, T* dx, bool log);
template <typename T>
void softmax_backward_fast(const T* g, const T* y, int64_t outer, int64_t n, int64_t inner, T* dx, bool log);

}  // namespace pydl::kernels
