// Autograd from Python: grad mode, backward over several roots, and the graph's nodes
// (so pydl.utils.graph can draw them).
#include "common.h"

namespace pydl::bind {

void bind_autograd(py::module_& m) {
  py::class_<Node, std::shared_ptr<Node>>(m, "Node", "One recorded op: its backward and the edges to its inputs")
      .def("name", &Node::name)
      .def_property_readonly("next_functions", [](const Node& n) {
        py::list out;
        for (const Edge& e : n.next_edges) {
          py::object fn = e.fn ? py::cast(e.fn) : py::none();
          out.append(py::make_tuple(fn, e.input_nr));
        }
        return py::tuple(out);
      })
      .def_property_readonly("variable", [](const Node& n) -> py::object {
        auto* acc = dynamic_cast<const AccumulateGrad*>(&n);
        if (!acc) return py::none();
        auto impl = acc->leaf.lock();
        if (!impl) return py::none();
        return py::cast(Tensor(impl));
      }, "For an AccumulateGrad node: the leaf tensor it feeds")
      .def_property_readonly("released", [](const Node& n) { return n.released; })
      .def("__repr__", [](const Node& n) { return "<" + n.name() + ">"; });

  m.def("is_grad_enabled", &grad_enabled);
  m.def("_set_grad_enabled", &set_grad_enabled);
  m.def("backward",
        [](std::vector<Tensor> roots, py::object grads, bool retain_graph) {
          std::vector<Tensor> g(roots.size());
          if (!grads.is_none()) {
            auto list = grads.cast<std::vector<py::object>>();
            if (list.size() != roots.size())
              throw ValueError(msg("backward: got ", roots.size(), " tensors but ", list.size(), " gradients"));
            for (size_t i = 0; i < list.size(); ++i)
              if (!list[i].is_none()) g[i] = as_operand(list[i], roots[i]);
          }
          backward(roots, g, retain_graph);
        },
        py::arg("tensors"), py::arg("grad_tensors") = py::none(), py::arg("retain_graph") = false);
}

}  // namespace pydl::bind
