// bf16 on the CPU backend, by emulation. The CPU references compute in f32/f64 only, so a
// call with bf16 tensors runs the f32 reference on f32 copies of the bf16 operands and
// rounds the bf16 outputs back (nearest even). That is the arithmetic of the GPU kernels
// (load bf16, compute in f32, store bf16), so a mixed-precision model behaves on the CPU
// as on the GPU, up to summation order. Tensors of other dtypes pass through untouched,
// so f32/f64 calls cost nothing extra.
//
//   cpu::Bf16Emulation f32;
//   cpu::op(f32.input(x), f32.output(y), f32.accumulated(dw));
//   f32.finish();  // rounds y and dw back into their bf16 storage
#pragma once

#include <list>
#include <utility>

#include "engine/tensor.h"

namespace birdie::kernels::cpu {

class Bf16Emulation {
 public:
  // An f32 copy of a bf16 operand; any other tensor (an undefined one too) as it is.
  const Tensor& input(const Tensor& t);
  // An f32 stand-in for a bf16 output the op overwrites.
  Tensor& output(Tensor& t);
  // An f32 stand-in holding a bf16 output's current values, for outputs the op adds into
  // (beta = 1, weight gradients, scatter-adds): the sum is rounded once, in finish().
  Tensor& accumulated(Tensor& t);
  // Rounds every stand-in into its bf16 output. Call it once the op has returned.
  void finish();

 private:
  Tensor& stand_in(Tensor& t, Tensor f32);

  // Lists: references handed out stay valid, and an empty one allocates nothing.
  std::list<Tensor> inputs_;
  std::list<std::pair<Tensor, Tensor>> outputs_;  // (f32 stand-in, bf16 output)
};

}  // namespace birdie::kernels::cpu
