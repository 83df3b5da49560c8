// Scoring candidate continuations by the model's loss (the paper's §4.5 multiple-choice
// metric): for a prompt and its choices, each choice is one sample packed as in training
// (objectives/row_packer.h, docs/method.md §2): prompt in the bidirectional prefix, then <sg>,
// then the choice's tokens, causal, as the label. A choice's loss is the cross-entropy of
// its tokens given the prompt (the <sg> position predicts its first token); no <eos> is
// appended. All choices of an item go through the model as one batch, one row each.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "data/special_tokens.h"
#include "model/language_model.h"
#include "objectives/packed_batch.h"

namespace birdie::apps {

struct ChoiceLoss {
  double sum = 0;           // Σ −log p(choice token | prompt, earlier choice tokens)
  std::int64_t tokens = 0;  // the choice's token count
  double mean() const { return tokens > 0 ? sum / double(tokens) : 0.0; }  // length-normalized
};

// One row per choice (prompt ‖ <sg> ‖ choice[0:M-1], targets −1 × |prompt| ‖ choice, reset
// 1 at the start and 2 from <sg> on), padded to the longest. Every choice needs ≥ 1 token.
objectives::PackedBatch choice_rows(std::span<const data::Token> prompt,
                                    const std::vector<std::vector<data::Token>>& choices);

// The per-choice losses, in the order of `choices`, from one forward pass of their rows.
std::vector<ChoiceLoss> score_choices(const model::LanguageModel& lm, std::span<const data::Token> prompt,
                                      const std::vector<std::vector<data::Token>>& choices);

// The index of the smallest value (the first one on ties).
std::size_t argmin(const std::vector<double>& values);

}  // namespace birdie::apps
