"""The birdie engine from Python: load a trained model (Gated SSM, Hawk or Transformer, any
checkpoint the programs read) on the CPU or a GPU, tokenize, score continuations and sample.

    import birdie
    model = birdie.Model("runs/tiny-cpu", device="cpu")
    ll = model.loglikelihood([("The capital of France is", " Paris")])
    text = model.generate("Once upon a time", max_tokens=32, temperature=0.8, top_p=0.9, seed=1)

Every computation is the engine's own (the compiled module birdie._engine): a model reads
its prompt as the evaluation programs lay it out (choice_eval, qa_eval, generate), and the
numbers are theirs. Token ids are NumPy int32 arrays, log-likelihoods float64 arrays.
Engine errors raise birdie.Error (a RuntimeError) with the engine's message.
"""

from __future__ import annotations

import os
from typing import Iterable, Sequence

import numpy as np

from birdie import _engine
from birdie._engine import (  # noqa: F401  (the module's API)
    Error,
    Tokenizer,
    built_with_cuda,
    digit_accuracy,
    mode_token,
    phone_book,
    qa_prompt,
    reserved_count,
    reserved_tokens,
    score_answer,
    symbol,
)

__all__ = [
    "Model", "Tokenizer", "Error", "built_with_cuda", "digit_accuracy", "mode_token", "modes",
    "phone_book", "qa_prompt", "reserved_count", "reserved_tokens", "score_answer", "symbol",
    "EOS", "START_GENERATING",
]

# The generation modes, as generate's --mode names them.
modes = [m.strip().split(" ")[0] for m in _engine.modes.split(",")]
EOS = reserved_tokens["<eos>"]
START_GENERATING = reserved_tokens["<sg>"]


class Model:
    """A trained model, as the evaluation programs load it.

    checkpoint: a run folder (its newest complete checkpoint) or a checkpoint folder.
    device: "cpu" or "cuda". tokenizer: defaults to the run folder's tokenizer.model.
    precision: "auto" (bf16 compute on a GPU), "fp32" or "bf16". context: the longest row
    the model is asked to read (0: the run's training sequence length).
    """

    def __init__(self, checkpoint: str | os.PathLike, device: str = "cpu", tokenizer: str | os.PathLike | None = None,
                 precision: str = "auto", context: int = 0):
        self._model = _engine.Model(os.fspath(checkpoint), device,
                                    None if tokenizer is None else os.fspath(tokenizer), precision, int(context))
        self.tokenizer: Tokenizer = self._model.tokenizer

    @property
    def checkpoint(self) -> str:
        return str(self._model.checkpoint)

    @property
    def run_folder(self) -> str:
        return str(self._model.run_folder)

    @property
    def context(self) -> int:
        """The longest row the model reads: the run's training sequence length (0 when unknown)."""
        return self._model.context

    @property
    def device(self) -> str:
        return self._model.device

    @property
    def vocab_size(self) -> int:
        return self._model.vocab_size

    # Tokenizer ------------------------------------------------------------------------

    def encode(self, text: str) -> np.ndarray:
        return self.tokenizer.encode(text)

    def decode(self, ids: Sequence[int] | np.ndarray, reserved: bool = True) -> str:
        """The text of the ids; reserved=False leaves the reserved symbols out."""
        return self.tokenizer.decode(ids) if reserved else self.tokenizer.decode_text(ids)

    # Scoring --------------------------------------------------------------------------

    def loglikelihood_tokens(self, contexts: Sequence, continuations: Sequence, mode: str = "none",
                             greedy: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Log-likelihoods of token continuations after token contexts.

        mode "none" (choice_eval's layout): the context in the bidirectional prefix, <sg>,
        then the continuation causally. A paradigm mode ("prefix_lm", ...): that token before
        the context in the prefix. "ntp": <ntp> alone in the prefix, the context read
        causally after <sg>, then the continuation. Pairs that share a context run as one
        batch. Returns (sum of log-probabilities, continuation token counts, whether every
        continuation token is the argmax — computed only with greedy=True, else all True).
        """
        return self._model.loglikelihood(list(contexts), list(continuations), mode, greedy)

    def loglikelihood(self, pairs: Iterable[tuple[str, str]], mode: str = "none",
                      greedy: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Log-likelihoods of text (context, continuation) pairs (see loglikelihood_tokens).
        Returns a float64 array, or (log-likelihoods, greedy flags) with greedy=True."""
        pairs = list(pairs)
        contexts = [self.encode(c) for c, _ in pairs]
        continuations = [self.encode(x) for _, x in pairs]
        sums, _, flags = self.loglikelihood_tokens(contexts, continuations, mode, greedy)
        return (sums, flags) if greedy else sums

    def score_choices(self, prompt: str, choices: Sequence[str]) -> dict:
        """choice_eval's scoring of one item: per choice the summed and the mean (per token)
        cross-entropy, and the choices each picks (the least loss)."""
        sums, counts, _ = self.loglikelihood_tokens([self.encode(prompt)] * len(choices),
                                                    [self.encode(c) for c in choices])
        loss_sum = -sums
        loss_mean = loss_sum / counts
        return {"loss_sum": loss_sum, "loss_mean": loss_mean, "tokens": counts,
                "prediction": int(np.argmin(loss_mean)), "prediction_sum": int(np.argmin(loss_sum))}

    # Generation -----------------------------------------------------------------------

    def generate_tokens(self, tokens: Sequence[int] | np.ndarray, max_tokens: int = 64, temperature: float = 0.0,
                        top_k: int = 0, top_p: float = 1.0, seed: int = 0, mode: str = "ntp",
                        stop_token: int | None = None) -> np.ndarray:
        """generate's decoding on token ids: the generated ids, without the final <eos>
        (a stop_token, when reached, is kept)."""
        return self._model.generate(np.asarray(tokens, dtype=np.int32), int(max_tokens), float(temperature),
                                    int(top_k), float(top_p), int(seed), mode, stop_token)

    def generate(self, prompt: str, max_tokens: int = 64, temperature: float = 0.0, top_k: int = 0,
                 top_p: float = 1.0, seed: int = 0, mode: str = "ntp", stop: str | Sequence[str] | None = None,
                 reserved: bool = False) -> str:
        """The program generate's text for a prompt, with its options: greedy at temperature
        0, else sampling (top_k, top_p, seed); mode "ntp" (plain continuation), a paradigm
        mode or "none" (see birdie.modes). Decoding stops at <eos> or after max_tokens; the
        text is cut before the first of the `stop` strings. reserved=True keeps reserved
        symbols in the text (generate --show-reserved)."""
        out = self.generate_tokens(self.encode(prompt), max_tokens, temperature, top_k, top_p, seed, mode)
        text = self.decode(out, reserved=reserved)
        return cut_at_stop(text, stop)

    # Phone books ----------------------------------------------------------------------

    def phonebook(self, entries: Sequence[int] = (8, 16), queries: Sequence[int] = (1, 2, 4), books: int = 8,
                  seed: int = 1) -> dict:
        """phonebook_eval without fine-tuning: `books` generated books per (entries,
        queries), shrunk to the model's context when they do not fit, answered greedily and
        scored by digit accuracy. Returns {"accuracy", "table", "cases", "skipped_cases"}."""
        if self.context <= 0:
            raise Error("phonebook: the model's context is unknown: pass context= to birdie.Model")
        cases, skipped, stream = [], 0, 0
        for n_entries in entries:
            for k in queries:
                for _ in range(books):
                    case = self._fitting_book(max(n_entries, k), k, seed, stream)
                    stream += 1
                    if case is None:
                        skipped += 1
                    else:
                        cases.append(case)
        if not cases:
            raise Error(f"no case fits a context of {self.context} tokens: lower the queries or raise the context")
        cells: dict[tuple[int, int], list[float]] = {}
        results = []
        for prompt, answer, n, k, requested in cases:
            scored = self._model.phonebook_case(prompt, answer)
            scored.update(entries=n, requested_entries=requested, queries=k)
            results.append(scored)
            cells.setdefault((n, k), []).append(scored["digit_accuracy"])
        table = [{"entries": n, "queries": k, "cases": len(v), "accuracy": sum(v) / len(v)}
                 for (n, k), v in sorted(cells.items())]
        accuracy = sum(r["digit_accuracy"] for r in results) / len(results)
        return {"accuracy": accuracy, "table": table, "cases": results, "skipped_cases": skipped}

    def _fitting_book(self, requested: int, k: int, seed: int, stream: int):
        # phonebook_eval's rule: a case takes prompt, <sg>, answer and <eos>; a book that
        # does not fit loses entries (a jump close to the size that fits, then one at a time).
        def length(book):
            return len(self.encode(book[0])) + len(self.encode(book[1])) + 2
        n = requested
        book = phone_book(n, k, seed, stream)
        while length(book) > self.context and n > k:
            n = max(k, min(n - 1, int(n * 0.98 * self.context / length(book))))
            book = phone_book(n, k, seed, stream)
        if length(book) > self.context:
            return None
        return book[0], book[1], n, k, requested


def cut_at_stop(text: str, stop: str | Sequence[str] | None) -> str:
    """The text before the first occurrence of any stop string."""
    if stop is None:
        return text
    if isinstance(stop, str):
        stop = [stop]
    end = len(text)
    for s in stop:
        if s:
            i = text.find(s)
            if i != -1:
                end = min(end, i)
    return text[:end]
