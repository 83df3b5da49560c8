// Where a tensor lives.
#pragma once

#include <cstdint>
#include <string_view>

namespace birdie {

enum class Device { cpu, cuda };

std::string_view device_name(Device device);
Device parse_device(std::string_view name);  // "cpu" or "cuda"; anything else throws

// True when the build has the CUDA backend compiled in.
bool built_with_cuda();
// Number of visible GPUs: 0 when built without CUDA or when the driver finds none (never
// throws, so tests can use it to skip themselves).
int cuda_device_count();
// Blocks until all work queued on the current stream is done (no-op without CUDA).
void synchronize_device();
// How often, and how long in all (seconds), the host has waited for the device since the
// process started: stream synchronizations, and copies to the host (which wait for their
// data). A training step should wait once, to read its losses; each wait more empties the
// device's queue.
std::uint64_t host_waits();
double host_wait_seconds();
// How often the host has copied host memory to the device since the process started.
// Such a copy may make the host wait as well: from pageable memory the driver stages it
// through page-locked memory of its own, and waits for the stream when that is full. A training
// step uploads its batch and the backward pass's seed; AdamW's segment table lives on the
// device from the optimizer's construction (kernels/adamw.h).
std::uint64_t host_uploads();
// Counted by the copy that uploads (engine/tensor.cpp).
void count_host_upload();
// Counts and times one wait, for as long as it lives (by whoever makes the host wait).
class HostWait {
 public:
  HostWait();
  ~HostWait();
  HostWait(const HostWait&) = delete;
  HostWait& operator=(const HostWait&) = delete;

 private:
  std::int64_t start_ns_;
};

}  // namespace birdie
