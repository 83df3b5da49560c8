// cuBLASLt behind kernels::matmul on the GPU (host code: no kernels of ours here).
//
// cuBLASLt is column-major. A row-major C[M, N] is, read column-major, Cᵀ[N, M] with
// leading dimension N, and Cᵀ = op(B)ᵀ · op(A)ᵀ: so cuBLASLt's "A" is our B, its "B" is
// our A, and its (m, n, k) is our (N, M, K). A row-major matrix stored [R, S] reads
// column-major as [S, R] with leading dimension S.
#include "kernels/cuda/matmul.h"

#include <cublasLt.h>

#include <map>
#include <mutex>
#include <tuple>

#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"

namespace birdie::detail {
inline const char* device_status_message(cublasStatus_t status) {
  return status == CUBLAS_STATUS_SUCCESS ? nullptr : cublasLtGetStatusString(status);
}
}  // namespace birdie::detail

namespace birdie::kernels::cuda {

namespace {

constexpr std::size_t workspace_bytes = 32u << 20;

cudaDataType_t cuda_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return CUDA_R_32F;
    case DType::f64: return CUDA_R_64F;
    case DType::bf16: return CUDA_R_16BF;
    default: throw Error(detail::concat("matmul (CUDA): unsupported dtype ", dtype_name(dtype)));
  }
}

// The largest power of two (≤ 256) dividing the address: cuBLASLt picks kernels by it.
int alignment_of(const void* p) {
  if (!p) return 256;
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  int alignment = 1;
  while (alignment < 256 && address % (2 * alignment) == 0) alignment *= 2;
  return alignment;
}

using PlanKey = std::tuple<int, int, bool, bool, std::int64_t, std::int64_t, std::int64_t,
                           std::int64_t, int, int, int, int, int, int>;

struct Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
  bool found = false;
};

struct Context {
  std::mutex mutex;
  cublasLtHandle_t handle = nullptr;
  void* workspace = nullptr;
  std::map<PlanKey, Plan> plans;
};

// Created on first use and kept for the life of the process (destroying cuBLASLt objects
// after the CUDA context is torn down at exit fails).
Context& context() {
  static Context* ctx = [] {
    auto* c = new Context;
    BIRDIE_CUDA_CHECK(cublasLtCreate(&c->handle));
    BIRDIE_CUDA_CHECK(cudaMalloc(&c->workspace, workspace_bytes));
    return c;
  }();
  return *ctx;
}

cublasLtMatrixLayout_t make_layout(cudaDataType_t type, std::int64_t rows, std::int64_t cols,
                                   std::int64_t batch) {
  cublasLtMatrixLayout_t layout = nullptr;
  BIRDIE_CUDA_CHECK(cublasLtMatrixLayoutCreate(&layout, type, rows, cols, rows));
  if (batch > 1) {
    const std::int32_t count = static_cast<std::int32_t>(batch);
    const std::int64_t stride = rows * cols;
    BIRDIE_CUDA_CHECK(cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT,
                                                       &count, sizeof(count)));
    BIRDIE_CUDA_CHECK(cublasLtMatrixLayoutSetAttribute(
        layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof(stride)));
  }
  return layout;
}

// C as cuBLASLt reads it: D itself unless the call names another matrix.
const void* input_c(const GemmCall& call) { return call.c_input ? call.c_input : call.c_data; }

cublasLtEpilogue_t epilogue_of(const GemmCall& call) {
  if (call.bias && call.bias_gradient)
    throw Error("matmul (CUDA): a bias and a bias gradient in one product are not supported");
  if (call.bias) return CUBLASLT_EPILOGUE_BIAS;
  // Σ over k of our A, which is cuBLASLt's B.
  if (call.bias_gradient) return CUBLASLT_EPILOGUE_BGRADB;
  return CUBLASLT_EPILOGUE_DEFAULT;
}

Plan make_plan(Context& ctx, const GemmCall& call, cublasLtEpilogue_t epilogue) {
  Plan plan;
  const bool f64 = call.ab == DType::f64;
  const cublasComputeType_t compute = f64 ? CUBLAS_COMPUTE_64F : CUBLAS_COMPUTE_32F;
  const cudaDataType_t scale = f64 ? CUDA_R_64F : CUDA_R_32F;
  BIRDIE_CUDA_CHECK(cublasLtMatmulDescCreate(&plan.desc, compute, scale));
  // cuBLASLt's A is our B, its B is our A.
  const cublasOperation_t op_a = call.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = call.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  BIRDIE_CUDA_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof(op_a)));
  BIRDIE_CUDA_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof(op_b)));
  BIRDIE_CUDA_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue)));
  if (epilogue != CUBLASLT_EPILOGUE_DEFAULT) {
    const void* vector = call.bias ? call.bias : call.bias_gradient;
    BIRDIE_CUDA_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &vector, sizeof(vector)));
    const cudaDataType_t vector_type = cuda_type(call.c);
    BIRDIE_CUDA_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &vector_type, sizeof(vector_type)));
  }
  const cudaDataType_t ab = cuda_type(call.ab), c = cuda_type(call.c);
  // Stored shapes, read column-major: our B is [K, N] (or [N, K] transposed), our A is
  // [M, K] (or [K, M]).
  plan.a = call.trans_b ? make_layout(ab, call.k, call.n, call.batch) : make_layout(ab, call.n, call.k, call.batch);
  plan.b = call.trans_a ? make_layout(ab, call.m, call.k, call.batch) : make_layout(ab, call.k, call.m, call.batch);
  plan.c = make_layout(c, call.n, call.m, call.batch);

  cublasLtMatmulPreference_t preference = nullptr;
  BIRDIE_CUDA_CHECK(cublasLtMatmulPreferenceCreate(&preference));
  const std::uint64_t workspace = workspace_bytes;
  BIRDIE_CUDA_CHECK(cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof(workspace)));
  const std::uint32_t align_a = alignment_of(call.b), align_b = alignment_of(call.a),
                      align_c = alignment_of(input_c(call)), align_d = alignment_of(call.c_data);
  BIRDIE_CUDA_CHECK(cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align_a, sizeof(align_a)));
  BIRDIE_CUDA_CHECK(cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align_b, sizeof(align_b)));
  BIRDIE_CUDA_CHECK(cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_c, sizeof(align_c)));
  BIRDIE_CUDA_CHECK(cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_d, sizeof(align_d)));
  cublasLtMatmulHeuristicResult_t result{};
  int returned = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(
      ctx.handle, plan.desc, plan.a, plan.b, plan.c, plan.c, preference, 1, &result, &returned);
  cublasLtMatmulPreferenceDestroy(preference);
  if (status == CUBLAS_STATUS_SUCCESS && returned > 0) {
    plan.algo = result.algo;
    plan.found = true;
  } else if (epilogue == CUBLASLT_EPILOGUE_DEFAULT) {
    BIRDIE_CUDA_CHECK(status);
    throw Error(detail::concat("matmul (CUDA): cuBLASLt has no algorithm for ", call.m, "×", call.k,
                               " · ", call.k, "×", call.n, " (batch ", call.batch, ", ",
                               dtype_name(call.ab), " → ", dtype_name(call.c), ")"));
  }
  return plan;
}

}  // namespace

bool gemm(const GemmCall& call, cudaStream_t stream) {
  BIRDIE_NVTX_RANGE("matmul");
  if (call.m == 0 || call.n == 0 || call.batch == 0) return true;
  BIRDIE_CHECK(call.k > 0, "matmul (CUDA): inner dimension 0 (fill C with beta·C instead)");
  BIRDIE_CHECK(call.batch <= INT32_MAX, "matmul (CUDA): batch too large");
  const cublasLtEpilogue_t epilogue = epilogue_of(call);
  BIRDIE_CHECK(epilogue == CUBLASLT_EPILOGUE_DEFAULT || call.batch == 1,
               "matmul (CUDA): fused epilogues take rank-2 operands");
  Context& ctx = context();
  std::lock_guard lock(ctx.mutex);
  const void* vector = call.bias ? call.bias : call.bias_gradient;
  const PlanKey key{static_cast<int>(call.ab), static_cast<int>(call.c), call.trans_a, call.trans_b,
                    call.batch, call.m, call.n, call.k, static_cast<int>(epilogue),
                    alignment_of(call.a), alignment_of(call.b), alignment_of(call.c_data),
                    alignment_of(vector), alignment_of(input_c(call))};
  auto it = ctx.plans.find(key);
  if (it == ctx.plans.end()) it = ctx.plans.emplace(key, make_plan(ctx, call, epilogue)).first;
  Plan& plan = it->second;
  if (!plan.found) return false;
  if (epilogue != CUBLASLT_EPILOGUE_DEFAULT)
    BIRDIE_CUDA_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &vector, sizeof(vector)));
  const float alpha32 = static_cast<float>(call.alpha), beta32 = static_cast<float>(call.beta);
  const void* alpha = call.ab == DType::f64 ? static_cast<const void*>(&call.alpha) : &alpha32;
  const void* beta = call.ab == DType::f64 ? static_cast<const void*>(&call.beta) : &beta32;
  const cublasStatus_t status =
      cublasLtMatmul(ctx.handle, plan.desc, alpha, call.b, plan.a, call.a, plan.b, beta, input_c(call),
                     plan.c, call.c_data, plan.c, &plan.algo, ctx.workspace, workspace_bytes, stream);
  if (status == CUBLAS_STATUS_NOT_SUPPORTED && epilogue != CUBLASLT_EPILOGUE_DEFAULT) {
    plan.found = false;  // remembered: this shape's epilogue goes the composed way from now on
    return false;
  }
  BIRDIE_CUDA_CHECK(status);
  return true;
}

}  // namespace birdie::kernels::cuda
