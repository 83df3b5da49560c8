// A fresh folder under the system temp directory, removed at the end of the test.
#pragma once

#include <filesystem>
#include <string>
#include <unistd.h>

namespace birdie::data::testing {

struct TemporaryFolder {
  std::filesystem::path path;
  explicit TemporaryFolder(const std::string& name)
      : path(std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TemporaryFolder() { std::filesystem::remove_all(path); }
};

}  // namespace birdie::data::testing
