// Extractive question answering in the SQuAD v2 layout (the paper's §4.4 evaluation): items
// read from JSONL, the prompt the model reads, and SQuAD-style scoring of a generated answer.
//
//   {"context": "...", "question": "...", "answers": ["...", ...], "id": optional}
//
// An empty `answers` list marks an unanswerable question. Other fields are ignored.
#pragma once

#include <filesystem>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace birdie::data::tasks {

struct QaItem {
  std::string id;  // "" when the line has none
  std::string context, question;
  std::vector<std::string> answers;  // empty: unanswerable
  bool answerable() const { return !answers.empty(); }
};

// Errors name the source, the line and the field ("qa.jsonl:3: field 'answers': ...").
std::vector<QaItem> parse_qa_items(std::istream& in, const std::string& source);
std::vector<QaItem> read_qa_items(const std::filesystem::path& path);

// The prompt (read bidirectionally, before <sg>):
//   {context}\n\nQuestion: {question}\nAnswer:
std::string qa_prompt(const QaItem& item);

// SQuAD's normalization: lowercase (ASCII), remove ASCII punctuation, remove the articles
// "a", "an", "the" as whole words, collapse whitespace (single spaces, none at the ends).
std::string normalize_answer(std::string_view text);

// Whether the normalized prediction contains the normalized gold answer as a run of whole
// words ("the Eiffel Tower, Paris" contains "Eiffel Tower"; "concatenate" does not contain
// "cat"). A gold answer that normalizes to nothing is contained only in an empty prediction.
bool answer_contains(std::string_view prediction, std::string_view gold);

// SQuAD token F1 between normalized word bags: 2PR/(P+R) over the shared words (counted
// with multiplicity); when either side is empty, 1 if both are, else 0.
double token_f1(std::string_view prediction, std::string_view gold);

// Exact match after normalization.
bool exact_match(std::string_view prediction, std::string_view gold);

// An abstention: a prediction that normalizes to nothing or to "unanswerable".
bool is_abstention(std::string_view prediction);

// One item's scores: maxima over the gold answers. For an unanswerable item every metric
// is 1 when the prediction is an abstention and 0 otherwise.
struct QaScore {
  bool contains = false;
  bool exact = false;
  double f1 = 0;
};
QaScore score_answer(std::string_view prediction, const std::vector<std::string>& answers);

}  // namespace birdie::data::tasks
