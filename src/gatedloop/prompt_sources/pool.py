"""``pool``: a fixed pool file of your own (``prompts.path``), every prompt every round, as before sources existed.

Its rows are our pool form or the study's v2 rows (``content``, ``test_code``, no ``task_id``:
gatedloop.data.prompt_pool). ``prompt_tokens`` cuts each prompt to its first N tokens in the model's tokenizer (the
study's v2 cuts at 1,024). ``shuffle_seed`` puts the pool in one seeded order, the same in every round (the study's
v2 ``prompt_seed``: generation cycles through the pool in that order, so a budget that is not a whole number of
passes favours no part of the file). A pool in our form, uncut and unshuffled is not staged: the generation reads
the file itself, so existing configs keep their jobs and results.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from gatedloop.core.options import OptionsError, option
from gatedloop.data.prompt_pool import pool_needs_rewrite, read_pool
from gatedloop.prompt_sources.base import SECTION, Draw, PromptSource, first_tokens, register


@register("pool")
class PoolSource(PromptSource):
    @dataclass(frozen=True)
    class Options:
        path: str | None = option(None, "the pool file (JSONL: task_id, prompt, optional tests; or the study's "
                                        "content / test_code rows)")
        prompt_tokens: int | None = option(None, "cut each prompt to its first N tokens in the model's tokenizer; "
                                                 "null: uncut", minimum=1)
        shuffle_seed: int | None = option(None, "put the pool in one seeded order, the same every round (the "
                                                "study's v2 prompt_seed: 0); null: file order", minimum=0)

    def counts_tokens(self) -> bool:
        return self.settings.prompt_tokens is not None

    def staged(self) -> bool:
        return self.counts_tokens() or self.settings.shuffle_seed is not None or pool_needs_rewrite(self.settings.path)

    def check(self) -> None:
        if not self.settings.path:
            raise OptionsError(f"{SECTION}.path", "source 'pool' needs the pool file")

    def prompts(self, draw: Draw) -> list[dict]:
        rows = read_pool(self.settings.path)
        if self.settings.shuffle_seed is not None:
            random.Random(self.settings.shuffle_seed).shuffle(rows)
        if self.settings.prompt_tokens is None:
            return rows
        if draw.tokenizer is None:
            raise ValueError("prompts.prompt_tokens cuts prompts in the model's tokenizer: give the model (--model)")
        return [{**row, "prompt": first_tokens(draw.tokenizer, row["prompt"], self.settings.prompt_tokens)[0]}
                for row in rows]
