// Reading task files in JSONL (one JSON object per line) for the evaluators: every error
// names the file, the line and the field, e.g. "qa.jsonl:7: field 'answers': expected a
// list of strings". Private to data/tasks/*.cpp (the headers stay free of nlohmann/json).
#pragma once

#include <filesystem>
#include <fstream>
#include <istream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/error.h"

namespace birdie::data::tasks::jsonl {

// Where a line came from, for messages.
struct Place {
  const std::string& source;
  int line;
};

[[noreturn]] inline void fail(const Place& at, const std::string& field, const std::string& problem) {
  throw Error(detail::concat(at.source, ":", at.line, ": field '", field, "': ", problem));
}

// Calls `item(object, place)` for each non-blank line; a line that is not a JSON object is
// an error naming the line. Returns the number of objects read.
template <class Fn>
int for_each_object(std::istream& in, const std::string& source, Fn&& item) {
  std::string text;
  int count = 0;
  for (int number = 1; std::getline(in, text); ++number) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded())
      throw Error(detail::concat(source, ":", number, ": not valid JSON (one object per line expected)"));
    if (!j.is_object())
      throw Error(detail::concat(source, ":", number, ": expected a JSON object, got ", j.type_name()));
    item(j, Place{source, number});
    ++count;
  }
  return count;
}

inline const nlohmann::json& required(const nlohmann::json& j, const Place& at, const std::string& field) {
  const auto it = j.find(field);
  if (it == j.end()) fail(at, field, "missing");
  return *it;
}

inline std::string string_field(const nlohmann::json& j, const Place& at, const std::string& field) {
  const auto& v = required(j, at, field);
  if (!v.is_string()) fail(at, field, std::string("expected a string, got ") + v.type_name());
  return v.get<std::string>();
}

inline std::vector<std::string> string_list_field(const nlohmann::json& j, const Place& at, const std::string& field) {
  const auto& v = required(j, at, field);
  if (!v.is_array()) fail(at, field, std::string("expected a list of strings, got ") + v.type_name());
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string())
      fail(at, field, detail::concat("expected a list of strings, element ", i, " is ", v[i].type_name()));
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

// An optional identifier: a string or a number (kept as text), "" when absent.
inline std::string optional_id(const nlohmann::json& j, const Place& at) {
  const auto it = j.find("id");
  if (it == j.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  fail(at, "id", std::string("expected a string or a number, got ") + it->type_name());
}

// One Item per object, in order: its optional "id", then fill(item, object, place) reads
// the rest.
template <class Item, class Fill>
std::vector<Item> parse_items(std::istream& in, const std::string& source, Fill&& fill) {
  std::vector<Item> items;
  for_each_object(in, source, [&](const nlohmann::json& j, const Place& at) {
    Item item;
    item.id = optional_id(j, at);
    fill(item, j, at);
    items.push_back(std::move(item));
  });
  return items;
}

// A whole file read by parse(stream, source); an error when it cannot be opened ("cannot
// open the <what> file ...") or holds nothing ("<file>: no <items>").
template <class Parse>
auto read_file(const std::filesystem::path& path, const char* what, const char* items, Parse&& parse) {
  std::ifstream in(path);
  if (!in.good()) throw Error(detail::concat("cannot open the ", what, " file ", path.string()));
  auto read = parse(in, path.string());
  if (read.empty()) throw Error(detail::concat(path.string(), ": no ", items));
  return read;
}

}  // namespace birdie::data::tasks::jsonl
