#include "apps/common/command_line.h"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>

#include "engine/exit_codes.h"

namespace birdie::apps {

CommandLine::CommandLine(std::string program, const std::string& description)
    : program_(std::move(program)), app_(std::make_unique<CLI::App>(description, program_)) {
  // Words that are no flag of the program are reported by parse(), naming the first one.
  app_->allow_extras();
  app_->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)->group("flags");
  app_->set_help_flag("-h,--help", "print these flags and exit");
  auto formatter = std::make_shared<CLI::Formatter>();
  formatter->label("Usage", "usage");
  formatter->label("OPTIONS", "FLAGS");
  formatter->label("Positionals", "arguments");
  formatter->column_width(34);
  app_->formatter(formatter);
}

CommandLine::~CommandLine() = default;

CLI::Option* CommandLine::option(const std::string& flag, const std::string& value_name, const std::string& help,
                                 std::function<void(const std::string& text)> read) {
  return app_->add_option_function<std::string>(flag, std::move(read), help)->type_name(value_name);
}

CLI::Option* CommandLine::option(const std::string& flag, std::string& target, const std::string& value_name,
                                 const std::string& help) {
  return option(flag, value_name, help, [&target](const std::string& text) { target = text; });
}

CLI::Option* CommandLine::option(const std::string& flag, std::optional<std::filesystem::path>& target,
                                 const std::string& value_name, const std::string& help) {
  return option(flag, value_name, help, [&target](const std::string& text) { target = text; });
}

CLI::Option* CommandLine::repeated(const std::string& flag, const std::string& value_name, const std::string& help,
                                   std::function<void(const std::string& text)> read) {
  CLI::Option* option = app_->add_option(
      flag,
      [read](const CLI::results_t& values) {
        for (const std::string& value : values) read(value);
        return true;
      },
      help);
  return option->type_name(value_name)->type_size(1)->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

CLI::Option* CommandLine::flag(const std::string& flag, bool& target, const std::string& help) {
  return app_->add_flag_callback(flag, [&target] { target = true; }, help);
}

CLI::Option* CommandLine::flag(const std::string& flag, const std::string& help, std::function<void()> act) {
  return app_->add_flag_callback(flag, std::move(act), help);
}

CLI::Option* CommandLine::positional(const std::string& name, std::string& target, const std::string& help) {
  return app_->add_option(name, target, help)->type_name("");
}

void CommandLine::footer(const std::string& text) { app_->footer(text); }

void CommandLine::check(std::function<void()> check) { checks_.push_back(std::move(check)); }

bool CommandLine::given(const std::string& flag) const { return app_->count(flag) > 0; }

void CommandLine::fail(const std::string& problem) const {
  std::fprintf(stderr, "%s: %s (see --help)\n", program_.c_str(), problem.c_str());
  std::exit(exit_bad_input);
}

namespace {

// CLI11's words for a flag given without its value, "--x: 1 required DIR missing", as the
// programs have always said it.
std::string reworded(const CLI::ParseError& error) {
  const std::string what = error.what();
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&error)) {
    const auto colon = what.find(": ");
    if (colon != std::string::npos && what.ends_with(" missing")) return "missing value after " + what.substr(0, colon);
  }
  return what;
}

}  // namespace

void CommandLine::parse(int argc, char** argv) {
  try {
    app_->parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app_->help().c_str(), stdout);
    std::exit(exit_done);
  } catch (const CLI::ParseError& e) {
    fail(reworded(e));
  } catch (const UsageError& e) {  // a reader's
    fail(e.what());
  }
  const std::vector<std::string> left = app_->remaining();
  if (!left.empty()) {
    const std::string& word = left.front();
    if (word.size() > 1 && word[0] == '-') fail("unknown option '" + word.substr(0, word.find('=')) + "'");
    fail("unexpected argument '" + word + "'");
  }
  try {
    for (const auto& check : checks_) check();
  } catch (const UsageError& e) {
    fail(e.what());
  }
}

int whole_number(const std::string& flag, const std::string& text, int minimum) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE || v < minimum || v > 1'000'000'000)
    throw UsageError(flag + " takes whole numbers ≥ " + std::to_string(minimum) + ", got '" + text + "'");
  return static_cast<int>(v);
}

std::vector<int> whole_numbers(const std::string& flag, const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(whole_number(flag, item, 1));
  if (out.empty()) throw UsageError(flag + " takes positive whole numbers separated by commas");
  return out;
}

std::pair<int, int> whole_range(const std::string& flag, const std::string& text) {
  const std::vector<int> v = whole_numbers(flag, text);
  if (v.size() > 2) throw UsageError(flag + " takes MIN,MAX");
  if (v.front() > v.back()) throw UsageError(flag + " " + text + ": the range is empty (MIN > MAX)");
  return {v.front(), v.back()};
}

namespace {
// strtod's number when it reads the whole text.
std::optional<double> whole_text_number(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') return std::nullopt;
  return v;
}
}  // namespace

double number(const std::string& flag, const std::string& text, double minimum) {
  const std::optional<double> found = whole_text_number(text);
  const double v = found.value_or(0);
  if (!found || !(v >= minimum) || !std::isfinite(v)) {
    char shown[32];
    std::snprintf(shown, sizeof shown, "%g", minimum);
    throw UsageError(flag + " needs a number ≥ " + shown + ", got '" + text + "'");
  }
  return v;
}

std::uint64_t seed_number(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text[0] == '-' || *end != '\0' || errno == ERANGE)
    throw UsageError(flag + " takes a whole number ≥ 0 (a 64-bit seed), got '" + text + "'");
  return v;
}

double positive_number(const std::string& flag, const std::string& text) {
  const std::optional<double> v = whole_text_number(text);
  if (!v || !(*v > 0)) throw UsageError(flag + " needs a positive number, got '" + text + "'");
  return *v;
}

double non_negative_number(const std::string& flag, const std::string& text) {
  const std::optional<double> v = whole_text_number(text);
  if (!v || *v < 0) throw UsageError(flag + " needs a non-negative number, got '" + text + "'");
  return *v;
}

}  // namespace birdie::apps
