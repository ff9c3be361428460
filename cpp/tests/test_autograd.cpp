// The engine: accumulation, retain_graph, freed graphs, deep chains, grad mode.
#include <cstring>

#include "check.h"
#include "pydl/autograd.h"
#include "pydl/ops.h"
#include "pydl/tensor.h"

using namespace pydl;

static Tensor leaf(std::initializer_list<double> v) {
  Tensor t = Tensor::empty({static_cast<int64_t>(v.size())}, DType::Float64);
  int64_t i = 0;
  for (double x : v) t.data<double>()[i++] = x;
  t.set_requires_grad(true);
  return t;
}

static Tensor sc(double v) { return Tensor::scalar(v, DType::Float64); }

TEST(backward_matches_hand_derivative) {
  Tensor x = leaf({1.0, 2.0, 3.0});
  // y = sum(3 x^2 + x): dy/dx = 6x + 1
  Tensor y = ops::sum(ops::add(ops::mul(ops::mul(x, x), sc(3)), x));
  backward({y}, {Tensor()}, false);
  CHECK(x.grad().at({0}) == 7 && x.grad().at({1}) == 13 && x.grad().at({2}) == 19);
}

TEST(two_backwards_double_the_gradient) {
  Tensor x = leaf({1.0, -2.0});
  Tensor y = ops::sum(ops::mul(x, x));
  backward({y}, {Tensor()}, true);
  CHECK(x.grad().at({0}) == 2 && x.grad().at({1}) == -4);
  backward({y}, {Tensor()}, false);
  CHECK(x.grad().at({0}) == 4 && x.grad().at({1}) == -8);
}

TEST(freed_graph_throws_runtime_error) {
  Tensor x = leaf({1.0, 2.0});
  Tensor y = ops::sum(ops::mul(ops::exp(x), x));
  backward({y}, {Tensor()}, false);
  CHECK(y.grad_fn()->released);
  CHECK_THROWS(backward({y}, {Tensor()}, false), RuntimeError);
  try {
    backward({y}, {Tensor()}, false);
  } catch (const RuntimeError& e) {
    CHECK(std::strstr(e.what(), "retain_graph=True") != nullptr);
  }
}

TEST(retain_graph_allows_repeated_backward) {
  Tensor x = leaf({0.5});
  Tensor y = ops::sum(ops::tanh(x));
  for (int i = 0; i < 3; ++i) backward({y}, {Tensor()}, true);
  const double t = std::tanh(0.5);
  CHECK_CLOSE(x.grad().at({0}), 3 * (1 - t * t), 1e-14);
}

TEST(non_scalar_root_needs_gradient) {
  Tensor x = leaf({1.0, 2.0});
  Tensor y = ops::mul(x, sc(2));
  CHECK_THROWS(backward({y}, {Tensor()}, false), RuntimeError);
  CHECK_THROWS(backward({y}, {Tensor::zeros({3}, DType::Float64)}, false), ShapeError);
  Tensor g = Tensor::full({2}, 1.5, DType::Float64);
  backward({y}, {g}, false);
  CHECK(x.grad().at({0}) == 3 && x.grad().at({1}) == 3);
}

TEST(root_without_grad_throws) {
  Tensor x = Tensor::zeros({2});
  CHECK_THROWS(backward({ops::sum(x)}, {Tensor()}, false), RuntimeError);
}

TEST(shared_subexpression_gradients_add) {
  Tensor x = leaf({2.0});
  Tensor a = ops::mul(x, x);
  Tensor y = ops::sum(ops::add(a, ops::mul(a, sc(3))));  // 4 x^2
  backward({y}, {Tensor()}, false);
  CHECK(x.grad().at({0}) == 16);
}

TEST(deep_chain_200000_nodes) {
  Tensor x = leaf({1.0});
  {
    Tensor y = x;
    for (int i = 0; i < 200000; ++i) y = ops::add(y, sc(1));
    CHECK(y.at({0}) == 200001.0);
    backward({ops::sum(y)}, {Tensor()}, false);
    CHECK(x.grad().at({0}) == 1.0);
  }  // the chain is destroyed here: no recursion 200 000 deep
  {
    Tensor y = x;
    for (int i = 0; i < 200000; ++i) y = ops::mul(y, sc(1));
  }  // destroyed without ever running backward
  CHECK(x.grad().at({0}) == 1.0);
}

TEST(grad_mode_off_records_nothing) {
  Tensor x = leaf({1.0});
  {
    NoGradGuard guard;
    CHECK(!grad_enabled());
    Tensor y = ops::mul(x, sc(2));
    CHECK(!y.grad_fn() && !y.requires_grad());
  }
  CHECK(grad_enabled());
  CHECK(ops::mul(x, sc(2)).grad_fn() != nullptr);
}

TEST(inplace_rules) {
  Tensor x = leaf({1.0, 2.0});
  CHECK_THROWS(ops::add_(x, sc(1)), RuntimeError);
  CHECK(x.at({0}) == 1.0);
  {
    NoGradGuard guard;
    ops::add_(x, sc(1));
  }
  CHECK(x.at({0}) == 2.0 && x.at({1}) == 3.0);
  Tensor plain = Tensor::zeros({2}, DType::Float64);
  ops::add_(plain, sc(5));
  CHECK(plain.at({1}) == 5.0);
}

TEST(detach_cuts_the_graph) {
  Tensor x = leaf({3.0});
  Tensor d = ops::mul(x, sc(2)).detach();
  CHECK(!d.requires_grad() && !d.grad_fn());
  Tensor y = ops::sum(ops::mul(x, d));  // d/dx = d = 6
  backward({y}, {Tensor()}, false);
  CHECK(x.grad().at({0}) == 6.0);
}

TEST(leaf_grad_is_its_own_buffer) {
  Tensor a = leaf({1.0}), b = leaf({1.0});
  backward({ops::sum(ops::add(a, b))}, {Tensor()}, false);
  Tensor ga = a.grad();
  NoGradGuard guard;
  ops::add_(ga, sc(10));
  CHECK(b.grad().at({0}) == 1.0);
}

TEST(multiple_roots) {
  Tensor x = leaf({1.0, 2.0});
  Tensor a = ops::sum(ops::mul(x, sc(2))), b = ops::sum(ops::mul(x, x));
  backward({a, b}, {Tensor(), Tensor()}, false);
  CHECK(x.grad().at({0}) == 4 && x.grad().at({1}) == 6);
  CHECK_THROWS(backward({a}, {}, false), ValueError);
}

TEST(node_names) {
  Tensor x = leaf({1.0});
  CHECK(ops::mul(x, x).grad_fn()->name() == "MulBackward");
  CHECK(ops::matmul(ops::unsqueeze(x, 0), ops::unsqueeze(x, 0)).grad_fn() != nullptr);
  Edge e = gradient_edge(x);
  CHECK(e.fn && e.fn->name() == "AccumulateGrad");
  CHECK(gradient_edge(x).fn == e.fn);  // one accumulator per leaf
}

RUN_ALL_TESTS()

TEST(graph_saves_counts_live_nodes_that_saved_a_storage) {
  // NumPy exports are read-only while this count is above zero (bindings/tensor.cpp).
  Tensor w = leaf({3.0});
  Tensor x = Tensor::full({1}, 7.0, DType::Float64);
  CHECK(x.storage()->graph_saves.load() == 0);
  {
    Tensor y = ops::sum(ops::mul(w, x));  // MulBackward saves w and x
    CHECK(x.storage()->graph_saves.load() == 1);
    backward({y}, {Tensor()}, true);  // retained: still saved
    CHECK(x.storage()->graph_saves.load() == 1);
    backward({y}, {Tensor()}, false);  // released
    CHECK(x.storage()->graph_saves.load() == 0);
    CHECK(w.grad().at({0}) == 14.0);
  }
  {
    Tensor y = ops::sum(ops::mul(w, x));
    CHECK(x.storage()->graph_saves.load() == 1);
  }  // the graph dies unreleased
  CHECK(x.storage()->graph_saves.load() == 0);
}

TEST(retain_grad_fills_a_non_leaf_grad) {
  Tensor x = leaf({1.0, -2.0});
  Tensor y = ops::mul(x, sc(3));  // y = 3x, z = sum(y^2): dz/dy = 2y = 6x, dz/dx = 18x
  y.retain_grad();
  CHECK(y.retains_grad());
  Tensor z = ops::sum(ops::mul(y, y));
  backward({z}, {Tensor()}, false);
  CHECK(y.grad().at({0}) == 6.0 && y.grad().at({1}) == -12.0);
  CHECK(x.grad().at({0}) == 18.0 && x.grad().at({1}) == -36.0);
  Tensor c = Tensor::full({1}, 1.0, DType::Float64);
  CHECK_THROWS(c.retain_grad(), RuntimeError);
}
