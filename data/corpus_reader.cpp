#include "data/corpus_reader.h"

#include <zstd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/error.h"

namespace birdie::data {
namespace {

bool ends_with(const std::string& s, std::string_view suffix) { return s.ends_with(suffix); }

// Calls on_line(line, line_number) for each line of a .jsonl file (plain or zstd-compressed)
// until it returns false; returns false when stopped that way.
template <class OnLine>
bool for_each_line(const std::filesystem::path& path, bool compressed, CorpusProgress& progress,
                   OnLine&& on_line) {
  std::ifstream in(path, std::ios::binary);
  BIRDIE_CHECK(in, "cannot open corpus file ", path.string());
  std::string pending;
  std::uint64_t line_number = 0;
  bool going = true;
  auto emit_lines = [&](bool final_chunk) {
    std::size_t begin = 0;
    while (going) {
      const std::size_t end = pending.find('\n', begin);
      if (end == std::string::npos) break;
      going = on_line(std::string_view(pending).substr(begin, end - begin), ++line_number);
      begin = end + 1;
    }
    pending.erase(0, begin);
    if (going && final_chunk && !pending.empty()) {
      going = on_line(std::string_view(pending), ++line_number);
      pending.clear();
    }
    return going;
  };
  std::error_code error;
  const std::uintmax_t file_size = std::filesystem::file_size(path, error);
  std::vector<char> input(error ? 1 << 20 : std::clamp<std::uintmax_t>(file_size, 4096, 1 << 20));
  if (!compressed) {
    while (in) {
      in.read(input.data(), static_cast<std::streamsize>(input.size()));
      const auto got = static_cast<std::size_t>(in.gcount());
      progress.input_bytes += got;
      pending.append(input.data(), got);
      if (!emit_lines(false)) return false;
    }
    return emit_lines(true);
  }
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> context(ZSTD_createDCtx(), ZSTD_freeDCtx);
  std::vector<char> output(ZSTD_DStreamOutSize());
  std::size_t last_result = 0;
  while (in) {
    in.read(input.data(), static_cast<std::streamsize>(input.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    progress.input_bytes += got;
    ZSTD_inBuffer source{input.data(), got, 0};
    while (source.pos < source.size) {
      ZSTD_outBuffer sink{output.data(), output.size(), 0};
      last_result = ZSTD_decompressStream(context.get(), &sink, &source);
      BIRDIE_CHECK(!ZSTD_isError(last_result), "corpus file ", path.string(), ": zstd error after line ",
                   line_number, ": ", ZSTD_getErrorName(last_result), ". Fix: re-download or re-compress the file");
      pending.append(output.data(), sink.pos);
      if (!emit_lines(false)) return false;
    }
  }
  BIRDIE_CHECK(last_result == 0, "corpus file ", path.string(),
               " ends in the middle of a zstd frame (truncated?). Fix: re-download the file");
  return emit_lines(true);
}

bool read_jsonl(const std::filesystem::path& path, bool compressed, const CorpusOptions& options,
                const std::function<bool(std::string&&)>& visit, CorpusProgress& progress) {
  return for_each_line(path, compressed, progress, [&](std::string_view line, std::uint64_t number) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return true;  // blank lines are fine
    std::string problem;
    std::string text;
    try {
      const auto json = nlohmann::json::parse(line);
      if (!json.is_object()) problem = "not a JSON object";
      else if (!json.contains(options.text_field)) problem = "no field \"" + options.text_field + "\"";
      else if (!json[options.text_field].is_string()) problem = "field \"" + options.text_field + "\" is not a string";
      else text = json[options.text_field].get<std::string>();
    } catch (const nlohmann::json::exception& e) {
      problem = std::string("invalid JSON (") + e.what() + ")";
    }
    if (!problem.empty()) {
      const std::string message = path.string() + ":" + std::to_string(number) + ": " + problem;
      if (options.malformed == MalformedLinePolicy::fail)
        throw Error(message + ". Fix: repair the line, or pass --skip-malformed to skip such lines");
      ++progress.malformed_lines;
      if (options.warn) options.warn(message);
      return true;
    }
    progress.text_bytes += text.size();
    ++progress.documents;
    return visit(std::move(text));
  });
}

}  // namespace

std::vector<std::filesystem::path> corpus_files(const std::filesystem::path& path) {
  std::error_code error;  // a name too long for the file system is a missing file, not an exception
  BIRDIE_CHECK(std::filesystem::exists(path, error), "corpus ", path.string(), " does not exist",
               error && error != std::errc::no_such_file_or_directory ? " (" + error.message() + ")" : "",
               ". Fix: pass a text file, a folder, a .jsonl or .jsonl.zst file, or 'fortunes'");
  if (!std::filesystem::is_directory(path)) return {path};
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && !name.starts_with(".")) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void read_corpus(const std::filesystem::path& path, const CorpusOptions& options,
                 const std::function<bool(std::string&&)>& visit, CorpusProgress& progress) {
  for (const auto& file : corpus_files(path)) {
    const std::string name = file.filename().string();
    if (ends_with(name, ".jsonl.zst")) {
      if (!read_jsonl(file, true, options, visit, progress)) return;
    } else if (ends_with(name, ".jsonl")) {
      if (!read_jsonl(file, false, options, visit, progress)) return;
    } else {
      std::ifstream in(file, std::ios::binary);
      BIRDIE_CHECK(in, "cannot open corpus file ", file.string());
      std::stringstream text;
      text << in.rdbuf();
      std::string document = text.str();
      progress.input_bytes += document.size();
      progress.text_bytes += document.size();
      ++progress.documents;
      if (!visit(std::move(document))) return;
    }
  }
}

std::vector<std::string> read_fortunes(const std::filesystem::path& directory) {
  BIRDIE_CHECK(std::filesystem::is_directory(directory), "fortunes folder ", directory.string(),
               " does not exist. Fix: install the Debian package 'fortunes' (scripts/setup.sh)");
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_symlink() || !entry.is_regular_file() || ends_with(name, ".dat") || ends_with(name, ".u8"))
      continue;
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> documents;
  for (const auto& file : files) {
    std::ifstream in(file);
    std::string line, current;
    auto flush = [&] {
      if (current.find_first_not_of(" \t\n") != std::string::npos) documents.push_back(current);
      current.clear();
    };
    while (std::getline(in, line)) {
      if (line == "%") flush();
      else current += line + "\n";
    }
    flush();
  }
  return documents;
}

bool is_validation_document(std::string_view text, double validation_fraction) {
  std::uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a
  for (unsigned char c : text) h = (h ^ c) * 0x100000001B3ull;
  h ^= h >> 29;  // mix the high bits down before taking the fraction
  return static_cast<double>(h % 1000000) < validation_fraction * 1e6;
}

}  // namespace birdie::data
