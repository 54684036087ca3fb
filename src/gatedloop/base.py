"""Model sources for round 0: a registry of ways to obtain a base model, named by ``models.<name>.source``.

``scratch`` trains a tiny GPT-2-style model inside the workflow (microtasks + corpus -> tokenizer -> pretrain
rules). Other sources (a hub id, a local directory, a packaged offline model) register here too; each produces
``results/base/<model>/model`` as a Hugging Face directory, so every later stage loads any source alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from gatedloop.registry import Registry


@dataclass(frozen=True)
class ModelSource:
    """How the workflow builds a base model: ``rules`` names the Snakemake rules that produce it."""

    name: str
    rules: tuple[str, ...]
    description: str


SOURCES: Registry[ModelSource] = Registry("model source")
SOURCES.add("scratch", ModelSource("scratch", ("corpus", "tokenizer", "pretrain"),
                                   "a tiny GPT-2 trained from scratch, offline, on stdlib code and microtasks"))
SOURCES.add("hub", ModelSource("hub", ("fetch_model",),
                               "a Hugging Face hub id (models.<name>.id, optional revision), downloaded once"))
SOURCES.add("local", ModelSource("local", ("fetch_model",),
                                 "a Hugging Face model directory on disk (models.<name>.path)"))
SOURCES.add("packaged", ModelSource("packaged", ("fetch_model",),
                                    "a GGUF model inside an installed Python package (models.<name>.package, file), "
                                    "converted once to a Hugging Face directory: the offline real model"))
