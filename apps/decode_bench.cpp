// decode_bench: batched generation of a model configuration with random weights, measured
// (model/batch_generator.h): for each batch size, prompts of different lengths each go
// through their own prefill, then every row decodes --tokens tokens together (no stop
// token: every row runs to the end), the sampling on the device. Reports the steady-state
// decoding throughput (tokens/s over all rows, the first two steps left out: they set up
// cuBLASLt and capture the graph) and, at batch 1, the fraction of the weight-bandwidth
// bound: one step reads every weight once, so tokens/s ≤ bandwidth / weight bytes (the
// compute copy's bytes; the Transformer's key-value cache reads come on top and are not
// counted). The bandwidth is the measured device-to-device copy rate (read + write) unless
// --bandwidth says otherwise. On cuda both paths run by default: the step captured in a
// CUDA graph and replayed, and the plain launches; they must give the same tokens, which
// the bench checks.
//
//   decode_bench --model configs/model/base.toml [--batches 1,8,64] [--tokens N] [--prompt T]
//                [--device cpu|cuda] [--precision auto|fp32|bf16] [--graph both|on|off]
//                [--temperature T] [--top-k K] [--top-p P] [--bandwidth GB/s] [--json OUT]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "apps/common/bench_setup.h"
#include "apps/common/command_line.h"
#include "engine/atomic_file.h"
#include "engine/device.h"
#include "engine/timer.h"
#include "model/batch_generator.h"

using namespace birdie;

namespace {

struct Options {
  std::string model, device = "cpu", precision = "auto", graph = "both", json;
  std::vector<std::int64_t> batches{1, 8, 64};
  std::int64_t tokens = 64, prompt = 32;
  double temperature = 0, top_p = 1, bandwidth_gbs = 0;
  std::int64_t top_k = 0;
};

double number(const std::string& flag, const std::string& text, bool positive) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || v < 0 || (positive && v == 0))
    throw apps::UsageError(flag + " needs a " + (positive ? "positive" : "non-negative") + " number, got '" + text + "'");
  return v;
}
double positive(const std::string& flag, const std::string& text) { return number(flag, text, true); }
double non_negative(const std::string& flag, const std::string& text) { return number(flag, text, false); }
std::int64_t positive_count(const std::string& flag, const std::string& text) {
  return static_cast<std::int64_t>(positive(flag, text));
}

Options parse(int argc, char** argv) {
  Options o;
  apps::CommandLine cli("decode_bench", "measures batched decoding of a model configuration");
  cli.option("--model", o.model, "FILE.toml", "the model configuration (required; e.g. configs/model/base.toml)");
  cli.option("--batches", "1,8,64", "batch sizes measured", [&o](const std::string& text) {
    o.batches.clear();
    std::stringstream list(text);
    for (std::string item; std::getline(list, item, ',');) o.batches.push_back(positive_count("--batches", item));
    if (o.batches.empty()) throw apps::UsageError("--batches needs a list such as 1,8,64");
  });
  cli.option("--tokens", o.tokens, positive_count, "N", "tokens decoded per batch, at least 3 (default 64)");
  cli.option("--prompt", o.prompt, positive_count, "T", "prompt tokens (default 32)");
  cli.option("--device", o.device, "cpu|cuda", "where the model runs (default cpu)");
  cli.option("--precision", o.precision, "auto|fp32|bf16", "compute precision (default auto: bf16 on cuda)");
  cli.option("--graph", o.graph, "both|on|off", "decoding steps in a CUDA graph, launched one by one, or both (default both)");
  cli.option("--temperature", o.temperature, non_negative, "T", "sampling temperature (default 0: greedy)");
  cli.option("--top-k", o.top_k, [](const std::string& flag, const std::string& text) {
    return static_cast<std::int64_t>(non_negative(flag, text));
  }, "K", "sample among the K likeliest tokens (default 0: all)");
  cli.option("--top-p", o.top_p, positive, "P", "nucleus sampling, in (0, 1] (default 1)");
  cli.option("--bandwidth", o.bandwidth_gbs, positive, "GB/s", "the device's memory bandwidth (default: measured)");
  cli.option("--json", o.json, "OUT", "also write the results to this JSON file");
  cli.check([&o] {
    if (o.model.empty()) throw apps::UsageError("--model is required (e.g. configs/model/base.toml)");
    if (o.graph != "both" && o.graph != "on" && o.graph != "off") throw apps::UsageError("--graph must be both, on or off");
    if (o.top_p > 1) throw apps::UsageError("--top-p must be in (0, 1]");
    if (o.tokens < 3) throw apps::UsageError("--tokens must be at least 3 (the first two steps are not timed)");
  });
  cli.parse(argc, argv);
  return o;
}

// Read + write bytes per second of a device-to-device copy of 512 MiB (host memory on the
// CPU), the best of 5.
double copy_bandwidth(Device device) {
  const std::int64_t n = std::int64_t{128} << 20;  // f32 elements
  const Tensor source = Tensor::zeros({n}, DType::f32, device);
  const Tensor target = Tensor::empty({n}, DType::f32, device);
  double best = 0;
  for (int round = 0; round < 6; ++round) {
    synchronize_device();
    Stopwatch watch;
    target.copy_from(source);
    synchronize_device();
    if (round > 0) best = std::max(best, 2.0 * double(source.nbytes()) / watch.seconds());
  }
  return best;
}

std::vector<model::GenerationRequest> random_requests(std::int64_t B, std::int64_t prompt, std::int64_t vocab) {
  RandomGenerator rng(99);
  std::vector<model::GenerationRequest> requests(B);
  for (std::int64_t b = 0; b < B; ++b) {
    // Lengths spread over [T/2, T]: the rows' caches and positions differ.
    const std::int64_t length = prompt / 2 + static_cast<std::int64_t>(rng.uniform_int(prompt - prompt / 2 + 1));
    for (std::int64_t t = 0; t < length; ++t) requests[b].prompt.push_back(static_cast<std::int32_t>(rng.uniform_int(vocab)));
    requests[b].seed = 1000 + static_cast<std::uint64_t>(b);
  }
  return requests;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  const auto [device, config, compute] = apps::bench_setup(o.model, o.device, o.precision);
  const auto lm = model::make_language_model(config, DType::f32, device, 1, compute);
  autograd::ParameterSet& parameters = lm->parameters();
  const double weight_bytes =
      double((parameters.has_compute_copy() ? parameters.compute_values() : parameters.values()).nbytes());
  const double bandwidth = o.bandwidth_gbs > 0 ? o.bandwidth_gbs * 1e9 : copy_bandwidth(device);
  const double bound = bandwidth / weight_bytes;
  std::printf("decode_bench: %s (%s), %.1fM parameters, %s compute on %s; weights %.1f MB, bandwidth %.0f GB/s%s: "
              "batch-1 bound %.0f tokens/s\n",
              o.model.c_str(), model::architecture_name(config.architecture).data(),
              double(config.parameter_count()) / 1e6, dtype_name(compute).data(), o.device.c_str(), weight_bytes / 1e6,
              bandwidth / 1e9, o.bandwidth_gbs > 0 ? " (given)" : " (measured copy)", bound);

  model::SamplingOptions options;
  options.max_new_tokens = o.tokens;
  options.temperature = o.temperature;
  options.top_k = o.top_k;
  options.top_p = o.top_p;
  options.eos = -1;  // every row decodes to the end
  std::vector<bool> paths;
  if (device == Device::cuda && o.graph != "off") paths.push_back(true);
  if (device == Device::cpu || o.graph != "on") paths.push_back(false);

  nlohmann::json report = {{"model", o.model},
                           {"architecture", model::architecture_name(config.architecture)},
                           {"parameters", config.parameter_count()},
                           {"device", o.device},
                           {"compute", dtype_name(compute)},
                           {"weight_bytes", weight_bytes},
                           {"bandwidth_bytes_per_s", bandwidth},
                           {"batch1_bound_tokens_per_s", bound},
                           {"runs", nlohmann::json::array()}};
  bool all_same = true;
  for (std::int64_t B : o.batches) {
    const std::vector<model::GenerationRequest> requests = random_requests(B, o.prompt, config.vocab);
    std::vector<std::vector<std::int32_t>> first_tokens;
    for (bool graph : paths) {
      model::BatchGeneration run;
      for (int round = 0; round < 2; ++round)  // the first round warms up
        run = model::generate_batch(*lm, requests, 4, options, {graph, 16});
      const double tokens_per_s = double(B * run.timed_steps) / run.timed_seconds;
      const bool same = first_tokens.empty() || run.tokens == first_tokens;
      if (first_tokens.empty()) first_tokens = run.tokens;
      all_same = all_same && same;
      std::printf("  batch %4lld %-6s %9.0f tokens/s (%7.3f ms a step over %lld steps)%s%s\n", (long long)B,
                  device == Device::cpu ? "" : (run.graph ? "graph" : "plain"), tokens_per_s,
                  run.timed_seconds / double(run.timed_steps) * 1e3, (long long)run.timed_steps,
                  B == 1 ? (", " + std::to_string(int(100 * tokens_per_s / bound + 0.5)) + "% of the bound").c_str() : "",
                  same ? "" : "  TOKENS DIFFER FROM THE GRAPH PATH");
      report["runs"].push_back({{"batch", B},
                                {"graph", run.graph},
                                {"tokens_per_s", tokens_per_s},
                                {"ms_per_step", run.timed_seconds / double(run.timed_steps) * 1e3},
                                {"timed_steps", run.timed_steps},
                                {"fraction_of_bound", B == 1 ? nlohmann::json(tokens_per_s / bound) : nlohmann::json()},
                                {"same_tokens_as_first_path", same}});
    }
  }
  if (!o.json.empty()) {
    write_file_atomically(o.json, report.dump(2) + "\n");
  }
  if (!all_same) {
    std::fprintf(stderr, "decode_bench: the graph and plain paths gave different tokens\n");
    return 1;
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "decode_bench: %s\n", e.what());
  return 1;
}
