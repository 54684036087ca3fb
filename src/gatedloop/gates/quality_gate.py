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

The study's definitions, as options (config/study.yaml sets them):
- ``repetition: line``: the share of repeated lines of the whole text (prompt + completion): lines stripped, blank
  ones dropped; each distinct line seen c times adds c - 1 repeats; rate = repeats / lines; a text of one line or
  none has rate 0. The threshold is the same ``max_repetition`` (the study: 0.3; 0.5 in its first version).
- ``length_unit: model_tokens``: the completion's length in tokens of the model's tokenizer (the completion
  encoded as it follows the prompt, gatedloop.core.encoding) instead of the split above. The workflow then passes
  the cell's round-0 model directory as ``tokenizer`` (the job sets it, not the config).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from gatedloop.core.options import option
from gatedloop.core.text import code_tokens
from gatedloop.gates.base import GATES, Decision, Gate, Sample
from gatedloop.gates.compile_gate import compiles
from gatedloop.gates.noise import NoiseOptions


@dataclass(frozen=True)
class QualityOptions(NoiseOptions):
    min_tokens: int = option(50, "a sample passes with at least this many tokens in its completion", minimum=1)
    max_repetition: float = option(0.3, "and a repetition share of at most this", minimum=0, maximum=1)
    ngram: int = option(4, "tokens per n-gram of the repetition share (repetition: ngram)", minimum=1)
    repetition: Literal["ngram", "line"] = option(
        "ngram", "ngram: repeated token n-grams of the completion; line: repeated lines of the whole text (the "
        "study's)")
    length_unit: Literal["code_tokens", "model_tokens"] = option(
        "code_tokens", "what min_tokens counts: code tokens (identifiers, numbers, symbols), or the model "
        "tokenizer's tokens (the study's)")
    tokenizer: str | None = option(None, "length_unit model_tokens: the model directory whose tokenizer counts "
                                   "(set by the workflow)", config=False)


def repetition(tokens: list[str], n: int) -> float:
    grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return 1.0 - len(set(grams)) / len(grams) if grams else 0.0


def line_repetition(text: str) -> float:
    """The share of the text's non-blank (stripped) lines that repeat an earlier one; 0.0 for one line or none.
    Lines as the study splits them (``splitlines``: form feeds and the other line breaks end a line too)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) <= 1:
        return 0.0
    repeats = sum(count - 1 for count in Counter(lines).values())
    return repeats / len(lines)


def needs_tokenizer(options: dict) -> bool:
    """Whether a quality gate with these (config) options counts the model's tokens."""
    return options.get("length_unit") == "model_tokens"


def model_token_counter(settings: QualityOptions, where: str) -> Callable[[str], int]:
    """The number of tokens of a completion as it follows its prompt, in the tokenizer of ``settings.tokenizer``."""
    if settings.tokenizer is None:
        raise ValueError(f"{where}.length_unit model_tokens needs the model's tokenizer: pass tokenizer "
                         "(the workflow passes the cell's round-0 model)")
    from gatedloop.core.encoding import TextEncoder
    from gatedloop.models.loading import load_tokenizer

    encoder = TextEncoder(load_tokenizer(settings.tokenizer))
    return lambda completion: len(encoder.continuation(completion))


def quality_check(sample: Sample, settings: QualityOptions,
                  count_tokens: Callable[[str], int] | None = None) -> tuple[bool, float, str]:
    """(passes, margin score, reason) under the settings' thresholds. ``count_tokens``: the length of a completion
    (length_unit model_tokens); by default its code tokens."""
    tokens = code_tokens(sample.completion)
    length = len(tokens) if count_tokens is None else count_tokens(sample.completion)
    # The study's line measure reads the whole text, the human prefix included (it trains on the whole text).
    rep = line_repetition(sample.program) if settings.repetition == "line" else repetition(tokens, settings.ngram)
    margin = min(length / settings.min_tokens - 1, settings.max_repetition - rep)
    if length < settings.min_tokens:
        return False, margin, f"too short: {length} < {settings.min_tokens} tokens"
    if rep > settings.max_repetition:
        return False, margin, f"repetitive: {rep:.2f} > {settings.max_repetition}"
    return True, margin, f"{length} tokens, repetition {rep:.2f}"


class _QualityChecking(Gate):
    """A gate that applies quality_check, with the token counter its settings ask for (loaded once per run)."""

    Options = QualityOptions

    @classmethod
    def needs_tokenizer(cls, options: dict) -> bool:
        return needs_tokenizer(options)

    def token_counter(self) -> Callable[[str], int] | None:
        if self.settings.length_unit == "model_tokens":
            return model_token_counter(self.settings, f"gate_options.{self.name}")
        return None


@GATES.register("quality")
class QualityGate(_QualityChecking):
    kind = "human"

    def decide(self, samples: list[Sample]) -> list[Decision]:
        count_tokens = self.token_counter()
        decisions = []
        for s in samples:
            ok, margin, reason = quality_check(s, self.settings, count_tokens)
            decisions.append(Decision(s.id, s.prompt_id, margin, ok, reason))
        return decisions


@GATES.register("compile_quality")
class CompileQualityGate(_QualityChecking):
    kind = "human"

    def decide(self, samples: list[Sample]) -> list[Decision]:
        count_tokens = self.token_counter()
        decisions = []
        for s in samples:
            parses, syntax = compiles(s.program)
            ok, margin, reason = quality_check(s, self.settings, count_tokens)
            score = margin if parses else min(margin, 0.0) - 1.0  # a syntax error is always below the bar
            decisions.append(Decision(s.id, s.prompt_id, score, parses and ok, reason if parses else syntax))
        return decisions
