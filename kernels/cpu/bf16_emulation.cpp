#include "kernels/cpu/bf16_emulation.h"

namespace birdie::kernels::cpu {

namespace {
bool is_bf16(const Tensor& t) { return t.defined() && t.dtype() == DType::bf16; }
}  // namespace

const Tensor& Bf16Emulation::input(const Tensor& t) {
  if (!is_bf16(t)) return t;
  return inputs_.emplace_back(t.to(DType::f32));
}

Tensor& Bf16Emulation::output(Tensor& t) {
  if (!is_bf16(t)) return t;
  return stand_in(t, Tensor::empty(t.shape(), DType::f32));
}

Tensor& Bf16Emulation::accumulated(Tensor& t) {
  if (!is_bf16(t)) return t;
  return stand_in(t, t.to(DType::f32));
}

Tensor& Bf16Emulation::stand_in(Tensor& t, Tensor f32) {
  return outputs_.emplace_back(std::move(f32), t).first;
}

void Bf16Emulation::finish() {
  for (const auto& [f32, out] : outputs_) out.copy_from(f32.to(DType::bf16));
  outputs_.clear();
}

}  // namespace birdie::kernels::cpu
