// The model a run trains: f32 master weights (and gradients and moments), computing in the
// dtype its precision setting gives on its device (run_config.h: compute_dtype), its
// blocks' activations recomputed in the backward pass when asked (less memory, one more
// forward pass).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/device.h"
#include "model/language_model.h"

namespace birdie::training {

std::unique_ptr<model::LanguageModel> make_training_model(const model::ModelConfig& config, Device device,
                                                          const std::string& precision, std::uint64_t seed,
                                                          bool recompute_blocks);

}  // namespace birdie::training
