// RowPacker invariants (docs/method.md §2, kernels/scan.h reset bits).
#include <doctest/doctest.h>

#include "engine/error.h"
#include "objectives/batch_tensors.h"
#include "objectives/row_packer.h"

namespace birdie::objectives {
namespace special = data::special_tokens;

TEST_CASE("packer: the §2 example, segments, resets and padding") {
  RowPacker packer(12, 0, 1, 1);
  packer.add(Sample{{104, 105, 106}, {107, 108, 109}, 3}, 5, ObjectiveClass::copying);
  packer.add(Sample{{}, {201, 202}, 2}, 2, ObjectiveClass::next_token);
  packer.finish();
  const PackedBatch b = packer.take_finished();
  REQUIRE(b.rows == 1);
  const int SG = special::start_generating;
  CHECK(b.tokens == std::vector<std::int32_t>{104, 105, 106, SG, 107, 108, SG, 201, 0, 0, 0, 0});
  CHECK(b.targets == std::vector<std::int32_t>{-1, -1, -1, 107, 108, 109, 201, 202, -1, -1, -1, -1});
  CHECK(b.segment == std::vector<std::int32_t>{1, 1, 1, 1, 1, 1, 2, 2, 0, 0, 0, 0});
  CHECK(b.reset == std::vector<std::int32_t>{1, 0, 0, 2, 2, 2, 3, 2, 1, 0, 0, 0});
  CHECK(b.objective == std::vector<std::int32_t>{5, 5, 5, 5, 5, 5, 2, 2, -1, -1, -1, -1});
  CHECK(b.stats.sample_tokens == 8);
  CHECK(b.stats.label_tokens == 5);
  CHECK(b.stats.fill_ratio() == doctest::Approx(8.0 / 12));
  CHECK(b.stats.samples_per_class[static_cast<int>(ObjectiveClass::copying)] == 1);
  CHECK(b.stats.tokens_per_class[static_cast<int>(ObjectiveClass::next_token)] == 2);
  const BatchTensors t = to_tensors(b);
  CHECK(t.reset.shape() == Shape{1, 12});
  CHECK(t.reset.dtype() == DType::i32);
  CHECK(t.reset.data<std::int32_t>()[6] == 3);
  CHECK(t.targets.data<std::int32_t>()[5] == 109);
}

TEST_CASE("packer: best fit picks the open row with the least room that holds the sample") {
  RowPacker packer(100, 0, 4, 0);
  packer.add(Sample{std::vector<Token>(30, 500), std::vector<Token>(30, 501), 0}, 0, ObjectiveClass::copying);  // row A: 60
  packer.add(Sample{std::vector<Token>(20, 500), std::vector<Token>(30, 501), 0}, 1, ObjectiveClass::copying);  // A full? 110 > 100: row B: 50
  packer.add(Sample{std::vector<Token>(10, 500), std::vector<Token>(20, 501), 0}, 2, ObjectiveClass::copying);  // A has 40 free, B 50: A
  packer.finish();
  const PackedBatch b = packer.take_finished();
  REQUIRE(b.rows == 2);
  // Row A (first opened) is the first one finished by finish().
  CHECK(b.objective[b.at(0, 60)] == 2);
  CHECK(b.segment[b.at(0, 60)] == 2);
  CHECK(b.objective[b.at(1, 0)] == 1);
  CHECK(b.segment[b.at(1, 50)] == 0);
}

TEST_CASE("packer: a row is finished when its free space drops under min_pack_tokens") {
  RowPacker packer(100, 30, 4, 0);
  packer.add(Sample{std::vector<Token>(40, 500), std::vector<Token>(35, 501), 0}, 0, ObjectiveClass::copying);
  CHECK(packer.take_finished().rows == 1);  // 25 free < 30
  packer.add(Sample{std::vector<Token>(40, 500), std::vector<Token>(25, 501), 0}, 0, ObjectiveClass::copying);
  CHECK(packer.take_finished().rows == 0);  // 35 free: still open
}

TEST_CASE("packer: streaming mode finishes the fullest row when too many are open") {
  RowPacker packer(100, 0, 2, 0);
  packer.add(Sample{{}, std::vector<Token>(70, 501), 0}, 0, ObjectiveClass::next_token);
  packer.add(Sample{{}, std::vector<Token>(60, 501), 0}, 1, ObjectiveClass::next_token);
  packer.add(Sample{{}, std::vector<Token>(50, 501), 0}, 2, ObjectiveClass::next_token);
  const PackedBatch b = packer.take_finished();
  REQUIRE(b.rows == 1);
  CHECK(b.objective[0] == 0);
}

TEST_CASE("packer: a sample longer than a row is truncated and counted, never dropped") {
  RowPacker packer(10, 0, 1, 0);
  packer.add(Sample{{1000, 1001, 1002, 1003}, {1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011}, 0}, 0,
             ObjectiveClass::copying);
  packer.finish();
  PackedBatch b = packer.take_finished();
  REQUIRE(b.rows == 1);
  const int SG = special::start_generating;
  CHECK(b.tokens == std::vector<std::int32_t>{1000, 1001, 1002, 1003, SG, 1004, 1005, 1006, 1007, 1008});
  CHECK(b.targets == std::vector<std::int32_t>{-1, -1, -1, -1, 1004, 1005, 1006, 1007, 1008, 1009});
  CHECK(b.stats.truncated_samples == 1);

  RowPacker long_prompt(10, 0, 1, 0);
  long_prompt.add(Sample{std::vector<Token>(30, 1000), {2000, 2001, 2002}, 0}, 0, ObjectiveClass::copying);
  long_prompt.finish();
  b = long_prompt.take_finished();
  CHECK(b.targets == std::vector<std::int32_t>{-1, -1, -1, -1, -1, -1, -1, 2000, 2001, 2002});
}

TEST_CASE("packer: with a row limit, a sample that fits nowhere is an error, largest_space says why") {
  RowPacker packer(100, 10, 2, 2);
  CHECK(packer.largest_space() == 100);
  packer.add(Sample{{}, std::vector<Token>(60, 501), 0}, 0, ObjectiveClass::next_token);
  packer.add(Sample{{}, std::vector<Token>(70, 501), 0}, 0, ObjectiveClass::next_token);
  CHECK(packer.largest_space() == 40);
  CHECK_THROWS_AS(packer.add(Sample{{}, std::vector<Token>(41, 501), 0}, 0, ObjectiveClass::next_token), Error);
  packer.add(Sample{{}, std::vector<Token>(40, 501), 0}, 0, ObjectiveClass::next_token);
  CHECK_FALSE(packer.done());
  packer.add(Sample{{}, std::vector<Token>(25, 501), 0}, 0, ObjectiveClass::next_token);
  CHECK(packer.done());
  CHECK(packer.take_finished().rows == 2);
  CHECK_THROWS_AS(packer.add(Sample{{1}, {}, 0}, 0, ObjectiveClass::copying), Error);
}

}  // namespace birdie::objectives
