// The SentencePiece tokenizer, trained by the project on the user's corpus, with the
// reserved symbols of docs/method.md §1 at ids 0..118 (data/special_tokens.h) and its rules:
// one piece per digit (a phone number is one token per digit), byte fallback (any byte
// encodes, nothing becomes <unk>), and text kept exactly through encode and decode
// (newlines, tabs, runs of spaces: a phone book is one entry per line).
#pragma once

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "data/special_tokens.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace birdie::data {

// The version of those rules, written into a data folder's manifest.json
// ("tokenizer_rules"). 1 (never written): SentencePiece's defaults, digits merged, unseen
// characters <unk>, newlines turned into spaces. 2: the rules above. Shards hold token
// ids, so a data folder made by other rules must be prepared again as a whole.
constexpr int tokenizer_rules_version = 2;

// Byte fallback puts the 256 byte pieces <0x00> … <0xFF> right after the reserved ids.
constexpr int byte_piece_count = 256;
// The smallest vocabulary that leaves room for one text piece; SentencePiece also needs one
// id per distinct character it keeps (character_coverage), so real corpora need more.
constexpr int minimum_vocab_size = special_tokens::reserved_count + byte_piece_count + 1;

struct TokenizerTrainingOptions {
  int vocab_size = 4096;
  // SentencePiece reads at most this many sentences (lines), sampled at random: it keeps
  // training fast on 2 cores whatever the corpus size.
  std::size_t input_sentence_size = 300000;
  int threads = 2;
  std::string model_type = "unigram";  // or "bpe"
  double character_coverage = 0.9995;
};

class Tokenizer {
 public:
  // Trains on `documents` (each split into lines, SentencePiece's sentences) and writes
  // `model_path` (e.g. out/tokenizer.model). Training sees no newline, so a newline
  // encodes as its byte piece <0x0A>: always one token, never merged into a word piece.
  static void train(const std::vector<std::string>& documents,
                    const std::filesystem::path& model_path,
                    const TokenizerTrainingOptions& options);

  // Loads a model and checks that ids 0..118 hold the reserved symbols and that it follows
  // the rules above (a model made by older rules is refused: re-run prepare_data). With
  // expected_vocab_size > 0, a different vocabulary size is an error naming the file.
  static Tokenizer load(const std::filesystem::path& model_path, int expected_vocab_size = 0);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  std::vector<Token> encode(std::string_view text) const;
  std::string decode(std::span<const Token> tokens) const;
  // The text alone: reserved ids (special_tokens: markers, paradigms, sentinels) are left
  // out before decoding, so a generated "<extra_id_0>123-456-7890" reads "123-456-7890".
  // What evaluators score and what generate prints.
  std::string decode_text(std::span<const Token> tokens) const;
  std::string piece(Token id) const;
  int vocab_size() const;
  const std::filesystem::path& path() const { return path_; }

 private:
  Tokenizer() = default;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  std::filesystem::path path_;
};

// One party's claim about the vocabulary size: "tokenizer" /path/tokenizer.model 4096.
struct VocabularyClaim {
  std::string what;  // "tokenizer", "shard", "model config", …
  std::string file;
  int vocab_size = 0;
};

// Throws, listing every claim, when they do not all agree: the message names which files
// disagree and says to re-run prepare_data or fix the model's vocab_size.
void check_vocabulary_agreement(const std::vector<VocabularyClaim>& claims);

}  // namespace birdie::data
