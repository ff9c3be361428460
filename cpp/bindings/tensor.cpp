// pydl.Tensor: construction from Python data, NumPy interop (zero-copy both ways where the
// layout allows), metadata, indexing, and the operators.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "common.h"
#include "pydl/random.h"

namespace pydl::bind {

// ---------------------------------------------------------------- conversions
DType parse_dtype(py::handle obj, DType fallback) {
  if (obj.is_none()) return fallback;
  if (py::isinstance<DType>(obj)) return obj.cast<DType>();
  py::dtype dt;
  try {
    dt = py::dtype::from_args(py::reinterpret_borrow<py::object>(obj));
  } catch (py::error_already_set&) {
    throw TypeError(msg("dtype: cannot understand ", std::string(py::str(obj)),
                        " as a dtype; use pydl.float32, pydl.float64 or pydl.int64"));
  }
  if (dt.kind() == 'f' && dt.itemsize() == 4) return DType::Float32;
  if (dt.kind() == 'f' && dt.itemsize() == 8) return DType::Float64;
  if (dt.kind() == 'i' && dt.itemsize() == 8) return DType::Int64;
  throw TypeError(msg("dtype: pydl tensors are float32, float64 or int64, got ", std::string(py::str(obj))));
}

// The dtype pydl.tensor(data) gets without a dtype argument, as PyTorch's torch.tensor: a
// tensor keeps its own; integers (a NumPy integer array of any width or sign, a Python int, a
// list of ints) make int64; anything else (floats, bools, lists with a float) float32.
DType default_dtype_of(py::handle data) {
  if (py::isinstance<Tensor>(data)) return data.cast<Tensor>().dtype();
  if (PyBool_Check(data.ptr())) return DType::Float32;
  if (PyLong_Check(data.ptr())) return DType::Int64;
  if (py::isinstance<py::array>(data)) {
    const char k = py::reinterpret_borrow<py::array>(data).dtype().kind();
    return k == 'i' || k == 'u' ? DType::Int64 : DType::Float32;
  }
  if (py::isinstance<py::list>(data) || py::isinstance<py::tuple>(data)) {
    py::array arr;
    try {
      arr = py::array::ensure(data);
    } catch (py::error_already_set&) {
    }
    if (arr) {
      const char k = arr.dtype().kind();
      if (k == 'i' || k == 'u') return DType::Int64;
    }
  }
  // NumPy integer scalars (np.int64(3)) are ints too
  if (py::isinstance(data, py::module_::import("numpy").attr("integer"))) return DType::Int64;
  return DType::Float32;
}

Tensor tensor_from_data(py::handle data, DType dtype) {
  if (py::isinstance<Tensor>(data)) return ops::to_dtype(ops::clone(data.cast<Tensor>().detach()), dtype);
  py::array arr;
  try {
    arr = py::array::ensure(data);
  } catch (py::error_already_set&) {
  }
  if (!arr) throw TypeError(msg("tensor: cannot make a tensor from ", std::string(py::str(py::type::of(data)))));
  const char kind = arr.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b')
    throw TypeError(msg("tensor: cannot make a tensor from an array of dtype ", std::string(py::str(arr.dtype()))));
  Shape shape(arr.shape(), arr.shape() + arr.ndim());
  if (dtype == DType::Int64) {
    // what the C++ cast would make undefined (NaN, inf, beyond int64) is refused; the rest
    // truncates toward zero, as PyTorch's torch.tensor([2.7], dtype=torch.long)
    const py::module_ np = py::module_::import("numpy");
    if (kind == 'f' && !np.attr("all")(np.attr("less")(np.attr("abs")(arr), 9.2233720368547758e18)).cast<bool>())
      throw ValueError(msg("tensor: an array of shape ", shape_str(shape),
                           " holds values no int64 can hold (NaN, inf or beyond +-2**63)"));
    if (kind == 'u' && arr.dtype().itemsize() == 8 && arr.size() > 0 &&
        np.attr("max")(arr).cast<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      throw ValueError(msg("tensor: a uint64 array of shape ", shape_str(shape), " holds values beyond int64's range"));
    Tensor t = Tensor::empty(shape, dtype);
    auto c = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(arr);
    if (!c) throw py::error_already_set();
    if (t.numel()) std::memcpy(t.raw_data(), c.data(), t.numel() * sizeof(int64_t));
    return t;
  }
  Tensor t = Tensor::empty(shape, dtype);
  if (dtype == DType::Float32) {
    auto c = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(arr);
    if (t.numel()) std::memcpy(t.raw_data(), c.data(), t.numel() * sizeof(float));
  } else {
    auto c = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(arr);
    if (t.numel()) std::memcpy(t.raw_data(), c.data(), t.numel() * sizeof(double));
  }
  return t;
}

// Whether two index tuples of an array with these (element) strides can reach one address.
// A sufficient test: sorted by stride, each axis steps past everything the smaller axes span.
// (Some exotic interleaved layouts are refused though they do not overlap; a copy serves them.)
static bool may_self_overlap(const Shape& shape, const Shape& strides) {
  std::vector<std::pair<int64_t, int64_t>> axes;  // (stride, size) of the axes longer than 1
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] > 1) axes.emplace_back(strides[d], shape[d]);
  std::sort(axes.begin(), axes.end());
  int64_t span = 0;  // the largest offset the axes seen so far reach
  for (auto [stride, size] : axes) {
    if (stride <= span) return true;
    span += stride * (size - 1);
  }
  return false;
}

Tensor from_numpy_or_copy(py::array arr, bool copy_if_needed) {
  const py::dtype dt = arr.dtype();
  const bool is_int64 = dt.kind() == 'i' && dt.itemsize() == 8;
  if (!is_int64 && (dt.kind() != 'f' || (dt.itemsize() != 4 && dt.itemsize() != 8)))
    throw TypeError(msg("from_numpy: needs a float32, float64 or int64 array, got ", std::string(py::str(dt)),
                        "; convert with arr.astype(np.float32) or use pydl.tensor(arr) (which copies)"));
  const DType dtype = is_int64 ? DType::Int64 : dt.itemsize() == 4 ? DType::Float32 : DType::Float64;
  const int64_t isz = dt.itemsize();
  Shape shape(arr.shape(), arr.shape() + arr.ndim()), strides(arr.ndim(), 0);
  // A read-only array (a broadcast view, a read-only memory map) is copied: writing through
  // the tensor would corrupt or crash, and nothing can write to the array to be missed.
  if (!arr.writeable()) return tensor_from_data(arr, dtype);
  // An empty array has no memory to share (and NumPy gives it any strides, zeros included).
  if (numel_of(shape) == 0) return Tensor::empty(shape, dtype);
  // A writeable one is shared or refused: a silent copy would let writes through the tensor
  // miss the array (and the array's later writes miss the tensor).
  std::string why;
  if (!dt.attr("isnative").cast<bool>()) why = "its byte order is not this machine's";
  const Shape dense = contiguous_strides(shape);
  for (py::ssize_t d = 0; d < arr.ndim() && why.empty(); ++d) {
    const int64_t st = arr.strides(d);
    if (shape[d] <= 1) {  // the stride of a size-1 axis is never used: keep NumPy's if it is sane
      strides[d] = st >= 0 && st % isz == 0 ? st / isz : dense[d];
      continue;
    }
    if (st < 0) why = "it has a negative stride (a reversed view such as a[::-1]); pydl tensors have none";
    else if (st % isz) why = "its strides are not a multiple of the item size";
    else strides[d] = st / isz;
  }
  if (why.empty() && may_self_overlap(shape, strides))
    why = "its elements may share memory (zero or overlapping strides, as np.lib.stride_tricks.as_strided "
          "makes), so an in-place update could apply more than once per element";
  if (!why.empty()) {
    if (copy_if_needed) return tensor_from_data(arr, dtype);
    std::vector<int64_t> bstrides(arr.strides(), arr.strides() + arr.ndim());
    throw ValueError(msg("from_numpy: cannot share the memory of this writeable array of shape ", shape_str(shape),
                         " and byte strides ", shape_str(bstrides), ": ", why,
                         "; pass a copy: pydl.tensor(arr) or pydl.from_numpy(np.ascontiguousarray(arr))"));
  }
  // The storage keeps the array alive; dropping it needs the GIL.
  auto* owner = new py::object(arr);
  std::shared_ptr<void> keep(owner, [](void* o) {
    py::gil_scoped_acquire gil;
    delete static_cast<py::object*>(o);
  });
  // The bytes the view reaches: one item past its largest offset (nothing for an empty array).
  size_t nbytes = 0;
  if (numel_of(shape) > 0) {
    int64_t last = 0;
    for (size_t d = 0; d < shape.size(); ++d) last += (shape[d] - 1) * strides[d];
    nbytes = static_cast<size_t>((last + 1) * isz);
  }
  auto storage = Storage::borrow(const_cast<void*>(arr.data()), nbytes, std::move(keep));
  return Tensor::view_of(storage, 0, shape, strides, dtype);
}

Tensor from_numpy(py::array arr) { return from_numpy_or_copy(arr, false); }

static const char* kNumpyNeedsDetach =
    ": can't call numpy() on a tensor that requires grad (writing through the array would silently "
    "corrupt its gradient); use t.detach().numpy()";

// NumPy views of a tensor are read-only where writing would be wrong: a broadcast view (many
// elements in one place, as np.broadcast_to's), and storage a live graph saved for backward.
static bool export_read_only(const Tensor& t) {
  if (t.storage()->graph_saves.load() > 0) return true;
  for (int64_t d = 0; d < t.dim(); ++d)
    if (t.strides()[d] == 0 && t.shape()[d] > 1) return true;
  return false;
}

py::array to_numpy(const Tensor& t) {
  if (t.requires_grad()) throw RuntimeError(msg("numpy", kNumpyNeedsDetach));
  const size_t isz = itemsize(t.dtype());
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end()), strides;
  for (int64_t s : t.strides()) strides.push_back(static_cast<py::ssize_t>(s * static_cast<int64_t>(isz)));
  auto* keep = new std::shared_ptr<Storage>(t.storage());
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  py::dtype dt = t.dtype() == DType::Float32 ? py::dtype::of<float>()
                 : t.dtype() == DType::Int64 ? py::dtype::of<int64_t>() : py::dtype::of<double>();
  py::array arr(dt, shape, strides, t.raw_data(), base);
  if (export_read_only(t)) arr.attr("flags").attr("writeable") = false;
  return arr;
}

Tensor as_operand(py::handle obj, const Tensor& like) {
  if (py::isinstance<Tensor>(obj)) return obj.cast<Tensor>();
  if (PyFloat_Check(obj.ptr()) || PyLong_Check(obj.ptr()) || PyBool_Check(obj.ptr()))
    return Tensor::scalar(obj.cast<double>(), like.dtype());
  return tensor_from_data(obj, like.dtype());
}

std::pair<Tensor, Tensor> promote(Tensor a, Tensor b) {
  // int64 never promotes: the op refuses it, naming itself
  if (a.dtype() != b.dtype() && is_floating(a.dtype()) && is_floating(b.dtype())) {
    // the casts are recorded ops: each input's gradient comes back in its own dtype
    if (a.dtype() == DType::Float32) a = ops::to_dtype(a, DType::Float64);
    else b = ops::to_dtype(b, DType::Float64);
  }
  return {a, b};
}

std::pair<Tensor, Tensor> as_pair(py::handle a, py::handle b) {
  if (py::isinstance<Tensor>(a)) {
    Tensor ta = a.cast<Tensor>();
    return promote(ta, as_operand(b, ta));
  }
  if (py::isinstance<Tensor>(b)) {
    Tensor tb = b.cast<Tensor>();
    return {as_operand(a, tb), tb};
  }
  Tensor ta = tensor_from_data(a, DType::Float32);
  return {ta, as_operand(b, ta)};
}

double number_arg(py::handle obj, const char* op, const char* name) {
  if (PyFloat_Check(obj.ptr()) || PyLong_Check(obj.ptr()) || py::isinstance(obj, py::module_::import("numpy").attr("number")))
    return obj.cast<double>();
  throw TypeError(msg(op, ": ", name, " must be a number, got ", std::string(py::str(py::type::of(obj).attr("__name__"))),
                      " ", std::string(py::repr(obj))));
}

Shape shape_arg(py::handle obj, const char* op) {
  if (PyLong_Check(obj.ptr()) && !PyBool_Check(obj.ptr())) return {obj.cast<int64_t>()};
  if (!PyUnicode_Check(obj.ptr()) && !PyBytes_Check(obj.ptr()) && py::isinstance<py::sequence>(obj)) {
    try {
      return obj.cast<Shape>();
    } catch (py::cast_error&) {
    }
  }
  throw TypeError(msg(op, ": shape must be an int or a tuple of ints, got ",
                      std::string(py::str(py::type::of(obj).attr("__name__"))), " ", std::string(py::repr(obj))));
}

Tensor tensor_arg(py::handle obj, const char* op, const char* name) {
  if (py::isinstance<Tensor>(obj)) return obj.cast<Tensor>();
  throw TypeError(msg(op, ": ", name, " must be a pydl.Tensor, got ",
                      std::string(py::str(py::type::of(obj).attr("__name__")))));
}

ops::Axes parse_axes(py::handle axis, const char* op) {
  if (axis.is_none()) return {};
  if (PyLong_Check(axis.ptr())) return {axis.cast<int64_t>()};
  ops::Axes axes;
  try {
    axes = axis.cast<std::vector<int64_t>>();
  } catch (py::cast_error&) {
    throw TypeError(msg(op, ": axis must be None, an int or a tuple of ints, got ", std::string(py::repr(axis))));
  }
  // The C++ ops read {} as "all axes"; NumPy reads axis=() as "no axis". Refuse rather than
  // silently reduce over everything.
  if (axes.empty())
    throw ValueError(msg(op, ": axis=() (reduce over no axis) is not supported; use axis=None for all axes"));
  return axes;
}

Shape parse_shape(const py::args& args, const char* op) {
  try {
    if (args.size() == 1 && !PyLong_Check(args[0].ptr())) return args[0].cast<Shape>();
    return args.cast<Shape>();
  } catch (py::cast_error&) {
    throw TypeError(msg(op, ": a shape is ints or one tuple of ints, got ", std::string(py::str(args))));
  }
}

// The one value of a one-element int64 tensor, exactly (Tensor::item goes through a double).
static int64_t contiguous_value_int64(const Tensor& t) {
  const int64_t* p = t.data<int64_t>();
  return p[0];
}

// Index arguments (t[idx], take, gather): an int64 tensor as is; a NumPy integer array, a
// Python int or a (nested) list of ints as a new int64 tensor; anything else raises TypeError
// (t[float_array] too, as pydl's t[1.5] always has; NumPy says IndexError).
Tensor index_arg(py::handle obj, const char* op, const char* name, bool index_error) {
  auto fail = [&](const std::string& what) -> Tensor {
    std::string m = msg(op, ": ", name, " must be integers (an int64 tensor, an integer array or a list of ints), got ", what);
    if (index_error) throw IndexError(m);
    throw TypeError(m);
  };
  if (py::isinstance<Tensor>(obj)) {
    Tensor t = obj.cast<Tensor>();
    if (t.dtype() != DType::Int64)
      return fail(msg("a ", dtype_name(t.dtype()), " tensor of shape ", shape_str(t.shape()),
                      " (convert with .to(pydl.int64))"));
    return t;
  }
  if (PyBool_Check(obj.ptr())) return fail("a bool");
  py::array arr;
  try {
    arr = py::array::ensure(obj);
  } catch (py::error_already_set&) {
  }
  if (!arr) return fail(std::string(py::str(py::type::of(obj).attr("__name__"))));
  const char k = arr.dtype().kind();
  // an empty list is an empty index (NumPy makes it float64)
  if (k == 'f' && arr.size() == 0 && !py::isinstance<py::array>(obj)) return Tensor::empty({0}, DType::Int64);
  if (k != 'i' && k != 'u') return fail(msg("an array of dtype ", std::string(py::str(arr.dtype()))));
  return tensor_from_data(arr, DType::Int64);
}

// Whether t[key] is integer-array indexing (an int64 tensor, an integer array, a list).
static bool is_array_index(py::handle k) {
  if (py::isinstance<Tensor>(k)) return k.cast<Tensor>().dtype() == DType::Int64 || k.cast<Tensor>().dim() > 0;
  if (py::isinstance<py::array>(k)) return true;
  return py::isinstance<py::list>(k);
}

// ---------------------------------------------------------------- indexing
// t[key] for int, slice, None, Ellipsis and tuples of them, along the leading axes: a view.
static Tensor index(const Tensor& t, py::handle key_in) {
  // t[idx] with integer indices: rows along axis 0 (NumPy/PyTorch), a copy with a backward
  if (is_array_index(key_in)) return ops::take(t, index_arg(key_in, "index", "indices"), 0, "index");
  py::tuple key = py::isinstance<py::tuple>(key_in) ? py::reinterpret_borrow<py::tuple>(key_in)
                                                     : py::make_tuple(key_in);
  int64_t consumed = 0, ellipses = 0;  // axes of t the key addresses; how many '...'
  for (py::handle k : key) {
    if (k.is(py::ellipsis())) ellipses++;
    else if (!k.is_none()) consumed++;
  }
  if (ellipses > 1)
    throw IndexError(msg("index: an index can only have a single ellipsis ('...'), got ", ellipses,
                         " for a tensor of shape ", shape_str(t.shape())));
  if (consumed > t.dim())
    throw IndexError(msg("index: too many indices (", consumed, ") for a tensor of shape ", shape_str(t.shape())));
  Tensor out = t;
  int64_t axis = 0;    // axis of `out` the next key addresses
  int64_t t_axis = 0;  // the same axis counted in t (for messages that name t's shape)
  for (py::handle k : key) {
    if (PyBool_Check(k.ptr()) || py::isinstance(k, py::module_::import("numpy").attr("bool_")))
      throw TypeError(msg("index: boolean indices are not supported (shape ", shape_str(t.shape()),
                          "); use pydl.where or an integer"));
    if (PyLong_Check(k.ptr()) || (py::hasattr(k, "__index__") && !py::isinstance<Tensor>(k) && !py::isinstance<py::array>(k))) {
      const int64_t n = out.shape()[axis];
      int64_t i = 0;
      bool fits = true;
      try {
        i = k.cast<int64_t>();
      } catch (py::cast_error&) {
        fits = false;  // beyond int64: out of range whatever the size
      }
      if (!fits || i < -n || i >= n)
        throw IndexError(msg("index: index ", std::string(py::str(k)), " is out of range for axis ", t_axis,
                             " with size ", n, " (shape ", shape_str(t.shape()), ")"));
      out = ops::select(out, axis, i);
      t_axis++;
    } else if (py::isinstance<py::slice>(k)) {
      size_t start, stop, step, len;
      if (!py::reinterpret_borrow<py::slice>(k).compute(static_cast<size_t>(out.shape()[axis]), &start, &stop, &step, &len))
        throw py::error_already_set();
      if (static_cast<py::ssize_t>(step) <= 0)
        throw ValueError(msg("index: negative slice steps are not supported (shape ", shape_str(t.shape()), ")"));
      out = ops::slice(out, axis, static_cast<int64_t>(start), static_cast<int64_t>(start + len * step),
                       static_cast<int64_t>(step));
      axis++;
      t_axis++;
    } else if (k.is_none()) {
      out = ops::unsqueeze(out, axis);
      axis++;
    } else if (k.is(py::ellipsis())) {
      axis += t.dim() - consumed;
      t_axis += t.dim() - consumed;
    } else {
      throw TypeError(msg("index: only integers, slices, None and ... can index a tensor, or integer indices alone "
                          "as t[idx] (shape ",
                          shape_str(t.shape()), "), got ", std::string(py::str(py::type::of(k)))));
    }
  }
  return out;
}

// ---------------------------------------------------------------- the class
void bind_tensor(py::module_& m) {
  py::enum_<DType>(m, "dtype", "The element type of a tensor")
      .value("float32", DType::Float32)
      .value("float64", DType::Float64)
      .value("int64", DType::Int64)
      .def_property_readonly("itemsize", [](DType d) { return itemsize(d); })
      .def("__str__", [](DType d) { return std::string("pydl.") + dtype_name(d); })
      .def("__repr__", [](DType d) { return std::string("pydl.") + dtype_name(d); });
  m.attr("float32") = DType::Float32;
  m.attr("float64") = DType::Float64;
  m.attr("int64") = DType::Int64;

  py::class_<Tensor> cls(m, "Tensor", py::buffer_protocol(), py::dynamic_attr());
  cls.def_buffer([](const Tensor& t) {
    if (t.requires_grad()) throw RuntimeError(msg("buffer", kNumpyNeedsDetach));
    const size_t isz = itemsize(t.dtype());
    std::vector<py::ssize_t> strides;
    for (int64_t s : t.strides()) strides.push_back(static_cast<py::ssize_t>(s * static_cast<int64_t>(isz)));
    return py::buffer_info(t.raw_data(), static_cast<py::ssize_t>(isz),
                           t.dtype() == DType::Float32 ? py::format_descriptor<float>::format()
                           : t.dtype() == DType::Int64 ? py::format_descriptor<int64_t>::format()
                                                       : py::format_descriptor<double>::format(),
                           t.dim(), std::vector<py::ssize_t>(t.shape().begin(), t.shape().end()), strides,
                           export_read_only(t));
  });

  // metadata
  cls.def_property_readonly("shape", [](const Tensor& t) { return py::tuple(py::cast(t.shape())); })
      .def_property_readonly("ndim", &Tensor::dim)
      .def_property_readonly("dtype", &Tensor::dtype)
      .def_property_readonly("size", &Tensor::numel, "Number of elements (as NumPy's .size)")
      .def("numel", &Tensor::numel)
      .def("dim", &Tensor::dim)
      .def_property_readonly("strides", [](const Tensor& t) { return py::tuple(py::cast(t.strides())); },
                             "Strides in elements (NumPy's are in bytes)")
      .def_property_readonly("device", [](const Tensor&) { return "cpu"; })
      .def_property_readonly("_storage_nbytes", [](const Tensor& t) { return t.storage()->nbytes; },
                             "Bytes of the storage under this tensor (for from_numpy, the bytes it borrows)")
      .def("is_contiguous", &Tensor::is_contiguous)
      .def("__len__", [](const Tensor& t) {
        if (t.dim() == 0) throw TypeError("len() of a 0-d tensor");
        return t.shape()[0];
      })
      .def("item", [](const Tensor& t) -> py::object {
        if (t.dtype() == DType::Int64) {
          if (t.numel() != 1) t.item();  // its ValueError
          return py::int_(contiguous_value_int64(t));
        }
        return py::float_(t.item());
      })
      .def("__int__", [](const Tensor& t) -> py::object {
        if (t.dtype() == DType::Int64) {
          if (t.numel() != 1) t.item();
          return py::int_(contiguous_value_int64(t));
        }
        return py::int_(py::float_(t.item()));
      })
      .def("__index__", [](const Tensor& t) {
        if (t.dtype() != DType::Int64 || t.numel() != 1)
          throw TypeError(msg("index: only a one-element int64 tensor can be used as an index, got a ",
                              dtype_name(t.dtype()), " tensor of shape ", shape_str(t.shape())));
        return contiguous_value_int64(t);
      })
      .def("numpy", &to_numpy,
           "A NumPy array sharing this tensor's memory. Refused for a tensor that requires grad (use "
           "t.detach().numpy()); read-only for a broadcast view and while a live graph saved it for backward")
      .def("tolist", [](const Tensor& t) { return to_numpy(t.detach()).attr("tolist")(); })
      .def("__float__", &Tensor::item)
      .def("__bool__", [](const Tensor& t) {
        if (t.numel() != 1)
          throw ValueError(msg("bool: the truth value of a tensor of shape ", shape_str(t.shape()),
                               " is ambiguous; use .any() or .all() on t.numpy()"));
        return t.item() != 0.0;
      });

  // autograd fields
  cls.def_property("requires_grad", &Tensor::requires_grad,
                   [](Tensor& t, py::handle r) {
                     if (!PyBool_Check(r.ptr()) && !py::isinstance(r, py::module_::import("numpy").attr("bool_")))
                       throw TypeError(msg("requires_grad: must be True or False, got ",
                                           std::string(py::str(py::type::of(r).attr("__name__"))), " ",
                                           std::string(py::repr(r))));
                     t.set_requires_grad(r.cast<bool>());
                   })
      .def("requires_grad_", [](Tensor& t, bool r) { t.set_requires_grad(r); return t; }, py::arg("requires_grad") = true)
      .def_property("grad",
                    [](const Tensor& t) -> py::object {
                      if (!t.is_leaf() && !t.retains_grad() &&
                          PyErr_WarnEx(PyExc_UserWarning,
                                       "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. "
                                       "Its .grad attribute won't be populated during backward(). If you indeed want "
                                       "the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on "
                                       "the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
                                       "you access the leaf Tensor instead. (A common cause: `w = w - lr * w.grad` "
                                       "outside pydl.no_grad() makes w a non-leaf; update the weights in place "
                                       "inside `with pydl.no_grad():`, e.g. w -= lr * w.grad.)",
                                       1) < 0)
                        throw py::error_already_set();
                      Tensor g = t.grad();
                      if (!g.defined()) return py::none();
                      return py::cast(g);
                    },
                    [](Tensor& t, py::object g) {
                      if (g.is_none()) return t.set_grad(Tensor());
                      if (py::isinstance<Tensor>(g)) return t.set_grad(g.cast<Tensor>());
                      if (!py::isinstance<py::array>(g))
                        throw TypeError(msg("grad: assign a pydl.Tensor, a NumPy array or None, got ",
                                            std::string(py::str(py::type::of(g).attr("__name__")))));
                      auto a = py::reinterpret_borrow<py::array>(g);
                      Shape sh(a.shape(), a.shape() + a.ndim());
                      if (sh != t.shape())
                        throw ShapeError(msg("grad: assigned gradient of shape ", shape_str(sh), " to a tensor of shape ",
                                             shape_str(t.shape())));
                      const py::dtype dt = a.dtype();
                      if (dt.kind() != 'f' || static_cast<size_t>(dt.itemsize()) != itemsize(t.dtype()))
                        throw TypeError(msg("grad: assigned a NumPy array of dtype ", std::string(py::str(dt)),
                                            " to a tensor of dtype ", dtype_name(t.dtype()), " (shape ",
                                            shape_str(t.shape()), ")"));
                      t.set_grad(tensor_from_data(a, t.dtype()));  // a copy, as pydl.tensor(array) makes
                    })
      .def("retain_grad", [](Tensor& t) { t.retain_grad(); },
           "Fill .grad of this non-leaf tensor during backward (a leaf's .grad is filled anyway)")
      .def_property_readonly("retains_grad", &Tensor::retains_grad)
      .def_property_readonly("grad_fn", [](const Tensor& t) -> py::object {
        if (!t.grad_fn()) return py::none();
        return py::cast(t.grad_fn());
      })
      .def_property_readonly("is_leaf", &Tensor::is_leaf)
      .def("detach", &Tensor::detach, "The same data, cut from the graph")
      .def_property_readonly("data", &Tensor::detach)
      .def("zero_grad", [](Tensor& t) {
        Tensor g = t.grad();
        if (g.defined()) { NoGradGuard ng; ops::fill_(g, 0); }
      })
      .def("backward",
           [](const Tensor& t, py::object gradient, bool retain_graph) {
             Tensor g = gradient.is_none() ? Tensor() : as_operand(gradient, t);
             backward({t}, {g}, retain_graph);
           },
           py::arg("gradient") = py::none(), py::arg("retain_graph") = false,
           "Back-propagate from this tensor: accumulate d(this)/d(leaf) into every leaf's .grad")
      .def("_same", [](const Tensor& a, const Tensor& b) { return a.impl() == b.impl(); },
           "Whether two Python objects wrap the same tensor");

  // shape ops
  cls.def("reshape", [](const Tensor& t, py::args a) { return ops::reshape(t, parse_shape(a, "reshape")); })
      .def("view", [](const Tensor& t, py::args a) { return ops::view(t, parse_shape(a, "view")); })
      .def("flatten", &ops::flatten, py::arg("start_axis") = 0, py::arg("end_axis") = -1)
      .def("transpose", &ops::transpose, py::arg("axis0") = -2, py::arg("axis1") = -1)
      .def_property_readonly("T", [](const Tensor& t) {
        std::vector<int64_t> p;
        for (int64_t d = t.dim() - 1; d >= 0; --d) p.push_back(d);
        return ops::permute(t, p);
      })
      .def("permute", [](const Tensor& t, py::args a) { return ops::permute(t, parse_shape(a, "permute")); })
      .def("contiguous", &ops::contiguous)
      .def("squeeze", [](const Tensor& t, py::object axis) { return ops::squeeze(t, parse_axes(axis, "squeeze")); },
           py::arg("axis") = py::none())
      .def("unsqueeze", &ops::unsqueeze, py::arg("axis"))
      .def("broadcast_to", [](const Tensor& t, py::args a) { return ops::broadcast_to(t, parse_shape(a, "broadcast_to")); })
      .def("clone", &ops::clone)
      .def("to", [](const Tensor& t, py::object d) { return ops::to_dtype(t, parse_dtype(d)); }, py::arg("dtype"))
      .def("float", [](const Tensor& t) { return ops::to_dtype(t, DType::Float32); })
      .def("double", [](const Tensor& t) { return ops::to_dtype(t, DType::Float64); })
      .def("__getitem__", &index)
      .def("__setitem__", [](const Tensor& t, py::handle key, py::handle value) {
        // t[idx] = v with integer indices would write into a copy, changing nothing
        bool array_key = is_array_index(key);
        if (py::isinstance<py::tuple>(key))
          for (py::handle k : py::reinterpret_borrow<py::tuple>(key)) array_key = array_key || is_array_index(k);
        if (array_key)
          throw TypeError(msg("setitem: assignment through integer-array indices is not supported (shape ",
                              shape_str(t.shape()), "); build the result with pydl.where or pydl.concatenate"));
        Tensor region = index(t, key);
        ops::copy_(region, as_operand(value, t));
      });

  // reductions
  cls.def("sum", [](const Tensor& t, py::object axis, bool k) { return ops::sum(t, parse_axes(axis, "sum"), k); },
          py::arg("axis") = py::none(), py::arg("keepdims") = false)
      .def("mean", [](const Tensor& t, py::object axis, bool k) { return ops::mean(t, parse_axes(axis, "mean"), k); },
           py::arg("axis") = py::none(), py::arg("keepdims") = false)
      .def("max", [](const Tensor& t, py::object axis, bool k) { return ops::max(t, parse_axes(axis, "max"), k); },
           py::arg("axis") = py::none(), py::arg("keepdims") = false)
      .def("min", [](const Tensor& t, py::object axis, bool k) { return ops::min(t, parse_axes(axis, "min"), k); },
           py::arg("axis") = py::none(), py::arg("keepdims") = false)
      .def("var", [](const Tensor& t, py::object axis, bool k, int64_t ddof) { return ops::var(t, parse_axes(axis, "var"), k, ddof); },
           py::arg("axis") = py::none(), py::arg("keepdims") = false, py::arg("ddof") = 0);

  // pointwise methods
  cls.def("exp", &ops::exp).def("log", &ops::log).def("sqrt", &ops::sqrt).def("abs", &ops::abs)
      .def("relu", &ops::relu).def("sigmoid", &ops::sigmoid).def("tanh", &ops::tanh)
      .def("softmax", &ops::softmax, py::arg("axis") = -1)
      .def("log_softmax", &ops::log_softmax, py::arg("axis") = -1)
      .def("clip", [](const Tensor& t, py::object lo, py::object hi) {
        return ops::clip(t, lo.is_none() ? -INFINITY : number_arg(lo, "clip", "min"),
                         hi.is_none() ? INFINITY : number_arg(hi, "clip", "max"));
      }, py::arg("min") = py::none(), py::arg("max") = py::none())
      .def("matmul", [](const Tensor& a, py::object b) { auto p = promote(a, as_operand(b, a)); return ops::matmul(p.first, p.second); });

  // operators: Tensor op Tensor first (the fast path), then numbers and array-likes
#define PYDL_BINOP(pyname, rpyname, fn)                                                              \
  cls.def(pyname, [](const Tensor& a, const Tensor& b) { auto p = promote(a, b); return fn(p.first, p.second); }, \
          py::is_operator())                                                                              \
      .def(pyname, [](const Tensor& a, double b) { return fn(a, Tensor::scalar(b, a.dtype())); }, py::is_operator()) \
      .def(pyname, [](const Tensor& a, py::object b) { auto p = promote(a, as_operand(b, a)); return fn(p.first, p.second); }, \
           py::is_operator())                                                                             \
      .def(rpyname, [](const Tensor& a, double b) { return fn(Tensor::scalar(b, a.dtype()), a); }, py::is_operator()) \
      .def(rpyname, [](const Tensor& a, py::object b) { auto p = promote(as_operand(b, a), a); return fn(p.first, p.second); }, \
           py::is_operator());
  PYDL_BINOP("__add__", "__radd__", ops::add)
  PYDL_BINOP("__sub__", "__rsub__", ops::sub)
  PYDL_BINOP("__mul__", "__rmul__", ops::mul)
  PYDL_BINOP("__truediv__", "__rtruediv__", ops::div)
  PYDL_BINOP("__matmul__", "__rmatmul__", ops::matmul)
#undef PYDL_BINOP
  cls.def("__pow__", [](const Tensor& a, double k) { return ops::pow_scalar(a, k); }, py::is_operator())
      .def("__pow__", [](const Tensor& a, py::object b) { auto p = promote(a, as_operand(b, a)); return ops::pow(p.first, p.second); }, py::is_operator())
      .def("__rpow__", [](const Tensor& a, py::object b) { auto p = promote(as_operand(b, a), a); return ops::pow(p.first, p.second); }, py::is_operator())
      .def("__neg__", &ops::neg)
      .def("__pos__", [](const Tensor& a) { return a; })
      .def("__abs__", &ops::abs);
#define PYDL_CMP(pyname, fn) \
  cls.def(pyname, [](const Tensor& a, py::object b) { auto p = promote(a, as_operand(b, a)); return fn(p.first, p.second); }, \
          py::is_operator());
  PYDL_CMP("__lt__", ops::lt)
  PYDL_CMP("__le__", ops::le)
  PYDL_CMP("__gt__", ops::gt)
  PYDL_CMP("__ge__", ops::ge)
  // t == None is False (as for any object), not an error
  cls.def("__eq__", [](const Tensor&, py::none) { return false; }, py::is_operator())
      .def("__ne__", [](const Tensor&, py::none) { return true; }, py::is_operator());
  PYDL_CMP("__eq__", ops::eq)
  PYDL_CMP("__ne__", ops::ne)
#undef PYDL_CMP
  // Elementwise == (as NumPy and PyTorch) but hashable by identity, so tensors can be dict keys.
  cls.def("__hash__", [](const Tensor& t) { return std::hash<const void*>()(t.impl()); });

  // in place (no graph; refused on a tensor that requires grad while grad mode is on)
#define PYDL_INPLACE(pyname, ipyname, fn)                                                          \
  cls.def(pyname, [](Tensor& a, py::object b) { fn(a, as_operand(b, a)); return a; })            \
      .def(ipyname, [](Tensor& a, py::object b) { fn(a, as_operand(b, a)); return a; }, py::is_operator());
  PYDL_INPLACE("add_", "__iadd__", ops::add_)
  PYDL_INPLACE("sub_", "__isub__", ops::sub_)
  PYDL_INPLACE("mul_", "__imul__", ops::mul_)
  PYDL_INPLACE("div_", "__itruediv__", ops::div_)
#undef PYDL_INPLACE
  cls.def("copy_", [](Tensor& a, py::object b) { ops::copy_(a, as_operand(b, a)); return a; })
      .def("fill_", [](Tensor& a, double v) { ops::fill_(a, v); return a; })
      .def("zero_", [](Tensor& a) { ops::fill_(a, 0); return a; });

  // ---- creation
  m.def("tensor", [](py::object data, py::object dtype, bool requires_grad) {
          DType d = parse_dtype(dtype, default_dtype_of(data));
          Tensor t = tensor_from_data(data, d);
          t.set_requires_grad(requires_grad);
          return t;
        },
        py::arg("data"), py::arg("dtype") = py::none(), py::arg("requires_grad") = false,
        "A new tensor holding a copy of `data` (float32 unless dtype says otherwise)");
  m.def("from_numpy", &from_numpy, py::arg("array"),
        "A tensor sharing a float32/float64 array's memory. A read-only array is copied; a writeable one that "
        "cannot be shared (negative or overlapping strides, foreign byte order) is refused with ValueError");
  m.def("_from_numpy_or_copy", &from_numpy_or_copy, py::arg("array"), py::arg("copy_if_needed") = true,
        "from_numpy, but a copy where the memory cannot be shared (pydl.as_tensor)");
  auto creator = [&m](const char* name, auto fill) {
    m.def(name, [fill, name](py::args shape, py::object dtype, bool requires_grad) {
            Tensor t = fill(parse_shape(shape, name), parse_dtype(dtype));
            t.set_requires_grad(requires_grad);
            return t;
          },
          py::kw_only(), py::arg("dtype") = py::none(), py::arg("requires_grad") = false);
  };
  creator("zeros", [](const Shape& s, DType d) { return Tensor::zeros(s, d); });
  creator("ones", [](const Shape& s, DType d) { return Tensor::full(s, 1.0, d); });
  creator("empty", [](const Shape& s, DType d) { return Tensor::empty(s, d); });
  creator("rand", [](const Shape& s, DType d) { return random::uniform(s, 0.0, 1.0, d); });
  creator("randn", [](const Shape& s, DType d) { return random::normal(s, 0.0, 1.0, d); });
  m.def("full", [](py::object shape, double value, py::object dtype, bool requires_grad) {
          Shape s = shape_arg(shape, "full");
          Tensor t = Tensor::full(s, value, parse_dtype(dtype));
          t.set_requires_grad(requires_grad);
          return t;
        },
        py::arg("shape"), py::arg("fill_value"), py::arg("dtype") = py::none(), py::arg("requires_grad") = false);
  m.def("uniform", [](py::object shape, double low, double high, py::object dtype) {
          Shape s = shape_arg(shape, "uniform");
          return random::uniform(s, low, high, parse_dtype(dtype));
        },
        py::arg("shape"), py::arg("low") = 0.0, py::arg("high") = 1.0, py::arg("dtype") = py::none());
  m.def("normal", [](py::object shape, double mean, double std, py::object dtype) {
          Shape s = shape_arg(shape, "normal");
          return random::normal(s, mean, std, parse_dtype(dtype));
        },
        py::arg("shape"), py::arg("mean") = 0.0, py::arg("std") = 1.0, py::arg("dtype") = py::none());
  m.def("bernoulli", [](py::object shape, double p, py::object dtype) {
          Shape s = shape_arg(shape, "bernoulli");
          return random::bernoulli(s, p, parse_dtype(dtype));
        },
        py::arg("shape"), py::arg("p"), py::arg("dtype") = py::none());
  m.def("arange", [](py::object start_, py::object stop, py::object step_, py::object dtype) {
          const double start = number_arg(start_, "arange", "start"), step = number_arg(step_, "arange", "step");
          double lo = start, hi = 0;
          if (stop.is_none()) { hi = start; lo = 0; } else hi = number_arg(stop, "arange", "stop");
          if (!std::isfinite(lo) || !std::isfinite(hi) || !std::isfinite(step))
            throw ValueError(msg("arange: start, stop and step must be finite, got start=", lo, ", stop=", hi,
                                 ", step=", step));
          if (step == 0) throw ValueError("arange: step must not be zero");
          double n = std::ceil((hi - lo) / step);
          if (n < 0) n = 0;
          if (n > 1e12) throw ValueError(msg("arange: ", n, " elements is too many"));
          Tensor t = Tensor::empty({static_cast<int64_t>(n)}, parse_dtype(dtype));
          for (int64_t i = 0; i < t.numel(); ++i) {
            double v = lo + static_cast<double>(i) * step;
            if (t.dtype() == DType::Float32) t.data<float>()[i] = static_cast<float>(v);
            else if (t.dtype() == DType::Int64) t.data<int64_t>()[i] = static_cast<int64_t>(std::llround(v));
            else t.data<double>()[i] = v;
          }
          return t;
        },
        py::arg("start"), py::arg("stop") = py::none(), py::arg("step") = 1.0, py::arg("dtype") = py::none());
  m.def("eye", [](int64_t n, py::object m_, py::object dtype) {
          if (!m_.is_none() && (!PyLong_Check(m_.ptr()) || PyBool_Check(m_.ptr())))
            throw TypeError(msg("eye: m must be an int or None, got ", std::string(py::repr(m_))));
          int64_t cols = m_.is_none() ? n : m_.cast<int64_t>();
          if (n < 0 || cols < 0) throw ValueError(msg("eye: sizes must be >= 0, got ", n, " and ", cols));
          Tensor t = Tensor::zeros({n, cols}, parse_dtype(dtype));
          for (int64_t i = 0; i < std::min(n, cols); ++i) {
            if (t.dtype() == DType::Float32) t.data<float>()[i * cols + i] = 1.0f;
            else if (t.dtype() == DType::Int64) t.data<int64_t>()[i * cols + i] = 1;
            else t.data<double>()[i * cols + i] = 1.0;
          }
          return t;
        },
        py::arg("n"), py::arg("m") = py::none(), py::arg("dtype") = py::none());
}

}  // namespace pydl::bind
