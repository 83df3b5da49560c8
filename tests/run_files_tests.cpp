// The files of a run (training/, birdie_run_files) and of an experiment (apps/common,
// birdie_experiment_files): the run configuration written back into the run folder, the logs a resumed run keeps and checks, the
// experiment's state file. Bad contents are errors naming the file, the line or key, and
// what was expected.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include "apps/common/experiment_state.h"
#include "training/jsonl_log.h"
#include "training/run_config.h"
#include "training/run_logs.h"
#include "data/temporary_folder.h"
#include "engine/error.h"

using namespace birdie;
namespace fs = std::filesystem;

namespace {
void write_text(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string source_config() {
  std::ifstream in(fs::path(BIRDIE_SOURCE_DIR) / "configs" / "tiny-cpu.toml");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
}  // namespace

TEST_CASE("the effective configuration reads back the same: quotes, backslashes, exact numbers") {
  data::testing::TemporaryFolder dir("birdie_run_config");
  std::string text = source_config();
  text.replace(text.find("output = \"runs/tiny-cpu\""), 24, "output = 'runs/a\"b\\c'");
  text.replace(text.find("lr = 3e-3"), 9, "lr = 1.2345678901234567e-3");
  write_text(dir.path / "run.toml", text);
  const training::RunConfig c = training::load_run_config(dir.path / "run.toml", {});
  CHECK(c.output == "runs/a\"b\\c");
  write_text(dir.path / "config.toml", training::run_config_to_toml(c));
  const training::RunConfig back = training::load_run_config(dir.path / "config.toml", {});
  CHECK(back.output == c.output);
  CHECK(back.lr == c.lr);
  CHECK(back.min_lr_ratio == c.min_lr_ratio);
}

TEST_CASE("every real-valued key of the effective configuration reads back equal, whatever its value") {
  // Whole numbers past 2^63 (whose shortest text has no point: TOML would read an integer,
  // out of range), -0, the smallest denormal, the largest double, 17 significant digits.
  data::testing::TemporaryFolder dir("birdie_run_config_numbers");
  write_text(dir.path / "run.toml", source_config());
  for (const double value : {184467440737095516160.0006, 1e30, 1e300, 4.9406564584124654e-324, 1.7976931348623157e308,
                             0.1 + 0.2, 123456789.0, 0.0, -0.0, 1.0, 2.5e-8}) {
    CAPTURE(value);
    training::RunConfig c = training::load_run_config(dir.path / "run.toml", {});
    // Each key takes the value where its rules allow it, a nearby allowed one where not.
    const auto share = [](double v) { return std::fabs(v) <= 1 ? v : 1 / v; };
    c.lr = value > 0 ? value : 1e-3;
    c.min_lr_ratio = std::fabs(share(value));
    c.beta1 = c.beta2 = std::fabs(share(value)) < 1 ? std::fabs(share(value)) : 0.5;
    c.weight_decay = c.eps = c.clip = value;
    c.bucket_mib = value > 0 && value <= (1 << 20) ? value : 7;
    c.model.norm_eps = value > 0 ? value : 1e-5;
    const std::string written = training::run_config_to_toml(c);
    write_text(dir.path / "config.toml", written);
    training::RunConfig back = training::load_run_config(dir.path / "config.toml", {});
    back.source = c.source;  // named in the first line
    for (const auto& [a, b] : {std::pair{c.lr, back.lr}, {c.min_lr_ratio, back.min_lr_ratio}, {c.beta1, back.beta1},
                               {c.beta2, back.beta2}, {c.weight_decay, back.weight_decay}, {c.eps, back.eps},
                               {c.clip, back.clip}, {c.bucket_mib, back.bucket_mib}, {c.class_floor, back.class_floor},
                               {c.model.norm_eps, back.model.norm_eps}, {c.model.rope_base, back.model.rope_base}}) {
      CHECK(a == b);
      CHECK(std::signbit(a) == std::signbit(b));
    }
    CHECK(training::run_config_to_toml(back) == written);
  }
}

TEST_CASE("run configurations: whole numbers from integers only, keep_checkpoints 0 or at least 2") {
  data::testing::TemporaryFolder dir("birdie_run_config_refused");
  const auto refused = [&](const std::string& from, const std::string& to, const char* message) {
    std::string text = source_config();
    text.replace(text.find(from), from.size(), to);
    write_text(dir.path / "run.toml", text);
    CHECK_THROWS_WITH_AS(training::load_run_config(dir.path / "run.toml", {}), doctest::Contains(message), Error);
  };
  refused("warmup_steps = 20", "warmup_steps = 1e300", "optimizer.warmup_steps must be a whole number");
  refused("keep_checkpoints = 2", "keep_checkpoints = 1", "schedule.keep_checkpoints must be at least 2");
  refused("bidirectional = \"alternate\"", "bidirectional = \"sideways\"", "run.toml [model]: model.bidirectional");
  refused("dim = 128", "dim = 1099511627776", "model.dim must be at most 2^24");
  write_text(dir.path / "run.toml", source_config());
  CHECK(training::load_run_config(dir.path / "run.toml", {"schedule.keep_checkpoints=0"}).keep_checkpoints == 0);
}

TEST_CASE("run logs: a resumed run keeps the lines up to its step, checked, and rewrites the file") {
  data::testing::TemporaryFolder dir("birdie_run_logs");
  const fs::path path = dir.path / "metrics.jsonl";
  write_text(path, "{\"step\": 1, \"loss\": 2.5}\n{\"step\": 2, \"skipped\": true}\n{\"step\": 3, \"loss\": 2.1}\n"
                   "{\"step\": 4, \"lo");  // the last line cut short by a crash
  const auto check = [](const std::string& line, const std::string& where) {
    (void)training::parse_metrics_line(line, where);
  };
  {
    training::JsonlLog log(path, 2, true, check);
    CHECK(log.lines().size() == 2);
    log.append("{\"step\": 3, \"loss\": 2.0}");
  }
  std::ifstream in(path);
  const std::string kept{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  CHECK(kept == "{\"step\": 1, \"loss\": 2.5}\n{\"step\": 2, \"skipped\": true}\n{\"step\": 3, \"loss\": 2.0}\n");

  write_text(path, "{\"step\": 1, \"loss\": 2.5}\n{\"step\": 2, \"loss\": \"low\"}\n");
  const std::string message = path.string() + ":2: field 'loss': expected a finite number, got \"low\"";
  CHECK_THROWS_WITH_AS(training::JsonlLog(path, 5, true, check), doctest::Contains(message.c_str()), Error);
  CHECK(training::parse_metrics_line("{\"step\": 7, \"skipped\": true}", "m:1").loss == std::nullopt);
  CHECK_THROWS_WITH_AS(training::parse_metrics_line("{\"step\": 7}", "m:1"), doctest::Contains("m:1: field 'loss': missing"),
                       Error);

  const training::EvaluationLine e = training::parse_evaluation_line(
      "{\"step\": 4, \"losses\": {\"a\": 1.0, \"b\": null, \"c\": 3.0}, \"mixture_by_class\": {\"copying\": 0.25}}", "e:1");
  CHECK(e.step == 4);
  CHECK(*e.mean_loss == 2.0);
  CHECK(e.mixture_by_class.at("copying") == 0.25);
  CHECK_THROWS_WITH_AS(training::parse_evaluation_line("{\"step\": 4, \"losses\": {}, \"mixture_by_class\": [1]}", "e:3"),
                       doctest::Contains("e:3: field 'mixture_by_class'"), Error);
  CHECK_THROWS_WITH_AS(training::parse_evaluation_line("[4]", "e:9"), doctest::Contains("e:9: expected a JSON object"), Error);
}

TEST_CASE("the experiment's state file: read, written back, and refused when it is not one") {
  data::testing::TemporaryFolder dir("birdie_experiment_state");
  const fs::path path = dir.path / "experiment_state.json";
  CHECK(apps::read_experiment_state(path).empty());  // nothing done yet
  apps::write_experiment_state(path, {{"pretrain", 12.5}, {"evaluate", 3}});
  CHECK(apps::read_experiment_state(path) == apps::ExperimentState{{"evaluate", 3}, {"pretrain", 12.5}});
  const auto refused = [&](const std::string& text, const char* message) {
    write_text(path, text);
    CHECK_THROWS_WITH_AS(apps::read_experiment_state(path), doctest::Contains(message), Error);
  };
  refused("{\"pretrain\": ", "experiment_state.json is not valid JSON. Fix: delete it");
  refused("[1]", "is not a JSON object");
  refused("{\"pretrain\": \"done\"}", "experiment_state.json: key 'pretrain': expected the step's duration in seconds");
  refused("{\"finetune\": 1}", "unknown key 'finetune'");
}
