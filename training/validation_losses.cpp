#include "training/validation_losses.h"

#include <algorithm>
#include <cmath>

#include "autograd/tape.h"
#include "engine/distributed.h"
#include "engine/error.h"
#include "engine/nvtx.h"
#include "kernels/cross_entropy.h"
#include "objectives/batch_tensors.h"

namespace birdie::training {

namespace {

struct RowRef {
  std::size_t set = 0;
  int row = 0;
};

}  // namespace

std::vector<double> validation_losses(const model::LanguageModel& lm,
                                      const std::vector<objectives::ValidationSet>& sets, int rows_per_pass) {
  BIRDIE_NVTX_RANGE("validation_losses");
  BIRDIE_CHECK(rows_per_pass >= 1, "validation_losses: rows_per_pass must be ≥ 1, got ", rows_per_pass);
  autograd::NoGradGuard no_grad;
  const distributed::World& world = distributed::world();
  const std::int64_t vocab = lm.config().vocab;

  // This rank's rows that hold label tokens, in set order; every set's rows share one length.
  std::vector<RowRef> rows;
  int length = 0;
  for (std::size_t i = 0; i < sets.size(); ++i) {
    if (int(i % std::size_t(world.size)) != world.rank) continue;  // another rank's set
    const objectives::PackedBatch& b = sets[i].rows;
    BIRDIE_CHECK(length == 0 || b.rows == 0 || b.length == length, "validation set '", sets[i].name, "' has rows of ",
                 b.length, " tokens where the others have ", length);
    if (b.rows > 0) length = b.length;
    for (int r = 0; r < b.rows; ++r) {
      bool labelled = false;
      for (int t = 0; t < b.length; ++t) {
        const std::int32_t target = b.targets[b.at(r, t)];
        BIRDIE_CHECK(target == kernels::ignore_index || (target >= 0 && target < vocab), "validation set '",
                     sets[i].name, "': target ", target, " at row ", r, ", position ", t,
                     " is outside the model's vocabulary [0, ", vocab,
                     "): the data was tokenized with another tokenizer than the model's");
        labelled = labelled || target != kernels::ignore_index;
      }
      if (labelled) rows.push_back({i, r});
    }
  }

  // Forward passes of up to rows_per_pass rows; each token's loss into its place in one
  // device buffer, read back once at the end.
  const std::int64_t positions = std::int64_t(rows.size()) * length;
  Tensor token_losses;
  for (std::size_t first = 0; first < rows.size(); first += std::size_t(rows_per_pass)) {
    const std::size_t count = std::min(rows.size() - first, std::size_t(rows_per_pass));
    objectives::PackedBatch pass;
    pass.rows = int(count);
    pass.length = length;
    std::int64_t counted = 0;
    for (std::size_t k = first; k < first + count; ++k) {
      const objectives::PackedBatch& b = sets[rows[k].set].rows;
      const auto begin = std::ptrdiff_t(b.at(rows[k].row, 0)), end = begin + length;
      pass.tokens.insert(pass.tokens.end(), b.tokens.begin() + begin, b.tokens.begin() + end);
      pass.targets.insert(pass.targets.end(), b.targets.begin() + begin, b.targets.begin() + end);
      pass.reset.insert(pass.reset.end(), b.reset.begin() + begin, b.reset.begin() + end);
      pass.segment.insert(pass.segment.end(), b.segment.begin() + begin, b.segment.begin() + end);
      pass.objective.insert(pass.objective.end(), b.objective.begin() + begin, b.objective.begin() + end);
    }
    for (std::int32_t t : pass.targets) counted += t != kernels::ignore_index;
    const objectives::BatchTensors t = objectives::to_tensors(pass);
    const auto ce = lm.loss(t.tokens.to(lm.device()), t.targets.to(lm.device()), t.reset.to(lm.device()), {counted, 1.0});
    if (!token_losses.defined()) token_losses = Tensor::zeros({positions}, ce.row_loss.dtype(), lm.device());
    const std::int64_t offset = std::int64_t(first) * length;
    token_losses.slice(offset, offset + std::int64_t(count) * length).copy_from(ce.row_loss);
  }

  // Sums per set in f64, in row order (the same bits whatever rows_per_pass).
  std::vector<double> sum(sets.size(), 0.0), tokens(sets.size(), 0.0);
  if (token_losses.defined()) {
    const std::vector<double> loss = token_losses.to_vector<double>();
    for (std::size_t k = 0; k < rows.size(); ++k) {
      const objectives::PackedBatch& b = sets[rows[k].set].rows;
      for (int p = 0; p < length; ++p) {
        if (b.targets[b.at(rows[k].row, p)] == kernels::ignore_index) continue;
        sum[rows[k].set] += loss[k * std::size_t(length) + std::size_t(p)];
        tokens[rows[k].set] += 1;
      }
    }
  }
  std::vector<double> values(sets.size(), 0.0);
  for (std::size_t i = 0; i < sets.size(); ++i) {
    if (int(i % std::size_t(world.size)) != world.rank) continue;
    values[i] = tokens[i] > 0 ? sum[i] / tokens[i] : NAN;
  }
  distributed::all_reduce_sum(values);  // each set's loss from one rank, zeros from the others
  return values;
}

}  // namespace birdie::training
