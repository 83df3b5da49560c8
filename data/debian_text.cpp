#include "data/debian_text.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "data/text_lines.h"
#include "engine/error.h"

namespace birdie::data {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  BIRDIE_CHECK(in, "cannot open ", path.string());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

using namespace text_lines;

// --- the sources -----------------------------------------------------------------------

struct RequiredFile {
  const char* package;
  const char* path;  // relative to the root
};

// One marker file per required package (the optional English fortune sets are read when present).
constexpr std::array<RequiredFile, 12> required_files{{
    {"fortunes-min", "usr/share/games/fortunes/fortunes"},
    {"fortunes", "usr/share/games/fortunes/computers"},
    {"bible-kjv-text", "usr/lib/bible.data"},
    {"dict-devil", "usr/share/dictd/devil.dict.dz"},
    {"dict-jargon", "usr/share/dictd/jargon.dict.dz"},
    {"dict-foldoc", "usr/share/dictd/foldoc.dict.dz"},
    {"dict-vera", "usr/share/dictd/vera.dict.dz"},
    {"dict-elements", "usr/share/dictd/elements.dict.dz"},
    {"dict-gcide", "usr/share/dictd/gcide.dict.dz"},
    {"dict-gcide", "usr/share/dictd/gcide.index"},
    {"dict-wn", "usr/share/dictd/wn.dict.dz"},
    {"dict-wn", "usr/share/dictd/wn.index"},
}};

std::filesystem::path index_of(const std::filesystem::path& dict) {
  std::string name = dict.filename().string();
  name = name.substr(0, name.find('.')) + ".index";
  return dict.parent_path() / name;
}

// The fortune files of the folder: top level only (other languages are in sub-folders),
// no index files, links, ASCII drawings or Portuguese sets; in name order.
std::vector<std::filesystem::path> fortune_files(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_symlink() || !entry.is_regular_file() || name.starts_with(".") || name.ends_with(".dat") ||
        name.ends_with(".u8") || name == "ascii-art" || name.starts_with("mario."))
      continue;
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::filesystem::path> source_files(const std::filesystem::path& root, const DebianTextSource& source) {
  const auto location = root / source.location;
  if (source.format == DebianTextFormat::fortunes) return fortune_files(location);
  if (source.format == DebianTextFormat::bible) return {location};
  return {location, index_of(location)};
}

}  // namespace

// --- public ------------------------------------------------------------------------------

const std::vector<DebianTextSource>& debian_text_sources() {
  static const std::vector<DebianTextSource> sources = {
      {"fortunes", "fortunes", "usr/share/games/fortunes", DebianTextFormat::fortunes},
      {"bible", "bible-kjv-text", "usr/lib/bible.data", DebianTextFormat::bible},
      {"devil", "dict-devil", "usr/share/dictd/devil.dict.dz", DebianTextFormat::dictd},
      {"jargon", "dict-jargon", "usr/share/dictd/jargon.dict.dz", DebianTextFormat::dictd},
      {"foldoc", "dict-foldoc", "usr/share/dictd/foldoc.dict.dz", DebianTextFormat::dictd},
      {"vera", "dict-vera", "usr/share/dictd/vera.dict.dz", DebianTextFormat::dictd},
      {"elements", "dict-elements", "usr/share/dictd/elements.dict.dz", DebianTextFormat::dictd},
      {"gcide", "dict-gcide", "usr/share/dictd/gcide.dict.dz", DebianTextFormat::gcide},
      {"wordnet", "dict-wn", "usr/share/dictd/wn.dict.dz", DebianTextFormat::dictd},
  };
  return sources;
}

void check_debian_text(const std::filesystem::path& root) {
  std::vector<std::string> missing_packages;
  std::string details;
  auto missing = [&](const std::string& package, const std::filesystem::path& file) {
    if (std::find(missing_packages.begin(), missing_packages.end(), package) == missing_packages.end())
      missing_packages.push_back(package);
    details += "\n  " + package + ": " + file.string() + " not found";
  };
  for (const auto& required : required_files)
    if (!std::filesystem::is_regular_file(root / required.path)) missing(required.package, root / required.path);
  for (const auto& source : debian_text_sources()) {
    if (source.format != DebianTextFormat::dictd && source.format != DebianTextFormat::gcide) continue;
    const auto index = index_of(root / source.location);
    if (std::filesystem::is_regular_file(root / source.location) && !std::filesystem::is_regular_file(index))
      missing(source.package, index);
  }
  if (missing_packages.empty()) return;
  std::string list;
  for (const auto& p : missing_packages) list += (list.empty() ? "" : " ") + p;
  throw Error("corpus debian-text: missing Debian package" + std::string(missing_packages.size() > 1 ? "s " : " ") +
              list + details + "\nFix: " + debian_text_install_command +
              " (or, as root: apt-get install --no-install-recommends " + list + ")");
}

std::uint64_t debian_text_input_bytes(const std::filesystem::path& root) {
  check_debian_text(root);
  std::uint64_t bytes = 0;
  for (const auto& source : debian_text_sources())
    for (const auto& file : source_files(root, source)) bytes += std::filesystem::file_size(file);
  return bytes;
}

void read_debian_text(const std::filesystem::path& root, const std::function<bool(std::string&&)>& visit,
                      CorpusProgress& progress, std::vector<DebianTextCount>* counts) {
  check_debian_text(root);
  for (const auto& source : debian_text_sources()) {
    DebianTextCount count{source.name};
    bool going = true;
    auto emit = [&](std::string&& document) {
      if (!going || document.empty()) return;
      ++count.documents;
      count.text_bytes += document.size();
      ++progress.documents;
      progress.text_bytes += document.size();
      going = visit(std::move(document));
    };
    const auto files = source_files(root, source);
    switch (source.format) {
      case DebianTextFormat::fortunes:
        for (const auto& file : files) {
          for (auto& fortune : split_fortunes(read_file(file))) emit(std::move(fortune));
          progress.input_bytes += std::filesystem::file_size(file);
          if (!going) break;
        }
        break;
      case DebianTextFormat::bible:
        for (auto& chapter : bible_chapters(decompress_bible_data(read_file(files[0])))) emit(std::move(chapter));
        progress.input_bytes += std::filesystem::file_size(files[0]);
        break;
      case DebianTextFormat::gcide:
      case DebianTextFormat::dictd: {
        const std::string dict = read_gzip_file(files[0]);
        const std::string index = read_file(files[1]);
        for (const auto& entry : dictd_entries(dict, index)) {
          emit(source.format == DebianTextFormat::gcide ? clean_gcide_entry(entry) : clean_dictd_entry(entry));
          if (!going) break;
        }
        progress.input_bytes += std::filesystem::file_size(files[0]) + std::filesystem::file_size(files[1]);
        break;
      }
    }
    if (counts) counts->push_back(count);
    if (!going) return;
  }
}

std::vector<std::string> split_fortunes(std::string_view text) {
  std::vector<std::string> fortunes;
  std::string current;
  auto flush = [&] {
    if (current.find_first_not_of(" \t\n") != std::string::npos) {
      while (!current.empty() && current.back() == '\n') current.pop_back();
      fortunes.push_back(current);
    }
    current.clear();
  };
  for (const auto raw : split_lines(text)) {
    std::string_view line = raw;
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.remove_suffix(1);
    if (line == "%") flush();
    else {
      current += line;
      current += '\n';
    }
  }
  flush();
  return fortunes;
}

}  // namespace birdie::data
