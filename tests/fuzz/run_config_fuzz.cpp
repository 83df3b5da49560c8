// A run configuration (configs/*.toml: [run], [data], [model], [objectives], [optimizer],
// [batch], [schedule]), and the effective configuration pretrain writes back into the run
// folder (config.toml), which must read back the same.
#include "training/run_config.h"
#include "model/config_file.h"
#include "tests/fuzz/harness.h"

using namespace birdie;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::write_input("fuzzed-run.toml", data, size);
  fuzz::expect_clear_refusal(path.string(), [&] {
    const training::RunConfig c = training::load_run_config(path, {});
    (void)c.tokens_per_step();
    (void)c.model.parameter_count();
    for (std::int64_t step : {std::int64_t(1), c.warmup_steps, c.steps}) (void)c.learning_rate(std::max<std::int64_t>(1, step));
    const std::string written = training::run_config_to_toml(c);
    const auto copy = fuzz::write_input("written/config.toml", reinterpret_cast<const std::uint8_t*>(written.data()),
                                        written.size());
    training::RunConfig back;
    try {
      back = training::load_run_config(copy, {});
    } catch (const Error& e) {
      fuzz::finding(std::string("the effective configuration does not read back: ") + e.what() + "\n" + written);
    }
    back.source = c.source;
    fuzz::require(training::run_config_to_toml(back) == written, "the effective configuration reads back the same:\n" +
                                                                 written + "\n" + training::run_config_to_toml(back));
  });
  return 0;
}
