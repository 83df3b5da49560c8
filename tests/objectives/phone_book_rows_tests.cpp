// Phone-book fine-tuning rows: prompt bidirectional, answer causal, packed like training.
#include <doctest/doctest.h>

#include <filesystem>
#include <unistd.h>

#include "objectives/phone_book_rows.h"
#include "packed_invariants.h"

namespace birdie::objectives {

TEST_CASE("phone-book rows: the book in the prefix, the numbers and <eos> as causal targets") {
  const auto dir = std::filesystem::temp_directory_path() / ("birdie_phonebook_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::vector<std::string> corpus;
  for (int i = 0; i < 60; ++i) corpus.push_back(data::tasks::make_phone_book(100, 4, 1000 + static_cast<std::uint64_t>(i)).prompt());
  data::TokenizerTrainingOptions training;
  training.vocab_size = 1000;
  data::Tokenizer::train(corpus, dir / "tokenizer.model", training);
  const data::Tokenizer tokenizer = data::Tokenizer::load(dir / "tokenizer.model");

  // One sample: decode it back.
  const auto book = data::tasks::make_phone_book(20, 3, 5);
  const Sample sample = phone_book_sample(book, tokenizer);
  CHECK(sample.label.back() == data::special_tokens::eos);
  CHECK(tokenizer.decode(std::vector<data::Token>(sample.label.begin(), sample.label.end() - 1)) == book.answer());
  CHECK(tokenizer.decode(sample.prompt).find("Find them in the phonebook above.") != std::string::npos);

  PhoneBookRowOptions options;
  options.rows = 3;
  options.row_length = 1024;
  options.min_pack_tokens = 64;
  options.min_entries = 10;
  options.max_entries = 400;  // larger than a row holds: books shrink to fit
  options.max_queries = 8;
  const PackedBatch batch = phone_book_rows(tokenizer, options, 7, 0);
  CHECK(batch.rows == 3);
  testing::check_row_format(batch);
  CHECK(batch.stats.samples >= 3);
  CHECK(batch.stats.truncated_samples == 0);
  CHECK(batch.stats.fill_ratio() > 0.8);
  // Every answer ends with <eos> as the last target of its segment.
  for (std::size_t i = 0; i + 1 < batch.segment.size(); ++i)
    if (batch.segment[i] != 0 && batch.segment[i + 1] != batch.segment[i]) CHECK(batch.targets[i] == data::special_tokens::eos);
  const PackedBatch again = phone_book_rows(tokenizer, options, 7, 0);
  CHECK(again.tokens == batch.tokens);
  CHECK(phone_book_rows(tokenizer, options, 7, 1).tokens != batch.tokens);
  std::filesystem::remove_all(dir);
}

}  // namespace birdie::objectives
