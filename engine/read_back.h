// A small tensor's values on their way to the host, without making the host wait for the
// device: the way a training step reports its loss and gradient norm while the device
// goes on with the next step.
//
// ReadBack(t) queues a copy of t into page-locked host memory behind the work already on
// the current stream, and an event after it. ready() asks whether the values have arrived
// and never blocks; values() waits for them when they have not (one wait, counted by
// host_waits(): engine/device.h). A CPU tensor is copied at once, so it is always ready.
// The page-locked buffers and events are kept and reused (a buffer only once its copy is
// done), so a read per training step allocates nothing after the first few.
#pragma once

#include <memory>

#include "engine/tensor.h"

namespace birdie {

class ReadBack {
 public:
  ReadBack() = default;  // reads nothing: ready, and values() is undefined
  explicit ReadBack(const Tensor& values);
  ~ReadBack();
  ReadBack(ReadBack&& other) noexcept;
  ReadBack& operator=(ReadBack&& other) noexcept;
  ReadBack(const ReadBack&) = delete;
  ReadBack& operator=(const ReadBack&) = delete;

  // Whether the values have reached the host (never blocks).
  bool ready() const;
  // The values, a CPU tensor of the source's shape and dtype, valid while this object
  // lives; waits for the device when they have not arrived yet.
  const Tensor& values();

  struct Slot;  // a page-locked buffer and its event (engine/read_back.cpp)

 private:
  Tensor host_;              // a CPU source's copy, or the slot's buffer viewed as the source
  Slot* slot_ = nullptr;     // CUDA sources only
  bool arrived_ = false;
};

}  // namespace birdie
