#include "engine/distributed_nccl.h"

#include <nccl.h>

#include <algorithm>
#include <string>

#include "engine/collective_watchdog.h"
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

// The stream the non-blocking collectives run on (one, so they keep the ranks' order).
cudaStream_t communication_stream() {
  static cudaStream_t stream = [] {
    cudaStream_t made;
    BIRDIE_CUDA_CHECK(cudaStreamCreateWithFlags(&made, cudaStreamNonBlocking));
    return made;
  }();
  return stream;
}

cudaEvent_t new_event() {
  cudaEvent_t event;
  BIRDIE_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  return event;
}

// Runs `enqueue(stream)` on the communication stream after the current stream's work,
// and returns an event recorded after it.
template <class Enqueue>
Started on_communication_stream(const char* what, Enqueue enqueue) {
  const cudaEvent_t ready = new_event();
  BIRDIE_CUDA_CHECK(cudaEventRecord(ready, current_stream()));
  BIRDIE_CUDA_CHECK(cudaStreamWaitEvent(communication_stream(), ready, 0));
  BIRDIE_CUDA_CHECK(cudaEventDestroy(ready));  // released once the wait is done
  enqueue(communication_stream());
  watch_stream(communication_stream(), what);
  const cudaEvent_t done = new_event();
  BIRDIE_CUDA_CHECK(cudaEventRecord(done, communication_stream()));
  return done;
}

void check_cuda(const Tensor& t, const char* what) {
  BIRDIE_CHECK(!t.is_cpu(), "nccl ", what, ": a CPU tensor (its collectives go through MPI)");
}

}  // namespace

void all_reduce_sum(const Tensor& values) {
  check_cuda(values, "all_reduce_sum");
  BIRDIE_CUDA_CHECK(ncclAllReduce(values.raw_data(), values.raw_data(), std::size_t(values.numel()),
                                  nccl_type(values.dtype()), ncclSum, communicator(), current_stream()));
  watch_stream(current_stream(), "NCCL all-reduce");
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
  watch_stream(current_stream(), "NCCL reduce-scatter");
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
  watch_stream(current_stream(), "NCCL all-gather");
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
  watch_stream(current_stream(), "NCCL gather");
}

Started start_all_reduce_sum(const Tensor& values) {
  check_cuda(values, "all_reduce_sum_async");
  return on_communication_stream("NCCL all-reduce", [&](cudaStream_t stream) {
    BIRDIE_CUDA_CHECK(ncclAllReduce(values.raw_data(), values.raw_data(), std::size_t(values.numel()),
                                    nccl_type(values.dtype()), ncclSum, communicator(), stream));
  });
}

// As reduce_scatter_sum, over the ranks whose shard overlaps the bucket.
Started start_reduce_scatter_sum(const Tensor& full, Range bucket, const Tensor& shard) {
  check_cuda(full, "reduce_scatter_sum_async");
  const std::size_t element = dtype_size(full.dtype());
  const Range mine = shard_of(full.numel(), world().rank, world().size);
  return on_communication_stream("NCCL reduce-scatter", [&](cudaStream_t stream) {
    BIRDIE_CUDA_CHECK(ncclGroupStart());
    for (int r = 0; r < world().size; ++r) {
      const Range shard_r = shard_of(full.numel(), r, world().size);
      const std::int64_t begin = std::max(bucket.begin, shard_r.begin), end = std::min(bucket.end, shard_r.end);
      if (begin >= end) continue;
      char* receive = r == world().rank ? bytes(shard) + (begin - mine.begin) * element : nullptr;
      BIRDIE_CUDA_CHECK(ncclReduce(bytes(full) + begin * element, receive, std::size_t(end - begin),
                                   nccl_type(full.dtype()), ncclSum, r, communicator(), stream));
    }
    BIRDIE_CUDA_CHECK(ncclGroupEnd());
  });
}

void finish(Started started) {
  if (started == nullptr) return;
  const auto done = static_cast<cudaEvent_t>(started);
  BIRDIE_CUDA_CHECK(cudaStreamWaitEvent(current_stream(), done, 0));
  BIRDIE_CUDA_CHECK(cudaEventDestroy(done));
}

}  // namespace distributed::nccl
}  // namespace birdie
