// BatchLoader: worker threads build packed batches (batch_builder.h) ahead of the trainer.
//
// Determinism: batch b is a pure function of (seed, b, mixture): its random stream is
// RandomGenerator(seed, stream = b) and its text starts at batch_text_offset(b), so
// neither the worker count nor thread timing changes a batch. Resuming = restoring
// {seed, next_batch} (LoaderPosition).
//
// Mixture: set_mixture() may be called from any thread at any time; every batch handed out
// by next() after the call is built from the new mixture (prefetched batches built from
// the old one are dropped and rebuilt). So a run that sets mixtures at the same batch
// indices gets the same batches.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "data/token_source.h"
#include "objectives/batch_builder.h"

namespace birdie::objectives {

struct LoaderPosition {
  std::uint64_t seed = 0;
  std::uint64_t next_batch = 0;
  bool operator==(const LoaderPosition&) const = default;
  // "seed=<u64> next_batch=<u64>": one line for a checkpoint's metadata.
  std::string serialize() const;
  static LoaderPosition parse(const std::string& text);
};

// Where batch `index` starts reading text. The source is cut into slices of rows × L
// tokens (a batch never occupies more, and objectives never read more text than they
// occupy); each epoch visits every slice once in a seeded pseudo-random order (an affine
// permutation of the slice indices, fresh per epoch, plus a per-epoch shift of the slice
// boundaries), so consecutive batches do not read neighbouring documents of a corpus
// that was prepared in order. A source shorter than two slices is read in sequence.
std::uint64_t batch_text_offset(std::uint64_t source_size, const BatchShape& shape, std::uint64_t seed,
                                std::uint64_t index);

struct LoaderOptions {
  BatchShape shape;
  std::uint64_t seed = 0;
  int workers = 2;
  int prefetch = 4;  // batches built ahead of the one being consumed
};

class BatchLoader {
 public:
  BatchLoader(std::shared_ptr<const data::TokenSource> source, Mixture mixture, LoaderOptions options);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // The next batch in index order (blocks until it is built). Rethrows a worker's error.
  PackedBatch next();
  // Thread-safe: replaces the mixture for every batch handed out after this call.
  void set_mixture(Mixture mixture);
  std::shared_ptr<const Mixture> mixture() const;

  LoaderPosition position() const;
  // Continues exactly from `position` (the seed may differ from the constructor's).
  void restore(const LoaderPosition& position);

 private:
  void work();

  std::shared_ptr<const data::TokenSource> source_;
  LoaderOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable ready_changed_;
  std::condition_variable demand_changed_;
  std::shared_ptr<const Mixture> mixture_;
  std::uint64_t generation_ = 0;  // bumped by set_mixture and restore: older builds are stale
  std::uint64_t next_to_build_ = 0;
  std::uint64_t next_to_deliver_ = 0;
  std::map<std::uint64_t, PackedBatch> ready_;
  std::exception_ptr failure_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace birdie::objectives
