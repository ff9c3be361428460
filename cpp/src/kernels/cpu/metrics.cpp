// Fast streaming-metric kernels (see kernels/metrics.h).
//
// Confusion counts: a value above exactly b = #{k : thr[k] < value} thresholds (a binary search,
// thr sorted) is above thr[k] iff k < b. So each value adds its weight to one bucket b of a
// positive or a negative histogram (K + 1 buckets per label), and
//   tp[k] = sum_{b > k} pos[b],  fn[k] = sum_{b <= k} pos[b]   (fp, tn from neg likewise).
// Samples are cut into blocks whose layout depends only on N, K and L; each block fills its own
// histograms (taken before the parallel region), and the blocks are added in block order.
#include <algorithm>
#include <vector>

#include "kernels/metrics.h"

namespace pydl::kernels {

namespace {

// Blocks of samples: at least 2048 samples each, at most 64 blocks, and the blocks' histograms
// (2 (K + 1) L doubles each) together under about 64 MB.
int64_t block_count(int64_t N, int64_t K, int64_t L) {
  const int64_t per_block = 2 * (K + 1) * std::max<int64_t>(L, 1);
  int64_t blocks = std::min<int64_t>(64, (N + 2047) / 2048);
  const int64_t cap = std::max<int64_t>(1, (int64_t(8) << 20) / std::max<int64_t>(per_block, 1));
  return std::max<int64_t>(1, std::min(blocks, cap));
}

}  // namespace

template <typename T>
void confusion_counts_fast(const T* pred, const T* label, const T* weight, int64_t N, int64_t L, const double* thr,
                           int64_t K, double* counts) {
  const int64_t B = K + 1;  // buckets per label
  const int64_t blocks = block_count(N, K, L);
  const int64_t chunk = blocks > 0 ? (N + blocks - 1) / blocks : 0;
  // hist[blk][0 or 1][b][l]: weight of negatives (0) / positives (1) in bucket b
  std::vector<double> hist(size_t(blocks) * 2 * B * L, 0.0);
  double* h = hist.data();
#pragma omp parallel for schedule(static)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    double* neg = h + blk * 2 * B * L;
    double* pos = neg + B * L;
    const int64_t n1 = std::min(N, (blk + 1) * chunk);
    for (int64_t n = blk * chunk; n < n1; ++n) {
      for (int64_t l = 0; l < L; ++l) {
        const int64_t i = n * L + l;
        const double v = double(pred[i]);
        // b = number of thresholds < v (a NaN is above none: lower_bound's comparisons fail)
        const int64_t b = v != v ? 0 : int64_t(std::lower_bound(thr, thr + K, v) - thr);
        const double w = weight ? double(weight[i]) : 1.0;
        (label[i] != T(0) ? pos : neg)[b * L + l] += w;
      }
    }
  }
  // the blocks, in order, into block 0
  for (int64_t blk = 1; blk < blocks; ++blk) {
    const double* src = h + blk * 2 * B * L;
    for (int64_t j = 0; j < 2 * B * L; ++j) h[j] += src[j];
  }
  double* tp = counts;
  double* fp = counts + K * L;
  double* tn = counts + 2 * K * L;
  double* fn = counts + 3 * K * L;
  const double* neg = h;
  const double* pos = h + B * L;
  for (int64_t l = 0; l < L; ++l) {
    // above[k] = sum_{b > k}, from the top bucket down; below[k] = sum_{b <= k}, from bucket 0 up
    double above_pos = 0, above_neg = 0;
    for (int64_t k = K - 1; k >= 0; --k) {
      above_pos += pos[(k + 1) * L + l];
      above_neg += neg[(k + 1) * L + l];
      tp[k * L + l] = above_pos;
      fp[k * L + l] = above_neg;
    }
    double below_pos = 0, below_neg = 0;
    for (int64_t k = 0; k < K; ++k) {
      below_pos += pos[k * L + l];
      below_neg += neg[k * L + l];
      fn[k * L + l] = below_pos;
      tn[k * L + l] = below_neg;
    }
  }
}

template <typename T>
void top_k_hits_fast(const T* pred, const int64_t* ids, int64_t N, int64_t C, int64_t k, T* hit) {
#pragma omp parallel for schedule(static) if (N * C > 32768)
  for (int64_t n = 0; n < N; ++n) {
    const T* row = pred + n * C;
    const T truth = row[ids[n]];
    int64_t above = 0;
    for (int64_t c = 0; c < C; ++c) above += row[c] > truth;
    hit[n] = above < k ? T(1) : T(0);
  }
}

#define PYDL_INST(T)                                                                                             \
  template void confusion_counts_fast<T>(const T*, const T*, const T*, int64_t, int64_t, const double*, int64_t, \
                                         double*);                                                               \
  template void top_k_hits_fast<T>(const T*, const int64_t*, int64_t, int64_t, int64_t, T*);
PYDL_INST(float)
PYDL_INST(double)
#undef PYDL_INST

}  // namespace pydl::kernels
