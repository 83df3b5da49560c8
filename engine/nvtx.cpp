#include "engine/nvtx.h"

#include <algorithm>
#include <map>
#include <mutex>

namespace birdie::host_times {

namespace {

std::mutex mutex;
std::map<std::string, Entry>& totals() {
  static std::map<std::string, Entry> by_name;
  return by_name;
}

}  // namespace

void enable(bool on) { enabled.store(on, std::memory_order_relaxed); }

void record(const char* name, double seconds) {
  std::lock_guard lock(mutex);
  Entry& e = totals()[name];
  if (e.name.empty()) e.name = name;
  ++e.calls;
  e.seconds += seconds;
}

std::vector<Entry> take() {
  std::lock_guard lock(mutex);
  std::vector<Entry> entries;
  for (auto& [name, entry] : totals()) entries.push_back(entry);
  totals().clear();
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.seconds > b.seconds; });
  return entries;
}

}  // namespace birdie::host_times
