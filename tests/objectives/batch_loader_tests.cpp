// BatchLoader determinism and exact resume; validation sets.
#include <doctest/doctest.h>

#include <algorithm>

#include "engine/error.h"
#include "objectives/batch_loader.h"
#include "objectives/validation_set.h"
#include "packed_invariants.h"
#include "test_text.h"

namespace birdie::objectives {
namespace {

std::shared_ptr<const data::TokenSource> shared_text() {
  static auto source = std::make_shared<const data::VectorTokenSource>(testing::distinct_text(40000, 9));
  return source;
}

LoaderOptions small_options(int workers, std::uint64_t seed = 5) {
  LoaderOptions o;
  o.shape = BatchShape{4, 512, 64};
  o.seed = seed;
  o.workers = workers;
  o.prefetch = 3;
  return o;
}

bool same(const PackedBatch& a, const PackedBatch& b) {
  return a.tokens == b.tokens && a.targets == b.targets && a.segment == b.segment && a.reset == b.reset &&
         a.objective == b.objective && a.batch_index == b.batch_index;
}

}  // namespace

TEST_CASE("loader: same seed → same batches, whatever the worker count; another seed differs") {
  const ObjectiveGrid grid = load_objective_grid(default_grid_path());
  BatchLoader one(shared_text(), uniform_mixture(grid), small_options(1));
  BatchLoader three(shared_text(), uniform_mixture(grid), small_options(3));
  BatchLoader other(shared_text(), uniform_mixture(grid), small_options(2, 6));
  for (int i = 0; i < 8; ++i) {
    const PackedBatch a = one.next();
    const PackedBatch b = three.next();
    const PackedBatch c = other.next();
    CHECK(a.batch_index == static_cast<std::uint64_t>(i));
    CHECK(same(a, b));
    CHECK_FALSE(same(a, c));
    testing::check_row_format(a);
  }
}

TEST_CASE("loader: each epoch visits every text slice once, in a different order") {
  const BatchShape shape{4, 512, 64};
  const std::uint64_t slice = 4 * 512, slices = 97, size = slices * slice + 100;
  std::vector<std::uint64_t> first, second;
  for (std::uint64_t b = 0; b < 2 * slices; ++b) {
    const std::uint64_t offset = batch_text_offset(size, shape, 3, b);
    CHECK(offset < size);
    (b < slices ? first : second).push_back(offset);
    CHECK(offset == batch_text_offset(size, shape, 3, b));
  }
  // Within an epoch the slice starts are distinct and spaced by whole slices.
  for (auto* epoch : {&first, &second}) {
    std::vector<std::uint64_t> sorted = *epoch;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 1; i < sorted.size(); ++i) CHECK(sorted[i] - sorted[i - 1] >= slice);
  }
  CHECK(first != second);
  // Consecutive batches rarely read neighbouring slices.
  int neighbours = 0;
  for (std::size_t i = 1; i < first.size(); ++i)
    neighbours += (first[i] > first[i - 1] ? first[i] - first[i - 1] : first[i - 1] - first[i]) == slice;
  CHECK(neighbours < 10);
  // A source shorter than two slices is read in sequence, wrapping.
  CHECK(batch_text_offset(3000, shape, 3, 1) == 2048);
  CHECK(batch_text_offset(3000, shape, 3, 2) == 4096 % 3000);
}

TEST_CASE("loader: position save and restore continue exactly") {
  const ObjectiveGrid grid = load_objective_grid(default_grid_path());
  BatchLoader reference(shared_text(), uniform_mixture(grid), small_options(2));
  std::vector<PackedBatch> expected;
  for (int i = 0; i < 7; ++i) expected.push_back(reference.next());

  BatchLoader first(shared_text(), uniform_mixture(grid), small_options(2));
  for (int i = 0; i < 3; ++i) first.next();
  const std::string saved = first.position().serialize();
  CHECK(saved == "seed=5 next_batch=3");

  // A new loader (different seed at construction) restored from the saved line.
  BatchLoader resumed(shared_text(), uniform_mixture(grid), small_options(1, 99));
  resumed.next();
  resumed.restore(LoaderPosition::parse(saved));
  CHECK(resumed.position() == LoaderPosition{5, 3});
  for (int i = 3; i < 7; ++i) CHECK(same(resumed.next(), expected[static_cast<std::size_t>(i)]));
  CHECK_THROWS_AS(LoaderPosition::parse("seed=1"), Error);
}

TEST_CASE("loader: a new mixture applies to every batch handed out after set_mixture") {
  const ObjectiveGrid grid = load_objective_grid(default_grid_path());
  BatchLoader loader(shared_text(), uniform_mixture(grid), small_options(2));
  loader.next();
  loader.next();
  loader.set_mixture(next_token_mixture());
  for (int i = 0; i < 4; ++i) {
    const PackedBatch b = loader.next();
    CHECK(b.stats.samples_per_class[static_cast<std::size_t>(ObjectiveClass::next_token)] == b.stats.samples);
  }
  // The same switch point in another loader gives the same batches.
  BatchLoader again(shared_text(), uniform_mixture(grid), small_options(3));
  again.next();
  again.next();
  again.set_mixture(next_token_mixture());
  BatchLoader reference(shared_text(), next_token_mixture(), small_options(1));
  reference.restore({5, 2});
  for (int i = 0; i < 3; ++i) CHECK(same(again.next(), reference.next()));
}

TEST_CASE("validation sets: one per configuration, packed like training rows, fixed") {
  const ObjectiveGrid grid = load_objective_grid(default_grid_path());
  const data::VectorTokenSource held_out(testing::distinct_text(30000, 4));
  const auto sets = build_validation_sets(held_out, grid.configs, 1024, 128, 8, 3);
  REQUIRE(sets.size() == grid.configs.size());
  for (std::size_t i = 0; i < sets.size(); ++i) {
    CHECK(sets[i].config_index == i);
    CHECK(sets[i].name == grid.configs[i].name);
    CHECK(sets[i].rows.stats.samples == 8);
    CHECK(sets[i].rows.stats.samples_per_class[static_cast<std::size_t>(grid.configs[i].objective_class())] == 8);
    testing::check_row_format(sets[i].rows);
    for (std::size_t t = 0; t < sets[i].rows.objective.size(); ++t)
      if (sets[i].rows.segment[t] != 0) CHECK(sets[i].rows.objective[t] == static_cast<int>(i));
  }
  const auto again = build_validation_sets(held_out, grid.configs, 1024, 128, 8, 3);
  for (std::size_t i = 0; i < sets.size(); ++i) CHECK(sets[i].rows.tokens == again[i].rows.tokens);
}

}  // namespace birdie::objectives
