// Token shards: the prepared corpus on disk. A shard is a 64-byte little-endian header
// then the tokens:
//
//   offset  size  field
//   0       8     magic "BIRDTOK\0"
//   8       4     version (token_shard_version)
//   12      4     vocabulary size
//   16      4     token width in bytes: 2 (u16, vocabularies up to 65536) or 4 (u32)
//   20      4     header size (64)
//   24      8     token count
//   32      8     checksum of the token bytes (checksum64, engine/checksum.h)
//   40      24    zero
//
// Shards are read through a memory map. Opening checks the magic, version, width, that
// the file holds exactly header + count × width bytes (a truncated copy is caught), the
// checksum (a corrupt one is caught), and the vocabulary size against the caller's.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "data/token_source.h"

namespace birdie::data {

constexpr std::uint32_t token_shard_version = 1;
constexpr std::size_t token_shard_header_bytes = 64;

// Writes the shard atomically (a temporary file renamed into place). Token ids must be in
// [0, vocab_size).
void write_token_shard(const std::filesystem::path& path, std::span<const Token> tokens, int vocab_size);

class TokenShard {
 public:
  // expected_vocab_size 0 skips the vocabulary check.
  static TokenShard open(const std::filesystem::path& path, int expected_vocab_size = 0);

  TokenShard(TokenShard&&) noexcept;
  TokenShard& operator=(TokenShard&&) noexcept;
  ~TokenShard();

  std::size_t size() const { return count_; }
  int vocab_size() const { return vocab_size_; }
  int token_bytes() const { return width_; }
  const std::filesystem::path& path() const { return path_; }
  Token operator[](std::size_t i) const;
  // Appends tokens [begin, begin + count) (within the shard) to out.
  void append(std::size_t begin, std::size_t count, std::vector<Token>& out) const;

 private:
  TokenShard() = default;
  std::filesystem::path path_;
  const unsigned char* map_ = nullptr;
  std::size_t map_size_ = 0;
  std::size_t count_ = 0;
  int vocab_size_ = 0;
  int width_ = 0;
};

// The shards of one split, concatenated in name order, as a TokenSource.
class ShardTokenSource final : public TokenSource {
 public:
  explicit ShardTokenSource(std::vector<TokenShard> shards);
  std::size_t size() const override { return total_; }
  void read(std::size_t offset, std::size_t count, std::vector<Token>& out) const override;
  const std::vector<TokenShard>& shards() const { return shards_; }

 private:
  std::vector<TokenShard> shards_;
  std::vector<std::size_t> starts_;  // first global index of each shard
  std::size_t total_ = 0;
};

// The files <split>_NNNNN.bin in `directory`, sorted.
std::vector<std::filesystem::path> list_shards(const std::filesystem::path& directory,
                                               const std::string& split);

// Checks a prepared data folder's manifest.json: its "tokenizer_rules" must be
// tokenizer_rules_version (data/tokenizer.h). A folder without the field was made by the
// old rules and is refused, with the fix: re-run prepare_data.
void check_data_folder_manifest(const std::filesystem::path& directory);

// Opens a prepared data folder's split: the manifest (check_data_folder_manifest), the
// shards and the tokenizer.model beside them, checking that tokenizer, shards and (when
// > 0) the model's vocabulary size agree.
ShardTokenSource open_split(const std::filesystem::path& directory, const std::string& split,
                            int model_vocab_size = 0);

}  // namespace birdie::data
