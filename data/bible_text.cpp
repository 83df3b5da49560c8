// The King James Bible of the debian-text corpus (data/debian_text.h): bible.data's
// Unix-compress LZW windows, and the verses grouped into chapters named after their books.
#include <cstring>
#include <map>

#include "data/debian_text.h"
#include "data/text_lines.h"
#include "engine/error.h"

namespace birdie::data {
namespace {

using namespace text_lines;

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

}  // namespace

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

}  // namespace birdie::data
