// generate: samples text from a trained model with the recurrent generator.
//
//   generate --checkpoint DIR --prompt TEXT [--max-tokens N] [--temperature T]
//            [--top-k K] [--top-p P] [--seed S] [--tokenizer PATH] [--device cpu|cuda]
//            [--precision auto|fp32|bf16] [--mode MODE] [--show-reserved]
//
// DIR is a run folder (its newest checkpoint) or a checkpoint folder. --mode picks the
// paradigm token (docs/method.md §1), i.e. the task the model is asked to do:
//   ntp (default)  plain continuation: the model reads <ntp> <sg>, then the prompt text
//                  causally, as in next-token pre-training, and continues it;
//   prefix_lm, infill, autoencode, autoencode_deshuffle, copy, deshuffle, selective_copy
//                  the paradigm token then the prompt text are read in both directions
//                  (the bidirectional prefix), and the answer is decoded after <sg>;
//   none           the prompt text alone in the prefix (how phonebook_eval asks).
// Decoding stops at <eos> or after --max-tokens. The text is printed without reserved
// tokens (<extra_id_0>, paradigm and marker symbols) unless --show-reserved is given.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "apps/common/command_line.h"
#include "apps/common/generation_prompt.h"
#include "apps/common/trained_model.h"
#include "data/special_tokens.h"
#include "engine/exit_codes.h"
#include "model/generator.h"

using namespace birdie;

namespace {
double number(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || v < 0) throw apps::UsageError(flag + " needs a non-negative number, got '" + text + "'");
  return v;
}
std::int64_t count(const std::string& flag, const std::string& text) { return static_cast<std::int64_t>(number(flag, text)); }
std::uint64_t seed(const std::string& flag, const std::string& text) { return static_cast<std::uint64_t>(number(flag, text)); }
}  // namespace

int main(int argc, char** argv) {
  std::string checkpoint, prompt, device = "cpu", precision = "auto", mode = "ntp";
  std::optional<std::filesystem::path> tokenizer;
  model::SamplingOptions options;
  options.max_new_tokens = 64;
  bool have_prompt = false, show_reserved = false;
  std::optional<data::Token> paradigm;
  apps::CommandLine cli("generate", "samples text from a trained model");
  cli.option("--checkpoint", checkpoint, "DIR", "a run folder (its newest checkpoint) or a checkpoint folder (required)");
  cli.option("--prompt", "TEXT", "the text to continue (required)", [&](const std::string& text) {
    prompt = text;
    have_prompt = true;
  });
  cli.option("--max-tokens", options.max_new_tokens, count, "N", "most tokens generated (default 64)");
  cli.option("--temperature", options.temperature, number, "T", "sampling temperature (default 0: greedy)");
  cli.option("--top-k", options.top_k, count, "K", "sample among the K likeliest tokens (default 0: all)");
  cli.option("--top-p", options.top_p, number, "P", "nucleus sampling, in (0, 1] (default 1)");
  cli.option("--seed", options.seed, seed, "S", "sampling seed");
  cli.option("--tokenizer", tokenizer, "PATH", "the tokenizer (default: the run folder's tokenizer.model)");
  cli.option("--device", device, "cpu|cuda", "where the model runs (default cpu)");
  cli.option("--precision", precision, "auto|fp32|bf16", "compute precision (default auto: bf16 on cuda)");
  cli.option("--mode", mode, "MODE", "the task the model is asked to do (below; default ntp)");
  cli.flag("--show-reserved", show_reserved, "also print reserved tokens (<extra_id_0>, paradigm and marker symbols)");
  cli.footer(std::string("modes: ") + apps::generation_modes);
  cli.check([&] {
    if (checkpoint.empty() || !have_prompt) throw apps::UsageError("--checkpoint and --prompt are required");
    if (!(options.top_p > 0 && options.top_p <= 1)) throw apps::UsageError("--top-p must be in (0, 1]");
    try {
      paradigm = apps::mode_token(mode);
    } catch (const Error& e) {
      throw apps::UsageError(e.what());
    }
  });
  cli.parse(argc, argv);
  try {
    apps::TrainedModel trained = apps::load_trained_model(checkpoint, tokenizer, parse_device(device), precision);
    const std::vector<data::Token> text_tokens = trained.tokenizer.encode(prompt);
    const model::GenerationRequest request = apps::generation_request(text_tokens, paradigm);
    options.eos = data::special_tokens::eos;
    const auto out = model::generate(*trained.lm, request.prompt, data::special_tokens::start_generating, options,
                                     request.answer_start);
    std::vector<data::Token> text(out.begin(), out.end());
    if (!text.empty() && text.back() == options.eos) text.pop_back();
    std::fprintf(stderr, "[%s, mode %s, %zu prompt tokens, %zu generated]\n", trained.checkpoint.string().c_str(),
                 mode.c_str(), text_tokens.size(), out.size());
    const std::string shown = show_reserved ? trained.tokenizer.decode(text) : trained.tokenizer.decode_text(text);
    std::printf("%s\n", shown.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "generate: %s\n", e.what());
    return exit_code_for(e, exit_bad_input);
  }
}
