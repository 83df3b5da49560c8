// generate: samples text from a trained model with the recurrent generator.
//
//   generate --checkpoint DIR --prompt TEXT [--max-tokens N] [--temperature T]
//            [--top-k K] [--top-p P] [--seed S] [--tokenizer PATH] [--device cpu|cuda]
//            [--precision auto|fp32|bf16] [--mode MODE] [--show-reserved]
//
// DIR is a run folder (its newest checkpoint) or a checkpoint folder. --mode picks the
// paradigm token (BIRDIE.md §1), i.e. the task the model is asked to do:
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

#include "apps/common/generation_prompt.h"
#include "apps/common/trained_model.h"
#include "data/special_tokens.h"
#include "engine/exit_codes.h"
#include "model/generator.h"

using namespace birdie;

namespace {
[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr,
               "generate: %s\n"
               "usage: generate --checkpoint DIR --prompt TEXT [--max-tokens N] [--temperature T]\n"
               "                [--top-k K] [--top-p P] [--seed S] [--tokenizer PATH] [--device cpu|cuda]\n"
               "                [--precision auto|fp32|bf16] [--mode MODE] [--show-reserved]\n"
               "modes: ntp (default: plain continuation), prefix_lm, infill, autoencode,\n"
               "       autoencode_deshuffle, copy, deshuffle, selective_copy, none\n",
               problem.c_str());
  std::exit(2);
}

double number(const std::string& flag, const char* text) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (*end != '\0' || v < 0) usage(flag + " needs a non-negative number, got '" + text + "'");
  return v;
}
}  // namespace

int main(int argc, char** argv) {
  std::string checkpoint, prompt, device = "cpu", precision = "auto", mode = "ntp";
  std::optional<std::filesystem::path> tokenizer;
  model::SamplingOptions options;
  options.max_new_tokens = 64;
  bool have_prompt = false, show_reserved = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--show-reserved") {
      show_reserved = true;
      continue;
    }
    if (flag == "--help" || flag == "-h") usage("samples text from a trained model");
    if (i + 1 >= argc) usage("missing value after " + flag);
    const char* value = argv[++i];
    if (flag == "--checkpoint") checkpoint = value;
    else if (flag == "--prompt") prompt = value, have_prompt = true;
    else if (flag == "--max-tokens") options.max_new_tokens = static_cast<std::int64_t>(number(flag, value));
    else if (flag == "--temperature") options.temperature = number(flag, value);
    else if (flag == "--top-k") options.top_k = static_cast<std::int64_t>(number(flag, value));
    else if (flag == "--top-p") options.top_p = number(flag, value);
    else if (flag == "--seed") options.seed = static_cast<std::uint64_t>(number(flag, value));
    else if (flag == "--tokenizer") tokenizer = value;
    else if (flag == "--device") device = value;
    else if (flag == "--precision") precision = value;
    else if (flag == "--mode") mode = value;
    else usage("unknown option " + flag);
  }
  if (checkpoint.empty() || !have_prompt) usage("--checkpoint and --prompt are required");
  if (!(options.top_p > 0 && options.top_p <= 1)) usage("--top-p must be in (0, 1]");
  std::optional<data::Token> paradigm;
  try {
    paradigm = apps::mode_token(mode);
  } catch (const Error& e) {
    usage(e.what());
  }
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
