// One allocation of raw memory on one device. Tensors share a Storage through views.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/device.h"

namespace birdie {

// Host memory is 64-byte aligned (AVX-512 lines, no false sharing between OpenMP
// threads). `pinned` asks for page-locked memory for fast host↔device copies; it is
// honoured when a GPU is present and otherwise falls back to aligned memory.
// Device memory comes from CUDA's stream-ordered pool (cudaMallocAsync on the current
// stream), so freeing is cheap and ordered after the kernels that used it. The pool keeps
// what it has reserved (its release threshold is set to "never" before the first device
// allocation): by default it would hand memory back to the driver at every
// synchronization, and every training step would map its activations anew.
enum class HostMemory { aligned, pinned };

// Allocation counters, for benchmarks: a training step in steady state should reuse the
// pool's memory, so `device_reserved_bytes` stops growing after the first steps.
struct MemoryStats {
  std::uint64_t host_allocations = 0;    // Storage::allocate calls on the cpu since start
  std::uint64_t device_allocations = 0;  // ... on cuda (each one a cudaMallocAsync)
  std::uint64_t device_in_use_bytes = 0;     // the current device's pool: bytes handed out
  std::uint64_t device_peak_in_use_bytes = 0;  // its high-water mark since the last reset
  std::uint64_t device_reserved_bytes = 0;   // bytes the pool holds from the driver
};
MemoryStats memory_stats();
// Restarts the device pool's high-water mark (no-op without a GPU).
void reset_device_memory_peak();

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
