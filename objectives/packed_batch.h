// Packed rows as the model consumes them (docs/method.md §2), and packing statistics.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "objectives/objective_params.h"

namespace birdie::objectives {

// Target value of positions that carry no loss (prompt tokens and padding).
constexpr std::int32_t ignore_target = -1;

struct PackingStats {
  std::uint64_t rows = 0;
  std::uint64_t capacity_tokens = 0;  // rows × L
  std::uint64_t sample_tokens = 0;    // positions holding a sample (not padding)
  std::uint64_t label_tokens = 0;     // positions with a target
  std::uint64_t samples = 0;
  std::uint64_t truncated_samples = 0;  // samples longer than a row, cut to fit (see RowPacker)
  std::array<std::uint64_t, objective_class_count> tokens_per_class{};
  std::array<std::uint64_t, objective_class_count> samples_per_class{};

  double fill_ratio() const {
    return capacity_tokens ? static_cast<double>(sample_tokens) / static_cast<double>(capacity_tokens) : 0.0;
  }
  void merge(const PackingStats& other);
};

// The rows a batch is packed into: how many, their length, and the RowPacker's
// min_pack_tokens (objectives/row_packer.h).
struct BatchShape {
  int rows = 8;
  int row_length = 2048;
  int min_pack_tokens = 256;
};

// Row-major [rows, length] int32 arrays:
//   tokens    prompt ‖ <sg> ‖ label[0:M-1] per sample, <pad> (0) in padding;
//   targets   -1 over the prompt and padding, label[0:M] from the <sg> position on;
//   segment   1, 2, 3 … for the samples of a row in order, 0 for padding;
//   reset     bit 0 (1) at a sample's first token, bit 1 (2) on <sg> and label tokens
//             (so an empty prompt starts with 3), 1 at the first padding token, 0 after
//             (kernels/scan.h);
//   objective the configuration index of the token's sample (index into the mixture the
//             batch was drawn from), -1 for padding: for per-objective losses.
struct PackedBatch {
  int rows = 0;
  int length = 0;
  std::vector<std::int32_t> tokens, targets, segment, reset, objective;
  PackingStats stats;
  std::uint64_t batch_index = 0;  // set by the loader

  std::size_t at(int row, int t) const {
    return static_cast<std::size_t>(row) * static_cast<std::size_t>(length) + static_cast<std::size_t>(t);
  }
  // Appends the rows of `other` (same length).
  void append(const PackedBatch& other);
  // Rows [begin, end) as a batch of their own (a data-parallel rank's share); stats are
  // the whole batch's.
  PackedBatch rows_slice(int begin, int end) const;
};

}  // namespace birdie::objectives
