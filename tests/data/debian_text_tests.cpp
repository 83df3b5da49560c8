// The debian-text corpus: its cleaners on small samples, and the reader on a fake root
// laid out like the Debian packages.
#include <doctest/doctest.h>
#include <zlib.h>

#include <fstream>
#include <map>

#include "data/debian_text.h"
#include "engine/error.h"
#include "temporary_folder.h"
#include "tests/support/thrown_error.h"

namespace birdie::data {
namespace {

// LZW with 9-bit codes packed least significant bit first, as compress(1) writes a short
// input (fewer than 255 new strings, so the code width never grows).
std::string lzw_compress_short(std::string_view text) {
  std::map<std::string, int> dictionary;
  for (int c = 0; c < 256; ++c) dictionary[std::string(1, static_cast<char>(c))] = c;
  int next = 257;
  std::vector<int> codes;
  std::string w;
  for (const char c : text) {
    if (dictionary.count(w + c)) {
      w += c;
      continue;
    }
    codes.push_back(dictionary[w]);
    dictionary[w + c] = next++;
    w = std::string(1, c);
  }
  if (!w.empty()) codes.push_back(dictionary[w]);
  REQUIRE(next <= 511);
  std::string bytes((codes.size() * 9 + 7) / 8, '\0');
  for (std::size_t i = 0; i < codes.size(); ++i)
    for (std::size_t b = 0; b < 9; ++b)
      if ((codes[i] >> b) & 1) {
        const std::size_t bit = i * 9 + b;
        bytes[bit >> 3] = static_cast<char>(static_cast<unsigned char>(bytes[bit >> 3]) | (1u << (bit & 7)));
      }
  return bytes;
}

void put_big_endian_32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xFF);
}

// A bible.data file holding `text` in windows of `window_size` bytes.
std::string make_bible_data(std::string_view text, std::uint32_t window_size) {
  std::vector<std::string> windows;
  for (std::size_t at = 0; at < text.size(); at += window_size) windows.push_back(lzw_compress_short(text.substr(at, window_size)));
  std::string file = "EC02";
  file += std::string(80, '\0');
  put_big_endian_32(file, window_size);
  put_big_endian_32(file, static_cast<std::uint32_t>(windows.size()));
  std::uint32_t offset = static_cast<std::uint32_t>(file.size() + 4 * (windows.size() + 1));
  for (const auto& w : windows) {
    put_big_endian_32(file, offset);
    offset += static_cast<std::uint32_t>(w.size());
  }
  put_big_endian_32(file, offset);
  for (const auto& w : windows) file += w;
  return file;
}

// A dictd database: the entries in order, each indexed under its first line (the headword),
// plus extra index lines (headword → the entry number).
struct FakeDictionary {
  std::string dict, index;
};
FakeDictionary make_dictionary(const std::vector<std::string>& entries,
                               const std::vector<std::pair<std::string, std::size_t>>& aliases = {}) {
  FakeDictionary d;
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  for (const auto& e : entries) {
    ranges.emplace_back(d.dict.size(), e.size());
    d.index += e.substr(0, e.find('\n')) + "\t" + dictd_digits(d.dict.size()) + "\t" + dictd_digits(e.size()) + "\n";
    d.dict += e;
  }
  for (const auto& [headword, n] : aliases)
    d.index += headword + "\t" + dictd_digits(ranges[n].first) + "\t" + dictd_digits(ranges[n].second) + "\n";
  return d;
}

void write_file(const std::filesystem::path& path, std::string_view content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

void write_gzip(const std::filesystem::path& path, std::string_view content) {
  std::filesystem::create_directories(path.parent_path());
  gzFile file = gzopen(path.string().c_str(), "wb");
  REQUIRE(file != nullptr);
  REQUIRE(gzwrite(file, content.data(), static_cast<unsigned>(content.size())) == static_cast<int>(content.size()));
  gzclose(file);
}

void write_dictionary(const std::filesystem::path& root, const std::string& name, const FakeDictionary& d) {
  write_gzip(root / "usr/share/dictd" / (name + ".dict.dz"), d.dict);
  write_file(root / "usr/share/dictd" / (name + ".index"), d.index);
}

}  // namespace

TEST_CASE("fortunes: split on % lines, blank ones dropped, newlines kept") {
  const auto fortunes = split_fortunes("A fool and his money\n%\n  \n%\nRoses are red,  \n\tviolets blue.\n\n%\nLast one");
  REQUIRE(fortunes.size() == 3);
  CHECK(fortunes[0] == "A fool and his money");
  CHECK(fortunes[1] == "Roses are red,\n\tviolets blue.");
  CHECK(fortunes[2] == "Last one");
}

TEST_CASE("bible: verses grouped into chapters, book names spelled out, numbers dropped") {
  const auto chapters = bible_chapters(
      "Holy Bible, Authorized (King James) Version.  Textfile 930105.\n"
      "Ge1:1 In the beginning God created the heaven and the earth.\n"
      "Ge1:2 And the earth was without form, and void.\n"
      "Ge2:1 Thus the heavens and the earth were finished.\n"
      "1Sm3:10 And the LORD came, and stood.\n");
  REQUIRE(chapters.size() == 3);
  CHECK(chapters[0] == "Genesis 1\n\nIn the beginning God created the heaven and the earth.\nAnd the earth was without form, and void.");
  CHECK(chapters[1] == "Genesis 2\n\nThus the heavens and the earth were finished.");
  CHECK(chapters[2] == "1 Samuel 3\n\nAnd the LORD came, and stood.");
}

TEST_CASE("bible.data: LZW windows decompressed and joined; a bad header is an error") {
  const std::string text =
      "Ge1:1 In the beginning God created the heaven and the earth.\nGe1:2 And the earth was without form.\n";
  CHECK(decompress_bible_data(make_bible_data(text, 40)) == text);
  CHECK(decompress_bible_data(make_bible_data(text, 4096)) == text);
  CHECK_THROWS_AS(decompress_bible_data("not a bible"), Error);
}

TEST_CASE("dictd: base-64 numbers, entries in file order, headers and nested entries dropped") {
  CHECK(dictd_number("A") == 0);
  CHECK(dictd_number("BA") == 64);
  CHECK(dictd_number("5I") == 57 * 64 + 8);
  for (const std::uint64_t n : {0ull, 1ull, 63ull, 64ull, 4095ull, 39952321ull}) CHECK(dictd_number(dictd_digits(n)) == n);

  const auto d = make_dictionary({"00-database-short\n   A test dictionary\n\n", "apple\n   A fruit; see {pear}.\n\n",
                                  "pear\n   <fruit, botany> Another &amp; fruit.\n\n   (1994-11-08)\n\n",
                                  "00databaseinfo\n   About it\n\n"},
                                 {{"apples", 1}});
  const auto entries = dictd_entries(d.dict, d.index);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0] == "apple\n   A fruit; see {pear}.\n\n");
  CHECK(clean_dictd_entry(entries[0]) == "apple\nA fruit; see pear.");
  CHECK(clean_dictd_entry(entries[1]) == "pear\nAnother & fruit.");
}

TEST_CASE("dictd: wrapped lines re-joined, senses and short lines kept apart") {
  const std::string entry =
      "dog\n"
      "    n 1: a member of the genus Canis (probably descended from the\n"
      "         common wolf); \"the dog barked all night\" [syn: {dog},\n"
      "         {domestic dog}]\n"
      "    2: a dull unattractive unpleasant girl or woman\n"
      "\n"
      "    Said a man to a crapulent youth:\n"
      "        You a total abstainer, my son.\n";
  CHECK(clean_dictd_entry(entry) ==
        "dog\n"
        "n 1: a member of the genus Canis (probably descended from the common wolf); \"the dog barked all night\" "
        "[syn: dog, domestic dog]\n"
        "2: a dull unattractive unpleasant girl or woman\n"
        "\n"
        "Said a man to a crapulent youth:\n"
        "You a total abstainer, my son.");
}

TEST_CASE("gcide: pronunciations, source notes, letter codes, tags and entities cleaned") {
  const std::string entry =
      "Abandon \\A*ban\"don\\ ([.a]*b[a^]n\"d[u^]n), v. t. [imp. & p. p.\n"
      "   {Abandoned}; p. pr. & vb. n. {Abandoning}.] [OF. abandoner, F.\n"
      "   abandonner.] <i>See</i> {Ban}. Caf['e] &amp; na[\"i]ve &lt;old&gt;.\n"
      "   [1913 Webster]\n"
      "\n"
      "   1. To cast or drive out; to banish; to expel; to reject.\n"
      "      [Obs.]\n"
      "      [1913 Webster +PJC]\n"
      "\n"
      "            That he might . . . abandon them from him.\n"
      "                                                  --Udall.\n"
      "      [Webster 1913 Suppl.]\n"
      "\n"
      "   2. To give up absolutely; [ae]ther and [oe]conomy. [PJC]\n";
  CHECK(clean_gcide_entry(entry) ==
        "Abandon, v. t. [imp. & p. p. Abandoned; p. pr. & vb. n. Abandoning.] [OF. abandoner, F. abandonner.] "
        "See Ban. Café & naïve <old>.\n"
        "\n"
        "1. To cast or drive out; to banish; to expel; to reject. [Obs.]\n"
        "\n"
        "That he might . . . abandon them from him. --Udall.\n"
        "\n"
        "2. To give up absolutely; æther and œconomy.");
  CHECK(clean_gcide_entry("Zero \\Ze\"ro\\ adj.\n   Nothing at all.\n") == "Zero adj.\nNothing at all.");
  CHECK(clean_gcide_entry("Cat \\Cat\\, n. (Zool.)\n") == "Cat, n. (Zool.)");
  CHECK(clean_gcide_entry("Aardvark \\Aard\"vark`\\ (Zool.) n.\n") == "Aardvark (Zool.) n.");
}

TEST_CASE("read_debian_text: every source from a fake root, in order; a missing package is named") {
  testing::TemporaryFolder dir("birdie_debian_text");
  const auto root = dir.path;
  const auto fortunes = root / "usr/share/games/fortunes";
  write_file(fortunes / "fortunes", "First fortune.\n%\nSecond fortune.\n");
  write_file(fortunes / "fortunes.dat", "index, skipped");
  write_file(fortunes / "computers", "A computer fortune.\n");
  write_file(fortunes / "ascii-art", "  /\\_/\\\n ( o.o )\n");
  write_file(fortunes / "de/computers", "Ein Glückskeks.\n");
  write_file(root / "usr/lib/bible.data",
             make_bible_data("Title line.\nGe1:1 In the beginning.\nGe1:2 And the earth.\nExo1:1 Now these are the names.\n", 32));
  write_dictionary(root, "devil", make_dictionary({"00databaseshort\n   The Devil's Dictionary\n",
                                                   "ABSURDITY, n.  A statement or belief manifestly inconsistent with\n"
                                                   "one's own opinion.\n\n"}));
  write_dictionary(root, "jargon", make_dictionary({"hacker\n n.\n\n    A person who enjoys {hack value}.\n\n"}));
  write_dictionary(root, "foldoc", make_dictionary({"actor\n\n   <programming> An {object}.\n\n   (1994-11-08)\n\n"}));
  write_dictionary(root, "vera", make_dictionary({"AFC\n       Automatic Font Change\n       \n"}));
  write_dictionary(root, "elements", make_dictionary({"hydrogen\nSymbol: H\nAtomic number: 1\n\n"}));
  write_dictionary(root, "gcide", make_dictionary({"00-database-info\n   converted\n\n",
                                                   "Cat \\Cat\\, v. t. (Naut.)\n   To bring to the cathead.\n   [1913 Webster]\n\n"}));
  write_dictionary(root, "wn", make_dictionary({"'hood\n    n 1: (slang) a neighborhood\n\n"}));

  std::vector<std::string> documents;
  std::vector<DebianTextCount> counts;
  CorpusProgress progress;
  read_debian_text(root, [&](std::string&& d) {
    documents.push_back(std::move(d));
    return true;
  }, progress, &counts);
  const std::vector<std::string> expected = {
      "A computer fortune.",  // files in name order: computers, fortunes
      "First fortune.",
      "Second fortune.",
      "Genesis 1\n\nIn the beginning.\nAnd the earth.",
      "Exodus 1\n\nNow these are the names.",
      "ABSURDITY, n. A statement or belief manifestly inconsistent with one's own opinion.",
      "hacker\nn.\n\nA person who enjoys hack value.",
      "actor\n\nAn object.",
      "AFC\nAutomatic Font Change",
      "hydrogen\nSymbol: H\nAtomic number: 1",
      "Cat, v. t. (Naut.)\nTo bring to the cathead.",
      "'hood\nn 1: (slang) a neighborhood",
  };
  CHECK(documents == expected);
  CHECK(progress.documents == expected.size());
  CHECK(progress.input_bytes == debian_text_input_bytes(root));
  REQUIRE(counts.size() == debian_text_sources().size());
  CHECK(counts[0].source == "fortunes");
  CHECK(counts[0].documents == 3);
  CHECK(counts[1].source == "bible");
  CHECK(counts[1].documents == 2);

  // stopping early
  std::size_t seen = 0;
  CorpusProgress ignored;
  read_debian_text(root, [&](std::string&&) { return ++seen < 4; }, ignored);
  CHECK(seen == 4);

  // deterministic: the same files, the same documents
  std::vector<std::string> again;
  read_debian_text(root, [&](std::string&& d) {
    again.push_back(std::move(d));
    return true;
  }, ignored);
  CHECK(again == documents);

  // a missing source names its package and the install command
  std::filesystem::remove(root / "usr/share/dictd/gcide.dict.dz");
  std::filesystem::remove(root / "usr/lib/bible.data");
  const std::string message =
      birdie::testing::thrown_error([&] { check_debian_text(root); }, "no error for the missing packages");
  CHECK(message.find("dict-gcide") != std::string::npos);
  CHECK(message.find("bible-kjv-text") != std::string::npos);
  CHECK(message.find("gcide.dict.dz") != std::string::npos);
  CHECK(message.find("bash scripts/setup.sh --corpus debian-text") != std::string::npos);
  CHECK(message.find("apt-get install") != std::string::npos);
  CHECK_THROWS_AS(read_debian_text(root, [](std::string&&) { return true; }, ignored), Error);
}

}  // namespace birdie::data
