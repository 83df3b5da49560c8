#include "objectives/batch_tensors.h"

namespace birdie::objectives {

BatchTensors to_tensors(const PackedBatch& batch) {
  const Shape shape{batch.rows, batch.length};
  auto make = [&](const std::vector<std::int32_t>& values) {
    return Tensor::from_values(std::span<const std::int32_t>(values), shape);
  };
  return {make(batch.tokens), make(batch.targets), make(batch.segment), make(batch.reset), make(batch.objective)};
}

}  // namespace birdie::objectives
