#include "engine/storage.h"

#include <cstdlib>

#include "engine/cuda_runtime.h"
#include "engine/error.h"

namespace birdie {

namespace {
constexpr std::size_t host_alignment = 64;

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
    void* p = std::aligned_alloc(host_alignment, size);
    BIRDIE_CHECK(p != nullptr, "out of host memory allocating ", bytes, " bytes");
    return std::shared_ptr<Storage>(new Storage(p, bytes, device, false));
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_CHECK(cuda_device_count() > 0,
               "a CUDA tensor was requested but no GPU is visible; use device \"cpu\"");
  void* p = nullptr;
  BIRDIE_CUDA_CHECK(cudaMallocAsync(&p, size, current_stream()));
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

}  // namespace birdie
