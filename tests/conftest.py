"""Shared fixtures: real (tiny, randomly initialised) GPT-2 and Llama models with real trained BPE tokenizers
(gatedloop.models.tiny), built offline in seconds, so backend, gate and fine-tuning tests exercise
transformers and peft for real."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A 2-layer GPT-2 (random weights) + a BPE tokenizer trained on microtask text, saved in HF format."""
    return _tiny("gpt2", tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory) -> Path:
    """A 2-layer Llama (random weights) with a byte-level BPE tokenizer that, like Llama's, CodeLlama's and
    DeepSeek-Coder's, puts ``<s>`` before every text it encodes with special tokens (``</s>`` ends text); " good",
    " bad", " True" and " False" are single tokens, " yes" is two (the condition behind per-model answer words)."""
    return _tiny("llama", tmp_path_factory.mktemp("tiny_llama") / "model")


def _tiny(arch: str, out: Path) -> Path:
    from gatedloop.core.runtime import set_threads
    from gatedloop.models import tiny as tiny_models

    set_threads(1)
    return tiny_models.save(arch, out)
