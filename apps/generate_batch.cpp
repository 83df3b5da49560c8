// generate_batch: completions for many prompts at once, decoded together on the device
// (model/batch_generator.h): a JSONL file of prompts in, a JSONL file of completions out.
//
//   generate_batch --checkpoint DIR --input PROMPTS.jsonl --output COMPLETIONS.jsonl
//                  [--batch N] [--max-tokens N] [--temperature T] [--top-k K] [--top-p P]
//                  [--seed S] [--mode MODE] [--tokenizer PATH] [--device cpu|cuda]
//                  [--precision auto|fp32|bf16] [--no-graph] [--show-reserved]
//
// Each input line is {"prompt": TEXT} with an optional {"seed": N} (default: --seed plus
// the line's index from 0), so a line's completion is the one `generate --prompt TEXT
// --seed N` prints, whatever the batch it falls in. Prompts are taken --batch at a time
// (default 64), each row stopping on its own at <eos> or after --max-tokens. Each output
// line, in the input's order: {"prompt", "completion" (reserved tokens left out unless
// --show-reserved), "tokens" (generated, <eos> included), "stopped": "eos" or "length"}.
// --mode as in generate. On a GPU the decoding step is captured in a CUDA graph and
// replayed; --no-graph launches its kernels one by one (for debugging). The summary on
// stderr gives the tokens generated per second, overall and in the decoding steady state.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "apps/common/command_line.h"
#include "apps/common/generation_prompt.h"
#include "apps/common/sampling_flags.h"
#include "apps/common/trained_model.h"
#include "engine/atomic_file.h"
#include "engine/timer.h"
#include "model/batch_generator.h"

using namespace birdie;

namespace {

struct Line {
  std::string prompt;
  std::uint64_t seed;
};

// The prompts of a JSONL file; a bad line stops with the file, the line and the field.
std::vector<Line> read_prompts(const std::filesystem::path& path, std::uint64_t base_seed) {
  std::ifstream in(path);
  BIRDIE_CHECK(in.good(), "generate_batch: cannot read ", path.string());
  std::vector<Line> lines;
  std::string text;
  for (std::int64_t number = 1; std::getline(in, text); ++number) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path.string() + ":" + std::to_string(number);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw Error(detail::concat(where, ": not JSON (", e.what(), ")"));
    }
    BIRDIE_CHECK(j.is_object() && j.contains("prompt") && j["prompt"].is_string(), where,
                 ": each line must be an object with a string \"prompt\"");
    for (const auto& [key, value] : j.items())
      BIRDIE_CHECK(key == "prompt" || key == "seed", where, ": unknown field \"", key, "\" (the fields are prompt and seed)");
    std::uint64_t seed = base_seed + static_cast<std::uint64_t>(lines.size());
    if (j.contains("seed")) {
      BIRDIE_CHECK(j["seed"].is_number_unsigned(), where, ": \"seed\" must be a non-negative integer");
      seed = j["seed"].get<std::uint64_t>();
    }
    lines.push_back({j["prompt"].get<std::string>(), seed});
  }
  BIRDIE_CHECK(!lines.empty(), "generate_batch: ", path.string(), " holds no prompts");
  return lines;
}

}  // namespace

int main(int argc, char** argv) {
  std::string checkpoint, input, output, device = "cpu", precision = "auto";
  std::optional<std::filesystem::path> tokenizer;
  apps::SamplingFlags sampling;
  model::SamplingOptions& options = sampling.options;
  std::int64_t batch_size = 64;
  bool show_reserved = false, graph = true;
  apps::CommandLine cli("generate_batch", "completes many prompts at once");
  cli.option("--checkpoint", checkpoint, "DIR", "a run folder (its newest checkpoint) or a checkpoint folder (required)");
  cli.option("--input", input, "PROMPTS.jsonl", "the prompts (required)");
  cli.option("--output", output, "COMPLETIONS.jsonl", "where the completions go (required)");
  cli.option("--batch", batch_size, apps::as<std::int64_t>(apps::non_negative_number), "N",
             "prompts decoded together (default 64)");
  sampling.add_to(cli, "most tokens generated per prompt (default 64)",
                  "seed of the first line (the next lines: S+1, S+2, ...)");
  sampling.add_mode(cli);
  cli.option("--tokenizer", tokenizer, "PATH", "the tokenizer (default: the run folder's tokenizer.model)");
  cli.option("--device", device, "cpu|cuda", "where the model runs (default cpu)");
  cli.option("--precision", precision, "auto|fp32|bf16", "compute precision (default auto: bf16 on cuda)");
  cli.flag("--no-graph", "launch the decoding kernels one by one, no CUDA graph", [&graph] { graph = false; });
  cli.flag("--show-reserved", show_reserved, "keep reserved tokens in the completions");
  cli.footer(std::string("input lines: {\"prompt\": TEXT} or {\"prompt\": TEXT, \"seed\": N}\nmodes: ") +
             apps::generation_modes);
  cli.check([&] {
    if (checkpoint.empty() || input.empty() || output.empty())
      throw apps::UsageError("--checkpoint, --input and --output are required");
    if (batch_size < 1) throw apps::UsageError("--batch must be at least 1");
    sampling.check();
  });
  cli.parse(argc, argv);
  try {
    const std::vector<Line> lines = read_prompts(input, options.seed);
    apps::TrainedModel trained = apps::load_trained_model(checkpoint, tokenizer, parse_device(device), precision);
    options.eos = data::special_tokens::eos;
    AtomicFile out(output);  // in place once every line is written
    Stopwatch wall;
    std::int64_t generated = 0, timed_tokens = 0;
    double timed_seconds = 0;
    for (std::size_t first = 0; first < lines.size(); first += static_cast<std::size_t>(batch_size)) {
      const std::size_t end = std::min(lines.size(), first + static_cast<std::size_t>(batch_size));
      std::vector<model::GenerationRequest> requests;
      for (std::size_t i = first; i < end; ++i) {
        requests.push_back(apps::generation_request(trained.tokenizer.encode(lines[i].prompt), sampling.paradigm));
        requests.back().seed = lines[i].seed;
      }
      const model::BatchGeneration result = model::generate_batch(
          *trained.lm, requests, data::special_tokens::start_generating, options, {graph, 16});
      timed_tokens += static_cast<std::int64_t>(requests.size()) * result.timed_steps;
      timed_seconds += result.timed_seconds;
      for (std::size_t i = first; i < end; ++i) {
        std::vector<data::Token> text = result.tokens[i - first];
        generated += static_cast<std::int64_t>(text.size());
        const bool stopped = !text.empty() && text.back() == options.eos;
        if (stopped) text.pop_back();
        const nlohmann::json line = {
            {"prompt", lines[i].prompt},
            {"completion", show_reserved ? trained.tokenizer.decode(text) : trained.tokenizer.decode_text(text)},
            {"tokens", result.tokens[i - first].size()},
            {"stopped", stopped ? "eos" : "length"}};
        out.write(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
      }
    }
    out.commit();
    const double seconds = wall.seconds();
    std::fprintf(stderr,
                 "[%s, mode %s: %zu prompts in batches of %lld, %lld tokens generated in %.2f s: %.0f tokens/s "
                 "overall (prefill included)%s]\n",
                 trained.checkpoint.string().c_str(), sampling.mode.c_str(), lines.size(), (long long)batch_size,
                 (long long)generated, seconds, double(generated) / seconds,
                 timed_seconds > 0 ? (", " + std::to_string(static_cast<long long>(double(timed_tokens) / timed_seconds)) +
                                      " tokens/s decoding")
                                         .c_str()
                                   : "");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "generate_batch: %s\n", e.what());
    return 2;
  }
}
