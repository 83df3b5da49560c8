#include "data/debian_text.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

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

std::string_view trim(std::string_view s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  const auto end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    const std::size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) {
      if (begin < text.size()) lines.push_back(text.substr(begin));
      break;
    }
    lines.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return lines;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }

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

// --- bible.data: windows of Unix-compress LZW ------------------------------------------

std::uint32_t big_endian_32(std::string_view bytes, std::size_t at) {
  BIRDIE_CHECK(at + 4 <= bytes.size(), "bible.data is truncated (header). Fix: reinstall bible-kjv-text");
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + at);
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// One window: LZW codes of 9 to 16 bits, read n_bits bytes at a time as compress(1) does,
// with block mode (code 256 clears the table).
void lzw_decompress(const unsigned char* input, std::size_t size, std::string& out) {
  constexpr int max_bits = 16, init_bits = 9, clear_code = 256, first_free = 257;
  constexpr int max_max_code = 1 << max_bits;
  std::vector<std::uint16_t> prefix(max_max_code, 0);
  std::vector<unsigned char> suffix(max_max_code, 0);
  for (int c = 0; c < 256; ++c) suffix[static_cast<std::size_t>(c)] = static_cast<unsigned char>(c);
  int n_bits = init_bits, max_code = (1 << init_bits) - 1, free_entry = first_free;
  bool clear = false;
  std::size_t position = 0;
  unsigned char chunk[max_bits];
  int bit_offset = 0, chunk_bits = 0;
  auto next_code = [&]() -> int {
    if (clear || bit_offset >= chunk_bits || free_entry > max_code) {
      if (free_entry > max_code) {
        ++n_bits;
        max_code = n_bits == max_bits ? max_max_code : (1 << n_bits) - 1;
      }
      if (clear) {
        n_bits = init_bits;
        max_code = (1 << init_bits) - 1;
        clear = false;
      }
      const std::size_t take = std::min<std::size_t>(static_cast<std::size_t>(n_bits), size - position);
      if (take == 0) return -1;
      std::memcpy(chunk, input + position, take);
      position += take;
      bit_offset = 0;
      chunk_bits = static_cast<int>(take) * 8 - (n_bits - 1);
      if (chunk_bits <= 0) return -1;
    }
    int code = 0;
    for (int i = 0; i < n_bits; ++i) {
      const int bit = bit_offset + i;
      code |= ((chunk[bit >> 3] >> (bit & 7)) & 1) << i;
    }
    bit_offset += n_bits;
    return code;
  };
  int old_code = next_code();
  if (old_code < 0) return;
  int final_char = old_code;
  out.push_back(static_cast<char>(final_char));
  std::string stack;
  for (int code = next_code(); code >= 0; code = next_code()) {
    if (code == clear_code) {
      clear = true;
      free_entry = first_free - 1;
      code = next_code();
      if (code < 0) break;
    }
    const int incoming = code;
    stack.clear();
    if (code >= free_entry) {
      BIRDIE_CHECK(code == free_entry, "bible.data: corrupt LZW code. Fix: reinstall bible-kjv-text");
      stack.push_back(static_cast<char>(final_char));
      code = old_code;
    }
    while (code >= 256) {
      stack.push_back(static_cast<char>(suffix[static_cast<std::size_t>(code)]));
      code = prefix[static_cast<std::size_t>(code)];
    }
    final_char = suffix[static_cast<std::size_t>(code)];
    stack.push_back(static_cast<char>(final_char));
    out.append(stack.rbegin(), stack.rend());
    if (free_entry < max_max_code) {
      prefix[static_cast<std::size_t>(free_entry)] = static_cast<std::uint16_t>(old_code);
      suffix[static_cast<std::size_t>(free_entry)] = static_cast<unsigned char>(final_char);
      ++free_entry;
    }
    old_code = incoming;
  }
}

// --- the Bible's books ------------------------------------------------------------------

const std::map<std::string, std::string, std::less<>>& bible_book_names() {
  static const std::map<std::string, std::string, std::less<>> names = {
      {"Ge", "Genesis"},        {"Exo", "Exodus"},          {"Lev", "Leviticus"},     {"Num", "Numbers"},
      {"Deu", "Deuteronomy"},   {"Josh", "Joshua"},         {"Jdgs", "Judges"},       {"Ruth", "Ruth"},
      {"1Sm", "1 Samuel"},      {"2Sm", "2 Samuel"},        {"1Ki", "1 Kings"},       {"2Ki", "2 Kings"},
      {"1Chr", "1 Chronicles"}, {"2Chr", "2 Chronicles"},   {"Ezra", "Ezra"},         {"Neh", "Nehemiah"},
      {"Est", "Esther"},        {"Job", "Job"},             {"Psa", "Psalms"},        {"Prv", "Proverbs"},
      {"Eccl", "Ecclesiastes"}, {"SSol", "Song of Solomon"}, {"Isa", "Isaiah"},       {"Jer", "Jeremiah"},
      {"Lam", "Lamentations"},  {"Eze", "Ezekiel"},         {"Dan", "Daniel"},        {"Hos", "Hosea"},
      {"Joel", "Joel"},         {"Amos", "Amos"},           {"Obad", "Obadiah"},      {"Jonah", "Jonah"},
      {"Mic", "Micah"},         {"Nahum", "Nahum"},         {"Hab", "Habakkuk"},      {"Zep", "Zephaniah"},
      {"Hag", "Haggai"},        {"Zec", "Zechariah"},       {"Mal", "Malachi"},       {"Mat", "Matthew"},
      {"Mark", "Mark"},         {"Luke", "Luke"},           {"John", "John"},         {"Acts", "Acts"},
      {"Rom", "Romans"},        {"1Cor", "1 Corinthians"},  {"2Cor", "2 Corinthians"}, {"Gal", "Galatians"},
      {"Eph", "Ephesians"},     {"Phi", "Philippians"},     {"Col", "Colossians"},    {"1Th", "1 Thessalonians"},
      {"2Th", "2 Thessalonians"}, {"1Tim", "1 Timothy"},    {"2Tim", "2 Timothy"},    {"Titus", "Titus"},
      {"Phmn", "Philemon"},     {"Heb", "Hebrews"},         {"Jas", "James"},         {"1Pet", "1 Peter"},
      {"2Pet", "2 Peter"},      {"1Jn", "1 John"},          {"2Jn", "2 John"},        {"3Jn", "3 John"},
      {"Jude", "Jude"},         {"Rev", "Revelation"},
  };
  return names;
}

// --- dictd markup -------------------------------------------------------------------------

// Whether a trimmed line starts an item of its own rather than continuing a wrapped one:
// "1. ", "2: ", "(a) ", "Syn:", "Note:", WordNet's "n 1:" / "adj 2:".
bool starts_item(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && is_digit(line[i])) ++i;
  if (i > 0 && i + 1 < line.size() && (line[i] == '.' || line[i] == ':') && line[i + 1] == ' ') return true;
  if (line.size() >= 4 && line[0] == '(' && is_letter(line[1]) && line[2] == ')' && line[3] == ' ') return true;
  if (line.starts_with("Syn:") || line.starts_with("Syn.") || line.starts_with("Note:")) return true;
  i = 0;
  while (i < line.size() && is_lower(line[i])) ++i;
  if (i > 0 && i <= 4 && i + 1 < line.size() && line[i] == ' ' && is_digit(line[i + 1])) {
    std::size_t j = i + 1;
    while (j < line.size() && is_digit(line[j])) ++j;
    if (j < line.size() && line[j] == ':') return true;
  }
  return false;
}

// Joins wrapped lines: a line continues the previous one when that one was long (it was
// wrapped) and this one does not start an item. Paragraphs are separated by one blank line.
std::string reflow(const std::vector<std::string_view>& lines) {
  constexpr std::size_t wrapped_length = 45;
  std::string out;
  std::size_t previous_length = 0;
  bool in_paragraph = false, pending_blank = false;
  for (const auto raw : lines) {
    const std::string_view line = trim(raw);
    if (line.empty()) {
      if (in_paragraph) pending_blank = true;
      in_paragraph = false;
      continue;
    }
    const std::size_t raw_length = raw.find_last_not_of(" \t\r") + 1;  // the column the line ends at
    if (!in_paragraph) {
      if (pending_blank) out += "\n\n";
      pending_blank = false;
    } else if (previous_length >= wrapped_length && !starts_item(line)) {
      out += ' ';
    } else {
      out += '\n';
    }
    out += line;
    in_paragraph = true;
    previous_length = raw_length;
  }
  return out;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

// Removes <tags> (a letter, '/' or '!' after '<', on one line, at most 80 characters) and
// decodes &entities;.
std::string strip_tags_and_entities(std::string_view text) {
  static const std::map<std::string, std::string, std::less<>> entities = {
      {"amp", "&"},     {"lt", "<"},      {"gt", ">"},      {"quot", "\""},   {"apos", "'"},    {"nbsp", " "},
      {"mdash", "—"},   {"ndash", "–"},   {"hellip", "…"},  {"lsquo", "‘"},   {"rsquo", "’"},   {"ldquo", "“"},
      {"rdquo", "”"},   {"eacute", "é"},  {"egrave", "è"},  {"ecirc", "ê"},   {"euml", "ë"},    {"aacute", "á"},
      {"agrave", "à"},  {"acirc", "â"},   {"auml", "ä"},    {"iacute", "í"},  {"icirc", "î"},   {"iuml", "ï"},
      {"oacute", "ó"},  {"ocirc", "ô"},   {"ouml", "ö"},    {"uacute", "ú"},  {"ucirc", "û"},   {"uuml", "ü"},
      {"ccedil", "ç"},  {"ntilde", "ñ"},  {"aelig", "æ"},   {"oelig", "œ"},   {"Eacute", "É"},  {"deg", "°"},
      {"sect", "§"},    {"pound", "£"},   {"times", "×"},   {"frac12", "½"},  {"para", "¶"},    {"middot", "·"},
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '<' && i + 1 < text.size() && (is_letter(text[i + 1]) || text[i + 1] == '/' || text[i + 1] == '!')) {
      const std::size_t close = text.find('>', i + 1);
      const std::size_t newline = text.find('\n', i + 1);
      if (close != std::string_view::npos && close - i <= 80 && (newline == std::string_view::npos || close < newline)) {
        i = close;
        continue;
      }
    }
    if (c == '&') {
      const std::size_t semicolon = text.find(';', i + 1);
      if (semicolon != std::string_view::npos && semicolon - i <= 10) {
        const std::string_view name = text.substr(i + 1, semicolon - i - 1);
        if (name.size() > 1 && name[0] == '#') {
          const bool hex = name[1] == 'x' || name[1] == 'X';
          const std::string digits(name.substr(hex ? 2 : 1));
          char* end = nullptr;
          const unsigned long code = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
          if (!digits.empty() && end && *end == '\0' && code > 0 && code < 0x110000) {
            // UTF-8 encoding of the code point
            if (code < 0x80) out += static_cast<char>(code);
            else if (code < 0x800) {
              out += static_cast<char>(0xC0 | (code >> 6));
              out += static_cast<char>(0x80 | (code & 0x3F));
            } else if (code < 0x10000) {
              out += static_cast<char>(0xE0 | (code >> 12));
              out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
              out += static_cast<char>(0x80 | (code & 0x3F));
            } else {
              out += static_cast<char>(0xF0 | (code >> 18));
              out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
              out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
              out += static_cast<char>(0x80 | (code & 0x3F));
            }
            i = semicolon;
            continue;
          }
        } else if (const auto found = entities.find(name); found != entities.end()) {
          out += found->second;
          i = semicolon;
          continue;
        }
      }
    }
    out += c;
  }
  return out;
}

// Collapses runs of spaces inside lines and trims every line.
std::string tidy_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const auto line : split_lines(text)) {
    const std::string_view t = trim(line);
    bool space = false;
    for (const char c : t) {
      if (c == ' ' || c == '\t') {
        space = true;
        continue;
      }
      if (space) out += ' ';
      space = false;
      out += c;
    }
    out += '\n';
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  while (!out.empty() && out.front() == '\n') out.erase(out.begin());
  return out;
}

bool is_foldoc_date(std::string_view line) {
  // "(1994-11-08)"
  if (line.size() != 12 || line[0] != '(' || line[11] != ')' || line[5] != '-' || line[8] != '-') return false;
  for (const int i : {1, 2, 3, 4, 6, 7, 9, 10})
    if (!is_digit(line[static_cast<std::size_t>(i)])) return false;
  return true;
}

// After re-joining: braces of cross references, tags, entities, spaces.
std::string finish_entry(std::string text) {
  text.erase(std::remove_if(text.begin(), text.end(), [](char c) { return c == '{' || c == '}'; }), text.end());
  return tidy_spaces(strip_tags_and_entities(text));
}

// GCIDE's source notes: "[1913 Webster]", "[WordNet 1.5 +PJC]", "[PJC]", "[Century Dict. 1906]".
bool is_gcide_source_note(std::string_view inside) {
  for (const std::string_view word : {"Webster", "WordNet", "Century Dict", "PJC", "RDH"})
    if (inside.find(word) != std::string_view::npos) return true;
  if (inside.empty()) return false;
  // initials only: "AS", "JS + AS"
  return std::all_of(inside.begin(), inside.end(), [](char c) { return (c >= 'A' && c <= 'Z') || c == ' ' || c == '+'; });
}

// GCIDE letter codes → letters. Codes with one accent mark and one or two letters that are
// not in the table lose the mark.
std::string gcide_letter(std::string_view code) {
  static const std::map<std::string, std::string, std::less<>> letters = {
      {"ae", "æ"},   {"AE", "Æ"},   {"oe", "œ"},   {"OE", "Œ"},    {"'e", "é"},   {"'a", "á"},    {"'o", "ó"},
      {"'i", "í"},   {"'u", "ú"},   {"'E", "É"},   {"`e", "è"},    {"`a", "à"},   {"`o", "ò"},    {"^e", "ê"},
      {"^o", "ô"},   {"^u", "û"},   {"^a", "â"},   {"^i", "î"},    {"\"o", "ö"},  {"\"e", "ë"},   {"\"u", "ü"},
      {"\"i", "ï"},  {"\"a", "ä"},  {"~n", "ñ"},   {",c", "ç"},    {"=a", "ā"},   {"=e", "ē"},    {"=i", "ī"},
      {"=o", "ō"},   {"=u", "ū"},   {"=y", "ȳ"},   {"=ae", "ǣ"},   {"=oo", "oo"}, {"a^", "ă"},    {"e^", "ĕ"},
      {"i^", "ĭ"},   {"o^", "ŏ"},   {"u^", "ŭ"},   {"y^", "y"},    {"oo^", "oo"}, {"imac", "ī"},  {"aum", "ä"},
      {"eth", "ð"},  {"thorn", "þ"}, {"deg", "°"}, {"sect", "§"},  {"ng", "ng"},  {"th", "th"},   {"root", "√"},
      {"udd", "ü"},  {"add", "ä"},  {"asl", "a"},  {"cre", "ê"},   {"ocr", "ô"},  {"ucr", "û"},   {"icr", "î"},
      {"acr", "â"},  {"ecr", "ê"},  {"uum", "ü"},  {"oum", "ö"},   {"eum", "ë"},  {"ium", "ï"},   {"pound", "£"},
      {"frac12", "½"}, {"frac14", "¼"}, {"frac34", "¾"}, {"cced", "ç"}, {"ntil", "ñ"}, {"ait", "a"}, {"eit", "e"},
  };
  if (const auto found = letters.find(code); found != letters.end()) return found->second;
  const std::string_view marks = "'`^\"~=-.,*";
  std::string kept;
  int mark_count = 0;
  for (const char c : code) {
    if (marks.find(c) != std::string_view::npos) ++mark_count;
    else if (is_letter(c)) kept += c;
    else return {};
  }
  if (mark_count == 1 && !kept.empty() && kept.size() <= 2) return kept;
  return {};
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

std::vector<std::string> bible_chapters(std::string_view text) {
  std::vector<std::string> chapters;
  std::string current, current_key;
  for (const auto raw : split_lines(text)) {
    const std::string_view line = trim(raw);
    // "1Sm3:10 text": book abbreviation (an optional digit, then letters), chapter, ':', verse
    std::size_t i = 0;
    if (i < line.size() && is_digit(line[i])) ++i;
    const std::size_t letters_begin = i;
    while (i < line.size() && is_letter(line[i])) ++i;
    if (i == letters_begin) continue;
    const std::string_view book = line.substr(0, i);
    const std::size_t chapter_begin = i;
    while (i < line.size() && is_digit(line[i])) ++i;
    if (i == chapter_begin || i >= line.size() || line[i] != ':') continue;
    const std::string_view chapter = line.substr(chapter_begin, i - chapter_begin);
    const std::size_t verse_begin = ++i;
    while (i < line.size() && is_digit(line[i])) ++i;
    if (i == verse_begin) continue;
    const std::string_view verse = trim(line.substr(i));
    if (verse.empty()) continue;
    const std::string key = std::string(book) + " " + std::string(chapter);
    if (key != current_key) {
      if (!current.empty()) chapters.push_back(current);
      const auto name = bible_book_names().find(book);
      current = (name != bible_book_names().end() ? name->second : std::string(book)) + " " + std::string(chapter) + "\n\n";
      current_key = key;
    } else {
      current += '\n';
    }
    current += verse;
  }
  if (!current.empty()) chapters.push_back(current);
  return chapters;
}

std::string decompress_bible_data(std::string_view file) {
  BIRDIE_CHECK(file.size() >= 92 && file.substr(0, 4) == "EC02",
               "bible.data is not a version-02 Bible text file (no \"EC02\" header). Fix: reinstall bible-kjv-text");
  const std::uint32_t window_size = big_endian_32(file, 84);
  const std::uint32_t windows = big_endian_32(file, 88);
  BIRDIE_CHECK(window_size > 0 && windows > 0 && 92 + 4ull * (windows + 1) <= file.size(),
               "bible.data has a bad header. Fix: reinstall bible-kjv-text");
  std::string text;
  text.reserve(static_cast<std::size_t>(window_size) * windows);
  for (std::uint32_t w = 0; w < windows; ++w) {
    const std::uint32_t begin = big_endian_32(file, 92 + 4ull * w), end = big_endian_32(file, 92 + 4ull * (w + 1));
    BIRDIE_CHECK(begin <= end && end <= file.size(), "bible.data: window ", w, " lies outside the file. Fix: reinstall bible-kjv-text");
    const std::size_t before = text.size();
    lzw_decompress(reinterpret_cast<const unsigned char*>(file.data()) + begin, end - begin, text);
    BIRDIE_CHECK(w + 1 == windows || text.size() - before == window_size, "bible.data: window ", w,
                 " decompresses to ", text.size() - before, " bytes instead of ", window_size,
                 ". Fix: reinstall bible-kjv-text");
  }
  return text;
}

std::string read_gzip_file(const std::filesystem::path& path) {
  gzFile file = gzopen(path.string().c_str(), "rb");
  BIRDIE_CHECK(file != nullptr, "cannot open ", path.string());
  std::string text;
  std::vector<char> buffer(1 << 20);
  for (;;) {
    const int got = gzread(file, buffer.data(), static_cast<unsigned>(buffer.size()));
    if (got < 0) {
      int code = 0;
      const std::string message = gzerror(file, &code);
      gzclose(file);
      throw Error(path.string() + ": gzip error: " + message + ". Fix: reinstall the package that ships it");
    }
    if (got == 0) break;
    text.append(buffer.data(), static_cast<std::size_t>(got));
  }
  gzclose(file);
  return text;
}

std::uint64_t dictd_number(std::string_view digits) {
  std::uint64_t value = 0;
  for (const char c : digits) {
    int d = -1;
    if (c >= 'A' && c <= 'Z') d = c - 'A';
    else if (c >= 'a' && c <= 'z') d = c - 'a' + 26;
    else if (c >= '0' && c <= '9') d = c - '0' + 52;
    else if (c == '+') d = 62;
    else if (c == '/') d = 63;
    BIRDIE_CHECK(d >= 0, "dictd index: '", std::string(digits), "' is not a base-64 number");
    value = value * 64 + static_cast<std::uint64_t>(d);
  }
  return value;
}

std::string dictd_digits(std::uint64_t number) {
  static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string digits;
  do {
    digits.insert(digits.begin(), alphabet[number % 64]);
    number /= 64;
  } while (number > 0);
  return digits;
}

std::vector<std::string> dictd_entries(std::string_view dict, std::string_view index) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;  // (offset, length)
  for (const auto line : split_lines(index)) {
    const std::size_t tab1 = line.find('\t');
    if (tab1 == std::string_view::npos) continue;
    const std::size_t tab2 = line.find('\t', tab1 + 1);
    if (tab2 == std::string_view::npos) continue;
    const std::string_view headword = line.substr(0, tab1);
    if (headword.starts_with("00-") || headword.starts_with("00database")) continue;
    std::string_view length = line.substr(tab2 + 1);
    length = length.substr(0, length.find('\t'));
    ranges.emplace_back(dictd_number(line.substr(tab1 + 1, tab2 - tab1 - 1)), dictd_number(trim(length)));
  }
  std::sort(ranges.begin(), ranges.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second > b.second;  // the longest first at an offset
  });
  std::vector<std::string> entries;
  std::uint64_t covered = 0;
  for (const auto& [offset, length] : ranges) {
    if (offset < covered || offset >= dict.size()) continue;  // the same entry again, or one nested in it
    entries.emplace_back(dict.substr(offset, length));
    covered = offset + std::max<std::uint64_t>(length, 1);
  }
  return entries;
}

std::string clean_dictd_entry(std::string_view entry) {
  std::vector<std::string_view> lines = split_lines(entry);
  std::erase_if(lines, [](std::string_view l) { return is_foldoc_date(trim(l)); });
  return finish_entry(reflow(lines));
}

std::string clean_gcide_entry(std::string_view entry) {
  // 1. drop source-note lines, then re-join wrapped lines
  std::vector<std::string_view> lines = split_lines(entry);
  std::erase_if(lines, [](std::string_view l) {
    const std::string_view t = trim(l);
    return t.size() >= 2 && t.front() == '[' && t.back() == ']' && is_gcide_source_note(t.substr(1, t.size() - 2));
  });
  std::string text = reflow(lines);
  // 2. pronunciations: \A*ban"don\ and a parenthesized respelling right after it
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\') {
      const std::size_t close = text.find('\\', i + 1);
      const std::size_t newline = text.find('\n', i + 1);
      if (close != std::string::npos && (newline == std::string::npos || close < newline)) {
        std::size_t next = close + 1, after_spaces = close + 1;
        while (after_spaces < text.size() && text[after_spaces] == ' ') ++after_spaces;
        if (after_spaces < text.size() && text[after_spaces] == '(') {
          const std::size_t paren = text.find(')', after_spaces);
          const bool respelling = paren != std::string::npos &&
                                  text.substr(after_spaces, paren - after_spaces).find_first_of("[\"*`'") != std::string::npos;
          if (respelling && (newline == std::string::npos || paren < newline)) next = paren + 1;
        }
        i = next - 1;  // "Abandon , v. t." loses its space below; runs of spaces are collapsed later
        continue;
      }
    }
    // 3. bracketed codes: source notes go, letter codes become letters, the rest stays
    if (text[i] == '[') {
      const std::size_t close = text.find(']', i + 1);
      if (close != std::string::npos && close - i <= 40) {
        const std::string_view inside = std::string_view(text).substr(i + 1, close - i - 1);
        if (inside.find('\n') == std::string_view::npos) {
          if (is_gcide_source_note(inside)) {
            while (!out.empty() && out.back() == ' ') out.pop_back();
            i = close;
            continue;
          }
          if (inside.size() <= 6) {
            if (const std::string letter = gcide_letter(inside); !letter.empty()) {
              out += letter;
              i = close;
              continue;
            }
          }
        }
      }
    }
    out += text[i];
  }
  replace_all(out, " ,", ",");
  return finish_entry(std::move(out));
}

}  // namespace birdie::data
