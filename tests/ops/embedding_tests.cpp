// Embedding (kernels/embedding.h, autograd::embedding): the gather and its scatter-add.
// The harness, and the two suites these cases run in: tests/ops/op_harness.h.
#include "tests/ops/op_harness.h"

#include <algorithm>
#include <vector>

#include "kernels/embedding.h"

namespace birdie::testing {
TEST_SUITE_BEGIN("embedding");
using doctest::Contains;

#if !BIRDIE_OPS_GPU  // ---- CPU (ops_tests) ----

TEST_CASE("embedding gathers rows and rejects ids outside the vocabulary") {
  Tensor table = Tensor::from_values<double>({0, 1, 10, 11, 20, 21}, {3, 2});
  Tensor ids = Tensor::from_values<std::int32_t>({2, 0, 2}, {3});
  Tensor out = Tensor::empty({3, 2}, DType::f64);
  kernels::embedding_forward(table, ids, out);
  CHECK(out.to_vector<double>() == std::vector<double>{20, 21, 0, 1, 20, 21});
  Tensor dtable = Tensor::zeros({3, 2}, DType::f64);
  kernels::embedding_backward(ids, out, dtable);
  CHECK(dtable.to_vector<double>() == std::vector<double>{0, 1, 0, 0, 40, 42});
  Tensor bad = Tensor::from_values<std::int32_t>({1, 3}, {2});
  Tensor out2 = Tensor::empty({2, 2}, DType::f64);
  CHECK_THROWS_WITH_AS(kernels::embedding_forward(table, bad, out2),
                       doctest::Contains("token id 3 at position 1 is outside the vocabulary [0, 3)"),
                       Error);
}

TEST_CASE("gradient: embedding with repeated ids") {
  RandomGenerator rng(15);
  Tensor ids = Tensor::from_values<std::int32_t>({3, 1, 3, 0, 3, 2}, {2, 3});
  check_gradients([](const Inputs& in) { return weighted_sum(ag::embedding(in[0], in[1])); },
                  {random_tensor({5, 4}, rng), ids});
}

TEST_CASE("embedding in bf16: an exact gather, a scatter-add into f32 or bf16") {
  RandomGenerator rng(6);
  const std::int64_t V = 50, D = 37, count = 301;
  const Tensor table = random_bf16({V, D}, rng);
  Tensor ids = random_ids({count}, rng, static_cast<std::int32_t>(V));
  ids.data<std::int32_t>()[7] = ids.data<std::int32_t>()[8] = static_cast<std::int32_t>(V - 1);
  Tensor out = poisoned({7, 43, D}, DType::bf16), out_ref = Tensor::empty({count, D}, DType::f64);
  kernels::embedding_forward(table, ids.reshape({7, 43}), out);
  kernels::embedding_forward(wide(table), ids, out_ref);
  check_close("embedding_forward", out, out_ref.reshape({7, 43, D}), 0.0);

  const Tensor dout = random_bf16({count, D}, rng);
  const Tensor dtable0 = random_tensor({V, D}, rng, -1, 1, DType::f32);
  Tensor dtable_ref = wide(dtable0);
  kernels::embedding_backward(ids, wide(dout), dtable_ref);
  for (DType dtable_dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(dtable_dtype));
    Tensor dtable = dtable0.to(dtable_dtype);
    kernels::embedding_backward(ids.reshape({7, 43}), dout.reshape({7, 43, D}), dtable);
    const bool f32 = dtable_dtype == DType::f32;
    check_close(std::string("embedding_backward into ") + std::string(dtype_name(dtable_dtype)), dtable,
                dtable_ref, f32 ? f32_bound : bf16_bound);
  }
  Tensor dtable16 = dtable0.to(DType::bf16);
  CHECK_THROWS_WITH_AS(kernels::embedding_backward(ids, dout.to(DType::f32), dtable16),
                       Contains("embedding_backward"), Error);
}

#else  // ---- GPU against the CPU (cuda_ops_tests) ----

namespace {

// Shape of the rows the ids (laid out as `ids`) gather from a table of `width` columns.
Shape rows_of(const Tensor& ids, std::int64_t width) {
  Shape shape = ids.shape();
  shape.push_back(width);
  return shape;
}

// The GPU's gather with the ids laid out as ids_gpu against the f64 CPU reference over the
// same ids flat: a copy, so exact.
void check_forward_exact(const Tensor& table, const Tensor& ids, const Tensor& ids_gpu) {
  Tensor out_ref = Tensor::empty({ids.numel(), table.dim(1)}, DType::f64);
  kernels::embedding_forward(as_f64_cpu(table), ids, out_ref);
  Tensor out = poisoned_cuda(rows_of(ids_gpu, table.dim(1)), table.dtype());
  kernels::embedding_forward(table.to(Device::cuda), ids_gpu, out);
  CHECK(relative_error(out, out_ref) == 0.0);
  CHECK(max_abs_error(out, out_ref) == 0.0);
}

// The GPU's scatter-add of dout [ids, dim] (laid out as ids_gpu) into a copy of the f32
// dtable0, against the f64 CPU reference; returns the GPU's result.
Tensor check_backward(const Tensor& ids, const Tensor& ids_gpu, const Tensor& dout,
                      const Tensor& dtable0, const char* what) {
  Tensor dtable_ref = as_f64_cpu(dtable0);
  kernels::embedding_backward(ids, as_f64_cpu(dout), dtable_ref);
  Tensor dtable = dtable0.to(Device::cuda);
  kernels::embedding_backward(ids_gpu, dout.reshape(rows_of(ids_gpu, dout.dim(-1))).to(Device::cuda),
                              dtable);
  check_close(dtable, dtable_ref, fp32_tolerance, what);
  return dtable;
}

}  // namespace

TEST_CASE("embedding forward and deterministic backward with repeated ids") {
  for (DType dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(dtype));
    RandomGenerator rng(dtype == DType::f32 ? 50 : 51);
    const std::int64_t V = 50, D = 37, count = 301;
    const Tensor table = random_cpu({V, D}, dtype, rng);
    Tensor ids = random_ids(count, V, rng);
    ids.data<std::int32_t>()[7] = V - 1;
    ids.data<std::int32_t>()[8] = V - 1;  // repeats, and the last row
    const Tensor ids_gpu = ids.reshape({7, 43}).to(Device::cuda);
    check_forward_exact(table, ids, ids_gpu);

    const Tensor dout = random_cpu({count, D}, dtype, rng);
    const Tensor dtable0 = random_cpu({V, D}, DType::f32, rng);
    // bf16 gradients go into an f32 table gradient (fp32 accumulation).
    const Tensor dtable = check_backward(ids, ids_gpu, dout, dtable0, "dtable");
    Tensor dtable2 = dtable0.to(Device::cuda);
    kernels::embedding_backward(ids_gpu, dout.reshape({7, 43, D}).to(Device::cuda), dtable2);
    CHECK(dtable.to_vector<float>() == dtable2.to_vector<float>());  // deterministic
  }
}

TEST_CASE("embedding: more ids than one launch slice of 65535 rows, and rows wider than the column grid") {
  for (DType dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(dtype));
    {
      // 131087 ids: three slices, runs of equal ids across the slice boundaries.
      // Forward and backward both launch 65535 rows at a time (grid.y). 50 ids over 131087
      // positions: runs of ~2600 equal ids after the sort, so the runs at sorted positions
      // 65535 and 131070 start in one slice and end in the next.
      const std::int64_t V = 50, D = 33, count = 131087;
      RandomGenerator rng(dtype == DType::f32 ? 140 : 141);
      const Tensor table = random_cpu({V, D}, dtype, rng);
      const Tensor ids = random_ids(count, V, rng);
      std::vector<std::int32_t> sorted = ids.to_vector<std::int32_t>();
      std::sort(sorted.begin(), sorted.end());
      REQUIRE(sorted[65534] == sorted[65535]);
      REQUIRE(sorted[131069] == sorted[131070]);
      const Tensor ids_gpu = ids.reshape({17, 7711}).to(Device::cuda);
      check_forward_exact(table, ids, ids_gpu);

      const Tensor dout = random_cpu({count, D}, dtype, rng);
      const Tensor dtable0 = random_cpu({V, D}, DType::f32, rng);
      // ~2600 terms summed in f32 per row: errors ~√2600 half-ulps of the partial sums, ~1e-6
      // of the result, inside the fp32 tolerance.
      check_backward(ids, ids_gpu, dout, dtable0, "dtable (f32)");
    }
    {
      // Rows of 32771 columns: the forward's 64 column blocks go round 3 times.
      // Forward: at most 64 blocks of 256 threads per row (16384 columns), grid-stride
      // beyond; backward: ceil(D / 256) = 129 column blocks.
      const std::int64_t V = 5, D = 32771;
      RandomGenerator rng(dtype == DType::f32 ? 142 : 143);
      const Tensor table = random_cpu({V, D}, dtype, rng);
      const Tensor ids = Tensor::from_values<std::int32_t>({4, 0, 4, 2, 4, 1, 0}, {7});
      const Tensor ids_gpu = ids.to(Device::cuda);
      check_forward_exact(table, ids, ids_gpu);

      const Tensor dout = random_cpu({7, D}, dtype, rng);
      const Tensor dtable0 = random_cpu({V, D}, DType::f32, rng);
      check_backward(ids, ids_gpu, dout, dtable0, "dtable (f32)");
    }
  }
}

#endif

TEST_SUITE_END();
}  // namespace birdie::testing
