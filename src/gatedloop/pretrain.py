"""Pre-train a tiny GPT-2-style code model from scratch (the embedded default's round-0 model).

CLI: ``python -m gatedloop.pretrain --corpus corpus.jsonl --tokenizer DIR --out DIR [options]``. The output is a
plain Hugging Face model directory (weights, config, tokenizer), so every later stage loads it exactly as it would
load a hub model. Each batch row is a random window of ``seq_len`` tokens, drawn from the microtask stream with
probability ``task_fraction`` and from the standard-library stream otherwise (nanoGPT-style sampling).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from gatedloop.core.checkpoint import Checkpointer, restore_rng, rng_state, run_key
from gatedloop.core.io import atomic_path, read_jsonl, write_json
from gatedloop.core.options import add_dataclass_args, dataclass_from_args
from gatedloop.core.runtime import seed_everything, set_threads
from gatedloop.engine.warm import run_cli
from gatedloop.models.scratch import ModelShape, build_model


@dataclass
class PretrainConfig:
    steps: int = 1000
    batch_size: int = 8
    seq_len: int = 128
    lr: float = 3e-3
    warmup_steps: int = 50
    weight_decay: float = 0.1
    task_fraction: float = 0.95
    seed: int = 0


def token_streams(docs: list[dict], tokenizer) -> dict[str, object]:
    """One flat token stream per source, documents separated by end-of-text."""
    import torch

    streams: dict[str, list[int]] = {}
    eot = tokenizer.eos_token_id
    for doc in docs:
        streams.setdefault(doc["source"], []).extend(tokenizer(doc["text"]).input_ids + [eot])
    return {name: torch.tensor(ids, dtype=torch.long) for name, ids in streams.items()}


def sample_batch(streams: dict, cfg: PretrainConfig, generator) -> object:
    import torch

    rows = []
    for _ in range(cfg.batch_size):
        use_tasks = "stdlib" not in streams or torch.rand((), generator=generator).item() < cfg.task_fraction
        stream = streams["microtask"] if use_tasks else streams["stdlib"]
        start = torch.randint(0, len(stream) - cfg.seq_len - 1, (), generator=generator).item()
        rows.append(stream[start : start + cfg.seq_len])
    return torch.stack(rows)


def lr_at(step: int, cfg: PretrainConfig) -> float:
    """Linear warm-up, then cosine decay to 10% over the fixed step count."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def pretrain(docs: list[dict], tokenizer, shape: ModelShape, cfg: PretrainConfig, log_every: int = 100,
             checkpoints: Checkpointer | None = None):
    import torch

    seed_everything(cfg.seed)
    streams = token_streams(docs, tokenizer)
    model = build_model(shape, tokenizer)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.95))
    generator = torch.Generator().manual_seed(cfg.seed)
    history = []
    first_step = 0
    resumed = checkpoints.load() if checkpoints else None
    if resumed:
        model.load_state_dict(resumed["model"])
        optimizer.load_state_dict(resumed["optimizer"])
        restore_rng(resumed["rng"], generator)
        history, first_step = resumed["history"], resumed["step"]
    model.train()
    start = time.perf_counter()
    for step in range(first_step, cfg.steps):
        if checkpoints and checkpoints.due(step, cfg.steps) and step != first_step:
            checkpoints.save(step, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                    "rng": rng_state(generator), "history": history})
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, cfg)
        batch = sample_batch(streams, cfg, generator)
        loss = model(input_ids=batch, labels=batch).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % log_every == 0 or step == cfg.steps - 1:
            history.append({"step": step, "loss": round(loss.item(), 4),
                            "seconds": round(time.perf_counter() - start, 1)})
            print(f"step {step:5d}  loss {loss.item():.3f}  {time.perf_counter() - start:.0f}s", flush=True)
    model.eval()
    return model, history


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--tokenizer", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--checkpoint-dir", type=Path, default=None,
                        help="resume from / save training state here (outside the output, which Snakemake clears)")
    parser.add_argument("--checkpoint-every", type=int, default=100, help="steps between checkpoints")
    add_dataclass_args(parser, ModelShape)
    add_dataclass_args(parser, PretrainConfig)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    shape, cfg = dataclass_from_args(ModelShape, args), dataclass_from_args(PretrainConfig, args)

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    key = run_key({"shape": asdict(shape), "config": asdict(cfg)},
                  [args.corpus, *sorted(p for p in args.tokenizer.iterdir() if p.is_file())])
    checkpoints = Checkpointer(args.checkpoint_dir, key, args.checkpoint_every)
    model, history = pretrain(read_jsonl(args.corpus), tokenizer, shape, cfg, checkpoints=checkpoints)
    model.config.use_cache = True  # generation wants the KV cache; training set it off
    with atomic_path(args.out) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        write_json(tmp / "pretrain.json", {"shape": asdict(shape), "config": asdict(cfg), "history": history,
                                           "parameters": sum(p.numel() for p in model.parameters())})
    checkpoints.clear()
    print(f"saved {args.out}")


if __name__ == "__main__":
    run_cli(main)
