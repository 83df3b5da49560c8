# The readers' fuzz harnesses (tests/fuzz/<name>_fuzz.cpp): the libraries each links, its
# seed inputs (files or folders, from the repository root: the project's own fixtures and
# configurations, and tests/fuzz/seeds/ for formats no fixture holds) and the number of
# mutated inputs a CI run tries (a few seconds each under the sanitizers). Inputs that
# once failed are kept in tests/fuzz/regressions/<name>/ and replayed with the seeds.
# Read by tests/fuzz/CMakeLists.txt (the executables) and tests/fuzz.cmake (the tests),
# each defining birdie_fuzz_harness() its own way.
birdie_fuzz_harness(safetensors LIBS birdie_model_files RUNS 4000
  SEEDS tests/fixtures/twin tests/fixtures/hawk_twin tests/fixtures/transformer_twin tests/fuzz/seeds/safetensors)
birdie_fuzz_harness(done_marker LIBS birdie_model_files RUNS 10000
  SEEDS tests/fuzz/seeds/done_marker)
birdie_fuzz_harness(model_config LIBS birdie_model_files tomlplusplus::tomlplusplus RUNS 20000
  SEEDS configs/model)
birdie_fuzz_harness(run_config LIBS birdie_run_files RUNS 10000
  SEEDS configs/tiny-cpu.toml configs/small-gpu.toml configs/base-gpu.toml configs/paper-1.4b.toml
        configs/experiments/micro-cpu-run.toml configs/experiments/micro-cpu-hawk-run.toml
        configs/experiments/micro-cpu-transformer-run.toml configs/experiments/small-gpu-run.toml)
birdie_fuzz_harness(experiment_config LIBS birdie_experiment_files RUNS 20000
  SEEDS configs/experiments/micro-cpu.toml configs/experiments/small-gpu.toml
        configs/experiments/small-gpu-short-spans.toml configs/experiments/micro-cpu-retrieval.toml)
birdie_fuzz_harness(objective_grid LIBS birdie_objectives RUNS 3000
  SEEDS configs/objectives/default_grid.toml configs/objectives/micro_grid.toml)
birdie_fuzz_harness(mixture LIBS birdie_objectives RUNS 10000
  SEEDS configs/objectives/example_mixture.toml)
birdie_fuzz_harness(manifest LIBS birdie_data RUNS 20000
  SEEDS tests/fuzz/seeds/manifest)
birdie_fuzz_harness(token_shard LIBS birdie_data RUNS 20000
  SEEDS tests/fuzz/seeds/token_shard)
birdie_fuzz_harness(corpus_jsonl LIBS birdie_data RUNS 5000
  SEEDS tests/fuzz/seeds/corpus_jsonl tests/fixtures/qa.jsonl)
birdie_fuzz_harness(corpus_jsonl_zst LIBS birdie_data RUNS 4000
  SEEDS tests/fuzz/seeds/corpus_jsonl_zst)
birdie_fuzz_harness(qa LIBS birdie_data RUNS 20000
  SEEDS tests/fixtures/qa.jsonl)
birdie_fuzz_harness(choices LIBS birdie_data RUNS 20000
  SEEDS tests/fixtures/choices.jsonl)
birdie_fuzz_harness(phonebook_cases LIBS birdie_data RUNS 20000
  SEEDS tests/fuzz/seeds/phonebook_cases)
birdie_fuzz_harness(run_logs LIBS birdie_run_files RUNS 5000
  SEEDS tests/fuzz/seeds/run_logs)
birdie_fuzz_harness(experiment_state LIBS birdie_experiment_files RUNS 20000
  SEEDS tests/fuzz/seeds/experiment_state)
birdie_fuzz_harness(tokenizer LIBS birdie_data RUNS 2000
  SEEDS tests/fuzz/seeds/tokenizer)
