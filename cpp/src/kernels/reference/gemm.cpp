// Reference GEMM: the triple loop, written to be read beside the equation
//   C[i][j] = alpha * sum_k op(A)[i][k] * op(B)[k][j] + beta * C[i][j]
// No blocking, no SIMD, no threads. The fast kernel in cpu/gemm.cpp is tested against it.
#include "kernels/kernels.h"

namespace pydl::kernels {

template <typename T>
void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                    const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      T sum = 0;
      for (int64_t k = 0; k < K; ++k) {
        // op(A)[i][k]: A is stored (M, K), or (K, M) when transposed.
        T a = trans_a ? A[k * lda + i] : A[i * lda + k];
        // op(B)[k][j]: B is stored (K, N), or (N, K) when transposed.
        T b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        sum += a * b;
      }
      T& c = C[i * ldc + j];
      // beta == 0 overwrites C without reading it, so garbage/NaN in C does not leak through.
      c = (beta == T(0)) ? alpha * sum : alpha * sum + beta * c;
    }
  }
}

template void gemm_reference<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*,
                                    int64_t, const float*, int64_t, float, float*, int64_t);
template void gemm_reference<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                                     int64_t, const double*, int64_t, double, double*, int64_t);

}  // namespace pydl::kernels
