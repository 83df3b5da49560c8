// Corpus readers: the raw text the tokenizer and the shards are made from.
//
//   * a plain text file is one document; a folder is read recursively, files in name
//     order (hidden files skipped);
//   * .jsonl: one JSON object per line, the document is its string field `text_field`;
//   * .jsonl.zst: the same, decompressed as a stream with libzstd (never whole in memory);
//   * the fortunes folder (read_fortunes): each file split into documents on "%" lines.
//
// A malformed JSONL line (bad JSON, not an object, field missing or not a string) is
// reported with file and line number; it is skipped (and counted) or fatal by policy.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace birdie::data {

enum class MalformedLinePolicy { fail, skip };

struct CorpusOptions {
  std::string text_field = "text";
  MalformedLinePolicy malformed = MalformedLinePolicy::fail;
  // Called for each skipped line with "file:line: problem" (default: nothing).
  std::function<void(const std::string&)> warn;
};

struct CorpusProgress {
  std::uint64_t documents = 0;
  std::uint64_t input_bytes = 0;  // bytes of the input files consumed (compressed for .zst)
  std::uint64_t text_bytes = 0;   // bytes of document text produced
  std::uint64_t malformed_lines = 0;
};

// The files a corpus path stands for, in reading order.
std::vector<std::filesystem::path> corpus_files(const std::filesystem::path& path);

// Calls visit(document text) for every document under `path`, in a fixed order, until
// visit returns false. `progress` is updated as reading goes (for progress lines) and
// holds the totals after.
void read_corpus(const std::filesystem::path& path, const CorpusOptions& options,
                 const std::function<bool(std::string&&)>& visit, CorpusProgress& progress);

// The fortunes corpus: every fortune file of `directory` (index files *.dat and the *.u8
// links skipped), split on lines holding a single "%". Documents keep their newlines.
std::vector<std::string> read_fortunes(const std::filesystem::path& directory = "/usr/share/games/fortunes");

// Deterministic train/validation split by a hash of the document text: the same document
// always lands in the same split, whatever the reading order or thread count.
bool is_validation_document(std::string_view text, double validation_fraction);

}  // namespace birdie::data
