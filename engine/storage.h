// One allocation of raw memory on one device. Tensors share a Storage through views.
#pragma once

#include <cstddef>
#include <memory>

#include "engine/device.h"

namespace birdie {

// Host memory is 64-byte aligned (AVX-512 lines, no false sharing between OpenMP
// threads). `pinned` asks for page-locked memory for fast host↔device copies; it is
// honoured when a GPU is present and otherwise falls back to aligned memory.
// Device memory comes from CUDA's stream-ordered pool (cudaMallocAsync on the current
// stream), so freeing is cheap and ordered after the kernels that used it.
enum class HostMemory { aligned, pinned };

class Storage {
 public:
  static std::shared_ptr<Storage> allocate(std::size_t bytes, Device device,
                                           HostMemory host_memory = HostMemory::aligned);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  Device device() const { return device_; }
  bool pinned() const { return pinned_; }

 private:
  Storage(void* data, std::size_t bytes, Device device, bool pinned)
      : data_(data), bytes_(bytes), device_(device), pinned_(pinned) {}
  void* data_;
  std::size_t bytes_;
  Device device_;
  bool pinned_;
};

}  // namespace birdie
