// The corpus harnesses' shared body: the input as a corpus file named `name` (its suffix
// picks the reader), read with both malformed-line policies.
#pragma once

#include "data/corpus_reader.h"
#include "tests/fuzz/harness.h"

namespace birdie::fuzz {

inline void read_corpus_both_ways(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const auto path = write_input(name, data, size);
  for (const auto policy : {data::MalformedLinePolicy::fail, data::MalformedLinePolicy::skip}) {
    expect_clear_refusal(path.string(), [&] {
      data::CorpusOptions options;
      options.malformed = policy;
      std::uint64_t warnings = 0;
      options.warn = [&](const std::string& message) {
        require(message.find(path.string()) != std::string::npos, "a skipped line's warning names the file");
        ++warnings;
      };
      data::CorpusProgress progress;
      std::uint64_t bytes = 0;
      data::read_corpus(
          path, options, [&](std::string&& text) { return bytes += text.size(), true; }, progress);
      require(progress.text_bytes == bytes && warnings == progress.malformed_lines, "the progress counts agree");
    });
  }
}

}  // namespace birdie::fuzz
