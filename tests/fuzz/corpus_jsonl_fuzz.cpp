// A JSONL corpus for prepare_data (data/corpus_reader.h): one object per line with a
// "text" field, read stopping at the first malformed line and skipping malformed lines.
#include "data/corpus_reader.h"
#include "tests/fuzz/corpus_reading.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  birdie::fuzz::read_corpus_both_ways("fuzzed.jsonl", data, size);
  return 0;
}
