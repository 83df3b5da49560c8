// The reserved symbols of docs/method.md §1 and their fixed ids. Every layer that writes or
// reads special tokens (objectives, packer, model, bandit, evaluation) uses these names;
// the tokenizer is trained so that its vocabulary puts exactly these symbols at these ids,
// and loading a tokenizer checks it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace birdie::data {

// One token id. Signed 32-bit because the packer's arrays (tokens, targets with -1 for
// "ignore", segment, reset) are int32 end to end.
using Token = std::int32_t;

namespace special_tokens {

constexpr Token pad = 0;
constexpr Token unk = 1;
constexpr Token bos = 2;
constexpr Token eos = 3;
// "Start generating": the boundary between the bidirectional prompt and the causal answer.
constexpr Token start_generating = 4;

// One paradigm token per objective class (autoencoding with and without deshuffling have
// one each, so 8 tokens for 7 classes).
constexpr Token paradigm_next_token = 5;
constexpr Token paradigm_prefix_lm = 6;
constexpr Token paradigm_infilling = 7;
constexpr Token paradigm_autoencoding = 8;
constexpr Token paradigm_autoencoding_deshuffle = 9;
constexpr Token paradigm_copying = 10;
constexpr Token paradigm_deshuffling = 11;
constexpr Token paradigm_selective_copying = 12;

// Selective-copy markers.
constexpr Token copy_marker = 13;     // [COPY]
constexpr Token start_marker = 14;    // [START]
constexpr Token end_marker = 15;      // [END]
constexpr Token context_marker = 16;  // [CONTEXT]
constexpr Token separator = 17;       // [SEP]
constexpr Token done_marker = 18;     // [DONE]

// Sentinels <extra_id_0> ... <extra_id_99>, used sequentially within a sample.
constexpr Token first_sentinel = 19;
constexpr int sentinel_count = 100;
constexpr Token sentinel(int k) { return first_sentinel + k; }
constexpr bool is_sentinel(Token t) {
  return t >= first_sentinel && t < first_sentinel + sentinel_count;
}

// Ids 0 .. reserved_count-1 are reserved; ordinary text pieces start here.
constexpr int reserved_count = first_sentinel + sentinel_count;  // 119

// The surface form of reserved id `id` (0 <= id < reserved_count), as written in the
// tokenizer's vocabulary.
std::string symbol(Token id);

}  // namespace special_tokens
}  // namespace birdie::data
