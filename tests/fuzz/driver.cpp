// The replay-and-mutate driver of the fuzz harnesses when they are built without clang's
// libFuzzer (GCC, with AddressSanitizer and UndefinedBehaviorSanitizer): a main() around
// the harness's LLVMFuzzerTestOneInput that accepts libFuzzer's flags.
//
//   HARNESS [-runs=N] [-seed=S] [-max_len=L] [-max_total_time=T] [-timeout=T]
//           [-artifact_prefix=P] CORPUS_DIR_OR_FILE...
//
// It first runs every corpus input as it is (folders are read recursively, in name order),
// then N mutated inputs (-runs; 0 by default): each a corpus input changed by 1-5 random
// edits (bit flips, interesting integers in binary fields, interesting numbers in text,
// words of the corpus, bytes spliced from another input, cuts, repeats), drawn from a
// generator seeded with S, so a run is the same sequence of inputs on every machine.
// -max_total_time=T stops the mutations after T seconds (then the count depends on speed;
// -runs=-1: no limit but the time), for longer campaigns (tests/fuzz/run_harness.sh).
//
// A failing input (a sanitizer report, an uncaught exception, a crash, or longer than
// -timeout seconds: a hang) is written to <artifact_prefix>crash-<hash> or timeout-<hash>
// before the process ends, and its name printed; replay it with `HARNESS FILE`. Unlike
// libFuzzer there is no coverage feedback: new inputs are never added to the corpus.
#include <signal.h>
#include <unistd.h>
#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/checksum.h"

#if defined(__SANITIZE_ADDRESS__)
#define BIRDIE_FUZZ_HAS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BIRDIE_FUZZ_HAS_SANITIZER 1
#endif
#endif
#ifdef BIRDIE_FUZZ_HAS_SANITIZER
#include <sanitizer/common_interface_defs.h>
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

// Allocations larger than this are findings (a size taken from an unchecked field), and a
// leak is one too. Applies only when the harness runs under AddressSanitizer.
extern "C" const char* __asan_default_options() {
  return "allocator_may_return_null=0:max_allocation_size_mb=512:detect_leaks=1:abort_on_error=1";
}
extern "C" const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1:abort_on_error=1"; }

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

// The input being run, for the handlers that write it out when the process dies.
const Bytes* current_input = nullptr;
std::string artifact_prefix = "./";
char input_hash[17] = "";  // of the current input, prepared before it runs (no work in a handler)

// Writes the current input to <artifact_prefix><kind>-<hash>; async-signal-safe.
void write_artifact(const char* kind) {
  if (!current_input) return;
  char path[4096];
  std::size_t n = 0;
  for (const char* part : {artifact_prefix.c_str(), kind, "-", static_cast<const char*>(input_hash)})
    for (const char* c = part; *c && n + 1 < sizeof path; ++c) path[n++] = *c;
  path[n] = '\0';
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  std::size_t written = 0;
  while (written < current_input->size()) {
    const ssize_t w = ::write(fd, current_input->data() + written, current_input->size() - written);
    if (w <= 0) break;
    written += static_cast<std::size_t>(w);
  }
  ::close(fd);
  const char intro[] = "\nfuzz driver: the failing input was written to ";
  (void)!::write(2, intro, sizeof intro - 1);
  (void)!::write(2, path, n);
  (void)!::write(2, "\n", 1);
}

void on_death() { write_artifact("crash"); }

void on_signal(int signal_number) {
  if (signal_number == SIGALRM) {
    const char message[] = "\nfuzz driver: an input ran longer than -timeout (a hang)\n";
    (void)!::write(2, message, sizeof message - 1);
    write_artifact("timeout");
    _exit(70);
  }
  write_artifact("crash");
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

void on_terminate() {
  if (const std::exception_ptr e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      std::fprintf(stderr, "fuzz driver: uncaught exception: %s\n", x.what());
    } catch (...) {
      std::fprintf(stderr, "fuzz driver: uncaught exception of an unknown type\n");
    }
  }
  write_artifact("crash");
  std::_Exit(71);
}

// splitmix64: the same numbers everywhere for a given seed.
struct Random {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
};

Bytes read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<fs::path> corpus_files(const std::vector<std::string>& arguments) {
  std::vector<fs::path> files;
  for (const auto& argument : arguments) {
    if (fs::is_directory(argument)) {
      std::vector<fs::path> inside;
      for (const auto& entry : fs::recursive_directory_iterator(argument))
        if (entry.is_regular_file()) inside.push_back(entry.path());
      std::sort(inside.begin(), inside.end());
      files.insert(files.end(), inside.begin(), inside.end());
    } else if (fs::is_regular_file(argument)) {
      files.push_back(argument);
    } else {
      std::fprintf(stderr, "fuzz driver: no corpus file or folder %s\n", argument.c_str());
      std::exit(2);
    }
  }
  return files;
}

// Words of the corpus (identifiers, quoted strings, numbers): what a text format's
// mutations insert, so keys and values the reader knows come up often.
std::vector<std::string> corpus_words(const std::vector<Bytes>& corpus) {
  std::set<std::string> words;
  for (const Bytes& input : corpus) {
    std::size_t i = 0;
    while (i < input.size() && words.size() < 4096) {
      const auto word_char = [](std::uint8_t c) { return std::isalnum(c) || c == '_' || c == '.' || c == '-'; };
      if (input[i] == '"') {
        std::size_t j = i + 1;
        while (j < input.size() && input[j] != '"' && input[j] != '\n' && j - i < 64) ++j;
        if (j < input.size() && input[j] == '"') words.emplace(input.begin() + i, input.begin() + j + 1);
        i = j + 1;
      } else if (word_char(input[i])) {
        std::size_t j = i;
        while (j < input.size() && word_char(input[j]) && j - i < 64) ++j;
        if (j - i >= 2) words.emplace(input.begin() + i, input.begin() + j);
        i = j;
      } else {
        ++i;
      }
    }
  }
  return {words.begin(), words.end()};
}

const char* const interesting_text[] = {
    "0", "-1", "1", "-0", "2", "255", "256", "65535", "65536", "2147483647", "2147483648", "-2147483649",
    "4294967295", "4294967296", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", "99999999999999999999999", "1e308", "-1e308", "1e309",
    "1e-320", "0.5", "-0.5", "nan", "inf", "-inf", "NaN", "Infinity", "true", "false", "null", "\"\"", "[]", "{}",
    "[[", "]]", "{", "}", "[", "]", ":", ",", "=", "\"", "'", "\\", "\\u0000", "\\ud800", "\"\"\"", "'''", "#", "\n",
    "\r\n", "\t", " ", "\xff", "\xc3\xa9", "\xed\xa0\x80", "\x00", "1979-05-27T07:32:00Z", "0x7fffffff", "0o777",
    "0b101", "+", "."};

const std::uint64_t interesting_integers[] = {0,
                                              1,
                                              2,
                                              7,
                                              8,
                                              0x7f,
                                              0x80,
                                              0xff,
                                              0x100,
                                              0x7fff,
                                              0xffff,
                                              0x10000,
                                              0x7fffffff,
                                              0x80000000,
                                              0xffffffff,
                                              0x100000000ull,
                                              0x7fffffffffffffffull,
                                              0x8000000000000000ull,
                                              0xffffffffffffffffull,
                                              0xfffffffffffffff8ull,
                                              1ull << 30,
                                              1ull << 40,
                                              1ull << 62};

class Mutator {
 public:
  Mutator(const std::vector<Bytes>& corpus, std::uint64_t seed, std::size_t max_len)
      : corpus_(corpus), words_(corpus_words(corpus)), random_{seed}, max_len_(max_len) {}

  Bytes next() {
    Bytes input = corpus_.empty() ? Bytes{} : corpus_[random_.below(corpus_.size())];
    const std::size_t edits = 1 + random_.below(random_.below(4) == 0 ? 12 : 5);
    for (std::size_t e = 0; e < edits; ++e) edit(input);
    if (input.size() > max_len_) input.resize(max_len_);
    return input;
  }

 private:
  void insert(Bytes& input, std::size_t at, std::string_view text) {
    input.insert(input.begin() + static_cast<std::ptrdiff_t>(at), text.begin(), text.end());
  }

  // Replaces a run of digits (with sign, point, exponent) by an interesting number.
  bool replace_number(Bytes& input) {
    if (input.empty()) return false;
    const std::size_t start = random_.below(input.size());
    std::size_t i = start;
    while (i < input.size() && !std::isdigit(input[i])) ++i;
    if (i == input.size()) return false;
    std::size_t begin = i, end = i;
    if (begin > 0 && input[begin - 1] == '-') --begin;
    while (end < input.size() && (std::isdigit(input[end]) || input[end] == '.' || input[end] == 'e' ||
                                  input[end] == 'E' || input[end] == '+' || input[end] == '-'))
      ++end;
    const char* text = interesting_text[random_.below(32)];  // the numbers of the list
    input.erase(input.begin() + static_cast<std::ptrdiff_t>(begin), input.begin() + static_cast<std::ptrdiff_t>(end));
    insert(input, begin, text);
    return true;
  }

  void edit(Bytes& input) {
    const std::size_t size = input.size();
    switch (random_.below(13)) {
      case 0:  // flip a bit
        if (size) input[random_.below(size)] ^= static_cast<std::uint8_t>(1u << random_.below(8));
        break;
      case 1:  // a random byte
        if (size) input[random_.below(size)] = static_cast<std::uint8_t>(random_.next());
        break;
      case 2: {  // an interesting integer, little-endian, over 1, 2, 4 or 8 bytes
        const std::size_t width = std::size_t(1) << random_.below(4);
        if (size < width) break;
        std::uint64_t value = interesting_integers[random_.below(std::size(interesting_integers))];
        if (random_.below(4) == 0) value += random_.below(17) - 8;
        const std::size_t at = random_.below(size - width + 1);
        for (std::size_t b = 0; b < width; ++b) input[at + b] = static_cast<std::uint8_t>(value >> (8 * b));
        break;
      }
      case 3:  // an interesting number in text
        if (!replace_number(input)) input.push_back('0');
        break;
      case 4:  // insert an interesting token
        insert(input, random_.below(size + 1), interesting_text[random_.below(std::size(interesting_text))]);
        break;
      case 5:  // insert a word of the corpus
        if (!words_.empty()) insert(input, random_.below(size + 1), words_[random_.below(words_.size())]);
        break;
      case 6:  // replace a word-sized stretch by a word of the corpus
        if (!words_.empty() && size) {
          const std::size_t at = random_.below(size), n = std::min(size - at, 1 + random_.below(12));
          input.erase(input.begin() + static_cast<std::ptrdiff_t>(at), input.begin() + static_cast<std::ptrdiff_t>(at + n));
          insert(input, at, words_[random_.below(words_.size())]);
        }
        break;
      case 7: {  // delete a stretch
        if (!size) break;
        const std::size_t at = random_.below(size), n = std::min(size - at, 1 + random_.below(random_.below(8) ? 8 : 256));
        input.erase(input.begin() + static_cast<std::ptrdiff_t>(at), input.begin() + static_cast<std::ptrdiff_t>(at + n));
        break;
      }
      case 8: {  // repeat a stretch
        if (!size) break;
        const std::size_t at = random_.below(size), n = std::min(size - at, 1 + random_.below(64));
        const Bytes piece(input.begin() + static_cast<std::ptrdiff_t>(at), input.begin() + static_cast<std::ptrdiff_t>(at + n));
        const std::size_t copies = 1 + random_.below(random_.below(8) ? 2 : 64);
        for (std::size_t c = 0; c < copies && input.size() < max_len_; ++c)
          input.insert(input.begin() + static_cast<std::ptrdiff_t>(at), piece.begin(), piece.end());
        break;
      }
      case 9: {  // splice a stretch of another input
        if (corpus_.empty()) break;
        const Bytes& other = corpus_[random_.below(corpus_.size())];
        if (other.empty()) break;
        const std::size_t from = random_.below(other.size()), n = std::min(other.size() - from, 1 + random_.below(128));
        input.insert(input.begin() + static_cast<std::ptrdiff_t>(random_.below(size + 1)),
                     other.begin() + static_cast<std::ptrdiff_t>(from), other.begin() + static_cast<std::ptrdiff_t>(from + n));
        break;
      }
      case 10:  // cut the end (a truncated file)
        if (size) input.resize(random_.below(size));
        break;
      case 11: {  // swap two bytes
        if (size < 2) break;
        std::swap(input[random_.below(size)], input[random_.below(size)]);
        break;
      }
      case 12:  // insert random bytes
        for (std::size_t n = 1 + random_.below(8); n > 0; --n)
          input.insert(input.begin() + static_cast<std::ptrdiff_t>(random_.below(input.size() + 1)),
                       static_cast<std::uint8_t>(random_.next()));
        break;
    }
  }

  const std::vector<Bytes>& corpus_;
  std::vector<std::string> words_;
  Random random_;
  std::size_t max_len_;
};

bool flag(const std::string& argument, const char* name, std::string& value) {
  const std::string prefix = std::string("-") + name + "=";
  if (!argument.starts_with(prefix)) return false;
  value = argument.substr(prefix.size());
  return true;
}

std::uint64_t number(const std::string& text, const char* name) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') {
    std::fprintf(stderr, "fuzz driver: -%s needs a whole number, got '%s'\n", name, text.c_str());
    std::exit(2);
  }
  return v;
}

void run_one(const Bytes& input, unsigned timeout_seconds) {
  std::snprintf(input_hash, sizeof input_hash, "%016llx", static_cast<unsigned long long>(birdie::checksum64(input.data(), input.size())));
  current_input = &input;
  if (timeout_seconds) ::alarm(timeout_seconds);
  LLVMFuzzerTestOneInput(input.data(), input.size());
  if (timeout_seconds) ::alarm(0);
  current_input = nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t runs = 0, seed = 1, max_len = 65536, max_total_time = 0, timeout = 10;
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    std::string v;
    if (flag(a, "runs", v)) runs = v == "-1" ? UINT64_MAX : number(v, "runs");
    else if (flag(a, "seed", v)) seed = number(v, "seed");
    else if (flag(a, "max_len", v)) max_len = number(v, "max_len");
    else if (flag(a, "max_total_time", v)) max_total_time = number(v, "max_total_time");
    else if (flag(a, "timeout", v)) timeout = number(v, "timeout");
    else if (flag(a, "artifact_prefix", v)) artifact_prefix = v;
    else if (flag(a, "malloc_limit_mb", v) || flag(a, "rss_limit_mb", v)) continue;  // 512 MB: __asan_default_options
    else if (a.starts_with("-")) std::fprintf(stderr, "fuzz driver: ignoring the libFuzzer flag %s\n", a.c_str());
    else inputs.push_back(a);
  }
#ifdef BIRDIE_FUZZ_HAS_SANITIZER
  __sanitizer_set_death_callback(on_death);
#endif
  std::set_terminate(on_terminate);
  for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM}) ::signal(s, on_signal);

  const auto start = std::chrono::steady_clock::now();
  const auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::vector<Bytes> corpus;
  for (const fs::path& file : corpus_files(inputs)) {
    corpus.push_back(read_file(file));
    run_one(corpus.back(), static_cast<unsigned>(timeout));
  }
  std::printf("fuzz driver: replayed %zu corpus inputs in %.1f s\n", corpus.size(), seconds());
  std::fflush(stdout);

  Mutator mutator(corpus, seed, max_len);
  std::uint64_t done = 0;
  const double replay_seconds = seconds();
  for (; done < runs; ++done) {
    if (max_total_time && (done & 63) == 0 && seconds() - replay_seconds >= double(max_total_time)) break;
    const Bytes input = mutator.next();
    run_one(input, static_cast<unsigned>(timeout));
  }
  std::printf("fuzz driver: %llu mutated inputs (seed %llu) in %.1f s, %.0f per second: no failure\n",
              static_cast<unsigned long long>(done), static_cast<unsigned long long>(seed),
              seconds() - replay_seconds, double(done) / std::max(1e-9, seconds() - replay_seconds));
  return 0;
}
