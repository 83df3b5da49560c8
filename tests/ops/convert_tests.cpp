// dtype conversion (kernels/convert.h: convert, to_dtype), f32 to bf16 rounding to nearest even.
// The harness, and the two suites these cases run in: tests/ops/op_harness.h.
#include "tests/ops/op_harness.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/convert.h"
#include "kernels/elementwise.h"
#include "kernels/random.h"

namespace birdie::testing {
TEST_SUITE_BEGIN("convert");

#if !BIRDIE_OPS_GPU  // ---- CPU (ops_tests) ----

TEST_CASE("convert: f32 to bf16 rounds to nearest even, and back exactly") {
  const Tensor x = Tensor::from_values<float>({1.0f + 1.0f / 256.0f, 1.0f + 3.0f / 256.0f, -2.5f,
                                               std::numeric_limits<float>::quiet_NaN()}, {4});
  Tensor h = Tensor::empty({4}, DType::bf16);
  kernels::convert(x, h);
  const auto* bits = h.data<bfloat16>();
  CHECK(bits[0].to_float() == 1.0f);                 // tie → even
  CHECK(bits[1].to_float() == 1.0f + 4.0f / 256.0f);  // tie → even (up)
  CHECK(bits[2].to_float() == -2.5f);
  CHECK(std::isnan(bits[3].to_float()));
  const Tensor back = kernels::to_dtype(h, DType::f32);
  CHECK(back.to_vector<float>()[2] == -2.5f);
  CHECK_THROWS_AS(kernels::to_dtype(Tensor::full({2}, 1.0, DType::i32), DType::f32), Error);
}

#else  // ---- GPU against the CPU (cuda_ops_tests) ----

TEST_CASE("dtype conversion on the GPU matches the host conversion bit for bit") {
  RandomGenerator rng(90);
  Tensor x = random_cpu({4099}, DType::f32, rng, -1e3, 1e3);
  x.data<float>()[0] = std::numeric_limits<float>::quiet_NaN();
  x.data<float>()[1] = 1.0f + 1.0f / 256.0f;  // a tie: rounds to even
  x.data<float>()[2] = -0.0f;
  // The special values of bfloat16::from_float's rule (engine/dtype.h): NaNs of either
  // sign and any payload become 0x7FFF, infinities, rounding past FLT_MAX, subnormals.
  const std::uint32_t special[] = {0xffc00000u, 0x7f800001u, 0x7f800000u, 0xff800000u, 0x7f7fffffu,
                                   0x00008000u, 0x00018000u, 0x80018000u, 0x007fffffu, 0x00000001u};
  for (std::size_t i = 0; i < std::size(special); ++i)
    x.data<float>()[3 + i] = std::bit_cast<float>(special[i]);
  const Tensor expected = x.to(DType::bf16);
  const Tensor got = kernels::to_dtype(x.to(Device::cuda), DType::bf16).to(Device::cpu);
  CHECK(std::memcmp(got.raw_data(), expected.raw_data(), expected.nbytes()) == 0);
  const Tensor back = kernels::to_dtype(got.to(Device::cuda), DType::f32).to(Device::cpu);
  const Tensor back_ref = expected.to(DType::f32);
  CHECK(std::memcmp(back.raw_data(), back_ref.raw_data(), back_ref.nbytes()) == 0);
  const Tensor d = kernels::to_dtype(x.to(Device::cuda), DType::f64).to(Device::cpu);
  const Tensor d_ref = x.to(DType::f64);
  CHECK(std::memcmp(d.raw_data(), d_ref.raw_data(), d_ref.nbytes()) == 0);
}

// 2^31 + 2^20 + 6 elements: a 32-bit index would wrap (or a 32-bit size truncate) well before
// the end. 8.6 GB of f32 and twice 4.3 GB of bf16 on the GPU; the input is drawn there by
// the Philox fill, and the host checks windows at the start, across 2^31 and at the end
// (the fill against the CPU's draws of the same blocks, the conversion and the scaling
// against the host's rounding), bit for bit. About a second on an H100.
TEST_CASE("conversion, scaling and the Philox fill past 2^31 elements [large]") {
  const std::int64_t n = (std::int64_t{1} << 31) + (1 << 20) + 6;
  const std::uint64_t seed = 180, stream = 3;
  RandomGenerator gpu_rng(seed, stream);  // a fresh stream: the fill uses blocks from 0
  Tensor x = poisoned_cuda({n}, DType::f32);
  kernels::fill_uniform(x, gpu_rng, -1.0, 1.0);
  Tensor y = poisoned_cuda({n}, DType::bf16);
  kernels::convert(x, y);
  Tensor z = poisoned_cuda({n}, DType::bf16);
  kernels::scale(y, 2.0, z);  // exact: doubling a bf16 value

  const std::int64_t edge = std::int64_t{1} << 31, w = 1 << 20;
  struct Window {
    std::int64_t begin, end;  // begin a multiple of 4: a Philox block boundary
  };
  for (const Window win : {Window{0, w}, Window{edge - w / 2, edge + w / 2}, Window{n - w - 2, n}}) {
    CAPTURE(win.begin);
    REQUIRE(win.begin % 4 == 0);
    const std::int64_t len = win.end - win.begin;
    const Tensor xs = x.slice(win.begin, win.end).to(Device::cpu);
    const Tensor ys = y.slice(win.begin, win.end).to(Device::cpu);
    const Tensor zs = z.slice(win.begin, win.end).to(Device::cpu);
    RandomGenerator cpu_rng(RandomState{seed, stream, static_cast<std::uint64_t>(win.begin / 4)});
    Tensor expected = Tensor::empty({len}, DType::f32);
    fill_uniform(expected, cpu_rng, -1.0, 1.0);
    CHECK(std::memcmp(xs.raw_data(), expected.raw_data(), expected.nbytes()) == 0);
    const float* xv = xs.data<float>();
    const bfloat16* yv = ys.data<bfloat16>();
    const bfloat16* zv = zs.data<bfloat16>();
    std::int64_t wrong_convert = 0, wrong_scale = 0;
    for (std::int64_t i = 0; i < len; ++i) {
      const bfloat16 rounded = bfloat16::from_float(xv[i]);
      wrong_convert += yv[i].bits != rounded.bits;
      wrong_scale += zv[i].bits != bfloat16::from_float(2.0f * rounded.to_float()).bits;
    }
    CHECK(wrong_convert == 0);
    CHECK(wrong_scale == 0);
  }
}

#endif

TEST_SUITE_END();
}  // namespace birdie::testing
