#include "data/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <sstream>
#include <unordered_map>

#include "engine/error.h"

namespace birdie::data {
namespace {

// Feeds the lines of in-memory documents to the SentencePiece trainer.
class LineIterator final : public sentencepiece::SentenceIterator {
 public:
  explicit LineIterator(const std::vector<std::string>& documents) : documents_(documents) { advance(); }
  bool done() const override { return document_ >= documents_.size(); }
  void Next() override { advance(); }
  const std::string& value() const override { return line_; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  // Moves to the next non-empty line.
  void advance() {
    while (document_ < documents_.size()) {
      const std::string& doc = documents_[document_];
      if (position_ >= doc.size()) {
        ++document_;
        position_ = 0;
        continue;
      }
      std::size_t end = doc.find('\n', position_);
      if (end == std::string::npos) end = doc.size();
      line_.assign(doc, position_, end - position_);
      position_ = end + 1;
      if (!line_.empty()) return;
    }
  }

  const std::vector<std::string>& documents_;
  std::size_t document_ = 0;
  std::size_t position_ = 0;
  std::string line_;
};

}  // namespace

void Tokenizer::train(const std::vector<std::string>& documents,
                      const std::filesystem::path& model_path,
                      const TokenizerTrainingOptions& options) {
  BIRDIE_CHECK(!documents.empty(), "tokenizer training: no documents to train on");
  BIRDIE_CHECK(options.vocab_size > special_tokens::reserved_count + 8, "tokenizer training: vocab_size ",
               options.vocab_size, " leaves no room after the ", special_tokens::reserved_count,
               " reserved symbols");
  std::string user_symbols;
  // <sg> (4) onwards are user-defined symbols; 0..3 are SentencePiece's own pad/unk/bos/eos.
  for (Token id = special_tokens::start_generating; id < special_tokens::reserved_count; ++id) {
    if (!user_symbols.empty()) user_symbols += ',';
    user_symbols += special_tokens::symbol(id);
  }
  std::filesystem::path prefix = model_path;
  prefix.replace_extension();
  const std::unordered_map<std::string, std::string> args = {
      {"model_prefix", prefix.string()},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"model_type", options.model_type},
      {"character_coverage", std::to_string(options.character_coverage)},
      {"input_sentence_size", std::to_string(options.input_sentence_size)},
      {"shuffle_input_sentence", "true"},
      {"num_threads", std::to_string(options.threads)},
      {"pad_id", "0"}, {"unk_id", "1"}, {"bos_id", "2"}, {"eos_id", "3"},
      {"pad_piece", "<pad>"}, {"unk_piece", "<unk>"}, {"bos_piece", "<bos>"}, {"eos_piece", "<eos>"},
      {"user_defined_symbols", user_symbols},
      {"minloglevel", "2"},
  };
  LineIterator lines(documents);
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &lines);
  BIRDIE_CHECK(status.ok(), "tokenizer training for ", model_path.string(), " failed: ",
               status.ToString(), ". Fix: a smaller --vocab or a larger corpus");
  // SentencePiece writes <prefix>.model and <prefix>.vocab; keep the name the caller asked for.
  std::filesystem::path written = prefix;
  written += ".model";
  if (written != model_path) std::filesystem::rename(written, model_path);
}

Tokenizer Tokenizer::load(const std::filesystem::path& model_path, int expected_vocab_size) {
  BIRDIE_CHECK(std::filesystem::exists(model_path), "tokenizer ", model_path.string(),
               " does not exist. Fix: run prepare_data (it writes tokenizer.model beside the shards)");
  Tokenizer t;
  t.processor_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = t.processor_->Load(model_path.string());
  BIRDIE_CHECK(status.ok(), "cannot load tokenizer ", model_path.string(), ": ", status.ToString());
  t.path_ = model_path;
  const int size = t.vocab_size();
  BIRDIE_CHECK(size > special_tokens::reserved_count, "tokenizer ", model_path.string(), " has only ",
               size, " pieces; the reserved symbols alone take ", special_tokens::reserved_count);
  for (Token id = 0; id < special_tokens::reserved_count; ++id) {
    const std::string expected = special_tokens::symbol(id);
    BIRDIE_CHECK(t.piece(id) == expected, "tokenizer ", model_path.string(), ": id ", id, " is '",
                 t.piece(id), "' but BIRDIE.md §1 reserves it for '", expected,
                 "'. Fix: retrain the tokenizer with prepare_data");
  }
  if (expected_vocab_size > 0)
    check_vocabulary_agreement({{"tokenizer", model_path.string(), size},
                                {"expected", "(caller)", expected_vocab_size}});
  return t;
}

Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

std::vector<Token> Tokenizer::encode(std::string_view text) const {
  std::vector<int> ids;
  const auto status = processor_->Encode(text, &ids);
  BIRDIE_CHECK(status.ok(), "tokenizer ", path_.string(), ": encode failed: ", status.ToString());
  return {ids.begin(), ids.end()};
}

std::string Tokenizer::decode(std::span<const Token> tokens) const {
  std::string out;
  const auto status = processor_->Decode(std::vector<int>(tokens.begin(), tokens.end()), &out);
  BIRDIE_CHECK(status.ok(), "tokenizer ", path_.string(), ": decode failed: ", status.ToString());
  return out;
}

std::string Tokenizer::decode_text(std::span<const Token> tokens) const {
  std::vector<Token> text;
  text.reserve(tokens.size());
  for (Token t : tokens)
    if (t >= special_tokens::reserved_count) text.push_back(t);
  return decode(text);
}

std::string Tokenizer::piece(Token id) const { return processor_->IdToPiece(id); }

int Tokenizer::vocab_size() const { return processor_->GetPieceSize(); }

void check_vocabulary_agreement(const std::vector<VocabularyClaim>& claims) {
  if (claims.empty()) return;
  bool agree = true;
  for (const auto& c : claims) agree = agree && c.vocab_size == claims.front().vocab_size;
  if (agree) return;
  std::ostringstream out;
  out << "vocabulary sizes disagree:";
  for (const auto& c : claims) out << "\n  " << c.what << " " << c.file << ": " << c.vocab_size;
  out << "\nFix: use the tokenizer the shards were written with (re-run prepare_data to "
         "rebuild both), and set the model's vocab_size to the tokenizer's";
  throw Error(out.str());
}

}  // namespace birdie::data
