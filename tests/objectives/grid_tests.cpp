// The configuration grid file and the mixtures (docs/method.md §3).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "engine/error.h"
#include "objectives/mixture.h"
#include "objectives/objective_grid.h"

namespace birdie::objectives {
namespace {

std::string error_of(std::string_view toml) {
  try {
    parse_objective_grid(toml, "test_grid.toml");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("default grid: about 100 configurations in 7 classes, every one possible") {
  const ObjectiveGrid grid = load_objective_grid(default_grid_path());
  CHECK(grid.configs.size() >= 95);
  CHECK(grid.configs.size() <= 110);
  const auto by_class = grid.indices_by_class();
  for (const auto& members : by_class) CHECK(!members.empty());
  for (const auto& config : grid.configs) CHECK(configuration_problem(config).empty());
  // The one combination of §3 whose expected spans do not fit is absent.
  for (const auto& config : grid.configs)
    if (auto* p = std::get_if<InfillingParams>(&config.params))
      CHECK_FALSE((p->corruption_rate == 0.05 && p->mean_span == 32 && p->max_len == 256));
  CHECK(grid.index_of("infilling_p15_s3_l512") < grid.configs.size());
  CHECK(std::holds_alternative<AutoencodingParams>(grid.configs[grid.index_of("autoencoding_deshuffle_p50_s8_l768")].params));
  CHECK(std::get<AutoencodingParams>(grid.configs[grid.index_of("autoencoding_deshuffle_p50_s8_l768")].params).deshuffle);
}

TEST_CASE("grid: every parameter is read, none silently ignored") {
  const ObjectiveGrid grid = parse_objective_grid(R"(
paradigm = "suffix"
objectives = [
  { class = "selective_copying", name = "sc", query = "last", min_context = 500, max_context = 600, min_spans = 2, max_spans = 3, min_span_len = 5, max_span_len = 9, min_delimiter = 2, max_delimiter = 3 },
  { class = "autoencoding", corruption_rate = 0.25, mean_span = 4, max_len = 300, deshuffle = true, paradigm = "none" },
  { class = "deshuffling", shuffle_fraction = 0.75, min_len = 40, max_len = 50 },
]
)",
                                                  "inline");
  REQUIRE(grid.configs.size() == 3);
  const auto& sc = std::get<SelectiveCopyingParams>(grid.configs[0].params);
  CHECK(sc == SelectiveCopyingParams{500, 600, 2, 3, 5, 9, 2, 3, false});
  CHECK(grid.configs[0].name == "sc");
  CHECK(grid.configs[0].paradigm == ParadigmPlacement::suffix);
  CHECK(std::get<AutoencodingParams>(grid.configs[1].params) == AutoencodingParams{0.25, 4, 300, true});
  CHECK(grid.configs[1].paradigm == ParadigmPlacement::none);
  CHECK(std::get<DeshufflingParams>(grid.configs[2].params) == DeshufflingParams{40, 50, 0.75});
  CHECK(grid.configs[2].name == "deshuffling_f75_l40_50");
}

TEST_CASE("grid: bad entries are rejected with a message naming the entry and the fix") {
  const std::string impossible = error_of(R"(objectives = [
  { class = "next_token" },
  { class = "infilling", corruption_rate = 0.05, mean_span = 32, max_len = 256 },
])");
  CHECK(contains(impossible, "test_grid.toml:3"));
  CHECK(contains(impossible, "objectives[1]"));
  CHECK(contains(impossible, "infilling_p5_s32_l256"));
  CHECK(contains(impossible, "impossible"));
  CHECK(contains(impossible, "320"));

  const std::string unknown = error_of(R"(objectives = [ { class = "copying", min_len = 20, maxlen = 30 } ])");
  CHECK(contains(unknown, "unknown key 'maxlen'"));
  CHECK(contains(unknown, "objectives[0]"));

  CHECK(contains(error_of(R"(objectives = [ { class = "copy" } ])"), "unknown class \"copy\""));
  CHECK(contains(error_of(R"(objectives = [ { mean_span = 3 } ])"), "missing key 'class'"));
  CHECK(contains(error_of(R"(objectives = [ { class = "infilling", max_len = "big" } ])"), "must be an integer"));
  CHECK(contains(error_of(R"(objectives = [ { class = "copying", paradigm = "middle" } ])"), "not a placement"));
  CHECK(contains(error_of(R"(objectives = [ { class = "copying" }, { class = "copying" } ])"), "duplicate name"));
  CHECK(contains(error_of(R"(objectives = [ { class = "copying", min_len = 300, max_len = 200 } ])"), "below its minimum"));
  CHECK(contains(error_of(R"(objectives = [ { class = "deshuffling", shuffle_fraction = 0 } ])"), "shuffle_fraction"));
  CHECK(contains(error_of(R"(objectives = [ { class = "selective_copying", min_context = 100 } ])"), "min_context"));
  // Sizes near INT_MAX: the region a span needs is their sum (need at least 6442450941, not a wrapped int).
  CHECK(contains(error_of(R"(objectives = [ { class = "selective_copying", min_context = 2147483647, )"
                          R"(max_context = 2147483647, max_spans = 3, max_span_len = 2147483647, )"
                          R"(max_delimiter = 2147483647 } ])"),
                 "need at least 19327352823"));
  CHECK(contains(error_of("grid = 3\nobjectives = [ { class = \"copying\" } ]"), "unknown top-level key 'grid'"));
  CHECK(contains(error_of("objectives = [ { class = "), "TOML syntax error"));
  CHECK(contains(error_of("paradigm = \"random\"\n"), "no 'objectives' array"));
}

TEST_CASE("mixtures: uniform over classes then within, ntp, ul2 exactly as §3, user weights") {
  const ObjectiveGrid grid = load_objective_grid(default_grid_path());
  const Mixture uniform = uniform_mixture(grid);
  std::array<double, objective_class_count> per_class{};
  for (std::size_t i = 0; i < uniform.configs.size(); ++i)
    per_class[static_cast<std::size_t>(uniform.configs[i].objective_class())] += uniform.weights[i];
  for (double w : per_class) CHECK(w == doctest::Approx(1.0 / 7));
  // Within a class, equal weights.
  const auto by_class = grid.indices_by_class();
  for (const auto& members : by_class)
    for (std::size_t i : members) CHECK(uniform.weights[i] == doctest::Approx(uniform.weights[members[0]]));

  const Mixture ntp = next_token_mixture();
  REQUIRE(ntp.configs.size() == 1);
  CHECK(ntp.configs[0].objective_class() == ObjectiveClass::next_token);

  const Mixture ul2 = ul2_mixture();
  REQUIRE(ul2.configs.size() == 7);
  struct Expected { double rate, mean, weight; };
  const Expected spans[] = {{0.15, 3, 0.2}, {0.15, 8, 0.2}, {0.5, 3, 0.1}, {0.5, 8, 0.1}, {0.15, 64, 0.1}, {0.5, 64, 0.1}};
  for (int i = 0; i < 6; ++i) {
    const auto& p = std::get<InfillingParams>(ul2.configs[static_cast<std::size_t>(i)].params);
    CHECK(p.corruption_rate == spans[i].rate);
    CHECK(p.mean_span == spans[i].mean);
    CHECK(ul2.weights[static_cast<std::size_t>(i)] == doctest::Approx(spans[i].weight));
  }
  CHECK(ul2.configs[6].objective_class() == ObjectiveClass::prefix_lm);
  CHECK(ul2.weights[6] == doctest::Approx(0.2));

  const auto dir = std::filesystem::temp_directory_path() / "birdie_mixture_test";
  std::filesystem::create_directories(dir);
  const auto path = dir / "weights.toml";
  std::ofstream(path) << "[weights]\ninfilling_p15_s3_l512 = 3\ncopying_l128_256 = 1\n";
  const Mixture user = load_mixture_weights(path, grid);
  CHECK(user.weights[grid.index_of("infilling_p15_s3_l512")] == doctest::Approx(0.75));
  CHECK(user.weights[grid.index_of("copying_l128_256")] == doctest::Approx(0.25));
  // Finite weights whose sum is not (two of 1e308): still a mixture, half and half.
  std::ofstream(path) << "[weights]\ninfilling_p15_s3_l512 = 1e308\ncopying_l128_256 = 1.5e308\n";
  const Mixture huge = load_mixture_weights(path, grid);
  CHECK(huge.weights[grid.index_of("infilling_p15_s3_l512")] == doctest::Approx(0.4));
  CHECK(huge.weights[grid.index_of("copying_l128_256")] == doctest::Approx(0.6));
  std::ofstream(path) << "[weights]\nno_such_arm = 3\n";
  CHECK_THROWS_WITH_AS(load_mixture_weights(path, grid), doctest::Contains("no_such_arm"), Error);
  std::ofstream(path) << "[weights]\ncopying_l128_256 = -1\n";
  CHECK_THROWS_WITH_AS(load_mixture_weights(path, grid), doctest::Contains("non-negative"), Error);
  CHECK(named_mixture("ul2", grid).name == "ul2");
  // A name the file system refuses (longer than NAME_MAX) is not a weights file: an Error, not a filesystem_error.
  CHECK_THROWS_WITH_AS(named_mixture(std::string(300, 'w'), grid), doctest::Contains("File name too long"), Error);
  const Mixture example = named_mixture((default_grid_path().parent_path() / "example_mixture.toml").string(), grid);
  CHECK(example.weights[grid.index_of("next_token")] == doctest::Approx(4.0 / 12));
  CHECK(example.weights[grid.index_of("selective_copying_query_last_c384_768")] == doctest::Approx(1.0 / 12));
  CHECK_THROWS_AS(named_mixture("no-such-mixture", grid), Error);
}

TEST_CASE("mixture draws follow the weights") {
  const ObjectiveGrid grid = load_objective_grid(default_grid_path());
  const Mixture ul2 = ul2_mixture();
  RandomGenerator rng(11);
  std::vector<int> counts(ul2.configs.size());
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) ++counts[ul2.draw(rng)];
  for (std::size_t i = 0; i < counts.size(); ++i)
    CHECK(static_cast<double>(counts[i]) / draws == doctest::Approx(ul2.weights[i]).epsilon(0.1));
}

}  // namespace birdie::objectives
