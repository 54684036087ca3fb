"""The gate interface. A gate reads generated samples and decides, per sample, whether it is trained on."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from gatedloop.registry import Registry


@dataclass(frozen=True)
class Sample:
    id: str
    prompt_id: str
    prompt: str
    completion: str

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
    """``options`` are the gate's settings from config; ``model`` is the current round's model directory,
    used only by gates that score with the model (self-gates)."""

    needs_model = False

    def __init__(self, options: dict | None = None, model: str | None = None):
        self.options = options or {}
        self.model = model

    @abstractmethod
    def decide(self, samples: list[Sample]) -> list[Decision]:
        """One decision per sample, in order."""


GATES: Registry[type[Gate]] = Registry("gate")
