#include "data/token_shard.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <utility>

#include "data/mapped_shards.h"
#include "data/tokenizer.h"
#include "engine/atomic_file.h"
#include "engine/checksum.h"
#include "engine/error.h"

namespace birdie::data {
namespace {

constexpr char magic[8] = {'B', 'I', 'R', 'D', 'T', 'O', 'K', '\0'};

template <class T>
T load(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

void write_token_shard(const std::filesystem::path& path, std::span<const Token> tokens, int vocab_size) {
  BIRDIE_CHECK(vocab_size > 0, "write_token_shard ", path.string(), ": vocabulary size must be positive");
  const std::uint32_t width = vocab_size <= 65536 ? 2 : 4;
  std::vector<unsigned char> body(tokens.size() * width);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const Token t = tokens[i];
    BIRDIE_CHECK(t >= 0 && t < vocab_size, "write_token_shard ", path.string(), ": token ", t,
                 " at ", i, " is outside the vocabulary [0, ", vocab_size, ")");
    if (width == 2) {
      const auto v = static_cast<std::uint16_t>(t);
      std::memcpy(&body[i * 2], &v, 2);
    } else {
      const auto v = static_cast<std::uint32_t>(t);
      std::memcpy(&body[i * 4], &v, 4);
    }
  }
  unsigned char header[token_shard_header_bytes] = {};
  std::memcpy(header, magic, 8);
  const std::uint32_t fields[4] = {token_shard_version, static_cast<std::uint32_t>(vocab_size), width,
                                   static_cast<std::uint32_t>(token_shard_header_bytes)};
  std::memcpy(header + 8, fields, sizeof fields);
  const std::uint64_t count = tokens.size();
  const std::uint64_t sum = checksum64(body.data(), body.size());
  std::memcpy(header + 24, &count, 8);
  std::memcpy(header + 32, &sum, 8);
  // Written under <path>.partial and renamed: a failed write leaves no partial shard taking
  // the space.
  AtomicFile out(path, ".partial", [](std::string_view action, const std::filesystem::path& temporary, int error) {
    if (action == "create")
      return detail::concat("cannot write shard ", temporary.string(), ": ", std::strerror(error),
                            ". Fix: check the output folder exists and is writable");
    return detail::concat("writing shard ", temporary.string(), " failed: ", std::strerror(error),
                          " (is the disk full?)");
  });
  out.write({reinterpret_cast<const char*>(header), sizeof header});
  out.write({reinterpret_cast<const char*>(body.data()), body.size()});
  out.commit();
}

TokenShard TokenShard::open(const std::filesystem::path& path, int expected_vocab_size) {
  const std::string name = path.string();
  const std::string fix = ". Fix: re-run prepare_data";
  const int fd = ::open(name.c_str(), O_RDONLY);
  BIRDIE_CHECK(fd >= 0, "cannot open shard ", name, ": ", std::strerror(errno),
               ". Fix: run prepare_data to write the shards");
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    throw Error("shard " + name + " is not a regular file. Fix: point the loader at a prepare_data output folder");
  }
  const auto file_size = static_cast<std::size_t>(info.st_size);
  if (file_size < token_shard_header_bytes) {
    ::close(fd);
    throw Error("shard " + name + " is truncated: " + std::to_string(file_size) +
                " bytes, shorter than its 64-byte header" + fix);
  }
  void* map = ::mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  BIRDIE_CHECK(map != MAP_FAILED, "cannot map shard ", name, ": ", std::strerror(errno));
  TokenShard shard;
  shard.path_ = path;
  shard.map_ = static_cast<const unsigned char*>(map);
  shard.map_size_ = file_size;
  register_mapped_shard(map, file_size, path);
  const unsigned char* h = shard.map_;
  BIRDIE_CHECK(std::memcmp(h, magic, 8) == 0, "shard ", name, ": bytes 0-7 are not the magic \"BIRDTOK\\0\" (not a "
               "birdie token shard). Fix: point the loader at a prepare_data output folder");
  const auto version = load<std::uint32_t>(h + 8);
  BIRDIE_CHECK(version == token_shard_version, "shard ", name, " has format version ", version, " (bytes 8-11) but this "
               "build reads version ", token_shard_version, ". Fix: re-run prepare_data with this build");
  const auto vocab_size = load<std::uint32_t>(h + 12);
  const auto width = load<std::uint32_t>(h + 16);
  const auto header_size = load<std::uint32_t>(h + 20);
  const auto count = load<std::uint64_t>(h + 24);
  const auto sum = load<std::uint64_t>(h + 32);
  BIRDIE_CHECK(vocab_size >= 1 && vocab_size <= (width == 2 ? 65536u : 0x7fffffffu), "shard ", name,
               ": the vocabulary size (bytes 12-15) is ", vocab_size, ", expected 1 to ",
               width == 2 ? 65536u : 0x7fffffffu, " for ", width, "-byte tokens", fix);
  BIRDIE_CHECK(width == 2 || width == 4, "shard ", name, ": the token width (bytes 16-19) is ", width,
               ", expected 2 or 4", fix);
  BIRDIE_CHECK(header_size == token_shard_header_bytes, "shard ", name, ": the header size (bytes 20-23) is ",
               header_size, ", expected ", token_shard_header_bytes, fix);
  // The count is checked against the file's size before anything uses it (a product
  // could wrap around).
  const std::size_t body_size = file_size - token_shard_header_bytes;
  BIRDIE_CHECK(count <= body_size / width && body_size == count * width, "shard ", name, " is ", file_size,
               " bytes but its token count (bytes 24-31) announces ", count, " tokens of ", width, " bytes: the file is ",
               count > body_size / width ? "truncated" : "longer than written", fix);
  BIRDIE_CHECK(checksum64(h + token_shard_header_bytes, body_size) == sum, "shard ", name,
               " is corrupt: the tokens do not match the checksum (bytes 32-39)", fix);
  shard.vocab_size_ = static_cast<int>(vocab_size);
  shard.width_ = static_cast<int>(width);
  shard.count_ = static_cast<std::size_t>(count);
  for (std::size_t i = 0; i < shard.count_; ++i) {
    const Token t = shard[i];
    if (t < 0 || t >= shard.vocab_size_) [[unlikely]]
      throw Error(detail::concat("shard ", name, ": token ", i, " (byte ", token_shard_header_bytes + i * width, ") is ",
                                 static_cast<std::uint32_t>(t),
                                 ", outside the vocabulary of ", shard.vocab_size_,
                                 " that the header (bytes 12-15) announces", fix));
  }
  if (expected_vocab_size > 0)
    check_vocabulary_agreement({{"shard", name, shard.vocab_size_}, {"expected", "(caller)", expected_vocab_size}});
  return shard;
}

TokenShard::TokenShard(TokenShard&& other) noexcept { *this = std::move(other); }

TokenShard& TokenShard::operator=(TokenShard&& other) noexcept {
  if (this != &other) {
    if (map_) {
      forget_mapped_shard(map_);
      ::munmap(const_cast<unsigned char*>(map_), map_size_);
    }
    path_ = std::move(other.path_);
    map_ = std::exchange(other.map_, nullptr);
    map_size_ = std::exchange(other.map_size_, 0);
    count_ = other.count_;
    vocab_size_ = other.vocab_size_;
    width_ = other.width_;
  }
  return *this;
}

TokenShard::~TokenShard() {
  if (map_) {
    forget_mapped_shard(map_);
    ::munmap(const_cast<unsigned char*>(map_), map_size_);
  }
}

Token TokenShard::operator[](std::size_t i) const {
  const unsigned char* p = map_ + token_shard_header_bytes + i * static_cast<std::size_t>(width_);
  return width_ == 2 ? static_cast<Token>(load<std::uint16_t>(p)) : static_cast<Token>(load<std::uint32_t>(p));
}

void TokenShard::append(std::size_t begin, std::size_t count, std::vector<Token>& out) const {
  BIRDIE_CHECK(begin + count <= count_, "shard ", path_.string(), ": read past the end");
  // Room first, so that the guarded copy allocates nothing (a SIGBUS jumps out of it).
  const std::size_t at = out.size();
  out.resize(at + count);
  struct Copy {
    const TokenShard* shard;
    std::size_t begin, count;
    Token* out;
  } copy{this, begin, count, out.data() + at};
  read_guarded(
      [](void* context) {
        const Copy& c = *static_cast<const Copy*>(context);
        for (std::size_t i = 0; i < c.count; ++i) c.out[i] = (*c.shard)[c.begin + i];
      },
      &copy);
}

ShardTokenSource::ShardTokenSource(std::vector<TokenShard> shards) : shards_(std::move(shards)) {
  for (const TokenShard& s : shards_) {
    starts_.push_back(total_);
    total_ += s.size();
  }
  BIRDIE_CHECK(total_ > 0, "ShardTokenSource: the shards hold no tokens");
}

void ShardTokenSource::read(std::size_t offset, std::size_t count, std::vector<Token>& out) const {
  std::size_t pos = offset % total_;
  while (count > 0) {
    const auto it = std::upper_bound(starts_.begin(), starts_.end(), pos) - 1;
    const auto shard = static_cast<std::size_t>(it - starts_.begin());
    const std::size_t local = pos - *it;
    const std::size_t take = std::min(count, shards_[shard].size() - local);
    shards_[shard].append(local, take, out);
    count -= take;
    pos = (pos + take) % total_;
  }
}

std::vector<std::filesystem::path> list_shards(const std::filesystem::path& directory, const std::string& split) {
  std::error_code error;  // a name too long for the file system is a missing folder, not an exception
  BIRDIE_CHECK(std::filesystem::is_directory(directory, error), "data folder ", directory.string(), " does not exist",
               error && error != std::errc::no_such_file_or_directory ? " (" + error.message() + ")" : "", ". Fix: run prepare_data --out ", directory.string());
  std::vector<std::filesystem::path> found;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(split + "_") && name.ends_with(".bin")) found.push_back(entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

void check_data_folder_manifest(const std::filesystem::path& directory) {
  const auto path = directory / "manifest.json";
  const std::string fix = ". Fix: re-run prepare_data --out " + directory.string() +
                          " (it writes the tokenizer, the shards and the manifest together)";
  std::ifstream in(path);
  BIRDIE_CHECK(in, "data folder ", directory.string(), " has no manifest.json", fix);
  const nlohmann::json manifest = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  BIRDIE_CHECK(!manifest.is_discarded() && manifest.is_object(), path.string(), " is not a JSON object", fix);
  const auto rules = manifest.find("tokenizer_rules");
  BIRDIE_CHECK(rules != manifest.end(), path.string(), " has no \"tokenizer_rules\": the folder was made by the old "
               "tokenizer rules (digits merged, no byte fallback, newlines lost), this build needs rules ",
               tokenizer_rules_version, fix);
  BIRDIE_CHECK(rules->is_number_integer() && rules->get<int>() == tokenizer_rules_version, path.string(),
               " says \"tokenizer_rules\": ", rules->dump(), " but this build reads rules ", tokenizer_rules_version,
               fix);
}

ShardTokenSource open_split(const std::filesystem::path& directory, const std::string& split, int model_vocab_size) {
  const auto paths = list_shards(directory, split);
  BIRDIE_CHECK(!paths.empty(), "data folder ", directory.string(), " has no ", split,
               "_*.bin shards. Fix: run prepare_data --out ", directory.string());
  check_data_folder_manifest(directory);
  const Tokenizer tokenizer = Tokenizer::load(directory / "tokenizer.model");
  std::vector<VocabularyClaim> claims{{"tokenizer", tokenizer.path().string(), tokenizer.vocab_size()}};
  if (model_vocab_size > 0) claims.push_back({"model config", "(vocab_size)", model_vocab_size});
  std::vector<TokenShard> shards;
  for (const auto& p : paths) {
    shards.push_back(TokenShard::open(p));
    claims.push_back({"shard", p.string(), shards.back().vocab_size()});
  }
  check_vocabulary_agreement(claims);
  return ShardTokenSource(std::move(shards));
}

}  // namespace birdie::data
