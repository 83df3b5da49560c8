// The debian-text corpus: English text shipped in Debian packages, read offline.
//
// Sources, in reading order (each a Debian package, installed with
// `bash scripts/setup.sh --corpus debian-text`):
//   fortunes   fortunes, fortunes-min (+ fortunes-bofh-excuses, fortunes-debian-hints when
//              installed): /usr/share/games/fortunes, one document per fortune ("%" lines);
//              only the top-level files (other languages live in sub-folders), no ascii-art
//   bible      bible-kjv-text: /usr/lib/bible.data (the King James Bible in windows compressed
//              with LZW, "EC02" format), one document per chapter ("Genesis 1", verses one a line)
//   devil, jargon, foldoc, vera, elements, gcide, wordnet
//              dict-devil, dict-jargon, dict-foldoc, dict-vera, dict-elements, dict-gcide, dict-wn:
//              dictd databases (/usr/share/dictd/NAME.dict.dz, gzip-compatible, + NAME.index),
//              one document per entry in file order, the 00-database-* entries dropped,
//              markup removed ({cross references}, <tags>, &entities;, GCIDE pronunciations,
//              [a^]-style letters and [1913 Webster] source lines), wrapped lines re-joined.
//
// Every path is taken relative to a root folder ("/" for the installed packages), so tests
// can lay out a fake tree. Reading is deterministic: the same files give the same documents
// in the same order. One source is in memory at a time (the largest, GCIDE, is 40 MB).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "data/corpus_reader.h"

namespace birdie::data {

enum class DebianTextFormat { fortunes, bible, gcide, dictd };

struct DebianTextSource {
  std::string name;                // "fortunes", "bible", "gcide", …
  std::string package;             // the Debian package that ships it
  std::filesystem::path location;  // relative to the root: a folder (fortunes) or a file
  DebianTextFormat format;
};

// The sources in reading order.
const std::vector<DebianTextSource>& debian_text_sources();

// The command that installs every package of the corpus.
constexpr const char* debian_text_install_command = "bash scripts/setup.sh --corpus debian-text";

// Throws, naming each missing package, its missing file and the install commands, when a
// source is absent under `root`.
void check_debian_text(const std::filesystem::path& root = "/");

// Bytes on disk of every source file under `root` (checks first).
std::uint64_t debian_text_input_bytes(const std::filesystem::path& root = "/");

struct DebianTextCount {
  std::string source;
  std::uint64_t documents = 0;
  std::uint64_t text_bytes = 0;
};

// Calls visit(document) for every document of every source, in a fixed order, until visit
// returns false. progress.input_bytes grows by each source file's size on disk as it is
// read; `counts` (optional) receives documents and bytes per source.
void read_debian_text(const std::filesystem::path& root, const std::function<bool(std::string&&)>& visit,
                      CorpusProgress& progress, std::vector<DebianTextCount>* counts = nullptr);

// --- the pieces, exposed for tests ---

// A fortune file's text split on lines holding a single "%"; blank fortunes dropped,
// trailing spaces removed, newlines kept.
std::vector<std::string> split_fortunes(std::string_view text);

// The decompressed bible.data text ("Ge1:1 In the beginning …" lines) → one document per
// chapter: "Genesis 1\n\n" then the verses one a line, without their numbers.
std::vector<std::string> bible_chapters(std::string_view text);

// bible.data (header "EC02", window size and count, window offsets, LZW windows) → text.
std::string decompress_bible_data(std::string_view file);

// A whole gzip (or dictzip .dict.dz) file, decompressed.
std::string read_gzip_file(const std::filesystem::path& path);

// dictd's base-64 numbers in .index files (alphabet A-Z a-z 0-9 + /, most significant first).
std::uint64_t dictd_number(std::string_view digits);
std::string dictd_digits(std::uint64_t number);

// The raw entries of a dictd database in file order: one per distinct offset of the index
// (entries nested in an earlier one skipped), the 00-database-* / 00database* entries dropped.
std::vector<std::string> dictd_entries(std::string_view dict, std::string_view index);

// A dictd entry → plain text: wrapped lines re-joined (numbered senses, "Syn:", "Note:" and
// short lines such as verse keep their line), {cross references} unbraced, <tags> removed,
// &entities; decoded, FOLDOC's "(1994-11-08)" date lines dropped.
std::string clean_dictd_entry(std::string_view entry);

// GCIDE entries: clean_dictd_entry plus the pronunciations (\A*ban"don\ and the
// parenthesized respelling after it) removed, [1913 Webster]-style source lines and tags
// dropped, and the letter codes ([ae], ['e], [=a], [a^], …) turned into letters.
std::string clean_gcide_entry(std::string_view entry);

}  // namespace birdie::data
