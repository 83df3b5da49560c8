// The shape of a Gated SSM language model (BIRDIE.md §5).
#pragma once

#include <cstdint>
#include <string_view>

namespace birdie::model {

// Which blocks read their input in both directions: `alternate` (the default) makes even
// blocks bidirectional and odd ones causal; `none` is the paper's "Birdie-Causal".
enum class BidirectionalLayers { all, alternate, none };

BidirectionalLayers parse_bidirectional_layers(std::string_view name);
std::string_view bidirectional_layers_name(BidirectionalLayers layers);

// The forget gates' starting memory. `zero`: every bias 0, so f = σ(W_f u) starts near 1/2
// and a block remembers a token or two until W_f learns otherwise. `spread`: the forget
// rows of the bias start at ln(m − 1), so that f = 1 − 1/m for an input of 0, with memory
// lengths m log-uniform over [10, 1000] tokens across the channels of each half of the
// state (the halves of a bidirectional block get the same spread). Long memory from the
// first step is what copying and retrieval need, and what gated recurrences usually start
// from (an LSTM's forget bias, Griffin's a in [0.9, 0.999], Mamba's Δ).
enum class ForgetGateInit { zero, spread };

ForgetGateInit parse_forget_gate_init(std::string_view name);
std::string_view forget_gate_init_name(ForgetGateInit init);

struct GatedSsmConfig {
  std::int64_t vocab = 0;   // vocabulary size V
  std::int64_t dim = 0;     // model width D
  std::int64_t state = 0;   // state width N (even when any block is bidirectional)
  std::int64_t layers = 0;  // number of blocks
  BidirectionalLayers bidirectional = BidirectionalLayers::alternate;
  bool tie_embeddings = false;  // head shares the embedding table
  double norm_eps = 1e-5;
  ForgetGateInit forget_init = ForgetGateInit::zero;

  bool is_bidirectional(std::int64_t layer) const {
    return bidirectional == BidirectionalLayers::all ||
           (bidirectional == BidirectionalLayers::alternate && layer % 2 == 0);
  }
  // Throws naming the field when a value is impossible.
  void validate() const;
  // V·D (embedding) + L·(D + 4N·D + 4N + N·D) (norm, fused projection and its bias,
  // output projection) + D (final norm) + V·D (head, unless tied).
  std::int64_t parameter_count() const;
};

}  // namespace birdie::model
