#include "objectives/phone_book_rows.h"

#include <algorithm>

#include "engine/error.h"
#include "objectives/objective_functions.h"
#include "objectives/row_packer.h"

namespace birdie::objectives {

Sample phone_book_sample(const data::tasks::PhoneBook& book, const data::Tokenizer& tokenizer) {
  Sample s;
  s.prompt = tokenizer.encode(book.prompt());
  s.label = tokenizer.encode(book.answer());
  s.label.push_back(data::special_tokens::eos);
  return s;
}

PackedBatch phone_book_rows(const data::Tokenizer& tokenizer, const PhoneBookRowOptions& options,
                            std::uint64_t seed, std::uint64_t batch_index, int objective_index) {
  BIRDIE_CHECK(options.min_entries >= 1 && options.min_entries <= options.max_entries &&
                   options.min_queries >= 1 && options.min_queries <= options.max_queries,
               "phone_book_rows: entry and query ranges must be non-empty and start at 1 or more");
  RowPacker packer(options.row_length, options.min_pack_tokens, options.rows, options.rows);
  // Sizes come from one stream per batch; each book from its own stream.
  RandomGenerator sizes(seed, batch_index << 20);
  std::uint64_t book_number = 0;
  while (!packer.done()) {
    const int space = packer.largest_space();
    int entries = uniform_between(sizes, options.min_entries, options.max_entries);
    const int queries = std::min(uniform_between(sizes, options.min_queries, options.max_queries), entries);
    Sample sample;
    bool fits = false;
    for (int attempt = 0; attempt < 12 && !fits; ++attempt) {
      const auto book = data::tasks::make_phone_book(entries, std::min(queries, entries), seed,
                                                     (batch_index << 20) + 1 + book_number * 16 + static_cast<std::uint64_t>(attempt),
                                                     options.names);
      sample = phone_book_sample(book, tokenizer);
      fits = sample.row_tokens() <= static_cast<std::size_t>(space);
      if (!fits) {
        if (entries == 1) break;
        const double scale = 0.95 * static_cast<double>(space) / static_cast<double>(sample.row_tokens());
        entries = std::max(1, std::min(entries - 1, static_cast<int>(entries * scale)));
      }
    }
    ++book_number;
    if (!fits) {
      // Not even the smallest book fits the space left: the rows are as full as they get.
      packer.finish();
      break;
    }
    packer.add(sample, objective_index, ObjectiveClass::selective_copying);
  }
  PackedBatch batch = packer.take_finished();
  batch.batch_index = batch_index;
  return batch;
}

}  // namespace birdie::objectives
