// A checkpoint folder's DONE marker (model/checkpoint_files.h), against the folder's files:
// checkpoint_problem says what is wrong (never throws), choose_checkpoint falls back past
// the folder or names it when it is the only one.
#include "model/checkpoint_files.h"
#include "tests/fuzz/harness.h"

using namespace birdie;

namespace {

// A good older checkpoint and the fuzzed one's files, written once.
const std::filesystem::path& checkpoints() {
  static const std::filesystem::path folder = [] {
    const auto root = fuzz::scratch() / "checkpoints";
    for (const char* step : {"step_00000001", "step_00000002"}) {
      std::filesystem::create_directories(root / step);
      std::map<std::string, model::FileDigest> files;
      files[model::checkpoint_model_file] =
          model::write_safetensors(root / step / model::checkpoint_model_file,
                                   {{"w", Tensor::from_values<float>({1.5f, -2.0f}, {2})}}, {{"config", "{}"}});
      files[model::checkpoint_state_file] = model::write_safetensors(
          root / step / model::checkpoint_state_file, {},
          {{"training", R"({"step": 1, "rng": {"seed": 1, "stream": 0, "offset": 0}, "optimizer_steps": 1})"}});
      model::write_done_marker(root / step, files);
    }
    return root;
  }();
  return folder;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& root = checkpoints();
  fuzz::write_input("checkpoints/step_00000002/DONE", data, size);
  fuzz::expect_clear_refusal(root.string(), [&] {
    const std::string problem = model::checkpoint_problem(root / "step_00000002");
    const model::CheckpointChoice choice = model::choose_checkpoint(root);
    fuzz::require(choice.checkpoint.has_value(), "the good older checkpoint is chosen");
    fuzz::require(problem.empty() == choice.damaged.empty(), "a damaged newest checkpoint is passed over");
  });
  return 0;
}
