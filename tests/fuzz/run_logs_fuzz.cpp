// A run's logs as pretrain --resume, its plot and the experiment's report read them
// (training/jsonl_log.h, run_logs.h): the same bytes as metrics.jsonl and as
// evaluations.jsonl, the lines after the resumed step dropped and the file rewritten.
#include <fstream>
#include <sstream>

#include "training/jsonl_log.h"
#include "training/run_logs.h"
#include "tests/fuzz/harness.h"

using namespace birdie;

namespace {

template <class Parse>
void read_log(const std::string& name, const std::uint8_t* data, std::size_t size, Parse parse) {
  const auto path = fuzz::write_input(name, data, size);
  fuzz::expect_clear_refusal(path.string(), [&] {
    const training::JsonlLog log(path, 40, /*write=*/true,
                             [&](const std::string& line, const std::string& where) { (void)parse(line, where); });
    std::ifstream in(path, std::ios::binary);
    std::stringstream kept;
    kept << in.rdbuf();
    std::string expected;
    for (const auto& line : log.lines()) expected += line + "\n";
    fuzz::require(kept.str() == expected, "the rewritten log holds exactly the kept lines");
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  read_log("run/metrics.jsonl", data, size, training::parse_metrics_line);
  read_log("run/evaluations.jsonl", data, size, training::parse_evaluation_line);
  return 0;
}
