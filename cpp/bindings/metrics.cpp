// Streaming metrics' per-batch counts (issue 11): pydl._C.confusion_counts(...) and
// _C.top_k_hits(...), called by pydl/metrics.py. Labels and weights may be array-likes
// (converted to pred's dtype); class ids are a sequence of ints.
#include "common.h"

namespace pydl::bind {

void bind_metrics(py::module_& m) {
  m.def(
      "confusion_counts",
      [](const Tensor& pred, py::object label, py::object weight, const std::vector<double>& thresholds) {
        return ops::confusion_counts(pred, as_operand(label, pred),
                                     weight.is_none() ? Tensor() : as_operand(weight, pred), thresholds);
      },
      py::arg("pred"), py::arg("label"), py::arg("weight") = py::none(), py::arg("thresholds"),
      "float64 (4, K, L): tp, fp, tn, fn of pred (N,) or (N, L) at each ascending threshold (positive when > t)");
  m.def("top_k_hits", &ops::top_k_hits, py::arg("pred"), py::arg("ids"), py::arg("k"),
        "pred (N, C), ids (N): 1 where fewer than k classes score above the true one, else 0");
}

}  // namespace pydl::bind
