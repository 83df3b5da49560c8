// Invariants of the seven objectives on random input (docs/method.md §3).
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>

#include "objectives/objective_config.h"
#include "objectives/objective_functions.h"
#include "objectives/span_corruption.h"
#include "test_text.h"

namespace birdie::objectives {
namespace special = data::special_tokens;
using testing::distinct_text;

namespace {

std::vector<Token> sorted(std::vector<Token> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// Checks that `tokens` with sentinels removed are a contiguous run of `text` starting at
// `from` for every stretch between sentinels, and returns the sentinels in order.
std::vector<Token> sentinels_in(const std::vector<Token>& tokens) {
  std::vector<Token> s;
  for (Token t : tokens)
    if (special::is_sentinel(t)) s.push_back(t);
  return s;
}

void check_sequential(const std::vector<Token>& sentinels) {
  for (std::size_t i = 0; i < sentinels.size(); ++i)
    CHECK(sentinels[i] == special::sentinel(static_cast<int>(i)));
}

}  // namespace

TEST_CASE("next-token prediction: empty prompt, label is the text, nothing of it in the prompt") {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const auto text = distinct_text(600, seed);
    RandomGenerator rng(seed);
    const Sample s = make_next_token(text, NextTokenParams{}, 300, rng);
    CHECK(s.prompt.empty());
    CHECK(s.label == std::vector<Token>(text.begin(), text.begin() + 300));
    CHECK(s.consumed == 300);
    // With the paradigm token placed, the prompt is exactly that token: no text leaks in.
    ObjectiveConfig config{"ntp", NextTokenParams{}, ParadigmPlacement::random};
    const Sample with_paradigm = make_sample(config, text, 300, rng);
    CHECK(with_paradigm.prompt == std::vector<Token>{special::paradigm_next_token});
    CHECK(with_paradigm.row_tokens() <= 300);
  }
  RandomGenerator rng(1);
  const auto text = distinct_text(600, 1);
  CHECK(make_next_token(text, NextTokenParams{64}, 300, rng).label.size() == 64);
}

TEST_CASE("prefix LM: split point in [n/2, n-4], prompt ‖ label == text") {
  std::set<std::size_t> splits;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    const auto text = distinct_text(100, seed);
    RandomGenerator rng(seed);
    const Sample s = make_prefix_lm(text, PrefixLmParams{}, 40, rng);
    REQUIRE(s.consumed == 40);
    CHECK(s.prompt.size() >= 20);
    CHECK(s.prompt.size() <= 36);
    std::vector<Token> joined = s.prompt;
    joined.insert(joined.end(), s.label.begin(), s.label.end());
    CHECK(joined == std::vector<Token>(text.begin(), text.begin() + 40));
    splits.insert(s.prompt.size());
  }
  CHECK(splits.size() == 17);  // every split point in [20, 36] occurs
}

TEST_CASE("copying: label == text == prompt, budget drawn in [min_len, max_len]") {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    const auto text = distinct_text(2000, seed);
    RandomGenerator rng(seed);
    const Sample s = make_copying(text, CopyingParams{128, 256}, 2048, rng);
    CHECK(s.prompt == s.label);
    CHECK(s.label == std::vector<Token>(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(s.consumed)));
    CHECK(s.row_tokens() >= 128);
    CHECK(s.row_tokens() <= 256);
    // A smaller budget caps the sample.
    const Sample capped = make_copying(text, CopyingParams{128, 256}, 100, rng);
    CHECK(capped.row_tokens() <= 100);
  }
}

TEST_CASE("deshuffling: the prompt is a permutation of the label with the requested fraction moved") {
  for (double fraction : {0.5, 1.0}) {
    for (std::uint64_t seed = 0; seed < 30; ++seed) {
      const auto text = distinct_text(1000, seed);
      RandomGenerator rng(seed);
      const Sample s = make_deshuffling(text, DeshufflingParams{128, 256, fraction}, 2048, rng);
      CHECK(s.label == std::vector<Token>(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(s.consumed)));
      CHECK(sorted(s.prompt) == sorted(s.label));
      std::size_t moved = 0;
      for (std::size_t i = 0; i < s.label.size(); ++i) moved += s.prompt[i] != s.label[i];
      CHECK(moved == static_cast<std::size_t>(std::llround(fraction * static_cast<double>(s.label.size()))));
    }
  }
}

TEST_CASE("span corruption: spans never touch, follow the spacing rule, and fit the text") {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    RandomGenerator rng(seed);
    const auto spans = draw_spans_once(2000, 0.5, 3, rng, 100);
    for (std::size_t i = 0; i < spans.size(); ++i) {
      CHECK(spans[i].width >= 1);
      CHECK(spans[i].end() <= 2000);
      if (i > 0) {
        const double gap = static_cast<double>(spans[i].start) - static_cast<double>(spans[i - 1].end());
        CHECK(gap >= static_cast<double>(spans[i - 1].width) / 3.0 + 1.0);
      }
    }
    CHECK(spans.size() <= 100);
  }
}

TEST_CASE("span corruption: the masked fraction and the mean width follow rate and mean_span") {
  // Sparse spans (the spacing rule rarely binds): masked fraction ≈ rate, widths ≈ μ.
  RandomGenerator rng(7);
  std::size_t masked = 0, spans_seen = 0, positions = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const auto spans = draw_spans_once(5000, 0.05, 8, rng, 1000);
    for (const Span& s : spans) masked += s.width;
    spans_seen += spans.size();
    positions += 5000;
  }
  const double fraction = static_cast<double>(masked) / static_cast<double>(positions);
  CHECK(fraction == doctest::Approx(0.05).epsilon(0.15));
  CHECK(static_cast<double>(masked) / static_cast<double>(spans_seen) == doctest::Approx(8).epsilon(0.1));
}

TEST_CASE("infilling: prompt is the text with spans replaced by sequential sentinels, label the spans in T5 order") {
  for (double rate : {0.05, 0.15, 0.5}) {
    for (double mean : {3.0, 8.0, 32.0}) {
      for (std::uint64_t seed = 0; seed < 10; ++seed) {
        const auto text = distinct_text(3000, seed);
        RandomGenerator rng(seed + 100);
        const InfillingParams params{rate, mean, 1024};
        const Sample s = make_infilling(text, params, 2048, rng);
        CHECK(s.row_tokens() <= 1024);
        const auto prompt_sentinels = sentinels_in(s.prompt);
        const auto label_sentinels = sentinels_in(s.label);
        REQUIRE(!prompt_sentinels.empty());
        check_sequential(prompt_sentinels);
        CHECK(prompt_sentinels == label_sentinels);
        REQUIRE(special::is_sentinel(s.label.front()));
        // Rebuild the text: replace each sentinel of the prompt with its span from the label.
        std::map<Token, std::vector<Token>> span_of;
        Token current = -1;
        for (Token t : s.label) {
          if (special::is_sentinel(t)) current = t;
          else span_of[current].push_back(t);
        }
        std::vector<Token> rebuilt;
        for (Token t : s.prompt) {
          if (special::is_sentinel(t)) {
            CHECK(!span_of[t].empty());
            rebuilt.insert(rebuilt.end(), span_of[t].begin(), span_of[t].end());
          } else {
            rebuilt.push_back(t);
          }
        }
        CHECK(rebuilt == std::vector<Token>(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(s.consumed)));
      }
    }
  }
}

TEST_CASE("infilling: a budget is filled closely and never exceeded") {
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    const auto text = distinct_text(3000, seed);
    RandomGenerator rng(seed);
    const Sample s = make_infilling(text, InfillingParams{0.15, 3, 2048}, 500, rng);
    CHECK(s.row_tokens() <= 500);
    CHECK(s.row_tokens() >= 450);
  }
}

TEST_CASE("autoencoding: label is the text, prompt the corrupted text") {
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    const auto text = distinct_text(3000, seed);
    RandomGenerator rng(seed);
    const Sample s = make_autoencoding(text, AutoencodingParams{0.15, 8, 768, false}, 2048, rng);
    CHECK(s.row_tokens() <= 768);
    CHECK(s.row_tokens() >= 700);
    CHECK(s.label == std::vector<Token>(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(s.consumed)));
    check_sequential(sentinels_in(s.prompt));
    // The prompt's non-sentinel tokens are the label's in order (a subsequence).
    std::size_t j = 0;
    for (Token t : s.prompt) {
      if (special::is_sentinel(t)) continue;
      while (j < s.label.size() && s.label[j] != t) ++j;
      CHECK(j < s.label.size());
    }
  }
}

TEST_CASE("autoencoding + deshuffle really permutes the unmasked runs") {
  int same_spans = 0;
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    const auto text = distinct_text(3000, seed);
    RandomGenerator plain_rng(seed), shuffled_rng(seed);
    const Sample plain = make_autoencoding(text, AutoencodingParams{0.15, 3, 768, false}, 2048, plain_rng);
    const Sample shuffled = make_autoencoding(text, AutoencodingParams{0.15, 3, 768, true}, 2048, shuffled_rng);
    CHECK(shuffled.label == std::vector<Token>(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(shuffled.consumed)));
    check_sequential(sentinels_in(shuffled.prompt));
    // Same multiset of tokens as an unshuffled corruption of the same text…
    std::vector<Token> unmasked;
    for (Token t : shuffled.prompt)
      if (!special::is_sentinel(t)) unmasked.push_back(t);
    // …whose non-sentinel tokens are not in text order any more.
    CHECK_FALSE(std::is_sorted(unmasked.begin(), unmasked.end(), [&](Token a, Token b) {
      return std::find(text.begin(), text.end(), a) < std::find(text.begin(), text.end(), b);
    }));
    CHECK(std::set<Token>(unmasked.begin(), unmasked.end()).size() == unmasked.size());
    // And differs from the unshuffled corruption drawn from the same stream.
    CHECK(shuffled.prompt != plain.prompt);
    if (sorted(shuffled.prompt) == sorted(plain.prompt)) ++same_spans;
  }
  CHECK(same_spans > 20);  // mostly the very same spans, only the runs' order differs
}

TEST_CASE("selective copying: delimiters identify their spans, spans never overlap, label format") {
  for (bool query_first : {true, false}) {
    for (std::uint64_t seed = 0; seed < 40; ++seed) {
      const auto text = distinct_text(2000, seed);
      RandomGenerator rng(seed);
      SelectiveCopyingParams params;
      params.query_first = query_first;
      const Sample s = make_selective_copying(text, params, 2048, rng);
      const std::vector<Token> context(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(s.consumed));
      CHECK(context.size() >= 384);
      CHECK(context.size() <= 768);
      // Split the prompt into query and context.
      auto context_at = std::find(s.prompt.begin(), s.prompt.end(), special::context_marker);
      REQUIRE(context_at != s.prompt.end());
      std::vector<Token> query;
      if (query_first) {
        query.assign(s.prompt.begin(), context_at);
        CHECK(std::vector<Token>(context_at + 1, s.prompt.end()) == context);
      } else {
        CHECK(context_at == s.prompt.begin());
        CHECK(std::vector<Token>(context_at + 1, context_at + 1 + static_cast<std::ptrdiff_t>(context.size())) == context);
        query.assign(context_at + 1 + static_cast<std::ptrdiff_t>(context.size()), s.prompt.end());
      }
      REQUIRE(!query.empty());
      CHECK(query.front() == special::copy_marker);
      // Spans of the label, split on [SEP], ending with [DONE].
      REQUIRE(s.label.back() == special::done_marker);
      std::vector<std::vector<Token>> spans(1);
      for (std::size_t i = 0; i + 1 < s.label.size(); ++i) {
        if (s.label[i] == special::separator) spans.emplace_back();
        else spans.back().push_back(s.label[i]);
      }
      CHECK(spans.size() >= 1);
      CHECK(spans.size() <= 4);
      // Query entries [START] d1 [END] d2, one per span, in label order.
      std::vector<std::pair<std::vector<Token>, std::vector<Token>>> delimiters;
      for (std::size_t i = 1; i < query.size();) {
        REQUIRE(query[i] == special::start_marker);
        auto end_at = std::find(query.begin() + static_cast<std::ptrdiff_t>(i), query.end(), special::end_marker);
        auto next = std::find(end_at, query.end(), special::start_marker);
        delimiters.push_back({{query.begin() + static_cast<std::ptrdiff_t>(i) + 1, end_at}, {end_at + 1, next}});
        i = static_cast<std::size_t>(next - query.begin());
      }
      REQUIRE(delimiters.size() == spans.size());
      std::vector<std::pair<std::size_t, std::size_t>> regions;
      for (std::size_t k = 0; k < spans.size(); ++k) {
        CHECK(spans[k].size() >= 4);
        CHECK(spans[k].size() <= 32);
        const auto& [before, after] = delimiters[k];
        CHECK(before.size() >= 1);
        CHECK(before.size() <= 8);
        CHECK(after.size() >= 1);
        CHECK(after.size() <= 8);
        // The span occurs in the context exactly between its delimiters.
        auto at = std::search(context.begin(), context.end(), spans[k].begin(), spans[k].end());
        REQUIRE(at != context.end());
        const auto start = static_cast<std::size_t>(at - context.begin());
        REQUIRE(start >= before.size());
        CHECK(std::equal(before.begin(), before.end(), context.begin() + static_cast<std::ptrdiff_t>(start - before.size())));
        CHECK(std::equal(after.begin(), after.end(), context.begin() + static_cast<std::ptrdiff_t>(start + spans[k].size())));
        regions.push_back({start - before.size(), start + spans[k].size() + after.size()});
      }
      std::sort(regions.begin(), regions.end());
      for (std::size_t k = 1; k < regions.size(); ++k) CHECK(regions[k].first >= regions[k - 1].second);
    }
  }
}

TEST_CASE("selective copying: on repetitive text, delimiters grow until they are unique or at max length") {
  int unique = 0, total = 0;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    // A 12-symbol alphabet: short delimiters are usually ambiguous.
    RandomGenerator text_rng(seed, 5);
    std::vector<Token> text(1000);
    for (auto& t : text) t = static_cast<Token>(500 + text_rng.uniform_int(12));
    RandomGenerator rng(seed);
    SelectiveCopyingParams params;
    params.query_first = true;
    const Sample s = make_selective_copying(text, params, 2048, rng);
    const std::vector<Token> context(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(s.consumed));
    auto count = [&](const std::vector<Token>& pattern) {
      int n = 0;
      for (auto it = context.begin(); (it = std::search(it, context.end(), pattern.begin(), pattern.end())) != context.end(); ++it) ++n;
      return n;
    };
    auto context_at = std::find(s.prompt.begin(), s.prompt.end(), special::context_marker);
    const std::vector<Token> query(s.prompt.begin() + 1, context_at);
    for (std::size_t i = 0; i < query.size();) {
      REQUIRE(query[i] == special::start_marker);
      auto end_at = std::find(query.begin() + static_cast<std::ptrdiff_t>(i), query.end(), special::end_marker);
      auto next = std::find(end_at, query.end(), special::start_marker);
      for (const std::vector<Token>& delimiter : {std::vector<Token>(query.begin() + static_cast<std::ptrdiff_t>(i) + 1, end_at),
                                                 std::vector<Token>(end_at + 1, next)}) {
        CHECK(count(delimiter) >= 1);
        CHECK((count(delimiter) == 1 || delimiter.size() == 8));
        unique += count(delimiter) == 1;
        ++total;
      }
      i = static_cast<std::size_t>(next - query.begin());
    }
  }
  CHECK(unique > total / 2);  // with up to 8 tokens most delimiters become unique
}

TEST_CASE("every objective respects its budget and reads only text it was given") {
  const std::vector<ObjectiveConfig> configs = {
      {"a", NextTokenParams{}, ParadigmPlacement::random},
      {"b", PrefixLmParams{}, ParadigmPlacement::prefix},
      {"c", InfillingParams{0.5, 32, 2048}, ParadigmPlacement::suffix},
      {"d", AutoencodingParams{0.05, 3, 1536, true}, ParadigmPlacement::random},
      {"e", CopyingParams{512, 1024}, ParadigmPlacement::none},
      {"f", DeshufflingParams{512, 1024, 1.0}, ParadigmPlacement::random},
      {"g", SelectiveCopyingParams{}, ParadigmPlacement::random},
  };
  for (const auto& config : configs) {
    for (int budget : {17, 40, 200, 700}) {
      for (std::uint64_t seed = 0; seed < 5; ++seed) {
        const auto text = distinct_text(3000, seed);
        RandomGenerator rng(seed);
        const Sample s = make_sample(config, text, budget, rng);
        CHECK_MESSAGE(s.row_tokens() <= static_cast<std::size_t>(budget), describe(config), " budget ", budget);
        CHECK(!s.label.empty());
        CHECK(s.consumed <= static_cast<std::size_t>(budget));
        const std::set<Token> given(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(s.consumed));
        for (Token t : s.label)
          if (t >= special::reserved_count) CHECK(given.count(t) == 1);
      }
    }
  }
}

TEST_CASE("paradigm placement: random puts the token first about half of the time") {
  const auto text = distinct_text(500, 3);
  ObjectiveConfig config{"copy", CopyingParams{128, 256}, ParadigmPlacement::random};
  int first = 0, last = 0;
  RandomGenerator rng(5);
  for (int i = 0; i < 400; ++i) {
    const Sample s = make_sample(config, text, 512, rng);
    first += s.prompt.front() == special::paradigm_copying;
    last += s.prompt.back() == special::paradigm_copying;
  }
  CHECK(first + last == 400);
  CHECK(first > 160);
  CHECK(first < 240);
  for (auto [placement, front] : {std::pair{ParadigmPlacement::prefix, true}, {ParadigmPlacement::suffix, false}}) {
    config.paradigm = placement;
    const Sample s = make_sample(config, text, 512, rng);
    CHECK((front ? s.prompt.front() : s.prompt.back()) == special::paradigm_copying);
    CHECK(std::count(s.prompt.begin(), s.prompt.end(), special::paradigm_copying) == 1);
  }
  config.paradigm = ParadigmPlacement::none;
  const Sample s = make_sample(config, text, 512, rng);
  CHECK(std::count(s.prompt.begin(), s.prompt.end(), special::paradigm_copying) == 0);
  ObjectiveConfig shuffled{"x", AutoencodingParams{0.15, 3, 384, true}, ParadigmPlacement::prefix};
  CHECK(make_sample(shuffled, text, 512, rng).prompt.front() == special::paradigm_autoencoding_deshuffle);
}

}  // namespace birdie::objectives
