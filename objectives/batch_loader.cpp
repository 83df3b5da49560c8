#include "objectives/batch_loader.h"

#include <cstdio>
#include <numeric>
#include <sstream>

#include "engine/error.h"

namespace birdie::objectives {

std::string LoaderPosition::serialize() const {
  return "seed=" + std::to_string(seed) + " next_batch=" + std::to_string(next_batch);
}

LoaderPosition LoaderPosition::parse(const std::string& text) {
  LoaderPosition p;
  unsigned long long seed = 0, next = 0;
  char tail = 0;
  BIRDIE_CHECK(std::sscanf(text.c_str(), "seed=%llu next_batch=%llu%c", &seed, &next, &tail) == 2,
               "loader position '", text, "' is not of the form 'seed=<n> next_batch=<n>'");
  p.seed = seed;
  p.next_batch = next;
  return p;
}

std::uint64_t batch_text_offset(std::uint64_t source_size, const BatchShape& shape, std::uint64_t seed,
                                std::uint64_t index) {
  const std::uint64_t slice = static_cast<std::uint64_t>(shape.rows) * static_cast<std::uint64_t>(shape.row_length);
  const std::uint64_t slices = source_size / slice;
  if (slices < 2) return (index * slice) % source_size;
  const std::uint64_t epoch = index / slices;
  // The permutation's stream counts down from the top so it never meets a batch's own
  // stream (batch b uses stream b).
  RandomGenerator rng(seed, ~epoch);
  // A multiplier coprime with the slice count makes i → (a·i + c) mod slices a bijection;
  // a = ±1 would keep neighbours together, so it is avoided when there is a choice.
  auto draw_multiplier = [&] {
    return slices >= 5 ? 2 + rng.uniform_int(slices - 3) : 1 + rng.uniform_int(slices - 1);
  };
  std::uint64_t multiplier = draw_multiplier();
  while (std::gcd(multiplier, slices) != 1) multiplier = draw_multiplier();
  const std::uint64_t increment = rng.uniform_int(slices);
  const std::uint64_t shift = rng.uniform_int(slice);
  const auto position = static_cast<std::uint64_t>(
      (static_cast<unsigned __int128>(multiplier) * (index % slices) + increment) % slices);
  return (position * slice + shift) % source_size;
}

BatchLoader::BatchLoader(std::shared_ptr<const data::TokenSource> source, Mixture mixture, LoaderOptions options)
    : source_(std::move(source)), options_(options), mixture_(std::make_shared<const Mixture>(std::move(mixture))) {
  BIRDIE_CHECK(source_ && source_->size() > 0, "BatchLoader: no text to read");
  BIRDIE_CHECK(options_.workers >= 1 && options_.prefetch >= 1, "BatchLoader: workers and prefetch must be >= 1");
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { work(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  demand_changed_.notify_all();
  for (auto& w : workers_) w.join();
}

void BatchLoader::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    demand_changed_.wait(lock, [&] {
      return stopping_ || (!failure_ && next_to_build_ < next_to_deliver_ + static_cast<std::uint64_t>(options_.prefetch));
    });
    if (stopping_) return;
    const std::uint64_t index = next_to_build_++;
    const std::uint64_t generation = generation_;
    const std::shared_ptr<const Mixture> mixture = mixture_;
    const std::uint64_t seed = options_.seed;
    lock.unlock();
    PackedBatch batch;
    std::exception_ptr error;
    try {
      RandomGenerator rng(seed, index);
      const std::uint64_t offset = batch_text_offset(source_->size(), options_.shape, seed, index);
      batch = build_packed_batch(*source_, offset, *mixture, options_.shape, rng);
      batch.batch_index = index;
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (generation != generation_) continue;  // the mixture or position changed meanwhile
    if (error) failure_ = error;
    else ready_.emplace(index, std::move(batch));
    ready_changed_.notify_all();
  }
}

PackedBatch BatchLoader::next() {
  std::unique_lock lock(mutex_);
  const std::uint64_t index = next_to_deliver_;
  ready_changed_.wait(lock, [&] { return failure_ || ready_.count(index); });
  if (failure_) std::rethrow_exception(failure_);
  PackedBatch batch = std::move(ready_.at(index));
  ready_.erase(index);
  ++next_to_deliver_;
  lock.unlock();
  demand_changed_.notify_all();
  return batch;
}

void BatchLoader::set_mixture(Mixture mixture) {
  auto fresh = std::make_shared<const Mixture>(std::move(mixture));
  {
    std::lock_guard lock(mutex_);
    mixture_ = std::move(fresh);
    ++generation_;
    ready_.clear();
    next_to_build_ = next_to_deliver_;
  }
  demand_changed_.notify_all();
}

std::shared_ptr<const Mixture> BatchLoader::mixture() const {
  std::lock_guard lock(mutex_);
  return mixture_;
}

LoaderPosition BatchLoader::position() const {
  std::lock_guard lock(mutex_);
  return {options_.seed, next_to_deliver_};
}

void BatchLoader::restore(const LoaderPosition& position) {
  {
    std::lock_guard lock(mutex_);
    options_.seed = position.seed;
    ++generation_;
    ready_.clear();
    failure_ = nullptr;
    next_to_build_ = next_to_deliver_ = position.next_batch;
  }
  demand_changed_.notify_all();
}

}  // namespace birdie::objectives
