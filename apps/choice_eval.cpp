// choice_eval: multiple choice scored by the model's loss (the paper's §4.5 story
// infilling), on the user's JSONL.
//
//   choice_eval --checkpoint DIR --data FILE.jsonl [--limit N] [--context T] [--json OUT]
//               [--tokenizer PATH] [--device cpu|cuda] [--precision auto|fp32|bf16]
//
// Each line is {"prompt": "...", "choices": ["...", ...], "label": INDEX}. For each choice
// the model reads the prompt in its bidirectional prefix, then <sg>, then the choice's
// tokens causally (apps/common/choice_scoring.h; all choices of an item in one batch). The
// prediction is the choice with the smallest mean cross-entropy per choice token
// (length-normalized, the paper's metric); the summed cross-entropy's prediction is
// reported beside it. Accuracies overall and by number of choices, with the random
// baseline (the mean of 1/choices). An item whose prompt and longest choice do not fit the
// context (the model's training sequence length, or --context) is skipped and reported.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "apps/common/choice_scoring.h"
#include "apps/common/evaluator_cli.h"
#include "apps/common/trained_model.h"
#include "data/tasks/multiple_choice.h"
#include "engine/timer.h"

using namespace birdie;

namespace {

struct Cell {
  int items = 0, normalized_right = 0, sum_right = 0;
  double chance = 0;  // Σ 1/choices
};

}  // namespace

int main(int argc, char** argv) {
  apps::ItemFile file;
  std::vector<data::tasks::ChoiceItem> items;
  apps::Evaluator evaluator{"choice_eval", "multiple-choice accuracy by length-normalized loss"};
  evaluator.flags = [&file](apps::CommandLine& cli) {
    file.add_data(cli, "{\"prompt\", \"choices\", \"label\"}");
    file.add_limit(cli);
  };
  evaluator.read_inputs = [&] { items = file.read(data::tasks::read_choice_items); };
  evaluator.evaluate = [&](apps::TrainedModel& trained, int context) {
    file.print_count(items.size());

    std::map<int, Cell> by_choices;  // number of choices → counts
    Cell all;
    apps::ItemRecords records;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto& item = items[i];
      const auto prompt = trained.tokenizer.encode(item.prompt);
      std::vector<std::vector<data::Token>> choices;
      std::vector<std::int64_t> choice_tokens;
      std::size_t longest = 0;
      for (std::size_t c = 0; c < item.choices.size(); ++c) {
        choices.push_back(trained.tokenizer.encode(item.choices[c]));
        BIRDIE_CHECK(!choices.back().empty(), file.path->string(), ": item ", i, ": choice ", c,
                     " has no tokens once tokenized");
        choice_tokens.push_back(static_cast<std::int64_t>(choices.back().size()));
        longest = std::max(longest, choices.back().size());
      }
      const int n = static_cast<int>(choices.size());
      nlohmann::ordered_json record{{"index", i},         {"id", item.id},
                                    {"choices", n},       {"label", item.label},
                                    {"prompt_tokens", prompt.size()}, {"choice_tokens", choice_tokens}};
      // prompt ‖ <sg> ‖ choice[0:M-1] occupies |prompt| + M positions.
      if (prompt.size() + longest > static_cast<std::size_t>(context)) {
        records.skip(i, item.id,
                     "its prompt of " + std::to_string(prompt.size()) + " tokens and its longest choice of " +
                         std::to_string(longest) + " exceed the context of " + std::to_string(context),
                     record);
        continue;
      }
      const std::vector<apps::ChoiceLoss> losses = apps::score_choices(*trained.lm, prompt, choices);
      std::vector<double> sums, means;
      for (const auto& l : losses) {
        sums.push_back(l.sum);
        means.push_back(l.mean());
      }
      const auto by_mean = static_cast<int>(apps::argmin(means)), by_sum = static_cast<int>(apps::argmin(sums));
      for (Cell* cell : {&by_choices[n], &all}) {
        cell->items += 1;
        cell->normalized_right += by_mean == item.label ? 1 : 0;
        cell->sum_right += by_sum == item.label ? 1 : 0;
        cell->chance += 1.0 / n;
      }
      record["skipped"] = false;
      record["loss_mean"] = means;
      record["loss_sum"] = sums;
      record["prediction"] = by_mean;
      record["prediction_sum"] = by_sum;
      record["correct"] = by_mean == item.label;
      record["correct_sum"] = by_sum == item.label;
      records.json.push_back(record);
    }

    records.print_summary("multiple choice", all.items);
    std::printf("accuracy: the choice with the least mean loss per token (normalized) or total loss (sum)\n");
    std::printf("%8s %7s %11s %9s %8s\n", "choices", "items", "normalized", "sum", "random");
    nlohmann::ordered_json table = nlohmann::ordered_json::array();
    auto row = [&](const std::string& label, const Cell& c) {
      const double d = std::max(1, c.items);
      std::printf("%8s %7d %11.3f %9.3f %8.3f\n", label.c_str(), c.items, c.normalized_right / d,
                  c.sum_right / d, c.chance / d);
      table.push_back({{"choices", label}, {"items", c.items}, {"accuracy", c.normalized_right / d},
                       {"accuracy_sum", c.sum_right / d}, {"random", c.chance / d}});
    };
    for (const auto& [n, cell] : by_choices) row(std::to_string(n), cell);
    row("all", all);
    const double d = std::max(1, all.items);
    return nlohmann::ordered_json{{"checkpoint", trained.checkpoint.string()},
                                  {"data", file.path->string()},
                                  {"context", context},
                                  {"items", items.size()},
                                  {"scored", all.items},
                                  {"skipped", records.skipped},
                                  {"accuracy", all.normalized_right / d},
                                  {"accuracy_sum", all.sum_right / d},
                                  {"table", table},
                                  {"records", records.json}};
  };
  return apps::run_evaluator(argc, argv, evaluator);
}
