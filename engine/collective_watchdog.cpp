#include "engine/collective_watchdog.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "engine/error.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#endif

namespace birdie::distributed {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The blocking collective the main thread is in (only the main thread calls MPI).
std::atomic<const char*> g_waiting_on{nullptr};
std::atomic<Clock::rep> g_waiting_since{0};
std::atomic<bool> g_running{false};

#ifdef BIRDIE_WITH_CUDA
struct WatchedEvent {
  cudaEvent_t event;
  const char* what;
  Clock::time_point queued;
};
std::mutex g_events_mutex;
std::deque<WatchedEvent> g_events;  // in queue order per stream; checked oldest first
#endif

[[noreturn]] void end_job(int rank, int size, const char* what, double waited, double timeout) {
  std::fprintf(stderr,
               "rank %d of %d: the %s has waited %.0f s for the other ranks (BIRDIE_COLLECTIVE_TIMEOUT=%.0f): "
               "a rank has hung, been stopped or died. Ending the job; resume from the last checkpoint.\n",
               rank, size, what, waited, timeout);
  std::fflush(stderr);
  std::_Exit(124);  // mpirun and srun --kill-on-bad-exit end the other ranks
}

void watch(int rank, int size, double timeout) {
  for (;;) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    if (const char* what = g_waiting_on.load()) {
      const double waited = seconds_since(Clock::time_point(Clock::duration(g_waiting_since.load())));
      // Re-read: the collective may have ended while the time was taken.
      if (waited > timeout && g_waiting_on.load() == what) end_job(rank, size, what, waited, timeout);
    }
#ifdef BIRDIE_WITH_CUDA
    std::lock_guard lock(g_events_mutex);
    while (!g_events.empty()) {
      const WatchedEvent& oldest = g_events.front();
      if (cudaEventQuery(oldest.event) == cudaErrorNotReady) {
        const double waited = seconds_since(oldest.queued);
        if (waited > timeout) end_job(rank, size, oldest.what, waited, timeout);
        break;
      }
      cudaEventDestroy(oldest.event);
      g_events.pop_front();
    }
#endif
  }
}

}  // namespace

double collective_timeout_seconds() {
  const char* text = std::getenv("BIRDIE_COLLECTIVE_TIMEOUT");
  if (text == nullptr || *text == '\0') return 1800;
  char* end = nullptr;
  const double seconds = std::strtod(text, &end);
  BIRDIE_CHECK(end != text && *end == '\0' && seconds >= 0, "BIRDIE_COLLECTIVE_TIMEOUT=\"", text,
               "\" is not a number of seconds ≥ 0 (0 turns the collective timeout off)");
  return seconds;
}

void start_collective_watchdog(int rank, int size) {
  static std::once_flag once;
  std::call_once(once, [&] {
    const double timeout = collective_timeout_seconds();
    if (timeout <= 0) return;
    g_running = true;
    std::thread(watch, rank, size, timeout).detach();
  });
}

CollectiveWait::CollectiveWait(const char* what) {
  g_waiting_since.store(Clock::now().time_since_epoch().count());
  g_waiting_on.store(what);
}

CollectiveWait::~CollectiveWait() { g_waiting_on.store(nullptr); }

#ifdef BIRDIE_WITH_CUDA
void watch_stream(void* stream, const char* what) {
  if (!g_running) return;
  cudaEvent_t event;
  BIRDIE_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  BIRDIE_CUDA_CHECK(cudaEventRecord(event, static_cast<cudaStream_t>(stream)));
  std::lock_guard lock(g_events_mutex);
  g_events.push_back({event, what, Clock::now()});
}
#endif

}  // namespace birdie::distributed
