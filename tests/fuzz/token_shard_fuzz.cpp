// A token shard (data/token_shard.h): the 64-byte header (magic, version, vocabulary, token
// width, header size, count, checksum) and the tokens, read through a memory map.
#include "data/token_shard.h"
#include "tests/fuzz/harness.h"

using namespace birdie;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::write_input("train_00000.bin", data, size);
  fuzz::expect_clear_refusal(path.string(), [&] {
    const data::TokenShard shard = data::TokenShard::open(path);
    fuzz::require(shard.size() * std::size_t(shard.token_bytes()) + data::token_shard_header_bytes == size,
                  "an accepted shard's tokens fill the file");
    std::vector<data::Token> tokens;
    shard.append(0, shard.size(), tokens);
    for (data::Token t : tokens) fuzz::require(t >= 0 && t < shard.vocab_size(), "tokens inside the vocabulary");
    if (shard.size() > 0) {  // as the loader reads it: across the end of the split and around
      std::vector<data::TokenShard> shards;
      shards.push_back(data::TokenShard::open(path));
      const data::ShardTokenSource source(std::move(shards));
      tokens.clear();
      source.read(shard.size() - 1, 3, tokens);
      fuzz::require(tokens.size() == 3, "a read of 3 tokens gives 3");
    }
  });
  return 0;
}
