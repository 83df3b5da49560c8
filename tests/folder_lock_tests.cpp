// engine/folder_lock.h: one job per folder, and engine/exit_codes.h: the exit code an
// error ends a program with.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "engine/exit_codes.h"
#include "engine/folder_lock.h"

using namespace birdie;
namespace fs = std::filesystem;

namespace {
std::string host_name() {
  char host[256] = "";
  ::gethostname(host, sizeof host);
  host[sizeof host - 1] = '\0';
  return host;
}

std::string refusal(const fs::path& folder) {
  try {
    FolderLock second(folder, "second");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("a folder's lock: one holder, a clear refusal naming it, free again when it ends") {
  const fs::path folder = fs::temp_directory_path() / ("birdie_folder_lock_" + std::to_string(::getpid())) / "run";
  fs::remove_all(folder.parent_path());
  {
    FolderLock first(folder, "pretrain");  // makes the folder
    CHECK(first.held());
    CHECK(fs::is_directory(folder));
    std::ifstream in(folder / FolderLock::file_name);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text.find("host " + host_name() + ", process " + std::to_string(::getpid()) + " (pretrain, since ") == 0);
    // flock(2) locks belong to an open file, so a second opening in this process is refused
    // like another process's.
    const std::string message = refusal(folder);
    CHECK(message.find(folder.string() + " is in use by another job: host " + host_name() + ", process " +
                       std::to_string(::getpid()) + " (pretrain") != std::string::npos);
    CHECK(message.find("Fix: wait for that job to end or stop it") != std::string::npos);
    CHECK_THROWS_AS(FolderLock(folder, "third"), Error);
    FolderLock moved = std::move(first);  // the lock travels with the object
    CHECK(!refusal(folder).empty());
  }
  // The file stays behind; its lock does not.
  CHECK(fs::exists(folder / FolderLock::file_name));
  CHECK(refusal(folder).empty());
  fs::remove_all(folder.parent_path());
}

TEST_CASE("exit codes: 4 for a machine's failure to write, the program's own code otherwise") {
  CHECK(exit_code_for(IoError("cannot write x: No space left on device"), exit_error) == exit_io);
  CHECK(exit_code_for(Error("bad key"), exit_bad_input) == exit_bad_input);
  CHECK(exit_code_for(std::runtime_error("other"), exit_error) == exit_error);
  const auto fs_error = [](int code) {
    return fs::filesystem_error("cannot create directories", "runs/x", std::error_code(code, std::generic_category()));
  };
  for (const int code : {ENOSPC, EDQUOT, EFBIG, EIO, EROFS}) CHECK(exit_code_for(fs_error(code), exit_error) == exit_io);
  CHECK(exit_code_for(fs_error(ENOENT), exit_bad_input) == exit_bad_input);
  CHECK(exit_io != exit_bad_input);
}
