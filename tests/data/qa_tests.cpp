// data/tasks/qa: SQuAD normalization and scoring, the prompt, and reading JSONL items with
// errors that name the file, the line and the field.
#include <doctest/doctest.h>

#include <sstream>

#include "data/tasks/qa.h"
#include "engine/error.h"

namespace birdie::data::tasks {

namespace {
std::vector<QaItem> parse(const std::string& text) {
  std::istringstream in(text);
  return parse_qa_items(in, "qa.jsonl");
}
}  // namespace

TEST_CASE("normalization: lowercase, no punctuation, no articles, single spaces") {
  CHECK(normalize_answer("The Eiffel Tower!") == "eiffel tower");
  CHECK(normalize_answer("  an   apple,\ta pear\nand THE plum. ") == "apple pear and plum");
  CHECK(normalize_answer("don't") == "dont");  // punctuation is removed, not replaced by a space
  CHECK(normalize_answer("3.14") == "314");
  CHECK(normalize_answer("Theater anthem") == "theater anthem");  // articles only as whole words
  CHECK(normalize_answer("The a an") == "");
  CHECK(normalize_answer("") == "");
  CHECK(normalize_answer("Zürich") == "zürich");  // bytes beyond ASCII are kept as they are
}

TEST_CASE("contains: the normalized answer contains the normalized label as whole words") {
  CHECK(answer_contains("It is the Eiffel Tower, in Paris.", "eiffel tower"));
  CHECK(answer_contains("Eiffel Tower", "The Eiffel Tower"));
  CHECK_FALSE(answer_contains("Tower", "Eiffel Tower"));
  CHECK_FALSE(answer_contains("concatenate", "cat"));
  CHECK_FALSE(answer_contains("", "cat"));
  // A label that normalizes to nothing is found only in an answer that does too.
  CHECK(answer_contains("the", "The"));
  CHECK_FALSE(answer_contains("a dog", "the"));
}

TEST_CASE("token F1: SQuAD's word-bag F1") {
  CHECK(token_f1("Eiffel Tower", "the Eiffel Tower") == doctest::Approx(1.0));
  // prediction {eiffel, tower, paris}, gold {eiffel, tower}: P 2/3, R 1 → F1 0.8
  CHECK(token_f1("Eiffel Tower Paris", "Eiffel Tower") == doctest::Approx(0.8));
  // repeated words count with multiplicity: P 1/2 (one "red" shared), R 1/1 → 2/3
  CHECK(token_f1("red red", "red") == doctest::Approx(2.0 / 3.0));
  CHECK(token_f1("blue", "red") == 0.0);
  CHECK(token_f1("", "") == 1.0);
  CHECK(token_f1("the", "") == 1.0);  // both normalize to nothing
  CHECK(token_f1("", "red") == 0.0);
  CHECK(token_f1("red", "") == 0.0);
}

TEST_CASE("an item's score: maxima over several gold answers") {
  const std::vector<std::string> answers{"in 1889", "1889", "the year 1889"};
  const QaScore s = score_answer("1889", answers);
  CHECK(s.contains);
  CHECK(s.exact);
  CHECK(s.f1 == doctest::Approx(1.0));
  const QaScore partial = score_answer("it opened in the spring of 1889", answers);
  CHECK(partial.contains);
  CHECK_FALSE(partial.exact);
  // best F1: "in 1889" (2 shared of 6 predicted, 2 of 2 gold): 2·(1/3)·1/(1/3+1) = 0.5
  CHECK(partial.f1 == doctest::Approx(0.5));
  const QaScore wrong = score_answer("1890", answers);
  CHECK_FALSE(wrong.contains);
  CHECK(wrong.f1 == 0.0);
}

TEST_CASE("unanswerable items: 1 for an empty or 'unanswerable' answer, else 0") {
  CHECK(is_abstention(""));
  CHECK(is_abstention("  . "));
  CHECK(is_abstention("Unanswerable."));
  CHECK_FALSE(is_abstention("Paris"));
  for (const char* abstained : {"", "unanswerable", "The unanswerable!"}) {
    const QaScore s = score_answer(abstained, {});
    CHECK(s.contains);
    CHECK(s.exact);
    CHECK(s.f1 == 1.0);
  }
  const QaScore s = score_answer("Paris", {});
  CHECK_FALSE(s.contains);
  CHECK_FALSE(s.exact);
  CHECK(s.f1 == 0.0);
  // For an answerable item an abstention is simply wrong.
  CHECK(score_answer("unanswerable", {"Paris"}).f1 == 0.0);
}

TEST_CASE("the prompt: context, blank line, question, 'Answer:'") {
  const QaItem item{"", "Ada lives in Oslo.", "Where does Ada live?", {"Oslo"}};
  CHECK(qa_prompt(item) == "Ada lives in Oslo.\n\nQuestion: Where does Ada live?\nAnswer:");
}

TEST_CASE("reading items: fields, optional id, blank lines, unanswerable") {
  const auto items = parse(
      R"({"id": "q1", "context": "c1", "question": "q?", "answers": ["a", "b"], "title": "ignored"})"
      "\n\n"
      R"({"id": 7, "context": "c2", "question": "q2?", "answers": []})"
      "\n");
  REQUIRE(items.size() == 2);
  CHECK(items[0].id == "q1");
  CHECK(items[0].answers == std::vector<std::string>{"a", "b"});
  CHECK(items[0].answerable());
  CHECK(items[1].id == "7");
  CHECK_FALSE(items[1].answerable());
}

TEST_CASE("reading items: errors name the file, the line and the field") {
  const std::string good = R"({"context": "c", "question": "q?", "answers": ["a"]})";
  auto message = [&](const std::string& bad) {
    try {
      parse(good + "\n\n" + bad + "\n");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message(R"({"question": "q?", "answers": []})") == "qa.jsonl:3: field 'context': missing");
  CHECK(message(R"({"context": "c", "question": 5, "answers": []})") ==
        "qa.jsonl:3: field 'question': expected a string, got number");
  CHECK(message(R"({"context": "c", "question": " ", "answers": []})") == "qa.jsonl:3: field 'question': empty");
  CHECK(message(R"({"context": "c", "question": "q?", "answers": "a"})") ==
        "qa.jsonl:3: field 'answers': expected a list of strings, got string");
  CHECK(message(R"({"context": "c", "question": "q?", "answers": ["a", 2]})") ==
        "qa.jsonl:3: field 'answers': expected a list of strings, element 1 is number");
  CHECK(message(R"({"context": "c", "question": "q?"})") == "qa.jsonl:3: field 'answers': missing");
  CHECK(message(R"({"id": [1], "context": "c", "question": "q?", "answers": []})") ==
        "qa.jsonl:3: field 'id': expected a string or a number, got array");
  CHECK(message(R"({"context": "c", )") == "qa.jsonl:3: not valid JSON (one object per line expected)");
  CHECK(message(R"(["c", "q"])") == "qa.jsonl:3: expected a JSON object, got array");
}

TEST_CASE("reading a file: a missing file is an error naming it") {
  CHECK_THROWS_WITH_AS(read_qa_items("/nonexistent/qa.jsonl"), "cannot open the QA file /nonexistent/qa.jsonl",
                       Error);
}

}  // namespace birdie::data::tasks
