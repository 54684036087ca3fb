"""How code text is split into tokens, for the measures that count tokens (not a model's tokenizer).

One split for every such measure: the quality gate's length and repetition (gatedloop.gates.quality_gate), the
contamination check's n-grams (gatedloop.sample_checks) and the diversity measures (gatedloop.analyze: distinct-n,
unique identifiers). Roughly as Python's tokenizer splits code: identifiers, numbers with their decimal part, and
any other non-space character alone (``x = 1.0`` is ``x``, ``=``, ``1.0``; ``2x`` is ``2``, ``x``).
"""

from __future__ import annotations

import re

CODE_TOKEN = re.compile(r"[A-Za-z_]\w*|\d+(?:\.\d+)?|\S")


def code_tokens(text: str) -> list[str]:
    """Identifiers (an ASCII letter or underscore first), numbers with their decimal part, any other non-space
    character alone."""
    return CODE_TOKEN.findall(text)
