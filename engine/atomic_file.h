// Writing a file so that readers see either its old content or the whole new one, never
// half of it, and a crash or a power loss leaves one of the two: the bytes go to a
// temporary file beside it (<path>.tmp), which is flushed to disk (fsync) and renamed over
// <path>; the folder is flushed after the rename. Every file the programs write goes
// through here: checkpoints, configurations, logs, plots, reports.
//
// A failure of the machine (a full disk, a file-size limit, an I/O error, a read-only
// folder) is an IoError (exit code 4, engine/exit_codes.h) naming the temporary file, and
// the temporary file is removed, so that it takes no space.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace birdie {

// The message of a failed write: `action` is "create", "write", "flush to disk" or
// "rename into place", `error` the errno. The default: "cannot <action> <temporary>:
// <strerror>", with " (is the disk full?)" when the error says the space ran out.
using AtomicWriteMessage =
    std::function<std::string(std::string_view action, const std::filesystem::path& temporary, int error)>;
std::string default_atomic_write_message(std::string_view action, const std::filesystem::path& temporary, int error);

// A file written piece by piece, then put in place at once by commit(). Destroyed without
// commit() (an exception on the way), it removes the temporary file and leaves <path> as
// it was.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path, std::string temporary_suffix = ".tmp",
                      AtomicWriteMessage message = default_atomic_write_message);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view bytes);
  // fsync, rename over the path, fsync of the folder.
  void commit();

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& temporary() const { return temporary_; }

 private:
  [[noreturn]] void fail(std::string_view action, int error);

  std::filesystem::path path_, temporary_;
  AtomicWriteMessage message_;
  int fd_ = -1;
  bool committed_ = false;
};

// The whole file at once.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

// A copy of the file `from` (an Error naming it when it cannot be read).
void copy_file_atomically(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace birdie
