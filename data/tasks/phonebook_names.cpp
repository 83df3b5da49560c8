// Built-in name lists for the phone book (docs/method.md §6): common US first and last names,
// one a line in data/tasks/phonebook_{first,last}_names.txt (compiled in by
// data/CMakeLists.txt), in the order books index them.
#include "data/tasks/phonebook.h"

namespace birdie::data::tasks {
namespace {

constexpr std::string_view first_name_lines =
#include "data/tasks/phonebook_first_names.inc"
    ;
constexpr std::string_view last_name_lines =
#include "data/tasks/phonebook_last_names.inc"
    ;

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    if (end > 0) lines.push_back(text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return lines;
}

}  // namespace

const std::vector<std::string_view>& first_names() {
  static const std::vector<std::string_view> names = split_lines(first_name_lines);
  return names;
}

const std::vector<std::string_view>& last_names() {
  static const std::vector<std::string_view> names = split_lines(last_name_lines);
  return names;
}

}  // namespace birdie::data::tasks
