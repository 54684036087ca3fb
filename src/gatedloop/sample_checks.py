"""Per-round checks of what the model wrote and what it was trained on.

* Compile and execution analysis (the study's Figure 12): of the round's first ``max_samples`` generated samples,
  the share whose program (prompt + completion) compiles, and the share that passes its prompt's tests in the
  sandbox (a sample whose prompt has no tests passes when its program runs to the end without an error).
* Contamination control (a reviewer's objection to the study): token n-gram overlap between the round's
  fine-tuning data (the accepted samples, prompt + completion: what the model is trained on) and each benchmark's
  prompts, reference solutions and tests. Reported per benchmark and field as the share of benchmark tasks that
  share at least one ``ngram``-token sequence with the training text (GPT-3's 13-gram check; tokens as in the
  quality gate: words and single punctuation marks).

CLI: ``python -m gatedloop.sample_checks --samples S.jsonl --decisions D.jsonl --out checks.json
[--benchmark NAME[=FILE] ...] [--max-samples 500] [--timeout-s 5] [--ngram 13] [--threads N]``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gatedloop.benchmarks import BENCHMARKS, load, parse_options
from gatedloop.core.io import read_jsonl, write_json
from gatedloop.core.options import add_dataclass_args
from gatedloop.core.text import code_tokens
from gatedloop.engine.warm import run_cli
from gatedloop.gates.compile_gate import compiles
from gatedloop.sandbox import Limits, run_programs, with_tests


def compile_and_execution(samples: list[dict], limits: Limits, workers: int) -> dict:
    programs = [s["prompt"] + s["completion"] for s in samples]
    compiled = [compiles(p)[0] for p in programs]
    checks = [with_tests(p, s["tests"]) if s.get("tests") else p for p, s in zip(programs, samples, strict=True)]
    passed = [v.passed for v in run_programs(checks, limits, workers=workers)]
    n = len(samples)
    return {"n_checked": n, "compile_rate": sum(compiled) / n if n else None,
            "exec_pass_rate": sum(passed) / n if n else None}


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
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    benchmarks = [parse_benchmark(spec) for spec in args.benchmark]
    options = parse_options(args.option)
    samples = read_jsonl(args.samples)
    accepted = {d["id"] for d in read_jsonl(args.decisions) if d["accepted"]}
    training = [s["prompt"] + s["completion"] for s in samples if s["id"] in accepted]
    result = {"max_samples": args.max_samples, "ngram": args.ngram, "n_training": len(training),
              **compile_and_execution(samples[: args.max_samples], Limits(timeout_s=args.timeout_s), args.threads)}
    for name, data in benchmarks:
        result.update(contamination(training, name, data, args.ngram, options.get(name)))
    write_json(args.out, result)
    print(f"compile {result['compile_rate']}, execution {result['exec_pass_rate']} on {result['n_checked']} samples; "
          f"{len(training)} training samples checked against {', '.join(n for n, _ in benchmarks) or 'no benchmark'}")


if __name__ == "__main__":
    run_cli(main)
