// A safetensors file (model/safetensors.h): the 8-byte header length, the JSON header, the
// tensor table and data, and the checkpoint metadata read from it (the model config of
// model.safetensors, the training metadata of training_state.safetensors).
#include "model/checkpoint.h"
#include "tests/fuzz/harness.h"

using namespace birdie;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::write_input("fuzzed.safetensors", data, size);
  fuzz::expect_clear_refusal(path.string(), [&] {
    const model::SafetensorsFile file = model::read_safetensors(path);
    std::uint64_t bytes = 0;
    for (const auto& [name, tensor] : file.tensors) {
      fuzz::require(tensor.nbytes() <= size, "a tensor larger than the file");
      const auto* p = static_cast<const unsigned char*>(tensor.raw_data());
      for (std::size_t i = 0; i < tensor.nbytes(); ++i) bytes += p[i];  // every byte was read from the file
    }
    if (file.metadata.count("config")) (void)model::checkpoint_model_config(file).parameter_count();
    if (file.metadata.count("training")) (void)model::read_training_metadata(file);
    (void)bytes;
  });
  return 0;
}
