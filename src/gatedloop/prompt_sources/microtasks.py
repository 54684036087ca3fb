"""``microtasks``: the embedded microtasks pool (results/data/microtasks/pool.jsonl, written by the microtasks rule),
every prompt every round, each with its tests and reference solution. Never staged: the generation reads the pool
file itself, as it always has."""

from __future__ import annotations

from dataclasses import dataclass

from gatedloop.core.layout import MICROTASKS
from gatedloop.core.options import option
from gatedloop.data.prompt_pool import read_pool
from gatedloop.prompt_sources.base import Draw, PromptSource, register


@register("microtasks")
class MicrotasksSource(PromptSource):
    @dataclass(frozen=True)
    class Options:
        pool: str = option(f"{MICROTASKS}/pool.jsonl", "the workflow's microtasks pool", config=False)

    def tests_every_prompt(self) -> bool | None:
        return True

    def prompts(self, draw: Draw) -> list[dict]:
        return read_pool(self.settings.pool)
