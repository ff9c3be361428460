#include "autograd/function.h"

namespace pydl {

namespace {

void save_into(Node& node, const std::vector<Tensor>& saved) {
  node.saved_tensors.reserve(saved.size());
  node.saved_versions.reserve(saved.size());
  for (const Tensor& t : saved) {
    node.saved_tensors.push_back(t.defined() ? t.detach() : Tensor());
    node.saved_versions.push_back(t.defined() ? t.storage()->version : 0);
    if (t.defined()) t.storage()->graph_saves++;
  }
  node.counts_graph_saves = true;
}

}  // namespace

void record(const char* name, const std::vector<Tensor>& inputs, Tensor& out, const std::vector<Tensor>& saved,
            BackwardFn fn) {
  auto node = std::make_shared<FunctionNode>(name, std::move(fn));
  save_into(*node, saved);
  attach(node, inputs, {&out});
}

void record_multi(const char* name, const std::vector<Tensor>& inputs, const std::vector<Tensor*>& outs,
                  const std::vector<Tensor>& saved, MultiBackwardFn fn) {
  auto node = std::make_shared<MultiFunctionNode>(name, std::move(fn));
  save_into(*node, saved);
  attach(node, inputs, outs);
}

}  // namespace pydl
