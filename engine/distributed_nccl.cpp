#include "engine/distributed_nccl.h"

#include <nccl.h>

#include <string>

#include "engine/cuda_runtime.h"
#include "engine/distributed.h"

namespace birdie {
namespace detail {
inline const char* device_status_message(ncclResult_t status) {
  return status == ncclSuccess ? nullptr : ncclGetErrorString(status);
}
}  // namespace detail

namespace distributed::nccl {

namespace {

ncclDataType_t nccl_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return ncclFloat32;
    case DType::f64: return ncclFloat64;
    case DType::i32: return ncclInt32;
    case DType::bf16: return ncclBfloat16;
  }
  throw Error("nccl: no data type for this tensor");
}

// The job's communicator, made at the first collective (the device is chosen by then).
ncclComm_t communicator() {
  static ncclComm_t comm = [] {
    ncclUniqueId id;
    if (world().rank == 0) BIRDIE_CUDA_CHECK(ncclGetUniqueId(&id));
    broadcast_bytes(&id, sizeof id);
    ncclComm_t made;
    BIRDIE_CUDA_CHECK(ncclCommInitRank(&made, world().size, id, world().rank));
    return made;
  }();
  return comm;
}

char* bytes(const Tensor& t) { return static_cast<char*>(t.raw_data()); }

void check_cuda(const Tensor& t, const char* what) {
  BIRDIE_CHECK(!t.is_cpu(), "nccl ", what, ": a CPU tensor (its collectives go through MPI)");
}

}  // namespace

void all_reduce_sum(const Tensor& values) {
  check_cuda(values, "all_reduce_sum");
  BIRDIE_CUDA_CHECK(ncclAllReduce(values.raw_data(), values.raw_data(), std::size_t(values.numel()),
                                  nccl_type(values.dtype()), ncclSum, communicator(), current_stream()));
}

// Shards are uneven (shard_of: the first n % size ranks one element more), which NCCL's
// reduce-scatter and all-gather do not allow: one reduce and one broadcast per rank's
// shard, grouped into a single launch.
void reduce_scatter_sum(const Tensor& full, const Tensor& shard) {
  check_cuda(full, "reduce_scatter_sum");
  const std::size_t element = dtype_size(full.dtype());
  BIRDIE_CUDA_CHECK(ncclGroupStart());
  for (int r = 0; r < world().size; ++r) {
    const Range range = shard_of(full.numel(), r, world().size);
    BIRDIE_CUDA_CHECK(ncclReduce(bytes(full) + range.begin * element, r == world().rank ? shard.raw_data() : nullptr,
                                 std::size_t(range.size()), nccl_type(full.dtype()), ncclSum, r, communicator(),
                                 current_stream()));
  }
  BIRDIE_CUDA_CHECK(ncclGroupEnd());
}

void all_gather(const Tensor& full) {
  check_cuda(full, "all_gather");
  const std::size_t element = dtype_size(full.dtype());
  BIRDIE_CUDA_CHECK(ncclGroupStart());
  for (int r = 0; r < world().size; ++r) {
    const Range range = shard_of(full.numel(), r, world().size);
    char* at = bytes(full) + range.begin * element;
    BIRDIE_CUDA_CHECK(ncclBroadcast(at, at, std::size_t(range.size()), nccl_type(full.dtype()), r, communicator(),
                                    current_stream()));
  }
  BIRDIE_CUDA_CHECK(ncclGroupEnd());
}

void gather(const Tensor& shard, const Tensor& full) {
  check_cuda(shard, "gather");
  const std::size_t element = dtype_size(shard.dtype());
  const std::int64_t n = all_reduce_max(world().rank == 0 ? full.numel() : 0);
  BIRDIE_CUDA_CHECK(ncclGroupStart());
  if (world().rank == 0) {
    for (int r = 0; r < world().size; ++r) {
      const Range range = shard_of(n, r, world().size);
      char* at = bytes(full) + range.begin * element;
      if (r == 0) {
        BIRDIE_CUDA_CHECK(cudaMemcpyAsync(at, shard.raw_data(), std::size_t(range.size()) * element,
                                          cudaMemcpyDeviceToDevice, current_stream()));
      } else {
        BIRDIE_CUDA_CHECK(ncclRecv(at, std::size_t(range.size()), nccl_type(shard.dtype()), r, communicator(),
                                   current_stream()));
      }
    }
  } else {
    BIRDIE_CUDA_CHECK(ncclSend(shard.raw_data(), std::size_t(shard.numel()), nccl_type(shard.dtype()), 0,
                               communicator(), current_stream()));
  }
  BIRDIE_CUDA_CHECK(ncclGroupEnd());
}

}  // namespace distributed::nccl
}  // namespace birdie
