// phonebook_eval --cases FILE.jsonl (data/tasks/phonebook.h): {"prompt", "answer", "entries", "queries"}.
#include "data/tasks/phonebook.h"
#include "tests/fuzz/harness.h"

using namespace birdie;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::write_input("fuzzed-cases.jsonl", data, size);
  fuzz::expect_clear_refusal(path.string(), [&] {
    for (const auto& c : data::tasks::read_phone_book_cases(path)) {
      fuzz::require(c.queries >= 1 && c.entries >= 0, "an accepted case has at least one query");
      (void)data::tasks::digit_accuracy(c.answer, c.prompt);
    }
  });
  return 0;
}
