// qa_eval's question-answering JSONL (data/tasks/qa.h): {"context", "question", "answers", "id"}.
#include <sstream>

#include "data/tasks/qa.h"
#include "tests/fuzz/harness.h"

using namespace birdie;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string source = "fuzzed-qa.jsonl";
  fuzz::expect_clear_refusal(source, [&] {
    std::istringstream in{std::string(fuzz::as_text(data, size))};
    for (const auto& item : data::tasks::parse_qa_items(in, source)) {
      (void)data::tasks::qa_prompt(item);
      for (const auto& answer : item.answers) (void)data::tasks::token_f1(item.question, answer);
    }
  });
  return 0;
}
