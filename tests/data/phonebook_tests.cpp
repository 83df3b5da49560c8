// The phone-book generator of BIRDIE.md §6.
#include <doctest/doctest.h>

#include <array>
#include <regex>
#include <set>

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

TEST_CASE("digit accuracy") {
  CHECK(digit_accuracy("123-456-7890", "123-456-7890") == 1.0);
  CHECK(digit_accuracy("123-456-7890", "123-456-7899") == doctest::Approx(0.9));
  CHECK(digit_accuracy("123-456-7890, 000-000-0000", "123-456-7890") == doctest::Approx(0.5));
  CHECK(digit_accuracy("123-456-7890, 000-000-0000", "123-456-7890, 000-000-00") == doctest::Approx(0.9));
  CHECK(digit_accuracy("123-456-7890", "") == 0.0);
}

}  // namespace birdie::data::tasks
