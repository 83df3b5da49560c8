// What every fuzz harness shares (tests/fuzz/<reader>_fuzz.cpp): the input as a file a
// reader opens by name, and the rule every reader keeps: a bad input is refused with a
// birdie::Error whose message names the file (then its place and what was expected). A
// crash, a sanitizer report, a hang, an oversized allocation or any other exception (a
// library's own, such as a JSON or filesystem error, which says neither file nor place)
// is a finding: the harness aborts and the driver keeps the input.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "engine/error.h"

namespace birdie::fuzz {

// A folder of this process for the files the readers open, removed at exit.
inline const std::filesystem::path& scratch() {
  struct Folder {
    std::filesystem::path path;
    Folder() {
      // Memory-backed when it can be: every input becomes a file.
      std::error_code error;
      const char* tmpdir = std::getenv("TMPDIR");
      const std::filesystem::path base = !(tmpdir && *tmpdir) && std::filesystem::is_directory("/dev/shm", error) &&
                                                 ::access("/dev/shm", W_OK) == 0
                                             ? std::filesystem::path("/dev/shm")
                                             : std::filesystem::temp_directory_path();
      std::string pattern = (base / "birdie-fuzz-XXXXXX").string();
      if (!::mkdtemp(pattern.data())) {
        std::perror("fuzz harness: mkdtemp");
        std::abort();
      }
      path = pattern;
    }
    ~Folder() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Folder folder;
  return folder.path;
}

// Writes the input to scratch()/name (a relative path; folders are made) and returns it.
inline std::filesystem::path write_input(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path path = scratch() / name;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz harness: cannot write %s\n", path.string().c_str());
    std::abort();
  }
  return path;
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz harness: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// Runs read(): returning or throwing a birdie::Error that names `source` is fine; any other
// exception, or an error that does not say which file, is a finding.
template <class Read>
void expect_clear_refusal(const std::string& source, Read&& read) {
  try {
    read();
  } catch (const Error& e) {
    if (std::string_view(e.what()).find(source) == std::string_view::npos)
      finding("the error does not name the file " + source + ":\n  " + e.what());
  } catch (const std::exception& e) {
    finding(std::string("an exception other than birdie::Error (no file, place or fix in it): ") + e.what());
  }
}

// A property of an accepted input that must hold (e.g. a configuration written back reads
// back the same).
inline void require(bool condition, const std::string& what) {
  if (!condition) finding("accepted input breaks a property: " + what);
}

}  // namespace birdie::fuzz
