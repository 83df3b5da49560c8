#include "objectives/mqar_rows.h"

#include <algorithm>

#include "engine/error.h"
#include "engine/random.h"
#include "objectives/objective_functions.h"
#include "objectives/row_packer.h"

namespace birdie::objectives {

using data::tasks::mqar_row_tokens;

Sample mqar_sample(const data::tasks::MqarInstance& instance) {
  Sample s;
  s.prompt = instance.prompt();
  s.label = instance.label();
  return s;
}

void check_mqar_row_options(const data::tasks::MqarVocabulary& vocabulary, const MqarRowOptions& options) {
  BIRDIE_CHECK(options.rows >= 1, "MQAR rows: rows = ", options.rows, "; need at least 1");
  BIRDIE_CHECK(options.min_pairs >= 1 && options.min_pairs <= options.max_pairs, "MQAR rows: the pairs range [",
               options.min_pairs, ", ", options.max_pairs, "] must be non-empty and start at 1 or more");
  BIRDIE_CHECK(options.min_queries >= 1 && options.min_queries <= options.max_queries,
               "MQAR rows: the queries range [", options.min_queries, ", ", options.max_queries,
               "] must be non-empty and start at 1 or more");
  BIRDIE_CHECK(options.min_queries <= options.min_pairs, "MQAR rows: at least ", options.min_queries,
               " queries but as few as ", options.min_pairs,
               " pairs; each query asks a distinct key, so the minimum queries must not exceed the minimum pairs");
  BIRDIE_CHECK(static_cast<std::size_t>(options.max_pairs) <= vocabulary.keys.size(), "MQAR rows: up to ",
               options.max_pairs, " pairs need as many distinct keys, but the vocabulary offers ",
               vocabulary.keys.size(), " key tokens");
  BIRDIE_CHECK(!vocabulary.values.empty(), "MQAR rows: the vocabulary offers no value tokens");
  BIRDIE_CHECK(mqar_row_tokens(options.min_pairs, options.min_queries) <= static_cast<std::size_t>(options.row_length),
               "MQAR rows: the smallest instance (", options.min_pairs, " pairs, ", options.min_queries, " queries) takes ",
               mqar_row_tokens(options.min_pairs, options.min_queries), " positions, more than a row of ",
               options.row_length);
}

PackedBatch mqar_rows(const data::tasks::MqarVocabulary& vocabulary, const MqarRowOptions& options,
                      std::uint64_t seed, std::uint64_t batch_index, int objective_index) {
  using data::tasks::MqarStreamSpace;
  using data::tasks::mqar_stream;
  check_mqar_row_options(vocabulary, options);
  constexpr std::uint64_t per_batch = std::uint64_t{1} << 24;  // streams per batch: sizes, then one per instance
  BIRDIE_CHECK(batch_index < (std::uint64_t{1} << 36), "MQAR rows: batch index ", batch_index, " is out of range");
  // (The packer wants min_pack_tokens under the row length; a row that holds exactly one
  // smallest instance is then finished by the space check below.)
  RowPacker packer(options.row_length, std::clamp(options.min_pack_tokens, 0, options.row_length - 1), options.rows,
                   options.rows);
  RandomGenerator sizes(seed, mqar_stream(MqarStreamSpace::finetune, batch_index * per_batch));
  std::uint64_t instance_number = 0;
  while (!packer.done()) {
    const auto space = static_cast<std::size_t>(packer.largest_space());
    int pairs = uniform_between(sizes, options.min_pairs, options.max_pairs);
    int queries = uniform_between(sizes, options.min_queries, std::min(options.max_queries, pairs));
    // Lower the pairs, then the queries, to what fits (2 positions per pair, 2 per query, 2 more).
    while (mqar_row_tokens(pairs, queries) > space && pairs > options.min_pairs) {
      --pairs;
      queries = std::min(queries, pairs);
    }
    while (mqar_row_tokens(pairs, queries) > space && queries > options.min_queries) --queries;
    if (mqar_row_tokens(pairs, queries) > space) {
      // Not even the smallest instance fits the space left: the rows are as full as they get.
      packer.finish();
      break;
    }
    ++instance_number;
    BIRDIE_CHECK(instance_number < per_batch, "MQAR rows: more than ", per_batch, " instances in one batch");
    const auto instance = data::tasks::make_mqar_instance(
        vocabulary, pairs, queries, seed, mqar_stream(MqarStreamSpace::finetune, batch_index * per_batch + instance_number));
    packer.add(mqar_sample(instance), objective_index, ObjectiveClass::selective_copying);
  }
  PackedBatch batch = packer.take_finished();
  batch.batch_index = batch_index;
  return batch;
}

}  // namespace birdie::objectives
