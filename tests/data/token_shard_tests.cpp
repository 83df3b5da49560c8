// Token shards: round trip, and every kind of damage reported with the file's name.
#include <doctest/doctest.h>

#include <fstream>

#include "data/token_shard.h"
#include "engine/error.h"
#include "engine/io_error.h"
#include "engine/random.h"
#include "temporary_folder.h"

namespace birdie::data {
namespace {

std::vector<Token> random_tokens(std::size_t n, int vocab, std::uint64_t seed) {
  RandomGenerator rng(seed);
  std::vector<Token> t(n);
  for (auto& x : t) x = static_cast<Token>(rng.uniform_int(static_cast<std::uint64_t>(vocab)));
  return t;
}

void overwrite_byte(const std::filesystem::path& path, std::size_t offset, char value) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(value);
}

}  // namespace

TEST_CASE("shards round-trip with u16 and u32 tokens") {
  testing::TemporaryFolder dir("birdie_shards");
  for (int vocab : {4096, 65536, 100000}) {
    const auto tokens = random_tokens(10007, vocab, static_cast<std::uint64_t>(vocab));
    const auto path = dir.path / ("train_" + std::to_string(vocab) + ".bin");
    write_token_shard(path, tokens, vocab);
    const TokenShard shard = TokenShard::open(path, vocab);
    CHECK(shard.size() == tokens.size());
    CHECK(shard.vocab_size() == vocab);
    CHECK(shard.token_bytes() == (vocab <= 65536 ? 2 : 4));
    CHECK(std::filesystem::file_size(path) == 64 + tokens.size() * static_cast<std::size_t>(shard.token_bytes()));
    std::vector<Token> back;
    shard.append(0, shard.size(), back);
    CHECK(back == tokens);
  }
}

TEST_CASE("a shard source concatenates shards and wraps around") {
  testing::TemporaryFolder dir("birdie_shard_source");
  write_token_shard(dir.path / "train_00000.bin", std::vector<Token>{1, 2, 3}, 100);
  write_token_shard(dir.path / "train_00001.bin", std::vector<Token>{4, 5}, 100);
  std::vector<TokenShard> shards;
  for (const auto& p : list_shards(dir.path, "train")) shards.push_back(TokenShard::open(p, 100));
  const ShardTokenSource source(std::move(shards));
  CHECK(source.size() == 5);
  std::vector<Token> out;
  source.read(2, 7, out);
  CHECK(out == std::vector<Token>{3, 4, 5, 1, 2, 3, 4});
}

TEST_CASE("damaged shards are refused with the file named") {
  testing::TemporaryFolder dir("birdie_shard_damage");
  const auto tokens = random_tokens(1000, 4096, 3);
  const auto path = dir.path / "train_00000.bin";
  auto fresh = [&] { write_token_shard(path, tokens, 4096); };

  fresh();
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 3);
  CHECK_THROWS_WITH_AS(TokenShard::open(path), doctest::Contains("truncated"), Error);
  CHECK_THROWS_WITH_AS(TokenShard::open(path), doctest::Contains(path.string().c_str()), Error);

  fresh();
  std::filesystem::resize_file(path, 10);
  CHECK_THROWS_WITH_AS(TokenShard::open(path), doctest::Contains("truncated"), Error);

  fresh();
  overwrite_byte(path, 64 + 500, 0x5a);
  CHECK_THROWS_WITH_AS(TokenShard::open(path), doctest::Contains("checksum"), Error);

  fresh();
  overwrite_byte(path, 0, 'X');
  CHECK_THROWS_WITH_AS(TokenShard::open(path), doctest::Contains("are not the magic"), Error);

  fresh();
  overwrite_byte(path, 8, 7);
  CHECK_THROWS_WITH_AS(TokenShard::open(path), doctest::Contains("version 7"), Error);

  // A token count whose byte size wraps around 64 bits is checked against the file first.
  fresh();
  std::filesystem::resize_file(path, 64);
  for (int b = 24; b < 32; ++b) overwrite_byte(path, b, b == 31 ? 0x80 : 0);
  CHECK_THROWS_WITH_AS(TokenShard::open(path), doctest::Contains("token count (bytes 24-31)"), Error);

  // Tokens outside the vocabulary the header announces (the checksum covers the tokens only).
  fresh();
  overwrite_byte(path, 12, 0);
  overwrite_byte(path, 13, 0);
  CHECK_THROWS_WITH_AS(TokenShard::open(path), doctest::Contains("the vocabulary size (bytes 12-15) is 0"), Error);
  overwrite_byte(path, 12, 2);
  CHECK_THROWS_WITH_AS(TokenShard::open(path), doctest::Contains("outside the vocabulary of 2"), Error);

  fresh();
  CHECK_THROWS_WITH_AS(TokenShard::open(path, 8192), doctest::Contains("disagree"), Error);
  CHECK_THROWS_WITH_AS(TokenShard::open(dir.path / "missing.bin"), doctest::Contains("missing.bin"), Error);
  CHECK_THROWS_WITH_AS(write_token_shard(path, std::vector<Token>{5000}, 4096), doctest::Contains("outside the vocabulary"), Error);
}

TEST_CASE("a shard truncated under its mapping: reading it throws an I/O error naming it") {
  data::testing::TemporaryFolder dir("birdie_shard_truncated");
  const auto path = dir.path / "train_00000.bin";
  std::vector<Token> tokens(100000);
  for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = Token(i % 1000);
  write_token_shard(path, tokens, 1000);
  const TokenShard shard = TokenShard::open(path, 1000);
  std::vector<Token> out;
  shard.append(0, 10, out);
  CHECK(out[9] == 9);
  std::filesystem::resize_file(path, 0);  // its pages are gone: a read raises SIGBUS
  out.clear();
  try {
    shard.append(50000, 10, out);
    FAIL("no error");
  } catch (const IoError& e) {
    CHECK(std::string(e.what()).find("cannot read the token shard " + path.string() + " any more") !=
          std::string::npos);
  }
  // The guard is gone with the read: the thread goes on normally.
  std::vector<Token> more;
  CHECK_THROWS_AS(shard.append(60000, 1, more), IoError);
}

}  // namespace birdie::data
