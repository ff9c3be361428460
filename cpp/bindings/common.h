// Conversions shared by the binding files: Python values <-> Tensor, dtype, axes, shapes.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "pydl/autograd.h"
#include "pydl/ops.h"
#include "pydl/tensor.h"

namespace py = pybind11;

namespace pydl::bind {

// None -> fallback; pydl.float32, 'float32', numpy.float64, np.dtype('f8') ... -> DType.
DType parse_dtype(py::handle obj, DType fallback = DType::Float32);

// Copy any array-like (NumPy array, nested lists, Python number) into a new tensor.
Tensor tensor_from_data(py::handle data, DType dtype);
// Share a float32/float64 NumPy array's memory (no copy). A read-only array is copied; a
// writeable one that cannot be shared (negative or self-overlapping strides, foreign byte
// order) raises ValueError, or is copied when copy_if_needed.
Tensor from_numpy(py::array arr);
Tensor from_numpy_or_copy(py::array arr, bool copy_if_needed);
// A NumPy array over the tensor's memory (no copy); keeps the storage alive.
py::array to_numpy(const Tensor& t);

// An operand of a binary op: a Tensor as is, a number or array-like as a tensor of `like`'s dtype.
Tensor as_operand(py::handle obj, const Tensor& like);
// Both operands of a module-level binary function (pydl.add(2, t) works), promoted.
std::pair<Tensor, Tensor> as_pair(py::handle a, py::handle b);
// float32 with float64: both float64, as PyTorch promotes (Python numbers and arrays never
// promote: as_operand gives them the tensor's dtype). The cast is differentiable.
std::pair<Tensor, Tensor> promote(Tensor a, Tensor b);

// An op's several outputs (a std::vector<Tensor>) as a Python tuple.
inline py::tuple as_tuple(const std::vector<Tensor>& v) {
  py::tuple t(v.size());
  for (size_t i = 0; i < v.size(); ++i) t[i] = py::cast(v[i]);
  return t;
}

// Checked conversions of arguments; the TypeError names the op, the argument and what came.
double number_arg(py::handle obj, const char* op, const char* name);
Shape shape_arg(py::handle obj, const char* op);  // an int or a sequence of ints
Tensor tensor_arg(py::handle obj, const char* op, const char* name);

// None -> {} (all axes), int -> {a}, sequence -> list.
ops::Axes parse_axes(py::handle axis, const char* op);
// reshape(2, 3), reshape((2, 3)), reshape([2, 3]) -> {2, 3}.
Shape parse_shape(const py::args& args, const char* op);

void bind_tensor(py::module_& m);
void bind_ops(py::module_& m);
void bind_autograd(py::module_& m);
void bind_settings(py::module_& m);
void bind_nn(py::module_& m);
void bind_pool(py::module_& m);
void bind_conv(py::module_& m);
// issue 8, normalisation
void bind_norm(py::module_& m);
void bind_resample(py::module_& m);  // upsample2d, pad2d (issue 8, convx)
void bind_rnn(py::module_& m);  // simple_rnn, lstm, gru (issue 9)
void bind_metrics(py::module_& m);  // confusion_counts, top_k_hits (issue 11, metrics)
void bind_rbm(py::module_& m);  // rbm_hidden, rbm_visible, rbm_cd, rbm_free_energy (issue 10)

// issue 9, int64: the dtype pydl.tensor(data) infers (ints -> int64, else float32); index
// arguments as int64 tensors (TypeError for anything else; IndexError when index_error).
DType default_dtype_of(py::handle data);
Tensor index_arg(py::handle obj, const char* op, const char* name, bool index_error = false);
void bind_index(py::module_& m);  // take, gather, argmax, argmin

}  // namespace pydl::bind
