// End-to-end check against an independent implementation: logits, loss and every
// parameter gradient of a tiny model on a packed batch with several segments and resets,
// compared with the PyTorch twin's values (scripts/torch_twin.py wrote the fixture; its
// docstring says how to regenerate it).
#include <doctest/doctest.h>

#include <filesystem>

#include "model/gated_ssm/gated_ssm_lm.h"
#include "autograd/tape.h"
#include "model/checkpoint.h"
#include "model/config_file.h"
#include "support/test_util.h"

using namespace birdie;
using namespace birdie::testing;

TEST_CASE("the Gated SSM LM matches its PyTorch twin: logits, loss, every gradient (f32, 1e-4)") {
  const std::filesystem::path dir = std::filesystem::path(BIRDIE_SOURCE_DIR) / "tests" / "fixtures" / "twin";
  const auto weights = model::read_safetensors(dir / "model.safetensors");
  const auto config = model::model_config_from_json(weights.metadata.at("config"), "twin fixture");
  model::GatedSsmLm lm(config, DType::f32, Device::cpu, 0);
  model::load_weights(dir / "model.safetensors", lm);
  const auto expected = model::read_safetensors(dir / "expected.safetensors");

  lm.parameters().zero_grad();
  const Tensor logits = lm.logits(expected.at("batch.tokens"), expected.at("batch.reset"));
  const auto loss = autograd::cross_entropy(logits, expected.at("batch.targets").reshape({-1}));
  autograd::backward(loss.loss);

  CHECK(relative_error(logits, expected.at("expected.logits")) < 1e-4);
  CHECK(loss.loss.item() == doctest::Approx(expected.at("expected.loss").item()).epsilon(1e-5));
  double worst = 0;
  for (const auto& spec : lm.parameters().specs()) {
    CAPTURE(spec.name);
    const double error = relative_error(lm.parameters()[spec.name].grad(), expected.at("expected.grad." + spec.name));
    worst = std::max(worst, error);
    CHECK(error < 1e-4);
  }
  MESSAGE("logits relative error ", relative_error(logits, expected.at("expected.logits")),
          ", worst gradient relative error ", worst);
}
