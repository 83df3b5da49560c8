#include "engine/folder_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <thread>
#include <utility>

#include "engine/error.h"
#include "engine/io_error.h"

namespace birdie {

namespace fs = std::filesystem;

namespace {

std::string read_holder(const fs::path& path) {
  // The holder writes its name just after taking the lock: a job refused in that instant
  // waits a moment for it.
  for (int attempt = 0; attempt < 20; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    char buffer[512];
    const ssize_t n = ::read(fd, buffer, sizeof buffer - 1);
    ::close(fd);
    std::string text(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (!text.empty()) return text;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return {};
}

std::string holder_text(std::string_view program) {
  char host[256] = "unknown";
  if (::gethostname(host, sizeof host) != 0) std::strcpy(host, "unknown");
  host[sizeof host - 1] = '\0';
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  char since[32] = "";
  if (::gmtime_r(&now, &utc)) std::strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return detail::concat("host ", host, ", process ", ::getpid(), " (", program, ", since ", since, ")\n");
}

[[noreturn]] void unwritable(const fs::path& folder, const fs::path& file, int error) {
  throw IoError(detail::concat("cannot write in the run folder ", folder.string(), " (", file.string(), "): ",
                               std::strerror(error),
                               ". Fix: give the job a folder on a writable file system with free space"));
}

}  // namespace

FolderLock::FolderLock(const fs::path& folder, std::string_view program) {
  std::error_code error;
  fs::create_directories(folder, error);
  if (error) unwritable(folder, folder, error.value());
  const fs::path path = folder / file_name;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) unwritable(folder, path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int problem = errno;
    ::close(fd);
    if (problem != EWOULDBLOCK) unwritable(folder, path, problem);
    const std::string holder = read_holder(path);
    throw Error(detail::concat(
        folder.string(), " is in use by another job",
        holder.empty() ? ", which holds the lock " + path.string() + " (it did not write its host and process)"
                       : ": " + holder + ", which holds the lock " + path.string(),
        ". Two jobs writing one folder would interleave their logs and checkpoints. Fix: wait for that job to end or "
        "stop it (its lock ends with its process, even when killed), or give this job another folder"));
  }
  const std::string text = holder_text(program);
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    const int problem = errno;
    ::close(fd);
    unwritable(folder, path, problem);
  }
  fd_ = fd;
}

FolderLock::FolderLock(FolderLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FolderLock& FolderLock::operator=(FolderLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace birdie
