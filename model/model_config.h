// The shape of a language model (docs/method.md §5): the architecture, Gated SSM (the default),
// Hawk (Griffin's RG-LRU) or a Transformer (model/architecture_list.h lists them), and its
// sizes.
#pragma once

#include <cstdint>
#include <string_view>

#include "model/architecture_list.h"

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

#define BIRDIE_ARCHITECTURE_ENUMERATOR(name) name,
enum class Architecture { BIRDIE_ARCHITECTURES(BIRDIE_ARCHITECTURE_ENUMERATOR) };
#undef BIRDIE_ARCHITECTURE_ENUMERATOR

Architecture parse_architecture(std::string_view name);
std::string_view architecture_name(Architecture architecture);

struct ModelConfig {
  std::int64_t vocab = 0;   // vocabulary size V
  std::int64_t dim = 0;     // model width D
  // Gated SSM: the state width N; Hawk: the recurrence's width (Griffin's D_RNN). Even
  // when any block is bidirectional. Unused by the Transformer.
  std::int64_t state = 0;
  std::int64_t layers = 0;  // number of blocks
  // Which blocks read their input in both directions: the recurrences split their state,
  // the Transformer's attention is bidirectional over the prompt (a prefix LM).
  BidirectionalLayers bidirectional = BidirectionalLayers::alternate;
  bool tie_embeddings = false;  // head shares the embedding table
  double norm_eps = 1e-5;
  ForgetGateInit forget_init = ForgetGateInit::zero;  // Gated SSM only
  Architecture architecture = Architecture::gated_ssm;
  std::int64_t heads = 0;       // Transformer: attention heads (dim / heads even)
  std::int64_t mlp_hidden = 0;  // Hawk and Transformer: the gated MLP's hidden width
  std::int64_t conv_width = 4;  // Hawk: the temporal convolution's width
  double rope_base = 10000;     // Transformer: the rotary embedding's base

  bool is_bidirectional(std::int64_t layer) const {
    return bidirectional == BidirectionalLayers::all ||
           (bidirectional == BidirectionalLayers::alternate && layer % 2 == 0);
  }
  // Throws naming the field when a value is impossible for the architecture.
  void validate() const;
  // V·D (embedding) + L·(the block's parameters) + D (final norm) + V·D (head, unless
  // tied); the architecture counts a block's (model/NAME/NAME_config.cpp).
  std::int64_t parameter_count() const;
  std::int64_t block_parameter_count() const;
};

}  // namespace birdie::model
