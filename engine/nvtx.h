// Named ranges for Nsight Systems / Compute. Without CUDA they compile to nothing.
#pragma once

#ifdef BIRDIE_WITH_CUDA
#include <nvtx3/nvToolsExt.h>
#endif

namespace birdie {

class NvtxRange {
 public:
#ifdef BIRDIE_WITH_CUDA
  explicit NvtxRange(const char* name) { nvtxRangePushA(name); }
  ~NvtxRange() { nvtxRangePop(); }
#else
  explicit NvtxRange(const char*) {}
#endif
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};

}  // namespace birdie

#define BIRDIE_NVTX_CONCAT_INNER(a, b) a##b
#define BIRDIE_NVTX_CONCAT(a, b) BIRDIE_NVTX_CONCAT_INNER(a, b)
// BIRDIE_NVTX_RANGE("scan.forward"): a range until the end of the enclosing scope.
#define BIRDIE_NVTX_RANGE(name) ::birdie::NvtxRange BIRDIE_NVTX_CONCAT(birdie_nvtx_, __LINE__)(name)
