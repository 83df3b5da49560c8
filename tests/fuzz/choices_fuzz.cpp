// choice_eval's multiple-choice JSONL (data/tasks/multiple_choice.h): {"prompt", "choices", "label", "id"}.
#include <sstream>

#include "data/tasks/multiple_choice.h"
#include "tests/fuzz/harness.h"

using namespace birdie;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string source = "fuzzed-choices.jsonl";
  fuzz::expect_clear_refusal(source, [&] {
    std::istringstream in{std::string(fuzz::as_text(data, size))};
    for (const auto& item : data::tasks::parse_choice_items(in, source))
      fuzz::require(item.label >= 0 && item.label < int(item.choices.size()) && item.choices.size() >= 2,
                    "an accepted item's label is one of its choices");
  });
  return 0;
}
