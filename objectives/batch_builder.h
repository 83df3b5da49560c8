// Builds one packed batch from a token stream and a mixture: the sampler of the data flow
// (draw a configuration → make a sample from the text at the current position → pack it),
// repeated until the batch's rows are full.
#pragma once

#include <cstdint>

#include "data/token_source.h"
#include "engine/random.h"
#include "objectives/mixture.h"
#include "objectives/packed_batch.h"

namespace birdie::objectives {

// Reads text from `source` starting at `text_offset` and carries what a sample leaves
// over to the next sample. Every configuration draw, sample and paradigm placement uses
// `rng`, so the batch is a pure function of (source, offset, mixture, shape, rng state).
// Once every row is open, samples are made no longer than the largest free space, so the
// last gaps are filled by shorter samples (NTP and prefix LM take exactly what fits;
// other classes shrink their budget). Stops when every row is finished.
PackedBatch build_packed_batch(const data::TokenSource& source, std::uint64_t text_offset,
                               const Mixture& mixture, const BatchShape& shape,
                               RandomGenerator& rng);

}  // namespace birdie::objectives
