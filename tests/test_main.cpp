// The doctest entry point shared by every suite. A suite marked as needing a GPU (by
// linking gpu_required.cpp) exits 77 when none is visible, which CTest reports as skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "engine/device.h"

namespace birdie::testing {
// Overridden (strongly) by suites that need a GPU.
__attribute__((weak)) bool suite_needs_gpu() { return false; }
}  // namespace birdie::testing

int main(int argc, char** argv) {
  if (birdie::testing::suite_needs_gpu() && birdie::cuda_device_count() == 0) {
    std::printf("SKIPPED: this suite needs a GPU and none is visible (%s)\n",
                birdie::built_with_cuda() ? "no device found" : "built without CUDA");
    return 77;
  }
  doctest::Context context;
  context.applyCommandLine(argc, argv);
  return context.run();
}
