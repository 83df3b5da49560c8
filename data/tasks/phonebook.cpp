#include "data/tasks/phonebook.h"

#include <algorithm>
#include <unordered_set>

#include "data/tasks/jsonl_fields.h"
#include "engine/error.h"
#include "engine/random.h"

namespace birdie::data::tasks {
namespace {

std::string join_names(const PhoneBook& book) {
  std::string out;
  const std::size_t k = book.queries.size();
  for (std::size_t i = 0; i < k; ++i) {
    if (i > 0) out += k == 2 ? " and " : (i + 1 == k ? ", and " : ", ");
    out += book.entries[book.queries[i]].name;
  }
  return out;
}

// The digits of each comma-separated number.
std::vector<std::string> digits_per_number(const std::string& answer) {
  std::vector<std::string> numbers(1);
  for (char c : answer) {
    if (c == ',') numbers.emplace_back();
    else if (c >= '0' && c <= '9') numbers.back().push_back(c);
  }
  return numbers;
}

}  // namespace

std::string PhoneBook::prompt() const {
  const std::string names = join_names(*this);
  std::string out = "What are the phone numbers for " + names + "? Find them in the phonebook below.\n\nPhonebook:\n";
  for (const auto& e : entries) out += e.name + ": " + e.number + "\n";
  out += "\nWhat are the phone numbers for " + names + "? Find them in the phonebook above.\n";
  return out;
}

std::string PhoneBook::answer() const {
  std::string out;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    if (i > 0) out += ", ";
    out += entries[queries[i]].number;
  }
  return out;
}

PhoneBook make_phone_book(int entries, int queries, std::uint64_t seed, std::uint64_t stream, NameHalf names) {
  // The lists' index ranges [first_begin, first_begin + firsts) and likewise for last names.
  std::size_t firsts = first_names().size(), lasts = last_names().size(), first_begin = 0, last_begin = 0;
  if (names != NameHalf::all) {
    firsts /= 2;
    lasts /= 2;
    if (names == NameHalf::second) first_begin = firsts, last_begin = lasts;
  }
  BIRDIE_CHECK(entries >= 1 && static_cast<std::size_t>(entries) <= firsts * lasts, "phone book: ", entries,
               " entries requested; between 1 and ", firsts * lasts, " unique names are available");
  BIRDIE_CHECK(queries >= 1 && queries <= entries, "phone book: ", queries, " queries requested for ", entries,
               " entries; need 1 <= queries <= entries");
  RandomGenerator rng(seed, stream);
  PhoneBook book;
  std::unordered_set<std::size_t> used;
  while (book.entries.size() < static_cast<std::size_t>(entries)) {
    const std::size_t pick = rng.uniform_int(firsts * lasts);
    if (!used.insert(pick).second) continue;  // names are unique within a book
    PhoneBookEntry e;
    e.name = std::string(first_names()[first_begin + pick / lasts]) + " " +
             std::string(last_names()[last_begin + pick % lasts]);
    for (int d = 0; d < 10; ++d) {
      if (d == 3 || d == 6) e.number += '-';
      e.number += static_cast<char>('0' + rng.uniform_int(10));
    }
    book.entries.push_back(std::move(e));
  }
  // k distinct entries in random order.
  book.queries = distinct_indices(book.entries.size(), static_cast<std::size_t>(queries), rng);
  return book;
}

double digit_accuracy(const std::string& expected_answer, const std::string& generated_answer) {
  const auto expected = digits_per_number(expected_answer);
  const auto generated = digits_per_number(generated_answer);
  std::size_t total = 0, right = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    for (std::size_t d = 0; d < expected[i].size(); ++d) {
      ++total;
      if (i < generated.size() && d < generated[i].size() && generated[i][d] == expected[i][d]) ++right;
    }
  }
  return total ? static_cast<double>(right) / static_cast<double>(total) : 0.0;
}

std::vector<PhoneBookCase> parse_phone_book_cases(std::istream& in, const std::string& source) {
  std::vector<PhoneBookCase> cases;
  jsonl::for_each_object(in, source, [&](const nlohmann::json& j, const jsonl::Place& at) {
    PhoneBookCase c;
    c.prompt = jsonl::string_field(j, at, "prompt");
    c.answer = jsonl::string_field(j, at, "answer");
    c.queries = static_cast<int>(std::min<std::ptrdiff_t>(std::count(c.answer.begin(), c.answer.end(), ',') + 1, 1 << 30));
    for (const auto& [field, target] : {std::pair{"entries", &c.entries}, std::pair{"queries", &c.queries}}) {
      const auto it = j.find(field);
      if (it == j.end()) continue;
      if (!it->is_number_integer() || it->get<long long>() < 1 || it->get<long long>() > 1'000'000'000)
        jsonl::fail(at, field, "expected a whole number from 1 to 10^9, got " + it->dump());
      *target = static_cast<int>(it->get<long long>());
    }
    cases.push_back(std::move(c));
  });
  return cases;
}

std::vector<PhoneBookCase> read_phone_book_cases(const std::filesystem::path& path) {
  return jsonl::read_file(path, "phone-book cases", "cases", parse_phone_book_cases);
}

}  // namespace birdie::data::tasks
