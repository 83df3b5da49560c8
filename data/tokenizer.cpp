#include "data/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <sstream>
#include <unordered_map>

#include "engine/atomic_file.h"
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

bool is_byte_piece(const std::string& piece) {
  return piece.size() == 6 && piece.starts_with("<0x") && piece.back() == '>';
}

// Refuses a model made by other rules than tokenizer_rules_version's. The model file does
// not say which options trained it in a form the public SentencePiece API reads, so the
// check looks at what the model does: no vocabulary piece may hold a digit with anything
// else (split_digits; a probe alone could miss it when no number happens to use such a
// piece), and text that the old rules mangle must come back exactly, without <unk>, with
// one piece per digit. One pass over the vocabulary and a few encodes: cheap enough for
// every load.
void check_tokenizer_rules(const Tokenizer& tokenizer) {
  const auto refuse = [&](const std::string& broken, const std::string& evidence) {
    throw Error(detail::concat(
        "tokenizer ", tokenizer.path().string(), " was made by older tokenizer rules: ", broken, " (", evidence,
        "). docs/method.md §1 needs one piece per digit, byte fallback and newlines kept (tokenizer rules ",
        tokenizer_rules_version, "). Fix: re-run prepare_data, which makes the tokenizer and the token shards "
        "together (shards written with the old tokenizer cannot be reused), and train new runs on that folder"));
  };
  for (Token id = special_tokens::reserved_count; id < tokenizer.vocab_size(); ++id) {
    const std::string piece = tokenizer.piece(id);
    if (piece.size() > 1 && !is_byte_piece(piece) &&
        std::any_of(piece.begin(), piece.end(), [](char c) { return c >= '0' && c <= '9'; }))
      refuse("digits are merged into multi-digit pieces", "id " + std::to_string(id) + " is '" + piece + "'");
  }
  struct Probe {
    std::string text;
    int digits;  // how many pieces must decode to exactly one digit
  };
  const Probe probes[] = {
      {"0123456789\n", 10},
      {"555-010-9999\n", 10},
      {"Ana Silva: 555-010-9999\nBo Li: 555-010-1234\n", 20},
      // Unseen characters, a tab, a control byte, leading and repeated spaces, blank lines.
      {"  caf\xC3\xA9\t\xF0\x9F\x99\x82 \x01  two  spaces\n\n", 0},
  };
  for (const Probe& probe : probes) {
    const std::vector<Token> ids = tokenizer.encode(probe.text);
    const std::string decoded = tokenizer.decode(ids);
    const bool has_unknown = std::find(ids.begin(), ids.end(), special_tokens::unk) != ids.end();
    int digit_pieces = 0;
    for (const Token id : ids) {
      const std::string piece = tokenizer.decode(std::span<const Token>(&id, 1));
      digit_pieces += piece.size() == 1 && piece[0] >= '0' && piece[0] <= '9';
    }
    const char* broken = has_unknown ? "unseen characters become <unk> (no byte fallback)"
                         : decoded != probe.text
                             ? "encode then decode does not give the text back (newlines or spaces are not kept)"
                         : digit_pieces != probe.digits ? "digits are merged into multi-digit pieces"
                                                        : nullptr;
    if (broken == nullptr) continue;
    std::string shown;
    for (const Token id : ids) {
      if (!shown.empty()) shown += ' ';
      shown += tokenizer.piece(id);
    }
    refuse(broken, std::string(probe.digits > 0 ? "a phone number" : "a test text") + " encodes as [" + shown + "]");
  }
}

}  // namespace

void Tokenizer::train(const std::vector<std::string>& documents,
                      const std::filesystem::path& model_path,
                      const TokenizerTrainingOptions& options) {
  BIRDIE_CHECK(!documents.empty(), "tokenizer training: no documents to train on");
  BIRDIE_CHECK(options.vocab_size >= minimum_vocab_size, "tokenizer training: vocab_size ", options.vocab_size,
               " is below the minimum of ", minimum_vocab_size, ": the ", special_tokens::reserved_count,
               " reserved symbols and the ", byte_piece_count, " byte pieces take ",
               special_tokens::reserved_count + byte_piece_count,
               " ids, and SentencePiece needs one more per distinct character of the corpus. Fix: a larger --vocab");
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
      // The rules of docs/method.md §1 (tokenizer_rules_version 2), as LLaMA's tokenizer has them:
      // - split_digits: no piece holds a digit with anything else, so "555-010-9999" is
      //   ten digit pieces whatever the corpus;
      // - byte_fallback: a character outside the vocabulary becomes its UTF-8 bytes (256
      //   byte pieces after the reserved ids) instead of <unk>, so decode gives it back;
      // - identity normalization, no whitespace clean-up: the default nmt_nfkc turns "\n"
      //   into a space and rewrites characters, and remove_extra_whitespaces drops leading,
      //   trailing and repeated spaces; both break the exact round trip. Training sees lines
      //   without their newline (LineIterator), so "\n" is the byte piece <0x0A>: one token
      //   per newline, never merged with the text around it. (A user-defined "\n" at id 119
      //   would give the same one token per newline from the same training lines, at the
      //   cost of one more fixed id and one piece less for text: the byte piece it is.)
      // - allow_whitespace_only_pieces: with spaces kept, runs of spaces (indentation,
      //   ASCII art in the fortunes) become pieces such as "▁▁▁▁" instead of one token each.
      {"split_digits", "true"},
      {"byte_fallback", "true"},
      {"normalization_rule_name", "identity"},
      {"remove_extra_whitespaces", "false"},
      {"allow_whitespace_only_pieces", "true"},
      {"minloglevel", "2"},
  };
  LineIterator lines(documents);
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &lines);
  BIRDIE_CHECK(status.ok(), "tokenizer training for ", model_path.string(), " failed: ", status.ToString(),
               ". Fix: a smaller --vocab or a larger corpus (or a larger --vocab when SentencePiece says the "
               "characters do not fit)");
  // SentencePiece writes <prefix>.model and <prefix>.vocab; keep the name the caller asked for.
  std::filesystem::path written = prefix;
  written += ".model";
  if (written == model_path) return;
  copy_file_atomically(written, model_path);
  std::filesystem::remove(written);
}

Tokenizer Tokenizer::load(const std::filesystem::path& model_path, int expected_vocab_size) {
  std::error_code error;  // a name too long for the file system is a missing file, not an exception
  BIRDIE_CHECK(std::filesystem::exists(model_path, error), "tokenizer ", model_path.string(), " does not exist",
               error && error != std::errc::no_such_file_or_directory ? " (" + error.message() + ")" : "", ". Fix: run prepare_data (it writes tokenizer.model beside the shards)");
  Tokenizer t;
  t.processor_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
  // SentencePiece reports most damage in its status, some by throwing (its double-array
  // trie refuses an empty piece): both are this file's error.
  sentencepiece::util::Status status;
  try {
    status = t.processor_->Load(model_path.string());
  } catch (const std::exception& e) {
    status = sentencepiece::util::Status(sentencepiece::util::StatusCode::kInternal, e.what());
  }
  BIRDIE_CHECK(status.ok(), "cannot load tokenizer ", model_path.string(), ": ", status.ToString(),
               " (not a SentencePiece model, or a damaged one). Fix: run prepare_data to write it again");
  t.path_ = model_path;
  const int size = t.vocab_size();
  BIRDIE_CHECK(size > special_tokens::reserved_count, "tokenizer ", model_path.string(), " has only ",
               size, " pieces; the reserved symbols alone take ", special_tokens::reserved_count);
  for (Token id = 0; id < special_tokens::reserved_count; ++id) {
    const std::string expected = special_tokens::symbol(id);
    BIRDIE_CHECK(t.piece(id) == expected, "tokenizer ", model_path.string(), ": id ", id, " is '",
                 t.piece(id), "' but docs/method.md §1 reserves it for '", expected,
                 "'. Fix: retrain the tokenizer with prepare_data");
  }
  check_tokenizer_rules(t);
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
