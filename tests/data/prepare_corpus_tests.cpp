// prepare_corpus end to end: a small JSONL corpus → tokenizer + shards that decode back.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

#include "data/prepare_corpus.h"
#include "data/token_shard.h"
#include "engine/error.h"
#include "temporary_folder.h"

namespace birdie::data {

TEST_CASE("prepare_corpus: documents end up in one split each, encoded and followed by <eos>") {
  testing::TemporaryFolder dir("birdie_prepare");
  std::vector<std::string> documents;
  {
    std::ofstream corpus(dir.path / "corpus.jsonl");
    // Varied words: digits are single pieces, so the words must give the vocabulary its
    // pieces beyond the reserved ids and the 256 byte pieces.
    const char* towns[] = {"Paris", "Lisbon", "Oslo", "Nairobi", "Lima", "Hanoi", "Quito", "Perth"};
    const char* weather[] = {"fine", "rainy", "windy", "cold", "sunny", "foggy", "humid", "mild"};
    for (int i = 0; i < 400; ++i) {
      documents.push_back("Document " + std::to_string(i) + " says the weather in " + towns[i % 8] + " number " +
                          std::to_string(i * 7 % 13) + " is " + weather[i * 3 % 8] + " today.");
      corpus << "{\"text\": \"" << documents.back() << "\"}\n";
    }
    corpus << "{\"text\": 5}\n";  // malformed: skipped with --skip-malformed semantics
  }
  PrepareOptions options;
  options.corpus = (dir.path / "corpus.jsonl").string();
  options.out = dir.path / "out";
  options.tokenizer.vocab_size = 420;
  options.validation_fraction = 0.1;
  options.threads = 2;
  options.shard_tokens = 2000;  // several shards
  CHECK_THROWS_WITH_AS(prepare_corpus(options), doctest::Contains("corpus.jsonl:401"), Error);
  options.corpus_options.malformed = MalformedLinePolicy::skip;
  const PrepareSummary summary = prepare_corpus(options);
  CHECK(summary.documents == 400);
  CHECK(summary.malformed_lines == 1);
  CHECK(summary.vocab_size == 420);
  CHECK(summary.validation_documents > 10);
  CHECK(summary.validation_documents < 80);
  CHECK(list_shards(options.out, "train").size() > 1);
  CHECK(std::filesystem::exists(options.out / "manifest.json"));
  {
    std::ifstream manifest(options.out / "manifest.json");
    const std::string text((std::istreambuf_iterator<char>(manifest)), std::istreambuf_iterator<char>());
    CHECK(text.find("\"tokenizer_rules\": " + std::to_string(tokenizer_rules_version)) != std::string::npos);
  }

  const Tokenizer tokenizer = Tokenizer::load(options.out / "tokenizer.model", 420);
  const ShardTokenSource train = open_split(options.out, "train", 420);
  const ShardTokenSource validation = open_split(options.out, "validation", 420);
  CHECK(train.size() == summary.train_tokens);
  CHECK(validation.size() == summary.validation_tokens);
  // Decode the training stream document by document: the training documents in order.
  std::vector<Token> all;
  train.read(0, train.size(), all);
  std::vector<std::string> decoded;
  std::vector<Token> current;
  for (Token t : all) {
    if (t == special_tokens::eos) {
      decoded.push_back(tokenizer.decode(current));
      current.clear();
    } else {
      current.push_back(t);
    }
  }
  std::vector<std::string> expected;
  for (const auto& d : documents)
    if (!is_validation_document(d, 0.1)) expected.push_back(d);
  CHECK(decoded == expected);
}

}  // namespace birdie::data
