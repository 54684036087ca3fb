"""Shared fixtures: a real (tiny, randomly initialised) GPT-2 model with a real trained BPE tokenizer, built
offline in seconds, so backend, gate and fine-tuning tests exercise transformers and peft for real."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A 2-layer GPT-2 (random weights) + a BPE tokenizer trained on microtask text, saved in HF format."""
    from gatedloop import microtasks
    from gatedloop.pretrain import ModelShape, build_model
    from gatedloop.runtime import set_threads
    from gatedloop.tokenizer import train_tokenizer

    set_threads(1)
    import torch

    torch.manual_seed(0)
    texts = [t.prompt + t.canonical_solution for t in microtasks.all_tasks()]
    tokenizer = train_tokenizer(texts, vocab_size=400)
    model = build_model(ModelShape(n_embd=32, n_layer=2, n_head=2, n_positions=128), tokenizer)
    model.config.use_cache = True
    out = tmp_path_factory.mktemp("tiny") / "model"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
