// Phone-book samples for fine-tuning (docs/method.md §6): the prompt (question, book, question)
// in the bidirectional prefix, the answer (numbers then <eos>) causal, packed by the same
// RowPacker as pre-training rows.
#pragma once

#include <cstdint>

#include "data/tasks/phonebook.h"
#include "data/tokenizer.h"
#include "objectives/packed_batch.h"
#include "objectives/sample.h"

namespace birdie::objectives {

struct PhoneBookRowOptions : BatchShape {  // 8 rows of 2048 tokens, min_pack_tokens 256
  int min_entries = 200, max_entries = 800;  // the paper's fine-tuning range (§6)
  int min_queries = 1, max_queries = 32;
  // The part of the name lists the books draw from (data/tasks/phonebook.h): fine-tuning
  // on one half keeps an evaluation on the other free of names seen in training.
  data::tasks::NameHalf names = data::tasks::NameHalf::all;
};

// A tokenized phone book: prompt = the prompt text's tokens, label = the answer's tokens
// then <eos>, consumed = 0 (no corpus text).
Sample phone_book_sample(const data::tasks::PhoneBook& book, const data::Tokenizer& tokenizer);

// `rows` rows of freshly generated books, a pure function of (tokenizer, options, seed,
// batch_index). Book sizes and query counts are drawn uniformly in the option ranges; a
// book whose sample does not fit the space left is regenerated with fewer entries (scaled
// by the fraction that fits), so the book size is bounded by the row length as §6 asks
// ("scale the book to the context"). Sample tokens carry `objective_index` in
// PackedBatch::objective; the statistics count them as selective copying (the retrieval
// class they resemble).
PackedBatch phone_book_rows(const data::Tokenizer& tokenizer, const PhoneBookRowOptions& options,
                            std::uint64_t seed, std::uint64_t batch_index, int objective_index = 0);

}  // namespace birdie::objectives
