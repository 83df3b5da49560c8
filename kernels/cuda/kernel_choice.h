// A kernel variant chosen by the program (set), else by an environment variable naming
// one, else a default: how the scan launchers (scan.cu, rglru.cu) pick among the kernels
// they keep selectable for tests, benchmarks and profiles. Host code only.
#pragma once

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <span>
#include <string>

#include "engine/error.h"

namespace birdie::kernels::cuda {

template <class Kernel>
class KernelChoice {
 public:
  // variable: the environment variable; all: every kernel, named by name(); fallback: the
  // kernel when neither the program nor the environment chose one.
  KernelChoice(const char* variable, std::span<const Kernel> all, const char* (*name)(Kernel), Kernel fallback)
      : variable_(variable), all_(all), name_(name), fallback_(fallback) {}

  Kernel get() const {
    const int chosen = chosen_.load(std::memory_order_relaxed);
    if (chosen >= 0) return static_cast<Kernel>(chosen);
    std::call_once(read_, [this] { from_environment_ = read_environment(); });
    return from_environment_;
  }
  void set(Kernel kernel) { chosen_.store(static_cast<int>(kernel)); }
  void clear() { chosen_.store(-1); }

 private:
  Kernel read_environment() const {
    const char* value = std::getenv(variable_);
    if (value == nullptr || *value == '\0') return fallback_;
    const std::string wanted = value;
    std::string names;
    for (Kernel kernel : all_) {
      if (wanted == name_(kernel)) return kernel;
      names += std::string(names.empty() ? "" : ", ") + name_(kernel);
    }
    throw Error(std::string(variable_) + "='" + wanted + "': the kernel is one of " + names +
                " (unset it for the default, " + name_(fallback_) + ")");
  }

  const char* variable_;
  std::span<const Kernel> all_;
  const char* (*name_)(Kernel);
  Kernel fallback_;
  std::atomic<int> chosen_{-1};  // -1: no set() choice
  mutable std::once_flag read_;
  mutable Kernel from_environment_{};
};

}  // namespace birdie::kernels::cuda
