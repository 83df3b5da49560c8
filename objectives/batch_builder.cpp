#include "objectives/batch_builder.h"

#include "engine/error.h"
#include "objectives/objective_functions.h"
#include "objectives/row_packer.h"

namespace birdie::objectives {

PackedBatch build_packed_batch(const data::TokenSource& source, std::uint64_t text_offset,
                               const Mixture& mixture, const BatchShape& shape,
                               RandomGenerator& rng) {
  BIRDIE_CHECK(shape.rows >= 1, "build_packed_batch: rows must be at least 1");
  BIRDIE_CHECK(shape.row_length > minimum_objective_budget, "build_packed_batch: row length ",
               shape.row_length, " must exceed ", minimum_objective_budget);
  RowPacker packer(shape.row_length, shape.min_pack_tokens, shape.rows, shape.rows);
  std::vector<Token> text;
  std::size_t text_begin = 0;  // text[text_begin:] is not consumed yet
  std::uint64_t read_position = text_offset;
  // One sample occupies at most one row, and reads at most as many tokens as it occupies.
  const auto refill_target = static_cast<std::size_t>(shape.row_length);
  while (!packer.done()) {
    const int space = packer.largest_space();
    if (space <= minimum_objective_budget) {
      packer.finish();
      break;
    }
    if (text.size() - text_begin < refill_target) {
      text.erase(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(text_begin));
      text_begin = 0;
      const std::size_t want = 4 * refill_target;
      source.read(read_position, want, text);
      read_position += want;
    }
    const std::size_t index = mixture.draw(rng);
    const ObjectiveConfig& config = mixture.configs[index];
    const std::span<const Token> available(text.data() + text_begin, text.size() - text_begin);
    const Sample sample = make_sample(config, available, space, rng);
    packer.add(sample, static_cast<int>(index), config.objective_class());
    text_begin += sample.consumed;
  }
  PackedBatch batch = packer.take_finished();
  BIRDIE_CHECK(batch.rows == shape.rows, "build_packed_batch: packed ", batch.rows,
               " rows instead of ", shape.rows);
  return batch;
}

}  // namespace birdie::objectives
