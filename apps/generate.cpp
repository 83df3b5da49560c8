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
#include "apps/common/sampling_flags.h"
#include "apps/common/trained_model.h"
#include "data/special_tokens.h"
#include "engine/exit_codes.h"
#include "model/generator.h"

using namespace birdie;

int main(int argc, char** argv) {
  std::string checkpoint, prompt, device = "cpu", precision = "auto";
  std::optional<std::filesystem::path> tokenizer;
  apps::SamplingFlags sampling;
  model::SamplingOptions& options = sampling.options;
  bool have_prompt = false, show_reserved = false;
  apps::CommandLine cli("generate", "samples text from a trained model");
  cli.option("--checkpoint", checkpoint, "DIR", "a run folder (its newest checkpoint) or a checkpoint folder (required)");
  cli.option("--prompt", "TEXT", "the text to continue (required)", [&](const std::string& text) {
    prompt = text;
    have_prompt = true;
  });
  sampling.add_to(cli, "most tokens generated (default 64)", "sampling seed");
  cli.option("--tokenizer", tokenizer, "PATH", "the tokenizer (default: the run folder's tokenizer.model)");
  cli.option("--device", device, "cpu|cuda", "where the model runs (default cpu)");
  cli.option("--precision", precision, "auto|fp32|bf16", "compute precision (default auto: bf16 on cuda)");
  sampling.add_mode(cli);
  cli.flag("--show-reserved", show_reserved, "also print reserved tokens (<extra_id_0>, paradigm and marker symbols)");
  cli.footer(std::string("modes: ") + apps::generation_modes);
  cli.check([&] {
    if (checkpoint.empty() || !have_prompt) throw apps::UsageError("--checkpoint and --prompt are required");
    sampling.check();
  });
  cli.parse(argc, argv);
  try {
    apps::TrainedModel trained = apps::load_trained_model(checkpoint, tokenizer, parse_device(device), precision);
    const std::vector<data::Token> text_tokens = trained.tokenizer.encode(prompt);
    const model::GenerationRequest request = apps::generation_request(text_tokens, sampling.paradigm);
    options.eos = data::special_tokens::eos;
    const auto out = model::generate(*trained.lm, request.prompt, data::special_tokens::start_generating, options,
                                     request.answer_start);
    std::vector<data::Token> text(out.begin(), out.end());
    if (!text.empty() && text.back() == options.eos) text.pop_back();
    std::fprintf(stderr, "[%s, mode %s, %zu prompt tokens, %zu generated]\n", trained.checkpoint.string().c_str(),
                 sampling.mode.c_str(), text_tokens.size(), out.size());
    const std::string shown = show_reserved ? trained.tokenizer.decode(text) : trained.tokenizer.decode_text(text);
    std::printf("%s\n", shown.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "generate: %s\n", e.what());
    return exit_code_for(e, exit_bad_input);
  }
}
