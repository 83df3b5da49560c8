#include "apps/common/choice_scoring.h"

#include <algorithm>

#include "autograd/tape.h"
#include "engine/error.h"
#include "objectives/batch_tensors.h"
#include "objectives/row_packer.h"

namespace birdie::apps {

objectives::PackedBatch choice_rows(std::span<const data::Token> prompt,
                                    const std::vector<std::vector<data::Token>>& choices) {
  BIRDIE_CHECK(!choices.empty(), "choice_rows: no choices");
  std::size_t longest = 0;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    BIRDIE_CHECK(!choices[i].empty(), "choice_rows: choice ", i, " has no tokens");
    longest = std::max(longest, prompt.size() + choices[i].size());
  }
  const int length = std::max(2, static_cast<int>(longest));
  objectives::PackedBatch rows;
  for (const auto& choice : choices) {
    // A packer of one row: the sample, then padding.
    objectives::RowPacker packer(length, 0, 1, 1);
    objectives::Sample sample;
    sample.prompt.assign(prompt.begin(), prompt.end());
    sample.label = choice;
    packer.add(sample, 0, objectives::ObjectiveClass::prefix_lm);
    packer.finish();
    rows.append(packer.take_finished());
  }
  return rows;
}

std::vector<ChoiceLoss> score_choices(const model::LanguageModel& lm, std::span<const data::Token> prompt,
                                      const std::vector<std::vector<data::Token>>& choices) {
  const objectives::PackedBatch rows = choice_rows(prompt, choices);
  const objectives::BatchTensors host = objectives::to_tensors(rows);
  const Device device = lm.device();
  autograd::CrossEntropyOptions options;
  options.counted = std::count_if(rows.targets.begin(), rows.targets.end(),
                                   [](std::int32_t t) { return t != objectives::ignore_target; });
  autograd::NoGradGuard no_grad;
  const autograd::CrossEntropy ce =
      lm.loss(host.tokens.to(device), host.targets.to(device), host.reset.to(device), options);
  const std::vector<double> per_position = ce.row_loss.to_vector<double>();
  std::vector<ChoiceLoss> out(choices.size());
  for (int r = 0; r < rows.rows; ++r)
    for (int t = 0; t < rows.length; ++t)
      if (rows.targets[rows.at(r, t)] != objectives::ignore_target) {
        out[static_cast<std::size_t>(r)].sum += per_position[rows.at(r, t)];
        out[static_cast<std::size_t>(r)].tokens += 1;
      }
  return out;
}

std::size_t argmin(const std::vector<double>& values) {
  BIRDIE_CHECK(!values.empty(), "argmin of nothing");
  return static_cast<std::size_t>(std::min_element(values.begin(), values.end()) - values.begin());
}

}  // namespace birdie::apps
