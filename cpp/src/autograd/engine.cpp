// The backward engine: dependency counting, then a ready queue in reverse creation order.
#include <atomic>
#include <queue>
#include <unordered_map>

#include "pydl/autograd.h"
#include "pydl/ops.h"

namespace pydl {

// ---------------------------------------------------------------- grad mode
static thread_local bool t_grad_enabled = true;
bool grad_enabled() { return t_grad_enabled; }
void set_grad_enabled(bool enabled) { t_grad_enabled = enabled; }

// ---------------------------------------------------------------- nodes
static std::atomic<uint64_t> g_sequence{0};

Node::Node() : sequence_nr(g_sequence.fetch_add(1)) {}

// Destroying the head of a long chain would destroy the next node inside this destructor,
// and so on: recursion as deep as the graph. Instead the outermost destructor takes the
// nodes we owned and frees them one by one from a local list.
static thread_local std::vector<std::shared_ptr<Node>>* t_graveyard = nullptr;

// Undo record()'s count of this node's saved tensors (NumPy exports become writeable again).
static void drop_graph_saves(Node& n) {
  if (!n.counts_graph_saves || n.released) return;
  for (const Tensor& t : n.saved_tensors)
    if (t.defined()) t.storage()->graph_saves--;
  n.counts_graph_saves = false;
}

Node::~Node() {
  drop_graph_saves(*this);
  bool outermost = t_graveyard == nullptr;
  std::vector<std::shared_ptr<Node>> local;
  if (outermost) t_graveyard = &local;
  for (Edge& e : next_edges)
    if (e.fn) t_graveyard->push_back(std::move(e.fn));
  if (outermost) {
    while (!local.empty()) {
      std::shared_ptr<Node> n = std::move(local.back());
      local.pop_back();
      n.reset();  // may push that node's edges onto `local`
    }
    t_graveyard = nullptr;
  }
}

void Node::release() {
  drop_graph_saves(*this);
  saved_tensors.clear();
  saved_versions.clear();
  saved_tensors.shrink_to_fit();
  released = true;
}

Tensor Node::saved(size_t i) const {
  if (released)
    throw RuntimeError(msg("backward: trying to backward through ", name(),
                           " a second time, but its saved tensors were freed after the first backward; "
                           "call the first backward with retain_graph=True"));
  const Tensor& t = saved_tensors.at(i);
  if (t.defined() && i < saved_versions.size() && t.storage()->version != saved_versions[i])
    throw RuntimeError(msg("backward: a tensor of shape ", shape_str(t.shape()), " that ", name(),
                           " saved for the gradient was modified in place after the forward pass; "
                           "use an out-of-place op (y = y + x instead of y += x) or clone() it first"));
  return t;
}

std::vector<Tensor> AccumulateGrad::apply(std::vector<Tensor>& grad_outputs) {
  std::shared_ptr<TensorImpl> impl = leaf.lock();
  Tensor& g = grad_outputs[0];
  if (!impl || !g.defined()) return {};
  Tensor t(impl);
  if (!impl->grad.defined()) {
    // Keep the incoming gradient itself when nothing else can see it (a fresh contiguous
    // result, its storage referenced only here); otherwise copy it, since it may be shared
    // with other leaves (add's backward hands the same tensor to both inputs).
    const bool exclusive = g.impl_ptr().use_count() == 1 && g.storage().use_count() == 1 && g.is_contiguous() &&
                           g.offset() == 0 && g.shape() == impl->shape && g.dtype() == impl->dtype;
    impl->grad = exclusive ? g : ops::clone(g);
  } else {
    ops::add_(impl->grad, g);  // gradients accumulate until zero_grad
  }
  return {};
}

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined()) return {};
  TensorImpl* impl = t.impl();
  if (impl->grad_fn) return {impl->grad_fn, impl->output_nr};
  if (!impl->requires_grad) return {};
  std::shared_ptr<Node> acc = impl->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    impl->grad_accumulator = acc;
  }
  return {acc, 0};
}

void attach(const std::shared_ptr<Node>& node, const std::vector<Tensor>& inputs,
            const std::vector<Tensor*>& outputs) {
  node->next_edges.clear();
  node->next_edges.reserve(inputs.size());
  for (const Tensor& t : inputs) node->next_edges.push_back(gradient_edge(t));
  node->num_outputs = static_cast<int>(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) outputs[i]->set_grad_fn(node, static_cast<int>(i));
}

// ---------------------------------------------------------------- the engine
static void accumulate_into(std::vector<Tensor>& buffer, int slot, const Tensor& g) {
  if (!buffer[slot].defined()) buffer[slot] = g;
  else buffer[slot] = ops::add(buffer[slot], g);
}

// What the engine keeps per reachable node: how many edges still have to deliver a
// gradient, and the gradients delivered so far (one slot per output of the node).
struct Pending {
  int deps = 0;
  bool seen = false;
  std::vector<Tensor> grads;
};

void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots, bool retain_graph) {
  NoGradGuard no_grad;  // backward itself builds no graph
  if (roots.size() != grad_roots.size())
    throw ValueError(msg("backward: got ", roots.size(), " tensors but ", grad_roots.size(), " gradients"));

  std::unordered_map<Node*, Pending> pending;
  pending.reserve(64);
  auto deliver = [&](const Edge& e, const Tensor& g) {
    Pending& p = pending[e.fn.get()];
    if (p.grads.empty()) p.grads.resize(e.fn->num_outputs);
    accumulate_into(p.grads, e.input_nr, g);
  };
  std::vector<std::shared_ptr<Node>> starts;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    if (!r.requires_grad())
      throw RuntimeError(msg("backward: the tensor of shape ", shape_str(r.shape()),
                             " does not require grad and has no grad_fn "
                             "(did you forget requires_grad=True, or run under no_grad()?)"));
    Tensor g = grad_roots[i];
    if (!g.defined()) {
      if (r.numel() != 1)
        throw RuntimeError(msg("backward: a gradient can be created implicitly only for a scalar output, "
                               "but the output has shape ", shape_str(r.shape()),
                               "; pass the output gradient: t.backward(grad)"));
      g = Tensor::full(r.shape(), 1.0, r.dtype());
    } else if (g.shape() != r.shape()) {
      throw ShapeError(msg("backward: gradient of shape ", shape_str(g.shape()), " for an output of shape ",
                           shape_str(r.shape())));
    } else if (g.dtype() != r.dtype()) {
      g = ops::to_dtype(g, r.dtype());
    }
    Edge e = gradient_edge(r);
    deliver(e, g);
    starts.push_back(e.fn);
  }

  // Count, for every reachable node, how many edges lead into it (iterative DFS).
  std::vector<Node*> stack;
  for (auto& s : starts) {
    Pending& p = pending[s.get()];
    if (!p.seen) { p.seen = true; stack.push_back(s.get()); }
  }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (Edge& e : n->next_edges) {
      if (!e.fn) continue;
      Pending& p = pending[e.fn.get()];
      p.deps++;
      if (!p.seen) { p.seen = true; stack.push_back(e.fn.get()); }
    }
  }

  // Among the ready nodes, run the most recently created first (as PyTorch does).
  auto later_first = [](const std::shared_ptr<Node>& a, const std::shared_ptr<Node>& b) {
    return a->sequence_nr < b->sequence_nr;
  };
  std::priority_queue<std::shared_ptr<Node>, std::vector<std::shared_ptr<Node>>, decltype(later_first)> ready(
      later_first);
  for (auto& s : starts) {
    Pending& p = pending[s.get()];
    if (p.deps == 0) { p.deps = -1; ready.push(s); }
  }

  while (!ready.empty()) {
    std::shared_ptr<Node> node = ready.top();
    ready.pop();
    std::vector<Tensor> grads = std::move(pending[node.get()].grads);
    grads.resize(node->num_outputs);
    // outputs that asked for retain_grad() get the gradient that reached them
    for (size_t k = 0; k < node->retained.size() && k < grads.size(); ++k) {
      std::shared_ptr<TensorImpl> impl = node->retained[k].lock();
      if (!impl || !grads[k].defined()) continue;
      if (!impl->grad.defined()) impl->grad = ops::clone(grads[k]);
      else ops::add_(impl->grad, grads[k]);
    }
    bool any = false;
    for (const Tensor& g : grads) any = any || g.defined();
    std::vector<Tensor> input_grads;
    if (any) input_grads = node->apply(grads);
    grads.clear();
    if (!retain_graph) node->release();
    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.fn) continue;
      if (i < input_grads.size() && input_grads[i].defined()) deliver(e, input_grads[i]);
      if (--pending[e.fn.get()].deps == 0) ready.push(e.fn);
    }
  }
}

}  // namespace pydl
