#include "kernels/sampling.h"

#include <initializer_list>

#include "kernels/device_dispatch.h"
#include "kernels/sampling_rule.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/cuda/sampling.h"
#endif

namespace birdie::kernels {

void sample_tokens(const Tensor& logits, const SamplingRule& rule, const Tensor& seeds, Tensor& counters,
                   Tensor& tokens) {
  const char* op = "sample_tokens";
  require_same_device(op, {&logits, &seeds, &counters, &tokens});
  BIRDIE_CHECK(logits.rank() == 2 && logits.dim(1) > 0, op, ": logits must be [rows, vocab], got ",
               logits.describe());
  const std::int64_t B = logits.dim(0), V = logits.dim(1);
  BIRDIE_CHECK(V < sampling_rule::max_vocab, op, ": the vocabulary must be under 2^23 tokens, got ", V);
  BIRDIE_CHECK(logits.dtype() == DType::f32 || logits.dtype() == DType::bf16 ||
                   (logits.dtype() == DType::f64 && logits.is_cpu()),
               op, ": logits must be f32 or bf16 (or f64 on the CPU), got ", logits.describe());
  BIRDIE_CHECK(rule.top_k >= 0, op, ": top_k must be 0 (all) or positive, got ", rule.top_k);
  BIRDIE_CHECK(rule.top_p > 0 && rule.top_p <= 1, op, ": top_p must be in (0, 1], got ", rule.top_p);
  check_shape(seeds, {B, 2}, "sample_tokens seeds ([rows, 2]: low and high words)");
  check_dtype(seeds, DType::i32, "sample_tokens seeds");
  check_shape(counters, {B}, "sample_tokens counters");
  check_dtype(counters, DType::i32, "sample_tokens counters");
  check_shape(tokens, {B}, "sample_tokens tokens");
  check_dtype(tokens, DType::i32, "sample_tokens tokens");
  if (logits.is_cpu()) {
    const Tensor values = logits.dtype() == DType::f32 ? logits : logits.to(DType::f32);
    const float* v = values.data<float>();
    const std::int32_t* s = seeds.data<std::int32_t>();
    std::int32_t* c = counters.data<std::int32_t>();
    std::int32_t* t = tokens.data<std::int32_t>();
    for (std::int64_t b = 0; b < B; ++b) {
      const std::uint64_t seed = static_cast<std::uint32_t>(s[2 * b]) |
                                 (static_cast<std::uint64_t>(static_cast<std::uint32_t>(s[2 * b + 1])) << 32);
      t[b] = cpu::sample_row(v + b * V, V, rule, seed, static_cast<std::uint32_t>(c[b]));
      if (rule.temperature > 0) ++c[b];
    }
    return;
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("sample_tokens");
  cuda::sample_tokens(logits.dtype(), logits.raw_data(), B, V, rule, seeds.data<std::int32_t>(),
                      counters.data<std::int32_t>(), tokens.data<std::int32_t>(), current_stream());
#else
  no_cuda_kernel(op);
#endif
}

void record_tokens(const Tensor& tokens, std::int32_t eos, std::int32_t stop, Tensor& out, Tensor& counts,
                   Tensor& done) {
  const char* op = "record_tokens";
  require_same_device(op, {&tokens, &out, &counts, &done});
  BIRDIE_CHECK(tokens.rank() == 1, op, ": tokens must be [rows], got ", tokens.describe());
  const std::int64_t B = tokens.dim(0);
  BIRDIE_CHECK(out.rank() == 2 && out.dim(0) == B && out.dim(1) > 0, op,
               ": out must be [rows, width ≥ 1] with tokens' rows, got ", out.describe());
  for (const Tensor* t : std::initializer_list<const Tensor*>{&tokens, &out, &counts, &done}) check_dtype(*t, DType::i32, "record_tokens operand (i32)");
  check_shape(counts, {B}, "record_tokens counts");
  check_shape(done, {B}, "record_tokens done");
  const std::int64_t M = out.dim(1);
  if (tokens.is_cpu()) {
    const std::int32_t* t = tokens.data<std::int32_t>();
    std::int32_t *o = out.data<std::int32_t>(), *n = counts.data<std::int32_t>(), *d = done.data<std::int32_t>();
    for (std::int64_t b = 0; b < B; ++b) {
      if (d[b] || n[b] >= M) continue;
      o[b * M + n[b]] = t[b];
      ++n[b];
      if (t[b] == eos || t[b] == stop || n[b] >= M) d[b] = 1;
    }
    return;
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("record_tokens");
  cuda::record_tokens(tokens.data<std::int32_t>(), B, eos, stop, M, out.data<std::int32_t>(),
                      counts.data<std::int32_t>(), done.data<std::int32_t>(), current_stream());
#else
  no_cuda_kernel(op);
#endif
}

}  // namespace birdie::kernels
