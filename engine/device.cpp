#include "engine/device.h"

#include <atomic>
#include <chrono>

#include "engine/cuda_runtime.h"
#include "engine/error.h"

namespace birdie {

std::string_view device_name(Device device) { return device == Device::cpu ? "cpu" : "cuda"; }

Device parse_device(std::string_view name) {
  if (name == "cpu") return Device::cpu;
  if (name == "cuda") return Device::cuda;
  throw Error(detail::concat("unknown device '", name, "': use \"cpu\" or \"cuda\""));
}

namespace {
std::atomic<std::uint64_t> waits{0};
std::atomic<std::int64_t> waited_ns{0};
std::atomic<std::uint64_t> uploads{0};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

std::uint64_t host_waits() { return waits.load(std::memory_order_relaxed); }
double host_wait_seconds() { return double(waited_ns.load(std::memory_order_relaxed)) * 1e-9; }
std::uint64_t host_uploads() { return uploads.load(std::memory_order_relaxed); }
void count_host_upload() { uploads.fetch_add(1, std::memory_order_relaxed); }

HostWait::HostWait() : start_ns_(now_ns()) { waits.fetch_add(1, std::memory_order_relaxed); }
HostWait::~HostWait() { waited_ns.fetch_add(now_ns() - start_ns_, std::memory_order_relaxed); }

#ifdef BIRDIE_WITH_CUDA
namespace {
thread_local cudaStream_t current = nullptr;
}
cudaStream_t current_stream() { return current; }
void set_current_stream(cudaStream_t stream) { current = stream; }

bool built_with_cuda() { return true; }
int cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return count;
}
void synchronize_device() {
  if (cuda_device_count() == 0) return;
  const HostWait wait;
  BIRDIE_CUDA_CHECK(cudaStreamSynchronize(current_stream()));
}
#else
bool built_with_cuda() { return false; }
int cuda_device_count() { return 0; }
void synchronize_device() {}
#endif

}  // namespace birdie
