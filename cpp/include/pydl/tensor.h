// The Tensor: an n-dimensional strided view of a shared Storage, plus what autograd needs.
//
//   Storage      one contiguous, 64-byte aligned buffer (or a borrowed NumPy buffer).
//   TensorImpl   shape, strides (in elements), offset into the storage, dtype, and the
//                autograd fields: requires_grad, grad, grad_fn (the Node that made it).
//   Tensor       a cheap handle (a shared_ptr to a TensorImpl); copies share the same tensor.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pydl/error.h"

namespace pydl {

using Shape = std::vector<int64_t>;

// Int64 holds token ids and labels (as PyTorch's torch.long): it indexes and moves, it never
// takes part in float arithmetic and never requires grad.
enum class DType : uint8_t { Float32 = 0, Float64 = 1, Int64 = 2 };
enum class Device : uint8_t { CPU = 0, CUDA = 1 };

inline size_t itemsize(DType d) { return d == DType::Float32 ? 4 : 8; }
inline const char* dtype_name(DType d) {
  return d == DType::Float64 ? "float64" : d == DType::Int64 ? "int64" : "float32";
}
inline bool is_floating(DType d) { return d != DType::Int64; }

// Number of elements of a shape (1 for a scalar shape ()).
int64_t numel_of(const Shape& shape);
// Throw ValueError (naming `op`) for a negative dimension or a shape too large to hold.
void check_shape(const Shape& shape, const char* op = "tensor");
// Row-major (C-order) strides in elements.
Shape contiguous_strides(const Shape& shape);

struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device = Device::CPU;
  // Releases the memory: frees our own allocation, or drops a reference to a NumPy array.
  std::shared_ptr<void> holder;
  // Bumped by every in-place op, so backward can tell that a saved tensor was overwritten.
  uint64_t version = 0;
  // How many live graph nodes saved a tensor over this storage for their backward. While it is
  // above zero, NumPy views exported from it are read-only: a write through NumPy bypasses
  // `version`, so backward could not tell that its saved input changed.
  std::atomic<int64_t> graph_saves{0};

  static std::shared_ptr<Storage> allocate(size_t nbytes);
  // Borrow memory owned by someone else; `keep_alive` is released when the storage dies.
  static std::shared_ptr<Storage> borrow(void* data, size_t nbytes, std::shared_ptr<void> keep_alive);
};

struct Node;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- construction
  static Tensor empty(const Shape& shape, DType dtype = DType::Float32);
  static Tensor zeros(const Shape& shape, DType dtype = DType::Float32);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::Float32);
  static Tensor scalar(double value, DType dtype = DType::Float32);
  // A view over existing storage (no copy).
  static Tensor view_of(std::shared_ptr<Storage> storage, int64_t offset, Shape shape, Shape strides, DType dtype);

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

  // ---- metadata
  const Shape& shape() const;
  const Shape& strides() const;
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t axis) const;
  int64_t numel() const;
  DType dtype() const;
  int64_t offset() const;
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const;
  // Pointer to element 0 of this view (storage data + offset).
  void* raw_data() const;
  template <typename T> T* data() const { return static_cast<T*>(raw_data()); }

  // ---- element access (for tests and small things; not for kernels)
  double item() const;
  double at(const Shape& index) const;

  // ---- autograd fields
  bool requires_grad() const;
  void set_requires_grad(bool r);
  Tensor grad() const;
  void set_grad(const Tensor& g);
  const std::shared_ptr<Node>& grad_fn() const;
  int output_nr() const;
  void set_grad_fn(std::shared_ptr<Node> fn, int output_nr = 0);
  bool is_leaf() const { return grad_fn() == nullptr; }
  // A tensor sharing this one's data, cut from the graph.
  Tensor detach() const;
  // Keep .grad for this non-leaf after backward (a no-op on a leaf), as PyTorch's retain_grad().
  void retain_grad();
  bool retains_grad() const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;
  Shape shape;
  Shape strides;
  DType dtype = DType::Float32;

  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;
  int output_nr = 0;
  // The node that accumulates into .grad, shared by every use of this leaf in a graph.
  std::weak_ptr<Node> grad_accumulator;
  // retain_grad() was called on this non-leaf: backward fills its .grad too.
  bool retains_grad = false;
};

}  // namespace pydl
