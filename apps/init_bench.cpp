// Times a model's parameter initialization: the ParameterSet (flat value and gradient
// buffers, zeroed) and initialize_parameters on it, which is what GatedSsmLm's
// constructor does for f32 parameters. Prints wall and CPU time per parameter and the
// FNV-1a 64 fingerprint of the initial weights (bitwise the same for any thread count,
// and meant to be on a GPU too); --expect exits 1 when it differs.
// configs/model/paper.toml with seed 1234 gives 0xbd54c068eaf0f725 (bench/RESULTS.md).
//
//   init_bench MODEL.toml [--threads N] [--device cpu|cuda] [--seed S] [--expect HEX]
//              [--no-fingerprint]
#include <omp.h>

#include <chrono>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "apps/common/command_line.h"
#include "engine/device.h"
#include "engine/error.h"
#include "engine/fingerprint.h"
#include "model/config_file.h"
#include "model/gated_ssm/gated_ssm_lm.h"

using namespace birdie;

namespace {

double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) try {
  std::string config_path, expect;
  Device device = Device::cpu;
  std::uint64_t seed = 1234;
  bool no_fingerprint = false;
  apps::CommandLine cli("init_bench", "times a model configuration's parameter initialization");
  cli.positional("MODEL.toml", config_path, "a model configuration (configs/model/*.toml)");
  cli.option("--threads", "N", "OpenMP threads (default: OMP_NUM_THREADS or all cores)", [](const std::string& text) {
    omp_set_num_threads(apps::whole_number("--threads", text, 1));
  });
  cli.option("--device", "cpu|cuda", "where the parameters live (default cpu)", [&device](const std::string& text) {
    try {
      device = parse_device(text);
    } catch (const std::exception& e) {
      throw apps::UsageError(std::string("--device: ") + e.what());
    }
  });
  cli.option("--seed", seed, apps::seed_number, "S", "initialization seed (default 1234)");
  cli.option("--expect", "HEX", "the fingerprint expected: exit 1 when it differs", [&expect](const std::string& text) {
    char* end = nullptr;
    errno = 0;
    std::strtoull(text.c_str(), &end, 16);
    if (text.empty() || text[0] == '-' || *end != '\0' || errno == ERANGE)
      throw apps::UsageError("--expect takes a 64-bit fingerprint in hexadecimal (0x...), got '" + text + "'");
    expect = text;
  });
  cli.flag("--no-fingerprint", no_fingerprint, "do not compute the fingerprint");
  cli.check([&] {
    if (config_path.empty()) throw apps::UsageError("a model configuration is required (MODEL.toml)");
  });
  cli.parse(argc, argv);
  const bool print_fingerprint = !no_fingerprint;
  const auto config = model::load_model_config_toml(config_path);
  const double wall0 = wall_seconds(), cpu0 = cpu_seconds();
  autograd::ParameterSet parameters(model::gated_ssm_parameter_specs(config), DType::f32, device);
  if (device == Device::cuda) synchronize_device();
  const double wall1 = wall_seconds(), cpu1 = cpu_seconds();
  RandomGenerator rng(seed);
  model::initialize_parameters(parameters, config.layers, rng);
  if (device == Device::cuda) synchronize_device();
  const double wall2 = wall_seconds(), cpu2 = cpu_seconds();
  const double n = double(parameters.count());
  std::printf("%s: %.0f parameters, %d OpenMP threads, %s\n", config_path.c_str(), n, omp_get_max_threads(),
              std::string(device_name(device)).c_str());
  std::printf("  allocate and zero: %.3f s wall, %.3f s CPU\n", wall1 - wall0, cpu1 - cpu0);
  std::printf("  initialize:        %.3f s wall (%.2f ns/parameter), %.3f s CPU (%.2f ns/parameter)\n",
              wall2 - wall1, 1e9 * (wall2 - wall1) / n, cpu2 - cpu1, 1e9 * (cpu2 - cpu1) / n);
  if (print_fingerprint || !expect.empty()) {
    const Tensor values = device == Device::cpu ? parameters.values() : parameters.values().to(Device::cpu);
    const std::uint64_t fingerprint = fnv1a(values);
    std::printf("  fnv1a 0x%016" PRIx64 "\n", fingerprint);
    if (!expect.empty() && fingerprint != std::stoull(expect, nullptr, 16)) {
      std::fprintf(stderr, "init_bench: fingerprint 0x%016" PRIx64 " differs from the expected %s\n",
                   fingerprint, expect.c_str());
      return 1;
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "init_bench: %s\n", e.what());
  return 1;
}
