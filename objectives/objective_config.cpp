#include "objectives/objective_config.h"

#include <sstream>

#include "engine/error.h"
#include "objectives/objective_functions.h"

namespace birdie::objectives {
namespace special = data::special_tokens;

std::string_view class_name(ObjectiveClass c) {
  switch (c) {
    case ObjectiveClass::next_token: return "next_token";
    case ObjectiveClass::prefix_lm: return "prefix_lm";
    case ObjectiveClass::infilling: return "infilling";
    case ObjectiveClass::autoencoding: return "autoencoding";
    case ObjectiveClass::copying: return "copying";
    case ObjectiveClass::deshuffling: return "deshuffling";
    case ObjectiveClass::selective_copying: return "selective_copying";
  }
  return "unknown";
}

std::string_view placement_name(ParadigmPlacement placement) {
  switch (placement) {
    case ParadigmPlacement::random: return "random";
    case ParadigmPlacement::prefix: return "prefix";
    case ParadigmPlacement::suffix: return "suffix";
    case ParadigmPlacement::none: return "none";
  }
  return "unknown";
}

Token paradigm_token(const ObjectiveConfig& config) {
  switch (config.objective_class()) {
    case ObjectiveClass::next_token: return special::paradigm_next_token;
    case ObjectiveClass::prefix_lm: return special::paradigm_prefix_lm;
    case ObjectiveClass::infilling: return special::paradigm_infilling;
    case ObjectiveClass::autoencoding:
      return std::get<AutoencodingParams>(config.params).deshuffle
                 ? special::paradigm_autoencoding_deshuffle
                 : special::paradigm_autoencoding;
    case ObjectiveClass::copying: return special::paradigm_copying;
    case ObjectiveClass::deshuffling: return special::paradigm_deshuffling;
    case ObjectiveClass::selective_copying: return special::paradigm_selective_copying;
  }
  return special::unk;
}

void place_paradigm_token(Sample& sample, const ObjectiveConfig& config, RandomGenerator& rng) {
  bool at_start = false;
  switch (config.paradigm) {
    case ParadigmPlacement::none: return;
    case ParadigmPlacement::prefix: at_start = true; break;
    case ParadigmPlacement::suffix: at_start = false; break;
    case ParadigmPlacement::random: at_start = rng.uniform() < 0.5; break;
  }
  const Token token = paradigm_token(config);
  if (at_start)
    sample.prompt.insert(sample.prompt.begin(), token);
  else
    sample.prompt.push_back(token);
}

Sample make_sample(const ObjectiveConfig& config, std::span<const Token> text, int budget,
                   RandomGenerator& rng) {
  const int room = config.paradigm == ParadigmPlacement::none ? budget : budget - 1;
  Sample sample = std::visit(
      [&](const auto& p) -> Sample {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, NextTokenParams>) return make_next_token(text, p, room, rng);
        if constexpr (std::is_same_v<P, PrefixLmParams>) return make_prefix_lm(text, p, room, rng);
        if constexpr (std::is_same_v<P, InfillingParams>) return make_infilling(text, p, room, rng);
        if constexpr (std::is_same_v<P, AutoencodingParams>) return make_autoencoding(text, p, room, rng);
        if constexpr (std::is_same_v<P, CopyingParams>) return make_copying(text, p, room, rng);
        if constexpr (std::is_same_v<P, DeshufflingParams>) return make_deshuffling(text, p, room, rng);
        if constexpr (std::is_same_v<P, SelectiveCopyingParams>)
          return make_selective_copying(text, p, room, rng);
      },
      config.params);
  place_paradigm_token(sample, config, rng);
  return sample;
}

std::string describe(const ObjectiveConfig& config) {
  std::ostringstream out;
  out << class_name(config.objective_class());
  std::visit(
      [&](const auto& p) {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, NextTokenParams> || std::is_same_v<P, PrefixLmParams>)
          out << " max_len=" << p.max_len;
        if constexpr (std::is_same_v<P, InfillingParams>)
          out << " corruption_rate=" << p.corruption_rate << " mean_span=" << p.mean_span
              << " max_len=" << p.max_len;
        if constexpr (std::is_same_v<P, AutoencodingParams>)
          out << " corruption_rate=" << p.corruption_rate << " mean_span=" << p.mean_span
              << " max_len=" << p.max_len << " deshuffle=" << (p.deshuffle ? "true" : "false");
        if constexpr (std::is_same_v<P, CopyingParams>)
          out << " min_len=" << p.min_len << " max_len=" << p.max_len;
        if constexpr (std::is_same_v<P, DeshufflingParams>)
          out << " min_len=" << p.min_len << " max_len=" << p.max_len
              << " shuffle_fraction=" << p.shuffle_fraction;
        if constexpr (std::is_same_v<P, SelectiveCopyingParams>)
          out << " min_context=" << p.min_context << " max_context=" << p.max_context
              << " spans=" << p.min_spans << ".." << p.max_spans << " span_len="
              << p.min_span_len << ".." << p.max_span_len << " delimiter=" << p.min_delimiter
              << ".." << p.max_delimiter << " query=" << (p.query_first ? "first" : "last");
      },
      config.params);
  out << " paradigm=" << placement_name(config.paradigm);
  return out.str();
}

}  // namespace birdie::objectives
