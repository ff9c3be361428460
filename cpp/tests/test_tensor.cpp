// Tensor basics: allocation and alignment, strides and contiguity, shape rules, sizes that
// must be refused, element access errors, views and detach.
#include <cstdint>
#include <cstring>
#include <limits>

#include "check.h"
#include "pydl/autograd.h"
#include "pydl/ops.h"
#include "pydl/tensor.h"

using namespace pydl;

TEST(allocation_is_64_byte_aligned) {
  for (int64_t n : {0, 1, 3, 17, 1000, 4097}) {
    Tensor t = Tensor::empty({n});
    CHECK(reinterpret_cast<uintptr_t>(t.raw_data()) % 64 == 0);
    CHECK(t.storage()->nbytes == static_cast<size_t>(n) * 4);
    Tensor d = Tensor::empty({n, 2}, DType::Float64);
    CHECK(reinterpret_cast<uintptr_t>(d.raw_data()) % 64 == 0);
    CHECK(d.storage()->nbytes == static_cast<size_t>(n) * 16);
  }
}

TEST(zeros_full_scalar) {
  Tensor z = Tensor::zeros({3, 4}, DType::Float64);
  for (int64_t i = 0; i < 12; ++i) CHECK(z.data<double>()[i] == 0.0);
  Tensor f = Tensor::full({2, 2}, 2.5);
  CHECK(f.dtype() == DType::Float32);
  for (int64_t i = 0; i < 4; ++i) CHECK(f.data<float>()[i] == 2.5f);
  Tensor s = Tensor::scalar(7.0, DType::Float64);
  CHECK(s.dim() == 0 && s.numel() == 1 && s.item() == 7.0);
  Tensor e = Tensor::zeros({0, 5});
  CHECK(e.numel() == 0 && e.shape() == Shape({0, 5}));
}

TEST(contiguous_strides_and_numel) {
  CHECK(contiguous_strides({2, 3, 4}) == Shape({12, 4, 1}));
  CHECK(contiguous_strides({5}) == Shape({1}));
  CHECK(contiguous_strides({}).empty());
  CHECK(contiguous_strides({3, 0, 2}) == Shape({2, 2, 1}));
  CHECK(numel_of({2, 3, 4}) == 24);
  CHECK(numel_of({}) == 1);
  CHECK(numel_of({3, 0}) == 0);
}

TEST(contiguity_of_views) {
  Tensor t = Tensor::zeros({2, 3, 4});
  CHECK(t.is_contiguous());
  CHECK(t.strides() == Shape({12, 4, 1}));
  Tensor tt = ops::transpose(t, 0, 2);
  CHECK(!tt.is_contiguous());
  CHECK(tt.shape() == Shape({4, 3, 2}) && tt.strides() == Shape({1, 4, 12}));
  Tensor sl = ops::slice(t, 2, 0, 4, 2);
  CHECK(!sl.is_contiguous() && sl.strides() == Shape({12, 4, 2}) && sl.shape() == Shape({2, 3, 2}));
  Tensor row = ops::select(t, 0, 1);
  CHECK(row.is_contiguous() && row.offset() == 12);
  // a size-1 axis never breaks contiguity, whatever its stride
  Tensor one = ops::transpose(Tensor::zeros({1, 5}), 0, 1);
  CHECK(one.is_contiguous());
  Tensor c = ops::contiguous(tt);
  CHECK(c.is_contiguous() && c.storage() != t.storage());
  CHECK(ops::contiguous(t).storage() == t.storage());
}

TEST(views_share_storage) {
  Tensor t = Tensor::zeros({2, 3}, DType::Float64);
  Tensor v = ops::reshape(t, {3, 2});
  CHECK(v.storage() == t.storage());
  v.data<double>()[5] = 4.0;
  CHECK(t.at({1, 2}) == 4.0);
  Tensor d = t.detach();
  CHECK(d.storage() == t.storage() && d.impl() != t.impl());
  Tensor b = ops::broadcast_to(ops::select(t, 0, 1), {4, 3});
  CHECK(b.strides() == Shape({0, 1}) && b.at({3, 2}) == 4.0);
}

TEST(negative_sizes_throw_value_error) {
  CHECK_THROWS(Tensor::empty({-1}), ValueError);
  CHECK_THROWS(Tensor::zeros({2, -3}), ValueError);
  CHECK_THROWS(Tensor::full({-5, 2}, 1.0), ValueError);
  try {
    Tensor::empty({2, -3});
    CHECK(false);
  } catch (const ValueError& e) {
    CHECK(std::strstr(e.what(), "(2, -3)") != nullptr);
  }
}

TEST(absurd_sizes_throw_value_error) {
  const int64_t big = int64_t(1) << 40;
  CHECK_THROWS(Tensor::empty({big, big}), ValueError);
  CHECK_THROWS(Tensor::empty({int64_t(1) << 62, 4}), ValueError);
  CHECK_THROWS(Tensor::empty({std::numeric_limits<int64_t>::max()}), ValueError);
  CHECK_THROWS(Tensor::zeros({int64_t(1) << 41, 0}), ValueError);
  CHECK_THROWS(check_shape({3, -1}, "op"), ValueError);
  check_shape({3, 0, 5}, "op");  // fine
}

TEST(element_access_errors) {
  Tensor t = Tensor::zeros({2, 3});
  CHECK_THROWS(t.at({2, 0}), IndexError);
  CHECK_THROWS(t.at({0, -1}), IndexError);
  CHECK_THROWS(t.at({0}), IndexError);
  CHECK_THROWS(t.at({0, 0, 0}), IndexError);
  CHECK_THROWS(t.item(), ValueError);
  CHECK_THROWS(t.size(2), IndexError);
  CHECK(t.size(-1) == 3);
  CHECK(Tensor::full({1, 1}, 3.0).item() == 3.0);
  Tensor undefined;
  CHECK_THROWS(undefined.shape(), RuntimeError);
}

TEST(shape_rules_broadcast) {
  CHECK(ops::broadcast_shapes({2, 3}, {3}, "t") == Shape({2, 3}));
  CHECK(ops::broadcast_shapes({2, 1, 4}, {3, 1}, "t") == Shape({2, 3, 4}));
  CHECK(ops::broadcast_shapes({}, {5}, "t") == Shape({5}));
  CHECK(ops::broadcast_shapes({0, 1}, {1, 3}, "t") == Shape({0, 3}));
  CHECK_THROWS(ops::broadcast_shapes({2, 3}, {4}, "t"), ShapeError);
  try {
    ops::broadcast_shapes({2, 3}, {4}, "add");
  } catch (const ShapeError& e) {
    CHECK(std::strstr(e.what(), "add") && std::strstr(e.what(), "(2, 3)") && std::strstr(e.what(), "(4,)"));
  }
}

TEST(shape_rules_infer_and_axes) {
  CHECK(ops::infer_shape({-1, 4}, 12, "r") == Shape({3, 4}));
  CHECK(ops::infer_shape({2, -1, 3}, 0, "r") == Shape({2, 0, 3}));
  CHECK_THROWS(ops::infer_shape({-1, -1}, 12, "r"), ValueError);
  CHECK_THROWS(ops::infer_shape({5, -1}, 12, "r"), ShapeError);
  CHECK_THROWS(ops::infer_shape({-2, 6}, 12, "r"), ValueError);
  CHECK_THROWS(ops::infer_shape({-1, 0}, 0, "r"), ShapeError);
  CHECK_THROWS(ops::infer_shape({int64_t(1) << 62, 4}, 0, "r"), ValueError);  // no overflow to 0
  CHECK(ops::normalize_axis(-1, 3, "op") == 2);
  CHECK(ops::normalize_axis(0, 1, "op") == 0);
  CHECK_THROWS(ops::normalize_axis(3, 3, "op"), IndexError);
  CHECK_THROWS(ops::normalize_axis(-4, 3, "op"), IndexError);
  CHECK_THROWS(ops::normalize_axis(0, 0, "op"), IndexError);
}

TEST(shape_ops_results) {
  Tensor t = Tensor::zeros({2, 3, 4});
  CHECK(ops::permute(t, {2, 0, 1}).shape() == Shape({4, 2, 3}));
  CHECK(ops::squeeze(Tensor::zeros({1, 3, 1})).shape() == Shape({3}));
  CHECK(ops::unsqueeze(t, -1).shape() == Shape({2, 3, 4, 1}));
  CHECK(ops::flatten(t, 1).shape() == Shape({2, 12}));
  CHECK(ops::concatenate({t, t}, 1).shape() == Shape({2, 6, 4}));
  CHECK(ops::stack({t, t, t}, 0).shape() == Shape({3, 2, 3, 4}));
  CHECK(ops::slice(t, 1, 5, 10).shape() == Shape({2, 0, 4}));
  CHECK_THROWS(ops::slice(t, 1, 0, 3, 0), ValueError);
  CHECK_THROWS(ops::select(t, 1, 3), IndexError);
  CHECK_THROWS(ops::view(ops::transpose(t, 0, 1), {24}), RuntimeError);
  CHECK_THROWS(ops::broadcast_to(t, {-1, 3, 4}), ValueError);
  CHECK_THROWS(ops::stack({t, Tensor::zeros({2, 3, 4}, DType::Float64)}), TypeError);
}

TEST(borrowed_storage_released_once) {
  static int released = 0;
  float buf[6] = {1, 2, 3, 4, 5, 6};
  {
    auto keep = std::shared_ptr<void>(buf, [](void*) { released++; });
    auto s = Storage::borrow(buf, sizeof(buf), keep);
    keep.reset();
    Tensor t = Tensor::view_of(s, 1, {2, 2}, {3, 1}, DType::Float32);
    CHECK(t.at({1, 1}) == 6.0f);
    CHECK(!t.is_contiguous());
    CHECK(released == 0);
  }
  CHECK(released == 1);
}

TEST(grad_assignment_checks) {
  Tensor t = Tensor::zeros({2, 3});
  t.set_requires_grad(true);
  CHECK_THROWS(t.set_grad(Tensor::zeros({3})), ShapeError);
  CHECK_THROWS(t.set_grad(Tensor::zeros({2, 3}, DType::Float64)), TypeError);
  t.set_grad(Tensor::zeros({2, 3}));
  CHECK(t.grad().defined());
  t.set_grad(Tensor());
  CHECK(!t.grad().defined());
}

RUN_ALL_TESTS()
