// Corpus readers: text, JSONL, JSONL.zst, fortunes, malformed lines, the split.
#include <doctest/doctest.h>
#include <zstd.h>

#include <fstream>

#include "data/corpus_reader.h"
#include "engine/error.h"
#include "temporary_folder.h"

namespace birdie::data {
namespace {

std::vector<std::string> read_all(const std::filesystem::path& path, const CorpusOptions& options,
                                  CorpusProgress& progress) {
  std::vector<std::string> docs;
  read_corpus(path, options, [&](std::string&& d) {
    docs.push_back(std::move(d));
    return true;
  }, progress);
  return docs;
}

}  // namespace

TEST_CASE("text files and folders: one document per file, in name order") {
  testing::TemporaryFolder dir("birdie_corpus_text");
  std::filesystem::create_directories(dir.path / "sub");
  std::ofstream(dir.path / "b.txt") << "second";
  std::ofstream(dir.path / "a.txt") << "first\nline";
  std::ofstream(dir.path / "sub" / "c.txt") << "third";
  std::ofstream(dir.path / ".hidden") << "skipped";
  CorpusProgress progress;
  const auto docs = read_all(dir.path, {}, progress);
  CHECK(docs == std::vector<std::string>{"first\nline", "second", "third"});
  CHECK(progress.documents == 3);
  CHECK(progress.text_bytes == 21);
}

TEST_CASE("jsonl: the configured field; malformed lines fatal or skipped with file:line") {
  testing::TemporaryFolder dir("birdie_corpus_jsonl");
  const auto path = dir.path / "docs.jsonl";
  std::ofstream(path) << "{\"body\": \"one\"}\n\n{\"body\": \"two\\nlines\"}\n{\"body\": 3}\n{broken\n{\"body\": \"last\"}";
  CorpusOptions options;
  options.text_field = "body";
  CorpusProgress progress;
  CHECK_THROWS_WITH_AS(read_all(path, options, progress), doctest::Contains("docs.jsonl:4: field \"body\" is not a string"), Error);
  options.malformed = MalformedLinePolicy::skip;
  std::vector<std::string> warnings;
  options.warn = [&](const std::string& w) { warnings.push_back(w); };
  CorpusProgress skipped;
  CHECK(read_all(path, options, skipped) == std::vector<std::string>{"one", "two\nlines", "last"});
  CHECK(skipped.malformed_lines == 2);
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[1].find("docs.jsonl:5: invalid JSON") != std::string::npos);
  options.text_field = "text";
  CorpusProgress missing;
  read_all(path, options, missing);
  CHECK(missing.malformed_lines == 5);
}

TEST_CASE("jsonl.zst is streamed, and a truncated stream is an error") {
  testing::TemporaryFolder dir("birdie_corpus_zst");
  std::string plain;
  for (int i = 0; i < 5000; ++i) plain += "{\"text\": \"document number " + std::to_string(i) + "\"}\n";
  std::string compressed(ZSTD_compressBound(plain.size()), '\0');
  compressed.resize(ZSTD_compress(compressed.data(), compressed.size(), plain.data(), plain.size(), 3));
  const auto path = dir.path / "docs.jsonl.zst";
  std::ofstream(path, std::ios::binary) << compressed;
  CorpusProgress progress;
  const auto docs = read_all(path, {}, progress);
  REQUIRE(docs.size() == 5000);
  CHECK(docs[4999] == "document number 4999");
  CHECK(progress.input_bytes == compressed.size());
  // Stopping early: the visitor returns false.
  std::size_t seen = 0;
  CorpusProgress partial;
  read_corpus(path, {}, [&](std::string&&) { return ++seen < 10; }, partial);
  CHECK(seen == 10);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << compressed.substr(0, compressed.size() / 2);
  CorpusProgress cut;
  CHECK_THROWS_WITH_AS(read_all(path, {}, cut), doctest::Contains("docs.jsonl.zst"), Error);
}

TEST_CASE("fortunes: split on % lines, index files skipped") {
  testing::TemporaryFolder dir("birdie_corpus_fortunes");
  std::ofstream(dir.path / "wisdom") << "A penny saved.\n%\nTwo\nlines.\n%\n%\nLast one.\n";
  std::ofstream(dir.path / "wisdom.dat") << "\x01\x02binary";
  const auto docs = read_fortunes(dir.path);
  CHECK(docs == std::vector<std::string>{"A penny saved.\n", "Two\nlines.\n", "Last one.\n"});
  if (std::filesystem::exists("/usr/share/games/fortunes")) CHECK(read_fortunes().size() > 5000);
  CHECK_THROWS_AS(read_fortunes(dir.path / "nope"), Error);
}

TEST_CASE("the train/validation split is a deterministic function of the text") {
  int validation = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string doc = "document " + std::to_string(i);
    const bool v = is_validation_document(doc, 0.05);
    CHECK(v == is_validation_document(std::string(doc), 0.05));
    validation += v;
  }
  CHECK(validation > 800);
  CHECK(validation < 1200);
  CHECK_FALSE(is_validation_document("anything", 0.0));
}

}  // namespace birdie::data
