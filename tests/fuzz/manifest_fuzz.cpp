// A prepared data folder's manifest.json (data/token_shard.h: check_data_folder_manifest).
#include "data/token_shard.h"
#include "tests/fuzz/harness.h"

using namespace birdie;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::write_input("data/manifest.json", data, size);
  fuzz::expect_clear_refusal(path.parent_path().string(), [&] { data::check_data_folder_manifest(path.parent_path()); });
  return 0;
}
