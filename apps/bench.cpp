// bench: kernel-mode benchmarks of the CUDA backend.
//
//   bench [--quick] [--repeats N] [--attention]
//
// One run measures the two ceilings first, the device-to-device copy bandwidth (bytes
// read + written) and the peak bf16 GEMM rate (8192³ through the engine's cuBLASLt path),
// then reports against them: the gated scan (forward, backward; causal, bidirectional) at
// (B, T, N) = (8, 2048, 2560), (4, 2048, 2560) and (16, 4096, 768) in GB/s and fraction of
// copy bandwidth; the model's GEMM shapes (D→4N and N→D projections for (D, N) ∈ {(1024,
// 1280), (2048, 2560)}, tokens ∈ {8k, 32k, 128k}, plus the D→4N weight gradient
// accumulated into f32) in TFLOP/s and fraction of peak; RMSNorm, Hawk's short
// convolution's backward, Hawk's RG-LRU scan (every kernel), fused cross-entropy (vocab
// 32000), AdamW over 1.39B parameters and the embedding (vocab 32000) in GB/s; attention (bf16, T = 2048, 8 rows, heads × head
// dim = 2048 at head dims 64 and 128, causal and prefix-LM masks: one sample a row, its
// first half the prompt) forward and forward+backward in TFLOP/s; the epilogue and
// elementwise fusions of the training step beside the plain kernels they replace.
// Attention FLOPs count the (query, key) pairs the mask lets through: 4·Dh per pair
// forward (QKᵀ and PV), 2.5 times that backward (FlashAttention's convention), so a
// causal row counts T(T+1)/2 pairs; bench/peers/attention_sdpa.py times PyTorch's
// scaled_dot_product_attention on the same shapes with the same count. --attention
// measures the ceilings and the attention rows alone.
// Timing: CUDA events around each run, warm-up runs first, the median of many runs, the
// L2 cache flushed (a buffer twice its size overwritten) before every timed run. Bytes
// are the fewest the op must move (each input read once, each output written once).
// Every launcher sits in an NVTX range, so an Nsight Systems trace of this program names
// each kernel's caller.
//
// Exit status: 0 after a full run; 0 as well, with a "SKIPPED" line, when the build has
// no CUDA backend or no GPU is visible (nothing is measured then); 1 on an error.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "apps/common/command_line.h"
#include "engine/device.h"
#include "engine/error.h"
#include "engine/random.h"
#include "engine/tensor.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/adamw.h"
#include "kernels/attention.h"
#include "kernels/columns.h"
#include "kernels/conv1d.h"
#include "kernels/convert.h"
#include "kernels/cross_entropy.h"
#include "kernels/cuda/rglru.h"
#include "kernels/cuda/scan.h"
#include "kernels/elementwise.h"
#include "kernels/embedding.h"
#include "kernels/gated_gelu.h"
#include "kernels/matmul.h"
#include "kernels/random.h"
#include "kernels/rglru.h"
#include "kernels/rmsnorm.h"
#include "kernels/scan.h"
#endif

namespace birdie {
namespace {

struct Options {
  int repeats = 20;
  int warmup = 3;
  bool quick = false;      // smaller sizes (a smoke run)
  bool attention = false;  // the ceilings and the attention rows alone
};

#ifdef BIRDIE_WITH_CUDA

class Timer {
 public:
  explicit Timer(const Options& options) : options_(options) {
    cudaDeviceProp props{};
    BIRDIE_CUDA_CHECK(cudaGetDeviceProperties(&props, 0));
    flush_bytes_ = 2 * static_cast<std::size_t>(props.l2CacheSize);
    BIRDIE_CUDA_CHECK(cudaMalloc(&flush_, flush_bytes_));
    BIRDIE_CUDA_CHECK(cudaEventCreate(&start_));
    BIRDIE_CUDA_CHECK(cudaEventCreate(&stop_));
    std::printf("device: %s, %d SMs, L2 %d MiB, memory %.1f GiB\n", props.name,
                props.multiProcessorCount, props.l2CacheSize >> 20,
                props.totalGlobalMem / double(1 << 30));
  }
  ~Timer() {
    (void)cudaFree(flush_);
    (void)cudaEventDestroy(start_);
    (void)cudaEventDestroy(stop_);
  }
  // Median milliseconds of fn over the repeats, L2 flushed before each.
  double median_ms(const std::function<void()>& fn) {
    for (int i = 0; i < options_.warmup; ++i) fn();
    std::vector<float> times;
    for (int i = 0; i < options_.repeats; ++i) {
      BIRDIE_CUDA_CHECK(cudaMemsetAsync(flush_, i & 0xff, flush_bytes_, current_stream()));
      BIRDIE_CUDA_CHECK(cudaEventRecord(start_, current_stream()));
      fn();
      BIRDIE_CUDA_CHECK(cudaEventRecord(stop_, current_stream()));
      BIRDIE_CUDA_CHECK(cudaEventSynchronize(stop_));
      float ms = 0;
      BIRDIE_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
      times.push_back(ms);
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
  }

 private:
  Options options_;
  void* flush_ = nullptr;
  std::size_t flush_bytes_ = 0;
  cudaEvent_t start_{}, stop_{};
};

Tensor random_device(const Shape& shape, DType dtype, RandomGenerator& rng, double low = -1.0,
                     double high = 1.0) {
  Tensor f = Tensor::empty(shape, DType::f32, Device::cuda);
  kernels::fill_uniform(f, rng, low, high);
  return dtype == DType::f32 ? f : kernels::to_dtype(f, dtype);
}

Tensor device_reset(std::int64_t B, std::int64_t T) {
  // A packed-row pattern: a sample every 512 tokens, its last 128 tokens causal.
  std::vector<std::int32_t> r(B * T, 0);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t t = 0; t < T; ++t) r[b * T + t] = (t % 512 == 0 ? 1 : 0) | (t % 512 >= 384 ? 2 : 0);
  return Tensor::from_values<std::int32_t>(r, {B, T}).to(Device::cuda);
}

void row(const char* what, const std::string& shape, double ms, const char* unit, double rate,
         double fraction, const char* of) {
  std::printf("%-28s %-34s %9.3f ms %9.1f %-7s %5.1f%% of %s\n", what, shape.c_str(), ms, rate,
              unit, 100.0 * fraction, of);
}

std::string dims(std::initializer_list<std::int64_t> values) {
  std::ostringstream s;
  const char* separator = "";
  for (auto v : values) {
    s << separator << v;
    separator = "x";
  }
  return s.str();
}

// Attention forward and forward+backward through the engine's dispatch (bf16 at head dims
// 64 and 128: the tensor-core kernels), the segments computed once as the model does.
void attention_rows(Timer& timer, RandomGenerator& rng, double peak_tflops, bool quick) {
  const std::int64_t B = quick ? 2 : 8, T = 2048, width = 2048;
  for (std::int64_t Dh : {64, 128})
    for (kernels::AttentionMask mask : {kernels::AttentionMask::causal, kernels::AttentionMask::prefix}) {
      const bool prefix = mask == kernels::AttentionMask::prefix;
      const std::int64_t H = width / Dh, prompt = prefix ? T / 2 : 0;
      std::vector<std::int32_t> bits(B * T);
      for (std::int64_t t = 0; t < B * T; ++t) bits[t] = (t % T == 0 ? 1 : 0) | (t % T >= prompt ? 2 : 0);
      const kernels::Segments segments =
          kernels::segments_of(Tensor::from_values<std::int32_t>(bits, {B, T}).to(Device::cuda));
      // Pairs a row lets through: the prompt sees itself (prompt²), each later query i sees i + 1 keys.
      const double pairs = double(prompt) * prompt + (double(T) * (T + 1) - double(prompt) * (prompt + 1)) / 2;
      const double forward_flops = 4.0 * Dh * pairs * B * H;
      const Shape shape{B, T, H, Dh};
      const Tensor q = random_device(shape, DType::bf16, rng, -2.0, 2.0), k = random_device(shape, DType::bf16, rng, -2.0, 2.0);
      const Tensor v = random_device(shape, DType::bf16, rng), dout = random_device(shape, DType::bf16, rng);
      Tensor out = Tensor::empty(shape, DType::bf16, Device::cuda);
      Tensor lse = Tensor::empty({B, H, T}, DType::f32, Device::cuda);
      Tensor dq = Tensor::empty(shape, DType::bf16, Device::cuda), dk = Tensor::empty(shape, DType::bf16, Device::cuda),
             dv = Tensor::empty(shape, DType::bf16, Device::cuda);
      const auto forward = [&] { kernels::attention_forward(q, k, v, segments, mask, out, lse); };
      const double fwd_ms = timer.median_ms(forward);
      const double both_ms = timer.median_ms([&] {
        forward();
        kernels::attention_backward(q, k, v, segments, mask, out, lse, dout, dq, dk, dv);
      });
      const std::string name = std::string(prefix ? "prefix" : "causal");
      const std::string shape_text = dims({B, T, H, Dh}) + " bf16";
      const double fwd_tflops = forward_flops / (fwd_ms * 1e-3) / 1e12;
      const double both_tflops = 3.5 * forward_flops / (both_ms * 1e-3) / 1e12;
      row(("attention forward " + name).c_str(), shape_text, fwd_ms, "TFLOP/s", fwd_tflops, fwd_tflops / peak_tflops,
          "peak");
      row(("attention fwd+bwd " + name).c_str(), shape_text, both_ms, "TFLOP/s", both_tflops,
          both_tflops / peak_tflops, "peak");
    }
}

// Each pair: the unfused kernels, then the fused call, the same data; the rate of both is
// the fused operation's (FLOPs of the product, or fewest bytes), so their ratio is the
// speed-up.
void fusion_rows(Timer& timer, RandomGenerator& rng, double peak_tflops, double copy_gbs,
                 std::int64_t tokens) {
  const std::int64_t D = 2048, N = 2560;
  const auto gemm_row = [&](const char* what, const std::string& shape, double ms, double flops) {
    const double tflops = flops / (ms * 1e-3) / 1e12;
    row(what, shape, ms, "TFLOP/s", tflops, tflops / peak_tflops, "peak");
  };
  const auto bytes_row = [&](const char* what, const std::string& shape, double ms, double bytes) {
    const double gbs = bytes / (ms * 1e-3) / 1e9;
    row(what, shape, ms, "GB/s", gbs, gbs / copy_gbs, "copy");
  };
  {
    const Tensor u = random_device({tokens, D}, DType::bf16, rng), w = random_device({4 * N, D}, DType::bf16, rng);
    const Tensor bias = random_device({4 * N}, DType::bf16, rng);
    Tensor out = Tensor::empty({tokens, 4 * N}, DType::bf16, Device::cuda);
    const double flops = 2.0 * tokens * D * 4 * N;
    const std::string shape = dims({tokens, D, 4 * N}) + " bf16";
    gemm_row("linear D->4N +bias, unfused", shape, timer.median_ms([&] {
      kernels::matmul(u, false, w, true, out);
      kernels::add(out, bias, out);
    }), flops);
    gemm_row("linear D->4N +bias, fused", shape,
             timer.median_ms([&] { kernels::matmul_fused(u, false, w, true, out, {bias, {}}); }), flops);
    // Its weight gradient with the bias gradient: dW += dYᵀ·u and Σ_rows dY, both f32.
    const Tensor dy = random_device({tokens, 4 * N}, DType::bf16, rng);
    Tensor dw = Tensor::zeros({4 * N, D}, DType::f32, Device::cuda);
    Tensor dbias = Tensor::zeros({4 * N}, DType::f32, Device::cuda);
    const std::string gshape = dims({4 * N, tokens, D}) + " bf16";
    gemm_row("dW D->4N +bias grad, unfused", gshape, timer.median_ms([&] {
      kernels::matmul(dy, true, u, false, dw, 1.0, 1.0);
      kernels::sum_to_trailing(dy, dbias);
    }), flops);
    gemm_row("dW D->4N +bias grad, fused", gshape, timer.median_ms([&] {
      kernels::matmul_fused(dy, true, u, false, dw, {{}, dbias}, 1.0, 1.0);
    }), flops);
  }
  {
    const Tensor s = random_device({tokens, N}, DType::bf16, rng), w = random_device({D, N}, DType::bf16, rng);
    const Tensor x = random_device({tokens, D}, DType::bf16, rng);
    Tensor product = Tensor::empty({tokens, D}, DType::bf16, Device::cuda);
    Tensor out = Tensor::empty({tokens, D}, DType::bf16, Device::cuda);
    const double flops = 2.0 * tokens * N * D;
    const std::string shape = dims({tokens, N, D}) + " bf16";
    gemm_row("linear N->D +resid, unfused", shape, timer.median_ms([&] {
      kernels::matmul(s, false, w, true, product);
      kernels::add(x, product, out);
    }), flops);
    gemm_row("linear N->D +resid, fused", shape, timer.median_ms([&] {
      kernels::matmul_fused(s, false, w, true, out, {{}, {}, x}, 1.0, 1.0);
    }), flops);
  }
  {
    const Tensor x = random_device({tokens, D}, DType::bf16, rng, -2.0, 2.0);
    const Tensor w = random_device({D}, DType::bf16, rng, 0.5, 1.5), dy = random_device({tokens, D}, DType::bf16, rng);
    Tensor inv = Tensor::empty({tokens}, DType::f32, Device::cuda);
    Tensor y = Tensor::empty({tokens, D}, DType::bf16, Device::cuda);
    kernels::rmsnorm_forward(x, w, 1e-5, y, inv);
    Tensor dx = Tensor::empty({tokens, D}, DType::bf16, Device::cuda);
    Tensor grad = random_device({tokens, D}, DType::bf16, rng);
    Tensor dw = Tensor::zeros({D}, DType::f32, Device::cuda);
    // Fewest bytes of the fused operation: x, dy and the gradient read, the gradient written.
    const double bytes = double(tokens) * (4 * D * 2 + 4);
    const std::string shape = dims({tokens, D}) + " bf16";
    bytes_row("rmsnorm bwd +=dx, unfused", shape, timer.median_ms([&] {
      kernels::rmsnorm_backward(x, w, inv, dy, dx, dw);
      kernels::accumulate(grad, dx);
    }), bytes);
    bytes_row("rmsnorm bwd +=dx, fused", shape,
              timer.median_ms([&] { kernels::rmsnorm_backward(x, w, inv, dy, grad, dw, true); }), bytes);
  }
  {
    // The gated MLP's GeLU(a) ⊙ b on a fused up-projection [tokens, 2M] (Hawk base's M), forward
    // and backward: split, gelu, mul and their rules, concatenated gradient; or geglu.
    const std::int64_t M = 1280;
    const Tensor x = random_device({tokens, 2 * M}, DType::bf16, rng, -3.0, 3.0);
    const Tensor dy = random_device({tokens, M}, DType::bf16, rng);
    const auto half = [&] { return Tensor::empty({tokens, M}, DType::bf16, Device::cuda); };
    Tensor a = half(), b = half(), act = half(), out = half(), t = half(), da = half(), db = half();
    Tensor dx = Tensor::empty({tokens, 2 * M}, DType::bf16, Device::cuda);
    const double bytes = double(tokens) * M * 8 * 2;  // x twice, out, dy, dx
    const std::string shape = dims({tokens, 2 * M}) + " bf16";
    bytes_row("geglu fwd+bwd, unfused", shape, timer.median_ms([&] {
      kernels::copy_columns(x, 0, a, 0, M);
      kernels::copy_columns(x, M, b, 0, M);
      kernels::gelu_forward(a, act);
      kernels::mul(act, b, out);
      kernels::mul(dy, b, t);
      kernels::gelu_backward(a, t, da);
      kernels::mul(dy, act, db);
      kernels::copy_columns(da, 0, dx, 0, M);
      kernels::copy_columns(db, 0, dx, M, M);
    }), bytes);
    bytes_row("geglu fwd+bwd, fused", shape, timer.median_ms([&] {
      kernels::geglu_forward(x, out);
      kernels::geglu_backward(x, dy, dx);
    }), bytes);
  }
  {
    // Hawk's temporal in-projection [g | z] = u·W_inᵀ (Hawk paper's D and C), forward and the
    // input gradient: one product cut apart by column copies (and the gradients' copies back
    // together), or a product per half on the weight's rows (autograd::linear_parts).
    const std::int64_t C = 1536;
    const Tensor u = random_device({tokens, D}, DType::bf16, rng), w = random_device({2 * C, D}, DType::bf16, rng);
    const Tensor dg = random_device({tokens, C}, DType::bf16, rng), dz = random_device({tokens, C}, DType::bf16, rng);
    const auto empty = [&](std::int64_t width) { return Tensor::empty({tokens, width}, DType::bf16, Device::cuda); };
    Tensor gz = empty(2 * C), dgz = empty(2 * C), g = empty(C), z = empty(C), du = empty(D);
    const Tensor wg = w.slice(0, C), wz = w.slice(C, 2 * C);
    const double flops = 2.0 * 2.0 * tokens * D * 2 * C;
    const std::string shape = dims({tokens, D, 2 * C}) + " bf16";
    gemm_row("hawk in_proj fwd+dx, column copies", shape, timer.median_ms([&] {
      kernels::matmul(u, false, w, true, gz);
      kernels::copy_columns(gz, 0, g, 0, C);
      kernels::copy_columns(gz, C, z, 0, C);
      kernels::copy_columns(dg, 0, dgz, 0, C);
      kernels::copy_columns(dz, 0, dgz, C, C);
      kernels::matmul(dgz, false, w, false, du);
    }), flops);
    gemm_row("hawk in_proj fwd+dx, parts", shape, timer.median_ms([&] {
      kernels::matmul(u, false, wg, true, g);
      kernels::matmul(u, false, wz, true, z);
      kernels::matmul(dg, false, wg, false, du);
      kernels::matmul(dz, false, wz, false, du, 1.0, 1.0);
    }), flops);
  }
}

int run(const Options& options) {
  Timer timer(options);
  RandomGenerator rng(2024);

  // Ceiling 1: device copy bandwidth (bytes read + bytes written).
  const std::size_t copy_bytes = options.quick ? (256u << 20) : (2048u << 20);
  void *src = nullptr, *dst = nullptr;
  BIRDIE_CUDA_CHECK(cudaMalloc(&src, copy_bytes));
  BIRDIE_CUDA_CHECK(cudaMalloc(&dst, copy_bytes));
  BIRDIE_CUDA_CHECK(cudaMemset(src, 1, copy_bytes));
  const double copy_ms = timer.median_ms([&] {
    BIRDIE_NVTX_RANGE("copy");
    BIRDIE_CUDA_CHECK(cudaMemcpyAsync(dst, src, copy_bytes, cudaMemcpyDeviceToDevice, current_stream()));
  });
  const double copy_gbs = 2.0 * copy_bytes / (copy_ms * 1e-3) / 1e9;
  BIRDIE_CUDA_CHECK(cudaFree(src));
  BIRDIE_CUDA_CHECK(cudaFree(dst));

  // Ceiling 2: peak bf16 GEMM (bf16 in, bf16 out, f32 accumulation).
  const std::int64_t P = options.quick ? 4096 : 8192;
  double peak_tflops = 0;
  {
    const Tensor a = random_device({P, P}, DType::bf16, rng), b = random_device({P, P}, DType::bf16, rng);
    Tensor c = Tensor::empty({P, P}, DType::bf16, Device::cuda);
    const double ms = timer.median_ms([&] { kernels::matmul(a, false, b, false, c); });
    peak_tflops = 2.0 * P * P * P / (ms * 1e-3) / 1e12;
  }
  std::printf("\nceilings: copy %.1f GB/s (%zu MiB, read+write), bf16 GEMM %.1f TFLOP/s (%lld^3)\n\n",
              copy_gbs, copy_bytes >> 20, peak_tflops, static_cast<long long>(P));
  std::printf("%-28s %-34s %12s %17s %s\n", "op", "shape", "median", "rate", "fraction");
  if (options.attention) {
    attention_rows(timer, rng, peak_tflops, options.quick);
    return 0;
  }

  // Gated scan, bf16: the paper's state width at its row length (B=8, T=2048, N=2560), at
  // the paper step's 4 rows (40 tiles a chunk, where by_shape picks the one-pass forward),
  // and a narrow, long one (B=16, T=4096, N=768); the quick run takes one short row batch.
  struct ScanShape { std::int64_t B, T, N; };
  const std::vector<ScanShape> scan_shapes = options.quick
      ? std::vector<ScanShape>{{2, 2048, 2560}}
      : std::vector<ScanShape>{{8, 2048, 2560}, {4, 2048, 2560}, {16, 4096, 768}};
  for (const auto [B, T, N] : scan_shapes) {
    const double tokens = double(B * T);
    const Tensor proj = random_device({B, T, 4 * N}, DType::bf16, rng, -2.0, 2.0);
    const Tensor reset = device_reset(B, T);
    const Tensor dy = random_device({B, T, N}, DType::bf16, rng);
    Tensor y = Tensor::empty({B, T, N}, DType::bf16, Device::cuda);
    Tensor dproj = Tensor::empty({B, T, 4 * N}, DType::bf16, Device::cuda);
    // Every kernel (kernels/cuda/scan.h), the engine's first: its rows have no tag
    // (bench/peers reads those), the other kernels' rows are tagged with their names.
    const kernels::cuda::ScanKernel engine_kernel = kernels::cuda::scan_kernel();
    std::vector<kernels::cuda::ScanKernel> order{engine_kernel};
    for (auto kernel : kernels::cuda::scan_kernels)
      if (kernel != engine_kernel) order.push_back(kernel);
    for (auto kernel : order)
    for (auto direction : {kernels::ScanDirection::causal, kernels::ScanDirection::bidirectional}) {
      kernels::cuda::set_scan_kernel(kernel);
      const std::string name = std::string(direction == kernels::ScanDirection::causal ? "causal" : "bidirectional") +
                               (kernel == engine_kernel ? "" : std::string(", ") + kernels::cuda::scan_kernel_name(kernel));
      Tensor saved;
      const double fwd_ms = timer.median_ms([&] { saved = kernels::gated_scan_forward(proj, reset, direction, y); });
      // Fewest bytes: proj (4N) and reset in, y (N) out; backward adds dy in, dproj out.
      const double fwd_bytes = tokens * (4 * N * 2 + N * 2 + 4);
      const double fwd_gbs = fwd_bytes / (fwd_ms * 1e-3) / 1e9;
      row((std::string("scan forward ") + name).c_str(), dims({B, T, 4 * N}) + " bf16", fwd_ms, "GB/s",
          fwd_gbs, fwd_gbs / copy_gbs, "copy");
      const double bwd_ms = timer.median_ms(
          [&] { kernels::gated_scan_backward(proj, reset, direction, saved, dy, dproj); });
      const double bwd_bytes = tokens * (4 * N * 2 + N * 2 + 4 * N * 2 + 4);
      const double bwd_gbs = bwd_bytes / (bwd_ms * 1e-3) / 1e9;
      row((std::string("scan backward ") + name).c_str(), dims({B, T, 4 * N}) + " bf16", bwd_ms, "GB/s",
          bwd_gbs, bwd_gbs / copy_gbs, "copy");
    }
    kernels::cuda::clear_scan_kernel_choice();
  }

  // The model's GEMMs: u [tokens, D] · W_in [4N, D]ᵀ and (o⊙h) [tokens, N] · W_out [D, N]ᵀ.
  const std::vector<std::pair<std::int64_t, std::int64_t>> widths{{1024, 1280}, {2048, 2560}};
  for (auto [D, Nw] : widths)
    for (std::int64_t tokens : options.quick ? std::vector<std::int64_t>{8192}
                                             : std::vector<std::int64_t>{8192, 32768, 131072}) {
      struct Shape3 { const char* name; std::int64_t M, K, Nout; };
      for (const Shape3& s : {Shape3{"gemm D->4N", tokens, D, 4 * Nw}, Shape3{"gemm N->D", tokens, Nw, D}}) {
        const Tensor x = random_device({s.M, s.K}, DType::bf16, rng);
        const Tensor w = random_device({s.Nout, s.K}, DType::bf16, rng, -0.05, 0.05);
        Tensor out = Tensor::empty({s.M, s.Nout}, DType::bf16, Device::cuda);
        const double ms = timer.median_ms([&] { kernels::matmul(x, false, w, true, out); });
        const double tflops = 2.0 * s.M * s.K * s.Nout / (ms * 1e-3) / 1e12;
        row(s.name, dims({s.M, s.K, s.Nout}) + " bf16", ms, "TFLOP/s", tflops, tflops / peak_tflops, "peak");
      }
      // The weight gradient of the D→4N projection as training runs it: dW [4N, D] +=
      // dYᵀ · u, bf16 operands accumulated (β = 1) into the f32 gradient buffer.
      {
        const Tensor dy = random_device({tokens, 4 * Nw}, DType::bf16, rng);
        const Tensor u = random_device({tokens, D}, DType::bf16, rng);
        Tensor dw = Tensor::zeros({4 * Nw, D}, DType::f32, Device::cuda);
        const double ms = timer.median_ms([&] { kernels::matmul(dy, true, u, false, dw, 1.0, 1.0); });
        const double tflops = 2.0 * tokens * D * 4 * Nw / (ms * 1e-3) / 1e12;
        row("gemm dW D->4N (+=, f32)", dims({4 * Nw, tokens, D}) + " bf16", ms, "TFLOP/s", tflops,
            tflops / peak_tflops, "peak");
      }
    }

  // The epilogue fusions of the training step against the plain kernels they replace, at
  // the paper step's shape (8192 tokens, D = 2048, N = 2560; the fused row is the
  // engine's): the in-projection's bias, the out-projection's residual, the bias gradient
  // beside the weight gradient, RMSNorm's dx added into the residual's gradient, and the
  // gated MLP's GeLU(a) ⊙ b read from the unsplit up-projection (Hawk base's width).
  fusion_rows(timer, rng, peak_tflops, copy_gbs, options.quick ? 2048 : 8192);

  // RMSNorm (bf16 activations, f32 statistics) and fused cross-entropy (vocab 32000).
  {
    const std::int64_t rows = options.quick ? 8192 : 32768, D = 2048;
    const Tensor x = random_device({rows, D}, DType::bf16, rng, -2.0, 2.0);
    const Tensor w = random_device({D}, DType::bf16, rng, 0.5, 1.5);
    const Tensor dy = random_device({rows, D}, DType::bf16, rng);
    Tensor y = Tensor::empty({rows, D}, DType::bf16, Device::cuda);
    Tensor dx = Tensor::empty({rows, D}, DType::bf16, Device::cuda);
    Tensor inv = Tensor::empty({rows}, DType::f32, Device::cuda);
    Tensor dw = Tensor::zeros({D}, DType::f32, Device::cuda);
    const double fwd_ms = timer.median_ms([&] { kernels::rmsnorm_forward(x, w, 1e-5, y, inv); });
    const double fwd_gbs = double(rows) * (2 * D * 2 + 4) / (fwd_ms * 1e-3) / 1e9;
    row("rmsnorm forward", dims({rows, D}) + " bf16", fwd_ms, "GB/s", fwd_gbs, fwd_gbs / copy_gbs, "copy");
    const double bwd_ms = timer.median_ms([&] { kernels::rmsnorm_backward(x, w, inv, dy, dx, dw); });
    const double bwd_gbs = double(rows) * (3 * D * 2 + 4) / (bwd_ms * 1e-3) / 1e9;
    row("rmsnorm backward", dims({rows, D}) + " bf16", bwd_ms, "GB/s", bwd_gbs, bwd_gbs / copy_gbs, "copy");
  }
  // Hawk's short convolution (width 4, bidirectional, Hawk base's 768 channels over 8 x
  // 2048 tokens): its backward, dx and the weight and bias gradients into f32. Fewest
  // bytes: x and dy read, dx written.
  {
    const std::int64_t B = options.quick ? 2 : 8, T = 2048, C = 768, K = 4;
    const Tensor x = random_device({B, T, C}, DType::bf16, rng), dy = random_device({B, T, C}, DType::bf16, rng);
    const Tensor w = random_device({K, C}, DType::bf16, rng), reset = device_reset(B, T);
    Tensor dx = Tensor::empty({B, T, C}, DType::bf16, Device::cuda);
    Tensor dw = Tensor::zeros({K, C}, DType::f32, Device::cuda), db = Tensor::zeros({C}, DType::f32, Device::cuda);
    const double ms = timer.median_ms([&] {
      kernels::causal_conv1d_backward(x, w, reset, kernels::ScanDirection::bidirectional, dy, dx, dw, db);
    });
    const double gbs = double(B * T * C) * 3 * 2 / (ms * 1e-3) / 1e9;
    row("conv1d backward (K=4)", dims({B, T, C}) + " bf16", ms, "GB/s", gbs, gbs / copy_gbs, "copy");
  }
  // Hawk's RG-LRU scan (bidirectional, with the output gate, as the model runs it) at Hawk
  // base's 768 channels over 8 x 2048 tokens and Hawk paper's 1536 over 4 x 2048, each kernel
  // (kernels/cuda/rglru.h), the engine's first and untagged. Fewest bytes: x (C), gates (2C)
  // and the output gate (C) in, y (C) out; backward: those and dy in, dx, dgates and the
  // output gate's gradient out (Λ and its gradient are C floats).
  for (const auto& [B, C] : options.quick ? std::vector<std::pair<std::int64_t, std::int64_t>>{{2, 768}}
                                         : std::vector<std::pair<std::int64_t, std::int64_t>>{{8, 768}, {4, 1536}}) {
    const std::int64_t T = 2048;
    const double tokens = double(B * T);
    const Tensor x = random_device({B, T, C}, DType::bf16, rng, -2.0, 2.0);
    const Tensor gates = random_device({B, T, 2 * C}, DType::bf16, rng, -2.0, 2.0);
    const Tensor out_gate = random_device({B, T, C}, DType::bf16, rng, -3.0, 3.0);
    const Tensor lambda = random_device({C}, DType::f32, rng, 2.0, 6.0), reset = device_reset(B, T);
    const Tensor dy = random_device({B, T, C}, DType::bf16, rng);
    Tensor y = Tensor::empty({B, T, C}, DType::bf16, Device::cuda);
    Tensor dx = Tensor::empty({B, T, C}, DType::bf16, Device::cuda);
    Tensor dgates = Tensor::empty({B, T, 2 * C}, DType::bf16, Device::cuda);
    Tensor dout_gate = Tensor::empty({B, T, C}, DType::bf16, Device::cuda);
    Tensor dlambda = Tensor::zeros({C}, DType::f32, Device::cuda);
    const kernels::cuda::RglruKernel engine_kernel = kernels::cuda::rglru_kernel();
    std::vector<kernels::cuda::RglruKernel> order{engine_kernel};
    for (auto kernel : kernels::cuda::rglru_kernels)
      if (kernel != engine_kernel) order.push_back(kernel);
    for (auto kernel : order) {
      kernels::cuda::set_rglru_kernel(kernel);
      const std::string tag = kernel == engine_kernel ? "" : std::string(", ") + kernels::cuda::rglru_kernel_name(kernel);
      Tensor saved;
      const double fwd_ms = timer.median_ms([&] {
        saved = kernels::rglru_scan_forward(x, gates, lambda, reset, kernels::ScanDirection::bidirectional, y,
                                            {out_gate, {}});
      });
      const double fwd_gbs = tokens * (5 * C * 2 + 4) / (fwd_ms * 1e-3) / 1e9;
      row(("rglru forward bidirectional, gated" + tag).c_str(), dims({B, T, 4 * C}) + " bf16", fwd_ms, "GB/s",
          fwd_gbs, fwd_gbs / copy_gbs, "copy");
      const double bwd_ms = timer.median_ms([&] {
        kernels::rglru_scan_backward(x, gates, lambda, reset, kernels::ScanDirection::bidirectional, saved, dy, dx,
                                     dgates, dlambda, {out_gate, dout_gate});
      });
      const double bwd_gbs = tokens * (9 * C * 2 + 4) / (bwd_ms * 1e-3) / 1e9;
      row(("rglru backward bidirectional, gated" + tag).c_str(), dims({B, T, 4 * C}) + " bf16", bwd_ms, "GB/s",
          bwd_gbs, bwd_gbs / copy_gbs, "copy");
    }
    kernels::cuda::clear_rglru_kernel_choice();
  }
  {
    const std::int64_t rows = options.quick ? 2048 : 16384, V = 32000;
    const Tensor logits = random_device({rows, V}, DType::bf16, rng, -8.0, 8.0);
    std::vector<std::int32_t> t(rows);
    for (auto& v : t) v = static_cast<std::int32_t>(rng.uniform_int(V));
    const Tensor targets = Tensor::from_values<std::int32_t>(t, {rows}).to(Device::cuda);
    Tensor loss = Tensor::empty({rows}, DType::f32, Device::cuda);
    Tensor dlogits = Tensor::empty({rows, V}, DType::bf16, Device::cuda);
    const double ms = timer.median_ms(
        [&] { kernels::cross_entropy_forward_backward(logits, targets, 1.0 / rows, loss, &dlogits); });
    const double gbs = double(rows) * (2 * V * 2 + 8) / (ms * 1e-3) / 1e9;
    row("cross-entropy fwd+bwd", dims({rows, V}) + " bf16", ms, "GB/s", gbs, gbs / copy_gbs, "copy");
  }

  // AdamW over the paper model's 1.39B parameters as training runs it: fp32 master
  // weights, gradients and moments in one flat buffer, the bf16 compute copy written in
  // the same pass; one decay segment per parameter tensor (every fourth one undecayed, as
  // the norms and biases are). Fewest bytes: p, g, m, v read (16 B), p, m, v and the bf16
  // copy written (14 B) per parameter.
  {
    const std::int64_t n = options.quick ? (64ll << 20) : 1'390'000'000ll, tensors = 96;
    Tensor p = random_device({n}, DType::f32, rng, -0.02, 0.02), g = random_device({n}, DType::f32, rng, -1e-3, 1e-3);
    Tensor m = random_device({n}, DType::f32, rng, -1e-4, 1e-4), v = random_device({n}, DType::f32, rng, 0.0, 1e-6);
    Tensor copy = Tensor::empty({n}, DType::bf16, Device::cuda);
    std::vector<kernels::DecaySegment> segments;
    for (std::int64_t k = 0; k < tensors; ++k) {
      const std::int64_t begin = n * k / tensors, end = n * (k + 1) / tensors;
      segments.push_back({begin, end - begin, k % 4 != 3});
    }
    kernels::AdamWHyper hyper;
    hyper.lr = 1e-4;
    const double ms = timer.median_ms([&] {
      ++hyper.step;
      kernels::adamw_step(p, g, m, v, segments, hyper, &copy);
    });
    const double gbs = double(n) * 30 / (ms * 1e-3) / 1e9;
    row("adamw (+bf16 copy)", dims({n}) + " f32", ms, "GB/s", gbs, gbs / copy_gbs, "copy");
  }

  // Embedding at vocabulary 32000, D = 2048, 8x2048 tokens: the bf16 gather forward, and
  // the backward's deterministic scatter-add of bf16 rows into the f32 table gradient.
  // Fewest bytes: forward reads each looked-up row and writes it; backward reads dout and
  // reads and writes each distinct row of the gradient once.
  {
    const std::int64_t V = 32000, D = 2048, rows = options.quick ? 4096 : 16384;
    const Tensor table = random_device({V, D}, DType::bf16, rng);
    std::vector<std::int32_t> id_values(rows);
    for (auto& v : id_values) v = static_cast<std::int32_t>(rng.uniform_int(V));
    std::vector<std::int32_t> distinct = id_values;
    std::sort(distinct.begin(), distinct.end());
    const double unique = double(std::unique(distinct.begin(), distinct.end()) - distinct.begin());
    const Tensor ids = Tensor::from_values<std::int32_t>(id_values, {rows}).to(Device::cuda);
    const Tensor dout = random_device({rows, D}, DType::bf16, rng);
    Tensor out = Tensor::empty({rows, D}, DType::bf16, Device::cuda);
    Tensor dtable = Tensor::zeros({V, D}, DType::f32, Device::cuda);
    const double fwd_ms = timer.median_ms([&] { kernels::embedding_forward(table, ids, out); });
    const double fwd_gbs = double(rows) * (2 * D * 2 + 4) / (fwd_ms * 1e-3) / 1e9;
    row("embedding forward", dims({rows, V, D}) + " bf16", fwd_ms, "GB/s", fwd_gbs, fwd_gbs / copy_gbs, "copy");
    const double bwd_ms = timer.median_ms([&] { kernels::embedding_backward(ids, dout, dtable); });
    const double bwd_gbs = (double(rows) * (D * 2 + 4) + unique * D * 4 * 2) / (bwd_ms * 1e-3) / 1e9;
    row("embedding backward", dims({rows, V, D}) + " bf16->f32", bwd_ms, "GB/s", bwd_gbs, bwd_gbs / copy_gbs,
        "copy");
  }
  attention_rows(timer, rng, peak_tflops, options.quick);
  return 0;
}

#endif  // BIRDIE_WITH_CUDA

}  // namespace
}  // namespace birdie

int main(int argc, char** argv) {
  birdie::Options options;
  birdie::apps::CommandLine cli("bench", "GPU kernels against the device's ceilings");
  cli.flag("--quick", options.quick, "smaller sizes and 5 repeats (a smoke run)");
  cli.option("--repeats", options.repeats, birdie::apps::at_least(1), "N", "timed runs of each kernel (default 20)");
  cli.flag("--attention", options.attention, "the ceilings and the attention rows alone");
  cli.parse(argc, argv);
  if (options.quick && !cli.given("--repeats")) options.repeats = 5;
  if (!birdie::built_with_cuda() || birdie::cuda_device_count() == 0) {
    std::printf("SKIPPED: bench measures GPU kernels and %s; nothing was measured.\n",
                birdie::built_with_cuda() ? "no GPU is visible" : "this build has no CUDA backend");
    return 0;
  }
#ifdef BIRDIE_WITH_CUDA
  try {
    return birdie::run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench: %s\n", e.what());
    return 1;
  }
#endif
  return 0;
}
