// The CUDA side of engine/distributed.h: collectives on CUDA tensors through NCCL, one
// communicator over the job's ranks (one GPU each), its unique id sent from rank 0 over
// MPI. Used by distributed.cpp only; compiled when the build has CUDA and NCCL.
#pragma once

#include "engine/distributed.h"
#include "engine/tensor.h"

namespace birdie::distributed::nccl {

// Every call runs on the engine's current stream (engine/cuda_runtime.h), in the order
// the ranks call them, like the CPU collectives.
void all_reduce_sum(const Tensor& values);
void reduce_scatter_sum(const Tensor& full, const Tensor& shard);
void all_gather(const Tensor& full);
void gather(const Tensor& shard, const Tensor& full);

// The non-blocking forms (distributed::PendingCollective): queued on a communication stream
// of their own once the current stream's queued work is done, so that the backward pass
// goes on while they run. `Started` (a CUDA event recorded after the collective, nullptr
// for none) is handed to finish(), which makes the current stream wait for it.
using Started = void*;
Started start_all_reduce_sum(const Tensor& values);
Started start_reduce_scatter_sum(const Tensor& full, Range bucket, const Tensor& shard);
void finish(Started started);

}  // namespace birdie::distributed::nccl
