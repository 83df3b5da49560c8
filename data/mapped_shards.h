// The token shards a process has mapped (data/token_shard.h), for the one failure a mapping
// cannot report as an error: its file shrinking under it (truncated, rewritten in place)
// or its file system failing. The next read of a lost page raises SIGBUS. Inside
// read_guarded (how the loader's threads copy tokens) the handler installed here turns it
// into an IoError naming the shard, which the run reports after keeping its last trained
// step in a checkpoint (training/training_loop.cpp); anywhere else it names the shard and
// ends the process with exit code 4 (an I/O error, engine/exit_codes.h). Either way every
// checkpoint is written whole or not at all, so the ones written so far are intact, and
// --resume continues once the data folder is restored. A shard deleted (unlinked) mid-run
// is no failure: its mapping keeps its tokens.
#pragma once

#include <cstddef>
#include <filesystem>

namespace birdie::data {

void register_mapped_shard(const void* begin, std::size_t size, const std::filesystem::path& path);
void forget_mapped_shard(const void* begin);

// Calls read(context), which reads registered mappings and must not allocate, lock or own
// anything a jump out of it would leak: a SIGBUS on a registered shard during it unwinds
// to here (siglongjmp) and throws an IoError naming the shard.
void read_guarded(void (*read)(void* context), void* context);

}  // namespace birdie::data
