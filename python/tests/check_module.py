"""The module against the programs' outputs for one trained run (python/tests/python_module.sh).

    check_module.py RUN_FOLDER WORK NAME
reads WORK/NAME.choices.json (choice_eval), WORK/NAME.generate.MODE.txt and
WORK/NAME.greedy.MODE.txt (generate), WORK/NAME.phonebook.json (phonebook_eval).
"""

import json
import math
import sys

import numpy as np

import birdie

run, work, name = sys.argv[1], sys.argv[2], sys.argv[3]
model = birdie.Model(run, device="cpu")
print(f"{name}: {model.checkpoint}, context {model.context}, vocab {model.vocab_size}, device {model.device}")


def close(a, b, rel=1e-5):
    return abs(a - b) <= rel * max(1.0, abs(b))


# The tokenizer and the reserved tokens.
ids = model.encode("Call 555-0100 now.\n")
assert isinstance(ids, np.ndarray) and ids.dtype == np.int32 and ids.ndim == 1, (type(ids), ids.dtype)
assert model.decode(ids) == "Call 555-0100 now.\n", model.decode(ids)
assert birdie.reserved_tokens["<eos>"] == birdie.EOS == 3 and birdie.reserved_tokens["<sg>"] == 4
assert birdie.symbol(birdie.mode_token("prefix_lm")) == "<prefix_lm>" and birdie.mode_token("none") is None
with_reserved = np.concatenate([[birdie.reserved_tokens["<extra_id_0>"]], ids])
assert model.decode(with_reserved, reserved=False) == "Call 555-0100 now.\n"
assert model.decode(with_reserved).startswith("<extra_id_0>")
assert model.tokenizer.vocab_size == model.vocab_size

# Log-likelihoods: choice_eval's losses, item by item, choice by choice; the path that also
# computes greedy flags (and the ntp layout's) gives the same numbers.
mc = json.load(open(f"{work}/{name}.choices.json"))
items = [json.loads(line) for line in open("tests/fixtures/choices.jsonl") if line.strip()]
pairs = []
for item, record in zip(items, mc["records"]):
    scored = model.score_choices(item["prompt"], item["choices"])
    assert scored["loss_sum"].dtype == np.float64
    assert all(close(a, b) for a, b in zip(scored["loss_sum"], record["loss_sum"])), (scored, record)
    assert all(close(a, b) for a, b in zip(scored["loss_mean"], record["loss_mean"])), (scored, record)
    assert list(scored["tokens"]) == record["choice_tokens"], (scored, record)
    assert scored["prediction"] == record["prediction"] and scored["prediction_sum"] == record["prediction_sum"]
    pairs += [(item["prompt"], c) for c in item["choices"]]
plain = model.loglikelihood(pairs)
flagged, greedy = model.loglikelihood(pairs, greedy=True)
assert plain.dtype == np.float64 and greedy.dtype == np.bool_ and plain.shape == (len(pairs),)
assert all(close(a, b) for a, b in zip(plain, flagged)), (plain, flagged)
expected = [-loss for record in mc["records"] for loss in record["loss_sum"]]
assert all(close(a, b) for a, b in zip(plain, expected)), (plain, expected)
# ntp: the context read causally after <ntp> <sg>; its log-likelihood plus the
# continuation's given it is the whole text's.
text = model.encode("The fortune says")
whole, _, _ = model.loglikelihood_tokens([[]], [text], mode="ntp")
head, _, _ = model.loglikelihood_tokens([[]], [text[:2]], mode="ntp")
tail, _, _ = model.loglikelihood_tokens([text[:2]], [text[2:]], mode="ntp")
assert close(whole[0], head[0] + tail[0]), (whole, head, tail)
assert all(math.isfinite(x) and x < 0 for x in plain)
print(f"  log-likelihoods = choice_eval's ({len(pairs)} choices)")

# Generation: generate's text, sampled and greedy, in each mode.
for mode in ("ntp", "prefix_lm", "none"):
    sampled = open(f"{work}/{name}.generate.{mode}.txt").read()[:-1]
    mine = model.generate("The fortune says", max_tokens=12, temperature=0.8, top_k=50, top_p=0.9, seed=7, mode=mode)
    assert mine == sampled, (mode, mine, sampled)
    greedy_text = open(f"{work}/{name}.greedy.{mode}.txt").read()[:-1]
    mine = model.generate("The fortune says", max_tokens=12, mode=mode, reserved=True)
    assert mine == greedy_text, (mode, mine, greedy_text)
tokens = model.generate_tokens(model.encode("The fortune says"), max_tokens=5)
assert tokens.dtype == np.int32 and len(tokens) <= 5
assert birdie.cut_at_stop("abc. def", ["."]) == "abc" and birdie.cut_at_stop("abc", None) == "abc"
print("  generation = generate's (ntp, prefix_lm, none; sampled and greedy)")

# Phone books: phonebook_eval's books, shrunk alike, and its answers.
pb = json.load(open(f"{work}/{name}.phonebook.json"))
mine = model.phonebook(entries=[4, 64], queries=[1, 2], books=2, seed=1)
assert len(mine["cases"]) == len(pb["cases"]) and mine["skipped_cases"] == pb["skipped_cases"], (mine, pb)
for a, b in zip(mine["cases"], pb["cases"]):
    for key in ("entries", "requested_entries", "queries", "prompt_tokens", "answer", "generated", "generated_raw"):
        assert a[key] == b[key], (key, a[key], b[key])
    assert close(a["digit_accuracy"], b["digit_accuracy"], 1e-12)
assert close(mine["accuracy"], pb["accuracy"], 1e-12), (mine["accuracy"], pb["accuracy"])
print(f"  phone books = phonebook_eval's ({len(pb['cases'])} cases, accuracy {pb['accuracy']:.3f})")

# Errors carry the engine's message.
for call, message in [(lambda: birdie.Model(f"{work}/no-such-run"), "does not exist"),
                      (lambda: model.generate("x", mode="sideways"), "is not a mode"),
                      (lambda: model.loglikelihood_tokens([[1]], [[]]), "has no tokens"),
                      (lambda: model.generate("x", top_p=0), "top_p"),
                      (lambda: model.decode([model.vocab_size]), "outside the vocabulary"),
                      (lambda: model.loglikelihood_tokens([[-1]], [[5]]), "outside the vocabulary"),
                      (lambda: model.decode([1.5]), "must be integers")]:
    try:
        call()
    except (birdie.Error, ValueError, TypeError) as e:
        assert message in str(e), (message, str(e))
    else:
        raise AssertionError(f"no error for {message}")
try:
    birdie.Model(f"{work}/no-such-run")
except birdie.Error as e:
    assert isinstance(e, RuntimeError)

# The harness model's rolling log-likelihood: the text causally after <ntp> <sg>, in
# windows of the context.
if name == "ssm":
    from birdie.lm_eval_model import BirdieLM

    class Request:
        def __init__(self, *args):
            self.args = args

    lm = BirdieLM(checkpoint=run, device="cpu")
    short = "The fortune says nothing at all."
    rolled = lm.loglikelihood_rolling([Request(short)], disable_tqdm=True)[0]
    direct, _, _ = model.loglikelihood_tokens([[]], [model.encode(short)], mode="ntp")
    assert close(rolled, direct[0]), (rolled, direct)
    long_text = " ".join(["the fortune says nothing at all"] * 80)
    assert len(model.encode(long_text)) > model.context
    rolled = lm.loglikelihood_rolling([Request(long_text)], disable_tqdm=True)[0]
    assert math.isfinite(rolled) and rolled < direct[0], rolled
    # An over-long context loses its start: the same as the context's end alone.
    ctx = model.encode(long_text)
    cont = model.encode(" says")
    (ll, greedy_flag), = lm.loglikelihood([Request(long_text, " says")], disable_tqdm=True)
    cut, _, _ = model.loglikelihood_tokens([ctx[len(ctx) - (model.context - len(cont)):]], [cont])
    assert close(ll, cut[0]), (ll, cut)
    print("  the harness model's rolling and truncated log-likelihoods")
