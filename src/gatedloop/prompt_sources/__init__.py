"""Prompt sources: where each round's prompts come from, a registry of small classes behind one interface
(``PromptSource``), chosen by ``prompts.source`` in config.

A new source is one new module here with a ``@register("name")`` class, plus its import below.
"""

from __future__ import annotations

from gatedloop.prompt_sources.base import PROMPT_SOURCES, SECTION, Draw, PromptSource, first_tokens

# Importing a source module registers it.
from gatedloop.prompt_sources import file_prefixes, microtasks, pool  # noqa: E402,F401  isort: skip


def source_name(section: dict) -> str:
    """``prompts.source``, where unset: pool with a path, else microtasks (what the workflow did before sources)."""
    return section.get("source") or ("pool" if section.get("path") else "microtasks")


def from_config(section: dict) -> PromptSource:
    """The configured source, its options from the section ``prompts``."""
    return PROMPT_SOURCES.get(source_name(section)).from_section(section)


__all__ = ["PROMPT_SOURCES", "SECTION", "Draw", "PromptSource", "first_tokens", "from_config", "source_name"]
