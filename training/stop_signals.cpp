#include "training/stop_signals.h"

#include <atomic>
#include <csignal>
#include <unistd.h>

namespace birdie::training {

namespace {
std::atomic<int> signals_seen{0};

void on_signal(int signal) {
  if (signals_seen.fetch_add(1) >= 1) _exit(128 + signal);  // asked twice: stop now
  constexpr char message[] = "\nstop requested: finishing this step and writing a checkpoint "
                             "(signal again to exit at once)\n";
  (void)!write(STDERR_FILENO, message, sizeof message - 1);
}
}  // namespace

void install_stop_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  // A file-size limit (ulimit -f) reached while writing: the write returns EFBIG and the
  // run reports it (exit code 4) instead of being killed with a core dump.
  std::signal(SIGXFSZ, SIG_IGN);
}

bool stop_requested() { return signals_seen.load() > 0; }

}  // namespace birdie::training
