// prepare_data: corpus → tokenizer + token shards (data/prepare_corpus.h).
//
//   prepare_data [--corpus fortunes|debian-text|PATH] [--out DIR] [--vocab N] [--threads N]
//                [--validation-fraction F] [--text-field NAME] [--skip-malformed]
//                [--tokenizer MODEL] [--tokenizer-sample-mb N] [--shard-tokens N]
//                [--debian-text-root DIR]
//
// With no --corpus it builds the demo data set from the fortunes text; --corpus debian-text
// reads English text from Debian packages (data/debian_text.h).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "apps/common/command_line.h"
#include "data/prepare_corpus.h"
#include "engine/error.h"
#include "engine/exit_codes.h"

namespace {

double number(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') throw birdie::apps::UsageError("option " + flag + ": '" + text + "' is not a number");
  return v;
}
int whole(const std::string& flag, const std::string& text) { return static_cast<int>(number(flag, text)); }
std::uint64_t count(const std::string& flag, const std::string& text) {
  return static_cast<std::uint64_t>(number(flag, text));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace birdie::data;
  // A file-size limit (ulimit -f) met by a shard: an error with exit code 4, not a core dump.
  std::signal(SIGXFSZ, SIG_IGN);
  PrepareOptions options;
  birdie::apps::CommandLine cli("prepare_data", "corpus → tokenizer + token shards");
  cli.option("--corpus", options.corpus, "fortunes|debian-text|PATH", "the text (default fortunes)");
  cli.option("--out", "DIR", "the data folder written (default data_out/fortunes)",
             [&options](const std::string& text) { options.out = text; });
  cli.option("--vocab", options.tokenizer.vocab_size, whole, "N", "the tokenizer's vocabulary (default 4096)");
  cli.option("--threads", options.threads, whole, "N", "threads (default: all cores; the tokenizer's training 2)");
  cli.option("--validation-fraction", options.validation_fraction, number, "F", "share of documents held out for validation (default 0.02)");
  cli.option("--text-field", options.corpus_options.text_field, "NAME", "the field of a .jsonl line that holds the text");
  cli.flag("--skip-malformed", "skip malformed lines instead of stopping",
           [&options] { options.corpus_options.malformed = MalformedLinePolicy::skip; });
  cli.option("--tokenizer", "MODEL", "encode with this tokenizer instead of training one",
             [&options](const std::string& text) { options.existing_tokenizer = text; });
  cli.option("--tokenizer-sample-mb", "N", "megabytes of text the tokenizer is trained on (default 67)",
             [&options](const std::string& text) {
               options.tokenizer_sample_bytes = static_cast<std::uint64_t>(number("--tokenizer-sample-mb", text) * 1e6);
             });
  cli.option("--shard-tokens", options.shard_tokens, count, "N", "tokens per shard (default 67108864)");
  cli.option("--debian-text-root", "DIR", "where the debian-text corpus's files are (default /)",
             [&options](const std::string& text) { options.debian_text_root = text; });
  cli.footer(
      "  PATH: a text file, a folder of them, a .jsonl or .jsonl.zst file (or a folder mixing them)\n"
      "  debian-text: fortunes, the King James Bible, GCIDE, WordNet, the Jargon File, FOLDOC and\n"
      "    other dictd dictionaries from Debian packages (bash scripts/setup.sh --corpus debian-text);\n"
      "    --debian-text-root: where their files are (default /)\n"
      "  default: --corpus fortunes --out data_out/fortunes --vocab 4096");
  cli.parse(argc, argv);
  try {
    options.tokenizer.threads = options.threads > 0 ? options.threads : 2;
    options.corpus_options.warn = [](const std::string& w) { std::fprintf(stderr, "\nwarning: %s (skipped)\n", w.c_str()); };
    options.progress = [](const std::string& line) { std::fprintf(stderr, "\rprepare_data: %s   ", line.c_str()); };
    const PrepareSummary s = prepare_corpus(options);
    std::fprintf(stderr, "\n");
    std::printf("prepare_data: corpus %s → %s\n", options.corpus.c_str(), options.out.string().c_str());
    std::printf("  tokenizer  %s (vocab %d, %.1f s)\n", s.tokenizer.string().c_str(), s.vocab_size, s.tokenizer_seconds);
    for (const auto& f : s.shards)
      std::printf("  shard      %s (%llu tokens)\n", f.path.string().c_str(), static_cast<unsigned long long>(f.tokens));
    std::printf("  manifest   %s\n", (options.out / "manifest.json").string().c_str());
    std::printf("  documents  %llu (%llu validation), train tokens %llu, validation tokens %llu\n",
                static_cast<unsigned long long>(s.documents), static_cast<unsigned long long>(s.validation_documents),
                static_cast<unsigned long long>(s.train_tokens), static_cast<unsigned long long>(s.validation_tokens));
    if (s.malformed_lines) std::printf("  skipped    %llu malformed lines\n", static_cast<unsigned long long>(s.malformed_lines));
    std::printf("  encoding   %.2f MB in %.2f s: %.2f MB/s, %.0f tokens/s\n", static_cast<double>(s.input_bytes) / 1e6,
                s.encode_seconds, static_cast<double>(s.input_bytes) / 1e6 / s.encode_seconds,
                static_cast<double>(s.train_tokens + s.validation_tokens) / s.encode_seconds);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nprepare_data: error: %s\n", e.what());
    return birdie::exit_code_for(e, birdie::exit_error);
  }
}
