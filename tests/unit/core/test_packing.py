"""Packing and FIM: the exact token layout of packed sequences, and FIM rearrangements at a fixed seed."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from gatedloop.core.encoding import TextEncoder
from gatedloop.core.packing import Fim, FimTokens, fim_permute, pack, pack_samples

BOS, EOS = 1, 2
FIM_NAMES = {"<fim_prefix>": 3, "<fim_suffix>": 4, "<fim_middle>": 5}


class CharTokenizer:
    """One token per character (its code point); with ``bos``, a text encoded with special tokens starts with it."""

    def __init__(self, bos: bool, fim: bool = False):
        self.bos, self.eos_token_id = bos, EOS
        self.vocab = {chr(c): c for c in range(32, 127)} | {"\n": 10} | (FIM_NAMES if fim else {})

    def __call__(self, text: str, add_special_tokens: bool = True):
        return SimpleNamespace(input_ids=[BOS] * (self.bos and add_special_tokens) + [ord(c) for c in text])

    def get_vocab(self) -> dict:
        return dict(self.vocab)


def ids(text: str) -> list[int]:
    return [ord(c) for c in text]


def samples(*texts: str) -> list[dict]:
    return [{"prompt": text[:1], "completion": text[1:]} for text in texts]


def test_texts_start_with_bos_once_end_with_eos_and_are_cut_into_full_sequences():
    packed = pack_samples(TextEncoder(CharTokenizer(bos=True)), samples("ab", "cde", "f"), seq_len=5)
    stream = [BOS, *ids("ab"), EOS, BOS, *ids("cde"), EOS, BOS, *ids("f"), EOS]
    assert packed.sequences == [stream[:5], stream[5:10]]  # the 2 tokens left over are dropped
    assert (packed.stream_tokens, packed.dropped_tokens, packed.fim_texts) == (12, 2, 0)


def test_a_tokenizer_without_bos_joins_the_texts_by_eos_alone():
    packed = pack_samples(TextEncoder(CharTokenizer(bos=False)), samples("ab", "cde", "f"), seq_len=4)
    assert packed.sequences == [[*ids("ab"), EOS, *ids("c")], [*ids("de"), EOS, *ids("f")]]
    assert packed.dropped_tokens == 1  # the last EOS


def test_pack_keeps_only_full_sequences():
    assert pack([[7, 8, 9]], EOS, seq_len=5) == []
    assert pack([[7, 8], [9]], EOS, seq_len=2) == [[7, 8], [EOS, 9]]


def test_fim_tokens_are_the_tokenizers_own_or_none():
    assert FimTokens.find(CharTokenizer(bos=False, fim=True)) == FimTokens(prefix=3, suffix=4, middle=5)
    assert FimTokens.find(CharTokenizer(bos=False)) is None
    codellama = SimpleNamespace(get_vocab=lambda: {"▁<PRE>": 32007, "▁<SUF>": 32008, "▁<MID>": 32009})
    assert FimTokens.find(codellama) == FimTokens(32007, 32008, 32009)


def split_points(seed: int, n: int) -> tuple[int, int]:
    """The two cut points fim_permute draws at ``seed`` for a text of ``n`` tokens (after its rate draw)."""
    rng = random.Random(seed)
    rng.random()
    return tuple(sorted(rng.randint(0, n) for _ in range(2)))


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_fim_psm_and_spm_layouts_at_a_fixed_seed(seed):
    text = list(range(100, 120))
    start, end = split_points(seed, len(text))
    prefix, middle, suffix = text[:start], text[start:end], text[end:]
    tokens = FimTokens(3, 4, 5)
    psm = fim_permute(text, Fim(tokens, rate=1.0, spm_rate=0.0), random.Random(seed))
    spm = fim_permute(text, Fim(tokens, rate=1.0, spm_rate=1.0), random.Random(seed))
    assert psm == [3, *prefix, 4, *suffix, 5, *middle]
    assert spm == [3, 4, *suffix, 5, *prefix, *middle]
    assert fim_permute(text, Fim(tokens, rate=0.0, spm_rate=0.5), random.Random(seed)) is text


def test_fim_in_packing_is_reproducible_at_a_seed_and_keeps_bos_in_front():
    encoder = TextEncoder(CharTokenizer(bos=True, fim=True))
    texts = samples(*(f"def f{i}(x): return x + {i}" for i in range(20)))
    fim = Fim(FimTokens(3, 4, 5), rate=0.5, spm_rate=0.5)
    first, again = (pack_samples(encoder, texts, 16, fim, seed=4) for _ in range(2))
    other = pack_samples(encoder, texts, 16, fim, seed=5)
    assert first == again and first.sequences != other.sequences
    assert 0 < first.fim_texts < 20  # about half the texts rearranged
    stream = [t for s in first.sequences for t in s]
    starts = [i + 1 for i, t in enumerate(stream) if t == EOS][:-1]
    assert all(stream[i] == BOS for i in [0, *starts])  # BOS first in every text, FIM or not
    assert sum(t == 3 for t in stream) <= first.fim_texts
