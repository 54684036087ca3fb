"""AI gates that score samples with a language model: the study's self-gates and our cross-review gate.

- ``perplexity`` (self): score = mean log-probability per token of the completion given the prompt under the
  current round's model (higher = lower perplexity); keep the best ``keep_fraction`` (default 0.25).
- ``binary`` (self): the current model is asked, through ``template``, whether the code is correct;
  score = logit(``yes_word``) - logit(``no_word``) at the answer position; keep the top ``keep_fraction``. With
  ``max_content_tokens`` (the study's: 2000, its template ``"{prompt}{completion}\n# quality: "`` and words
  ``" good"``/``" bad"``), only the sample's last that many tokens fill the template.
- ``cross``: ``binary`` scored by a fixed reviewer model instead of the model being trained (the workflow passes
  ``gate_options.cross.reviewer``: ``base`` for the round-0 model, or a model directory / hub id), to separate
  "AI review" from "self review". Being exogenous, it takes decision noise (gatedloop.gates.noise).

The scores come from a backend (gatedloop.backends: ``loglikelihood`` for perplexity, ``next_token_margin`` for
the answer words) on transformers (``scorer: transformers``, the default) or on vLLM's log-probabilities
(``scorer: vllm``: prompt log-probabilities of the same token sequences, faster on GPUs for large pools); this
module decides what to ask and how scores become decisions.

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

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal

from gatedloop.backends import Backend, open_backend
from gatedloop.core.encoding import single_token
from gatedloop.core.options import option, options_from
from gatedloop.core.runtime import DTYPES, device_for
from gatedloop.gates.base import GATES, Decision, Gate, Sample
from gatedloop.gates.noise import NoiseOptions

SCORERS = ("transformers", "vllm")


CALIBRATED = "calibrated_threshold"  # set by the gate CLI from round 1's decisions, not by the user


def checked(gate: str, settings) -> dict:
    """The gate's typed settings as a dict, after the checks that span two settings (types, names and ranges the
    Options and the schema check already)."""
    values = dataclasses.asdict(settings)
    if values["mode"] == "threshold" and values["threshold"] is None:
        raise ValueError(f"gate_options.{gate}: mode 'threshold' needs a threshold value")
    if not 0 < values["keep_fraction"] <= 1:
        raise ValueError(f"gate_options.{gate}.keep_fraction: {values['keep_fraction']} is not in (0, 1]")
    return values


def select(scores: list[float], settings: dict) -> list[bool]:
    """Quantile: the ceil(keep_fraction * n) highest scores (earlier sample wins a tie). Threshold: score >= t.
    Calibrated: the quantile until a calibrated threshold is given (round 1), that threshold after."""
    if settings["mode"] == "threshold":
        return [s >= settings["threshold"] for s in scores]
    if settings["mode"] == "calibrated" and settings.get(CALIBRATED) is not None:
        return [s >= settings[CALIBRATED] for s in scores]
    keep = quantile_count(settings["keep_fraction"], len(scores))
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    kept = set(order[:keep])
    return [i in kept for i in range(len(scores))]


def quantile_count(keep_fraction: float, n: int) -> int:
    """How many of ``n`` samples a quantile keeps: ceil(keep_fraction * n), the product first rounded to 9 decimals
    so that float noise (0.1 * 30 = 3.0000000000000004) does not add a sample."""
    return math.ceil(round(keep_fraction * n, 9))


def quantile_pool(accepted: int, keep_fraction: float) -> int:
    """The samples a quantile gate scores to keep ``accepted``: ceil(accepted / keep_fraction), float noise rounded
    away as in quantile_count; it keeps exactly ``accepted`` when that quotient is a whole number (the study's
    20,000 x 0.25 = 5,000)."""
    return math.ceil(round(accepted / keep_fraction, 9))


class _SelectingGate(Gate):
    """A model-scored gate that selects by quantile or threshold."""

    name = ""

    @dataclass(frozen=True)
    class Options:
        mode: Literal["quantile", "threshold", "calibrated"] = option(
            "quantile", "quantile: the top keep_fraction of each round; threshold: score >= threshold; "
            "calibrated: round 1's quantile, then round 1's lowest accepted score")
        keep_fraction: float = option(0.25, "the share a quantile keeps",
                                      exclusiveMinimum=0, maximum=1)
        threshold: float | None = option(None, "mode threshold: the lowest score accepted")
        batch_size: int = option(32, "samples per forward pass (a model's own: "
                                 "models.<name>.batch_sizes.gate)", minimum=1)
        scorer: Literal[SCORERS] = option("transformers", "the backend that scores: transformers, or "
                                          "vLLM's log-probabilities")
        dtype: Literal[DTYPES] = option("auto", "model precision (the workflow passes the "
                                        "config's dtype)")
        calibrated_threshold: float | None = option(None, "mode calibrated: set by the gate job from round 1's "
                                                    "decisions", config=False)

    @classmethod
    def keep_fraction(cls, options: dict) -> float | None:
        settings = checked(cls.name, options_from(cls.Options, options, f"gate_options.{cls.name}"))
        return settings["keep_fraction"] if settings["mode"] == "quantile" else None

    def scorer(self, settings: dict) -> Backend:
        """The scoring model, loaded at the first decision and kept: a waves job (cross in threshold mode) decides
        once per wave."""
        if getattr(self, "_scorer", None) is None:
            self._scorer = open_scorer(settings, self.model)
        return self._scorer


def open_scorer(settings: dict, model: str) -> Backend:
    """The scoring model, loaded once per gate run, on the backend ``scorer`` names."""
    return open_backend(settings["scorer"], model, device=device_for("auto"), dtype=settings["dtype"])


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
    kind = "self"
    scores_with = "current"
    name = "perplexity"

    def decide(self, samples: list[Sample]) -> list[Decision]:
        settings = checked(self.name, self.settings)
        scorer = self.scorer(settings)
        scored = scorer.loglikelihood([(s.prompt, s.completion) for s in samples], settings["batch_size"])
        return _decisions(samples, [r.mean_logprob for r in scored], settings, "mean log-prob")


@GATES.register("binary")
class BinaryGate(_SelectingGate):
    kind = "self"
    scores_with = "current"
    name = "binary"

    @dataclass(frozen=True)
    class Options(_SelectingGate.Options):
        template: str = option("{prompt}{completion}\n# Question: is the code above correct? Answer:",
                               "the question: {prompt} and {completion} filled in", minLength=1)
        yes_word: str = option(" yes", "the answer accepting, a single token", minLength=1)
        no_word: str = option(" no", "the answer refusing, a single token", minLength=1)
        max_content_tokens: int | None = option(
            None, "the sample's last this many tokens fill the template (the "
            "study's: 2000); null: the whole sample, the question cut to the model's context", minimum=1)

    def decide(self, samples: list[Sample]) -> list[Decision]:
        settings = checked(self.name, self.settings)
        scorer = self.scorer(settings)
        yes, no = (single_token(scorer.encoder, settings[key], f"gate_options.{self.name}.{key}")
                   for key in ("yes_word", "no_word"))
        limit = settings["max_content_tokens"]
        parts = [(s.prompt, s.completion) if limit is None else content_end(scorer.encoder, s, limit)
                 for s in samples]
        texts = [settings["template"].format(prompt=prompt, completion=completion) for prompt, completion in parts]
        scores = scorer.next_token_margin(texts, yes, no, settings["batch_size"])
        return _decisions(samples, scores, settings, "logit(yes)-logit(no)")


def content_end(encoder, sample: Sample, max_tokens: int) -> tuple[str, str]:
    """(prompt, completion) cut to the sample's last ``max_tokens`` tokens (the study's binary question reads the end
    of a long sample): the completion's tokens are kept first, then the prompt's last ones that still fit. Kept
    tokens are decoded back to text, which the backend encodes again with the template."""
    prompt_ids = encoder.plain(sample.prompt)
    completion_ids = encoder.continuation(sample.completion)
    if len(prompt_ids) + len(completion_ids) <= max_tokens:
        return sample.prompt, sample.completion
    if len(completion_ids) >= max_tokens:
        return "", encoder.tokenizer.decode(completion_ids[len(completion_ids) - max_tokens :])
    room = max_tokens - len(completion_ids)
    return encoder.tokenizer.decode(prompt_ids[len(prompt_ids) - room :]), sample.completion


@GATES.register("cross")
class CrossGate(BinaryGate):
    """The binary question, asked of a fixed reviewer model (``--model`` is the reviewer, not the trainee)."""

    kind = "exogenous"  # the reviewer is fixed: it does not change with the model being trained
    scores_with = "reviewer"
    name = "cross"

    @dataclass(frozen=True)
    class Options(BinaryGate.Options, NoiseOptions):
        reviewer: str = option("base", "the reviewing model: base (the cell's round-0 model), a model of models, a "
                               "model directory or a hub id", minLength=1)
