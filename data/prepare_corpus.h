// prepare_data's work: corpus → tokenizer + token shards in an output folder.
//
// Output folder layout:
//   tokenizer.model            SentencePiece model (reserved ids 0..118)
//   train_00000.bin …          token shards of the training split (token_shard.h)
//   validation_00000.bin …     token shards of the validation split
//   manifest.json              what was written: vocabulary, tokenizer rules version,
//                              documents, tokens, files (open_split checks the rules)
// Every document is encoded and followed by <eos>; documents are assigned to a split by
// a hash of their text (is_validation_document).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "data/corpus_reader.h"
#include "data/tokenizer.h"

namespace birdie::data {

struct PrepareOptions {
  // "fortunes" (the demo corpus from /usr/share/games/fortunes), "debian-text" (English
  // text from Debian packages, data/debian_text.h) or a corpus path.
  std::string corpus = "fortunes";
  std::filesystem::path fortunes_directory = "/usr/share/games/fortunes";
  std::filesystem::path debian_text_root = "/";  // where the debian-text packages' files are
  std::filesystem::path out = "data_out/fortunes";
  TokenizerTrainingOptions tokenizer;
  // Train the tokenizer on at most this many bytes of training documents (the first ones).
  std::uint64_t tokenizer_sample_bytes = 64ull << 20;
  // Reuse this tokenizer instead of training one (it is copied into the output folder).
  std::filesystem::path existing_tokenizer;
  double validation_fraction = 0.02;
  CorpusOptions corpus_options;
  int threads = 0;  // 0: all cores
  std::uint64_t shard_tokens = 64ull << 20;
  // Called about twice a second with a progress line (documents/s, MB/s, ETA).
  std::function<void(const std::string&)> progress;
};

struct PreparedFile {
  std::filesystem::path path;
  std::uint64_t tokens = 0;
};

struct PrepareSummary {
  int vocab_size = 0;
  std::uint64_t documents = 0;
  std::uint64_t validation_documents = 0;
  std::uint64_t input_bytes = 0;
  std::uint64_t train_tokens = 0;
  std::uint64_t validation_tokens = 0;
  double tokenizer_seconds = 0;
  double encode_seconds = 0;  // reading, encoding and writing shards
  std::filesystem::path tokenizer;
  std::vector<PreparedFile> shards;
  std::uint64_t malformed_lines = 0;
};

PrepareSummary prepare_corpus(const PrepareOptions& options);

}  // namespace birdie::data
