// Packed batches from a realistic stream and the uniform mixture over the default grid.
#include <doctest/doctest.h>

#include "objectives/batch_builder.h"
#include "packed_invariants.h"
#include "test_text.h"

namespace birdie::objectives {

TEST_CASE("batches of the default grid: row format, fill >= 0.9, every class present") {
  const ObjectiveGrid grid = load_objective_grid(default_grid_path());
  const Mixture mixture = uniform_mixture(grid);
  const data::VectorTokenSource source(testing::distinct_text(50000, 1));
  PackingStats total;
  for (std::uint64_t batch = 0; batch < 12; ++batch) {
    RandomGenerator rng(42, batch);
    const PackedBatch b = build_packed_batch(source, batch * 16384, mixture, BatchShape{8, 2048, 256}, rng);
    CHECK(b.rows == 8);
    CHECK(b.length == 2048);
    testing::check_row_format(b);
    total.merge(b.stats);
  }
  MESSAGE("fill ratio ", total.fill_ratio(), " over ", total.samples, " samples");
  CHECK(total.fill_ratio() >= 0.9);
  CHECK(total.truncated_samples == 0);
  for (int c = 0; c < objective_class_count; ++c) CHECK(total.samples_per_class[static_cast<std::size_t>(c)] > 0);
}

TEST_CASE("batches: short rows, the ntp and ul2 mixtures, and determinism") {
  const ObjectiveGrid grid = load_objective_grid(default_grid_path());
  const data::VectorTokenSource source(testing::distinct_text(20000, 2));
  for (const Mixture& mixture : {next_token_mixture(), ul2_mixture(), uniform_mixture(grid)}) {
    RandomGenerator a(7, 3), b(7, 3), c(8, 3);
    const PackedBatch x = build_packed_batch(source, 0, mixture, BatchShape{4, 256, 32}, a);
    const PackedBatch y = build_packed_batch(source, 0, mixture, BatchShape{4, 256, 32}, b);
    const PackedBatch z = build_packed_batch(source, 0, mixture, BatchShape{4, 256, 32}, c);
    testing::check_row_format(x);
    CHECK(x.tokens == y.tokens);
    CHECK(x.targets == y.targets);
    CHECK(x.reset == y.reset);
    if (mixture.name != "ntp") CHECK(x.tokens != z.tokens);
    CHECK(x.stats.fill_ratio() >= 0.85);
  }
  // NTP rows: one causal sample per row, every token predicts the next text token.
  RandomGenerator rng(1);
  const PackedBatch ntp = build_packed_batch(source, 0, next_token_mixture(), BatchShape{2, 64, 8}, rng);
  const std::vector<data::Token> text = testing::distinct_text(20000, 2);
  CHECK(ntp.stats.fill_ratio() == 1.0);
  for (int r = 0; r < 2; ++r) {
    // The paradigm token is the whole prompt (placed first or last, same thing here).
    CHECK(ntp.tokens[ntp.at(r, 0)] == data::special_tokens::paradigm_next_token);
    CHECK(ntp.reset[ntp.at(r, 0)] == 1);
    CHECK(ntp.tokens[ntp.at(r, 1)] == data::special_tokens::start_generating);
    for (int t = 1; t < 64; ++t) {
      CHECK(ntp.reset[ntp.at(r, t)] == 2);
      // Text is read in order and carried over from row to row.
      CHECK(ntp.targets[ntp.at(r, t)] == text[static_cast<std::size_t>(63 * r + t - 1)]);
    }
  }
}

}  // namespace birdie::objectives
