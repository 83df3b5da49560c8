// Runs another program of the project as a child process, its output appended to a log
// file, for drivers that chain whole runs (apps/experiment): each step stays an ordinary,
// resumable invocation of pretrain or an evaluator.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace birdie::apps {

// The folder of the running executable (its sibling programs live there).
std::filesystem::path executable_folder();

// Runs `program` with `arguments`, stdout and stderr appended to `log`. While it runs,
// `on_progress(last line of the log)` is called every `every` when that line is new.
// Returns the exit code (128 + signal number when a signal ended it). SIGINT or SIGTERM
// received meanwhile is passed on to the child once (it runs in its own process group),
// which is how an interrupted pretrain still writes its checkpoint.
int run_logged(const std::filesystem::path& program, const std::vector<std::string>& arguments,
               const std::filesystem::path& log, const std::function<void(const std::string&)>& on_progress,
               std::chrono::seconds every = std::chrono::seconds(15));

// The last `lines` non-empty lines of a text file ("" when it cannot be read).
std::string tail_lines(const std::filesystem::path& path, int lines);

}  // namespace birdie::apps
