// qa_eval: extractive question answering on the user's SQuAD v2-style JSONL (the paper's
// §4.4), answer-contains-label and token F1 by context length.
//
//   qa_eval --checkpoint DIR --data FILE.jsonl [--max-answer-tokens N] [--buckets 256,512,...]
//           [--limit N] [--context T] [--json OUT] [--tokenizer PATH]
//           [--device cpu|cuda] [--precision auto|fp32|bf16]
//
// Each line is {"context": "...", "question": "...", "answers": ["...", ...]} (an empty
// list: unanswerable). The model reads the prompt
//     {context}\n\nQuestion: {question}\nAnswer:
// in its bidirectional prefix, then <sg>, and answers greedily (the recurrent generator)
// for at most --max-answer-tokens tokens or until <eos>. The answer's text without
// reserved tokens (Tokenizer::decode_text) is scored, SQuAD-style (data/tasks/qa.h):
//   contains  the normalized answer contains a normalized gold answer (whole words);
//   F1        token F1 against the best gold answer;
//   exact     exact match after normalization;
// an unanswerable item scores 1 on all three when the answer is empty or "unanswerable",
// else 0. Results are grouped by the prompt's token count: --buckets gives the upper
// bounds (a last bucket takes what is longer), plus "all". An item whose prompt, <sg> and
// --max-answer-tokens do not fit the context (the model's training sequence length, or
// --context) is skipped and reported, never cut.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "apps/common/evaluator_cli.h"
#include "training/finetune.h"
#include "apps/common/trained_model.h"
#include "data/tasks/qa.h"
#include "engine/timer.h"

using namespace birdie;

namespace {

struct Options {
  apps::ItemFile file;
  std::vector<int> buckets{128, 256, 512, 1024, 2048, 4096, 8192, 16384};
  int max_answer_tokens = 32;
};

void add_flags(apps::CommandLine& cli, Options& o) {
  o.file.add_data(cli, "{\"context\", \"question\", \"answers\"}");
  cli.option("--max-answer-tokens", o.max_answer_tokens, apps::at_least(1), "N", "longest answer (default 32)");
  cli.option("--buckets", o.buckets, apps::whole_numbers, "256,512,...",
             "upper bounds of the prompt-length buckets (default 128,256,...,16384)");
  o.file.add_limit(cli);
  cli.check([&o] {
    std::sort(o.buckets.begin(), o.buckets.end());
    o.buckets.erase(std::unique(o.buckets.begin(), o.buckets.end()), o.buckets.end());
  });
}

// Bucket b holds prompts of (bounds[b-1], bounds[b]] tokens; the last one, longer prompts.
std::size_t bucket_of(const std::vector<int>& bounds, std::int64_t tokens) {
  return static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), tokens) - bounds.begin());
}
std::string bucket_label(const std::vector<int>& bounds, std::size_t b) {
  std::string label = b == bounds.size() ? std::string(1, '>') : std::to_string(b == 0 ? 0 : bounds[b - 1] + 1) + '-';
  label += std::to_string(b == bounds.size() ? bounds.back() : bounds[b]);
  return label;
}

struct Cell {
  int items = 0, unanswerable = 0;
  double contains = 0, exact = 0, f1 = 0;
  void add(const data::tasks::QaItem& item, const data::tasks::QaScore& s) {
    ++items;
    unanswerable += item.answerable() ? 0 : 1;
    contains += s.contains ? 1 : 0;
    exact += s.exact ? 1 : 0;
    f1 += s.f1;
  }
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::vector<data::tasks::QaItem> items;
  apps::Evaluator evaluator{"qa_eval", "question answering: answer contains label and F1 by context length"};
  evaluator.flags = [&o](apps::CommandLine& cli) { add_flags(cli, o); };
  evaluator.read_inputs = [&] { items = o.file.read(data::tasks::read_qa_items); };
  evaluator.evaluate = [&](apps::TrainedModel& trained, int context) {
    o.file.print_count(items.size());

    std::vector<Cell> cells(o.buckets.size() + 1);
    Cell all;
    apps::ItemRecords records;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto& item = items[i];
      const auto prompt = trained.tokenizer.encode(data::tasks::qa_prompt(item));
      const auto prompt_tokens = static_cast<std::int64_t>(prompt.size());
      nlohmann::ordered_json record{{"index", i}, {"id", item.id}, {"prompt_tokens", prompt_tokens},
                                    {"answerable", item.answerable()}, {"answers", item.answers}};
      if (prompt_tokens + 1 + o.max_answer_tokens > context) {
        records.skip(i, item.id,
                     "its prompt of " + std::to_string(prompt_tokens) + " tokens, <sg> and " +
                         std::to_string(o.max_answer_tokens) + " answer tokens exceed the context of " +
                         std::to_string(context),
                     record);
        continue;
      }
      const auto out = training::greedy_answer(*trained.lm, prompt, o.max_answer_tokens);
      const std::string generated = trained.tokenizer.decode_text(out);
      const data::tasks::QaScore score = data::tasks::score_answer(generated, item.answers);
      const std::size_t b = bucket_of(o.buckets, prompt_tokens);
      cells[b].add(item, score);
      all.add(item, score);
      record["skipped"] = false;
      record["bucket"] = bucket_label(o.buckets, b);
      record["generated"] = generated;
      record["generated_raw"] = trained.tokenizer.decode(out);
      record["contains"] = score.contains;
      record["exact"] = score.exact;
      record["f1"] = score.f1;
      records.json.push_back(record);
    }

    records.print_summary("question answering", all.items);
    std::printf("%12s %7s %7s %9s %7s %7s\n", "prompt len", "items", "unans.", "contains", "F1", "exact");
    nlohmann::ordered_json table = nlohmann::ordered_json::array();
    auto row = [&](const std::string& label, const Cell& c) {
      const double n = std::max(1, c.items);
      std::printf("%12s %7d %7d %9.3f %7.3f %7.3f\n", label.c_str(), c.items, c.unanswerable, c.contains / n,
                  c.f1 / n, c.exact / n);
      table.push_back({{"bucket", label}, {"items", c.items}, {"unanswerable", c.unanswerable},
                       {"contains", c.contains / n}, {"f1", c.f1 / n}, {"exact", c.exact / n}});
    };
    for (std::size_t b = 0; b < cells.size(); ++b)
      if (cells[b].items > 0) row(bucket_label(o.buckets, b), cells[b]);
    row("all", all);
    return nlohmann::ordered_json{{"checkpoint", trained.checkpoint.string()},
                                  {"data", o.file.path->string()},
                                  {"context", context},
                                  {"max_answer_tokens", o.max_answer_tokens},
                                  {"buckets", o.buckets},
                                  {"items", items.size()},
                                  {"scored", all.items},
                                  {"skipped", records.skipped},
                                  {"table", table},
                                  {"records", records.json}};
  };
  return apps::run_evaluator(argc, argv, evaluator);
}
