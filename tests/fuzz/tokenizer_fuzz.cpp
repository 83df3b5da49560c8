// A SentencePiece tokenizer model (data/tokenizer.h: loaded, its reserved ids and rules
// checked), then used on a short text.
#include "data/tokenizer.h"
#include "tests/fuzz/harness.h"

using namespace birdie;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::write_input("tokenizer.model", data, size);
  fuzz::expect_clear_refusal(path.string(), [&] {
    const data::Tokenizer tokenizer = data::Tokenizer::load(path);
    const auto ids = tokenizer.encode("Ana Silva: 555-010-9999\n  caf\xC3\xA9 \x01");
    for (data::Token id : ids) fuzz::require(id >= 0 && id < tokenizer.vocab_size(), "ids inside the vocabulary");
    (void)tokenizer.decode(ids);
  });
  return 0;
}
