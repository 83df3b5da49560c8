// phonebook_eval: multi-number phone-book lookup (docs/method.md §6), digit accuracy per number
// of queries k and per book size, from generated books or from a JSONL file of cases.
//
//   phonebook_eval --checkpoint DIR [--entries 8,16] [--queries 1,2,4] [--books N]
//                  [--cases FILE.jsonl] [--context T] [--seed S] [--json OUT] [--tokenizer PATH]
//                  [--device cpu|cuda] [--precision auto|fp32|bf16]
//                  [--protocol small|paper] [--finetune-steps N] [--finetune-rows R]
//                  [--finetune-lr LR] [--finetune-entries MIN,MAX|MIN,fit] [--finetune-queries MIN,MAX]
//                  [--split-names] [--curve-every N] [--curve-books M]
//                  [--curve-entries 1] [--curve-queries 1]
//
// Generated books are scaled to the model's context (its training sequence length, or
// --context): a book whose prompt does not fit is shrunk to the most entries that do, and
// reported as such; tables group cases by the entries they really hold. A case that does
// not fit even so (too many queries, or a --cases line too long) is skipped and counted,
// never cut. Answers are scored on their text alone (reserved tokens such as <extra_id_0>
// are left out). Decoding is greedy with the recurrent generator, stopping at <eos>.
//
// Fine-tuning (§6), before the evaluation, nothing saved: fresh books every step, packed
// several to a row when they fit, book sizes drawn from a range scaled to the context,
// 1..K queries, no weight decay, prompt in the bidirectional prefix and answer causal.
// Fine-tuning books come from other seeds than the evaluation's, and with --split-names
// from the other half of the name lists. A learning curve (digit accuracy on a small
// held-out set of books) is measured every --curve-every steps and written to the JSON; its
// books are --curve-books books spread over --curve-entries × --curve-queries (default: the
// evaluation's --entries × --queries; a book holds max(entries, queries) entries, so
// 1-entry books are --curve-entries 1 --curve-queries 1).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <string>

#include "apps/common/evaluator_cli.h"
#include "training/finetune.h"
#include "apps/common/trained_model.h"
#include "data/special_tokens.h"
#include "data/tasks/phonebook.h"
#include "engine/timer.h"
#include "objectives/phone_book_rows.h"

using namespace birdie;
using data::tasks::NameHalf;

namespace {

// A fine-tuning protocol: the settings a flag can override one by one (the steps, rows
// and learning rate are the FinetuneFlags).
struct Protocol {
  std::string name = "small";
  int min_entries = 2, max_entries = 0;  // 0: as many as fit a row
  int min_queries = 1, max_queries = 32;
};

struct Options {
  std::optional<std::filesystem::path> cases;
  std::vector<int> entries{8, 16}, queries{1, 2, 4};
  int books = 8;
  Protocol finetune;
  apps::FinetuneFlags tuning{0, 8, 1e-3, -1};  // curve_every -1: a tenth of the steps
  bool split_names = false;
  int curve_books = 16;
  std::vector<int> curve_entries, curve_queries;  // empty: entries, queries
  std::uint64_t seed = 1;
};

// "MIN,MAX", or "MIN,fit" where allow_fit: as many as fit a row, stored as 0.
std::pair<int, int> range(const std::string& flag, const std::string& text, bool allow_fit) {
  const std::string fit = ",fit";
  if (allow_fit && text.size() > fit.size() && text.ends_with(fit))
    return {apps::whole_number(flag, text.substr(0, text.size() - fit.size()), 1), 0};
  return apps::whole_range(flag, text);
}

void add_flags(apps::CommandLine& cli, Options& o) {
  using apps::at_least;
  cli.option("--entries", o.entries, apps::whole_numbers, "8,16", "entries per generated book");
  cli.option("--queries", o.queries, apps::whole_numbers, "1,2,4", "numbers asked per book (k)");
  cli.option("--books", o.books, at_least(1), "N", "books per (entries, queries) (default 8)");
  cli.option("--cases", o.cases, "FILE.jsonl", "cases from a file instead of generated books");
  cli.option("--seed", o.seed, apps::seed_number, "S", "seed of the books (default 1)");
  cli.option("--protocol", "small|paper", "the fine-tuning protocol (below; default small)", [&o](const std::string& name) {
    if (name != "small" && name != "paper") throw apps::UsageError("--protocol takes small or paper, got '" + name + "'");
    o.finetune.name = name;
  });
  o.tuning.add_to(cli, "held-out accuracy every N fine-tuning steps (default: a tenth of the steps)");
  cli.option("--finetune-entries", "MIN,MAX|MIN,fit", "book sizes to fine-tune on", [&o](const std::string& text) {
    std::tie(o.finetune.min_entries, o.finetune.max_entries) = range("--finetune-entries", text, true);
  });
  cli.option("--finetune-queries", "MIN,MAX", "queries per fine-tuning book", [&o](const std::string& text) {
    std::tie(o.finetune.min_queries, o.finetune.max_queries) = range("--finetune-queries", text, false);
  });
  cli.flag("--split-names", o.split_names, "fine-tune on the first half of the name lists, evaluate on the second");
  cli.option("--curve-books", o.curve_books, at_least(1), "M", "books of the learning curve (default 16)");
  cli.option("--curve-entries", o.curve_entries, apps::whole_numbers, "LIST", "the curve's entries (default --entries)");
  cli.option("--curve-queries", o.curve_queries, apps::whole_numbers, "LIST", "the curve's queries (default --queries)");
  cli.footer("protocols: small (default: rows 8, lr 1e-3, books of 2 entries up to what fits, 1-32 queries)\n"
             "           paper (1000 steps, 64 rows, lr 5e-5, 200-800 entries scaled to the context, 1-32 queries)\n"
             "           a --finetune-* flag overrides its setting, whatever the order");
  cli.check([&o, &cli] {
    // The paper's protocol (§6): 1000 steps of 64 rows, lr 5e-5, books of 200-800 entries
    // (scaled down to the context when they do not fit), 1-32 queries; the flags given win.
    if (o.finetune.name == "paper") {
      if (!cli.given("--finetune-steps")) o.tuning.steps = 1000;
      if (!cli.given("--finetune-rows")) o.tuning.rows = 64;
      if (!cli.given("--finetune-lr")) o.tuning.lr = 5e-5;
      if (!cli.given("--finetune-entries")) o.finetune.min_entries = 200, o.finetune.max_entries = 800;
      if (!cli.given("--finetune-queries")) o.finetune.min_queries = 1, o.finetune.max_queries = 32;
    }
    if (o.tuning.curve_every < 0) o.tuning.curve_every = o.tuning.steps > 0 ? std::max(1, o.tuning.steps / 10) : 0;
  });
}

struct Case {
  std::string prompt, answer;
  int entries = 0, queries = 0;  // entries the book really holds; 0 when a --cases line does not say
  int requested_entries = 0;     // before shrinking to fit the context (generated books)
  bool shrunk() const { return entries != requested_entries; }
};

struct CaseSet {
  std::vector<Case> cases;
  int skipped = 0;  // did not fit the context
};

// Tokens a case takes in a row: prompt, <sg>, answer, <eos>.
std::size_t row_tokens(const data::Tokenizer& tokenizer, const std::string& prompt, const std::string& answer) {
  return tokenizer.encode(prompt).size() + tokenizer.encode(answer).size() + 2;
}

CaseSet read_cases(const std::filesystem::path& path, const data::Tokenizer& tokenizer, int context) {
  CaseSet set;
  for (const data::tasks::PhoneBookCase& read : data::tasks::read_phone_book_cases(path)) {
    Case c{read.prompt, read.answer, read.entries, read.queries};
    c.requested_entries = c.entries;
    if (int(row_tokens(tokenizer, c.prompt, c.answer)) > context) {
      ++set.skipped;
      continue;
    }
    set.cases.push_back(c);
  }
  return set;
}

// `books` books per (entries, k) of the grid, fewer entries when the prompt would not fit.
CaseSet generated_cases(const std::vector<int>& entries_list, const std::vector<int>& queries_list, int books,
                        std::uint64_t seed, NameHalf names, const data::Tokenizer& tokenizer, int context) {
  CaseSet set;
  std::uint64_t stream = 0;
  for (int entries : entries_list)
    for (int k : queries_list)
      for (int b = 0; b < books; ++b, ++stream) {
        const int requested = std::max(entries, k);
        int n = requested;
        auto book = data::tasks::make_phone_book(n, k, seed, stream, names);
        auto length = [&] { return int(row_tokens(tokenizer, book.prompt(), book.answer())); };
        while (length() > context && n > k) {
          // Jump close to the size that fits, then step down one entry at a time.
          n = std::max(k, std::min(n - 1, static_cast<int>(n * 0.98 * context / length())));
          book = data::tasks::make_phone_book(n, k, seed, stream, names);
        }
        if (length() > context) {  // k numbers alone do not fit
          ++set.skipped;
          continue;
        }
        set.cases.push_back({book.prompt(), book.answer(), n, k, requested});
      }
  return set;
}

struct Scored {
  double accuracy = 0;
  std::string generated, generated_raw;
  std::size_t prompt_tokens = 0;
};

Scored score(const apps::TrainedModel& trained, const Case& c) {
  Scored s;
  const auto prompt = trained.tokenizer.encode(c.prompt);
  s.prompt_tokens = prompt.size();
  const auto out =
      training::greedy_answer(*trained.lm, prompt, std::int64_t(trained.tokenizer.encode(c.answer).size()) + 8);
  s.generated = trained.tokenizer.decode_text(out);
  s.generated_raw = trained.tokenizer.decode(out);
  s.accuracy = data::tasks::digit_accuracy(c.answer, s.generated);
  return s;
}

// The most entries of a one-query book that fit a row (measured on a generated book).
int entries_that_fit(const data::Tokenizer& tokenizer, int row_length, std::uint64_t seed, NameHalf names) {
  auto fits = [&](int n) {
    const auto book = data::tasks::make_phone_book(n, 1, seed, 0, names);
    return int(row_tokens(tokenizer, book.prompt(), book.answer())) <= row_length;
  };
  int low = 0, high = std::max(2, row_length / 4);  // an entry takes more than 4 tokens
  while (low < high) {
    const int mid = (low + high + 1) / 2;
    if (fits(mid)) low = mid;
    else high = mid - 1;
  }
  return low;
}

nlohmann::ordered_json finetune(apps::TrainedModel& trained, const Options& o, int context) {
  const Protocol& p = o.finetune;
  const apps::FinetuneFlags& t = o.tuning;
  const NameHalf train_names = o.split_names ? NameHalf::first : NameHalf::all;
  const NameHalf eval_names = o.split_names ? NameHalf::second : NameHalf::all;
  const std::uint64_t train_seed = o.seed + 1000, curve_seed = o.seed + 2000;
  objectives::PhoneBookRowOptions rows;
  rows.rows = t.rows;
  rows.row_length = context;
  rows.min_pack_tokens = std::min(64, context / 4);
  rows.names = train_names;
  rows.min_queries = p.min_queries;
  rows.max_queries = p.max_queries;
  // Book sizes scaled to the context: a range beyond what fits shrinks proportionally.
  const int fit = entries_that_fit(trained.tokenizer, context, train_seed, train_names);
  BIRDIE_CHECK(fit >= 1, "fine-tuning: not even a one-entry phone book fits a context of ", context, " tokens");
  const int wanted_max = p.max_entries > 0 ? p.max_entries : fit;
  const double scale = std::min(1.0, double(fit) / wanted_max);
  rows.max_entries = std::max(1, static_cast<int>(std::lround(wanted_max * scale)));
  rows.min_entries = std::clamp(static_cast<int>(std::lround(p.min_entries * scale)), 1, rows.max_entries);
  std::printf("fine-tune: protocol %s, %d steps x %d rows of %d tokens, lr %g, no weight decay\n"
              "           books of %d-%d entries%s, %d-%d queries, names from %s\n",
              p.name.c_str(), t.steps, t.rows, context, t.lr, rows.min_entries, rows.max_entries,
              scale < 1 ? (" (" + std::to_string(p.min_entries) + "-" + std::to_string(wanted_max) +
                           " scaled to the context)").c_str()
                        : "",
              rows.min_queries, rows.max_queries, o.split_names ? "the first half of the lists" : "all the lists");

  // The held-out curve set: the evaluation's grid unless --curve-entries/--curve-queries, its
  // own seed.
  const std::vector<int>& curve_entries = o.curve_entries.empty() ? o.entries : o.curve_entries;
  const std::vector<int>& curve_queries = o.curve_queries.empty() ? o.queries : o.curve_queries;
  const int grid = int(curve_entries.size() * curve_queries.size());
  const CaseSet curve_set = generated_cases(curve_entries, curve_queries, (o.curve_books + grid - 1) / grid,
                                            curve_seed, eval_names, trained.tokenizer, context);
  std::set<int> held_entries, held_queries;  // what the curve's books really hold
  for (const Case& c : curve_set.cases) held_entries.insert(c.entries), held_queries.insert(c.queries);
  auto curve_accuracy = [&] {
    double sum = 0;
    for (const Case& c : curve_set.cases) sum += score(trained, c).accuracy;
    return curve_set.cases.empty() ? 0.0 : sum / double(curve_set.cases.size());
  };
  training::FinetuneOptions options;
  options.steps = t.steps;
  options.lr = t.lr;
  options.eval_every = curve_set.cases.empty() ? 0 : t.curve_every;
  options.log_every = std::max(1, std::min(10, t.steps / 20));
  Stopwatch clock;
  const auto curve = training::finetune(
      *trained.lm, options,
      [&](int step) { return objectives::phone_book_rows(trained.tokenizer, rows, train_seed, std::uint64_t(step)); },
      curve_accuracy, "fine-tune");
  if (curve.size() >= 2)
    std::printf("held-out digit accuracy: %.3f before fine-tuning, %.3f after (random guessing: 0.10)\n",
                curve.front().accuracy, curve.back().accuracy);
  nlohmann::ordered_json points = nlohmann::ordered_json::array();
  for (const auto& point : curve)
    points.push_back({{"step", point.step}, {"loss", point.loss}, {"accuracy", point.accuracy}});
  return {{"protocol", p.name},        {"steps", t.steps},
          {"rows", t.rows},            {"lr", t.lr},
          {"weight_decay", 0.0},       {"entries", {rows.min_entries, rows.max_entries}},
          {"queries", {rows.min_queries, rows.max_queries}},
          {"split_names", o.split_names}, {"seed", train_seed},
          {"curve_books", curve_set.cases.size()}, {"curve_seed", curve_seed},
          {"curve_entries", held_entries}, {"curve_queries", held_queries},
          {"seconds", clock.seconds()},  {"curve", points}};
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  apps::Evaluator evaluator{"phonebook_eval", "phone-book retrieval accuracy"};
  evaluator.flags = [&o](apps::CommandLine& cli) { add_flags(cli, o); };
  evaluator.evaluate = [&o](apps::TrainedModel& trained, int context) {
    nlohmann::ordered_json finetune_record;
    if (o.tuning.steps > 0) finetune_record = finetune(trained, o, context);

    const CaseSet set = o.cases ? read_cases(*o.cases, trained.tokenizer, context)
                                : generated_cases(o.entries, o.queries, o.books, o.seed,
                                                  o.split_names ? NameHalf::second : NameHalf::all,
                                                  trained.tokenizer, context);
    const std::vector<Case>& cases = set.cases;
    if (set.skipped > 0)
      std::printf("%d cases skipped: longer than the context of %d tokens (prompt, <sg>, answer, <eos>)\n",
                  set.skipped, context);
    BIRDIE_CHECK(!cases.empty(), "no case fits a context of ", context, " tokens: lower --queries or raise --context");
    std::map<std::pair<int, int>, std::pair<double, int>> cells;  // (entries, k) → (sum, count)
    nlohmann::ordered_json results = nlohmann::ordered_json::array();
    Stopwatch clock;
    for (const Case& c : cases) {
      const Scored s = score(trained, c);
      auto& cell = cells[{c.entries, c.queries}];
      cell.first += s.accuracy;
      cell.second += 1;
      results.push_back({{"entries", c.entries}, {"requested_entries", c.requested_entries},
                         {"shrunk", c.shrunk()}, {"queries", c.queries}, {"prompt_tokens", s.prompt_tokens},
                         {"answer", c.answer}, {"generated", s.generated},
                         {"generated_raw", s.generated_raw}, {"digit_accuracy", s.accuracy}});
    }
    const auto shrunk = std::count_if(cases.begin(), cases.end(), [](const Case& c) { return c.shrunk(); });
    std::printf("\ndigit accuracy (random guessing: 0.10), %zu cases in %.1f s\n", cases.size(), clock.seconds());
    if (shrunk > 0)
      std::printf("%lld of %zu books were shrunk to fit the context of %d tokens: the table groups cases by\n"
                  "the entries they really hold\n",
                  static_cast<long long>(shrunk), cases.size(), context);
    std::printf("%10s %8s %8s %10s\n", "entries", "queries", "cases", "accuracy");
    nlohmann::ordered_json table = nlohmann::ordered_json::array();
    double total = 0;
    for (const auto& [key, value] : cells) {
      const double mean = value.first / value.second;
      total += value.first;
      std::printf("%10s %8d %8d %10.3f\n", key.first ? std::to_string(key.first).c_str() : "file", key.second,
                  value.second, mean);
      table.push_back({{"entries", key.first}, {"queries", key.second}, {"cases", value.second}, {"accuracy", mean}});
    }
    std::printf("%10s %8s %8zu %10.3f\n", "all", "", cases.size(), total / double(cases.size()));
    return nlohmann::ordered_json{{"checkpoint", trained.checkpoint.string()},
                                  {"context", context},
                                  {"finetune_steps", o.tuning.steps},
                                  {"finetune", finetune_record},
                                  {"shrunk_books", shrunk},
                                  {"skipped_cases", set.skipped},
                                  {"accuracy", total / double(cases.size())},
                                  {"table", table},
                                  {"cases", results}};
  };
  return apps::run_evaluator(argc, argv, evaluator);
}
