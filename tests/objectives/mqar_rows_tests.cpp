// MQAR fine-tuning rows: the list and queries in the prefix, the values and <eos> as causal
// targets, several fresh instances per row, a pure function of (options, seed, batch).
#include <doctest/doctest.h>

#include <set>

#include "engine/error.h"
#include "objectives/mqar_rows.h"
#include "packed_invariants.h"

namespace birdie::objectives {
namespace {

using data::tasks::MqarVocabulary;

MqarVocabulary synthetic_vocabulary(int words) {
  std::vector<std::string> pieces;
  for (data::Token id = 0; id < data::special_tokens::reserved_count; ++id) pieces.push_back(data::special_tokens::symbol(id));
  for (int i = 0; i < words; ++i) {
    std::string piece = "w";
    piece += std::to_string(i);
    pieces.push_back(piece);
  }
  return data::tasks::mqar_vocabulary(pieces);
}

struct RowSample {
  std::vector<data::Token> prompt, targets;  // targets: the label (from the <sg> position on)
};

// The samples of a batch, read back from the segments.
std::vector<RowSample> samples_of(const PackedBatch& batch) {
  std::vector<RowSample> out;
  for (int r = 0; r < batch.rows; ++r) {
    int previous = 0;
    bool suffix = false;
    for (int t = 0; t < batch.length; ++t) {
      const auto i = batch.at(r, t);
      if (batch.segment[i] == 0) break;
      if (batch.segment[i] != previous) {
        out.emplace_back();
        previous = batch.segment[i];
        suffix = false;
      }
      if (batch.tokens[i] == data::special_tokens::start_generating) suffix = true;
      if (suffix) {
        REQUIRE(batch.targets[i] != ignore_target);
        out.back().targets.push_back(batch.targets[i]);
      } else {
        CHECK(batch.targets[i] == ignore_target);  // no target over the prompt
        out.back().prompt.push_back(batch.tokens[i]);
      }
    }
  }
  return out;
}

// Checks an MQAR prompt's layout and returns (pairs, queries, expected label).
std::vector<data::Token> expected_label(const std::vector<data::Token>& prompt, int& pairs, int& queries) {
  std::size_t sep = 0;
  while (sep < prompt.size() && prompt[sep] != data::special_tokens::separator) ++sep;
  REQUIRE(sep < prompt.size());
  REQUIRE(sep % 2 == 0);
  pairs = static_cast<int>(sep / 2);
  queries = static_cast<int>(prompt.size() - sep - 1);
  std::vector<data::Token> label;
  for (std::size_t q = sep + 1; q < prompt.size(); ++q) {
    std::size_t at = 0;
    while (at < sep / 2 && prompt[2 * at] != prompt[q]) ++at;
    REQUIRE(at < sep / 2);  // every query is a key of the list
    label.push_back(prompt[2 * at + 1]);
  }
  label.push_back(data::special_tokens::eos);
  return label;
}

}  // namespace

TEST_CASE("MQAR rows: several instances per row, targets only on the values and <eos>") {
  const MqarVocabulary v = synthetic_vocabulary(400);
  MqarRowOptions options;
  options.rows = 4;
  options.row_length = 128;
  options.min_pack_tokens = 6;
  options.min_pairs = 2;
  options.max_pairs = 8;
  options.min_queries = 1;
  options.max_queries = 4;
  const PackedBatch batch = mqar_rows(v, options, 7, 3, 5);
  CHECK(batch.rows == 4);
  CHECK(batch.length == 128);
  CHECK(batch.batch_index == 3);
  testing::check_row_format(batch);
  CHECK(batch.stats.truncated_samples == 0);
  CHECK(batch.stats.fill_ratio() > 0.9);
  CHECK(batch.stats.samples >= 4 * 3);  // instances take at most 2·8 + 2·4 + 2 = 26 positions
  const auto selective = static_cast<std::size_t>(ObjectiveClass::selective_copying);
  CHECK(batch.stats.tokens_per_class[selective] == batch.stats.sample_tokens);
  CHECK(batch.stats.samples_per_class[selective] == batch.stats.samples);
  for (std::size_t i = 0; i < batch.objective.size(); ++i) CHECK((batch.segment[i] == 0 ? -1 : 5) == batch.objective[i]);
  // Several samples in each row.
  for (int r = 0; r < batch.rows; ++r) CHECK(batch.segment[batch.at(r, 40)] >= 2);

  const auto samples = samples_of(batch);
  CHECK(samples.size() == batch.stats.samples);
  std::set<int> pair_counts;
  std::uint64_t label_tokens = 0;
  for (const RowSample& s : samples) {
    int pairs = 0, queries = 0;
    const auto label = expected_label(s.prompt, pairs, queries);
    CHECK(s.targets == label);  // the label is exactly the queried values, then <eos>
    CHECK(pairs >= 2);
    CHECK(pairs <= 8);
    CHECK(queries >= 1);
    CHECK(queries <= std::min(4, pairs));
    pair_counts.insert(pairs);
    label_tokens += s.targets.size();
    std::set<data::Token> keys;
    for (int p = 0; p < pairs; ++p) keys.insert(s.prompt[static_cast<std::size_t>(2 * p)]);
    CHECK(keys.size() == static_cast<std::size_t>(pairs));  // unique keys
  }
  CHECK(label_tokens == batch.stats.label_tokens);
  CHECK(pair_counts.size() >= 3);  // sizes are drawn from the range
}

TEST_CASE("MQAR rows: a pure function of (options, seed, batch index)") {
  const MqarVocabulary v = synthetic_vocabulary(400);
  MqarRowOptions options;
  options.rows = 3;
  options.row_length = 96;
  const PackedBatch a = mqar_rows(v, options, 11, 2);
  const PackedBatch again = mqar_rows(v, options, 11, 2);
  CHECK(again.tokens == a.tokens);
  CHECK(again.targets == a.targets);
  CHECK(again.reset == a.reset);
  CHECK(mqar_rows(v, options, 11, 3).tokens != a.tokens);
  CHECK(mqar_rows(v, options, 12, 2).tokens != a.tokens);
}

TEST_CASE("MQAR rows: instances shrink to the space left, never under the minimums") {
  const MqarVocabulary v = synthetic_vocabulary(400);
  MqarRowOptions options;
  options.rows = 2;
  options.row_length = 20;  // holds at most 2·7 + 2·2 + 2 = 20
  options.min_pack_tokens = 6;
  options.min_pairs = 2;
  options.max_pairs = 40;
  options.min_queries = 2;
  options.max_queries = 10;
  for (std::uint64_t b = 0; b < 10; ++b) {
    const PackedBatch batch = mqar_rows(v, options, 1, b);
    testing::check_row_format(batch);
    CHECK(batch.stats.truncated_samples == 0);
    for (const RowSample& s : samples_of(batch)) {
      int pairs = 0, queries = 0;
      CHECK(s.targets == expected_label(s.prompt, pairs, queries));
      CHECK(pairs >= 2);
      CHECK(queries >= 2);
    }
  }
}

TEST_CASE("MQAR rows: fine-tuning instances are never evaluation instances") {
  const MqarVocabulary v = synthetic_vocabulary(400);
  MqarRowOptions options;
  options.rows = 4;
  options.row_length = 64;
  options.min_pairs = options.max_pairs = 2;
  options.min_queries = options.max_queries = 1;
  std::set<std::vector<data::Token>> evaluation;
  for (std::uint64_t i = 0; i < 256; ++i)
    evaluation.insert(data::tasks::make_mqar_instance(v, 2, 1, 5, data::tasks::mqar_evaluation_stream(2, 1, i)).prompt());
  std::size_t seen = 0;
  for (std::uint64_t b = 0; b < 8; ++b)
    for (const RowSample& s : samples_of(mqar_rows(v, options, 5, b))) {
      ++seen;
      CHECK_FALSE(evaluation.contains(s.prompt));
    }
  CHECK(seen > 100);
}

TEST_CASE("MQAR rows: bad options are refused, naming the problem") {
  const MqarVocabulary v = synthetic_vocabulary(40);  // 20 keys
  MqarRowOptions options;
  options.row_length = 64;
  options.min_pairs = 4;
  options.max_pairs = 2;
  CHECK_THROWS_WITH_AS(mqar_rows(v, options, 1, 0), doctest::Contains("pairs range"), Error);
  options.max_pairs = 8;
  options.min_queries = 5;
  options.max_queries = 6;
  CHECK_THROWS_WITH_AS(mqar_rows(v, options, 1, 0), doctest::Contains("minimum queries"), Error);
  options.min_queries = 3;
  options.max_queries = 2;
  CHECK_THROWS_WITH_AS(mqar_rows(v, options, 1, 0), doctest::Contains("queries range"), Error);
  options.max_queries = 4;
  options.max_pairs = 21;
  CHECK_THROWS_WITH_AS(mqar_rows(v, options, 1, 0), doctest::Contains("20 key tokens"), Error);
  options.max_pairs = 8;
  options.row_length = 15;  // 2·4 + 2·3 + 2 = 16
  CHECK_THROWS_WITH_AS(mqar_rows(v, options, 1, 0), doctest::Contains("more than a row"), Error);
  options.row_length = 16;
  CHECK_NOTHROW(mqar_rows(v, options, 1, 0));
}

}  // namespace birdie::objectives
