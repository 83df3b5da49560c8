#include "engine/tensor.h"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "engine/cuda_runtime.h"

namespace birdie {

std::string shape_string(const Shape& shape) {
  std::ostringstream out;
  out << '[';
  for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << ']';
  return out.str();
}

std::int64_t shape_numel(const Shape& shape) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

namespace {

void check_valid_shape(const Shape& shape) {
  for (auto d : shape)
    BIRDIE_CHECK(d >= 0, "tensor shape ", shape_string(shape), " has a negative dimension");
}

// Copies bytes between any two devices; device→host waits for the copy to finish.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device,
                std::size_t bytes) {
  if (bytes == 0) return;
  if (dst_device == Device::cpu && src_device == Device::cpu) {
    std::memcpy(dst, src, bytes);
    return;
  }
#ifdef BIRDIE_WITH_CUDA
  if (dst_device == Device::cpu) {
    // Timed from before the copy: into pageable host memory cudaMemcpyAsync itself waits
    // for the stream's earlier work (an H200 showed 105 ms of a 120 ms step inside it).
    const HostWait wait;
    BIRDIE_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, current_stream()));
    BIRDIE_CUDA_CHECK(cudaStreamSynchronize(current_stream()));
    return;
  }
  if (src_device == Device::cpu) count_host_upload();  // it may wait too (engine/device.h)
  BIRDIE_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, current_stream()));
#else
  throw Error("copy involving a CUDA tensor in a build without CUDA");
#endif
}

template <class To, class From>
To convert(From value) {
  if constexpr (std::is_same_v<To, From>) {
    return value;
  } else if constexpr (std::is_same_v<To, bfloat16>) {
    return bfloat16::from_float(static_cast<float>(value));
  } else if constexpr (std::is_same_v<From, bfloat16>) {
    return static_cast<To>(value.to_float());
  } else {
    return static_cast<To>(value);
  }
}

template <class To, class From>
void convert_all(To* dst, const From* src, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) dst[i] = convert<To>(src[i]);
}

// Calls fn with a null pointer of the C++ type of `dtype`, to dispatch on it.
template <class Fn>
decltype(auto) visit_dtype(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::f32: return fn(static_cast<float*>(nullptr));
    case DType::f64: return fn(static_cast<double*>(nullptr));
    case DType::i32: return fn(static_cast<std::int32_t*>(nullptr));
    case DType::bf16: return fn(static_cast<bfloat16*>(nullptr));
  }
  throw Error("invalid dtype");
}

}  // namespace

const TensorImpl& Tensor::impl() const {
  BIRDIE_CHECK(impl_ != nullptr, "use of an undefined tensor");
  return *impl_;
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device, HostMemory host_memory) {
  check_valid_shape(shape);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = Storage::allocate(shape_numel(shape) * dtype_size(dtype), device, host_memory);
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_zero();
  return t;
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor host = empty(shape, dtype);
  visit_dtype(dtype, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    T* p = host.data<T>();
    const T v = convert<T>(value);
    for (std::int64_t i = 0; i < host.numel(); ++i) p[i] = v;
  });
  return device == Device::cpu ? host : host.to(device);
}

template <class T>
Tensor Tensor::from_values(std::span<const T> values, const Shape& shape) {
  BIRDIE_CHECK(static_cast<std::int64_t>(values.size()) == shape_numel(shape), "from_values: ",
               values.size(), " values do not fill shape ", shape_string(shape));
  Tensor t = empty(shape, dtype_of<T>());
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size_bytes());
  return t;
}
template Tensor Tensor::from_values<float>(std::span<const float>, const Shape&);
template Tensor Tensor::from_values<double>(std::span<const double>, const Shape&);
template Tensor Tensor::from_values<std::int32_t>(std::span<const std::int32_t>, const Shape&);
template Tensor Tensor::from_values<bfloat16>(std::span<const bfloat16>, const Shape&);

const Shape& Tensor::shape() const { return impl().shape; }

std::int64_t Tensor::dim(int axis) const {
  const int r = rank();
  const int a = axis < 0 ? axis + r : axis;
  BIRDIE_CHECK(a >= 0 && a < r, "axis ", axis, " out of range for ", describe());
  return shape()[a];
}

std::int64_t Tensor::numel() const { return shape_numel(shape()); }
std::size_t Tensor::nbytes() const { return numel() * dtype_size(dtype()); }
DType Tensor::dtype() const { return impl().dtype; }
Device Tensor::device() const { return impl().storage->device(); }

std::string Tensor::describe() const {
  if (!defined()) return "undefined";
  return detail::concat(dtype_name(dtype()), shape_string(shape()), " ", device_name(device()));
}

void* Tensor::raw_data() const {
  return static_cast<char*>(impl().storage->data()) + impl().byte_offset;
}

bool Tensor::shares_storage_with(const Tensor& other) const {
  return defined() && other.defined() && impl_->storage == other.impl_->storage;
}

Tensor Tensor::reshape(const Shape& new_shape) const {
  Shape resolved = new_shape;
  int inferred = -1;
  std::int64_t known = 1;
  for (std::size_t i = 0; i < resolved.size(); ++i) {
    if (resolved[i] == -1) {
      BIRDIE_CHECK(inferred < 0, "reshape of ", describe(), " to ", shape_string(new_shape),
                   ": at most one dimension may be -1");
      inferred = static_cast<int>(i);
    } else {
      BIRDIE_CHECK(resolved[i] >= 0, "reshape to ", shape_string(new_shape), ": negative size");
      known *= resolved[i];
    }
  }
  if (inferred >= 0) {
    BIRDIE_CHECK(known > 0 && numel() % known == 0, "reshape of ", describe(), " to ",
                 shape_string(new_shape), ": cannot infer the -1 dimension");
    resolved[inferred] = numel() / known;
  }
  BIRDIE_CHECK(shape_numel(resolved) == numel(), "reshape of ", describe(), " to ",
               shape_string(new_shape), ": element counts differ");
  auto impl = std::make_shared<TensorImpl>(*impl_);
  impl->shape = resolved;
  impl->requires_grad = false;
  impl->grad.reset();
  return Tensor(std::move(impl));
}

Tensor Tensor::slice(std::int64_t begin, std::int64_t end) const {
  BIRDIE_CHECK(rank() >= 1, "slice of a scalar tensor ", describe());
  BIRDIE_CHECK(0 <= begin && begin <= end && end <= dim(0), "slice [", begin, ", ", end,
               ") out of range for ", describe());
  auto impl = std::make_shared<TensorImpl>(*impl_);
  const std::int64_t row = numel() / std::max<std::int64_t>(dim(0), 1);
  impl->byte_offset += begin * row * dtype_size(dtype());
  impl->shape[0] = end - begin;
  impl->requires_grad = false;
  impl->grad.reset();
  return Tensor(std::move(impl));
}

Tensor Tensor::to(Device device) const {
  Tensor out = empty(shape(), dtype(), device);
  out.copy_from(*this);
  return out;
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return clone();
  BIRDIE_CHECK(is_cpu(), "dtype conversion of ", describe(),
               " runs on the CPU: move it with .to(Device::cpu) first");
  Tensor out = empty(shape(), target);
  visit_dtype(target, [&](auto* to_tag) {
    visit_dtype(dtype(), [&](auto* from_tag) {
      using To = std::remove_pointer_t<decltype(to_tag)>;
      using From = std::remove_pointer_t<decltype(from_tag)>;
      convert_all(out.data<To>(), data<From>(), numel());
    });
  });
  return out;
}

Tensor Tensor::clone() const { return to(device()); }

void Tensor::copy_from(const Tensor& source) const {
  BIRDIE_CHECK(source.shape() == shape() && source.dtype() == dtype(), "copy_from: source ",
               source.describe(), " does not match destination ", describe());
  copy_bytes(raw_data(), device(), source.raw_data(), source.device(), nbytes());
}

void Tensor::fill_zero() const {
  if (is_cpu()) {
    // Large buffers (a model's flat values and gradients: 11 GB for the paper
    // configuration) are zeroed, and so first touched, on all threads.
    constexpr std::int64_t chunk = std::int64_t{1} << 24;
    const auto bytes = static_cast<std::int64_t>(nbytes());
    auto* p = static_cast<unsigned char*>(raw_data());
#pragma omp parallel for schedule(static) if (bytes > 4 * chunk)
    for (std::int64_t begin = 0; begin < bytes; begin += chunk)
      std::memset(p + begin, 0, static_cast<std::size_t>(std::min(chunk, bytes - begin)));
    return;
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_CUDA_CHECK(cudaMemsetAsync(raw_data(), 0, nbytes(), current_stream()));
#endif
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor host = is_cpu() ? *this : to(Device::cpu);
  std::vector<T> out(numel());
  visit_dtype(dtype(), [&](auto* tag) {
    using From = std::remove_pointer_t<decltype(tag)>;
    convert_all(out.data(), host.data<From>(), numel());
  });
  return out;
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<std::int32_t> Tensor::to_vector<std::int32_t>() const;

double Tensor::item(std::int64_t flat_index) const {
  BIRDIE_CHECK(0 <= flat_index && flat_index < numel(), "item(", flat_index, ") out of range for ",
               describe());
  const std::size_t width = dtype_size(dtype());
  Tensor one = empty({1}, dtype());
  copy_bytes(one.raw_data(), Device::cpu, static_cast<char*>(raw_data()) + flat_index * width,
             device(), width);
  return one.to_vector<double>()[0];
}

bool Tensor::requires_grad() const { return impl().requires_grad; }
void Tensor::set_requires_grad(bool required) const { impl_->requires_grad = required; }
Tensor Tensor::grad() const { return Tensor(impl().grad); }
void Tensor::set_grad(const Tensor& grad) const {
  BIRDIE_CHECK(!grad.defined() || (grad.shape() == shape() && grad.device() == device()),
               "set_grad: gradient ", grad.describe(), " does not match ", describe());
  impl_->grad = grad.impl_;
}

void check_shape(const Tensor& t, const Shape& shape, const char* what) {
  BIRDIE_CHECK(t.defined() && t.shape() == shape, what, ": expected shape ", shape_string(shape),
               ", got ", t.describe());
}

void check_dtype(const Tensor& t, DType dtype, const char* what) {
  BIRDIE_CHECK(t.defined() && t.dtype() == dtype, what, ": expected dtype ", dtype_name(dtype),
               ", got ", t.describe());
}

void check_same_device(const Tensor& a, const Tensor& b, const char* what) {
  BIRDIE_CHECK(a.device() == b.device(), what, ": tensors on different devices (", a.describe(),
               " and ", b.describe(), "); move one with .to()");
}

}  // namespace birdie
