// The SentencePiece tokenizer with the reserved ids of docs/method.md §1.
#include <doctest/doctest.h>

#include <sentencepiece_trainer.h>

#include <algorithm>
#include <fstream>
#include <unordered_map>

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
    // Digits are single pieces now: names give the vocabulary its other pieces.
    for (int i = 0; i < 20; ++i) docs.push_back(tasks::make_phone_book(100, 2, 100 + static_cast<std::uint64_t>(i)).prompt());
  }
  return docs;
}

// One tokenizer trained by Tokenizer::train, shared by the cases below (training takes a
// few seconds).
constexpr int shared_vocab_size = 600;
const std::filesystem::path& shared_model() {
  static const testing::TemporaryFolder dir("birdie_tokenizer_shared");
  static const std::filesystem::path model = [] {
    const auto path = dir.path / "tokenizer.model";
    TokenizerTrainingOptions options;
    options.vocab_size = shared_vocab_size;
    Tokenizer::train(small_corpus(), path, options);
    return path;
  }();
  return model;
}

// The digits of `text` in order, from the pieces that decode to exactly one digit.
std::string digit_pieces(const Tokenizer& tokenizer, const std::vector<Token>& ids) {
  std::string digits;
  for (const Token id : ids) {
    const std::string piece = tokenizer.decode(std::span<const Token>(&id, 1));
    if (piece.size() == 1 && piece[0] >= '0' && piece[0] <= '9') digits += piece;
  }
  return digits;
}

std::string digits_of(const std::string& text) {
  std::string digits;
  for (const char c : text)
    if (c >= '0' && c <= '9') digits += c;
  return digits;
}

void write_manifest(const std::filesystem::path& folder, const std::string& extra_fields) {
  std::ofstream(folder / "manifest.json") << "{\"format\": \"birdie token shards\"" << extra_fields << "}\n";
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
  std::filesystem::copy_file(shared_model(), model);
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
  write_manifest(dir.path, ", \"tokenizer_rules\": " + std::to_string(tokenizer_rules_version));
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

  // A data folder made by the old rules: its manifest has no "tokenizer_rules" (or no
  // manifest at all, or another version): refused, saying to prepare it again.
  write_manifest(dir.path, "");
  CHECK_THROWS_WITH_AS(open_split(dir.path, "train"), doctest::Contains("has no \"tokenizer_rules\""), Error);
  CHECK_THROWS_WITH_AS(open_split(dir.path, "train"), doctest::Contains("re-run prepare_data"), Error);
  write_manifest(dir.path, ", \"tokenizer_rules\": 1");
  CHECK_THROWS_WITH_AS(open_split(dir.path, "train"), doctest::Contains("re-run prepare_data"), Error);
  std::filesystem::remove(dir.path / "manifest.json");
  CHECK_THROWS_WITH_AS(open_split(dir.path, "train"), doctest::Contains("has no manifest.json"), Error);
}

TEST_CASE("tokenizer rules: one piece per digit, newlines kept, any character by its bytes") {
  const Tokenizer tokenizer = Tokenizer::load(shared_model());
  CHECK(tokenizer.vocab_size() == shared_vocab_size);
  // The byte pieces follow the reserved ids.
  CHECK(tokenizer.piece(special::reserved_count) == "<0x00>");
  CHECK(tokenizer.piece(special::reserved_count + byte_piece_count - 1) == "<0xFF>");

  const std::string number = "555-010-9999\n";
  const auto ids = tokenizer.encode(number);
  CAPTURE(ids.size());
  CHECK(tokenizer.decode(ids) == number);
  CHECK(digit_pieces(tokenizer, ids) == "5550109999");
  CHECK(std::count(ids.begin(), ids.end(), special::unk) == 0);

  // Any character: unseen ones become their UTF-8 bytes, never <unk>, and come back.
  for (const std::string text : {"\xC3\xA9", "\t", "\xF0\x9F\x99\x82", "\x01", "\x1B[0m", "\r\n", "  two  spaces  ",
                                 "\n\nblank lines\n\n", "na\xC3\xAFve caf\xC3\xA9 \xE2\x82\xAC 42 \xE4\xB8\xAD\xE6\x96\x87"}) {
    CAPTURE(text);
    const auto encoded = tokenizer.encode(text);
    CHECK(std::count(encoded.begin(), encoded.end(), special::unk) == 0);
    CHECK(tokenizer.decode(encoded) == text);
  }
  std::string every_ascii_byte;
  for (int c = 1; c < 128; ++c) every_ascii_byte += static_cast<char>(c);
  const auto ascii = tokenizer.encode(every_ascii_byte);
  CHECK(std::count(ascii.begin(), ascii.end(), special::unk) == 0);
  CHECK(tokenizer.decode(ascii) == every_ascii_byte);

  // A phone book: one entry per line, every digit its own piece, exact round trip.
  const std::string book = tasks::make_phone_book(40, 3, 17).prompt();
  REQUIRE(std::count(book.begin(), book.end(), '\n') > 40);
  const auto book_ids = tokenizer.encode(book);
  CHECK(tokenizer.decode(book_ids) == book);
  CHECK(digit_pieces(tokenizer, book_ids) == digits_of(book));
  CHECK(std::count(book_ids.begin(), book_ids.end(), special::unk) == 0);
}

TEST_CASE("a vocabulary without room for the byte pieces is refused, naming the minimum") {
  testing::TemporaryFolder dir("birdie_tokenizer_small");
  TokenizerTrainingOptions options;
  options.vocab_size = 300;
  CHECK_THROWS_WITH_AS(Tokenizer::train({"some text"}, dir.path / "tokenizer.model", options),
                       doctest::Contains(("below the minimum of " + std::to_string(minimum_vocab_size)).c_str()), Error);
}

TEST_CASE("a tokenizer made by the old rules is refused, saying to re-run prepare_data") {
  testing::TemporaryFolder dir("birdie_tokenizer_old");
  {
    std::ofstream corpus(dir.path / "corpus.txt");
    const auto docs = small_corpus();
    for (std::size_t i = 0; i < 300; ++i) corpus << docs[i];  // a few hundred: four trainings stay quick
    // Numbers that repeat, so that a model without split_digits learns multi-digit pieces.
    for (int i = 0; i < 1000; ++i) corpus << "In " << 1900 + i % 120 << " the call to 555-0100 cost " << i % 50 << " cents.\n";
  }
  std::string user_symbols;
  for (Token id = special::start_generating; id < special::reserved_count; ++id) {
    if (!user_symbols.empty()) user_symbols += ',';
    user_symbols += special::symbol(id);
  }
  // The old rules (SentencePiece's defaults), then each rule of today missing on its own,
  // with the complaint expected.
  struct OldRules {
    const char* name;
    std::unordered_map<std::string, std::string> options;
    const char* complaint;
  };
  const OldRules cases[] = {
      {"old", {}, ""},
      {"merged_digits", {{"byte_fallback", "true"}, {"normalization_rule_name", "identity"}, {"remove_extra_whitespaces", "false"}},
       "digits are merged"},
      {"no_byte_fallback", {{"split_digits", "true"}, {"normalization_rule_name", "identity"}, {"remove_extra_whitespaces", "false"}},
       "<unk>"},
      {"newlines_lost", {{"split_digits", "true"}, {"byte_fallback", "true"}}, "does not give the text back"},
  };
  for (const OldRules& old : cases) {
    const std::string name = old.name;
    CAPTURE(name);
    std::unordered_map<std::string, std::string> args = {
        {"input", (dir.path / "corpus.txt").string()},
        {"model_prefix", (dir.path / old.name).string()},
        {"vocab_size", "500"},
        {"pad_id", "0"}, {"unk_id", "1"}, {"bos_id", "2"}, {"eos_id", "3"},
        {"pad_piece", "<pad>"}, {"unk_piece", "<unk>"}, {"bos_piece", "<bos>"}, {"eos_piece", "<eos>"},
        {"user_defined_symbols", user_symbols},
        {"minloglevel", "2"},
    };
    args.insert(old.options.begin(), old.options.end());
    REQUIRE(sentencepiece::SentencePieceTrainer::Train(args).ok());
    const auto model = dir.path / (std::string(old.name) + ".model");
    try {
      (void)Tokenizer::load(model);
      FAIL("expected the old-rules tokenizer to be refused");
    } catch (const Error& e) {
      const std::string message = e.what();
      CAPTURE(message);
      CHECK(message.find(model.string()) != std::string::npos);
      CHECK(message.find("older tokenizer rules") != std::string::npos);
      CHECK(message.find(old.complaint) != std::string::npos);
      CHECK(message.find("re-run prepare_data") != std::string::npos);
    }
  }
}

TEST_CASE("a SentencePiece model without the reserved symbols is refused, naming the id") {
  testing::TemporaryFolder dir("birdie_tokenizer_foreign");
  {
    std::ofstream corpus(dir.path / "corpus.txt");
    const auto docs = small_corpus();
    for (std::size_t i = 0; i < 500; ++i) corpus << docs[i];
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
