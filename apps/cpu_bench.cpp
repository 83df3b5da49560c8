// CPU throughput of the reference backend: f32 GEMM (OpenBLAS) at 1024³, the gated scan,
// and one full training step of the tiny copy-task model. Median of repeated runs after a
// warm-up; prints one line per measurement.
//
//   cpu_bench [--repeats N]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "apps/common/command_line.h"
#include "autograd/adamw.h"
#include "autograd/tape.h"
#include "data/tasks/copy_task.h"
#include "engine/timer.h"
#include "kernels/adamw.h"
#include "kernels/matmul.h"
#include "kernels/scan.h"
#include "model/gated_ssm/gated_ssm_lm.h"

using namespace birdie;

namespace {

double median_seconds(int repeats, const std::function<void()>& work) {
  work();  // warm-up: page faults, thread pools, caches
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    Stopwatch clock;
    work();
    times.push_back(clock.seconds());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

Tensor random_f32(const Shape& shape, RandomGenerator& rng) {
  Tensor t = Tensor::empty(shape, DType::f32);
  fill_uniform(t, rng, -1, 1);
  return t;
}

}  // namespace

int main(int argc, char** argv) try {
  int repeats = 7;
  apps::CommandLine cli("cpu_bench", "CPU throughput of the reference kernels");
  cli.option("--repeats", repeats, apps::at_least(1), "N", "runs of each measurement, the median reported (default 7)");
  cli.parse(argc, argv);
  RandomGenerator rng(1);

  {
    const std::int64_t n = 1024;
    Tensor a = random_f32({n, n}, rng), b = random_f32({n, n}, rng), c = Tensor::empty({n, n}, DType::f32);
    const double s = median_seconds(repeats, [&] { kernels::matmul(a, false, b, false, c); });
    std::printf("matmul f32 1024x1024x1024: %.2f ms, %.1f GFLOP/s\n", s * 1e3, 2.0 * n * n * n / s / 1e9);
  }
  for (auto direction : {kernels::ScanDirection::causal, kernels::ScanDirection::bidirectional}) {
    const std::int64_t B = 8, T = 512, N = 256;
    Tensor proj = random_f32({B, T, 4 * N}, rng), y = Tensor::empty({B, T, N}, DType::f32);
    Tensor reset = Tensor::zeros({B, T}, DType::i32), dproj = Tensor::empty({B, T, 4 * N}, DType::f32);
    Tensor saved;
    const double fwd = median_seconds(repeats, [&] { saved = kernels::gated_scan_forward(proj, reset, direction, y); });
    const double bwd = median_seconds(repeats, [&] { kernels::gated_scan_backward(proj, reset, direction, saved, y, dproj); });
    const double tokens = double(B * T);
    std::printf("gated scan %s B=%lld T=%lld N=%lld: forward %.2f ms (%.2f Mtokens/s), backward %.2f ms\n",
                direction == kernels::ScanDirection::causal ? "causal" : "bidirectional", (long long)B,
                (long long)T, (long long)N, fwd * 1e3, tokens / fwd / 1e6, bwd * 1e3);
  }
  {
    const std::int64_t n = 4 << 20;
    Tensor p = random_f32({n}, rng), g = random_f32({n}, rng), m = Tensor::zeros({n}, DType::f32),
           v = Tensor::zeros({n}, DType::f32);
    const std::vector<kernels::DecaySegment> segments{{0, n, true}};
    kernels::AdamWHyper hyper;
    const double s = median_seconds(repeats, [&] { kernels::adamw_step(p, g, m, v, segments, hyper); });
    std::printf("adamw step over 4M f32 parameters: %.2f ms (%.1f GB/s)\n", s * 1e3, 7.0 * 4 * double(n) / s / 1e9);
  }
  {
    data::CopyTaskConfig task;
    model::ModelConfig config{task.first_symbol + task.symbols, 64, 128, 2};
    model::GatedSsmLm lm(config, DType::f32, Device::cpu, 1);
    autograd::AdamW optimizer(lm.parameters(), {});
    RandomGenerator data_rng(1, 1);
    const auto batch = data::make_copy_task_batch(task, data_rng);
    const double s = median_seconds(repeats, [&] {
      lm.parameters().zero_grad();
      autograd::backward(lm.loss(batch.tokens, batch.targets, batch.reset).loss);
      optimizer.step(1e-3);
    });
    std::printf("training step, tiny copy-task model (%lld parameters, %lld tokens): %.2f ms, %.0f tokens/s\n",
                (long long)config.parameter_count(), (long long)batch.tokens.numel(), s * 1e3,
                double(batch.tokens.numel()) / s);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "cpu_bench: %s\n", e.what());
  return 1;
}
