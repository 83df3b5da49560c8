// The token shards a process has mapped (data/token_shard.h), for the one failure a mapping
// cannot report as an error: its file shrinking under it (truncated, rewritten in place)
// or its file system failing. The next read of a lost page raises SIGBUS; the handler
// installed here names the shard and ends the process with exit code 4 (an I/O error,
// engine/exit_codes.h) instead of a bare crash. Nothing can be written at that point, and
// nothing needs to be: every checkpoint is written whole or not at all, so the ones
// written so far are intact, and --resume continues once the data folder is restored. A
// shard deleted (unlinked) mid-run is no failure: its mapping keeps its tokens.
#pragma once

#include <cstddef>
#include <filesystem>

namespace birdie::data {

void register_mapped_shard(const void* begin, std::size_t size, const std::filesystem::path& path);
void forget_mapped_shard(const void* begin);

}  // namespace birdie::data
