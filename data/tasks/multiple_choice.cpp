#include "data/tasks/multiple_choice.h"

#include "data/tasks/jsonl_fields.h"

namespace birdie::data::tasks {

std::vector<ChoiceItem> parse_choice_items(std::istream& in, const std::string& source) {
  return jsonl::parse_items<ChoiceItem>(in, source, [](ChoiceItem& item, const nlohmann::json& j,
                                                       const jsonl::Place& at) {
    item.prompt = jsonl::string_field(j, at, "prompt");
    item.choices = jsonl::string_list_field(j, at, "choices");
    if (item.choices.size() < 2)
      jsonl::fail(at, "choices", detail::concat("needs at least 2 choices, got ", item.choices.size()));
    for (std::size_t i = 0; i < item.choices.size(); ++i)
      if (item.choices[i].find_first_not_of(" \t\r\n") == std::string::npos)
        jsonl::fail(at, "choices", detail::concat("choice ", i, " is empty"));
    const auto& label = jsonl::required(j, at, "label");
    if (!label.is_number_integer())
      jsonl::fail(at, "label", std::string("expected a whole number (the right choice's index), got ") +
                                   (label.is_number() ? "a fraction" : label.type_name()));
    const auto index = label.get<long long>();
    if (index < 0 || index >= static_cast<long long>(item.choices.size()))
      jsonl::fail(at, "label", detail::concat(index, " is not a choice index (0 to ", item.choices.size() - 1,
                                              ")"));
    item.label = static_cast<int>(index);
  });
}

std::vector<ChoiceItem> read_choice_items(const std::filesystem::path& path) {
  return jsonl::read_file(path, "multiple-choice", "items", parse_choice_items);
}

}  // namespace birdie::data::tasks
