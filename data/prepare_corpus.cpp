#include "data/prepare_corpus.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "data/debian_text.h"
#include "data/token_shard.h"
#include "engine/atomic_file.h"
#include "engine/error.h"

namespace birdie::data {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Feeds documents to `visit` (returning false stops): fortunes from memory, debian-text one
// source at a time, anything else streamed from disk.
class DocumentStream {
 public:
  explicit DocumentStream(const PrepareOptions& options) : options_(options) {
    if (options.corpus == "fortunes") {
      fortunes_ = read_fortunes(options.fortunes_directory);
      for (const auto& d : fortunes_) total_bytes_ += d.size();
    } else if (options.corpus == "debian-text") {
      total_bytes_ = debian_text_input_bytes(options.debian_text_root);
    } else {
      for (const auto& f : corpus_files(options.corpus)) total_bytes_ += std::filesystem::file_size(f);
    }
  }

  std::uint64_t total_bytes() const { return total_bytes_; }

  void read(const std::function<bool(std::string&&)>& visit, CorpusProgress& progress) const {
    if (options_.corpus == "debian-text") return read_debian_text(options_.debian_text_root, visit, progress);
    if (options_.corpus != "fortunes") return read_corpus(options_.corpus, options_.corpus_options, visit, progress);
    for (const auto& d : fortunes_) {
      progress.input_bytes += d.size();
      progress.text_bytes += d.size();
      ++progress.documents;
      if (!visit(std::string(d))) return;
    }
  }

 private:
  const PrepareOptions& options_;
  std::vector<std::string> fortunes_;
  std::uint64_t total_bytes_ = 0;
};

// Accumulates one split's tokens and writes a shard whenever enough have gathered.
class ShardWriter {
 public:
  ShardWriter(std::filesystem::path out, std::string split, int vocab, std::uint64_t shard_tokens,
              PrepareSummary& summary)
      : out_(std::move(out)), split_(std::move(split)), vocab_(vocab), shard_tokens_(shard_tokens), summary_(summary) {}

  void add(const std::vector<Token>& tokens) {
    buffer_.insert(buffer_.end(), tokens.begin(), tokens.end());
    buffer_.push_back(special_tokens::eos);
    if (buffer_.size() >= shard_tokens_) flush();
  }

  void flush() {
    if (buffer_.empty()) return;
    char name[64];
    std::snprintf(name, sizeof name, "%s_%05d.bin", split_.c_str(), next_++);
    const auto path = out_ / name;
    write_token_shard(path, buffer_, vocab_);
    summary_.shards.push_back({path, buffer_.size()});
    buffer_.clear();
  }

 private:
  std::filesystem::path out_;
  std::string split_;
  int vocab_;
  std::uint64_t shard_tokens_;
  PrepareSummary& summary_;
  std::vector<Token> buffer_;
  int next_ = 0;
};

std::string format_progress(const CorpusProgress& p, std::uint64_t total_bytes, double elapsed) {
  const double docs_per_second = static_cast<double>(p.documents) / std::max(elapsed, 1e-9);
  const double mb = static_cast<double>(p.input_bytes) / 1e6;
  const double mb_per_second = mb / std::max(elapsed, 1e-9);
  const double remaining = total_bytes > p.input_bytes && mb_per_second > 0
                               ? static_cast<double>(total_bytes - p.input_bytes) / 1e6 / mb_per_second
                               : 0.0;
  char line[200];
  std::snprintf(line, sizeof line, "%llu documents (%.0f docs/s), %.1f of %.1f MB (%.2f MB/s), ETA %.0f s",
                static_cast<unsigned long long>(p.documents), docs_per_second, mb,
                static_cast<double>(total_bytes) / 1e6, mb_per_second, remaining);
  return line;
}

}  // namespace

PrepareSummary prepare_corpus(const PrepareOptions& options) {
  std::filesystem::create_directories(options.out);
  PrepareSummary summary;
  const DocumentStream stream(options);
  BIRDIE_CHECK(stream.total_bytes() > 0, "corpus ", options.corpus, " is empty");

  // 1. The tokenizer: trained on the first training documents, or an existing one.
  summary.tokenizer = options.out / "tokenizer.model";
  const auto tokenizer_start = Clock::now();
  if (!options.existing_tokenizer.empty()) {
    try {
      // Checked under its own name, before the copy: an old-rules tokenizer is refused here.
      (void)Tokenizer::load(options.existing_tokenizer);
    } catch (const Error& e) {
      throw Error(detail::concat(e.what(), "\n--tokenizer ", options.existing_tokenizer.string(),
                                 " cannot be reused: leave --tokenizer out and prepare_data trains one by the current "
                                 "rules"));
    }
    if (std::filesystem::absolute(options.existing_tokenizer) != std::filesystem::absolute(summary.tokenizer))
      std::filesystem::copy_file(options.existing_tokenizer, summary.tokenizer,
                                 std::filesystem::copy_options::overwrite_existing);
  } else {
    std::vector<std::string> sample;
    std::uint64_t sample_bytes = 0;
    CorpusProgress ignored;
    stream.read(
        [&](std::string&& doc) {
          if (is_validation_document(doc, options.validation_fraction)) return true;
          sample_bytes += doc.size();
          sample.push_back(std::move(doc));
          return sample_bytes < options.tokenizer_sample_bytes;
        },
        ignored);
    if (options.progress)
      options.progress("training the tokenizer (vocab " + std::to_string(options.tokenizer.vocab_size) + ") on " +
                       std::to_string(sample.size()) + " documents, " + std::to_string(sample_bytes / 1000000) + " MB");
    Tokenizer::train(sample, summary.tokenizer, options.tokenizer);
  }
  const Tokenizer tokenizer = Tokenizer::load(summary.tokenizer);
  summary.tokenizer_seconds = seconds_since(tokenizer_start);
  summary.vocab_size = tokenizer.vocab_size();

  // 2. Encode every document on all cores, in batches, keeping the corpus order.
  for (const auto& split : {"train", "validation"})
    for (const auto& old : list_shards(options.out, split)) std::filesystem::remove(old);
  const int threads = options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ShardWriter train(options.out, "train", summary.vocab_size, options.shard_tokens, summary);
  ShardWriter validation(options.out, "validation", summary.vocab_size, options.shard_tokens, summary);
  const auto encode_start = Clock::now();
  auto last_report = encode_start;
  CorpusProgress progress;
  std::vector<std::string> batch;
  std::uint64_t batch_bytes = 0;
  auto encode_batch = [&] {
    std::vector<std::vector<Token>> encoded(batch.size());
    std::vector<std::thread> workers;
    const std::size_t per_thread = (batch.size() + static_cast<std::size_t>(threads) - 1) / static_cast<std::size_t>(threads);
    for (int t = 0; t < threads; ++t) {
      const std::size_t begin = static_cast<std::size_t>(t) * per_thread;
      const std::size_t end = std::min(batch.size(), begin + per_thread);
      if (begin >= end) break;
      workers.emplace_back([&, begin, end] {
        for (std::size_t i = begin; i < end; ++i) encoded[i] = tokenizer.encode(batch[i]);
      });
    }
    for (auto& w : workers) w.join();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const bool held_out = is_validation_document(batch[i], options.validation_fraction);
      (held_out ? validation : train).add(encoded[i]);
      (held_out ? summary.validation_tokens : summary.train_tokens) += encoded[i].size() + 1;
      summary.validation_documents += held_out ? 1 : 0;
    }
    batch.clear();
    batch_bytes = 0;
  };
  stream.read(
      [&](std::string&& doc) {
        batch_bytes += doc.size();
        batch.push_back(std::move(doc));
        if (batch_bytes >= (4u << 20)) encode_batch();
        if (options.progress && seconds_since(last_report) >= 0.5) {
          last_report = Clock::now();
          options.progress(format_progress(progress, stream.total_bytes(), seconds_since(encode_start)));
        }
        return true;
      },
      progress);
  encode_batch();
  train.flush();
  validation.flush();
  summary.encode_seconds = seconds_since(encode_start);
  summary.documents = progress.documents;
  summary.input_bytes = progress.input_bytes;
  summary.malformed_lines = progress.malformed_lines;
  if (options.progress) options.progress(format_progress(progress, stream.total_bytes(), summary.encode_seconds));
  BIRDIE_CHECK(summary.train_tokens > 0, "corpus ", options.corpus, ": every document went to the validation split. "
               "Fix: lower --validation-fraction");

  nlohmann::json manifest = {
      {"format", "birdie token shards"}, {"shard_version", token_shard_version},
      {"corpus", options.corpus},         {"vocab_size", summary.vocab_size},
      {"tokenizer", "tokenizer.model"},   {"tokenizer_rules", tokenizer_rules_version},
      {"documents", summary.documents},
      {"validation_documents", summary.validation_documents},
      {"validation_fraction", options.validation_fraction},
      {"train_tokens", summary.train_tokens}, {"validation_tokens", summary.validation_tokens},
  };
  for (const auto& s : summary.shards)
    manifest["shards"].push_back({{"file", s.path.filename().string()}, {"tokens", s.tokens}});
  const std::filesystem::path manifest_path = options.out / "manifest.json";
  AtomicFile out(manifest_path, ".tmp", [&](std::string_view, const std::filesystem::path&, int error) {
    return detail::concat("cannot write ", manifest_path.string(), ": ", std::strerror(error), " (is the disk full?)");
  });
  out.write(manifest.dump(2) + "\n");
  out.commit();
  return summary;
}

}  // namespace birdie::data
