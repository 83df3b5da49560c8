#include "engine/cuda_graph.h"

#include "engine/error.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#endif

namespace birdie {

#ifdef BIRDIE_WITH_CUDA

PrivateStream::PrivateStream(Device device) {
  if (device != Device::cuda) return;
  cudaStream_t stream = nullptr;
  BIRDIE_CUDA_CHECK(cudaStreamCreate(&stream));
  // Whatever ran before on the previous stream comes first.
  BIRDIE_CUDA_CHECK(cudaStreamSynchronize(current_stream()));
  previous_ = current_stream();
  stream_ = stream;
  set_current_stream(stream);
}

PrivateStream::~PrivateStream() {
  if (stream_ == nullptr) return;
  const auto stream = static_cast<cudaStream_t>(stream_);
  (void)cudaStreamSynchronize(stream);
  set_current_stream(static_cast<cudaStream_t>(previous_));
  (void)cudaStreamDestroy(stream);
}

LaunchGraph::LaunchGraph(const std::function<void()>& work) {
  const cudaStream_t stream = current_stream();
  BIRDIE_CHECK(stream != nullptr, "LaunchGraph: CUDA cannot capture the default stream; make a PrivateStream first");
  BIRDIE_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  cudaGraph_t graph = nullptr;
  try {
    work();
  } catch (...) {
    (void)cudaStreamEndCapture(stream, &graph);
    if (graph != nullptr) (void)cudaGraphDestroy(graph);
    throw;
  }
  BIRDIE_CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
  cudaGraphExec_t exec = nullptr;
  const cudaError_t instantiated = cudaGraphInstantiateWithFlags(&exec, graph, 0);
  if (instantiated != cudaSuccess) (void)cudaGraphDestroy(graph);
  BIRDIE_CUDA_CHECK(instantiated);
  graph_ = graph;
  exec_ = exec;
}

LaunchGraph::~LaunchGraph() {
  if (exec_ != nullptr) (void)cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec_));
  if (graph_ != nullptr) (void)cudaGraphDestroy(static_cast<cudaGraph_t>(graph_));
}

void LaunchGraph::replay() const {
  BIRDIE_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec_), current_stream()));
}

#else

PrivateStream::PrivateStream(Device device) {
  BIRDIE_CHECK(device == Device::cpu, "PrivateStream: this build has no CUDA");
}
PrivateStream::~PrivateStream() = default;

LaunchGraph::LaunchGraph(const std::function<void()>&) {
  throw Error("LaunchGraph: CUDA graphs need a build with CUDA");
}
LaunchGraph::~LaunchGraph() = default;
void LaunchGraph::replay() const {}

#endif

}  // namespace birdie
