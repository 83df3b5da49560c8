// engine/: dtypes, bfloat16 rounding, Tensor storage and views, copies, the Philox
// generator, random fills and error messages.
#include <doctest/doctest.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>

#include "engine/checksum.h"
#include "engine/device.h"
#include "engine/nvtx.h"
#include "engine/philox.h"
#include "engine/random.h"
#include "engine/storage.h"
#include "engine/tensor.h"
#include "tests/support/thrown_error.h"

using namespace birdie;

TEST_CASE("dtype sizes, names and parsing") {
  CHECK(dtype_size(DType::f32) == 4);
  CHECK(dtype_size(DType::bf16) == 2);
  CHECK(dtype_size(DType::i32) == 4);
  CHECK(dtype_size(DType::f64) == 8);
  for (DType d : {DType::f32, DType::bf16, DType::i32, DType::f64})
    CHECK(parse_dtype(dtype_name(d)) == d);
  CHECK_THROWS_WITH_AS(parse_dtype("f16"), doctest::Contains("unknown dtype 'f16'"), Error);
  CHECK(parse_device("cuda") == Device::cuda);
  CHECK_THROWS_WITH_AS(parse_device("tpu"), doctest::Contains("unknown device 'tpu'"), Error);
}

TEST_CASE("bfloat16 rounds to nearest, ties to even") {
  CHECK(bfloat16::from_float(1.0f).bits == 0x3f80);
  CHECK(bfloat16::from_float(-2.0f).to_float() == -2.0f);
  // 1 + 2^-8 is exactly halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1).
  CHECK(bfloat16::from_float(1.0f + 0x1.0p-8f).to_float() == 1.0f);
  // 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: even is 1 + 2^-6.
  CHECK(bfloat16::from_float(1.0f + 3 * 0x1.0p-8f).to_float() == 1.0f + 0x1.0p-6f);
  // Just above halfway rounds up.
  CHECK(bfloat16::from_float(1.0f + 0x1.0p-8f + 0x1.0p-20f).to_float() == 1.0f + 0x1.0p-7f);
  // Negative ties go to even too.
  CHECK(bfloat16::from_float(-(1.0f + 0x1.0p-8f)).bits == 0xbf80);
  CHECK(bfloat16::from_float(-(1.0f + 3 * 0x1.0p-8f)).bits == 0xbf82);
}

// The GPU's rule (cvt.rn.bf16.f32), bit for bit: see bfloat16 in engine/dtype.h.
TEST_CASE("bfloat16 special values follow the GPU's conversion") {
  const auto bits_of = [](std::uint32_t f32_bits) {
    return bfloat16::from_float(std::bit_cast<float>(f32_bits)).bits;
  };
  SUBCASE("every NaN becomes the canonical quiet NaN 0x7FFF") {
    CHECK(bits_of(0x7fc00000u) == 0x7fff);  // the default quiet NaN
    CHECK(bits_of(0xffc00000u) == 0x7fff);  // negative quiet NaN: the sign is dropped
    CHECK(bits_of(0x7f800001u) == 0x7fff);  // signalling NaN, smallest payload
    CHECK(bits_of(0x7fbfffffu) == 0x7fff);  // signalling NaN, payload only in the low half
    CHECK(bits_of(0xff812345u) == 0x7fff);
    CHECK(bits_of(0x7fffffffu) == 0x7fff);  // would carry into the sign if rounded
    CHECK(std::isnan(bfloat16{0x7fff}.to_float()));
  }
  SUBCASE("infinities and zeros keep their sign") {
    CHECK(bits_of(0x7f800000u) == 0x7f80);
    CHECK(bits_of(0xff800000u) == 0xff80);
    CHECK(bits_of(0x00000000u) == 0x0000);
    CHECK(bits_of(0x80000000u) == 0x8000);
  }
  SUBCASE("finite values past the largest bf16 round to infinity") {
    CHECK(bits_of(0x7f7fffffu) == 0x7f80);  // FLT_MAX
    CHECK(bits_of(0xff7fffffu) == 0xff80);
    CHECK(bits_of(0x7f7f7fffu) == 0x7f7f);  // just below the halfway point: the largest bf16
    CHECK(bits_of(0x7f7f8000u) == 0x7f80);  // halfway, odd mantissa: up (to infinity)
  }
  SUBCASE("subnormals round like normal numbers, never flushed") {
    CHECK(bits_of(0x00010000u) == 0x0001);  // the smallest bf16 subnormal, exact
    CHECK(bits_of(0x00000001u) == 0x0000);  // far below half of it: zero
    CHECK(bits_of(0x00008000u) == 0x0000);  // exactly half: tie to even (0)
    CHECK(bits_of(0x00008001u) == 0x0001);  // just above half
    CHECK(bits_of(0x00018000u) == 0x0002);  // 1.5 ulps: tie to even (2)
    CHECK(bits_of(0x00028000u) == 0x0002);  // 2.5 ulps: tie to even (2)
    CHECK(bits_of(0x80018000u) == 0x8002);
    CHECK(bits_of(0x007fffffu) == 0x0080);  // the largest f32 subnormal rounds up to FLT_MIN
    CHECK(bfloat16{0x0001}.to_float() == std::bit_cast<float>(0x00010000u));
  }
  SUBCASE("f64 converts through f32, as the GPU kernels do") {
    const Tensor d = Tensor::from_values<double>(std::vector<double>{1.0 + 0x1.0p-8 + 0x1.0p-30,
                                                                      std::nan("")}, {2});
    const Tensor b = d.to(DType::bf16);
    // 1 + 2^-8 + 2^-30 is above the tie, but rounds to the f32 tie 1 + 2^-8 first, which
    // then goes to even: 1.0.
    CHECK(b.data<bfloat16>()[0].bits == 0x3f80);
    CHECK(b.data<bfloat16>()[1].bits == 0x7fff);
  }
}

TEST_CASE("checksum64: the shards' checksum, the same whatever pieces the bytes come in") {
  std::vector<unsigned char> bytes(101);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>((i * 7 + 3) % 256);
  // Golden values of the algorithm token shards have always been written with.
  CHECK(checksum64(bytes.data(), bytes.size()) == 0x23e3860827f2f584ull);
  CHECK(checksum64(nullptr, 0) == 0x9e3779b97f4a7c15ull);
  for (std::size_t piece : {1, 3, 8, 13, 64, 100}) {
    Checksum64 sum(bytes.size());
    for (std::size_t at = 0; at < bytes.size(); at += piece) sum.add(bytes.data() + at, std::min(piece, bytes.size() - at));
    CHECK(sum.value() == 0x23e3860827f2f584ull);
  }
}

TEST_CASE("tensor factories, shape queries and typed access") {
  Tensor t = Tensor::full({2, 3}, 1.5, DType::f32);
  CHECK(t.rank() == 2);
  CHECK(t.numel() == 6);
  CHECK(t.nbytes() == 24);
  CHECK(t.dim(-1) == 3);
  CHECK(t.describe() == "f32[2, 3] cpu");
  CHECK(t.to_vector<float>() == std::vector<float>(6, 1.5f));
  CHECK(reinterpret_cast<std::uintptr_t>(t.raw_data()) % 64 == 0);
  CHECK_THROWS_WITH_AS(t.data<double>(), doctest::Contains("typed access as f64 to a f32[2, 3]"),
                       Error);
  CHECK_THROWS_WITH_AS(t.dim(2), doctest::Contains("axis 2 out of range"), Error);
  Tensor z = Tensor::zeros({4}, DType::i32);
  CHECK(z.to_vector<std::int32_t>() == std::vector<std::int32_t>(4, 0));
  Tensor v = Tensor::from_values<double>({1, 2, 3, 4}, {2, 2});
  CHECK(v.item(3) == 4.0);
  CHECK_THROWS_WITH_AS(Tensor::from_values<double>({1, 2, 3}, {2, 2}),
                       doctest::Contains("3 values do not fill shape [2, 2]"), Error);
  CHECK_THROWS_AS(Tensor::empty({-1}, DType::f32), Error);
  Tensor undefined;
  CHECK_FALSE(undefined.defined());
  CHECK_THROWS_WITH_AS(undefined.shape(), doctest::Contains("undefined tensor"), Error);
}

TEST_CASE("views share storage: reshape and slice along the first dimension") {
  std::vector<float> values(24);
  std::iota(values.begin(), values.end(), 0.0f);
  Tensor t = Tensor::from_values<float>(values, {4, 3, 2});
  Tensor flat = t.reshape({-1});
  CHECK(flat.shape() == Shape{24});
  CHECK(flat.shares_storage_with(t));
  Tensor rows = t.slice(1, 3);
  CHECK(rows.shape() == Shape{2, 3, 2});
  CHECK(rows.item(0) == 6.0);
  rows.data<float>()[0] = 100.0f;  // writes through to the parent
  CHECK(t.item(6) == 100.0);
  CHECK(t.reshape({4, -1}).shape() == Shape{4, 6});
  CHECK_THROWS_WITH_AS(t.reshape({5, -1}), doctest::Contains("cannot infer"), Error);
  CHECK_THROWS_WITH_AS(t.reshape({-1, -1}), doctest::Contains("at most one dimension"), Error);
  CHECK_THROWS_WITH_AS(t.reshape({7}), doctest::Contains("element counts differ"), Error);
  CHECK_THROWS_WITH_AS(t.slice(3, 5), doctest::Contains("slice [3, 5) out of range"), Error);
  CHECK(t.slice(2, 2).numel() == 0);
}

TEST_CASE("copies: clone, copy_from and dtype conversion") {
  Tensor a = Tensor::from_values<float>({1.0f, -2.5f, 3.25f, 1e-3f}, {4});
  Tensor b = a.clone();
  CHECK_FALSE(b.shares_storage_with(a));
  b.data<float>()[0] = 9.0f;
  CHECK(a.item(0) == 1.0);
  Tensor d = a.to(DType::f64);
  CHECK(d.dtype() == DType::f64);
  CHECK(d.to_vector<double>()[2] == 3.25);
  Tensor h = a.to(DType::bf16).to(DType::f32);
  CHECK(h.to_vector<float>()[1] == -2.5f);  // representable in bf16
  CHECK(std::abs(h.item(3) - 1e-3) < 1e-5);
  Tensor i = Tensor::from_values<double>({1.9, -1.9}, {2}).to(DType::i32);
  CHECK(i.to_vector<std::int32_t>() == std::vector<std::int32_t>{1, -1});  // truncation
  Tensor c = Tensor::zeros({4}, DType::f32);
  c.copy_from(a);
  CHECK(c.to_vector<float>() == a.to_vector<float>());
  Tensor wrong = Tensor::zeros({5}, DType::f32);
  CHECK_THROWS_WITH_AS(wrong.copy_from(a),
                       doctest::Contains("source f32[4] cpu does not match destination f32[5] cpu"),
                       Error);
}

TEST_CASE("memory statistics count allocations") {
  const MemoryStats before = memory_stats();
  Tensor a = Tensor::empty({3}, DType::f32);
  Tensor view = a.reshape({1, 3});  // a view allocates nothing
  Tensor b = a.clone();
  const MemoryStats after = memory_stats();
  CHECK(after.host_allocations - before.host_allocations == 2);
  CHECK(after.device_allocations == before.device_allocations);
  if (cuda_device_count() == 0) CHECK(after.device_reserved_bytes == 0);
}

TEST_CASE("CUDA tensors without a GPU give a clear error, not a crash") {
  if (cuda_device_count() > 0) return;  // covered by the GPU suites
  Tensor a = Tensor::zeros({2}, DType::f32);
  CHECK_THROWS_AS(a.to(Device::cuda), Error);
  try {
    (void)Tensor::empty({2}, DType::f32, Device::cuda);
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK((message.find("no GPU is visible") != std::string::npos ||
           message.find("no CUDA backend") != std::string::npos));
  }
  // Pinned host memory falls back to aligned memory.
  Tensor pinned = Tensor::empty({16}, DType::f32, Device::cpu, HostMemory::pinned);
  CHECK(reinterpret_cast<std::uintptr_t>(pinned.raw_data()) % 64 == 0);
}

TEST_CASE("Philox4x32-10 matches the published known-answer vectors") {
  // From the Random123 distribution (kat_vectors): counter, key → output.
  auto zero = philox4x32_10(0, 0, 0, 0, 0, 0);
  CHECK(zero.word[0] == 0x6627e8d5u);
  CHECK(zero.word[1] == 0xe169c58du);
  CHECK(zero.word[2] == 0xbc57ac4cu);
  CHECK(zero.word[3] == 0x9b00dbd8u);
  auto ones = philox4x32_10(~0u, ~0u, ~0u, ~0u, ~0u, ~0u);
  CHECK(ones.word[0] == 0x408f276du);
  CHECK(ones.word[1] == 0x41c83b0eu);
  CHECK(ones.word[2] == 0xa20bc7c6u);
  CHECK(ones.word[3] == 0x6d5451fdu);
  auto pi = philox4x32_10(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u,
                          0x299f31d0u);
  CHECK(pi.word[0] == 0xd16cfe09u);
  CHECK(pi.word[1] == 0x94fdccebu);
  CHECK(pi.word[2] == 0x5001e420u);
  CHECK(pi.word[3] == 0x24126ea1u);
}

TEST_CASE("random generator: deterministic, resumable from its state, independent streams") {
  RandomGenerator a(42), b(42), other_stream(42, 1);
  std::vector<std::uint64_t> first;
  for (int i = 0; i < 10; ++i) first.push_back(a.next_u64());
  for (int i = 0; i < 10; ++i) CHECK(b.next_u64() == first[i]);
  CHECK(other_stream.next_u64() != first[0]);
  RandomGenerator resumed(a.state());
  CHECK(resumed.next_u64() == a.next_u64());
  // Fills continue the stream where scalar draws left it, and vice versa.
  Tensor x = Tensor::empty({7}, DType::f64);
  RandomGenerator c(5), d(5);
  fill_uniform(x, c, 0, 1);
  CHECK(c.state().offset == 2);  // ceil(7 / 4) blocks
  d.reserve_blocks(2);
  CHECK(c.next_u32() == d.next_u32());
}

TEST_CASE("random fills have the right distributions") {
  RandomGenerator rng(7);
  const std::int64_t n = 200000;
  Tensor u = Tensor::empty({n}, DType::f64), g = Tensor::empty({n}, DType::f64),
         t = Tensor::empty({n}, DType::f32);
  fill_uniform(u, rng, -2, 2);
  fill_normal(g, rng, 1.0, 3.0);
  fill_truncated_normal(t, rng, 0.5);
  auto moments = [](const std::vector<double>& v) {
    double mean = 0, var = 0;
    for (double x : v) mean += x;
    mean /= double(v.size());
    for (double x : v) var += (x - mean) * (x - mean);
    return std::pair{mean, var / double(v.size())};
  };
  auto [um, uv] = moments(u.to_vector<double>());
  CHECK(std::abs(um) < 0.02);
  CHECK(std::abs(uv - 16.0 / 12.0) < 0.02);
  auto [gm, gv] = moments(g.to_vector<double>());
  CHECK(std::abs(gm - 1.0) < 0.03);
  CHECK(std::abs(std::sqrt(gv) - 3.0) < 0.03);
  const auto tv = t.to_vector<double>();
  auto [tm, tvar] = moments(tv);
  CHECK(std::abs(tm) < 0.01);
  // Std of a standard normal truncated to ±2 is 0.8796.
  CHECK(std::abs(std::sqrt(tvar) - 0.5 * 0.879626) < 0.005);
  int out_of_range = 0;
  for (double x : tv) out_of_range += std::abs(x) > 1.0 + 1e-6;
  for (int i = 0; i < 1000; ++i) {
    const double x = rng.uniform();
    out_of_range += !(x >= 0 && x < 1) + (rng.uniform_int(7) >= 7);
  }
  CHECK(out_of_range == 0);
}

TEST_CASE("erfinv inverts erf") {
  for (double y : {-0.999999, -0.9, -0.3, 0.0, 1e-9, 0.5, 0.95, 0.999999})
    CHECK(std::erf(erfinv(y)) == doctest::Approx(y).epsilon(1e-12));
  CHECK_THROWS_AS(erfinv(1.0), Error);
}

TEST_CASE("check failures name the condition, the file and the line") {
  const std::string message =
      testing::thrown_error([] { BIRDIE_CHECK(1 + 1 == 3, "arithmetic is broken: ", 42); }, "no throw");
  CHECK(message.find("arithmetic is broken: 42") != std::string::npos);
  CHECK(message.find("1 + 1 == 3 failed") != std::string::npos);
  CHECK(message.find("engine_tests.cpp") != std::string::npos);
}

TEST_CASE("host times: named ranges add their inclusive host time per name, only while enabled") {
  host_times::take();  // start clean
  auto spin = [](double seconds) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until) {
    }
  };
  { BIRDIE_NVTX_RANGE("outer"); }  // not enabled: not recorded
  CHECK(host_times::take().empty());
  host_times::enable(true);
  for (int i = 0; i < 2; ++i) {
    BIRDIE_NVTX_RANGE("outer");
    spin(0.002);
    BIRDIE_NVTX_RANGE("inner");
    spin(0.001);
  }
  host_times::enable(false);
  { BIRDIE_NVTX_RANGE("inner"); }
  const std::vector<host_times::Entry> entries = host_times::take();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].name == "outer");  // most time first: it holds "inner"
  CHECK(entries[1].name == "inner");
  CHECK(entries[0].calls == 2);
  CHECK(entries[1].calls == 2);
  CHECK(entries[1].seconds >= 0.002);
  CHECK(entries[0].seconds >= entries[1].seconds + 0.004);
  CHECK(host_times::take().empty());  // taken: cleared
}
