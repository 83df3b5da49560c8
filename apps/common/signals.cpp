#include "apps/common/signals.h"

#include <atomic>
#include <csignal>
#include <unistd.h>

namespace birdie::apps {

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
}

bool stop_requested() { return signals_seen.load() > 0; }

}  // namespace birdie::apps
