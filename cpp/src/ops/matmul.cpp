// matmul: C = A · B through the GEMM kernels. Transposed views are passed to GEMM as
// transposed operands, so x @ W.T or the backward's Aᵀ · G never copy.
#include <atomic>
#include <exception>

#include "ops/common.h"

namespace pydl::ops {

namespace {

// A 2-D view as GEMM wants it: pointer, whether it is stored transposed, row stride.
template <typename T>
struct Operand {
  const T* p;
  bool trans;
  int64_t ld;
};

template <typename T>
Operand<T> as_operand(const T* base, int64_t rows, int64_t cols, int64_t s0, int64_t s1) {
  // The stride of a size-1 axis is never used: read it as the contiguous one. (A (1, 1) view
  // with strides (0, 0), as broadcast_to makes, matched neither layout below, and contiguous()
  // returns such a view unchanged, so GEMM got a null pointer.)
  if (cols <= 1) s1 = 1;
  if (rows <= 1) s0 = std::max<int64_t>(cols, 1);
  if (s1 == 1 && (rows <= 1 || s0 >= cols)) return {base, false, rows <= 1 ? std::max<int64_t>(cols, 1) : s0};
  if (s0 == 1 && (cols <= 1 || s1 >= rows)) return {base, true, cols <= 1 ? std::max<int64_t>(rows, 1) : s1};
  return {nullptr, false, 0};  // other strides: the caller makes a contiguous copy
}

template <typename T>
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb,
          T beta, T* C, int64_t ldc) {
  if (use_fast()) kernels::gemm_fast<T>(ta, tb, M, N, K, T(1), A, lda, B, ldb, beta, C, ldc);
  else kernels::gemm_reference<T>(ta, tb, M, N, K, T(1), A, lda, B, ldb, beta, C, ldc);
}

// out[i] = a[i] · b[i] for every index i of the broadcast batch shape.
template <typename T>
void matmul_batched(Tensor a, Tensor b, const Shape& batch, int64_t M, int64_t N, int64_t K, Tensor& out) {
  const int64_t nbatch = numel_of(batch);
  auto operand = [](Tensor& t, int64_t r, int64_t c) {
    const int64_t nd = t.dim();
    Operand<T> op = as_operand<T>(t.data<T>(), r, c, t.strides()[nd - 2], t.strides()[nd - 1]);
    if (!op.p) {
      t = contiguous(t);
      op = as_operand<T>(t.data<T>(), r, c, t.strides()[nd - 2], t.strides()[nd - 1]);
    }
    return op;
  };
  Operand<T> oa = operand(a, M, K);
  Operand<T> ob = operand(b, K, N);
  Shape full_a = batch, full_b = batch;
  full_a.insert(full_a.end(), {M, K});
  full_b.insert(full_b.end(), {K, N});
  // Batch strides of a and b seen from the broadcast batch shape (0 where broadcast).
  Shape sa = broadcast_strides(a, full_a), sb = broadcast_strides(b, full_b);
  T* c = out.data<T>();
  const int64_t nbd = static_cast<int64_t>(batch.size());
  auto run = [&](int64_t i) {
    int64_t offa = 0, offb = 0;
    for (int64_t d = nbd - 1, r = i; d >= 0; --d) {
      int64_t idx = r % batch[d];
      r /= batch[d];
      offa += idx * sa[d];
      offb += idx * sb[d];
    }
    gemm<T>(oa.trans, ob.trans, M, N, K, oa.p + offa, oa.ld, ob.p + offb, ob.ld, T(0), c + i * M * N, N);
  };
  // Many small products: one per thread (each GEMM then runs single-threaded). Each GEMM takes
  // its packing scratch from its thread's own buffer, which may have to grow inside the region:
  // an exception must not leave an OpenMP region (std::terminate), so the first one is caught
  // there, the remaining products skipped, and it is rethrown here, after the region.
  if (nbatch > 1 && M * N * K < 64 * 64 * 64) {
    std::exception_ptr error;
    std::atomic<bool> failed{false};
#pragma omp parallel for schedule(static) if (nbatch * M * N * K >= 262144)
    for (int64_t i = 0; i < nbatch; ++i) {
      if (failed.load(std::memory_order_relaxed)) continue;
      try {
        run(i);
      } catch (...) {
#pragma omp critical(pydl_matmul_batched_error)
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
    if (error) std::rethrow_exception(error);
  } else {
    for (int64_t i = 0; i < nbatch; ++i) run(i);
  }
}

// The product of a (..., M, K) and b (..., K, N), both at least 2-D, without the graph.
Tensor matmul_raw(Tensor a, Tensor b) {
  const int64_t M = a.shape()[a.dim() - 2], K = a.shape()[a.dim() - 1];
  const int64_t K2 = b.shape()[b.dim() - 2], N = b.shape()[b.dim() - 1];
  if (K != K2)
    throw ShapeError(msg("matmul: cannot multiply ", shape_str(a.shape()), " by ", shape_str(b.shape()),
                         ": the last axis of the first (", K, ") must equal the second-to-last axis of the second (",
                         K2, ")"));
  Shape ba(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  Shape batch;
  try {
    batch = broadcast_shapes(ba, bb, "matmul");
  } catch (const ShapeError&) {  // name the operands, not just their batch parts
    throw ShapeError(msg("matmul: cannot multiply ", shape_str(a.shape()), " by ", shape_str(b.shape()),
                         ": the batch shapes ", shape_str(ba), " and ", shape_str(bb), " cannot be broadcast together"));
  }
  Shape out_shape = batch;
  out_shape.push_back(M);
  out_shape.push_back(N);
  Tensor out = Tensor::empty(out_shape, a.dtype());
  if (out.numel() == 0) return out;

  PYDL_DISPATCH(a.dtype(), matmul_batched<T>(a, b, batch, M, N, K, out));
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  check_defined(a_in, "matmul");
  check_float(a_in, "matmul");
  check_defined(b_in, "matmul");
  check_float(b_in, "matmul");
  check_same_dtype(a_in, b_in, "matmul");
  if (a_in.dim() == 0 || b_in.dim() == 0)
    throw ShapeError(msg("matmul: both operands need at least one dimension, got ", shape_str(a_in.shape()), " and ",
                         shape_str(b_in.shape()), "; use mul for a scalar"));
  // NumPy's rule for vectors: a (K,) is a row (1, K) on the left, a column (K, 1) on the right,
  // and the added axis is removed from the result.
  if (a_in.dim() == 1 || b_in.dim() == 1) {
    Tensor a = a_in.dim() == 1 ? unsqueeze(a_in, 0) : a_in;
    Tensor b = b_in.dim() == 1 ? unsqueeze(b_in, 1) : b_in;
    if (a.shape().back() != b.shape()[b.dim() - 2])
      throw ShapeError(msg("matmul: cannot multiply ", shape_str(a_in.shape()), " by ", shape_str(b_in.shape()),
                           ": inner dimensions ", a.shape().back(), " and ", b.shape()[b.dim() - 2], " differ"));
    Tensor out = matmul(a, b);
    std::vector<int64_t> drop;
    if (a_in.dim() == 1) drop.push_back(out.dim() - 2);
    if (b_in.dim() == 1) drop.push_back(out.dim() - 1);
    return squeeze(out, drop);
  }
  Tensor out = matmul_raw(a_in.detach(), b_in.detach());
  if (any_requires_grad({&a_in, &b_in})) {
    // C = A B:  dA = G Bᵀ,  dB = Aᵀ G  (summed over broadcast batch axes)
    record("MatmulBackward", {a_in, b_in}, out, {a_in, b_in}, [](const Node& n, const Tensor& g) {
      Tensor a = n.saved(0), b = n.saved(1);
      Tensor ga, gb;
      if (fnode(n).needs(0)) ga = sum_to(matmul_raw(g, transpose(b, -1, -2)), a.shape());
      if (fnode(n).needs(1)) gb = sum_to(matmul_raw(transpose(a, -1, -2), g), b.shape());
      return std::vector<Tensor>{ga, gb};
    });
  }
  return out;
}

// ---------------------------------------------------------------- linear
Tensor linear(const Tensor& x_in, const Tensor& w, const Tensor& bias) {
  check_defined(x_in, "linear");
  check_float(x_in, "linear");
  check_defined(w, "linear");
  check_float(w, "linear");
  check_same_dtype(x_in, w, "linear");
  if (w.dim() != 2)
    throw ShapeError(msg("linear: the weight must be 2-D (in_features, out_features), got ", shape_str(w.shape())));
  if (x_in.dim() < 1 || x_in.shape().back() != w.shape()[0])
    throw ShapeError(msg("linear: input of shape ", shape_str(x_in.shape()), " does not fit a weight of shape ",
                         shape_str(w.shape()), ": the input's last axis must be ", w.shape()[0]));
  const int64_t in = w.shape()[0], out_f = w.shape()[1];
  if (bias.defined()) {
    check_same_dtype(x_in, bias, "linear");
    if (bias.dim() != 1 || bias.shape()[0] != out_f)
      throw ShapeError(msg("linear: the bias must have shape (", out_f, ",), got ", shape_str(bias.shape())));
  }
  Shape out_shape = x_in.shape();
  out_shape.back() = out_f;
  // y = x · W + b, on x flattened to (rows, in).
  Tensor x = contiguous(x_in.detach());
  const int64_t rows = in == 0 ? numel_of(out_shape) / std::max<int64_t>(out_f, 1) : x.numel() / in;
  Tensor y = Tensor::empty(out_shape, x.dtype());
  PYDL_DISPATCH(x.dtype(), {
    T* yp = y.data<T>();
    T beta = T(0);
    if (bias.defined()) {  // start from the bias in every row, then add x · W onto it
      Tensor bc = contiguous(bias.detach());
      const T* bp = bc.data<T>();
      // y[r, :] = b: one plain loop for both backends (a copy; GEMM's own kernels then differ)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < out_f; ++j) yp[r * out_f + j] = bp[j];
      beta = T(1);
    }
    Tensor wc = w;
    auto ow = as_operand<T>(w.data<T>(), in, out_f, w.strides()[0], w.strides()[1]);
    if (!ow.p) {
      wc = contiguous(w.detach());
      ow = as_operand<T>(wc.data<T>(), in, out_f, wc.strides()[0], wc.strides()[1]);
    }
    if (rows > 0 && out_f > 0) gemm<T>(false, ow.trans, rows, out_f, in, x.data<T>(), std::max<int64_t>(in, 1), ow.p, ow.ld, beta, yp, out_f);
  });
  if (any_requires_grad({&x_in, &w, &bias})) {
    // dx = G Wᵀ,  dW = xᵀ G,  db = Σ_rows G
    record("LinearBackward", {x_in, w, bias}, y, {x, w}, [rows, in, out_f, xs = x_in.shape()](const Node& n, const Tensor& g) {
      Tensor x2 = reshape(n.saved(0), {rows, in});
      Tensor g2 = reshape(g, {rows, out_f});
      Tensor gx, gw, gb;
      if (fnode(n).needs(0)) gx = reshape(matmul_raw(g2, transpose(n.saved(1), 0, 1)), xs);
      if (fnode(n).needs(1)) gw = matmul_raw(transpose(x2, 0, 1), g2);
      if (fnode(n).needs(2)) gb = sum(g2, {0});
      return std::vector<Tensor>{gx, gw, gb};
    });
  }
  return y;
}

}  // namespace pydl::ops
