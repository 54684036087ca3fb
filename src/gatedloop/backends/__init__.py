"""Generation backends: one interface, a registry of implementations chosen by name in config.

A backend turns prompts into completions under ``SamplingParams``. Completions are cut at the first stop
sequence, so every stage sees the same text whatever the backend. vLLM is the next backend to register here.
"""

from __future__ import annotations

from gatedloop.backends.base import Backend, SamplingParams, truncate_at_stop
from gatedloop.registry import Registry

BACKENDS: Registry[type[Backend]] = Registry("backend")


def _register_builtin() -> None:
    from gatedloop.backends.transformers_backend import TransformersBackend

    BACKENDS.add("transformers", TransformersBackend)


_register_builtin()

__all__ = ["BACKENDS", "Backend", "SamplingParams", "truncate_at_stop"]
