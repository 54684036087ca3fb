"""Token ids of prompt + completion, the one encoding that fine-tuning and the backends' scoring (every
model-scored gate, the audit through its gate, the analysis) use, so a sample is the same token sequence wherever
it is trained on or scored.

The rule:

- **Leading special tokens once.** A tokenizer that marks the start of a text (Llama, CodeLlama, DeepSeek-Coder:
  ``tokenizer("x")`` is ``<s> x``) gets that mark once, at position 0; the embedded GPT-2-style tokenizer adds
  none, so its ids are unchanged. Calling the tokenizer on prompt and completion separately *with* special tokens
  put a second ``<s>`` in the middle of every sample (trained on, and scored as log p(``<s>``)).
- **The boundary is exact: prompt ids, then the completion's own ids.** ``ids = leading + encode(prompt) +
  continuation(completion)`` with both encoded without special tokens, and ``n_prompt = len(leading +
  encode(prompt))``: the completion is exactly ``ids[n_prompt:]``, whatever the text at the boundary. The prompt
  is encoded as the generation backends encode it, and the model wrote the completion as tokens *after* those
  prompt tokens, so its tokens are a continuation of them. Encoding prompt + completion jointly would let one
  token straddle the boundary (a prompt ending in a newline and a completion starting with its indent merge into
  one token in byte-level BPE), leave "the completion's tokens" undefined, and would change the embedded default's
  ids (and so its metrics) for nothing.
- **Continuations carry no dummy prefix space.** SentencePiece-style tokenizers (Llama-2, CodeLlama) prepend a
  space to the start of every text they encode; a completion encoded on its own would gain a space it does not
  have. For such tokenizers (detected once, see ``adds_prefix_space``) a continuation is encoded after an anchor
  (``"\\n"``) whose ids are then dropped. Byte-level BPE tokenizers add no prefix: their continuation is the
  plain encoding.
- **EOS once, at the end**, and only where asked (fine-tuning teaches the model to stop; scoring does not score
  it). Truncation keeps the leading special tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

ANCHOR = "\n"  # a byte-fallback / single-byte token in Llama-style vocabularies: never merges with what follows
PROBE = "x"


@dataclass(frozen=True)
class Encoded:
    """Token ids of one sample and where its completion starts (``ids[n_prompt:]`` are the completion's)."""

    ids: list[int]
    n_prompt: int


class TextEncoder:
    """One tokenizer's encoding of prompts, completions and whole texts (the rule in the module docstring)."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.leading = leading_special_ids(tokenizer)
        self.prefix_space = adds_prefix_space(tokenizer)

    def plain(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False).input_ids

    def text(self, text: str) -> list[int]:
        """A text that starts a sequence (a prompt, a probe snippet, a gate's question): the leading special
        tokens, then the text."""
        return self.leading + self.plain(text)

    def continuation(self, text: str) -> list[int]:
        """The ids of ``text`` as it follows other text: no special tokens, no dummy prefix space."""
        if not self.prefix_space:
            return self.plain(text)
        return _after_anchor(self.tokenizer, text) or self.plain(text)

    def pair(self, prompt: str, completion: str, eos: bool = False, max_tokens: int | None = None) -> Encoded:
        """``leading + prompt + completion (+ EOS)``, cut to ``max_tokens`` from the end (the completion goes
        first; ``n_prompt`` may then exceed ``len(ids)``: nothing of the completion is left)."""
        prompt_ids = self.text(prompt)
        ids = prompt_ids + self.continuation(completion)
        if eos and self.tokenizer.eos_token_id is not None:
            ids.append(self.tokenizer.eos_token_id)
        if max_tokens is not None:
            ids = ids[:max_tokens]
        return Encoded(ids, len(prompt_ids))

    def keep_end(self, ids: list[int], max_tokens: int) -> list[int]:
        """The last tokens of a text that fit ``max_tokens``, its leading special tokens kept in front."""
        if len(ids) <= max_tokens:
            return ids
        lead = len(self.leading) if ids[: len(self.leading)] == self.leading else 0
        return ids[:lead] + ids[len(ids) - (max_tokens - lead) :]


def single_token(encoder: TextEncoder, word: str, key: str) -> int:
    """An answer word's one token id, as the model would write it after a question; otherwise an error naming the
    config ``key`` that set the word (``gate_options.binary.yes_word``), the word and its tokens."""
    ids = encoder.continuation(word)
    if len(ids) != 1:
        raise ValueError(f"{key}: {word!r} is {len(ids)} tokens {token_pieces(encoder, ids)} in this model's "
                         f"tokenizer; choose a word that is a single token (per model: models.<name>.{key})")
    return ids[0]


def token_pieces(encoder: TextEncoder, ids: list[int]) -> list[str]:
    """Each id decoded on its own: how a word was split, for error messages."""
    return [encoder.tokenizer.decode([i]) for i in ids]


def leading_special_ids(tokenizer) -> list[int]:
    """The ids the tokenizer puts before a text when asked for special tokens (``[bos]`` for Llama, ``[]`` for the
    embedded tokenizer), found by encoding a probe with and without them."""
    with_specials = tokenizer(PROBE).input_ids
    plain = tokenizer(PROBE, add_special_tokens=False).input_ids
    for start in range(len(with_specials) - len(plain) + 1):
        if with_specials[start : start + len(plain)] == plain:
            return list(with_specials[:start])
    return []


def _after_anchor(tokenizer, text: str) -> list[int] | None:
    anchor = tokenizer(ANCHOR, add_special_tokens=False).input_ids
    joint = tokenizer(ANCHOR + text, add_special_tokens=False).input_ids
    if joint[: len(anchor)] != anchor:
        return None  # the anchor merged with the text: no clean cut
    return joint[len(anchor) :]


def adds_prefix_space(tokenizer) -> bool:
    """Whether encoding a text on its own prepends a space (SentencePiece's dummy prefix): then a probe encodes
    differently at the start of a text and after a newline."""
    after = _after_anchor(tokenizer, PROBE)
    return after is not None and after != tokenizer(PROBE, add_special_tokens=False).input_ids

