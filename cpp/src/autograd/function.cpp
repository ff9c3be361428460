#include "autograd/function.h"

namespace pydl {

void record(const char* name, const std::vector<Tensor>& inputs, Tensor& out, const std::vector<Tensor>& saved,
            BackwardFn fn) {
  auto node = std::make_shared<FunctionNode>(name, std::move(fn));
  node->saved_tensors.reserve(saved.size());
  node->saved_versions.reserve(saved.size());
  for (const Tensor& t : saved) {
    node->saved_tensors.push_back(t.defined() ? t.detach() : Tensor());
    node->saved_versions.push_back(t.defined() ? t.storage()->version : 0);
    if (t.defined()) t.storage()->graph_saves++;
  }
  node->counts_graph_saves = true;
  attach(node, inputs, {&out});
}

}  // namespace pydl
