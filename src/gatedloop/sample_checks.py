"""Per-round checks of what the model wrote and what it was trained on.

* Compile and execution analysis (the study's Figure 12): of the round's first ``max_samples`` generated samples,
  the share whose program (prompt + completion) compiles, and the share that passes its prompt's tests in the
  sandbox (a sample whose prompt has no tests passes when its program runs to the end without an error).
* Execution diagnostics (the study's v2, every round): on a seeded sample of ``diagnostic_samples`` of each of
  three populations - the round's raw samples, the accepted ones, the training ones (the accepted samples, or with
  ``--finetune`` the samples finetune.json says it trained on) - the compile rate, the strict execution rate (the
  program and its tests run to the end) and the relaxed one (an ImportError or ModuleNotFoundError counts as
  runnable: the sandbox lacks the third-party modules the code imports). Written under ``diagnostics`` with each
  sample's status (ok, timeout, the exception's class name, or other_error); a sample shared by several
  populations, or by the first-``max_samples`` check, runs once.
* Contamination control (a reviewer's objection to the study): token n-gram overlap between the round's
  fine-tuning data (the accepted samples, prompt + completion: what the model is trained on) and each benchmark's
  prompts, reference solutions and tests. Reported per benchmark and field as the share of benchmark tasks that
  share at least one ``ngram``-token sequence with the training text (GPT-3's 13-gram check; tokens as in the
  quality gate: words and single punctuation marks).

CLI: ``python -m gatedloop.sample_checks --samples S.jsonl --decisions D.jsonl --out checks.json
[--benchmark NAME[=FILE] ...] [--max-samples 500] [--timeout-s 5] [--ngram 13] [--diagnostic-samples 500]
[--diagnostic-seed 0] [--finetune finetune.json] [--threads N]``.
"""

from __future__ import annotations

import argparse
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gatedloop.benchmarks import BENCHMARKS, load, parse_options
from gatedloop.core.io import read_json, read_jsonl, write_json
from gatedloop.core.options import add_dataclass_args
from gatedloop.core.text import code_tokens
from gatedloop.engine.warm import run_cli
from gatedloop.gates.compile_gate import compiles
from gatedloop.sandbox import Limits, Verdict, run_programs, with_tests

# The study's relaxed execution rate counts these exceptions as runnable (its runner catches them by class).
RELAXED_ERRORS = ("ImportError", "ModuleNotFoundError")
POPULATIONS = ("raw", "accepted", "training")
_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_]\w*\.)*([A-Z]\w*)(?::|$)")


def checked_runs(samples: list[dict], limits: Limits, workers: int) -> list[tuple[bool, Verdict]]:
    """Per sample: whether its program (prompt + completion) compiles, and the sandbox's verdict on the program
    with its tests (without tests: the program alone, which passes when it runs to the end)."""
    programs = [s["prompt"] + s["completion"] for s in samples]
    compiled = [compiles(p)[0] for p in programs]
    checks = [with_tests(p, s["tests"]) if s.get("tests") else p for p, s in zip(programs, samples, strict=True)]
    return list(zip(compiled, run_programs(checks, limits, workers=workers), strict=True))


def compile_and_execution(samples: list[dict], limits: Limits, workers: int,
                          runs: list[tuple[bool, Verdict]] | None = None) -> dict:
    """Compile and execution-pass shares of ``samples`` (``runs``: their checked_runs, where already made)."""
    runs = checked_runs(samples, limits, workers) if runs is None else runs
    n = len(samples)
    return {"n_checked": n, "compile_rate": sum(c for c, _ in runs) / n if n else None,
            "exec_pass_rate": sum(v.passed for _, v in runs) / n if n else None}


def execution_status(verdict: Verdict) -> str:
    """The study's status words: ok, timeout, the class name of the exception that ended the program (the last
    line of its stderr, as Python prints an uncaught exception), else other_error (killed, exit() midway)."""
    if verdict.passed:
        return "ok"
    if verdict.status == "timeout":
        return "timeout"
    match = _EXCEPTION_LINE.match(verdict.detail.strip())
    return match[1] if match else "other_error"


def seeded_sample(n_rows: int, count: int, seed: int) -> list[int]:
    """Indices of a reproducible sample of ``count`` rows (all when fewer), in draw order, drawn as the study draws
    its diagnostic samples (``random.Random(seed).sample``)."""
    return random.Random(seed).sample(range(n_rows), min(count, n_rows))


def population_rates(indices: list[int], population: int, runs: dict[int, tuple[bool, Verdict]],
                     samples: list[dict]) -> dict:
    """Compile, strict and relaxed execution rates of the sampled ``indices`` (None where the sample is empty)."""
    statuses = [execution_status(runs[i][1]) for i in indices]
    counts = Counter(statuses)
    n = len(indices)

    def share(k: int) -> float | None:
        return k / n if n else None

    return {"population": population, "evaluated": n,
            "compile_rate": share(sum(runs[i][0] for i in indices)),
            "execution_strict_rate": share(counts["ok"]),
            "execution_relaxed_rate": share(counts["ok"] + sum(counts[e] for e in RELAXED_ERRORS)),
            "counts": dict(sorted(counts.items())),
            "sample_ids": [str(samples[i]["id"]) for i in indices], "statuses": statuses}


def population_indices(samples: list[dict], accepted: set, trained: list[str] | None) -> dict[str, list[int]]:
    """Indices into ``samples`` of each population: raw (all), accepted (the gate said yes), training (the accepted
    samples; with ``trained``, finetune's train_ids, those of them in this round's samples)."""
    accepted_indices = [i for i, s in enumerate(samples) if s["id"] in accepted]
    if trained is None:
        training = accepted_indices
    else:
        position = {str(s["id"]): i for i, s in enumerate(samples)}
        training = [position[t] for t in trained if t in position]
    return {"raw": list(range(len(samples))), "accepted": accepted_indices, "training": training}


def execution_diagnostics(samples: list[dict], populations: dict[str, list[int]], count: int, seed: int,
                          runs: dict[int, tuple[bool, Verdict]], limits: Limits, workers: int) -> dict:
    """The three populations' rates on seeded samples; ``runs`` (index -> run) holds what already ran and gets
    what this adds, so a sample in several populations runs once."""
    drawn = {name: [indices[k] for k in seeded_sample(len(indices), count, seed)]
             for name, indices in populations.items()}
    missing = sorted({i for indices in drawn.values() for i in indices} - set(runs))
    runs.update(zip(missing, checked_runs([samples[i] for i in missing], limits, workers), strict=True))
    return {name: population_rates(drawn[name], len(populations[name]), runs, samples) for name in POPULATIONS}


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    tokens = code_tokens(text)
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def overlap_share(texts: Iterable[str], training: set[tuple[str, ...]], n: int) -> float | None:
    """Share of ``texts`` with at least one n-gram in ``training`` (None when there is nothing to compare)."""
    flags = [bool(ngrams(t, n) & training) for t in texts if t]
    return sum(flags) / len(flags) if flags else None


def contamination(training_texts: list[str], benchmark: str, data: str | None, n: int,
                  options: dict | None = None) -> dict:
    bench = load(benchmark, data, options)
    tasks = bench.tasks()
    solutions = bench.reference_solutions()
    training: set[tuple[str, ...]] = set()
    for text in training_texts:
        training |= ngrams(text, n)
    return {f"contamination_{benchmark}_prompt": overlap_share((t.prompt for t in tasks), training, n),
            f"contamination_{benchmark}_solution": overlap_share(solutions.values(), training, n),
            f"contamination_{benchmark}_tests": overlap_share((t.test_program for t in tasks), training, n)}


@dataclass
class SampleCheckSettings:
    """The sample checks' settings the workflow passes from the config (section sample_checks)."""

    max_samples: int = 500  # the first samples of the round checked for compile and execution rates
    timeout_s: float = 5.0  # per sample's run
    ngram: int = 13  # tokens per n-gram of the contamination overlap
    # Added with the execution diagnostics; the workflow passes them only when set away from these defaults
    # (ADDED_SETTINGS), so the sample_checks jobs of existing sweeps keep their commands.
    diagnostic_samples: int = 500  # per population, a seeded sample of this many (the study's execution.samples)
    diagnostic_seed: int = 0  # the seed of that sample


ADDED_SETTINGS = ("diagnostic_samples", "diagnostic_seed")


def parse_benchmark(spec: str) -> tuple[str, str | None]:
    name, _, data = spec.partition("=")
    BENCHMARKS.get(name)  # an unknown name fails here, naming the known ones
    return name, data or None


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=Path, required=True)
    parser.add_argument("--decisions", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--benchmark", action="append", default=[], help="NAME or NAME=FILE; repeat for several")
    add_dataclass_args(parser, SampleCheckSettings)
    parser.add_argument("--option", action="append", default=[], help="BENCHMARK.KEY=VALUE (benchmark settings)")
    parser.add_argument("--finetune", type=Path, default=None,
                        help="the round's finetune.json: the diagnostics' training population is what it trained on")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.diagnostic_samples < 1:
        parser.error("--diagnostic-samples: must be at least 1")
    benchmarks = [parse_benchmark(spec) for spec in args.benchmark]
    options = parse_options(args.option)
    samples = read_jsonl(args.samples)
    accepted = {d["id"] for d in read_jsonl(args.decisions) if d["accepted"]}
    training = [s["prompt"] + s["completion"] for s in samples if s["id"] in accepted]
    limits = Limits(timeout_s=args.timeout_s)
    first = samples[: args.max_samples]
    runs = dict(enumerate(checked_runs(first, limits, args.threads)))
    result = {"max_samples": args.max_samples, "ngram": args.ngram, "n_training": len(training),
              **compile_and_execution(first, limits, args.threads, [runs[i] for i in range(len(first))])}
    trained = None if args.finetune is None else [str(t) for t in read_json(args.finetune)["train_ids"]]
    populations = population_indices(samples, accepted, trained)
    result["diagnostics"] = {
        "samples": args.diagnostic_samples, "seed": args.diagnostic_seed, "timeout_s": args.timeout_s,
        "relaxed_errors": list(RELAXED_ERRORS), "training_source": "accepted" if trained is None else "finetune",
        # trained on but not among this round's samples: earlier rounds' (accumulate) or human-written (mix)
        "training_elsewhere": None if trained is None else len(trained) - len(populations["training"]),
        **execution_diagnostics(samples, populations, args.diagnostic_samples, args.diagnostic_seed, runs, limits,
                                args.threads)}
    for name, data in benchmarks:
        result.update(contamination(training, name, data, args.ngram, options.get(name)))
    write_json(args.out, result)
    print(f"compile {result['compile_rate']}, execution {result['exec_pass_rate']} on {result['n_checked']} samples; "
          f"{len(training)} training samples checked against {', '.join(n for n, _ in benchmarks) or 'no benchmark'}")
    for name in POPULATIONS:
        rates = result["diagnostics"][name]
        print(f"{name}: {rates['evaluated']} of {rates['population']} checked, compile {rates['compile_rate']}, "
              f"strict {rates['execution_strict_rate']}, relaxed {rates['execution_relaxed_rate']}")


if __name__ == "__main__":
    run_cli(main)
