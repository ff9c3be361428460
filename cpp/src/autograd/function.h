// Recording an op in the graph with its backward written beside its forward:
//
//   Tensor out = ...forward...;
//   if (any_requires_grad({&a, &b}))
//     record("MulBackward", {a, b}, out, {a, b}, [](const Node& n, const Tensor& g) {
//       return std::vector<Tensor>{mul(g, n.saved(1)), mul(g, n.saved(0))};
//     });
#pragma once
#include <functional>
#include <vector>

#include "pydl/autograd.h"

namespace pydl {

// Return d(loss)/d(input_i) for each input (undefined where the input needs none).
using BackwardFn = std::function<std::vector<Tensor>(const Node& self, const Tensor& grad)>;

struct FunctionNode : Node {
  FunctionNode(const char* name, BackwardFn fn) : name_(name), fn_(std::move(fn)) {}
  std::string name() const override { return name_; }
  std::vector<Tensor> apply(std::vector<Tensor>& grads) override {
    if (grads.empty() || !grads[0].defined()) return {};
    return fn_(*this, grads[0]);
  }
  // Whether input i's gradient is wanted (skip work for inputs that need none).
  bool needs(size_t i) const { return i < next_edges.size() && next_edges[i].fn != nullptr; }

 private:
  const char* name_;
  BackwardFn fn_;
};

// Make `out` the single output of a new FunctionNode over `inputs`, saving `saved` (detached,
// so saved tensors never hold the graph alive). Call only when any_requires_grad(inputs).
void record(const char* name, const std::vector<Tensor>& inputs, Tensor& out, const std::vector<Tensor>& saved,
            BackwardFn fn);

// An op with several outputs (an LSTM's sequence, last h and last c; issue 9): the backward gets one
// gradient per output, undefined where none reached that output (read it as zeros). It runs when
// any output got a gradient, so a loss on the last state alone trains the whole sequence.
using MultiBackwardFn = std::function<std::vector<Tensor>(const Node& self, const std::vector<Tensor>& grads)>;

struct MultiFunctionNode : Node {
  MultiFunctionNode(const char* name, MultiBackwardFn fn) : name_(name), fn_(std::move(fn)) {}
  std::string name() const override { return name_; }
  std::vector<Tensor> apply(std::vector<Tensor>& grads) override { return fn_(*this, grads); }
  bool needs(size_t i) const { return i < next_edges.size() && next_edges[i].fn != nullptr; }

 private:
  const char* name_;
  MultiBackwardFn fn_;
};

// Make `outs` outputs 0, 1, ... of one MultiFunctionNode over `inputs` (saving as record does).
void record_multi(const char* name, const std::vector<Tensor>& inputs, const std::vector<Tensor*>& outs,
                  const std::vector<Tensor>& saved, MultiBackwardFn fn);

// The FunctionNode a backward lambda receives (for needs()).
inline const FunctionNode& fnode(const Node& n) { return static_cast<const FunctionNode&>(n); }

}  // namespace pydl
