"""How code text is split into tokens, for the measures that count tokens (not a model's tokenizer).

Two splits, each kept because a measure is defined on it; they differ on numbers and on non-ASCII letters:
``x = 1.0`` is ``x = 1.0`` (3 lexical tokens) but ``x = 1 . 0`` (5 word tokens), ``2x`` is ``2 x`` but ``2x``.
- ``word_tokens``: words and single punctuation marks. The quality gate's length and repetition
  (gatedloop.gates.quality_gate, docs/gates.md) and the contamination check's n-grams (gatedloop.sample_checks,
  "tokens as in the quality gate") are defined on it; changing it would change which samples a gate accepts.
- ``lexical_tokens``: identifiers, numbers (with their decimal part) and any other character alone, roughly as
  Python's tokenizer would split them. The diversity measures (gatedloop.analyze: distinct-n, unique identifiers)
  are defined on it.
"""

from __future__ import annotations

import re

WORD_TOKEN = re.compile(r"\w+|[^\w\s]")
LEXICAL_TOKEN = re.compile(r"[A-Za-z_]\w*|\d+(?:\.\d+)?|\S")


def word_tokens(text: str) -> list[str]:
    """Runs of word characters (letters, digits, underscore) and single other non-space characters."""
    return WORD_TOKEN.findall(text)


def lexical_tokens(text: str) -> list[str]:
    """Identifiers (an ASCII letter or underscore first), numbers with their decimal part, any other non-space
    character alone."""
    return LEXICAL_TOKEN.findall(text)
