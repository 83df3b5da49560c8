#!/usr/bin/env bash
# The Python module (python/birdie) against the programs, on the CPU, without a network:
# tiny models of every architecture trained here for a few steps (the Gated SSM with
# alternate bidirectional blocks and causal, Hawk, the Transformer); for each, the module's
# log-likelihoods equal choice_eval's losses, its generation generate's text, its phone
# books phonebook_eval's answers (python/tests/check_module.py); then lm-evaluation-harness's
# own command line with the model "birdie" (registered by the package's start-up hook) on
# the repository's tasks (python/tests/tasks: multiple choice
# and question answering on tests/fixtures) gives choice_eval's and qa_eval's scores.
#   python/tests/python_module.sh BUILD_DIR SOURCE_DIR PYTHON
# Needs numpy and lm_eval (bash scripts/setup_python.sh installs them).
set -euo pipefail
build=$(cd "$1" && pwd)
cd "$2"
python=$3
if [ -x .venv/bin/python ]; then python=$PWD/.venv/bin/python; fi
apps=$build/apps
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PYTHONPATH="$build/python${PYTHONPATH:+:$PYTHONPATH}"
# No network: the harness reads the local JSONL files and caches nothing outside $work.
export HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 HF_HOME="$work/hf" HF_DATASETS_CACHE="$work/hf/datasets"
export TOKENIZERS_PARALLELISM=false

step() { printf '\n== %s\n' "$*"; }

step "the module imports, with numpy and lm_eval"
if ! "$python" -c "import numpy, lm_eval" 2>/dev/null; then
  echo "numpy or lm_eval is missing for $python: run bash scripts/setup_python.sh" >&2
  exit 1
fi
"$python" -c "import birdie, lm_eval; print('birdie from', birdie.__file__, '; lm_eval', lm_eval.__version__)"

step "prepare a small data set"
"$apps/prepare_data" --out "$work/data" --vocab 1024 > "$work/prepare.log"

# configs/tiny-cpu.toml without its Gated SSM keys, for the other architectures.
sed -e '/^forget_init/d' -e '/^state/d' configs/tiny-cpu.toml > "$work/tiny-other.toml"
tiny=(--set data.path="\"$work/data\"" --set model.vocab=1024 --set model.dim=32
  --set model.layers=2 --set batch.sequence_length=256 --set batch.rows=2 --set batch.min_pack_tokens=32
  --set schedule.steps=3 --set schedule.log_every=1 --set schedule.checkpoint_every=100
  --set optimizer.warmup_steps=1 --set objectives.validation_samples=1 --set objectives.candidates=64
  --set objectives.critic_iterations=20)
# BIRDIE_PYTHON_TEST_MODELS: a subset, to debug (the harness runs on the first).
names=(${BIRDIE_PYTHON_TEST_MODELS:-ssm ssm_causal hawk transformer})
for name in "${names[@]}"; do
  step "pretrain a tiny model: $name"
  case $name in
    ssm) extra=(--config configs/tiny-cpu.toml --set model.state=64) ;;
    ssm_causal) extra=(--config configs/tiny-cpu.toml --set model.state=64 --set 'model.bidirectional="none"') ;;
    hawk) extra=(--config "$work/tiny-other.toml" --set 'model.architecture="hawk"' --set model.state=64
                 --set model.mlp_hidden=64) ;;
    transformer) extra=(--config "$work/tiny-other.toml" --set 'model.architecture="transformer"' --set model.heads=2
                        --set model.mlp_hidden=64) ;;
  esac
  "$apps/pretrain" "${extra[@]}" "${tiny[@]}" --set run.output="\"$work/$name\"" > "$work/$name.log"
  tail -1 "$work/$name.log"

  step "the programs on $name"
  "$apps/choice_eval" --checkpoint "$work/$name" --data tests/fixtures/choices.jsonl --json "$work/$name.choices.json" \
    > /dev/null
  for mode in ntp prefix_lm none; do
    "$apps/generate" --checkpoint "$work/$name" --prompt "The fortune says" --max-tokens 12 --temperature 0.8 \
      --top-k 50 --top-p 0.9 --seed 7 --mode $mode > "$work/$name.generate.$mode.txt" 2> /dev/null
    "$apps/generate" --checkpoint "$work/$name" --prompt "The fortune says" --max-tokens 12 --mode $mode \
      --show-reserved > "$work/$name.greedy.$mode.txt" 2> /dev/null
  done
  "$apps/phonebook_eval" --checkpoint "$work/$name" --entries 4,64 --queries 1,2 --books 2 \
    --json "$work/$name.phonebook.json" > /dev/null

  step "the module on $name equals them"
  "$python" python/tests/check_module.py "$work/$name" "$work" "$name"
done

step "lm-evaluation-harness: the model birdie on the repository's tasks"
"$apps/qa_eval" --checkpoint "$work/${names[0]}" --data tests/fixtures/qa.jsonl --max-answer-tokens 8 --context 1024 \
  --json "$work/qa.json" > /dev/null
# lm_eval's own command line (python -m lm_eval) with the build folder read as a site
# directory: its birdie_lm_eval.pth runs the start-up hook, as in an installed package.
lm_eval_with_hook=("$python" -c 'import runpy, site, sys; site.addsitedir(sys.argv.pop(1))
runpy.run_module("lm_eval", run_name="__main__", alter_sys=True)' "$build/python")
"${lm_eval_with_hook[@]}" run --model birdie --model_args "checkpoint=$work/${names[0]},device=cpu,context=1024" \
  --tasks birdie_choices,birdie_qa --include_path python/tests/tasks --output_path "$work/harness" --log_samples \
  2>&1 | tee "$work/harness.log" | grep -v -i "warn" | tail -20
# python -m birdie.lm_eval_cli (for a build folder on PYTHONPATH) registers the same class,
# and lm_eval's own models stay registered beside it.
"$python" -c 'import birdie.lm_eval_cli, birdie.lm_eval_model as m
from lm_eval.api.registry import get_model
assert get_model("birdie") is m.BirdieLM and get_model("dummy").__name__ == "DummyLM"
print("birdie.lm_eval_cli: the model birdie is", get_model("birdie").__module__)'
"$python" - "$work" "${names[0]}" <<'PY'
import glob, json, sys
work, name = sys.argv[1], sys.argv[2]
results = json.load(open(sorted(glob.glob(f"{work}/harness/**/results_*.json", recursive=True))[-1]))["results"]
mc, qa = json.load(open(f"{work}/{name}.choices.json")), json.load(open(f"{work}/qa.json"))
choices, answers = results["birdie_choices"], results["birdie_qa"]
print("harness:", {k: v for k, v in choices.items() if "stderr" not in k}, {k: v for k, v in answers.items() if "stderr" not in k})
assert mc["skipped"] == 0 and qa["skipped"] == 0, (mc["skipped"], qa["skipped"])
assert abs(choices["acc,none"] - mc["accuracy_sum"]) < 1e-12, (choices["acc,none"], mc["accuracy_sum"])
all_row = next(row for row in qa["table"] if row["bucket"] == "all")
for metric in ("contains", "f1", "exact"):
    assert abs(answers[f"{metric},none"] - all_row[metric]) < 1e-9, (metric, answers[f"{metric},none"], all_row[metric])
# Sample by sample: the harness's log-likelihoods are choice_eval's losses, its answers qa_eval's.
samples = {}
for path in glob.glob(f"{work}/harness/**/samples_*.jsonl", recursive=True):
    task = "birdie_choices" if "birdie_choices" in path else "birdie_qa"
    samples[task] = sorted((json.loads(l) for l in open(path)), key=lambda s: s["doc_id"])
for sample, record in zip(samples["birdie_choices"], mc["records"]):
    lls = [float(r[0]) for r in sample["filtered_resps"]]
    assert all(abs(ll + loss) <= 1e-5 * max(1.0, loss) for ll, loss in zip(lls, record["loss_sum"])), (lls, record)
assert len(samples["birdie_choices"]) == len(mc["records"])
for sample, record in zip(samples["birdie_qa"], qa["records"]):
    assert sample["filtered_resps"][0] == record["generated"], (sample["filtered_resps"], record["generated"])
assert len(samples["birdie_qa"]) == len(qa["records"])
print(f"harness = choice_eval (acc {choices['acc,none']:.3f}) and qa_eval (contains {all_row['contains']:.3f}, "
      f"f1 {all_row['f1']:.3f}), sample by sample")
PY
echo "python module: all checks passed"
