#include "training/training_model.h"

#include "training/run_config.h"

namespace birdie::training {

std::unique_ptr<model::LanguageModel> make_training_model(const model::ModelConfig& config, Device device,
                                                          const std::string& precision, std::uint64_t seed,
                                                          bool recompute_blocks) {
  std::unique_ptr<model::LanguageModel> lm =
      model::make_language_model(config, DType::f32, device, seed, compute_dtype(precision, device));
  lm->set_recompute_blocks(recompute_blocks);
  return lm;
}

}  // namespace birdie::training
