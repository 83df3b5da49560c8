// The exit codes every program shares (the table is in docs/testing.md, "Exit codes"). A
// program's main() turns the error that ended it into one with exit_code_for().
#pragma once

#include <cerrno>
#include <exception>
#include <filesystem>

#include "engine/io_error.h"

namespace birdie {

inline constexpr int exit_done = 0;
inline constexpr int exit_error = 1;        // anything else (a bug, a device failure)
inline constexpr int exit_bad_input = 2;    // a configuration, flag or input file to fix; a folder in use
inline constexpr int exit_non_finite = 3;   // pretrain: schedule.max_bad_steps non-finite steps in a row
inline constexpr int exit_io = 4;           // a full disk, a file-size limit, an I/O error, a read-only folder
inline constexpr int exit_interrupted = 130;  // SIGINT/SIGTERM, after writing a checkpoint

// exit_io for an IoError, or a filesystem error that says the machine failed (no space,
// quota, file too large, I/O error, read-only file system); otherwise `otherwise`.
inline int exit_code_for(const std::exception& error, int otherwise) {
  if (dynamic_cast<const IoError*>(&error)) return exit_io;
  if (const auto* fs_error = dynamic_cast<const std::filesystem::filesystem_error*>(&error)) {
    const int code = fs_error->code().value();
    if (fs_error->code().category() == std::generic_category() || fs_error->code().category() == std::system_category())
      if (code == ENOSPC || code == EDQUOT || code == EFBIG || code == EIO || code == EROFS) return exit_io;
  }
  return otherwise;
}

}  // namespace birdie
