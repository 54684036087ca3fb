"""Packed training sequences, as the study trains: every training text tokenised, the texts joined with EOS, and
the stream cut into full sequences of ``seq_len`` tokens (a remainder shorter than that is dropped: no padding, no
partial sequence). The training loop then draws the sequences in a seeded shuffled order, pass after pass, until
its steps are done.

Fill-in-the-middle (FIM): with probability ``fim_rate`` a text is cut at two random token positions into prefix,
middle and suffix and rearranged around the tokenizer's own FIM tokens, PSM (``<pre> prefix <suf> suffix <mid>
middle``) or, with probability ``fim_spm_rate``, SPM (``<pre> <suf> suffix <mid> prefix middle``, the StarCoder
variant). A tokenizer without FIM tokens gets no FIM: ``FimTokens.find`` returns None and the caller records why.

This sits beside ``encoding`` because it is the other half of the same rule: how a sample becomes the token ids a
model is trained on (each text starts with the encoder's leading special tokens, exactly once).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from gatedloop.core.encoding import TextEncoder

# (prefix, suffix, middle) token names by model family; the first set the tokenizer holds completely is used.
FIM_TOKEN_NAMES = (
    ("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),  # StarCoder, StarCoder2
    ("<fim-prefix>", "<fim-suffix>", "<fim-middle>"),  # SantaCoder
    ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),  # Qwen2.5-Coder
    ("▁<PRE>", "▁<SUF>", "▁<MID>"),  # CodeLlama (SentencePiece pieces)
    ("<PRE>", "<SUF>", "<MID>"),
    ("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),  # DeepSeek-Coder: begin, hole (suffix follows), end
)
NO_FIM_TOKENS = "the tokenizer has no FIM tokens"


@dataclass(frozen=True)
class FimTokens:
    prefix: int
    suffix: int
    middle: int

    @classmethod
    def find(cls, tokenizer) -> FimTokens | None:
        vocab = tokenizer.get_vocab()
        for names in FIM_TOKEN_NAMES:
            if all(name in vocab for name in names):
                return cls(*(vocab[name] for name in names))
        return None


@dataclass(frozen=True)
class Fim:
    """FIM settings: the tokens, how often a text is rearranged, and how often a rearranged one is SPM."""

    tokens: FimTokens
    rate: float
    spm_rate: float


def fim_permute(ids: list[int], fim: Fim, rng: random.Random) -> list[int]:
    """``ids`` rearranged for fill-in-the-middle with probability ``fim.rate``, else unchanged. The random draws
    (whether, where, which order) are made in the same order for every text, so a seed fixes the whole layout."""
    if rng.random() >= fim.rate:
        return ids
    start, end = sorted(rng.randint(0, len(ids)) for _ in range(2))
    prefix, middle, suffix = ids[:start], ids[start:end], ids[end:]
    t = fim.tokens
    if rng.random() < fim.spm_rate:
        return [t.prefix, t.suffix, *suffix, t.middle, *prefix, *middle]
    return [t.prefix, *prefix, t.suffix, *suffix, t.middle, *middle]


@dataclass(frozen=True)
class Packed:
    """Full sequences of ``seq_len`` tokens, and what went into them."""

    sequences: list[list[int]]
    stream_tokens: int  # tokens of the EOS-joined texts, before the cut
    fim_texts: int  # texts rearranged for FIM

    @property
    def dropped_tokens(self) -> int:
        return self.stream_tokens - sum(len(s) for s in self.sequences)


def training_texts_ids(encoder: TextEncoder, samples: list[dict], fim: Fim | None, seed: int) -> tuple[list, int]:
    """Each sample's ids (leading special tokens once, then prompt and completion, FIM-rearranged when drawn) and
    how many were rearranged."""
    rng = random.Random(seed)
    texts, rearranged = [], 0
    for sample in samples:
        encoded = encoder.pair(sample["prompt"], sample["completion"])
        lead = len(encoder.leading)
        body = encoded.ids[lead:]
        if fim is not None:
            permuted = fim_permute(body, fim, rng)
            rearranged += permuted is not body
            body = permuted
        texts.append(encoded.ids[:lead] + body)
    return texts, rearranged


def pack(texts: list[list[int]], eos_id: int, seq_len: int) -> list[list[int]]:
    """The texts joined, each followed by EOS, cut into full ``seq_len`` sequences; the short remainder is
    dropped."""
    stream = [token for text in texts for token in (*text, eos_id)]
    return [stream[i : i + seq_len] for i in range(0, len(stream) - seq_len + 1, seq_len)]


def pack_samples(encoder: TextEncoder, samples: list[dict], seq_len: int, fim: Fim | None = None,
                 seed: int = 0) -> Packed:
    texts, rearranged = training_texts_ids(encoder, samples, fim, seed)
    eos = encoder.tokenizer.eos_token_id
    if eos is None:
        raise ValueError("packing joins texts with EOS, and the tokenizer has no EOS token")
    return Packed(pack(texts, eos, seq_len), sum(len(t) + 1 for t in texts), rearranged)
