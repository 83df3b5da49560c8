// Multiple-choice items (the paper's §4.5 story-infilling evaluation): a prompt, two or
// more candidate continuations and the index of the right one, read from JSONL:
//
//   {"prompt": "...", "choices": ["...", "...", ...], "label": INDEX, "id": optional}
//
// Other fields are ignored.
#pragma once

#include <filesystem>
#include <istream>
#include <string>
#include <vector>

namespace birdie::data::tasks {

struct ChoiceItem {
  std::string id;  // "" when the line has none
  std::string prompt;
  std::vector<std::string> choices;  // at least 2, none empty
  int label = 0;                     // index into choices
};

// Errors name the source, the line and the field ("choices.jsonl:4: field 'label': ...").
std::vector<ChoiceItem> parse_choice_items(std::istream& in, const std::string& source);
std::vector<ChoiceItem> read_choice_items(const std::filesystem::path& path);

}  // namespace birdie::data::tasks
