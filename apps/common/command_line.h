// The command line of every program: its flags (CLI11 underneath), --help, and errors in
// one style. A bad command line prints one line naming the program and the flag,
//     generate: unknown option '--bogus' (see --help)
//     phonebook_eval: --books takes whole numbers ≥ 1, got '0' (see --help)
// on stderr and exits with exit_bad_input (2: a flag to fix, engine/exit_codes.h); --help
// (or -h) prints the flags on stdout and exits 0.
//
// Values are read by readers that throw UsageError naming the flag; a program's own checks
// after parsing (flags that must go together, ranges) call fail() or throw UsageError
// inside check().
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace birdie::apps {

// A flag or a value to fix; the message names the flag.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class CommandLine {
 public:
  // `description`: one line, first in --help.
  CommandLine(std::string program, const std::string& description);
  ~CommandLine();
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  // A flag with a value (`value_name` in --help, e.g. "DIR"): `read` takes the text and
  // throws UsageError when it is bad. Given twice, the last one counts.
  CLI::Option* option(const std::string& flag, const std::string& value_name, const std::string& help,
                      std::function<void(const std::string& text)> read);
  // The text as given.
  CLI::Option* option(const std::string& flag, std::string& target, const std::string& value_name,
                      const std::string& help);
  CLI::Option* option(const std::string& flag, std::optional<std::filesystem::path>& target,
                      const std::string& value_name, const std::string& help);
  // `target = read(flag, text)`: the readers below, or a program's own.
  template <class T, class Read>
  CLI::Option* option(const std::string& flag, T& target, Read read, const std::string& value_name,
                      const std::string& help) {
    return option(flag, value_name, help, [&target, read, flag](const std::string& text) { target = read(flag, text); });
  }
  // A flag that may be given many times (--set a=1 --set b=2): `read` takes each value in order.
  CLI::Option* repeated(const std::string& flag, const std::string& value_name, const std::string& help,
                        std::function<void(const std::string& text)> read);
  // A flag without a value: sets `target` to true.
  CLI::Option* flag(const std::string& flag, bool& target, const std::string& help);
  // A flag without a value that runs `act`.
  CLI::Option* flag(const std::string& flag, const std::string& help, std::function<void()> act);
  // A value without a flag (the first word that is not a flag), e.g. CONFIG.toml.
  CLI::Option* positional(const std::string& name, std::string& target, const std::string& help);

  // Lines printed at the end of --help (what a flag's words mean, modes, protocols).
  void footer(const std::string& text);
  // Runs after the flags are read, before parse() returns: checks between flags. A
  // UsageError it throws exits as fail() does.
  void check(std::function<void()> check);

  // Reads the command line; exits 0 after --help, exit_bad_input after a bad one.
  void parse(int argc, char** argv);
  // Whether the flag was on the command line.
  bool given(const std::string& flag) const;
  // "<program>: <problem> (see --help)" on stderr, exit code exit_bad_input.
  [[noreturn]] void fail(const std::string& problem) const;

  const std::string& program() const { return program_; }
  CLI::App& app() { return *app_; }

 private:
  std::string program_;
  std::unique_ptr<CLI::App> app_;
  std::vector<std::function<void()>> checks_;
};

// Readers: each takes (flag, text) and throws UsageError naming the flag.
// A whole number ≥ minimum (at most 10^9).
int whole_number(const std::string& flag, const std::string& text, int minimum);
// A comma-separated list of whole numbers ≥ 1.
std::vector<int> whole_numbers(const std::string& flag, const std::string& text);
// A range "MIN,MAX" (or "N" for N,N) of whole numbers ≥ 1, MIN ≤ MAX.
std::pair<int, int> whole_range(const std::string& flag, const std::string& text);
// A finite number ≥ minimum.
double number(const std::string& flag, const std::string& text, double minimum);
// A 64-bit seed (a whole number ≥ 0).
std::uint64_t seed_number(const std::string& flag, const std::string& text);
// A number > 0, "needs a positive number" otherwise (infinity passes).
double positive_number(const std::string& flag, const std::string& text);
// A number that is not negative, "needs a non-negative number" otherwise (NaN passes).
double non_negative_number(const std::string& flag, const std::string& text);

// The same as readers for CommandLine::option: cli.option("--books", o.books, at_least(1), ...).
inline auto at_least(int minimum) {
  return [minimum](const std::string& flag, const std::string& text) { return whole_number(flag, text, minimum); };
}
inline auto number_at_least(double minimum) {
  return [minimum](const std::string& flag, const std::string& text) { return number(flag, text, minimum); };
}
// `read`'s number cast to T, so "2.5" is a count of 2: cli.option("--rows", rows, as<std::int64_t>(positive_number), ...).
template <class T, class Read>
auto as(Read read) {
  return [read](const std::string& flag, const std::string& text) { return static_cast<T>(read(flag, text)); };
}

}  // namespace birdie::apps
