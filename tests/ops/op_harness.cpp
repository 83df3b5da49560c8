#include "tests/ops/op_harness.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "kernels/cross_entropy.h"

namespace birdie::testing {

#if !BIRDIE_OPS_GPU

namespace {

// The worst error per check, printed when the run ends.
std::map<std::string, double>& worst_errors() {
  static std::map<std::string, double> worst;
  return worst;
}

// Prints worst_errors() after the last test case (a doctest listener: it reports, it
// asserts nothing).
struct WorstErrorsReport : doctest::IReporter {
  explicit WorstErrorsReport(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {
    if (worst_errors().empty()) return;
    std::printf("worst relative errors against the f64 reference (bf16 on the CPU):\n");
    for (const auto& [what, error] : worst_errors()) std::printf("  %-48s %.3g\n", what.c_str(), error);
  }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};
DOCTEST_REGISTER_LISTENER("worst_errors", 1, WorstErrorsReport);

}  // namespace

void check_close(const std::string& what, const Tensor& got, const Tensor& ref, double bound) {
  const double error = relative_error(got, ref);
  double& worst = worst_errors()[what];
  worst = std::isnan(error) ? error : std::max(worst, error);
  CHECK_MESSAGE(error <= bound, what, ": relative error ", error, " above ", bound);
}

#else

Tensor random_ids(std::int64_t count, std::int64_t vocab, RandomGenerator& rng, bool with_ignored) {
  std::vector<std::int32_t> ids(count);
  for (auto& id : ids) id = static_cast<std::int32_t>(rng.uniform_int(vocab));
  if (with_ignored)
    for (std::int64_t i = 0; i < count; i += 5) ids[i] = kernels::ignore_index;
  return Tensor::from_values<std::int32_t>(ids, {count});
}

#endif

}  // namespace birdie::testing
