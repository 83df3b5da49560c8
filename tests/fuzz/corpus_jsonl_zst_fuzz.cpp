// A zstd-compressed JSONL corpus (.jsonl.zst, data/corpus_reader.h): the frames decompressed
// as a stream, then the lines as in corpus_jsonl_fuzz.
#include "tests/fuzz/corpus_reading.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  birdie::fuzz::read_corpus_both_ways("fuzzed.jsonl.zst", data, size);
  return 0;
}
