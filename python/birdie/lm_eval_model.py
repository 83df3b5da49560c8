"""The lm-evaluation-harness model "birdie": a trained birdie model under lm_eval's
loglikelihood, loglikelihood_rolling and generate_until requests.

With the package installed, lm_eval's own command line finds the model (the start-up hook
birdie_lm_eval_hook.py registers it lazily); importing this module registers it too, which
`python -m birdie.lm_eval_cli` does for a build folder:

    lm_eval run --model birdie --model_args checkpoint=runs/x,device=cuda --tasks arc_easy,hellaswag

Model arguments: checkpoint (a run or checkpoint folder), device (cpu or cuda), tokenizer,
precision (auto, fp32, bf16), context (the longest row; default the run's training
sequence length), mode (how a context is laid out, default "none": in the bidirectional
prefix, as choice_eval and qa_eval read their prompts; "ntp": read causally after <ntp> <sg>;
or a paradigm mode), batch_size (requests per call into the engine; pairs that share a
context go through the model as one batch).

- loglikelihood: the continuation's log-probability after the context laid out by `mode`
  (birdie.Model.loglikelihood_tokens), with whether it is the greedy continuation. A context
  too long for the model loses its start.
- loglikelihood_rolling: the whole text causally, in the "ntp" layout (<ntp> <sg> then the
  text), in disjoint windows of the context that each read the window before.
- generate_until: the context laid out by `mode`, decoded greedily (or sampled when the
  request says do_sample, with its temperature, top_k, top_p and the seed model argument)
  for max_gen_toks tokens at most, stopping at <eos>; the text (reserved symbols left out)
  is cut before the first of the `until` strings.
"""

from __future__ import annotations

import lm_eval.models  # noqa: F401  (lm_eval's own models stay registered beside this one)
from lm_eval.api.model import LM
from lm_eval.api.registry import register_model
from lm_eval.utils import get_rolling_token_windows, make_disjoint_window
from tqdm import tqdm

import birdie


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


@register_model("birdie")
class BirdieLM(LM):
    def __init__(self, checkpoint: str, device: str = "cpu", tokenizer: str | None = None, precision: str = "auto",
                 context: int = 0, mode: str = "none", batch_size: int | str = 64, max_gen_toks: int = 256,
                 seed: int = 0, **kwargs) -> None:
        super().__init__()
        self.model = birdie.Model(checkpoint, device=device, tokenizer=tokenizer, precision=precision,
                                  context=int(context))
        birdie.mode_token(mode)  # an unknown mode fails here, naming the modes
        self.mode = mode
        self.batch_size = max(1, int(batch_size)) if str(batch_size) != "auto" else 64
        self.max_gen_toks = int(max_gen_toks)
        self.seed = int(seed)
        self._device = device

    @classmethod
    def create_from_arg_obj(cls, arg_dict: dict, additional_config: dict | None = None) -> "BirdieLM":
        # The model arguments win over lm_eval's own flags: its --device defaults to
        # "cuda:0" and its --batch_size to 1, which say nothing about what the user asked.
        args = dict(arg_dict)
        extra = additional_config or {}
        if "device" not in args:
            cli_device = str(extra.get("device") or "cpu")
            args["device"] = "cuda" if cli_device.startswith("cuda") and birdie.built_with_cuda() else "cpu"
        if "batch_size" not in args and str(extra.get("batch_size") or "1").isdigit() and int(extra["batch_size"]) > 1:
            args["batch_size"] = int(extra["batch_size"])
        return cls(**args)

    @classmethod
    def create_from_arg_string(cls, arg_string: str, additional_config: dict | None = None) -> "BirdieLM":
        from lm_eval.utils import simple_parse_args_string

        return cls.create_from_arg_obj(simple_parse_args_string(arg_string), additional_config)

    @property
    def device(self):
        return self._device

    @property
    def tokenizer_name(self) -> str:
        return str(self.model.tokenizer.path)

    # The longest prefix that leaves room for `reserve` more positions in a row.
    def _fit(self, tokens, reserve: int):
        context = self.model.context
        if context <= 0:
            return tokens
        keep = max(0, context - reserve)
        return tokens[len(tokens) - keep:] if len(tokens) > keep else tokens

    def _score(self, contexts, continuations, mode):
        # About batch_size pairs per call into the engine, a context's pairs never split
        # (they run as one batch, as choice_eval scores an item's choices).
        groups: dict[tuple, list[int]] = {}
        for i, c in enumerate(contexts):
            groups.setdefault(tuple(int(t) for t in c), []).append(i)
        sums, flags = [0.0] * len(contexts), [False] * len(contexts)
        chunk: list[int] = []
        members = list(groups.values())
        for n, group in enumerate(members):
            chunk += group
            if len(chunk) >= self.batch_size or n == len(members) - 1:
                s, _, g = self.model.loglikelihood_tokens([contexts[i] for i in chunk],
                                                          [continuations[i] for i in chunk], mode, greedy=True)
                for i, x, y in zip(chunk, s, g):
                    sums[i], flags[i] = float(x), bool(y)
                chunk = []
        return sums, flags

    def loglikelihood(self, requests, disable_tqdm: bool = False):
        # The prefix holds the paradigm token (if any) and the context; the row holds it,
        # <sg> and the continuation less its last token.
        paradigm = 0 if self.mode == "none" else 1
        contexts, continuations = [], []
        for request in tqdm(requests, disable=disable_tqdm, desc="birdie loglikelihood: encoding"):
            context, continuation = request.args
            cont = self.model.encode(continuation)
            if len(cont) == 0:
                raise birdie.Error(f"loglikelihood: the continuation {continuation!r} has no tokens")
            contexts.append(self._fit(self.model.encode(context), paradigm + len(cont)))
            continuations.append(cont)
        sums, flags = self._score(contexts, continuations, self.mode)
        results = []
        for request, ll, greedy in zip(requests, sums, flags):
            results.append((ll, greedy))
            self.cache_hook.add_partial("loglikelihood", request.args, (ll, greedy))
        return results

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
        # <ntp> <sg> then the text: a window of W causal tokens takes W + 1 positions.
        window = self.model.context - 1 if self.model.context > 0 else 1 << 30
        results = []
        for request in tqdm(requests, disable=disable_tqdm, desc="birdie loglikelihood_rolling"):
            (text,) = request.args
            tokens = [int(t) for t in self.model.encode(text)]
            windows = [make_disjoint_window(w) for w in
                       get_rolling_token_windows(token_list=tokens, prefix_token=-1, max_seq_len=window, context_len=1)]
            contexts = [[t for t in c if t != -1] for c, _ in windows]
            sums, _ = self._score(contexts, [x for _, x in windows], "ntp")
            total = float(sum(sums))
            results.append(total)
            self.cache_hook.add_partial("loglikelihood_rolling", (text,), total)
        return results

    def generate_until(self, requests, disable_tqdm: bool = False):
        results = []
        paradigm = 0 if self.mode == "none" else 1
        for request in tqdm(requests, disable=disable_tqdm, desc="birdie generate_until"):
            context, kwargs = request.args
            kwargs = dict(kwargs or {})
            until = kwargs.pop("until", None)
            if isinstance(until, str):
                until = [until]
            max_tokens = int(kwargs.pop("max_gen_toks", self.max_gen_toks))
            sample = _flag(kwargs.pop("do_sample", False))
            temperature = float(kwargs.pop("temperature", 0.0)) if sample else 0.0
            if sample and temperature == 0.0:
                temperature = 1.0
            top_k = int(kwargs.pop("top_k", 0) or 0) if sample else 0
            top_p = float(kwargs.pop("top_p", 1.0) or 1.0) if sample else 1.0
            # The row: prefix, <sg>, then the generated tokens.
            tokens = self._fit(self.model.encode(context), paradigm + 1 + max_tokens)
            out = self.model.generate_tokens(tokens, max_tokens=max_tokens, temperature=temperature, top_k=top_k,
                                             top_p=top_p, seed=self.seed, mode=self.mode)
            text = birdie.cut_at_stop(self.model.decode(out, reserved=False), until)
            results.append(text)
            self.cache_hook.add_partial("generate_until", request.args, text)
        return results
