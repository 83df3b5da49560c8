// data/tasks/multiple_choice: reading items, with errors that name the file, the line and
// the field.
#include <doctest/doctest.h>

#include <sstream>

#include "data/tasks/multiple_choice.h"
#include "engine/error.h"

namespace birdie::data::tasks {

namespace {
std::vector<ChoiceItem> parse(const std::string& text) {
  std::istringstream in(text);
  return parse_choice_items(in, "choices.jsonl");
}
std::string message(const std::string& bad) {
  try {
    parse(std::string(R"({"prompt": "p", "choices": ["x", "y"], "label": 0})") + "\n" + bad + "\n");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("reading items: prompt, choices, label, optional id") {
  const auto items = parse(R"({"prompt": "Once", "choices": ["a", "b", "c"], "label": 2, "id": "s1"})"
                           "\n"
                           R"({"prompt": "Then", "choices": ["d", "e"], "label": 0, "extra": true})");
  REQUIRE(items.size() == 2);
  CHECK(items[0].prompt == "Once");
  CHECK(items[0].choices.size() == 3);
  CHECK(items[0].label == 2);
  CHECK(items[0].id == "s1");
  CHECK(items[1].id == "");
  CHECK(items[1].label == 0);
}

TEST_CASE("reading items: errors name the file, the line and the field") {
  CHECK(message(R"({"choices": ["x", "y"], "label": 0})") == "choices.jsonl:2: field 'prompt': missing");
  CHECK(message(R"({"prompt": "p", "label": 0})") == "choices.jsonl:2: field 'choices': missing");
  CHECK(message(R"({"prompt": "p", "choices": ["x"], "label": 0})") ==
        "choices.jsonl:2: field 'choices': needs at least 2 choices, got 1");
  CHECK(message(R"({"prompt": "p", "choices": ["x", ""], "label": 0})") ==
        "choices.jsonl:2: field 'choices': choice 1 is empty");
  CHECK(message(R"({"prompt": "p", "choices": ["x", 3], "label": 0})") ==
        "choices.jsonl:2: field 'choices': expected a list of strings, element 1 is number");
  CHECK(message(R"({"prompt": "p", "choices": ["x", "y"]})") == "choices.jsonl:2: field 'label': missing");
  CHECK(message(R"({"prompt": "p", "choices": ["x", "y"], "label": "1"})") ==
        "choices.jsonl:2: field 'label': expected a whole number (the right choice's index), got string");
  CHECK(message(R"({"prompt": "p", "choices": ["x", "y"], "label": 1.5})") ==
        "choices.jsonl:2: field 'label': expected a whole number (the right choice's index), got a fraction");
  CHECK(message(R"({"prompt": "p", "choices": ["x", "y"], "label": 2})") ==
        "choices.jsonl:2: field 'label': 2 is not a choice index (0 to 1)");
  CHECK(message(R"({"prompt": "p", "choices": ["x", "y"], "label": -1})") ==
        "choices.jsonl:2: field 'label': -1 is not a choice index (0 to 1)");
  CHECK(message(R"({"prompt": "p", "choices": ["x", "y"], "label": true})") ==
        "choices.jsonl:2: field 'label': expected a whole number (the right choice's index), got boolean");
}

}  // namespace birdie::data::tasks
