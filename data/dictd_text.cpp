// The dictd databases of the debian-text corpus (data/debian_text.h): the gzip-compatible
// .dict.dz files, their index, and the entries with their markup removed.
#include <zlib.h>

#include <algorithm>
#include <map>

#include "data/debian_text.h"
#include "data/text_lines.h"
#include "engine/error.h"

namespace birdie::data {
namespace {

using namespace text_lines;

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
