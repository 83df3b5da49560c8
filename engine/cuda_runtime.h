// The CUDA runtime as the engine uses it: the status check for BIRDIE_CUDA_CHECK and the
// current stream. Included only by files compiled when BIRDIE_WITH_CUDA is defined.
#pragma once

#ifdef BIRDIE_WITH_CUDA
#include <cuda_runtime.h>

#include "engine/error.h"

namespace birdie {
namespace detail {
// nullptr on success, else a description of the failure.
inline const char* device_status_message(cudaError_t status) {
  return status == cudaSuccess ? nullptr : cudaGetErrorString(status);
}
}  // namespace detail

// Every launch and copy of the engine goes to the current stream (the default stream
// until a caller sets another), so allocation, kernels and copies are ordered on it.
cudaStream_t current_stream();
void set_current_stream(cudaStream_t stream);

}  // namespace birdie
#endif
