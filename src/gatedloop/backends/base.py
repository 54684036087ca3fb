"""The backend interface (generation and log-likelihood scoring) and the sampling settings every backend
understands."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from gatedloop.core.encoding import TextEncoder

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


@dataclass(frozen=True)
class LogLikelihood:
    """log p(continuation | context) over the continuation's tokens. ``mean_logprob`` is reduced by the backend in
    its own arithmetic (transformers: a float32 mean, vLLM: Python floats), so a score is the same number whichever
    caller asks; -inf for a continuation without tokens (empty, or cut off by the context length)."""

    logprob: float  # the sum over the continuation's tokens
    n_tokens: int
    mean_logprob: float


def first_scored(n_context: int) -> int:
    """The position of the first token a log-likelihood scores: the first after the context, and never the text's
    first token, which nothing predicts (an empty context with no BOS: the control arm's and the anchors' whole
    texts)."""
    return max(n_context, 1)


class Backend(ABC):
    """Loads one model directory (or hub id); generates completions for prompts and scores texts under the model.

    Scoring (lm-evaluation-harness's model interface has the same two sides): ``loglikelihood`` of a continuation
    given its context (the perplexity gate, the analysis' base perplexity) and ``next_token_margin`` between two
    tokens after a context (the binary and cross gates' answer words). Token ids come from ``self.encoder``
    (gatedloop.core.encoding: one BOS at the start where the tokenizer uses one, the continuation's tokens exactly
    those after the context's), which a backend sets from its tokenizer, so every backend scores the same tokens.
    """

    encoder: TextEncoder

    def __init__(self, model_path: str, device: str = "cpu", dtype: str = "auto"):
        from gatedloop.core.runtime import resolve_dtype

        self.model_path = model_path
        self.device = device
        self.dtype = resolve_dtype(dtype, device)

    @abstractmethod
    def generate(self, prompts: list[str], params: SamplingParams, seed: int) -> list[str]:
        """One completion per prompt, in order, cut at the first stop sequence. Same seed, same output."""

    @abstractmethod
    def loglikelihood(self, requests: list[tuple[str, str]], batch_size: int = 32) -> list[LogLikelihood]:
        """Per ``(context, continuation)`` request, in order: the continuation's log-likelihood given the context
        (``encoder.pair``: a sequence longer than the model's context keeps its start, so the continuation's end
        is what is lost). ``batch_size``: sequences per forward pass where the backend batches itself."""

    @abstractmethod
    def next_token_margin(self, contexts: list[str], first: int, second: int, batch_size: int = 32) -> list[float]:
        """Per context, in order: log p(first) - log p(second) for the token after it (the normalizer cancels, so
        also logit(first) - logit(second)). A context is a text that starts a sequence (``encoder.text``); one
        longer than the model's context keeps its end (``encoder.keep_end``), the part next to the answer."""
