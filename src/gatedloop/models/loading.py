"""Loading and saving models and tokenizers: every stage goes through here, so a hub id, a local directory,
the from-scratch model and an adapter chain are handled alike.

An adapter chain is how a round's model exists when its merged weights are not kept (``finetune.keep_merged:
false``): the round's model directory holds the tokenizer and ``chain.json``, which names the base model and the
LoRA adapters of rounds 1..r in order. Loading it loads the base and merges each adapter in turn: the same
operations, in the same dtype, that fine-tuning performed when it merged them, so the weights are the ones a kept
merged model would have had. The directory is a few kilobytes and never deleted, so a changed scoring or
analysis setting reruns only scoring or analysis, not the fine-tuning that made the model.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

REQUIRED_MODEL_FILES = ("config.json",)
CHAIN_FILE = "chain.json"


def is_chain(path: str | Path) -> bool:
    return (Path(path) / CHAIN_FILE).is_file()


def read_chain(path: str | Path) -> tuple[Path, list[Path]]:
    """(base model directory, adapter directories in order) of an adapter chain; paths are stored relative to the
    chain's directory, so a results folder can be moved whole."""
    path = Path(path)
    chain = json.loads((path / CHAIN_FILE).read_text())
    # Joined by name, not through symlinks, as write_chain made them: a results/ that links to scratch space keeps
    # the same names below it, while resolving would climb out of the link's target.
    home = os.path.abspath(path)
    base = Path(os.path.normpath(os.path.join(home, chain["base"])))
    adapters = [Path(os.path.normpath(os.path.join(home, adapter))) for adapter in chain["adapters"]]
    missing = [str(p) for p in [base, *adapters] if not p.is_dir()]
    if missing:
        raise FileNotFoundError(f"{path / CHAIN_FILE}: the model is rebuilt from these, and they are missing: "
                                f"{', '.join(missing)}")
    return base, adapters


def chain_of(path: str | Path) -> tuple[Path, list[Path]]:
    """The base and adapters a model is made of: its chain, or the model itself with no adapters."""
    return read_chain(path) if is_chain(path) else (Path(path), [])


def write_chain(path: str | Path, base: str | Path, adapters: list[str | Path], tokenizer,
                location: str | Path | None = None) -> None:
    """Write an adapter chain directory (chain.json and the tokenizer) at ``path``; ``location`` is where it will
    live if it is written elsewhere first (a staging directory renamed into place)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(str(path))
    home = os.path.abspath(location or path)
    relative = {"base": os.path.relpath(os.path.abspath(base), home),
                "adapters": [os.path.relpath(os.path.abspath(a), home) for a in adapters]}
    (path / CHAIN_FILE).write_text(json.dumps(relative, indent=1) + "\n")


def merge_adapters(model, adapters: list[Path], stored_dtype: str | None = None):
    """Merge LoRA adapters into ``model``, one after another (round 1's first). After each merge the weights are
    rounded to ``stored_dtype``, the dtype the round's merged weights would have been saved in (the base model's),
    so a chain loaded in any precision equals the kept merged weights loaded in that precision: fine-tuning may
    have merged in float32 (a CPU) or bfloat16 (a GPU), and either way saved the result in the base's dtype."""
    import torch
    from peft import PeftModel

    working = model.dtype
    for adapter in adapters:
        model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
        if stored_dtype is not None and getattr(torch, stored_dtype) != working:
            model = model.to(getattr(torch, stored_dtype)).to(working)
    return model


@contextlib.contextmanager
def weights_dir(path: str | Path):
    """A directory with real weights for engines that load files themselves (vLLM): the model's own directory,
    or, for an adapter chain, the merged model written to a temporary directory for the length of the job."""
    if not is_chain(path):
        yield str(path)
        return
    import tempfile

    # In the base's stored dtype (bf16 for the study's models: half of a float32 copy), in the job's node-local
    # temporary space where the cluster names one.
    stored = saved_dtype(chain_of(path)[0])
    scratch = os.environ.get("SLURM_TMPDIR") or None  # else TMPDIR, else /tmp
    with tempfile.TemporaryDirectory(prefix="gatedloop-merged-", dir=scratch) as tmp:
        save_model(load_model(path, dtype=stored or "float32"), load_tokenizer(path), tmp, dtype=stored)
        yield tmp


def check_model_dir(path: str | Path) -> None:
    """Fail early, naming the missing file, when a local model directory is incomplete."""
    path = Path(path)
    if not path.is_dir():
        return  # a hub id: transformers reports its own errors
    if is_chain(path):
        read_chain(path)
        return
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

    from gatedloop.core.runtime import enable_tf32, resolve_dtype

    check_model_dir(path)
    if str(device).startswith("cuda"):
        enable_tf32()
    base, adapters = chain_of(path)
    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=getattr(torch, resolve_dtype(dtype, device)))
    model = merge_adapters(model.to(device), adapters, saved_dtype(base))
    return model.eval()


def saved_dtype(path: str | Path) -> str | None:
    """The dtype a model directory's weights are stored in, from its config.json (``dtype``, or ``torch_dtype``
    as older transformers wrote it); None when it does not say."""
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
