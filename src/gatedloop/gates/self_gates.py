"""AI gates that score samples with a language model: the study's self-gates and our cross-review gate.

- ``perplexity`` (self): score = mean log-probability per token of the completion given the prompt under the
  current round's model (higher = lower perplexity); keep the best ``keep_fraction`` (default 0.25).
- ``binary`` (self): the current model is asked, through ``template``, whether the code is correct;
  score = logit(``yes_word``) - logit(``no_word``) at the answer position; keep the top ``keep_fraction``.
- ``cross``: ``binary`` scored by a fixed reviewer model instead of the model being trained (the workflow passes
  ``gate_options.cross.reviewer``: ``base`` for the round-0 model, or a model directory / hub id), to separate
  "AI review" from "self review".

Scoring runs on transformers (``scorer: transformers``, the default) or on vLLM's log-probabilities
(``scorer: vllm``: prompt log-probabilities of the same token sequences, faster on GPUs for large pools).

Selection: ``mode: quantile`` (default) keeps the top fraction of each round's samples; ``mode: threshold``
accepts every sample with ``score >= threshold``; ``mode: calibrated`` keeps the top fraction in round 1 (samples
of the round-0 model, scored by it) and from then on accepts every sample scoring at least the lowest score
accepted there: a threshold calibrated once on round 0 and then fixed, so the drift of the self-gate's acceptance
(the study's rubber stamp) shows instead of being normalised away by a per-round quantile.

Token ids come from gatedloop.core.encoding (one BOS at the start where the tokenizer uses one; the completion's
tokens are exactly those after the prompt's). Answer words must be single tokens of the scoring model's tokenizer,
as the model would write them after the question: config validation checks every model whose tokenizer exists
before the run (per-model words: ``models.<name>.gate_options``), and the gate checks again, stopping with an error
naming the word and its tokens.
"""

from __future__ import annotations

import math

from gatedloop.core.encoding import TextEncoder
from gatedloop.core.runtime import DTYPES
from gatedloop.gates.base import GATES, Decision, Gate, Sample

SELECTION_DEFAULTS = {"mode": "quantile", "keep_fraction": 0.25, "threshold": None, "batch_size": 32,
                      "scorer": "transformers", "dtype": "auto"}  # dtype: the workflow passes the config's
SCORERS = ("transformers", "vllm")
BINARY_DEFAULTS = {
    **SELECTION_DEFAULTS,
    "template": "{prompt}{completion}\n# Question: is the code above correct? Answer:",
    "yes_word": " yes",
    "no_word": " no",
}


CALIBRATED = "calibrated_threshold"  # set by the gate CLI from round 1's decisions, not by the user


def settings_for(gate: str, options: dict, defaults: dict) -> dict:
    unknown = set(options) - set(defaults) - {"reviewer", CALIBRATED}
    if unknown:
        raise ValueError(f"gate_options.{gate}: unknown option(s) {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(defaults)}")
    settings = {**defaults, **options}
    if settings["mode"] not in ("quantile", "threshold", "calibrated"):
        raise ValueError(f"gate_options.{gate}.mode: {settings['mode']!r} is not quantile, threshold or calibrated")
    if settings["mode"] == "threshold" and settings["threshold"] is None:
        raise ValueError(f"gate_options.{gate}: mode 'threshold' needs a threshold value")
    if settings["dtype"] not in DTYPES:
        raise ValueError(f"gate_options.{gate}.dtype: {settings['dtype']!r} is not one of {', '.join(DTYPES)}")
    if settings["scorer"] not in SCORERS:
        raise ValueError(f"gate_options.{gate}.scorer: {settings['scorer']!r} is not one of {', '.join(SCORERS)}")
    if not 0 < settings["keep_fraction"] <= 1:
        raise ValueError(f"gate_options.{gate}.keep_fraction: {settings['keep_fraction']} is not in (0, 1]")
    return settings


def select(scores: list[float], settings: dict) -> list[bool]:
    """Quantile: the ceil(keep_fraction * n) highest scores (earlier sample wins a tie). Threshold: score >= t.
    Calibrated: the quantile until a calibrated threshold is given (round 1), that threshold after."""
    if settings["mode"] == "threshold":
        return [s >= settings["threshold"] for s in scores]
    if settings["mode"] == "calibrated" and settings.get(CALIBRATED) is not None:
        return [s >= settings[CALIBRATED] for s in scores]
    keep = math.ceil(settings["keep_fraction"] * len(scores))
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    kept = set(order[:keep])
    return [i in kept for i in range(len(scores))]


class _SelectingGate(Gate):
    """A model-scored gate that selects by quantile or threshold."""

    name = ""
    defaults = SELECTION_DEFAULTS

    @classmethod
    def keep_fraction(cls, options: dict) -> float | None:
        settings = settings_for(cls.name, options, cls.defaults)
        return settings["keep_fraction"] if settings["mode"] == "quantile" else None


def single_token(encoder: TextEncoder, gate: str, key: str, word: str) -> int:
    """The answer word's one token id, as the model would write it after the question; an error naming the word
    and its tokens otherwise."""
    ids = encoder.continuation(word)
    if len(ids) != 1:
        raise ValueError(f"gate_options.{gate}.{key}: {word!r} is {len(ids)} tokens {token_pieces(encoder, ids)} in "
                         f"this model's tokenizer; choose a word that is a single token (per model: "
                         f"models.<name>.gate_options.{gate}.{key})")
    return ids[0]


def token_pieces(encoder: TextEncoder, ids: list[int]) -> list[str]:
    return [encoder.tokenizer.decode([i]) for i in ids]


class ModelScorer:
    """The scoring model, loaded once per gate run."""

    def __init__(self, model_path: str, dtype: str = "auto"):
        from gatedloop.core.runtime import device_for
        from gatedloop.models.loading import load_model, load_tokenizer

        self.tokenizer = load_tokenizer(model_path)
        self.encoder = TextEncoder(self.tokenizer)
        self.model = load_model(model_path, device=device_for("auto"), dtype=dtype)
        config = self.model.config
        self.max_tokens = getattr(config, "n_positions", None) or config.max_position_embeddings

    def single_token(self, gate: str, key: str, word: str) -> int:
        return single_token(self.encoder, gate, key, word)

    def _batches(self, token_lists: list[list[int]], batch_size: int):
        import torch

        from gatedloop.models.loading import padded_batches

        for chunk, ids, mask in padded_batches(token_lists, batch_size, self.tokenizer.pad_token_id):
            with torch.inference_mode():
                logits = self.model(input_ids=ids.to(self.model.device),
                                    attention_mask=mask.to(self.model.device)).logits.float().cpu()
            yield chunk, logits

    def mean_logprob(self, samples: list[Sample], batch_size: int) -> list[float]:
        """Mean log-probability per completion token given the prompt; -inf for an empty completion."""
        import torch

        encoded = [self.encoder.pair(s.prompt, s.completion, max_tokens=self.max_tokens) for s in samples]
        scores: list[float] = []
        offset = 0
        for chunk, logits in self._batches([e.ids for e in encoded], batch_size):
            logprobs = torch.log_softmax(logits, dim=-1)
            for i, tokens in enumerate(chunk):
                n_prompt = encoded[offset + i].n_prompt
                targets = torch.tensor(tokens[n_prompt:])
                if len(targets) == 0:
                    scores.append(-math.inf)
                    continue
                predicted = logprobs[i, n_prompt - 1 : len(tokens) - 1]
                scores.append(predicted.gather(1, targets[:, None]).mean().item())
            offset += len(chunk)
        return scores

    def answer_margin(self, texts: list[str], yes: int, no: int, batch_size: int) -> list[float]:
        """logit(yes) - logit(no) at the position after each text."""
        lists = [self.encoder.keep_end(self.encoder.text(t), self.max_tokens) for t in texts]
        margins: list[float] = []
        for chunk, logits in self._batches(lists, batch_size):
            for i, tokens in enumerate(chunk):
                last = logits[i, len(tokens) - 1]
                margins.append((last[yes] - last[no]).item())
        return margins


def make_scorer(kind: str, model_path: str, dtype: str = "auto"):
    if kind == "vllm":
        from gatedloop.backends.vllm_backend import VLLMScorer

        return VLLMScorer(model_path, dtype=dtype)
    return ModelScorer(model_path, dtype)


def calibrated_threshold(decisions: list[dict]) -> float:
    """The lowest score a round accepted: the threshold its quantile selection amounted to."""
    accepted = [d["score"] for d in decisions if d["accepted"]]
    if not accepted:
        raise ValueError("the calibration round accepted no sample: no threshold to carry forward")
    return min(accepted)


def _decisions(samples: list[Sample], scores: list[float], settings: dict, label: str) -> list[Decision]:
    accepted = select(scores, settings)
    if settings.get(CALIBRATED) is not None:
        label = f"{label} (threshold {settings[CALIBRATED]:.3f}, calibrated on round 1)"
    return [Decision(s.id, s.prompt_id, score, ok, f"{label} {score:.3f}")
            for s, score, ok in zip(samples, scores, accepted, strict=True)]


@GATES.register("perplexity")
class PerplexityGate(_SelectingGate):
    scores_with = "current"
    name = "perplexity"

    def decide(self, samples: list[Sample]) -> list[Decision]:
        settings = settings_for(self.name, self.options, self.defaults)
        scorer = make_scorer(settings["scorer"], self.model, settings["dtype"])
        scores = scorer.mean_logprob(samples, settings["batch_size"])
        return _decisions(samples, scores, settings, "mean log-prob")


@GATES.register("binary")
class BinaryGate(_SelectingGate):
    scores_with = "current"
    name = "binary"
    defaults = BINARY_DEFAULTS

    def decide(self, samples: list[Sample]) -> list[Decision]:
        settings = settings_for(self.name, self.options, self.defaults)
        scorer = make_scorer(settings["scorer"], self.model, settings["dtype"])
        yes = scorer.single_token(self.name, "yes_word", settings["yes_word"])
        no = scorer.single_token(self.name, "no_word", settings["no_word"])
        texts = [settings["template"].format(prompt=s.prompt, completion=s.completion) for s in samples]
        scores = scorer.answer_margin(texts, yes, no, settings["batch_size"])
        return _decisions(samples, scores, settings, "logit(yes)-logit(no)")


@GATES.register("cross")
class CrossGate(BinaryGate):
    """The binary question, asked of a fixed reviewer model (``--model`` is the reviewer, not the trainee)."""

    scores_with = "reviewer"
    name = "cross"
