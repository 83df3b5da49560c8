// MQAR, multi-query associative recall (Zoology, Arora et al. 2023): a list of key-value
// pairs, then some of the keys again; the model must answer each queried key's value. The
// standard synthetic recall probe for state space models, at the token level on the
// trained tokenizer's vocabulary.
//
// Vocabulary. Keys and values are single tokens from two disjoint sets of ordinary text
// pieces: ids ≥ special_tokens::reserved_count (119), byte pieces ("<0x0A>") and pieces
// that are only the word-boundary mark "▁" (no visible text) left out, decided by the
// piece string. The eligible pieces, in id order, alternate between the two sets (even
// positions keys, odd positions values), so both sets cover the frequent and the rare end
// of the vocabulary alike.
//
// One instance with n pairs and k queries (1 ≤ k ≤ n), in the prompt/answer framework of
// docs/method.md §2:
//
//   prompt = k_1 v_1 k_2 v_2 … k_n v_n [SEP] q_1 … q_k
//   label  = value(q_1) … value(q_k) <eos>
//
// Keys are distinct within an instance (drawn without replacement from the key set);
// values are drawn uniformly with replacement from the value set (two keys may share a
// value); the queried keys are k distinct keys of the list, in random order. An instance
// occupies 2n + 2k + 2 positions of a packed row (prompt, <sg>, label). Everything is
// drawn from RandomGenerator(seed, stream): a pure function of (vocabulary, n, k, seed,
// stream).
//
// Accuracy = the fraction of queried values answered right, position by position: the
// i-th generated token (reserved ids such as <eos> or [SEP] left out, as for every
// retrieval score) is compared with the i-th expected value; a missing token is wrong,
// tokens beyond the k-th are ignored. Random guessing from the value set scores
// 1 / |value set| on average.
//
// Stream spaces: evaluation instances, the held-out learning-curve set and fine-tuning rows
// draw from disjoint stream ranges (mqar_stream), so with the same seed they never share an
// instance's random numbers.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "data/special_tokens.h"

namespace birdie::data {
class Tokenizer;
}

namespace birdie::data::tasks {

struct MqarVocabulary {
  std::vector<Token> keys;    // ascending ids
  std::vector<Token> values;  // ascending ids, disjoint from keys

  double random_guess_accuracy() const { return values.empty() ? 0.0 : 1.0 / static_cast<double>(values.size()); }
};

// Whether a piece string can be a key or a value: not a byte piece (<0xHH>), not empty and
// not only "▁". Reserved ids are excluded by id, not here.
bool is_mqar_piece(const std::string& piece);

// pieces[id] = the piece string of id (the whole vocabulary, reserved ids included).
MqarVocabulary mqar_vocabulary(std::span<const std::string> pieces);
MqarVocabulary mqar_vocabulary(const Tokenizer& tokenizer);

// The first `symbols` keys and the first `symbols` values (the lowest ids: SentencePiece
// numbers its pieces by score, so the most frequent come first); the whole vocabulary when
// symbols is 0 or more than a set holds. A smaller value set makes recall easier to learn
// at small scale (random guessing then scores 1 / symbols).
MqarVocabulary limit_mqar_vocabulary(const MqarVocabulary& vocabulary, std::size_t symbols);

struct MqarInstance {
  std::vector<Token> keys, values;   // the n pairs, in prompt order
  std::vector<std::size_t> queries;  // indices into keys, in query order

  std::vector<Token> prompt() const;          // k_1 v_1 … k_n v_n [SEP] q_1 … q_k
  std::vector<Token> expected_values() const;  // value(q_1) … value(q_k)
  std::vector<Token> label() const;           // expected_values() then <eos>
  std::size_t row_tokens() const { return 2 * keys.size() + 2 * queries.size() + 2; }
};

// Positions an instance with `pairs` pairs and `queries` queries occupies in a packed row.
constexpr std::size_t mqar_row_tokens(int pairs, int queries) {
  return 2 * static_cast<std::size_t>(pairs) + 2 * static_cast<std::size_t>(queries) + 2;
}

// 1 ≤ queries ≤ pairs ≤ |keys|, values not empty; errors say which bound is broken.
MqarInstance make_mqar_instance(const MqarVocabulary& vocabulary, int pairs, int queries, std::uint64_t seed,
                                std::uint64_t stream);

// See the header comment: generated = the model's answer tokens (reserved ids are skipped).
double mqar_accuracy(std::span<const Token> expected_values, std::span<const Token> generated);

// Disjoint stream ranges: the top 4 bits name the space, index < 2^60.
enum class MqarStreamSpace : std::uint64_t { evaluation = 0, curve = 1, finetune = 2 };
std::uint64_t mqar_stream(MqarStreamSpace space, std::uint64_t index);
// The stream of evaluation instance `instance` of the cell (pairs, queries): the same
// instance whatever else is evaluated. pairs, queries, instance < 2^20.
std::uint64_t mqar_evaluation_stream(int pairs, int queries, std::uint64_t instance);

}  // namespace birdie::data::tasks
