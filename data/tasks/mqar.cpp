#include "data/tasks/mqar.h"

#include <algorithm>
#include <unordered_set>

#include "data/tokenizer.h"
#include "engine/error.h"
#include "engine/random.h"

namespace birdie::data::tasks {
namespace {

constexpr std::uint64_t space_bits = 60;
constexpr std::string_view word_boundary = "\xe2\x96\x81";  // "▁", SentencePiece's space mark

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

}  // namespace

bool is_mqar_piece(const std::string& piece) {
  if (piece.size() == 6 && piece.starts_with("<0x") && piece.back() == '>' && is_hex(piece[3]) && is_hex(piece[4]))
    return false;  // a byte piece
  std::string_view rest = piece;
  while (rest.starts_with(word_boundary)) rest.remove_prefix(word_boundary.size());
  return !rest.empty();
}

MqarVocabulary mqar_vocabulary(std::span<const std::string> pieces) {
  MqarVocabulary vocabulary;
  bool key = true;
  for (std::size_t id = special_tokens::reserved_count; id < pieces.size(); ++id) {
    if (!is_mqar_piece(pieces[id])) continue;
    (key ? vocabulary.keys : vocabulary.values).push_back(static_cast<Token>(id));
    key = !key;
  }
  return vocabulary;
}

MqarVocabulary mqar_vocabulary(const Tokenizer& tokenizer) {
  std::vector<std::string> pieces(static_cast<std::size_t>(tokenizer.vocab_size()));
  for (std::size_t id = 0; id < pieces.size(); ++id) pieces[id] = tokenizer.piece(static_cast<Token>(id));
  return mqar_vocabulary(pieces);
}

MqarVocabulary limit_mqar_vocabulary(const MqarVocabulary& vocabulary, std::size_t symbols) {
  MqarVocabulary limited = vocabulary;
  if (symbols > 0) {
    limited.keys.resize(std::min(symbols, limited.keys.size()));
    limited.values.resize(std::min(symbols, limited.values.size()));
  }
  return limited;
}

std::vector<Token> MqarInstance::prompt() const {
  std::vector<Token> out;
  out.reserve(2 * keys.size() + 1 + queries.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    out.push_back(keys[i]);
    out.push_back(values[i]);
  }
  out.push_back(special_tokens::separator);
  for (std::size_t q : queries) out.push_back(keys[q]);
  return out;
}

std::vector<Token> MqarInstance::expected_values() const {
  std::vector<Token> out;
  out.reserve(queries.size());
  for (std::size_t q : queries) out.push_back(values[q]);
  return out;
}

std::vector<Token> MqarInstance::label() const {
  std::vector<Token> out = expected_values();
  out.push_back(special_tokens::eos);
  return out;
}

MqarInstance make_mqar_instance(const MqarVocabulary& vocabulary, int pairs, int queries, std::uint64_t seed,
                                std::uint64_t stream) {
  BIRDIE_CHECK(pairs >= 1, "MQAR: ", pairs, " pairs requested; need at least 1");
  BIRDIE_CHECK(queries >= 1 && queries <= pairs, "MQAR: ", queries, " queries requested for ", pairs,
               " pairs; need 1 <= queries <= pairs (each query asks a distinct key of the list)");
  BIRDIE_CHECK(static_cast<std::size_t>(pairs) <= vocabulary.keys.size(), "MQAR: ", pairs,
               " pairs need as many distinct keys, but the vocabulary offers ", vocabulary.keys.size(),
               " key tokens: lower the pairs or use a tokenizer with a larger vocabulary");
  BIRDIE_CHECK(!vocabulary.values.empty(), "MQAR: the vocabulary offers no value tokens");
  RandomGenerator rng(seed, stream);
  MqarInstance instance;
  instance.keys.reserve(static_cast<std::size_t>(pairs));
  instance.values.reserve(static_cast<std::size_t>(pairs));
  std::unordered_set<Token> used;
  while (instance.keys.size() < static_cast<std::size_t>(pairs)) {
    const Token key = vocabulary.keys[rng.uniform_int(vocabulary.keys.size())];
    if (!used.insert(key).second) continue;  // keys are unique within an instance
    instance.keys.push_back(key);
    instance.values.push_back(vocabulary.values[rng.uniform_int(vocabulary.values.size())]);
  }
  // k distinct pairs in random order.
  instance.queries = distinct_indices(instance.keys.size(), static_cast<std::size_t>(queries), rng);
  return instance;
}

double mqar_accuracy(std::span<const Token> expected_values, std::span<const Token> generated) {
  if (expected_values.empty()) return 0.0;
  std::size_t position = 0, right = 0;
  for (Token t : generated) {
    if (position == expected_values.size()) break;  // tokens beyond the k-th are ignored
    if (t >= 0 && t < special_tokens::reserved_count) continue;
    if (t == expected_values[position]) ++right;
    ++position;
  }
  return static_cast<double>(right) / static_cast<double>(expected_values.size());
}

std::uint64_t mqar_stream(MqarStreamSpace space, std::uint64_t index) {
  BIRDIE_CHECK(index < (std::uint64_t{1} << space_bits), "MQAR: stream index ", index, " is out of range (< 2^60)");
  return (static_cast<std::uint64_t>(space) << space_bits) | index;
}

std::uint64_t mqar_evaluation_stream(int pairs, int queries, std::uint64_t instance) {
  constexpr std::uint64_t limit = std::uint64_t{1} << 20;
  BIRDIE_CHECK(pairs >= 0 && queries >= 0 && static_cast<std::uint64_t>(pairs) < limit &&
                   static_cast<std::uint64_t>(queries) < limit && instance < limit,
               "MQAR: evaluation cell (", pairs, " pairs, ", queries, " queries, instance ", instance,
               ") is out of range (each < 2^20)");
  return mqar_stream(MqarStreamSpace::evaluation,
                     (static_cast<std::uint64_t>(pairs) << 40) | (static_cast<std::uint64_t>(queries) << 20) | instance);
}

}  // namespace birdie::data::tasks
