#include "apps/common/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <thread>

#include "engine/error.h"

namespace birdie::apps {
namespace {

volatile sig_atomic_t stop_signal = 0;
void remember_signal(int signal) { stop_signal = signal; }

}  // namespace

std::filesystem::path executable_folder() {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path();
}

std::string tail_lines(const std::filesystem::path& path, int lines) {
  std::ifstream in(path);
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    // Progress written with carriage returns: keep the last segment.
    if (const auto cr = line.find_last_of('\r'); cr != std::string::npos) line.erase(0, cr + 1);
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    last.push_back(line);
    if (static_cast<int>(last.size()) > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += (out.empty() ? "" : "\n") + l;
  return out;
}

int run_logged(const std::filesystem::path& program, const std::vector<std::string>& arguments,
               const std::filesystem::path& log, const std::function<void(const std::string&)>& on_progress,
               std::chrono::seconds every) {
  BIRDIE_CHECK(std::filesystem::exists(program), "cannot run ", program.string(),
               ": it does not exist. Fix: build every program (bash scripts/build.sh)");
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  BIRDIE_CHECK(fd >= 0, "cannot open log ", log.string(), ": ", std::strerror(errno));
  std::vector<std::string> storage{program.string()};
  storage.insert(storage.end(), arguments.begin(), arguments.end());
  std::vector<char*> argv;
  for (auto& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fd);
    throw Error(detail::concat("cannot start ", program.string(), ": ", std::strerror(errno)));
  }
  if (pid == 0) {
    // Its own process group: a Ctrl-C on the terminal reaches this process only, which
    // passes it on once (a second SIGINT would make pretrain exit without its checkpoint).
    ::setpgid(0, 0);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fd);
  struct sigaction forward {}, old_int {}, old_term {};
  forward.sa_handler = remember_signal;
  sigemptyset(&forward.sa_mask);
  stop_signal = 0;
  ::sigaction(SIGINT, &forward, &old_int);
  ::sigaction(SIGTERM, &forward, &old_term);
  bool forwarded = false;
  auto next_report = std::chrono::steady_clock::now() + every;
  std::string reported;
  int status = 0;
  while (true) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) throw Error(detail::concat("waiting for ", program.string(), ": ", std::strerror(errno)));
    if (stop_signal != 0 && !forwarded) {
      ::kill(pid, stop_signal);
      forwarded = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (std::chrono::steady_clock::now() >= next_report) {
      if (std::string last = tail_lines(log, 1); last != reported) on_progress(reported = std::move(last));
      next_report += every;
    }
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace birdie::apps
