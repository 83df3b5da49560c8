// mqar_eval: multi-query associative recall (data/tasks/mqar.h), the fraction of queried
// values answered right per number of pairs and of queries, optionally after fine-tuning on
// fresh instances.
//
//   mqar_eval --checkpoint DIR [--pairs 4,8,16,32] [--queries 1,4] [--instances N] [--seed S]
//             [--context T] [--json OUT] [--tokenizer PATH] [--device cpu|cuda]
//             [--precision auto|fp32|bf16] [--finetune-steps N] [--finetune-rows R]
//             [--finetune-lr LR] [--finetune-pairs MIN,MAX] [--finetune-queries MIN,MAX]
//             [--curve-every N] [--curve-instances N] [--symbols N]
//
// Every (pairs, queries) cell gets --instances instances, each a pure function of (seed,
// pairs, queries, instance number); cells with more queries than pairs are left out (and
// listed); an instance longer than the context (the model's training sequence length, or
// --context) is skipped and counted. With --finetune-steps the model is first fine-tuned
// (no weight decay, prompt in the bidirectional prefix, values causal) on rows of fresh
// instances drawn from other streams than the evaluation's; with --curve-every N the
// accuracy on a held-out set (--curve-instances, again other streams) is measured every N
// steps and written into the JSON. --symbols N limits keys and values to the first N of each
// set (random guessing then scores 1/N): recall with a small value set is easier to learn
// at small scale. Nothing is saved. Decoding is greedy with the recurrent
// generator, stopping at <eos>.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "apps/common/evaluator_cli.h"
#include "training/finetune.h"
#include "apps/common/trained_model.h"
#include "data/special_tokens.h"
#include "data/tasks/mqar.h"
#include "engine/random.h"
#include "engine/timer.h"
#include "objectives/mqar_rows.h"
#include "objectives/objective_functions.h"

using namespace birdie;
using data::tasks::MqarInstance;
using data::tasks::MqarVocabulary;

namespace {

struct Range {
  int min = 0, max = 0;
};

struct Options {
  std::vector<int> pairs{4, 8, 16, 32}, queries{1, 4};
  int instances = 16;
  apps::FinetuneFlags tuning;
  std::optional<Range> finetune_pairs, finetune_queries;  // default: the evaluated ranges
  int curve_instances = 32;
  int symbols = 0;  // keys and values each limited to the first N; 0: all
  std::uint64_t seed = 1;
};

constexpr int cell_limit = 1 << 20;  // pairs, queries and instances per cell (data/tasks/mqar.h)

// Whole numbers under the generator's per-cell limit.
std::vector<int> int_list(const std::string& flag, const std::string& text) {
  std::vector<int> out = apps::whole_numbers(flag, text);
  for (int v : out)
    if (v >= cell_limit) throw apps::UsageError(flag + " takes whole numbers under 2^20");
  return out;
}

// "MIN,MAX" (or "N" for N,N), under the per-cell limit.
Range range(const std::string& flag, const std::string& text) {
  const auto [low, high] = apps::whole_range(flag, text);
  if (high >= cell_limit) throw apps::UsageError(flag + " takes whole numbers under 2^20");
  return Range{low, high};
}

// Checks between flags, and the fine-tuning ranges' defaults.
void check(Options& o) {
  if (o.instances >= cell_limit) throw apps::UsageError("--instances must be under 2^20");
  const int most_pairs = *std::max_element(o.pairs.begin(), o.pairs.end());
  const int most_queries = *std::max_element(o.queries.begin(), o.queries.end());
  if (most_queries > most_pairs)
    throw apps::UsageError("--queries " + std::to_string(most_queries) + " is more than every --pairs value (at most " +
          std::to_string(most_pairs) + "): each query asks a distinct key of the list");
  if (!o.finetune_pairs)
    o.finetune_pairs = Range{*std::min_element(o.pairs.begin(), o.pairs.end()), most_pairs};
  if (!o.finetune_queries)
    o.finetune_queries = Range{std::min(*std::min_element(o.queries.begin(), o.queries.end()), o.finetune_pairs->min),
                               std::min(most_queries, o.finetune_pairs->max)};
  if (o.finetune_queries->min > o.finetune_pairs->min)
    throw apps::UsageError("--finetune-queries minimum " + std::to_string(o.finetune_queries->min) + " is more than the --finetune-pairs minimum " +
          std::to_string(o.finetune_pairs->min) + ": each query asks a distinct key, so every instance needs at least as many pairs");
}

void add_flags(apps::CommandLine& cli, Options& o) {
  using apps::at_least;
  cli.option("--pairs", o.pairs, int_list, "4,8,16,32", "key-value pairs per instance");
  cli.option("--queries", o.queries, int_list, "1,4", "keys asked per instance");
  cli.option("--instances", o.instances, at_least(1), "N", "instances per (pairs, queries) (default 16)");
  cli.option("--seed", o.seed, apps::seed_number, "S", "seed of the instances (default 1)");
  o.tuning.add_to(cli, "held-out accuracy every N fine-tuning steps (default 0: none)");
  cli.option("--finetune-pairs", o.finetune_pairs, range, "MIN,MAX", "pairs to fine-tune on (default: the evaluated ones)");
  cli.option("--finetune-queries", o.finetune_queries, range, "MIN,MAX",
             "queries to fine-tune on (default: the evaluated ones)");
  cli.option("--curve-instances", o.curve_instances, at_least(1), "N", "instances of the learning curve (default 32)");
  cli.option("--symbols", o.symbols, at_least(1), "N", "keys and values each limited to the first N (default: all)");
  cli.check([&o] { check(o); });
}

objectives::MqarRowOptions row_options(const Options& o, int context) {
  objectives::MqarRowOptions rows;
  rows.rows = o.tuning.rows;
  rows.row_length = context;
  rows.min_pairs = o.finetune_pairs->min;
  rows.max_pairs = o.finetune_pairs->max;
  rows.min_queries = o.finetune_queries->min;
  rows.max_queries = o.finetune_queries->max;
  // A row is finished once not even the smallest instance fits what is left.
  rows.min_pack_tokens = static_cast<int>(data::tasks::mqar_row_tokens(rows.min_pairs, rows.min_queries));
  return rows;
}

// The held-out learning-curve set: sizes drawn in the fine-tuning ranges, lowered to the
// context like the rows' instances, from the curve streams (never trained on, never
// evaluated).
std::vector<MqarInstance> curve_set(const Options& o, const MqarVocabulary& vocabulary, int context) {
  using data::tasks::MqarStreamSpace;
  using data::tasks::mqar_stream;
  std::vector<MqarInstance> set;
  for (int i = 0; i < o.curve_instances; ++i) {
    RandomGenerator sizes(o.seed, mqar_stream(MqarStreamSpace::curve, 2 * std::uint64_t(i)));
    int pairs = objectives::uniform_between(sizes, o.finetune_pairs->min, o.finetune_pairs->max);
    int queries = objectives::uniform_between(sizes, o.finetune_queries->min, std::min(o.finetune_queries->max, pairs));
    while (data::tasks::mqar_row_tokens(pairs, queries) > std::size_t(context) && pairs > o.finetune_pairs->min) {
      --pairs;
      queries = std::min(queries, pairs);
    }
    set.push_back(data::tasks::make_mqar_instance(vocabulary, pairs, queries, o.seed,
                                                  mqar_stream(MqarStreamSpace::curve, 2 * std::uint64_t(i) + 1)));
  }
  return set;
}

struct Answer {
  std::vector<data::Token> generated;
  double accuracy = 0;
};

Answer answer(const apps::TrainedModel& trained, const MqarInstance& instance) {
  const auto expected = instance.expected_values();
  Answer a;
  // Slack for reserved tokens, which scoring skips.
  a.generated = training::greedy_answer(*trained.lm, instance.prompt(), std::int64_t(expected.size()) + 8);
  a.accuracy = data::tasks::mqar_accuracy(expected, a.generated);
  return a;
}

std::vector<std::string> pieces(const data::Tokenizer& tokenizer, const std::vector<data::Token>& tokens) {
  std::vector<std::string> out;
  for (data::Token t : tokens) out.push_back(tokenizer.piece(t));
  return out;
}

std::string range_text(Range r) { return std::to_string(r.min) + "-" + std::to_string(r.max); }

}  // namespace

int main(int argc, char** argv) {
  Options o;
  apps::Evaluator evaluator{"mqar_eval", "multi-query associative recall accuracy"};
  evaluator.flags = [&o](apps::CommandLine& cli) { add_flags(cli, o); };
  evaluator.evaluate = [&o](apps::TrainedModel& trained, int context) {
    const MqarVocabulary vocabulary =
        data::tasks::limit_mqar_vocabulary(data::tasks::mqar_vocabulary(trained.tokenizer), std::size_t(o.symbols));
    const int most_pairs = std::max(*std::max_element(o.pairs.begin(), o.pairs.end()), o.finetune_pairs->max);
    BIRDIE_CHECK(static_cast<std::size_t>(most_pairs) <= vocabulary.keys.size() && !vocabulary.values.empty(),
                 "--pairs/--finetune-pairs: up to ", most_pairs, " pairs need as many distinct key tokens, but the ",
                 "tokenizer's vocabulary (", trained.tokenizer.vocab_size(), " pieces", o.symbols ? ", --symbols" : "",
                 ") offers ", vocabulary.keys.size(), " keys and ", vocabulary.values.size(),
                 " values: lower the pairs", o.symbols ? " or raise --symbols" : "");
    const double random_guess = vocabulary.random_guess_accuracy();
    std::printf("%zu key and %zu value tokens (random guessing: %.4f)\n", vocabulary.keys.size(),
                vocabulary.values.size(), random_guess);

    std::vector<training::CurvePoint> curve;
    if (o.tuning.steps > 0) {
      const objectives::MqarRowOptions rows = row_options(o, context);
      try {
        objectives::check_mqar_row_options(vocabulary, rows);
      } catch (const std::exception& e) {
        throw Error(std::string("--finetune-pairs/--finetune-queries/--context: ") + e.what());
      }
      const std::vector<MqarInstance> held_out = o.tuning.curve_every > 0 ? curve_set(o, vocabulary, context) : std::vector<MqarInstance>{};
      std::printf("fine-tuning %d steps of %d rows × %d tokens: pairs %s, queries %s, lr %g%s\n", o.tuning.steps,
                  rows.rows, rows.row_length, range_text(*o.finetune_pairs).c_str(),
                  range_text(*o.finetune_queries).c_str(), o.tuning.lr,
                  o.tuning.curve_every > 0 ? (", held-out accuracy on " + std::to_string(held_out.size()) + " instances every " +
                                       std::to_string(o.tuning.curve_every) + " steps").c_str()
                                    : "");
      training::FinetuneOptions options;
      options.steps = o.tuning.steps;
      options.lr = o.tuning.lr;
      options.eval_every = o.tuning.curve_every;
      curve = training::finetune(
          *trained.lm, options,
          [&](int step) { return objectives::mqar_rows(vocabulary, rows, o.seed, std::uint64_t(step)); },
          [&] {
            double sum = 0;
            for (const MqarInstance& instance : held_out) sum += answer(trained, instance).accuracy;
            return held_out.empty() ? 0.0 : sum / double(held_out.size());
          },
          "fine-tune");
    }

    struct Cell {
      int pairs = 0, queries = 0, cases = 0, skipped = 0;
      double sum = 0;
    };
    std::vector<Cell> cells;
    std::vector<std::string> left_out;
    nlohmann::ordered_json records = nlohmann::ordered_json::array();
    Stopwatch clock;
    int cases = 0, skipped = 0;
    double total = 0;
    for (int pairs : o.pairs)
      for (int queries : o.queries) {
        if (queries > pairs) {
          left_out.push_back(std::to_string(pairs) + " pairs × " + std::to_string(queries) + " queries");
          continue;
        }
        Cell cell{pairs, queries};
        Stopwatch cell_clock;
        for (int i = 0; i < o.instances; ++i) {
          const std::uint64_t stream = data::tasks::mqar_evaluation_stream(pairs, queries, std::uint64_t(i));
          const MqarInstance instance = data::tasks::make_mqar_instance(vocabulary, pairs, queries, o.seed, stream);
          if (instance.row_tokens() > std::size_t(context)) {
            ++cell.skipped;
            continue;
          }
          const Answer a = answer(trained, instance);
          ++cell.cases;
          cell.sum += a.accuracy;
          const auto expected = instance.expected_values();
          records.push_back({{"pairs", pairs}, {"queries", queries}, {"instance", i}, {"stream", stream},
                             {"prompt", instance.prompt()}, {"expected", expected},
                             {"expected_pieces", pieces(trained.tokenizer, expected)}, {"generated", a.generated},
                             {"generated_pieces", pieces(trained.tokenizer, a.generated)}, {"accuracy", a.accuracy}});
        }
        cases += cell.cases;
        skipped += cell.skipped;
        total += cell.sum;
        char accuracy[32] = "-";
        if (cell.cases) std::snprintf(accuracy, sizeof accuracy, "%.3f", cell.sum / cell.cases);
        std::printf("%d pairs, %d queries: %d instances, accuracy %s%s (%.1f s)\n", pairs, queries, cell.cases, accuracy,
                    cell.skipped ? (", " + std::to_string(cell.skipped) + " skipped (too long for the context)").c_str() : "",
                    cell_clock.seconds());
        cells.push_back(cell);
      }
    BIRDIE_CHECK(!cells.empty(), "--pairs/--queries: every cell has more queries than pairs");

    std::printf("\nMQAR accuracy: fraction of queried values right (random guessing: 1/%zu = %.4f), %d instances in %.1f s\n",
                vocabulary.values.size(), random_guess, cases, clock.seconds());
    for (const std::string& cell : left_out) std::printf("left out: %s (more queries than pairs)\n", cell.c_str());
    if (skipped > 0)
      std::printf("%d instances skipped: longer than the context of %d tokens (2·pairs + 2·queries + 2 positions)\n",
                  skipped, context);
    std::printf("a model that answers some value of the list, not the queried key's, scores about 1/pairs (list guess)\n");
    std::printf("%8s %8s %8s %8s %10s %11s\n", "pairs", "queries", "cases", "skipped", "accuracy", "list guess");
    nlohmann::ordered_json table = nlohmann::ordered_json::array();
    for (const Cell& c : cells) {
      const double mean = c.cases ? c.sum / c.cases : 0.0;
      const double list_guess = 1.0 / c.pairs;
      if (c.cases) std::printf("%8d %8d %8d %8d %10.3f %11.3f\n", c.pairs, c.queries, c.cases, c.skipped, mean, list_guess);
      else std::printf("%8d %8d %8d %8d %10s %11.3f\n", c.pairs, c.queries, c.cases, c.skipped, "-", list_guess);
      nlohmann::ordered_json row{{"pairs", c.pairs}, {"queries", c.queries}, {"cases", c.cases}, {"skipped", c.skipped}};
      row["accuracy"] = c.cases ? nlohmann::ordered_json(mean) : nlohmann::ordered_json(nullptr);
      row["list_guess_accuracy"] = list_guess;
      table.push_back(row);
    }
    const double overall = cases ? total / cases : 0.0;
    std::printf("%8s %8s %8d %8d %10.3f\n", "all", "", cases, skipped, overall);
    nlohmann::ordered_json curve_json = nlohmann::ordered_json::array();
    for (const auto& p : curve) curve_json.push_back({{"step", p.step}, {"loss", p.loss}, {"accuracy", p.accuracy}});
    nlohmann::ordered_json finetune{{"steps", o.tuning.steps}};
    if (o.tuning.steps > 0) {
      finetune["rows"] = o.tuning.rows;
      finetune["row_length"] = context;
      finetune["lr"] = o.tuning.lr;
      finetune["pairs"] = {o.finetune_pairs->min, o.finetune_pairs->max};
      finetune["queries"] = {o.finetune_queries->min, o.finetune_queries->max};
      finetune["curve_every"] = o.tuning.curve_every;
      finetune["curve_instances"] = o.tuning.curve_every > 0 ? o.curve_instances : 0;
    }
    const nlohmann::ordered_json overall_json = cases ? nlohmann::ordered_json(overall) : nlohmann::ordered_json(nullptr);
    return nlohmann::ordered_json{{"checkpoint", trained.checkpoint.string()},
                                  {"context", context},
                                  {"seed", o.seed},
                                  {"symbols", o.symbols},
                                  {"key_tokens", vocabulary.keys.size()},
                                  {"value_tokens", vocabulary.values.size()},
                                  {"random_guess_accuracy", random_guess},
                                  {"finetune", finetune},
                                  {"accuracy", overall_json},
                                  {"instances", cases},
                                  {"skipped_instances", skipped},
                                  {"left_out_cells", left_out},
                                  {"table", table},
                                  {"curve", curve_json},
                                  {"cases", records}};
  };
  return apps::run_evaluator(argc, argv, evaluator);
}
