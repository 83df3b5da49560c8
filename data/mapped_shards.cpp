#include "data/mapped_shards.h"

#include <setjmp.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>

#include "engine/io_error.h"

namespace birdie::data {
namespace {

// A fixed table the signal handler can read without locks: a slot is published by storing
// its begin last (release) and read by loading it first (acquire).
struct Slot {
  std::atomic<const char*> begin{nullptr};
  std::size_t size = 0;
  char path[480] = "";
};
constexpr std::size_t slot_count = 1024;
Slot slots[slot_count];
std::mutex registering;
struct sigaction previous {};

// The innermost read_guarded of this thread (SIGBUS is delivered to the thread that
// faulted), and the path of the shard that failed in it.
thread_local sigjmp_buf* recovery = nullptr;
thread_local const char* failed_path = nullptr;

constexpr const char* lost_shard_consequence =
    " any more: its file was truncated or rewritten, or its file system failed, while this process was reading it. "
    "The checkpoints written so far are intact. Fix: restore the data folder (prepare_data writes it again, the same "
    "for the same corpus and options) and --resume";

void write_text(const char* text) { (void)!::write(STDERR_FILENO, text, std::strlen(text)); }

void on_bus_error(int signal, siginfo_t* info, void* context) {
  const char* address = static_cast<const char*>(info->si_addr);
  for (const Slot& slot : slots) {
    const char* begin = slot.begin.load(std::memory_order_acquire);
    if (!begin || address < begin || address >= begin + slot.size) continue;
    if (recovery) {
      failed_path = slot.path;
      siglongjmp(*recovery, 1);
    }
    write_text("\n");
    write_text(program_invocation_short_name);  // the program, as its other errors begin
    write_text(": cannot read the token shard ");
    write_text(slot.path);
    write_text(lost_shard_consequence);
    write_text("\n");
    ::_exit(4);  // exit_io, engine/exit_codes.h
  }
  // Not a shard: what would have happened without this handler.
  ::sigaction(SIGBUS, &previous, nullptr);
  if (!(previous.sa_flags & SA_SIGINFO) && previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN)
    previous.sa_handler(signal);
  else if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction)
    previous.sa_sigaction(signal, info, context);
  // SIG_DFL: returning re-runs the faulting read, which now ends the process as SIGBUS does.
}

}  // namespace

void register_mapped_shard(const void* begin, std::size_t size, const std::filesystem::path& path) {
  const std::lock_guard<std::mutex> lock(registering);
  static const bool installed = [] {
    struct sigaction action {};
    action.sa_sigaction = on_bus_error;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    return ::sigaction(SIGBUS, &action, &previous) == 0;
  }();
  (void)installed;
  for (Slot& slot : slots) {
    if (slot.begin.load(std::memory_order_relaxed)) continue;
    slot.size = size;
    std::strncpy(slot.path, path.c_str(), sizeof slot.path - 1);
    slot.path[sizeof slot.path - 1] = '\0';
    slot.begin.store(static_cast<const char*>(begin), std::memory_order_release);
    return;
  }
  // More shards than slots: the others still fail with SIGBUS, unnamed.
}

void read_guarded(void (*read)(void* context), void* context) {
  sigjmp_buf here;
  sigjmp_buf* const outer = recovery;
  if (sigsetjmp(here, 1) != 0) {  // back from the handler: the read faulted
    recovery = outer;
    throw IoError(std::string("cannot read the token shard ") + failed_path + lost_shard_consequence);
  }
  recovery = &here;
  read(context);
  recovery = outer;
}

void forget_mapped_shard(const void* begin) {
  const std::lock_guard<std::mutex> lock(registering);
  for (Slot& slot : slots)
    if (slot.begin.load(std::memory_order_relaxed) == begin) slot.begin.store(nullptr, std::memory_order_release);
}

}  // namespace birdie::data
