// The SentencePiece tokenizer with the reserved ids of BIRDIE.md §1.
#include <doctest/doctest.h>

#include <sentencepiece_trainer.h>

#include <algorithm>
#include <fstream>

#include "data/corpus_reader.h"
#include "data/tasks/phonebook.h"
#include "data/token_shard.h"
#include "data/tokenizer.h"
#include "engine/error.h"
#include "temporary_folder.h"

namespace birdie::data {
namespace special = special_tokens;

namespace {

std::vector<std::string> small_corpus() {
  std::vector<std::string> docs;
  if (std::filesystem::exists("/usr/share/games/fortunes")) {
    docs = read_fortunes();
    docs.resize(std::min<std::size_t>(docs.size(), 1500));
  } else {
    for (int i = 0; i < 1500; ++i)
      docs.push_back("The quick brown fox " + std::to_string(i) + " jumps over the lazy dog.\n");
  }
  return docs;
}

}  // namespace

TEST_CASE("reserved symbols: names and ids") {
  CHECK(special::reserved_count == 119);
  CHECK(special::symbol(0) == "<pad>");
  CHECK(special::symbol(3) == "<eos>");
  CHECK(special::symbol(special::start_generating) == "<sg>");
  CHECK(special::symbol(special::paradigm_next_token) == "<ntp>");
  CHECK(special::symbol(special::paradigm_selective_copying) == "<selective_copy>");
  CHECK(special::symbol(special::copy_marker) == "[COPY]");
  CHECK(special::symbol(special::done_marker) == "[DONE]");
  CHECK(special::symbol(19) == "<extra_id_0>");
  CHECK(special::symbol(118) == "<extra_id_99>");
  CHECK_THROWS_AS(special::symbol(119), Error);
}

TEST_CASE("a trained tokenizer has the reserved ids, round-trips text and checks vocabularies") {
  testing::TemporaryFolder dir("birdie_tokenizer");
  const auto model = dir.path / "tokenizer.model";
  TokenizerTrainingOptions options;
  options.vocab_size = 600;
  Tokenizer::train(small_corpus(), model, options);
  const Tokenizer tokenizer = Tokenizer::load(model, 600);
  CHECK(tokenizer.vocab_size() == 600);
  for (Token id = 0; id < special::reserved_count; ++id) CHECK(tokenizer.piece(id) == special::symbol(id));
  const std::string text = "A penny saved is a penny earned.";
  const auto ids = tokenizer.encode(text);
  CHECK(!ids.empty());
  for (Token t : ids) CHECK(t >= special::reserved_count);
  CHECK(tokenizer.decode(ids) == text);
  // User-defined symbols are single tokens.
  const auto marked = tokenizer.encode("before<sg>after <extra_id_7>");
  CHECK(std::count(marked.begin(), marked.end(), special::start_generating) == 1);
  CHECK(std::count(marked.begin(), marked.end(), special::sentinel(7)) == 1);

  // Reserved ids never reach the scored text: answers that start with, contain and end
  // with them score like the clean answer.
  const std::string number = "123-456-7890";
  const std::vector<Token> clean = tokenizer.encode(number);
  std::vector<Token> first = clean, inside = clean, last = clean;
  first.insert(first.begin(), {special::sentinel(0), special::paradigm_infilling});
  inside.insert(inside.begin() + std::ptrdiff_t(inside.size() / 2), special::separator);
  last.insert(last.end(), {special::sentinel(1), special::eos});
  CHECK(tokenizer.decode_text(clean) == tokenizer.decode(clean));
  for (const auto* answer : {&first, &inside, &last}) {
    CAPTURE(tokenizer.decode(*answer));
    const std::string text = tokenizer.decode_text(*answer);
    CHECK(text.find('<') == std::string::npos);
    CHECK(tasks::digit_accuracy(number, text) == 1.0);
  }
  CHECK(tasks::digit_accuracy(number, tokenizer.decode(first)) < 1.0);  // what the raw decode scored

  CHECK_THROWS_WITH_AS(Tokenizer::load(model, 4096), doctest::Contains("tokenizer.model: 600"), Error);
  CHECK_THROWS_WITH_AS(Tokenizer::load(dir.path / "missing.model"), doctest::Contains("prepare_data"), Error);

  // A data folder whose shard disagrees with its tokenizer: both files are named.
  write_token_shard(dir.path / "train_00000.bin", ids, 800);
  try {
    open_split(dir.path, "train");
    FAIL("expected a vocabulary mismatch");
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK(message.find("tokenizer.model: 600") != std::string::npos);
    CHECK(message.find("train_00000.bin: 800") != std::string::npos);
  }
  write_token_shard(dir.path / "train_00000.bin", ids, 600);
  CHECK(open_split(dir.path, "train").size() == ids.size());
  CHECK_THROWS_WITH_AS(open_split(dir.path, "train", 512), doctest::Contains("model config"), Error);
}

TEST_CASE("a SentencePiece model without the reserved symbols is refused, naming the id") {
  testing::TemporaryFolder dir("birdie_tokenizer_foreign");
  {
    std::ofstream corpus(dir.path / "corpus.txt");
    for (const auto& doc : small_corpus()) corpus << doc;
  }
  // A plain SentencePiece model: ids 0..2 are <unk> <s> </s>, no user-defined symbols.
  const auto status = sentencepiece::SentencePieceTrainer::Train(
      "--input=" + (dir.path / "corpus.txt").string() + " --model_prefix=" + (dir.path / "plain").string() +
      " --vocab_size=300 --minloglevel=2");
  REQUIRE(status.ok());
  CHECK_THROWS_WITH_AS(Tokenizer::load(dir.path / "plain.model"), doctest::Contains("reserves it for"), Error);
  std::ofstream(dir.path / "garbage.model") << "not a model";
  CHECK_THROWS_WITH_AS(Tokenizer::load(dir.path / "garbage.model"), doctest::Contains("cannot load tokenizer"), Error);
}

}  // namespace birdie::data
