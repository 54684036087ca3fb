"""Generate one round's samples: the previous round's model completes every prompt of the fixed pool.

CLI: ``python -m gatedloop.generate --model DIR --prompts pool.jsonl --out samples.jsonl --seed S
[--samples-per-prompt N | --n-samples N] [--backend transformers] [sampling options] [--threads N]``. Output
lines are ``{"id", "prompt_id", "prompt", "completion"}`` (plus ``tests`` where the prompt has them, for gates
that run tests); ids are ``<prompt_id>#<k>``. ``--n-samples`` cycles through the pool in order (sample i
completes prompt i mod P), for budgets that are not a multiple of the pool size.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from gatedloop.backends import BACKENDS, SamplingParams, open_backend
from gatedloop.core.io import read_jsonl, write_jsonl
from gatedloop.core.options import add_dataclass_args, dataclass_from_args
from gatedloop.core.runtime import DTYPES, device_for, set_threads
from gatedloop.engine.warm import run_cli


def expand(prompts: list[dict], per_prompt: int, n_samples: int | None = None) -> list[tuple[dict, int]]:
    """(prompt, sample index) pairs: every prompt ``per_prompt`` times, or ``n_samples`` cycling the pool."""
    if n_samples is None:
        return [(row, k) for row in prompts for k in range(per_prompt)]
    return [(prompts[i % len(prompts)], i // len(prompts)) for i in range(n_samples)]


def generate_samples(model: str, prompts: list[dict], per_prompt: int, params: SamplingParams, seed: int,
                     backend: str = "transformers", device: str = "cpu", n_samples: int | None = None,
                     dtype: str = "auto") -> list[dict]:
    generator = open_backend(backend, model, device=device, dtype=dtype)
    expanded = expand(prompts, per_prompt, n_samples)
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
    args = parser.parse_args(argv)
    set_threads(args.threads)
    samples = generate_samples(args.model, read_jsonl(args.prompts), args.samples_per_prompt,
                               dataclass_from_args(SamplingParams, args), args.seed, args.backend,
                               device_for(args.device), args.n_samples, args.dtype)
    write_jsonl(args.out, samples)
    print(f"{len(samples)} samples -> {args.out}")


if __name__ == "__main__":
    run_cli(main)
