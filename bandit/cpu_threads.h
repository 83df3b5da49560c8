// Threading of the critic's CPU work. The critic parallelizes with OpenMP (the engine's CPU
// kernels, the fused AdamW, candidate chunks scored side by side); OpenBLAS's own thread
// pool beside OpenMP's made both spin against each other on a 2-core machine
// (apps/bandit_bench: 85 ms per training iteration against 40 ms with OpenBLAS on one
// thread). The scope runs OpenBLAS single-threaded and restores its thread count on exit.
#pragma once

namespace birdie::bandit {

class BlasSingleThreadScope {
 public:
  BlasSingleThreadScope();
  ~BlasSingleThreadScope();
  BlasSingleThreadScope(const BlasSingleThreadScope&) = delete;
  BlasSingleThreadScope& operator=(const BlasSingleThreadScope&) = delete;

 private:
  int previous_;
};

}  // namespace birdie::bandit
