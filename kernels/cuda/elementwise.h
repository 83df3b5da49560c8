// Launchers of the CUDA elementwise kernels (kernels/cuda/elementwise.cu, convert.cu).
// Element types f32 and bf16 (math in f32); raw pointers, validated by kernels/*.cpp.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/dtype.h"

namespace birdie::kernels::cuda {

enum class BinaryOp { add, mul, sigmoid_backward, gelu_backward };
enum class UnaryOp { scale, sigmoid, gelu };

// out[i] = op(a[i], b[i mod nb]) for i < n (nb divides n: b is a's shape or a trailing
// part of it). out may be a (in place).
void binary(DType dtype, BinaryOp op, const void* a, const void* b, void* out, std::int64_t n,
            std::int64_t nb, cudaStream_t stream);
// out[i] = op(x[i]) (factor is used by scale).
void unary(DType dtype, UnaryOp op, const void* x, void* out, std::int64_t n, double factor,
           cudaStream_t stream);
// x[i] *= *factor (a device scalar: an upstream gradient never read back to the host).
void scale_by_device_scalar(DType dtype, void* x, const float* factor, std::int64_t n,
                            cudaStream_t stream);
// dst[i] += src[i] in f32, rounded once to dst's dtype: src and dst of one dtype, or bf16
// into f32 (a bf16 gradient contribution into an fp32 master gradient).
void accumulate(DType dst_dtype, DType src_dtype, void* dst, const void* src, std::int64_t n,
                cudaStream_t stream);
// out[j] = Σ_r in[r·width + j], fixed summation order (deterministic), f32 accumulation,
// one rounding to out's dtype: in's, or f32 with bf16 in (bias gradients straight into
// fp32).
void sum_to_trailing(DType in_dtype, DType out_dtype, const void* in, void* out,
                     std::int64_t rows, std::int64_t width, cudaStream_t stream);
// out[r] = Σ_j in[r·width + j] (row sums; the bias-gradient fallback of matmul); out's
// dtype as for sum_to_trailing.
void sum_rows(DType in_dtype, DType out_dtype, const void* in, void* out, std::int64_t rows,
              std::int64_t width, cudaStream_t stream);
// Element-type conversion among f32, f64, bf16 (to bf16: round to nearest, ties to even).
void convert(DType from, DType to, const void* in, void* out, std::int64_t n,
             cudaStream_t stream);

}  // namespace birdie::kernels::cuda
