// The CUDA side of engine/distributed.h: collectives on CUDA tensors through NCCL, one
// communicator over the job's ranks (one GPU each), its unique id sent from rank 0 over
// MPI. Used by distributed.cpp only; compiled when the build has CUDA and NCCL.
#pragma once

#include "engine/tensor.h"

namespace birdie::distributed::nccl {

// Every call runs on the engine's current stream (engine/cuda_runtime.h), in the order
// the ranks call them, like the CPU collectives.
void all_reduce_sum(const Tensor& values);
void reduce_scatter_sum(const Tensor& full, const Tensor& shard);
void all_gather(const Tensor& full);
void gather(const Tensor& shard, const Tensor& full);

}  // namespace birdie::distributed::nccl
