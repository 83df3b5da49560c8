// The process group of a data-parallel job: one process per device, started by a launcher
// (`mpirun -np G`, or `srun` under Slurm), joined through MPI. A process started without a
// launcher is a world of one and never touches MPI, so a plain run behaves as it always has.
//
// Collectives: every rank calls them in the same order with the same sizes (a rank that
// skips one hangs the others until the launcher's timeout, so callers make them
// unconditional). At world size 1 each is a no-op. CPU tensors and host values reduce
// through MPI; CUDA tensors through NCCL (engine/distributed_nccl.h), one GPU per rank
// (the local rank's), also at world size 1 when BIRDIE_NCCL=1 (to check that path on one
// GPU).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "engine/tensor.h"

namespace birdie::distributed {

struct World {
  int rank = 0;        // 0 … size−1; rank 0 writes the run's files and prints its progress
  int size = 1;
  int local_rank = 0;  // rank among the processes of this machine (selects the GPU)
  int local_size = 1;
};

// Joins the launcher's job when one started this process (Open MPI's OMPI_COMM_WORLD_SIZE,
// PMI_SIZE of MPICH and Slurm's PMI, PMIX_RANK of srun --mpi=pmix), else a world of one.
// Call once, first thing in main, before any thread starts. Throws when a launcher started
// several ranks of a build without MPI, naming the fix.
const World& init(int& argc, char**& argv);
const World& world();  // after init; a world of one before it
bool built_with_mpi();
bool built_with_nccl();
// Whether the collectives do anything: at world size > 1, or at 1 with BIRDIE_NCCL=1 (then
// CUDA tensors go through a one-rank NCCL communicator).
bool collectives_run();

// Sums element-wise over the ranks, in place: the same bits on every rank. CPU tensors of
// f32, f64 or i32.
void all_reduce_sum(const Tensor& values);
void all_reduce_sum(std::span<double> values);
void all_reduce_sum(std::span<std::int64_t> values);
std::int64_t all_reduce_max(std::int64_t value);
// Sharded state (ZeRO-1): n elements split evenly over the ranks, rank r holding
// [begin, end), the first n % size ranks one element more.
struct Range {
  std::int64_t begin = 0, end = 0;
  std::int64_t size() const { return end - begin; }
};
Range shard_of(std::int64_t n, int rank, int size);
// `full` holds every rank's whole buffer; `shard` receives this rank's shard of their sum.
void reduce_scatter_sum(const Tensor& full, const Tensor& shard);
// Every rank's shard of `full` (in place, at its offset) goes to every rank.
void all_gather(const Tensor& full);
// Every rank's `shard` into rank 0's `full` (only rank 0 needs `full` defined).
void gather(const Tensor& shard, const Tensor& full);
// Collectives that overlap other work (the gradient reduction of one block with the
// backward pass of the blocks before it): started now, finished by wait(), which every rank
// calls. Ranks start them in the same order, like the blocking ones. On the CPU they are
// MPI's non-blocking collectives; on CUDA tensors NCCL's, on a communication stream that
// waits for the work already queued on the current stream (the gradient being complete),
// and wait() makes the current stream wait for the collective.
class PendingCollective {
 public:
  PendingCollective();
  ~PendingCollective();  // waits, if wait() was not called
  PendingCollective(PendingCollective&&) noexcept;
  PendingCollective& operator=(PendingCollective&&) noexcept;
  void wait();
  // Lets MPI advance the collective (its non-blocking collectives move only inside MPI
  // calls); never blocks.
  void progress();

  struct State;

 private:
  std::unique_ptr<State> state_;
  friend PendingCollective all_reduce_sum_async(const Tensor&);
  friend PendingCollective reduce_scatter_sum_async(const Tensor&, Range, const Tensor&);
};
// all_reduce_sum, started.
PendingCollective all_reduce_sum_async(const Tensor& values);
// The part `bucket` of reduce_scatter_sum(full, shard): every rank's elements of `full` in
// `bucket` are summed, and this rank receives those that fall in its shard
// (shard_of(full.numel(), rank, size)) at their place in `shard`.
PendingCollective reduce_scatter_sum_async(const Tensor& full, Range bucket, const Tensor& shard);

// True on every rank when it is true on any (a stop request seen by one rank stops all at
// the same step).
bool any_rank(bool flag);
// Throws on every rank, naming the ranks that disagree, unless `fingerprint` is the same on
// all of them (a check that replicated state has not drifted apart).
void check_same_on_all_ranks(std::uint64_t fingerprint, const std::string& what);

// Rank `root`'s bytes to every rank (the NCCL communicator's id).
void broadcast_bytes(void* data, std::size_t size, int root = 0);

// Ends every rank of the job with `code` (MPI_Abort), so that no rank waits forever on
// one that failed; at world size 1, std::exit(code).
[[noreturn]] void abort_job(int code);

}  // namespace birdie::distributed
