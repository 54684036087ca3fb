"""LoRA fine-tuning of the previous round's model on the samples its gate accepted, merged for the next round.

CLI: ``python -m gatedloop.finetune --model DIR --samples S1.jsonl [S2.jsonl ...] --decisions D1.jsonl [...]
--out-model DIR --out-adapter DIR --out-stats finetune.json [--max-train N] [--human POOL --human-fraction F
--human-round R] [LoRA options] [--threads N]``.

Data regimes are chosen by what the workflow passes: replace (the study) gives this round's samples and
decisions; accumulate gives every round's so far (each round capped at ``--max-train``); mix adds fresh
human-written code so that it makes up ``--human-fraction`` of the training set (round R takes the R-th slice of
the pool). Precision (``--dtype``, auto: bfloat16 on CUDA, float32 on CPU): the base model is loaded in it, the
LoRA adapters train in float32 (peft's default for a bf16/fp16 base: the standard mixed-precision LoRA recipe),
and the merged model is saved in the dtype the base model was stored in. A gate that accepted nothing does not
stop the run: with no training data the model is carried forward unchanged, the stats say ``"skipped": true`` and
the log carries a warning.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gatedloop.core.checkpoint import Checkpointer, model_fingerprint, restore_rng, rng_state, run_key
from gatedloop.core.io import atomic_path, read_jsonl, write_json
from gatedloop.core.options import add_dataclass_args, dataclass_from_args
from gatedloop.core.provenance import environment
from gatedloop.core.runtime import DTYPES, device_for, seed_everything, set_threads
from gatedloop.engine.warm import run_cli
from gatedloop.models.loading import chain_of, load_model, load_tokenizer, save_model, saved_dtype, write_chain


@dataclass
class FinetuneConfig:
    steps: int = 60
    batch_size: int = 8
    lr: float = 5e-3
    warmup_steps: int = 5
    max_len: int = 128
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.0
    # GPT-2 names: attention (c_attn, and c_proj in both blocks) and MLP (c_fc). Other architectures name
    # theirs differently (q_proj, v_proj, ...): set finetune.target_modules in config.
    target_modules: list[str] = field(default_factory=lambda: ["c_attn", "c_proj", "c_fc"])
    loss_on_prompt: bool = True  # the sample is code in a repository: prompt and body alike
    seed: int = 0


def training_subset(accepted: list[dict], max_train: int | None, seed: int) -> list[dict]:
    """Up to ``max_train`` accepted samples (the per-round budget), a seeded random subset when over budget."""
    if max_train is None or len(accepted) <= max_train:
        return accepted
    import random

    keep = sorted(random.Random(seed).sample(range(len(accepted)), max_train))
    return [accepted[i] for i in keep]


def human_slice(pool: list[dict], n_generated: int, fraction: float, round_index: int) -> list[dict]:
    """Fresh human-written samples for round ``round_index`` so that they are ``fraction`` of the training set:
    n = ceil(n_generated * f / (1 - f)), taken from the pool's R-th slice (wrapping around when exhausted)."""
    import math

    if not pool or n_generated == 0:
        return []
    n = math.ceil(n_generated * fraction / (1 - fraction))
    start = (round_index - 1) * n
    return [pool[(start + i) % len(pool)] for i in range(n)]


def accepted_samples(samples_path: Path, decisions_path: Path) -> list[dict]:
    """Samples whose decision accepted them; every sample must have exactly one decision."""
    decisions = {d["id"]: d for d in read_jsonl(decisions_path)}
    samples = read_jsonl(samples_path)
    missing = [s["id"] for s in samples if s["id"] not in decisions]
    if missing:
        raise ValueError(f"{decisions_path}: no decision for sample(s) {', '.join(missing[:5])}")
    return [s for s in samples if decisions[s["id"]]["accepted"]]


def encode(samples: list[dict], tokenizer, cfg: FinetuneConfig):
    """Right-padded token ids and labels; padding (and the prompt, unless trained on) is masked out. Each row is
    gatedloop.core.encoding's prompt + completion: the tokenizer's BOS once at the start, EOS once at the end (both
    cut with the rest past ``max_len``)."""
    import torch

    from gatedloop.core.encoding import TextEncoder

    encoder = TextEncoder(tokenizer)
    rows, labels = [], []
    for s in samples:
        encoded = encoder.pair(s["prompt"], s["completion"], eos=True, max_tokens=cfg.max_len)
        ids = encoded.ids
        label = list(ids) if cfg.loss_on_prompt else [-100] * encoded.n_prompt + ids[encoded.n_prompt :]
        rows.append(ids)
        labels.append(label[: len(ids)])
    width = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), width), tokenizer.pad_token_id, dtype=torch.long)
    label_ids = torch.full((len(rows), width), -100, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (ids, label) in enumerate(zip(rows, labels, strict=True)):
        input_ids[i, : len(ids)] = torch.tensor(ids)
        label_ids[i, : len(label)] = torch.tensor(label)
        attention[i, : len(ids)] = 1
    return input_ids, label_ids, attention


def lora_targets(names):
    """peft's target_modules: the names, or peft's "all-linear" (every linear layer but the output head), which
    fits every architecture: a sweep over several model families uses it."""
    names = list(names)
    return "all-linear" if names == ["all-linear"] else names


def lora_finetune(model, tokenizer, samples: list[dict], cfg: FinetuneConfig, log_every: int = 20,
                  checkpoints: Checkpointer | None = None):
    """Train a LoRA adapter; return (peft model, loss history). With ``checkpoints``, resume from and save the
    adapter's weights, optimizer, data order and random states every few steps."""
    import math

    import torch
    from peft import LoraConfig, get_peft_model

    seed_everything(cfg.seed)
    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=lora_targets(cfg.target_modules), task_type="CAUSAL_LM",
                      fan_in_fan_out=model.config.model_type == "gpt2")  # GPT-2 stores Conv1D weights transposed
    model.config.use_cache = False
    peft_model = get_peft_model(model, lora)
    peft_model.train()
    input_ids, labels, attention = encode(samples, tokenizer, cfg)
    device = next(peft_model.parameters()).device
    optimizer = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=cfg.lr,
                                  weight_decay=0.0)
    generator = torch.Generator().manual_seed(cfg.seed)
    order = torch.randperm(len(samples), generator=generator)
    history, cursor, first_step = [], 0, 0
    trainable = [name for name, p in peft_model.named_parameters() if p.requires_grad]
    resumed = checkpoints.load() if checkpoints else None
    if resumed:
        peft_model.load_state_dict(resumed["adapter"], strict=False)
        optimizer.load_state_dict(resumed["optimizer"])
        restore_rng(resumed["rng"], generator)
        order, cursor, history, first_step = resumed["order"], resumed["cursor"], resumed["history"], resumed["step"]
    for step in range(first_step, cfg.steps):
        if checkpoints and checkpoints.due(step, cfg.steps) and step != first_step:
            weights = {name: p.detach().cpu() for name, p in peft_model.named_parameters() if name in trainable}
            checkpoints.save(step, {"adapter": weights, "optimizer": optimizer.state_dict(), "order": order,
                                    "cursor": cursor, "rng": rng_state(generator), "history": history})
        warm = (step + 1) / max(1, cfg.warmup_steps)
        decay = 0.5 * (1 + math.cos(math.pi * step / max(1, cfg.steps)))
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr * min(warm, decay)
        if cursor + cfg.batch_size > len(order):  # a new epoch: reshuffle
            order, cursor = torch.randperm(len(samples), generator=generator), 0
        index = order[cursor : cursor + cfg.batch_size]
        cursor += cfg.batch_size
        # Right padding: columns past the batch's longest row are padding only; dropping them changes no loss term.
        width = int(attention[index].sum(dim=1).max())
        loss = peft_model(input_ids=input_ids[index, :width].to(device),
                          attention_mask=attention[index, :width].to(device),
                          labels=labels[index, :width].to(device)).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(peft_model.parameters(), 1.0)
        optimizer.step()
        if step % log_every == 0 or step == cfg.steps - 1:
            history.append({"step": step, "loss": round(loss.item(), 4)})
            print(f"step {step:4d}  loss {loss.item():.3f}", flush=True)
    peft_model.eval()
    return peft_model, history


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the previous round's model")
    parser.add_argument("--samples", type=Path, nargs="+", required=True, help="one file per round used")
    parser.add_argument("--decisions", type=Path, nargs="+", required=True, help="paired with --samples")
    parser.add_argument("--out-model", type=Path, required=True)
    parser.add_argument("--out-adapter", type=Path, required=True)
    parser.add_argument("--out-stats", type=Path, required=True)
    parser.add_argument("--max-train", type=int, default=None,
                        help="train on at most this many accepted samples per round")
    parser.add_argument("--human", type=Path, default=None, help="human-written pool (mix regime)")
    parser.add_argument("--human-fraction", type=float, default=0.25)
    parser.add_argument("--human-round", type=int, default=1)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto", choices=DTYPES,
                        help="model precision: auto = bfloat16 on CUDA, float32 on CPU")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--checkpoint-dir", type=Path, default=None,
                        help="resume from / save training state here (outside the outputs, which Snakemake clears)")
    parser.add_argument("--checkpoint-every", type=int, default=50, help="steps between checkpoints")
    parser.add_argument("--adapter-chain", action="store_true",
                        help="write the round's model as an adapter chain (base + adapters) instead of merged weights")
    add_dataclass_args(parser, FinetuneConfig)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    cfg = dataclass_from_args(FinetuneConfig, args)
    if len(args.samples) != len(args.decisions):
        parser.error("--samples and --decisions must pair up, one file each per round")
    accepted, samples = [], []
    for samples_path, decisions_path in zip(args.samples, args.decisions, strict=True):
        round_accepted = accepted_samples(samples_path, decisions_path)
        accepted += round_accepted
        samples += training_subset(round_accepted, args.max_train, cfg.seed)
    n_self = len(samples)
    if args.human is not None:
        samples += human_slice(read_jsonl(args.human), n_self, args.human_fraction, args.human_round)
    stats = {"config": asdict(cfg), "base_model": args.model, "n_accepted": len(accepted), "n_train": len(samples),
             "n_train_generated": n_self, "n_train_human": len(samples) - n_self, "max_train": args.max_train,
             "rounds_used": len(args.samples), "skipped": not samples,
             "train_ids": [str(s["id"]) for s in samples],  # exactly what was trained on, in order
             "provenance": environment()}
    start = time.perf_counter()
    if not samples:
        print(f"WARNING: the gate accepted no sample in {', '.join(map(str, args.decisions))}; "
              "the model is carried forward unchanged",
              file=sys.stderr)
        with atomic_path(args.out_adapter) as tmp:
            tmp.mkdir()
            write_json(tmp / "skipped.json", {"reason": "no accepted samples"})
        with atomic_path(args.out_model) as tmp:
            if args.adapter_chain:
                write_chain(tmp, *chain_of(args.model), load_tokenizer(args.model), location=args.out_model)
            else:
                shutil.copytree(args.model, tmp)
    else:
        tokenizer = load_tokenizer(args.model)
        device = device_for(args.device)
        model = load_model(args.model, device=device, dtype=args.dtype)
        key = run_key({"config": asdict(cfg), "model": model_fingerprint(args.model), "max_train": args.max_train,
                       "human": [str(args.human), args.human_fraction, args.human_round]},
                      [*args.samples, *args.decisions, *([args.human] if args.human else [])])
        checkpoints = Checkpointer(args.checkpoint_dir, key, args.checkpoint_every)
        stats["dtype"] = str(model.dtype).removeprefix("torch.")
        peft_model, stats["history"] = lora_finetune(model, tokenizer, samples, cfg, checkpoints=checkpoints)
        with atomic_path(args.out_adapter) as tmp:
            peft_model.save_pretrained(str(tmp))
        with atomic_path(args.out_model) as tmp:
            if args.adapter_chain:
                base, adapters = chain_of(args.model)
                write_chain(tmp, base, [*adapters, args.out_adapter], tokenizer, location=args.out_model)
            else:
                # In the base model's own dtype: a bf16 model trained in float32 on a CPU is not saved at twice its
                # size.
                save_model(peft_model.merge_and_unload(), tokenizer, tmp, dtype=saved_dtype(args.model))
        checkpoints.clear()
    stats["seconds"] = round(time.perf_counter() - start, 2)
    write_json(args.out_stats, stats)
    print(f"fine-tuned on {len(samples)} samples -> {args.out_model}")


if __name__ == "__main__":
    run_cli(main)
