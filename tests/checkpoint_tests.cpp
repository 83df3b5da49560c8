// model/: TOML configs, safetensors files and checkpoints: exact round trips, atomic
// writes, retention, and clear errors for corrupt or mismatched files.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "model/gated_ssm/gated_ssm_lm.h"
#include "autograd/tape.h"
#include "model/checkpoint.h"
#include "model/config_file.h"
#include "support/test_util.h"

using namespace birdie;
using namespace birdie::testing;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() : path(fs::temp_directory_path() / ("birdie_test_" + std::to_string(::getpid()) + "_" +
                                                 std::to_string(counter++))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  static inline int counter = 0;
};

struct Example {
  Tensor tokens = Tensor::from_values<std::int32_t>({5, 6, 7, 4, 8, 9, 5, 4, 6, 7}, {2, 5});
  Tensor targets = Tensor::from_values<std::int32_t>({-1, -1, 8, 9, 3, -1, 6, 7, -1, -1}, {2, 5});
  Tensor reset = Tensor::from_values<std::int32_t>({1, 0, 2, 2, 2, 1, 2, 2, 1, 0}, {2, 5});
};

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

// Writes `toml` to `file` and checks that loading it as a model config throws an Error
// whose message contains `message`.
void check_config_refused(const fs::path& file, const std::string& toml, const std::string& message) {
  CAPTURE(toml);
  write_text(file, toml);
  CHECK_THROWS_WITH_AS(model::load_model_config_toml(file), doctest::Contains(message.c_str()), Error);
}

}  // namespace

TEST_CASE("the shipped model configs load and have the documented sizes") {
  const fs::path dir = fs::path(BIRDIE_SOURCE_DIR) / "configs" / "model";
  struct Expect {
    const char* name;
    double low, high;
  };
  for (const Expect& e : {Expect{"tiny", 1e6, 3e6}, Expect{"small", 20e6, 30e6}, Expect{"base", 120e6, 180e6},
                          Expect{"paper", 1.3e9, 1.45e9}}) {
    const auto config = model::load_model_config_toml(dir / (std::string(e.name) + ".toml"));
    MESSAGE(std::string(e.name), ": ", config.parameter_count(), " parameters");
    CHECK(config.parameter_count() >= e.low);
    CHECK(config.parameter_count() <= e.high);
  }
  const auto paper = model::load_model_config_toml(dir / "paper.toml");
  CHECK((paper.dim == 2048 && paper.state == 2560 && paper.layers == 48 && paper.vocab == 32000));
}

TEST_CASE("config files: unknown keys, wrong types and bad values are named") {
  TempDir tmp;
  const fs::path file = tmp.path / "m.toml";
  check_config_refused(file, "[model]\nvocab = 10\ndim = 4\nstate = 4\nlayers = 1\nwidth = 3\n", "unknown key 'width'");
  check_config_refused(file, "[model]\nvocab = \"big\"\ndim = 4\nstate = 4\nlayers = 1\n",
                       "key 'vocab' has the wrong type (expected a number)");
  check_config_refused(file, "[model]\nvocab = 10\ndim = 4\nstate = 5\nlayers = 1\n", "model.state must be even");
  check_config_refused(file, "[model]\nvocab = 10\ndim = 4\n", "missing key 'state'");
  check_config_refused(file, "[model]\nvocab = 10\ndim = 4\nstate = 4\nlayers = 1\nforget_init = \"long\"\n",
                       "model.forget_init = 'long'");
  write_text(file, "[model]\nvocab = 10\ndim = 4\nstate = 4\nlayers = 1\nforget_init = \"spread\"\n");
  CHECK(model::load_model_config_toml(file).forget_init == model::ForgetGateInit::spread);
  // A checkpoint's config from before the key: zero biases.
  CHECK(model::model_config_from_json(R"({"vocab":10,"dim":4,"state":4,"layers":1,"bidirectional":"all",)"
                                          R"("tie_embeddings":false,"norm_eps":1e-5})", "old").forget_init ==
        model::ForgetGateInit::zero);
  check_config_refused(file, "[model\nvocab = 10\n", "m.toml:1");
  CHECK_THROWS_AS(model::load_model_config_toml(tmp.path / "missing.toml"), Error);
  model::ModelConfig c{10, 4, 6, 2, model::BidirectionalLayers::all, true, 1e-6, model::ForgetGateInit::spread};
  const auto back = model::model_config_from_json(model::model_config_to_json(c), "test");
  CHECK(model::model_config_to_json(back) == model::model_config_to_json(c));
}

TEST_CASE("config files: each architecture's keys, written back as read") {
  TempDir tmp;
  const fs::path file = tmp.path / "m.toml";
  check_config_refused(file, "[model]\narchitecture = \"rnn\"\nvocab = 10\ndim = 4\nlayers = 1\n",
                       "model.architecture = 'rnn'");
  check_config_refused(file, "[model]\nvocab = 10\ndim = 4\nstate = 4\nlayers = 1\nheads = 2\n",
                       "key 'heads' has no meaning for architecture = \"gated_ssm\"");
  check_config_refused(file, "[model]\narchitecture = \"transformer\"\nvocab = 10\ndim = 8\nstate = 4\nlayers = 1\n",
                       "key 'state' has no meaning");
  check_config_refused(file, "[model]\narchitecture = \"transformer\"\nvocab = 10\ndim = 8\nheads = 3\nmlp_hidden = 4\n"
                             "layers = 1\n",
                       "model.heads must divide model.dim");
  check_config_refused(file, "[model]\narchitecture = \"hawk\"\nvocab = 10\ndim = 8\nstate = 4\nlayers = 1\n",
                       "missing key 'mlp_hidden'");
  const fs::path dir = fs::path(BIRDIE_SOURCE_DIR) / "configs" / "model";
  for (const char* name : {"tiny", "hawk-tiny", "transformer-tiny"}) {
    CAPTURE(name);
    const auto config = model::load_model_config_toml(dir / (std::string(name) + ".toml"));
    write_text(file, "[model]\n" + model::model_config_to_toml(config));
    const auto back = model::load_model_config_toml(file);
    CHECK(model::model_config_to_json(back) == model::model_config_to_json(config));
    CHECK(model::model_config_to_json(model::model_config_from_json(model::model_config_to_json(config), "test")) ==
          model::model_config_to_json(config));
  }
}

TEST_CASE("save → load gives bitwise identical logits, optimizer state and training state") {
  TempDir tmp;
  Example ex;
  model::ModelConfig config{12, 8, 10, 2};
  model::GatedSsmLm lm(config, DType::f32, Device::cpu, 1);
  autograd::AdamW optimizer(lm.parameters(), {});
  for (int i = 0; i < 3; ++i) {  // some training so the moments are not zero
    lm.parameters().zero_grad();
    autograd::backward(lm.loss(ex.tokens, ex.targets, ex.reset).loss);
    optimizer.step(1e-2);
  }
  model::TrainingState state;
  state.step = 3;
  state.rng = {9, 2, 1234};
  state.data_position = R"({"batch": 17})";
  state.sections["bandit"] = R"({"history": [1, 2]})";
  state.tensors.emplace_back("bandit.critic", Tensor::from_values<float>({1.5f, -2.0f}, {2}));
  const autograd::OptimizerState optimizer_state = optimizer.state();
  const fs::path saved = model::save_checkpoint(tmp.path, lm, &optimizer_state, state, 3);
  CHECK(saved.filename() == "step_00000003");
  CHECK(fs::exists(saved / "DONE"));

  model::GatedSsmLm restored(model::read_checkpoint_config(saved), DType::f32, Device::cpu, 999);
  autograd::AdamW restored_optimizer(restored.parameters(), {});
  const model::TrainingState loaded = model::load_checkpoint(saved, restored, &restored_optimizer);
  autograd::NoGradGuard no_grad;
  CHECK(max_abs_difference(lm.logits(ex.tokens, ex.reset), restored.logits(ex.tokens, ex.reset)) == 0.0);
  CHECK(max_abs_difference(optimizer.second_moment(), restored_optimizer.second_moment()) == 0.0);
  CHECK(restored_optimizer.steps_taken() == 3);
  CHECK(loaded.step == 3);
  CHECK(loaded.rng == state.rng);
  CHECK(loaded.data_position == state.data_position);
  CHECK(loaded.sections.at("bandit") == state.sections.at("bandit"));
  REQUIRE(loaded.tensors.size() == 1);
  CHECK(loaded.tensors[0].second.to_vector<float>() == std::vector<float>{1.5f, -2.0f});
}

TEST_CASE("retention keeps the newest N; incomplete folders are ignored and refused") {
  TempDir tmp;
  model::GatedSsmLm lm({12, 8, 10, 2}, DType::f32, Device::cpu, 1);
  for (std::int64_t step : {10, 20, 30, 40}) {
    model::TrainingState state;
    state.step = step;
    model::save_checkpoint(tmp.path, lm, nullptr, state, 2);
  }
  CHECK_FALSE(fs::exists(tmp.path / "step_00000010"));
  CHECK_FALSE(fs::exists(tmp.path / "step_00000020"));
  CHECK(model::latest_checkpoint(tmp.path)->filename() == "step_00000040");
  // A save interrupted before DONE does not count.
  fs::create_directories(tmp.path / "step_00000050");
  fs::copy_file(tmp.path / "step_00000040" / "model.safetensors", tmp.path / "step_00000050" / "model.safetensors");
  CHECK(model::latest_checkpoint(tmp.path)->filename() == "step_00000040");
  CHECK_THROWS_WITH_AS(model::read_checkpoint_config(tmp.path / "step_00000050"),
                       doctest::Contains("is not a complete checkpoint (no DONE marker)"), Error);
  CHECK_FALSE(model::latest_checkpoint(tmp.path / "nowhere").has_value());
}

TEST_CASE("a damaged newest checkpoint: the newest good one is chosen, the problem named, nothing deleted") {
  TempDir tmp;
  model::GatedSsmLm lm({12, 8, 10, 2}, DType::f32, Device::cpu, 1);
  auto save = [&](std::int64_t step) {
    model::TrainingState state;
    state.step = step;
    return model::save_checkpoint(tmp.path, lm, nullptr, state, 2);
  };
  save(10);
  const fs::path newest = save(20);
  CHECK(model::checkpoint_problem(newest).empty());
  CHECK(*model::choose_checkpoint(tmp.path).checkpoint == newest);
  const auto weights = newest / "model.safetensors";
  const auto size = fs::file_size(weights);
  auto damaged_problem = [&] {
    const model::CheckpointChoice choice = model::choose_checkpoint(tmp.path);
    CHECK(choice.checkpoint->filename() == "step_00000010");
    REQUIRE(choice.damaged.size() == 1);
    CHECK(choice.damaged[0].first == newest);
    CHECK(fs::exists(newest));  // left where it is
    return choice.damaged[0].second;
  };

  SUBCASE("truncated") {
    fs::resize_file(weights, size / 2);
    CHECK(damaged_problem() == weights.string() + " is " + std::to_string(size / 2) + " bytes but DONE records " +
                                   std::to_string(size) + " (truncated)");
  }
  SUBCASE("a byte changed") {
    std::fstream file(weights, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(size - 5));
    file.put('\x7f');
    file.close();
    CHECK(damaged_problem().find("does not match the checksum DONE records") != std::string::npos);
  }
  SUBCASE("no DONE marker, a missing file, a garbled DONE") {
    fs::remove(newest / "DONE");
    CHECK(damaged_problem() == "no DONE marker: it was interrupted while being written");
    write_text(newest / "DONE", "complete\n");  // as written before DONE recorded checksums: the files are read
    CHECK(model::checkpoint_problem(newest).empty());
    fs::remove(newest / "training_state.safetensors");
    CHECK(damaged_problem() == (newest / "training_state.safetensors").string() + " is missing");
    write_text(newest / "DONE", "compl\x01te");
    CHECK(damaged_problem().find("is not a DONE marker") != std::string::npos);
  }
  SUBCASE("set aside (as pretrain does when it falls back), a damaged checkpoint is kept and no longer counts") {
    fs::resize_file(weights, 100);
    CHECK(model::set_aside_checkpoint(newest) == tmp.path / "step_00000020.damaged");
    CHECK(model::choose_checkpoint(tmp.path).damaged.empty());
    save(20);
    save(30);
    CHECK_FALSE(fs::exists(tmp.path / "step_00000010"));
    CHECK(fs::file_size(tmp.path / "step_00000020.damaged" / "model.safetensors") == 100);
    fs::resize_file(tmp.path / "step_00000030" / "model.safetensors", 100);
    CHECK(model::set_aside_checkpoint(tmp.path / "step_00000030") == tmp.path / "step_00000030.damaged");
    save(30);
    fs::resize_file(tmp.path / "step_00000030" / "model.safetensors", 100);
    CHECK(model::set_aside_checkpoint(tmp.path / "step_00000030") == tmp.path / "step_00000030.damaged-2");
  }
  SUBCASE("a damaged folder of the same step is set aside by the save that replaces it") {
    fs::resize_file(weights, 100);
    save(20);
    CHECK(fs::file_size(tmp.path / "step_00000020.damaged" / "model.safetensors") == 100);
    CHECK(model::checkpoint_problem(tmp.path / "step_00000020").empty());
  }
  SUBCASE("none good: an error naming every folder and its problem") {
    fs::resize_file(weights, 0);
    fs::remove(tmp.path / "step_00000010" / "DONE");
    CHECK_THROWS_WITH_AS(model::choose_checkpoint(tmp.path),
                         doctest::Contains("step_00000010: no DONE marker"), Error);
    CHECK_THROWS_WITH_AS(model::choose_checkpoint(tmp.path), doctest::Contains("is 0 bytes but DONE records"), Error);
  }
  CHECK_FALSE(model::choose_checkpoint(tmp.path / "nowhere").checkpoint.has_value());
}

TEST_CASE("corrupt and mismatched checkpoints give clear errors, never a crash") {
  TempDir tmp;
  model::GatedSsmLm lm({12, 8, 10, 2}, DType::f32, Device::cpu, 1);
  const fs::path saved = model::save_checkpoint(tmp.path, lm, nullptr, {}, 0);
  const fs::path weights = saved / "model.safetensors";
  const auto size = fs::file_size(weights);

  SUBCASE("a different model") {
    model::GatedSsmLm other({12, 8, 12, 2}, DType::f32, Device::cpu, 1);
    CHECK_THROWS_WITH_AS(model::load_checkpoint(saved, other, nullptr),
                         doctest::Contains("model.state: checkpoint 10, this model 12"), Error);
  }
  SUBCASE("a truncated file") {
    fs::resize_file(weights, size - 100);
    CHECK_THROWS_WITH_AS(model::load_checkpoint(saved, lm, nullptr), doctest::Contains("truncated or corrupt"), Error);
  }
  SUBCASE("a file cut inside its header, or a garbage header") {
    fs::resize_file(weights, 20);
    CHECK_THROWS_WITH_AS(model::read_safetensors(weights), doctest::Contains("but the file holds 12 bytes after it"), Error);
    write_text(weights, std::string("\x10\0\0\0\0\0\0\0{not json at all", 24));
    CHECK_THROWS_WITH_AS(model::read_safetensors(weights), doctest::Contains("the JSON header (bytes 8-24) is not JSON"), Error);
    write_text(weights, "abc");
    CHECK_THROWS_WITH_AS(model::read_safetensors(weights), doctest::Contains("shorter than its 8-byte header"), Error);
  }
  SUBCASE("a missing tensor") {
    auto file = model::read_safetensors(weights);
    file.tensors.erase(file.tensors.begin());
    file.metadata.erase("format");
    model::write_safetensors(weights, file.tensors, file.metadata);
    CHECK_THROWS_WITH_AS(model::load_checkpoint(saved, lm, nullptr),
                         doctest::Contains("missing tensor embedding.weight"), Error);
  }
  SUBCASE("a wrong dtype") {
    model::GatedSsmLm f64({12, 8, 10, 2}, DType::f64, Device::cpu, 1);
    CHECK_THROWS_WITH_AS(model::load_checkpoint(saved, f64, nullptr),
                         doctest::Contains("embedding.weight: checkpoint f32[12, 8] cpu, model f64[12, 8] cpu"), Error);
  }
}
