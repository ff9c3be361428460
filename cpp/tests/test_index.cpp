// Integer indexing (issue 9): take and gather, fast against reference (forward and the
// scatter-add backward, bit for bit: both add repeated indices in the same order), the
// backward against a hand-computed scatter, int64 dtype basics, argmax/argmin, and bad input.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "check.h"
#include "pydl/autograd.h"
#include "pydl/ops.h"
#include "pydl/random.h"
#include "pydl/settings.h"
#include "strided_fixture.h"

using namespace pydl;
using namespace pydl_test;

static Tensor ints(const Shape& s, const std::vector<int64_t>& v) {
  Tensor t = Tensor::empty(s, DType::Int64);
  for (size_t i = 0; i < v.size(); ++i) t.data<int64_t>()[i] = v[i];
  return t;
}

static Tensor random_doubles(const Shape& s) {
  Tensor t = Tensor::empty(s, DType::Float64);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = uniform(-1, 1);
  return t;
}

struct Result { std::vector<double> y, gx; };

template <typename F>
static Result run(const char* backend, const Tensor& x_in, const Tensor& gy_like, F fn) {
  settings::set_backend(backend);
  Tensor x = x_in.detach();
  x.set_requires_grad(true);
  Tensor y = fn(x);
  backward({y}, {gy_like}, false);
  Result r;
  for (int64_t i = 0; i < y.numel(); ++i) r.y.push_back(y.data<double>()[i]);
  for (int64_t i = 0; i < x.numel(); ++i) r.gx.push_back(x.grad().data<double>()[i]);
  settings::set_backend("fast");
  return r;
}

TEST(take_fast_matches_reference) {
  for (int trial = 0; trial < 60; ++trial) {
    Shape xs(randint(1, 3));
    for (auto& d : xs) d = randint(1, 6);
    const bool big = trial % 10 == 0;  // the parallel paths
    if (big) xs[0] = randint(200, 400);
    const int64_t axis = randint(0, static_cast<int64_t>(xs.size()) - 1);
    const int64_t n = xs[axis];
    Shape is(randint(0, 2));
    for (auto& d : is) d = randint(1, big ? 300 : 5);
    Tensor idx = Tensor::empty(is, DType::Int64);
    for (int64_t i = 0; i < idx.numel(); ++i) idx.data<int64_t>()[i] = randint(-n, n - 1);  // repeats and negatives
    Tensor x = random_doubles(xs);
    Shape ys(xs.begin(), xs.begin() + axis);
    ys.insert(ys.end(), is.begin(), is.end());
    ys.insert(ys.end(), xs.begin() + axis + 1, xs.end());
    Tensor gy = random_doubles(ys);
    auto fn = [&](const Tensor& t) { return ops::take(t, idx, axis); };
    Result a = run("reference", x, gy, fn), b = run("fast", x, gy, fn);
    CHECK(a.y == b.y);
    CHECK(a.gx == b.gx);
    CHECK(b.y.size() == static_cast<size_t>(numel_of(ys)));
  }
}

TEST(take_backward_is_a_scatter_add) {
  // x (4, 2); rows 3, 0, 3, -1 (= 3): row 3 gets three gradients, row 0 one, rows 1, 2 none
  Tensor x = random_doubles({4, 2});
  Tensor idx = ints({4}, {3, 0, 3, -1});
  Tensor gy = Tensor::empty({4, 2}, DType::Float64);
  for (int64_t i = 0; i < 8; ++i) gy.data<double>()[i] = i + 1;  // rows (1,2) (3,4) (5,6) (7,8)
  for (const char* be : {"reference", "fast"}) {
    Result r = run(be, x, gy, [&](const Tensor& t) { return ops::take(t, idx, 0); });
    const std::vector<double> expect = {3, 4, 0, 0, 0, 0, 1 + 5 + 7, 2 + 6 + 8};
    CHECK(r.gx == expect);
    CHECK(r.y[0] == x.data<double>()[6] && r.y[3] == x.data<double>()[1]);
  }
}

TEST(gather_fast_matches_reference) {
  for (int trial = 0; trial < 60; ++trial) {
    Shape xs(randint(1, 3));
    for (auto& d : xs) d = randint(1, 6);
    const bool big = trial % 10 == 0;
    if (big) xs.back() = randint(200, 400);
    const int64_t dim = randint(0, static_cast<int64_t>(xs.size()) - 1);
    Shape is = xs;
    for (size_t k = 0; k < is.size(); ++k) is[k] = static_cast<int64_t>(k) == dim ? randint(1, 7) : randint(1, xs[k]);
    Tensor idx = Tensor::empty(is, DType::Int64);
    for (int64_t i = 0; i < idx.numel(); ++i) idx.data<int64_t>()[i] = randint(0, xs[dim] - 1);
    Tensor x = random_doubles(xs), gy = random_doubles(is);
    auto fn = [&](const Tensor& t) { return ops::gather(t, dim, idx); };
    Result a = run("reference", x, gy, fn), b = run("fast", x, gy, fn);
    CHECK(a.y == b.y);
    CHECK(a.gx == b.gx);
  }
}

TEST(gather_by_hand) {
  // PyTorch's doc example: gather([[1, 2], [3, 4]], 1, [[0, 0], [1, 0]]) = [[1, 1], [4, 3]]
  Tensor x = Tensor::empty({2, 2}, DType::Float64);
  for (int i = 0; i < 4; ++i) x.data<double>()[i] = i + 1;
  Tensor y = ops::gather(x, 1, ints({2, 2}, {0, 0, 1, 0}));
  CHECK(y.data<double>()[0] == 1 && y.data<double>()[1] == 1 && y.data<double>()[2] == 4 && y.data<double>()[3] == 3);
}

TEST(int64_dtype_basics) {
  Tensor t = ints({2, 3}, {1, -2, 3, 4, 5, 6});
  CHECK(itemsize(DType::Int64) == 8);
  CHECK(std::string(dtype_name(DType::Int64)) == "int64");
  Tensor f = ops::to_dtype(t, DType::Float32);
  CHECK(f.data<float>()[1] == -2.0f);
  Tensor back = ops::to_dtype(ops::transpose(f, 0, 1), DType::Int64);  // a strided copy
  CHECK(back.data<int64_t>()[1] == 4 && back.data<int64_t>()[2] == -2);
  // truncation toward zero, as PyTorch
  CHECK(ops::to_dtype(Tensor::full({1}, -2.7, DType::Float64), DType::Int64).data<int64_t>()[0] == -2);
  CHECK_THROWS(ops::to_dtype(Tensor::full({1}, NAN, DType::Float64), DType::Int64), ValueError);
  CHECK_THROWS(t.set_requires_grad(true), RuntimeError);
  CHECK_THROWS(ops::add(t, t), TypeError);
  CHECK_THROWS(ops::matmul(t, ops::transpose(t, 0, 1)), TypeError);
  CHECK_THROWS(ops::exp(t), TypeError);
  CHECK_THROWS(ops::sum(t), TypeError);
  CHECK_THROWS(ops::softmax(t, -1), TypeError);
  CHECK_THROWS(random::uniform({2}, 0, 1, DType::Int64), TypeError);
  Tensor c = ops::concatenate({t, t}, 0);
  CHECK(c.dtype() == DType::Int64 && c.shape() == Shape({4, 3}) && c.data<int64_t>()[9] == 4);
  CHECK(ops::clone(ops::reshape(t, {3, 2})).data<int64_t>()[5] == 6);
}

TEST(argmax_argmin) {
  Tensor x = Tensor::empty({2, 3}, DType::Float32);
  const float v[6] = {1, 5, 5, -1, -3, -3};
  for (int i = 0; i < 6; ++i) x.data<float>()[i] = v[i];
  Tensor a = ops::argmax(x, 1);
  CHECK(a.dtype() == DType::Int64 && a.data<int64_t>()[0] == 1 && a.data<int64_t>()[1] == 0);  // first of ties
  Tensor b = ops::argmin(x, 1, true);
  CHECK(b.shape() == Shape({2, 1}) && b.data<int64_t>()[0] == 0 && b.data<int64_t>()[1] == 1);
  CHECK(ops::argmax(x).data<int64_t>()[0] == 1 && ops::argmin(x).data<int64_t>()[0] == 4);
  x.data<float>()[2] = NAN;
  CHECK(ops::argmax(x, 1).data<int64_t>()[0] == 2 && ops::argmin(x, 1).data<int64_t>()[0] == 2);  // NaN wins
  CHECK(ops::argmax(ints({3}, {2, 7, 7})).data<int64_t>()[0] == 1);
  CHECK_THROWS(ops::argmax(Tensor::empty({0}, DType::Float32)), ValueError);
  CHECK_THROWS(ops::argmax(x, 2), IndexError);
}

TEST(bad_indices) {
  Tensor x = random_doubles({3, 2});
  CHECK_THROWS(ops::take(x, ints({1}, {3}), 0), IndexError);
  CHECK_THROWS(ops::take(x, ints({1}, {-4}), 0), IndexError);
  CHECK_THROWS(ops::take(x, ints({1}, {0}), 2), IndexError);
  CHECK_THROWS(ops::take(x, Tensor::zeros({1}, DType::Float32), 0), TypeError);
  CHECK_THROWS(ops::gather(x, 0, ints({1, 1}, {-1})), IndexError);  // PyTorch: no negative index
  CHECK_THROWS(ops::gather(x, 0, ints({1}, {0})), ShapeError);
  CHECK_THROWS(ops::gather(x, 0, ints({1, 3}, {0, 0, 0})), ShapeError);
  try {
    ops::take(x, ints({2}, {0, 7}), 0);
  } catch (const IndexError& e) {
    const std::string m = e.what();
    CHECK(m.find("take") != std::string::npos && m.find("7") != std::string::npos && m.find("(3, 2)") != std::string::npos);
  }
}

RUN_ALL_TESTS()
