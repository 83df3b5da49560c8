// CUDA token sampling: one block per row. The block finds the largest key (greedy ends
// there), then the top-k threshold by a radix select over the 64-bit keys (eight passes of
// a 256-bin histogram of counts), the top-p boundary by the same select over masses
// (bins of summed fixed-point mass), and draws: each thread sums the kept mass of its
// contiguous slice of the vocabulary, thread 0 scans the slices in order and computes the
// target, and the thread whose slice holds it walks it. Histograms add integers, so
// their atomics give the same sums in any order; the arithmetic is
// kernels/sampling_rule.h, shared with the CPU reference.
//
// record_tokens: one thread per row.
#include <algorithm>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/dispatch.cuh"
#include "kernels/cuda/sampling.h"
#include "kernels/sampling_rule.h"

namespace birdie::kernels::cuda {

namespace {

namespace rule = sampling_rule;
using u64 = unsigned long long;  // atomicAdd's 64-bit operand
constexpr int threads = 256;

struct SharedScratch {
  u64 values[threads];
  unsigned counts[256];
  u64 masses[256];
  u64 broadcast[3];
};

// The maximum or the sum of `value` over the block; every thread gets it.
template <bool is_max>
__device__ u64 block_reduce(u64 value, SharedScratch& shared) {
  shared.values[threadIdx.x] = value;
  __syncthreads();
  for (int stride = threads / 2; stride > 0; stride /= 2) {
    if (static_cast<int>(threadIdx.x) < stride) {
      const u64 a = shared.values[threadIdx.x], b = shared.values[threadIdx.x + stride];
      shared.values[threadIdx.x] = is_max ? (a > b ? a : b) : a + b;
    }
    __syncthreads();
  }
  const u64 result = shared.values[0];
  __syncthreads();  // values may be written again at once
  return result;
}

// Among the keys ≥ floor: by count, the key of the `rank`-th largest; by mass, the key at
// which the running mass from the largest key down first reaches `rank`. floor when no
// key qualifies (no mass at all).
template <bool by_mass, class T>
__device__ u64 radix_select(const T* row, std::int64_t V, u64 floor, u64 rank, float max_logit, double temperature,
                            SharedScratch& shared) {
  u64 prefix = 0, mask = 0, remaining = rank;
  for (int shift = 56; shift >= 0; shift -= 8) {
    for (int j = threadIdx.x; j < 256; j += threads) {
      shared.counts[j] = 0;
      shared.masses[j] = 0;
    }
    __syncthreads();
    for (std::int64_t i = threadIdx.x; i < V; i += threads) {
      const float logit = to_float(row[i]);
      const u64 k = rule::key(logit, i);
      if (k < floor || (k & mask) != prefix) continue;
      const unsigned bin = static_cast<unsigned>(k >> shift) & 255u;
      if (by_mass) {
        const u64 m = rule::mass(logit, max_logit, temperature);
        if (m != 0) atomicAdd(&shared.masses[bin], m);
      } else {
        atomicAdd(&shared.counts[bin], 1u);
      }
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      u64 found = 0;
      for (int bin = 255; bin >= 0; --bin) {
        const u64 here = by_mass ? shared.masses[bin] : static_cast<u64>(shared.counts[bin]);
        if (here >= remaining) {
          prefix |= static_cast<u64>(bin) << shift;
          found = 1;
          break;
        }
        remaining -= here;
      }
      shared.broadcast[0] = prefix;
      shared.broadcast[1] = remaining;
      shared.broadcast[2] = found;
    }
    __syncthreads();
    prefix = shared.broadcast[0];
    remaining = shared.broadcast[1];
    const bool found = shared.broadcast[2] != 0;
    __syncthreads();  // every thread has read the broadcast before thread 0 writes it again
    if (!found) return floor;
    mask |= static_cast<u64>(255) << shift;
  }
  return prefix;
}

template <class T>
__global__ void __launch_bounds__(threads)
sample_kernel(const T* __restrict__ logits, std::int64_t V, double temperature, std::int64_t top_k, double top_p,
              const std::int32_t* __restrict__ seeds, std::int32_t* __restrict__ counters,
              std::int32_t* __restrict__ tokens) {
  __shared__ SharedScratch shared;
  const std::int64_t b = blockIdx.x;
  const T* row = logits + b * V;

  u64 best = 0;
  for (std::int64_t i = threadIdx.x; i < V; i += threads) {
    const u64 k = rule::key(to_float(row[i]), i);
    best = k > best ? k : best;
  }
  best = block_reduce<true>(best, shared);
  if (temperature <= 0) {
    if (threadIdx.x == 0) tokens[b] = static_cast<std::int32_t>(rule::key_index(best));
    return;
  }
  const float max_logit = rule::key_logit(best);

  u64 threshold = 0;  // kept: key ≥ threshold
  if (top_k > 0 && top_k < V)
    threshold = radix_select<false>(row, V, 0, static_cast<u64>(top_k), max_logit, temperature, shared);
  if (top_p < 1.0) {
    u64 local = 0;
    for (std::int64_t i = threadIdx.x; i < V; i += threads) {
      const float logit = to_float(row[i]);
      if (rule::key(logit, i) >= threshold) local += rule::mass(logit, max_logit, temperature);
    }
    const u64 total = block_reduce<false>(local, shared);
    threshold = radix_select<true>(row, V, threshold, rule::nucleus_need(total, top_p), max_logit, temperature,
                                   shared);
  }

  // The draw over contiguous slices, in index order.
  const std::int64_t slice = (V + threads - 1) / threads;
  const std::int64_t first = static_cast<std::int64_t>(threadIdx.x) * slice;
  const std::int64_t begin = first < V ? first : V, end = begin + slice < V ? begin + slice : V;
  u64 local = 0;
  for (std::int64_t i = begin; i < end; ++i) {
    const float logit = to_float(row[i]);
    if (rule::key(logit, i) >= threshold) local += rule::mass(logit, max_logit, temperature);
  }
  shared.values[threadIdx.x] = local;
  __syncthreads();
  if (threadIdx.x == 0) {
    u64 running = 0;
    for (int t = 0; t < threads; ++t) {
      const u64 here = shared.values[t];
      shared.values[t] = running;
      running += here;
    }
    const std::uint64_t seed = static_cast<std::uint32_t>(seeds[2 * b]) |
                               (static_cast<std::uint64_t>(static_cast<std::uint32_t>(seeds[2 * b + 1])) << 32);
    shared.broadcast[0] = rule::draw_target(seed, static_cast<std::uint32_t>(counters[b]), running);
    counters[b] += 1;
    tokens[b] = static_cast<std::int32_t>(rule::key_index(best));  // kept only when nothing weighs (NaN logits)
  }
  __syncthreads();
  const u64 target = shared.broadcast[0];
  u64 running = shared.values[threadIdx.x];
  if (local > 0 && target >= running && target < running + local) {
    for (std::int64_t i = begin; i < end; ++i) {
      const float logit = to_float(row[i]);
      if (rule::key(logit, i) < threshold) continue;
      running += rule::mass(logit, max_logit, temperature);
      if (running > target) {
        tokens[b] = static_cast<std::int32_t>(i);
        break;
      }
    }
  }
}

__global__ void record_kernel(const std::int32_t* __restrict__ tokens, std::int64_t B, std::int32_t eos,
                              std::int32_t stop, std::int64_t M, std::int32_t* __restrict__ out,
                              std::int32_t* __restrict__ counts, std::int32_t* __restrict__ done) {
  const std::int64_t b = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b >= B || done[b] || counts[b] >= M) return;
  const std::int32_t token = tokens[b];
  out[b * M + counts[b]] = token;
  const std::int32_t count = counts[b] + 1;
  counts[b] = count;
  if (token == eos || token == stop || count >= M) done[b] = 1;
}

}  // namespace

void sample_tokens(DType dtype, const void* logits, std::int64_t B, std::int64_t V, const SamplingRule& r,
                   const std::int32_t* seeds, std::int32_t* counters, std::int32_t* tokens, cudaStream_t stream) {
  if (B == 0) return;
  if (B > 2147483647) throw Error(detail::concat("sample_tokens (CUDA): at most 2^31 − 1 rows, got ", B));
  dispatch_f32_bf16(dtype, "sample_tokens", "logits", [&](auto zero) {
    using T = decltype(zero);
    sample_kernel<T><<<static_cast<unsigned>(B), threads, 0, stream>>>(
        static_cast<const T*>(logits), V, r.temperature, r.top_k, r.top_p, seeds, counters, tokens);
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

void record_tokens(const std::int32_t* tokens, std::int64_t B, std::int32_t eos, std::int32_t stop, std::int64_t M,
                   std::int32_t* out, std::int32_t* counts, std::int32_t* done, cudaStream_t stream) {
  if (B == 0) return;
  constexpr int record_threads = 128;
  record_kernel<<<static_cast<unsigned>((B + record_threads - 1) / record_threads), record_threads, 0, stream>>>(
      tokens, B, eos, stop, M, out, counts, done);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace birdie::kernels::cuda
