// The device memory pool behind every GPU tensor (engine/storage.h).
// The harness, and the two suites these cases run in: tests/ops/op_harness.h.
#include "tests/ops/op_harness.h"

#include "engine/storage.h"

namespace birdie::testing {
TEST_SUITE_BEGIN("device_memory");

#if BIRDIE_OPS_GPU  // ---- GPU against the CPU (cuda_ops_tests) ----

TEST_CASE("the device memory pool keeps what it reserved across synchronizations") {
  { Tensor big = Tensor::empty({64 << 20}, DType::f32, Device::cuda); }  // 256 MiB, freed
  synchronize_device();
  const MemoryStats stats = memory_stats();
  // With the default release threshold (0) the pool would have returned it to the driver.
  CHECK(stats.device_reserved_bytes >= (std::uint64_t{256} << 20));
  const std::uint64_t allocations = stats.device_allocations;
  { Tensor again = Tensor::empty({64 << 20}, DType::f32, Device::cuda); }
  synchronize_device();
  CHECK(memory_stats().device_reserved_bytes == stats.device_reserved_bytes);
  CHECK(memory_stats().device_allocations == allocations + 1);
}

#endif

TEST_SUITE_END();
}  // namespace birdie::testing
