// The MQAR generator (data/tasks/mqar.h): vocabulary split, instances, scoring, streams.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "data/tasks/mqar.h"
#include "data/tasks/phonebook.h"
#include "data/tokenizer.h"
#include "engine/error.h"
#include "temporary_folder.h"

namespace birdie::data::tasks {
namespace {

// A vocabulary as piece strings: the reserved symbols, some byte pieces and bare
// word-boundary marks, then `words` ordinary pieces.
std::vector<std::string> synthetic_pieces(int words) {
  std::vector<std::string> pieces;
  for (Token id = 0; id < special_tokens::reserved_count; ++id) pieces.push_back(special_tokens::symbol(id));
  pieces.push_back("<0x0A>");
  pieces.push_back("\xe2\x96\x81");  // "▁"
  for (int i = 0; i < words; ++i) {
    pieces.push_back((i % 2 ? "\xe2\x96\x81w" : "w") + std::to_string(i));
    if (i % 7 == 3) pieces.push_back("<0xF" + std::string(1, "0123456789ABCDEF"[i % 16]) + ">");
  }
  return pieces;
}

}  // namespace

TEST_CASE("MQAR pieces: byte pieces and bare word-boundary marks are left out") {
  CHECK_FALSE(is_mqar_piece("<0x0A>"));
  CHECK_FALSE(is_mqar_piece("<0xff>"));
  CHECK_FALSE(is_mqar_piece("<0x00>"));
  CHECK_FALSE(is_mqar_piece(""));
  CHECK_FALSE(is_mqar_piece("\xe2\x96\x81"));
  CHECK_FALSE(is_mqar_piece("\xe2\x96\x81\xe2\x96\x81"));
  CHECK(is_mqar_piece("\xe2\x96\x81the"));
  CHECK(is_mqar_piece("a"));
  CHECK(is_mqar_piece("<0x0A"));
  CHECK(is_mqar_piece("<0xZZ>"));
  CHECK(is_mqar_piece("<0x0AB>"));
}

TEST_CASE("MQAR vocabulary: disjoint key and value sets of ordinary pieces, alternating by id") {
  const auto pieces = synthetic_pieces(300);
  const MqarVocabulary v = mqar_vocabulary(pieces);
  CHECK(v.keys.size() == 150);
  CHECK(v.values.size() == 150);
  CHECK(v.random_guess_accuracy() == doctest::Approx(1.0 / 150));
  std::set<Token> keys(v.keys.begin(), v.keys.end()), values(v.values.begin(), v.values.end());
  CHECK(keys.size() == v.keys.size());
  CHECK(values.size() == v.values.size());
  for (Token k : keys) CHECK_FALSE(values.contains(k));
  for (const auto* set : {&v.keys, &v.values}) {
    CHECK(std::is_sorted(set->begin(), set->end()));
    for (Token t : *set) {
      CHECK(t >= special_tokens::reserved_count);
      CHECK(is_mqar_piece(pieces[static_cast<std::size_t>(t)]));
      CHECK(pieces[static_cast<std::size_t>(t)].find("w") != std::string::npos);
    }
  }
  // Every eligible piece is in one of the sets.
  CHECK(v.keys.size() + v.values.size() == 300);
  // A vocabulary of reserved symbols only offers nothing.
  std::vector<std::string> reserved_only(pieces.begin(), pieces.begin() + special_tokens::reserved_count);
  CHECK(mqar_vocabulary(reserved_only).keys.empty());
}

TEST_CASE("MQAR vocabulary limited to the first N keys and values") {
  const MqarVocabulary v = mqar_vocabulary(synthetic_pieces(300));
  const MqarVocabulary small = limit_mqar_vocabulary(v, 16);
  CHECK(small.keys == std::vector<Token>(v.keys.begin(), v.keys.begin() + 16));
  CHECK(small.values == std::vector<Token>(v.values.begin(), v.values.begin() + 16));
  CHECK(small.random_guess_accuracy() == doctest::Approx(1.0 / 16));
  CHECK(limit_mqar_vocabulary(v, 0).keys == v.keys);
  CHECK(limit_mqar_vocabulary(v, 1000).values == v.values);
  CHECK_THROWS_AS(make_mqar_instance(small, 17, 1, 1, 0), Error);
  for (Token t : make_mqar_instance(small, 16, 4, 1, 0).values) CHECK(t <= small.values.back());
}

TEST_CASE("MQAR instance: the prompt and label layout, unique keys, the queried values") {
  const MqarVocabulary v = mqar_vocabulary(synthetic_pieces(300));
  const MqarInstance instance = make_mqar_instance(v, 6, 3, 11, 5);
  REQUIRE(instance.keys.size() == 6);
  REQUIRE(instance.values.size() == 6);
  REQUIRE(instance.queries.size() == 3);
  const std::vector<Token> prompt = instance.prompt();
  REQUIRE(prompt.size() == 6 * 2 + 1 + 3);
  for (std::size_t i = 0; i < 6; ++i) {
    CHECK(prompt[2 * i] == instance.keys[i]);
    CHECK(prompt[2 * i + 1] == instance.values[i]);
  }
  CHECK(prompt[12] == special_tokens::separator);
  std::vector<Token> expected;
  for (std::size_t j = 0; j < 3; ++j) {
    CHECK(prompt[13 + j] == instance.keys[instance.queries[j]]);
    expected.push_back(instance.values[instance.queries[j]]);
  }
  CHECK(instance.expected_values() == expected);
  expected.push_back(special_tokens::eos);
  CHECK(instance.label() == expected);
  CHECK(instance.row_tokens() == prompt.size() + instance.label().size());
  CHECK(instance.row_tokens() == mqar_row_tokens(6, 3));
  // The label is found by looking each queried key up in the list.
  for (std::size_t j = 0; j < 3; ++j) {
    const Token key = prompt[13 + j];
    std::size_t at = 0;
    while (prompt[2 * at] != key) ++at;
    CHECK(instance.label()[j] == prompt[2 * at + 1]);
  }

  // Over many instances: keys unique and from the key set, values from the value set,
  // queries distinct, every key set size reachable (pairs = all keys).
  const std::set<Token> keys(v.keys.begin(), v.keys.end()), values(v.values.begin(), v.values.end());
  for (std::uint64_t stream = 0; stream < 200; ++stream) {
    const int pairs = 1 + static_cast<int>(stream % 40);
    const MqarInstance x = make_mqar_instance(v, pairs, 1 + static_cast<int>(stream % static_cast<std::uint64_t>(pairs)), 3, stream);
    CHECK(std::set<Token>(x.keys.begin(), x.keys.end()).size() == x.keys.size());
    CHECK(std::set<std::size_t>(x.queries.begin(), x.queries.end()).size() == x.queries.size());
    for (Token k : x.keys) CHECK(keys.contains(k));
    for (Token val : x.values) CHECK(values.contains(val));
  }
  const MqarInstance all = make_mqar_instance(v, 150, 150, 1, 0);
  CHECK(std::set<Token>(all.keys.begin(), all.keys.end()) == keys);
}

TEST_CASE("MQAR instance: a pure function of (vocabulary, pairs, queries, seed, stream)") {
  const MqarVocabulary v = mqar_vocabulary(synthetic_pieces(300));
  const auto a = make_mqar_instance(v, 8, 4, 42, 7);
  CHECK(make_mqar_instance(v, 8, 4, 42, 7).prompt() == a.prompt());
  CHECK(make_mqar_instance(v, 8, 4, 42, 7).label() == a.label());
  CHECK(make_mqar_instance(v, 8, 4, 42, 8).prompt() != a.prompt());
  CHECK(make_mqar_instance(v, 8, 4, 43, 7).prompt() != a.prompt());
  // Values repeat across instances in proportion to the value set: roughly uniform.
  std::vector<int> counts(v.values.size());
  for (std::uint64_t stream = 0; stream < 300; ++stream)
    for (Token t : make_mqar_instance(v, 10, 1, 9, stream).values)
      ++counts[static_cast<std::size_t>(std::lower_bound(v.values.begin(), v.values.end(), t) - v.values.begin())];
  CHECK(*std::min_element(counts.begin(), counts.end()) > 2);   // 3000 draws over 150 values: ~20 each
  CHECK(*std::max_element(counts.begin(), counts.end()) < 50);
}

TEST_CASE("MQAR instance: bad sizes are refused") {
  const MqarVocabulary v = mqar_vocabulary(synthetic_pieces(20));
  CHECK_THROWS_AS(make_mqar_instance(v, 4, 5, 1, 0), Error);   // queries > pairs
  CHECK_THROWS_AS(make_mqar_instance(v, 4, 0, 1, 0), Error);   // no query
  CHECK_THROWS_AS(make_mqar_instance(v, 0, 0, 1, 0), Error);   // no pair
  CHECK_THROWS_AS(make_mqar_instance(v, 11, 1, 1, 0), Error);  // 10 keys only
  CHECK_NOTHROW(make_mqar_instance(v, 10, 1, 1, 0));
  CHECK_THROWS_WITH_AS(make_mqar_instance(v, 11, 1, 1, 0), doctest::Contains("10 key tokens"), Error);
  MqarVocabulary no_values = v;
  no_values.values.clear();
  CHECK_THROWS_AS(make_mqar_instance(no_values, 2, 1, 1, 0), Error);
}

TEST_CASE("MQAR accuracy: position by position, reserved tokens skipped, missing wrong, extra ignored") {
  const std::vector<Token> expected{200, 201, 202, 203};
  using V = std::vector<Token>;
  CHECK(mqar_accuracy(expected, V{200, 201, 202, 203}) == 1.0);                      // all right
  CHECK(mqar_accuracy(expected, V{200, 999, 202, 998}) == doctest::Approx(0.5));     // partial
  CHECK(mqar_accuracy(expected, V{200, 201}) == doctest::Approx(0.5));               // two missing
  CHECK(mqar_accuracy(expected, V{}) == 0.0);                                        // nothing
  CHECK(mqar_accuracy(expected, V{200, 201, 202, 203, 204, 205}) == 1.0);            // extra tokens ignored
  CHECK(mqar_accuracy(expected, V{201, 202, 203, 200}) == 0.0);                      // right values, wrong order
  CHECK(mqar_accuracy(expected, V{999, 200, 201, 202}) == 0.0);                      // shifted by one: all wrong
  CHECK(mqar_accuracy(expected, V{special_tokens::separator, 200, special_tokens::sentinel(0), 201, 202, 203}) ==
        1.0);                                                                         // reserved ids skipped
  CHECK(mqar_accuracy(expected, V{200, special_tokens::eos}) == doctest::Approx(0.25));
  CHECK(mqar_accuracy(V{}, V{1}) == 0.0);
}

TEST_CASE("MQAR streams: evaluation, learning curve and fine-tuning never share a stream") {
  CHECK(mqar_stream(MqarStreamSpace::evaluation, 5) == 5);
  CHECK(mqar_stream(MqarStreamSpace::curve, 5) != mqar_stream(MqarStreamSpace::evaluation, 5));
  CHECK(mqar_stream(MqarStreamSpace::finetune, 0) > mqar_stream(MqarStreamSpace::curve, (std::uint64_t{1} << 60) - 1));
  CHECK(mqar_stream(MqarStreamSpace::curve, 0) > mqar_evaluation_stream((1 << 20) - 1, (1 << 20) - 1, (1 << 20) - 1));
  CHECK_THROWS_AS(mqar_stream(MqarStreamSpace::evaluation, std::uint64_t{1} << 60), Error);
  CHECK_THROWS_AS(mqar_evaluation_stream(4, 1, std::uint64_t{1} << 20), Error);
  // One stream per (pairs, queries, instance).
  std::set<std::uint64_t> streams;
  for (int p = 1; p <= 8; ++p)
    for (int q = 1; q <= 8; ++q)
      for (std::uint64_t i = 0; i < 8; ++i) streams.insert(mqar_evaluation_stream(p, q, i));
  CHECK(streams.size() == 8 * 8 * 8);
}

TEST_CASE("MQAR vocabulary of a trained tokenizer") {
  testing::TemporaryFolder folder("birdie_mqar_vocabulary");
  std::vector<std::string> corpus;
  for (int i = 0; i < 40; ++i) corpus.push_back(make_phone_book(60, 2, 500 + static_cast<std::uint64_t>(i)).prompt());
  TokenizerTrainingOptions training;
  training.vocab_size = 600;
  Tokenizer::train(corpus, folder.path / "tokenizer.model", training);
  const Tokenizer tokenizer = Tokenizer::load(folder.path / "tokenizer.model");
  const MqarVocabulary v = mqar_vocabulary(tokenizer);
  CHECK(v.keys.size() > 100);
  CHECK(v.values.size() + 1 >= v.keys.size());
  CHECK(v.values.size() <= v.keys.size());
  std::set<Token> keys(v.keys.begin(), v.keys.end());
  std::size_t eligible = 0;
  for (Token id = special_tokens::reserved_count; id < tokenizer.vocab_size(); ++id)
    eligible += is_mqar_piece(tokenizer.piece(id)) ? 1 : 0;
  CHECK(v.keys.size() + v.values.size() == eligible);
  for (Token t : v.values) {
    CHECK_FALSE(keys.contains(t));
    CHECK(t >= special_tokens::reserved_count);
    CHECK(is_mqar_piece(tokenizer.piece(t)));
  }
  for (Token t : v.keys) CHECK(is_mqar_piece(tokenizer.piece(t)));
}

}  // namespace birdie::data::tasks
