// engine/atomic_file: a file replaced whole or not at all, its temporary file never left.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>

#include "engine/atomic_file.h"
#include "engine/io_error.h"

using namespace birdie;
namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

fs::path fresh_folder(const char* name) {
  const fs::path folder = fs::temp_directory_path() / (std::string("birdie_") + name + "_" + std::to_string(::getpid()));
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder;
}

}  // namespace

TEST_CASE("write_file_atomically replaces a file whole and leaves no temporary file") {
  const fs::path folder = fresh_folder("atomic_file");
  const fs::path path = folder / "results.json";
  write_file_atomically(path, "first\n");
  CHECK(read(path) == "first\n");
  write_file_atomically(path, "second, longer\n");
  CHECK(read(path) == "second, longer\n");
  CHECK_FALSE(fs::exists(folder / "results.json.tmp"));
  fs::remove_all(folder);
}

TEST_CASE("AtomicFile: pieces put in place by commit; without it the old file stays") {
  const fs::path folder = fresh_folder("atomic_file_pieces");
  const fs::path path = folder / "shard.bin";
  {
    AtomicFile file(path, ".partial");
    file.write("head");
    file.write("body");
    CHECK(fs::exists(folder / "shard.bin.partial"));
    CHECK_FALSE(fs::exists(path));
    file.commit();
  }
  CHECK(read(path) == "headbody");
  {
    AtomicFile file(path, ".partial");
    file.write("cut short");
  }  // no commit: an exception on the way
  CHECK(read(path) == "headbody");
  CHECK_FALSE(fs::exists(folder / "shard.bin.partial"));
  fs::remove_all(folder);
}

TEST_CASE("AtomicFile: a folder that does not exist is an IoError naming the temporary file") {
  const fs::path path = fs::temp_directory_path() / "birdie_no_such_folder" / "x" / "config.toml";
  CHECK_THROWS_AS(write_file_atomically(path, "x"), IoError);
  try {
    write_file_atomically(path, "x");
  } catch (const IoError& e) {
    CHECK(std::string(e.what()).find("cannot create " + path.string() + ".tmp: ") == 0);
  }
}
