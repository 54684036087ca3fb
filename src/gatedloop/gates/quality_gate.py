"""The study's Quality gate and Compile+Quality (model-independent "human" gates).

Definitions (model-independent, so the gate does not move with the model being trained):
- tokens: the completion split into identifiers, numbers and single other characters
  (gatedloop.core.text.code_tokens, the split every token-counting measure uses).
- length: the number of such tokens in the completion (the part the model wrote, not the prompt).
- repetition: the share of the completion's token n-grams (``ngram`` tokens, default 4) that repeat an earlier
  n-gram of the same completion: ``1 - distinct / total``; 0.0 when the completion has fewer than n tokens.
A sample passes when ``repetition <= max_repetition`` (default 0.3) and ``length >= min_tokens`` (default 50)
(QualityOptions).
Its score is the margin to the nearer threshold, ``min(length / min_tokens - 1, max_repetition - repetition)``:
non-negative exactly when the sample passes, so the audit's AUROC measures what the gate actually filters on.
"""

from __future__ import annotations

from dataclasses import dataclass

from gatedloop.core.options import option
from gatedloop.core.text import code_tokens
from gatedloop.gates.base import GATES, Decision, Gate, Sample
from gatedloop.gates.compile_gate import compiles


@dataclass(frozen=True)
class QualityOptions:
    min_tokens: int = option(50, "a sample passes with at least this many tokens in its completion", minimum=1)
    max_repetition: float = option(0.3, "and a repetition share of at most this", minimum=0, maximum=1)
    ngram: int = option(4, "tokens per n-gram of the repetition share", minimum=1)


def repetition(tokens: list[str], n: int) -> float:
    grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return 1.0 - len(set(grams)) / len(grams) if grams else 0.0


def quality_check(completion: str, settings: QualityOptions) -> tuple[bool, float, str]:
    """(passes, margin score, reason) under the settings' thresholds."""
    tokens = code_tokens(completion)
    rep = repetition(tokens, settings.ngram)
    margin = min(len(tokens) / settings.min_tokens - 1, settings.max_repetition - rep)
    if len(tokens) < settings.min_tokens:
        return False, margin, f"too short: {len(tokens)} < {settings.min_tokens} tokens"
    if rep > settings.max_repetition:
        return False, margin, f"repetitive: {rep:.2f} > {settings.max_repetition}"
    return True, margin, f"{len(tokens)} tokens, repetition {rep:.2f}"


@GATES.register("quality")
class QualityGate(Gate):
    kind = "human"
    Options = QualityOptions

    def decide(self, samples: list[Sample]) -> list[Decision]:
        decisions = []
        for s in samples:
            ok, margin, reason = quality_check(s.completion, self.settings)
            decisions.append(Decision(s.id, s.prompt_id, margin, ok, reason))
        return decisions


@GATES.register("compile_quality")
class CompileQualityGate(Gate):
    kind = "human"
    Options = QualityOptions

    def decide(self, samples: list[Sample]) -> list[Decision]:
        decisions = []
        for s in samples:
            parses, syntax = compiles(s.program)
            ok, margin, reason = quality_check(s.completion, self.settings)
            score = margin if parses else min(margin, 0.0) - 1.0  # a syntax error is always below the bar
            decisions.append(Decision(s.id, s.prompt_id, score, parses and ok, reason if parses else syntax))
        return decisions
