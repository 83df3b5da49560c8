// MQAR samples for fine-tuning (data/tasks/mqar.h): the key-value list and the queried keys
// in the bidirectional prefix, the values and <eos> causal, packed by the same RowPacker as
// pre-training rows.
#pragma once

#include <cstdint>

#include "data/tasks/mqar.h"
#include "objectives/packed_batch.h"
#include "objectives/sample.h"

namespace birdie::objectives {

struct MqarRowOptions : BatchShape {
  MqarRowOptions() : BatchShape{.rows = 8, .row_length = 256, .min_pack_tokens = 16} {}
  int min_pairs = 2, max_pairs = 8;
  int min_queries = 1, max_queries = 4;
};

// prompt = the instance's prompt, label = its values then <eos>, consumed = 0.
Sample mqar_sample(const data::tasks::MqarInstance& instance);

// Checks the options against the vocabulary (ranges non-empty, min_queries ≤ min_pairs so
// every drawn pair count can hold the queries, max_pairs ≤ |keys|, the smallest instance
// fits a row); throws naming the option.
void check_mqar_row_options(const data::tasks::MqarVocabulary& vocabulary, const MqarRowOptions& options);

// `rows` rows of fresh instances, a pure function of (vocabulary, options, seed,
// batch_index). The instances' streams lie in MqarStreamSpace::finetune, never where
// evaluation or learning-curve instances are drawn. Per instance, pairs are drawn
// uniformly in [min_pairs, max_pairs] and queries in [min_queries, min(max_queries,
// pairs)]; when the instance would not fit the largest space left, the pairs (and then the
// queries) are lowered to what fits, never under the minimums; when even the smallest
// instance does not fit, the rows are finished. Several instances share a row as long as
// they fit (best fit). Sample tokens carry `objective_index` in PackedBatch::objective;
// the statistics count them as selective copying (the retrieval class they resemble).
PackedBatch mqar_rows(const data::tasks::MqarVocabulary& vocabulary, const MqarRowOptions& options,
                      std::uint64_t seed, std::uint64_t batch_index, int objective_index = 0);

}  // namespace birdie::objectives
