// phonebook_eval: multi-number phone-book lookup (BIRDIE.md §6), digit accuracy per number
// of queries k and per book size, from generated books or from a JSONL file of cases.
//
//   phonebook_eval --checkpoint DIR [--entries 8,16] [--queries 1,2,4] [--books N]
//                  [--cases FILE.jsonl] [--finetune-steps N] [--finetune-rows R]
//                  [--finetune-lr LR] [--context T] [--seed S] [--json OUT] [--tokenizer PATH]
//                  [--device cpu|cuda] [--precision auto|fp32|bf16]
//
// Generated books are scaled to the model's context (its training sequence length, or
// --context): a book whose prompt does not fit is shrunk to the most entries that do, and
// reported as such; tables group cases by the entries they really hold. Answers are scored
// on their text alone (reserved tokens such as <extra_id_0> are left out).
// With --finetune-steps the model is first fine-tuned on freshly generated books (§6:
// no weight decay, prompt in the bidirectional prefix, answer causal); nothing is saved.
// Decoding is greedy with the recurrent generator, stopping at <eos>.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "apps/common/trained_model.h"
#include "apps/common/finetune.h"
#include "data/special_tokens.h"
#include "data/tasks/phonebook.h"
#include "engine/timer.h"
#include "objectives/phone_book_rows.h"

using namespace birdie;

namespace {

struct Options {
  std::string checkpoint;
  std::optional<std::filesystem::path> tokenizer, cases, json;
  std::vector<int> entries{8, 16}, queries{1, 2, 4};
  int books = 8;
  int finetune_steps = 0, finetune_rows = 8;
  double finetune_lr = 1e-3;
  int context = 0;
  std::uint64_t seed = 1;
  std::string device = "cpu";
  std::string precision = "auto";  // apps/common/run_config.h: bf16 compute on cuda
};

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr,
               "phonebook_eval: %s\n"
               "usage: phonebook_eval --checkpoint DIR [--entries 8,16] [--queries 1,2,4] [--books N]\n"
               "                      [--cases FILE.jsonl] [--finetune-steps N] [--finetune-rows R]\n"
               "                      [--finetune-lr LR] [--context T] [--seed S] [--json OUT] [--tokenizer PATH]\n"
               "                      [--device cpu|cuda] [--precision auto|fp32|bf16]\n",
               problem.c_str());
  std::exit(2);
}

std::vector<int> int_list(const std::string& flag, const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 1) usage(flag + " takes positive whole numbers separated by commas");
    out.push_back(static_cast<int>(v));
  }
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") usage("phone-book retrieval accuracy");
    if (i + 1 >= argc) usage("missing value after " + flag);
    const std::string value = argv[++i];
    auto positive = [&](double minimum) {
      char* end = nullptr;
      const double v = std::strtod(value.c_str(), &end);
      if (*end != '\0' || v < minimum) usage(flag + " needs a number ≥ " + std::to_string(minimum));
      return v;
    };
    if (flag == "--checkpoint") o.checkpoint = value;
    else if (flag == "--tokenizer") o.tokenizer = value;
    else if (flag == "--cases") o.cases = value;
    else if (flag == "--json") o.json = value;
    else if (flag == "--entries") o.entries = int_list(flag, value);
    else if (flag == "--queries") o.queries = int_list(flag, value);
    else if (flag == "--books") o.books = static_cast<int>(positive(1));
    else if (flag == "--finetune-steps") o.finetune_steps = static_cast<int>(positive(0));
    else if (flag == "--finetune-rows") o.finetune_rows = static_cast<int>(positive(1));
    else if (flag == "--finetune-lr") o.finetune_lr = positive(0);
    else if (flag == "--context") o.context = static_cast<int>(positive(16));
    else if (flag == "--seed") o.seed = static_cast<std::uint64_t>(positive(0));
    else if (flag == "--device") o.device = value;
    else if (flag == "--precision") o.precision = value;
    else usage("unknown option " + flag);
  }
  if (o.checkpoint.empty()) usage("--checkpoint is required");
  return o;
}

struct Case {
  std::string prompt, answer;
  int entries = 0, queries = 0;  // entries the book really holds; 0 when read from a file
  int requested_entries = 0;     // before shrinking to fit the context (generated books)
  bool shrunk() const { return entries != requested_entries; }
};

std::vector<Case> read_cases(const std::filesystem::path& path) {
  std::ifstream in(path);
  BIRDIE_CHECK(in.good(), "cannot open ", path.string());
  std::vector<Case> cases;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    BIRDIE_CHECK(j.is_object() && j.contains("prompt") && j["prompt"].is_string() && j.contains("answer") &&
                     j["answer"].is_string(),
                 path.string(), ":", number, ": expected {\"prompt\": \"...\", \"answer\": \"...\"}");
    Case c{j["prompt"].get<std::string>(), j["answer"].get<std::string>()};
    c.queries = static_cast<int>(std::count(c.answer.begin(), c.answer.end(), ',') + 1);
    cases.push_back(c);
  }
  BIRDIE_CHECK(!cases.empty(), path.string(), ": no cases");
  return cases;
}

// Books of `entries` entries (fewer if the prompt would not fit the context).
std::vector<Case> generated_cases(const Options& o, const data::Tokenizer& tokenizer, int context) {
  std::vector<Case> cases;
  std::uint64_t stream = 0;
  for (int entries : o.entries)
    for (int k : o.queries)
      for (int b = 0; b < o.books; ++b, ++stream) {
        int n = std::max(entries, k);
        data::tasks::PhoneBook book = data::tasks::make_phone_book(n, k, o.seed, stream);
        // Prompt + <sg> + answer + <eos> must fit.
        auto length = [&](const data::tasks::PhoneBook& pb) {
          return tokenizer.encode(pb.prompt()).size() + tokenizer.encode(pb.answer()).size() + 2;
        };
        while (context > 0 && int(length(book)) > context && n > k) {
          --n;
          book = data::tasks::make_phone_book(n, k, o.seed, stream);
        }
        if (context > 0 && int(length(book)) > context) continue;  // k numbers alone do not fit
        cases.push_back({book.prompt(), book.answer(), n, k, std::max(entries, k)});
      }
  return cases;
}

void finetune(apps::TrainedModel& trained, const Options& o, int context) {
  objectives::PhoneBookRowOptions rows;
  rows.rows = o.finetune_rows;
  rows.row_length = context;
  rows.min_pack_tokens = std::min(256, context / 4);
  apps::FinetuneOptions options;
  options.steps = o.finetune_steps;
  options.lr = o.finetune_lr;
  apps::finetune(
      *trained.lm, options,
      [&](int step) { return objectives::phone_book_rows(trained.tokenizer, rows, o.seed + 1000, std::uint64_t(step)); },
      [] { return 0.0; }, "fine-tune");
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  try {
    apps::TrainedModel trained = apps::load_trained_model(o.checkpoint, o.tokenizer, parse_device(o.device), o.precision);
    const int context = o.context > 0 ? o.context : trained.context;
    BIRDIE_CHECK(context > 0, "the model's context is unknown (no config.toml in its run folder): pass --context T");
    std::printf("phonebook_eval: %s, context %d tokens\n", trained.checkpoint.string().c_str(), context);
    if (o.finetune_steps > 0) finetune(trained, o, context);

    const std::vector<Case> cases = o.cases ? read_cases(*o.cases) : generated_cases(o, trained.tokenizer, context);
    BIRDIE_CHECK(!cases.empty(), "no book fits a context of ", context, " tokens: lower --queries or raise --context");
    std::map<std::pair<int, int>, std::pair<double, int>> cells;  // (entries, k) → (sum, count)
    nlohmann::ordered_json results = nlohmann::ordered_json::array();
    Stopwatch clock;
    for (const Case& c : cases) {
      const auto prompt = trained.tokenizer.encode(c.prompt);
      const auto out = apps::greedy_answer(*trained.lm, prompt, std::int64_t(trained.tokenizer.encode(c.answer).size()) + 8);
      const std::string generated = trained.tokenizer.decode_text(out);
      const double accuracy = data::tasks::digit_accuracy(c.answer, generated);
      auto& cell = cells[{c.entries, c.queries}];
      cell.first += accuracy;
      cell.second += 1;
      results.push_back({{"entries", c.entries}, {"requested_entries", c.requested_entries},
                         {"shrunk", c.shrunk()}, {"queries", c.queries}, {"prompt_tokens", prompt.size()},
                         {"answer", c.answer}, {"generated", generated},
                         {"generated_raw", trained.tokenizer.decode(out)}, {"digit_accuracy", accuracy}});
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
    if (o.json) {
      std::ofstream(*o.json) << nlohmann::ordered_json{{"checkpoint", trained.checkpoint.string()},
                                                       {"context", context},
                                                       {"finetune_steps", o.finetune_steps},
                                                       {"shrunk_books", shrunk},
                                                       {"accuracy", total / double(cases.size())},
                                                       {"table", table},
                                                       {"cases", results}}
                                    .dump(2)
                             << '\n';
      std::printf("results: %s\n", o.json->string().c_str());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "phonebook_eval: %s\n", e.what());
    return 2;
  }
}
