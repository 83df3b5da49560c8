// Exact outputs for hand-made input (1000, 1001, …) and fixed seeds. The expected values
// were checked by hand against docs/method.md §3; any change to the random-draw order or the
// rules shows up here.
#include <doctest/doctest.h>

#include "objectives/objective_functions.h"
#include "test_text.h"

namespace birdie::objectives {

namespace {
using V = std::vector<Token>;
const auto text = testing::counting_text(40);
constexpr Token s0 = data::special_tokens::sentinel(0), s1 = data::special_tokens::sentinel(1),
                s2 = data::special_tokens::sentinel(2);
namespace special = data::special_tokens;
}  // namespace

TEST_CASE("golden: next-token prediction") {
  RandomGenerator rng(1);
  const Sample s = make_next_token(text, NextTokenParams{}, 20, rng);
  CHECK(s.prompt == V{});
  CHECK(s.label == V{1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 1015, 1016, 1017, 1018, 1019});
  CHECK(s.consumed == 20);
}

TEST_CASE("golden: prefix LM splits at 10 of 20 (range [10, 16])") {
  RandomGenerator rng(1);
  const Sample s = make_prefix_lm(text, PrefixLmParams{}, 20, rng);
  CHECK(s.prompt == V{1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009});
  CHECK(s.label == V{1010, 1011, 1012, 1013, 1014, 1015, 1016, 1017, 1018, 1019});
  CHECK(s.consumed == 20);
}

TEST_CASE("golden: infilling, rate 0.3, span 3, budget 40 → 33 text tokens, one span of 4") {
  RandomGenerator rng(1);
  const Sample s = make_infilling(text, InfillingParams{0.3, 3, 40}, 40, rng);
  CHECK(s.prompt == V{1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 1015,
                      1016, 1017, 1018, 1019, 1020, 1021, 1022, s0, 1027, 1028, 1029, 1030, 1031, 1032});
  CHECK(s.label == V{s0, 1023, 1024, 1025, 1026});
  CHECK(s.consumed == 33);
}

TEST_CASE("golden: autoencoding and its deshuffle variant draw the same spans, then permute the runs") {
  const V label{1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010,
                1011, 1012, 1013, 1014, 1015, 1016, 1017, 1018, 1019, 1020, 1021};
  RandomGenerator rng(2);
  const Sample plain = make_autoencoding(text, AutoencodingParams{0.3, 3, 40, false}, 40, rng);
  CHECK(plain.prompt == V{s0, 1002, 1003, 1004, 1005, 1006, 1007, 1008, s1, 1011, 1012, 1013, s2, 1018, 1019, 1020, 1021});
  CHECK(plain.label == label);
  CHECK(plain.consumed == 22);
  RandomGenerator same(2);
  const Sample shuffled = make_autoencoding(text, AutoencodingParams{0.3, 3, 40, true}, 40, same);
  CHECK(shuffled.prompt == V{s0, 1011, 1012, 1013, s1, 1018, 1019, 1020, 1021, s2, 1002, 1003, 1004, 1005, 1006, 1007, 1008});
  CHECK(shuffled.label == label);
}

TEST_CASE("golden: copying and deshuffling") {
  RandomGenerator rng(1);
  const Sample copy = make_copying(text, CopyingParams{16, 24}, 40, rng);
  CHECK(copy.prompt == V{1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009});
  CHECK(copy.label == copy.prompt);
  RandomGenerator rng2(1);
  const Sample d = make_deshuffling(text, DeshufflingParams{20, 20, 0.5}, 40, rng2);
  CHECK(d.prompt == V{1000, 1007, 1002, 1008, 1004, 1005, 1001, 1003, 1006, 1009});
  CHECK(d.label == V{1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009});
}

TEST_CASE("golden: selective copying, two spans, query first") {
  RandomGenerator rng(1);
  const Sample s = make_selective_copying(text, SelectiveCopyingParams{30, 30, 2, 2, 4, 6, 1, 3, true}, 64, rng);
  const Token COPY = special::copy_marker, START = special::start_marker, END = special::end_marker,
              CONTEXT = special::context_marker, SEP = special::separator, DONE = special::done_marker;
  V prompt{COPY, START, 1012, END, 1018, START, 1000, 1001, END, 1006, 1007, 1008, CONTEXT};
  for (Token t = 1000; t < 1030; ++t) prompt.push_back(t);
  CHECK(s.prompt == prompt);
  CHECK(s.label == V{1013, 1014, 1015, 1016, 1017, SEP, 1002, 1003, 1004, 1005, DONE});
  CHECK(s.consumed == 30);
}

}  // namespace birdie::objectives
