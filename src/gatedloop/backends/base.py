"""The backend interface and the sampling settings every backend understands."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

# HumanEval's stop sequences plus a few for bare function bodies: the body ends where top-level code starts.
DEFAULT_STOP = ["\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\nassert ", "\n@"]


@dataclass
class SamplingParams:
    """Decoding settings. Defaults are the study's: T=0.8, top-p=0.95. ``temperature=0`` means greedy."""

    temperature: float = 0.8
    top_p: float = 0.95
    max_new_tokens: int = 96
    batch_size: int = 64
    stop: list[str] = field(default_factory=lambda: list(DEFAULT_STOP))

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0


def truncate_at_stop(text: str, stop: list[str]) -> str:
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=len(text))
    return text[:cut]


class Backend(ABC):
    """Loads one model directory (or hub id) and generates completions for prompts."""

    def __init__(self, model_path: str, device: str = "cpu", dtype: str = "auto"):
        from gatedloop.runtime import resolve_dtype

        self.model_path = model_path
        self.device = device
        self.dtype = resolve_dtype(dtype, device)

    @abstractmethod
    def generate(self, prompts: list[str], params: SamplingParams, seed: int) -> list[str]:
        """One completion per prompt, in order, cut at the first stop sequence. Same seed, same output."""
