// Tensor: a shape, an element type and a device over shared contiguous storage.
// Copying a Tensor copies the handle (like shared_ptr); views share the storage.
// Views are cheap and stay contiguous: reshape, and slicing along the first dimension.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/dtype.h"
#include "engine/error.h"
#include "engine/storage.h"

namespace birdie {

using Shape = std::vector<std::int64_t>;

std::string shape_string(const Shape& shape);  // "[2, 3, 4]"
std::int64_t shape_numel(const Shape& shape);

struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor (defined() == false)

  // Factories. Memory from `empty` is uninitialized.
  static Tensor empty(const Shape& shape, DType dtype, Device device = Device::cpu,
                      HostMemory host_memory = HostMemory::aligned);
  static Tensor zeros(const Shape& shape, DType dtype, Device device = Device::cpu);
  static Tensor full(const Shape& shape, double value, DType dtype, Device device = Device::cpu);
  // A CPU tensor holding a copy of `values` (numel must match the shape).
  template <class T>
  static Tensor from_values(std::span<const T> values, const Shape& shape);
  template <class T>
  static Tensor from_values(std::initializer_list<T> values, const Shape& shape) {
    return from_values(std::span<const T>(values.begin(), values.size()), shape);
  }

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int rank() const { return static_cast<int>(shape().size()); }
  std::int64_t dim(int axis) const;  // negative axes count from the end
  std::int64_t numel() const;
  std::size_t nbytes() const;
  DType dtype() const;
  Device device() const;
  bool is_cpu() const { return device() == Device::cpu; }
  std::string describe() const;  // "f32[2, 3] cpu"

  // Typed access to the first element; the element type must match the dtype.
  template <class T>
  T* data() const {
    BIRDIE_CHECK(dtype() == dtype_of<T>(), "typed access as ", dtype_name(dtype_of<T>()),
                 " to a ", describe(), " tensor");
    return static_cast<T*>(raw_data());
  }
  void* raw_data() const;
  // True when both tensors view the same allocation.
  bool shares_storage_with(const Tensor& other) const;

  // Views (no copy). reshape accepts one -1; slice takes rows [begin, end) of dim 0.
  Tensor reshape(const Shape& shape) const;
  Tensor slice(std::int64_t begin, std::int64_t end) const;

  // Copies.
  Tensor to(Device device) const;  // same dtype
  Tensor to(DType dtype) const;    // same device (conversion on CPU only)
  Tensor clone() const;
  // Writes go to the shared storage, so they are const on the handle (like data<T>()).
  void copy_from(const Tensor& source) const;  // same shape and dtype, any devices
  void fill_zero() const;
  // All elements as T on the host (copied from the device, converted from the dtype).
  template <class T>
  std::vector<T> to_vector() const;
  // One element read through the host (slow: for tests and scalars).
  double item(std::int64_t flat_index = 0) const;

  // Autograd bookkeeping (the tape itself lives in autograd/). A tensor that requires a
  // gradient gets one accumulated into grad() by backward().
  bool requires_grad() const;
  // Autograd metadata lives in the shared object, so these are const on the handle.
  void set_requires_grad(bool required) const;
  Tensor grad() const;
  void set_grad(const Tensor& grad) const;
  // Identity of the underlying tensor object, shared by copies of this handle.
  const TensorImpl* id() const { return impl_.get(); }

 private:
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}
  const TensorImpl& impl() const;
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  std::size_t byte_offset = 0;
  Shape shape;
  DType dtype = DType::f32;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
};

// Throws unless `t` has exactly `shape`; `what` names the op and argument.
void check_shape(const Tensor& t, const Shape& shape, const char* what);
void check_dtype(const Tensor& t, DType dtype, const char* what);
void check_same_device(const Tensor& a, const Tensor& b, const char* what);

}  // namespace birdie
