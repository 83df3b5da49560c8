#include "objectives/row_packer.h"

#include <algorithm>

#include "engine/error.h"

namespace birdie::objectives {
namespace special = data::special_tokens;

void PackingStats::merge(const PackingStats& o) {
  rows += o.rows;
  capacity_tokens += o.capacity_tokens;
  sample_tokens += o.sample_tokens;
  label_tokens += o.label_tokens;
  samples += o.samples;
  truncated_samples += o.truncated_samples;
  for (int c = 0; c < objective_class_count; ++c) {
    tokens_per_class[c] += o.tokens_per_class[c];
    samples_per_class[c] += o.samples_per_class[c];
  }
}

void PackedBatch::append(const PackedBatch& other) {
  if (rows == 0) length = other.length;
  BIRDIE_CHECK(length == other.length, "PackedBatch::append: row length ", other.length,
               " differs from ", length);
  auto extend = [](std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
  };
  extend(tokens, other.tokens);
  extend(targets, other.targets);
  extend(segment, other.segment);
  extend(reset, other.reset);
  extend(objective, other.objective);
  rows += other.rows;
  stats.merge(other.stats);
}

PackedBatch PackedBatch::rows_slice(int begin, int end) const {
  BIRDIE_CHECK(0 <= begin && begin <= end && end <= rows, "PackedBatch::rows_slice: rows [", begin, ", ", end,
               ") of a batch of ", rows);
  PackedBatch out;
  out.rows = end - begin;
  out.length = length;
  out.stats = stats;
  out.batch_index = batch_index;
  const auto from = static_cast<std::ptrdiff_t>(at(begin, 0)), to = static_cast<std::ptrdiff_t>(at(end, 0));
  for (auto [a, b] : {std::pair{&tokens, &out.tokens}, {&targets, &out.targets}, {&segment, &out.segment},
                      {&reset, &out.reset}, {&objective, &out.objective}})
    b->assign(a->begin() + from, a->begin() + to);
  return out;
}

RowPacker::RowPacker(int row_length, int min_pack_tokens, int max_open_rows, int row_limit)
    : row_length_(row_length),
      min_pack_tokens_(min_pack_tokens),
      max_open_rows_(max_open_rows),
      row_limit_(row_limit) {
  BIRDIE_CHECK(row_length >= 2, "RowPacker: row length ", row_length, " must be at least 2");
  BIRDIE_CHECK(min_pack_tokens >= 0 && min_pack_tokens < row_length, "RowPacker: min_pack_tokens ",
               min_pack_tokens, " must be in [0, row length ", row_length, ")");
  BIRDIE_CHECK(max_open_rows >= 1 && row_limit >= 0, "RowPacker: max_open_rows ", max_open_rows,
               " must be >= 1 and row_limit ", row_limit, " >= 0");
  finished_.length = row_length;
}

bool RowPacker::can_open_row() const {
  if (row_limit_ > 0) return rows_opened_ < row_limit_;
  return true;  // streaming: opening may finish the fullest row first
}

int RowPacker::largest_space() const {
  if (can_open_row()) return row_length_;
  int best = 0;
  for (const Row& r : open_) best = std::max(best, row_length_ - r.used);
  return best;
}

bool RowPacker::done() const { return row_limit_ > 0 && rows_opened_ == row_limit_ && open_.empty(); }

RowPacker::Row& RowPacker::open_new_row() {
  if (row_limit_ == 0 && static_cast<int>(open_.size()) >= max_open_rows_) {
    // Make room: the fullest open row is the one least likely to take another sample.
    std::size_t fullest = 0;
    for (std::size_t i = 1; i < open_.size(); ++i)
      if (open_[i].used > open_[fullest].used) fullest = i;
    finish_row(fullest);
  }
  Row row;
  const auto n = static_cast<std::size_t>(row_length_);
  row.tokens.assign(n, special::pad);
  row.targets.assign(n, ignore_target);
  row.segment.assign(n, 0);
  row.reset.assign(n, 0);
  row.objective.assign(n, -1);
  ++rows_opened_;
  open_.push_back(std::move(row));
  return open_.back();
}

void RowPacker::add(const Sample& sample, int objective, ObjectiveClass objective_class) {
  BIRDIE_CHECK(!sample.label.empty(), "RowPacker::add: a sample needs at least one label token");
  std::size_t prompt_size = sample.prompt.size();
  std::size_t label_size = sample.label.size();
  const auto length = static_cast<std::size_t>(row_length_);
  bool truncated = false;
  if (prompt_size + label_size > length) {
    truncated = true;
    if (prompt_size < length) {
      label_size = length - prompt_size;
    } else {
      label_size = std::min(label_size, length / 2);
      prompt_size = length - label_size;
    }
  }
  const int size = static_cast<int>(prompt_size + label_size);

  // Best fit among open rows: the least free space that still holds the sample.
  Row* target = nullptr;
  for (Row& r : open_)
    if (row_length_ - r.used >= size && (!target || r.used > target->used)) target = &r;
  if (!target) {
    BIRDIE_CHECK(can_open_row(), "RowPacker::add: a sample of ", size,
                 " positions fits no open row and the row limit (", row_limit_,
                 ") is reached; ask largest_space() before making a sample");
    target = &open_new_row();
  }

  Row& row = *target;
  const int segment = ++row.segments;
  auto o = static_cast<std::size_t>(row.used);
  for (std::size_t i = 0; i < prompt_size; ++i) {
    row.tokens[o + i] = sample.prompt[i];
    row.reset[o + i] = 0;
  }
  const std::size_t suffix = o + prompt_size;
  row.tokens[suffix] = special::start_generating;
  for (std::size_t j = 0; j < label_size; ++j) {
    if (j + 1 < label_size) row.tokens[suffix + 1 + j] = sample.label[j];
    row.targets[suffix + j] = sample.label[j];
    row.reset[suffix + j] = 2;
  }
  for (std::size_t i = o; i < o + static_cast<std::size_t>(size); ++i) {
    row.segment[i] = segment;
    row.objective[i] = objective;
  }
  row.reset[o] |= 1;
  row.used += size;

  PackingStats& s = row.stats;
  s.sample_tokens += static_cast<std::uint64_t>(size);
  s.label_tokens += label_size;
  s.samples += 1;
  s.truncated_samples += truncated ? 1 : 0;
  s.tokens_per_class[static_cast<std::size_t>(objective_class)] += static_cast<std::uint64_t>(size);
  s.samples_per_class[static_cast<std::size_t>(objective_class)] += 1;

  if (row_length_ - row.used < std::max(min_pack_tokens_, 1))
    finish_row(static_cast<std::size_t>(target - open_.data()));
}

void RowPacker::finish_row(std::size_t open_index) {
  Row row = std::move(open_[open_index]);
  open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(open_index));
  // Padding is its own segment 0 with a reset at its first token: no state flows into or
  // out of it.
  if (row.used < row_length_) row.reset[static_cast<std::size_t>(row.used)] = 1;
  row.stats.rows = 1;
  row.stats.capacity_tokens = static_cast<std::uint64_t>(row_length_);
  PackedBatch one;
  one.rows = 1;
  one.length = row_length_;
  one.tokens = std::move(row.tokens);
  one.targets = std::move(row.targets);
  one.segment = std::move(row.segment);
  one.reset = std::move(row.reset);
  one.objective = std::move(row.objective);
  one.stats = row.stats;
  finished_.append(one);
}

void RowPacker::finish() {
  while (!open_.empty()) finish_row(0);
}

PackedBatch RowPacker::take_finished() {
  PackedBatch out = std::move(finished_);
  finished_ = PackedBatch{};
  finished_.length = row_length_;
  return out;
}

}  // namespace birdie::objectives
