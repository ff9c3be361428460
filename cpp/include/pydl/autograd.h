// Reverse-mode automatic differentiation.
//
// Every op that sees an input with requires_grad (while grad mode is on) records a Node:
// the backward function of that op, the tensors its backward needs (saved, detached) and
// one Edge per input pointing at the Node that produced that input (or at the leaf's
// AccumulateGrad). `backward(root)` walks these nodes in reverse topological order with an
// explicit work list (no recursion, so a graph 100 000 ops deep is fine), adds up the
// gradients flowing into each node, and accumulates (+=) into the leaves' .grad.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pydl/tensor.h"

namespace pydl {

struct Edge {
  std::shared_ptr<Node> fn;  // null: this input needs no gradient
  int input_nr = 0;          // which output of fn this edge feeds
};

struct Node {
  Node();
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // "AddBackward", "MatmulBackward", ... (what the course's graph pictures print).
  virtual std::string name() const = 0;
  // Given d(loss)/d(output) for each output (undefined where none flowed), return
  // d(loss)/d(input) for each input, in the order of next_edges.
  virtual std::vector<Tensor> apply(std::vector<Tensor>& grad_outputs) = 0;

  // Drop saved tensors; after this the node cannot run again (retain_graph=False).
  void release();
  Tensor saved(size_t i) const;  // throws RuntimeError if released

  std::vector<Edge> next_edges;
  std::vector<Tensor> saved_tensors;
  std::vector<uint64_t> saved_versions;  // each saved tensor's storage version when saved
  int num_outputs = 1;
  bool released = false;
  // record() counted its saved tensors in their storages' graph_saves (undone on release).
  bool counts_graph_saves = false;
  // Non-leaf outputs whose .grad backward fills (retain_grad), by output number; usually empty.
  std::vector<std::weak_ptr<TensorImpl>> retained;
  uint64_t sequence_nr;  // creation order: later nodes run first among the ready ones
};

// The node at the end of every leaf's edges: adds the incoming gradient to leaf.grad.
struct AccumulateGrad : Node {
  explicit AccumulateGrad(const std::shared_ptr<TensorImpl>& leaf) : leaf(leaf) {}
  std::string name() const override { return "AccumulateGrad"; }
  std::vector<Tensor> apply(std::vector<Tensor>& grad_outputs) override;
  std::weak_ptr<TensorImpl> leaf;
};

// ---- grad mode (thread-local): pydl.no_grad() switches it off.
bool grad_enabled();
void set_grad_enabled(bool enabled);
struct NoGradGuard {
  NoGradGuard() : prev(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(prev); }
  bool prev;
};

// True when an op on these inputs must record a node.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
bool any_requires_grad(const std::vector<Tensor>& inputs);

// The edge along which a gradient for `t` should flow (null fn if t needs none).
Edge gradient_edge(const Tensor& t);

// Wire `node` into the graph: edges to the inputs, the outputs' grad_fn to the node.
// Call only when any_requires_grad(...) is true.
void attach(const std::shared_ptr<Node>& node, const std::vector<Tensor>& inputs,
            const std::vector<Tensor*>& outputs);

// Run backward from `roots` (each with its gradient; undefined = ones for a scalar root).
void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots,
              bool retain_graph);

}  // namespace pydl
