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


def decode_continuation(tokenizer, prompt_ids: list[int], new_ids: list[int]) -> str:
    """The text of ``new_ids`` as it continues the prompt. Decoding them alone loses text with SentencePiece
    tokenizers (Llama, CodeLlama), which drop the space their first token carries: a completion that opens with
    four spaces of indentation came back with three. Decoding prompt and completion together and cutting the
    prompt's text off keeps it; a byte-level tokenizer (GPT-2) gives the same text either way."""
    prompt_text = tokenizer.decode(prompt_ids, skip_special_tokens=True)
    full_text = tokenizer.decode([*prompt_ids, *new_ids], skip_special_tokens=True)
    if full_text.startswith(prompt_text):
        return full_text[len(prompt_text):]
    return tokenizer.decode(new_ids, skip_special_tokens=True)  # a character split across the boundary


def truncate_at_stop(text: str, stop: list[str]) -> str:
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=len(text))
    return text[:cut]


class Backend(ABC):
    """Loads one model directory (or hub id) and generates completions for prompts."""

    def __init__(self, model_path: str, device: str = "cpu", dtype: str = "auto"):
        from gatedloop.core.runtime import resolve_dtype

        self.model_path = model_path
        self.device = device
        self.dtype = resolve_dtype(dtype, device)

    @abstractmethod
    def generate(self, prompts: list[str], params: SamplingParams, seed: int) -> list[str]:
        """One completion per prompt, in order, cut at the first stop sequence. Same seed, same output."""
