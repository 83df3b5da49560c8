// Named ranges for Nsight Systems / Compute (without CUDA, no NVTX calls), which can also
// time the host: with host_times::enable(true), each range adds the host time between its
// start and its end (inclusive of the ranges inside it) to its name's total. CUDA launches
// return before their kernels run, so on a GPU this is the time the host spends issuing
// work, or blocked inside a call that waits for the device: what sets the pace of a step
// whose device idles (apps/step_bench --host-times).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#ifdef BIRDIE_WITH_CUDA
#include <nvtx3/nvToolsExt.h>
#endif

namespace birdie {

namespace host_times {

struct Entry {
  std::string name;
  std::int64_t calls = 0;
  double seconds = 0;  // inclusive
};

void enable(bool on);
inline std::atomic<bool> enabled{false};
void record(const char* name, double seconds);  // thread-safe
// The totals since the last take (most time first); clears them.
std::vector<Entry> take();

}  // namespace host_times

class NvtxRange {
 public:
  explicit NvtxRange(const char* name) : name_(name) {
#ifdef BIRDIE_WITH_CUDA
    nvtxRangePushA(name);
#endif
    if (host_times::enabled.load(std::memory_order_relaxed)) start_ = std::chrono::steady_clock::now(), timed_ = true;
  }
  ~NvtxRange() {
    if (timed_) host_times::record(name_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
#ifdef BIRDIE_WITH_CUDA
    nvtxRangePop();
#endif
  }
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;

 private:
  const char* name_;
  std::chrono::steady_clock::time_point start_;
  bool timed_ = false;
};

}  // namespace birdie

#define BIRDIE_NVTX_CONCAT_INNER(a, b) a##b
#define BIRDIE_NVTX_CONCAT(a, b) BIRDIE_NVTX_CONCAT_INNER(a, b)
// BIRDIE_NVTX_RANGE("scan.forward"): a range until the end of the enclosing scope.
#define BIRDIE_NVTX_RANGE(name) ::birdie::NvtxRange BIRDIE_NVTX_CONCAT(birdie_nvtx_, __LINE__)(name)
