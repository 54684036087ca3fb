"""Loading and saving models and tokenizers: every stage goes through here, so a hub id, a local directory
and the from-scratch model are handled alike."""

from __future__ import annotations

from pathlib import Path

REQUIRED_MODEL_FILES = ("config.json",)


def check_model_dir(path: str | Path) -> None:
    """Fail early, naming the missing file, when a local model directory is incomplete."""
    path = Path(path)
    if not path.is_dir():
        return  # a hub id: transformers reports its own errors
    missing = [name for name in REQUIRED_MODEL_FILES if not (path / name).exists()]
    if not any(path.glob("*.safetensors")) and not any(path.glob("*.bin")):
        missing.append("model weights (*.safetensors or *.bin)")
    if missing:
        raise FileNotFoundError(f"model directory {path} is missing: {', '.join(missing)}")


def load_tokenizer(path: str | Path, padding_side: str = "right"):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path))
    tokenizer.padding_side = padding_side
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(path: str | Path, device: str = "cpu", dtype: str = "auto"):
    """The model on ``device`` in ``dtype`` (runtime.resolve_dtype: 'auto' is bfloat16 on CUDA, float32 on CPU)."""
    import torch
    from transformers import AutoModelForCausalLM

    from gatedloop.runtime import enable_tf32, resolve_dtype

    check_model_dir(path)
    if str(device).startswith("cuda"):
        enable_tf32()
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=getattr(torch, resolve_dtype(dtype, device)))
    return model.to(device).eval()


def saved_dtype(path: str | Path) -> str | None:
    """The dtype a model directory's weights are stored in, from its config.json (``dtype``, or ``torch_dtype``
    as older transformers wrote it); None when it does not say."""
    import json

    config_file = Path(path) / "config.json"
    if not config_file.is_file():
        return None
    config = json.loads(config_file.read_text())
    name = config.get("dtype") or config.get("torch_dtype")
    return str(name).removeprefix("torch.") if name else None


def save_model(model, tokenizer, path: str | Path, dtype: str | None = None) -> None:
    """Save weights, config and tokenizer; with ``dtype``, the weights are cast to it first (a bf16 base model
    fine-tuned in float32 on a CPU is saved in bf16 again, not at twice its size)."""
    import torch

    if dtype is not None and getattr(torch, dtype) != model.dtype:
        model = model.to(getattr(torch, dtype))
    model.config.use_cache = True
    model.save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))


def padded_batches(token_lists: list[list[int]], batch_size: int, pad_id: int | None):
    """(chunk, ids, mask) per batch: right-padded id and attention-mask tensors for lists of token ids."""
    import torch

    pad = 0 if pad_id is None else pad_id
    for start in range(0, len(token_lists), batch_size):
        chunk = token_lists[start : start + batch_size]
        width = max(len(tokens) for tokens in chunk)
        ids = torch.full((len(chunk), width), pad, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for i, tokens in enumerate(chunk):
            ids[i, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
            mask[i, : len(tokens)] = 1
        yield chunk, ids, mask
