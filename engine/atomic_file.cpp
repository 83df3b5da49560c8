#include "engine/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>

#include "engine/error.h"
#include "engine/io_error.h"

namespace birdie {

namespace fs = std::filesystem;

namespace {

void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

std::string default_atomic_write_message(std::string_view action, const fs::path& temporary, int error) {
  return detail::concat("cannot ", action, " ", temporary.string(), ": ", std::strerror(error),
                        error == ENOSPC || error == EFBIG || error == EDQUOT ? " (is the disk full?)" : "");
}

AtomicFile::AtomicFile(fs::path path, std::string temporary_suffix, AtomicWriteMessage message)
    : path_(std::move(path)), temporary_(path_.string() + temporary_suffix), message_(std::move(message)) {
  fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("create", errno);
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  if (fd_ >= 0) ::close(fd_);
  std::error_code ignored;
  fs::remove(temporary_, ignored);
}

void AtomicFile::fail(std::string_view action, int error) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::error_code ignored;
  fs::remove(temporary_, ignored);
  committed_ = true;  // nothing left for the destructor
  throw IoError(message_(action, temporary_, error));
}

void AtomicFile::write(std::string_view bytes) {
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("write", n < 0 ? errno : ENOSPC);
    written += static_cast<std::size_t>(n);
  }
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) fail("flush to disk", errno);
  ::close(fd_);
  fd_ = -1;
  std::error_code renamed;
  fs::rename(temporary_, path_, renamed);
  if (renamed) fail("rename into place", renamed.value());
  committed_ = true;
  sync_directory(path_.parent_path());
}

void write_file_atomically(const fs::path& path, std::string_view bytes) {
  AtomicFile file(path);
  file.write(bytes);
  file.commit();
}

void copy_file_atomically(const fs::path& from, const fs::path& to) {
  std::ifstream in(from, std::ios::binary);
  BIRDIE_CHECK(in.good(), "cannot read ", from.string(), ": ", std::strerror(errno));
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  BIRDIE_CHECK(!in.bad(), "cannot read ", from.string(), ": ", std::strerror(errno));
  write_file_atomically(to, bytes);
}

}  // namespace birdie
