#include "objectives/validation_set.h"

#include "engine/error.h"
#include "objectives/row_packer.h"

namespace birdie::objectives {

std::vector<ValidationSet> build_validation_sets(const data::TokenSource& validation_text,
                                                 const std::vector<ObjectiveConfig>& configs,
                                                 int row_length, int min_pack_tokens,
                                                 int samples_per_config, std::uint64_t seed) {
  BIRDIE_CHECK(samples_per_config >= 1, "build_validation_sets: samples_per_config must be >= 1");
  std::vector<ValidationSet> sets;
  const auto length = static_cast<std::size_t>(row_length);
  for (std::size_t i = 0; i < configs.size(); ++i) {
    RandomGenerator rng(seed, i);
    RowPacker packer(row_length, min_pack_tokens, samples_per_config, 0);
    std::vector<data::Token> text;
    for (int k = 0; k < samples_per_config; ++k) {
      // Spread the sets over the validation text: configuration i, sample k.
      const std::size_t offset = (i * static_cast<std::size_t>(samples_per_config) + static_cast<std::size_t>(k)) * length;
      text.clear();
      validation_text.read(offset % validation_text.size(), length, text);
      const Sample sample = make_sample(configs[i], text, row_length, rng);
      packer.add(sample, static_cast<int>(i), configs[i].objective_class());
    }
    packer.finish();
    sets.push_back(ValidationSet{i, configs[i].name, packer.take_finished()});
  }
  return sets;
}

}  // namespace birdie::objectives
