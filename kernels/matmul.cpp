#include "kernels/matmul.h"

#include "kernels/cpu/bf16_emulation.h"
#include "kernels/cpu/matmul.h"
#include "kernels/device_dispatch.h"
#include "kernels/elementwise.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/matmul.h"
#endif

namespace birdie::kernels {

Shape matmul_output_shape(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b) {
  BIRDIE_CHECK((a.rank() == 2 || a.rank() == 3) && a.rank() == b.rank(),
               "matmul: operands must both be rank 2 or both rank 3, got ", a.describe(), " and ",
               b.describe());
  BIRDIE_CHECK(a.rank() == 2 || a.dim(0) == b.dim(0), "matmul: batch sizes differ, ",
               a.describe(), " and ", b.describe());
  BIRDIE_CHECK(a.dtype() == b.dtype(), "matmul: dtypes differ, ", a.describe(), " and ",
               b.describe());
  const std::int64_t m = trans_a ? a.dim(-1) : a.dim(-2);
  const std::int64_t ka = trans_a ? a.dim(-2) : a.dim(-1);
  const std::int64_t kb = trans_b ? b.dim(-1) : b.dim(-2);
  const std::int64_t n = trans_b ? b.dim(-2) : b.dim(-1);
  BIRDIE_CHECK(ka == kb, "matmul: inner dimensions differ (", ka, " vs ", kb, ") for ",
               a.describe(), (trans_a ? "ᵀ" : ""), " × ", b.describe(), (trans_b ? "ᵀ" : ""));
  if (a.rank() == 3) return {a.dim(0), m, n};
  return {m, n};
}

namespace {

void check_matmul(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, const Tensor& c) {
  require_same_device("matmul", {&a, &b, &c});
  check_shape(c, matmul_output_shape(a, trans_a, b, trans_b), "matmul output");
  BIRDIE_CHECK(c.dtype() == a.dtype() || (a.dtype() == DType::bf16 && c.dtype() == DType::f32),
               "matmul output: ", c.describe(), " for ", dtype_name(a.dtype()),
               " operands (C takes the operands' dtype, or f32 with bf16 operands)");
}

#ifdef BIRDIE_WITH_CUDA
cuda::GemmCall gemm_call(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c,
                         double alpha, double beta) {
  cuda::GemmCall call;
  call.ab = a.dtype();
  call.c = c.dtype();
  call.trans_a = trans_a;
  call.trans_b = trans_b;
  call.batch = a.rank() == 3 ? a.dim(0) : 1;
  call.m = c.dim(-2);
  call.n = c.dim(-1);
  call.k = trans_a ? a.dim(-2) : a.dim(-1);
  call.a = a.raw_data();
  call.b = b.raw_data();
  call.c_data = c.raw_data();
  call.alpha = alpha;
  call.beta = beta;
  return call;
}

// C = beta·C when the inner dimension is empty (cuBLASLt rejects k = 0).
void scale_for_empty_product(Tensor& c, double beta) {
  if (beta == 0.0) c.fill_zero();
  else if (beta != 1.0) scale_inplace(c, beta);
}
#endif

// C as the product sees it: read only when beta is not 0.
Tensor& emulated_output(cpu::Bf16Emulation& f32, Tensor& c, double beta) {
  return beta == 0.0 ? f32.output(c) : f32.accumulated(c);
}

// The fused product from plain kernels: the CPU's way (the reference), and the GPU's when
// cuBLASLt has no fused algorithm. An addend other than C is added after the product, as
// the plain `add` of an unfused model would (the same bits in f32 on the CPU).
void compose_fused(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c,
                   const Tensor& bias, Tensor& bias_gradient, const Tensor& addend, double alpha,
                   double beta) {
  if (!addend.defined()) {
    matmul(a, trans_a, b, trans_b, c, alpha, beta);
  } else {
    matmul(a, trans_a, b, trans_b, c, alpha, 0.0);
    if (beta == 1.0) {
      add(c, addend, c);
    } else if (beta != 0.0) {
      Tensor scaled = Tensor::empty(addend.shape(), addend.dtype(), addend.device());
      scale(addend, beta, scaled);
      add(c, scaled, c);
    }
  }
  if (bias.defined()) add(c, bias, c);
  if (!bias_gradient.defined()) return;
  // Σ_k op(A)[i, k]: column sums of A [K, M] when transposed, row sums of A [M, K] if not.
  if (trans_a) return sum_to_trailing(a, bias_gradient);
  if (a.is_cpu()) {
    Tensor ones = Tensor::full({a.dim(1), 1}, 1.0, a.dtype());
    Tensor column = bias_gradient.reshape({a.dim(0), 1});
    return cpu::matmul(a, false, ones, false, column, 1.0, 0.0);
  }
#ifdef BIRDIE_WITH_CUDA
  cuda::sum_rows(a.dtype(), bias_gradient.dtype(), a.raw_data(), bias_gradient.raw_data(),
                 a.dim(0), a.dim(1), current_stream());
#endif
}

}  // namespace

void matmul(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c,
            double alpha, double beta) {
  check_matmul(a, trans_a, b, trans_b, c);
  if (a.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::matmul(f32.input(a), trans_a, f32.input(b), trans_b, emulated_output(f32, c, beta), alpha,
                beta);
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("matmul");
  cuda::GemmCall call = gemm_call(a, trans_a, b, trans_b, c, alpha, beta);
  if (call.k == 0) return scale_for_empty_product(c, beta);
  cuda::gemm(call, current_stream());
#else
  no_cuda_kernel("matmul");
#endif
}

void matmul_fused(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c,
                  const MatmulEpilogue& epilogue, double alpha, double beta) {
  check_matmul(a, trans_a, b, trans_b, c);
  BIRDIE_CHECK(a.rank() == 2, "matmul_fused: epilogues take rank-2 operands, got ", a.describe());
  BIRDIE_CHECK(!(epilogue.bias.defined() && epilogue.bias_gradient.defined()),
               "matmul_fused: a bias and a bias gradient in one call are not supported");
  if (epilogue.bias.defined()) {
    require_same_device("matmul_fused bias", {&c, &epilogue.bias});
    check_shape(epilogue.bias, {c.dim(1)}, "matmul_fused bias");
    check_dtype(epilogue.bias, c.dtype(), "matmul_fused bias");
  }
  Tensor bias_gradient = epilogue.bias_gradient;
  if (bias_gradient.defined()) {
    require_same_device("matmul_fused bias_gradient", {&c, &bias_gradient});
    check_shape(bias_gradient, {c.dim(0)}, "matmul_fused bias_gradient");
    check_dtype(bias_gradient, c.dtype(), "matmul_fused bias_gradient");
  }
  // An addend that is C itself is the plain beta·C.
  Tensor addend = epilogue.addend;
  if (addend.defined()) {
    require_same_device("matmul_fused addend", {&c, &addend});
    check_shape(addend, c.shape(), "matmul_fused addend");
    check_dtype(addend, c.dtype(), "matmul_fused addend");
    if (addend.raw_data() == c.raw_data()) addend = Tensor();
  }
  if (a.is_cpu()) {
    // One rounding of C for product, addend and bias together, as in the GPU's epilogue.
    cpu::Bf16Emulation f32;
    compose_fused(f32.input(a), trans_a, f32.input(b), trans_b,
                  emulated_output(f32, c, addend.defined() ? 0.0 : beta), f32.input(epilogue.bias),
                  f32.output(bias_gradient), f32.input(addend), alpha, beta);
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("matmul_fused");
  cuda::GemmCall call = gemm_call(a, trans_a, b, trans_b, c, alpha, beta);
  if (call.k > 0) {
    call.bias = epilogue.bias.defined() ? epilogue.bias.raw_data() : nullptr;
    call.bias_gradient = bias_gradient.defined() ? bias_gradient.raw_data() : nullptr;
    call.c_input = addend.defined() ? addend.raw_data() : nullptr;
    if (cuda::gemm(call, current_stream())) return;
  }
  // No fused algorithm for this case: the same result from plain kernels.
  compose_fused(a, trans_a, b, trans_b, c, epilogue.bias, bias_gradient, addend, alpha, beta);
#else
  no_cuda_kernel("matmul_fused");
#endif
}

}  // namespace birdie::kernels
