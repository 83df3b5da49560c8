#include "engine/storage.h"

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "engine/cuda_runtime.h"
#include "engine/error.h"

namespace birdie {

namespace {
constexpr std::size_t host_alignment = 64;

std::atomic<std::uint64_t> host_allocations{0}, device_allocations{0};

#ifdef BIRDIE_WITH_CUDA
// The current device's default pool, set up once per device to keep its memory.
cudaMemPool_t device_pool() {
  constexpr int max_devices = 64;
  static std::once_flag configured[max_devices];
  int device = 0;
  BIRDIE_CUDA_CHECK(cudaGetDevice(&device));
  BIRDIE_CHECK(device < max_devices, "device index ", device, " beyond ", max_devices);
  cudaMemPool_t pool;
  BIRDIE_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device));
  std::call_once(configured[device], [pool] {
    std::uint64_t keep_everything = UINT64_MAX;
    BIRDIE_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep_everything));
  });
  return pool;
}

std::uint64_t pool_attribute(cudaMemPool_t pool, cudaMemPoolAttr attribute) {
  std::uint64_t value = 0;
  BIRDIE_CUDA_CHECK(cudaMemPoolGetAttribute(pool, attribute, &value));
  return value;
}
#endif

std::size_t round_up(std::size_t bytes) {
  return (bytes + host_alignment - 1) / host_alignment * host_alignment;
}
}  // namespace

std::shared_ptr<Storage> Storage::allocate(std::size_t bytes, Device device,
                                           HostMemory host_memory) {
  // A zero-byte tensor still gets a unique, valid pointer.
  const std::size_t size = round_up(bytes == 0 ? 1 : bytes);
  if (device == Device::cpu) {
#ifdef BIRDIE_WITH_CUDA
    if (host_memory == HostMemory::pinned && cuda_device_count() > 0) {
      void* p = nullptr;
      BIRDIE_CUDA_CHECK(cudaMallocHost(&p, size));
      return std::shared_ptr<Storage>(new Storage(p, bytes, device, true));
    }
#endif
    ++host_allocations;
    void* p = std::aligned_alloc(host_alignment, size);
    BIRDIE_CHECK(p != nullptr, "out of host memory allocating ", bytes, " bytes");
    return std::shared_ptr<Storage>(new Storage(p, bytes, device, false));
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_CHECK(cuda_device_count() > 0,
               "a CUDA tensor was requested but no GPU is visible; use device \"cpu\"");
  void* p = nullptr;
  BIRDIE_CUDA_CHECK(cudaMallocFromPoolAsync(&p, size, device_pool(), current_stream()));
  ++device_allocations;
  return std::shared_ptr<Storage>(new Storage(p, bytes, device, false));
#else
  throw Error("a CUDA tensor was requested but this build has no CUDA backend; "
              "rebuild with -DBIRDIE_CUDA=ON on a machine with nvcc, or use device \"cpu\"");
#endif
}

Storage::~Storage() {
#ifdef BIRDIE_WITH_CUDA
  // Destructors must not throw: a failing free is reported by the next checked call.
  if (device_ == Device::cuda) {
    (void)cudaFreeAsync(data_, current_stream());
    return;
  }
  if (pinned_) {
    (void)cudaFreeHost(data_);
    return;
  }
#endif
  std::free(data_);
}


MemoryStats memory_stats() {
  MemoryStats stats;
  stats.host_allocations = host_allocations.load();
  stats.device_allocations = device_allocations.load();
#ifdef BIRDIE_WITH_CUDA
  if (cuda_device_count() > 0) {
    const cudaMemPool_t pool = device_pool();
    stats.device_in_use_bytes = pool_attribute(pool, cudaMemPoolAttrUsedMemCurrent);
    stats.device_peak_in_use_bytes = pool_attribute(pool, cudaMemPoolAttrUsedMemHigh);
    stats.device_reserved_bytes = pool_attribute(pool, cudaMemPoolAttrReservedMemCurrent);
  }
#endif
  return stats;
}

void reset_device_memory_peak() {
#ifdef BIRDIE_WITH_CUDA
  if (cuda_device_count() == 0) return;
  std::uint64_t zero = 0;  // the only value the attribute accepts: restart from "now"
  BIRDIE_CUDA_CHECK(cudaMemPoolSetAttribute(device_pool(), cudaMemPoolAttrUsedMemHigh, &zero));
#endif
}

}  // namespace birdie
