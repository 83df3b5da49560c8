// Initialization is reproducible to the bit. The golden fingerprints below (FNV-1a 64 over
// the raw bytes, plus a few sampled f32 bit patterns) were recorded with the original
// single-threaded, one-element-at-a-time fills of commit d8db9d4 (Release build, x86-64,
// no -march): the model ones by a printing version of this suite built against that code,
// the fill ones by the same calls compiled against its engine/random.cpp. The parallel
// fills must reproduce them for any number of OpenMP threads.
#include <doctest/doctest.h>

#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "engine/fingerprint.h"
#include "engine/random.h"
#include "model/config_file.h"
#include "model/gated_ssm/gated_ssm_lm.h"

using namespace birdie;

namespace {

std::uint64_t fingerprint(const Tensor& t) { return fnv1a(t); }

std::uint32_t f32_bits(const Tensor& flat, std::int64_t i) {
  std::uint32_t bits;
  std::memcpy(&bits, flat.data<float>() + i, sizeof bits);
  return bits;
}

model::ModelConfig config_named(const char* name) {
  return model::load_model_config_toml(std::string(BIRDIE_SOURCE_DIR) + "/configs/model/" + name + ".toml");
}

// Runs fn with the OpenMP thread count set to `threads`, restoring it after.
template <class Fn>
void with_threads(int threads, Fn&& fn) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  fn();
  omp_set_num_threads(before);
}

const int kThreadCounts[] = {1, 2, 3};

struct ModelGolden {
  const char* config;
  std::int64_t count;
  std::uint64_t fnv;
  std::uint32_t sampled[5];  // at 0, 1, n/3, n/2, n-1
};

// GatedSsmLm(config, f32, cpu, seed 1234).
const ModelGolden kModelGoldens[] = {
    {"tiny", 1708672, 0x40c21dc764ca09d7ull, {0xbf87e813, 0x3f7bd86e, 0x3d940aa0, 0x3f800000, 0xbd533b60}},
    {"small", 24028032, 0x5143228ed422163cull, {0xbf87e813, 0x3f7bd86e, 0xbce57915, 0x3f800000, 0xbc9ce12b}},
};

// RandomGenerator(2024, 3): fill_uniform(-2, 3) of [n0], fill_normal(0.5, 2) of [7, n1],
// fill_truncated_normal(0.02) of [3, n2], in that order.
struct FillGolden {
  DType dtype;
  std::int64_t n0, n1, n2;
  std::uint64_t uniform, normal, truncated, offset;
};
const FillGolden kFillGoldens[] = {
    // Below the parallel threshold (one thread whatever the setting).
    {DType::f32, 1001, 143, 333, 0x3fd237cc9d4932ddull, 0x5c15b86cd58916acull, 0x6a4a61741f034c1bull, 1002},
    {DType::f64, 1001, 143, 333, 0xc80b593d6ed63830ull, 0xbab81c4124ad96bbull, 0x167f81ad9f6fb2ecull, 1002},
    // Above it, with sizes that leave a partial last block.
    {DType::f32, 100003, 14287, 33335, 0x439f5af46afab35bull, 0xe60781074220110cull, 0xb028aefefddad9fcull, 100008},
    {DType::f64, 100003, 14287, 33335, 0xc0f833f6bc0bc2c4ull, 0x5060aab8ac3e58f2ull, 0xecf0d3a0d753d0a8ull, 100008},
};

void check_fill_goldens() {
  for (const FillGolden& g : kFillGoldens) {
    for (int threads : kThreadCounts) {
      CAPTURE(dtype_name(g.dtype));
      CAPTURE(g.n0);
      CAPTURE(threads);
      with_threads(threads, [&] {
        RandomGenerator rng(2024, 3);
        Tensor u = Tensor::empty({g.n0}, g.dtype), n = Tensor::empty({7, g.n1}, g.dtype),
               t = Tensor::empty({3, g.n2}, g.dtype);
        fill_uniform(u, rng, -2.0, 3.0);
        fill_normal(n, rng, 0.5, 2.0);
        fill_truncated_normal(t, rng, 0.02);
        CHECK(fingerprint(u) == g.uniform);
        CHECK(fingerprint(n) == g.normal);
        CHECK(fingerprint(t) == g.truncated);
        CHECK(rng.state().offset == g.offset);
      });
    }
  }
}

}  // namespace

TEST_CASE("initial weights of tiny and small are bitwise the golden ones for 1, 2 and 3 threads") {
  for (const ModelGolden& g : kModelGoldens) {
    for (int threads : kThreadCounts) {
      if (std::string(g.config) == "small" && threads == 2) continue;  // 1 and 3 are enough
      CAPTURE(g.config);
      CAPTURE(threads);
      with_threads(threads, [&] {
        model::GatedSsmLm lm(config_named(g.config), DType::f32, Device::cpu, 1234);
        const Tensor& values = lm.parameters().values();
        const std::int64_t n = values.numel();
        REQUIRE(n == g.count);
        CHECK(fingerprint(values) == g.fnv);
        const std::int64_t at[] = {0, 1, n / 3, n / 2, n - 1};
        for (int k = 0; k < 5; ++k) CHECK(f32_bits(values, at[k]) == g.sampled[k]);
      });
    }
  }
  // f64 parameters, another seed.
  for (int threads : kThreadCounts) {
    CAPTURE(threads);
    with_threads(threads, [&] {
      model::GatedSsmLm lm(config_named("tiny"), DType::f64, Device::cpu, 99);
      CHECK(fingerprint(lm.parameters().values()) == 0x3d11f6d9f8d9747dull);
    });
  }
}

TEST_CASE("bf16 parameters start from the f32 draws rounded once") {
  const auto specs = model::gated_ssm_parameter_specs(config_named("tiny"));
  autograd::ParameterSet f32(specs, DType::f32, Device::cpu), bf16(specs, DType::bf16, Device::cpu);
  RandomGenerator a(5), b(5);
  model::initialize_parameters(f32, 4, a);
  model::initialize_parameters(bf16, 4, b);
  CHECK(a.state() == b.state());
  CHECK(fingerprint(bf16.values()) == fingerprint(f32.values().to(DType::bf16)));
}

TEST_CASE("initialization advances the generator by exactly the blocks of its weight matrices") {
  const auto config = config_named("tiny");
  const auto specs = model::gated_ssm_parameter_specs(config);
  std::uint64_t blocks = 0;
  for (const auto& spec : specs)
    if (!spec.name.ends_with("norm.weight") && !spec.name.ends_with(".bias"))
      blocks += (shape_numel(spec.shape) + 3) / 4;
  for (int threads : kThreadCounts) {
    with_threads(threads, [&] {
      autograd::ParameterSet parameters(specs, DType::f32, Device::cpu);
      RandomGenerator rng(1234, 2);
      rng.reserve_blocks(10);
      model::initialize_parameters(parameters, config.layers, rng);
      CHECK(rng.state() == RandomState{1234, 2, 10 + blocks});
    });
  }
}

TEST_CASE("fills of odd sizes give the golden bytes for 1, 2 and 3 threads") { check_fill_goldens(); }

TEST_CASE("a truncated normal fill of 2^24 + 5 elements (the tabulated path) gives the golden bytes") {
  // The first fill this large tabulates erfinv for the 2^24 buckets; every later
  // truncated normal fill looks its values up.
  for (int threads : {3, 1}) {
    CAPTURE(threads);
    with_threads(threads, [&] {
      RandomGenerator rng(77, 5);
      Tensor big = Tensor::empty({(std::int64_t{1} << 24) + 5}, DType::f32);
      fill_truncated_normal(big, rng, 0.125);
      Tensor small = Tensor::empty({3, 1001}, DType::f64);
      fill_truncated_normal(small, rng, 1.5);
      CHECK(fingerprint(big) == 0x4af61f106fc82d22ull);
      CHECK(fingerprint(small) == 0x931dd5710176a5d3ull);
      CHECK(rng.state().offset == 4195057);
    });
  }
  check_fill_goldens();  // now through the table
}

TEST_CASE("forget_init = spread starts the forget rows at ln(m - 1), m log-uniform over [10, 1000] in each half") {
  model::ModelConfig config = config_named("tiny");
  model::GatedSsmLm zero(config, DType::f32, Device::cpu, 7);
  config.forget_init = model::ForgetGateInit::spread;
  model::GatedSsmLm spread(config, DType::f32, Device::cpu, 7);
  const std::int64_t n = config.state, half = n / 2;
  for (std::int64_t l = 0; l < config.layers; ++l) {
    CAPTURE(l);
    const std::string name = "blocks." + std::to_string(l) + ".in_proj.bias";
    const float* b = spread.parameters()[name].data<float>();
    for (std::int64_t k = 0; k < 4 * n; ++k) {
      if (k < n || k >= 2 * n) {
        REQUIRE(b[k] == 0.0f);
        continue;
      }
      const std::int64_t j = (k - n) % half;
      const double memory = std::pow(10.0, 1.0 + 2.0 * double(j) / double(half - 1));
      REQUIRE(b[k] == doctest::Approx(std::log(memory - 1)).epsilon(1e-6));
      REQUIRE(b[k] == b[n + j]);  // the two halves alike
    }
    // f = σ(b) = 1 − 1/m at both ends of the spread.
    CHECK(1 / (1 + std::exp(-double(b[n]))) == doctest::Approx(0.9));
    CHECK(1 / (1 + std::exp(-double(b[n + half - 1]))) == doctest::Approx(0.999));
  }
  // Every other parameter draws the same numbers as with zero biases.
  for (const auto& spec : spread.parameters().specs()) {
    if (spec.name.ends_with("in_proj.bias")) continue;
    CAPTURE(spec.name);
    const Tensor& a = zero.parameters()[spec.name];
    const Tensor& b = spread.parameters()[spec.name];
    CHECK(std::memcmp(a.data<float>(), b.data<float>(), std::size_t(a.numel()) * sizeof(float)) == 0);
  }
}
