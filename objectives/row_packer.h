// RowPacker: best-fit packing of samples into rows of length L (docs/method.md §2).
//
// A sample occupies |prompt| + |label| positions. It goes to the open row with the least
// free space that still holds it; when none does, a new row is opened. A row is finished
// when its free space drops under min_pack_tokens; finish() finishes every open row. The
// rest of a finished row is padding.
//
// Two ways to bound the open rows:
//   * streaming (row_limit = 0): at most max_open_rows rows are open; opening one more
//     first finishes the fullest open row;
//   * a fixed number of rows (row_limit = R, e.g. one batch): at most R rows are ever
//     opened; the caller asks largest_space() and makes samples no longer than that
//     (samples then shrink to fit the last gaps), and add() throws if one does not fit.
//
// A sample longer than L is never dropped: it is truncated and counted in
// stats().truncated_samples. If its prompt is shorter than L the prompt is kept whole
// and the label is cut to the L - |prompt| positions left (the first label tokens stay, so
// the targets are still the true continuation). Otherwise the label keeps its first
// min(|label|, L/2) tokens and the prompt its first L minus that (the prompt's end is
// lost). The objectives never produce such samples when given budget <= L.
#pragma once

#include <cstdint>
#include <vector>

#include "objectives/packed_batch.h"
#include "objectives/sample.h"

namespace birdie::objectives {

class RowPacker {
 public:
  RowPacker(int row_length, int min_pack_tokens = 256, int max_open_rows = 8, int row_limit = 0);

  // `objective` is written into PackedBatch::objective; `objective_class` feeds the
  // statistics. The label must not be empty.
  void add(const Sample& sample, int objective, ObjectiveClass objective_class);

  // The longest sample (|prompt| + |label|) that add() can place now: L when a row can
  // still be opened, otherwise the largest free space of an open row (0 when none).
  int largest_space() const;
  // True when the row limit is reached and every row is finished.
  bool done() const;
  // Finishes every open row (pads it).
  void finish();

  // Finished rows so far, in the order they were finished; they are removed from the
  // packer. Their stats cover those rows and the samples in them.
  PackedBatch take_finished();

  int row_length() const { return row_length_; }

 private:
  struct Row {
    std::vector<std::int32_t> tokens, targets, segment, reset, objective;
    int used = 0;
    int segments = 0;
    PackingStats stats;
  };

  Row& open_new_row();
  void finish_row(std::size_t open_index);
  bool can_open_row() const;

  int row_length_;
  int min_pack_tokens_;
  int max_open_rows_;
  int row_limit_;
  int rows_opened_ = 0;
  std::vector<Row> open_;
  PackedBatch finished_;
};

}  // namespace birdie::objectives
