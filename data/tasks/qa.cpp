#include "data/tasks/qa.h"

#include <algorithm>
#include <map>

#include "data/tasks/jsonl_fields.h"

namespace birdie::data::tasks {

std::vector<QaItem> parse_qa_items(std::istream& in, const std::string& source) {
  return jsonl::parse_items<QaItem>(in, source, [](QaItem& item, const nlohmann::json& j, const jsonl::Place& at) {
    item.context = jsonl::string_field(j, at, "context");
    item.question = jsonl::string_field(j, at, "question");
    if (item.question.find_first_not_of(" \t\r\n") == std::string::npos) jsonl::fail(at, "question", "empty");
    item.answers = jsonl::string_list_field(j, at, "answers");
  });
}

std::vector<QaItem> read_qa_items(const std::filesystem::path& path) {
  return jsonl::read_file(path, "QA", "items", parse_qa_items);
}

std::string qa_prompt(const QaItem& item) {
  return item.context + "\n\nQuestion: " + item.question + "\nAnswer:";
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_punctuation(char c) {  // Python's string.punctuation
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
}

std::vector<std::string> normalized_words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (!word.empty() && word != "a" && word != "an" && word != "the") words.push_back(word);
    word.clear();
  };
  for (char c : text) {
    if (is_space(c)) flush();
    else if (!is_punctuation(c)) word += (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
  }
  flush();
  return words;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

}  // namespace

std::string normalize_answer(std::string_view text) { return join(normalized_words(text)); }

bool answer_contains(std::string_view prediction, std::string_view gold) {
  auto padded = [](std::string_view text) {  // " words ", so that only whole words match
    std::string out(1, ' ');
    out += normalize_answer(text);
    out += ' ';
    return out;
  };
  return padded(prediction).find(padded(gold)) != std::string::npos;
}

double token_f1(std::string_view prediction, std::string_view gold) {
  const auto p = normalized_words(prediction), g = normalized_words(gold);
  if (p.empty() || g.empty()) return p.empty() && g.empty() ? 1.0 : 0.0;
  std::map<std::string, int> counts;
  for (const auto& w : g) ++counts[w];
  int common = 0;
  for (const auto& w : p)
    if (auto it = counts.find(w); it != counts.end() && it->second > 0) {
      --it->second;
      ++common;
    }
  if (common == 0) return 0.0;
  const double precision = double(common) / double(p.size()), recall = double(common) / double(g.size());
  return 2 * precision * recall / (precision + recall);
}

bool exact_match(std::string_view prediction, std::string_view gold) {
  return normalize_answer(prediction) == normalize_answer(gold);
}

bool is_abstention(std::string_view prediction) {
  const std::string n = normalize_answer(prediction);
  return n.empty() || n == "unanswerable";
}

QaScore score_answer(std::string_view prediction, const std::vector<std::string>& answers) {
  QaScore s;
  if (answers.empty()) {
    const bool abstained = is_abstention(prediction);
    return {abstained, abstained, abstained ? 1.0 : 0.0};
  }
  for (const auto& gold : answers) {
    s.contains = s.contains || answer_contains(prediction, gold);
    s.exact = s.exact || exact_match(prediction, gold);
    s.f1 = std::max(s.f1, token_f1(prediction, gold));
  }
  return s;
}

}  // namespace birdie::data::tasks
