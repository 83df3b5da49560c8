// The phone-book generator of docs/method.md §6.
#include <doctest/doctest.h>

#include <array>
#include <regex>
#include <set>
#include <sstream>

#include "data/tasks/phonebook.h"
#include "engine/error.h"

namespace birdie::data::tasks {

TEST_CASE("name lists: at least 300 first and 300 last names, no duplicates") {
  CHECK(first_names().size() >= 300);
  CHECK(last_names().size() >= 300);
  CHECK(std::set<std::string_view>(first_names().begin(), first_names().end()).size() == first_names().size());
  CHECK(std::set<std::string_view>(last_names().begin(), last_names().end()).size() == last_names().size());
}

TEST_CASE("a book: unique names, DDD-DDD-DDDD numbers, the §6 prompt and answer") {
  const PhoneBook book = make_phone_book(500, 3, 17);
  REQUIRE(book.entries.size() == 500);
  std::set<std::string> names;
  const std::regex number("[0-9]{3}-[0-9]{3}-[0-9]{4}");
  std::array<int, 10> digit_counts{};
  for (const auto& e : book.entries) {
    names.insert(e.name);
    CHECK(std::regex_match(e.number, number));
    for (char c : e.number)
      if (c != '-') ++digit_counts[static_cast<std::size_t>(c - '0')];
  }
  CHECK(names.size() == 500);
  for (int c : digit_counts) CHECK(c > 350);  // 5000 uniform digits: ~500 each, zeros included
  REQUIRE(book.queries.size() == 3);
  CHECK(std::set<std::size_t>(book.queries.begin(), book.queries.end()).size() == 3);
  const auto& q = book.queries;
  const std::string names_text = book.entries[q[0]].name + ", " + book.entries[q[1]].name + ", and " + book.entries[q[2]].name;
  const std::string prompt = book.prompt();
  CHECK(prompt.starts_with("What are the phone numbers for " + names_text + "? Find them in the phonebook below.\n\nPhonebook:\n" +
                           book.entries[0].name + ": " + book.entries[0].number + "\n"));
  CHECK(prompt.ends_with(book.entries[499].number + "\n\nWhat are the phone numbers for " + names_text +
                         "? Find them in the phonebook above.\n"));
  CHECK(book.answer() == book.entries[q[0]].number + ", " + book.entries[q[1]].number + ", " + book.entries[q[2]].number);
  // Seeded: the same seed gives the same book, another seed another one.
  CHECK(make_phone_book(500, 3, 17).prompt() == prompt);
  CHECK(make_phone_book(500, 3, 18).prompt() != prompt);
  const PhoneBook two = make_phone_book(10, 2, 1);
  CHECK(two.prompt().starts_with("What are the phone numbers for " + two.entries[two.queries[0]].name + " and " +
                                 two.entries[two.queries[1]].name + "?"));
  CHECK_THROWS_AS(make_phone_book(5, 6, 1), Error);
}

TEST_CASE("name halves: fine-tuning and evaluation books share no first and no last name") {
  auto split = [](const PhoneBook& book) {
    std::set<std::string> firsts, lasts;
    for (const auto& e : book.entries) {
      firsts.insert(e.name.substr(0, e.name.find(' ')));
      lasts.insert(e.name.substr(e.name.find(' ') + 1));
    }
    return std::pair{firsts, lasts};
  };
  const auto [first_a, last_a] = split(make_phone_book(2000, 1, 3, 0, NameHalf::first));
  const auto [first_b, last_b] = split(make_phone_book(2000, 1, 3, 0, NameHalf::second));
  for (const auto& name : first_a) CHECK(first_b.count(name) == 0);
  for (const auto& name : last_a) CHECK(last_b.count(name) == 0);
  CHECK(first_a.size() > 100);  // the halves are really used, not a few names
  CHECK(last_b.size() > 100);
  const std::size_t quarter = (first_names().size() / 2) * (last_names().size() / 2);
  CHECK_THROWS_WITH_AS(make_phone_book(static_cast<int>(quarter) + 1, 1, 3, 0, NameHalf::first),
                       doctest::Contains("unique names are available"), Error);
}

TEST_CASE("digit accuracy") {
  CHECK(digit_accuracy("123-456-7890", "123-456-7890") == 1.0);
  CHECK(digit_accuracy("123-456-7890", "123-456-7899") == doctest::Approx(0.9));
  CHECK(digit_accuracy("123-456-7890, 000-000-0000", "123-456-7890") == doctest::Approx(0.5));
  CHECK(digit_accuracy("123-456-7890, 000-000-0000", "123-456-7890, 000-000-00") == doctest::Approx(0.9));
  CHECK(digit_accuracy("123-456-7890", "") == 0.0);
}

TEST_CASE("--cases lines: prompt and answer, optional entries and queries, errors naming the line and field") {
  std::istringstream in(
      "{\"prompt\": \"p\", \"answer\": \"123-456-7890, 000-111-2222\"}\n\n"
      "{\"prompt\": \"q\", \"answer\": \"1\", \"entries\": 4, \"queries\": 3}\n");
  const auto cases = parse_phone_book_cases(in, "cases.jsonl");
  REQUIRE(cases.size() == 2);
  CHECK((cases[0].entries == 0 && cases[0].queries == 2));  // queries: the answer's numbers
  CHECK((cases[1].entries == 4 && cases[1].queries == 3));
  const auto refused = [](const std::string& line, const char* message) {
    std::istringstream bad(line);
    CHECK_THROWS_WITH_AS(parse_phone_book_cases(bad, "cases.jsonl"), doctest::Contains(message), Error);
  };
  refused("{\"prompt\": \"x\", \"answer\": 5}", "cases.jsonl:1: field 'answer': expected a string");
  refused("{\"prompt\": \"x\", \"answer\": \"1\", \"entries\": 1000000000000}",
          "cases.jsonl:1: field 'entries': expected a whole number from 1 to 10^9");
  refused("{\"prompt\": \"x\", \"answer\": \"1\", \"queries\": 2.5}", "field 'queries'");
  refused("[1]", "cases.jsonl:1: expected a JSON object");
}

}  // namespace birdie::data::tasks
