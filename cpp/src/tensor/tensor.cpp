// Storage allocation and the Tensor handle's accessors.
#include "pydl/tensor.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "pydl/autograd.h"

namespace pydl {

int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  Shape st(shape.size());
  int64_t acc = 1;
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= shape[i] > 0 ? shape[i] : 1;
  }
  return st;
}

// 64-byte alignment: one cache line, and what AVX-512 loads like best.
static constexpr size_t kAlign = 64;

#if defined(__GLIBC__)
// Keep freed memory for the next allocation instead of handing it back to the system at once.
// glibc's defaults return a freed heap top above ~2x the largest recent block (M_TRIM_THRESHOLD)
// and map blocks above a moving threshold afresh: a training step that allocates and frees the
// same tens of MB every batch (an LSTM's gates and buffers, 6.5 MB each for LSTM(128) on
// (32, 100, 8)) then page-faults all of it in again every time. Measured (process CPU time,
// bench/RESULTS.md): that LSTM's forward 11.1 -> 5.5 ms. Memory freed is kept up to 256 MB; blocks
// below 32 MB (glibc's ceiling for this setting) come from the heap. A user's own
// MALLOC_TRIM_THRESHOLD_ / MALLOC_MMAP_THRESHOLD_ wins.
namespace {
struct KeepFreedMemory {
  KeepFreedMemory() {
    if (!std::getenv("MALLOC_TRIM_THRESHOLD_")) mallopt(M_TRIM_THRESHOLD, 256 << 20);
    if (!std::getenv("MALLOC_MMAP_THRESHOLD_")) mallopt(M_MMAP_THRESHOLD, 32 << 20);
  }
} keep_freed_memory;
}  // namespace
#endif

std::shared_ptr<Storage> Storage::allocate(size_t nbytes) {
  auto s = std::make_shared<Storage>();
  size_t rounded = (nbytes + kAlign - 1) / kAlign * kAlign;
  if (rounded == 0) rounded = kAlign;
  void* p = ::operator new(rounded, std::align_val_t(kAlign), std::nothrow);
  if (!p) throw RuntimeError(msg("out of memory: could not allocate ", nbytes, " bytes"));
  s->data = p;
  s->nbytes = nbytes;
  s->holder = std::shared_ptr<void>(p, [](void* q) { ::operator delete(q, std::align_val_t(kAlign)); });
  return s;
}

std::shared_ptr<Storage> Storage::borrow(void* data, size_t nbytes, std::shared_ptr<void> keep_alive) {
  auto s = std::make_shared<Storage>();
  s->data = data;
  s->nbytes = nbytes;
  s->holder = std::move(keep_alive);
  return s;
}

// Sizes beyond this are certainly a mistake (2^40 elements = 4 TiB of float32).
static constexpr int64_t kMaxElements = int64_t(1) << 40;

void check_shape(const Shape& shape, const char* op) {
  int64_t n = 1;
  for (int64_t s : shape) {
    if (s < 0) throw ValueError(msg(op, ": negative dimension in shape ", shape_str(shape)));
    // a later zero does not rescue an absurd shape: every dimension must fit on its own too
    if (s > kMaxElements || (s > 0 && n > kMaxElements / s))
      throw ValueError(msg(op, ": shape ", shape_str(shape), " is too large"));
    n *= s;
  }
}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  check_shape(shape);
  auto impl = std::make_shared<TensorImpl>();
  const size_t nbytes = static_cast<size_t>(numel_of(shape)) * itemsize(dtype);
  try {
    impl->storage = Storage::allocate(nbytes);
  } catch (const RuntimeError&) {
    throw RuntimeError(msg("tensor: out of memory: could not allocate ", nbytes, " bytes for a ", dtype_name(dtype),
                           " tensor of shape ", shape_str(shape)));
  }
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.raw_data(), 0, static_cast<size_t>(t.numel()) * itemsize(dtype));
  return t;
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  int64_t n = t.numel();
  if (dtype == DType::Float32) {
    float* p = t.data<float>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(value);
  } else if (dtype == DType::Int64) {
    if (!std::isfinite(value) || std::abs(value) >= 9.2233720368547758e18)
      throw ValueError(msg("full: ", value, " cannot be held by an int64 tensor"));
    int64_t* p = t.data<int64_t>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<int64_t>(value);
  } else {
    double* p = t.data<double>();
    for (int64_t i = 0; i < n; ++i) p[i] = value;
  }
  return t;
}

Tensor Tensor::scalar(double value, DType dtype) { return full({}, value, dtype); }

Tensor Tensor::view_of(std::shared_ptr<Storage> storage, int64_t offset, Shape shape, Shape strides,
                       DType dtype) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->offset = offset;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

static void need(const Tensor& t) {
  if (!t.defined()) throw RuntimeError("tensor: use of an undefined tensor");
}

const Shape& Tensor::shape() const { need(*this); return impl_->shape; }
const Shape& Tensor::strides() const { need(*this); return impl_->strides; }
int64_t Tensor::numel() const { return numel_of(shape()); }
DType Tensor::dtype() const { need(*this); return impl_->dtype; }
int64_t Tensor::offset() const { need(*this); return impl_->offset; }
const std::shared_ptr<Storage>& Tensor::storage() const { need(*this); return impl_->storage; }

int64_t Tensor::size(int64_t axis) const {
  int64_t nd = dim();
  int64_t a = axis < 0 ? axis + nd : axis;
  if (a < 0 || a >= nd)
    throw IndexError(msg("size: axis ", axis, " is out of range for a tensor of shape ", shape_str(shape())));
  return shape()[a];
}

bool Tensor::is_contiguous() const {
  const Shape& sh = shape();
  const Shape& st = strides();
  int64_t expect = 1;
  for (int64_t i = static_cast<int64_t>(sh.size()) - 1; i >= 0; --i) {
    if (sh[i] == 1) continue;  // the stride of a size-1 axis never matters
    if (st[i] != expect) return false;
    expect *= sh[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  need(*this);
  return static_cast<char*>(impl_->storage->data) + impl_->offset * static_cast<int64_t>(itemsize(impl_->dtype));
}

double Tensor::at(const Shape& index) const {
  const Shape& sh = shape();
  if (index.size() != sh.size())
    throw IndexError(msg("at: index of length ", index.size(), " for a tensor of shape ", shape_str(sh)));
  int64_t off = 0;
  for (size_t i = 0; i < sh.size(); ++i) {
    if (index[i] < 0 || index[i] >= sh[i])
      throw IndexError(msg("at: index ", index[i], " is out of range for axis ", i, " of shape ", shape_str(sh)));
    off += index[i] * strides()[i];
  }
  if (dtype() == DType::Int64) return static_cast<double>(data<int64_t>()[off]);
  return dtype() == DType::Float32 ? static_cast<double>(data<float>()[off]) : data<double>()[off];
}

double Tensor::item() const {
  if (numel() != 1)
    throw ValueError(msg("item: only a tensor with one element can be converted to a number, got shape ",
                         shape_str(shape())));
  Shape zero(shape().size(), 0);
  return at(zero);
}

bool Tensor::requires_grad() const { need(*this); return impl_->requires_grad || impl_->grad_fn != nullptr; }
void Tensor::set_requires_grad(bool r) {
  need(*this);
  if (!r && impl_->grad_fn)
    throw RuntimeError("requires_grad: can only change requires_grad of a leaf tensor; use detach()");
  if (r && !is_floating(impl_->dtype))
    throw RuntimeError(msg("requires_grad: only floating point tensors can require gradients, got an ",
                           dtype_name(impl_->dtype), " tensor of shape ", shape_str(impl_->shape),
                           " (convert with .to(pydl.float32) first)"));
  impl_->requires_grad = r;
}
Tensor Tensor::grad() const { need(*this); return impl_->grad; }
void Tensor::set_grad(const Tensor& g) {
  need(*this);
  if (g.defined() && g.shape() != shape())
    throw ShapeError(msg("grad: assigned gradient of shape ", shape_str(g.shape()),
                         " to a tensor of shape ", shape_str(shape())));
  if (g.defined() && g.dtype() != dtype())
    throw TypeError(msg("grad: assigned gradient of dtype ", dtype_name(g.dtype()), " to a tensor of dtype ",
                        dtype_name(dtype())));
  impl_->grad = g;
}
const std::shared_ptr<Node>& Tensor::grad_fn() const { need(*this); return impl_->grad_fn; }
int Tensor::output_nr() const { need(*this); return impl_->output_nr; }
void Tensor::set_grad_fn(std::shared_ptr<Node> fn, int output_nr) {
  need(*this);
  impl_->grad_fn = std::move(fn);
  impl_->output_nr = output_nr;
}

void Tensor::retain_grad() {
  need(*this);
  if (is_leaf()) {
    if (!impl_->requires_grad)
      throw RuntimeError("retain_grad: cannot retain the gradient of a tensor that does not require grad");
    return;  // a leaf's .grad is kept anyway
  }
  impl_->retains_grad = true;
  Node& fn = *impl_->grad_fn;
  if (fn.retained.size() < static_cast<size_t>(fn.num_outputs)) fn.retained.resize(fn.num_outputs);
  fn.retained[impl_->output_nr] = impl_;
}

bool Tensor::retains_grad() const { need(*this); return impl_->retains_grad; }

Tensor Tensor::detach() const {
  need(*this);
  return view_of(impl_->storage, impl_->offset, impl_->shape, impl_->strides, impl_->dtype);
}

}  // namespace pydl
