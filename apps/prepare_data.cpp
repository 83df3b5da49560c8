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

#include "data/prepare_corpus.h"
#include "engine/error.h"
#include "engine/exit_codes.h"

namespace {

void usage() {
  std::puts(
      "usage: prepare_data [--corpus fortunes|debian-text|PATH] [--out DIR] [--vocab N] [--threads N]\n"
      "                    [--validation-fraction F] [--text-field NAME] [--skip-malformed]\n"
      "                    [--tokenizer MODEL] [--tokenizer-sample-mb N] [--shard-tokens N]\n"
      "                    [--debian-text-root DIR]\n"
      "  PATH: a text file, a folder of them, a .jsonl or .jsonl.zst file (or a folder mixing them)\n"
      "  debian-text: fortunes, the King James Bible, GCIDE, WordNet, the Jargon File, FOLDOC and\n"
      "    other dictd dictionaries from Debian packages (bash scripts/setup.sh --corpus debian-text);\n"
      "    --debian-text-root: where their files are (default /)\n"
      "  default: --corpus fortunes --out data_out/fortunes --vocab 4096");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace birdie::data;
  // A file-size limit (ulimit -f) met by a shard: an error with exit code 4, not a core dump.
  std::signal(SIGXFSZ, SIG_IGN);
  PrepareOptions options;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw birdie::Error("option " + arg + " needs a value (see --help)");
        return argv[++i];
      };
      auto number = [&](const std::string& text) {
        try {
          return std::stod(text);
        } catch (...) {
          throw birdie::Error("option " + arg + ": '" + text + "' is not a number");
        }
      };
      if (arg == "--help" || arg == "-h") {
        usage();
        return 0;
      } else if (arg == "--corpus") options.corpus = value();
      else if (arg == "--out") options.out = value();
      else if (arg == "--vocab") options.tokenizer.vocab_size = static_cast<int>(number(value()));
      else if (arg == "--threads") options.threads = static_cast<int>(number(value()));
      else if (arg == "--validation-fraction") options.validation_fraction = number(value());
      else if (arg == "--text-field") options.corpus_options.text_field = value();
      else if (arg == "--skip-malformed") options.corpus_options.malformed = MalformedLinePolicy::skip;
      else if (arg == "--tokenizer") options.existing_tokenizer = value();
      else if (arg == "--tokenizer-sample-mb") options.tokenizer_sample_bytes = static_cast<std::uint64_t>(number(value()) * 1e6);
      else if (arg == "--debian-text-root") options.debian_text_root = value();
      else if (arg == "--shard-tokens") options.shard_tokens = static_cast<std::uint64_t>(number(value()));
      else throw birdie::Error("unknown option '" + arg + "' (see --help)");
    }
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
