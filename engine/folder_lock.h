// One job per folder: a run folder (pretrain's, an experiment's) is owned by the process
// that locks it, for as long as it holds the lock. A second job on the same folder (a
// requeued copy of a job still alive, two jobs given one output path) is refused at once
// instead of interleaving its logs and checkpoints with the first's.
//
// The lock is the kernel's (flock(2) on FOLDER/job.lock), not the file's existence: it ends
// with its process however that ends (kill -9 included), so a lock left by a dead job
// never blocks a resume; on a lost node, the file server releases it with the node's
// lease. The file holds the holder's host, process id and program, for the message of the
// job refused.
#pragma once

#include <filesystem>
#include <string_view>

namespace birdie {

class FolderLock {
 public:
  static constexpr const char* file_name = "job.lock";

  FolderLock() = default;
  // Creates `folder` when missing and takes its lock for `program` (named in the file).
  // Throws Error when another process holds it (naming its host and process id), IoError
  // when the folder cannot be written (a read-only file system, a full disk).
  FolderLock(const std::filesystem::path& folder, std::string_view program);
  FolderLock(FolderLock&& other) noexcept;
  FolderLock& operator=(FolderLock&& other) noexcept;
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;
  ~FolderLock();

  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace birdie
