#include "engine/distributed.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include <omp.h>

#include "engine/collective_watchdog.h"
#include "engine/distributed_nccl.h"
#include "engine/error.h"

#ifdef BIRDIE_WITH_MPI
#include <mpi.h>
#endif
#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#endif

namespace birdie::distributed {

namespace {

World g_world;
[[maybe_unused]] bool g_mpi = false;  // this process joined an MPI job

// The world size a launcher announced, or 0 when no launcher started this process.
int launcher_world_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char* value = std::getenv(name)) return std::atoi(value);
  // srun with PMIx names the rank; its task count is then the job's size. (SLURM_NTASKS
  // alone also holds inside a batch script that did not start this process through srun.)
  if (std::getenv("PMIX_RANK") != nullptr) {
    const char* tasks = std::getenv("SLURM_NTASKS");
    return tasks != nullptr ? std::atoi(tasks) : -1;
  }
  return 0;
}

bool nccl_forced() {
  static const bool forced = [] {
    const char* value = std::getenv("BIRDIE_NCCL");
    const bool asked = value != nullptr && std::string_view(value) == "1";
    if (asked && !built_with_nccl())
      std::fprintf(stderr, "warning: BIRDIE_NCCL=1 is ignored: this build has no NCCL (it comes with the CUDA "
                           "toolkit: rebuild where nccl.h and libnccl are found)\n");
    return asked;
  }();
  return forced && built_with_nccl();
}

// Whether a tensor's collective goes through NCCL: CUDA tensors whenever collectives run.
bool through_nccl(const Tensor& t) {
  if (t.is_cpu() || !collectives_run()) return false;
  BIRDIE_CHECK(built_with_nccl(), "collectives on ", device_name(t.device()),
               " tensors need NCCL, which this build does not have (it comes with the CUDA toolkit: rebuild "
               "where nccl.h and libnccl are found)");
  return true;
}

#ifdef BIRDIE_WITH_MPI
void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(detail::concat("MPI ", what, " failed: ", std::string_view(text, std::size_t(length))));
}

// One blocking collective, under the watchdog (engine/collective_watchdog.h).
template <class Call>
void collective(const char* what, Call call) {
  const CollectiveWait waiting(what);
  check(call(), what);
}

void finalize() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

MPI_Datatype mpi_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return MPI_FLOAT;
    case DType::f64: return MPI_DOUBLE;
    case DType::i32: return MPI_INT32_T;
    case DType::bf16: return MPI_UINT16_T;  // moved, never summed
  }
  return MPI_DATATYPE_NULL;
}

// MPI counts are int: large buffers go in pieces.
void all_reduce(void* values, std::int64_t count, DType dtype, MPI_Op op) {
  constexpr std::int64_t piece = std::int64_t(1) << 30;
  for (std::int64_t begin = 0; begin < count; begin += piece) {
    const int n = int(std::min(piece, count - begin));
    collective("all-reduce", [&] { return MPI_Allreduce(MPI_IN_PLACE, static_cast<char*>(values) + begin * std::int64_t(dtype_size(dtype)), n,
                        mpi_type(dtype), op, MPI_COMM_WORLD); });
  }
}

// Counts and offsets of every rank's shard of n elements, in MPI's int (checked).
struct Layout {
  std::vector<int> counts, offsets;
};

Layout layout(std::int64_t n) {
  BIRDIE_CHECK(n < (std::int64_t(1) << 31), "sharded collectives: ", n, " elements is beyond MPI's int counts");
  Layout l;
  for (int r = 0; r < g_world.size; ++r) {
    const Range range = shard_of(n, r, g_world.size);
    l.counts.push_back(int(range.size()));
    l.offsets.push_back(int(range.begin));
  }
  return l;
}
#endif

// With one rank the shard is the whole buffer, often the same memory.
void copy_unless_same(const Tensor& to, const Tensor& from) {
  if (to.raw_data() != from.raw_data()) to.copy_from(from);
}

}  // namespace

bool built_with_nccl() {
#ifdef BIRDIE_WITH_NCCL
  return true;
#else
  return false;
#endif
}

bool built_with_mpi() {
#ifdef BIRDIE_WITH_MPI
  return true;
#else
  return false;
#endif
}

const World& init(int& argc, char**& argv) {
  const int announced = launcher_world_size();
  if (announced == 0) return g_world;
#ifdef BIRDIE_WITH_MPI
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    // Only the main thread calls MPI (loader and policy threads never do).
    check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "init");
    std::atexit(finalize);
  }
  g_mpi = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_world.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_world.size);
  MPI_Comm node;
  check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_world.rank, MPI_INFO_NULL, &node), "node split");
  MPI_Comm_rank(node, &g_world.local_rank);
  MPI_Comm_size(node, &g_world.local_size);
  MPI_Comm_free(&node);
  // The ranks of a machine share its cores, and replicated state stays identical only if
  // every rank computes with the same thread count (a reduction's order follows it).
  if (std::getenv("OMP_NUM_THREADS") == nullptr)
    omp_set_num_threads(std::max(1, omp_get_num_procs() / g_world.local_size));
  // A failing rank must end the job, never leave the others waiting: errors come back as
  // codes (then an exception, then abort_job) rather than a silent hang.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  if (g_world.size > 1) start_collective_watchdog(g_world.rank, g_world.size);
#ifdef BIRDIE_WITH_CUDA
  // One GPU per rank: the local rank's (CUDA state is per process, so before any allocation).
  if (const int gpus = cuda_device_count(); gpus > 0) BIRDIE_CUDA_CHECK(cudaSetDevice(g_world.local_rank % gpus));
#endif
#else
  (void)argc;
  (void)argv;
  BIRDIE_CHECK(announced == 1, "a launcher started ", announced > 0 ? std::to_string(announced) : "several",
               " ranks, but this build has no MPI. Fix: install it (bash scripts/setup.sh installs libopenmpi-dev), "
               "then rebuild (bash scripts/build.sh)");
#endif
  return g_world;
}

const World& world() { return g_world; }

bool collectives_run() { return g_world.size > 1 || nccl_forced(); }

#ifndef BIRDIE_WITH_NCCL
namespace nccl {  // never called: through_nccl() is false in a build without NCCL
void all_reduce_sum(const Tensor&) {}
Started start_all_reduce_sum(const Tensor&) { return nullptr; }
Started start_reduce_scatter_sum(const Tensor&, Range, const Tensor&) { return nullptr; }
void finish(Started) {}
void reduce_scatter_sum(const Tensor&, const Tensor&) {}
void all_gather(const Tensor&) {}
void gather(const Tensor&, const Tensor&) {}
}  // namespace nccl
#endif

void all_reduce_sum(const Tensor& values) {
  if (through_nccl(values)) return nccl::all_reduce_sum(values);
  if (g_world.size == 1) return;
  BIRDIE_CHECK(values.dtype() != DType::bf16, "all_reduce_sum: bf16 tensors are not summed on the CPU");
#ifdef BIRDIE_WITH_MPI
  all_reduce(values.raw_data(), values.numel(), values.dtype(), MPI_SUM);
#endif
}

void all_reduce_sum(std::span<double> values) {
  if (g_world.size == 1) return;
#ifdef BIRDIE_WITH_MPI
  all_reduce(values.data(), std::int64_t(values.size()), DType::f64, MPI_SUM);
#endif
}

void all_reduce_sum(std::span<std::int64_t> values) {
  if (g_world.size == 1) return;
#ifdef BIRDIE_WITH_MPI
  collective("all-reduce", [&] { return MPI_Allreduce(MPI_IN_PLACE, values.data(), int(values.size()), MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD); });
#endif
}

Range shard_of(std::int64_t n, int rank, int size) {
  const std::int64_t base = n / size, extra = n % size;
  const std::int64_t begin = rank * base + std::min<std::int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

void reduce_scatter_sum(const Tensor& full, const Tensor& shard) {
  if (through_nccl(full)) return nccl::reduce_scatter_sum(full, shard);
  if (g_world.size == 1) return copy_unless_same(shard, full);
#ifdef BIRDIE_WITH_MPI
  BIRDIE_CHECK(full.dtype() == shard.dtype() &&
                   shard.numel() == shard_of(full.numel(), g_world.rank, g_world.size).size(),
               "reduce_scatter_sum: the shard does not match this rank's part of the buffer");
  const Layout l = layout(full.numel());
  collective("reduce-scatter", [&] { return MPI_Reduce_scatter(full.raw_data(), shard.raw_data(), l.counts.data(), mpi_type(full.dtype()), MPI_SUM,
                           MPI_COMM_WORLD); });
#endif
}

void all_gather(const Tensor& full) {
  if (through_nccl(full)) return nccl::all_gather(full);
  if (g_world.size == 1) return;
#ifdef BIRDIE_WITH_MPI
  const Layout l = layout(full.numel());
  collective("all-gather", [&] { return MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, full.raw_data(), l.counts.data(), l.offsets.data(),
                       mpi_type(full.dtype()), MPI_COMM_WORLD); });
#endif
}

void gather(const Tensor& shard, const Tensor& full) {
  if (through_nccl(shard)) return nccl::gather(shard, full);
  if (g_world.size == 1) return copy_unless_same(full, shard);
#ifdef BIRDIE_WITH_MPI
  const std::int64_t n = all_reduce_max(g_world.rank == 0 ? full.numel() : 0);
  const Layout l = layout(n);
  collective("gather", [&] { return MPI_Gatherv(shard.raw_data(), int(shard.numel()), mpi_type(shard.dtype()),
                    g_world.rank == 0 ? full.raw_data() : nullptr, l.counts.data(), l.offsets.data(),
                    mpi_type(shard.dtype()), 0, MPI_COMM_WORLD); });
#endif
}

struct PendingCollective::State {
#ifdef BIRDIE_WITH_MPI
  std::vector<MPI_Request> requests;
  std::vector<int> counts;  // read by MPI until the collective ends
#endif
  const char* what = "";
  nccl::Started nccl;       // the NCCL collective's, when it went through NCCL
};

PendingCollective::PendingCollective() = default;
PendingCollective::PendingCollective(PendingCollective&&) noexcept = default;
PendingCollective& PendingCollective::operator=(PendingCollective&& other) noexcept {
  if (this != &other) {
    if (state_) wait();
    state_ = std::move(other.state_);
  }
  return *this;
}

PendingCollective::~PendingCollective() {
  if (!state_) return;
  try {
    wait();
  } catch (const std::exception& e) {  // a destructor may not throw: the job is ending anyway
    std::fprintf(stderr, "rank %d: a collective failed while it was abandoned: %s\n", g_world.rank, e.what());
  }
}

void PendingCollective::wait() {
  if (!state_) return;
  const std::unique_ptr<State> state = std::move(state_);
  if (state->nccl) return nccl::finish(state->nccl);
#ifdef BIRDIE_WITH_MPI
  if (!state->requests.empty())
    collective(state->what, [&] {
      return MPI_Waitall(int(state->requests.size()), state->requests.data(), MPI_STATUSES_IGNORE);
    });
#endif
}

void PendingCollective::progress() {
#ifdef BIRDIE_WITH_MPI
  if (!state_ || state_->requests.empty()) return;
  int done = 0;
  check(MPI_Testall(int(state_->requests.size()), state_->requests.data(), &done, MPI_STATUSES_IGNORE),
        "test of a non-blocking collective");
#endif
}

PendingCollective all_reduce_sum_async(const Tensor& values) {
  PendingCollective pending;
  if (through_nccl(values)) {
    pending.state_ = std::make_unique<PendingCollective::State>();
    pending.state_->nccl = nccl::start_all_reduce_sum(values);
    return pending;
  }
  if (g_world.size == 1) return pending;
  BIRDIE_CHECK(values.dtype() != DType::bf16, "all_reduce_sum_async: bf16 tensors are not summed on the CPU");
#ifdef BIRDIE_WITH_MPI
  pending.state_ = std::make_unique<PendingCollective::State>();
  pending.state_->what = "all-reduce (started during the backward pass)";
  constexpr std::int64_t piece = std::int64_t(1) << 30;  // MPI counts are int
  const std::int64_t count = values.numel();
  for (std::int64_t begin = 0; begin < count; begin += piece) {
    MPI_Request request;
    check(MPI_Iallreduce(MPI_IN_PLACE, static_cast<char*>(values.raw_data()) + begin * std::int64_t(dtype_size(values.dtype())),
                         int(std::min(piece, count - begin)), mpi_type(values.dtype()), MPI_SUM, MPI_COMM_WORLD, &request),
          "non-blocking all-reduce");
    pending.state_->requests.push_back(request);
  }
#endif
  return pending;
}

PendingCollective reduce_scatter_sum_async(const Tensor& full, Range bucket, const Tensor& shard) {
  BIRDIE_CHECK(full.dtype() == shard.dtype() && bucket.begin >= 0 && bucket.begin <= bucket.end &&
                   bucket.end <= full.numel() &&
                   shard.numel() == shard_of(full.numel(), g_world.rank, g_world.size).size(),
               "reduce_scatter_sum_async: the bucket or the shard does not match the buffer ", full.describe());
  PendingCollective pending;
  if (through_nccl(full)) {
    pending.state_ = std::make_unique<PendingCollective::State>();
    pending.state_->nccl = nccl::start_reduce_scatter_sum(full, bucket, shard);
    return pending;
  }
  const Range mine = shard_of(full.numel(), g_world.rank, g_world.size);
  const std::int64_t begin = std::max(bucket.begin, mine.begin), end = std::min(bucket.end, mine.end);
  if (g_world.size == 1) {
    if (shard.raw_data() != full.raw_data() && begin < end)
      shard.slice(begin - mine.begin, end - mine.begin).copy_from(full.slice(begin, end));
    return pending;
  }
#ifdef BIRDIE_WITH_MPI
  BIRDIE_CHECK(bucket.size() < (std::int64_t(1) << 31), "reduce_scatter_sum_async: a bucket of ", bucket.size(),
               " elements is beyond MPI's int counts");
  pending.state_ = std::make_unique<PendingCollective::State>();
  pending.state_->what = "reduce-scatter (started during the backward pass)";
  auto& counts = pending.state_->counts;
  // Each rank's part of the bucket: its shard's overlap with it, in rank order (the
  // shards tile the buffer in rank order, so the parts tile the bucket).
  for (int r = 0; r < g_world.size; ++r) {
    const Range shard_r = shard_of(full.numel(), r, g_world.size);
    counts.push_back(int(std::max<std::int64_t>(0, std::min(bucket.end, shard_r.end) - std::max(bucket.begin, shard_r.begin))));
  }
  const std::size_t element = dtype_size(full.dtype());
  char* receive = static_cast<char*>(shard.raw_data()) + std::max<std::int64_t>(0, begin - mine.begin) * std::int64_t(element);
  MPI_Request request;
  check(MPI_Ireduce_scatter(static_cast<char*>(full.raw_data()) + bucket.begin * std::int64_t(element), receive,
                            counts.data(), mpi_type(full.dtype()), MPI_SUM, MPI_COMM_WORLD, &request),
        "non-blocking reduce-scatter");
  pending.state_->requests.push_back(request);
#endif
  return pending;
}

std::int64_t all_reduce_max(std::int64_t value) {
  if (g_world.size == 1) return value;
#ifdef BIRDIE_WITH_MPI
  collective("all-reduce", [&] { return MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD); });
#endif
  return value;
}

bool any_rank(bool flag) { return all_reduce_max(flag ? 1 : 0) != 0; }

void broadcast_bytes(void* data, std::size_t size, int root) {
  if (g_world.size == 1) return;
#ifdef BIRDIE_WITH_MPI
  BIRDIE_CHECK(size < (std::size_t(1) << 31), "broadcast_bytes: ", size, " bytes is beyond MPI's int counts");
  collective("broadcast", [&] { return MPI_Bcast(data, int(size), MPI_BYTE, root, MPI_COMM_WORLD); });
#else
  (void)data;
  (void)size;
  (void)root;
#endif
}

void check_same_on_all_ranks(std::uint64_t fingerprint, const std::string& what) {
  if (g_world.size == 1) return;
  // Two halves of 32 bits, each compared by its minimum and maximum over the ranks.
  const auto low = std::int64_t(fingerprint & 0xffffffffu), high = std::int64_t(fingerprint >> 32);
  const bool same = all_reduce_max(low) == -all_reduce_max(-low) && all_reduce_max(high) == -all_reduce_max(-high);
  BIRDIE_CHECK(same, what, " differs between the ranks (rank ", g_world.rank, " has fingerprint ", fingerprint,
               "): the replicated state drifted apart. Give every rank the same thread count (OMP_NUM_THREADS)");
}

void abort_job(int code) {
#ifdef BIRDIE_WITH_MPI
  if (g_mpi && g_world.size > 1) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

}  // namespace birdie::distributed
