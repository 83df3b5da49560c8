// Recording a fixed sequence of launches once and replaying it (a CUDA graph), so that a
// step of many small kernels costs the host one launch instead of one per kernel.
//
// Capture needs a stream other than the legacy default one: a PrivateStream makes one
// current for its scope. Work captured in a LaunchGraph is recorded, not run; each replay()
// runs it on the current stream with the same arguments, so the captured work must read
// and write the same buffers every time (what changes between replays lives in device
// memory), must not read anything back to the host, and must free before it returns what
// it allocates (the engine's stream-ordered allocations become the graph's own memory).
#pragma once

#include <functional>

#include "engine/device.h"

namespace birdie {

// On cuda: a new stream, current until the scope ends, which waits for its work and makes
// the previous stream current again. On the cpu: nothing.
class PrivateStream {
 public:
  explicit PrivateStream(Device device);
  ~PrivateStream();
  PrivateStream(const PrivateStream&) = delete;
  PrivateStream& operator=(const PrivateStream&) = delete;

 private:
  void* stream_ = nullptr;    // cudaStream_t
  void* previous_ = nullptr;  // cudaStream_t
};

class LaunchGraph {
 public:
  // Captures the launches `work` makes on the current stream (a PrivateStream's). Throws
  // in a build without CUDA, or when the work does something a capture cannot hold (a
  // synchronization, a copy back to the host).
  explicit LaunchGraph(const std::function<void()>& work);
  ~LaunchGraph();
  LaunchGraph(const LaunchGraph&) = delete;
  LaunchGraph& operator=(const LaunchGraph&) = delete;

  // Runs the captured work once more on the current stream.
  void replay() const;

 private:
  void* graph_ = nullptr;  // cudaGraph_t
  void* exec_ = nullptr;   // cudaGraphExec_t
};

}  // namespace birdie
