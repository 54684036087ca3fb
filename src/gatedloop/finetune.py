"""Fine-tuning of the previous round's model on the samples its gate accepted: LoRA merged for the next round
(``--method lora``, the default), or every weight trained (``--method full``, the study's method).

CLI: ``python -m gatedloop.finetune --model DIR --samples S1.jsonl [S2.jsonl ...] --decisions D1.jsonl [...]
--out-model DIR --out-adapter DIR --out-stats finetune.json [--max-train N [--first-accepted]] [--human POOL
--human-fraction F --human-round R] [--anchors FILE --anchor-fraction F --anchor-seed S] [--nl FILE --nl-fraction F]
[--mixture-round R] [--round R] [FinetuneConfig options] [--threads N]``.

Both methods share one training loop: AdamW, linear warmup then cosine decay (a full fine-tune follows the
study's transformers schedule, and exempts biases and norms from weight decay as its Trainer does), gradients
clipped at norm 1, an effective batch of ``batch_size x grad_accum``. The data are one padded row per sample, or
with ``--packing true`` the texts joined with EOS and cut into full ``max_len`` sequences (gatedloop.core.packing,
optionally with FIM), drawn in a seeded shuffled order pass after pass until the steps are done; finetune.json
records the sequences and tokens trained and the passes made over the round's data. A full fine-tune (the study:
AdamW with weight decay, warmup in round 1 only, bf16, gradient checkpointing) keeps float32 weights and optimizer
state, computes in the run's dtype under autocast (bfloat16 on GPUs), and saves the round's model as full weights
in the dtype the previous model was stored in; it has no adapter, so its round is never an adapter chain
(``--adapter-chain`` is LoRA's).

Data regimes are chosen by what the workflow passes: replace (the study) gives this round's samples and
decisions; accumulate gives every round's so far (each round capped at ``--max-train``); mix adds fresh
human-written code so that it makes up ``--human-fraction`` of the training set (round R takes the R-th slice of
the pool). The study's mixture (``--anchors``/``--nl``, gatedloop.data.mixture) keeps the round's total at
``--max-train`` N: round(N x anchor fraction) verified anchors of slice ``--mixture-round`` (never another round's,
and refused where one equals a synthetic sample's text), round(N x nl fraction) natural-language rows, and the gate's
samples for the rest.

Precision (``--dtype``, auto: bfloat16 on CUDA, float32 on CPU): the base model is loaded in it, the LoRA adapters
train in float32 (peft's default for a bf16/fp16 base: the standard mixed-precision LoRA recipe), and the merged model
is saved in the dtype the base model was stored in. A gate that accepted nothing does not stop the run: with no
training data the model is carried forward unchanged, the stats say ``"skipped": true`` and the log carries a
warning. Every kind of run resumes from its checkpoint (``--checkpoint-dir``) and ends identical.
"""

from __future__ import annotations

import argparse
import math
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
from gatedloop.core.runtime import DTYPES, device_for, resolve_dtype, seed_everything, set_threads
from gatedloop.data import mixture
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
    # Added with full fine-tuning and packing; the workflow passes them only when set away from these defaults
    # (ADDED_SETTINGS), so the finetune jobs of existing sweeps keep their commands.
    method: str = "lora"  # lora | full (every weight trained, the study's method)
    weight_decay: float = 0.0
    grad_accum: int = 1  # batches per optimizer step: the effective batch is batch_size x grad_accum
    gradient_checkpointing: bool = False  # full fine-tuning only: recompute activations to save memory
    packing: bool = False  # EOS-joined texts cut into full max_len sequences, instead of one padded row per sample
    fim_rate: float = 0.0  # packing only: the share of texts rearranged for fill-in-the-middle
    fim_spm_rate: float = 0.5  # of those, the share in SPM order (the rest PSM)
    # The text a sample trains on: its prompt and completion (the study: the file prefix and its continuation), or
    # the completion alone (the prompt is not in the text at all; loss_on_prompt false keeps it as unscored context)
    train_text: str = "prompt_completion"


METHODS = ("lora", "full")
TRAIN_TEXTS = ("prompt_completion", "completion")
ADDED_SETTINGS = ("method", "weight_decay", "grad_accum", "gradient_checkpointing", "packing", "fim_rate",
                  "fim_spm_rate", "train_text")


def check_settings(cfg: FinetuneConfig) -> None:
    if cfg.method not in METHODS:
        raise ValueError(f"finetune.method {cfg.method!r}: use one of {', '.join(METHODS)}")
    if cfg.train_text not in TRAIN_TEXTS:
        raise ValueError(f"finetune.train_text {cfg.train_text!r}: use one of {', '.join(TRAIN_TEXTS)}")
    if cfg.packing and not cfg.loss_on_prompt:
        raise ValueError("finetune.packing trains on every token of the packed texts: set loss_on_prompt true")
    if cfg.gradient_checkpointing and cfg.method != "full":
        raise ValueError("finetune.gradient_checkpointing is for method full (LoRA's activations are small)")
    if cfg.fim_rate > 0 and not cfg.packing:
        raise ValueError("finetune.fim_rate rearranges packed texts: set packing true")


def training_subset(accepted: list[dict], max_train: int | None, seed: int, first: bool = False) -> list[dict]:
    """Up to ``max_train`` accepted samples (the per-round budget), a seeded random subset when over budget, or with
    ``first`` the first ``max_train`` in generation order (selection in waves: the study trains on the first N that
    passed, the rest of the last wave being overflow)."""
    if max_train is None or len(accepted) <= max_train:
        return accepted
    if first:
        return accepted[:max_train]
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


def mixture_counts_of(args: argparse.Namespace) -> tuple[int, int, int] | None:
    """(synthetic, anchor, natural language) counts of the round's total (``--max-train``), or None without a
    mixture (today's training set, unchanged)."""
    if not args.anchor_fraction and not args.nl_fraction:
        return None
    if args.max_train is None:
        raise ValueError("--anchor-fraction / --nl-fraction share out the round's total: give it as --max-train")
    for flag, path, fraction in (("--anchors", args.anchors, args.anchor_fraction),
                                 ("--nl", args.nl, args.nl_fraction)):
        if fraction and path is None:
            raise ValueError(f"a fraction of {fraction} needs its file ({flag})")
    return mixture.mixture_counts(args.max_train, args.anchor_fraction, args.nl_fraction)


def mixture_samples(args: argparse.Namespace, counts: tuple[int, int, int] | None, synthetic: list[dict],
                    seed: int) -> tuple[list[dict], dict]:
    """The round's anchors and natural-language rows as training samples, and what finetune.json records of them.
    An anchor whose text equals one of the round's synthetic samples (``synthetic``: every sample the gate
    accepted) is refused, naming both."""
    recorded = {"n_train_anchor": 0, "n_train_nl": 0, "anchor_slice": None}
    if counts is None:
        return [], recorded
    _, n_anchor, n_nl = counts
    anchors = []
    if n_anchor:
        rows = mixture.read_anchors(args.anchors)
        anchors = mixture.anchor_slice(rows, n_anchor, args.mixture_round, args.anchor_seed)
        overlap = mixture.synthetic_overlap(anchors, synthetic)
        if overlap:
            pairs = ", ".join(f"{a} = {s}" for a, s in overlap[:5])
            raise SystemExit(f"{args.anchors}: {len(overlap)} anchor(s) of round {args.mixture_round}'s slice repeat "
                             f"a synthetic sample of the round (anchor = sample: {pairs}); anchors must be fresh data")
        recorded["anchor_slice"] = {"file": str(args.anchors), "round": args.mixture_round, "per_round": n_anchor,
                                    "seed": args.anchor_seed, "ids": [row["id"] for row in anchors]}
    natural = mixture.natural_language_sample(mixture.read_natural_language(args.nl), n_nl, args.mixture_round,
                                              seed) if n_nl else []
    recorded.update(n_train_anchor=len(anchors), n_train_nl=len(natural))
    added = mixture.as_training_samples(anchors, mixture.ANCHOR_PREFIX)
    return added + mixture.as_training_samples(natural, mixture.NL_PREFIX), recorded


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


def packed_rows(samples: list[dict], tokenizer, cfg: FinetuneConfig) -> tuple[tuple, dict]:
    """The samples packed into full ``max_len`` sequences (gatedloop.core.packing), as (ids, labels, attention)
    like ``encode``'s, and what the packing and FIM did (for finetune.json)."""
    import torch

    from gatedloop.core.encoding import TextEncoder
    from gatedloop.core.packing import NO_FIM_TOKENS, Fim, FimTokens, pack_samples

    fim, fim_state = None, {"rate": cfg.fim_rate, "spm_rate": cfg.fim_spm_rate, "enabled": False}
    if cfg.fim_rate > 0:
        tokens = FimTokens.find(tokenizer)
        if tokens is None:
            fim_state["reason_off"] = NO_FIM_TOKENS
            print(f"WARNING: fim_rate {cfg.fim_rate} asked for, but {NO_FIM_TOKENS}: FIM is off", file=sys.stderr)
        else:
            fim, fim_state["enabled"], fim_state["tokens"] = Fim(tokens, cfg.fim_rate, cfg.fim_spm_rate), True, \
                [tokens.prefix, tokens.suffix, tokens.middle]
    packed = pack_samples(TextEncoder(tokenizer), samples, cfg.max_len, fim, seed=cfg.seed)
    if not packed.sequences:
        raise ValueError(f"the training texts hold {packed.stream_tokens} tokens: fewer than one packed sequence of "
                         f"max_len {cfg.max_len}")
    fim_state["texts_rearranged"] = packed.fim_texts
    ids = torch.tensor(packed.sequences, dtype=torch.long)
    info = {"sequences_available": len(packed.sequences), "stream_tokens": packed.stream_tokens,
            "dropped_tokens": packed.dropped_tokens, "fim": fim_state}
    return (ids, ids.clone(), torch.ones_like(ids)), info


def training_rows(samples: list[dict], tokenizer, cfg: FinetuneConfig) -> tuple[tuple, dict]:
    if cfg.train_text == "completion":
        samples = [{**sample, "prompt": ""} for sample in samples]
    if cfg.packing:
        return packed_rows(samples, tokenizer, cfg)
    rows = encode(samples, tokenizer, cfg)
    return rows, {"sequences_available": len(samples)}


def autocast_for(model, precision: str | None):
    """Mixed precision for a full fine-tune: float32 weights and optimizer, the forward pass in ``precision``
    (bfloat16 on GPUs, as the study's Trainer ran with bf16); no autocast for float32 or LoRA."""
    import contextlib

    import torch

    if precision in (None, "float32"):
        return contextlib.nullcontext()
    device_type = next(model.parameters()).device.type
    return torch.autocast(device_type=device_type, dtype=getattr(torch, precision))


def lora_lr_factor(step: int, steps: int, warmup_steps: int) -> float:
    """LoRA's schedule: the lower of a linear warmup and a cosine decay over all the steps."""
    warm = (step + 1) / max(1, warmup_steps)
    decay = 0.5 * (1 + math.cos(math.pi * step / max(1, steps)))
    return min(warm, decay)


def full_lr_factor(step: int, steps: int, warmup_steps: int) -> float:
    """The study's schedule (transformers' cosine with warmup): linear from 0 over the warmup, then a cosine decay
    over the steps that remain."""
    if step < warmup_steps:
        return step / max(1, warmup_steps)
    progress = (step - warmup_steps) / max(1, steps - warmup_steps)
    return 0.5 * (1 + math.cos(math.pi * progress))


def parameter_groups(model, weight_decay: float) -> list:
    """The trainable parameters for AdamW. With weight decay, biases and normalisation weights are exempt from it,
    as transformers' Trainer exempts them; without, one group (as LoRA has always had)."""
    trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    if weight_decay == 0:
        return [p for _, p in trainable]
    norms = {f"{name}." for name, module in model.named_modules() if "Norm" in type(module).__name__}
    exempt = {name for name, _ in trainable if name.endswith("bias") or any(name.startswith(n) for n in norms)}
    return [{"params": [p for name, p in trainable if name not in exempt], "weight_decay": weight_decay},
            {"params": [p for name, p in trainable if name in exempt], "weight_decay": 0.0}]


def train(model, rows: tuple, cfg: FinetuneConfig, warmup_steps: int, log_every: int = 20,
          checkpoints: Checkpointer | None = None, precision: str | None = None) -> tuple[list, dict]:
    """The training loop of both methods: ``cfg.steps`` optimizer steps of ``cfg.grad_accum`` batches each, drawn
    from ``rows`` in a seeded shuffled order (reshuffled on every pass over them); AdamW, the method's schedule of
    ``warmup_steps`` of linear warmup and a cosine decay, gradients clipped at norm 1. Only parameters that require
    gradients train (the LoRA adapters, or every weight of a full fine-tune) and only they are checkpointed.
    Returns the loss history and what was trained (steps, sequences, tokens, passes over the rows)."""
    import torch

    input_ids, labels, attention = rows
    n_rows = len(input_ids)
    device = next(model.parameters()).device
    optimizer = torch.optim.AdamW(parameter_groups(model, cfg.weight_decay), lr=cfg.lr, weight_decay=cfg.weight_decay)
    lr_factor = full_lr_factor if cfg.method == "full" else lora_lr_factor
    generator = torch.Generator().manual_seed(cfg.seed)
    order = torch.randperm(n_rows, generator=generator)
    history, cursor, first_step, seen = [], 0, 0, {"sequences": 0, "tokens": 0}
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    resumed = checkpoints.load() if checkpoints else None
    if resumed:
        model.load_state_dict(resumed["adapter"], strict=False)
        optimizer.load_state_dict(resumed["optimizer"])
        restore_rng(resumed["rng"], generator)
        order, cursor, history, first_step = resumed["order"], resumed["cursor"], resumed["history"], resumed["step"]
        seen = resumed.get("seen", seen)
    for step in range(first_step, cfg.steps):
        if checkpoints and checkpoints.due(step, cfg.steps) and step != first_step:
            weights = {name: p.detach().cpu() for name, p in model.named_parameters() if name in trainable}
            checkpoints.save(step, {"adapter": weights, "optimizer": optimizer.state_dict(), "order": order,
                                    "cursor": cursor, "rng": rng_state(generator), "history": history,
                                    "seen": dict(seen)})
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr * lr_factor(step, cfg.steps, warmup_steps)
        optimizer.zero_grad(set_to_none=True)
        step_loss = 0.0
        for _ in range(cfg.grad_accum):
            if cursor + cfg.batch_size > len(order):  # a new pass: reshuffle
                order, cursor = torch.randperm(n_rows, generator=generator), 0
            index = order[cursor : cursor + cfg.batch_size]
            cursor += cfg.batch_size
            # Right padding: columns past the batch's longest row are padding only; dropping them changes no loss
            # term.
            width = int(attention[index].sum(dim=1).max())
            with autocast_for(model, precision):
                loss = model(input_ids=input_ids[index, :width].to(device),
                             attention_mask=attention[index, :width].to(device),
                             labels=labels[index, :width].to(device)).loss
            if cfg.grad_accum > 1:  # the mean over the step's batches; one batch's loss is used as is
                loss = loss / cfg.grad_accum
            loss.backward()
            step_loss += loss.item()
            seen["sequences"] += len(index)
            seen["tokens"] += int(attention[index].sum())
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % log_every == 0 or step == cfg.steps - 1:
            history.append({"step": step, "loss": round(step_loss, 4)})
            print(f"step {step:4d}  loss {step_loss:.3f}", flush=True)
    model.eval()
    trained = {"steps": cfg.steps, "sequences": seen["sequences"], "tokens": seen["tokens"],
               "passes": round(seen["sequences"] / n_rows, 4)}
    return history, trained


def lora_finetune(model, tokenizer, samples: list[dict], cfg: FinetuneConfig, log_every: int = 20,
                  checkpoints: Checkpointer | None = None, rows: tuple | None = None):
    """Train a LoRA adapter; return (peft model, loss history, what was trained). With ``checkpoints``, resume from
    and save the adapter's weights, optimizer, data order and random states every few steps."""
    from peft import LoraConfig, get_peft_model

    seed_everything(cfg.seed)
    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=lora_targets(cfg.target_modules), task_type="CAUSAL_LM",
                      fan_in_fan_out=model.config.model_type == "gpt2")  # GPT-2 stores Conv1D weights transposed
    model.config.use_cache = False
    peft_model = get_peft_model(model, lora)
    peft_model.train()
    rows = rows if rows is not None else encode(samples, tokenizer, cfg)
    history, trained = train(peft_model, rows, cfg, cfg.warmup_steps, log_every, checkpoints)
    return peft_model, history, trained


def full_warmup_steps(cfg: FinetuneConfig, round_index: int | None) -> int:
    """A full fine-tune warms up in round 1 only (the study: later rounds continue a trained model); a run given no
    round is taken as round 1."""
    return cfg.warmup_steps if round_index in (None, 1) else 0


def set_checkpointing(model, on: bool) -> bool:
    """Gradient (activation) checkpointing on or off, by the name the installed transformers gives it (5.x renamed
    it); False, with a warning, for a model that does not support it."""
    if not getattr(model, "supports_gradient_checkpointing", False):
        print(f"WARNING: {type(model).__name__} does not support gradient checkpointing; training without",
              file=sys.stderr)
        return False
    if hasattr(model, "activation_checkpointing_enable"):
        if on:
            model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:
            model.activation_checkpointing_disable()
    elif on:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    else:
        model.gradient_checkpointing_disable()
    return True


def full_finetune(model, tokenizer, samples: list[dict], cfg: FinetuneConfig, round_index: int | None = None,
                  log_every: int = 20, checkpoints: Checkpointer | None = None, rows: tuple | None = None,
                  precision: str | None = None):
    """Train every weight of ``model`` (float32 weights, autocast to ``precision``); return (model, loss history,
    what was trained). Gradient checkpointing where asked and the model supports it."""
    seed_everything(cfg.seed)
    model.config.use_cache = False
    checkpointing = cfg.gradient_checkpointing and set_checkpointing(model, True)
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    model.train()
    rows = rows if rows is not None else encode(samples, tokenizer, cfg)
    history, trained = train(model, rows, cfg, full_warmup_steps(cfg, round_index), log_every, checkpoints,
                             precision)
    if checkpointing:
        set_checkpointing(model, False)
    return model, history, trained


def run_settings(cfg: FinetuneConfig) -> dict:
    """The settings a checkpoint's key is made of: an added setting left at its default is left out, so the
    checkpoints of runs started before it existed are still resumed."""
    defaults = asdict(FinetuneConfig())
    return {k: v for k, v in asdict(cfg).items() if k not in ADDED_SETTINGS or v != defaults[k]}


def train_and_save(args: argparse.Namespace, cfg: FinetuneConfig, samples: list[dict], stats: dict) -> None:
    """Fine-tune on ``samples`` by ``cfg.method`` and write the round's model and adapter directories; what was
    trained goes into ``stats``."""
    tokenizer = load_tokenizer(args.model)
    device = device_for(args.device)
    full = cfg.method == "full"
    precision = resolve_dtype(args.dtype, device)
    if full and precision == "float16":
        raise SystemExit("a full fine-tune trains float32 weights with float32 or bfloat16 compute: use --dtype "
                         "bfloat16 (float16 needs loss scaling, which is not implemented)")
    # LoRA: the base in the run's dtype, float32 adapters. Full: float32 weights and optimizer, bf16 autocast.
    model = load_model(args.model, device=device, dtype="float32" if full else args.dtype)
    settings = {"config": run_settings(cfg), "model": model_fingerprint(args.model), "max_train": args.max_train,
                "human": [str(args.human), args.human_fraction, args.human_round]}
    if args.anchors is not None or args.nl is not None:  # absent otherwise: earlier runs' checkpoints still resume
        settings["mixture"] = [str(args.anchors), args.anchor_fraction, args.anchor_seed, str(args.nl),
                               args.nl_fraction, args.mixture_round]
    if full:
        settings["round"] = args.round  # it sets the warmup
    if args.first_accepted:  # only where set: a run without it keeps its checkpoints' key
        settings["first_accepted"] = True
    inputs = [args.human, args.anchors, args.nl]
    key = run_key(settings, [*args.samples, *args.decisions, *(path for path in inputs if path is not None)])
    checkpoints = Checkpointer(args.checkpoint_dir, key, args.checkpoint_every)
    stats["dtype"] = precision if full else str(model.dtype).removeprefix("torch.")
    rows, stats["data"] = training_rows(samples, tokenizer, cfg)
    stored = saved_dtype(args.model)
    if full:
        model, stats["history"], stats["trained"] = full_finetune(
            model, tokenizer, samples, cfg, args.round, checkpoints=checkpoints, rows=rows, precision=precision)
        stats["warmup_steps"] = full_warmup_steps(cfg, args.round)
        with atomic_path(args.out_adapter) as tmp:
            tmp.mkdir()
            write_json(tmp / "full_finetune.json", {"method": "full", "weights": "the round's model directory"})
        if args.adapter_chain:
            print("a full fine-tune changes every weight: the round's model is saved as full weights, not as an "
                  "adapter chain", flush=True)
        with atomic_path(args.out_model) as tmp:
            save_model(model, tokenizer, tmp, dtype=stored)  # in the dtype the previous model was stored in
    else:
        peft_model, stats["history"], stats["trained"] = lora_finetune(model, tokenizer, samples, cfg,
                                                                        checkpoints=checkpoints, rows=rows)
        with atomic_path(args.out_adapter) as tmp:
            peft_model.save_pretrained(str(tmp))
        with atomic_path(args.out_model) as tmp:
            if args.adapter_chain:
                base, adapters = chain_of(args.model)
                write_chain(tmp, base, [*adapters, args.out_adapter], tokenizer, location=args.out_model)
            else:
                # In the base model's own dtype: a bf16 model trained in float32 on a CPU is not saved at twice its
                # size.
                save_model(peft_model.merge_and_unload(), tokenizer, tmp, dtype=stored)
    checkpoints.clear()


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
    parser.add_argument("--first-accepted", action="store_true",
                        help="over --max-train, take the first accepted in generation order (selection in waves), "
                             "not a seeded random subset")
    parser.add_argument("--human", type=Path, default=None, help="human-written pool (mix regime)")
    parser.add_argument("--human-fraction", type=float, default=0.25)
    parser.add_argument("--human-round", type=int, default=1)
    parser.add_argument("--anchors", type=Path, default=None,
                        help="verified anchor rows (gatedloop.data.mixture): --anchor-fraction of the round's total")
    parser.add_argument("--anchor-fraction", type=float, default=0.0)
    parser.add_argument("--anchor-seed", type=int, default=0, help="the seeded order the rounds' slices follow")
    parser.add_argument("--nl", type=Path, default=None, help="code-related natural-language rows: --nl-fraction")
    parser.add_argument("--nl-fraction", type=float, default=0.0)
    parser.add_argument("--mixture-round", type=int, default=1, help="the round whose anchor slice is trained on")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto", choices=DTYPES,
                        help="model precision: auto = bfloat16 on CUDA, float32 on CPU")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--checkpoint-dir", type=Path, default=None,
                        help="resume from / save training state here (outside the outputs, which Snakemake clears)")
    parser.add_argument("--checkpoint-every", type=int, default=50, help="steps between checkpoints")
    parser.add_argument("--adapter-chain", action="store_true",
                        help="write the round's model as an adapter chain (base + adapters) instead of merged weights"
                             " (LoRA only: a full fine-tune always writes full weights)")
    parser.add_argument("--round", type=int, default=None,
                        help="the round being trained (a full fine-tune warms up in round 1 only)")
    add_dataclass_args(parser, FinetuneConfig)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    cfg = dataclass_from_args(FinetuneConfig, args)
    try:
        check_settings(cfg)
    except ValueError as error:
        parser.error(str(error))
    if len(args.samples) != len(args.decisions):
        parser.error("--samples and --decisions must pair up, one file each per round")
    try:
        counts = mixture_counts_of(args)
    except ValueError as error:
        parser.error(str(error))
    synthetic_cap = args.max_train if counts is None else counts[0]
    accepted, samples = [], []
    for samples_path, decisions_path in zip(args.samples, args.decisions, strict=True):
        round_accepted = accepted_samples(samples_path, decisions_path)
        if args.first_accepted and synthetic_cap is not None and len(round_accepted) < synthetic_cap:
            sys.exit(f"finetune: error: {decisions_path} accepts {len(round_accepted)} samples, fewer than the "
                     f"{synthetic_cap} its selection in waves stopped at: the gate job's decisions disagree with the "
                     "waves job's (a program that timed out under another load?); rerun that round's gate job")
        accepted += round_accepted
        samples += training_subset(round_accepted, synthetic_cap, cfg.seed, args.first_accepted)
    n_self = len(samples)
    if args.human is not None:
        samples += human_slice(read_jsonl(args.human), n_self, args.human_fraction, args.human_round)
    n_human = len(samples) - n_self
    added, mixed = mixture_samples(args, counts, accepted, cfg.seed)
    samples += added
    stats = {"config": asdict(cfg), "base_model": args.model, "n_accepted": len(accepted), "n_train": len(samples),
             "n_train_generated": n_self, "n_train_human": n_human, "max_train": args.max_train,
             **mixed, "rounds_used": len(args.samples), "skipped": not samples, "method": cfg.method,
             "train_ids": [str(s["id"]) for s in samples],  # exactly what was trained on, in order
             "provenance": environment()}
    if args.first_accepted:
        stats["selection"] = "first accepted"
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
        train_and_save(args, cfg, samples, stats)
    stats["seconds"] = round(time.perf_counter() - start, 2)
    write_json(args.out_stats, stats)
    print(f"fine-tuned on {len(samples)} samples -> {args.out_model}")


if __name__ == "__main__":
    run_cli(main)
