// A model configuration file (configs/model/*.toml: a [model] table), and the JSON form a
// checkpoint stores (the same bytes read as JSON).
#include <toml++/toml.h>

#include "model/config_file.h"
#include "tests/fuzz/harness.h"

using namespace birdie;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::write_input("fuzzed-model.toml", data, size);
  fuzz::expect_clear_refusal(path.string(), [&] {
    const model::ModelConfig config = model::load_model_config_toml(path);
    (void)config.parameter_count();
    // Written back (TOML into a run folder's config.toml, JSON into a checkpoint), it reads the same.
    const auto json = model::model_config_from_json(model::model_config_to_json(config), "written");
    fuzz::require(model::model_config_to_json(json) == model::model_config_to_json(config), "the JSON round trip");
    const toml::table table = toml::parse(model::model_config_to_toml(config));
    fuzz::require(model::model_config_to_json(model::model_config_from_toml(table, "written")) ==
                      model::model_config_to_json(config),
                  "the TOML round trip");
  });
  fuzz::expect_clear_refusal("fuzzed-model.json", [&] {
    (void)model::model_config_from_json(fuzz::as_text(data, size), "fuzzed-model.json").parameter_count();
  });
  return 0;
}
