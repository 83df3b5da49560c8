// End-to-end checks against independent implementations: logits, loss and every
// parameter gradient of a tiny model of each architecture on a packed batch with several
// segments and resets, compared with its PyTorch twin's values (scripts/torch_twin.py,
// hawk_twin.py and transformer_twin.py wrote the fixtures; their docstrings say how to
// regenerate them).
#include <doctest/doctest.h>

#include <filesystem>

#include "model/gated_ssm/gated_ssm_lm.h"
#include "autograd/tape.h"
#include "model/checkpoint.h"
#include "model/config_file.h"
#include "support/language_model_checks.h"
#include "support/test_util.h"

using namespace birdie;
using namespace birdie::testing;

namespace {
std::filesystem::path fixture(const char* name) {
  return std::filesystem::path(BIRDIE_SOURCE_DIR) / "tests" / "fixtures" / name;
}
}  // namespace

TEST_CASE("the Gated SSM LM matches its PyTorch twin: logits, loss, every gradient (f32, 1e-4)") {
  check_against_twin(fixture("twin"), model::Architecture::gated_ssm);
}

TEST_CASE("the Hawk LM matches its PyTorch twin (scripts/hawk_twin.py)") {
  check_against_twin(fixture("hawk_twin"), model::Architecture::hawk);
}

TEST_CASE("the Transformer LM matches its PyTorch twin (scripts/transformer_twin.py)") {
  check_against_twin(fixture("transformer_twin"), model::Architecture::transformer);
}
