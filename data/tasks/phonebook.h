// The phone-book task of docs/method.md §6: a book of N "First Last: DDD-DDD-DDDD" entries and
// a question about k of them, asked before and after the book. The answer is the k
// numbers in query order, comma-separated ("123-456-7890, 000-111-2222"). Names are drawn
// from built-in lists (≥ 300 first, ≥ 300 last), unique within a book; digits are uniform
// (leading zeros allowed). Names in a question are joined "A", "A and B", "A, B, and C".
#pragma once

#include <cstdint>
#include <filesystem>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace birdie::data::tasks {

const std::vector<std::string_view>& first_names();
const std::vector<std::string_view>& last_names();

struct PhoneBookEntry {
  std::string name;    // "First Last"
  std::string number;  // "DDD-DDD-DDDD"
};

struct PhoneBook {
  std::vector<PhoneBookEntry> entries;
  std::vector<std::size_t> queries;  // indices into entries, in question order

  std::string prompt() const;  // question, book, question again
  std::string answer() const;  // the queried numbers, ", "-separated
};

// Which part of the name lists a book draws from. With the halves, books for fine-tuning
// (first) and for evaluation (second) share no first name and no last name, so an
// evaluation cannot be answered from names memorized during fine-tuning.
enum class NameHalf { all, first, second };

// entries in [1, first × last list sizes (a quarter of it for a half)], queries in
// [1, entries]. Everything is drawn from RandomGenerator(seed, stream).
PhoneBook make_phone_book(int entries, int queries, std::uint64_t seed, std::uint64_t stream = 0,
                          NameHalf names = NameHalf::all);

// Digit accuracy of a generated answer against the expected one: the fraction of the
// requested numbers' digits that are right, number by number (generated numbers are
// split on commas; a missing number or digit counts as wrong). Random guessing gives 0.1.
double digit_accuracy(const std::string& expected_answer, const std::string& generated_answer);

// A case of `phonebook_eval --cases FILE.jsonl`, one per line:
//   {"prompt": "...", "answer": "123-456-7890, ...", "entries": N, "queries": K}
// "entries" and "queries" (whole numbers ≥ 1) are optional: they group the table; queries
// defaults to the number of comma-separated numbers in the answer, entries to 0 (unknown).
struct PhoneBookCase {
  std::string prompt, answer;
  int entries = 0, queries = 0;
};
// Errors name the source, the line and the field ("cases.jsonl:3: field 'entries': ...").
std::vector<PhoneBookCase> parse_phone_book_cases(std::istream& in, const std::string& source);
// Of a file; an empty one is an error.
std::vector<PhoneBookCase> read_phone_book_cases(const std::filesystem::path& path);

}  // namespace birdie::data::tasks
