// Reference streaming-metric kernels: the definitions in kernels/metrics.h, loop for loop.
#include "kernels/metrics.h"

namespace pydl::kernels {

template <typename T>
void confusion_counts_reference(const T* pred, const T* label, const T* weight, int64_t N, int64_t L,
                                const double* thr, int64_t K, double* counts) {
  double* tp = counts;
  double* fp = counts + K * L;
  double* tn = counts + 2 * K * L;
  double* fn = counts + 3 * K * L;
  for (int64_t k = 0; k < K; ++k) {
    for (int64_t l = 0; l < L; ++l) {
      double a = 0, b = 0, c = 0, d = 0;
      for (int64_t n = 0; n < N; ++n) {
        const int64_t i = n * L + l;
        const double w = weight ? double(weight[i]) : 1.0;
        const bool positive = label[i] != T(0);
        const bool above = double(pred[i]) > thr[k];
        if (positive && above) a += w;
        if (!positive && above) b += w;
        if (!positive && !above) c += w;
        if (positive && !above) d += w;
      }
      tp[k * L + l] = a;
      fp[k * L + l] = b;
      tn[k * L + l] = c;
      fn[k * L + l] = d;
    }
  }
}

template <typename T>
void top_k_hits_reference(const T* pred, const int64_t* ids, int64_t N, int64_t C, int64_t k, T* hit) {
  for (int64_t n = 0; n < N; ++n) {
    const T* row = pred + n * C;
    const T truth = row[ids[n]];
    int64_t above = 0;
    for (int64_t c = 0; c < C; ++c)
      if (row[c] > truth) ++above;
    hit[n] = above < k ? T(1) : T(0);
  }
}

#define PYDL_INST(T)                                                                                            \
  template void confusion_counts_reference<T>(const T*, const T*, const T*, int64_t, int64_t, const double*,   \
                                              int64_t, double*);                                                \
  template void top_k_hits_reference<T>(const T*, const int64_t*, int64_t, int64_t, int64_t, T*);
PYDL_INST(float)
PYDL_INST(double)
#undef PYDL_INST

}  // namespace pydl::kernels
