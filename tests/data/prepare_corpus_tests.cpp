// prepare_corpus end to end: a small JSONL corpus → tokenizer + shards that decode back.
#include <doctest/doctest.h>

#include <fstream>

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
    for (int i = 0; i < 400; ++i) {
      documents.push_back("Document " + std::to_string(i) + " says the weather in town number " +
                          std::to_string(i * 7 % 13) + " is fine today.");
      corpus << "{\"text\": \"" << documents.back() << "\"}\n";
    }
    corpus << "{\"text\": 5}\n";  // malformed: skipped with --skip-malformed semantics
  }
  PrepareOptions options;
  options.corpus = (dir.path / "corpus.jsonl").string();
  options.out = dir.path / "out";
  options.tokenizer.vocab_size = 200;
  options.validation_fraction = 0.1;
  options.threads = 2;
  options.shard_tokens = 2000;  // several shards
  CHECK_THROWS_WITH_AS(prepare_corpus(options), doctest::Contains("corpus.jsonl:401"), Error);
  options.corpus_options.malformed = MalformedLinePolicy::skip;
  const PrepareSummary summary = prepare_corpus(options);
  CHECK(summary.documents == 400);
  CHECK(summary.malformed_lines == 1);
  CHECK(summary.vocab_size == 200);
  CHECK(summary.validation_documents > 10);
  CHECK(summary.validation_documents < 80);
  CHECK(list_shards(options.out, "train").size() > 1);
  CHECK(std::filesystem::exists(options.out / "manifest.json"));

  const Tokenizer tokenizer = Tokenizer::load(options.out / "tokenizer.model", 200);
  const ShardTokenSource train = open_split(options.out, "train", 200);
  const ShardTokenSource validation = open_split(options.out, "validation", 200);
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
