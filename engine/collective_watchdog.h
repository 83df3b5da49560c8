// A bound on how long a rank of a data-parallel job waits for the others. A rank that
// died is noticed by the launcher (mpirun ends the job when a rank exits), but one that
// hangs, or is stopped, leaves the others waiting inside a collective forever, with a
// GPU's NCCL kernels spinning. A thread of every rank checks once a second how long the
// collective it is in has waited (a blocking MPI call, or an NCCL collective queued on a
// stream and not yet finished on the device) and, past BIRDIE_COLLECTIVE_TIMEOUT seconds
// (default 1800; 0 turns the check off), prints which rank waited on what and ends the
// process with exit code 124, which makes the launcher end the whole job.
//
// The default is long because rank 0 alone writes checkpoints and runs the critic while
// the others wait at the next collective; lower it for small jobs, raise it for a model
// whose checkpoint takes longer than half an hour to write.
#pragma once

namespace birdie::distributed {

// Starts the watching thread (once; from distributed::init when the job has several
// ranks or forced NCCL).
void start_collective_watchdog(int rank, int size);
// Seconds a rank may wait in one collective, from BIRDIE_COLLECTIVE_TIMEOUT; throws naming
// the variable when its value is not a number of seconds ≥ 0.
double collective_timeout_seconds();

// Marks the current thread as waiting in a blocking collective for the scope's lifetime.
class CollectiveWait {
 public:
  explicit CollectiveWait(const char* what);
  ~CollectiveWait();
  CollectiveWait(const CollectiveWait&) = delete;
  CollectiveWait& operator=(const CollectiveWait&) = delete;
};

#ifdef BIRDIE_WITH_CUDA
// Watches the work queued on `stream` so far (an NCCL collective just enqueued): the
// watchdog records an event there and ends the job if the device has not passed it within
// the timeout.
void watch_stream(void* stream, const char* what);
#endif

}  // namespace birdie::distributed
