// The parameters of the seven objective classes of docs/method.md §3. A configuration (one arm
// of the mixture) is a class plus these parameters; lengths are token budgets that count
// prompt and label tokens alike (the paradigm token included), except the selective-copy
// context length, which is the length of the text it searches.
#pragma once

#include <string_view>
#include <variant>

namespace birdie::objectives {

// 0 for a max_len means "whatever fits in the row" (NTP and prefix LM, §3 "Lengths").
struct NextTokenParams {
  int max_len = 0;
  bool operator==(const NextTokenParams&) const = default;
};

struct PrefixLmParams {
  int max_len = 0;
  bool operator==(const PrefixLmParams&) const = default;
};

// Span corruption (§3): span width w = max(1, round(N(mean_span, 1))), a span starts at a
// position with probability corruption_rate / w.
struct InfillingParams {
  double corruption_rate = 0.15;
  double mean_span = 3;
  int max_len = 512;
  bool operator==(const InfillingParams&) const = default;
};

// Autoencoding: corrupted x → x. With deshuffle, the unmasked runs of the prompt are also
// permuted (the "autoencoding + deshuffle" arm; same class, its own paradigm token).
struct AutoencodingParams {
  double corruption_rate = 0.15;
  double mean_span = 3;
  int max_len = 768;
  bool deshuffle = false;
  bool operator==(const AutoencodingParams&) const = default;
};

// Copying: x → x. A sample's budget is drawn uniformly in [min_len, max_len]; the text is
// half of it (prompt and label are both x).
struct CopyingParams {
  int min_len = 128;
  int max_len = 256;
  bool operator==(const CopyingParams&) const = default;
};

// Deshuffling: x with a fraction of its positions permuted among themselves → x. Same
// budget rule as copying.
struct DeshufflingParams {
  int min_len = 128;
  int max_len = 256;
  double shuffle_fraction = 0.5;
  bool operator==(const DeshufflingParams&) const = default;
};

// Selective copying: k spans of the context, each named by the tokens just before and
// just after it, must be copied out in query order.
struct SelectiveCopyingParams {
  int min_context = 384;
  int max_context = 768;
  int min_spans = 1;
  int max_spans = 4;
  int min_span_len = 4;
  int max_span_len = 32;
  int min_delimiter = 1;
  int max_delimiter = 8;
  bool query_first = true;  // query ‖ [CONTEXT] ‖ x, else [CONTEXT] ‖ x ‖ query
  bool operator==(const SelectiveCopyingParams&) const = default;
};

// The variant index is the objective class (see ObjectiveClass).
using ObjectiveParams =
    std::variant<NextTokenParams, PrefixLmParams, InfillingParams, AutoencodingParams,
                 CopyingParams, DeshufflingParams, SelectiveCopyingParams>;

enum class ObjectiveClass {
  next_token = 0,
  prefix_lm,
  infilling,
  autoencoding,
  copying,
  deshuffling,
  selective_copying,
};
constexpr int objective_class_count = 7;

// "next_token", "prefix_lm", "infilling", "autoencoding", "copying", "deshuffling",
// "selective_copying": the names used in TOML files and logs.
std::string_view class_name(ObjectiveClass c);

}  // namespace birdie::objectives
