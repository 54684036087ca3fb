"""Generate one round's samples: the previous round's model completes every prompt of the fixed pool.

CLI: ``python -m gatedloop.generate --model DIR --prompts pool.jsonl --out samples.jsonl --seed S
[--samples-per-prompt N | --n-samples N] [--backend transformers] [sampling options] [--threads N]``. Output
lines are ``{"id", "prompt_id", "prompt", "completion"}`` (plus ``tests`` where the prompt has them, for gates
that run tests); ids are ``<prompt_id>#<k>``. ``--n-samples`` cycles through the pool in order (sample i
completes prompt i mod P), for budgets that are not a multiple of the pool size.

Waves (``budget.selection: waves``, the study's selection for its human and exogenous gates): with ``--gate NAME``,
candidates are generated ``--wave-size`` at a time, cycling the pool as ``--n-samples`` does, and judged in-process
by the gate (``--gate-options``: the JSON the gate job gets; ``--noise-seed``: the gate job's), until ``--accepted``
pass; a spent ``--candidate-budget`` is an error naming both numbers. Every candidate is written (the gate job then
recomputes the same decisions over the file) and ``--stats`` gets the round's counts (gatedloop.gates.waves).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from gatedloop.backends import BACKENDS, SamplingParams, open_backend
from gatedloop.core.io import read_jsonl, write_json, write_jsonl
from gatedloop.core.options import add_dataclass_args, dataclass_from_args
from gatedloop.core.runtime import DTYPES, device_for, set_threads
from gatedloop.engine.warm import run_cli


def expand(prompts: list[dict], per_prompt: int, n_samples: int | None = None) -> list[tuple[dict, int]]:
    """(prompt, sample index) pairs: every prompt ``per_prompt`` times, or ``n_samples`` cycling the pool."""
    if n_samples is None:
        return [(row, k) for row in prompts for k in range(per_prompt)]
    return cycled(prompts, 0, n_samples)


def cycled(prompts: list[dict], start: int, count: int) -> list[tuple[dict, int]]:
    """Samples start .. start + count - 1 of the pool cycled in order: sample i completes prompt i mod P."""
    return [(prompts[i % len(prompts)], i // len(prompts)) for i in range(start, start + count)]


def generate_samples(model: str, prompts: list[dict], per_prompt: int, params: SamplingParams, seed: int,
                     backend: str = "transformers", device: str = "cpu", n_samples: int | None = None,
                     dtype: str = "auto") -> list[dict]:
    generator = open_backend(backend, model, device=device, dtype=dtype)
    return complete(generator, expand(prompts, per_prompt, n_samples), params, seed)


def complete(generator, expanded: list[tuple[dict, int]], params: SamplingParams, seed: int) -> list[dict]:
    """The sample rows of (prompt, index) pairs, completed by an open backend with one seed."""
    completions = generator.generate([row["prompt"] for row, _ in expanded], params, seed=seed)
    samples = []
    for (row, k), completion in zip(expanded, completions, strict=True):
        sample = {"id": f"{row['task_id']}#{k}", "prompt_id": row["task_id"], "prompt": row["prompt"],
                  "completion": completion}
        if "tests" in row:
            sample["tests"] = row["tests"]
        samples.append(sample)
    return samples


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--prompts", type=Path, required=True, help="JSONL with task_id and prompt")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--samples-per-prompt", type=int, default=1)
    parser.add_argument("--n-samples", type=int, default=None, help="total samples, cycling through the pool")
    parser.add_argument("--backend", default="transformers", help=f"one of: {', '.join(BACKENDS.names())}")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto", choices=DTYPES,
                        help="model precision: auto = bfloat16 on CUDA, float32 on CPU")
    parser.add_argument("--threads", type=int, default=1)
    add_dataclass_args(parser, SamplingParams)
    waves = parser.add_argument_group("waves", "generate until enough candidates pass the gate (budget.selection)")
    waves.add_argument("--gate", default=None, help="judge candidates in waves with this gate (human or exogenous)")
    waves.add_argument("--gate-options", default="{}", help="the gate's settings as a JSON object (the gate job's)")
    waves.add_argument("--gate-model", default=None, help="the model the gate scores with, where it scores (cross)")
    waves.add_argument("--noise-seed", type=int, default=None, help="decision noise: the gate job's noise seed")
    waves.add_argument("--accepted", type=int, default=None, help="stop when this many candidates passed (N)")
    waves.add_argument("--wave-size", type=int, default=2000, help="candidates per wave")
    waves.add_argument("--candidate-budget", type=int, default=200000, help="most candidates generated")
    waves.add_argument("--stats", type=Path, default=None, help="write the round's generation counts here (JSON)")
    waves.add_argument("--wave-cache", type=Path, default=None,
                       help="share generated waves with the other jobs of the same stream through this folder "
                            "(round 1: every waves gate and regime of a model and seed)")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    if args.gate is not None:
        run_in_waves(parser, args)
        return
    samples = generate_samples(args.model, read_jsonl(args.prompts), args.samples_per_prompt,
                               dataclass_from_args(SamplingParams, args), args.seed, args.backend,
                               device_for(args.device), args.n_samples, args.dtype)
    write_jsonl(args.out, samples)
    print(f"{len(samples)} samples -> {args.out}")


def run_in_waves(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    from gatedloop.gates import GATES
    from gatedloop.gates.waves import BudgetExhausted, WaveCache, WaveSettings, in_waves, run_waves

    started = time.monotonic()
    options = json.loads(args.gate_options)
    if args.gate not in GATES:
        parser.error(f"unknown gate {args.gate!r}; known: {', '.join(GATES.names())}")
    if not in_waves(args.gate, options):
        parser.error(f"gate {args.gate!r} does not select in waves (waves are for gates of kind human or exogenous "
                     "that judge each sample; quantile gates keep their fixed pool)")
    if args.accepted is None or args.stats is None:
        parser.error("--gate (waves) needs --accepted and --stats")
    try:
        settings = WaveSettings(args.accepted, args.wave_size, args.candidate_budget)
    except ValueError as exc:
        parser.error(str(exc))
    gate = GATES.get(args.gate)(options, model=args.gate_model, threads=args.threads)
    noise = getattr(gate.settings, "noise", 0.0)
    if noise > 0 and args.noise_seed is None:
        parser.error(f"gate {args.gate!r} has decision noise {noise}: pass --noise-seed (the gate job's)")
    prompts = read_jsonl(args.prompts)
    params = dataclass_from_args(SamplingParams, args)
    generator = open_backend(args.backend, args.model, device=device_for(args.device), dtype=args.dtype)

    def generate_wave(start: int, count: int, seed: int) -> list[dict]:
        return complete(generator, cycled(prompts, start, count), params, seed)

    cache = WaveCache(args.wave_cache, stream_key(args, params)) if args.wave_cache is not None else None
    if cache is not None:
        generate_wave = cache.wrap(generate_wave)
    try:
        samples, stats = run_waves(generate_wave, gate, settings, args.seed, args.noise_seed)
    except BudgetExhausted as exc:
        sys.exit(f"generate: error: {exc}")
    stats["gate"] = args.gate  # the arm (compile@noise10), not only its gate
    stats["seconds"] = round(time.monotonic() - started, 3)  # the whole job's, model loading included
    if cache is not None:  # its seconds then leave out the waves another job of the stream generated
        stats["waves_from_cache"] = cache.hits
    write_jsonl(args.out, samples)
    write_json(args.stats, stats)
    print(f"{len(samples)} candidates in {stats['waves']} waves, {stats['passed']} passed, {stats['selected']} "
          f"selected -> {args.out}, {args.stats}")


def stream_key(args: argparse.Namespace, params: SamplingParams) -> str:
    """What decides a wave's candidates besides its start, size and seed: two jobs with the same key sample the same
    stream (the cache's folder name)."""
    from gatedloop.core.checkpoint import model_fingerprint, run_key

    settings = {"model": model_fingerprint(args.model), "sampling": asdict(params), "backend": args.backend,
                "device": device_for(args.device), "dtype": args.dtype}
    return run_key(settings, [args.prompts])[:16]


if __name__ == "__main__":
    run_cli(main)
