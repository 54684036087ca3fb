"""Score one round's model on one benchmark: generate a completion per task, execute each in the sandbox.

CLI: ``python -m gatedloop.score --model DIR --benchmark NAME [--data FILE] --out verdicts.jsonl
--summary summary.json [sampling options] [--threads N]``. Each verdict line is ``{"task_id", "sample_index",
"passed", "status", "seconds", "completion"}``; the summary holds pass@1 and counts. Greedy decoding
(temperature 0) is the default.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from gatedloop.backends import BACKENDS, SamplingParams
from gatedloop.benchmarks import BENCHMARKS
from gatedloop.cli import add_dataclass_args, dataclass_from_args
from gatedloop.io import write_json, write_jsonl
from gatedloop.provenance import environment
from gatedloop.runtime import device_for, set_threads
from gatedloop.sandbox import Limits, run_programs
from gatedloop.warm import run_cli


def score(model: str, benchmark_name: str, data: str | None, params: SamplingParams, backend: str,
          device: str, limits: Limits, workers: int, seed: int = 0) -> tuple[list[dict], dict]:
    tasks = BENCHMARKS.get(benchmark_name)(data).tasks()
    started = time.perf_counter()
    generator = BACKENDS.get(backend)(model, device=device)
    completions = generator.generate([t.prompt for t in tasks], params, seed=seed)
    generated = time.perf_counter()
    verdicts = run_programs([t.program(c) for t, c in zip(tasks, completions, strict=True)], limits, workers=workers)
    rows = [{"task_id": t.task_id, "sample_index": 0, "passed": v.passed, "status": v.status,
             "seconds": round(v.seconds, 3), "completion": c, "family": t.family}
            for t, c, v in zip(tasks, completions, verdicts, strict=True)]
    n_passed = sum(r["passed"] for r in rows)
    summary = {"benchmark": benchmark_name, "model": model, "backend": backend, "seed": seed,
               "n_tasks": len(rows), "n_passed": n_passed,
               "pass_at_1": n_passed / len(rows) if rows else 0.0, "sampling": asdict(params),
               "generation_seconds": round(generated - started, 2),
               "execution_seconds": round(time.perf_counter() - generated, 2), "provenance": environment()}
    return rows, summary


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--benchmark", required=True, help=f"one of: {', '.join(BENCHMARKS.names())}")
    parser.add_argument("--data", default=None, help="benchmark file, where the benchmark needs one")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--summary", type=Path, required=True)
    parser.add_argument("--backend", default="transformers")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout-s", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=1)
    add_dataclass_args(parser, SamplingParams)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    params = dataclass_from_args(SamplingParams, args)
    rows, summary = score(args.model, args.benchmark, args.data, params, args.backend, device_for(args.device),
                          Limits(timeout_s=args.timeout_s), workers=args.threads, seed=args.seed)
    write_jsonl(args.out, rows)
    write_json(args.summary, summary)
    print(f"{args.benchmark}: pass@1 {summary['pass_at_1']:.3f} ({summary['n_passed']}/{summary['n_tasks']})")


if __name__ == "__main__":
    run_cli(main)
