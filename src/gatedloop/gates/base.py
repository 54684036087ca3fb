"""The gate interface. A gate reads generated samples and decides, per sample, whether it is trained on."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from gatedloop.core.registry import Registry


@dataclass(frozen=True)
class Sample:
    id: str
    prompt_id: str
    prompt: str
    completion: str
    tests: tuple[str, ...] = ()  # where the prompt pool has tests (microtasks do)

    @property
    def program(self) -> str:
        return self.prompt + self.completion


@dataclass(frozen=True)
class Decision:
    id: str
    prompt_id: str
    score: float
    accepted: bool
    reason: str

    def to_json(self) -> dict:
        return dict(self.__dict__)


class Gate(ABC):
    """``options`` are the gate's settings from config (``gate_options.<name>``); ``model`` is the model a gate
    scores with (the current round's model for self-gates, the reviewer for ``cross``); ``threads`` is the job's
    thread budget."""

    # Which model the gate scores with: None (model-independent), "current" (the round's own model: a
    # self-gate) or "reviewer" (a fixed model named in gate_options.<gate>.reviewer).
    scores_with: str | None = None
    # A control arm trains on human-written code instead of judging generated samples (gate "reference").
    control: bool = False

    def __init__(self, options: dict | None = None, model: str | None = None, threads: int = 1):
        self.options = options or {}
        self.model = model
        self.threads = threads

    @classmethod
    def keep_fraction(cls, options: dict) -> float | None:
        """The fraction a quantile gate keeps of each round's samples; None for gates that judge each sample on
        its own (their acceptance rate is whatever the samples earn)."""
        return None

    @abstractmethod
    def decide(self, samples: list[Sample]) -> list[Decision]:
        """One decision per sample, in order."""


GATES: Registry[type[Gate]] = Registry("gate")
