// The Philox uniform fill (kernels/random.h): the same bits on every device.
// The harness, and the two suites these cases run in: tests/ops/op_harness.h.
#include "tests/ops/op_harness.h"

#include <cstring>

#include "kernels/random.h"

namespace birdie::testing {
TEST_SUITE_BEGIN("random");

#if !BIRDIE_OPS_GPU  // ---- CPU (ops_tests) ----

TEST_CASE("kernels::fill_uniform on the CPU is the engine's fill") {
  RandomGenerator a(9, 1), b(9, 1);
  Tensor x = Tensor::empty({13}, DType::f32), y = Tensor::empty({13}, DType::f32);
  fill_uniform(x, a, -1, 3);
  kernels::fill_uniform(y, b, -1, 3);
  CHECK(std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()) == 0);
  CHECK(a.state() == b.state());
}

#else  // ---- GPU against the CPU (cuda_ops_tests) ----

TEST_CASE("Philox uniform fill: the GPU draws the CPU's bits") {
  for (std::int64_t n : {std::int64_t{1}, std::int64_t{1001}, std::int64_t{65537}}) {
    CAPTURE(n);
    RandomGenerator cpu_rng(1234, 7), gpu_rng(1234, 7);
    cpu_rng.reserve_blocks(3);
    gpu_rng.reserve_blocks(3);
    Tensor host = Tensor::empty({n}, DType::f32);
    fill_uniform(host, cpu_rng, -0.5, 2.0);
    Tensor device = poisoned_cuda({n}, DType::f32);
    kernels::fill_uniform(device, gpu_rng, -0.5, 2.0);
    CHECK(cpu_rng.state() == gpu_rng.state());
    const Tensor back = device.to(Device::cpu);
    CHECK(std::memcmp(back.raw_data(), host.raw_data(), host.nbytes()) == 0);
  }
}

#endif

TEST_SUITE_END();
}  // namespace birdie::testing
