#include "engine/read_back.h"

#include <mutex>
#include <utility>
#include <vector>

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#endif

namespace birdie {

#ifdef BIRDIE_WITH_CUDA
struct ReadBack::Slot {
  Tensor buffer;  // page-locked, of one dtype and element count
  cudaEvent_t event = nullptr;
};

namespace {

// Slots not in use. One is handed out again only once its last copy has landed, so that a
// copy still on its way never writes into a buffer someone else reads.
struct SlotPool {
  std::mutex mutex;
  std::vector<ReadBack::Slot*> free;

  ReadBack::Slot* acquire(DType dtype, std::int64_t numel) {
    {
      const std::lock_guard lock(mutex);
      for (auto it = free.begin(); it != free.end(); ++it) {
        ReadBack::Slot* slot = *it;
        if (slot->buffer.dtype() != dtype || slot->buffer.numel() != numel) continue;
        const cudaError_t status = cudaEventQuery(slot->event);
        if (status == cudaErrorNotReady) continue;
        BIRDIE_CUDA_CHECK(status);
        free.erase(it);
        return slot;
      }
    }
    auto* slot = new ReadBack::Slot{Tensor::empty({numel}, dtype, Device::cpu, HostMemory::pinned), nullptr};
    BIRDIE_CUDA_CHECK(cudaEventCreateWithFlags(&slot->event, cudaEventDisableTiming));
    return slot;
  }

  void release(ReadBack::Slot* slot) {
    const std::lock_guard lock(mutex);
    free.push_back(slot);
  }
};

// Never destroyed: freeing page-locked memory or events after the CUDA runtime has shut
// down at exit would fail.
SlotPool& pool() {
  static auto* p = new SlotPool;
  return *p;
}

}  // namespace
#else
struct ReadBack::Slot {};
#endif

ReadBack::ReadBack(const Tensor& values) {
  if (values.is_cpu()) {
    host_ = values.clone();
    arrived_ = true;
    return;
  }
#ifdef BIRDIE_WITH_CUDA
  slot_ = pool().acquire(values.dtype(), values.numel());
  host_ = slot_->buffer.reshape(values.shape());
  BIRDIE_CUDA_CHECK(cudaMemcpyAsync(host_.raw_data(), values.raw_data(), values.nbytes(), cudaMemcpyDeviceToHost,
                                    current_stream()));
  BIRDIE_CUDA_CHECK(cudaEventRecord(slot_->event, current_stream()));
#else
  throw Error("ReadBack of a CUDA tensor in a build without CUDA");
#endif
}

ReadBack::~ReadBack() {
#ifdef BIRDIE_WITH_CUDA
  if (slot_ != nullptr) pool().release(slot_);
#endif
}

ReadBack::ReadBack(ReadBack&& other) noexcept
    : host_(std::move(other.host_)), slot_(std::exchange(other.slot_, nullptr)), arrived_(other.arrived_) {}

ReadBack& ReadBack::operator=(ReadBack&& other) noexcept {
  if (this != &other) {
    ReadBack gone(std::move(*this));  // returns this one's slot
    host_ = std::move(other.host_);
    slot_ = std::exchange(other.slot_, nullptr);
    arrived_ = other.arrived_;
  }
  return *this;
}

bool ReadBack::ready() const {
  if (arrived_ || slot_ == nullptr) return true;
#ifdef BIRDIE_WITH_CUDA
  const cudaError_t status = cudaEventQuery(slot_->event);
  if (status == cudaErrorNotReady) return false;
  BIRDIE_CUDA_CHECK(status);
#endif
  return true;
}

const Tensor& ReadBack::values() {
  BIRDIE_CHECK(host_.defined(), "ReadBack::values: nothing was read");
#ifdef BIRDIE_WITH_CUDA
  if (!arrived_ && !ready()) {
    const HostWait wait;
    BIRDIE_CUDA_CHECK(cudaEventSynchronize(slot_->event));
  }
#endif
  arrived_ = true;
  return host_;
}

}  // namespace birdie
