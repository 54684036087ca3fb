"""The prompt-source interface. A source says where a round's prompts come from: a fixed pool every round draws
whole (the embedded microtasks, a pool file of your own) or a corpus of human code a fresh slice of which each
round prompts with (file prefixes, the study's v1).

Every source writes the same rows, our pool form: ``task_id``, ``prompt`` and, where the source has them, ``tests``
(a list of assert statements). A source whose prompts differ by round or by model (they are cut in the model's
tokenizer) is *staged*: the prompts stage (``python -m gatedloop.prompts``) writes its rows once per (model, seed,
round), and every gate of that (model, seed, round) generates from that file. Any other source is read as it
stands by the generation, as before sources existed.
"""

from __future__ import annotations

import typing
from abc import ABC, abstractmethod
from dataclasses import dataclass

from gatedloop.core.options import accepts, config_fields, options_from
from gatedloop.core.registry import Registry

# The config section every source's options live in (flat: each source reads the keys of its Options).
SECTION = "prompts"


@dataclass(frozen=True)
class Draw:
    """What one round's draw depends on: the run's seed, the round, and the model's tokenizer (None for sources
    that count no tokens)."""

    seed: int
    round: int
    tokenizer: object | None = None

    @property
    def shuffle_seed(self) -> int:
        """The seed of this round's shuffle. The study seeds each round's shuffle with the round number; run seed 0
        keeps exactly that, and each further run seed gets its own stream (10,000 rounds apart)."""
        return self.seed * 10_000 + self.round


class PromptSource(ABC):
    """``settings``: the source's ``Options`` (typed, defaults filled) from the config section ``prompts``."""

    name = ""  # set by register

    @dataclass(frozen=True)
    class Options:
        """No options."""

    def __init__(self, settings=None):
        self.settings = settings if settings is not None else self.Options()

    @classmethod
    def options_in(cls, section: dict) -> dict:
        """The config section's keys that are this source's options, sorted; a null where the option takes no null
        (prompt_tokens: null is "the source's default") is left out, so the default applies."""
        hints = typing.get_type_hints(cls.Options)
        names = {f.name for f in config_fields(cls.Options)}
        return {key: section[key] for key in sorted(section)
                if key in names and (section[key] is not None or accepts(hints[key], None))}

    @classmethod
    def from_section(cls, section: dict):
        """The source with the config section's keys that are its options (``options_in``)."""
        return cls(options_from(cls.Options, cls.options_in(section), SECTION, config=True))

    def counts_tokens(self) -> bool:
        """Whether its prompts are cut in the model's tokenizer (the stage then loads the round-0 model's)."""
        return False

    def staged(self) -> bool:
        """Whether the prompts stage writes this source's prompts per (model, seed, round)."""
        return self.counts_tokens()

    def check(self) -> None:
        """What can be checked before any job (files exist and read): an OptionsError naming the key if not."""
        return None

    def tests_every_prompt(self) -> bool | None:
        """Whether every prompt carries tests (the execution gate runs them): True/False, or None where only the
        rows can tell (a pool file)."""
        return None

    @abstractmethod
    def prompts(self, draw: Draw) -> list[dict]:
        """One round's prompts, in our pool form."""


def first_tokens(tokenizer, text: str, n: int) -> tuple[str, int]:
    """A text's first ``n`` tokens in the tokenizer (no special tokens), decoded back to text, and how many tokens
    it had. A text of ``n`` tokens or fewer is kept as it is (no decode round trip to alter it)."""
    ids = tokenizer(text, add_special_tokens=False).input_ids
    if len(ids) <= n:
        return text, len(ids)
    return tokenizer.decode(ids[:n], skip_special_tokens=True, clean_up_tokenization_spaces=False), len(ids)


PROMPT_SOURCES: Registry[type[PromptSource]] = Registry("prompt source", options_key=SECTION)


def register(name: str):
    def decorate(cls: type[PromptSource]) -> type[PromptSource]:
        cls.name = name
        return PROMPT_SOURCES.add(name, cls)

    return decorate
